// Package safewrite replaces configuration files on disk so that a crash,
// a kill -9 or a second runnerup process can never leave a torn or lost
// file: every write goes to a temp file in the same directory, is fsynced,
// renamed over the target and the directory is fsynced. The previous
// contents are kept as FILE.bak.<UTC stamp>, and an advisory lock on
// FILE.lock serialises runnerup processes.
//
// It is docker/cli's configfile.Save plus what that lacks (fsync of the file
// and the directory, backups, locking, multi-file sets).
package safewrite

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// File is one file to write.
type File struct {
	Path string
	Data []byte
	// Secret marks a file that holds secrets: it is always written 0600,
	// whatever mode the existing file had.
	Secret bool
	// Mode is used when the file is new and not Secret; 0 means 0600. An
	// existing file keeps its mode (unless Secret) and its uid/gid (best
	// effort chown when running as root).
	Mode os.FileMode
}

// Options tune WriteAll and Write.
type Options struct {
	Now         func() time.Time // for the backup stamp; default time.Now
	LockTimeout time.Duration    // how long to wait for FILE.lock; default 10s
	NoBackup    bool             // do not keep FILE.bak.<stamp>
}

// Result reports what happened to one File, in the order given.
type Result struct {
	Path       string // File.Path as given
	Target     string // the file actually written (symlinks resolved)
	Changed    bool   // false when the bytes (and mode) were already right
	Created    bool   // the file did not exist before
	BackupPath string // the kept copy of the previous file, "" if none
}

// WriteError is the only error type WriteAll and Write return. Its message
// names the path and the operation, never the file's contents.
type WriteError struct {
	Path string
	Op   string
	Err  error
}

func (e *WriteError) Error() string {
	return e.Op + " " + e.Path + ": " + e.Err.Error()
}

func (e *WriteError) Unwrap() error { return e.Err }

// ErrLocked is wrapped in the error returned when another runnerup process
// holds a file's lock for longer than Options.LockTimeout.
var ErrLocked = errors.New("held by another runnerup process")

const (
	defaultLockTimeout = 10 * time.Second
	lockRetryDelay     = 50 * time.Millisecond
	backupStampLayout  = "20060102T150405Z"
	maxSymlinks        = 255
)

// Write writes one file; see WriteAll.
func Write(f File, opts Options) (Result, error) {
	res, err := WriteAll([]File{f}, opts)
	if err != nil {
		if len(res) == 1 {
			return res[0], err
		}
		return Result{}, err
	}
	return res[0], nil
}

// WriteAll writes several files as one unit. It resolves symlinks (writing
// through to the target, even a dangling one), creates missing parent
// directories 0700, takes every FILE.lock in sorted order, skips files whose
// bytes are already right, writes and fsyncs temp files, keeps backups, and
// only then renames the temps into place in the order given and fsyncs the
// directories.
//
// A failure before the first rename removes every temp and backup made, so
// nothing changes on disk except created directories and .lock files. A
// rename failing after earlier ones succeeded puts the earlier files back
// from their backups so the set stays consistent. A crash between two
// renames can still leave a mixed set; each file on its own is always
// either old or new.
//
// On error the results are nil, except when every file was renamed into
// place and only the final directory fsync failed.
func WriteAll(files []File, opts Options) ([]Result, error) {
	return newWriter(opts).writeAll(files)
}

// UpdateFunc computes new file contents from the current ones: old maps
// each File.Path to the bytes on disk (nil when the file does not exist);
// the result maps a path to the bytes to write. A path left out of the
// result is not written.
type UpdateFunc func(old map[string][]byte) (map[string][]byte, error)

// Update is WriteAll as one read-modify-write: it takes every file's lock
// first, reads the current bytes under the locks, calls fn with them and
// writes what fn returns before letting go of the locks, so two runnerup
// processes editing the same file can never lose each other's changes (a
// read before the lock would let both start from the same old bytes and the
// second write drop the first one's edit). The Data of files is ignored;
// their Path, Secret and Mode are used as in WriteAll. An error from fn is
// returned as it is, with nothing written; a path fn leaves out gets a
// Result with Changed false.
func Update(files []File, fn UpdateFunc, opts Options) ([]Result, error) {
	if fn == nil {
		return nil, &WriteError{Path: `""`, Op: "update", Err: errors.New("nil update function")}
	}
	return newWriter(opts).write(files, fn)
}

// writer carries the options and the file operations tests replace to
// inject failures that cannot be provoked for real when running as root.
type writer struct {
	now         func() time.Time
	lockTimeout time.Duration
	noBackup    bool
	createTemp  func(dir, pattern string) (*os.File, error)
	rename      func(oldpath, newpath string) error
}

