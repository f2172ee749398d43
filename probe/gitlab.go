package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/runnerup/runnerup/internal/gitlab"
	"github.com/runnerup/runnerup/internal/secret"
)

// Check ids for GitLab.
const (
	IDGitLabProxy = "gitlab.proxy"
	IDGitLabDNS   = "gitlab.dns"
	IDGitLabTCP   = "gitlab.tcp"
	IDGitLabTLS   = "gitlab.tls"
	IDGitLabAPI   = "gitlab.api"
	IDGitLabToken = "gitlab.token"
)

// GitLabTarget is what the GitLab checks probe.
type GitLabTarget struct {
	URL    string
	Token  string
	CAFile string
	// Verify is true for an authentication token: POST /runners/verify
	// checks it. A registration token is never used here, because the only
	// way to test one is to register a runner.
	Verify   bool
	SystemID string
	// SkipToken says why the token is not checked when Verify is false
	// (empty: it is a registration token).
	SkipToken string
	// CertsDir is where the runner looks for HOST.crt (<config dir>/certs;
	// empty: /etc/gitlab-runner/certs).
	CertsDir string
	// TokenRejectedHint replaces the fix for a token GitLab rejects (403)
	// when the caller knows a better one (a runner runnerup created).
	TokenRejectedHint string
}

// GitLabEnv holds the injectable network pieces.
type GitLabEnv struct {
	HTTPClient *http.Client // nil: default with proxy from environment
	Resolver   *net.Resolver
	Dialer     *net.Dialer
	// Proxy decides the proxy for a request, as http.ProxyFromEnvironment.
	Proxy func(*http.Request) (*url.URL, error)
	Now   func() time.Time
}

