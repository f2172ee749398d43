//go:build !windows

package safewrite

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The directory of a target may be writable by someone else: root editing
// /home/gitlab-runner/.docker/config.json, where any shell-executor job can
// plant files. Whatever is planted at the names the writer opens
// (FILE.lock, FILE.bak.<stamp>, the temp file) must never make it create or
// change a file elsewhere, nor block it.

// plantedWrite writes dir/config.json once, with a fixed clock so the
// backup name is known, and fails the test if it has not returned after a
// generous deadline (a FIFO opened without O_NONBLOCK blocks forever).
func plantedWrite(t *testing.T, dir string) (Result, error) {
	t.Helper()
	type out struct {
		res Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := Write(File{Path: filepath.Join(dir, "config.json"), Data: []byte(`{"auths":{}}`), Secret: true},
			Options{Now: plantedNow, LockTimeout: time.Second})
		done <- out{res, err}
	}()
	select {
	case o := <-done:
		return o.res, o.err
	case <-time.After(30 * time.Second):
		t.Fatalf("the write blocked on what was planted beside config.json")
		return Result{}, nil
	}
}

func plantedNow() time.Time { return time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC) }

// TestPlantedLockFile: FILE.lock that is a symlink (to a missing file or to
// an existing one), a FIFO or a directory is refused with an error that
// names it; nothing is created or changed where it points, the target is
// not written, and the refusal does not block.
func TestPlantedLockFile(t *testing.T) {
	tests := []struct {
		name  string
		plant func(t *testing.T, lock, victim string)
		// victimBefore is the victim's content before (nil: absent).
		victimBefore []byte
	}{
		{"symlink to a missing file", func(t *testing.T, lock, victim string) {
			mustDo(t, os.Symlink(victim, lock))
		}, nil},
		{"symlink to an existing file", func(t *testing.T, lock, victim string) {
			mustDo(t, os.Symlink(victim, lock))
		}, []byte("keep me\n")},
		{"relative symlink", func(t *testing.T, lock, victim string) {
			rel, err := filepath.Rel(filepath.Dir(lock), victim)
			mustDo(t, err)
			mustDo(t, os.Symlink(rel, lock))
		}, nil},
		{"fifo", func(t *testing.T, lock, _ string) {
			mustDo(t, syscall.Mkfifo(lock, 0o666))
		}, nil},
		{"directory", func(t *testing.T, lock, _ string) {
			mustDo(t, os.Mkdir(lock, 0o755))
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			victim := filepath.Join(t.TempDir(), "nologin")
			if tt.victimBefore != nil {
				mustDo(t, os.WriteFile(victim, tt.victimBefore, 0o644))
			}
			lock := filepath.Join(dir, "config.json.lock")
			tt.plant(t, lock, victim)

			_, err := plantedWrite(t, dir)
			var we *WriteError
			if !errors.As(err, &we) || we.Op != "lock" || !strings.Contains(err.Error(), "config.json.lock") {
				t.Fatalf("a planted %s at FILE.lock: err = %v, want a lock error naming it", tt.name, err)
			}
			if !strings.Contains(err.Error(), "remove it") {
				t.Errorf("the error does not say the fix: %v", err)
			}
			got, verr := os.ReadFile(victim)
			switch {
			case tt.victimBefore == nil && verr == nil:
				t.Errorf("a planted FILE.lock made the writer create %s", victim)
			case tt.victimBefore != nil && string(got) != string(tt.victimBefore):
				t.Errorf("a planted FILE.lock changed %s: %q", victim, got)
			}
			if _, err := os.Stat(filepath.Join(dir, "config.json")); err == nil {
				t.Errorf("config.json written although its lock could not be taken safely")
			}
			if _, err := os.Lstat(lock); err != nil {
				t.Errorf("the planted %s was removed or replaced: %v", tt.name, err)
			}
		})
	}
}

// TestPlantedBackupAndTemp: a symlink at the backup's predictable name, or
// at a temp-file name, is never written through: backups and temps are
// created with O_EXCL (which does not follow a final symlink), so the
// write picks the next backup name and the victim stays absent.
func TestPlantedBackupAndTemp(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "config.json")
	mustDo(t, os.WriteFile(target, []byte("{}"), 0o600))
	victim := filepath.Join(t.TempDir(), "nologin")
	stamp := plantedNow().UTC().Format(backupStampLayout)
	mustDo(t, os.Symlink(victim, target+".bak."+stamp))
	mustDo(t, os.Symlink(victim, filepath.Join(dir, tempPrefix(target)+"123456")))

	res, err := plantedWrite(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(victim); err == nil {
		t.Fatalf("a planted backup or temp symlink made the writer create %s", victim)
	}
	if res.BackupPath != target+".bak."+stamp+".1" {
		t.Errorf("backup at %s, want the next free name", res.BackupPath)
	}
	if fi, err := os.Lstat(res.BackupPath); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("the backup is not a regular file: %v %v", fi, err)
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestUpdateNotRegular: a FIFO at the target itself is refused before fn
// runs (reading it would block).
func TestUpdateNotRegular(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	called := false
	_, err := Update([]File{{Path: path}}, func(map[string][]byte) (map[string][]byte, error) {
		called = true
		return nil, nil
	}, Options{})
	var we *WriteError
	if !errors.As(err, &we) || we.Op != "stat" || called {
		t.Fatalf("err = %v (fn called: %v), want a stat WriteError before fn", err, called)
	}
}
