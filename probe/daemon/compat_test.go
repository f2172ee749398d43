package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/versions"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/service"
)

// runnerVersionText is `gitlab-runner --version` of the 17.4.0 release
// (common/version.go Extended; revision b92ee590 is the v17.4.0 tag).
const runnerVersionText = `Version:      17.4.0
Git revision: b92ee590
Git branch:   17-4-stable
GO version:   go1.22.5
Built:        2024-09-19T11:05:07+0000
OS/Arch:      linux/amd64
`

func TestParseRunnerVersion(t *testing.T) {
	v, rev, arch, ok := ParseRunnerVersion(runnerVersionText)
	if !ok || v != "17.4.0" || rev != "b92ee590" || arch != "linux/amd64" {
		t.Errorf("ParseRunnerVersion = %q %q %q %v", v, rev, arch, ok)
	}
	if _, _, _, ok := ParseRunnerVersion("gitlab-runner: command not found"); ok {
		t.Error("parsed a text without a Version: line")
	}
}

func TestRunnerClientAPI(t *testing.T) {
	tests := []struct{ version, api, client string }{
		{"13.12.0", "1.25", "pinned"},
		{"14.9.1", "1.25", "pinned"},
		{"14.10.0", "1.41", "v20.10"},
		{"15.11.1", "1.42", "v23.0"},
		{"16.3.0", "1.43", "v24.0"},
		{"17.4.0", "1.43", "v24.0"},
		{"17.5.0", "1.44", "v25.0.6"},
		{"17.11.0", "1.47", "v27.5.0"},
		{"18.6.2", "1.48", "v28.0.0"},
		{"18.8.0", "1.50", "v28.2.2"},
		{"19.1.0", "1.51", "v28.5.2"},
		{"19.3.0", "1.55", "moby/moby/client"},
		{"19.4.0~pre.123.gd79f3e7b", "1.55", "moby/moby/client"},
	}
	for _, tt := range tests {
		api, client, ok := RunnerClientAPI(tt.version)
		if !ok || api != tt.api || !strings.Contains(client, tt.client) {
			t.Errorf("RunnerClientAPI(%s) = %s, %q, %v; want %s, …%s…", tt.version, api, client, ok, tt.api, tt.client)
		}
	}
	if _, _, ok := RunnerClientAPI("development version"); ok {
		t.Error("a version without numbers was looked up")
	}
}

func TestParseDockerImage(t *testing.T) {
	tests := []struct {
		ref            string
		ok, dind       bool
		clientAPI, min string
	}{
		{"docker:24", true, false, "1.43", "1.12"},
		{"docker:24.0.7-cli", true, false, "1.43", "1.12"},
		{"docker:20.10.16", true, false, "1.41", "1.12"},
		{"docker:27", true, false, "1.47", "1.24"},
		{"docker:27.1.2", true, false, "1.46", "1.24"},
		{"docker:25.0-git", true, false, "1.44", "1.24"},
		{"docker:29-dind", true, true, "1.55", "1.44"},
		{"docker:29.0.1-dind", true, true, "1.52", "1.44"},
		{"docker:29.6.0-dind-rootless", true, true, "1.55", "1.44"},
		{"docker:dind", true, true, "1.55", "1.44"},
		{"docker.io/library/docker:24-dind", true, true, "1.43", "1.12"},
		{"mirror.example.com/library/docker:24", true, false, "1.43", "1.12"},
		{"gitlab.example.com:443/group/dependency_proxy/containers/docker:24", true, false, "1.43", "1.12"},
		{"docker", true, false, "1.55", "1.44"},
		{"acme/docker:24", false, false, "", ""},
		{"docker:stable", false, false, "", ""},
		{"alpine:3.20", false, false, "", ""},
	}
	for _, tt := range tests {
		d, ok := ParseDockerImage(tt.ref)
		if ok != tt.ok {
			t.Errorf("ParseDockerImage(%q) ok = %v", tt.ref, ok)
			continue
		}
		if !ok {
			continue
		}
		api, _ := d.ClientAPI()
		if d.DinD != tt.dind || api != tt.clientAPI || d.MinAPI() != tt.min {
			t.Errorf("ParseDockerImage(%q): dind %v, client API %s, min %s; want %v %s %s", tt.ref, d.DinD, api, d.MinAPI(), tt.dind, tt.clientAPI, tt.min)
		}
	}
}

