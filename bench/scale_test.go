//go:build bench

package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/runnerup/runnerup/internal/fakeregistry"
	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
	"github.com/runnerup/runnerup/internal/testenv"
)

// benchRTT is the round trip the registries are put behind (BENCH_RTT,
// default 20ms: a registry in the same region; 0 for bare loopback).
func benchRTT(t *testing.T) time.Duration {
	if v := os.Getenv("BENCH_RTT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("BENCH_RTT: %v", err)
		}
		return d
	}
	return 20 * time.Millisecond
}

// TestProbeConfigScale: `runnerup probe --config` of a config.toml whose
// 50 runners reference 100 images (each image named by two runners) on 3
// registries — one with htpasswd auth, two anonymous, each a Debian
// docker-registry behind a proxy adding BENCH_RTT — against the slowest
// `runnerup probe --image` of one image of each registry. Both check the
// daemon too; --config also verifies the 50 runner tokens (a loopback fake
// GitLab) and the host's runner set-up. The ratio of medians is the
// figure; the proxies count the registries' TCP connections.
func TestProbeConfigScale(t *testing.T) {
	testenv.Need(t, true, "hyperfine")
	home := testenv.Isolate(t)
	rtt := benchRTT(t)
	d := testenv.StartDockerd(t, testenv.DockerdOptions{})
	t.Setenv("DOCKER_HOST", d.Host)
	regs := []*testenv.Registry{
		testenv.StartRegistry(t, testenv.RegistryOptions{Auth: true}),
		testenv.StartRegistry(t, testenv.RegistryOptions{}),
		testenv.StartRegistry(t, testenv.RegistryOptions{}),
	}
	var proxies []*latencyProxy
	for _, r := range regs {
		proxies = append(proxies, startLatencyProxy(t, r.Addr, rtt))
	}
	// 100 distinct images, pushed straight to the registries.
	var images []string
	for i := range 100 {
		r, p := regs[i%3], proxies[i%3]
		repo := fmt.Sprintf("group%d/app%d", i%7, i)
		tag, err := name.NewTag(r.Addr + "/" + repo + ":1")
		if err != nil {
			t.Fatal(err)
		}
		var auth remote.Option = remote.WithAuth(authn.Anonymous)
		if r.Auth {
			auth = remote.WithAuth(&authn.Basic{Username: r.Username, Password: r.Password})
		}
		if err := remote.Write(tag, fakeregistry.PlatformImage(t, v1.Platform{OS: "linux", Architecture: "amd64"}), auth); err != nil {
			t.Fatalf("push %s: %v", tag, err)
		}
		images = append(images, p.Addr+"/"+repo+":1")
	}

	gl := fakegitlab.New(t)
	var cfg strings.Builder
	cfg.WriteString("concurrent = 50\n")
	for r := range 50 {
		tok := fmt.Sprintf("glrt-BENCHSCALEBENCH%06d", r)
		gl.AddRunner(tok, int64(1000+r))
		fmt.Fprintf(&cfg, "\n[[runners]]\n  name = \"r%d\"\n  url = %q\n  token = %q\n  executor = \"docker\"\n  [runners.docker]\n    image = %q\n", r, gl.URL, tok, images[2*r])
		for _, s := range []string{images[2*r+1], images[(2*r+2)%100], images[(2*r+3)%100]} {
			fmt.Fprintf(&cfg, "    [[runners.docker.services]]\n      name = %q\n", s)
		}
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(config, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	dockerDir := filepath.Join(home, ".docker")
	if err := os.MkdirAll(dockerDir, 0o700); err != nil {
		t.Fatal(err)
	}
	auths := `{"auths":{"` + proxies[0].Addr + `":{"auth":"` + regs[0].AuthConfigValue() + `"}}}`
	if err := os.WriteFile(filepath.Join(dockerDir, "config.json"), []byte(auths), 0o600); err != nil {
		t.Fatal(err)
	}

	runnerup, _ := tools(t)
	concurrency := os.Getenv("BENCH_CONCURRENCY") // empty: the default
	probeConfig := runnerup + " probe --config " + config + " --docker-config " + dockerDir + " -o json"
	if concurrency != "" {
		probeConfig += " --registry-concurrency " + concurrency
	}
	// What is timed must find what it is timed for: every image passes.
	// This run is also accounted for: connections at the registries, and
	// the CPU time of runnerup, the registries and the daemon.
	before, cpuBefore := connections(proxies), cpuTicks(t, regs, d)
	run := exec.Command("sh", "-c", probeConfig)
	js, err := run.Output()
	if err != nil {
		t.Fatalf("probe --config: %v\n%s", err, js)
	}
	after, cpuAfter := connections(proxies), cpuTicks(t, regs, d)
	for _, img := range images {
		if !strings.Contains(string(js), `"id": "image.`+img+`.platform",`) {
			t.Fatalf("probe --config has no platform check for %s:\n%s", img, js)
		}
	}
	if strings.Contains(string(js), `"status": "fail"`) {
		t.Fatalf("probe --config failed a check:\n%s", js)
	}
	for i := range proxies {
		t.Logf("registry %d (%s): %d TCP connections, %.2f s CPU in one probe --config", i, []string{"htpasswd", "anonymous", "anonymous"}[i],
			after[i]-before[i], float64(cpuAfter[i]-cpuBefore[i])/100)
	}
	t.Logf("CPU of that run: runnerup %.2f s (sh and all), dockerd %.2f s", (run.ProcessState.UserTime() + run.ProcessState.SystemTime()).Seconds(),
		float64(cpuAfter[3]-cpuBefore[3])/100)
	_, _, last := ends(t, js)
	t.Logf("TIMELINE probe --config: last check done %.0f ms after the run started", last)

	cmds := []command{{fmt.Sprintf("probe --config (50 runners, 100 images, 3 registries, RTT %s)", rtt), probeConfig}}
	for i := range 3 {
		cmds = append(cmds, command{fmt.Sprintf("probe --image (one image of registry %d)", i), runnerup + " probe --image " + images[i] + " -o json"})
	}
	t.Logf("load average before: %s", loadavg())
	ms := hyperfine(t, cmds...)
	t.Logf("load average after: %s", loadavg())
	slowest := ms[1]
	for _, m := range ms {
		t.Log(m)
		if m.Name != ms[0].Name && m.Median > slowest.Median {
			slowest = m
		}
	}
	ratio(t, "probe --config (100 images) / slowest probe --image", ms[0], slowest)
}

func connections(ps []*latencyProxy) []int64 {
	var out []int64
	for _, p := range ps {
		out = append(out, p.Connections())
	}
	return out
}

// cpuTicks reads the CPU time (user + system, in clock ticks of 10 ms) the
// registries and the daemon have used so far, from /proc.
func cpuTicks(t *testing.T, regs []*testenv.Registry, d *testenv.Dockerd) []int64 {
	t.Helper()
	var pids []string
	for _, r := range regs {
		out, err := exec.Command("pgrep", "-f", "serve "+filepath.Join(r.Dir, "config.yml")).Output()
		if err != nil {
			t.Fatalf("pgrep registry: %v", err)
		}
		pids = append(pids, strings.Fields(string(out))[0])
	}
	pid, err := os.ReadFile(filepath.Join(d.Dir, "docker.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pids = append(pids, strings.TrimSpace(string(pid)))
	var ticks []int64
	for _, p := range pids {
		b, err := os.ReadFile("/proc/" + p + "/stat")
		if err != nil {
			t.Fatal(err)
		}
		// Fields after the parenthesised command: utime is the 14th, stime the 15th.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		ticks = append(ticks, u+s)
	}
	return ticks
}
