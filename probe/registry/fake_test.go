package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runnerup/runnerup/internal/fakeregistry"
	"github.com/runnerup/runnerup/probe"
)

// TestMain keeps the caller's proxy and Docker settings out of every test:
// the fakes live on loopback and must be reached directly.
func TestMain(m *testing.M) {
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy", "all_proxy", "DOCKER_CONFIG", "DOCKER_AUTH_CONFIG"} {
		os.Unsetenv(k)
	}
	os.Exit(m.Run())
}

// secrets collects every secret the fakes hand out or accept, so each run
// can check that none reaches a result.
var secrets = struct {
	sync.Mutex
	values []string
}{}

func addSecret(s ...string) {
	secrets.Lock()
	defer secrets.Unlock()
	secrets.values = append(secrets.values, s...)
}

func randomSecret(t testing.TB) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	s := "pw-" + hex.EncodeToString(b)
	addSecret(s)
	return s
}

// assertNoSecrets fails when any known secret, or an Authorization header
// value, appears in a result's texts, its JSON or its printed Data.
func assertNoSecrets(t testing.TB, results []probe.Result) {
	t.Helper()
	secrets.Lock()
	values := append([]string(nil), secrets.values...)
	secrets.Unlock()
	for _, r := range results {
		if !strings.HasPrefix(r.ID, "registry.") && !strings.HasPrefix(r.ID, "image.") {
			continue // the fake credentials checks carry secrets by design
		}
		j, _ := json.Marshal(r)
		texts := []string{r.Title, r.Detail, r.Hint, string(j), fmt.Sprintf("%+v", r.Data), fmt.Sprintf("%#v", r.Data)}
		for _, text := range texts {
			for _, s := range values {
				if s != "" && strings.Contains(text, s) {
					t.Errorf("%s: secret %q… leaked into %q", r.ID, s[:6], text)
				}
			}
			for _, marker := range []string{"Authorization:", "Bearer tok-"} {
				if strings.Contains(text, marker) {
					t.Errorf("%s: %q appears in %q", r.ID, marker, text)
				}
			}
		}
	}
}

// newFakeRegistry starts a fakeregistry.Registry that adds every secret it
// accepts or hands out to secrets.
func newFakeRegistry(t testing.TB) *fakeregistry.Registry {
	t.Helper()
	f := fakeregistry.New(t)
	f.OnSecret(addSecret)
	return f
}

// credsFor wires a fixed credential per host the way the suite wires the
// credentials package: a "credentials.<host>" check whose Data carries it.
type credData struct{ Credential Credential }

func credChecks(creds map[string]Credential) []probe.Check {
	var out []probe.Check
	for host, c := range creds {
		c := c
		out = append(out, probe.Check{ID: "credentials." + host, Run: func(context.Context, probe.Deps) probe.Result {
			return probe.Result{Status: probe.Pass, Detail: "from " + c.Source, Data: credData{c}}
		}})
	}
	return out
}

func withCreds(o Options) Options {
	o.CredentialsCheck = func(host string) string { return "credentials." + host }
	o.CredentialFrom = func(deps probe.Deps, host string) (Credential, bool) {
		d, ok := probe.DataOf[credData](deps, "credentials."+host)
		return d.Credential, ok
	}
	return o
}

// daemonChecks fake daemon.platform and daemon.registries.
func daemonChecks(p probe.Platform, regs probe.DaemonRegistries) []probe.Check {
	return []probe.Check{
		{ID: probe.IDDaemonPlatform, Run: func(context.Context, probe.Deps) probe.Result {
			return probe.Result{Status: probe.Pass, Data: p}
		}},
		{ID: probe.IDDaemonRegistries, Run: func(context.Context, probe.Deps) probe.Result {
			return probe.Result{Status: probe.Pass, Data: regs}
		}},
	}
}

var amd64 = probe.Platform{OS: "linux", Architecture: "amd64"}

// results runs checks (with default daemon facts unless given) and returns
// them by id, after scanning every result for secrets.
func results(t testing.TB, timeout time.Duration, checks ...[]probe.Check) map[string]probe.Result {
	t.Helper()
	var all []probe.Check
	ids := map[string]bool{}
	for _, cs := range checks {
		for _, c := range cs {
			if !ids[c.ID] {
				ids[c.ID] = true
				all = append(all, c)
			}
		}
	}
	for _, c := range daemonChecks(amd64, probe.DaemonRegistries{InsecureCIDRs: []string{"127.0.0.0/8"}}) {
		if !ids[c.ID] {
			all = append(all, c)
		}
	}
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	res, err := probe.Run(context.Background(), all, probe.Options{Timeout: timeout})
	if err != nil {
		t.Fatalf("probe.Run: %v", err)
	}
	assertNoSecrets(t, res)
	out := map[string]probe.Result{}
	for _, r := range res {
		out[r.ID] = r
		t.Logf("%-5s %s: %s%s", r.Status, r.ID, r.Detail, hintSuffix(r.Hint))
	}
	return out
}

// want asserts a result's status, cause and detail fragments.
func want(t testing.TB, res map[string]probe.Result, id string, status probe.Status, cause string, fragments ...string) probe.Result {
	t.Helper()
	r, ok := res[id]
	if !ok {
		t.Fatalf("no result %s; have %v", id, keys(res))
	}
	if r.Status != status || Cause(r) != cause {
		t.Errorf("%s = %s cause %q (%s | hint: %s); want %s cause %q", id, r.Status, Cause(r), r.Detail, r.Hint, status, cause)
	}
	for _, f := range fragments {
		if !strings.Contains(r.Detail+" | "+r.Hint, f) {
			t.Errorf("%s: %q not in detail %q / hint %q", id, f, r.Detail, r.Hint)
		}
	}
	return r
}

func keys(m map[string]probe.Result) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// dialTo is a transport that sends every connection to addr whatever the
// URL's host (so certificates and ids keep a real name) and uses no proxy.
func dialTo(addr string) *http.Transport {
	return &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		},
	}
}

type ctxT = context.Context

func hintSuffix(h string) string {
	if h == "" {
		return ""
	}
	return " | hint: " + h
}
