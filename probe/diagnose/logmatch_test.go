package diagnose

import (
	"slices"
	"strings"
	"testing"
)

// logCase is a job-log excerpt (as GitLab shows it, colour codes and
// section markers included where the runner writes them) and the cause
// it must lead to: as the first match (id), or among the first match's
// "check next" causes (also) for causes that have no text of their own.
type logCase struct {
	name string
	log  string
	id   string // the first match's id
	also string // an id the first match's Also must list
}

const (
	prepare = "\x1b[0K\x1b[36;1mPreparing the \"docker\" executor\x1b[0;m\x1b[0;m\n" +
		"section_start:1763900000:prepare_executor\r\x1b[0K\x1b[0K\x1b[36;1mPreparing the \"docker\" executor\x1b[0;m\x1b[0;m\n" +
		"\x1b[0KUsing Docker executor with image %s ...\x1b[0;m\n" +
		"\x1b[0KUsing effective pull policy of [always] for container %s\x1b[0;m\n" +
		"\x1b[0KPulling docker image %s ...\x1b[0;m\n"
	cleanup = "section_end:1763900003:prepare_executor\r\x1b[0K\x1b[31;1mERROR: Job failed: failed to pull image \"%s\" with specified policies [always]: %s (manager.go:237:0s)\x1b[0;m\n"
)

// pullFail is a whole log of a pull that failed with err, the way the
// runner's pull manager words it: a WARNING per policy, then the ERROR.
func pullFail(image, err string) string {
	return strings.ReplaceAll(prepare, "%s", image) +
		"\x1b[0;33mWARNING: Failed to pull image with policy \"always\": " + err + " (manager.go:237:0s)\x1b[0;m\n" +
		strings.Replace(strings.Replace(cleanup, "%s", image, 1), "%s", err, 1)
}

