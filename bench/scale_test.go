//go:build bench

package bench

import (
	"encoding/base64"
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

// scaleRegistry is one registry of the scale bench.
type scaleRegistry struct {
	addr       string // where it listens
	user, pass string // "" for an anonymous one
	push       func(t *testing.T, repo string)
	pid        string // the docker-registry process ("" in-process)
}

// scaleRegistries starts the bench's three registries, one with htpasswd
// auth: Debian docker-registry processes, or with BENCH_REGISTRY=memory
// go-containerregistry's in-memory registry in this process
// (internal/fakeregistry), whose requests cost little CPU, so that the
// figure shows runnerup's scaling rather than the registries' CPU on a
// small machine.
func scaleRegistries(t *testing.T) []scaleRegistry {
	t.Helper()
	platform := v1.Platform{OS: "linux", Architecture: "amd64"}
	var out []scaleRegistry
	for i := range 3 {
		if os.Getenv("BENCH_REGISTRY") == "memory" {
			f := fakeregistry.New(t)
			r := scaleRegistry{addr: f.Host, push: func(t *testing.T, repo string) { f.PushImage(repo, "1", platform) }}
			if i == 0 {
				r.user, r.pass = "ci", "bench-pass-0123456789"
				f.Basic(r.user, r.pass)
			}
			out = append(out, r)
			continue
		}
		reg := testenv.StartRegistry(t, testenv.RegistryOptions{Auth: i == 0})
		pid, err := exec.Command("pgrep", "-f", "serve "+filepath.Join(reg.Dir, "config.yml")).Output()
		if err != nil {
			t.Fatalf("pgrep registry: %v", err)
		}
		auth := remote.WithAuth(authn.Anonymous)
		if reg.Auth {
			auth = remote.WithAuth(&authn.Basic{Username: reg.Username, Password: reg.Password})
		}
		out = append(out, scaleRegistry{addr: reg.Addr, user: reg.Username, pass: reg.Password, pid: strings.Fields(string(pid))[0],
			push: func(t *testing.T, repo string) {
				tag, err := name.NewTag(reg.Addr + "/" + repo + ":1")
				if err != nil {
					t.Fatal(err)
				}
				if err := remote.Write(tag, fakeregistry.PlatformImage(t, platform), auth); err != nil {
					t.Fatalf("push %s: %v", tag, err)
				}
			}})
	}
	return out
}

// TestProbeConfigScale: `runnerup probe --config` of a config.toml whose
// 50 runners reference 100 images (each image named by two runners) on 3
// registries — one with htpasswd auth, two anonymous, each behind a proxy
// adding BENCH_RTT — against the slowest `runnerup probe --image` of one
// image of each registry. Both check the daemon too; --config also
// verifies the 50 runner tokens (a loopback fake GitLab) and the host's
// runner set-up. The ratio of medians is the figure; the proxies count
// the registries' TCP connections.
func TestProbeConfigScale(t *testing.T) {
	testenv.Need(t, true, "hyperfine")
	home := testenv.Isolate(t)
	rtt := benchRTT(t)
	d := testenv.StartDockerd(t, testenv.DockerdOptions{})
	t.Setenv("DOCKER_HOST", d.Host)
	regs := scaleRegistries(t)
	var proxies []*latencyProxy
	for _, r := range regs {
		proxies = append(proxies, startLatencyProxy(t, r.addr, rtt))
	}
	// 100 distinct images, pushed straight to the registries.
	var images []string
	for i := range 100 {
		repo := fmt.Sprintf("group%d/app%d", i%7, i)
		regs[i%3].push(t, repo)
		images = append(images, proxies[i%3].Addr+"/"+repo+":1")
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
	auth := base64.StdEncoding.EncodeToString([]byte(regs[0].user + ":" + regs[0].pass))
	auths := `{"auths":{"` + proxies[0].Addr + `":{"auth":"` + auth + `"}}}`
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
		cpu := "in-process"
		if regs[i].pid != "" {
			cpu = fmt.Sprintf("%.2f s CPU", float64(cpuAfter[i]-cpuBefore[i])/100)
		}
		t.Logf("registry %d (%s): %d TCP connections, %s in one probe --config", i, []string{"htpasswd", "anonymous", "anonymous"}[i],
			after[i]-before[i], cpu)
	}
	t.Logf("CPU of that run: runnerup %.2f s (sh and all), dockerd %.2f s", (run.ProcessState.UserTime() + run.ProcessState.SystemTime()).Seconds(),
		float64(cpuAfter[3]-cpuBefore[3])/100)
	_, _, last := ends(t, js)
	t.Logf("TIMELINE probe --config: last check done %.0f ms after the run started", last)

	kind := "docker-registry"
	if os.Getenv("BENCH_REGISTRY") == "memory" {
		kind = "in-memory"
	}
	cmds := []command{{fmt.Sprintf("probe --config (50 runners, 100 images, 3 %s, RTT %s)", kind, rtt), probeConfig}}
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
// registries (0 for one in-process) and the daemon have used so far.
func cpuTicks(t *testing.T, regs []scaleRegistry, d *testenv.Dockerd) []int64 {
	t.Helper()
	var pids []string
	for _, r := range regs {
		pids = append(pids, r.pid)
	}
	pid, err := os.ReadFile(filepath.Join(d.Dir, "docker.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pids = append(pids, strings.TrimSpace(string(pid)))
	var ticks []int64
	for _, p := range pids {
		if p == "" {
			ticks = append(ticks, 0)
			continue
		}
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
