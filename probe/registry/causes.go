package registry

import (
	"fmt"
	"strings"

	"github.com/runnerup/runnerup/probe"
)

// Cause ids from docs/pull-failures.md that these checks emit.
const (
	CauseDNS                = "dns-no-such-host"
	CauseConnectionRefused  = "connection-refused"
	CauseNetworkTimeout     = "network-timeout"
	CauseProxyWrong         = "daemon-proxy-wrong"
	CausePlainHTTP          = "registry-plain-http"
	CauseTLSUnknownCA       = "tls-unknown-ca"
	CauseTLSHostname        = "tls-hostname-mismatch"
	CauseTLSExpired         = "tls-cert-expired"
	CauseTLSClientCert      = "tls-client-cert-required"
	CauseMissingCredentials = "auth-missing-credentials"
	CauseAuthRejected       = "auth-rejected"
	CauseTokenRejected      = "token-auth-rejected"
	CauseAccessDenied       = "access-denied"
	CauseRateLimited        = "rate-limited"
	CauseTagNotFound        = "tag-not-found"
	CauseRepoNotFound       = "repository-not-found"
	CausePlatformMissing    = "platform-missing"
	CauseWrongSingleArch    = "platform-wrong-single-arch"
	CauseUnsupportedMedia   = "unsupported-media-type"
	CauseSchema1            = "schema1-removed"
	CauseServerError        = "registry-server-error"
	CauseInvalidReference   = "invalid-reference"
)

// Failure is the Data of every failed (and cause-carrying warned) result:
// the cause id plus the evidence diagnose shows. It never holds a secret.
type Failure struct {
	// Cause is a cause id from docs/pull-failures.md ("" when the
	// error fits none of them).
	Cause string
	// Host is the registry host (NormalizeHost form); Ref the image, if any.
	Host, Ref string
	// Status and Codes are the registry's HTTP status and errcode codes
	// ("MANIFEST_UNKNOWN", …) when it answered.
	Status int
	Codes  []string
	// RetryAfter is the Retry-After header of a 429/503.
	RetryAfter string
	// RateLimit holds Docker Hub's rate-limit headers when any answer had them.
	RateLimit RateLimit
	// CredentialSource is where the credential used came from ("" anonymous).
	CredentialSource string
	// Suggestions are nearby tags (tag-not-found) or the platforms an index
	// offers (platform-missing).
	Suggestions []string
}

// Cause returns the cause id recorded for a failed or warned result, or ""
// for passing results and failures that fit no catalogued cause.
func Cause(r probe.Result) string {
	if r.Status != probe.Fail && r.Status != probe.Warn {
		return ""
	}
	switch f := r.Data.(type) {
	case Failure:
		return f.Cause
	case *Failure:
		if f != nil {
			return f.Cause
		}
	}
	return ""
}

// RateLimit is Docker Hub's pull quota as its headers state it, raw
// ("100;w=21600"); empty fields mean the header was absent.
type RateLimit struct {
	Limit, Remaining, Source string
}

func (rl RateLimit) empty() bool { return rl.Limit == "" && rl.Remaining == "" }

func (rl RateLimit) String() string {
	if rl.empty() {
		return ""
	}
	s := fmt.Sprintf("rate limit: %s remaining of %s", orDash(rl.Remaining), orDash(rl.Limit))
	if rl.Source != "" {
		s += " (counted for " + rl.Source + ")"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// failed builds a failing result carrying f.
func failed(f Failure, hint, format string, args ...any) probe.Result {
	r := probe.Failf(hint, format, args...)
	r.Data = f
	return r
}

// warned builds a warning result carrying f.
func warned(f Failure, hint, format string, args ...any) probe.Result {
	r := probe.Warnf(hint, format, args...)
	r.Data = f
	return r
}

// scrub replaces every secret in a result's texts with ***: a last line of
// defence, since registry and token-server bodies are quoted in details and
// could echo what they were sent.
func scrub(r probe.Result, secrets ...string) probe.Result {
	for _, s := range secrets {
		if len(s) < 4 {
			continue // too short to replace without garbling ordinary text
		}
		r.Detail = strings.ReplaceAll(r.Detail, s, "***")
		r.Hint = strings.ReplaceAll(r.Hint, s, "***")
	}
	return r
}

// joinDetail joins non-empty parts with "; ".
func joinDetail(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}
