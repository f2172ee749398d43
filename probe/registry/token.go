package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// ggcrAcceptsRealm mirrors go-containerregistry's validateRealmURL
// (v0.22.1, transport/bearer.go): an https realm (http only for an
// insecure registry), on the registry's own host:port or on anything but a
// loopback, private or link-local IP literal. That SSRF guard refuses
// realms dockerd follows without complaint, e.g. a self-hosted GitLab at
// https://10.0.0.5/jwt/auth for the registry 10.0.0.5:5050; for those the
// token request is made here instead (exchangeToken).
func ggcrAcceptsRealm(realm, registryHost string, insecure bool) bool {
	u, err := url.Parse(realm)
	if err != nil {
		return true // let go-containerregistry report the parse error
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !insecure {
			return false
		}
	default:
		return true // refused by the daemon too; go-containerregistry explains
	}
	if u.Host == registryHost {
		return true
	}
	host, _, _ := strings.Cut(u.Hostname(), "%")
	a, err := netip.ParseAddr(host)
	if err != nil {
		var ok bool
		if a, ok = inetAton(host); !ok {
			return true // a DNS name
		}
	}
	a = a.Unmap()
	return !(a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsUnspecified())
}

// inetAton reads the old IPv4 spellings the Go dialer still connects to,
// and which go-containerregistry's guard therefore reads too: "127.1",
// "10.0.1", "0x0a000001", "167772161", octets with a leading 0 (octal).
// Up to four dot-separated numbers (Go literal syntax, strconv base 0);
// the last one fills the bytes left.
func inetAton(host string) (netip.Addr, bool) {
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var ip [4]byte
	for i, p := range parts[:len(parts)-1] {
		n, err := strconv.ParseUint(p, 0, 8)
		if err != nil {
			return netip.Addr{}, false
		}
		ip[i] = byte(n)
	}
	restBytes := 4 - (len(parts) - 1)
	n, err := strconv.ParseUint(parts[len(parts)-1], 0, 8*restBytes)
	if err != nil {
		return netip.Addr{}, false
	}
	for i := 3; i >= len(parts)-1; i-- {
		ip[i] = byte(n)
		n >>= 8
	}
	return netip.AddrFrom4(ip), true
}

// exchangeToken is the token request of the distribution token spec, as
// dockerd sends it (GET realm?service=…&scope=…&account=USER with Basic
// auth; a POST refresh_token grant for an identity token), for realms
// go-containerregistry refuses. Errors from the realm are *transport.Error,
// like go-containerregistry's, so they are classified the same way.
func exchangeToken(ctx context.Context, rt http.RoundTripper, realm, service string, scopes []string, cred Credential, have bool) (*transport.Token, error) {
	u, err := url.Parse(realm)
	if err != nil {
		return nil, fmt.Errorf("parsing realm %q: %w", realm, err)
	}
	q := u.Query()
	if service != "" {
		q.Set("service", service)
	}
	var req *http.Request
	if have && cred.IdentityToken != "" {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {cred.IdentityToken}, "client_id": {userAgent}}
		if service != "" {
			form.Set("service", service)
		}
		if len(scopes) > 0 {
			form.Set("scope", strings.Join(scopes, " "))
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		q["scope"] = scopes
		if have && cred.Username != "" {
			q.Set("account", cred.Username)
		}
		u.RawQuery = q.Encode()
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err == nil && have && cred.Username != "" {
			req.SetBasicAuth(cred.Username, cred.Password)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("building token request: %w", err)
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return nil, err
	}
	var tok transport.Token
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("reading token response: %w", err)
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		return nil, fmt.Errorf("parsing token response: %w", err)
	}
	return &tok, nil
}

// fixedTokenTransport authenticates every request to the registry with one
// bearer token. go-containerregistry's Basic transport sends
// "Authorization: Bearer" when the AuthConfig carries a RegistryToken,
// without validating any realm; the token's scope covers every repository
// HostChecks was given, so no refresh is needed.
func fixedTokenTransport(reg name.Registry, rt http.RoundTripper, tok string) (http.RoundTripper, error) {
	return transport.FromToken(reg, authn.FromConfig(authn.AuthConfig{RegistryToken: tok}), rt, &transport.Challenge{Scheme: "basic"}, nil)
}
