package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
	"github.com/runnerup/runnerup/internal/testenv"
)

// tmuxSession drives the real binary in a real terminal.
type tmuxSession struct {
	t    *testing.T
	name string
}

func (s *tmuxSession) screen() string {
	out, err := exec.Command("tmux", "capture-pane", "-p", "-t", s.name).Output()
	if err != nil {
		s.t.Fatalf("tmux capture-pane: %v", err)
	}
	return string(out)
}

// expect waits until the screen shows text.
func (s *tmuxSession) expect(text string) {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(s.screen(), text) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("screen never showed %q; it shows:\n%s", text, s.screen())
}

// send types keys: literal text, or tmux key names when prefixed with "key:".
func (s *tmuxSession) send(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		args := []string{"send-keys", "-t", s.name}
		if name, ok := strings.CutPrefix(k, "key:"); ok {
			args = append(args, name)
		} else {
			args = append(args, "-l", k)
		}
		if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
			s.t.Fatalf("tmux send-keys %q: %v %s", k, err, out)
		}
		time.Sleep(60 * time.Millisecond)
	}
}

// TestWizardInTmux completes the docker + service + basic-auth flow in the
// real binary in tmux (80×24) against the fake GitLab, a real dockerd and a
// real auth registry; the written config.json lets `docker pull` succeed,
// and `runnerup apply` of the saved answers gives byte-identical files.
func TestWizardInTmux(t *testing.T) {
	testenv.Need(t, true, "tmux")
	home := testenv.Isolate(t)
	d := testenv.StartDockerd(t, testenv.DockerdOptions{})
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{Auth: true, Password: "tmux-reg-pass-Q7"})
	image := reg.PushImage(t, d, "ci/app", "1")
	service := reg.PushImage(t, d, "ci/db", "16")
	gl := fakegitlab.New(t)
	const token = "glrt-TMUXTMUXTMUXTMUXTM42"
	gl.AddRunner(token, 77)

	dir := t.TempDir()
	configPath := filepath.Join(dir, "etc", "config.toml")
	dockerDir := filepath.Join(home, ".docker")
	answersPath := filepath.Join(dir, "answers.toml")
	bin := runnerupBinary(t)
	name := fmt.Sprintf("runnerup-e2e-%d", os.Getpid())
	script := filepath.Join(dir, "run.sh")
	writeFile(t, script, fmt.Sprintf("#!/bin/sh\nexport HOME=%s DOCKER_HOST=%s TERM=xterm-256color NO_COLOR=1\n%s --config %s --docker-config %s --timeout 3s\necho \"EXIT=$?\"\nsleep 600\n",
		home, d.Host, bin, configPath, dockerDir), 0o755)
	if out, err := exec.Command("tmux", "new-session", "-d", "-s", name, "-x", "80", "-y", "30", "-c", dir, script).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", name).Run() })
	s := &tmuxSession{t: t, name: name}

	s.expect("GitLab URL")
	s.send("key:C-u", gl.URL, "key:Enter")
	s.expect("Runner token")
	s.send(token, "key:Enter")
	s.expect("Runner name")
	s.send("key:C-u", "e2e-runner", "key:Enter")
	s.expect("TLS CA file")
	s.send("key:Enter")
	s.expect("docker — jobs run in Docker")
	s.send("key:Enter")
	s.expect("Default image")
	s.send(image, "key:Enter")
	s.expect("Privileged containers")
	s.send("key:Enter") // off
	s.expect("Volumes")
	s.send("key:Enter") // /cache
	s.expect("Pull policy")
	s.send("key:Enter") // default
	s.expect("Concurrent jobs")
	s.send("key:Enter")
	s.expect("Add a service")
	s.send("a")
	s.expect("Service image")
	s.send(service, "key:Enter")
	s.expect("Alias")
	s.send("db", "key:Enter")
	s.expect("More options?")
	s.send("key:Enter")
	s.expect("Continue →")
	s.send("n")
	s.expect("Registry 1 of 1: " + reg.Host)
	s.send("key:Down", "key:Enter") // basic
	s.expect("Username")
	s.send(reg.Username, "key:Enter")
	s.expect("Password or token")
	s.send(reg.Password, "key:Enter")
	s.expect("Where the credentials go")
	s.send("key:Enter") // docker-config
	s.expect("Review")
	s.expect("credentials accepted")
	t.Logf("review step:\n%s", s.screen())
	// The host checks come last and may still run: the review then asks
	// "Write anyway?"; say no and press w again once they are done.
	s.send("w")
	for deadline := time.Now().Add(60 * time.Second); ; {
		screen := s.screen()
		if strings.Contains(screen, "Save the answers file?") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("screen never showed %q; it shows:\n%s", "Save the answers file?", screen)
		}
		if strings.Contains(screen, "Write anyway?") {
			s.send("n")
			time.Sleep(300 * time.Millisecond)
			s.send("w")
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.send("key:Enter") // Yes
	s.expect("Answers file")
	s.send("key:C-u", answersPath, "key:Enter")
	s.expect("Save secrets in clear?")
	s.send("key:Enter") // No
	s.expect("Next steps")
	s.send("key:Enter")
	s.expect("EXIT=")
	final := s.screen()
	t.Logf("final screen:\n%s", final)
	if !strings.Contains(final, "EXIT=0") {
		t.Fatalf("the wizard did not exit 0")
	}
	for _, secret := range []string{token, reg.Password} {
		if strings.Contains(final, secret) {
			t.Errorf("the terminal showed a secret")
		}
	}

	// The config.json the wizard wrote lets the real docker CLI pull both images.
	for _, ref := range []string{image, service} {
		if _, stderr, err := d.Docker(t, dockerDir, "pull", ref); err != nil {
			t.Fatalf("docker pull %s with the wizard's config.json: %v\n%s", ref, err, stderr)
		}
	}
	wizardTOML, err := os.ReadFile(configPath)
	if err != nil {
		t.Fatal(err)
	}
	testenv.CheckRunnerConfig(t, wizardTOML)
	saved, err := os.ReadFile(answersPath)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(answersPath); st.Mode().Perm() != 0o600 {
		t.Errorf("answers file mode %04o", st.Mode().Perm())
	}
	for _, secret := range []string{token, reg.Password} {
		if strings.Contains(string(saved), secret) {
			t.Errorf("saved answers hold a secret in clear:\n%s", saved)
		}
	}

	// Headless replay of the saved answers: onto the wizard's files it is a
	// no-op; into a fresh directory it writes the same bytes (but for the
	// time the token was obtained).
	replayEnv := append(os.Environ(), "RUNNER_TOKEN="+token, "DOCKER_HOST="+d.Host, "HOME="+home)
	for _, line := range strings.Split(string(saved), "\n") {
		if name, ok := strings.CutPrefix(line, "# set first: "); ok {
			for _, n := range strings.Split(name, ", ") {
				if strings.HasPrefix(n, "REGISTRY_PASSWORD") {
					replayEnv = append(replayEnv, n+"="+reg.Password)
				}
			}
		}
	}
	apply := func(args ...string) string {
		cmd := exec.Command(bin, append([]string{"apply", "--answers", answersPath}, args...)...)
		cmd.Env = replayEnv
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("runnerup apply %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := apply("--config", configPath, "--docker-config", dockerDir); !strings.Contains(out, "no changes") {
		t.Errorf("replaying the saved answers onto the wizard's files changed them:\n%s", out)
	}
	fresh := t.TempDir()
	apply("--config", filepath.Join(fresh, "config.toml"), "--docker-config", filepath.Join(fresh, "docker"))
	headlessTOML, _ := os.ReadFile(filepath.Join(fresh, "config.toml"))
	if maskObtained(headlessTOML) != maskObtained(wizardTOML) {
		t.Errorf("wizard and headless apply differ:\n%s", Diff2(wizardTOML, headlessTOML))
	}
	wizardJSON, _ := os.ReadFile(filepath.Join(dockerDir, "config.json"))
	headlessJSON, _ := os.ReadFile(filepath.Join(fresh, "docker", "config.json"))
	if string(wizardJSON) != string(headlessJSON) {
		t.Errorf("config.json differs between wizard and apply")
	}
}

func maskObtained(b []byte) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "token_obtained_at") {
			l = "  token_obtained_at = <time>"
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func Diff2(a, b []byte) string { return "--- wizard\n" + string(a) + "--- apply\n" + string(b) }
