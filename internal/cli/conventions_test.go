package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/runnerup/runnerup/internal/testenv"
	"github.com/runnerup/runnerup/probe"
)

// Conventions users of gh, glab, docker and gitlab-runner expect.

func TestVersionFlag(t *testing.T) {
	home := testenv.Isolate(t)
	flag := runCLI(t, home, nil, "--version")
	cmd := runCLI(t, home, nil, "version")
	if flag.code != 0 || cmd.code != 0 {
		t.Fatalf("--version exit %d (%s), version exit %d", flag.code, flag.stderr, cmd.code)
	}
	if flag.stdout != cmd.stdout || !strings.HasPrefix(flag.stdout, "runnerup ") {
		t.Errorf("--version printed %q, version printed %q", flag.stdout, cmd.stdout)
	}
}

// TestVersionFromBuildInfo: a binary built without -ldflags (go install,
// go build) names the module version Go stamped into it, not "dev".
func TestVersionFromBuildInfo(t *testing.T) {
	bin := runnerupBinary(t)
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Skipf("go version -m: %v", err)
	}
	var modVersion string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "mod" && f[1] == "github.com/runnerup/runnerup" {
			modVersion = f[2]
		}
	}
	if modVersion == "" {
		t.Fatalf("no mod line in go version -m:\n%s", out)
	}
	got, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("runnerup --version: %v", err)
	}
	want := "runnerup " + modVersion + " "
	if modVersion == "(devel)" {
		want = "runnerup (devel) "
	}
	if !strings.HasPrefix(string(got), want) {
		t.Errorf("runnerup --version = %q, want it to start with %q", got, want)
	}
}

