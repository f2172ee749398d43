package registry

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/runnerup/runnerup/internal/fakeregistry"
	"github.com/runnerup/runnerup/probe"
)

// countRequests tallies "METHOD path" lines, blob digests folded into
// "/blobs/*".
func countRequests(reqs []string) map[string]int {
	n := map[string]int{}
	for _, r := range reqs {
		if i := strings.Index(r, "/blobs/"); i >= 0 {
			r = r[:i] + "/blobs/*"
		}
		n[r]++
	}
	return n
}

// One image of a Basic-auth registry costs one GET /v2/ (the tls check's
// anonymous answer carries the challenge the auth check reads), the
// manifest HEAD and GET, which carry the credential as the daemon's do and
// whose answer shows it accepted, and one config blob GET, fetched ahead
// by the manifest check and answered again from the cache for the
// platform check.
func TestOneImageRequestBudget(t *testing.T) {
	f := newFakeRegistry(t)
	pass := randomSecret(t)
	f.Basic("ci", pass)
	f.PushImage("group/app", "1", linuxAMD64)
	ref := f.Host + "/group/app:1"
	res := imageRun(t, f, ref, Credential{Username: "ci", Password: pass, Source: "config.json"}, Options{})
	want(t, res, PlatformID(ref), probe.Pass, "", "single-platform linux/amd64 image")
	got := countRequests(f.Requests())
	wantReqs := map[string]int{
		"GET /v2/":                       1,
		"HEAD /v2/group/app/manifests/1": 1,
		"GET /v2/group/app/manifests/1":  1,
		"GET /v2/group/app/blobs/*":      1,
	}
	if fmt.Sprint(got) != fmt.Sprint(wantReqs) {
		t.Errorf("requests = %v\nwant       %v", got, wantReqs)
	}
}

// The manifest requests carry the credential, as the daemon's first
// request does; the auth check asks GET /v2/ with it only when none of
// them was answered 2xx, to tell a rejected credential from a missing tag
// or a denied repository. Verdicts are those of a GET /v2/ of its own.
func TestManifestRequestCarriesTheCredential(t *testing.T) {
	f := newFakeRegistry(t)
	pass := randomSecret(t)
	f.Basic("ci", pass)
	f.PushImage("group/app", "1", linuxAMD64)
	var (
		mu       sync.Mutex
		authedV2 int
	)
	f.SetInject(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/v2/" && r.Header.Get("Authorization") != "" {
			mu.Lock()
			authedV2++
			mu.Unlock()
		}
		return false
	})
	tests := []struct {
		name             string
		tag, password    string
		auth             probe.Status
		authCause        string
		authDetail       string
		manifest         probe.Status
		manifestCause    string
		wantAuthedGetV2s int
	}{
		{"accepted by the manifest HEAD", "1", pass, probe.Pass, "",
			`credentials accepted (from config.json): HEAD /v2/group/app/manifests/1 with Basic realm "fake-realm" → 200`, probe.Pass, "", 0},
		{"missing tag: GET /v2/ tells the credential is fine", "2", pass, probe.Pass, "",
			`credentials accepted (from config.json): GET /v2/ with Basic realm "fake-realm" → 200`, probe.Fail, CauseTagNotFound, 1},
		{"wrong password: GET /v2/ rejects it", "1", "wrong-" + pass, probe.Fail, CauseAuthRejected,
			"credentials from config.json rejected: GET /v2/ with Basic", probe.Skip, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			authedV2 = 0
			mu.Unlock()
			ref := f.Host + "/group/app:" + tt.tag
			res := imageRun(t, f, ref, Credential{Username: "ci", Password: tt.password, Source: "config.json"}, Options{})
			want(t, res, AuthID(f.Host), tt.auth, tt.authCause, tt.authDetail)
			want(t, res, ManifestID(ref), tt.manifest, tt.manifestCause)
			mu.Lock()
			defer mu.Unlock()
			if authedV2 != tt.wantAuthedGetV2s {
				t.Errorf("authenticated GET /v2/ sent %d times, want %d", authedV2, tt.wantAuthedGetV2s)
			}
		})
	}
}

