//go:build linux

package diagnose

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/moby/moby/api/types/system"

	"github.com/runnerup/runnerup/internal/fakeregistry"
	"github.com/runnerup/runnerup/internal/testenv"
	"github.com/runnerup/runnerup/probe/credentials"
	"github.com/runnerup/runnerup/probe/daemon"
	"github.com/runnerup/runnerup/probe/registry"
)

// loopback is the shared real set-up: one private dockerd (Debian's
// 20.10), one htpasswd registry on 127.0.0.1, and a plain-HTTP and a TLS
// registry on ::1 reached by the name diagnose.test (dockerd treats
// 127.0.0.0/8 as insecure, so only a name on ::1 shows TLS and plain-HTTP
// failures as on a real network).
type loopback struct {
	d      *testenv.Dockerd
	reg    *testenv.Registry
	good   string // reg.Host/diag/app:v1, pushed
	bins   string // PATH for credential helpers: the fake helpers live here
	certs  string // an empty certs.d
	goodUA string // base64 auth of the right credentials
}

// run diagnoses with the loopback defaults filled in: the runner uses the
// test daemon, a fresh home without config.json, the helpers' PATH, no
// environment, an empty certs.d.
func (lb *loopback) run(t *testing.T, o Options) *Report {
	t.Helper()
	if o.Runner == nil {
		o.Runner = &Runner{Name: "it"}
	}
	if o.Runner.DockerHost == "" {
		o.Runner.DockerHost = lb.d.Host
	}
	if o.HomeDir == "" && o.ConfigJSON == nil {
		o.HomeDir = t.TempDir()
	}
	if o.HelperEnv == nil {
		o.HelperEnv = []string{"PATH=" + lb.bins}
	}
	if o.LookupEnv == nil {
		o.LookupEnv = noEnv
	}
	if o.CertsDir == "" {
		o.CertsDir = lb.certs
	}
	return diagnoseTimed(t, o)
}