// TestConfigShortFlag: -c is --config wherever --config exists, as in
// gitlab-runner.
func TestConfigShortFlag(t *testing.T) {
	d := &Deps{IO: &IOStreams{Out: &strings.Builder{}, ErrOut: &strings.Builder{}}}
	root := NewRootCmd(d)
	seen := 0
	var walk func(cmds []*cobra.Command)
	walk = func(cmds []*cobra.Command) {
		for _, c := range cmds {
			if f := c.Flags().Lookup("config"); f != nil {
				seen++
				if f.Shorthand != "c" {
					t.Errorf("%s --config has no -c", c.CommandPath())
				}
			}
			walk(c.Commands())
		}
	}
	walk([]*cobra.Command{root})
	if seen < 5 {
		t.Errorf("only %d commands with --config", seen)
	}

	home := testenv.Isolate(t)
	cfg := filepath.Join(home, "short.toml")
	writeFile(t, cfg, "concurrent = 1\n", 0o600)
	r := runCLI(t, home, nil, "check", "--lint-only", "-c", cfg, "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"config": "`+cfg+`"`) {
		t.Errorf("check -c: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}

// TestConfigFileEnv: CONFIG_FILE names config.toml when --config is not
// given, as gitlab-runner's -c flag reads it; --config still wins.
func TestConfigFileEnv(t *testing.T) {
	home := testenv.Isolate(t)
	fromEnv := filepath.Join(home, "from-env.toml")
	writeFile(t, fromEnv, "concurrent = 1\n", 0o600)
	t.Setenv("CONFIG_FILE", fromEnv)
	r := runCLI(t, home, nil, "check", "--lint-only", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"config": "`+fromEnv+`"`) {
		t.Errorf("check with CONFIG_FILE: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	flag := filepath.Join(home, "flag.toml")
	writeFile(t, flag, "concurrent = 2\n", 0o600)
	r = runCLI(t, home, nil, "check", "--lint-only", "--config", flag, "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"config": "`+flag+`"`) {
		t.Errorf("--config beside CONFIG_FILE: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	// A CONFIG_FILE that does not exist is named in the error.
	t.Setenv("CONFIG_FILE", filepath.Join(home, "missing.toml"))
	r = runCLI(t, home, nil, "check", "--lint-only")
	if r.code != ExitInput || !strings.Contains(r.stderr, "missing.toml") || !strings.Contains(r.stderr, "CONFIG_FILE") {
		t.Errorf("missing CONFIG_FILE: exit %d\nstderr: %s", r.code, r.stderr)
	}
}

// TestColorEnv: NO_COLOR counts only when non-empty (no-color.org);
// CLICOLOR_FORCE turns colour on where there is no terminal
// (bixense.com/clicolors); NO_COLOR wins over it. Test output is never a
// terminal.
func TestColorEnv(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		color bool
	}{
		{"not a terminal", nil, false},
		{"CLICOLOR_FORCE", map[string]string{"CLICOLOR_FORCE": "1"}, true},
		{"CLICOLOR_FORCE=0", map[string]string{"CLICOLOR_FORCE": "0"}, false},
		{"empty NO_COLOR does not count", map[string]string{"NO_COLOR": "", "CLICOLOR_FORCE": "1"}, true},
		{"NO_COLOR wins", map[string]string{"NO_COLOR": "1", "CLICOLOR_FORCE": "1"}, false},
		{"NO_COLOR any value", map[string]string{"NO_COLOR": "no", "CLICOLOR_FORCE": "1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"NO_COLOR", "CLICOLOR_FORCE", "TERM"} {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if got := System().ColorEnabled(); got != tt.color {
				t.Errorf("ColorEnabled() = %v, want %v", got, tt.color)
			}
		})
	}
}

// TestDockerConfigFlagTakesDirectory: --docker-config is the directory
// holding config.json; the file's own path is refused with exit 2 before
// anything is read or written.
func TestDockerConfigFlagTakesDirectory(t *testing.T) {
	home := testenv.Isolate(t)
	file := filepath.Join(home, "plain-file")
	writeFile(t, file, "{}", 0o600)
	answers := filepath.Join(home, "a.toml")
	writeFile(t, answers, strings.ReplaceAll(baseAnswers, "GITLAB_URL", "https://gitlab.example.com"), 0o600)
	for _, args := range [][]string{
		{"apply", "--answers", answers, "--docker-config", filepath.Join(home, ".docker", "config.json")},
		{"apply", "--answers", answers, "--docker-config", file},
		{"probe", "--image", "alpine:3.20", "--docker-config", filepath.Join(home, ".docker", "config.json")},
		{"diagnose", "alpine:3.20", "--docker-config", "/root/.docker/config.json"},
		{"wizard", "--accessible", "--docker-config", file},
		{"register", "--non-interactive", "--url", "https://gitlab.example.com", "--token", testToken,
			"--executor", "shell", "--docker-config", filepath.Join(home, ".docker", "config.json")},
	} {
		before := snapshot(t, home)
		r := runCLI(t, home, env{"RUNNER_TOKEN": testToken}, args...)
		if r.code != ExitInput || !strings.Contains(r.stderr, "--docker-config takes the directory that holds config.json") {
			t.Errorf("%v: exit %d, stderr:\n%s", args, r.code, r.stderr)
		}
		assertSameSnapshot(t, before, snapshot(t, home))
	}
}

// TestProbeImageWarnsAboutDockerConfig: probe --image reads
// ~/.docker/config.json as the runner does; a DOCKER_CONFIG elsewhere
// draws the same warning apply gives instead of being dropped.
func TestProbeImageWarnsAboutDockerConfig(t *testing.T) {
	home := testenv.Isolate(t)
	other := filepath.Join(home, "elsewhere")
	t.Setenv("DOCKER_CONFIG", other)
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(home, "no-daemon.sock"))
	r := runCLI(t, home, nil, "probe", "--image", "alpine:3.20", "--timeout", "2s")
	if !strings.Contains(r.stderr, "warning:") || !strings.Contains(r.stderr, "DOCKER_CONFIG is "+other) {
		t.Errorf("exit %d, no DOCKER_CONFIG warning on stderr:\n%s", r.code, r.stderr)
	}
}

// TestWaitContactWithSpace: --wait-contact DURATION works like
// --wait-contact=DURATION; alone it still means 60 s.
func TestWaitContactWithSpace(t *testing.T) {
	t.Setenv("GITLAB_TOKEN", "glpat-test-token-0123456789")
	tests := []struct {
		args    string
		want    time.Duration
		wantErr string
	}{
		{args: "apply --answers a.toml --wait-contact 30s", want: 30 * time.Second},
		{args: "apply --wait-contact 2m --answers a.toml", want: 2 * time.Minute},
		{args: "apply --answers a.toml --wait-contact", want: 60 * time.Second},
		{args: "apply --wait-contact --answers a.toml", want: 60 * time.Second},
		{args: "apply --answers a.toml --wait-contact=45s", want: 45 * time.Second},
		{args: "apply --answers a.toml --wait-contact 30s extra", wantErr: `unknown command "extra"`},
		{args: "apply --answers a.toml --wait-contact=45s 30s", wantErr: `unknown command "30s"`},
		{args: "apply --answers a.toml 30s", wantErr: `unknown command "30s"`},
		// A number without a unit: say which unit, not "unknown command".
		{args: "apply --answers a.toml --wait-contact 30", wantErr: `--wait-contact 30 has no unit: write --wait-contact 30s`},
		{args: "apply --answers a.toml --wait-contact=30", wantErr: `--wait-contact 30 has no unit: write --wait-contact 30s`},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			got, err := parseApplyFlags(t, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || ExitCode(err) != ExitInput {
					t.Fatalf("err = %v, want %q (exit 2)", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.WaitContact != tt.want {
				t.Errorf("WaitContact = %v, want %v", got.WaitContact, tt.want)
			}
		})
	}
}

func TestBuildVersion(t *testing.T) {
	info := &debug.BuildInfo{Main: debug.Module{Path: "github.com/runnerup/runnerup", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-11-23T12:00:00Z"}}}
	if v, c, d := buildVersion(info, true); v != "v1.2.3" || c != "0123456789ab" || d != "2026-11-23T12:00:00Z" {
		t.Errorf("buildVersion = %q %q %q", v, c, d)
	}
	if v, _, _ := buildVersion(nil, false); v != Version {
		t.Errorf("without build info: %q", v)
	}
	old := Version
	Version = "1.0.0"
	defer func() { Version = old }()
	if v, c, _ := buildVersion(info, true); v != "1.0.0" || c != "0123456789ab" {
		t.Errorf("ldflags version lost: %q %q", v, c)
	}
}

// TestProbeImageFollowsDockerContext: probe --image checks this user's
// docker as `docker pull` reaches it, so the docker CLI's current context
// (made here with the real docker CLI) counts: config.json's
// currentContext, DOCKER_CONTEXT, and DOCKER_HOST over both.
func TestProbeImageFollowsDockerContext(t *testing.T) {
	testenv.Need(t, true, "dockerd", "docker")
	home := testenv.Isolate(t)
	d := testenv.StartDockerd(t, testenv.DockerdOptions{})
	cfg := filepath.Join(home, ".docker")
	for _, args := range [][]string{
		{"context", "create", "runnerup-test", "--docker", "host=" + d.Host},
		{"context", "use", "runnerup-test"},
	} {
		if _, stderr, err := d.Docker(t, cfg, args...); err != nil {
			t.Fatalf("docker %v: %v %s", args, err, stderr)
		}
	}
	reachable := func(t *testing.T) probe.Result {
		t.Helper()
		r := runCLI(t, home, nil, "probe", "--image", "127.0.0.1:1/none:1", "-o", "json", "--timeout", "3s")
		var out struct{ Checks []probe.Result }
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("probe -o json: %v\nstdout: %s\nstderr: %s", err, r.stdout, r.stderr)
		}
		for _, c := range out.Checks {
			if c.ID == "daemon.reachable" {
				return c
			}
		}
		t.Fatalf("no daemon.reachable in %s", r.stdout)
		return probe.Result{}
	}

	t.Run("currentContext", func(t *testing.T) {
		c := reachable(t)
		if c.Status != probe.Pass || !strings.Contains(c.Detail, d.Host) || !strings.Contains(c.Detail, `docker context "runnerup-test"`) {
			t.Errorf("daemon.reachable = %s %q", c.Status, c.Detail)
		}
	})
	t.Run("DOCKER_HOST wins", func(t *testing.T) {
		none := "unix://" + filepath.Join(home, "none.sock")
		t.Setenv("DOCKER_HOST", none)
		c := reachable(t)
		if c.Status != probe.Fail || !strings.Contains(c.Detail, none) {
			t.Errorf("daemon.reachable = %s %q", c.Status, c.Detail)
		}
	})
	t.Run("DOCKER_CONTEXT", func(t *testing.T) {
		if _, stderr, err := d.Docker(t, cfg, "context", "use", "default"); err != nil {
			t.Fatalf("docker context use default: %v %s", err, stderr)
		}
		t.Setenv("DOCKER_CONTEXT", "runnerup-test")
		c := reachable(t)
		if c.Status != probe.Pass || !strings.Contains(c.Detail, `docker context "runnerup-test"`) {
			t.Errorf("daemon.reachable = %s %q", c.Status, c.Detail)
		}
	})
	t.Run("unknown DOCKER_CONTEXT", func(t *testing.T) {
		t.Setenv("DOCKER_CONTEXT", "no-such-context")
		c := reachable(t)
		if c.Status != probe.Fail || !strings.Contains(c.Detail, `docker context "no-such-context"`) || !strings.Contains(c.Detail, "DOCKER_CONTEXT") {
			t.Errorf("daemon.reachable = %s %q", c.Status, c.Detail)
		}
		// The context is the problem: name the fix for it, not DOCKER_HOST,
		// and no path inside the CLI's context store.
		if !strings.Contains(c.Hint, "docker context ls") || strings.Contains(c.Hint, "DOCKER_HOST") || strings.Contains(c.Detail, "meta.json") {
			t.Errorf("daemon.reachable hint %q, detail %q", c.Hint, c.Detail)
		}
	})

	// ssh:// endpoints go through the docker CLI's SSH connection helper
	// (ssh HOST docker system dial-stdio). The ssh here is a stand-in that
	// records its arguments and runs the real `docker system dial-stdio`
	// against the test daemon, as the remote end would.
	bin := t.TempDir()
	argsFile := filepath.Join(bin, "ssh-args")
	dockerBin, err := testenv.Lookup("docker")
	if err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + argsFile + "\nunset DOCKER_HOST DOCKER_CONTEXT\nexec " + dockerBin +
		" --config " + t.TempDir() + " --host " + d.Host + " system dial-stdio\n"
	writeFile(t, filepath.Join(bin, "ssh"), script, 0o755)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	const sshHost = "ssh://ci@build.example.invalid"
	if _, stderr, err := d.Docker(t, cfg, "context", "create", "runnerup-ssh", "--docker", "host="+sshHost); err != nil {
		t.Fatalf("docker context create: %v %s", err, stderr)
	}
	for _, tc := range []struct{ name, env, value string }{
		{"ssh context", "DOCKER_CONTEXT", "runnerup-ssh"},
		{"DOCKER_HOST=ssh://", "DOCKER_HOST", sshHost},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_ = os.Remove(argsFile)
			t.Setenv(tc.env, tc.value)
			c := reachable(t)
			if c.Status != probe.Pass || !strings.Contains(c.Detail, sshHost) {
				t.Errorf("daemon.reachable = %s %q", c.Status, c.Detail)
			}
			if b, err := os.ReadFile(argsFile); err != nil || !strings.Contains(string(b), "build.example.invalid") || !strings.Contains(string(b), "dial-stdio") {
				t.Errorf("ssh was not run for %s (%v): %q", sshHost, err, b)
			}
		})
	}
}
