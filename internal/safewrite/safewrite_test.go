package safewrite

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"
)

// The test binary doubles as a helper process (re-exec'd with helperEnv
// set) so lock behaviour across real processes can be tested.
const (
	helperEnv     = "SAFEWRITE_TEST_HELPER"
	helperPathEnv = "SAFEWRITE_TEST_PATH"
	helperDataEnv = "SAFEWRITE_TEST_DATA"
	helperNEnv    = "SAFEWRITE_TEST_N"
)

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "hold-lock":
		os.Exit(helperHoldLock(os.Getenv(helperPathEnv)))
	case "write-loop":
		n, _ := strconv.Atoi(os.Getenv(helperNEnv))
		os.Exit(helperWriteLoop(os.Getenv(helperPathEnv), []byte(os.Getenv(helperDataEnv)), n))
	default:
		fmt.Fprintln(os.Stderr, "unknown helper")
		os.Exit(2)
	}
}

// helperHoldLock takes the lock the way WriteAll does, says so, and waits
// to be killed.
func helperHoldLock(lockPath string) int {
	fl := flock.New(lockPath, flock.SetPermissions(0o600))
	if ok, err := fl.TryLock(); err != nil || !ok {
		fmt.Fprintln(os.Stderr, "lock failed:", ok, err)
		return 1
	}
	fmt.Println("locked")
	time.Sleep(time.Minute)
	return 3 // not killed: the parent will notice
}