// GitLabChecks builds the GitLab checks for one instance.
func GitLabChecks(t GitLabTarget, env GitLabEnv) []Check {
	if env.Resolver == nil {
		env.Resolver = net.DefaultResolver
	}
	if env.Dialer == nil {
		env.Dialer = &net.Dialer{}
	}
	if env.Proxy == nil {
		env.Proxy = http.ProxyFromEnvironment
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	u, err := url.Parse(t.URL)
	if err != nil || u.Host == "" {
		return []Check{{ID: IDGitLabAPI, Title: "GitLab API", Run: func(context.Context, Deps) Result {
			return Failf("set gitlab.url to the instance's base URL, e.g. https://gitlab.example.com", "%q is not a URL", t.URL)
		}}}
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	hostPort := net.JoinHostPort(u.Hostname(), port)
	proxyURL, _ := env.Proxy(&http.Request{URL: u})

	checks := []Check{
		{ID: IDGitLabProxy, Title: "Proxy to GitLab", Run: func(context.Context, Deps) Result {
			if proxyURL == nil {
				return Passf("direct connection (no HTTP(S)_PROXY applies to %s)", u.Hostname())
			}
			return Passf("through proxy %s (HTTPS_PROXY/NO_PROXY as Go decides)", secret.RedactParsedURL(proxyURL))
		}},
		{ID: IDGitLabDNS, Title: "GitLab host name resolves", Run: func(ctx context.Context, _ Deps) Result {
			if proxyURL != nil {
				return Skipf("resolved by the proxy %s", proxyURL.Host)
			}
			if ip := net.ParseIP(u.Hostname()); ip != nil {
				return Passf("%s is an IP address", ip)
			}
			addrs, err := env.Resolver.LookupHost(ctx, u.Hostname())
			if err != nil {
				return Failf("check the host name in gitlab.url and this machine's DNS (/etc/resolv.conf)", "%s does not resolve: %v", u.Hostname(), unwrapDNS(err))
			}
			return Passf("%s → %s", u.Hostname(), strings.Join(addrs, ", "))
		}},
		{ID: IDGitLabTCP, Title: "GitLab port is reachable", Needs: []string{IDGitLabDNS}, RunAfterFailure: true, Run: func(ctx context.Context, deps Deps) Result {
			if deps[IDGitLabDNS].Status == Fail {
				return Skipf("skipped: %s did not pass", IDGitLabDNS)
			}
			target := hostPort
			if proxyURL != nil {
				target = proxyURL.Host
			}
			conn, err := env.Dialer.DialContext(ctx, "tcp", target)
			if err != nil {
				return Failf("check that GitLab listens on "+target+" and no firewall blocks it", "cannot connect to %s: %v", target, netCause(err))
			}
			_ = conn.Close()
			return Passf("connected to %s", target)
		}},
		{ID: IDGitLabTLS, Title: "GitLab TLS certificate", Needs: []string{IDGitLabTCP}, Run: func(ctx context.Context, _ Deps) Result {
			if u.Scheme != "https" {
				return Warnf("use https so the runner token is encrypted", "plain http: no TLS")
			}
			if proxyURL != nil {
				return Skipf("checked through the proxy by %s", IDGitLabAPI)
			}
			return tlsCheck(ctx, env, hostPort, u.Hostname(), t.CAFile, t.CertsDir)
		}},
		{ID: IDGitLabAPI, Title: "GitLab API answers", Needs: []string{IDGitLabTCP, IDGitLabTLS}, RunAfterFailure: true, Run: func(ctx context.Context, deps Deps) Result {
			// A TLS check skipped for a proxy is no reason to stop here.
			if s := deps[IDGitLabTCP].Status; s == Fail || s == Skip {
				return Skipf("skipped: %s did not pass", IDGitLabTCP)
			}
			if deps[IDGitLabTLS].Status == Fail {
				return Skipf("skipped: %s failed", IDGitLabTLS)
			}
			c, err := gitlab.New(t.URL, gitlab.Options{HTTPClient: env.HTTPClient, CAFile: t.CAFile, UserAgent: "runnerup"})
			if err != nil {
				return Failf("fix gitlab.url", "%v", err)
			}
			ok, version, err := c.Version(ctx)
			if err != nil || !ok {
				return gitlabFailure(err, "GET /api/v4/version")
			}
			if version != "" {
				return Passf("GitLab %s at %s", version, c.BaseURL())
			}
			return Passf("a GitLab API answers at %s (version needs authentication)", c.BaseURL())
		}},
		{ID: IDGitLabToken, Title: "Runner token", Needs: []string{IDGitLabAPI}, Run: func(ctx context.Context, _ Deps) Result {
			if !t.Verify && t.SkipToken != "" {
				return Skipf("%s", t.SkipToken)
			}
			if t.Token == "" {
				return Skipf("no token yet: it is checked once one is entered")
			}
			if !t.Verify {
				return Skipf("registration token %s: it is checked when apply registers the runner (probing would register one)", secret.Token(t.Token))
			}
			c, err := gitlab.New(t.URL, gitlab.Options{HTTPClient: env.HTTPClient, CAFile: t.CAFile, UserAgent: "runnerup"})
			if err != nil {
				return Failf("fix gitlab.url", "%v", err)
			}
			r, err := c.Verify(ctx, t.Token, t.SystemID)
			if err != nil {
				res := gitlabFailure(err, "POST /api/v4/runners/verify")
				if t.TokenRejectedHint != "" && errors.Is(err, gitlab.ErrTokenInvalid) {
					res.Hint = t.TokenRejectedHint
				}
				return res
			}
			detail := fmt.Sprintf("%s is valid (runner #%d, system id %s)", secret.Token(t.Token), r.ID, t.SystemID)
			if !r.TokenExpiresAt.IsZero() {
				left := r.TokenExpiresAt.Sub(env.Now())
				detail += fmt.Sprintf("; expires %s", r.TokenExpiresAt.UTC().Format(time.RFC3339))
				if left < 7*24*time.Hour {
					return Warnf("the running runner rotates its token by itself; if it is not running, reset the token in GitLab", "%s, in %s", detail, left.Round(time.Hour))
				}
			}
			return Passf("%s", detail)
		}},
	}
	return checks
}

// tlsCheck handshakes and explains certificate problems with the fix.
func tlsCheck(ctx context.Context, env GitLabEnv, hostPort, serverName, caFile, certsDir string) Result {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return Failf("fix gitlab.tls_ca_file", "cannot read CA file %s: %v", caFile, err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return Failf("gitlab.tls_ca_file must hold PEM certificates", "no certificates in %s", caFile)
		}
	}
	d := &tls.Dialer{NetDialer: env.Dialer, Config: &tls.Config{ServerName: serverName, RootCAs: roots, MinVersion: tls.VersionTLS12}}
	conn, err := d.DialContext(ctx, "tcp", hostPort)
	if err != nil {
		if r, ok := GitLabTLSFailure(err, serverName, caFile, certsDir); ok {
			return r
		}
		return Failf("check that GitLab serves TLS on "+hostPort, "TLS handshake failed: %v", netCause(err))
	}
	defer conn.Close()
	state := conn.(*tls.Conn).ConnectionState()
	leaf := state.PeerCertificates[0]
	left := leaf.NotAfter.Sub(env.Now())
	detail := fmt.Sprintf("valid for %s, issued by %q, expires %s", serverName, issuer(leaf), leaf.NotAfter.UTC().Format("2006-01-02"))
	if left < 14*24*time.Hour {
		return Warnf("renew GitLab's certificate soon", "%s (in %d days)", detail, int(left.Hours()/24))
	}
	return Passf("%s", detail)
}

// GitLabTLSFailure is the failed gitlab.tls result for a certificate
// error from any connection to GitLab (the check's handshake, or apply's
// first API call): the issuer of an unknown CA, gitlab.tls_ca_file, and
// the file the runner reads without it (certsDir/HOST.crt; certsDir ""
// is /etc/gitlab-runner/certs). ok is false for other errors.
func GitLabTLSFailure(err error, serverName, caFile, certsDir string) (r Result, ok bool) {
	if certsDir == "" {
		certsDir = "/etc/gitlab-runner/certs"
	}
	runnerFile := filepath.Join(certsDir, serverName+".crt")
	var unknown x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown) && caFile != "":
		return Failf("put the CA (PEM) that signed GitLab's certificate into "+caFile+" (gitlab.tls_ca_file; the runner reads it as tls-ca-file)",
			"certificate signed by unknown authority (issuer %q): gitlab.tls_ca_file %s does not hold that CA", issuer(unknown.Cert), caFile), true
	case errors.As(err, &unknown):
		return Failf("set gitlab.tls_ca_file to the CA (PEM) that signed it; the runner also reads "+runnerFile,
			"certificate signed by unknown authority (issuer %q)", issuer(unknown.Cert)), true
	case errors.As(err, &hostErr):
		return Failf("use the host name the certificate was issued for in gitlab.url", "certificate is not valid for %s: %v", serverName, hostErr.Error()), true
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return Failf("renew GitLab's certificate; check this host's clock", "certificate has expired or is not yet valid"), true
	}
	return Result{}, false
}

