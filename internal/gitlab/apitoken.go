package gitlab

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/runnerup/runnerup/internal/secret"
)

// TokenEnvVars are the variables an API token is read from, in glab's order
// (glab also reads OAUTH_TOKEN, which runnerup leaves alone: too generic a
// name to send to a GitLab).
var TokenEnvVars = []string{"GITLAB_TOKEN", "GITLAB_ACCESS_TOKEN"}

// HostEnvVars name the GitLab an API token belongs to, as glab reads them.
var HostEnvVars = []string{"GITLAB_HOST", "GITLAB_URI", "GL_HOST"}

// LookupEnv is os.LookupEnv, injectable.
type LookupEnv func(name string) (string, bool)

// APIToken is a personal, project or group access token and where it came
// from. String never shows Value.
type APIToken struct {
	Value string
	// Source names where Value came from: an environment variable
	// ("GITLAB_TOKEN") or an answers field ("gitlab.create.api_token").
	Source string
}

func (t APIToken) String() string { return "API token from " + t.Source }

// TokenFromEnv returns the first of TokenEnvVars that is set and not empty;
// Value is "" when none is.
func TokenFromEnv(lookup LookupEnv) APIToken {
	for _, name := range TokenEnvVars {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			return APIToken{Value: strings.TrimSpace(v), Source: name}
		}
	}
	return APIToken{}
}

// ErrTokenDestination is matched by every *TokenDestinationError.
var ErrTokenDestination = errors.New("the API token is not sent there")

// TokenDestinationError says why an API token may not be sent to a URL:
// a bad input (exit 2), decided before any request is made.
type TokenDestinationError struct {
	URL    string // the GitLab URL the token would go to (redacted)
	Reason string
	Fix    string
}

func (e *TokenDestinationError) Error() string {
	s := fmt.Sprintf("%s: %s", ErrTokenDestination, e.Reason)
	if e.Fix != "" {
		s += " (" + e.Fix + ")"
	}
	return s
}

// Is makes errors.Is(err, ErrTokenDestination) work.
func (e *TokenDestinationError) Is(target error) bool { return target == ErrTokenDestination }

// CheckTokenDestination is the one place that decides whether an API token
// may be sent to the GitLab at targetURL. It refuses:
//   - a GITLAB_HOST (or GITLAB_URI / GL_HOST, as glab reads them) naming
//     another host: the token in the environment belongs to that GitLab,
//     and sending it elsewhere would hand it to a stranger;
//   - plain http to anything but a loopback address: the token would cross
//     the network in clear.
//
// Redirects to another origin are refused by the client itself.
func CheckTokenDestination(targetURL string, lookup LookupEnv) error {
	u, err := apiBase(targetURL)
	if err != nil {
		return &TokenDestinationError{URL: targetURL, Reason: err.Error(), Fix: "fix gitlab.url"}
	}
	shown := secret.RedactParsedURL(&url.URL{Scheme: u.Scheme, Host: u.Host})
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return &TokenDestinationError{URL: shown,
			Reason: fmt.Sprintf("%s is plain http: an API token would cross the network unencrypted", shown),
			Fix:    "use the https URL of GitLab in gitlab.url"}
	}
	if lookup == nil {
		return nil
	}
	for _, name := range HostEnvVars {
		v, ok := lookup(name)
		if !ok || strings.TrimSpace(v) == "" {
			continue
		}
		if sameHost(v, u) {
			return nil
		}
		return &TokenDestinationError{URL: shown,
			Reason: fmt.Sprintf("%s=%s says the API token belongs to another GitLab than %s (gitlab.url)", name, strings.TrimSpace(v), shown),
			Fix:    fmt.Sprintf("unset %s, or set it to %s, or use an API token of %s", name, u.Host, u.Host)}
	}
	return nil
}

// sameHost compares glab's host setting (a host name, host:port, or a URL)
// with the target: the host name always, the port when the setting gives one.
func sameHost(setting string, target *url.URL) bool {
	s := strings.TrimSpace(setting)
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	h, err := url.Parse(s)
	if err != nil || h.Hostname() == "" {
		return false
	}
	if !strings.EqualFold(strings.TrimSuffix(h.Hostname(), "."), strings.TrimSuffix(target.Hostname(), ".")) {
		return false
	}
	if h.Port() != "" {
		return effectivePort(h) == effectivePort(target)
	}
	return true
}

// isLoopback: "localhost" or a loopback address (127.0.0.0/8, ::1); a
// name is not resolved, so only localhost counts as one. Other *.localhost
// names do not: Go's proxy selection (httpproxy.useProxy) excludes only
// the literal localhost and loopback IPs, so such a name goes through
// HTTP_PROXY.
func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckAPITokenRoute refuses what CheckTokenDestination cannot see: a
// plain-http GitLab reached through a proxy (the client's transport, e.g.
// HTTP_PROXY), where the API token would cross the network in clear to
// the proxy even though GitLab itself is on loopback. Every request
// carrying an API token checks it again.
func (c *Client) CheckAPITokenRoute() error {
	return c.apiTokenRoute(&http.Request{Method: http.MethodGet, URL: c.base, Header: http.Header{}})
}

func (c *Client) apiTokenRoute(req *http.Request) error {
	if req.URL.Scheme != "http" {
		return nil
	}
	shown := secret.RedactParsedURL(&url.URL{Scheme: req.URL.Scheme, Host: req.URL.Host})
	proxy, err := c.proxyFor(req)
	if err != nil {
		return &TokenDestinationError{URL: shown, Reason: fmt.Sprintf("cannot tell whether requests to %s go through a proxy: %v", shown, err), Fix: "use the https URL of GitLab in gitlab.url"}
	}
	if proxy == nil {
		return nil
	}
	return &TokenDestinationError{URL: shown,
		Reason: fmt.Sprintf("%s is plain http and requests to it go through the proxy %s: the API token would reach the proxy unencrypted", shown, secret.RedactParsedURL(proxy)),
		Fix:    fmt.Sprintf("use the https URL of GitLab in gitlab.url, or exclude %s from the proxy with NO_PROXY", req.URL.Hostname())}
}

// proxyFor is the proxy the client's transport picks for req (nil: none,
// or a transport that does not say).
func (c *Client) proxyFor(req *http.Request) (*url.URL, error) {
	rt := c.hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	t, ok := rt.(*http.Transport)
	if !ok || t.Proxy == nil {
		return nil, nil
	}
	return t.Proxy(req)
}
