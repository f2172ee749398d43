package cli

import (
	"bytes"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/runnerup/runnerup/internal/lint"
	"github.com/runnerup/runnerup/wizard"
)

// The linter owns GitLab Runner's config.toml schema and imports wizard,
// so the schema check of [runner.extra] and --template-config keys is
// installed from here.
func init() { wizard.CheckRunnerKeys = lintRunnerKeys }

// lintRunnerKeys lints one [[runners]] entry's keys and keeps unknown keys
// (with the linter's did-you-mean) and type errors.
func lintRunnerKeys(keys map[string]any) []wizard.RunnerKeyProblem {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(map[string]any{"runners": []map[string]any{keys}}); err != nil {
		return []wizard.RunnerKeyProblem{{Problem: "cannot be written as TOML: " + err.Error()}}
	}
	var out []wizard.RunnerKeyProblem
	for _, f := range lint.Lint(buf.Bytes(), lint.Options{}) {
		if f.ID != "key.unknown" && f.ID != "key.type" {
			continue
		}
		p := wizard.RunnerKeyProblem{Path: strings.TrimPrefix(strings.TrimPrefix(f.Path, "runners[0]"), "."), Fix: f.Fix, Problem: f.Message}
		if f.ID == "key.unknown" {
			p.Problem = "is not a key GitLab Runner knows (it would ignore it)"
		}
		out = append(out, p)
	}
	return out
}
