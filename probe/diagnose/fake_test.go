package diagnose

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"

	"github.com/runnerup/runnerup/internal/fakeregistry"
)

// Failures a real docker-registry cannot be made to show (429, 5xx, a
// token server refusing credentials, a Docker-Hub-style denial) come from
// a fake: internal/fakeregistry, go-containerregistry's in-memory registry
// behind middleware.
// The daemon is faked too, so these run without root.

// fakeDocker answers like Debian's dockerd 20.10 on linux/amd64, with the
// local images in present.
type fakeDocker struct {
	version string
	present map[string]bool
	proxy   string
}

var _ DockerAPI = (*fakeDocker)(nil)

func (f *fakeDocker) Ping(context.Context) (client.PingResult, error) {
	return client.PingResult{APIVersion: "1.41", OSType: "linux"}, nil
}

func (f *fakeDocker) ServerVersion(context.Context) (system.VersionResponse, error) {
	return system.VersionResponse{Version: f.ver(), APIVersion: "1.41", Os: "linux", Arch: "amd64", KernelVersion: "6.1.0"}, nil
}

func (f *fakeDocker) ver() string {
	if f.version == "" {
		return "20.10.24+dfsg1"
	}
	return f.version
}

func (f *fakeDocker) Info(context.Context) (system.Info, error) {
	return system.Info{OSType: "linux", Architecture: "x86_64", Driver: "overlay2", DockerRootDir: "/var/lib/docker",
		ServerVersion: f.ver(), HTTPProxy: f.proxy, HTTPSProxy: f.proxy}, nil
}

func (f *fakeDocker) ImageInspect(_ context.Context, ref string) (image.InspectResponse, error) {
	if f.present[ref] {
		return image.InspectResponse{ID: "sha256:0123456789abcdef0123456789abcdef"}, nil
	}
	return image.InspectResponse{}, fmt.Errorf("No such image: %s: %w", ref, cerrdefs.ErrNotFound)
}

func plentyFree(string) (uint64, uint64, error) { return 100 << 30, 200 << 30, nil }

// fakeRun diagnoses against the fake daemon.
func fakeRun(t *testing.T, o Options) *Report {
	t.Helper()
	if o.Docker == nil {
		o.Docker = &fakeDocker{}
	}
	if o.StatFS == nil {
		o.StatFS = plentyFree
	}
	if o.HomeDir == "" && o.ConfigJSON == nil {
		o.HomeDir = t.TempDir()
	}
	if o.HelperEnv == nil {
		o.HelperEnv = []string{"PATH=/nonexistent"}
	}
	if o.LookupEnv == nil {
		o.LookupEnv = noEnv
	}
	if o.CertsDir == "" {
		o.CertsDir = t.TempDir()
	}
	if o.Runner == nil {
		o.Runner = &Runner{Name: "fake"}
	}
	return diagnoseTimed(t, o)
}

// newFakeRegistry starts a fakeregistry.Registry that adds every secret it
// accepts or hands out to secrets.
func newFakeRegistry(t *testing.T) *fakeregistry.Registry {
	t.Helper()
	f := fakeregistry.New(t)
	f.OnSecret(addSecret)
	return f
}

// linuxAMD64 is the fake daemon's platform.
var linuxAMD64 = v1.Platform{OS: "linux", Architecture: "amd64"}

func TestFakeRegistryCauses(t *testing.T) {
	t.Run("rate limited (429)", func(t *testing.T) {
		t.Parallel()
		f := newFakeRegistry(t)
		ref := f.PushImage("lib/app", "1", linuxAMD64)
		f.SetInject(func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.Contains(r.URL.Path, "/manifests/") {
				return false
			}
			w.Header().Set("Retry-After", "3600")
			w.Header().Set("ratelimit-limit", "100;w=21600")
			w.Header().Set("ratelimit-remaining", "0;w=21600")
			fakeregistry.WriteError(w, http.StatusTooManyRequests, "TOOMANYREQUESTS", "You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit")
			return true
		})
		rep := fakeRun(t, Options{Image: ref})
		wantCauses(t, rep, "rate-limited")
		wantText(t, rep.Causes[0], "429", "https://index.docker.io/v1/", "registry-mirrors")
	})
	t.Run("registry server error (503)", func(t *testing.T) {
		t.Parallel()
		f := newFakeRegistry(t)
		f.SetInject(func(w http.ResponseWriter, r *http.Request) bool {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, "upstream connect error")
			return true
		})
		rep := fakeRun(t, Options{Image: f.Host + "/lib/app:1"})
		wantCauses(t, rep, "registry-server-error")
		wantText(t, rep.Causes[0], "503")
	})
	t.Run("token server rejects the credentials", func(t *testing.T) {
		t.Parallel()
		f := newFakeRegistry(t)
		ref := f.PushImage("group/app", "1", linuxAMD64)
		f.Bearer("bob", "right-Mn5", false)
		addSecret("right-Mn5")
		cfg := authsJSON(f.Host, secretAuth("bob", "wrong-Mn6"))
		rep := fakeRun(t, Options{Image: ref, ConfigJSON: []byte(cfg), ConfigJSONPath: "/home/runner/.docker/config.json"})
		wantCauses(t, rep, "token-auth-rejected")
		wantText(t, rep.Causes[0], "incorrect username or password", "/home/runner/.docker/config.json", `user "bob"`)
	})
	t.Run("access denied to a private repository", func(t *testing.T) {
		t.Parallel()
		f := newFakeRegistry(t)
		ref := f.PushImage("group/private", "1", linuxAMD64)
		f.Bearer("bob", "right-Mn7", true, "group/private")
		addSecret("right-Mn7")
		rep := fakeRun(t, Options{Image: ref})
		wantCauses(t, rep, "access-denied")
		wantText(t, rep.Causes[0], "403", "group/private")
	})
	t.Run("a stale log of a rate limit is not reproduced now", func(t *testing.T) {
		t.Parallel()
		f := newFakeRegistry(t)
		ref := f.PushImage("lib/app", "1", linuxAMD64)
		log := pullFail(ref, "Error response from daemon: toomanyrequests: You have reached your pull rate limit.")
		rep := fakeRun(t, Options{Image: ref, Log: &log})
		wantCauses(t, rep)
		if m := rep.Log.Matches[0]; m.ID != "rate-limited" || m.Verdict != VerdictNotReproduced || len(m.Fix) == 0 {
			t.Errorf("log match = %+v", m)
		}
	})
}

