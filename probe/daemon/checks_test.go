package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/api/types/system"

	"github.com/runnerup/runnerup/probe"
)

const localHost = "unix:///var/run/docker.sock"

func TestPlatform(t *testing.T) {
	tests := []struct {
		name       string
		wantOS     string
		version    system.VersionResponse
		info       system.Info
		infoErr    error
		wantStatus probe.Status
		wantData   probe.Platform
		wantDetail string
		wantHint   string // substring; "" means no hint
	}{
		{
			name:       "linux amd64 from /version, not uname",
			version:    system.VersionResponse{Os: "linux", Arch: "amd64", KernelVersion: "6.1.0", APIVersion: "1.51"},
			info:       system.Info{OSType: "linux", Architecture: "x86_64"},
			wantStatus: probe.Pass,
			wantData:   probe.Platform{OS: "linux", Architecture: "amd64"},
			wantDetail: "linux/amd64 (kernel 6.1.0)",
		},
		{
			name:       "docker 20.10 picks only the exact platform from an index",
			version:    system.VersionResponse{Os: "linux", Arch: "amd64", APIVersion: "1.41"},
			info:       system.Info{OSType: "linux", Architecture: "x86_64"},
			wantStatus: probe.Pass,
			wantData:   probe.Platform{OS: "linux", Architecture: "amd64", ExactIndexMatch: true},
			wantDetail: "linux/amd64",
		},
		{
			name:       "arm64 has no variant",
			version:    system.VersionResponse{Os: "linux", Arch: "arm64"},
			info:       system.Info{OSType: "linux", Architecture: "aarch64"},
			wantStatus: probe.Pass,
			wantData:   probe.Platform{OS: "linux", Architecture: "arm64"},
			wantDetail: "linux/arm64",
		},
		{
			name:       "32-bit arm variant from uname",
			version:    system.VersionResponse{Os: "linux", Arch: "arm"},
			info:       system.Info{OSType: "linux", Architecture: "armv7l"},
			wantStatus: probe.Pass,
			wantData:   probe.Platform{OS: "linux", Architecture: "arm", Variant: "v7"},
			wantDetail: "linux/arm/v7",
		},
		{
			name:       "uname spelling from a compatible engine is mapped",
			version:    system.VersionResponse{Os: "Linux", Arch: "x86_64"},
			infoErr:    errors.New("no /info"),
			wantStatus: probe.Pass,
			wantData:   probe.Platform{OS: "linux", Architecture: "amd64"},
			wantDetail: "linux/amd64",
		},
		{
			name:       "windows daemon for docker-windows",
			wantOS:     "windows",
			version:    system.VersionResponse{Os: "windows", Arch: "amd64", KernelVersion: "10.0 20348 (20348.1.amd64fre.fe_release.210507-1500)"},
			info:       system.Info{OSType: "windows", Architecture: "x86_64"},
			wantStatus: probe.Pass,
			wantData:   probe.Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.20348"},
			wantDetail: "windows/amd64 10.0.20348 (kernel 10.0 20348 (20348.1.amd64fre.fe_release.210507-1500))",
		},
		{
			name:       "docker-windows executor on a linux daemon",
			wantOS:     "windows",
			version:    system.VersionResponse{Os: "linux", Arch: "amd64"},
			info:       system.Info{OSType: "linux", Architecture: "x86_64"},
			wantStatus: probe.Fail,
			wantData:   probe.Platform{OS: "linux", Architecture: "amd64"},
			wantDetail: "the daemon runs linux containers (linux/amd64), the executor needs windows",
			wantHint:   "docker-windows executor needs a Windows Docker daemon",
		},
		{
			name:       "docker executor on a windows daemon",
			version:    system.VersionResponse{Os: "windows", Arch: "amd64"},
			info:       system.Info{OSType: "windows", Architecture: "x86_64"},
			wantStatus: probe.Fail,
			wantData:   probe.Platform{OS: "windows", Architecture: "amd64"},
			wantDetail: "the daemon runs windows containers (windows/amd64), the executor needs linux",
			wantHint:   "Switch to Linux containers",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeAPI{
				versionFunc: func(context.Context) (system.VersionResponse, error) { return tt.version, nil },
				infoFunc:    func(context.Context) (system.Info, error) { return tt.info, tt.infoErr },
			}
			got := run(t, Options{Host: localHost, Client: api, WantOS: tt.wantOS, StatFS: bigDisk})[IDPlatform]
			if got.Status != tt.wantStatus || got.Detail != tt.wantDetail {
				t.Errorf("got %s %q, want %s %q", got.Status, got.Detail, tt.wantStatus, tt.wantDetail)
			}
			if p, ok := got.Data.(probe.Platform); !ok || p != tt.wantData {
				t.Errorf("Data = %#v, want %#v", got.Data, tt.wantData)
			}
			checkHint(t, got, tt.wantHint)
		})
	}
}