func newWriter(opts Options) *writer {
	w := &writer{
		now:         opts.Now,
		lockTimeout: opts.LockTimeout,
		noBackup:    opts.NoBackup,
		createTemp:  os.CreateTemp,
		rename:      os.Rename,
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.lockTimeout <= 0 {
		w.lockTimeout = defaultLockTimeout
	}
	return w
}

// plan is the state of one file through WriteAll.
type plan struct {
	file    File
	target  string
	dir     string
	oldInfo fs.FileInfo // nil when the file is new
	old     []byte      // its bytes, read under the lock
	read    bool        // oldInfo/old are already read (Update)
	skip    bool        // Update's fn left this file out
	mode    fs.FileMode
	changed bool
	temp    string // temp file holding the new bytes
	backup  string // kept backup (also the rollback source)
	restore string // rollback source; a temp copy when backups are off
	renamed bool
}

func (p *plan) fail(op string, err error) error {
	return &WriteError{Path: p.target, Op: op, Err: err}
}

func (w *writer) writeAll(files []File) ([]Result, error) { return w.write(files, nil) }

// write is WriteAll, or Update when update is set.
func (w *writer) write(files []File, update UpdateFunc) (results []Result, retErr error) {
	if len(files) == 0 {
		return nil, nil
	}
	plans, err := resolvePlans(files)
	if err != nil {
		return nil, err
	}
	for _, p := range plans {
		// The directory must exist before its .lock file can, so this is
		// the one change that can outlive a failed write.
		if err := mkdirAll(p.dir); err != nil {
			return nil, p.fail("mkdir", err)
		}
	}
	unlock, err := w.lockAll(plans)
	if err != nil {
		return nil, err
	}
	defer unlock()

	for _, p := range plans {
		// Leftovers of a killed runnerup: only a lock holder makes temps,
		// so under the lock every one found is stale, whatever its age.
		// Best effort: a failure to clean must not block the write.
		_ = cleanTemps(p.target, time.Now(), 0)
	}
	if update != nil {
		if err := runUpdate(plans, update); err != nil {
			return nil, err
		}
	}
	var changed []*plan
	for _, p := range plans {
		if p.skip {
			continue
		}
		if err := p.inspect(); err != nil {
			return nil, err
		}
		if p.changed {
			changed = append(changed, p)
		}
	}
	if len(changed) == 0 {
		return makeResults(plans), nil
	}

	// Everything below creates files; until the first rename a failure
	// removes all of them so the disk is as it was.
	var made []string
	renaming := false
	defer func() {
		if retErr != nil && !renaming {
			for _, name := range made {
				_ = os.Remove(name)
			}
		}
	}()

	for _, p := range changed {
		if err := w.writeTemp(p, &made); err != nil {
			return nil, err
		}
	}
	// Multi-file sets always need a copy of each old file so a failed
	// rename can be undone, even when the caller wants no backup.
	needRestore := len(changed) > 1
	for _, p := range changed {
		if p.oldInfo == nil {
			continue
		}
		if err := w.saveOld(p, needRestore, &made); err != nil {
			return nil, err
		}
	}
	// Backups must be durable before the renames replace the originals.
	dirs := uniqueDirs(changed)
	for _, d := range dirs {
		if err := syncDir(d.dir); err != nil {
			return nil, d.plan.fail("sync dir", err)
		}
	}

	renaming = true
	for i, p := range changed {
		if err := w.rename(p.temp, p.target); err != nil {
			return nil, w.rollback(changed, i, err)
		}
		p.renamed = true
	}
	var syncErr error
	for _, d := range dirs {
		if err := syncDir(d.dir); err != nil && syncErr == nil {
			syncErr = d.plan.fail("sync dir", err)
		}
	}
	for _, p := range changed {
		if p.restore != "" && p.restore != p.backup {
			_ = os.Remove(p.restore)
		}
	}
	return makeResults(plans), syncErr
}

func resolvePlans(files []File) ([]*plan, error) {
	plans := make([]*plan, len(files))
	seen := make(map[string]string, len(files))
	for i, f := range files {
		if f.Path == "" {
			return nil, &WriteError{Path: `""`, Op: "resolve", Err: errors.New("empty path")}
		}
		if err := CheckLinks(f.Path); err != nil {
			return nil, &WriteError{Path: f.Path, Op: "resolve", Err: err}
		}
		target, err := resolveTarget(f.Path)
		if err != nil {
			return nil, &WriteError{Path: f.Path, Op: "resolve", Err: err}
		}
		if prev, dup := seen[target]; dup {
			return nil, &WriteError{Path: f.Path, Op: "resolve", Err: fmt.Errorf("same file as %s", prev)}
		}
		seen[target] = f.Path
		plans[i] = &plan{file: f, target: target, dir: filepath.Dir(target)}
	}
	return plans, nil
}

// CheckLinks refuses a path that reaches its file through a symbolic link
// another user owns while runnerup runs as root (see foreignLink). Callers
// that read a file before writing it check first, so nothing of the link's
// target is read either.
func CheckLinks(path string) error {
	link, uid, err := foreignLink(path)
	if err != nil || link == "" {
		return err
	}
	return fmt.Errorf("%s is a symbolic link owned by uid %d: runnerup runs as root and does not follow a link another user controls (it could name any file of root's); replace the link with the file it points to (cp --remove-destination TARGET %s), or run runnerup as that user", link, uid, link)
}

// resolveTarget follows symlinks to the file that should be replaced, as
// docker/cli does, so the link itself stays a link. A dangling link resolves
// to the path it points to.
func resolveTarget(path string) (string, error) {
	target, err := filepath.EvalSymlinks(path)
	if err == nil {
		return target, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	// Something is missing: follow the chain by hand to find the first
	// path that does not exist. Parent directories that are links are
	// fine to leave unresolved: rename goes through them.
	p := path
	for range maxSymlinks {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return p, nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return p, nil
		}
		dest, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(p), dest)
		}
		p = dest
	}
	return "", errors.New("too many levels of symbolic links")
}

