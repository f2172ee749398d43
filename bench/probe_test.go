//go:build bench

// Package bench measures runnerup against the tools a user would reach for
// instead, on the same loopback registry and daemon, and prints ratios of
// medians from one hyperfine run (commands side by side). Run with
//
//	go test -tags bench ./bench -v -count=1 -timeout 30m          # everything
//	bench/probe-vs-crane.sh, bench/probe-scale.sh                   # one each
//
// It needs root, dockerd, docker-registry, hyperfine and skopeo (Debian) and
// builds crane (at the version in go.mod) into a temporary GOBIN.
// BENCH_RUNS sets the timed runs per command (default 60).
package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/testenv"
)

var originalHome = os.Getenv("HOME")

// TestProbeImageVersusCrane: `runnerup probe --image REF` against
// `crane manifest REF` on one loopback docker-registry with htpasswd auth,
// both with the same credentials ($HOME/.docker/config.json, which crane
// reads when DOCKER_CONFIG is unset). runnerup also checks the daemon, so
// it is timed a second time with the daemon unreachable (its checks fail
// at once): the registry chain and the process alone. Every command runs
// under env(1), so each pays for the same extra exec. Then both again with
// the registry behind BENCH_RTT.
func TestProbeImageVersusCrane(t *testing.T) {
	testenv.Need(t, true, "hyperfine", "skopeo")
	testenv.Isolate(t)
	d := testenv.StartDockerd(t, testenv.DockerdOptions{})
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{Auth: true})
	ref := reg.PushImage(t, d, "ci/app", "1")
	runnerup, crane := tools(t)

	dockerDir := filepath.Join(os.Getenv("HOME"), ".docker")
	if err := os.MkdirAll(dockerDir, 0o700); err != nil {
		t.Fatal(err)
	}
	// The same registry once more behind BENCH_RTT (default 20ms), as a
	// registry across a network: there round trips count, on bare
	// loopback CPU does.
	rtt := benchRTT(t)
	far := startLatencyProxy(t, reg.Addr, rtt)
	farRef := far.Addr + "/ci/app:1"
	cfg := `{"auths":{"` + reg.Host + `":{"auth":"` + reg.AuthConfigValue() + `"},"` + far.Addr + `":{"auth":"` + reg.AuthConfigValue() + `"}}}`
	if err := os.WriteFile(filepath.Join(dockerDir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	probe := "env DOCKER_HOST=" + d.Host + " " + runnerup + " probe --image " + ref + " -o json"
	// What is timed must pass, with the credentials: crane gets a 401
	// without them, and runnerup reports every check.
	for _, line := range []string{probe, "env " + crane + " manifest --insecure " + ref} {
		if out, err := exec.Command("sh", "-c", line).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
	}

	t.Logf("load average before: %s", loadavg())
	ms := hyperfine(t,
		command{"runnerup probe --image (daemon + registry, 12 checks)", probe},
		command{"runnerup probe --image, daemon unreachable (registry chain)", "env DOCKER_HOST=unix:///nonexistent/docker.sock " + runnerup + " probe --image " + ref + " -o json"},
		command{"crane manifest", "env " + crane + " manifest --insecure " + ref},
		command{"skopeo inspect --raw", "env skopeo inspect --raw --tls-verify=false --creds " + reg.Username + ":" + reg.Password + " docker://" + ref},
	)
	t.Logf("load average after: %s", loadavg())
	for _, m := range ms {
		t.Log(m)
	}
	ratio(t, "probe --image / crane manifest", ms[0], ms[2])
	ratio(t, "probe --image registry chain only / crane manifest", ms[1], ms[2])

	farProbe := "env DOCKER_HOST=" + d.Host + " " + runnerup + " probe --image " + farRef + " -o json"
	if out, err := exec.Command("sh", "-c", farProbe).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", farProbe, err, out)
	}
	far1 := hyperfine(t,
		command{fmt.Sprintf("runnerup probe --image, registry RTT %s", rtt), farProbe},
		command{fmt.Sprintf("crane manifest, registry RTT %s", rtt), "env " + crane + " manifest --insecure " + farRef},
	)
	t.Logf("load average after: %s", loadavg())
	for _, m := range far1 {
		t.Log(m)
	}
	ratio(t, fmt.Sprintf("probe --image / crane manifest, registry RTT %s", rtt), far1[0], far1[1])

	// The critical path, from the runs' own timelines: when the registry
	// chain and the daemon checks were done (medians of 20 runs).
	var chain, daemon, wall []float64
	for range 20 {
		js, err := exec.Command("sh", "-c", probe).Output()
		if err != nil {
			t.Fatalf("probe: %v\n%s", err, js)
		}
		c, dm, all := ends(t, js)
		chain, daemon, wall = append(chain, c), append(daemon, dm), append(wall, all)
	}
	t.Logf("TIMELINE registry chain done at %.0f ms, daemon checks at %.0f ms, last check at %.0f ms after the run started (medians of 20)",
		median(chain), median(daemon), median(wall))
}

// ends reads a probe's -o json: when the last registry/image check, the
// last daemon check and the last check of all ended (ms since run start).
func ends(t *testing.T, js []byte) (chain, daemon, all float64) {
	t.Helper()
	var res struct {
		Checks []struct {
			ID         string `json:"id"`
			StartedMS  int64  `json:"started_ms"`
			DurationMS int64  `json:"duration_ms"`
		} `json:"checks"`
	}
	if err := json.Unmarshal(js, &res); err != nil {
		t.Fatalf("probe -o json: %v\n%s", err, js)
	}
	for _, c := range res.Checks {
		end := float64(c.StartedMS + c.DurationMS)
		switch {
		case strings.HasPrefix(c.ID, "registry.") || strings.HasPrefix(c.ID, "image."):
			chain = max(chain, end)
		case strings.HasPrefix(c.ID, "daemon."):
			daemon = max(daemon, end)
		}
		all = max(all, end)
	}
	return chain, daemon, all
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
