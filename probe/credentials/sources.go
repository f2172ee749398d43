package credentials

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/runnerup/runnerup/internal/envlist"
)

// rawSource is a source before parsing: where it comes from and its bytes.
type rawSource struct {
	name    string
	origin  string // where a DOCKER_AUTH_CONFIG value came from, for the report
	data    []byte
	present bool
	// status/reason/err are set when the source is absent or cannot be
	// read, so it never reaches the parser.
	status string
	reason string
	err    error
	notes  []string // facts worth a line in the report (ignored DOCKER_CONFIG, unexpanded $VARs)
}

// authConfigSource finds DOCKER_AUTH_CONFIG as the job sees it: the
// override (a CI/CD variable) beats the [[runners]] environment, whose
// last entry wins; the runner's own OS environment is never consulted.
func (r Resolver) authConfigSource() rawSource {
	s := rawSource{name: SourceAuthConfig}
	var val string
	switch v, ok := envlist.Value(r.RunnerEnvironment, "DOCKER_AUTH_CONFIG"); {
	case r.AuthConfig != nil:
		val, s.origin = *r.AuthConfig, "the CI/CD variable"
		if ok && val == "" {
			s.notes = append(s.notes, "the empty CI/CD variable hides the [[runners]] environment value")
		}
	case ok:
		var unresolved []string
		val, unresolved = expandLikeRunner(v, r.RunnerEnvironment)
		s.origin = "[[runners]] environment"
		if len(unresolved) > 0 {
			s.notes = append(s.notes, fmt.Sprintf("the runner expands $%s from the job's variables; not defined in the runner environment, taken as empty here",
				strings.Join(unresolved, ", $")))
		}
	}
	// The runner's validate() treats "" as unset; whitespace-only parses
	// to nothing and is reported as empty by the parser.
	if val == "" {
		s.status, s.reason = StatusAbsent, "DOCKER_AUTH_CONFIG is not set for the job"
		if s.origin != "" {
			s.reason = fmt.Sprintf("DOCKER_AUTH_CONFIG from %s is empty", s.origin)
		}
		return s
	}
	s.data, s.present = []byte(val), true
	s.notes = append([]string{"value from " + s.origin}, s.notes...)
	return s
}

// expandLikeRunner is the runner's Variables.Expand on one value
// (os.Expand with Variables.Get: "$$" is "$", positional and special
// parameters are empty, the last definition wins), resolved against the
// runner environment only. Names it could not resolve are returned.
func expandLikeRunner(value string, env []string) (string, []string) {
	var unresolved []string
	out := os.Expand(value, func(name string) string {
		switch name {
		case "$":
			return "$"
		case "*", "#", "@", "!", "?", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9":
			return ""
		}
		v, ok := envlist.Value(env, name)
		if !ok && name != "" {
			unresolved = append(unresolved, name)
		}
		return v
	})
	return out, unresolved
}

// homeSource is readDockerConfigsFromHomeDir: config.json, else
// .dockercfg, whichever opens first. A file that opens but cannot be read
// (a directory, an I/O error) is still "the" file and is dropped silently.
func (r Resolver) homeSource() rawSource {
	cfgPath := r.ConfigJSONPath
	switch {
	case cfgPath != "":
	case r.HomeDir != "":
		cfgPath = filepath.Join(r.HomeDir, ".docker", "config.json")
	default:
		cfgPath = "$HOME/.docker/config.json"
	}
	s := rawSource{name: cfgPath}
	if _, ok := envlist.Value(r.RunnerEnvironment, "DOCKER_CONFIG"); ok {
		s.notes = append(s.notes, "DOCKER_CONFIG in the runner environment is ignored by the runner's image pulls")
	} else if _, ok := envlist.Value(r.HelperEnv, "DOCKER_CONFIG"); ok {
		s.notes = append(s.notes, "DOCKER_CONFIG in the runner's process environment is ignored by its image pulls")
	}
	if r.ConfigJSON != nil {
		s.data, s.present = r.ConfigJSON, true
		return s
	}
	if r.HomeDir == "" {
		s.status, s.reason = StatusAbsent, "no home directory for the runner user"
		return s
	}
	var openErr error
	for _, fn := range []string{cfgPath, filepath.Join(r.HomeDir, ".dockercfg")} {
		f, err := os.Open(fn)
		if err != nil {
			if openErr == nil && !errors.Is(err, fs.ErrNotExist) {
				openErr = err // remembered: the runner moves on silently
			}
			continue
		}
		data, err := io.ReadAll(f)
		_ = f.Close()
		s.name = fn
		if err != nil {
			s.status, s.err = StatusDropped, fmt.Errorf("reading %s: %w", fn, err)
			s.reason = fmt.Sprintf("the runner cannot read it and drops it silently: %v", err)
			return s
		}
		s.data, s.present = data, true
		if openErr != nil {
			s.notes = append(s.notes, fmt.Sprintf("%s could not be opened (%v), so the runner fell back to this file", cfgPath, openErr))
		}
		return s
	}
	if openErr != nil {
		s.status, s.err = StatusDropped, fmt.Errorf("opening config: %w", openErr)
		s.reason = fmt.Sprintf("the runner cannot open it and skips it silently: %v", openErr)
		return s
	}
	s.status, s.reason = StatusAbsent, fmt.Sprintf("neither %s nor %s exists", cfgPath, filepath.Join(r.HomeDir, ".dockercfg"))
	return s
}
