package fleet

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runnerup/runnerup/internal/systemid"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/daemon"
	"github.com/runnerup/runnerup/probe/service"
)

// run runs the checks of o and returns them by id.
func run(t *testing.T, o Options, extra ...probe.Check) map[string]probe.Result {
	t.Helper()
	results, err := probe.Run(context.Background(), append(Checks(o), extra...), probe.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]probe.Result{}
	for _, r := range results {
		out[r.ID] = r
	}
	return out
}

func expect(t *testing.T, got map[string]probe.Result, id string, status probe.Status, finding string, detail ...string) probe.Result {
	t.Helper()
	r, ok := got[id]
	if !ok {
		ids := make([]string, 0, len(got))
		for k := range got {
			ids = append(ids, k)
		}
		t.Fatalf("no check %s; have %v", id, ids)
	}
	if r.Status != status || r.Finding != finding {
		t.Fatalf("%s = %s/%q (%s; hint %s), want %s/%q", id, r.Status, r.Finding, r.Detail, r.Hint, status, finding)
	}
	for _, d := range detail {
		if !strings.Contains(r.Detail, d) {
			t.Errorf("%s detail %q does not mention %q", id, r.Detail, d)
		}
	}
	if (status == probe.Warn || status == probe.Fail) && r.Hint == "" {
		t.Errorf("%s: a %s without a hint", id, status)
	}
	return r
}

func noEnv(string) (string, bool) { return "", false }