func helperWriteLoop(path string, data []byte, n int) int {
	for range n {
		if _, err := Write(File{Path: path, Data: data}, Options{LockTimeout: time.Minute}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

func helperCmd(t *testing.T, mode string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{helperEnv + "=" + mode}, env...)...)
	cmd.Stderr = os.Stderr
	return cmd
}

func writeFile(t *testing.T, path string, data string, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func perm(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// listDir returns the names in dir except .lock files (asserted on their
// own: removed after a write, kept on Windows).
func listDir(t *testing.T, dir string) []string {
	return namesIn(t, dir, func(n string) bool { return !strings.HasSuffix(n, ".lock") })
}

// namesIn returns the sorted names in dir that keep accepts.
func namesIn(t *testing.T, dir string, keep func(name string) bool) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if keep(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

var fixedNow = func() time.Time {
	// Not UTC on purpose: the stamp must be converted.
	return time.Date(2024, 1, 2, 4, 4, 5, 0, time.FixedZone("CET", 3600))
}

const stamp = "20240102T030405Z"

func TestWrite(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("unix permission bits")
	}
	tests := []struct {
		name        string
		setup       func(t *testing.T, dir string) // may create "cfg"
		path        string                         // relative to the temp dir
		file        File                           // Path is filled in
		wantChanged bool
		wantCreated bool
		wantMode    fs.FileMode
		wantDirMode fs.FileMode // for filepath.Dir(path), when created
		wantFiles   []string    // names in Dir(path), .lock excluded
	}{
		{
			name:        "new secret file and dirs",
			path:        "a/b/cfg",
			file:        File{Data: []byte("new"), Secret: true, Mode: 0o644},
			wantChanged: true, wantCreated: true,
			wantMode: 0o600, wantDirMode: 0o700,
			wantFiles: []string{"cfg"},
		},
		{
			name:        "new file mode 0 means 0600",
			path:        "cfg",
			file:        File{Data: []byte("new")},
			wantChanged: true, wantCreated: true,
			wantMode:  0o600,
			wantFiles: []string{"cfg"},
		},
		{
			name:        "new file uses Mode",
			path:        "cfg",
			file:        File{Data: []byte("new"), Mode: 0o640},
			wantChanged: true, wantCreated: true,
			wantMode:  0o640,
			wantFiles: []string{"cfg"},
		},
		{
			name:        "existing 0644 non-secret keeps 0644",
			setup:       func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "cfg"), "old", 0o644) },
			path:        "cfg",
			file:        File{Data: []byte("new"), Mode: 0o600},
			wantChanged: true,
			wantMode:    0o644,
			wantFiles:   []string{"cfg", "cfg.bak." + stamp},
		},
		{
			name:        "existing 0644 secret becomes 0600",
			setup:       func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "cfg"), "old", 0o644) },
			path:        "cfg",
			file:        File{Data: []byte("new"), Secret: true},
			wantChanged: true,
			wantMode:    0o600,
			wantFiles:   []string{"cfg", "cfg.bak." + stamp},
		},
		{
			name:      "identical bytes are not written",
			setup:     func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "cfg"), "same", 0o640) },
			path:      "cfg",
			file:      File{Data: []byte("same")},
			wantMode:  0o640,
			wantFiles: []string{"cfg"},
		},
		{
			name:      "identical secret already 0600 is not written",
			setup:     func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "cfg"), "same", 0o600) },
			path:      "cfg",
			file:      File{Data: []byte("same"), Secret: true},
			wantMode:  0o600,
			wantFiles: []string{"cfg"},
		},
		{
			name:        "identical secret with wide mode is rewritten 0600",
			setup:       func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "cfg"), "same", 0o644) },
			path:        "cfg",
			file:        File{Data: []byte("same"), Secret: true},
			wantChanged: true,
			wantMode:    0o600,
			wantFiles:   []string{"cfg", "cfg.bak." + stamp},
		},
		{
			name:        "empty data",
			setup:       func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "cfg"), "old", 0o600) },
			path:        "cfg",
			file:        File{Data: nil},
			wantChanged: true,
			wantMode:    0o600,
			wantFiles:   []string{"cfg", "cfg.bak." + stamp},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			f := tt.file
			f.Path = filepath.Join(dir, tt.path)
			res, err := Write(f, Options{Now: fixedNow})
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			if res.Changed != tt.wantChanged || res.Created != tt.wantCreated {
				t.Errorf("Changed, Created = %v, %v; want %v, %v", res.Changed, res.Created, tt.wantChanged, tt.wantCreated)
			}
			if res.Path != f.Path || res.Target != f.Path {
				t.Errorf("Path, Target = %q, %q; want %q", res.Path, res.Target, f.Path)
			}
			if got := readFile(t, f.Path); got != string(f.Data) {
				t.Errorf("content = %q, want %q", got, f.Data)
			}
			if got := perm(t, f.Path); got != tt.wantMode {
				t.Errorf("mode = %o, want %o", got, tt.wantMode)
			}
			if tt.wantDirMode != 0 {
				for d := filepath.Dir(f.Path); d != dir; d = filepath.Dir(d) {
					if got := perm(t, d); got != tt.wantDirMode {
						t.Errorf("dir %s mode = %o, want %o", d, got, tt.wantDirMode)
					}
				}
			}
			if got := listDir(t, filepath.Dir(f.Path)); !equalStrings(got, tt.wantFiles) {
				t.Errorf("files = %q, want %q", got, tt.wantFiles)
			}
			if _, err := os.Stat(f.Path + ".lock"); !os.IsNotExist(err) {
				t.Errorf("lock file left behind: %v", err)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}

