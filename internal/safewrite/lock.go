package safewrite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/gofrs/flock"
)

// Lock files: FILE.lock beside each target, taken with flock(2), and
// removed again when the write is done, so nothing is left beside
// config.toml (gitlab-runner users list /etc/gitlab-runner).
//
// Removing a lock file is only safe with a check: a process waiting on
// FILE.lock holds a descriptor of that inode; once the holder unlinks the
// file, a third process creates a new FILE.lock and locks it, and the
// waiter then gets its lock on the old, unlinked inode: two "holders".
// So a lock counts only when, after acquiring it, the locked inode is
// still the one at FILE.lock (otherwise drop it and try again), and the
// holder unlinks the file while it still holds the lock. Whoever holds
// the lock on the inode at the path is then the only holder.
//
// Windows cannot remove a file that is open, so there FILE.lock stays.

// removeLockFiles: lock files are removed after the write (see above).
var removeLockFiles = canRemoveOpenFiles

// heldLock is one lock held on FILE.lock.
type heldLock struct {
	fl   *flock.Flock
	path string
}

// release removes the lock file while still holding the lock, then lets
// go. A lock file that cannot be removed (a read-only directory) stays:
// harmless, the next writer locks it as it is.
func (h heldLock) release() {
	if removeLockFiles {
		_ = os.Remove(h.path)
	}
	_ = h.fl.Unlock() // also closes the descriptor
}

// lockAll takes FILE.lock for every plan, in sorted order so two processes
// writing overlapping sets cannot deadlock, retrying until the timeout.
// A killed holder needs no cleanup: the kernel drops its locks with its
// file descriptors (its lock file stays until the next write).
func (w *writer) lockAll(plans []*plan) (unlock func(), err error) {
	sorted := make([]*plan, len(plans))
	copy(sorted, plans)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].target < sorted[j].target })

	var held []heldLock
	unlock = func() {
		for i := len(held) - 1; i >= 0; i-- {
			held[i].release()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.lockTimeout)
	defer cancel()
	for _, p := range sorted {
		lockPath := p.target + ".lock"
		fl, err := lockCurrent(ctx, lockPath)
		if err == nil {
			held = append(held, heldLock{fl: fl, path: lockPath})
			continue
		}
		unlock()
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%s is %w (gave up after %s)", lockPath, ErrLocked, w.lockTimeout.Round(time.Millisecond))
		}
		return nil, p.fail("lock", err)
	}
	return unlock, nil
}

// errNotRegularLock is the error for a FILE.lock that is not a regular
// file: something planted it (see lockOpenFlags); runnerup touches
// nothing and says what to do.
var errNotRegularLock = errors.New("is not a regular file (a symlink, directory or FIFO was put there); remove it and run again")

// lockCurrent locks the file at lockPath, making sure the inode locked is
// the one at the path when the lock is granted (a holder may have removed
// it meanwhile, and another process created a new one). Only a regular
// file is locked: a symlink is not followed, anything else is refused.
func lockCurrent(ctx context.Context, lockPath string) (*flock.Flock, error) {
	for {
		fl := flock.New(lockPath, flock.SetPermissions(0o600), flock.SetFlag(lockOpenFlags))
		ok, err := fl.TryLockContext(ctx, lockRetryDelay)
		if err != nil {
			if plantedLockError(err) {
				return nil, fmt.Errorf("%s %w", lockPath, errNotRegularLock)
			}
			return nil, err
		}
		if !ok {
			return nil, context.DeadlineExceeded
		}
		if fi, err := fl.Stat(); err != nil || !fi.Mode().IsRegular() {
			_ = fl.Unlock()
			if err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%s %w", lockPath, errNotRegularLock)
		}
		if !removeLockFiles || stillAt(fl, lockPath) {
			return fl, nil
		}
		// Locked a file its holder removed: it guards nothing now.
		_ = fl.Unlock()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// stillAt says whether the file fl has locked is the one at path now.
func stillAt(fl *flock.Flock, path string) bool {
	locked, err := fl.Stat()
	if err != nil {
		return false
	}
	atPath, err := os.Stat(path)
	return err == nil && os.SameFile(locked, atPath)
}