// mkdirAll is os.MkdirAll with an explicit 0700 (umask cannot widen or
// narrow it) and an fsync of each parent so a new directory survives a crash.
func mkdirAll(dir string) error {
	var missing []string
	for d := dir; ; {
		fi, err := os.Stat(d)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s is not a directory", d)
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		missing = append(missing, d)
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	for i := len(missing) - 1; i >= 0; i-- {
		d := missing[i]
		if err := os.Mkdir(d, 0o700); err != nil {
			if errors.Is(err, fs.ErrExist) {
				continue // created concurrently
			}
			return err
		}
		if err := os.Chmod(d, 0o700); err != nil {
			return err
		}
		if err := syncDir(filepath.Dir(d)); err != nil {
			return err
		}
	}
	return nil
}

// runUpdate reads every file under the locks, hands the bytes to fn and
// takes the new Data from its answer.
func runUpdate(plans []*plan, fn UpdateFunc) error {
	old := make(map[string][]byte, len(plans))
	for _, p := range plans {
		if err := p.readOld(); err != nil {
			return err
		}
		old[p.file.Path] = p.old
	}
	data, err := fn(old)
	if err != nil {
		return err
	}
	for _, p := range plans {
		d, ok := data[p.file.Path]
		if !ok {
			p.skip = true
			continue
		}
		p.file.Data = d
	}
	return nil
}

// readOld reads the current file (once) under the lock: oldInfo and old
// stay nil when it does not exist.
func (p *plan) readOld() error {
	if p.read {
		return nil
	}
	fi, err := os.Lstat(p.target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		p.read = true
		return nil
	case err != nil:
		return p.fail("stat", err)
	case !fi.Mode().IsRegular():
		// Reading a FIFO or device would block or worse.
		return p.fail("stat", errors.New("not a regular file"))
	}
	old, err := os.ReadFile(p.target)
	if err != nil {
		return p.fail("read", err)
	}
	p.oldInfo, p.old, p.read = fi, old, true
	return nil
}

// inspect reads the current file under the lock (unless Update already
// did: the bytes compared and backed up are the bytes fn saw) and decides
// whether it needs writing and with which mode.
func (p *plan) inspect() error {
	if err := p.readOld(); err != nil {
		return err
	}
	if p.oldInfo == nil {
		p.changed = true
		p.mode = p.file.Mode.Perm()
		if p.mode == 0 || p.file.Secret {
			p.mode = 0o600
		}
		return nil
	}
	fi, old := p.oldInfo, p.old
	p.mode = fi.Mode().Perm()
	if p.file.Secret {
		p.mode = 0o600
	}
	// A secret file with a wider mode is rewritten even when its bytes are
	// right, so it ends up 0600 atomically and with a backup. Windows has
	// no such bits to compare.
	p.changed = !bytes.Equal(old, p.file.Data) || (hasUnixPerms && fi.Mode().Perm() != p.mode)
	return nil
}

func (w *writer) writeTemp(p *plan, made *[]string) error {
	f, err := w.createTemp(p.dir, tempPattern(p.target))
	if err != nil {
		return p.fail("create temp", err)
	}
	*made = append(*made, f.Name())
	p.temp = f.Name()
	if err := fillFile(f, p.file.Data, p.mode, p.oldInfo); err != nil {
		return p.fail("write temp", err)
	}
	return nil
}

// saveOld copies the current file to FILE.bak.<stamp> (or, when backups are
// off but the set needs a rollback source, to a temp name that
// CleanStaleTemps would sweep after a crash).
func (w *writer) saveOld(p *plan, needRestore bool, made *[]string) error {
	// The bytes compared are the bytes kept: no second read that could see
	// a different file.
	old := p.old
	// A backup of a secret file must not be more readable than the file.
	mode := p.oldInfo.Mode().Perm()
	if p.file.Secret {
		mode = 0o600
	}
	if !w.noBackup {
		f, err := createBackup(p.target, w.now().UTC().Format(backupStampLayout))
		if err != nil {
			return p.fail("backup", err)
		}
		*made = append(*made, f.Name())
		if err := fillFile(f, old, mode, p.oldInfo); err != nil {
			return p.fail("backup", err)
		}
		p.backup = f.Name()
		p.restore = f.Name()
		return nil
	}
	if !needRestore {
		return nil
	}
	f, err := w.createTemp(p.dir, tempPattern(p.target))
	if err != nil {
		return p.fail("backup", err)
	}
	*made = append(*made, f.Name())
	if err := fillFile(f, old, mode, p.oldInfo); err != nil {
		return p.fail("backup", err)
	}
	p.restore = f.Name()
	return nil
}

// createBackup creates PATH.bak.<stamp>, or PATH.bak.<stamp>.N when that
// exists (several writes in one second). O_EXCL makes it never overwrite.
func createBackup(target, stamp string) (*os.File, error) {
	base := target + ".bak." + stamp
	name := base
	for n := 1; ; n++ {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrExist) || n > 10000 {
			return nil, err
		}
		name = base + "." + strconv.Itoa(n)
	}
}

