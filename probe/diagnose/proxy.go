package diagnose

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/runnerup/runnerup/internal/secret"
)

// daemonProxy is the proxy dockerd uses for registry traffic (its own
// environment or daemon.json "proxies", as GET /info reports them). The
// registry probes go through it, not through runnerup's environment:
// the daemon, not the runner, makes every request of a pull.
type daemonProxy struct {
	HTTP, HTTPS, NoProxy string
	Known                bool // /info answered
}

func (p daemonProxy) none() bool { return p.HTTP == "" && p.HTTPS == "" }

// transport is a clone of http.DefaultTransport whose proxy is the
// daemon's, with Go's rules (net/http's ProxyFromEnvironment: loopback
// and localhost never use a proxy; NO_PROXY entries match the host, its
// subdomains, an IP or a CIDR, optionally with a port; "*" matches all).
func (p daemonProxy) transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = p.proxyFor
	return tr
}

func (p daemonProxy) proxyFor(req *http.Request) (*url.URL, error) {
	raw := p.HTTPS
	if req.URL.Scheme == "http" {
		raw = p.HTTP
	}
	if raw == "" || !p.useProxy(req.URL.Host, req.URL.Scheme) {
		return nil, nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		// "proxy:3128" without a scheme, as Go accepts it.
		if u2, err2 := url.Parse("http://" + raw); err2 == nil {
			return u2, nil
		}
		return nil, err
	}
	return u, nil
}

// useProxy is golang.org/x/net/http/httpproxy's useProxy.
func (p daemonProxy) useProxy(hostport, scheme string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	if ip != nil && ip.IsLoopback() {
		return false
	}
	for _, e := range strings.Split(p.NoProxy, ",") {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" {
			continue
		}
		if e == "*" {
			return false
		}
		if _, cidr, err := net.ParseCIDR(e); err == nil {
			if ip != nil && cidr.Contains(ip) {
				return false
			}
			continue
		}
		eh, ep, err := net.SplitHostPort(e)
		if err != nil {
			eh, ep = e, ""
		}
		if ep != "" && ep != port {
			continue
		}
		if eip := net.ParseIP(strings.Trim(eh, "[]")); eip != nil {
			if ip != nil && eip.Equal(ip) {
				return false
			}
			continue
		}
		eh = strings.TrimPrefix(eh, "*")
		if strings.HasPrefix(eh, ".") {
			if strings.HasSuffix(host, eh) || host == eh[1:] {
				return false
			}
			continue
		}
		if host == eh || strings.HasSuffix(host, "."+eh) {
			return false
		}
	}
	return true
}

// envProxy is the proxy a [[runners]] environment (or runnerup's own
// environment) sets, for telling a missing daemon proxy from a network
// without one; userinfo redacted.
func envProxy(env []string, lookup func(string) (string, bool)) string {
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		for i := len(env) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(env[i], k+"="); ok && v != "" {
				return secret.RedactURL(v)
			}
		}
	}
	if lookup != nil {
		for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
			if v, ok := lookup(k); ok && v != "" {
				return secret.RedactURL(v)
			}
		}
	}
	return ""
}
