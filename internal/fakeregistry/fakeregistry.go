// Package fakeregistry is go-containerregistry's in-memory registry
// (pkg/registry) behind an httptest server that adds what the probes must
// meet in the field and a real registry cannot be made to show on demand:
// Basic auth, Bearer auth with a Docker-Hub-style token endpoint, a
// Docker-Hub-style denial for anonymous tokens, and injected answers (429,
// 5xx, HTML pages, schema 1 manifests…). Images are pushed to the same
// storage past the auth and the injection.
package fakeregistry

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Service is the service the Bearer challenge names (and so the token
// request carries).
const Service = "fake-registry"

// BasicRealm is the realm the Basic challenge names.
const BasicRealm = "fake-realm"

// Registry is a fake registry. Zero value is not usable; use New.
type Registry struct {
	URL      string // http://127.0.0.1:PORT: the registry behind auth and injection
	Host     string // 127.0.0.1:PORT of URL, as image references name it
	TokenURL string // a token endpoint on a port of its own; it answers on any path

	t       testing.TB
	handler http.Handler // auth and injection in front of the storage
	push    string       // host of a server on the same storage, without either

	mu           sync.Mutex
	mode         string // "", "basic", "bearer"
	user, pass   string
	realm        string          // the realm the Bearer challenge names
	anonTok      bool            // bearer: anonymous callers get a token
	deny         map[string]bool // bearer: repos anonymous tokens may not pull
	tokens       map[string]bool // issued token → anonymous
	inject       func(w http.ResponseWriter, r *http.Request) bool
	onSecret     func(...string)
	requests     []string // "METHOD path" the handler saw
	tokenQueries []string // query strings the token endpoints saw
	stats        Stats
}

// Stats count what URL's server saw: TCP connections accepted (plain
// HTTP and the TLS handshakes clients try first alike), and the most
// requests it was answering at once.
type Stats struct {
	Connections int
	MaxInFlight int
	inFlight    int
}

// New starts a fake with no auth; t.Cleanup closes it. The Bearer realm is
// URL + "/token", which the registry's own server answers.
func New(t testing.TB) *Registry {
	t.Helper()
	storage := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	f := &Registry{t: t, tokens: map[string]bool{}, deny: map[string]bool{}}
	f.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.Path)
		inject := f.inject
		f.mu.Unlock()
		if inject != nil && inject(w, r) {
			return
		}
		if r.URL.Path == "/token" {
			f.serveToken(w, r)
			return
		}
		if f.authorized(w, r) {
			storage.ServeHTTP(w, r)
		}
	})
	srv := httptest.NewUnstartedServer(f.counting(f.handler))
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			f.mu.Lock()
			f.stats.Connections++
			f.mu.Unlock()
		}
	}
	srv.Start()
	push := httptest.NewServer(storage)
	token := httptest.NewServer(http.HandlerFunc(f.serveToken))
	t.Cleanup(srv.Close)
	t.Cleanup(push.Close)
	t.Cleanup(token.Close)
	f.URL, f.TokenURL = srv.URL, token.URL
	f.Host = strings.TrimPrefix(srv.URL, "http://")
	f.push = strings.TrimPrefix(push.URL, "http://")
	f.realm = f.URL + "/token"
	return f
}

// counting keeps Stats.MaxInFlight.
func (f *Registry) counting(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.stats.inFlight++
		f.stats.MaxInFlight = max(f.stats.MaxInFlight, f.stats.inFlight)
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			f.stats.inFlight--
			f.mu.Unlock()
		}()
		h.ServeHTTP(w, r)
	})
}

// Stats returns the connection and concurrency counts of URL's server.
func (f *Registry) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// Handler is the registry as URL serves it (injection, token endpoint,
// auth, storage), to serve it another way, over TLS for one.
func (f *Registry) Handler() http.Handler { return f.handler }

// OnSecret has fn told every secret the fake accepts or hands out from
// now on: base64("user:pass") of Basic and Bearer, and each token issued.
func (f *Registry) OnSecret(fn func(secrets ...string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onSecret = fn
}

// Basic makes the registry demand Basic auth as user:pass.
func (f *Registry) Basic(user, pass string) {
	f.setAuth("basic", user, pass, false)
}

// Bearer makes the registry demand a token from its realm, which issues
// one for user:pass and, when anonymousTokens, for anonymous callers too.
// An anonymous token may not pull the repositories in deny (403 DENIED, as
// Docker Hub answers for a private repository).
func (f *Registry) Bearer(user, pass string, anonymousTokens bool, deny ...string) {
	f.mu.Lock()
	for _, d := range deny {
		f.deny[d] = true
	}
	f.mu.Unlock()
	f.setAuth("bearer", user, pass, anonymousTokens)
}

func (f *Registry) setAuth(mode, user, pass string, anonymousTokens bool) {
	f.mu.Lock()
	f.mode, f.user, f.pass, f.anonTok = mode, user, pass, anonymousTokens
	onSecret := f.onSecret
	f.mu.Unlock()
	if onSecret != nil {
		onSecret(base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)))
	}
}

