package diagnose

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runnerup/runnerup/probe"
)

// helperEnv makes the test binary run one diagnosis and print its report
// as JSON instead of running tests: the permission test re-executes it as
// uid 65534, because root (which runs the integration tests) is never
// denied a socket.
const (
	helperEnv      = "RUNNERUP_DIAGNOSE_TEST_HELPER"
	helperHostEnv  = "RUNNERUP_DIAGNOSE_TEST_HOST"
	helperImageEnv = "RUNNERUP_DIAGNOSE_TEST_IMAGE"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "run" {
		os.Exit(runHelper())
	}
	// No test may reach the developer's daemon, proxy or credentials.
	for _, k := range []string{"DOCKER_HOST", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "DOCKER_API_VERSION", "DOCKER_CONTEXT",
		"DOCKER_CONFIG", "DOCKER_AUTH_CONFIG", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
		"http_proxy", "https_proxy", "no_proxy", "all_proxy", "XDG_RUNTIME_DIR"} {
		os.Unsetenv(k)
	}
	home, err := os.MkdirTemp("", "diagnose-test-home")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("HOME", home)
	code := m.Run()
	os.RemoveAll(home)
	slowest.report()
	os.Exit(code)
}

func runHelper() int {
	home, _ := os.MkdirTemp("", "diag-helper")
	rep, err := Run(context.Background(), Options{
		Image: os.Getenv(helperImageEnv), Runner: &Runner{Name: "nobody", DockerHost: os.Getenv(helperHostEnv)},
		HomeDir: home, HelperEnv: []string{"PATH=/nonexistent"}, LookupEnv: noEnv, CertsDir: home,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func noEnv(string) (string, bool) { return "", false }

// slowest records the wall-clock time of every diagnosis the tests run,
// to report the slowest one (the goal is < 1 s on loopback; not asserted).
type timing struct {
	sync.Mutex
	name string
	d    time.Duration
	n    int
}

var slowest = &timing{}

func record(name string, d time.Duration) {
	slowest.Lock()
	defer slowest.Unlock()
	slowest.n++
	if d > slowest.d {
		slowest.name, slowest.d = name, d
	}
}

func (s *timing) report() {
	if s.n > 0 {
		fmt.Printf("diagnose timing: %d diagnoses, slowest %v (%s)\n", s.n, s.d.Round(time.Millisecond), s.name)
	}
}

// secrets every test registers, so each report can be scanned for all.
var secrets = struct {
	sync.Mutex
	values []string
}{}

func addSecret(vs ...string) {
	secrets.Lock()
	defer secrets.Unlock()
	for _, v := range vs {
		if len(v) >= 4 && !slices.Contains(secrets.values, v) {
			secrets.values = append(secrets.values, v)
		}
	}
}

// secretAuth registers user:pass and its base64, and returns the base64.
func secretAuth(user, pass string) string {
	a := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	addSecret(pass, a)
	return a
}

// assertNoSecrets scans the report's JSON and its Go rendering.
func assertNoSecrets(t testing.TB, rep *Report) {
	t.Helper()
	j, _ := json.Marshal(rep)
	texts := []string{string(j), fmt.Sprintf("%+v", *rep)}
	secrets.Lock()
	values := slices.Clone(secrets.values)
	secrets.Unlock()
	for _, text := range texts {
		for _, s := range values {
			if strings.Contains(text, s) {
				t.Errorf("secret %q… leaked into the report:\n%s", s[:4], text)
			}
		}
		if strings.Contains(text, "Authorization:") {
			t.Errorf("an Authorization header leaked: %s", text)
		}
	}
}

// logReport prints a report compactly.
func logReport(t testing.TB, rep *Report) {
	t.Helper()
	for _, r := range rep.Checks {
		t.Logf("  %-4s %s: %s", r.Status, r.ID, r.Detail)
	}
	if c := rep.Credentials; c != nil {
		t.Logf("  credentials: %s", c.Why)
	}
	for _, c := range rep.Causes {
		t.Logf("  CAUSE %s: %s\n      evidence: %s\n      fix: %s", c.ID, c.Summary, strings.Join(c.Evidence, " | "), strings.Join(c.Fix, " | "))
	}
	for _, c := range rep.Latent {
		t.Logf("  LATENT %s", c.ID)
	}
	for _, n := range rep.Notes {
		t.Logf("  note: %s", n)
	}
	if rep.Log != nil {
		for _, m := range rep.Log.Matches {
			t.Logf("  log: %s %s %s", m.ID, m.Verdict, m.ConfirmedAs)
		}
	}
	t.Logf("  ok=%v in %dms", rep.OK, rep.DurationMS)
}

// wantCauses asserts the cause ids, in order (nil: the image pulls).
func wantCauses(t testing.TB, rep *Report, ids ...string) {
	t.Helper()
	got := causeIDs(rep.Causes)
	if len(ids) == 0 {
		if len(got) != 0 || !rep.OK {
			t.Errorf("causes = %v ok=%v, want none", got, rep.OK)
		}
		return
	}
	if rep.OK {
		t.Errorf("ok = true with causes %v", got)
	}
	if len(got) < len(ids) || !slices.Equal(got[:len(ids)], ids) {
		t.Errorf("causes = %v, want %v first", got, ids)
	}
	for _, c := range rep.Causes {
		if len(c.Evidence) == 0 || len(c.Fix) == 0 || c.Summary == "" {
			t.Errorf("cause %s lacks evidence, fix or summary: %+v", c.ID, c)
		}
	}
}

// wantText asserts fragments appear somewhere in the cause's texts.
func wantText(t testing.TB, c Cause, fragments ...string) {
	t.Helper()
	all := c.Summary + "\n" + strings.Join(c.Evidence, "\n") + "\n" + strings.Join(c.Fix, "\n")
	for _, f := range fragments {
		if !strings.Contains(all, f) {
			t.Errorf("cause %s: %q not in\n%s", c.ID, f, all)
		}
	}
}

func resultOf(rep *Report, id string) probe.Result {
	for _, r := range rep.Checks {
		if r.ID == id {
			return r
		}
	}
	return probe.Result{}
}

func probePlatform(os, arch string) probe.Platform { return probe.Platform{OS: os, Architecture: arch} }

// diagnoseTimed runs one diagnosis, records its wall-clock time, logs the
// report and scans it for secrets.
func diagnoseTimed(t *testing.T, o Options) *Report {
	t.Helper()
	start := time.Now()
	rep, err := Run(context.Background(), o)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	record(t.Name(), took)
	t.Logf("diagnose %s: %v", o.Image, took.Round(time.Millisecond))
	logReport(t, rep)
	assertNoSecrets(t, rep)
	return rep
}

// authsJSON is a config.json with one auths entry.
func authsJSON(key, auth string) string {
	return fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, key, auth)
}

// matchLine returns the first catalogue entry whose matcher fits line.
func matchLine(line string) *Entry {
	e, _ := matchLineWith(line)
	return e
}

// candidates are every id a match stands for: its own and its Also.
func candidates(m LogMatch) []string { return append([]string{m.ID}, m.Also...) }

// matcherCount is how many log matchers the table holds.
func matcherCount() int {
	n := 0
	for _, e := range Catalogue {
		n += len(e.Match)
	}
	return n
}
