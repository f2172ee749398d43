package registry

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/runnerup/runnerup/internal/imageref"
	"github.com/runnerup/runnerup/probe"
)

// Auth is the auth check's Data: how requests to the registry authenticate.
type Auth struct {
	Host string
	// Challenge is the /v2/ challenge scheme, "Basic" or "Bearer", or ""
	// when /v2/ answered 200 (anonymous access).
	Challenge      string
	Realm, Service string
	// Anonymous is true when no credential is sent.
	Anonymous bool
	// Source is where the credential came from ("" when anonymous).
	Source string

	rt  http.RoundTripper // authenticated: a *transport.Wrapper
	reg name.Registry
	// secrets to scrub from any later result of this host; behind a
	// pointer so that printing an Auth (%+v) never shows them.
	secrets *secretSet
}

type secretSet struct{ values []string }

// list is nil-safe: checks built from a zero Auth have nothing to scrub.
func (s *secretSet) list() []string {
	if s == nil {
		return nil
	}
	return s.values
}

// runAuth is registry.<host>.auth.
func (h hostProbe) runAuth(ctx context.Context, deps probe.Deps) probe.Result {
	tlsID := TLSID(h.host)
	conn, ok := probe.DataOf[Connection](deps, tlsID)
	if s := deps[tlsID].Status; !ok || (s != probe.Pass && s != probe.Warn) {
		return probe.Skipf("skipped: %s did not pass", tlsID)
	}
	cred, have, note := h.credential(deps)
	secrets := cred.secrets()
	if cred.Username != "" && cred.Password != "" {
		secrets = append(secrets, base64.StdEncoding.EncodeToString([]byte(cred.Username+":"+cred.Password)))
	}
	r := h.authenticate(ctx, conn, cred, have, &secrets)
	r.Detail = joinDetail(r.Detail, note)
	if a, ok := r.Data.(Auth); ok {
		a.secrets = &secretSet{values: secrets}
		r.Data = a
	}
	return scrub(r, secrets...)
}

// credential reads the credential the suite's credentials check resolved.
func (h hostProbe) credential(deps probe.Deps) (cred Credential, have bool, note string) {
	if h.opts.CredentialsCheck == nil || h.opts.CredentialFrom == nil {
		return Credential{}, false, ""
	}
	id := h.opts.CredentialsCheck(h.host)
	if s := deps[id].Status; s == probe.Fail || s == probe.Skip {
		note = fmt.Sprintf("%s did not pass: probed with whatever credential the runner would still use", id)
	}
	cred, have = h.opts.CredentialFrom(deps, h.host)
	if have && cred.empty() {
		have = false
	}
	return cred, have, note
}

