package wizard

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/runnerup/runnerup/internal/userfile"
)

// Reference prefixes an answers-file string may use instead of a literal;
// refLiteral escapes a literal that starts with one of them (or with
// itself): "literal:env:x" is the value "env:x".
const (
	refEnv     = "env:"
	refFile    = "file:"
	refLiteral = "literal:"
)

// Literal is s as an answers-file string that means s itself: escaped
// with literal: when it would read as a reference.
func Literal(s string) string {
	if IsReference(s) || strings.HasPrefix(s, refLiteral) {
		return refLiteral + s
	}
	return s
}

// secretFields are the schema paths (indexes stripped) whose values are
// secrets: never printed, never saved in clear unless asked.
var secretFields = map[string]bool{
	"gitlab.token":            true,
	"registries.password":     true,
	"gitlab.create.api_token": true,
}

// IsSecretField reports whether a field path (`registries[0].password`)
// holds a secret.
func IsSecretField(path string) bool {
	p := stripIndexes(path)
	if rest, ok := strings.CutPrefix(p, "runner.extra."); ok {
		return isSecretExtraKey(rest)
	}
	return secretFields[p]
}

func stripIndexes(path string) string {
	var b strings.Builder
	depth := 0
	for _, r := range path {
		switch {
		case r == '[':
			depth++
		case r == ']':
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Env abstracts the process environment so tests and the TUI can inject one.
type Env func(name string) (string, bool)

// Resolver turns `env:` and `file:` references into values.
type Resolver struct {
	LookupEnv Env
	ReadFile  func(path string) ([]byte, error)
	// BaseDir anchors relative file: paths (the answers file's directory).
	BaseDir string
	// AllowEmpty accepts a set but empty variable (diagnose: an empty CI/CD
	// variable is a fact to reproduce, not a mistake).
	AllowEmpty bool
}

// Value resolves one string: an env: or file: reference, or a literal.
func (r Resolver) Value(s string) (string, error) { return r.resolveOne(s) }

// DefaultResolver reads the real environment and file system.
func DefaultResolver(baseDir string) Resolver {
	return Resolver{LookupEnv: os.LookupEnv, ReadFile: readReference, BaseDir: baseDir}
}

// Resolve returns a copy of a with every reference replaced by its value,
// and one FieldError per reference that could not be resolved. The original
// keeps its references so it can be saved again without secrets.
func (r Resolver) Resolve(a *Answers) (*Answers, []FieldError) {
	out := a.Clone()
	var problems []FieldError
	eachString(out, func(path string, s *string) {
		v, err := r.resolveOne(*s)
		if err != nil && r.unsetAPIToken(path, *s) {
			// Needed only to create the runner (or to compare its
			// settings in GitLab): apply decides, once it knows whether
			// the runner exists (newCreation), so saved answers replay
			// on the host where the runner now exists without it.
			*s = ""
			return
		}
		if err != nil {
			problems = append(problems, FieldError{Field: path, Problem: err.Error(), Fix: referenceFix(*s)})
			return
		}
		*s = v
	})
	return out, problems
}

// unsetAPIToken says whether s is the API token named by an environment
// variable that is not set.
func (r Resolver) unsetAPIToken(path, s string) bool {
	name, ok := strings.CutPrefix(s, refEnv)
	if path != "gitlab.create.api_token" || !ok || r.LookupEnv == nil {
		return false
	}
	_, set := r.LookupEnv(name)
	return !set
}

// IsReference reports whether s is an env: or file: reference.
func IsReference(s string) bool {
	return strings.HasPrefix(s, refEnv) || strings.HasPrefix(s, refFile)
}

func (r Resolver) resolveOne(s string) (string, error) {
	switch {
	case strings.HasPrefix(s, refLiteral):
		return strings.TrimPrefix(s, refLiteral), nil
	case strings.HasPrefix(s, refEnv):
		name := strings.TrimPrefix(s, refEnv)
		if !validEnvName(name) {
			return "", fmt.Errorf("%q is not a valid environment variable name", name)
		}
		v, ok := r.LookupEnv(name)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", name)
		}
		if v == "" && !r.AllowEmpty {
			return "", fmt.Errorf("environment variable %s is empty", name)
		}
		return v, nil
	case strings.HasPrefix(s, refFile):
		p := strings.TrimPrefix(s, refFile)
		if p == "" {
			return "", fmt.Errorf("file: reference has no path")
		}
		if !filepath.IsAbs(p) && r.BaseDir != "" {
			p = filepath.Join(r.BaseDir, p)
		}
		data, err := r.ReadFile(p)
		if err != nil {
			// The path is not secret; the contents never appear here.
			return "", fmt.Errorf("reading %s: %w", p, unwrapPathError(err))
		}
		return strings.TrimRight(string(data), "\r\n"), nil
	}
	return s, nil
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func referenceFix(s string) string {
	if strings.HasPrefix(s, refEnv) {
		name := strings.TrimPrefix(s, refEnv)
		return fmt.Sprintf("export %s=… before running, or write the value in the answers file", name)
	}
	return "create the file or correct the path"
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// Clone deep-copies the answers.
func (a *Answers) Clone() *Answers {
	c := *a
	c.GitLab.Tags = slices.Clone(a.GitLab.Tags)
	if a.GitLab.Locked != nil {
		v := *a.GitLab.Locked
		c.GitLab.Locked = &v
	}
	c.GitLab.RunUntagged = cloneBool(a.GitLab.RunUntagged)
	c.Docker.Privileged = cloneBool(a.Docker.Privileged)
	c.Docker.DinD = cloneBool(a.Docker.DinD)
	c.Runner.Concurrent = cloneInt(a.Runner.Concurrent)
	c.Runner.Limit = cloneInt(a.Runner.Limit)
	c.Runner.Environment = slices.Clone(a.Runner.Environment)
	c.Runner.Extra = cloneTree(a.Runner.Extra)
	c.GitLab.Create = a.GitLab.Create.clone()
	c.GitLab.Paused = cloneBool(a.GitLab.Paused)
	c.GitLab.MaximumTimeout = cloneInt(a.GitLab.MaximumTimeout)
	c.Docker.Volumes = slices.Clone(a.Docker.Volumes)
	c.Docker.PullPolicy = slices.Clone(a.Docker.PullPolicy)
	if a.Docker.Services != nil {
		c.Docker.Services = make([]Service, len(a.Docker.Services))
		for i, s := range a.Docker.Services {
			s.Command = slices.Clone(s.Command)
			s.Entrypoint = slices.Clone(s.Entrypoint)
			s.Environment = slices.Clone(s.Environment)
			c.Docker.Services[i] = s
		}
	}
	if a.Registries != nil {
		c.Registries = append([]Registry(nil), a.Registries...)
	}
	return &c
}

func cloneInt(p *int) *int {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func cloneBool(p *bool) *bool {
	if p == nil {
		return nil
	}
	return new(*p)
}

// eachString calls fn for every string (and string list element) in a,
// with its field path in answers-file spelling.
func eachString(a *Answers, fn func(path string, s *string)) {
	walkStrings(reflect.ValueOf(a).Elem(), "", fn)
}

func walkStrings(v reflect.Value, path string, fn func(string, *string)) {
	switch v.Kind() {
	case reflect.String:
		if p, ok := v.Addr().Interface().(*string); ok {
			fn(path, p)
			return
		}
		s := v.String() // a named string type (IDOrPath)
		fn(path, &s)
		v.SetString(s)
	case reflect.Map:
		// [runner.extra]: string values, in key order.
		if m, ok := v.Interface().(map[string]any); ok {
			walkTree(m, path, fn)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			if !t.Field(i).IsExported() {
				continue
			}
			name := strings.Split(t.Field(i).Tag.Get("toml"), ",")[0]
			walkStrings(v.Field(i), joinField(path, name), fn)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			walkStrings(v.Index(i), path+"["+strconv.Itoa(i)+"]", fn)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			walkStrings(v.Elem(), path, fn)
		}
	}
}

// readReference reads a file: reference: a token or password is a few
// bytes, so 1 MiB is plenty, and a FIFO or device is refused, not waited on.
func readReference(path string) ([]byte, error) { return userfile.Read(path, 1<<20) }
