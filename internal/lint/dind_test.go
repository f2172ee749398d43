package lint

import (
	"strings"
	"testing"
)

// dindRunner is a privileged DinD runner with the certs volume; env is
// its [[runners]] environment line, svc extra lines of the service.
func dindRunner(env, svc string) string {
	return doc(`
concurrent = 1

[[runners]]
  name = "dind"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  ` + env + `
  [runners.docker]
    image = "registry.internal:5000/ci/builder:1"
    privileged = true
    volumes = ["/certs/client", "/cache"]
    [[runners.docker.services]]
      name = "docker:27-dind"
      ` + svc + `
`)
}

// TestDinDPortAndTLS: issue 13 defect 5. The dind image listens on 2376
// with TLS when DOCKER_TLS_CERTDIR is set (its default, /certs) and on
// 2375 in plain text only when it is empty (docker-library/docker
// dockerd-entrypoint.sh); a DOCKER_HOST on the other port never connects.
func TestDinDPortAndTLS(t *testing.T) {
	mismatch := func(line int) []want {
		return []want{{id: "docker.dind.tls-port-mismatch", sev: Error, line: line}}
	}
	tests := []struct {
		name, env, svc string
		want           []want
	}{
		{name: "2375 with TLS on by default", env: `environment = ["DOCKER_HOST=tcp://docker:2375"]`, want: mismatch(8)},
		{name: "2375 with DOCKER_TLS_CERTDIR=/certs", env: `environment = ["DOCKER_TLS_CERTDIR=/certs", "DOCKER_HOST=tcp://docker:2375"]`, want: mismatch(8)},
		{name: "2376 with TLS turned off", env: `environment = ["DOCKER_TLS_CERTDIR=", "DOCKER_HOST=tcp://docker:2376"]`, want: mismatch(8)},
		{name: "2376 with TLS turned off on the service", env: `environment = ["DOCKER_HOST=tcp://docker:2376/"]`, svc: `environment = ["DOCKER_TLS_CERTDIR="]`, want: mismatch(8)},
		{name: "the service's own alias", env: `environment = ["DOCKER_HOST=tcp://dind:2375"]`, svc: `alias = "dind"`, want: mismatch(8)},
		{name: "2376 with TLS: consistent", env: `environment = ["DOCKER_TLS_CERTDIR=/certs", "DOCKER_HOST=tcp://docker:2376"]`},
		{name: "2375 without TLS: consistent", env: `environment = ["DOCKER_TLS_CERTDIR=", "DOCKER_HOST=tcp://docker:2375"]`},
		{name: "another daemon, not the service", env: `environment = ["DOCKER_HOST=tcp://build-host.example.com:2375"]`},
		{name: "no DOCKER_HOST: the docker image picks the port", env: `environment = ["DOCKER_TLS_CERTDIR=/certs"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Lint([]byte(dindRunner(tt.env, tt.svc)), Options{})
			checkFindings(t, got, tt.want)
			for _, f := range got {
				if f.ID == "docker.dind.tls-port-mismatch" && (!strings.Contains(f.Fix, "tcp://") || !strings.Contains(f.Message, "Cannot connect to the Docker daemon")) {
					t.Errorf("finding without the runner's error or the fix: %s", f)
				}
			}
		})
	}
}

// TestDinDInsecureRegistry: a registry the host daemon treats as insecure
// is not insecure to the DinD service's daemon (daemon.json of the host
// does not apply inside it).
func TestDinDInsecureRegistry(t *testing.T) {
	plain := doc(`
[[runners]]
  name = "plain"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  [runners.docker]
    image = "registry.internal:5000/ci/builder:1"
`)
	tests := []struct {
		name, toml string
		insecure   []string
		wantNote   bool
	}{
		{name: "the job image's registry, insecure on the host", toml: dindRunner("", ""), insecure: []string{"registry.internal:5000"}, wantNote: true},
		{name: "in DOCKER_AUTH_CONFIG of the runner", toml: dindRunner(`environment = ['DOCKER_AUTH_CONFIG={"auths":{"other.internal:5000":{"auth":"dTpw"}}}']`, ""), insecure: []string{"other.internal:5000"}, wantNote: true},
		{name: "the service already passes the flag", toml: dindRunner("", `command = ["--insecure-registry=registry.internal:5000"]`), insecure: []string{"registry.internal:5000"}},
		{name: "a registry the runner does not use", toml: dindRunner("", ""), insecure: []string{"unrelated.internal:5000"}},
		{name: "no DinD service", toml: plain, insecure: []string{"registry.internal:5000"}},
		{name: "daemon not asked (--lint-only)", toml: dindRunner("", "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Lint([]byte(tt.toml), Options{InsecureRegistries: tt.insecure})
			checkFindings(t, got, nil)
			var note *Finding
			for i := range got {
				if got[i].ID == "docker.dind.insecure-registry" {
					note = &got[i]
				}
			}
			switch {
			case tt.wantNote && note == nil:
				t.Fatalf("no docker.dind.insecure-registry note: %v", got)
			case !tt.wantNote && note != nil:
				t.Fatalf("unexpected note: %s", note)
			case note != nil:
				host := tt.insecure[0]
				if note.Severity != Info || !strings.Contains(note.Fix, `command = ["--insecure-registry=`+host+`"]`) || !strings.Contains(note.Message, "daemon.json") {
					t.Errorf("note = %s", note)
				}
				assertNoSecretText(t, note.Message+note.Fix, "dTpw")
			}
		})
	}
}

func assertNoSecretText(t *testing.T, text, secret string) {
	t.Helper()
	if strings.Contains(text, secret) {
		t.Errorf("leaks %q: %s", secret, text)
	}
}
