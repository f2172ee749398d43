//go:build !windows

package safewrite

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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

// lockOpenFlags open FILE.lock without following a symlink planted there
// (ELOOP instead: root writing into a directory another user can write,
// such as /home/gitlab-runner/.docker, must not create or lock a file
// elsewhere) and without blocking on a FIFO (which would wait for a
// writer forever); whether the file opened is regular is checked after.
const lockOpenFlags = os.O_CREATE | os.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_NONBLOCK

// plantedLockError says whether opening FILE.lock failed because
// something other than a regular file is at its path.
func plantedLockError(err error) bool {
	return errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EISDIR)
}

// foreignLink returns the first symbolic link on the way to path (a
// directory on the way or the file itself) that a user other than root
// owns, when this process runs as root. Root writing into a directory such
// a user can write (/home/gitlab-runner/.docker, where any shell-executor
// job can plant a link) would otherwise replace whatever file of root's the
// link names. A link root owns is followed, as docker/cli follows it.
func foreignLink(path string) (link string, uid uint32, err error) {
	if os.Geteuid() != 0 {
		return "", 0, nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", 0, err
	}
	resolved := "/"
	rest := strings.Split(abs, "/")
	for hops := 0; len(rest) > 0; {
		name := rest[0]
		rest = rest[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			resolved = filepath.Dir(resolved)
			continue
		}
		p := filepath.Join(resolved, name)
		fi, err := os.Lstat(p)
		if err != nil {
			// Missing: the rest is created by the write. Anything else
			// (ENOTDIR, EACCES) is resolveTarget's to report.
			return "", 0, nil
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			resolved = p
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 {
			return p, st.Uid, nil
		}
		if hops++; hops > maxSymlinks {
			return "", 0, errors.New("too many levels of symbolic links")
		}
		dest, err := os.Readlink(p)
		if err != nil {
			return "", 0, nil
		}
		if filepath.IsAbs(dest) {
			resolved = "/"
		}
		rest = append(strings.Split(dest, "/"), rest...)
	}
	return "", 0, nil
}
