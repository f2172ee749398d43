package registry

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"

	"github.com/runnerup/runnerup/probe"
)

// testCA is a throw-away CA that signs leaf certificates for the TLS fakes.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t testing.TB) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "runnerup test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// leaf issues a server certificate for names, valid from notBefore to notAfter.
func (ca testCA) leaf(t testing.TB, names []string, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// tlsRegistry serves an empty in-memory registry over TLS with cert.
func tlsRegistry(t testing.TB, cert tls.Certificate) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func hostChecks(host string, opts Options) []probe.Check {
	return HostChecks(host, []string{"group/app"}, opts)
}

func TestTLS(t *testing.T) {
	ca := newTestCA(t)
	now := time.Now()
	good := ca.leaf(t, []string{"registry.test"}, now.Add(-time.Hour), now.Add(time.Hour))
	other := ca.leaf(t, []string{"other.test"}, now.Add(-time.Hour), now.Add(time.Hour))
	expired := ca.leaf(t, []string{"registry.test"}, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	secure := func(string) bool { return false }
	insecure := func(string) bool { return true }

	tests := []struct {
		name      string
		cert      tls.Certificate
		trustCA   bool // put ca.crt in certs.d/registry.test:PORT
		insecure  func(string) bool
		status    probe.Status
		cause     string
		fragments []string
		scheme    string // of a passing Connection
	}{
		{"unknown CA", good, false, secure, probe.Fail, CauseTLSUnknownCA,
			[]string{"x509: certificate signed by unknown authority", `issued by "CN=runnerup test CA"`, "does not exist",
				"mkdir -p CERTS/registry.test:PORT && cp ca.crt CERTS/registry.test:PORT/ca.crt"}, ""},
		{"CA trusted through certs.d", good, true, secure, probe.Pass, "",
			[]string{`HTTPS ok: certificate issued by "runnerup test CA"`, "GET https://registry.test:PORT/v2/ → 200"}, "https"},
		{"hostname mismatch", other, true, secure, probe.Fail, CauseTLSHostname,
			[]string{"x509: certificate is valid for other.test, not registry.test", "certificate names: other.test", "subjectAltName=DNS:registry.test"}, ""},
		{"expired", expired, true, secure, probe.Fail, CauseTLSExpired,
			[]string{"x509: certificate has expired or is not yet valid", "renew"}, ""},
		{"untrusted but insecure", good, false, insecure, probe.Pass, "",
			[]string{"certificate not verified", "the daemon treats registry.test:PORT as insecure", "so the daemon skips verification"}, "https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := tlsRegistry(t, tt.cert)
			_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
			host := "registry.test:" + port
			certs := t.TempDir()
			if tt.trustCA {
				dir := filepath.Join(certs, host)
				os.MkdirAll(dir, 0o755)
				os.WriteFile(filepath.Join(dir, "ca.crt"), ca.pem, 0o644)
			}
			opts := Options{Transport: dialTo(srv.Listener.Addr().String()), CertsDir: certs, Insecure: tt.insecure}
			res := results(t, 0, hostChecks(host, opts))
			var frags []string
			for _, f := range tt.fragments {
				frags = append(frags, strings.NewReplacer("CERTS", certs, "PORT", port).Replace(f))
			}
			r := want(t, res, TLSID(host), tt.status, tt.cause, frags...)
			if tt.status == probe.Pass {
				c := r.Data.(Connection)
				if c.Scheme != tt.scheme || c.Verified == (tt.insecure("") && !tt.trustCA) {
					t.Errorf("connection = %+v", c)
				}
				want(t, res, AuthID(host), probe.Pass, "", "anonymous access")
			} else {
				want(t, res, AuthID(host), probe.Skip, "")
			}
		})
	}
}

// A certs.d directory holding only ca.pem (which dockerd ignores) is named
// in the unknown-CA detail.
func TestTLSCertsDirPitfall(t *testing.T) {
	ca := newTestCA(t)
	srv := tlsRegistry(t, ca.leaf(t, []string{"registry.test"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)))
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	host := "registry.test:" + port
	certs := t.TempDir()
	os.MkdirAll(filepath.Join(certs, host), 0o755)
	os.WriteFile(filepath.Join(certs, host, "ca.pem"), ca.pem, 0o644)
	res := results(t, 0, hostChecks(host, Options{Transport: dialTo(srv.Listener.Addr().String()), CertsDir: certs, Insecure: func(string) bool { return false }}))
	want(t, res, TLSID(host), probe.Fail, CauseTLSUnknownCA, "has no *.crt (dockerd ignores ca.pem)")
}

func TestPlainHTTP(t *testing.T) {
	f := newFakeRegistry(t)
	f.Basic("ci", randomSecret(t))
	_, port, _ := net.SplitHostPort(f.Host)
	host := "registry.test:" + port // a name outside 127.0.0.0/8 for the daemon
	base := Options{Transport: dialTo(f.Host), CertsDir: t.TempDir()}

	t.Run("daemon treats it as secure", func(t *testing.T) {
		o := base
		o.Insecure = func(string) bool { return false }
		res := results(t, 0, hostChecks(host, o))
		want(t, res, TLSID(host), probe.Fail, CausePlainHTTP,
			"http: server gave HTTP response to HTTPS client", "http://"+host+"/v2/ answers as a registry (401)",
			`{"insecure-registries": ["`+host+`"]}`, "/etc/docker/daemon.json", "restart dockerd")
	})
	t.Run("daemon registries list it as insecure", func(t *testing.T) {
		// Options.Insecure nil: the daemon.registries dependency decides.
		regs := probe.DaemonRegistries{InsecureCIDRs: []string{"127.0.0.0/8"}, Secure: map[string]bool{host: false, "docker.io": true}}
		res := results(t, 0, hostChecks(host, base), daemonChecks(amd64, regs))
		r := want(t, res, TLSID(host), probe.Pass, "", "plain HTTP", host+" is in the daemon's insecure-registries", "→ 401")
		if c := r.Data.(Connection); c.Scheme != "http" || !c.Insecure {
			t.Errorf("connection = %+v", c)
		}
		want(t, res, AuthID(host), probe.Fail, CauseMissingCredentials)
	})
	t.Run("daemon registries unknown", func(t *testing.T) {
		failing := []probe.Check{{ID: probe.IDDaemonRegistries, Run: func(context.Context, probe.Deps) probe.Result {
			return probe.Failf("", "daemon unreachable")
		}}}
		res := results(t, 0, hostChecks(f.Host, Options{CertsDir: base.CertsDir}), failing)
		// Loopback is insecure on every daemon, so its settings are not
		// even awaited: the pass must not depend on them.
		want(t, res, TLSID(f.Host), probe.Pass, "", "127.0.0.0/8")
	})
}

func TestNetworkFailures(t *testing.T) {
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	// A peer that accepts and then says nothing.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	nxdomain := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
	}}
	secure := func(string) bool { return false }

	tests := []struct {
		name      string
		host      string
		transport http.RoundTripper
		timeout   time.Duration
		cause     string
		fragments []string
	}{
		{"dns", "nosuch.invalid:5000", nxdomain, 0, CauseDNS, []string{"no such host", "nosuch.invalid does not resolve", "/etc/resolv.conf"}},
		{"refused", "registry.test:" + port(closed), dialTo(closed), 0, CauseConnectionRefused, []string{"connection refused", "nothing listens at registry.test:"}},
		{"timeout", "registry.test:" + port(silent.Addr().String()), dialTo(silent.Addr().String()), 300 * time.Millisecond, CauseNetworkTimeout, []string{"no answer from", "proxy", "MTU"}},
		{"default port in hint", "nosuch.invalid", nxdomain, 0, CauseDNS, []string{"nosuch.invalid does not resolve"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			res := results(t, tt.timeout, hostChecks(tt.host, Options{Transport: tt.transport, Insecure: secure, CertsDir: t.TempDir()}))
			want(t, res, TLSID(tt.host), probe.Fail, tt.cause, tt.fragments...)
			if tt.timeout > 0 && time.Since(start) > 5*tt.timeout {
				t.Errorf("took %s with a %s deadline", time.Since(start), tt.timeout)
			}
		})
	}
	if f := classifyNetErr(&net.OpError{Op: "proxyconnect", Err: errors.New("dial tcp 127.0.0.1:3128: connect: connection refused")}, "registry.test:5000", certsDirState{}); f.cause != CauseProxyWrong {
		t.Errorf("proxyconnect classified as %q", f.cause)
	}
	if f := classifyNetErr(&net.OpError{Op: "remote error", Err: tlsAlert("tls: certificate required")}, "registry.test:5000", certsDirState{dir: "/c/registry.test:5000"}); f.cause != CauseTLSClientCert || !strings.Contains(f.hint, "client.cert") {
		t.Errorf("client certificate alert classified as %+v", f)
	}
}