// TestECRTokenExpired: an ECR host (reached over TLS by name, the dial
// redirected to a fake) denies a static auth pasted into config.json.
func TestECRTokenExpired(t *testing.T) {
	f := newFakeRegistry(t)
	f.PushImage("app", "1", linuxAMD64)
	const ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
	f.SetInject(func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case r.Header.Get("Authorization") == "":
			w.Header().Set("WWW-Authenticate", `Basic realm="https://`+ecr+`/",service="ecr.amazonaws.com"`)
			fakeregistry.WriteError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
			return true
		case strings.Contains(r.URL.Path, "/manifests/"):
			fakeregistry.WriteError(w, http.StatusForbidden, "DENIED", "Your authorization token has expired. Reauthenticate and try again.")
			return true
		}
		return false
	})
	srv := httptest.NewUnstartedServer(f.Handler())
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", srv.Listener.Addr().String())
		},
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "example.com"},
	}
	image := ecr + "/app:1"
	cfg := authsJSON(ecr, secretAuth("AWS", "eyJwYXlsb2FkIjoiZXhwaXJlZCJ9-expired"))
	rep := fakeRun(t, Options{Image: image, ConfigJSON: []byte(cfg), ConfigJSONPath: "/root/.docker/config.json",
		Transport: tr, Insecure: func(string) bool { return false }})
	wantCauses(t, rep, "registry-token-expired")
	wantText(t, rep.Causes[0], "ECR tokens expire after 12 hours", "Your authorization token has expired", `"credHelpers": {"`+ecr+`": "ecr-login"}`)
}

// TestPolicy covers the pull policies against a fake daemon store.
func TestPolicy(t *testing.T) {
	f := newFakeRegistry(t)
	f.Basic("ci", "pw-Hq2")
	addSecret("pw-Hq2")
	ref := f.PushImage("lib/app", "1", linuxAMD64)
	tests := []struct {
		name     string
		policy   []string
		allowed  []string
		present  bool
		causes   []string
		latent   []string
		uses     bool
		fragment string
	}{
		{"always, absent: the registry decides", nil, nil, false, []string{"auth-missing-credentials"}, nil, false, "the runner pulls"},
		{"always, present: still pulls", []string{"always"}, nil, true, []string{"auth-missing-credentials"}, nil, false, "although the daemon has a copy"},
		{"if-not-present, present", []string{"if-not-present"}, nil, true, nil, []string{"auth-missing-credentials"}, true, "without pulling"},
		{"always then if-not-present, present", []string{"always", "if-not-present"}, nil, true, nil, []string{"auth-missing-credentials"}, true, "falls back to the local"},
		{"never, present", []string{"never"}, nil, true, nil, []string{"auth-missing-credentials"}, true, "never contacts the registry"},
		{"never, absent", []string{"never"}, nil, false, []string{"policy-never-absent"}, []string{"auth-missing-credentials"}, false, "No such image"},
		{"not allowed", []string{"always"}, []string{"never", "if-not-present"}, true, []string{"policy-not-allowed", "auth-missing-credentials"}, nil, false, "is not one of the allowed_pull_policies ([never if-not-present])"},
		{"unknown policy", []string{"if_not_present"}, nil, true, []string{"unclassified", "auth-missing-credentials"}, nil, false, "unsupported pull_policy config"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dk := &fakeDocker{present: map[string]bool{ref: tc.present}}
			rep := fakeRun(t, Options{Image: ref, Docker: dk, Runner: &Runner{Name: "p", PullPolicy: tc.policy, AllowedPullPolicies: tc.allowed}})
			if got := causeIDs(rep.Causes); strings.Join(got, ",") != strings.Join(tc.causes, ",") {
				t.Errorf("causes = %v, want %v", got, tc.causes)
			}
			if got := causeIDs(rep.Latent); strings.Join(got, ",") != strings.Join(tc.latent, ",") {
				t.Errorf("latent = %v, want %v", got, tc.latent)
			}
			if rep.Policy == nil {
				t.Fatalf("no policy report")
			}
			if rep.Policy.UsesLocal != tc.uses {
				t.Errorf("uses local = %v", rep.Policy.UsesLocal)
			}
			if r := resultOf(rep, PolicyCheckID(ref)); !strings.Contains(r.Detail, tc.fragment) {
				t.Errorf("policy detail %q lacks %q", r.Detail, tc.fragment)
			}
		})
	}
}