func TestWriteBackup(t *testing.T) {
	tests := []struct {
		name        string
		secret      bool
		oldMode     fs.FileMode
		writes      int
		noBackup    bool
		wantBackups []string // each holds the bytes before that write
		wantMode    fs.FileMode
	}{
		{name: "one write", oldMode: 0o644, writes: 1, wantBackups: []string{"cfg.bak." + stamp}, wantMode: 0o644},
		{name: "same second gets a counter", oldMode: 0o640, writes: 3,
			wantBackups: []string{"cfg.bak." + stamp, "cfg.bak." + stamp + ".1", "cfg.bak." + stamp + ".2"}, wantMode: 0o640},
		{name: "secret backup is 0600", secret: true, oldMode: 0o644, writes: 1, wantBackups: []string{"cfg.bak." + stamp}, wantMode: 0o600},
		{name: "no backup", oldMode: 0o644, writes: 2, noBackup: true, wantMode: 0o644},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "cfg")
			old := "old \x00 bytes\n\r\n no newline at end"
			writeFile(t, path, old, tt.oldMode)
			prev := []string{old}
			for i := range tt.writes {
				data := fmt.Sprintf("version %d\n", i+1)
				res, err := Write(File{Path: path, Data: []byte(data), Secret: tt.secret},
					Options{Now: fixedNow, NoBackup: tt.noBackup})
				if err != nil {
					t.Fatal(err)
				}
				want := ""
				if i < len(tt.wantBackups) {
					want = filepath.Join(dir, tt.wantBackups[i])
				}
				if res.BackupPath != want {
					t.Errorf("write %d: BackupPath = %q, want %q", i, res.BackupPath, want)
				}
				prev = append(prev, data)
			}
			for i, name := range tt.wantBackups {
				p := filepath.Join(dir, name)
				if got := readFile(t, p); got != prev[i] {
					t.Errorf("%s = %q, want %q", name, got, prev[i])
				}
				if runtime.GOOS != "windows" {
					if got := perm(t, p); got != tt.wantMode {
						t.Errorf("%s mode = %o, want %o", name, got, tt.wantMode)
					}
				}
			}
			want := append([]string{"cfg"}, tt.wantBackups...)
			sort.Strings(want)
			if got := listDir(t, dir); !equalStrings(got, want) {
				t.Errorf("files = %q, want %q", got, want)
			}
		})
	}
}

func TestWriteSymlink(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(t *testing.T, dir string) // creates dir/link
		wantTarget string                         // relative to dir
		old        string                         // "" when the target is new
	}{
		{
			name: "absolute link",
			setup: func(t *testing.T, dir string) {
				mkdir(t, filepath.Join(dir, "real"))
				writeFile(t, filepath.Join(dir, "real", "cfg"), "old", 0o644)
				symlink(t, filepath.Join(dir, "real", "cfg"), filepath.Join(dir, "link"))
			},
			wantTarget: "real/cfg", old: "old",
		},
		{
			name: "relative link through a linked dir",
			setup: func(t *testing.T, dir string) {
				mkdir(t, filepath.Join(dir, "real"))
				writeFile(t, filepath.Join(dir, "real", "cfg"), "old", 0o644)
				symlink(t, "real", filepath.Join(dir, "rdir"))
				symlink(t, "rdir/cfg", filepath.Join(dir, "link"))
			},
			wantTarget: "real/cfg", old: "old",
		},
		{
			name: "chain of links",
			setup: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "cfg"), "old", 0o644)
				symlink(t, "cfg", filepath.Join(dir, "l1"))
				symlink(t, "l1", filepath.Join(dir, "link"))
			},
			wantTarget: "cfg", old: "old",
		},
		{
			name:       "dangling link",
			setup:      func(t *testing.T, dir string) { symlink(t, "missing.json", filepath.Join(dir, "link")) },
			wantTarget: "missing.json",
		},
		{
			name: "dangling chain into a missing dir",
			setup: func(t *testing.T, dir string) {
				symlink(t, filepath.Join(dir, "new", "sub", "cfg"), filepath.Join(dir, "l1"))
				symlink(t, "l1", filepath.Join(dir, "link"))
			},
			wantTarget: "new/sub/cfg",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, err := filepath.EvalSymlinks(t.TempDir()) // macOS /var -> /private/var
			if err != nil {
				t.Fatal(err)
			}
			tt.setup(t, dir)
			link := filepath.Join(dir, "link")
			target := filepath.Join(dir, filepath.FromSlash(tt.wantTarget))
			res, err := Write(File{Path: link, Data: []byte("new")}, Options{Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			if res.Target != target || res.Path != link {
				t.Errorf("Path, Target = %q, %q; want %q, %q", res.Path, res.Target, link, target)
			}
			fi, err := os.Lstat(link)
			if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
				t.Fatalf("link is no longer a symlink: %v %v", fi, err)
			}
			if got := readFile(t, link); got != "new" {
				t.Errorf("through link = %q, want new", got)
			}
			if got := readFile(t, target); got != "new" {
				t.Errorf("target = %q, want new", got)
			}
			if res.Created != (tt.old == "") {
				t.Errorf("Created = %v", res.Created)
			}
			if tt.old != "" {
				if want := target + ".bak." + stamp; res.BackupPath != want {
					t.Errorf("BackupPath = %q, want %q", res.BackupPath, want)
				} else if got := readFile(t, want); got != tt.old {
					t.Errorf("backup = %q, want %q", got, tt.old)
				}
			}
			for _, l := range []string{target + ".lock", link + ".lock"} {
				if _, err := os.Stat(l); !os.IsNotExist(err) {
					t.Errorf("lock file %s left behind: %v", l, err)
				}
			}
		})
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, oldname, newname string) {
	t.Helper()
	if err := os.Symlink(oldname, newname); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
}

