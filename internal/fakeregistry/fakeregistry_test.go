package fakeregistry

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

const (
	dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	ociIndex       = "application/vnd.oci.image.index.v1+json"
)

var (
	amd64 = v1.Platform{OS: "linux", Architecture: "amd64"}
	armv6 = v1.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}
)

// The fake is checked with raw HTTP so its answers are pinned independently
// of the clients that runnerup ships.
func TestRegistry(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(*Registry)
		method string // GET unless set
		url    func(*Registry) string
		auth   string // "basic:USER:PASS", "token:USER:PASS" or "token:" (anonymous token)

		wantStatus    int
		wantCT        string
		wantChallenge string // WWW-Authenticate; {URL} and {TokenURL} are the fake's
		wantBody      string // a substring
		check         func(t *testing.T, body []byte)
	}{
		{name: "no auth: /v2/ answers", url: v2,
			wantStatus: 200},
		{name: "no auth: manifest GET has the image's media type", url: manifest("group/app", "1"),
			wantStatus: 200, wantCT: dockerManifest, wantBody: `"config"`},
		{name: "no auth: manifest HEAD has the media type", method: http.MethodHead, url: manifest("group/app", "1"),
			wantStatus: 200, wantCT: dockerManifest},
		{name: "no auth: index GET has the index media type and the platforms", url: manifest("multi/app", "1"),
			wantStatus: 200, wantCT: ociIndex, check: indexPlatforms(amd64, armv6)},
		{name: "no auth: unknown tag", url: manifest("group/app", "nope"),
			wantStatus: 404, wantBody: "MANIFEST_UNKNOWN"},

		{name: "basic: no credentials", setup: basicAuth, url: v2,
			wantStatus: 401, wantCT: "application/json", wantChallenge: `Basic realm="fake-realm"`,
			wantBody: `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}`},
		{name: "basic: wrong password", setup: basicAuth, url: manifest("group/app", "1"), auth: "basic:ci:wrong",
			wantStatus: 401, wantChallenge: `Basic realm="fake-realm"`, wantBody: "UNAUTHORIZED"},
		{name: "basic: accepted", setup: basicAuth, url: manifest("group/app", "1"), auth: "basic:ci:pw",
			wantStatus: 200, wantCT: dockerManifest},
		{name: "basic: a Bearer header is not basic auth", setup: basicAuth, url: v2, auth: "token-forged",
			wantStatus: 401, wantChallenge: `Basic realm="fake-realm"`},

		{name: "bearer: /v2/ challenge has no scope", setup: bearerAuth, url: v2,
			wantStatus: 401, wantChallenge: `Bearer realm="{URL}/token",service="fake-registry"`, wantBody: "UNAUTHORIZED"},
		{name: "bearer: manifest challenge has the pull scope", setup: bearerAuth, url: manifest("group/app", "1"),
			wantStatus: 401, wantChallenge: `Bearer realm="{URL}/token",service="fake-registry",scope="repository:group/app:pull"`},
		{name: "bearer: a tags/list challenge names the repository", setup: bearerAuth, url: tags("multi/app"),
			wantStatus: 401, wantChallenge: `Bearer realm="{URL}/token",service="fake-registry",scope="repository:multi/app:pull"`},
		{name: "bearer: basic credentials are no token", setup: bearerAuth, url: manifest("group/app", "1"), auth: "basic:bob:pw",
			wantStatus: 401, wantChallenge: `Bearer realm="{URL}/token",service="fake-registry",scope="repository:group/app:pull"`},
		{name: "bearer: a token never issued", setup: bearerAuth, url: manifest("group/app", "1"), auth: "token-forged",
			wantStatus: 401, wantChallenge: `Bearer realm="{URL}/token",service="fake-registry",scope="repository:group/app:pull"`},
		{name: "bearer: user token accepted", setup: bearerAuth, url: manifest("group/app", "1"), auth: "token:bob:pw",
			wantStatus: 200, wantCT: dockerManifest},
		{name: "bearer: user token may pull a denied repository", setup: bearerAuth, url: manifest("private/app", "1"), auth: "token:bob:pw",
			wantStatus: 200, wantCT: dockerManifest},
		{name: "bearer: anonymous token accepted", setup: bearerAuth, url: manifest("multi/app", "1"), auth: "token:",
			wantStatus: 200, wantCT: ociIndex},
		{name: "bearer: anonymous token denied", setup: bearerAuth, url: manifest("private/app", "1"), auth: "token:",
			wantStatus: 403, wantCT: "application/json",
			wantBody: `{"errors":[{"code":"DENIED","message":"requested access to the resource is denied","detail":null}]}`},
		{name: "bearer: token endpoint rejects a wrong password", setup: bearerAuth, url: tokenAt("URL"), auth: "basic:bob:wrong",
			wantStatus: 401, wantCT: "application/json", wantBody: `{"details":"incorrect username or password"}`},
		{name: "bearer: token endpoint refuses anonymous callers", setup: func(f *Registry) { f.Bearer("bob", "pw", false) }, url: tokenAt("URL"),
			wantStatus: 401, wantCT: "application/json", wantBody: `{"details":"anonymous access is not allowed"}`},
		{name: "bearer: token endpoint issues a token", setup: bearerAuth, url: tokenAt("URL"), auth: "basic:bob:pw",
			wantStatus: 200, wantCT: "application/json", wantBody: `"token":"tok-`},
		{name: "bearer: TokenURL issues tokens on any path", setup: bearerAuth, url: tokenAt("TokenURL"), auth: "basic:bob:pw",
			wantStatus: 200, wantCT: "application/json", wantBody: `"expires_in":300`},
		{name: "bearer: SetRealm names another realm", setup: func(f *Registry) { bearerAuth(f); f.SetRealm(f.TokenURL + "/token") }, url: v2,
			wantStatus: 401, wantChallenge: `Bearer realm="{TokenURL}/token",service="fake-registry"`},
		{name: "bearer: a token from TokenURL is accepted", setup: bearerAuth, url: manifest("group/app", "1"), auth: "token-at-TokenURL:bob:pw",
			wantStatus: 200, wantCT: dockerManifest},

		{name: "inject answers before auth", setup: func(f *Registry) {
			bearerAuth(f)
			f.SetInject(func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Retry-After", "30")
				WriteError(w, http.StatusTooManyRequests, "TOOMANYREQUESTS", "slow down")
				return true
			})
		}, url: manifest("group/app", "1"),
			wantStatus: 429, wantCT: "application/json", wantBody: `{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down","detail":null}]}`},
		{name: "inject answers the token endpoint too", setup: func(f *Registry) {
			bearerAuth(f)
			f.SetInject(func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/token" {
					return false
				}
				http.Error(w, "maintenance", http.StatusServiceUnavailable)
				return true
			})
		}, url: tokenAt("URL"), auth: "basic:bob:pw",
			wantStatus: 503, wantBody: "maintenance"},
		{name: "inject passing on leaves the registry to answer", setup: func(f *Registry) {
			f.SetInject(func(w http.ResponseWriter, r *http.Request) bool { return false })
		}, url: manifest("group/app", "1"),
			wantStatus: 200, wantCT: dockerManifest},
		{name: "inject removed", setup: func(f *Registry) {
			f.SetInject(func(w http.ResponseWriter, r *http.Request) bool { w.WriteHeader(http.StatusTeapot); return true })
			f.SetInject(nil)
		}, url: v2,
			wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := New(t)
			if ref := f.PushImage("group/app", "1", amd64); ref != f.Host+"/group/app:1" {
				t.Fatalf("PushImage = %q", ref)
			}
			f.PushImage("private/app", "1", amd64)
			if ref := f.PushIndex("multi/app", "1", amd64, armv6); ref != f.Host+"/multi/app:1" {
				t.Fatalf("PushIndex = %q", ref)
			}
			if tt.setup != nil {
				tt.setup(f)
			}
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			req, err := http.NewRequest(method, tt.url(f), nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept", strings.Join([]string{dockerManifest, ociIndex}, ","))
			authorize(t, f, req, tt.auth)
			resp, body := do(t, req)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d (%s)", resp.StatusCode, tt.wantStatus, body)
			}
			if ct := resp.Header.Get("Content-Type"); tt.wantCT != "" && ct != tt.wantCT {
				t.Errorf("Content-Type = %q, want %q", ct, tt.wantCT)
			}
			want := strings.NewReplacer("{URL}", f.URL, "{TokenURL}", f.TokenURL).Replace(tt.wantChallenge)
			if got := resp.Header.Get("WWW-Authenticate"); got != want {
				t.Errorf("WWW-Authenticate = %q, want %q", got, want)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body %q lacks %q", body, tt.wantBody)
			}
			if tt.check != nil {
				tt.check(t, body)
			}
		})
	}
}

