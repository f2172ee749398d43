package safewrite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gofrs/flock"
)

// lockFiles lists the .lock files in dir.
func lockFiles(t *testing.T, dir string) []string {
	return namesIn(t, dir, func(n string) bool { return strings.HasSuffix(n, ".lock") })
}

// TestNoLockFileLeftBehind: after a write, a failed write, or an update
// that writes nothing, the directory holds no FILE.lock (gitlab-runner
// users list /etc/gitlab-runner and wonder what it is).
func TestNoLockFileLeftBehind(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows keeps its lock files: an open file cannot be removed")
	}
	tests := []struct {
		name  string
		write func(dir string) error
	}{
		{"write", func(dir string) error {
			_, err := WriteAll([]File{{Path: filepath.Join(dir, "config.toml"), Data: []byte("a")}, {Path: filepath.Join(dir, ".runner_system_id"), Data: []byte("s_1")}}, Options{})
			return err
		}},
		{"rewrite with backup", func(dir string) error {
			p := filepath.Join(dir, "config.json")
			if _, err := Write(File{Path: p, Data: []byte("1")}, Options{}); err != nil {
				return err
			}
			_, err := Write(File{Path: p, Data: []byte("2")}, Options{})
			return err
		}},
		{"no change", func(dir string) error {
			p := filepath.Join(dir, "config.toml")
			_, _ = Write(File{Path: p, Data: []byte("same")}, Options{})
			_, err := Write(File{Path: p, Data: []byte("same")}, Options{})
			return err
		}},
		{"update that fails", func(dir string) error {
			_, err := Update([]File{{Path: filepath.Join(dir, "config.toml")}}, func(map[string][]byte) (map[string][]byte, error) {
				return nil, fmt.Errorf("no")
			}, Options{})
			if err == nil {
				return fmt.Errorf("update did not fail")
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := tt.write(dir); err != nil {
				t.Fatal(err)
			}
			if got := lockFiles(t, dir); len(got) > 0 {
				t.Errorf("lock files left in %s: %q", dir, got)
			}
		})
	}
}

// TestLockHeldByOtherIsKept: a lock file another process holds is not
// removed by a writer that gave up on it.
func TestLockHeldByOtherIsKept(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	held := flock.New(path + ".lock")
	if ok, err := held.TryLock(); !ok || err != nil {
		t.Fatal(ok, err)
	}
	defer held.Unlock()
	if _, err := Write(File{Path: path, Data: []byte("x")}, Options{LockTimeout: 100 * time.Millisecond}); err == nil {
		t.Fatal("wrote despite the held lock")
	}
	if _, err := os.Stat(path + ".lock"); err != nil {
		t.Errorf("the held lock file was removed: %v", err)
	}
}

// TestLockBesideTargetWhileHeld: while a write holds it, FILE.lock is
// beside the symlink's target (not the link), mode 0600.
func TestLockBesideTargetWhileHeld(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "real", "cfg")
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	_, err = Update([]File{{Path: link}}, func(map[string][]byte) (map[string][]byte, error) {
		fi, err := os.Stat(target + ".lock")
		if err != nil {
			return nil, fmt.Errorf("no lock beside the target while held: %w", err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
			return nil, fmt.Errorf("lock mode %o, want 600", fi.Mode().Perm())
		}
		if _, err := os.Stat(link + ".lock"); err == nil {
			return nil, fmt.Errorf("a lock beside the link")
		}
		return map[string][]byte{link: []byte("x")}, nil
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLockOnRemovedFileIsRetried: a lock granted on a FILE.lock that its
// holder removed meanwhile (another process has made a new one) is not a
// lock; lockCurrent drops it and locks the file at the path.
func TestLockOnRemovedFileIsRetried(t *testing.T) {
	if !removeLockFiles {
		t.Skip("lock files are kept here")
	}
	path := filepath.Join(t.TempDir(), "config.toml.lock")
	old := flock.New(path)
	if ok, err := old.TryLock(); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if !stillAt(old, path) {
		t.Fatal("a fresh lock is not at its path")
	}
	// The holder's removal, and a newcomer's file.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if stillAt(old, path) {
		t.Fatal("a lock on a removed file counts as held")
	}
	newer := flock.New(path)
	if ok, err := newer.TryLock(); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if stillAt(old, path) {
		t.Fatal("a lock on a replaced file counts as held")
	}
	_ = old.Unlock()
	_ = newer.Unlock()
	fl, err := lockCurrent(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Unlock()
	if !stillAt(fl, path) {
		t.Fatal("lockCurrent holds a file that is not at the path")
	}
}
