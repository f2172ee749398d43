// Package wizard holds runnerup's domain: the one Answers model, its defaults
// and validation, the steps as data, and the headless replay (apply). It has
// no terminal code and no network code of its own.
package wizard

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/runnerup/runnerup/internal/editdist"
	"github.com/runnerup/runnerup/internal/userfile"
	"github.com/runnerup/runnerup/render"
)

// SchemaVersion is the answers-file version this build reads and writes.
const SchemaVersion = 1

// Answers is everything a user chooses, in the answers-file schema of
// DESIGN.md (version 1). String fields may hold `env:NAME` or `file:PATH`
// references until Resolve replaces them.
//
// Every field is "set or not": an empty string, a nil pointer or a nil
// slice is absent, and for a runner already in config.toml an absent key
// keeps its bytes there (DESIGN.md "Absent means untouched"). An empty
// non-nil slice is set, to an empty list. Defaults apply only to a new
// runner or file (ApplyDefaults, ConfigEdit).
type Answers struct {
	Version    int        `toml:"version"`
	GitLab     GitLab     `toml:"gitlab,omitempty"`
	Runner     Runner     `toml:"runner,omitempty"`
	Docker     Docker     `toml:"docker,omitempty"`
	Registries []Registry `toml:"registries,omitempty"`
	Output     Output     `toml:"output,omitempty"`
}

// GitLab is the [gitlab] table: where the runner registers and with what.
type GitLab struct {
	URL       string `toml:"url,omitempty"`
	Token     string `toml:"token,omitempty"`
	TokenKind string `toml:"token_kind,omitempty"`
	Name      string `toml:"name,omitempty"`
	TLSCAFile string `toml:"tls_ca_file,omitempty"`

	// Registration-only fields: GitLab keeps them server-side for runners
	// created with an authentication token.
	Description     string   `toml:"description,omitempty"`
	Tags            []string `toml:"tags,omitempty"`
	RunUntagged     *bool    `toml:"run_untagged,omitempty"`
	Locked          *bool    `toml:"locked,omitempty"`
	AccessLevel     string   `toml:"access_level,omitempty"`
	MaintenanceNote string   `toml:"maintenance_note,omitempty"`
	Paused          *bool    `toml:"paused,omitempty"`
	MaximumTimeout  *int     `toml:"maximum_timeout,omitempty"`

	// Create makes runnerup create the runner in GitLab with a user's API
	// token ([gitlab.create], create.go); gitlab.token is then absent.
	Create *Create `toml:"create,omitempty"`
}

// Runner is the [runner] table: executor and global settings. Lists have
// no omitempty: nil is absent (not written) and an empty list is set.
type Runner struct {
	Executor    string   `toml:"executor,omitempty"`
	Concurrent  *int     `toml:"concurrent,omitempty"`
	Limit       *int     `toml:"limit,omitempty"`
	Shell       string   `toml:"shell,omitempty"`
	Environment []string `toml:"environment"`
	// Extra holds [[runners]] keys runnerup does not manage, in
	// config.toml's own spelling ([runner.extra], extra.go): written into
	// the runner's block as given, byte-preserving everything else.
	Extra map[string]any `toml:"extra,omitempty"`
	// template is the --template-config file register read: the tables
	// of Extra it holds are copied from it byte for byte (comments, key
	// order), not re-encoded. Not part of the answers file.
	template []byte
}

// Docker is the [docker] table for the docker and docker-windows executors.
type Docker struct {
	Image      string       `toml:"image,omitempty"`
	Privileged *bool        `toml:"privileged,omitempty"`
	DinD       *bool        `toml:"dind,omitempty"`
	Volumes    []string     `toml:"volumes"`     // nil: keep the runner's; empty: none
	PullPolicy StringOrList `toml:"pull_policy"` // nil: keep the runner's
	Host       string       `toml:"host,omitempty"`
	Services   []Service    `toml:"services"` // nil: keep the runner's; empty: remove them
}

// IsDinD reports whether the answers ask for the Docker-in-Docker wiring.
func (d Docker) IsDinD() bool { return d.DinD != nil && *d.DinD }

// IsPrivileged reports whether job containers run privileged as far as
// the answers say: privileged = true, or dind = true (which needs it).
func (d Docker) IsPrivileged() bool { return d.IsDinD() || d.Privileged != nil && *d.Privileged }

// setsAny reports whether the [runner] table sets any key.
func (r Runner) setsAny() bool {
	return r.Executor != "" || r.Concurrent != nil || r.Limit != nil || r.Shell != "" ||
		r.Environment != nil || len(r.Extra) > 0
}

// setsAny reports whether the [docker] table sets any key.
func (d Docker) setsAny() bool {
	return d.Image != "" || d.Privileged != nil || d.DinD != nil || d.Volumes != nil ||
		d.PullPolicy != nil || d.Host != "" || d.Services != nil
}

// Service is one [[docker.services]] entry.
type Service struct {
	Name        string   `toml:"name,omitempty"`
	Alias       string   `toml:"alias,omitempty"`
	Command     []string `toml:"command,omitempty"`
	Entrypoint  []string `toml:"entrypoint,omitempty"`
	Environment []string `toml:"environment,omitempty"`
}