var logCases = []logCase{
	{"invalid reference (upper case)", pullFail("MyGroup/App:1", "no such image: MyGroup/App:1: invalid reference format: repository name must be lowercase"), "invalid-reference", ""},
	{"invalid tag", "ERROR: Job failed: failed to pull image \"registry.example.com/app:\" with specified policies [always]: Error response from daemon: invalid tag format (manager.go:237:0s)", "invalid-reference", ""},
	{"policy not allowed", "ERROR: Preparation failed: invalid pull policy for image \"alpine:3.20\": pull_policy ([always]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([if-not-present])", "policy-not-allowed", ""},
	{"policy never, image absent",
		"Using effective pull policy of [never] for container alpine:latest\n" +
			"WARNING: Failed to pull image with policy \"never\": Error response from daemon: No such image: alpine:latest (manager.go:237:0s)\n" +
			"ERROR: Preparation failed: failed to pull image \"alpine:latest\" with specified policies [never]: Error response from daemon: No such image: alpine:latest (manager.go:237:0s)\n" +
			"Will be retried in 3s ...\n", "policy-never-absent", ""},
	{"socket permission", "ERROR: Preparation failed: permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get \"http://%2Fvar%2Frun%2Fdocker.sock/v1.24/info\": dial unix /var/run/docker.sock: connect: permission denied (docker.go:958:0s)\nWill be retried in 3s ...", "daemon-permission-denied", ""},
	{"dind on 2375", "$ docker build -t app .\nCannot connect to the Docker daemon at tcp://docker:2375. Is the docker daemon running?\n", "dind-tls-mismatch", ""},
	{"dind plain client against TLS", "$ docker info\nError response from daemon: Client sent an HTTP request to an HTTPS server.\n", "dind-tls-mismatch", ""},
	{"dind certs not shared", "$ docker info\nunable to resolve docker endpoint: open /certs/client/ca.pem: no such file or directory\n", "dind-tls-mismatch", ""},
	{"daemon unreachable", "ERROR: Preparation failed: Cannot connect to the Docker daemon at tcp://gitlab-dind:2375. Is the docker daemon running? (docker.go:950:0s)\nWill be retried in 3s ...\nERROR: Job failed (system failure): Cannot connect to the Docker daemon at tcp://gitlab-dind:2375. Is the docker daemon running? (docker.go:950:0s)", "daemon-unreachable", ""},
	{"daemon unreachable, Docker 29 client", "ERROR: Preparation failed: failed to connect to the docker API at unix:///var/run/docker.sock; check if the path is correct and if the daemon is running: dial unix /var/run/docker.sock: connect: no such file or directory (docker.go:950:0s)", "daemon-unreachable", ""},
	{"job image's docker CLI older than a Docker 29 dind service",
		"Using Docker executor with image docker:24 ...\nStarting service docker:29-dind...\n$ docker build -t app .\nError response from daemon: client version 1.43 is too old. Minimum supported API version is 1.44, please upgrade your client to a newer version\n", "docker-api-too-old", ""},
	{"runner's client older than the daemon", "ERROR: Preparation failed: Error response from daemon: client version 1.43 is too old. Minimum supported API version is 1.44, please upgrade your client to a newer version (docker.go:958:0s)\nWill be retried in 3s ...", "docker-api-too-old", ""},
	{"dind service missing", "$ docker info\nerror during connect: Get \"http://docker:2375/v1.24/info\": dial tcp: lookup docker on 10.0.0.2:53: no such host\n", "dind-host-unresolvable", ""},
	{"helper image", "ERROR: Job failed: failed to pull image \"registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v17.0.0\" with specified policies [always]: Error response from daemon: manifest for registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v17.0.0 not found: manifest unknown: manifest unknown (manager.go:237:1s)", "helper-image-missing", ""},
	{"rate limited", pullFail("node:20", "Error response from daemon: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit"), "rate-limited", ""},
	{"platform missing", pullFail("registry.example.com/tools/lint:2", "no matching manifest for linux/arm64/v8 in the manifest list entries"), "platform-missing", ""},
	{"platform missing, containerd store", pullFail("alpine:3.20", "no matching manifest for linux/riscv64 in the manifest list entries: no match for platform in manifest: not found"), "platform-missing", ""},
	{"single-arch image for another architecture", "Using docker image sha256:0a1b for registry.example.com/tools/lint:2 with digest registry.example.com/tools/lint@sha256:9f ...\n$ lint --version\nexec /bin/sh: exec format error\nCleaning up project directory and file based variables\nERROR: Job failed: exit code 1\n", "platform-wrong-single-arch", ""},
	{"helm chart", pullFail("registry.example.com/charts/app:1.0", "unsupported media type application/vnd.cncf.helm.config.v1+json"), "unsupported-media-type", ""},
	{"schema 1", pullFail("registry.example.com/old/app:2015", "Error response from daemon: [DEPRECATION NOTICE] Docker Image Format v1 and Docker Image manifest version 2, schema 1 support is disabled by default and will be removed in an upcoming release. Suggest the author of registry.example.com/old/app:2015 to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2. More information at https://docs.docker.com/go/deprecated-image-specs/"), "schema1-removed", ""},
	{"disk full", pullFail("python:3.12", "write /var/lib/docker/tmp/GetImageBlob179200715: no space left on device"), "disk-full", ""},
	{"plain HTTP", pullFail("registry.test:5447/ci/app:1", "Error response from daemon: Get \"https://registry.test:5447/v2/\": http: server gave HTTP response to HTTPS client"), "registry-plain-http", ""},
	{"unknown CA", pullFail("registry.test:5443/ci/app:1", "Error response from daemon: Get \"https://registry.test:5443/v2/\": tls: failed to verify certificate: x509: certificate signed by unknown authority"), "tls-unknown-ca", ""},
	{"hostname mismatch", pullFail("registry.test:5443/ci/app:1", "Error response from daemon: Get \"https://registry.test:5443/v2/\": x509: certificate is valid for other.test, not registry.test"), "tls-hostname-mismatch", ""},
	{"expired", pullFail("registry.test:5443/ci/app:1", "Error response from daemon: Get \"https://registry.test:5443/v2/\": x509: certificate has expired or is not yet valid: current time 2026-11-23T12:54:52Z is after 2026-11-23T12:54:46Z"), "tls-cert-expired", ""},
	{"client certificate", pullFail("registry.test:5450/ci/app:1", "Error response from daemon: Get \"https://registry.test:5450/v2/\": remote error: tls: bad certificate"), "tls-client-cert-required", ""},
	{"dead proxy", pullFail("registry.test:5443/ci/app:1", "Error response from daemon: Get \"https://registry.test:5443/v2/\": proxyconnect tcp: dial tcp 127.0.0.1:3128: connect: connection refused"), "daemon-proxy-wrong", ""},
	{"dns", pullFail("nosuch.invalid/ci/app:1", "Error response from daemon: Get \"https://nosuch.invalid/v2/\": dial tcp: lookup nosuch.invalid on 10.255.255.53:53: no such host"), "dns-no-such-host", ""},
	{"refused", pullFail("registry.test:5999/ci/app:1", "Error response from daemon: Get \"https://registry.test:5999/v2/\": dial tcp [::1]:5999: connect: connection refused"), "connection-refused", ""},
	{"timeout", pullFail("registry.example.com/ci/app:1", "Error response from daemon: Get \"https://registry.example.com/v2/\": net/http: TLS handshake timeout"), "network-timeout", ""},
	{"timeout: no proxy for dockerd", pullFail("registry.example.com/ci/app:1", "Error response from daemon: Get \"https://registry.example.com/v2/\": dial tcp 203.0.113.7:443: i/o timeout"), "network-timeout", "daemon-proxy-missing"},
	{"ECR token expired", pullFail("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1", "Error response from daemon: pull access denied for 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app, repository does not exist or may require 'docker login': denied: Your authorization token has expired. Reauthenticate and try again."), "registry-token-expired", ""},
	{"access denied", pullFail("deployphp/deployer:v7", "Error response from daemon: pull access denied for deployphp/deployer, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"), "access-denied", ""},
	{"token rejected", pullFail("127.0.0.1:5012/group/app:1", "Error response from daemon: Head \"http://127.0.0.1:5012/v2/group/app/manifests/1\": unauthorized: incorrect username or password"), "token-auth-rejected", ""},
	{"GitLab token rejected", pullFail("registry.gitlab.com/group/app:1", "Error response from daemon: Get \"https://registry.gitlab.com/v2/\": unauthorized: HTTP Basic: Access denied. If a password was provided for Git authentication, the password was incorrect or you're required to use a token instead of a password."), "token-auth-rejected", ""},
	{"no basic auth credentials (ECR)", "WARNING: Failed to pull image with policy \"always\": Error response from daemon: Head \"https://123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/v2/app/manifests/latest\": no basic auth credentials (manager.go:205:0s)", "auth-missing-credentials", ""},
	{"wrong password", pullFail("127.0.0.1:5001/test/hello:1", "Error response from daemon: unauthorized: authentication required"), "auth-rejected", ""},
	{"tag not found", pullFail("127.0.0.1:5000/test/hello:2", "Error response from daemon: manifest for 127.0.0.1:5000/test/hello:2 not found: manifest unknown: manifest unknown"), "tag-not-found", ""},
	{"tag not found, containerd store", pullFail("alpine:nope", "failed to resolve reference \"docker.io/library/alpine:nope\": docker.io/library/alpine:nope: not found"), "tag-not-found", ""},
	{"repository not found", pullFail("127.0.0.1:5000/test/nosuch:1", "Error response from daemon: repository 127.0.0.1:5000/test/nosuch not found: name unknown: repository name not known to registry"), "repository-not-found", ""},
	{"503", pullFail("registry.example.com/ci/app:1", "Error response from daemon: received unexpected HTTP status: 503 Service Unavailable"), "registry-server-error", ""},
	{"HTML page", pullFail("gitlab.example.com/group/app:1", "Error response from daemon: error parsing HTTP 404 response body: invalid character '<' looking for beginning of value: \"<html><body>404 page not found</body></html>\""), "registry-server-error", ""},
	{"layer verification", pullFail("registry.example.com/ci/app:1", "filesystem layer verification failed for digest sha256:3f5ef9003cefbab5aa2c6c5a3f1b3c4e"), "blob-download-failed", ""},

	// Credential-source warnings come first in the chain: the pull error
	// they lead to is their symptom.
	{"bad base64 in DOCKER_AUTH_CONFIG",
		"WARNING: Failed to resolve credentials from $DOCKER_AUTH_CONFIG: illegal base64 data at input byte 12. Credentials from this source will not be used.\n" +
			pullFail("127.0.0.1:5001/test/hello:1", "Error response from daemon: Head \"http://127.0.0.1:5001/v2/test/hello/manifests/1\": no basic auth credentials"), "auth-base64-invalid", ""},
	{"helper missing",
		"WARNING: Failed to resolve credentials from $DOCKER_AUTH_CONFIG: error listing credentials - err: exec: \"docker-credential-desktop\": executable file not found in $PATH, out: ``. Credentials from this source will not be used.\n" +
			pullFail("127.0.0.1:5001/test/hello:1", "Error response from daemon: Head \"http://127.0.0.1:5001/v2/test/hello/manifests/1\": no basic auth credentials"), "credstore-helper-missing", ""},
	{"helper missing drops the whole source",
		"WARNING: Failed to resolve credentials from $DOCKER_AUTH_CONFIG: error getting credentials - err: exec: \"docker-credential-ecr-login\": executable file not found in $PATH, out: ``. Credentials from this source will not be used.",
		"credstore-helper-missing", "credential-source-dropped"},
	{"helper failed",
		"WARNING: Failed to resolve credentials from $DOCKER_AUTH_CONFIG: error getting credentials - err: exit status 1, out: `pass not initialized: exit status 1: Error: password store is empty. Try \"pass init\".`. Credentials from this source will not be used.\n" +
			pullFail("registry.example.com/ci/app:1", "Error response from daemon: pull access denied for registry.example.com/ci/app, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"), "credhelper-failed", ""},
	{"malformed DOCKER_AUTH_CONFIG",
		"WARNING: Failed to resolve credentials from $DOCKER_AUTH_CONFIG: invalid character '}' looking for beginning of object key string. Credentials from this source will not be used.\n" +
			pullFail("127.0.0.1:5001/test/hello:1", "Error response from daemon: Head \"http://127.0.0.1:5001/v2/test/hello/manifests/1\": no basic auth credentials"), "docker-auth-config-malformed", ""},
	{"key mismatch looks like missing credentials", pullFail("127.0.0.1:5001/test/hello:1", "Error response from daemon: Head \"http://127.0.0.1:5001/v2/test/hello/manifests/1\": no basic auth credentials"), "auth-missing-credentials", "auth-key-mismatch"},
	{"trailing newline looks like a wrong password", pullFail("127.0.0.1:5001/test/hello:1", "Error response from daemon: unauthorized: authentication required"), "auth-rejected", "auth-base64-trailing-newline"},
	{"source dropped looks like missing credentials", pullFail("127.0.0.1:5001/test/hello:1", "Error response from daemon: Head \"http://127.0.0.1:5001/v2/test/hello/manifests/1\": no basic auth credentials"), "auth-missing-credentials", "credential-source-dropped"},
	{"helper name with a path", "ERROR: Job failed: failed to pull image \"registry.example.com/ci/app:1\" with specified policies [always]: path traversal is not allowed (manager.go:237:0s)", "credential-helper-path", ""},

	// Shapes: a pasted bare daemon message; GitLab 17 timestamps.
	{"pasted message", "Error response from daemon: manifest unknown", "tag-not-found", ""},
	{"timestamped log", "2026-11-23T12:00:01.000000Z 00O+ \x1b[0;33mWARNING: Failed to pull image with policy \"always\": Error response from daemon: name unknown (manager.go:237:0s)\x1b[0;m\n", "repository-not-found", ""},
}

