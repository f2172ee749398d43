//go:build linux

package diagnose

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/runnerup/runnerup/internal/fakeregistry"
	"github.com/runnerup/runnerup/internal/testenv"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/daemon"
)

// pullTestHost resolves only to ::1, where dockerd checks certificates
// (127.0.0.0/8 is insecure to it, so TLS problems never show there).
const pullTestHost = "pull.test"

// TestIntegrationDaemonPull: --pull on the real test dockerd against real
// registries. The daemon pulls with the X-Registry-Auth the runner would
// send; when runnerup's HTTP probe and the daemon disagree, the daemon's
// answer wins and the difference is named.
func TestIntegrationDaemonPull(t *testing.T) {
	testenv.Need(t, true, "dockerd", "docker", "docker-registry", "htpasswd", "openssl")
	testenv.AddHost(t, "::1", pullTestHost)
	d := testenv.StartDockerd(t, testenv.DockerdOptions{})
	authReg := testenv.StartRegistry(t, testenv.RegistryOptions{Auth: true, Password: "pull-pass-Vb7r2"})
	tlsReg := testenv.StartRegistry(t, testenv.RegistryOptions{TLS: true, Listen: "::1", Hostname: pullTestHost})
	addSecret(authReg.Password)
	private := authReg.PushImage(t, d, "pull/app", "v1")
	overTLS := pushOverTLS(t, tlsReg, "pull/tls:v1")

	// The certs.d runnerup's HTTP probe reads: it holds the TLS
	// registry's CA. The daemon reads /etc/docker/certs.d, which does not.
	runnerupCerts := t.TempDir()
	copyCA(t, tlsReg.CACertFile, filepath.Join(runnerupCerts, tlsReg.Host, "ca.crt"))
	if _, err := os.Stat(filepath.Join("/etc/docker/certs.d", tlsReg.Host)); err == nil {
		t.Fatalf("/etc/docker/certs.d/%s exists: this test needs the daemon not to trust it", tlsReg.Host)
	}

	run := func(t *testing.T, o Options) *Report {
		t.Helper()
		o.Pull = true
		o.Runner = &Runner{Name: "pull", DockerHost: d.Host}
		if o.HomeDir == "" && o.ConfigJSON == nil {
			o.HomeDir = t.TempDir()
		}
		o.HelperEnv, o.LookupEnv = []string{"PATH=/nonexistent"}, noEnv
		if o.CertsDir == "" {
			o.CertsDir = t.TempDir()
		}
		return diagnoseTimed(t, o)
	}
	inspect := func(ref string) error {
		_, _, err := d.Docker(t, "", "image", "inspect", ref)
		return err
	}

	t.Run("the daemon pulls with the runner's credentials and keeps the image", func(t *testing.T) {
		if inspect(private) == nil {
			t.Fatalf("%s is already in the daemon's store", private)
		}
		right := home(t, authsJSON(authReg.Host, secretAuth(authReg.Username, authReg.Password)))
		rep := run(t, Options{Image: private, HomeDir: right})
		wantCauses(t, rep)
		p := rep.Pull
		if p == nil || !p.Pulled || !p.Agree || p.HTTP != "passed" || p.CredentialSource != filepath.Join(right, ".docker", "config.json") {
			t.Fatalf("pull = %+v", p)
		}
		if r := resultOf(rep, daemon.PullID(private)); r.Status != probe.Pass || !strings.Contains(r.Detail, "stays in the daemon's store") {
			t.Errorf("pull check = %s %q", r.Status, r.Detail)
		}
		if err := inspect(private); err != nil {
			t.Errorf("after --pull the image is not in the daemon's store, as the runner would leave it: %v", err)
		}
	})

	t.Run("no credentials: both sides say auth-missing-credentials", func(t *testing.T) {
		rep := run(t, Options{Image: authReg.Host + "/pull/app:v1"})
		wantCauses(t, rep, "auth-missing-credentials")
		p := rep.Pull
		if p == nil || p.Pulled || p.Cause != "auth-missing-credentials" || p.HTTPCause != "auth-missing-credentials" || !p.Agree {
			t.Fatalf("pull = %+v", p)
		}
		if !strings.Contains(p.DaemonError, "no basic auth credentials") || p.CredentialSource != "none" {
			t.Errorf("daemon error %q, source %q", p.DaemonError, p.CredentialSource)
		}
		wantText(t, rep.Causes[0], "the daemon itself refused the pull", "no basic auth credentials", "runnerup's HTTP probe failed: auth-missing-credentials")
	})

	t.Run("runnerup trusts the CA, the daemon does not: the daemon wins", func(t *testing.T) {
		rep := run(t, Options{Image: overTLS, CertsDir: runnerupCerts})
		for _, id := range []string{"registry." + tlsReg.Host + ".tls", "image." + overTLS + ".manifest"} {
			if r := resultOf(rep, id); r.Status != probe.Pass {
				t.Errorf("runnerup's HTTP side: %s = %s %q, want pass (it was given the CA)", id, r.Status, r.Detail)
			}
		}
		wantCauses(t, rep, "tls-unknown-ca")
		p := rep.Pull
		if p == nil || p.Pulled || p.Agree || p.HTTP != "passed" || p.Cause != "tls-unknown-ca" {
			t.Fatalf("pull = %+v, want a disagreement with the daemon refusing", p)
		}
		if !strings.Contains(p.DaemonError, "x509: certificate signed by unknown authority") {
			t.Errorf("daemon error = %q", p.DaemonError)
		}
		for _, want := range []string{"certificates", "/etc/docker/certs.d/" + tlsReg.Host + "/", runnerupCerts + "/" + tlsReg.Host + "/"} {
			if !strings.Contains(p.Difference, want) {
				t.Errorf("difference lacks %q: %s", want, p.Difference)
			}
		}
		wantText(t, rep.Causes[0], "the daemon's answer wins", "runnerup's HTTP probe passed", "x509: certificate signed by unknown authority")
		if r := resultOf(rep, daemon.PullID(overTLS)); r.Status != probe.Fail || r.Finding != "tls-unknown-ca" {
			t.Errorf("pull check = %s %q (finding %q)", r.Status, r.Detail, r.Finding)
		}
	})

	t.Run("the daemon trusts the CA, runnerup does not: the daemon wins the other way", func(t *testing.T) {
		dir := filepath.Join("/etc/docker/certs.d", tlsReg.Host)
		t.Cleanup(func() { os.RemoveAll(dir) })
		copyCA(t, tlsReg.CACertFile, filepath.Join(dir, "ca.crt"))
		rep := run(t, Options{Image: overTLS}) // runnerup's certs.d: empty
		wantCauses(t, rep)
		p := rep.Pull
		if p == nil || !p.Pulled || p.Agree || p.HTTPCause != "tls-unknown-ca" || !strings.Contains(p.Difference, "the daemon trusts "+tlsReg.Host) {
			t.Fatalf("pull = %+v", p)
		}
		if r := resultOf(rep, "registry."+tlsReg.Host+".tls"); r.Status != probe.Warn || !strings.Contains(r.Detail, "the daemon pulled the image anyway") {
			t.Errorf("HTTP-side tls check = %s %q, want a warning (the daemon wins)", r.Status, r.Detail)
		}
		if notes := strings.Join(rep.Notes, "\n"); !strings.Contains(notes, "x509: certificate signed by unknown authority") || !strings.Contains(notes, "its answer wins") {
			t.Errorf("notes do not keep runnerup's own finding: %v", rep.Notes)
		}
	})

	t.Run("a docker:24 job with a docker:29-dind service, from the job log", func(t *testing.T) {
		log := "Using Docker executor with image docker:24 ...\nStarting service docker:29-dind...\n$ docker build -t app .\n" +
			"Error response from daemon: client version 1.43 is too old. Minimum supported API version is 1.44, please upgrade your client to a newer version\n"
		right := home(t, authsJSON(authReg.Host, secretAuth(authReg.Username, authReg.Password)))
		o := Options{Image: private, HomeDir: right, Log: &log}
		rep := run(t, o)
		wantCauses(t, rep, "docker-api-too-old")
		wantText(t, rep.Causes[0], "docker:24 (runner \"pull\"): its docker CLI (Docker 24) speaks API up to 1.43", "docker:29-dind", "DOCKER_API_VERSION=1.44", "image: docker:29")
		if rep.Causes[0].Log != VerdictConfirmed || rep.Log.Matches[0].ID != "docker-api-too-old" {
			t.Errorf("log verdict %q, matches %+v", rep.Causes[0].Log, rep.Log.Matches)
		}
	})

	t.Run("X-Registry-Auth is what the runner sends", func(t *testing.T) {
		// A daemon stand-in that records the header of POST /images/create.
		var got string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/images/create") {
				got = r.Header.Get("X-Registry-Auth")
			}
			fmt.Fprint(w, `{"status":"Status: Image is up to date for x"}`)
		}))
		defer srv.Close()
		auth := &daemon.PullAuth{ServerAddress: authReg.Host, Username: "ci", Password: authReg.Password}
		c := dockerClientFor(t, "tcp://"+strings.TrimPrefix(srv.URL, "http://"))
		if _, err := daemon.Pull(context.Background(), c, private, auth, ""); err != nil {
			t.Fatal(err)
		}
		raw, err := base64.URLEncoding.DecodeString(got)
		if err != nil {
			t.Fatalf("header %q is not base64url: %v", got, err)
		}
		// helpers/docker/auth EncodeConfig: json.Encoder output (with its
		// newline) of docker/cli's AuthConfig.
		want := fmt.Sprintf(`{"username":"ci","password":%q,"serveraddress":%q}`+"\n", authReg.Password, authReg.Host)
		if string(raw) != want {
			t.Errorf("X-Registry-Auth decodes to %q, want %q", raw, want)
		}
		var ac map[string]string
		if err := json.Unmarshal(raw, &ac); err != nil || ac["username"] != "ci" {
			t.Errorf("decoded %v, %v", ac, err)
		}
	})
}

