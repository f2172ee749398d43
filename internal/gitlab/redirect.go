package gitlab

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/runnerup/runnerup/internal/secret"
)

const maxRedirects = 10

// checkRedirect keeps the token body with the origin it was meant for. On a
// 307/308 net/http re-sends a POST body to the Location, so any redirect to
// another host, another port, or from https down to http is refused before
// the request is made. A same-host http→https upgrade is allowed.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	first := via[0]
	if !sameOrigin(first.URL, req.URL) {
		return fmt.Errorf("%w: %s to %s", ErrCrossHostRedirect, secret.RedactParsedURL(first.URL), secret.RedactParsedURL(req.URL))
	}
	if first.Method == http.MethodPost && req.Method != http.MethodPost {
		return fmt.Errorf("%w: the server redirects %s to %s; use that url", ErrPostRedirect,
			secret.RedactParsedURL(first.URL), secret.RedactParsedURL(req.URL))
	}
	return nil
}

func sameOrigin(from, to *url.URL) bool {
	if !strings.EqualFold(from.Hostname(), to.Hostname()) {
		return false
	}
	if from.Scheme == "https" && to.Scheme != "https" {
		return false
	}
	fp, tp := effectivePort(from), effectivePort(to)
	if fp == tp {
		return true
	}
	// http://h → https://h changes the port only implicitly.
	return from.Scheme == "http" && to.Scheme == "https" && from.Port() == "" && to.Port() == ""
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}
