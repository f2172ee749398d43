package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/moby/moby/client"
	"os"
	"sync/atomic"
	"testing"

	"github.com/moby/moby/api/types/system"

	"github.com/runnerup/runnerup/probe"
)

// helperEnv makes the test binary act as a child process instead of
// running tests: the permission test re-executes it as uid 65534, because
// root (which runs the integration tests) is never denied a socket.
const (
	helperEnv     = "RUNNERUP_DAEMON_TEST_HELPER"
	helperHostEnv = "RUNNERUP_DAEMON_TEST_HOST"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "checks" {
		os.Exit(runHelper(os.Getenv(helperHostEnv)))
	}
	// No test may reach the developer's daemon or proxy by accident, nor
	// read their ~/.docker.
	for _, k := range []string{"DOCKER_HOST", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "DOCKER_API_VERSION", "DOCKER_CONTEXT",
		"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "XDG_RUNTIME_DIR"} {
		os.Unsetenv(k)
	}
	home, err := os.MkdirTemp("", "daemon-test-home")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("HOME", home)
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}

// runHelper runs the daemon checks against host and prints the results as
// JSON on stdout for the parent test.
func runHelper(host string) int {
	res, err := probe.Run(context.Background(), Checks(Options{Host: host}), probe.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// fakeAPI is a docker/cli-style fake: each call goes to its func field,
// and a nil field fails the test's expectations loudly.
type fakeAPI struct {
	pingFunc    func(context.Context) (client.PingResult, error)
	versionFunc func(context.Context) (system.VersionResponse, error)
	infoFunc    func(context.Context) (system.Info, error)

	infoCalls, versionCalls atomic.Int32
}

var _ API = (*fakeAPI)(nil)

func (f *fakeAPI) Ping(ctx context.Context) (client.PingResult, error) {
	if f.pingFunc == nil {
		return client.PingResult{APIVersion: "1.41", OSType: "linux"}, nil
	}
	return f.pingFunc(ctx)
}

func (f *fakeAPI) ServerVersion(ctx context.Context) (system.VersionResponse, error) {
	f.versionCalls.Add(1)
	if f.versionFunc == nil {
		return system.VersionResponse{}, fmt.Errorf("fakeAPI: ServerVersion not expected")
	}
	return f.versionFunc(ctx)
}

func (f *fakeAPI) Info(ctx context.Context) (system.Info, error) {
	f.infoCalls.Add(1)
	if f.infoFunc == nil {
		return system.Info{}, fmt.Errorf("fakeAPI: Info not expected")
	}
	return f.infoFunc(ctx)
}

// linuxDaemon answers like the Debian 20.10 daemon the integration tests
// start, with info changed by edit.
func linuxDaemon(edit func(*system.Info)) *fakeAPI {
	info := system.Info{
		OSType: "linux", Architecture: "x86_64", Driver: "overlay2", DockerRootDir: "/var/lib/docker",
		SecurityOptions: []string{"name=seccomp,profile=default", "name=cgroupns"},
		ServerVersion:   "20.10.24+dfsg1", KernelVersion: "6.1.0-18-amd64",
	}
	if edit != nil {
		edit(&info)
	}
	return &fakeAPI{
		versionFunc: func(context.Context) (system.VersionResponse, error) {
			return system.VersionResponse{Version: "20.10.24+dfsg1", APIVersion: "1.41", Os: "linux", Arch: "amd64", KernelVersion: "6.1.0-18-amd64"}, nil
		},
		infoFunc: func(context.Context) (system.Info, error) { return info, nil },
	}
}

// run runs the checks of opts through probe.Run and indexes the results.
func run(t *testing.T, opts Options) map[string]probe.Result {
	t.Helper()
	res, err := probe.Run(context.Background(), Checks(opts), probe.Options{})
	if err != nil {
		t.Fatalf("probe.Run: %v", err)
	}
	byID := make(map[string]probe.Result, len(res))
	for _, r := range res {
		byID[r.ID] = r
	}
	return byID
}