func issuer(c *x509.Certificate) string {
	if c == nil {
		return "unknown"
	}
	if c.Issuer.CommonName != "" {
		return c.Issuer.CommonName
	}
	return c.Issuer.String()
}

// gitlabFailure turns a GitLab client error into a failed result with the
// cause's fix.
func gitlabFailure(err error, endpoint string) Result {
	if err == nil {
		return Failf("check gitlab.url", "%s: no GitLab API answered", endpoint)
	}
	switch {
	case errors.Is(err, gitlab.ErrTokenInvalid):
		return Failf("create a new runner in GitLab (Settings › CI/CD › Runners › New runner) and use its glrt- token; for an existing entry, `runnerup check --online` lists stale runners", "GitLab rejected the token (403): wrong, revoked, or its runner was deleted")
	case errors.Is(err, gitlab.ErrOrphaned):
		return Failf("create a new runner and use its token", "GitLab says the runner is orphaned (422)")
	case errors.Is(err, gitlab.ErrNotGitLab):
		return Failf("gitlab.url must be the instance's base URL, e.g. https://gitlab.example.com", "not a GitLab API: %v", err)
	case errors.Is(err, gitlab.ErrTLSUnknownCA):
		return Failf("set gitlab.tls_ca_file", "certificate signed by unknown authority")
	case errors.Is(err, gitlab.ErrCrossHostRedirect), errors.Is(err, gitlab.ErrPostRedirect):
		return Failf("set gitlab.url to the address GitLab redirects to", "GitLab redirected elsewhere; the token was not sent there: %v", err)
	case errors.Is(err, gitlab.ErrRateLimited):
		return Warnf("retry later", "GitLab is rate limiting (429): %v", err)
	case errors.Is(err, gitlab.ErrServer):
		return Failf("GitLab had a server error; retry later or check its status", "%v", err)
	case errors.Is(err, gitlab.ErrTimeout):
		return Failf("check the network path and HTTPS_PROXY/NO_PROXY", "no answer in time: %v", err)
	}
	return Failf("check gitlab.url and the network", "%v", err)
}

func unwrapDNS(err error) error {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsNotFound {
			return errors.New("no such host")
		}
		return errors.New(dnsErr.Err)
	}
	return err
}

// netCause keeps the part of a network error a user can act on.
func netCause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}