// SetRealm changes the realm the Bearer challenge names (URL + "/token"
// by default), TokenURL + "/token" for one on another port.
func (f *Registry) SetRealm(realm string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.realm = realm
}

// SetInject puts fn in front of everything else the registry does: when
// it returns true it has answered the request. nil removes it.
func (f *Registry) SetInject(fn func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inject = fn
}

// Requests returns "METHOD path" of every request the registry received,
// in order (pushes excepted).
func (f *Registry) Requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

// TokenQueries returns the raw query of every token request, in order.
func (f *Registry) TokenQueries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.tokenQueries...)
}

// authorized enforces the auth mode the way distribution does; when it
// returns false it has answered the request.
func (f *Registry) authorized(w http.ResponseWriter, r *http.Request) bool {
	repo := repoOf(r.URL.Path)
	tok, isBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	mode, user, pass, realm := f.mode, f.user, f.pass, f.realm
	anon, issued := f.tokens[tok]
	denied := f.deny[repo]
	f.mu.Unlock()
	switch mode {
	case "basic":
		if u, p, ok := r.BasicAuth(); ok && u == user && p == pass {
			return true
		}
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Basic realm=%q`, BasicRealm))
		WriteError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		return false
	case "bearer":
		if !isBearer || !issued {
			scope := ""
			if repo != "" {
				scope = fmt.Sprintf(`,scope="repository:%s:pull"`, repo)
			}
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service=%q%s`, realm, Service, scope))
			WriteError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
			return false
		}
		if anon && denied {
			WriteError(w, http.StatusForbidden, "DENIED", "requested access to the resource is denied")
			return false
		}
	}
	return true
}

// serveToken is a Docker-Hub-style token endpoint.
func (f *Registry) serveToken(w http.ResponseWriter, r *http.Request) {
	u, p, hasAuth := r.BasicAuth()
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	f.tokenQueries = append(f.tokenQueries, r.URL.RawQuery)
	wrong, anonRefused := hasAuth && (u != f.user || p != f.pass), !hasAuth && !f.anonTok
	f.mu.Unlock()
	switch {
	case wrong:
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"details":"incorrect username or password"}`)
		return
	case anonRefused:
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"details":"anonymous access is not allowed"}`)
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := "tok-" + hex.EncodeToString(b)
	f.mu.Lock()
	f.tokens[tok] = !hasAuth
	onSecret := f.onSecret
	f.mu.Unlock()
	if onSecret != nil {
		onSecret(tok)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"token": tok, "expires_in": 300})
}

// WriteError answers with a registry v2 API error, as distribution does.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"errors":[{"code":%q,"message":%q,"detail":null}]}`, code, msg)
}

// repoOf extracts NAME from /v2/NAME/{manifests,blobs,tags}/….
func repoOf(path string) string {
	p := strings.TrimPrefix(path, "/v2/")
	for _, sep := range []string{"/manifests/", "/blobs/", "/tags/"} {
		if i := strings.Index(p, sep); i >= 0 {
			return p[:i]
		}
	}
	return ""
}

// PushImage writes a random single-platform image (PlatformImage) to
// repo:tag and returns its reference on Host.
func (f *Registry) PushImage(repo, tag string, p v1.Platform) string {
	f.t.Helper()
	ref := f.pushTag(repo, tag)
	if err := remote.Write(ref, PlatformImage(f.t, p)); err != nil {
		f.t.Fatalf("push %s: %v", ref, err)
	}
	return f.Host + "/" + repo + ":" + tag
}

// PushIndex writes an index of random images, one per platform
// (PlatformIndex), to repo:tag and returns its reference on Host.
func (f *Registry) PushIndex(repo, tag string, platforms ...v1.Platform) string {
	f.t.Helper()
	ref := f.pushTag(repo, tag)
	if err := remote.WriteIndex(ref, PlatformIndex(f.t, platforms...)); err != nil {
		f.t.Fatalf("push index %s: %v", ref, err)
	}
	return f.Host + "/" + repo + ":" + tag
}

func (f *Registry) pushTag(repo, tag string) name.Tag {
	f.t.Helper()
	ref, err := name.NewTag(f.push+"/"+repo+":"+tag, name.Insecure)
	if err != nil {
		f.t.Fatal(err)
	}
	return ref
}

// PlatformImage is a random one-layer image whose config names p.
func PlatformImage(t testing.TB, p v1.Platform) v1.Image {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// PlatformIndex builds an index with one PlatformImage per platform, each
// entry's descriptor carrying its platform as buildx writes it; a zero
// v1.Platform makes an entry without a platform field (hand-made indexes).
func PlatformIndex(t testing.TB, platforms ...v1.Platform) v1.ImageIndex {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, p := range platforms {
		desc := v1.Descriptor{Platform: &p}
		if p.Equals(v1.Platform{}) {
			desc.Platform = nil
		}
		adds = append(adds, mutate.IndexAddendum{Add: PlatformImage(t, p), Descriptor: desc})
	}
	return mutate.AppendManifests(empty.Index, adds...)
}
