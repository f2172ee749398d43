// Package gitlab is a small client for the GitLab API endpoints GitLab Runner
// uses to register and verify itself (docs/gitlab-runner.md §3).
//
// Runner tokens travel only in JSON bodies and API tokens only in the
// PRIVATE-TOKEN header, never in URLs, and no token ever appears in an error
// string: every message the server sends back is scrubbed of the token before
// it is kept. Redirects to another origin are refused so a token is never
// re-sent elsewhere.
package gitlab

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/runnerup/runnerup/internal/secret"
)

// maxBody caps every response body read; GitLab's runner answers are tiny.
const maxBody = 64 << 10

// DefaultUserAgent is sent when Options.UserAgent is empty.
const DefaultUserAgent = "runnerup"

// ErrInvalidURL is returned by New for a URL GitLab Runner would not accept.
var ErrInvalidURL = errors.New("invalid gitlab url")

// Options configures a Client.
type Options struct {
	// HTTPClient is copied, never modified. Nil means a client with
	// http.DefaultTransport's settings (proxy from the environment).
	// Callers set deadlines through the context, not Client.Timeout.
	HTTPClient *http.Client
	// CAFile is an extra CA bundle (PEM) trusted in addition to the system
	// roots, for a GitLab with a self-signed or private-CA certificate.
	CAFile string
	// UserAgent defaults to DefaultUserAgent.
	UserAgent string
}

// Client talks to one GitLab instance.
type Client struct {
	base *url.URL // ends in "/api/v4/"
	hc   *http.Client
	ua   string
}

// New validates rawURL the way GitLab Runner does (network/client.go
// fixCIURL: trailing "/" and a legacy "/ci" suffix are dropped before
// "/api/v4/" is appended, so a GitLab under a sub-path works) and builds a
// client for it.
func New(rawURL string, opts Options) (*Client, error) {
	base, err := apiBase(rawURL)
	if err != nil {
		return nil, err
	}
	hc, err := httpClient(opts)
	if err != nil {
		return nil, err
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	return &Client{base: base, hc: hc, ua: ua}, nil
}

// BaseURL is the API base ("https://host[/sub]/api/v4/") without credentials.
func (c *Client) BaseURL() string { return secret.RedactParsedURL(c.base) }

// Proxy reports the proxy requests to GitLab go through, without its
// credentials; "" means a direct connection (or a transport that does not
// say). Probes report it because a proxy is a common cause of failures.
func (c *Client) Proxy() (string, error) {
	u, err := c.proxyFor(&http.Request{Method: http.MethodPost, URL: c.base, Header: http.Header{}})
	if err != nil {
		return "", fmt.Errorf("finding proxy for gitlab: %w", err)
	}
	if u == nil {
		return "", nil
	}
	return secret.RedactParsedURL(u), nil
}

func apiBase(rawURL string) (*url.URL, error) {
	s := strings.TrimSpace(rawURL)
	s = strings.TrimRight(s, "/")
	s = strings.TrimSuffix(s, "/ci")
	u, err := url.Parse(s + "/api/v4/")
	if err != nil {
		// url.Parse errors quote the input, which may hold a password.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidURL, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%w: scheme must be http or https", ErrInvalidURL)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("%w: no host", ErrInvalidURL)
	case u.User != nil:
		// Credentials in the URL would be sent as basic auth and end up in
		// config.toml; GitLab's runner API never uses them.
		return nil, fmt.Errorf("%w: must not contain credentials", ErrInvalidURL)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("%w: must not have a query or fragment", ErrInvalidURL)
	}
	return u, nil
}

func httpClient(opts Options) (*http.Client, error) {
	var hc http.Client
	if opts.HTTPClient != nil {
		hc = *opts.HTTPClient
	}
	if opts.CAFile != "" {
		rt, err := withCAFile(hc.Transport, opts.CAFile)
		if err != nil {
			return nil, err
		}
		hc.Transport = rt
	}
	userCheck := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := checkRedirect(req, via); err != nil {
			return err
		}
		if userCheck != nil {
			return userCheck(req, via)
		}
		return nil
	}
	return &hc, nil
}

// withCAFile returns a copy of rt (nil: the default transport) trusting the
// system roots plus the certificates in caFile.
func withCAFile(rt http.RoundTripper, caFile string) (http.RoundTripper, error) {
	if rt == nil {
		rt = http.DefaultTransport
	}
	t, ok := rt.(*http.Transport)
	if !ok {
		return nil, fmt.Errorf("using ca file %s: needs an *http.Transport, got %T", caFile, rt)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("reading ca file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("reading ca file %s: no PEM certificates found", caFile)
	}
	t = t.Clone()
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{}
	}
	t.TLSClientConfig.RootCAs = pool
	return t, nil
}

// response is what send keeps of an HTTP answer.
type response struct {
	status      int
	header      http.Header
	body        []byte
	contentType string
}

// send performs one JSON request. in may be nil (no body). secret is scrubbed
// from any error text.
func (c *Client) send(ctx context.Context, method, path string, in any, secret string) (*response, error) {
	return c.sendHeader(ctx, method, path, in, secret, nil)
}

// sendHeader is send with extra request headers (an API token). Their values
// are credentials: checkRedirect keeps them on the origin they were meant for.
func (c *Client) sendHeader(ctx context.Context, method, path string, in any, secret string, hdr http.Header) (*response, error) {
	// path may carry a query and escaped segments (projects/group%2Fapp).
	ref, err := url.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("%s /api/v4/%s: building request: %w", method, path, err)
	}
	u := c.base.ResolveReference(ref)
	endpoint := method + " /api/v4/" + ref.Path

	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("%s: encoding request: %w", endpoint, err)
		}
		// A *bytes.Reader lets net/http re-send the body on a same-origin
		// 307/308 (GetBody); other origins are refused by checkRedirect.
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%s: building request: %w", endpoint, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if hdr.Get("Private-Token") != "" {
		// An API token never goes in clear to a proxy.
		if err := c.apiTokenRoute(req); err != nil {
			return nil, err
		}
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, newNetError(endpoint, u, err, secret)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, newNetError(endpoint, u, err, secret)
	}
	return &response{
		status:      resp.StatusCode,
		header:      resp.Header,
		body:        b,
		contentType: resp.Header.Get("Content-Type"),
	}, nil
}