func TestHelperTag(t *testing.T) {
	ri := RunnerInfo{Version: "17.4.0", Revision: "b92ee590"}
	old := RunnerInfo{Version: "16.7.0", Revision: "102c81ba"}
	tests := []struct {
		ri                  RunnerInfo
		arch, flavor, shell string
		want                string
	}{
		{ri, "x86_64", "", "", "x86_64-v17.4.0"},
		{ri, "x86_64", "alpine", "", "x86_64-v17.4.0"},
		{ri, "aarch64", "", "", "arm64-v17.4.0"},
		{ri, "armv7l", "", "", "arm-v17.4.0"},
		{ri, "s390x", "", "", "s390x-v17.4.0"},
		{ri, "x86_64", "ubuntu", "", "ubuntu-x86_64-v17.4.0"},
		{ri, "x86_64", "ubi-fips", "", "ubi-fips-x86_64-v17.4.0"},
		{ri, "x86_64", "", "pwsh", "x86_64-v17.4.0-pwsh"},
		{ri, "x86_64", "ubuntu", "pwsh", "ubuntu-x86_64-v17.4.0-pwsh"},
		{old, "x86_64", "", "", "x86_64-102c81ba"},
		{RunnerInfo{Version: "16.8.0", Revision: "c72a09b6"}, "x86_64", "", "", "x86_64-v16.8.0"},
	}
	for _, tt := range tests {
		got, ok := HelperTag(tt.ri, tt.arch, tt.flavor, tt.shell)
		if !ok || got != tt.want {
			t.Errorf("HelperTag(%s, %s, %q, %q) = %q, %v; want %q", tt.ri.Version, tt.arch, tt.flavor, tt.shell, got, ok, tt.want)
		}
	}
}

// TestWindowsHelper: the runner's Windows helper tag and bundle, as its
// helpers/container/helperimage/windows_info_test.go expects them.
func TestWindowsHelper(t *testing.T) {
	ri := RunnerInfo{Version: "17.4.0", Revision: "b92ee590"}
	tests := []struct {
		ri                  RunnerInfo
		arch, kernel        string
		wantTag, wantBundle string
		wantWhy             string
	}{
		{ri, "x86_64", "10.0 17763 (17763.1.amd64fre.rs5_release.180914-1434)", "x86_64-v17.4.0-servercore1809", "prebuilt-windows-servercore-ltsc2019-x86_64", ""},
		{ri, "x86_64", "10.0.20348", "x86_64-v17.4.0-servercore21H2", "prebuilt-windows-servercore-ltsc2022-x86_64", ""},
		{ri, "x86_64", "10.0.26100", "x86_64-v17.4.0-servercore24H2", "prebuilt-windows-servercore-ltsc2025-x86_64", ""},
		{ri, "arm64", "10.0.26100", "arm64-v17.4.0-servercore24H2", "prebuilt-windows-servercore-ltsc2025-arm64", ""},
		{ri, "arm64", "10.0.20348", "x86_64-v17.4.0-servercore21H2", "prebuilt-windows-servercore-ltsc2022-x86_64", ""},  // no arm64 before 24H2
		{ri, "x86_64", "10.0.22631", "x86_64-v17.4.0-servercore21H2", "prebuilt-windows-servercore-ltsc2022-x86_64", ""}, // Windows 11 client
		{RunnerInfo{Version: "16.7.0", Revision: "102c81ba"}, "x86_64", "10.0.17763", "x86_64-102c81ba-servercore1809", "prebuilt-windows-servercore-ltsc2019-x86_64", ""},
		{ri, "x86_64", "10.0.14393", "", "", "unsupported Windows version"},
		{ri, "x86_64", "6.1", "", "", "names no Windows build"},
	}
	for _, tt := range tests {
		tag, bundle, why := WindowsHelper(tt.ri, tt.arch, tt.kernel)
		if tag != tt.wantTag || bundle != tt.wantBundle || (tt.wantWhy == "") != (why == "") || !strings.Contains(why, tt.wantWhy) {
			t.Errorf("WindowsHelper(%s, %s, %q) = %q, %q, %q; want %q, %q, %q", tt.ri.Version, tt.arch, tt.kernel, tag, bundle, why, tt.wantTag, tt.wantBundle, tt.wantWhy)
		}
	}
}