// TestWriteErrors provokes failures that also happen for root: a parent
// that is a regular file (ENOTDIR) and a target that is a directory. The
// message must name the path and operation and carry no file contents.
func TestWriteErrors(t *testing.T) {
	const secret = "glrt-SECRETSECRET"
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string)
		path    string // relative to dir
		wantOp  string
		wantErr string // exact, with DIR for the temp dir
	}{
		{
			name:    "parent is a regular file",
			setup:   func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "file"), "x", 0o644) },
			path:    "file/cfg",
			wantOp:  "resolve",
			wantErr: "resolve DIR/file/cfg: not a directory",
		},
		{
			name:    "grandparent is a regular file",
			setup:   func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "file"), "x", 0o644) },
			path:    "file/sub/cfg",
			wantOp:  "resolve",
			wantErr: "resolve DIR/file/sub/cfg: not a directory",
		},
		{
			name: "dangling link into a file",
			setup: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "file"), "x", 0o644)
				symlink(t, "file/cfg", filepath.Join(dir, "link"))
			},
			path:    "link",
			wantOp:  "resolve",
			wantErr: "resolve DIR/link: not a directory",
		},
		{
			name:    "target is a directory",
			setup:   func(t *testing.T, dir string) { mkdir(t, filepath.Join(dir, "cfg")) },
			path:    "cfg",
			wantOp:  "stat",
			wantErr: "stat DIR/cfg: not a regular file",
		},
		{
			name:    "empty path",
			path:    "",
			wantOp:  "resolve",
			wantErr: `resolve "": empty path`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			path := ""
			if tt.path != "" {
				path = filepath.Join(dir, filepath.FromSlash(tt.path))
			}
			before := listDir(t, dir)
			_, err := Write(File{Path: path, Data: []byte(secret)}, Options{})
			var we *WriteError
			if !errors.As(err, &we) {
				t.Fatalf("err = %v (%T), want *WriteError", err, err)
			}
			if we.Op != tt.wantOp {
				t.Errorf("Op = %q, want %q", we.Op, tt.wantOp)
			}
			want := strings.ReplaceAll(tt.wantErr, "DIR/", dir+string(filepath.Separator))
			if err.Error() != want {
				t.Errorf("err = %q\nwant  %q", err, want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks the contents: %q", err)
			}
			if after := listDir(t, dir); !equalStrings(before, after) {
				t.Errorf("dir changed: %q -> %q", before, after)
			}
		})
	}
}

