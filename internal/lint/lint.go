// Package lint checks a GitLab Runner config.toml offline: TOML syntax, keys
// the runner does not know (with did-you-mean), values of the wrong type
// (which make the runner refuse the file), and settings that load but fail
// or surprise at job time (removed executors, bad pull policies, Docker-in-
// Docker wiring, duplicate runners, registration tokens, ...).
//
// Facts come from docs/gitlab-runner.md §1 and §3 and
// reference/user-needs.md §6 and §10-§13. No finding ever shows the value of
// a token, password or other secret.
package lint

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/runnerup/runnerup/internal/secret"
	"github.com/runnerup/runnerup/internal/userfile"
)

// Severity of a finding.
type Severity string

const (
	// Error: the runner refuses the file, skips the runner, or every job
	// (or every job of a kind) fails.
	Error Severity = "error"
	// Warning: loads and runs, but very likely not what was meant.
	Warning Severity = "warning"
	// Info: worth knowing; nothing is broken.
	Info Severity = "info"
)

// Finding is one problem in a config.toml.
type Finding struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Line     int      `json:"line,omitempty"`   // 1-based
	Column   int      `json:"column,omitempty"` // 1-based, bytes
	Path     string   `json:"path,omitempty"`   // TOML key path, e.g. runners[1].docker.privilaged
	Runner   string   `json:"runner,omitempty"` // runner name when the finding is about one
	Message  string   `json:"message"`          // never contains a token or password value
	Fix      string   `json:"fix,omitempty"`    // e.g. `did you mean "privileged"?`
}

func (f Finding) String() string {
	loc := ""
	if f.Line > 0 {
		loc = fmt.Sprintf("%d:%d: ", f.Line, f.Column)
	}
	s := fmt.Sprintf("%s%s [%s] %s", loc, f.Severity, f.ID, f.Message)
	if f.Fix != "" {
		s += " (" + f.Fix + ")"
	}
	return s
}

// Options carries what Lint cannot learn from the bytes.
type Options struct {
	Mode     os.FileMode // of config.toml, for the file.mode rule
	HaveMode bool
	// InsecureRegistries are the registries (host[:port]) the host's
	// Docker daemon treats as insecure, when a daemon was asked (check
	// without --lint-only): a DinD service's daemon does not share them.
	InsecureRegistries []string
}

// HasErrors reports whether any finding is an error.
func HasErrors(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == Error {
			return true
		}
	}
	return false
}

// Parses reports whether data is valid TOML (the runner loads nothing
// from a file that is not: lint then reports only toml.syntax).
func Parses(data []byte) bool {
	var doc map[string]any
	_, err := toml.Decode(string(data), &doc)
	return err == nil
}

// Lint checks the contents of a config.toml. The findings are sorted by
// line, then id. A TOML syntax error is a finding (toml.syntax); the
// checks that need the decoded document are then skipped.
func Lint(data []byte, opts Options) []Finding {
	l := &linter{src: string(data), red: harvestSecrets(string(data)), opts: opts}
	l.fileMode(opts)
	var doc map[string]any
	if _, err := toml.Decode(l.src, &doc); err != nil {
		l.syntax(err)
	} else {
		l.doc = doc
		l.pos, l.headers = locateAll(l.src)
		l.red.addDoc(doc)
		l.walkTable("", "", doc, "")
		l.rules()
	}
	return l.finish()
}

// LintFile lints the config.toml at path, with its file mode and the
// runner's system id file beside it. The error is set only when the file
// cannot be read; a file that is not valid TOML gives a toml.syntax finding.
func LintFile(path string) ([]Finding, error) {
	f, err := ReadFile(path, false)
	if err != nil {
		return nil, err
	}
	return f.Lint(Options{}), nil
}

// File is a config.toml as read at one moment: its bytes and its mode.
// Reading it apart from linting lets check read the local file before it
// asks a (maybe remote) Docker daemon for the facts the lint needs.
type File struct {
	Path     string
	Data     []byte
	Mode     os.FileMode
	HaveMode bool
}

// ReadFile reads the config.toml at path, with its mode unless skipMode
// (a repository's copy, whose mode means nothing).
func ReadFile(path string, skipMode bool) (File, error) {
	data, err := userfile.Read(path, 0)
	if err != nil {
		return File{}, err
	}
	f := File{Path: path, Data: data}
	if !skipMode && runtime.GOOS != "windows" { // no Unix permission bits there
		if st, err := os.Stat(path); err == nil {
			f.Mode, f.HaveMode = st.Mode(), true
		}
	}
	return f, nil
}

// Lint lints the file with opts (its Mode and HaveMode come from f).
func (f File) Lint(opts Options) []Finding {
	opts.Mode, opts.HaveMode = f.Mode, f.HaveMode
	fs := Lint(f.Data, opts)
	for i := range fs {
		if fs[i].ID == "file.mode" {
			fs[i].Fix = "chmod 600 " + f.Path
		}
	}
	sortFindings(fs)
	return fs
}

type linter struct {
	opts     Options
	src      string
	doc      map[string]any
	pos      map[string]position
	headers  map[string]string // table path -> the header that opens it (locateAll)
	red      *redactor
	findings []Finding
}

// add records a finding at the first of paths that has a known position.
func (l *linter) add(f Finding, paths ...string) {
	for _, p := range paths {
		pos, ok := l.pos[p]
		if !ok {
			pos, ok = l.pos[indexPath(p, 0)] // written as an array of tables
		}
		if ok {
			f.Line, f.Column = pos.line, pos.col
			break
		}
	}
	l.findings = append(l.findings, f)
}

func (l *linter) fileMode(opts Options) {
	if !opts.HaveMode || opts.Mode.Perm()&0o077 == 0 {
		return
	}
	l.findings = append(l.findings, Finding{
		ID: "file.mode", Severity: Warning,
		Message: fmt.Sprintf("config.toml has mode %04o: it holds runner tokens, so only its owner should be able to read it", opts.Mode.Perm()),
		Fix:     "chmod 600 config.toml",
	})
}

func (l *linter) syntax(err error) {
	f := Finding{ID: "toml.syntax", Severity: Error}
	var pe toml.ParseError
	if errors.As(err, &pe) {
		f.Line, f.Column = pe.Position.Line, pe.Position.Col
		f.Path = pe.LastKey
		f.Message = "TOML syntax error: " + pe.Message
		if secretLine(l.src, pe.Position.Line) {
			// BurntSushi sometimes quotes the text it choked on.
			f.Message = "TOML syntax error in the value of a secret (the text is not shown)"
			if k := pe.LastKey[strings.LastIndexByte(pe.LastKey, '.')+1:]; secret.IsSecretName(k) {
				f.Message = fmt.Sprintf("TOML syntax error in the value of %s (the text is not shown)", k)
			}
		}
		if _, help, ok := strings.Cut(pe.ErrorWithUsage(), "Error help:"); ok {
			f.Fix = strings.TrimSuffix(firstLine(help), ":")
		}
	} else {
		f.Message = "TOML syntax error: " + strings.TrimPrefix(err.Error(), "toml: ")
	}
	if f.Fix == "" {
		f.Fix = "the runner refuses the whole file until this is fixed (it keeps running with the previous config)"
	}
	l.findings = append(l.findings, f)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

func (l *linter) finish() []Finding {
	for i := range l.findings {
		l.findings[i].Message = l.red.redact(l.findings[i].Message)
		l.findings[i].Fix = l.red.redact(l.findings[i].Fix)
	}
	sortFindings(l.findings)
	return l.findings
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Path < b.Path
	})
}