func TestSchema1OnlyACauseOnNewDaemons(t *testing.T) {
	f := newFakeRegistry(t)
	body := []byte(`{"schemaVersion":1,"name":"old/app","tag":"2015","architecture":"amd64","fsLayers":[],"history":[],"signatures":[]}`)
	f.SetInject(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "/manifests/") {
			return false
		}
		w.Header().Set("Content-Type", "application/vnd.docker.distribution.manifest.v1+prettyjws")
		w.Header().Set("Docker-Content-Digest", digestOf(body))
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
		return true
	})
	ref := f.Host + "/old/app:2015"
	old := fakeRun(t, Options{Image: ref, Docker: &fakeDocker{version: "20.10.24"}})
	wantCauses(t, old)
	if !strings.Contains(strings.Join(old.Notes, "\n"), "schema 1") {
		t.Errorf("notes = %v, want the schema 1 warning", old.Notes)
	}
	current := fakeRun(t, Options{Image: ref, Docker: &fakeDocker{version: "28.3.0"}})
	wantCauses(t, current, "schema1-removed")
}

func digestOf(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

// TestDaemonProxyRouting: the registry probes use the daemon's proxy with
// Go's NO_PROXY rules, never runnerup's own environment.
func TestDaemonProxyRouting(t *testing.T) {
	p := daemonProxy{HTTPS: "http://proxy:3128", HTTP: "http://proxy:3128", NoProxy: "internal.example, .corp.example,10.0.0.0/8,registry.test:5000"}
	tests := []struct {
		host string
		want bool
	}{
		{"registry.example.com", true},
		{"internal.example", false},
		{"a.internal.example", false},
		{"x.corp.example", false},
		{"10.1.2.3:5000", false},
		{"registry.test:5000", false},
		{"registry.test:5001", true},
		{"127.0.0.1:5000", false},
		{"localhost:5000", false},
		{"[::1]:5000", false},
	}
	for _, tc := range tests {
		if got := p.useProxy(tc.host, "https"); got != tc.want {
			t.Errorf("useProxy(%s) = %v, want %v", tc.host, got, tc.want)
		}
	}
	if got := (daemonProxy{HTTPS: "proxy:3128"}).transport(); got.Proxy == nil {
		t.Errorf("transport has no proxy func")
	}
	if envProxy([]string{"A=1", "HTTPS_PROXY=http://u:secret-x@p:1"}, nil) != "http://u:xxxxx@p:1" {
		t.Errorf("envProxy does not redact")
	}
}

// TestNoSecretsInLogOrErrors: secrets quoted in a pasted log (an
// Authorization header, a config's auth value) never reach the report.
func TestNoSecretsInLogOrErrors(t *testing.T) {
	f := newFakeRegistry(t)
	f.Basic("ci", "pw-Rt8-secret")
	ref := f.PushImage("lib/app", "1", linuxAMD64)
	auth := secretAuth("ci", "pw-Rt8-secret")
	malformed := fmt.Sprintf(`{"auths":{%q:{"auth":%q,"password":"pw-Rt8-secret"}},}`, f.Host, auth)
	addSecret(malformed, "Zm9vYmFyYmF6cXV4MTIzNDU2")
	addSecret("helper-secret-Qp0")
	log := "Authorization: Basic Zm9vYmFyYmF6cXV4MTIzNDU2\n" +
		"WARNING: Failed to resolve credentials from $DOCKER_AUTH_CONFIG: error getting credentials - err: exit status 1, out: `{\"ServerURL\":\"h\",\"Username\":\"u\",\"Secret\":\"helper-secret-Qp0\"} oops`. Credentials from this source will not be used.\n" +
		"WARNING: Failed to resolve credentials from $DOCKER_AUTH_CONFIG: invalid character '}' looking for beginning of object key string; value " + auth + ". Credentials from this source will not be used.\n"
	rep := fakeRun(t, Options{Image: ref, AuthConfig: &malformed, Log: &log})
	wantCauses(t, rep, "docker-auth-config-malformed")
	found := false
	for _, m := range rep.Log.Matches {
		found = found || (m.ID == "docker-auth-config-malformed" && m.Verdict == VerdictConfirmed)
	}
	if !found {
		t.Errorf("log = %+v", rep.Log.Matches)
	}
	if !strings.Contains(strings.Join(rep.Log.Lines, "\n"), `"Secret":"***"`) {
		t.Errorf("helper secret not masked in %q", rep.Log.Lines)
	}
}