func TestWriteAllDuplicateTarget(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cfg")
	symlink(t, "cfg", filepath.Join(dir, "link"))
	_, err := WriteAll([]File{{Path: path, Data: []byte("a")}, {Path: filepath.Join(dir, "link"), Data: []byte("b")}}, Options{})
	want := "resolve " + filepath.Join(dir, "link") + ": same file as " + path
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

func TestWriteAll(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a", "config.toml"), filepath.Join(dir, "b", "config.json")
	mkdir(t, filepath.Dir(a))
	writeFile(t, a, "a-old", 0o600)
	res, err := WriteAll([]File{
		{Path: a, Data: []byte("a-new"), Secret: true},
		{Path: b, Data: []byte("b-new"), Secret: true},
	}, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	want := []Result{
		{Path: a, Target: a, Changed: true, BackupPath: a + ".bak." + stamp},
		{Path: b, Target: b, Changed: true, Created: true},
	}
	if fmt.Sprint(res) != fmt.Sprint(want) {
		t.Errorf("results = %+v\nwant %+v", res, want)
	}
	if readFile(t, a) != "a-new" || readFile(t, b) != "b-new" {
		t.Error("contents not written")
	}
	// Same again: nothing to do.
	res, err = WriteAll([]File{{Path: a, Data: []byte("a-new"), Secret: true}, {Path: b, Data: []byte("b-new"), Secret: true}}, Options{})
	if err != nil || res[0].Changed || res[1].Changed {
		t.Errorf("re-apply: %+v, %v; want no changes", res, err)
	}
}

// TestWriteAllFailureBeforeRename checks that a set is all-or-nothing when
// something fails before the renames. As root a permission error cannot be
// provoked, so failures come from a parent that is a regular file or from
// an injected createTemp.
func TestWriteAllFailureBeforeRename(t *testing.T) {
	tests := []struct {
		name     string
		secondIn string // directory of the second file, relative
		setup    func(t *testing.T, dir string)
		inject   func(w *writer, dir string)
		noBackup bool
		wantOp   string
	}{
		{
			name:     "second parent is a regular file",
			secondIn: "blocker",
			setup:    func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "blocker"), "x", 0o644) },
			wantOp:   "resolve",
		},
		{
			name:     "second temp cannot be created",
			secondIn: "b",
			setup:    func(t *testing.T, dir string) { mkdir(t, filepath.Join(dir, "b")) },
			inject:   failCreateTempIn(filepath.Join("b")),
			wantOp:   "create temp",
		},
		{
			name:     "second temp cannot be created, no backups",
			secondIn: "b",
			setup:    func(t *testing.T, dir string) { mkdir(t, filepath.Join(dir, "b")) },
			inject:   failCreateTempIn(filepath.Join("b")),
			noBackup: true,
			wantOp:   "create temp",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			mkdir(t, filepath.Join(dir, "a"))
			first := filepath.Join(dir, "a", "cfg")
			second := filepath.Join(dir, tt.secondIn, "cfg")
			writeFile(t, first, "first-old", 0o600)
			tt.setup(t, dir)
			if fi, err := os.Stat(filepath.Dir(second)); err == nil && fi.IsDir() {
				writeFile(t, second, "second-old", 0o600)
			}
			w := newWriter(Options{Now: fixedNow, NoBackup: tt.noBackup})
			if tt.inject != nil {
				tt.inject(w, dir)
			}
			_, err := w.writeAll([]File{{Path: first, Data: []byte("first-new")}, {Path: second, Data: []byte("second-new")}})
			var we *WriteError
			if !errors.As(err, &we) || we.Op != tt.wantOp || we.Path != second {
				t.Fatalf("err = %v, want *WriteError %q on %s", err, tt.wantOp, second)
			}
			if got := readFile(t, first); got != "first-old" {
				t.Errorf("first = %q, want it unchanged", got)
			}
			if got := listDir(t, filepath.Join(dir, "a")); !equalStrings(got, []string{"cfg"}) {
				t.Errorf("leftovers next to first: %q", got)
			}
			if fi, err := os.Stat(filepath.Dir(second)); err == nil && fi.IsDir() {
				if got := listDir(t, filepath.Dir(second)); !equalStrings(got, []string{"cfg"}) {
					t.Errorf("leftovers next to second: %q", got)
				}
			}
		})
	}
}

func failCreateTempIn(rel string) func(w *writer, dir string) {
	return func(w *writer, dir string) {
		bad := filepath.Join(dir, rel)
		w.createTemp = func(d, pattern string) (*os.File, error) {
			if d == bad {
				return nil, &fs.PathError{Op: "open", Path: filepath.Join(d, pattern), Err: fs.ErrPermission}
			}
			return os.CreateTemp(d, pattern)
		}
	}
}

