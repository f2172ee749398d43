package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
)

// Issue 13, defect 7: apply's GitLab failures say what happened.

// A 403 on POST /runners is about the registration token, not a deleted
// runner.
func TestApplyRegistration403(t *testing.T) {
	const unknown = "GR1348941UnknownUnknownUnk"
	s := newSetup(t, "")
	s.env["RUNNER_TOKEN"] = unknown // fakegitlab knows no such token: 403
	before := snapshot(t, s.dir)
	r := s.apply(t, "-o", "json")
	if r.code != ExitCheckFailed {
		t.Fatalf("exit %d, want %d:\n%s%s", r.code, ExitCheckFailed, r.stdout, r.stderr)
	}
	out := failureJSON(t, r.stdout)
	if !strings.Contains(out.Error, "registration token wrong or reset, or registration not allowed for this group/project") {
		t.Errorf("error does not name the registration token's causes: %q", out.Error)
	}
	if strings.Contains(out.Error, "deleted") {
		t.Errorf("error speaks of a deleted runner: %q", out.Error)
	}
	if out.Check.ID != "gitlab.register" {
		t.Errorf("check %q, want gitlab.register", out.Check.ID)
	}
	assertNoSecrets(t, "output", r.stdout+r.stderr, unknown)
	assertSameSnapshot(t, before, snapshot(t, s.dir))
}

// A TLS failure when apply first calls GitLab carries what probe shows
// (issuer, gitlab.tls_ca_file, the runner's certs directory), labelled
// gitlab.tls.
func TestApplyGitLabTLSFailure(t *testing.T) {
	gl := fakegitlab.NewTLS(t)
	gl.AddRunner(testToken, 4242)
	otherCA := filepath.Join(t.TempDir(), "other-ca.pem")
	writeFile(t, otherCA, selfSignedCA(t), 0o600) // a real CA, but not GitLab's
	tests := []struct {
		name   string
		caFile string
		want   []string
	}{
		// The runner reads HOST.crt from <config dir>/certs: for the
		// default config.toml, /etc/gitlab-runner/certs/127.0.0.1.crt.
		{"no tls_ca_file", "", []string{`issuer "O=Acme Co"`, "gitlab.tls_ca_file", "CERTS/127.0.0.1.crt"}},
		// With tls_ca_file the runner reads that file instead.
		{"tls_ca_file without the signer", otherCA, []string{`issuer "O=Acme Co"`, "gitlab.tls_ca_file " + otherCA + " does not hold that CA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, "")
			answers := strings.ReplaceAll(baseAnswers, "GITLAB_URL", gl.URL)
			if tt.caFile != "" {
				answers = strings.Replace(answers, "name = \"build-01\"", "name = \"build-01\"\ntls_ca_file = \""+tt.caFile+"\"", 1)
			}
			writeFile(t, s.answers, answers, 0o600)
			before := snapshot(t, s.dir)
			r := s.apply(t, "-o", "json")
			if r.code != ExitCheckFailed {
				t.Fatalf("exit %d, want %d:\n%s%s", r.code, ExitCheckFailed, r.stdout, r.stderr)
			}
			out := failureJSON(t, r.stdout)
			if out.Check.ID != "gitlab.tls" {
				t.Errorf("check %q, want gitlab.tls (error %q)", out.Check.ID, out.Error)
			}
			for _, w := range tt.want {
				w = strings.ReplaceAll(w, "CERTS", filepath.Join(filepath.Dir(s.config), "certs"))
				if !strings.Contains(out.Error, w) {
					t.Errorf("error does not say %q: %q", w, out.Error)
				}
			}
			assertNoSecrets(t, "output", r.stdout+r.stderr, testToken)
			assertSameSnapshot(t, before, snapshot(t, s.dir))
		})
	}
}

// applyFailure is apply -o json's answer on failure.
type applyFailure struct {
	Error string `json:"error"`
	Check struct {
		ID string `json:"id"`
	} `json:"check"`
}

func failureJSON(t *testing.T, stdout string) applyFailure {
	t.Helper()
	var out applyFailure
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("json: %v\n%s", err, stdout)
	}
	return out
}

// selfSignedCA is a PEM CA certificate that signed nothing the tests serve.
func selfSignedCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "some other CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}