func TestSystemID(t *testing.T) {
	const mid = "0123456789abcdef0123456789abcdef"
	own := systemid.FromMachineID(mid)
	other := systemid.FromMachineID("ffffffffffffffffffffffffffffffff")
	tests := []struct {
		name, file       string
		machineErr       bool
		status           probe.Status
		finding, mention string
	}{
		{name: "no file yet", file: "", status: probe.Pass, mention: own},
		{name: "derived here", file: own + "\n", status: probe.Pass, mention: own},
		{name: "cloned disk", file: other, status: probe.Warn, finding: FindingSystemIDCloned, mention: own},
		{name: "baked into the 15.8.2 image", file: KnownSharedSystemID, status: probe.Warn, finding: FindingSystemIDShared},
		{name: "garbage", file: "s_short", status: probe.Warn, finding: FindingSystemIDInvalid},
		{name: "random id", file: "r_AbCdEfGhIjKl", status: probe.Pass, mention: "random"},
		{name: "s_ id, machine id unreadable", file: other, machineErr: true, status: probe.Pass, mention: "cannot be told"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.file != "" {
				if err := os.WriteFile(filepath.Join(dir, systemid.FileName), []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			machineID := func() (string, error) { return mid, nil }
			if tt.machineErr {
				machineID = func() (string, error) { return "", errors.New("no /etc/machine-id") }
			}
			got := run(t, Options{SystemIDDir: dir, MachineID: machineID})
			r := expect(t, got, IDSystemID, tt.status, tt.finding, tt.mention)
			if tt.finding != "" && !strings.Contains(r.Hint, "--fresh-system-id") {
				t.Errorf("hint %q does not offer a fresh id", r.Hint)
			}
		})
	}
}

const fleetTOML = `concurrent = 4

[[runners]]
  name = "build"
  url = "https://gitlab.example.com"
  token = "glrt-build000000000000000"
  executor = "docker"

[[runners]]
  name = "build"
  url = "https://gitlab.example.com/"
  token = "glrt-build111111111111111"
  executor = "docker"

[[runners]]
  name = "copy"
  url = "https://gitlab.example.com"
  token = "glrt-build000000000000000"
  executor = "shell"

[[runners]]
  name = "gone"
  url = "https://gitlab.example.com"
  token = "glrt-gone0000000000000000"
  executor = "shell"
  token_obtained_at = 2026-01-01T00:00:00Z
  token_expires_at = 2026-11-26T00:00:00Z
`

func TestRunnerEntries(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	var verified []string
	verify := func(_ context.Context, r Runner) error {
		mu.Lock()
		verified = append(verified, r.Name)
		mu.Unlock()
		switch r.Token {
		case "glrt-gone0000000000000000":
			return ErrStale
		case "glrt-build111111111111111":
			return errors.New("connection refused")
		}
		return nil
	}
	got := run(t, Options{ConfigTOML: []byte(fleetTOML), Runners: RunnerOptions{Enabled: true, Verify: verify, Now: func() time.Time { return now }}})

	dup := expect(t, got, IDDuplicates, probe.Warn, FindingDuplicateToken, "#1 and #3", "#1 and #2")
	for _, secretTok := range []string{"glrt-build000000000000000", "glrt-build111111111111111"} {
		if strings.Contains(dup.Detail, secretTok) {
			t.Errorf("duplicates detail shows a token in clear: %s", dup.Detail)
		}
	}
	stale := expect(t, got, RunnerTokenID("gone"), probe.Fail, FindingStale, "stale")
	if s, ok := stale.Data.(Stale); !ok || s.Runner.Index != 3 {
		t.Errorf("stale Data = %#v, want entry #4", stale.Data)
	}
	expect(t, got, RunnerTokenID("copy"), probe.Pass, "")
	expect(t, got, RunnerExpiryID("gone"), probe.Warn, FindingTokenExpiring, "2026-11-26")
	// Two entries named "build": each is checked, told apart by position
	// (the second one's GitLab is unreachable here).
	expect(t, got, RunnerTokenID("build#1"), probe.Pass, "")
	expect(t, got, RunnerTokenID("build#2"), probe.Warn, FindingUnverified)
	if len(verified) != 4 {
		t.Errorf("verified %v, want every entry (4)", verified)
	}

	// apply writes "copy": it is not checked again, and stale is a warning.
	verified = nil
	got = run(t, Options{ConfigTOML: []byte(fleetTOML), Runners: RunnerOptions{Enabled: true, Skip: func(r Runner) bool { return r.Index == 2 }, Verify: verify, StaleStatus: probe.Warn, Now: func() time.Time { return now }}})
	if _, ok := got[RunnerTokenID("copy")]; ok {
		t.Error("the entry apply writes was verified again")
	}
	expect(t, got, RunnerTokenID("gone"), probe.Warn, FindingStale)

	// Offline: no verify, expiry still shown; expired is its own finding.
	got = run(t, Options{ConfigTOML: []byte(fleetTOML), Runners: RunnerOptions{Enabled: true, Now: func() time.Time { return now.AddDate(0, 1, 0) }}})
	if _, ok := got[RunnerTokenID("gone")]; ok {
		t.Error("offline run verified a token")
	}
	expect(t, got, RunnerExpiryID("gone"), probe.Warn, FindingTokenExpired)
}

func TestDuplicateNameOnSameURL(t *testing.T) {
	toml := "[[runners]]\n name = \"a\"\n url = \"https://g.example\"\n token = \"glrt-1\"\n[[runners]]\n name = \"a\"\n url = \"https://g.example/\"\n token = \"glrt-2\"\n[[runners]]\n name = \"a\"\n url = \"https://other.example\"\n token = \"glrt-3\"\n"
	got := run(t, Options{ConfigTOML: []byte(toml), Runners: RunnerOptions{Enabled: true}})
	expect(t, got, IDDuplicates, probe.Warn, FindingDuplicateName, "#1 and #2")
	if strings.Contains(got[IDDuplicates].Detail, "#3") {
		t.Errorf("the same name on another GitLab is not a duplicate: %s", got[IDDuplicates].Detail)
	}
}

func TestServicePaths(t *testing.T) {
	dir := t.TempDir()
	etc := filepath.Join(dir, "etc", "gitlab-runner")
	if err := os.MkdirAll(etc, 0o700); err != nil {
		t.Fatal(err)
	}
	// A symlinked directory is the same file.
	link := filepath.Join(dir, "link")
	if err := os.Symlink(etc, link); err != nil {
		t.Fatal(err)
	}
	unit := service.Install{Kind: service.Systemd, Name: "gitlab-runner.service", ConfigPath: filepath.Join(etc, "config.toml"),
		User: "root", Home: "/root", DockerConfigPath: "/root/.docker/config.json", State: "active", Running: true,
		RestartCommand: "sudo systemctl restart gitlab-runner.service"}
	stopped := unit
	stopped.Running, stopped.State = false, "inactive"
	unknownState := unit
	unknownState.Running, unknownState.State = false, "unknown"
	wrapper := unit
	wrapper.ConfigPath = ""
	inContainer := service.Install{Kind: service.Container, Name: "gitlab-runner", State: "running", Running: true, RestartCommand: "docker restart gitlab-runner"}
	home := filepath.Join(dir, "home", ".gitlab-runner", "config.toml")

	tests := []struct {
		name       string
		installs   []service.Install
		configPath string
		dockerPath string
		writes     bool
		want       map[string][2]string // id -> status, finding
	}{
		{name: "writes what the service reads", installs: []service.Install{unit}, configPath: filepath.Join(link, "config.toml"), dockerPath: "/root/.docker/config.json",
			want: map[string][2]string{IDServiceInstall: {"pass", ""}, IDServiceConfigPath: {"pass", ""}, IDServiceDockerConfig: {"pass", ""}}},
		{name: "writes ~/.gitlab-runner while the service reads /etc", installs: []service.Install{unit}, configPath: home, dockerPath: "/home/u/.docker/config.json",
			want: map[string][2]string{IDServiceConfigPath: {"warn", FindingConfigPathDiffers}, IDServiceDockerConfig: {"warn", FindingDockerConfigDiffers}}},
		{name: "service stopped", installs: []service.Install{stopped}, configPath: filepath.Join(etc, "config.toml"),
			want: map[string][2]string{IDServiceInstall: {"warn", FindingServiceNotRunning}, IDServiceConfigPath: {"pass", ""}}},
		{name: "systemd not running here: state unknown is not stopped", installs: []service.Install{unknownState}, configPath: filepath.Join(etc, "config.toml"),
			want: map[string][2]string{IDServiceInstall: {"pass", ""}}},
		{name: "unit starts a wrapper script", installs: []service.Install{wrapper}, configPath: home,
			want: map[string][2]string{IDServiceConfigPath: {"warn", FindingConfigPathUnknown}}},
		{name: "container without a mount", installs: []service.Install{inContainer}, configPath: home,
			want: map[string][2]string{IDServiceConfigPath: {"warn", FindingConfigInContainer}}},
		{name: "container without a /root/.docker mount, runnerup writes config.json", installs: []service.Install{inContainer}, configPath: home, dockerPath: "/home/u/.docker/config.json", writes: true,
			want: map[string][2]string{IDServiceDockerConfig: {"warn", FindingDockerConfigInContainer}}},
		{name: "same container, credentials go elsewhere", installs: []service.Install{inContainer}, configPath: home, dockerPath: "/home/u/.docker/config.json",
			want: map[string][2]string{IDServiceDockerConfig: {"skip", ""}}},
		{name: "no service", installs: nil, configPath: home, dockerPath: "/x/config.json",
			want: map[string][2]string{IDServiceInstall: {"skip", ""}, IDServiceConfigPath: {"skip", ""}, IDServiceDockerConfig: {"skip", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, Options{Detected: true, Installs: tt.installs, ConfigPath: tt.configPath, DockerConfigPath: tt.dockerPath, WritesDockerConfig: tt.writes})
			for id, w := range tt.want {
				expect(t, got, id, probe.Status(w[0]), w[1])
			}
		})
	}
	got := run(t, Options{Detected: true, Installs: []service.Install{unit}, ConfigPath: home})
	r := got[IDServiceConfigPath]
	if !strings.Contains(r.Detail, unit.ConfigPath) || !strings.Contains(r.Hint, "--config "+unit.ConfigPath) {
		t.Errorf("the warning must name the service's path and the fix: %s / %s", r.Detail, r.Hint)
	}
	if _, ok := run(t, Options{ConfigPath: home})[IDServiceInstall]; ok {
		t.Error("service checks ran without detection")
	}
}

func TestProxyPaths(t *testing.T) {
	env := func(kv ...string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1], true
				}
			}
			return "", false
		}
	}
	unit := func(envs ...string) []service.Install {
		return []service.Install{{Kind: service.Systemd, Name: "gitlab-runner.service", Environment: envs, Running: true, State: "active"}}
	}
	daemonProxy := func(ps daemon.ProxySettings) probe.Check {
		return probe.Check{ID: daemon.IDProxy, Run: func(context.Context, probe.Deps) probe.Result {
			r := probe.Passf("proxy")
			r.Data = ps
			return r
		}}
	}
	tests := []struct {
		name     string
		o        Options
		daemon   *daemon.ProxySettings
		status   probe.Status
		finding  string
		mentions []string
		absent   []string
	}{
		{name: "shell has a proxy, the service has none",
			o:      Options{ShellEnv: env("HTTPS_PROXY", "http://alice:s3cret@proxy.corp:3128"), Installs: unit(), GitLabURL: "https://gitlab.example.com"},
			status: probe.Warn, finding: FindingProxyGitLabDiffers, mentions: []string{"via http://alice:xxxxx@proxy.corp:3128", "goes direct"}, absent: []string{"s3cret"}},
		{name: "both through the same proxy",
			o:      Options{ShellEnv: env("https_proxy", "http://proxy.corp:3128"), Installs: unit("HTTPS_PROXY=http://proxy.corp:3128"), GitLabURL: "https://gitlab.example.com"},
			status: probe.Pass},
		{name: "service bypasses GitLab with NO_PROXY",
			o:      Options{ShellEnv: env("HTTPS_PROXY", "http://proxy.corp:3128"), Installs: unit("HTTPS_PROXY=http://proxy.corp:3128", "NO_PROXY=.example.com"), GitLabURL: "https://gitlab.example.com"},
			status: probe.Warn, finding: FindingProxyGitLabDiffers},
		{name: "daemon sends an internal registry through its proxy",
			o:      Options{ShellEnv: noEnv, GitLabURL: "https://gitlab.example.com", RegistryHosts: []string{"registry.corp:5000", "docker.io"}, DaemonProxy: true},
			daemon: &daemon.ProxySettings{HTTPSProxy: "http://proxy.corp:3128", NoProxy: "localhost"},
			status: probe.Warn, finding: FindingProxyRegistryViaProxy, mentions: []string{"registry.corp:5000 via http://proxy.corp:3128"}},
		{name: "internal registry in the daemon's NO_PROXY",
			o:      Options{ShellEnv: noEnv, RegistryHosts: []string{"registry.corp:5000"}, DaemonProxy: true},
			daemon: &daemon.ProxySettings{HTTPSProxy: "http://proxy.corp:3128", NoProxy: ".corp"},
			status: probe.Pass, mentions: []string{"registry.corp:5000: daemon direct"}},
		{name: "shell goes through a proxy, the daemon pulls directly",
			o:      Options{ShellEnv: env("HTTPS_PROXY", "http://proxy.corp:3128"), RegistryHosts: []string{"registry.gitlab.com"}, DaemonProxy: true},
			daemon: &daemon.ProxySettings{},
			status: probe.Warn, finding: FindingProxyRegistryDiffers, mentions: []string{"registry.gitlab.com via http://proxy.corp:3128 from this shell", "pulls direct"}},
		{name: "a Windows service's environment is not compared",
			o:      Options{ShellEnv: env("HTTPS_PROXY", "http://proxy.corp:3128"), Installs: []service.Install{{Kind: service.Windows, Name: "gitlab-runner", Running: true, State: "running"}}, GitLabURL: "https://gitlab.example.com"},
			status: probe.Pass, mentions: []string{"gitlab-runner: environment not readable here"}},
		{name: "no proxies anywhere", o: Options{ShellEnv: noEnv, Installs: unit(), GitLabURL: "https://gitlab.example.com"}, status: probe.Pass, mentions: []string{"shell: no proxy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var extra []probe.Check
			if tt.daemon != nil {
				extra = append(extra, daemonProxy(*tt.daemon))
			}
			got := run(t, tt.o, extra...)
			r := expect(t, got, IDProxy, tt.status, tt.finding, tt.mentions...)
			for _, a := range tt.absent {
				if strings.Contains(r.Detail+r.Hint, a) {
					t.Errorf("%q leaked: %s / %s", a, r.Detail, r.Hint)
				}
			}
		})
	}
}

func TestInternalHost(t *testing.T) {
	for h, want := range map[string]bool{
		"registry:5000": true, "10.1.2.3:5000": true, "nexus.corp": true, "r.svc.cluster.local": true,
		"registry.gitlab.com": false, "docker.io": false, "8.8.8.8": false, "[fd00::1]:5000": true,
	} {
		if got := internalHost(h); got != want {
			t.Errorf("internalHost(%q) = %v, want %v", h, got, want)
		}
	}
}
