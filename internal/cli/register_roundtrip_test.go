package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/systemid"
	"github.com/runnerup/runnerup/internal/testenv"
)

const roundTripAnswers = `version = 1
[gitlab]
url = "GITLAB_URL"
token = "env:RUNNER_TOKEN"
name = "round trip"
[runner]
executor = "docker"
limit = 2
environment = ["GIT_DEPTH=10", "A=b c"]
[docker]
image = "alpine:3.20"
privileged = true
volumes = ["/cache", "/srv/data:/data:ro"]
pull_policy = ["always", "if-not-present"]
[[docker.services]]
name = "postgres:16"
alias = "db"
`

// apply --print-register-command prints the gitlab-runner register
// commands of some answers; run by a shell, their arguments given to
// runnerup register write the same config.toml bytes as apply writes.
func TestRegisterRoundTrip(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not on PATH")
	}
	s := newSetup(t, "")
	writeFile(t, s.answers, strings.ReplaceAll(roundTripAnswers, "GITLAB_URL", s.gitlab.URL), 0o600)
	byApply, byRegister := filepath.Join(s.dir, "a", "config.toml"), filepath.Join(s.dir, "b", "config.toml")
	for _, p := range []string{byApply, byRegister} {
		writeFile(t, p, otherRunners, 0o600)
		writeFile(t, filepath.Join(filepath.Dir(p), systemid.FileName), "s_0123456789ab", 0o600)
	}

	r := runCLI(t, filepath.Join(s.dir, "home"), s.env, "apply", "--answers", s.answers, "--config", byApply, "--skip-probes")
	if r.code != 0 {
		t.Fatalf("apply (%d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	script := runCLI(t, filepath.Join(s.dir, "home"), s.env, "apply", "--answers", s.answers, "--print-register-command")
	if script.code != 0 {
		t.Fatalf("--print-register-command (%d):\n%s%s", script.code, script.stdout, script.stderr)
	}

	// A shell runs the printed script with a gitlab-runner that records
	// its arguments (NUL-separated), in the directory the template file
	// is written to.
	work := filepath.Join(s.dir, "b")
	bin := t.TempDir()
	fake := "#!/bin/sh\n[ \"$(basename \"$0\")\" = gitlab-runner ] && printf '%s\\0' \"$@\" >> " + filepath.Join(bin, "argv") + "\nexit 0\n"
	for _, name := range []string{"gitlab-runner", "docker"} {
		writeFile(t, filepath.Join(bin, name), fake, 0o755)
	}
	cmd := exec.Command(bash, "-c", script.stdout)
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "RUNNER_TOKEN=" + testToken}
	cmd.Dir = work
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("running the printed script: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(bin, "argv"))
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(strings.TrimSuffix(string(raw), "\x00"), "\x00")
	if len(args) < 2 || args[0] != "register" {
		t.Fatalf("gitlab-runner got %q", args)
	}
	for i := range args {
		// The template file is relative to where the script ran.
		if i > 0 && args[i-1] == "--template-config" && !filepath.IsAbs(args[i]) {
			args[i] = filepath.Join(work, args[i])
		}
	}
	t.Logf("gitlab-runner %q", args)
	reg := runCLI(t, filepath.Join(s.dir, "home"), env{}, append(args, "--config", byRegister, "--skip-probes")...)
	if reg.code != 0 {
		t.Fatalf("runnerup register %q (%d):\n%s%s", args, reg.code, reg.stdout, reg.stderr)
	}
	a, _ := os.ReadFile(byApply)
	b, _ := os.ReadFile(byRegister)
	if !bytes.Equal(a, b) {
		t.Errorf("register wrote other bytes than apply:\n--- apply\n%s\n--- register %q\n%s", a, args, b)
	}
	testenv.CheckRunnerConfig(t, b)
}