// TestWriteAllRollback makes the third rename fail (injected: a real
// rename failure after a successful one is not reproducible) and checks the
// first two files are put back.
func TestWriteAllRollback(t *testing.T) {
	tests := []struct {
		name     string
		noBackup bool
		failAt   int // index of the file whose rename fails
		wantMsg  string
	}{
		{name: "with backups", failAt: 2, wantMsg: "(earlier files restored)"},
		{name: "without backups", failAt: 2, noBackup: true, wantMsg: "(earlier files restored)"},
		{name: "first rename fails", failAt: 0, wantMsg: "injected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			names := []string{"one", "new", "three"} // "new" does not exist yet
			var files []File
			for _, n := range names {
				p := filepath.Join(dir, n)
				if n != "new" {
					writeFile(t, p, n+"-old", 0o640)
				}
				files = append(files, File{Path: p, Data: []byte(n + "-new")})
			}
			w := newWriter(Options{Now: fixedNow, NoBackup: tt.noBackup})
			w.rename = func(oldpath, newpath string) error {
				if newpath == files[tt.failAt].Path { // rollback never targets this one
					return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: errors.New("injected")}
				}
				return os.Rename(oldpath, newpath)
			}
			res, err := w.writeAll(files)
			var we *WriteError
			if !errors.As(err, &we) || we.Op != "rename" || we.Path != files[tt.failAt].Path {
				t.Fatalf("err = %v, want rename *WriteError on %s", err, files[tt.failAt].Path)
			}
			if !strings.HasSuffix(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want suffix %q", err, tt.wantMsg)
			}
			if res != nil {
				t.Errorf("results = %+v, want nil", res)
			}
			for _, n := range names {
				p := filepath.Join(dir, n)
				if n == "new" {
					if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
						t.Errorf("created file not removed: %v", err)
					}
					continue
				}
				if got := readFile(t, p); got != n+"-old" {
					t.Errorf("%s = %q, want restored", n, got)
				}
				if runtime.GOOS != "windows" {
					if got := perm(t, p); got != 0o640 {
						t.Errorf("%s mode = %o, want 640", n, got)
					}
				}
			}
			if got := listDir(t, dir); !equalStrings(got, []string{"one", "three"}) {
				t.Errorf("files = %q, want only the originals", got)
			}
		})
	}
}

func TestLockContention(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.toml"), filepath.Join(dir, "b.json")
	held := flock.New(b + ".lock")
	if ok, err := held.TryLock(); !ok || err != nil {
		t.Fatal(ok, err)
	}
	defer held.Unlock()

	start := time.Now()
	_, err := WriteAll([]File{{Path: a, Data: []byte("a")}, {Path: b, Data: []byte("b")}}, Options{LockTimeout: 200 * time.Millisecond})
	if elapsed := time.Since(start); elapsed < 200*time.Millisecond || elapsed > 5*time.Second {
		t.Errorf("gave up after %s, want about 200ms", elapsed)
	}
	want := "lock " + b + ": " + b + ".lock is held by another runnerup process (gave up after 200ms)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", err, want)
	}
	if !errors.Is(err, ErrLocked) {
		t.Error("err is not ErrLocked")
	}
	// a's lock must have been released and nothing written.
	if got := listDir(t, dir); len(got) != 0 {
		t.Errorf("files written: %q", got)
	}
	probe := flock.New(a + ".lock")
	if ok, err := probe.TryLock(); !ok || err != nil {
		t.Errorf("a.toml.lock still held: %v %v", ok, err)
	}
	_ = probe.Unlock()
	// The lock runnerup took is gone again; the one held by another stays.
	if _, err := os.Stat(b + ".lock"); err != nil {
		t.Errorf("the held lock file was removed: %v", err)
	}
}

// TestLockReleasedOnKill: a runnerup killed with SIGKILL while holding the
// lock must not leave it stuck; the kernel drops flock locks on exit.
func TestLockReleasedOnKill(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	cmd := helperCmd(t, "hold-lock", helperPathEnv+"="+path+".lock")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("helper said %q, %v", line, err)
	}

	_, err = Write(File{Path: path, Data: []byte("x")}, Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("while the child holds the lock: err = %v, want ErrLocked", err)
	}

	if err := cmd.Process.Kill(); err != nil { // SIGKILL on unix
		t.Fatal(err)
	}
	_ = cmd.Wait()
	start := time.Now()
	if _, err := Write(File{Path: path, Data: []byte("x")}, Options{LockTimeout: 5 * time.Second}); err != nil {
		t.Fatalf("after kill: %v", err)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("took %s to get the lock after the holder died", elapsed)
	}
	if got := readFile(t, path); got != "x" {
		t.Errorf("content = %q", got)
	}
}

