package registry

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/runnerup/runnerup/internal/fakeregistry"
	"github.com/runnerup/runnerup/internal/testenv"
	"github.com/runnerup/runnerup/probe"
)

// Integration tests against the real Debian docker-registry (distribution
// 2.8) and a private dockerd, whose /version and /info supply the daemon
// facts. They skip without root or the binaries, and fail instead under
// RUNNERUP_REQUIRE_INTEGRATION=1 (testenv).
func TestIntegration(t *testing.T) {
	testenv.Need(t, true, "dockerd", "docker", "docker-registry", "htpasswd", "openssl")
	// Before any dockerd starts: Go programs (dockerd included) cache
	// /etc/hosts for a few seconds, so a daemon started earlier might not
	// see the name yet.
	testenv.AddHost(t, "::1", "registry.test")
	d := testenv.StartDockerd(t, testenv.DockerdOptions{})
	facts, platform := daemonFacts(t, d)
	if platform.String() != "linux/amd64" {
		t.Logf("daemon platform is %s; the index subtest expects linux/amd64", platform)
	}

	reg := testenv.StartRegistry(t, testenv.RegistryOptions{Auth: true})
	addSecret(reg.Password, reg.AuthConfigValue())
	good := reg.PushImage(t, d, "runnerup/hello", "v1")
	multi := pushPlatformIndex(t, reg, "runnerup/multi:v1", v1.Platform{OS: "linux", Architecture: "arm64"}, v1.Platform{OS: "linux", Architecture: "s390x"})
	right := Credential{Username: reg.Username, Password: reg.Password, Source: "/root/.docker/config.json"}

	// run probes refs on the real registry with cred (zero: none resolved).
	run := func(t *testing.T, cred Credential, opts Options, refs ...string) map[string]probe.Result {
		t.Helper()
		// A zero credential is the credentials check resolving nothing.
		creds := map[string]Credential{reg.Host: cred}
		return results(t, 0, Checks(refs, withCreds(opts)), credChecks(creds), facts)
	}

	t.Run("good image with basic auth", func(t *testing.T) {
		t.Parallel()
		res := run(t, right, Options{}, good)
		want(t, res, TLSID(reg.Host), probe.Pass, "", "plain HTTP", "127.0.0.0/8")
		want(t, res, AuthID(reg.Host), probe.Pass, "", "credentials accepted (from /root/.docker/config.json)", `Basic realm "runnerup-test"`)
		m := want(t, res, ManifestID(good), probe.Pass, "", "single-platform image").Data.(Manifest)
		if !strings.HasPrefix(m.Digest, "sha256:") || m.Index {
			t.Errorf("manifest = %+v", m)
		}
		want(t, res, PlatformID(good), probe.Pass, "", "single-platform "+platform.String())
	})
	t.Run("wrong password", func(t *testing.T) {
		t.Parallel()
		res := run(t, Credential{Username: reg.Username, Password: randomSecret(t), Source: "$DOCKER_AUTH_CONFIG"}, Options{}, good)
		want(t, res, AuthID(reg.Host), probe.Fail, CauseAuthRejected, "rejected", "unauthorized: authentication required")
		want(t, res, ManifestID(good), probe.Skip, "")
	})
	t.Run("no credentials", func(t *testing.T) {
		t.Parallel()
		res := run(t, Credential{}, Options{}, good)
		want(t, res, AuthID(reg.Host), probe.Fail, CauseMissingCredentials, "no basic auth credentials", `"auths":{"`+reg.Host+`"`)
	})
	t.Run("missing tag", func(t *testing.T) {
		t.Parallel()
		ref := reg.Host + "/runnerup/hello:v2"
		res := run(t, right, Options{}, ref)
		r := want(t, res, ManifestID(ref), probe.Fail, CauseTagNotFound, "manifest unknown", "nearest: v1")
		if f := r.Data.(Failure); len(f.Suggestions) != 1 || f.Suggestions[0] != "v1" || f.CredentialSource != right.Source {
			t.Errorf("failure = %+v", f)
		}
	})
	t.Run("missing repository", func(t *testing.T) {
		t.Parallel()
		ref := reg.Host + "/runnerup/nosuch:v1"
		res := run(t, right, Options{}, ref)
		want(t, res, ManifestID(ref), probe.Fail, CauseRepoNotFound, "name unknown", "repository runnerup/nosuch not found")
	})
	t.Run("index without the daemon platform", func(t *testing.T) {
		t.Parallel()
		res := run(t, right, Options{}, multi)
		want(t, res, ManifestID(multi), probe.Pass, "", "index of linux/arm64, linux/s390x")
		r := want(t, res, PlatformID(multi), probe.Fail, CausePlatformMissing,
			"no matching manifest for linux/amd64 in the manifest list entries", "linux/arm64, linux/s390x")
		if f := r.Data.(Failure); strings.Join(f.Suggestions, ",") != "linux/arm64,linux/s390x" {
			t.Errorf("suggestions = %v", f.Suggestions)
		}
	})
	t.Run("index with only linux/386: the probe agrees with the daemon's pull", func(t *testing.T) {
		t.Parallel()
		if platform.Architecture != "amd64" {
			t.Skipf("needs an amd64 daemon, this one is %s", platform)
		}
		ref := pushPlatformIndex(t, reg, "runnerup/i386:v1", v1.Platform{OS: "linux", Architecture: "386"})
		cfg := t.TempDir()
		if _, stderr, err := d.DockerInput(t, cfg, reg.Password, "login", "-u", reg.Username, "--password-stdin", reg.Host); err != nil {
			t.Fatalf("docker login: %v %s", err, stderr)
		}
		// Docker 20.10 refuses it, Docker 23+ pulls it (platforms.Only).
		_, stderr, err := d.Docker(t, cfg, "pull", ref)
		res := run(t, right, Options{}, ref)
		switch {
		case err == nil:
			want(t, res, PlatformID(ref), probe.Pass, "", "the daemon is linux/amd64: linux/386")
		case strings.Contains(stderr, "no matching manifest for linux/amd64"):
			want(t, res, PlatformID(ref), probe.Fail, CausePlatformMissing, "no matching manifest for linux/amd64", "linux/386")
		default:
			t.Fatalf("docker pull %s: %v %s", ref, err, stderr)
		}
	})
	t.Run("TLS registry with an unknown CA on ::1", func(t *testing.T) {
		t.Parallel()
		tlsReg := testenv.StartRegistry(t, testenv.RegistryOptions{TLS: true, Listen: "::1", Hostname: "registry.test"})

		// The daemon itself fails this way, so the probe must too.
		_, stderr, err := d.Docker(t, "", "pull", tlsReg.Host+"/runnerup/none:v1")
		if err == nil || !strings.Contains(stderr, "x509: certificate signed by unknown authority") {
			t.Fatalf("docker pull from the untrusted registry: %v %s", err, stderr)
		}
		res := results(t, 0, HostChecks(tlsReg.Host, nil, Options{}), facts)
		want(t, res, TLSID(tlsReg.Host), probe.Fail, CauseTLSUnknownCA, "x509: certificate signed by unknown authority",
			"/etc/docker/certs.d/"+tlsReg.Host+"/ca.crt")

		// Trusted by the transport …
		pool, err := testenv.CertPool(tlsReg.CACertFile)
		if err != nil {
			t.Fatal(err)
		}
		trusting := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
		res = results(t, 0, HostChecks(tlsReg.Host, nil, Options{Transport: trusting}), facts)
		want(t, res, TLSID(tlsReg.Host), probe.Pass, "", "HTTPS ok")
		want(t, res, AuthID(tlsReg.Host), probe.Pass, "", "anonymous access")

		// … or through certs.d, as the daemon would be after the hint.
		certs := t.TempDir()
		dir := filepath.Join(certs, tlsReg.Host)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		ca, err := os.ReadFile(tlsReg.CACertFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "ca.crt"), ca, 0o644); err != nil {
			t.Fatal(err)
		}
		res = results(t, 0, HostChecks(tlsReg.Host, nil, Options{CertsDir: certs}), facts)
		want(t, res, TLSID(tlsReg.Host), probe.Pass, "", "HTTPS ok")
	})
	t.Run("plain-HTTP registry on a name the daemon treats as secure", func(t *testing.T) {
		t.Parallel()
		plain := testenv.StartRegistry(t, testenv.RegistryOptions{Listen: "::1", Hostname: "registry.test"})

		_, stderr, err := d.Docker(t, "", "pull", plain.Host+"/runnerup/none:v1")
		if err == nil || !strings.Contains(stderr, "server gave HTTP response to HTTPS client") {
			t.Fatalf("docker pull from the plain-HTTP registry: %v %s", err, stderr)
		}
		res := results(t, 0, HostChecks(plain.Host, nil, Options{}), facts)
		want(t, res, TLSID(plain.Host), probe.Fail, CausePlainHTTP, "server gave HTTP response to HTTPS client",
			`"insecure-registries": ["`+plain.Host+`"]`, "/etc/docker/daemon.json", "restart dockerd")

		// A daemon started with --insecure-registry for it: /info says so.
		trusting := testenv.StartDockerd(t, testenv.DockerdOptions{InsecureRegistries: []string{plain.Host}})
		trustingFacts, _ := daemonFacts(t, trusting)
		res = results(t, 0, HostChecks(plain.Host, nil, Options{}), trustingFacts)
		want(t, res, TLSID(plain.Host), probe.Pass, "", "plain HTTP", plain.Host+" is in the daemon's insecure-registries")
		want(t, res, AuthID(plain.Host), probe.Pass, "", "anonymous access")
	})
}

