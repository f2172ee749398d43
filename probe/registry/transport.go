package registry

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// maxBody caps every response body this package reads itself (errors, /v2/
// answers); registries and proxies can send arbitrarily large error pages.
const maxBody = 64 << 10

// DefaultConcurrency is how many requests the checks of one run send to
// one registry host (or token server) at once when Options.Concurrency is
// zero. The requests are small (manifests, config blobs), and registries
// serve HTTP/2 with 100 or more streams per connection: 32 probe a few
// dozen images of one registry in about the round trips of one image,
// while a plain-HTTP registry sees at most 32 connections from the probe.
const DefaultConcurrency = 32

// baseTransports are the shared transports used when Options.Transport is
// nil, one per concurrency cap: a clone of http.DefaultTransport (proxies
// from the environment) for the whole process, so repeated probes (the TUI
// re-probing as the user types) reuse connections. A host gets at most
// that many connections and keeps them all idle between requests, so the
// requests of one run share them instead of dialling anew.
var baseTransports sync.Map // int → *http.Transport

func baseTransport(conns int) http.RoundTripper {
	if t, ok := baseTransports.Load(conns); ok {
		return t.(*http.Transport)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxConnsPerHost, t.MaxIdleConnsPerHost = conns, conns
	t.MaxIdleConns = max(t.MaxIdleConns, 4*conns)
	actual, _ := baseTransports.LoadOrStore(conns, t)
	return actual.(*http.Transport)
}

func (o Options) base() http.RoundTripper {
	if o.Transport != nil {
		return o.Transport
	}
	return baseTransport(o.concurrency())
}

func (o Options) concurrency() int {
	if o.Concurrency > 0 {
		return o.Concurrency
	}
	return DefaultConcurrency
}

// limited caps rt at the run's requests-per-host limit. Options made
// without Checks or HostChecks have no limiter and are not capped.
func (o Options) limited(rt http.RoundTripper) http.RoundTripper {
	if o.limiter == nil {
		return rt
	}
	return limitTransport{lim: o.limiter, inner: rt}
}

// hostLimiter caps the requests in flight per host:port across the checks
// of one Checks call. A request holds its slot until its body is closed
// (or read to the end), so a streamed blob counts while it streams.
type hostLimiter struct {
	n   int
	mu  sync.Mutex
	sem map[string]chan struct{}
}

func newHostLimiter(n int) *hostLimiter {
	return &hostLimiter{n: n, sem: map[string]chan struct{}{}}
}

func (l *hostLimiter) acquire(ctx context.Context, host string) (release func(), err error) {
	l.mu.Lock()
	sem, ok := l.sem[host]
	if !ok {
		sem = make(chan struct{}, l.n)
		l.sem[host] = sem
	}
	l.mu.Unlock()
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() { once.Do(func() { <-sem }) }, nil
}

type limitTransport struct {
	lim   *hostLimiter
	inner http.RoundTripper
}

func (t limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	release, err := t.lim.acquire(req.Context(), req.URL.Host)
	if err != nil {
		return nil, err
	}
	resp, err := t.inner.RoundTrip(req)
	if err != nil {
		release()
		return nil, err
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// releasingBody gives the request's slot back when the body is done with.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.release()
	}
	return n, err
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

// blobCache keeps one registry's answers to blob GETs for the run. Blobs
// are addressed by their digest, so an answer never goes stale: the config
// blob the manifest check fetches ahead serves the platform check, and
// images sharing a config fetch it once (a GET for a blob already on its
// way waits for that answer). A redirect (to object storage) is kept with
// the answer of its target.
type blobCache struct {
	mu      sync.Mutex
	answers map[string]cachedAnswer  // by URL
	pending map[string]chan struct{} // URLs being fetched; closed when done
	targets map[string]bool          // redirect targets of cached redirects
}

type cachedAnswer struct {
	status int
	header http.Header
	body   []byte
}

func newBlobCache() *blobCache {
	return &blobCache{answers: map[string]cachedAnswer{}, pending: map[string]chan struct{}{}, targets: map[string]bool{}}
}

func (a cachedAnswer) response(req *http.Request) *http.Response {
	return &http.Response{
		Status: fmt.Sprintf("%d %s", a.status, http.StatusText(a.status)), StatusCode: a.status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: a.header.Clone(), Body: io.NopCloser(bytes.NewReader(a.body)),
		ContentLength: int64(len(a.body)), Request: req,
	}
}

// cachingTransport answers GETs of blobs (and of their redirect targets)
// from the cache, and fills it with the successful ones.
type cachingTransport struct {
	cache *blobCache
	inner http.RoundTripper
}

func (t cachingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := t.cache
	key := req.URL.String()
	c.mu.Lock()
	if req.Method != http.MethodGet || !(isBlobPath(req.URL.Path) || c.targets[key]) {
		c.mu.Unlock()
		return t.inner.RoundTrip(req)
	}
	for {
		if hit, ok := c.answers[key]; ok {
			c.mu.Unlock()
			return hit.response(req), nil
		}
		wait, busy := c.pending[key]
		if !busy {
			break
		}
		c.mu.Unlock()
		select {
		case <-wait:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
		c.mu.Lock()
	}
	done := make(chan struct{})
	c.pending[key] = done
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, key)
		c.mu.Unlock()
		close(done)
	}()

	resp, err := t.inner.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		// Only blobs small enough to be config blobs are kept; the rest
		// streams on.
		b, rerr := io.ReadAll(io.LimitReader(resp.Body, maxConfig+1))
		if rerr != nil || len(b) > maxConfig {
			resp.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(b), resp.Body), resp.Body}
			return resp, nil
		}
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(b))
		c.put(key, cachedAnswer{status: resp.StatusCode, header: resp.Header.Clone(), body: b}, "")
	case isRedirect(resp.StatusCode):
		loc, lerr := resp.Location()
		if lerr != nil {
			return resp, nil
		}
		// The redirect's own body is not worth keeping.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		resp.Body = http.NoBody
		c.put(key, cachedAnswer{status: resp.StatusCode, header: resp.Header.Clone()}, loc.String())
	}
	return resp, nil
}

