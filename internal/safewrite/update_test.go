package safewrite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"
)

// TestUpdateNoLostUpdates is the regression test for the read-modify-write
// race: writers that each append one line must all be in the final file.
// With a read outside the lock (read, then WriteAll) concurrent writers
// start from the same old bytes and the later rename drops the earlier
// writer's line; Update reads under the lock. Every writer removes the lock
// file when done while others wait on it, so this is also the test that
// removing lock files keeps writers apart (see lock.go), and that none is
// left.
func TestUpdateNoLostUpdates(t *testing.T) {
	const writers, rounds = 8, 25
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				line := fmt.Sprintf("w%d-r%d\n", w, r)
				_, err := Update([]File{{Path: path, Secret: true}}, func(old map[string][]byte) (map[string][]byte, error) {
					return map[string][]byte{path: append(old[path], line...)}, nil
				}, Options{LockTimeout: time.Minute, NoBackup: true})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(readFile(t, path), "\n"), "\n")
	if len(lines) != writers*rounds {
		t.Fatalf("%d lines, want %d: updates were lost", len(lines), writers*rounds)
	}
	slices.Sort(lines)
	if len(slices.Compact(lines)) != writers*rounds {
		t.Fatalf("duplicate lines")
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"config.toml"}) {
		t.Errorf("leftovers: %q", got)
	}
	if got := lockFiles(t, dir); removeLockFiles && len(got) > 0 {
		t.Errorf("lock files left: %q", got)
	}
}

// TestUpdateSeesCurrentBytes: fn gets nil for a missing file and the bytes
// of an existing one; a path it leaves out is not written.
func TestUpdateSeesCurrentBytes(t *testing.T) {
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a.toml"), filepath.Join(dir, "b.json"), filepath.Join(dir, "c.id")
	writeFile(t, a, "old-a", 0o640)
	writeFile(t, c, "old-c", 0o600)
	var seen map[string][]byte
	res, err := Update([]File{{Path: a}, {Path: b, Secret: true}, {Path: c}}, func(old map[string][]byte) (map[string][]byte, error) {
		seen = old
		return map[string][]byte{a: []byte("new-a"), b: []byte("new-b")}, nil
	}, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if string(seen[a]) != "old-a" || seen[b] != nil || string(seen[c]) != "old-c" || len(seen) != 3 {
		t.Errorf("fn saw %q", seen)
	}
	if readFile(t, a) != "new-a" || readFile(t, b) != "new-b" || readFile(t, c) != "old-c" {
		t.Errorf("files: %q %q %q", readFile(t, a), readFile(t, b), readFile(t, c))
	}
	if perm(t, a) != 0o640 || perm(t, b) != 0o600 {
		t.Errorf("modes %04o %04o", perm(t, a), perm(t, b))
	}
	want := []Result{
		{Path: a, Target: a, Changed: true, BackupPath: a + ".bak." + stamp},
		{Path: b, Target: b, Changed: true, Created: true},
		{Path: c, Target: c},
	}
	if !slices.Equal(res, want) {
		t.Errorf("results = %+v\nwant      %+v", res, want)
	}
	if readFile(t, a+".bak."+stamp) != "old-a" {
		t.Error("backup does not hold the bytes fn saw")
	}
}

// TestUpdateFuncError: fn's error comes back unwrapped (callers classify
// it: an unreadable config is exit 2, not a write failure), nothing is
// written and the locks are released.
func TestUpdateFuncError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	writeFile(t, path, "old", 0o600)
	boom := errors.New("config changed meanwhile")
	_, err := Update([]File{{Path: path}}, func(map[string][]byte) (map[string][]byte, error) {
		return nil, boom
	}, Options{})
	if err != boom {
		t.Fatalf("err = %v, want fn's error as it is", err)
	}
	var we *WriteError
	if errors.As(err, &we) {
		t.Error("fn's error was wrapped in a WriteError")
	}
	if readFile(t, path) != "old" || !slices.Equal(listDir(t, dir), []string{"config.toml"}) {
		t.Errorf("disk changed: %q", listDir(t, dir))
	}
	fl := flock.New(path + ".lock")
	if ok, err := fl.TryLock(); !ok || err != nil {
		t.Errorf("lock not released: %v %v", ok, err)
	}
	_ = fl.Unlock()
}

// TestUpdateHoldsLockDuringFunc: another writer cannot get in between the
// read and the write.
func TestUpdateHoldsLockDuringFunc(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	_, err := Update([]File{{Path: path}}, func(map[string][]byte) (map[string][]byte, error) {
		_, err := Write(File{Path: path, Data: []byte("intruder")}, Options{LockTimeout: 100 * time.Millisecond})
		if !errors.Is(err, ErrLocked) {
			t.Errorf("a write during fn: err = %v, want ErrLocked", err)
		}
		return map[string][]byte{path: []byte("mine")}, nil
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "mine" {
		t.Errorf("content %q", got)
	}
}

func TestUpdateNilFunc(t *testing.T) {
	if _, err := Update([]File{{Path: filepath.Join(t.TempDir(), "x")}}, nil, Options{}); err == nil {
		t.Fatal("nil fn accepted")
	}
}

// TestWriteRemovesFreshTempsUnderLock is the regression test for temps
// left by killed runs: only a lock holder creates temps, so a writer that
// holds the lock removes every temp of its file, however fresh. Before,
// temps younger than a minute stayed (holding copies of config.toml with
// its tokens) and piled up with every kill.
func TestWriteRemovesFreshTempsUnderLock(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	fresh := filepath.Join(dir, ".config.toml.tmp-123")
	other := filepath.Join(dir, ".config.json.tmp-456")
	future := filepath.Join(dir, ".config.toml.tmp-789")
	writeFile(t, fresh, "half a config", 0o600)
	writeFile(t, other, "another file's temp", 0o600)
	writeFile(t, future, "clock skew", 0o600)
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(future, later, later); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(File{Path: path, Data: []byte("x")}, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fresh, future} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("temp %s not removed: %v", filepath.Base(p), err)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another file's temp was removed: %v", err)
	}
	// Without the lock, CleanStaleTemps still spares fresh temps.
	writeFile(t, fresh, "being written", 0o600)
	if err := CleanStaleTemps(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("CleanStaleTemps removed a fresh temp: %v", err)
	}
}
