//go:build bench

package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/testenv"
)

// tools builds runnerup and crane as users get them (static, CGO_ENABLED=0
// as goreleaser builds runnerup), crane at the go-containerregistry version
// runnerup's go.mod names, into a temporary GOBIN (never the tree).
// BENCH_RUNNERUP names a runnerup binary to time instead (an older build,
// to compare before and after in the same conditions).
func tools(t *testing.T) (runnerup, crane string) {
	t.Helper()
	bin := t.TempDir()
	runnerup = os.Getenv("BENCH_RUNNERUP")
	if runnerup == "" {
		runnerup = filepath.Join(bin, "runnerup")
		build := exec.Command("go", "build", "-o", runnerup, ".")
		build.Dir = ".."
		build.Env = append(os.Environ(), "HOME="+originalHome, "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	mod := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/google/go-containerregistry")
	mod.Dir = ".."
	mod.Env = append(os.Environ(), "HOME="+originalHome)
	v, err := mod.Output()
	if err != nil {
		t.Fatalf("go list -m go-containerregistry: %v", err)
	}
	install := exec.Command("go", "install", "github.com/google/go-containerregistry/cmd/crane@"+strings.TrimSpace(string(v)))
	install.Env = append(os.Environ(), "GOBIN="+bin, "HOME="+originalHome, "CGO_ENABLED=0")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install crane@%s: %v\n%s", strings.TrimSpace(string(v)), err, out)
	}
	return runnerup, filepath.Join(bin, "crane")
}

// timing is one command's hyperfine figures, in milliseconds.
type timing struct {
	Name                    string
	Median, P25, P75, Min   float64
	Max, Mean, Stddev, Runs float64
}

func (m timing) String() string {
	return fmt.Sprintf("%-58s median %6.1f ms  (p25 %6.1f, p75 %6.1f, min %6.1f, max %6.1f; %d runs)",
		m.Name, m.Median, m.P25, m.P75, m.Min, m.Max, int(m.Runs))
}

// command is one hyperfine command: a name and its shell-free argv line.
type command struct{ name, line string }

// benchRuns is how many timed runs each command gets (BENCH_RUNS, default
// 60): the machine these run on is shared, so medians over many runs.
func benchRuns() string {
	if n, err := strconv.Atoi(os.Getenv("BENCH_RUNS")); err == nil && n > 0 {
		return strconv.Itoa(n)
	}
	return "60"
}

// hyperfine times cmds side by side in one invocation (-N: no shell;
// -i: a failing exit code is still timed, for runs that fail on purpose)
// and returns their figures in order.
func hyperfine(t *testing.T, cmds ...command) []timing {
	t.Helper()
	export := filepath.Join(t.TempDir(), "hyperfine.json")
	args := []string{"-N", "-i", "--warmup", "5", "--runs", benchRuns(), "--export-json", export, "--style", "basic"}
	for _, c := range cmds {
		args = append(args, "--command-name", c.name, c.line)
	}
	out, err := exec.Command("hyperfine", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("hyperfine: %v\n%s", err, out)
	}
	var h struct {
		Results []struct {
			Command string    `json:"command"`
			Mean    float64   `json:"mean"`
			Stddev  float64   `json:"stddev"`
			Times   []float64 `json:"times"`
		} `json:"results"`
	}
	data, err := os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &h); err != nil {
		t.Fatalf("hyperfine json: %v", err)
	}
	var ms []timing
	for _, r := range h.Results {
		ts := slices.Clone(r.Times)
		slices.Sort(ts)
		q := func(p float64) float64 { return 1000 * ts[int(p*float64(len(ts)-1)+0.5)] }
		ms = append(ms, timing{Name: r.Command, Median: q(0.5), P25: q(0.25), P75: q(0.75), Min: q(0), Max: q(1),
			Mean: 1000 * r.Mean, Stddev: 1000 * r.Stddev, Runs: float64(len(ts))})
	}
	return ms
}

// loadavg is /proc/loadavg's first three fields, to state the noise.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// ratio prints a / b with both medians and the spread of the ratio from
// the quartiles (a's p25 over b's p75 … a's p75 over b's p25).
func ratio(t *testing.T, what string, a, b timing) float64 {
	t.Helper()
	r := a.Median / b.Median
	t.Logf("RATIO %s: %.2f× (median %.1f ms / %.1f ms; quartile range %.2f–%.2f×)", what, r, a.Median, b.Median, a.P25/b.P75, a.P75/b.P25)
	return r
}

// build builds pkg of this module to out with the caller's caches.
func build(t *testing.T, out, pkg string) {
	t.Helper()
	if b, err := testenv.GoBuild("..", out, pkg); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}