func (c *blobCache) put(key string, a cachedAnswer, target string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answers[key] = a
	if target != "" {
		c.targets[target] = true
	}
}

// isBlobPath: /v2/<name>/blobs/<digest>.
func isBlobPath(p string) bool {
	rest, ok := strings.CutPrefix(p, "/v2/")
	if !ok {
		return false
	}
	i := strings.LastIndex(rest, "/blobs/")
	return i > 0 && strings.Contains(rest[i+len("/blobs/"):], ":")
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// recorder keeps what go-containerregistry does not surface from the
// answers of one check's requests: Docker Hub's rate-limit headers,
// Retry-After, and the body of the last non-2xx answer (token-server
// "details", HTML error pages). It travels in the request context because
// one authenticated transport is shared by every check of a host.
type recorder struct {
	mu         sync.Mutex
	rateLimit  RateLimit
	retryAfter string
	lastStatus int
	lastType   string // Content-Type of the last non-2xx answer
	lastBody   []byte // its body, capped at maxBody
}

type recorderKey struct{}

func withRecorder(ctx context.Context, rec *recorder) context.Context {
	return context.WithValue(ctx, recorderKey{}, rec)
}

func recorderFrom(ctx context.Context) *recorder {
	rec, _ := ctx.Value(recorderKey{}).(*recorder)
	return rec
}

func (r *recorder) snapshot() (RateLimit, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rateLimit, r.retryAfter
}

// takeRateLimit replaces r's rate-limit headers with o's: the request o
// recorded decided the result.
func (r *recorder) takeRateLimit(o *recorder) {
	rl, retry := o.snapshot()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rateLimit, r.retryAfter = rl, retry
}

// fillRateLimit adds the rate-limit headers o recorded that r lacks, as if
// o's request had been answered first.
func (r *recorder) fillRateLimit(o *recorder) {
	rl, retry := o.snapshot()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rateLimit.Limit = cmp.Or(r.rateLimit.Limit, rl.Limit)
	r.rateLimit.Remaining = cmp.Or(r.rateLimit.Remaining, rl.Remaining)
	r.rateLimit.Source = cmp.Or(r.rateLimit.Source, rl.Source)
	r.retryAfter = cmp.Or(r.retryAfter, retry)
}

func (r *recorder) lastError() (int, string, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastStatus, r.lastType, r.lastBody
}

// recordingTransport feeds the recorder found in each request's context.
// It returns the inner transport's errors unwrapped: http.Client turns a
// bare tls.RecordHeaderError into http.ErrSchemeMismatch, and the causes
// are chosen with errors.As on the original types.
type recordingTransport struct {
	inner http.RoundTripper
}

func (t recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.inner.RoundTrip(req)
	rec := recorderFrom(req.Context())
	if err != nil || rec == nil {
		return resp, err
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	h := resp.Header
	if v := h.Get("Ratelimit-Limit"); v != "" {
		rec.rateLimit.Limit = v
	}
	if v := h.Get("Ratelimit-Remaining"); v != "" {
		rec.rateLimit.Remaining = v
	}
	if v := h.Get("Docker-Ratelimit-Source"); v != "" {
		rec.rateLimit.Source = v
	}
	if v := h.Get("Retry-After"); v != "" {
		rec.retryAfter = v
	}
	if resp.StatusCode >= 300 {
		// Buffer the (capped) body so both we and go-containerregistry's
		// CheckError can read it.
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(b))
		rec.lastStatus, rec.lastType, rec.lastBody = resp.StatusCode, h.Get("Content-Type"), b
	}
	return resp, nil
}

// schemeTransport sends every request for the registry's own host:port
// with the scheme the tls check settled on. go-containerregistry builds
// URLs from name.Registry.Scheme(), which guesses http for 127.0.0.1,
// localhost and RFC 1918 addresses; the daemon decides from its own
// insecure-registries rules instead, and so must the probe.
type schemeTransport struct {
	scheme, host string
	inner        http.RoundTripper
}

func (t schemeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == t.host && req.URL.Scheme != t.scheme {
		req = req.Clone(req.Context())
		req.URL.Scheme = t.scheme
	}
	return t.inner.RoundTrip(req)
}

// userAgent identifies the probe in registry logs.
const userAgent = "runnerup-probe"

type userAgentTransport struct{ inner http.RoundTripper }

func (t userAgentTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", userAgent)
	}
	return t.inner.RoundTrip(req)
}
