package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runnerup/runnerup/internal/systemid"
	"github.com/runnerup/runnerup/internal/testenv"
	"github.com/runnerup/runnerup/probe/service"
)

// Issue 9: a runner that exists but is wrong. Each test asserts the
// finding ids in -o json and that nothing is written without consent.

type jsonCheck struct {
	ID, Status, Finding, Detail, Hint string
}

type jsonOut struct {
	OK       bool        `json:"ok"`
	Config   string      `json:"config"`
	Checks   []jsonCheck `json:"checks"`
	Findings []struct {
		ID string `json:"id"`
	} `json:"findings"`
	Pruned []struct {
		Name, URL, Token, Reason string
	} `json:"pruned"`
	Plan struct {
		Prune []struct{ Name, Reason string } `json:"prune"`
	} `json:"plan"`
	NextSteps  []string `json:"next_steps"`
	ConfigTOML struct {
		Path, Backup, Diff string
		Changed            bool
	} `json:"config_toml"`
	SystemIDFile *struct{ Path string } `json:"system_id_file"`
	Runner       struct {
		SystemID string `json:"system_id"`
	}
}

func decodeOut(t *testing.T, r result) jsonOut {
	t.Helper()
	var out jsonOut
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("stdout is not JSON (%v):\n%s\nstderr: %s", err, r.stdout, r.stderr)
	}
	return out
}

func (o jsonOut) check(t *testing.T, id string) jsonCheck {
	t.Helper()
	for _, c := range o.Checks {
		if c.ID == id {
			return c
		}
	}
	ids := make([]string, 0, len(o.Checks))
	for _, c := range o.Checks {
		ids = append(ids, c.ID)
	}
	t.Fatalf("no check %s in %v", id, ids)
	return jsonCheck{}
}

func (o jsonOut) has(id string) bool {
	for _, c := range o.Checks {
		if c.ID == id {
			return true
		}
	}
	return false
}

func expectFinding(t *testing.T, c jsonCheck, status, finding string) {
	t.Helper()
	if c.Status != status || c.Finding != finding {
		t.Fatalf("%s = %s/%q (%s), want %s/%q", c.ID, c.Status, c.Finding, c.Detail, status, finding)
	}
	if (status == "warn" || status == "fail") && c.Hint == "" {
		t.Errorf("%s has no hint", c.ID)
	}
}

func withService(in ...service.Install) func(*Deps) {
	return func(d *Deps) {
		d.DetectService = func(context.Context, string) ([]service.Install, error) { return in, nil }
		d.MachineID = func() (string, error) { return "0123456789abcdef0123456789abcdef", nil }
	}
}