// daemonFacts reads the real daemon's /version and /info into
// daemon.platform and daemon.registries checks.
func daemonFacts(t testing.TB, d *testenv.Dockerd) ([]probe.Check, probe.Platform) {
	t.Helper()
	c := d.HTTPClient()
	var version struct{ Os, Arch, ApiVersion string }
	getJSON(t, c, "http://docker/version", &version)
	p := probe.Platform{OS: version.Os, Architecture: version.Arch, ExactIndexMatch: probe.ExactIndexMatchFor(version.ApiVersion)}
	var info struct {
		RegistryConfig struct {
			InsecureRegistryCIDRs []string
			IndexConfigs          map[string]struct{ Secure bool }
			Mirrors               []string
		}
	}
	getJSON(t, c, "http://docker/info", &info)
	regs := probe.DaemonRegistries{InsecureCIDRs: info.RegistryConfig.InsecureRegistryCIDRs, Secure: map[string]bool{}, Mirrors: info.RegistryConfig.Mirrors}
	for name, ic := range info.RegistryConfig.IndexConfigs {
		regs.Secure[name] = ic.Secure
	}
	t.Logf("daemon %+v, registries %+v", p, regs)
	return daemonChecks(p, regs), p
}

func getJSON(t testing.TB, c *http.Client, url string, v any) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// pushPlatformIndex writes an OCI index of random images for platforms
// to the real registry with its basic auth.
func pushPlatformIndex(t testing.TB, reg *testenv.Registry, repoTag string, platforms ...v1.Platform) string {
	t.Helper()
	ref := reg.Host + "/" + repoTag
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	idx := fakeregistry.PlatformIndex(t, platforms...)
	if err := remote.WriteIndex(tag, idx, remote.WithAuth(&authn.Basic{Username: reg.Username, Password: reg.Password})); err != nil {
		t.Fatalf("push index %s: %v", ref, err)
	}
	return ref
}
