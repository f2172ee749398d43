package wizard

import (
	"fmt"
	"slices"
	"strings"

	"github.com/runnerup/runnerup/internal/lint"
	"github.com/runnerup/runnerup/render"
)

// renderWarnings are the warnings about what apply is about to write for
// the answers' runner: an explicit `dind = false` that leaves the DinD
// wiring on disk, and every error or warning `runnerup check` would report
// for the rendered runner that it did not report before (privileged =
// false under a docker:*-dind service, a DinD runner without its
// certificates volume, ...). The answers asked for the change, so apply
// writes it; the warning carries check's id so the two read alike.
func renderWarnings(a *Answers, existing *render.ExistingRunner, oldTOML, newTOML []byte) []FieldError {
	var out []FieldError
	if w, ok := dindFalseWarning(a, existing); ok {
		out = append(out, w)
	}
	return append(out, newLintFindings(a.GitLab.Name, oldTOML, newTOML)...)
}

// dindFalseWarning: `dind = false` adds and removes nothing (README), so on
// a runner wired for DinD it must say what stays, unless other answer keys
// take it away.
func dindFalseWarning(a *Answers, existing *render.ExistingRunner) (FieldError, bool) {
	if a.Docker.DinD == nil || *a.Docker.DinD || existing == nil {
		return FieldError{}, false
	}
	var stays, fixes []string
	if d := existing.Docker; d != nil {
		if d.Privileged && a.Docker.Privileged == nil {
			stays = append(stays, "privileged = true")
			fixes = append(fixes, "set privileged = false")
		}
		if slices.Contains(d.Volumes, dindCertsVolume) && a.Docker.Volumes == nil {
			stays = append(stays, fmt.Sprintf("the %q volume", dindCertsVolume))
			fixes = append(fixes, fmt.Sprintf("give volumes without %q", dindCertsVolume))
		}
	}
	certDir := func(e string) bool { return strings.HasPrefix(e, "DOCKER_TLS_CERTDIR=") }
	if slices.ContainsFunc(existing.Environment, certDir) && !slices.ContainsFunc(a.Runner.Environment, certDir) {
		stays = append(stays, "DOCKER_TLS_CERTDIR in environment")
		// environment is merged by KEY: the answers can change the value,
		// not remove the entry.
		fixes = append(fixes, "delete DOCKER_TLS_CERTDIR from the runner's environment in config.toml")
	}
	if len(stays) == 0 {
		return FieldError{}, false
	}
	return FieldError{
		Field:   "docker.dind",
		Problem: fmt.Sprintf("dind = false does not remove the DinD wiring runner %q already has: %s stay", a.GitLab.Name, strings.Join(stays, ", ")),
		Fix:     "to remove it, " + strings.Join(fixes, "; ") + " (or leave dind out)",
		Warning: true,
	}, true
}

// newLintFindings are the errors and warnings internal/lint reports for
// runner name in newTOML but not in oldTOML (same id and message), as
// warnings named by their lint id.
func newLintFindings(name string, oldTOML, newTOML []byte) []FieldError {
	type key struct{ id, msg string }
	seen := map[key]bool{}
	for _, f := range lint.Lint(oldTOML, lint.Options{}) {
		seen[key{f.ID, f.Message}] = true
	}
	var out []FieldError
	for _, f := range lint.Lint(newTOML, lint.Options{}) {
		if f.Runner != name || f.Severity == lint.Info || seen[key{f.ID, f.Message}] {
			continue
		}
		out = append(out, FieldError{
			Field:   f.ID,
			Problem: fmt.Sprintf("%s (written because the answers ask for it; `runnerup check` reports it as %s)", f.Message, article(string(f.Severity))),
			Fix:     f.Fix,
			Warning: true,
		})
	}
	return out
}

// article is "an error" / "a warning".
func article(noun string) string {
	if strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}
