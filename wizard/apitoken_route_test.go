package wizard

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
	"github.com/runnerup/runnerup/internal/testenv"
)

// [gitlab.create] against a plain-http GitLab on loopback, with a transport
// that sends requests through a proxy (HTTP_PROXY): the API token would
// reach the proxy in clear, so apply refuses before any call (exit 2).
func TestCreateRefusesAPITokenThroughHTTPProxy(t *testing.T) {
	gl := fakegitlab.New(t)
	trap, conns := testenv.Trap(t)
	proxy, _ := url.Parse("http://" + trap)

	s := newStageSetup(t, "", strings.Replace(createAnswersFor("new", "[runner]\nexecutor = \"shell\"\n"), "https://gitlab.example.com", gl.URL, 1))
	s.opts.NewGitLab = nil
	s.opts.HTTPClient = &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}}
	_, err := Apply(context.Background(), s.p, s.opts)
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "gitlab.create.api_token") || !strings.Contains(err.Error(), "proxy") {
		t.Fatalf("Apply = %v, want a validation error about the proxy", err)
	}
	if n := conns(); n != 0 {
		t.Errorf("the proxy got %d connection(s)", n)
	}
	if n := len(gl.Requests()); n != 0 {
		t.Errorf("GitLab got %d request(s)", n)
	}
	if strings.Contains(err.Error(), "glpat-PLANPLANPLANPLAN") {
		t.Errorf("the error shows the API token: %v", err)
	}
}