// pushOverTLS writes a one-layer image for this machine's platform to a
// TLS registry reached by name, trusting its CA for the push only.
func pushOverTLS(t *testing.T, reg *testenv.Registry, repoTag string) string {
	t.Helper()
	hc, err := reg.HTTPClient()
	if err != nil {
		t.Fatal(err)
	}
	ref := reg.Host + "/" + repoTag
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	img := fakeregistry.PlatformImage(t, v1.Platform{OS: "linux", Architecture: runtime.GOARCH})
	if err := remote.Write(tag, img, remote.WithTransport(hc.Transport), remote.WithAuth(authn.Anonymous)); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return ref
}

func copyCA(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func dockerClientFor(t *testing.T, host string) *daemon.Engine {
	t.Helper()
	c, err := daemon.NewEngine(host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestDockerCLIAgainstDocker29: the real docker CLI (Debian's 20.10, API
// 1.41) against a stand-in answering as Docker 29's version middleware
// does prints the text the catalogue maps to docker-api-too-old. A real
// Docker 29 daemon cannot run here; its refusal is one 400 with a fixed
// message (moby daemon/server/middleware/version.go).
func TestDockerCLIAgainstDocker29(t *testing.T) {
	testenv.Need(t, false, "docker")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.52")
		if r.URL.Path == "/_ping" {
			fmt.Fprint(w, "OK")
			return
		}
		v, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v"), "/")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"message":"client version %s is too old. Minimum supported API version is 1.44, please upgrade your client to a newer version"}`, v)
	}))
	defer srv.Close()
	bin, err := testenv.Lookup("docker")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-H", "tcp://"+strings.TrimPrefix(srv.URL, "http://"), "--config", t.TempDir(), "pull", "alpine:3.20")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("docker pull succeeded against a Docker 29 stand-in:\n%s", out)
	}
	t.Logf("docker CLI: %s", out)
	if got := ClassifyDaemonError(string(out)); got != "docker-api-too-old" {
		t.Errorf("ClassifyDaemonError(%q) = %q, want docker-api-too-old", out, got)
	}
}