// holdTLS is a TCP proxy to backend that holds every connection starting
// with a TLS handshake until a plain HTTP connection has arrived (or 3 s
// passed), and reports whether that happened.
type holdTLS struct {
	addr       string
	plainSeen  chan struct{}
	once       sync.Once
	mu         sync.Mutex
	sawPlainOK bool
}

func newHoldTLS(t *testing.T, backend string) *holdTLS {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	h := &holdTLS{addr: l.Addr().String(), plainSeen: make(chan struct{})}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go h.serve(c, backend)
		}
	}()
	return h
}

func (h *holdTLS) serve(c net.Conn, backend string) {
	defer c.Close()
	br := bufio.NewReader(c)
	first, err := br.Peek(1)
	if err != nil {
		return
	}
	if first[0] == 0x16 { // TLS handshake record
		select {
		case <-h.plainSeen:
			h.mu.Lock()
			h.sawPlainOK = true
			h.mu.Unlock()
		case <-time.After(3 * time.Second):
		}
	} else {
		h.once.Do(func() { close(h.plainSeen) })
	}
	b, err := net.Dial("tcp", backend)
	if err != nil {
		return
	}
	defer b.Close()
	go func() { _, _ = io.Copy(b, br) }()
	_, _ = io.Copy(c, b)
}

// A loopback registry is insecure to every daemon, which tries HTTPS and
// falls back to plain HTTP: the probe asks both at once instead of one
// after the other.
func TestLoopbackAsksPlainHTTPBesideHTTPS(t *testing.T) {
	f := newFakeRegistry(t)
	f.PushImage("group/app", "1", linuxAMD64)
	proxy := newHoldTLS(t, f.Host)
	ref := proxy.addr + "/group/app:1"
	checks := append(Checks([]string{ref}, withCreds(Options{})),
		probe.Check{ID: "credentials." + proxy.addr, Run: func(ctx ctxT, _ probe.Deps) probe.Result { return probe.Passf("none") }})
	res := results(t, 0, checks)
	want(t, res, TLSID(proxy.addr), probe.Pass, "", "plain HTTP", "127.0.0.0/8")
	want(t, res, ManifestID(ref), probe.Pass, "")
	proxy.mu.Lock()
	defer proxy.mu.Unlock()
	if !proxy.sawPlainOK {
		t.Errorf("plain HTTP was asked only after the HTTPS attempt had failed")
	}
}

// Images sharing a config blob fetch it once, even when their checks ask
// at the same time.
func TestSharedConfigBlobFetchedOnce(t *testing.T) {
	f := newFakeRegistry(t)
	f.PushImage("group/app", "1", linuxAMD64)
	// The same image under more tags: the same config blob.
	var refs []string
	for _, tag := range []string{"1", "2", "3", "4"} {
		pushSame(t, f, "group/app:1", "group/app:"+tag)
		refs = append(refs, f.Host+"/group/app:"+tag)
	}
	checks := Checks(refs, withCreds(Options{}))
	checks = append(checks, probe.Check{ID: "credentials." + f.Host, Run: func(ctx ctxT, _ probe.Deps) probe.Result { return probe.Passf("none") }})
	res := results(t, 0, checks)
	for _, ref := range refs {
		want(t, res, PlatformID(ref), probe.Pass, "")
	}
	if n := countRequests(f.Requests())["GET /v2/group/app/blobs/*"]; n != 1 {
		t.Errorf("config blob fetched %d times, want 1", n)
	}
}