// fillFile writes data, sets mode and owner, fsyncs and closes f.
func fillFile(f *os.File, data []byte, mode fs.FileMode, owner fs.FileInfo) error {
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := applyMeta(f, mode, owner); err != nil {
		_ = f.Close()
		return fmt.Errorf("setting mode: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// rollback undoes the renames before index failed, newest first, so the
// set is back to the old files, and removes what was made for the rest.
func (w *writer) rollback(changed []*plan, failed int, cause error) *WriteError {
	var errs []error
	for i := failed - 1; i >= 0; i-- {
		p := changed[i]
		var err error
		if p.restore == "" {
			err = os.Remove(p.target) // it was created by this write
		} else if err = w.rename(p.restore, p.target); err != nil {
			err = fmt.Errorf("from %s: %w", p.restore, err)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("restoring %s: %w", p.target, err))
		}
	}
	for _, p := range changed[failed:] {
		_ = os.Remove(p.temp)
		if p.backup != "" {
			_ = os.Remove(p.backup) // that file did not change
		}
		if p.restore != "" && p.restore != p.backup {
			_ = os.Remove(p.restore)
		}
	}
	for _, d := range uniqueDirs(changed) {
		if err := syncDir(d.dir); err != nil {
			errs = append(errs, fmt.Errorf("syncing %s: %w", d.dir, err))
		}
	}
	err := cause
	switch {
	case len(errs) > 0:
		err = fmt.Errorf("%w; rolling back earlier files failed: %w", cause, joinErrors(errs))
	case failed > 0:
		err = fmt.Errorf("%w (earlier files restored)", cause)
	}
	return &WriteError{Path: changed[failed].target, Op: "rename", Err: err}
}

type dirOf struct {
	dir  string
	plan *plan
}

func uniqueDirs(plans []*plan) []dirOf {
	var out []dirOf
	seen := map[string]bool{}
	for _, p := range plans {
		if !seen[p.dir] {
			seen[p.dir] = true
			out = append(out, dirOf{dir: p.dir, plan: p})
		}
	}
	return out
}

func makeResults(plans []*plan) []Result {
	res := make([]Result, len(plans))
	for i, p := range plans {
		res[i] = Result{
			Path:       p.file.Path,
			Target:     p.target,
			Changed:    p.changed,
			Created:    p.changed && p.oldInfo == nil,
			BackupPath: p.backup,
		}
	}
	return res
}

func tempPattern(target string) string {
	return tempPrefix(target) + "*"
}

func tempPrefix(target string) string {
	return "." + filepath.Base(target) + ".tmp-"
}

// joinErrors is errors.Join on one line, for CLI messages.
func joinErrors(errs []error) error { return multiError(errs) }

type multiError []error

func (m multiError) Error() string {
	msgs := make([]string, len(m))
	for i, err := range m {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (m multiError) Unwrap() []error { return m }