// Registry is one [[registries]] entry: how pulls from Host authenticate.
type Registry struct {
	Host     string `toml:"host,omitempty"`
	Method   string `toml:"method,omitempty"`
	Username string `toml:"username,omitempty"`
	Password string `toml:"password,omitempty"`
	Helper   string `toml:"helper,omitempty"`
	Target   string `toml:"target,omitempty"`
}

// Output is the [output] table: where files go.
type Output struct {
	ConfigTOML   string `toml:"config_toml,omitempty"`
	DockerConfig string `toml:"docker_config,omitempty"`
}

// Registry methods and targets.
const (
	MethodBasic      = "basic"
	MethodCredHelper = "cred-helper"
	MethodCredsStore = "creds-store"
	MethodNone       = "none"

	TargetDockerConfig = "docker-config"
	TargetRunnerEnv    = "runner-env"
)

// StringOrList accepts `pull_policy = "always"` as well as a list, as the
// runner itself does (one type with render's reading of config.toml).
type StringOrList = render.StringOrList

// LoadError is a problem reading or decoding an answers file (exit code 2).
type LoadError struct {
	Path string
	Err  error
}

func (e *LoadError) Error() string { return fmt.Sprintf("answers file %s: %v", e.Path, e.Err) }
func (e *LoadError) Unwrap() error { return e.Err }

// LoadFile reads and decodes an answers file. Unknown keys are reported
// together with validation problems by Validate; decoding errors (bad TOML,
// wrong types) come back as *LoadError.
func LoadFile(path string) (*Answers, []FieldError, error) {
	data, err := userfile.Read(path, 1<<20)
	if err != nil {
		return nil, nil, &LoadError{Path: path, Err: err}
	}
	a, unknown, err := Parse(data)
	if err != nil {
		return nil, nil, &LoadError{Path: path, Err: err}
	}
	return a, unknown, nil
}

// Parse decodes answers-file bytes. It returns the decoded answers and one
// FieldError per key the schema does not know, with a did-you-mean hint.
func Parse(data []byte) (*Answers, []FieldError, error) {
	var a Answers
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&a)
	if err != nil {
		return nil, nil, describeTOMLError(err)
	}
	var unknown []FieldError
	for _, key := range md.Undecoded() {
		if len(key) > 2 && key[0] == "runner" && key[1] == "extra" {
			continue // decoded into the [runner.extra] tree, checked by validateExtra
		}
		unknown = append(unknown, unknownKeyError(key))
	}
	sort.Slice(unknown, func(i, j int) bool { return unknown[i].Field < unknown[j].Field })
	return &a, unknown, nil
}

// describeTOMLError keeps BurntSushi's line-numbered message, which already
// names the line and the last key.
func describeTOMLError(err error) error {
	// BurntSushi's own text names the line and the last key; only its
	// "toml: " prefix is noise here.
	return errors.New(strings.TrimPrefix(err.Error(), "toml: "))
}

// unknownKeyError names an undecoded key with the closest known key at the
// same level, so `privilaged` suggests `privileged`.
func unknownKeyError(key toml.Key) FieldError {
	path := fieldPath(key)
	parent := schemaPath(key[:len(key)-1])
	leaf := key[len(key)-1]
	fe := FieldError{Field: path, Problem: "unknown key"}
	if known, ok := knownKeys[parent]; ok {
		if s := editdist.Closest(leaf, known); s != "" {
			fe.Fix = fmt.Sprintf("did you mean %q?", joinField(parent, s))
		} else {
			fe.Fix = "remove it; known keys here: " + strings.Join(known, ", ")
		}
	} else {
		fe.Fix = "remove it; see the answers-file reference in the README"
	}
	return fe
}

// fieldPath renders a TOML key as a field path; array indexes are not part
// of toml.Key, so this is the schema path.
func fieldPath(key toml.Key) string { return schemaPath(key) }

func schemaPath(key toml.Key) string { return strings.Join(key, ".") }

func joinField(parent, leaf string) string {
	if parent == "" {
		return leaf
	}
	return parent + "." + leaf
}

// knownKeys lists the schema's keys per table, for did-you-mean.
var knownKeys = map[string][]string{
	"":                {"version", "gitlab", "runner", "docker", "registries", "output"},
	"gitlab":          {"url", "token", "token_kind", "name", "tls_ca_file", "description", "tags", "run_untagged", "locked", "access_level", "maintenance_note", "paused", "maximum_timeout", "create"},
	"gitlab.create":   createKeys,
	"runner":          {"executor", "concurrent", "limit", "shell", "environment", "extra"},
	"docker":          {"image", "privileged", "dind", "volumes", "pull_policy", "host", "services"},
	"docker.services": {"name", "alias", "command", "entrypoint", "environment"},
	"registries":      {"host", "method", "username", "password", "helper", "target"},
	"output":          {"config_toml", "docker_config"},
}