// pushSame tags the manifest of from as to on the fake (past its auth).
func pushSame(t *testing.T, f *fakeregistry.Registry, from, to string) {
	t.Helper()
	if from == to {
		return
	}
	get := func(method, path string, body io.Reader, ct string) *http.Response {
		req, _ := http.NewRequest(method, f.URL+path, body)
		req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json")
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	repo, tag, _ := strings.Cut(from, ":")
	resp := get(http.MethodGet, "/v2/"+repo+"/manifests/"+tag, nil, "")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	repo2, tag2, _ := strings.Cut(to, ":")
	put := get(http.MethodPut, "/v2/"+repo2+"/manifests/"+tag2, strings.NewReader(string(b)), resp.Header.Get("Content-Type"))
	put.Body.Close()
	if put.StatusCode != http.StatusCreated {
		t.Fatalf("tagging %s as %s: %s", from, to, put.Status)
	}
}

// 100 references on 3 registries, many named by several runners: each
// image is probed once, each registry sees at most Concurrency requests at
// once, and their connections are reused (at most Concurrency of them, and
// the one HTTPS attempt of the tls check).
func TestManyImagesShareConnectionsWithinTheCap(t *testing.T) {
	const concurrency = 4
	basic, bearer, anon := newFakeRegistry(t), newFakeRegistry(t), newFakeRegistry(t)
	pass := randomSecret(t)
	basic.Basic("ci", pass)
	bearer.Bearer("bob", pass, false)
	fakes := []*fakeregistry.Registry{basic, bearer, anon}
	var refs []string
	images := map[*fakeregistry.Registry]int{}
	for i := range 100 {
		f := fakes[i%3]
		repo := fmt.Sprintf("team%d/app", i%5)
		tag := fmt.Sprintf("v%d", i)
		arch := []string{"amd64", "arm64"}[i%2]
		f.PushImage(repo, tag, v1.Platform{OS: "linux", Architecture: arch})
		images[f]++
		ref := f.Host + "/" + repo + ":" + tag
		// Named by two or three runners, sometimes in Docker's long form.
		refs = append(refs, ref, ref)
		if i%4 == 0 {
			refs = append(refs, ref)
		}
	}
	for _, f := range fakes {
		// Slow answers, so that the requests of a registry overlap.
		f.SetInject(func(http.ResponseWriter, *http.Request) bool {
			time.Sleep(5 * time.Millisecond)
			return false
		})
	}
	creds := map[string]Credential{
		basic.Host:  {Username: "ci", Password: pass, Source: "config.json"},
		bearer.Host: {Username: "bob", Password: pass, Source: "config.json"},
	}
	checks := Checks(refs, withCreds(Options{Concurrency: concurrency}))
	checks = append(checks, probe.Check{ID: "credentials." + anon.Host, Run: func(ctx ctxT, _ probe.Deps) probe.Result { return probe.Passf("none") }})
	res := results(t, 30*time.Second, checks, credChecks(creds))
	for _, r := range res {
		if strings.HasPrefix(r.ID, "image.") && strings.HasSuffix(r.ID, ".manifest") && r.Status != probe.Pass {
			t.Errorf("%s: %s %s", r.ID, r.Status, r.Detail)
		}
	}
	for i, f := range fakes {
		name := []string{"basic", "bearer", "anonymous"}[i]
		st := f.Stats()
		if st.MaxInFlight > concurrency {
			t.Errorf("%s registry: %d requests at once, want at most %d", name, st.MaxInFlight, concurrency)
		}
		if st.Connections > concurrency+1 {
			t.Errorf("%s registry: %d connections, want at most %d (reused)", name, st.Connections, concurrency+1)
		}
		n := countRequests(f.Requests())
		var heads, gets, blobs int
		for k, v := range n {
			switch {
			case strings.HasPrefix(k, "HEAD ") && strings.Contains(k, "/manifests/"):
				heads += v
			case strings.HasPrefix(k, "GET ") && strings.Contains(k, "/manifests/"):
				gets += v
			case strings.Contains(k, "/blobs/"):
				blobs += v
			}
		}
		if heads != images[f] || gets != images[f] || blobs != images[f] {
			t.Errorf("%s registry: %d HEAD, %d GET manifests, %d blob GETs for %d images: want one each (requests %v)", name, heads, gets, blobs, images[f], n)
		}
		t.Logf("%s registry: %d images, %d requests, %d connections, at most %d at once", name, images[f], len(f.Requests()), st.Connections, st.MaxInFlight)
	}
}