// home writes config.json into a fresh home directory.
func home(t *testing.T, configJSON string) string {
	t.Helper()
	h := t.TempDir()
	if err := os.MkdirAll(filepath.Join(h, ".docker"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h, ".docker", "config.json"), []byte(configJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	return h
}

// writeHelper writes an executable docker-credential-NAME shell script.
func writeHelper(t *testing.T, dir, name, script string) {
	t.Helper()
	p := filepath.Join(dir, "docker-credential-"+name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestIntegrationDiagnose(t *testing.T) {
	testenv.Need(t, true, "dockerd", "docker", "docker-registry", "htpasswd", "openssl")
	// Before any dockerd starts: Go programs (dockerd included) cache
	// /etc/hosts for a few seconds.
	testenv.AddHost(t, "::1", "diagnose.test")
	lb := &loopback{
		d:     testenv.StartDockerd(t, testenv.DockerdOptions{}),
		reg:   testenv.StartRegistry(t, testenv.RegistryOptions{Auth: true}),
		bins:  t.TempDir(),
		certs: t.TempDir(),
	}
	reg, d := lb.reg, lb.d
	lb.goodUA = secretAuth(reg.Username, reg.Password)
	lb.good = reg.PushImage(t, d, "diag/app", "v1")
	multi := pushIndex(t, reg, "diag/multi:v1", v1.Platform{OS: "linux", Architecture: "arm64"}, v1.Platform{OS: "linux", Architecture: "s390x"})
	arm := pushImage(t, reg, "diag/armonly:v1", fakeregistry.PlatformImage(t, v1.Platform{OS: "linux", Architecture: "arm64"}))
	chart := pushImage(t, reg, "diag/chart:1.0", helmArtifact(t))
	local := reg.PushImage(t, d, "diag/local", "v1")
	plain := testenv.StartRegistry(t, testenv.RegistryOptions{Listen: "::1", Hostname: "diagnose.test"})
	tlsReg := testenv.StartRegistry(t, testenv.RegistryOptions{TLS: true, Listen: "::1", Hostname: "diagnose.test"})

	// Fake credential helpers on the runner's PATH.
	writeHelper(t, lb.bins, "diagfail", `echo 'pass not initialized: exit status 1: Error: password store is empty. Try "pass init".'; exit 1`+"\n")
	writeHelper(t, lb.bins, "diagempty", `case "$1" in list) echo '{}';; *) echo 'credentials not found in native keychain'; exit 1;; esac`+"\n")
	writeHelper(t, lb.bins, "diagnotfound", `echo 'credentials not found in native keychain'; exit 1`+"\n")

	right := home(t, authsJSON(reg.Host, lb.goodUA))

	// Sequential: it changes the process environment.
	t.Run("daemon unreachable (DOCKER_HOST to a missing socket)", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "docker.sock")
		t.Setenv("DOCKER_HOST", "unix://"+missing)
		rep := diagnoseTimed(t, Options{Image: lb.good, Runner: &Runner{Name: "it"}, HomeDir: right,
			HelperEnv: []string{"PATH=" + lb.bins}, CertsDir: lb.certs})
		wantCauses(t, rep, "daemon-unreachable")
		wantText(t, rep.Causes[0], "no socket at "+missing, "systemctl enable --now docker")
		if rep.Daemon != "unix://"+missing {
			t.Errorf("daemon = %q", rep.Daemon)
		}
	})

	t.Run("parallel", func(t *testing.T) {
		t.Run("image pulls", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: lb.good, HomeDir: right})
			wantCauses(t, rep)
			if rep.CredentialSource != filepath.Join(right, ".docker", "config.json") || rep.Registry != reg.Host {
				t.Errorf("credential_source %q registry %q", rep.CredentialSource, rep.Registry)
			}
			if rep.Policy == nil || rep.Policy.Local != "absent" || rep.Policy.Effective[0] != "always" {
				t.Errorf("policy = %+v", rep.Policy)
			}
		})
		t.Run("wrong password", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: lb.good, HomeDir: home(t, authsJSON(reg.Host, secretAuth(reg.Username, "wrong-pass-Ab12")))})
			wantCauses(t, rep, "auth-rejected")
			wantText(t, rep.Causes[0], "unauthorized: authentication required", `user "ci"`, "docker login --username 'ci'", `"auth": "***"`)
		})
		t.Run("no credentials", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: lb.good})
			wantCauses(t, rep, "auth-missing-credentials")
			wantText(t, rep.Causes[0], "no basic auth credentials", fmt.Sprintf(`{"auths": {%q: {"auth": "***"}}}`, reg.Host), `target = "docker-config"`)
			if rep.CredentialSource != "none" {
				t.Errorf("credential_source = %q", rep.CredentialSource)
			}
		})
		t.Run("credHelper missing from PATH", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: lb.good, HomeDir: home(t, fmt.Sprintf(`{"credHelpers":{%q:"diagmissing"}}`, reg.Host))})
			wantCauses(t, rep, "credstore-helper-missing")
			wantText(t, rep.Causes[0], `exec: "docker-credential-diagmissing": executable file not found`, "install docker-credential-diagmissing", "no basic auth credentials")
		})
		t.Run("credHelper failing", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: lb.good, HomeDir: home(t, fmt.Sprintf(`{"credHelpers":{%q:"diagfail"}}`, reg.Host))})
			wantCauses(t, rep, "credhelper-failed")
			wantText(t, rep.Causes[0], "password store is empty", "| docker-credential-diagfail get")
		})
		t.Run("credHelper answering not found", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: lb.good, HomeDir: home(t, fmt.Sprintf(`{"credHelpers":{%q:"diagnotfound"}}`, reg.Host))})
			wantCauses(t, rep, "credhelper-failed")
			wantText(t, rep.Causes[0], "credentials not found", "no basic auth credentials")
		})
		t.Run("credsStore with nothing for the host", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: lb.good, HomeDir: home(t, `{"credsStore":"diagempty"}`)})
			wantCauses(t, rep, "auth-missing-credentials")
			wantText(t, rep.Causes[0], `its credsStore "diagempty" lists nothing for "`+reg.Host+`"`)
		})
		t.Run("key mismatch (scheme, no port)", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: lb.good, HomeDir: home(t, authsJSON("https://127.0.0.1", lb.goodUA))})
			wantCauses(t, rep, "auth-key-mismatch")
			wantText(t, rep.Causes[0], "port differs", fmt.Sprintf(`rename the key "https://127.0.0.1" to %q`, reg.Host), "no basic auth credentials")
		})
		t.Run("key mismatch (port)", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: lb.good, HomeDir: home(t, authsJSON("127.0.0.1:1", lb.goodUA))})
			wantCauses(t, rep, "auth-key-mismatch")
		})
		t.Run("base64 auth with a trailing newline", func(t *testing.T) {
			t.Parallel()
			addSecret(reg.Password + "\n")
			rep := lb.run(t, Options{Image: lb.good, HomeDir: home(t, authsJSON(reg.Host, secretAuth(reg.Username, reg.Password+"\n")))})
			wantCauses(t, rep, "auth-base64-trailing-newline")
			wantText(t, rep.Causes[0], "newline", "unauthorized: authentication required", "base64 -w0")
		})
		t.Run("bad base64 auth", func(t *testing.T) {
			t.Parallel()
			addSecret("ci:not-encoded-Zx9")
			rep := lb.run(t, Options{Image: lb.good, HomeDir: home(t, authsJSON(reg.Host, "ci:not-encoded-Zx9"))})
			wantCauses(t, rep, "auth-base64-invalid")
			wantText(t, rep.Causes[0], "illegal base64 data", "silently")
		})
		t.Run("malformed DOCKER_AUTH_CONFIG", func(t *testing.T) {
			t.Parallel()
			bad := fmt.Sprintf(`{"auths":{%q:{"auth":%q},}}`, reg.Host, lb.goodUA)
			rep := lb.run(t, Options{Image: lb.good, Runner: &Runner{Name: "it", Environment: []string{"DOCKER_AUTH_CONFIG=" + bad}}})
			wantCauses(t, rep, "docker-auth-config-malformed")
			wantText(t, rep.Causes[0], "looking for beginning of object key string", "jq -nc", "no basic auth credentials")
		})
		t.Run("a broken helper drops the working auths entry", func(t *testing.T) {
			t.Parallel()
			cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}},"credHelpers":{"123456789012.dkr.ecr.eu-west-1.amazonaws.com":"diagecr"}}`, reg.Host, lb.goodUA)
			rep := lb.run(t, Options{Image: lb.good, HomeDir: home(t, cfg)})
			wantCauses(t, rep, "credential-source-dropped", "credstore-helper-missing")
			wantText(t, rep.Causes[0], "inline auths entry", "docker-credential-diagecr")
		})
		t.Run("DOCKER_AUTH_CONFIG in the runner environment beats config.json", func(t *testing.T) {
			t.Parallel()
			wrongHome := home(t, authsJSON(reg.Host, secretAuth(reg.Username, "stale-Qw3")))
			env := []string{"DOCKER_AUTH_CONFIG=" + authsJSON(reg.Host, lb.goodUA)}
			rep := lb.run(t, Options{Image: lb.good, HomeDir: wrongHome, Runner: &Runner{Name: "prec", Environment: env}})
			wantCauses(t, rep)
			c := rep.Credentials
			if rep.CredentialSource != credentials.SourceAuthConfig || c.Sources[0].Status != credentials.StatusUsed || c.Sources[1].Status != credentials.StatusShadowed {
				t.Errorf("source %q, statuses %s/%s", rep.CredentialSource, c.Sources[0].Status, c.Sources[1].Status)
			}
			for _, f := range []string{`the [[runners]] environment of runner "prec"`, "comes first in the runner's order", "is not used: the first source wins"} {
				if !strings.Contains(c.Why, f) {
					t.Errorf("why %q lacks %q", c.Why, f)
				}
			}
			// The other way round the stale value wins, and is blamed.
			rep = lb.run(t, Options{Image: lb.good, HomeDir: right, Runner: &Runner{Name: "prec",
				Environment: []string{"DOCKER_AUTH_CONFIG=" + authsJSON(reg.Host, secretAuth(reg.Username, "stale-Qw3"))}}})
			wantCauses(t, rep, "auth-rejected")
			wantText(t, rep.Causes[0], "the runner sends the credential from $DOCKER_AUTH_CONFIG", "shadowed", `DOCKER_AUTH_CONFIG in the environment of the [[runners]] entry "prec"`)
		})
		t.Run("tag not found", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: reg.Host + "/diag/app:v2", HomeDir: right})
			wantCauses(t, rep, "tag-not-found")
			wantText(t, rep.Causes[0], "manifest unknown", "nearest: v1")
		})
		t.Run("helper image not in the registry", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: reg.Host + "/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v17.0.0", HomeDir: right})
			wantCauses(t, rep, "helper-image-missing", "repository-not-found")
			wantText(t, rep.Causes[0], "gitlab-runner-helper-images", "helper_image")
		})
		t.Run("repository not found", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: reg.Host + "/diag/nosuch:v1", HomeDir: right})
			wantCauses(t, rep, "repository-not-found")
			wantText(t, rep.Causes[0], "name unknown")
		})
		t.Run("platform missing", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: multi, HomeDir: right})
			wantCauses(t, rep, "platform-missing")
			wantText(t, rep.Causes[0], "no matching manifest for linux/amd64 in the manifest list entries", "linux/arm64, linux/s390x", "docker buildx build --platform")
		})
		t.Run("platform given with --platform", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: multi, HomeDir: right, Platform: &probePlatformArm64})
			wantCauses(t, rep)
		})
		t.Run("single-platform image for another architecture", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: arm, HomeDir: right})
			wantCauses(t, rep, "platform-wrong-single-arch")
			wantText(t, rep.Causes[0], "exec format error")
		})
		t.Run("an artifact, not an image", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: chart, HomeDir: right})
			wantCauses(t, rep, "unsupported-media-type")
			wantText(t, rep.Causes[0], "application/vnd.cncf.helm.config.v1+json")
		})
		t.Run("plain-HTTP registry the daemon treats as secure", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: plain.Host + "/diag/app:v1"})
			wantCauses(t, rep, "registry-plain-http")
			wantText(t, rep.Causes[0], "server gave HTTP response to HTTPS client", fmt.Sprintf(`{"insecure-registries": [%q]}`, plain.Host), "systemctl restart docker")
		})
		t.Run("TLS registry with an unknown CA", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: tlsReg.Host + "/diag/app:v1"})
			wantCauses(t, rep, "tls-unknown-ca")
			dir := filepath.Join(lb.certs, tlsReg.Host)
			wantText(t, rep.Causes[0], "x509: certificate signed by unknown authority", "mkdir -p "+dir, dir+"/ca.crt")
		})
		t.Run("DNS failure", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: "nosuch.invalid:5000/diag/app:v1"})
			wantCauses(t, rep, "dns-no-such-host")
			wantText(t, rep.Causes[0], "no such host")
		})
		t.Run("DNS failure, proxy set for the runner but not for dockerd", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: "nosuch.invalid:5000/diag/app:v1", Runner: &Runner{Name: "px", Environment: []string{"HTTPS_PROXY=http://user:proxy-pw-Lk4@proxy.internal:3128"}}})
			addSecret("proxy-pw-Lk4")
			wantCauses(t, rep, "daemon-proxy-missing", "dns-no-such-host")
			wantText(t, rep.Causes[0], "http://user:xxxxx@proxy.internal:3128", "docker.service.d/http-proxy.conf")
		})
		t.Run("connection refused", func(t *testing.T) {
			t.Parallel()
			port := closedPort(t)
			rep := lb.run(t, Options{Image: "127.0.0.1:" + strconv.Itoa(port) + "/diag/app:v1"})
			wantCauses(t, rep, "connection-refused")
			wantText(t, rep.Causes[0], "connection refused")
		})
		t.Run("dockerd's proxy is dead", func(t *testing.T) {
			t.Parallel()
			c, err := daemon.NewEngine(d.Host)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			dead := "http://127.0.0.1:" + strconv.Itoa(closedPort(t))
			rep := lb.run(t, Options{Image: plain.Host + "/diag/app:v1", Docker: proxyInfo{DockerAPI: c, proxy: dead}})
			wantCauses(t, rep, "daemon-proxy-wrong")
			wantText(t, rep.Causes[0], "proxyconnect tcp")
		})
		t.Run("pull_policy never, image absent", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: lb.good, HomeDir: right, Runner: &Runner{Name: "nv", PullPolicy: []string{"never"}}})
			wantCauses(t, rep, "policy-never-absent")
			wantText(t, rep.Causes[0], "No such image: "+lb.good, "docker pull "+lb.good, `pull_policy = ["if-not-present"]`)
		})
		t.Run("pull policy not allowed", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: lb.good, HomeDir: right, Runner: &Runner{Name: "na", PullPolicy: []string{"always"}, AllowedPullPolicies: []string{"if-not-present"}}})
			wantCauses(t, rep, "policy-not-allowed")
			wantText(t, rep.Causes[0], "pull_policy ([always]) defined in Runner config is not one of the allowed_pull_policies ([if-not-present])")
		})
		t.Run("if-not-present with the image local: pulls even without credentials", func(t *testing.T) {
			t.Parallel()
			cfg := t.TempDir()
			if _, _, err := d.DockerInput(t, cfg, reg.Password, "login", "-u", reg.Username, "--password-stdin", reg.Host); err != nil {
				t.Fatal(err)
			}
			if _, _, err := d.Docker(t, cfg, "pull", local); err != nil {
				t.Fatal(err)
			}
			rep := lb.run(t, Options{Image: local, Runner: &Runner{Name: "inp", PullPolicy: []string{"if-not-present"}}})
			wantCauses(t, rep)
			if rep.Policy == nil || !rep.Policy.UsesLocal || rep.Policy.Local != "present" {
				t.Errorf("policy = %+v", rep.Policy)
			}
			if len(rep.Latent) == 0 || rep.Latent[0].ID != "auth-missing-credentials" {
				t.Errorf("latent = %v, want auth-missing-credentials", causeIDs(rep.Latent))
			}
			if r := resultOf(rep, PolicyCheckID(registry.NormalizeRef(local))); !strings.Contains(r.Detail, "the job runs even if the registry fails") {
				t.Errorf("policy check = %q", r.Detail)
			}
		})
		t.Run("invalid reference", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: reg.Host + "/Diag/App:v1", HomeDir: right})
			wantCauses(t, rep, "invalid-reference")
			wantText(t, rep.Causes[0], "must be lowercase", strings.ToLower(reg.Host+"/Diag/App:v1"))
		})
		t.Run("disk full", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: lb.good, HomeDir: right, StatFS: func(string) (uint64, uint64, error) { return 10 << 20, 100 << 30, nil }})
			wantCauses(t, rep, "disk-full")
			wantText(t, rep.Causes[0], "no space left on device", "docker system prune")
		})
		t.Run("job log confirmed", func(t *testing.T) {
			t.Parallel()
			log := pullFail(lb.good, "Error response from daemon: unauthorized: authentication required")
			rep := lb.run(t, Options{Image: lb.good, HomeDir: home(t, authsJSON(reg.Host, secretAuth(reg.Username, "wrong-again-9k"))), Log: &log})
			wantCauses(t, rep, "auth-rejected")
			if rep.Causes[0].Log != VerdictConfirmed || rep.Log.Matches[0].Verdict != VerdictConfirmed {
				t.Errorf("log verdicts: cause %q, match %+v", rep.Causes[0].Log, rep.Log.Matches)
			}
		})
		t.Run("job log refined by the live probe", func(t *testing.T) {
			t.Parallel()
			log := pullFail(lb.good, "Error response from daemon: Head \"http://"+reg.Host+"/v2/diag/app/manifests/v1\": no basic auth credentials")
			rep := lb.run(t, Options{Image: lb.good, HomeDir: home(t, authsJSON("https://127.0.0.1", lb.goodUA)), Log: &log})
			wantCauses(t, rep, "auth-key-mismatch")
			if m := rep.Log.Matches[0]; m.ID != "auth-missing-credentials" || m.Verdict != VerdictConfirmed || m.ConfirmedAs != "auth-key-mismatch" || rep.Causes[0].Log != VerdictConfirmed {
				t.Errorf("log match %+v, cause log %q", m, rep.Causes[0].Log)
			}
		})
		t.Run("stale job log", func(t *testing.T) {
			t.Parallel()
			log := pullFail(lb.good, "Error response from daemon: Get \"https://"+reg.Host+"/v2/\": x509: certificate signed by unknown authority")
			rep := lb.run(t, Options{Image: lb.good, HomeDir: right, Log: &log})
			wantCauses(t, rep)
			if m := rep.Log.Matches[0]; m.ID != "tls-unknown-ca" || m.Verdict != VerdictNotReproduced || len(m.Fix) == 0 {
				t.Errorf("log match %+v", m)
			}
		})
		t.Run("image on the runner's GitLab registry", func(t *testing.T) {
			t.Parallel()
			rep := lb.run(t, Options{Image: lb.good, Runner: &Runner{Name: "gl", URL: "http://127.0.0.1:8929/"}})
			wantCauses(t, rep, "auth-missing-credentials")
			wantText(t, rep.Causes[0], "gitlab-ci-token", "CI/CD job token allowlist")
			if !strings.Contains(rep.Credentials.JobPayload, "CI_REGISTRY="+reg.Host) {
				t.Errorf("job payload = %q", rep.Credentials.JobPayload)
			}
		})
		t.Run("socket permission denied (uid 65534)", func(t *testing.T) {
			t.Parallel()
			rep := diagnoseAsNobody(t, d, lb.good)
			wantCauses(t, rep, "daemon-permission-denied")
			wantText(t, rep.Causes[0], "permission denied", "usermod -aG")
		})
	})
}

var probePlatformArm64 = probePlatform("linux", "arm64")

// proxyInfo is the real daemon with other proxy settings in /info (Debian's
// dockerd 20.10 has no daemon.json "proxies" to set them for real without
// a systemd drop-in).
type proxyInfo struct {
	DockerAPI
	proxy string
}

func (p proxyInfo) Info(ctx context.Context) (system.Info, error) {
	i, err := p.DockerAPI.Info(ctx)
	i.HTTPProxy, i.HTTPSProxy = p.proxy, p.proxy
	return i, err
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// diagnoseAsNobody runs one diagnosis in a copy of the test binary as uid
// 65534, which is in neither root's group nor the socket's.
func diagnoseAsNobody(t *testing.T, d *testenv.Dockerd, image string) *Report {
	t.Helper()
	if err := os.Chmod(d.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	stdout := testenv.RunTestBinaryAsNobody(t, helperEnv+"=run", helperHostEnv+"="+d.Host, helperImageEnv+"="+image)
	var rep Report
	if err := json.Unmarshal(stdout, &rep); err != nil {
		t.Fatalf("helper output: %v\n%s", err, stdout)
	}
	t.Logf("as uid 65534: diagnosis in %dms (process %v)", rep.DurationMS, time.Since(start).Round(time.Millisecond))
	record(t.Name(), time.Duration(rep.DurationMS)*time.Millisecond)
	logReport(t, &rep)
	assertNoSecrets(t, &rep)
	return &rep
}

// pushImage writes img to the real registry with its basic auth.
func pushImage(t *testing.T, reg *testenv.Registry, repoTag string, img v1.Image) string {
	t.Helper()
	ref := reg.Host + "/" + repoTag
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img, remote.WithAuth(&authn.Basic{Username: reg.Username, Password: reg.Password})); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return ref
}

// pushIndex writes an OCI index of random images, one per platform.
func pushIndex(t *testing.T, reg *testenv.Registry, repoTag string, platforms ...v1.Platform) string {
	t.Helper()
	ref := reg.Host + "/" + repoTag
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(tag, fakeregistry.PlatformIndex(t, platforms...), remote.WithAuth(&authn.Basic{Username: reg.Username, Password: reg.Password})); err != nil {
		t.Fatalf("push index %s: %v", ref, err)
	}
	return ref
}

// helmArtifact is an OCI manifest whose config is a Helm chart's.
func helmArtifact(t *testing.T) v1.Image {
	t.Helper()
	img, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	return mutate.ConfigMediaType(img, "application/vnd.cncf.helm.config.v1+json")
}