type tlsAlert string

func (a tlsAlert) Error() string { return string(a) }

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

func TestInsecureFor(t *testing.T) {
	old := lookupIP
	t.Cleanup(func() { lookupIP = old })
	lookupIP = func(_ context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "registry.test":
			return []netip.Addr{netip.MustParseAddr("::1")}, nil
		case "loop.test":
			return []netip.Addr{netip.MustParseAddr("127.0.1.1")}, nil
		case "lan.test":
			return []netip.Addr{netip.MustParseAddr("10.1.2.3")}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	regs := probe.DaemonRegistries{
		InsecureCIDRs: []string{"127.0.0.0/8", "10.0.0.0/8"},
		Secure:        map[string]bool{"docker.io": true, "listed.test:5000": false, "127.0.0.1:5000": true},
	}
	tests := []struct {
		host     string
		insecure bool
		why      string
	}{
		{"127.0.0.1:5001", true, "127.0.0.1 is in the daemon's insecure range 127.0.0.0/8"},
		{"127.0.0.1:5000", false, "lists 127.0.0.1:5000 as a secure registry"}, // an IndexConfigs entry wins
		{"loop.test:5000", true, "loop.test resolves to 127.0.1.1, in the daemon's insecure range 127.0.0.0/8"},
		{"registry.test:5000", false, ""}, // ::1 is only insecure on Docker 28+, when /info lists it
		{"lan.test", true, "10.0.0.0/8"},
		{"listed.test:5000", true, "listed.test:5000 is in the daemon's insecure-registries"},
		{"nosuch.test:5000", false, ""},
		{"docker.io", false, "secure"},
		{"[::1]:5000", false, ""},
	}
	for _, tt := range tests {
		got, why := InsecureFor(context.Background(), regs, tt.host)
		if got != tt.insecure || !strings.Contains(why, tt.why) {
			t.Errorf("InsecureFor(%s) = %v, %q; want %v, %q", tt.host, got, why, tt.insecure, tt.why)
		}
	}
	withV6 := probe.DaemonRegistries{InsecureCIDRs: []string{"127.0.0.0/8", "::1/128"}}
	if got, _ := InsecureFor(context.Background(), withV6, "registry.test:5000"); !got {
		t.Errorf("registry.test → ::1 not insecure with ::1/128 listed")
	}
}
