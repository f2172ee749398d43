package registry

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/runnerup/runnerup/probe"
)

// Connection is the tls check's Data: how the daemon reaches the registry.
type Connection struct {
	// Host is the registry as in image names; Endpoint where requests go
	// (registry-1.docker.io for Docker Hub).
	Host, Endpoint string
	// Scheme is "https", or "http" for a plain-HTTP registry the daemon
	// treats as insecure.
	Scheme string
	// Verified is true when the TLS certificate verified (with system roots
	// plus certs.d); an insecure registry may pass without it.
	Verified bool
	// Insecure and InsecureReason: whether and why the daemon treats Host
	// as an insecure registry.
	Insecure       bool
	InsecureReason string

	rt    http.RoundTripper // trust settled for this host; no recorder yet
	ping  v2Answer          // the anonymous GET /v2/ answer: the auth challenge
	blobs *blobCache        // blob answers shared by the host's checks
}

// transport is the connection's transport for go-containerregistry: the
// settled scheme pinned, answers recorded, a User-Agent set, blobs cached.
func (c Connection) transport() http.RoundTripper {
	var rt http.RoundTripper = c.rt
	if c.blobs != nil {
		rt = cachingTransport{cache: c.blobs, inner: rt}
	}
	return schemeTransport{scheme: c.Scheme, host: c.Endpoint, inner: userAgentTransport{recordingTransport{rt}}}
}

// v2Answer is one GET /v2/ attempt.
type v2Answer struct {
	status int
	header http.Header
	tls    *tls.ConnectionState
	body   []byte
}

// looksLikeRegistry: the answers a v2 registry gives an anonymous GET /v2/.
func (a v2Answer) looksLikeRegistry() bool {
	return a.status == http.StatusOK || a.status == http.StatusUnauthorized ||
		a.header.Get("Docker-Distribution-Api-Version") != ""
}