// checkHint asserts a hint contains want, or that there is none.
func checkHint(t *testing.T, r probe.Result, want string) {
	t.Helper()
	if want == "" && r.Hint != "" {
		t.Errorf("hint = %q, want none", r.Hint)
	}
	if want != "" && !strings.Contains(r.Hint, want) {
		t.Errorf("hint = %q, want it to contain %q", r.Hint, want)
	}
}

func bigDisk(string) (uint64, uint64, error) { return 40 << 30, 100 << 30, nil }

func cidr(s string) netip.Prefix {
	n, err := netip.ParsePrefix(s)
	if err != nil {
		panic(err)
	}
	return n
}

func TestRegistries(t *testing.T) {
	tests := []struct {
		name       string
		config     *registry.ServiceConfig
		wantData   probe.DaemonRegistries
		wantDetail string
	}{
		{
			name: "insecure registries and mirrors",
			config: &registry.ServiceConfig{
				InsecureRegistryCIDRs: []netip.Prefix{cidr("10.0.0.0/8"), cidr("127.0.0.0/8"), cidr("::1/128")},
				IndexConfigs: map[string]*registry.IndexInfo{
					"docker.io":          {Name: "docker.io", Secure: true, Official: true, Mirrors: []string{"https://mirror.example/"}},
					"registry.test:5443": {Name: "registry.test:5443", Secure: false},
					"ci.internal:5000":   {Name: "ci.internal:5000", Secure: false},
				},
				Mirrors: []string{"https://mirror.example/"},
			},
			wantData: probe.DaemonRegistries{
				InsecureCIDRs: []string{"10.0.0.0/8", "127.0.0.0/8", "::1/128"},
				Secure:        map[string]bool{"docker.io": true, "registry.test:5443": false, "ci.internal:5000": false},
				Mirrors:       []string{"https://mirror.example/"},
			},
			wantDetail: "insecure ranges: 10.0.0.0/8, 127.0.0.0/8, ::1/128; insecure registries: ci.internal:5000, registry.test:5443; mirrors: https://mirror.example/",
		},
		{
			name: "defaults",
			config: &registry.ServiceConfig{
				InsecureRegistryCIDRs: []netip.Prefix{cidr("127.0.0.0/8")},
				IndexConfigs:          map[string]*registry.IndexInfo{"docker.io": {Name: "docker.io", Secure: true, Official: true}},
			},
			wantData: probe.DaemonRegistries{
				InsecureCIDRs: []string{"127.0.0.0/8"},
				Secure:        map[string]bool{"docker.io": true},
			},
			wantDetail: "insecure ranges: 127.0.0.0/8; insecure registries: none; mirrors: none",
		},
		{
			name:   "no configuration reported",
			config: nil,
			wantData: probe.DaemonRegistries{
				InsecureCIDRs: []string{"127.0.0.0/8"},
				Secure:        map[string]bool{},
			},
			wantDetail: "the daemon reported no registry configuration, assuming dockerd's defaults; insecure ranges: 127.0.0.0/8; insecure registries: none; mirrors: none",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := linuxDaemon(func(i *system.Info) { i.RegistryConfig = tt.config })
			got := run(t, Options{Host: localHost, Client: api, StatFS: bigDisk})[IDRegistries]
			if got.Status != probe.Pass || got.Detail != tt.wantDetail {
				t.Errorf("got %s %q, want pass %q", got.Status, got.Detail, tt.wantDetail)
			}
			if d, ok := got.Data.(probe.DaemonRegistries); !ok || !reflect.DeepEqual(d, tt.wantData) {
				t.Errorf("Data = %#v, want %#v", got.Data, tt.wantData)
			}
		})
	}
}

