//go:build windows

package safewrite

import (
	"io/fs"
	"os"
)

// hasUnixPerms says whether file modes are real permission bits.
const hasUnixPerms = false

// syncDir is a no-op: Windows cannot open a directory for FlushFileBuffers
// through os.Open, and NTFS journals the rename itself.
func syncDir(string) error { return nil }

// applyMeta sets what Windows can express of mode (the read-only bit);
// there is no uid/gid to keep.
func applyMeta(f *os.File, mode fs.FileMode, _ fs.FileInfo) error {
	return f.Chmod(mode)
}

// canRemoveOpenFiles: Windows refuses to delete an open file.
const canRemoveOpenFiles = false

// lockOpenFlags: Windows has no O_NOFOLLOW; creating a symlink there needs
// a privilege ordinary users do not have.
const lockOpenFlags = os.O_CREATE | os.O_RDONLY

func plantedLockError(error) bool { return false }

// foreignLink: creating a symlink on Windows needs a privilege ordinary
// users do not have, so a planted link is not a concern there.
func foreignLink(string) (string, uint32, error) { return "", 0, nil }
