// Package fakegitlab is an httptest GitLab that answers the runner endpoints
// (POST /api/v4/runners/verify, POST /api/v4/runners, POST
// /api/v4/jobs/request, GET /api/v4/version) and GET
// /api/v4/runners/:id/managers with the statuses and bodies GitLab Rails
// sends (lib/api/ci/runner.rb, lib/api/ci/runners.rb).
// GitLab itself cannot run in tests; everything else in runnerup's tests is real.
package fakegitlab

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// Version is what GET /api/v4/version reports to an authenticated caller.
const Version = "17.11.0"

// Request is one request the server received. Body holds the decoded JSON,
// tokens included: this is a test fake.
type Request struct {
	Method string
	Path   string
	// EscapedPath is Path as sent (projects/group%2Fapp), Query its query.
	EscapedPath string
	Query       string
	Body        map[string]any
	Header      http.Header
}

// Server is a fake GitLab. Zero value is not usable; use New or NewTLS.
type Server struct {
	URL    string
	CAFile string // PEM of the TLS server's certificate; empty for New

	srv *httptest.Server

	mu        sync.Mutex
	runners   map[string]*runner // by authentication token
	regTokens map[string]bool
	apiTokens map[string]*apiToken
	users     []*User
	projects  []*Project
	groups    []*Group
	// deletedRunners keeps what DELETE /runners/:id removed, for tests.
	deletedRunners []*runner
	regDisabled    bool
	expiry         time.Duration
	nextID         int64
	nextManagerID  int64
	now            func() time.Time
	requests       []Request
	overrides      map[string]http.HandlerFunc
	overrideMux    *http.ServeMux
}

type runner struct {
	id        int64
	expiresAt time.Time
	managers  []*Manager // first seen first
	// What POST /user/runners and PUT /runners/:id keep; runners added
	// with AddRunner or registered are instance runners only an
	// administrator manages.
	settings   RunnerSettings
	runnerType string
	projectID  int64
	groupID    int64
	deleted    bool
}

// New starts a plain-HTTP fake; t.Cleanup closes it.
func New(t testing.TB) *Server {
	t.Helper()
	s := newServer()
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// NewTLS starts an HTTPS fake with httptest's self-signed certificate (valid
// for 127.0.0.1, ::1 and example.com) and writes it to CAFile.
func NewTLS(t testing.TB) *Server {
	t.Helper()
	s := newServer()
	s.srv = httptest.NewUnstartedServer(s)
	// Tests provoke handshake failures on purpose; keep them out of the log.
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.StartTLS()
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	s.CAFile = filepath.Join(t.TempDir(), "gitlab-ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
	if err := os.WriteFile(s.CAFile, block, 0o600); err != nil {
		t.Fatalf("writing fake gitlab ca file: %v", err)
	}
	return s
}

func newServer() *Server {
	return &Server{
		runners:   map[string]*runner{},
		regTokens: map[string]bool{},
		apiTokens: map[string]*apiToken{},
		nextID:    1000,
		now:       time.Now,
		overrides: map[string]http.HandlerFunc{},
	}
}

// Certificate is the TLS server's certificate (nil for New).
func (s *Server) Certificate() *x509.Certificate { return s.srv.Certificate() }

// Client is an *http.Client that trusts the server (httptest's Client).
func (s *Server) Client() *http.Client { return s.srv.Client() }

// AddRunner makes token a valid runner authentication token for runner id.
func (s *Server) AddRunner(token string, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runners[token] = &runner{id: id, expiresAt: s.expiresAt()}
}

// AddRegistrationToken makes token a valid legacy registration token.
func (s *Server) AddRegistrationToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.regTokens[token] = true
}

// DisableRegistrationTokens makes POST /api/v4/runners answer 410, as GitLab
// 17.0+ does when an administrator turns legacy registration off.
func (s *Server) DisableRegistrationTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.regDisabled = true
}

// SetTokenExpiry makes runner tokens expire d from now (existing ones
// included); 0 means they never expire (token_expires_at: null).
func (s *Server) SetTokenExpiry(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expiry = d
	for _, r := range s.runners {
		r.expiresAt = s.expiresAt()
	}
}

func (s *Server) expiresAt() time.Time {
	if s.expiry <= 0 {
		return time.Time{}
	}
	return s.now().Add(s.expiry).UTC().Truncate(time.Millisecond)
}

// SetNow replaces the fake's clock (time.Now by default), which stamps
// token expiry and runner managers' created_at and contacted_at. nil
// restores time.Now.
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now == nil {
		now = time.Now
	}
	s.now = now
}

// AddAPIToken makes token a valid personal access token with the api
// scope of an administrator ("root"), who can see and manage every runner;
// use AddUserToken for a token with other scopes or role.
func (s *Server) AddAPIToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked("root")
	if u == nil {
		u = s.addUserLocked("root", true)
	}
	s.apiTokens[token] = &apiToken{user: u, scopes: []string{"api"}, name: "runnerup-test"}
}

// Requests returns a copy of every request received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Managers returns the system ids verify and job requests have recorded for
// token ("<legacy>" when one had no system_id), as GitLab's runner managers.
func (s *Server) Managers(token string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.runners[token]
	if r == nil {
		return nil
	}
	ids := make([]string, 0, len(r.managers))
	for _, m := range r.managers {
		ids = append(ids, m.SystemID)
	}
	return ids
}

// RunnerManagers returns copies of the runner managers recorded for token,
// first seen first, with Status computed at the fake's now.
func (s *Server) RunnerManagers(token string) []Manager {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.runners[token]
	if r == nil {
		return nil
	}
	return s.snapshot(r.managers)
}

// Contact does what a runner's job request (POST /api/v4/jobs/request) does
// to the manager for (token, systemID), without HTTP: it creates the manager
// if needed and sets its ContactedAt to the fake's now, as when the runner
// service picks up config.toml and starts polling. It reports whether token
// is a known runner token.
func (s *Server) Contact(token, systemID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.runners[token]
	if r == nil {
		return false
	}
	s.heartbeat(r, systemID, "", nil)
	return true
}

// Handle overrides the fake's answer for requests matching pattern
// (net/http ServeMux syntax, e.g. "POST /api/v4/runners/verify"). Requests
// are still recorded. Handling the same pattern again replaces the handler.
func (s *Server) Handle(pattern string, h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.overrides[pattern] = h
	mux := http.NewServeMux() // ServeMux panics on re-registration: rebuild
	for p, fn := range s.overrides {
		mux.Handle(p, fn)
	}
	s.overrideMux = mux
}

// ServeHTTP records the request, then dispatches to an override or the
// built-in endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(bytes.NewReader(raw))
	var body map[string]any
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &body) // non-JSON bodies are recorded as nil
	}

	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, EscapedPath: r.URL.EscapedPath(), Query: r.URL.RawQuery, Body: body, Header: r.Header.Clone()})
	mux := s.overrideMux
	s.mu.Unlock()

	if mux != nil {
		if h, pattern := mux.Handler(r); pattern != "" {
			h.ServeHTTP(w, r)
			return
		}
	}
	s.route(w, r, body)
}