func TestPrivileged(t *testing.T) {
	tests := []struct {
		name       string
		info       func(*system.Info)
		wantStatus probe.Status
		wantDetail string // substring
		wantHint   string
	}{
		{"rootful", nil, probe.Pass, "privileged containers are possible", ""},
		{"rootless", func(i *system.Info) {
			i.SecurityOptions = []string{"name=seccomp,profile=default", "name=rootless", "name=cgroupns"}
		}, probe.Warn, "the daemon is rootless", "docker:dind-rootless"},
		{"userns-remap", func(i *system.Info) {
			i.SecurityOptions = []string{"name=apparmor", "name=seccomp,profile=default", "name=userns"}
		}, probe.Warn, "userns-remap", "userns_mode = \"host\""},
		{"windows", func(i *system.Info) { i.OSType = "windows" }, probe.Fail, "no privileged mode", "needs a Linux daemon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, Options{Host: localHost, Client: linuxDaemon(tt.info), WantPrivileged: true, StatFS: bigDisk})[IDPrivileged]
			if got.Status != tt.wantStatus || !strings.Contains(got.Detail, tt.wantDetail) {
				t.Errorf("got %s %q, want %s containing %q", got.Status, got.Detail, tt.wantStatus, tt.wantDetail)
			}
			checkHint(t, got, tt.wantHint)
		})
	}
	t.Run("absent unless wanted", func(t *testing.T) {
		for _, c := range Checks(Options{Client: linuxDaemon(nil)}) {
			if c.ID == IDPrivileged {
				t.Errorf("%s present without WantPrivileged", IDPrivileged)
			}
		}
	})
}

func TestProxy(t *testing.T) {
	tests := []struct {
		name            string
		http, https, no string
		wantDetail      string
		wantData        ProxySettings
	}{
		{
			name:       "none",
			wantDetail: "no proxy: the daemon reaches registries directly",
		},
		{
			name: "credentials redacted", http: "http://ci:s3cret@proxy.example:3128", https: "http://ci:s3cret@proxy.example:3128", no: "localhost,127.0.0.1,.internal",
			wantDetail: "the daemon pulls through HTTP_PROXY=http://ci:xxxxx@proxy.example:3128 HTTPS_PROXY=http://ci:xxxxx@proxy.example:3128 NO_PROXY=localhost,127.0.0.1,.internal",
			wantData:   ProxySettings{HTTPProxy: "http://ci:xxxxx@proxy.example:3128", HTTPSProxy: "http://ci:xxxxx@proxy.example:3128", NoProxy: "localhost,127.0.0.1,.internal"},
		},
		{
			name: "https only", https: "http://proxy.example:3128",
			wantDetail: "the daemon pulls through HTTP_PROXY=(unset) HTTPS_PROXY=http://proxy.example:3128 NO_PROXY=(unset)",
			wantData:   ProxySettings{HTTPSProxy: "http://proxy.example:3128"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := linuxDaemon(func(i *system.Info) { i.HTTPProxy, i.HTTPSProxy, i.NoProxy = tt.http, tt.https, tt.no })
			got := run(t, Options{Host: localHost, Client: api, StatFS: bigDisk})[IDProxy]
			if got.Status != probe.Pass || got.Detail != tt.wantDetail {
				t.Errorf("got %s %q, want pass %q", got.Status, got.Detail, tt.wantDetail)
			}
			if got.Data != tt.wantData {
				t.Errorf("Data = %#v, want %#v", got.Data, tt.wantData)
			}
			if strings.Contains(fmt.Sprintf("%+v", got), "s3cret") {
				t.Errorf("secret leaked: %+v", got)
			}
		})
	}
}