func v2(f *Registry) string { return f.URL + "/v2/" }

func manifest(repo, ref string) func(*Registry) string {
	return func(f *Registry) string { return f.URL + "/v2/" + repo + "/manifests/" + ref }
}

func tags(repo string) func(*Registry) string {
	return func(f *Registry) string { return f.URL + "/v2/" + repo + "/tags/list" }
}

// tokenAt is a token request for group/app's pull scope at the registry's
// own /token ("URL") or at the token server ("TokenURL", on another path).
func tokenAt(server string) func(*Registry) string {
	return func(f *Registry) string {
		base := f.URL + "/token"
		if server == "TokenURL" {
			base = f.TokenURL + "/jwt/auth"
		}
		return base + "?scope=repository%3Agroup%2Fapp%3Apull&service=fake-registry"
	}
}

func basicAuth(f *Registry)  { f.Basic("ci", "pw") }
func bearerAuth(f *Registry) { f.Bearer("bob", "pw", true, "private/app") }

// authorize sets req's Authorization as auth says; a token is fetched
// first, from URL's realm or, for "token-at-TokenURL:", from TokenURL.
func authorize(t *testing.T, f *Registry, req *http.Request, auth string) {
	t.Helper()
	kind, cred, _ := strings.Cut(auth, ":")
	user, pass, hasUser := strings.Cut(cred, ":")
	switch kind {
	case "":
	case "basic":
		req.SetBasicAuth(user, pass)
	case "token-forged":
		req.Header.Set("Authorization", "Bearer tok-forged")
	case "token", "token-at-TokenURL":
		server := "URL"
		if kind == "token-at-TokenURL" {
			server = "TokenURL"
		}
		if !hasUser {
			user = ""
		}
		status, tok := token(t, tokenAt(server)(f), user, pass)
		if status != 200 || tok == "" {
			t.Fatalf("token request: %d %q", status, tok)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	default:
		t.Fatalf("auth %q", auth)
	}
}

// do sends req and returns the response with its body read.
func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// token asks the token endpoint at url for a token, as user:pass unless
// user is empty, and returns the status and the token issued, if any.
func token(t *testing.T, url, user, pass string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, body := do(t, req)
	var tok struct{ Token string }
	_ = json.Unmarshal(body, &tok)
	return resp.StatusCode, tok.Token
}

// indexPlatforms checks an index's entries name platforms, in order.
func indexPlatforms(want ...v1.Platform) func(*testing.T, []byte) {
	return func(t *testing.T, body []byte) {
		t.Helper()
		idx, err := v1.ParseIndexManifest(strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		var got []v1.Platform
		for _, m := range idx.Manifests {
			if m.Platform == nil || m.MediaType != dockerManifest {
				t.Errorf("entry %+v: want a %s with a platform", m, dockerManifest)
				continue
			}
			got = append(got, *m.Platform)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("platforms = %+v, want %+v", got, want)
		}
	}
}

// TestBookkeeping: OnSecret hears the credentials and every token issued,
// Requests and TokenQueries record what came in, Handler serves the same
// registry elsewhere.
func TestBookkeeping(t *testing.T) {
	f := New(t)
	var mu sync.Mutex
	var secrets []string
	f.OnSecret(func(s ...string) {
		mu.Lock()
		defer mu.Unlock()
		secrets = append(secrets, s...)
	})
	f.PushImage("group/app", "1", amd64)
	f.Bearer("bob", "pw", true)

	req, err := http.NewRequest(http.MethodGet, f.URL+"/v2/group/app/manifests/1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := do(t, req); resp.StatusCode != 401 {
		t.Errorf("manifest without a token = %d", resp.StatusCode)
	}
	_, userTok := token(t, tokenAt("URL")(f), "bob", "pw")
	_, anonTok := token(t, f.TokenURL+"/?service=fake-registry", "", "")

	mu.Lock()
	got := slices.Clone(secrets)
	mu.Unlock()
	if want := []string{base64.StdEncoding.EncodeToString([]byte("bob:pw")), userTok, anonTok}; !reflect.DeepEqual(got, want) || !strings.HasPrefix(userTok, "tok-") {
		t.Errorf("secrets = %q, want %q", got, want)
	}
	if got, want := f.Requests(), []string{"GET /v2/group/app/manifests/1", "GET /token"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Requests = %q, want %q", got, want)
	}
	if got, want := f.TokenQueries(), []string{"scope=repository%3Agroup%2Fapp%3Apull&service=fake-registry", "service=fake-registry"}; !reflect.DeepEqual(got, want) {
		t.Errorf("TokenQueries = %q, want %q", got, want)
	}

	// Handler is the same registry, tokens and all.
	req = httptest.NewRequest(http.MethodGet, "/v2/group/app/manifests/1", nil)
	req.Header.Set("Authorization", "Bearer "+anonTok)
	rec := httptest.NewRecorder()
	f.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != dockerManifest {
		t.Errorf("Handler() answered %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}

func TestRepoOf(t *testing.T) {
	for path, want := range map[string]string{
		"/v2/":                           "",
		"/v2/app/manifests/1":            "app",
		"/v2/group/sub/app/blobs/sha256": "group/sub/app",
		"/v2/group/app/tags/list":        "group/app",
		"/v2/_catalog":                   "",
		"/token":                         "",
	} {
		if got := repoOf(path); got != want {
			t.Errorf("repoOf(%s) = %q, want %q", path, got, want)
		}
	}
}

// TestPlatformImage: the config names the platform, variant included.
func TestPlatformImage(t *testing.T) {
	cf, err := PlatformImage(t, armv6).ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%s/%s/%s", cf.OS, cf.Architecture, cf.Variant); got != "linux/arm/v6" {
		t.Errorf("platform = %s", got)
	}
}
