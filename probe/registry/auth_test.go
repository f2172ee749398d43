package registry

import (
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/runnerup/runnerup/internal/fakeregistry"
	"github.com/runnerup/runnerup/probe"
)

var linuxAMD64 = v1.Platform{OS: "linux", Architecture: "amd64"}

// imageRun runs the host and image checks for one image on the fake, with
// the given credential (zero: none resolved).
func imageRun(t *testing.T, f *fakeregistry.Registry, ref string, cred Credential, opts Options) map[string]probe.Result {
	t.Helper()
	opts = withCreds(opts)
	creds := map[string]Credential{}
	if cred != (Credential{}) {
		creds[f.Host] = cred
	}
	checks := Checks([]string{ref}, opts)
	// The auth check Needs credentials.<host> even when nothing resolves.
	if len(creds) == 0 {
		checks = append(checks, probe.Check{ID: "credentials." + f.Host, Run: func(ctx ctxT, _ probe.Deps) probe.Result {
			return probe.Passf("no credentials")
		}})
	}
	return results(t, 0, checks, credChecks(creds))
}

func TestBasicAuth(t *testing.T) {
	f := newFakeRegistry(t)
	pass := randomSecret(t)
	f.Basic("ci", pass)
	f.PushImage("group/app", "1", linuxAMD64)
	ref := f.Host + "/group/app:1"
	src := "/root/.docker/config.json"

	tests := []struct {
		name      string
		cred      Credential
		status    probe.Status
		cause     string
		fragments []string
	}{
		{"right password", Credential{Username: "ci", Password: pass, Source: src}, probe.Pass, "",
			[]string{"credentials accepted (from /root/.docker/config.json)", `Basic realm "fake-realm"`}},
		{"wrong password", Credential{Username: "ci", Password: randomSecret(t), Source: src}, probe.Fail, CauseAuthRejected,
			[]string{"credentials from /root/.docker/config.json rejected", "unauthorized: authentication required"}},
		{"no credentials", Credential{}, probe.Fail, CauseMissingCredentials,
			[]string{`no credentials were resolved for "` + f.Host + `"`, "no basic auth credentials", `"auths":{"` + f.Host + `"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := imageRun(t, f, ref, tt.cred, Options{})
			want(t, res, TLSID(f.Host), probe.Pass, "", "plain HTTP", "127.0.0.0/8")
			r := want(t, res, AuthID(f.Host), tt.status, tt.cause, tt.fragments...)
			if tt.status == probe.Pass {
				want(t, res, ManifestID(ref), probe.Pass, "", "single-platform image")
				want(t, res, PlatformID(ref), probe.Pass, "", "linux/amd64")
				if a := r.Data.(Auth); a.Challenge != "Basic" || a.Anonymous || a.Source != src {
					t.Errorf("auth data = %+v", a)
				}
			} else {
				// Asked for beside the verification, the manifest is
				// still skipped when it fails.
				want(t, res, ManifestID(ref), probe.Skip, "", "skipped: "+AuthID(f.Host)+" did not pass")
				if f, _ := r.Data.(Failure); f.Host != strings.ToLower(f.Host) || f.Cause != tt.cause {
					t.Errorf("failure data = %+v", f)
				}
			}
		})
	}
}

func TestBearerAuth(t *testing.T) {
	f := newFakeRegistry(t)
	pass := randomSecret(t)
	f.Bearer("bob", pass, true, "private/app")
	f.PushImage("group/app", "1", linuxAMD64)
	f.PushImage("private/app", "1", linuxAMD64)
	src := "$DOCKER_AUTH_CONFIG"

	t.Run("right credentials", func(t *testing.T) {
		ref := f.Host + "/group/app:1"
		res := imageRun(t, f, ref, Credential{Username: "bob", Password: pass, Source: src}, Options{})
		r := want(t, res, AuthID(f.Host), probe.Pass, "", "credentials accepted (from $DOCKER_AUTH_CONFIG)", "repository:group/app:pull", "/token")
		if a := r.Data.(Auth); a.Challenge != "Bearer" || a.Service != "fake-registry" || a.Anonymous {
			t.Errorf("auth data = %+v", a)
		}
		want(t, res, ManifestID(ref), probe.Pass, "")
		want(t, res, PlatformID(ref), probe.Pass, "")
	})
	t.Run("wrong credentials", func(t *testing.T) {
		res := imageRun(t, f, f.Host+"/group/app:1", Credential{Username: "bob", Password: randomSecret(t), Source: src}, Options{})
		r := want(t, res, AuthID(f.Host), probe.Fail, CauseTokenRejected, "rejected by the token server", "incorrect username or password")
		if fl := r.Data.(Failure); fl.Status != 401 || fl.CredentialSource != src {
			t.Errorf("failure = %+v", fl)
		}
	})
	t.Run("anonymous token then denied", func(t *testing.T) {
		ref := f.Host + "/private/app:1"
		res := imageRun(t, f, ref, Credential{}, Options{})
		want(t, res, AuthID(f.Host), probe.Pass, "", "anonymous token issued")
		r := want(t, res, ManifestID(ref), probe.Fail, CauseAccessDenied, "denied: requested access to the resource is denied", "without credentials", `under "`+f.Host+`"`)
		if fl := r.Data.(Failure); fl.Status != 403 || len(fl.Codes) == 0 || fl.Codes[0] != "DENIED" {
			t.Errorf("failure = %+v", fl)
		}
	})
	t.Run("anonymous token refused", func(t *testing.T) {
		g := newFakeRegistry(t)
		g.Bearer("bob", randomSecret(t), false)
		res := imageRun(t, g, g.Host+"/group/app:1", Credential{}, Options{})
		want(t, res, AuthID(g.Host), probe.Fail, CauseMissingCredentials, "refused an anonymous token", "anonymous access is not allowed")
	})
}

// A credentials check that failed does not stop the probe: the runner
// drops the broken source and pulls anonymously.
func TestFailedCredentialsCheckProbesAnonymously(t *testing.T) {
	f := newFakeRegistry(t)
	f.PushImage("group/app", "1", linuxAMD64)
	opts := withCreds(Options{})
	res := results(t, 0, HostChecks(f.Host, []string{"group/app"}, opts), []probe.Check{{
		ID: "credentials." + f.Host, Run: func(ctxT, probe.Deps) probe.Result { return probe.Failf("", "helper missing") },
	}})
	want(t, res, AuthID(f.Host), probe.Pass, "", "anonymous access", "credentials."+f.Host+" did not pass")
}

// A realm on another loopback port is refused by go-containerregistry's
// SSRF guard but followed by dockerd (a self-hosted GitLab on a private
// IP): the probe then makes the token request itself.
func TestBearerRealmOnPrivateAddress(t *testing.T) {
	f := newFakeRegistry(t)
	pass := randomSecret(t)
	f.Bearer("bob", pass, false)
	realm := f.TokenURL + "/token"
	f.SetRealm(realm)
	f.PushImage("group/app", "1", linuxAMD64)
	ref := f.Host + "/group/app:1"
	if ggcrAcceptsRealm(realm, f.Host, true) {
		t.Fatalf("go-containerregistry would accept %s; the test needs a refused realm", realm)
	}

	res := imageRun(t, f, ref, Credential{Username: "bob", Password: pass, Source: "s"}, Options{})
	want(t, res, AuthID(f.Host), probe.Pass, "", "credentials accepted (from s): token issued by "+realm)
	want(t, res, ManifestID(ref), probe.Pass, "")
	want(t, res, PlatformID(ref), probe.Pass, "")
	q := f.TokenQueries()
	if len(q) != 1 || !strings.Contains(q[0], "account=bob") || !strings.Contains(q[0], "scope=repository%3Agroup%2Fapp%3Apull") || !strings.Contains(q[0], "service=fake-registry") {
		t.Errorf("token requests = %q, want one as dockerd sends it", q)
	}

	res = imageRun(t, f, ref, Credential{Username: "bob", Password: randomSecret(t), Source: "s"}, Options{})
	want(t, res, AuthID(f.Host), probe.Fail, CauseTokenRejected, "incorrect username or password")
	res = imageRun(t, f, ref, Credential{}, Options{})
	want(t, res, AuthID(f.Host), probe.Fail, CauseMissingCredentials, "anonymous access is not allowed")
}

func TestGGCRAcceptsRealm(t *testing.T) {
	tests := []struct {
		realm, host string
		insecure    bool
		want        bool
	}{
		{"https://auth.docker.io/token", "registry-1.docker.io", false, true},
		{"https://gitlab.example.com/jwt/auth", "registry.example.com", false, true},
		{"https://10.0.0.5/jwt/auth", "10.0.0.5:5050", false, false},
		{"http://127.0.0.1:5000/token", "127.0.0.1:5000", true, true},
		{"http://127.0.0.1:5001/token", "127.0.0.1:5000", true, false},
		{"http://gitlab.example.com/jwt/auth", "registry.example.com", false, false},
		{"https://[fe80::1]/token", "registry.example.com", false, false},
	}
	for _, tt := range tests {
		if got := ggcrAcceptsRealm(tt.realm, tt.host, tt.insecure); got != tt.want {
			t.Errorf("ggcrAcceptsRealm(%s, %s, %v) = %v, want %v", tt.realm, tt.host, tt.insecure, got, tt.want)
		}
	}
}