func (h hostProbe) authenticate(ctx context.Context, conn Connection, cred Credential, have bool, secrets *[]string) probe.Result {
	rec := &recorder{}
	ctx = withRecorder(ctx, rec)
	rt := conn.transport()
	reg, err := registryName(conn)
	if err != nil {
		return probe.Failf("", "%v", err)
	}
	key := imageref.AuthKey(h.host)
	src := sourceName(cred)
	base := Failure{Host: h.host}
	if have {
		base.CredentialSource = cred.Source
	}

	ch, err := pingChallenge(ctx, reg, conn)
	if err != nil {
		return h.requestFailed(err, rec, base, conn, "GET /v2/")
	}
	data := Auth{Host: h.host, Challenge: challengeName(ch.Scheme), Realm: ch.Parameters["realm"], Service: ch.Parameters["service"],
		Anonymous: !have, Source: cred.Source, reg: reg}
	auth := authn.Anonymous
	if have {
		auth = authn.FromConfig(authn.AuthConfig{Username: cred.Username, Password: cred.Password, IdentityToken: cred.IdentityToken})
	}

	switch strings.ToLower(ch.Scheme) {
	case "":
		if st, _, _ := rec.lastError(); st == http.StatusUnauthorized {
			return failed(base, "the registry answers 401 without a WWW-Authenticate challenge: check what serves /v2/ on this host", "GET /v2/ answered 401 with no challenge")
		}
		// /v2/ answered 200: the daemon sends no credentials at all.
		// (FromToken cannot fail for a non-Bearer challenge.)
		data.Anonymous, data.Source = true, ""
		data.rt, _ = transport.FromToken(reg, authn.Anonymous, rt, ch, &transport.Token{})
		detail := "anonymous access: GET /v2/ answered 200 without credentials"
		if have {
			detail += fmt.Sprintf("; the credential from %s is not needed", src)
		}
		return pass(data, "%s", detail)

	case "basic":
		realm := fmt.Sprintf("Basic realm %q", data.Realm)
		if !have {
			base.Cause, base.Status = CauseMissingCredentials, http.StatusUnauthorized
			return failed(base, missingCredentialsHint(key),
				"GET /v2/ answered 401 %s and no credentials were resolved for %q: the daemon fails with \"no basic auth credentials\"", realm, key)
		}
		data.rt, _ = transport.FromToken(reg, auth, rt, ch, &transport.Token{})
		// The manifest checks start on this transport now: the daemon
		// sends the credential with its first manifest request, and so
		// do they. Their results stand only if this check passes: when
		// one of their requests is answered 2xx, that is the evidence;
		// otherwise GET /v2/ with the credential tells a rejected
		// credential from a missing image or a denied repository.
		provided := data
		provided.secrets = &secretSet{values: slices.Clone(*secrets)}
		probe.Provide(ctx, provided)
		if a := h.witness.wait(ctx); a != nil {
			return pass(data, "credentials accepted (from %s): %s %s with %s → %d", src, a.method, a.path, realm, a.status)
		}
		status, err := authedGetV2(ctx, data.rt, conn)
		switch {
		case err != nil:
			return h.requestFailed(err, rec, base, conn, "authenticated GET /v2/")
		case status == http.StatusOK:
			return pass(data, "credentials accepted (from %s): GET /v2/ with %s → 200", src, realm)
		case status == http.StatusUnauthorized:
			a := recordedAnswer(rec, status)
			base.Cause, base.Status, base.Codes = CauseAuthRejected, status, a.codes
			return failed(base, rejectedHint(src),
				"credentials from %s rejected: GET /v2/ with %s answered %s", src, realm, a.text())
		default:
			a := recordedAnswer(rec, status)
			cause, detail, hint := serverFailure(a, "authenticated GET /v2/", h.host)
			base.Cause, base.Status = cause, status
			return failed(base, hint, "%s", detail)
		}

	case "bearer":
		scopes := make([]string, 0, len(h.repos))
		for _, r := range h.repos {
			scopes = append(scopes, fmt.Sprintf("repository:%s:pull", r))
		}
		// go-containerregistry does the exchange, except for realms its
		// SSRF guard refuses and dockerd follows (see ggcrAcceptsRealm).
		viaGGCR := ggcrAcceptsRealm(data.Realm, reg.RegistryStr(), ch.Insecure)
		var tok *transport.Token
		if viaGGCR {
			tok, err = transport.Exchange(ctx, reg, auth, rt, scopes, ch)
		} else {
			tok, err = exchangeToken(ctx, rt, data.Realm, data.Service, scopes, cred, have)
		}
		if err != nil {
			return h.tokenFailed(err, rec, base, conn, data, have, src, key)
		}
		if tok.Token == "" {
			tok.Token = tok.AccessToken
		}
		*secrets = append(*secrets, tok.Token, tok.AccessToken, tok.RefreshToken)
		if tok.Token == "" {
			base.Cause = CauseTokenRejected
			return failed(base, rejectedHint(src), "the token server %s did not include a token in its response", data.Realm)
		}
		if viaGGCR {
			data.rt, err = transport.FromToken(reg, auth, rt, ch, tok)
		} else {
			data.rt, err = fixedTokenTransport(reg, rt, tok.Token)
		}
		if err != nil {
			return probe.Failf("", "using the token from %s: %v", data.Realm, err)
		}
		scope := strings.Join(scopes, " ")
		if scope == "" {
			scope = "no repository scope"
		}
		if !have {
			return pass(data, "no credentials for %q: anonymous token issued by %s for %s (private repositories will be denied)", key, data.Realm, scope)
		}
		return pass(data, "credentials accepted (from %s): token issued by %s for %s", src, data.Realm, scope)

	default:
		return failed(base, "the daemon only answers Basic and Bearer challenges", "GET /v2/ answered 401 with an unsupported challenge %q", ch.Scheme)
	}
}

