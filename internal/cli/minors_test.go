package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/testenv"
	"github.com/runnerup/runnerup/wizard"
)

// TestShortVersionFlag: -v prints the version, as gitlab-runner -v,
// docker -v and glab -v do (runnerup has no verbose flag to clash with).
func TestShortVersionFlag(t *testing.T) {
	home := testenv.Isolate(t)
	short, long := runCLI(t, home, nil, "-v"), runCLI(t, home, nil, "--version")
	if short.code != 0 || short.stdout != long.stdout || !strings.HasPrefix(short.stdout, "runnerup ") {
		t.Errorf("-v: exit %d, stdout %q, stderr %q; --version printed %q", short.code, short.stdout, short.stderr, long.stdout)
	}
}

// TestUnknownTopicsAreBadInput: a shell completion cannot make and a help
// topic that does not exist are usage errors (exit 2) naming what was
// given, not a help page with exit 0.
func TestUnknownTopicsAreBadInput(t *testing.T) {
	home := testenv.Isolate(t)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"completion", "nosh"}, []string{`"nosh"`, "bash, zsh, fish or powershell"}},
		{[]string{"help", "nosuch"}, []string{`"nosuch"`, "runnerup --help"}},
	}
	for _, tt := range tests {
		r := runCLI(t, home, nil, tt.args...)
		if r.code != ExitInput {
			t.Errorf("%v: exit %d, want %d; stderr %q", tt.args, r.code, ExitInput, r.stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tt.args, w, r.stderr)
			}
		}
	}
	// What works keeps working.
	for _, args := range [][]string{{"completion", "bash"}, {"help", "apply"}, {"completion"}, {"help"}} {
		if r := runCLI(t, home, nil, args...); r.code != 0 || r.stdout == "" {
			t.Errorf("%v: exit %d, stdout %d bytes, stderr %q", args, r.code, len(r.stdout), r.stderr)
		}
	}
}

// TestUsageHintNamesSubcommand: a usage error points at the help of the
// command that was run.
func TestUsageHintNamesSubcommand(t *testing.T) {
	home := testenv.Isolate(t)
	r := runCLI(t, home, nil, "apply", "--no-such-flag")
	if r.code != ExitInput || !strings.Contains(r.stderr, "run 'runnerup apply --help' for usage") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	r = runCLI(t, home, nil, "--no-such-flag")
	if r.code != ExitInput || !strings.Contains(r.stderr, "run 'runnerup --help' for usage") {
		t.Errorf("root: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestProbeImageJSONCarriesDockerConfigWarning: with -o json the
// DOCKER_CONFIG warning is part of the document (stdout is what a script
// reads), worded for probe: what it reads, not what apply writes.
func TestProbeImageJSONCarriesDockerConfigWarning(t *testing.T) {
	home := testenv.Isolate(t)
	other := filepath.Join(home, "elsewhere")
	t.Setenv("DOCKER_CONFIG", other)
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(home, "no-daemon.sock"))
	r := runCLI(t, home, nil, "probe", "--image", "127.0.0.1:1/none:1", "-o", "json", "--timeout", "2s")
	var out struct {
		Warnings []wizard.FieldError `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("probe -o json: %v\n%s", err, r.stdout)
	}
	if len(out.Warnings) != 1 {
		t.Fatalf("warnings = %+v; stderr %q", out.Warnings, r.stderr)
	}
	w := out.Warnings[0]
	if w.Field != "DOCKER_CONFIG" || !strings.Contains(w.Problem, "DOCKER_CONFIG is "+other) ||
		!strings.Contains(w.Fix, "probe reads "+filepath.Join(home, ".docker", "config.json")) || strings.Contains(w.Fix, "writes") {
		t.Errorf("warning = %+v", w)
	}
}