func TestMatchLog(t *testing.T) {
	for _, tc := range logCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := MatchLog(tc.log)
			if len(rep.Matches) == 0 {
				t.Fatalf("no match; lines %q", rep.Lines)
			}
			first := rep.Matches[0]
			if first.ID != tc.id {
				t.Errorf("first match = %s (line %q), want %s; all: %v", first.ID, first.Line, tc.id, ids(rep.Matches))
			}
			if tc.also != "" && !slices.Contains(candidates(first), tc.also) {
				t.Errorf("first match %s: candidates %v lack %s", first.ID, candidates(first), tc.also)
			}
			for _, l := range rep.Lines {
				if strings.Contains(l, "\x1b") || strings.Contains(l, "section_") || suffixRE.MatchString(l) {
					t.Errorf("line not cleaned: %q", l)
				}
			}
		})
	}
}

// TestMatchLogCoversCatalogue: the excerpts above reach every catalogue id
// that a log can name (first match or Also).
func TestMatchLogCoversCatalogue(t *testing.T) {
	reached := map[string]bool{}
	for _, tc := range logCases {
		reached[tc.id] = true
		if tc.also != "" {
			reached[tc.also] = true
		}
	}
	for _, e := range Catalogue {
		if e.ID == "unclassified" {
			continue
		}
		if !reached[e.ID] {
			t.Errorf("no job-log excerpt for %s", e.ID)
		}
	}
}

func TestMatchLogDetails(t *testing.T) {
	log := pullFail("127.0.0.1:5001/test/hello:1", "Error response from daemon: unauthorized: authentication required")
	rep := MatchLog(log)
	if rep.Image != "127.0.0.1:5001/test/hello:1" {
		t.Errorf("image = %q", rep.Image)
	}
	if len(rep.Matches) != 1 {
		t.Errorf("matches = %v, want one (WARNING and ERROR carry the same error)", ids(rep.Matches))
	}
	want := `WARNING: Failed to pull image with policy "always": Error response from daemon: unauthorized: authentication required`
	if rep.Matches[0].Line != want {
		t.Errorf("line = %q\nwant   %q", rep.Matches[0].Line, want)
	}
	if got := StripSuffix("x: no basic auth credentials (manager.go:205:0s)"); got != "x: no basic auth credentials" {
		t.Errorf("StripSuffix = %q", got)
	}
	if got := MatchLog("nothing to see here\n"); len(got.Matches) != 0 || len(got.Lines) != 1 {
		t.Errorf("harmless text: %+v", got)
	}
}

func ids(ms []LogMatch) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}