func getV2(ctx context.Context, rt http.RoundTripper, scheme, endpoint string) (v2Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+endpoint+"/v2/", nil)
	if err != nil {
		return v2Answer{}, fmt.Errorf("building GET /v2/ request: %w", err)
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return v2Answer{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return v2Answer{status: resp.StatusCode, header: resp.Header, tls: resp.TLS, body: body}, nil
}

// runTLS is registry.<host>.tls: reach GET /v2/ the way the daemon would.
// A secure registry gets HTTPS with verification only; an insecure one
// gets HTTPS without verification, then plain HTTP
// (docs/pull-failures.md §0.2). HTTPS is always tried with
// verification first, so that the detail can say when an insecure
// registry's certificate would not have verified.
func (h hostProbe) runTLS(ctx context.Context, deps probe.Deps) probe.Result {
	conn := Connection{Host: h.host, Endpoint: Endpoint(h.host), blobs: newBlobCache()}
	var note string
	fail := func(f netFailure) probe.Result {
		return failed(Failure{Cause: f.cause, Host: h.host}, f.hint, "%s", joinDetail(f.detail, note))
	}

	certs, err := readCertsDir(h.opts.certsDir(), conn.Endpoint)
	if err != nil {
		return probe.Failf("", "%v", err)
	}
	verifying, err := hostTransport(h.opts.base(), certs, false)
	if err != nil {
		return probe.Failf("", "%v", err)
	}
	verifying = h.opts.limited(verifying)

	// For a host the daemon treats as insecure whatever its settings say
	// (loopback), ask plain HTTP beside HTTPS: it is the daemon's fallback,
	// so both answers are needed anyway, and the check costs one round trip
	// instead of two. Any other host gets HTTPS alone first.
	plainV2 := func() (v2Answer, error) { return getV2(ctx, verifying, "http", conn.Endpoint) }
	if h.opts.insecureUpFront(h.host) {
		pctx, cancel := context.WithCancel(ctx)
		defer cancel() // not needed once HTTPS answered
		type answered struct {
			ans v2Answer
			err error
		}
		early := make(chan answered, 1)
		go func() {
			a, err := getV2(pctx, verifying, "http", conn.Endpoint)
			early <- answered{a, err}
		}()
		plainV2 = func() (v2Answer, error) {
			a := <-early
			return a.ans, a.err
		}
	}

	ans, err := getV2(ctx, verifying, "https", conn.Endpoint)
	if err == nil {
		conn.Scheme, conn.Verified, conn.rt, conn.ping = "https", true, verifying, ans
		return h.v2Result(conn, ans, joinDetail(describeTLS(ans.tls), note))
	}
	https := classifyNetErr(err, h.host, certs)
	// Only now does it matter how the daemon treats the host.
	insecure, why, note := h.opts.insecure(ctx, deps, h.host)
	conn.Insecure, conn.InsecureReason = insecure, why
	if !insecure {
		if https.cause == CausePlainHTTP {
			// Say whether plain HTTP would have worked: the fix differs
			// for a registry and for some other HTTP server.
			if plain, perr := plainV2(); perr == nil && plain.looksLikeRegistry() {
				https.detail += fmt.Sprintf("; http://%s/v2/ answers as a registry (%d)", conn.Endpoint, plain.status)
			}
			https.detail += "; the daemon does not treat " + h.host + " as insecure"
		}
		return fail(https)
	}

	// Insecure: the daemon retries HTTPS without verification (only worth
	// it when TLS itself was the problem), then plain HTTP.
	if strings.HasPrefix(https.cause, "tls-") {
		skipping, err := hostTransport(h.opts.base(), certs, true)
		if err != nil {
			return probe.Failf("", "%v", err)
		}
		skipping = h.opts.limited(skipping)
		if ans, err := getV2(ctx, skipping, "https", conn.Endpoint); err == nil {
			conn.Scheme, conn.rt, conn.ping = "https", skipping, ans
			return h.v2Result(conn, ans, joinDetail(
				fmt.Sprintf("certificate not verified (%s) but %s, so the daemon skips verification", https.detail, why), note))
		}
	}
	plain, err := plainV2()
	if err != nil {
		// Both failed: the HTTPS error is the one the daemon reports first.
		return fail(https)
	}
	conn.Scheme, conn.rt, conn.ping = "http", verifying, plain
	return h.v2Result(conn, plain, joinDetail(fmt.Sprintf("plain HTTP: %s, so the daemon falls back to http://", why), note))
}

// v2Result judges the /v2/ answer once a connection worked: 200 and 401
// are a registry; anything else is a server or routing problem.
func (h hostProbe) v2Result(conn Connection, ans v2Answer, detail string) probe.Result {
	if ans.status == http.StatusOK || ans.status == http.StatusUnauthorized {
		r := probe.Passf("%s", joinDetail(detail, fmt.Sprintf("GET %s://%s/v2/ → %d", conn.Scheme, conn.Endpoint, ans.status)))
		r.Data = conn
		return r
	}
	a := newAnswer(ans.status, ans.header.Get("Content-Type"), ans.body)
	a.retryAfter = ans.header.Get("Retry-After")
	cause, what, hint := serverFailure(a, fmt.Sprintf("GET %s://%s/v2/", conn.Scheme, conn.Endpoint), h.host)
	return failed(Failure{Cause: cause, Host: h.host, Status: ans.status, RetryAfter: a.retryAfter}, hint, "%s", joinDetail(detail, what))
}

// describeTLS summarises the verified server certificate.
func describeTLS(st *tls.ConnectionState) string {
	if st == nil || len(st.PeerCertificates) == 0 {
		return "HTTPS ok"
	}
	leaf := st.PeerCertificates[0]
	issuer := leaf.Issuer.CommonName
	if issuer == "" {
		issuer = leaf.Issuer.String()
	}
	return fmt.Sprintf("HTTPS ok: certificate issued by %q, valid until %s", issuer, leaf.NotAfter.UTC().Format("2006-01-02"))
}
