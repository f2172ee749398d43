package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The release packages ship these scripts (goreleaser.yaml runs
// `runnerup completion SHELL`), so they must at least parse.
func TestCompletionBashParses(t *testing.T) {
	r := runCLI(t, t.TempDir(), nil, "completion", "bash")
	stdout, stderr, code := r.stdout, r.stderr, r.code
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "runnerup") || !strings.Contains(stdout, "complete ") {
		t.Fatalf("not a bash completion script for runnerup:\n%s", stdout)
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not on PATH")
	}
	script := filepath.Join(t.TempDir(), "runnerup.bash")
	if err := os.WriteFile(script, []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bash, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n rejects the completion script: %v\n%s", err, out)
	}
	// Sourcing it defines the completion function and registers it.
	out, err := exec.Command(bash, "-c", `source "$1" && complete -p runnerup`, "bash", script).CombinedOutput()
	if err != nil {
		t.Fatalf("sourcing the completion script: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "runnerup") {
		t.Errorf("complete -p runnerup printed %q", out)
	}
}

func TestCompletionOtherShells(t *testing.T) {
	for _, shell := range []string{"zsh", "fish", "powershell"} {
		t.Run(shell, func(t *testing.T) {
			r := runCLI(t, t.TempDir(), nil, "completion", shell)
			stdout, stderr, code := r.stdout, r.stderr, r.code
			if code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			if strings.TrimSpace(stdout) == "" {
				t.Fatal("empty completion script")
			}
			if !strings.Contains(stdout, "runnerup") {
				t.Errorf("%s completion script does not mention runnerup:\n%.500s", shell, stdout)
			}
			if stderr != "" {
				t.Errorf("stderr not empty: %q", stderr)
			}
		})
	}
}