// TestHelperImageOnWindowsDaemon: on a Windows daemon (Windows Server
// 2022, build 20348) a docker-windows entry's helper is the servercore21H2
// tag and its ltsc2022 bundle, never a Linux tag.
func TestHelperImageOnWindowsDaemon(t *testing.T) {
	windows := &fakeAPI{
		pingFunc: func(context.Context) (client.PingResult, error) {
			return client.PingResult{APIVersion: "1.44", OSType: "windows"}, nil
		},
		versionFunc: func(context.Context) (system.VersionResponse, error) {
			return system.VersionResponse{Version: "27.3.1", APIVersion: "1.47", Os: "windows", Arch: "amd64", KernelVersion: "10.0 20348 (20348.1.amd64fre.fe_release.210507-1500)"}, nil
		},
		infoFunc: func(context.Context) (system.Info, error) {
			return system.Info{OSType: "windows", Architecture: "x86_64", KernelVersion: "10.0 20348 (20348.1.amd64fre.fe_release.210507-1500)", ServerVersion: "27.3.1"}, nil
		},
	}
	bin := fakeRunner(t, runnerVersionText)
	spec := HelperSpec{Runners: []string{"w"}, Windows: true, Shell: "pwsh"}
	const ref = GitLabHelperImage + ":x86_64-v17.4.0-servercore21H2"

	bundles := t.TempDir()
	bundle := filepath.Join(bundles, "prebuilt-windows-servercore-ltsc2022-x86_64.docker.tar.zst")
	if err := os.WriteFile(bundle, []byte("archive"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runCompat(t, Options{Client: windows, WantOS: "windows", Runner: &RunnerOptions{Executable: bin, Where: "test", Helpers: []HelperSpec{spec}, BundleDirs: []string{bundles}}})
	if r := res[IDHelperImage]; r.Status != probe.Pass || !strings.Contains(r.Detail, ref) || !strings.Contains(r.Detail, bundle) || !strings.Contains(r.Detail, `runner "w"`) {
		t.Errorf("with the bundle: %s = %s %q", IDHelperImage, r.Status, r.Detail)
	}
	res = runCompat(t, Options{Client: windows, WantOS: "windows", Runner: &RunnerOptions{Executable: bin, Where: "test", Helpers: []HelperSpec{spec}, BundleDirs: []string{t.TempDir()}}})
	if r := res[IDHelperImage]; r.Status != probe.Fail || !strings.Contains(r.Detail, ref) || strings.Contains(r.Detail, "-pwsh") {
		t.Errorf("air-gapped: %s = %s %q", IDHelperImage, r.Status, r.Detail)
	}
}

// TestHelperSpecs: one spec per distinct helper image, in the file's
// order, each with the entries it serves; the default keeps the plain id.
func TestHelperSpecs(t *testing.T) {
	specs := HelperSpecs([]byte(`
[[runners]]
  name = "sh"
  executor = "shell"
[[runners]]
  name = "a"
  executor = "docker"
  [runners.docker]
    image = "alpine"
[[runners]]
  name = "b"
  executor = "docker"
  [runners.docker]
    image = "ruby"
    helper_image_flavor = "alpine"
[[runners]]
  name = "u"
  executor = "docker"
  shell = "pwsh"
  [runners.docker]
    helper_image_flavor = "ubuntu"
[[runners]]
  name = "m1"
  executor = "docker-autoscaler"
  [runners.docker]
    helper_image = "mirror.example.com/helper:1"
[[runners]]
  name = "m2"
  executor = "docker"
  shell = "pwsh"
  [runners.docker]
    helper_image = "mirror.example.com/helper:1"
[[runners]]
  name = "w"
  executor = "docker-windows"
  shell = "pwsh"
  [runners.docker]
    image = "mcr.microsoft.com/windows/servercore:ltsc2022"
`))
	want := []struct {
		id      string
		runners []string
	}{
		{IDHelperImage, []string{"a", "b"}},
		{IDHelperImage + ".ubuntu-pwsh", []string{"u"}},
		{IDHelperImage + ".mirror.example.com/helper:1", []string{"m1", "m2"}},
		{IDHelperImage + ".windows", []string{"w"}},
	}
	if len(specs) != len(want) {
		t.Fatalf("specs = %+v", specs)
	}
	for i, w := range want {
		if id := HelperCheckID(specs[i], false); id != w.id || !slices.Equal(specs[i].Runners, w.runners) {
			t.Errorf("spec %d = %s %v, want %s %v", i, id, specs[i].Runners, w.id, w.runners)
		}
	}
	if id := HelperCheckID(specs[1], true); id != IDHelperImage {
		t.Errorf("the only spec's id = %s", id)
	}
	if HelperSpecs([]byte("not toml [")) != nil {
		t.Error("a file that does not parse gives specs")
	}
}

// fakeRunner writes a gitlab-runner that prints text for --version, in
// its own directory (not on the test's PATH).
func fakeRunner(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "gitlab-runner")
	script := "#!/bin/sh\nif [ \"$1\" = --version ]; then cat <<'EOF'\n" + text + "EOF\nexit 0; fi\necho unexpected \"$@\" >&2; exit 2\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// fakeDocker29 answers the Engine API as Docker 29.0.0 does: /_ping
// advertises API 1.52, /version reports MinAPIVersion 1.44, and a
// request for an API version below 1.44 gets moby's 400 (daemon/server/
// middleware/version.go). A real daemon that old-minimum behaviour
// cannot be started here (Debian's dockerd is 20.10), hence the fake.
func fakeDocker29(t *testing.T) *httptest.Server {
	t.Helper()
	versioned := regexp.MustCompile(`^/v(1\.\d+)(/.*)$`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.52")
		w.Header().Set("Ostype", "linux")
		w.Header().Set("Server", "Docker/29.0.0 (linux)")
		path, api := r.URL.Path, "1.52"
		if m := versioned.FindStringSubmatch(path); m != nil {
			api, path = m[1], m[2]
		}
		if versions.LessThan(api, "1.44") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"message":"client version %s is too old. Minimum supported API version is 1.44, please upgrade your client to a newer version"}`, api)
			return
		}
		switch path {
		case "/_ping":
			fmt.Fprint(w, "OK")
		case "/version":
			_ = json.NewEncoder(w).Encode(map[string]any{"Version": "29.0.0", "ApiVersion": "1.52", "MinAPIVersion": "1.44",
				"Os": "linux", "Arch": "amd64", "KernelVersion": "6.1.0"})
		case "/info":
			_ = json.NewEncoder(w).Encode(map[string]any{"OSType": "linux", "Architecture": "x86_64", "ServerVersion": "29.0.0",
				"Driver": "overlayfs", "DockerRootDir": "/var/lib/docker",
				"RegistryConfig": map[string]any{"InsecureRegistryCIDRs": []string{"127.0.0.0/8", "::1/128"}, "IndexConfigs": map[string]any{}}})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// serviceRunner detects a systemd unit whose ExecStart is bin, as
// `gitlab-runner install` writes it, with extra [Service] lines.
func serviceRunner(t *testing.T, bin, extra string) RunnerOptions {
	t.Helper()
	root := t.TempDir()
	unitDir := filepath.Join(root, "etc/systemd/system")
	if err := os.MkdirAll(unitDir, 0o755); err != nil {
		t.Fatal(err)
	}
	unit := "[Unit]\nDescription=GitLab Runner\n\n[Service]\n" + extra +
		"ExecStart=" + bin + " run --config /etc/gitlab-runner/config.toml --working-directory /home/gitlab-runner --service gitlab-runner --user gitlab-runner\n"
	if err := os.WriteFile(filepath.Join(unitDir, "gitlab-runner.service"), []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	installs, err := service.Detect(context.Background(), service.Options{
		UnitDirs: []string{unitDir}, UserUnitDirs: []string{}, Systemctl: "-", GOOS: "linux",
		LookupHome: func(string) (string, error) { return "/root", nil }, HomeDir: filepath.Join(root, "home"), UserName: "me",
	})
	if err != nil {
		t.Fatal(err)
	}
	in, ok := service.Primary(installs)
	if !ok || in.Executable != bin {
		t.Fatalf("service %+v: want ExecStart's %s", installs, bin)
	}
	return RunnerFromService(in)
}

// runCompat runs the checks with the helper image's registry probes sent
// to a closed loopback port: no test reaches registry.gitlab.com.
func runCompat(t *testing.T, opts Options) map[string]probe.Result {
	t.Helper()
	if opts.Runner != nil && opts.Runner.Registry.Transport == nil {
		ro := *opts.Runner
		ro.Registry.Transport = closedTransport(t)
		opts.Runner = &ro
	}
	return run(t, opts)
}

// closedTransport dials every address at a loopback port nothing listens
// on: an air-gapped host, for real.
func closedTransport(t *testing.T) *http.Transport {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// TestRunnerAPIAgainstDocker29: the service's runner (17.4, API 1.43)
// against a daemon answering like Docker 29 fails with
// docker-api-too-old; DOCKER_API_VERSION in the unit, or a 17.5 runner on
// PATH, passes. The runner binaries are not on the test's PATH: the
// service's ExecStart is where the runner is, as on a real host.
func TestRunnerAPIAgainstDocker29(t *testing.T) {
	srv := fakeDocker29(t)
	host := "tcp://" + strings.TrimPrefix(srv.URL, "http://")
	old := fakeRunner(t, runnerVersionText)

	t.Run("17.4 from the service's ExecStart is too old", func(t *testing.T) {
		ro := serviceRunner(t, old, "")
		res := runCompat(t, Options{Host: host, Runner: &ro})
		if v := res[IDVersion]; v.Status != probe.Pass || !strings.Contains(v.Detail, "Docker 29.0.0 (API 1.52, minimum 1.44)") {
			t.Errorf("%s = %s %q", IDVersion, v.Status, v.Detail)
		}
		r := res[IDRunnerAPI]
		if r.Status != probe.Fail || r.Finding != CauseAPITooOld {
			t.Fatalf("%s = %s %q (finding %q), want fail docker-api-too-old", IDRunnerAPI, r.Status, r.Detail, r.Finding)
		}
		for _, want := range []string{"gitlab-runner 17.4.0 (" + old, "systemd gitlab-runner.service", "up to 1.43", "v24.0", "accepts API 1.44 to 1.52",
			"client version 1.43 is too old. Minimum supported API version is 1.44"} {
			if !strings.Contains(r.Detail, want) {
				t.Errorf("detail lacks %q: %s", want, r.Detail)
			}
		}
		for _, want := range []string{"17.5 or newer", "DOCKER_API_VERSION=1.44", "DOCKER_MIN_API_VERSION=1.24"} {
			if !strings.Contains(r.Hint, want) {
				t.Errorf("hint lacks %q: %s", want, r.Hint)
			}
		}
	})
	t.Run("DOCKER_API_VERSION in the unit pins 1.44", func(t *testing.T) {
		ro := serviceRunner(t, old, "Environment=DOCKER_API_VERSION=1.44\n")
		res := runCompat(t, Options{Host: host, Runner: &ro})
		if r := res[IDRunnerAPI]; r.Status != probe.Pass || !strings.Contains(r.Detail, "always speaks Docker API 1.44") {
			t.Errorf("%s = %s %q", IDRunnerAPI, r.Status, r.Detail)
		}
	})
	t.Run("17.5 on PATH", func(t *testing.T) {
		bin := fakeRunner(t, strings.Replace(runnerVersionText, "17.4.0", "17.5.0", 1))
		t.Setenv("PATH", filepath.Dir(bin)+":/usr/bin:/bin")
		res := runCompat(t, Options{Host: host, Runner: &RunnerOptions{}})
		if r := res[IDRunnerAPI]; r.Status != probe.Pass || !strings.Contains(r.Detail, "found through PATH") || !strings.Contains(r.Detail, "up to 1.44") {
			t.Errorf("%s = %s %q", IDRunnerAPI, r.Status, r.Detail)
		}
	})
	t.Run("no runner anywhere", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		res := runCompat(t, Options{Host: host, Runner: &RunnerOptions{}})
		if r := res[IDRunnerAPI]; r.Status != probe.Skip || !strings.Contains(r.Detail, "not on PATH") {
			t.Errorf("%s = %s %q", IDRunnerAPI, r.Status, r.Detail)
		}
	})
	t.Run("docker:24 job image with a docker:29-dind service", func(t *testing.T) {
		res := runCompat(t, Options{Host: host, Jobs: []Job{{Runner: "dind", Images: []string{"docker:24"}, Services: []string{"docker:29-dind"}}}})
		r := res[IDDindAPI]
		if r.Status != probe.Fail || r.Finding != CauseAPITooOld || !strings.Contains(r.Detail, "docker:24 (runner \"dind\"): its docker CLI (Docker 24) speaks API up to 1.43, the docker:29-dind service (Docker 29) accepts 1.44") {
			t.Errorf("%s = %s %q", IDDindAPI, r.Status, r.Detail)
		}
		if !strings.Contains(r.Hint, "image: docker:29") {
			t.Errorf("hint = %q", r.Hint)
		}
		res = runCompat(t, Options{Host: host, Jobs: []Job{JobOf("", []string{"docker:27", "docker:29-dind"})}})
		if r := res[IDDindAPI]; r.Status != probe.Pass {
			t.Errorf("docker:27 with docker:29-dind: %s = %s %q", IDDindAPI, r.Status, r.Detail)
		}
		if _, ok := runCompat(t, Options{Host: host, Jobs: []Job{JobOf("", []string{"alpine:3.20", "postgres:16"})}})[IDDindAPI]; ok {
			t.Error("daemon.dind-api added without a docker:dind service")
		}
	})
}
