package wizard

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
)

// [gitlab.create] against a plain-http GitLab on loopback, with a transport
// that sends requests through a proxy (HTTP_PROXY): the API token would
// reach the proxy in clear, so apply refuses before any call (exit 2).
func TestCreateRefusesAPITokenThroughHTTPProxy(t *testing.T) {
	gl := fakegitlab.New(t)
	trap, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer trap.Close()
	var conns atomic.Int64
	go func() {
		for {
			c, err := trap.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			_ = c.Close()
		}
	}()
	proxy, _ := url.Parse("http://" + trap.Addr().String())

	s := newStageSetup(t, "", strings.Replace(createAnswersFor("new", "[runner]\nexecutor = \"shell\"\n"), "https://gitlab.example.com", gl.URL, 1))
	s.opts.NewGitLab = nil
	s.opts.HTTPClient = &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}}
	_, err = Apply(context.Background(), s.p, s.opts)
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "gitlab.create.api_token") || !strings.Contains(err.Error(), "proxy") {
		t.Fatalf("Apply = %v, want a validation error about the proxy", err)
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("the proxy got %d connection(s)", n)
	}
	if n := len(gl.Requests()); n != 0 {
		t.Errorf("GitLab got %d request(s)", n)
	}
	if strings.Contains(err.Error(), "glpat-PLANPLANPLANPLAN") {
		t.Errorf("the error shows the API token: %v", err)
	}
}
