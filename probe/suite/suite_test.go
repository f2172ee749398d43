package suite

import (
	"context"
	"github.com/moby/moby/client"
	"io"
	"log"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/api/types/system"

	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/credentials"
	"github.com/runnerup/runnerup/probe/daemon"
)

type fakeDaemon struct{}

func (fakeDaemon) Ping(context.Context) (client.PingResult, error) {
	return client.PingResult{APIVersion: "1.41", OSType: "linux"}, nil
}
func (fakeDaemon) ServerVersion(context.Context) (system.VersionResponse, error) {
	return system.VersionResponse{Version: "20.10.24", APIVersion: "1.41", Os: "linux", Arch: "amd64"}, nil
}
func (fakeDaemon) Info(context.Context) (system.Info, error) {
	return system.Info{OSType: "linux", Architecture: "x86_64", Driver: "overlay2", DockerRootDir: "/var/lib/docker",
		RegistryConfig: &registry.ServiceConfig{InsecureRegistryCIDRs: []netip.Prefix{}}}, nil
}

// testPlan: a fake GitLab, a fake daemon and two images on an in-memory
// registry on loopback, so every part of the graph is present.
func testPlan(t *testing.T) (Plan, string) {
	t.Helper()
	gl := fakegitlab.New(t)
	gl.AddRunner("glrt-suitesuitesuitesuite", 5)
	reg := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	host := strings.TrimPrefix(reg.URL, "http://")
	var images []string
	for _, repo := range []string{"ci/app", "ci/db"} {
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		ref := host + "/" + repo + ":1"
		tag, _ := name.NewTag(ref)
		if err := remote.Write(tag, img); err != nil {
			t.Fatal(err)
		}
		images = append(images, ref)
	}
	return Plan{
		GitLab:      &probe.GitLabTarget{URL: gl.URL, Token: "glrt-suitesuitesuitesuite", Verify: true, SystemID: "s_000000000001"},
		Daemon:      &daemon.Options{Client: fakeDaemon{}, WantOS: "linux", StatFS: func(string) (uint64, uint64, error) { return 50 << 30, 100 << 30, nil }},
		Images:      images,
		Credentials: &credentials.Resolver{ConfigJSON: []byte("{}"), ConfigJSONPath: "/nonexistent/.docker/config.json", HomeDir: "/nonexistent"},
	}, host
}

func TestPlanChecksPass(t *testing.T) {
	p, host := testPlan(t)
	res, err := probe.Run(context.Background(), p.Checks(), probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]probe.Status{}
	for _, r := range res {
		ids[r.ID] = r.Status
		if r.Status == probe.Fail {
			t.Errorf("%s failed: %s (%s)", r.ID, r.Detail, r.Hint)
		}
	}
	for _, id := range []string{"gitlab.token", "daemon.platform", "credentials." + host, "registry." + host + ".auth", "image." + host + "/ci/app:1.manifest", "image." + host + "/ci/db:1.platform"} {
		if _, ok := ids[id]; !ok {
			t.Errorf("check %s missing from the suite (have %v)", id, ids)
		}
	}
}

// With every check delayed by the same fake network time, the suite costs
// about the longest dependency chain, not the sum: independent checks run
// at once and each waits only for what it needs.
func TestSuiteCostsTheCriticalPathNotTheSum(t *testing.T) {
	const delay = 300 * time.Millisecond
	p, _ := testPlan(t)
	checks := p.Checks()
	for i := range checks {
		run := checks[i].Run
		checks[i].Run = func(ctx context.Context, deps probe.Deps) probe.Result {
			time.Sleep(delay)
			return run(ctx, deps)
		}
	}
	depth := criticalPath(checks)
	start := time.Now()
	res, err := probe.Run(context.Background(), checks, probe.Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	sum := time.Duration(len(res)) * delay
	t.Logf("%d checks, longest chain %d, took %s (serial would be ≥ %s; ratio to one check %.2f, to the chain %.2f)",
		len(res), depth, took.Round(time.Millisecond), sum, float64(took)/float64(delay), float64(took)/float64(time.Duration(depth)*delay))
	if limit := time.Duration(depth)*delay + delay/2; took > limit {
		t.Errorf("suite took %s; the longest chain (%d checks) allows %s", took, depth, limit)
	}
}

func criticalPath(checks []probe.Check) int {
	byID := map[string]probe.Check{}
	for _, c := range checks {
		byID[c.ID] = c
	}
	memo := map[string]int{}
	var depth func(id string) int
	depth = func(id string) int {
		if d, ok := memo[id]; ok {
			return d
		}
		best := 0
		for _, n := range byID[id].Needs {
			best = max(best, depth(n))
		}
		memo[id] = best + 1
		return best + 1
	}
	longest := 0
	for id := range byID {
		longest = max(longest, depth(id))
	}
	return longest
}
