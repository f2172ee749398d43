package wizard

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// SavedAnswers is an answers file ready to write, and the environment
// variables it expects at apply time.
type SavedAnswers struct {
	Data []byte
	// EnvVars maps each env: reference the file uses to the field it
	// feeds, so the wizard can print `export NAME=…` lines.
	EnvVars map[string]string
}

// Encode renders answers as an answers file. Secrets become env:
// references with suggested names unless saveSecrets is set; references
// the user already chose are kept as they are.
func Encode(a *Answers, saveSecrets bool) (SavedAnswers, error) {
	out := a.Clone()
	out.Version = SchemaVersion
	env := map[string]string{}
	eachString(out, func(path string, s *string) {
		if !IsSecretField(path) || *s == "" {
			return
		}
		if IsReference(*s) {
			if name, ok := strings.CutPrefix(*s, refEnv); ok {
				env[name] = path
			}
			return
		}
		if saveSecrets {
			return
		}
		name := suggestedEnvName(out, path)
		for n := 2; env[name] != "" && env[name] != path; n++ {
			name = fmt.Sprintf("%s_%d", suggestedEnvName(out, path), n)
		}
		env[name] = path
		*s = refEnv + name
	})
	var buf bytes.Buffer
	buf.WriteString("# runnerup answers file: replay with `runnerup apply --answers FILE`\n")
	if len(env) > 0 {
		names := make([]string, 0, len(env))
		for n := range env {
			names = append(names, n)
		}
		sort.Strings(names)
		buf.WriteString("# set first: " + strings.Join(names, ", ") + "\n")
	}
	if saveSecrets {
		buf.WriteString("# WARNING: this file holds secrets in clear; keep it mode 0600\n")
	}
	if err := toml.NewEncoder(&buf).Encode(fileShape(out)); err != nil {
		return SavedAnswers{}, fmt.Errorf("encoding answers: %w", err)
	}
	return SavedAnswers{Data: buf.Bytes(), EnvVars: env}, nil
}

// answersFile is Answers as Encode writes it. The [runner] and [docker]
// tables are pointers so that a table whose only key is an empty list
// (volumes = [], services = [], environment = []) is still written: the
// encoder's omitempty counts an empty list as nothing, and dropping it
// would turn "none" into "keep the runner's".
type answersFile struct {
	Version    int        `toml:"version"`
	GitLab     GitLab     `toml:"gitlab,omitempty"`
	Runner     *Runner    `toml:"runner,omitempty"`
	Docker     *Docker    `toml:"docker,omitempty"`
	Registries []Registry `toml:"registries,omitempty"`
	Output     Output     `toml:"output,omitempty"`
}

func fileShape(a *Answers) answersFile {
	f := answersFile{Version: a.Version, GitLab: a.GitLab, Registries: a.Registries, Output: a.Output}
	if a.Runner.setsAny() {
		f.Runner = &a.Runner
	}
	if a.Docker.setsAny() {
		f.Docker = &a.Docker
	}
	return f
}

var nonEnvChars = regexp.MustCompile(`[^A-Z0-9]+`)

// suggestedEnvName names the variable for a secret field:
// RUNNER_TOKEN, REGISTRY_PASSWORD_REGISTRY_EXAMPLE_COM_5000, ….
func suggestedEnvName(a *Answers, path string) string {
	switch path {
	case "gitlab.token":
		return "RUNNER_TOKEN"
	case "gitlab.create.api_token":
		return "GITLAB_TOKEN" // glab's name, which apply reads by default
	}
	var idx int
	if _, err := fmt.Sscanf(path, "registries[%d].password", &idx); err == nil && idx < len(a.Registries) {
		host := strings.Trim(nonEnvChars.ReplaceAllString(strings.ToUpper(a.Registries[idx].Host), "_"), "_")
		if host != "" {
			return "REGISTRY_PASSWORD_" + host
		}
	}
	return strings.Trim(nonEnvChars.ReplaceAllString(strings.ToUpper(path), "_"), "_")
}