func TestStorage(t *testing.T) {
	const GiB, MiB = uint64(1 << 30), uint64(1 << 20)
	disk := func(free uint64) func(string) (uint64, uint64, error) {
		return func(path string) (uint64, uint64, error) {
			if path != "/var/lib/docker" {
				return 0, 0, fmt.Errorf("statfs of %q, want the data root", path)
			}
			return free, 20 * GiB, nil
		}
	}
	failing := func(err error) func(string) (uint64, uint64, error) {
		return func(string) (uint64, uint64, error) { return 0, 0, err }
	}
	tests := []struct {
		name       string
		host       string
		statFS     func(string) (uint64, uint64, error)
		info       func(*system.Info)
		wantStatus probe.Status
		wantDetail string
		wantHint   string
	}{
		{"plenty", localHost, disk(12 * GiB), nil, probe.Pass,
			"storage driver overlay2, data root /var/lib/docker: 12.0 GiB free of 20.0 GiB", ""},
		{"exactly the warning line passes", localHost, disk(2 * GiB), nil, probe.Pass,
			"storage driver overlay2, data root /var/lib/docker: 2.0 GiB free of 20.0 GiB", ""},
		{"low", localHost, disk(2*GiB - 1), nil, probe.Warn,
			"storage driver overlay2, data root /var/lib/docker: 2.0 GiB free of 20.0 GiB, below 2.0 GiB: large images may not fit", "docker system prune -af --filter until=24h"},
		{"exactly the failure line warns", localHost, disk(256 * MiB), nil, probe.Warn,
			"storage driver overlay2, data root /var/lib/docker: 256.0 MiB free of 20.0 GiB, below 2.0 GiB: large images may not fit", "docker system prune"},
		{"full", localHost, disk(100 * MiB), nil, probe.Fail,
			"storage driver overlay2, data root /var/lib/docker: 100.0 MiB free of 20.0 GiB, below 256.0 MiB: pulls will fail with \"no space left on device\"", "docker system prune -af --filter until=24h"},
		{"containerd image store named", localHost, disk(12 * GiB), func(i *system.Info) {
			i.Driver = "overlayfs"
			i.DriverStatus = [][2]string{{"driver-type", "io.containerd.snapshotter.v1"}}
		}, probe.Pass, "storage driver overlayfs (containerd image store), data root /var/lib/docker: 12.0 GiB free of 20.0 GiB", ""},
		{"remote daemon is not statted", "tcp://docker:2376", failing(errors.New("must not be called")), nil, probe.Pass,
			"storage driver overlay2, data root /var/lib/docker; free space not checked (remote daemon)", ""},
		{"data root not visible (runner in a container)", localHost, failing(&fs.PathError{Op: "statfs", Path: "/var/lib/docker", Err: fs.ErrNotExist}), nil, probe.Pass,
			"storage driver overlay2, data root /var/lib/docker; free space not checked (/var/lib/docker is not visible here: the daemon's file system is elsewhere)", ""},
		{"statfs error", localHost, failing(errors.New("statfs /var/lib/docker: input/output error")), nil, probe.Warn,
			"storage driver overlay2, data root /var/lib/docker; cannot check free space: statfs /var/lib/docker: input/output error", "df -h /var/lib/docker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, Options{Host: tt.host, Client: linuxDaemon(tt.info), StatFS: tt.statFS})[IDStorage]
			if got.Status != tt.wantStatus || got.Detail != tt.wantDetail {
				t.Errorf("got %s %q\nwant %s %q", got.Status, got.Detail, tt.wantStatus, tt.wantDetail)
			}
			checkHint(t, got, tt.wantHint)
		})
	}
}

func TestVersion(t *testing.T) {
	tests := []struct {
		name       string
		version    system.VersionResponse
		err        error
		wantStatus probe.Status
		wantDetail string
		wantHint   string
	}{
		{"debian 20.10", system.VersionResponse{Version: "20.10.24+dfsg1", APIVersion: "1.41"}, nil, probe.Pass, "Docker 20.10.24+dfsg1 (API 1.41)", ""},
		{"current", system.VersionResponse{Platform: struct{ Name string }{"Docker Engine - Community"}, Version: "28.5.2", APIVersion: "1.51"}, nil, probe.Pass, "Docker 28.5.2 (API 1.51)", ""},
		{"podman", system.VersionResponse{Platform: struct{ Name string }{"Podman Engine"}, Version: "4.3.1", APIVersion: "1.41"}, nil, probe.Pass, "Podman Engine 4.3.1 (API 1.41)", ""},
		{"too old", system.VersionResponse{Version: "19.03.15", APIVersion: "1.40"}, nil, probe.Warn, "Docker 19.03.15 (API 1.40) is older than Docker 20.10 (API 1.41)", "upgrade the Docker Engine"},
		{"error", system.VersionResponse{}, errors.New("Error response from daemon: boom"), probe.Fail,
			"GET /version from unix:///var/run/docker.sock: Error response from daemon: boom", "journalctl -u docker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeAPI{versionFunc: func(context.Context) (system.VersionResponse, error) { return tt.version, tt.err }}
			got := run(t, Options{Host: localHost, Client: api, StatFS: bigDisk})[IDVersion]
			if got.Status != tt.wantStatus || got.Detail != tt.wantDetail {
				t.Errorf("got %s %q, want %s %q", got.Status, got.Detail, tt.wantStatus, tt.wantDetail)
			}
			checkHint(t, got, tt.wantHint)
		})
	}
}

