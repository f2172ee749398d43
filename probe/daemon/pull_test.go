package daemon

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/probe"
)

func TestEncodeRegistryAuth(t *testing.T) {
	tests := []struct {
		name string
		auth *PullAuth
		want string // decoded
	}{
		{"anonymous: the empty header", nil, ""},
		{"basic", &PullAuth{ServerAddress: "registry.test:5000", Username: "ci", Password: "p@ss", Source: "/root/.docker/config.json"},
			`{"username":"ci","password":"p@ss","serveraddress":"registry.test:5000"}` + "\n"},
		{"identity token from a helper", &PullAuth{ServerAddress: "https://index.docker.io/v1/", IdentityToken: "refresh"},
			`{"serveraddress":"https://index.docker.io/v1/","identitytoken":"refresh"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncodeRegistryAuth(tt.auth)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := base64.URLEncoding.DecodeString(got)
			if err != nil || string(raw) != tt.want {
				t.Errorf("decoded %q (%v), want %q", raw, err, tt.want)
			}
		})
	}
	// base64url, not standard base64: a password whose JSON encodes to
	// '+' or '/' in standard base64 shows the difference.
	h, _ := EncodeRegistryAuth(&PullAuth{Password: "\xfb\xff?>"})
	if strings.ContainsAny(h, "+/") {
		t.Errorf("header %q is not base64url", h)
	}
}

func TestPullRef(t *testing.T) {
	for in, want := range map[string]string{
		"alpine": "alpine:latest", "alpine:3.20": "alpine:3.20",
		"registry.test:5000/app": "registry.test:5000/app", // the runner's rule: any ':' counts
		"app@sha256:abc":         "app@sha256:abc",
	} {
		if got := PullRef(in); got != want {
			t.Errorf("PullRef(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadPullStream(t *testing.T) {
	tests := []struct {
		name, stream string
		want         PullOutcome
	}{
		{"pulled", `{"status":"Pulling from app","id":"v1"}
{"status":"Downloading","progressDetail":{"current":1,"total":2},"id":"abc"}
{"status":"Digest: sha256:0123"}
{"status":"Status: Downloaded newer image for registry.test:5000/app:v1"}
`, PullOutcome{Pulled: true, Digest: "sha256:0123", Status: "Status: Downloaded newer image for registry.test:5000/app:v1"}},
		{"error in the stream (after output started)", `{"status":"Pulling from app","id":"v1"}
{"errorDetail":{"message":"write /var/lib/docker/tmp/GetImageBlob1: no space left on device"},"error":"write /var/lib/docker/tmp/GetImageBlob1: no space left on device"}
`, PullOutcome{Error: "write /var/lib/docker/tmp/GetImageBlob1: no space left on device"}},
		{"error without detail", `{"error":"no matching manifest for linux/amd64 in the manifest list entries"}`,
			PullOutcome{Error: "no matching manifest for linux/amd64 in the manifest list entries"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readPullStream(strings.NewReader(tt.stream))
			if err != nil || got != tt.want {
				t.Errorf("readPullStream = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	if got, err := readPullStream(strings.NewReader(`{"status":"Pulling`)); err == nil || got.Pulled || !strings.Contains(got.Error, "reading the daemon's pull stream") {
		t.Errorf("truncated stream = %+v, %v", got, err)
	}
}

func TestDaemonWins(t *testing.T) {
	tls := probe.Result{ID: "registry.r:5000.tls", Status: probe.Fail, Detail: "x509: certificate signed by unknown authority"}
	manifest := probe.Result{ID: "image.r:5000/a:1.manifest", Status: probe.Skip}
	pulled := probe.Result{ID: "image.r:5000/a:1.pull", Status: probe.Pass, Data: PullVerdict{Pulled: true, httpFailed: []string{tls.ID}}}
	got := DaemonWins([]probe.Result{tls, manifest, pulled})
	if got[0].Status != probe.Warn || !strings.Contains(got[0].Detail, "the daemon pulled the image anyway, see image.r:5000/a:1.pull") {
		t.Errorf("tls after a successful pull = %s %q, want a warning", got[0].Status, got[0].Detail)
	}
	if tls.Status != probe.Fail {
		t.Error("DaemonWins changed its input")
	}
	// Another image of the same host that the daemon refused keeps the
	// host's failure.
	refused := probe.Result{ID: "image.r:5000/b:1.pull", Status: probe.Fail, Data: PullVerdict{httpFailed: []string{tls.ID}}}
	if got := DaemonWins([]probe.Result{tls, pulled, refused}); got[0].Status != probe.Fail {
		t.Errorf("tls with one refused pull = %s, want fail", got[0].Status)
	}
}

func TestDifference(t *testing.T) {
	f := pullFacts{host: "docker.io", proxy: ProxySettings{HTTPSProxy: "http://proxy:3128"}, regs: probe.DaemonRegistries{Mirrors: []string{"https://mirror.example.com"}}}
	tests := []struct {
		v    PullVerdict
		want []string
	}{
		{PullVerdict{Cause: "registry-plain-http"}, []string{"insecure settings", "insecure-registries", "mirror.example.com"}},
		{PullVerdict{Cause: "dns-no-such-host"}, []string{"DNS seen by the daemon"}},
		{PullVerdict{Cause: "network-timeout"}, []string{"daemon proxy", "HTTPS_PROXY=http://proxy:3128"}},
		{PullVerdict{Cause: "tls-unknown-ca"}, []string{"/etc/docker/certs.d/docker.io/"}},
		{PullVerdict{Pulled: true, HTTPCause: "network-timeout"}, []string{"it reaches docker.io", "registry-mirrors"}},
		{PullVerdict{Pulled: true, HTTPCause: "tag-not-found"}, []string{"registry-mirrors (https://mirror.example.com)"}},
	}
	for _, tt := range tests {
		got := difference(tt.v, f)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("difference(%+v) = %q, lacks %q", tt.v, got, w)
			}
		}
	}
}