// TestConcurrentWritesNeverTear runs writers in two goroutines and a child
// process against one file while a reader checks every read is one whole
// input. Inputs are large so a torn write would be visible.
func TestConcurrentWritesNeverTear(t *testing.T) {
	const iterations = 50
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	inputs := map[string]bool{}
	mk := func(c byte) []byte {
		b := bytes.Repeat([]byte{c}, 256<<10)
		inputs[string(b)] = true
		return b
	}
	a, b := mk('a'), mk('b')
	// The child writes a short input so that it also differs in size.
	c := "child writer\n"
	inputs[c] = true

	child := helperCmd(t, "write-loop", helperPathEnv+"="+path, helperDataEnv+"="+c, helperNEnv+"="+strconv.Itoa(iterations))
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	readerDone := make(chan error, 1)
	go func() {
		reads := 0
		for {
			select {
			case <-stop:
				if reads == 0 {
					readerDone <- errors.New("reader never read the file")
					return
				}
				readerDone <- nil
				return
			default:
			}
			got, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				readerDone <- err
				return
			}
			reads++
			if !inputs[string(got)] {
				readerDone <- fmt.Errorf("torn read: %d bytes", len(got))
				return
			}
		}
	}()

	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, data := range [][]byte{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range iterations {
				if _, err := Write(File{Path: path, Data: data, Secret: true}, Options{LockTimeout: time.Minute}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := child.Wait(); err != nil {
		t.Errorf("child writer: %v", err)
	}
	close(stop)
	if err := <-readerDone; err != nil {
		t.Error(err)
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := readFile(t, path); !inputs[got] {
		t.Errorf("final file is none of the inputs (%d bytes)", len(got))
	}
	for _, name := range listDir(t, dir) {
		if strings.Contains(name, ".tmp-") {
			t.Errorf("temp left behind: %s", name)
		}
	}
}

func TestCleanStaleTemps(t *testing.T) {
	tests := []struct {
		name string
		file string
		age  time.Duration
		dir  bool
		keep bool
	}{
		{name: "old temp", file: ".config.toml.tmp-123", age: 2 * time.Minute},
		{name: "fresh temp", file: ".config.toml.tmp-456", age: 10 * time.Second, keep: true},
		{name: "old temp of another file", file: ".config.json.tmp-123", age: time.Hour, keep: true},
		{name: "old backup", file: "config.toml.bak." + stamp, age: time.Hour, keep: true},
		{name: "old lock", file: "config.toml.lock", age: time.Hour, keep: true},
		{name: "old directory with the temp name", file: ".config.toml.tmp-dir", age: time.Hour, dir: true, keep: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "config.toml")
			writeFile(t, path, "real", 0o600)
			p := filepath.Join(dir, tt.file)
			if tt.dir {
				mkdir(t, p)
			} else {
				writeFile(t, p, "x", 0o600)
			}
			when := time.Now().Add(-tt.age)
			if err := os.Chtimes(p, when, when); err != nil {
				t.Fatal(err)
			}
			if err := CleanStaleTemps(path); err != nil {
				t.Fatal(err)
			}
			_, err := os.Stat(p)
			if kept := err == nil; kept != tt.keep {
				t.Errorf("kept = %v, want %v (%v)", kept, tt.keep, err)
			}
			if readFile(t, path) != "real" {
				t.Error("the real file was touched")
			}
		})
	}
}

func TestWriteCleansStaleTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	stale := filepath.Join(dir, ".config.toml.tmp-999")
	writeFile(t, stale, "half", 0o600)
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(File{Path: path, Data: []byte("x")}, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temp not removed: %v", err)
	}
}
