//go:build bench

package bench

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
	"github.com/runnerup/runnerup/internal/testenv"
)

// TestStaleCheckVersusCurlLoop: finding the stale entries of a 10-runner
// config.toml. The peer is what a user scripts today, one verify call per
// token with curl; GitLab answers each call after 100 ms (a remote
// instance). runnerup verifies the entries concurrently, and also checks
// the service, system id and proxies in the same run.
func TestStaleCheckVersusCurlLoop(t *testing.T) {
	testenv.Need(t, false, "hyperfine", "curl")
	gl := fakegitlab.New(t)
	target, _ := url.Parse(gl.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(slow.Close)

	dir := t.TempDir()
	var cfg strings.Builder
	cfg.WriteString("concurrent = 10\n")
	var tokens []string
	for i := range 10 {
		tok := fmt.Sprintf("glrt-BENCHBENCHBENCH%06d", i)
		if i%5 != 0 { // entries 0 and 5 are stale
			gl.AddRunner(tok, int64(100+i))
		}
		tokens = append(tokens, tok)
		fmt.Fprintf(&cfg, "\n[[runners]]\n  name = \"r%d\"\n  url = %q\n  token = %q\n  executor = \"shell\"\n", i, slow.URL, tok)
	}
	config := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(config, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	build(t, filepath.Join(bin, "runnerup"), ".")
	// What is timed must find what it is timed for: the two stale entries.
	js, _ := exec.Command(filepath.Join(bin, "runnerup"), "probe", "--config", config, "-o", "json").Output()
	var res struct {
		Checks []struct{ ID, Finding string }
	}
	if err := json.Unmarshal(js, &res); err != nil {
		t.Fatalf("probe --config: %v\n%s", err, js)
	}
	stale := 0
	for _, c := range res.Checks {
		if c.Finding == "runner.stale" {
			stale++
		}
	}
	if stale != 2 {
		t.Fatalf("probe --config found %d stale entries, want 2:\n%s", stale, js)
	}
	loop := "for t in " + strings.Join(tokens, " ") + "; do curl -s -o /dev/null -w '%{http_code} ' -X POST " + slow.URL + "/api/v4/runners/verify -d token=$t; done"
	jsonOut := filepath.Join(bin, "h.json")
	out, err := exec.Command("hyperfine", "--warmup", "2", "--runs", "10", "-i", "--export-json", jsonOut,
		"--command-name", "runnerup probe --config (10 entries: verify + service + system id + proxies)",
		filepath.Join(bin, "runnerup")+" probe --config "+config+" -o json",
		"--command-name", "curl loop over POST /runners/verify",
		loop).CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Results []struct {
			Mean float64 `json:"mean"`
		} `json:"results"`
	}
	data, _ := os.ReadFile(jsonOut)
	if err := json.Unmarshal(data, &h); err != nil || len(h.Results) != 2 {
		t.Fatalf("hyperfine json: %v", err)
	}
	t.Logf("runnerup %.0f ms, curl loop %.0f ms, ratio %.2f", h.Results[0].Mean*1000, h.Results[1].Mean*1000, h.Results[0].Mean/h.Results[1].Mean)
}
