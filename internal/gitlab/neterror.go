package gitlab

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/runnerup/runnerup/internal/secret"
)

// Sentinels for transport failures, matched with errors.Is on a *NetError.
// The three certificate errors also match ErrTLS.
var (
	ErrTLS               = errors.New("tls handshake failed")
	ErrTLSUnknownCA      = fmt.Errorf("%w: certificate signed by unknown authority", ErrTLS)
	ErrTLSHostname       = fmt.Errorf("%w: certificate is not valid for this host name", ErrTLS)
	ErrTLSExpired        = fmt.Errorf("%w: certificate has expired or is not yet valid", ErrTLS)
	ErrDNS               = errors.New("host name does not resolve")
	ErrConnRefused       = errors.New("connection refused")
	ErrTimeout           = errors.New("timed out")
	ErrCrossHostRedirect = errors.New("redirect to another host or to plain http refused")
	// ErrPostRedirect: a 301/302/303 would turn the POST into a GET and drop
	// its body, so GitLab would never see the token; the fix is the final URL.
	ErrPostRedirect = errors.New("redirect of a post request refused")
)

// NetError is a request that got no HTTP answer.
type NetError struct {
	Endpoint string // "POST /api/v4/runners/verify"
	URL      string // the request URL, without credentials or query
	// Reason is one of the sentinels above, or nil when the failure is not
	// one runnerup names.
	Reason error
	Err    error
	msg    string
}

var _ error = (*NetError)(nil)

func (e *NetError) Error() string { return e.msg }

// Unwrap exposes both the named reason and the underlying error, so
// errors.Is(err, ErrTimeout) and errors.As(err, &x509.HostnameError{}) both work.
func (e *NetError) Unwrap() []error {
	if e.Reason == nil {
		return []error{e.Err}
	}
	return []error{e.Reason, e.Err}
}

func newNetError(endpoint string, u *url.URL, err error, token string) *NetError {
	inner := err
	// *url.Error carries the URL of the last request, which after a redirect
	// is the server's Location and may hold anything: keep a redacted copy.
	var ue *url.Error
	if errors.As(err, &ue) {
		inner = ue.Err
		if err == error(ue) {
			redacted := *ue
			if lu, perr := url.Parse(ue.URL); perr == nil {
				redacted.URL = secret.RedactParsedURL(lu)
			} else {
				redacted.URL = secret.RedactParsedURL(u)
			}
			err = &redacted
		}
	}
	reason := netReason(err)
	method, _, _ := strings.Cut(endpoint, " ")
	msg := method + " " + secret.RedactParsedURL(u) + ": "
	if reason != nil && !strings.Contains(inner.Error(), reason.Error()) {
		msg += reason.Error() + ": "
	}
	msg += inner.Error()
	return &NetError{
		Endpoint: endpoint,
		URL:      secret.RedactParsedURL(u),
		Reason:   reason,
		Err:      err,
		msg:      scrub(msg, token),
	}
}

func netReason(err error) error {
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		dnsErr    *net.DNSError
		netErr    net.Error
		recordErr tls.RecordHeaderError
		alertErr  tls.AlertError
		verifyErr *tls.CertificateVerificationError
	)
	switch {
	case errors.Is(err, ErrCrossHostRedirect):
		return ErrCrossHostRedirect
	case errors.Is(err, ErrPostRedirect):
		return ErrPostRedirect
	case errors.As(err, &unknownCA):
		return ErrTLSUnknownCA
	case errors.As(err, &hostname):
		return ErrTLSHostname
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return ErrTLSExpired
	case errors.Is(err, context.DeadlineExceeded):
		return ErrTimeout
	case errors.As(err, &dnsErr):
		if dnsErr.IsTimeout {
			return ErrTimeout
		}
		return ErrDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrConnRefused
	case errors.As(err, &netErr) && netErr.Timeout():
		return ErrTimeout
	case errors.As(err, &recordErr), errors.As(err, &alertErr), errors.As(err, &verifyErr), errors.As(err, &invalid):
		return ErrTLS
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		// net/http replaces the tls.RecordHeaderError with this plain error.
		return ErrTLS
	}
	return nil
}