// tokenFailed explains a failed token request: refused credentials,
// refused anonymous access, or a token server that cannot be reached.
func (h hostProbe) tokenFailed(err error, rec *recorder, base Failure, conn Connection, data Auth, have bool, src, key string) probe.Result {
	what := fmt.Sprintf("the token server %s (service %q)", data.Realm, data.Service)
	a, answered := answerOf(err, rec)
	if !answered {
		if u, perr := url.Parse(data.Realm); perr == nil && u.Host != "" {
			certs, _ := readCertsDir(h.opts.certsDir(), conn.Endpoint)
			f := classifyNetErr(err, u.Host, certs)
			if f.cause != "" {
				base.Cause = f.cause
				return failed(base, f.hint, "%s: %s", what, f.detail)
			}
		}
		return failed(base, "", "%s: %v", what, err)
	}
	base.Status, base.Codes = a.status, a.codes
	if a.status == http.StatusUnauthorized || a.status == http.StatusForbidden {
		if !have {
			base.Cause = CauseMissingCredentials
			return failed(base, missingCredentialsHint(key), "%s refused an anonymous token: %s; no credentials were resolved for %q", what, a.text(), key)
		}
		base.Cause = CauseTokenRejected
		return failed(base, rejectedHint(src), "credentials from %s rejected by %s: %s", src, what, a.text())
	}
	cause, detail, hint := serverFailure(a, what, h.host)
	base.Cause, base.RetryAfter = cause, a.retryAfter
	return failed(base, hint, "%s", detail)
}

// requestFailed explains a request to the registry itself that failed.
func (h hostProbe) requestFailed(err error, rec *recorder, base Failure, conn Connection, what string) probe.Result {
	if a, ok := answerOf(err, rec); ok {
		cause, detail, hint := serverFailure(a, what, h.host)
		base.Cause, base.Status, base.Codes, base.RetryAfter = cause, a.status, a.codes, a.retryAfter
		return failed(base, hint, "%s", detail)
	}
	certs, _ := readCertsDir(h.opts.certsDir(), conn.Endpoint)
	f := classifyNetErr(err, h.host, certs)
	base.Cause = f.cause
	return failed(base, f.hint, "%s: %s", what, f.detail)
}

// authedGetV2 is GET /v2/ through the authenticated transport.
func authedGetV2(ctx context.Context, rt http.RoundTripper, conn Connection) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, conn.Scheme+"://"+conn.Endpoint+"/v2/", nil)
	if err != nil {
		return 0, fmt.Errorf("building GET /v2/ request: %w", err)
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return 0, err
	}
	// Read to the end so the connection is reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// pingChallenge reads the registry's /v2/ challenge. The tls check has
// already sent the anonymous GET /v2/ that go-containerregistry's Ping
// sends, so its answer is replayed to Ping (which parses the challenge)
// instead of asking the registry again.
func pingChallenge(ctx context.Context, reg name.Registry, conn Connection) (*transport.Challenge, error) {
	if conn.ping.status != 0 {
		conn.rt = replayV2{answer: conn.ping, inner: conn.rt}
	}
	return transport.Ping(ctx, reg, conn.transport())
}

// replayV2 answers an anonymous GET /v2/ with the recorded answer.
type replayV2 struct {
	answer v2Answer
	inner  http.RoundTripper
}

func (t replayV2) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || req.URL.Path != "/v2/" || req.Header.Get("Authorization") != "" {
		return t.inner.RoundTrip(req)
	}
	resp := cachedAnswer{status: t.answer.status, header: t.answer.header, body: t.answer.body}.response(req)
	resp.TLS = t.answer.tls
	return resp, nil
}

// registryName is the go-containerregistry name of the endpoint, insecure
// (http) when the tls check settled on plain HTTP.
func registryName(conn Connection) (name.Registry, error) {
	var opts []name.Option
	if conn.Scheme == "http" {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(conn.Endpoint, opts...)
	if err != nil {
		return name.Registry{}, fmt.Errorf("registry name %q: %w", conn.Endpoint, err)
	}
	return reg, nil
}

func pass(data Auth, format string, args ...any) probe.Result {
	r := probe.Passf(format, args...)
	r.Data = data
	return r
}

func challengeName(scheme string) string {
	switch strings.ToLower(scheme) {
	case "basic":
		return "Basic"
	case "bearer":
		return "Bearer"
	}
	return scheme
}

func sourceName(c Credential) string {
	if c.Source == "" {
		return "the resolved credential"
	}
	return c.Source
}

func missingCredentialsHint(key string) string {
	return fmt.Sprintf(`add credentials under the key %q (exactly that key) where the runner reads them: DOCKER_AUTH_CONFIG {"auths":{%q:{"auth":"<printf '%%s:%%s' USER TOKEN | base64 -w0>"}}} (a CI/CD variable or [[runners]] environment), or the runner user's ~/.docker/config.json`, key, key)
}

func rejectedHint(src string) string {
	return fmt.Sprintf("correct or rotate the secret in %s (a base64 auth value made with echo instead of printf ends in a newline); use a token with pull rights (GitLab: read_registry; Docker Hub: an access token); a higher-precedence source may be shadowing the right one", src)
}