// The service reads /etc/gitlab-runner; a non-root apply would write
// ~/.gitlab-runner. runnerup writes where the service reads, and warns
// when told to write elsewhere.
func TestApplyDefaultsToTheServicesConfig(t *testing.T) {
	s := newSetup(t, "")
	svcConfig := filepath.Join(s.dir, "srv", "gitlab-runner", "config.toml")
	svcDocker := filepath.Join(s.dir, "root", ".docker", "config.json")
	unit := service.Install{Kind: service.Systemd, Name: "gitlab-runner.service", ConfigPath: svcConfig,
		User: "root", Home: filepath.Join(s.dir, "root"), DockerConfigPath: svcDocker,
		State: "active", Running: true, RestartCommand: "sudo systemctl restart gitlab-runner.service"}
	home := filepath.Join(s.dir, "home")

	r := runCLIDeps(t, withService(unit), home, s.env, "apply", "--answers", s.answers, "--skip-probes", "-o", "json")
	if r.code != 0 {
		t.Fatalf("apply: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	out := decodeOut(t, r)
	if out.ConfigTOML.Path != svcConfig {
		t.Fatalf("wrote %s, want the service's %s", out.ConfigTOML.Path, svcConfig)
	}
	if _, err := os.Stat(filepath.Join(home, ".gitlab-runner", "config.toml")); err == nil {
		t.Error("also wrote ~/.gitlab-runner/config.toml")
	}
	expectFinding(t, out.check(t, "service.config-path"), "pass", "")
	expectFinding(t, out.check(t, "service.install"), "pass", "")
	if len(out.NextSteps) != 1 || !strings.Contains(out.NextSteps[0], "reloads config.toml") {
		t.Errorf("next steps %q", out.NextSteps)
	}

	// Told to write elsewhere: it does, with a warning naming the
	// service's file, and the next step says the service will not see it.
	r = runCLIDeps(t, withService(unit), home, s.env, "apply", "--answers", s.answers, "--skip-probes", "-o", "json", "--config", s.config)
	out = decodeOut(t, r)
	c := out.check(t, "service.config-path")
	expectFinding(t, c, "warn", "service.config-path-differs")
	if !strings.Contains(c.Detail, svcConfig) || !strings.Contains(c.Hint, "--config "+svcConfig) {
		t.Errorf("warning does not name the service's file: %+v", c)
	}
	if len(out.NextSteps) != 1 || !strings.Contains(out.NextSteps[0], svcConfig) {
		t.Errorf("next steps %q do not point at the service's file", out.NextSteps)
	}

	// Stopped service: the next step starts it.
	stopped := unit
	stopped.Running, stopped.State = false, "inactive"
	r = runCLIDeps(t, withService(stopped), home, s.env, "apply", "--answers", s.answers, "--skip-probes", "-o", "json", "--config", filepath.Join(s.dir, "third.toml"))
	out = decodeOut(t, r)
	expectFinding(t, out.check(t, "service.install"), "warn", "service.not-running")
}

// Fixture unit files with a drop-in and a fake systemctl on PATH: the real
// detection, end to end through apply.
func TestApplyFindsTheServiceFromUnitFiles(t *testing.T) {
	s := newSetup(t, "")
	units := filepath.Join(s.dir, "units")
	svcConfig := filepath.Join(s.dir, "etc-runner", "config.toml")
	writeFile(t, filepath.Join(units, "gitlab-runner.service"), `[Unit]
Description=GitLab Runner

[Service]
ExecStart=/usr/bin/gitlab-runner "run" "--config" "/etc/gitlab-runner/config.toml" "--working-directory" "/home/gitlab-runner" "--service" "gitlab-runner" "--user" "gitlab-runner"
Restart=always
`, 0o644)
	writeFile(t, filepath.Join(units, "gitlab-runner.service.d", "10-config.conf"), `[Service]
ExecStart=
ExecStart=/usr/bin/gitlab-runner run --config `+svcConfig+` --working-directory /home/gitlab-runner
Environment="HTTPS_PROXY=http://svc:pw@proxy.corp:3128" NO_PROXY=.corp
`, 0o644)
	bin := filepath.Join(s.dir, "bin")
	calls := filepath.Join(s.dir, "systemctl.calls")
	writeFile(t, filepath.Join(bin, "systemctl"), "#!/bin/sh\necho \"$@\" >> "+calls+"\necho 'System has not been booted with systemd as init system (PID 1). Can'\"'\"'t operate.' >&2\nexit 1\n", 0o755)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	detect := func(d *Deps) {
		d.DetectService = func(ctx context.Context, _ string) ([]service.Install, error) {
			return service.Detect(ctx, service.Options{UnitDirs: []string{units}, LookupHome: func(string) (string, error) { return filepath.Join(s.dir, "root"), nil }})
		}
	}
	r := runCLIDeps(t, detect, filepath.Join(s.dir, "home"), s.env, "apply", "--answers", s.answers, "--skip-probes", "-o", "json")
	if r.code != 0 {
		t.Fatalf("apply: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	out := decodeOut(t, r)
	if out.ConfigTOML.Path != svcConfig {
		t.Fatalf("wrote %s, want the drop-in's --config %s", out.ConfigTOML.Path, svcConfig)
	}
	b, _ := os.ReadFile(calls)
	if !strings.Contains(string(b), "show") {
		t.Errorf("systemctl was not asked (calls: %q)", b)
	}
	p := out.check(t, "proxy.paths")
	if !strings.Contains(p.Detail, "proxy.corp:3128") || strings.Contains(p.Detail, "pw@") {
		t.Errorf("proxy side by side should show the service's proxy, redacted: %s", p.Detail)
	}
}

const shellAnswers = `version = 1
[gitlab]
url = "GITLAB_URL"
token = "env:RUNNER_TOKEN"
name = "build-01"
[runner]
executor = "shell"
`

// staleSetup: config.toml with the runner being applied, a live other
// entry, a stale one (deleted in GitLab: 403 on verify) and a duplicate.
func staleSetup(t *testing.T) (*testSetup, string) {
	s := newSetup(t, "")
	writeFile(t, s.answers, strings.ReplaceAll(shellAnswers, "GITLAB_URL", s.gitlab.URL), 0o600)
	s.gitlab.AddRunner("glrt-LIVELIVELIVELIVELIVE1", 7)
	cfg := `concurrent = 2

[[runners]]
  name = "build-01"
  url = "` + s.gitlab.URL + `"
  id = 4242
  token = "` + testToken + `"
  executor = "shell"

[[runners]]
  name = "live"
  url = "` + s.gitlab.URL + `"
  token = "glrt-LIVELIVELIVELIVELIVE1"
  executor = "shell"

# left behind by a deleted runner
[[runners]]
  name = "gone"
  url = "` + s.gitlab.URL + `"
  token = "glrt-GONEGONEGONEGONEGONE9"
  executor = "shell"
`
	writeFile(t, s.config, cfg, 0o600)
	return s, cfg
}

func TestStaleEntries(t *testing.T) {
	s, cfg := staleSetup(t)
	home := filepath.Join(s.dir, "home")

	// probe --config: stale entries fail (exit 3), live ones pass.
	r := runCLI(t, home, s.env, "probe", "--config", s.config, "-o", "json")
	if r.code != ExitCheckFailed {
		t.Fatalf("probe --config: exit %d, want %d\n%s%s", r.code, ExitCheckFailed, r.stdout, r.stderr)
	}
	out := decodeOut(t, r)
	expectFinding(t, out.check(t, "runner.gone.token"), "fail", "runner.stale")
	expectFinding(t, out.check(t, "runner.live.token"), "pass", "")
	assertNoSecrets(t, "probe output", r.stdout+r.stderr, "glrt-GONEGONEGONEGONEGONE9", "glrt-LIVELIVELIVELIVELIVE1", testToken)

	// check is offline unless --online.
	r = runCLI(t, home, s.env, "check", "--config", s.config, "-o", "json")
	if out = decodeOut(t, r); out.has("runner.gone.token") {
		t.Error("offline check contacted GitLab")
	}
	r = runCLI(t, home, s.env, "check", "--config", s.config, "--online", "-o", "json")
	if r.code != ExitCheckFailed {
		t.Fatalf("check --online: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	expectFinding(t, decodeOut(t, r).check(t, "runner.gone.token"), "fail", "runner.stale")

	// apply (live checks on) without --prune-stale removes nothing.
	s.probes = true
	r = s.apply(t, "--config", s.config, "-o", "json")
	if r.code != 0 {
		t.Fatalf("apply: %d %s%s", r.code, r.stdout, r.stderr)
	}
	if got, _ := os.ReadFile(s.config); string(got) != cfg {
		t.Fatalf("apply without --prune-stale changed config.toml:\n%s", got)
	}

	// --prune-stale --dry-run shows the removal and writes nothing.
	r = s.apply(t, "--prune-stale", "--dry-run", "-o", "json")
	if r.code != 0 {
		t.Fatalf("dry run: %d %s%s", r.code, r.stdout, r.stderr)
	}
	out = decodeOut(t, r)
	if len(out.Pruned) != 1 || out.Pruned[0].Name != "gone" || strings.Contains(out.Pruned[0].Token, "GONEGONEGONEGONE") {
		t.Fatalf("pruned = %+v", out.Pruned)
	}
	expectFinding(t, out.check(t, "runner.gone.token"), "warn", "runner.stale")
	if got, _ := os.ReadFile(s.config); string(got) != cfg {
		t.Fatal("--dry-run wrote config.toml")
	}

	// --prune-stale removes exactly that block and keeps a backup.
	r = s.apply(t, "--prune-stale", "-o", "json")
	if r.code != 0 {
		t.Fatalf("prune: %d %s%s", r.code, r.stdout, r.stderr)
	}
	out = decodeOut(t, r)
	got, _ := os.ReadFile(s.config)
	want := strings.Replace(cfg, `[[runners]]
  name = "gone"
  url = "`+s.gitlab.URL+`"
  token = "glrt-GONEGONEGONEGONEGONE9"
  executor = "shell"
`, "", 1)
	if string(got) != want {
		t.Fatalf("after prune:\n%s\nwant:\n%s", got, want)
	}
	if out.ConfigTOML.Backup == "" {
		t.Fatal("no backup reported")
	}
	if b, err := os.ReadFile(out.ConfigTOML.Backup); err != nil || string(b) != cfg {
		t.Fatalf("backup %s does not hold the previous file (%v)", out.ConfigTOML.Backup, err)
	}
	testenv.CheckRunnerConfig(t, got)
}

func TestDuplicateEntriesAreFindings(t *testing.T) {
	s, cfg := staleSetup(t)
	dup := cfg + `
[[runners]]
  name = "copy"
  url = "` + s.gitlab.URL + `"
  token = "glrt-LIVELIVELIVELIVELIVE1"
  executor = "shell"
`
	writeFile(t, s.config, dup, 0o600)
	r := s.apply(t, "-o", "json")
	if r.code != 0 {
		t.Fatalf("apply: %d %s%s", r.code, r.stdout, r.stderr)
	}
	expectFinding(t, decodeOut(t, r).check(t, "config.duplicates"), "warn", "config.duplicate-token")
	if got, _ := os.ReadFile(s.config); string(got) != dup {
		t.Fatal("apply removed a duplicate without being asked")
	}
	// check names the duplicate with its line (the linter's finding).
	r = runCLI(t, filepath.Join(s.dir, "home"), s.env, "check", "--config", s.config, "-o", "json")
	out := decodeOut(t, r)
	found := false
	for _, f := range out.Findings {
		found = found || f.ID == "runner.token.duplicate"
	}
	if !found || out.has("config.duplicates") {
		t.Errorf("check should report duplicates once, as the linter's runner.token.duplicate: %+v", out)
	}
	// A lint error is no reason to skip the host checks.
	if !out.has("proxy.paths") {
		t.Errorf("host checks missing beside lint errors: %+v", out.Checks)
	}
}

func TestRotatedTokenIsKeptAndReported(t *testing.T) {
	s := newSetup(t, "")
	writeFile(t, s.answers, strings.ReplaceAll(shellAnswers, "GITLAB_URL", s.gitlab.URL), 0o600)
	s.gitlab.AddRunner("glrt-ROTATEDROTATEDROTATED", 4242)
	// The answers still carry the token before rotation, which GitLab no
	// longer accepts.
	const oldToken = "glrt-BEFOREROTATION000001"
	s.env["RUNNER_TOKEN"] = oldToken
	cfg := "concurrent = 1\n\n[[runners]]\n  name = \"build-01\"\n  url = \"" + s.gitlab.URL + "\"\n  id = 4242\n  token = \"glrt-ROTATEDROTATEDROTATED\"\n  token_obtained_at = 2026-11-01T00:00:00Z\n  token_expires_at = 2026-11-27T00:00:00Z\n  executor = \"shell\"\n"
	writeFile(t, s.config, cfg, 0o600)
	s.probes = true
	r := s.apply(t, "-o", "json")
	if r.code != 0 {
		t.Fatalf("apply: %d %s%s", r.code, r.stdout, r.stderr)
	}
	out := decodeOut(t, r)
	expectFinding(t, out.check(t, "runner.build-01.token-on-disk"), "warn", "runner.token-rotated")
	// The token on disk is the one verified, and its expiry is shown.
	expectFinding(t, out.check(t, "gitlab.token"), "pass", "")
	expectFinding(t, out.check(t, "runner.build-01.expiry"), "warn", "runner.token-expiring")
	if got, _ := os.ReadFile(s.config); string(got) != cfg {
		t.Fatalf("rotated token overwritten:\n%s", got)
	}
	assertNoSecrets(t, "apply output", r.stdout+r.stderr, "glrt-ROTATEDROTATEDROTATED", oldToken)

	// probe agrees with apply: the answers' old token is not what fails.
	t.Setenv("RUNNER_TOKEN", oldToken) // probe reads the process environment
	r = runCLI(t, filepath.Join(s.dir, "home"), s.env, "probe", "--answers", s.answers, "--config", s.config, "--docker-config", s.docker, "-o", "json")
	if r.code != 0 {
		t.Fatalf("probe: %d %s%s", r.code, r.stdout, r.stderr)
	}
	out = decodeOut(t, r)
	expectFinding(t, out.check(t, "runner.build-01.token-on-disk"), "warn", "runner.token-rotated")
	expectFinding(t, out.check(t, "gitlab.token"), "pass", "")
}

func TestClonedSystemID(t *testing.T) {
	s := newSetup(t, "")
	dir := filepath.Dir(s.config)
	cloned := systemid.FromMachineID("ffffffffffffffffffffffffffffffff") // another host's
	writeFile(t, filepath.Join(dir, systemid.FileName), cloned+"\n", 0o600)
	writeFile(t, s.config, "concurrent = 1\n", 0o600)
	deps := withService() // no service; this host's machine id is fixed

	r := runCLIDeps(t, deps, filepath.Join(s.dir, "home"), s.env, "check", "--config", s.config, "-o", "json")
	if r.code != ExitCheckFailed {
		t.Fatalf("check: exit %d\n%s", r.code, r.stdout)
	}
	c := decodeOut(t, r).check(t, "systemid")
	expectFinding(t, c, "warn", "systemid.cloned")
	if !strings.Contains(c.Hint, "--fresh-system-id") || !strings.Contains(c.Detail, cloned) {
		t.Errorf("finding should show the id and offer the fix: %+v", c)
	}

	// apply reports it and leaves the id alone without consent.
	r = runCLIDeps(t, deps, filepath.Join(s.dir, "home"), s.env, "apply", "--answers", s.answers, "--config", s.config, "--docker-config", s.docker, "--skip-probes", "-o", "json")
	if r.code != 0 {
		t.Fatalf("apply: %d %s%s", r.code, r.stdout, r.stderr)
	}
	expectFinding(t, decodeOut(t, r).check(t, "systemid"), "warn", "systemid.cloned")
	if b, _ := os.ReadFile(filepath.Join(dir, systemid.FileName)); strings.TrimSpace(string(b)) != cloned {
		t.Fatalf("system id changed without --fresh-system-id: %s", b)
	}

	// A dry run with live checks verifies with the current id: no runner
	// manager appears in GitLab for an id that is never written.
	writeFile(t, s.answers, strings.ReplaceAll(shellAnswers, "GITLAB_URL", s.gitlab.URL), 0o600)
	r = runCLIDeps(t, deps, filepath.Join(s.dir, "home"), s.env, "apply", "--answers", s.answers, "--config", s.config, "--docker-config", s.docker, "--fresh-system-id", "--dry-run", "-o", "json")
	if r.code != 0 {
		t.Fatalf("apply --fresh-system-id --dry-run: %d %s%s", r.code, r.stdout, r.stderr)
	}
	for _, m := range s.gitlab.Managers(testToken) {
		if m != cloned {
			t.Errorf("a dry run made GitLab record runner manager %s", m)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, systemid.FileName)); strings.TrimSpace(string(b)) != cloned {
		t.Fatalf("--dry-run wrote the system id: %s", b)
	}

	// --fresh-system-id writes a random r_ id, used from then on.
	r = runCLIDeps(t, deps, filepath.Join(s.dir, "home"), s.env, "apply", "--answers", s.answers, "--config", s.config, "--docker-config", s.docker, "--skip-probes", "--fresh-system-id", "-o", "json")
	if r.code != 0 {
		t.Fatalf("apply --fresh-system-id: %d %s%s", r.code, r.stdout, r.stderr)
	}
	out := decodeOut(t, r)
	b, _ := os.ReadFile(filepath.Join(dir, systemid.FileName))
	id := strings.TrimSpace(string(b))
	if !strings.HasPrefix(id, "r_") || !systemid.Pattern.MatchString(id) || id != out.Runner.SystemID {
		t.Fatalf("fresh id %q (reported %q)", id, out.Runner.SystemID)
	}
	r = runCLIDeps(t, deps, filepath.Join(s.dir, "home"), s.env, "check", "--config", s.config, "-o", "json")
	expectFinding(t, decodeOut(t, r).check(t, "systemid"), "pass", "")

	// --lint-only leaves this host out (a config.toml in a repository).
	writeFile(t, filepath.Join(dir, systemid.FileName), cloned+"\n", 0o600)
	r = runCLIDeps(t, deps, filepath.Join(s.dir, "home"), s.env, "check", "--config", s.config, "--lint-only", "-o", "json")
	if out := decodeOut(t, r); r.code != 0 || len(out.Checks) != 0 {
		t.Fatalf("--lint-only: exit %d, checks %+v", r.code, out.Checks)
	}
}

func TestWaitContact(t *testing.T) {
	s := newSetup(t, "")
	writeFile(t, s.answers, strings.ReplaceAll(shellAnswers, "GITLAB_URL", s.gitlab.URL), 0o600)
	s.gitlab.AddAPIToken("glpat-APIAPIAPIAPIAPI")

	// Without an API token the flag is refused before anything happens.
	t.Setenv("GITLAB_TOKEN", "")
	before := snapshot(t, s.dir)
	r := s.apply(t, "--wait-contact=1s")
	if r.code != ExitInput || !strings.Contains(r.stderr, "GITLAB_TOKEN") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	assertSameSnapshot(t, before, snapshot(t, s.dir))

	t.Setenv("GITLAB_TOKEN", "glpat-APIAPIAPIAPIAPI")
	// Nobody picks the config up: exit 3 after the bound, files written.
	r = s.apply(t, "--wait-contact=300ms", "-o", "json")
	if r.code != ExitCheckFailed {
		t.Fatalf("no contact: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	out := decodeOut(t, r)
	expectFinding(t, out.check(t, "gitlab.contact"), "fail", "gitlab.not-contacted")
	if _, err := os.Stat(s.config); err != nil {
		t.Fatal("config.toml not written before waiting")
	}
	assertNoSecrets(t, "output", r.stdout+r.stderr, "glpat-APIAPIAPIAPIAPI", testToken)

	// The service picks it up: the runner manager with this host's id
	// contacts GitLab after the write. A fresh directory, so the id file
	// (and with it the first contact) appears only with the write.
	s.config = filepath.Join(s.dir, "srv", "config.toml")
	idFile := filepath.Join(filepath.Dir(s.config), systemid.FileName)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(25 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if b, err := os.ReadFile(idFile); err == nil {
				s.gitlab.Contact(testToken, strings.TrimSpace(string(b)))
			}
		}
	}()
	r = s.apply(t, "--wait-contact=5s", "-o", "json")
	close(stop)
	<-done
	if r.code != 0 {
		t.Fatalf("contact: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	expectFinding(t, decodeOut(t, r).check(t, "gitlab.contact"), "pass", "")
}

// A gitlab-runner container on the real test daemon, its config bind
// mounted from the host: check (no --config) lints the file the container
// reads, through the CLI's own detection over DOCKER_HOST.
func TestCheckFindsTheRunnerContainer(t *testing.T) {
	testenv.Isolate(t)
	d := testenv.StartDockerd(t, testenv.DockerdOptions{})
	d.ImportImage(t, "gitlab/gitlab-runner:v18.0.0")
	configDir := t.TempDir()
	writeFile(t, filepath.Join(configDir, "config.toml"), "concurrent = 1\n", 0o600)
	if _, stderr, err := d.Docker(t, "", "create", "--name", "ci-runner", "-v", configDir+":/etc/gitlab-runner",
		"-e", "HTTPS_PROXY=http://proxy.example:3128", "gitlab/gitlab-runner:v18.0.0", "run", "--user=gitlab-runner", "--working-directory=/home/gitlab-runner"); err != nil {
		t.Fatalf("docker create: %v (%s)", err, stderr)
	}
	t.Setenv("DOCKER_HOST", d.Host)
	real := func(dp *Deps) { dp.DetectService = detectService }
	r := runCLIDeps(t, real, t.TempDir(), env{}, "check", "-o", "json")
	out := decodeOut(t, r)
	if out.Config != filepath.Join(configDir, "config.toml") {
		t.Fatalf("check looked at %s, want the container's mounted %s\n%s", out.Config, filepath.Join(configDir, "config.toml"), r.stdout)
	}
	c := out.check(t, "service.install")
	expectFinding(t, c, "warn", "service.not-running")
	if !strings.Contains(c.Detail, "ci-runner") || !strings.Contains(c.Hint, "docker restart ci-runner") {
		t.Errorf("service.install = %+v", c)
	}
	expectFinding(t, out.check(t, "service.config-path"), "pass", "")
	if p := out.check(t, "proxy.paths"); !strings.Contains(p.Detail, "ci-runner: HTTPS_PROXY=http://proxy.example:3128") {
		t.Errorf("proxy side by side lacks the container's env: %s", p.Detail)
	}
}

// With --fresh-system-id, the verify calls of the apply that writes the new
// id send that id, so GitLab never records a contact from this host under
// the cloned id (seen in review: managers [s_host, s_baked, r_new] after a
// clone's first boot). A dry run still verifies with the id on disk: the
// fresh one it shows is never written.
func TestFreshSystemIDVerifiesWithTheFreshID(t *testing.T) {
	for _, probes := range []bool{false, true} {
		s := newSetup(t, "")
		s.probes = probes
		dir := filepath.Dir(s.config)
		cloned := systemid.FromMachineID("ffffffffffffffffffffffffffffffff")
		writeFile(t, filepath.Join(dir, systemid.FileName), cloned+"\n", 0o600)
		writeFile(t, s.answers, strings.ReplaceAll(shellAnswers, "GITLAB_URL", s.gitlab.URL), 0o600)

		r := s.apply(t, "--fresh-system-id")
		if r.code != 0 {
			t.Fatalf("apply --fresh-system-id (probes %v): %d %s%s", probes, r.code, r.stdout, r.stderr)
		}
		b, _ := os.ReadFile(filepath.Join(dir, systemid.FileName))
		fresh := strings.TrimSpace(string(b))
		managers := s.gitlab.Managers(testToken)
		if slices.Contains(managers, cloned) || !slices.Contains(managers, fresh) {
			t.Errorf("probes %v: GitLab's runner managers %v; want the fresh %s and not the cloned %s", probes, managers, fresh, cloned)
		}
	}
}

// The settings PUT comes before the write; when the write then fails, the
// error says GitLab's side was already changed.
func TestCreateReconcileThenWriteFails(t *testing.T) {
	s, _ := createSetup(t, createAnswers)
	if r := s.apply(t); r.code != 0 {
		t.Fatalf("apply (%d): %s%s", r.code, r.stdout, r.stderr)
	}
	st := s.gitlab.CreatedRunners()[0].Settings
	st.Locked = false
	s.gitlab.SetRunnerSettings(1001, st)
	// The answers change config.toml too, so apply has to write.
	writeFile(t, s.answers, strings.ReplaceAll(strings.Replace(createAnswers, `executor = "shell"`, "executor = \"shell\"\nlimit = 3", 1), "GITLAB_URL", s.gitlab.URL), 0o600)
	readOnlyDir(t, filepath.Dir(s.config))
	r := s.apply(t)
	if r.code != ExitWriteFailed {
		t.Fatalf("exit %d, want 4:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "runner #1001's settings in GitLab were already updated (locked: false → true)") {
		t.Errorf("the error does not say GitLab was already changed:\n%s", r.stderr)
	}
}