// One Checks call makes one /version and one /info request however many
// checks read them.
func TestOneRequestPerEndpoint(t *testing.T) {
	api := linuxDaemon(nil)
	res := run(t, Options{Host: localHost, Client: api, WantPrivileged: true, StatFS: bigDisk})
	for id, r := range res {
		if r.Status != probe.Pass {
			t.Errorf("%s: %s %q (hint %q)", id, r.Status, r.Detail, r.Hint)
		}
	}
	if n := api.infoCalls.Load(); n != 1 {
		t.Errorf("Info called %d times, want 1", n)
	}
	if n := api.versionCalls.Load(); n != 1 {
		t.Errorf("ServerVersion called %d times, want 1", n)
	}
}

// A deadline hit by one check is not kept for the others.
func TestMemoDoesNotKeepOwnDeadline(t *testing.T) {
	var m memo[int]
	calls := 0
	f := func(ctx context.Context) (int, error) {
		calls++
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		return 42, nil
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.get(cancelled, f); !errors.Is(err, context.Canceled) {
		t.Fatalf("first get: err = %v, want context.Canceled", err)
	}
	if v, err := m.get(context.Background(), f); v != 42 || err != nil {
		t.Fatalf("second get = %d, %v; want 42, nil", v, err)
	}
	if v, _ := m.get(context.Background(), f); v != 42 || calls != 2 {
		t.Errorf("third get = %d after %d calls; want 42 after 2 (cached)", v, calls)
	}
}

func TestFactsOf(t *testing.T) {
	api := linuxDaemon(func(i *system.Info) {
		i.HTTPSProxy = "http://u:s3cret@proxy:3128"
		i.SecurityOptions = []string{"name=rootless"}
		i.RegistryConfig = &registry.ServiceConfig{InsecureRegistryCIDRs: []netip.Prefix{cidr("127.0.0.0/8")}}
	})
	got, err := Gather(context.Background(), Options{Host: localHost, Client: api})
	if err != nil {
		t.Fatal(err)
	}
	want := Facts{
		Host: localHost, OS: "linux", Arch: "amd64", KernelVersion: "6.1.0-18-amd64", ServerVersion: "20.10.24+dfsg1", APIVersion: "1.41",
		RootDir: "/var/lib/docker", Driver: "overlay2", Rootless: true, HTTPSProxy: "http://u:xxxxx@proxy:3128",
		Registries: probe.DaemonRegistries{InsecureCIDRs: []string{"127.0.0.0/8"}, Secure: map[string]bool{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Gather =\n%#v\nwant\n%#v", got, want)
	}
}

// daemon.platform, which every image's platform check waits for, comes
// from /version alone on amd64: it is reported while /info is still
// unanswered. Here /info answers only once daemon.platform has been
// reported; a platform check that waited for /info would hold it until
// its deadline and fail the checks that read /info.
func TestPlatformDoesNotWaitForInfo(t *testing.T) {
	platformDone := make(chan struct{})
	var once sync.Once
	api := &fakeAPI{
		versionFunc: func(context.Context) (system.VersionResponse, error) {
			return system.VersionResponse{Os: "linux", Arch: "amd64", APIVersion: "1.41", Version: "20.10.24"}, nil
		},
		infoFunc: func(ctx context.Context) (system.Info, error) {
			select {
			case <-platformDone:
				return system.Info{OSType: "linux", Architecture: "x86_64", Driver: "overlay2", DockerRootDir: "/var/lib/docker"}, nil
			case <-ctx.Done():
				return system.Info{}, ctx.Err()
			}
		},
	}
	res, err := probe.Run(context.Background(), Checks(Options{Host: localHost, Client: api, StatFS: bigDisk}), probe.Options{
		Timeout: 2 * time.Second,
		OnResult: func(r probe.Result) {
			if r.ID == IDPlatform {
				once.Do(func() { close(platformDone) })
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != probe.Pass {
			t.Errorf("%s: %s %q", r.ID, r.Status, r.Detail)
		}
	}
}
