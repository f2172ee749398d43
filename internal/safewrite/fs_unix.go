//go:build !windows

package safewrite

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// hasUnixPerms says whether file modes are real permission bits.
const hasUnixPerms = true

// syncDir fsyncs a directory so renames and new entries in it survive a
// crash (docker/cli's Save does not, which can lose the new file).
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		// EINVAL/ENOTSUP: the filesystem cannot sync directories; nothing
		// more can be done there.
		_ = d.Close()
		return err
	}
	return d.Close()
}

// applyMeta gives f the mode (via the descriptor, so umask does not apply)
// and, when running as root, the owner of the file it replaces: root
// editing /home/u/.docker/config.json must not make it unreadable for u.
func applyMeta(f *os.File, mode fs.FileMode, owner fs.FileInfo) error {
	if owner != nil && os.Geteuid() == 0 {
		if st, ok := owner.Sys().(*syscall.Stat_t); ok {
			_ = f.Chown(int(st.Uid), int(st.Gid)) // best effort, like docker/cli
		}
	}
	// After chown, which may clear mode bits.
	return f.Chmod(mode)
}

// canRemoveOpenFiles: a Unix file can be unlinked while open (and locked).
const canRemoveOpenFiles = true
