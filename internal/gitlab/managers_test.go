package gitlab_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runnerup/runnerup/internal/gitlab"
	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
)

// apiToken is a personal access token; every error is scanned for it too.
const apiToken = "glpat-SECRETapiTOKEN0123456789"

const (
	sysID      = "s_ee3af03959fe"
	otherSysID = "s_0123456789ab"
)

func TestManagers(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(*fakegitlab.Server)
		subPath    string
		token      string // "" means apiToken
		runnerID   int64
		wantIDs    []string // system ids, in order
		wantErr    error
		wantStatus int
		wantMsg    string
	}{
		{
			name: "200 lists verify and job-request managers",
			setup: func(s *fakegitlab.Server) {
				s.AddRunner(runnerToken, 42)
				s.AddAPIToken(apiToken)
				verify(t, s, sysID)
				s.Contact(runnerToken, otherSysID)
			},
			runnerID: 42,
			wantIDs:  []string{sysID, otherSysID},
		},
		{
			name: "200 runner without managers",
			setup: func(s *fakegitlab.Server) {
				s.AddRunner(runnerToken, 42)
				s.AddAPIToken(apiToken)
			},
			runnerID: 42,
			wantIDs:  []string{},
		},
		{
			name:       "401 unknown api token",
			setup:      func(s *fakegitlab.Server) { s.AddRunner(runnerToken, 42) },
			runnerID:   42,
			wantErr:    gitlab.ErrAPITokenInvalid,
			wantStatus: 401,
			wantMsg:    "401 Unauthorized",
		},
		{
			name: "401 echoing the token is scrubbed",
			setup: func(s *fakegitlab.Server) {
				s.Handle("GET /api/v4/runners/42/managers", jsonHandler(401, `{"message":"token `+apiToken+` revoked"}`))
			},
			runnerID:   42,
			wantErr:    gitlab.ErrAPITokenInvalid,
			wantStatus: 401,
			wantMsg:    "token [REDACTED] revoked",
		},
		{
			name: "403 user cannot see the runner",
			setup: func(s *fakegitlab.Server) {
				s.Handle("GET /api/v4/runners/42/managers", jsonHandler(403, `{"message":"403 Forbidden - No access granted"}`))
			},
			runnerID:   42,
			wantErr:    gitlab.ErrAPIForbidden,
			wantStatus: 403,
			wantMsg:    "403 Forbidden - No access granted",
		},
		{
			name:       "404 unknown runner",
			setup:      func(s *fakegitlab.Server) { s.AddAPIToken(apiToken) },
			runnerID:   43,
			wantErr:    gitlab.ErrRunnerNotFound,
			wantStatus: 404,
			wantMsg:    "404 Runner Not Found",
		},
		{
			name:       "404 html: wrong sub-path",
			setup:      func(s *fakegitlab.Server) { s.AddAPIToken(apiToken) },
			subPath:    "/not-gitlab",
			runnerID:   42,
			wantErr:    gitlab.ErrNotGitLab,
			wantStatus: 404,
		},
		{
			name: "429",
			setup: func(s *fakegitlab.Server) {
				s.Handle("GET /api/v4/runners/42/managers", jsonHandler(429, `{"message":"429 Too Many Requests"}`))
			},
			runnerID:   42,
			wantErr:    gitlab.ErrRateLimited,
			wantStatus: 429,
		},
		{
			name: "502 html from a proxy",
			setup: func(s *fakegitlab.Server) {
				s.Handle("GET /api/v4/runners/42/managers", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/html")
					w.WriteHeader(502)
				})
			},
			runnerID:   42,
			wantErr:    gitlab.ErrServer,
			wantStatus: 502,
		},
		{
			name: "200 html login page",
			setup: func(s *fakegitlab.Server) {
				s.Handle("GET /api/v4/runners/42/managers", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/html")
					_, _ = w.Write([]byte("<html>Sign in</html>"))
				})
			},
			runnerID:   42,
			wantErr:    gitlab.ErrNotGitLab,
			wantStatus: 200,
			wantMsg:    "non-json response (text/html)",
		},
		{
			name: "200 object instead of a list",
			setup: func(s *fakegitlab.Server) {
				s.Handle("GET /api/v4/runners/42/managers", jsonHandler(200, `{"id":1}`))
			},
			runnerID:   42,
			wantErr:    gitlab.ErrNotGitLab,
			wantStatus: 200,
		},
		{
			name: "200 body beyond the 64 KiB cap",
			setup: func(s *fakegitlab.Server) {
				one := `{"id":1,"system_id":"s_` + strings.Repeat("x", 200) + `"},`
				s.Handle("GET /api/v4/runners/42/managers",
					jsonHandler(200, "["+strings.Repeat(one, 400)+`{"id":2,"system_id":"s_y"}]`))
			},
			runnerID:   42,
			wantErr:    gitlab.ErrNotGitLab,
			wantStatus: 200,
			wantMsg:    "response is larger than the 64 KiB limit",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := fakegitlab.New(t)
			if tt.setup != nil {
				tt.setup(fake)
			}
			before := len(fake.Requests())
			c := newClient(t, fake.URL+tt.subPath, gitlab.Options{})
			tok := tt.token
			if tok == "" {
				tok = apiToken
			}
			got, err := c.Managers(context.Background(), tok, tt.runnerID)
			assertNoSecret(t, err, apiToken)

			reqs := fake.Requests()[before:]
			if len(reqs) != 1 {
				t.Fatalf("got %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != "GET" || r.Body != nil || r.Header.Get("PRIVATE-TOKEN") != apiToken || r.Header.Get("Accept") != "application/json" {
				t.Errorf("request = %s %s body %v headers %v, want a GET with PRIVATE-TOKEN and no body", r.Method, r.Path, r.Body, r.Header)
			}

			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Managers() err = %v, want %v", err, tt.wantErr)
				}
				ae := apiErr(t, err)
				if ae.Status != tt.wantStatus {
					t.Errorf("Status = %d, want %d", ae.Status, tt.wantStatus)
				}
				if tt.wantMsg != "" && ae.Message != tt.wantMsg {
					t.Errorf("Message = %q, want %q", ae.Message, tt.wantMsg)
				}
				if ae.Endpoint != "GET /api/v4/runners/42/managers" && ae.Endpoint != "GET /api/v4/runners/43/managers" {
					t.Errorf("Endpoint = %q", ae.Endpoint)
				}
				return
			}
			if err != nil {
				t.Fatalf("Managers() = %v", err)
			}
			if got == nil {
				t.Fatalf("Managers() = nil, want a non-nil list")
			}
			var ids []string
			for _, m := range got {
				ids = append(ids, m.SystemID)
			}
			if strings.Join(ids, ",") != strings.Join(tt.wantIDs, ",") {
				t.Fatalf("system ids = %v, want %v", ids, tt.wantIDs)
			}
			for _, m := range got {
				if m.ID == 0 || m.CreatedAt == nil || m.ContactedAt == nil || m.Status != "online" || m.IPAddress == "" && m.SystemID == sysID {
					t.Errorf("manager = %+v, want id, created_at, contacted_at, online (and an ip after verify)", m)
				}
				if m.ContactedAt != nil && time.Since(*m.ContactedAt) > time.Minute {
					t.Errorf("ContactedAt = %v, want about now", m.ContactedAt)
				}
			}
		})
	}
}

// Every documented field decodes; null strings and times stay empty.
func TestManagersDecodesGitLabExample(t *testing.T) {
	fake := fakegitlab.New(t)
	fake.Handle("GET /api/v4/runners/1/managers", jsonHandler(200, `[
	  {"id":1,"system_id":"s_89e5e9956577","version":"16.11.1","revision":"535ced5f","platform":"linux",
	   "architecture":"amd64","created_at":"2024-06-09T11:12:02.507Z","contacted_at":"2024-06-09T06:30:09.355Z",
	   "ip_address":"127.0.0.1","status":"offline","job_execution_status":"idle"},
	  {"id":2,"system_id":"runner-2","version":null,"revision":null,"platform":null,"architecture":null,
	   "created_at":"2024-06-09T09:12:02.507Z","contacted_at":null,"ip_address":null,"status":"never_contacted"}]`))
	c := newClient(t, fake.URL, gitlab.Options{})
	got, err := c.Managers(context.Background(), apiToken, 1)
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2024, 6, 9, 11, 12, 2, 507e6, time.UTC)
	contacted := time.Date(2024, 6, 9, 6, 30, 9, 355e6, time.UTC)
	m := got[0]
	if len(got) != 2 || m.ID != 1 || m.SystemID != "s_89e5e9956577" || m.Version != "16.11.1" || m.Revision != "535ced5f" ||
		m.Platform != "linux" || m.Architecture != "amd64" || m.IPAddress != "127.0.0.1" || m.Status != "offline" ||
		m.CreatedAt == nil || !m.CreatedAt.Equal(created) || m.ContactedAt == nil || !m.ContactedAt.Equal(contacted) {
		t.Errorf("Managers()[0] = %+v", m)
	}
	if m := got[1]; m.ContactedAt != nil || m.Version != "" || m.Status != "never_contacted" {
		t.Errorf("Managers()[1] = %+v, want no contact and no version", m)
	}
}

// PRIVATE-TOKEN is a header net/http copies on every redirect it follows:
// one to another origin is refused before the request is made.
func TestManagersRedirectRefused(t *testing.T) {
	other := fakegitlab.New(t)
	var called atomic.Bool
	other.Handle("/", func(w http.ResponseWriter, r *http.Request) { called.Store(true) })
	from := fakegitlab.New(t)
	from.Handle("GET /api/v4/runners/42/managers", redirectTo(http.StatusFound, other.URL+"/api/v4/runners/42/managers"))
	c := newClient(t, from.URL, gitlab.Options{})
	_, err := c.Managers(context.Background(), apiToken, 42)
	if !errors.Is(err, gitlab.ErrCrossHostRedirect) {
		t.Fatalf("Managers() err = %v, want ErrCrossHostRedirect", err)
	}
	assertNoSecret(t, err, apiToken)
	if called.Load() || len(other.Requests()) != 0 {
		t.Errorf("the other server got %d requests", len(other.Requests()))
	}
}

// verify heartbeats sysID's manager as runnerup's own verify does.
func verify(t *testing.T, s *fakegitlab.Server, systemID string) {
	t.Helper()
	c := newClient(t, s.URL, gitlab.Options{})
	if _, err := c.Verify(context.Background(), runnerToken, systemID); err != nil {
		t.Fatalf("Verify() = %v", err)
	}
}

// countManagerRequests counts the GET .../managers requests s received.
func countManagerRequests(s *fakegitlab.Server) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == "GET" && strings.HasSuffix(r.Path, "/managers") {
			n++
		}
	}
	return n
}

// managersJSON answers one manager contacted at contacted.
func managersJSON(contacted time.Time) http.HandlerFunc {
	return jsonHandler(200, `[{"id":1,"system_id":"`+sysID+`","created_at":"2024-01-01T00:00:00.000Z","contacted_at":"`+
		contacted.UTC().Format(time.RFC3339Nano)+`","status":"online"}]`)
}

func TestWaitContact(t *testing.T) {
	tests := []struct {
		name string
		// setup prepares the fake and returns after; it may start goroutines.
		setup    func(t *testing.T, s *fakegitlab.Server) time.Time
		timeout  time.Duration
		wantErr  []error  // all must match; nil: success
		wantNot  []error  // none may match
		wantText []string // substrings of the error
		wantReqs int      // exact number of managers requests; 0: not checked
		minReqs  int
		wantSeen bool // the returned manager is sysID's
	}{
		{
			name: "contact after the write, a few polls later",
			setup: func(t *testing.T, s *fakegitlab.Server) time.Time {
				s.AddRunner(runnerToken, 42)
				s.AddAPIToken(apiToken)
				verify(t, s, sysID)
				after := time.Now()
				go func() {
					for countManagerRequests(s) < 3 {
						time.Sleep(2 * time.Millisecond)
					}
					s.Contact(runnerToken, sysID)
				}()
				return after
			},
			timeout:  5 * time.Second,
			minReqs:  3,
			wantSeen: true,
		},
		{
			name: "only runnerup's verify heartbeat, before the write",
			setup: func(t *testing.T, s *fakegitlab.Server) time.Time {
				s.AddRunner(runnerToken, 42)
				s.AddAPIToken(apiToken)
				verify(t, s, sysID)
				time.Sleep(5 * time.Millisecond) // past the millisecond GitLab reports
				return time.Now()
			},
			timeout:  150 * time.Millisecond,
			wantErr:  []error{context.DeadlineExceeded},
			wantText: []string{"runner manager " + sysID + " last contacted gitlab at ", "before config.toml was written at "},
			minReqs:  3,
			wantSeen: true,
		},
		{
			name: "the service never used this host's system id",
			setup: func(t *testing.T, s *fakegitlab.Server) time.Time {
				s.AddRunner(runnerToken, 42)
				s.AddAPIToken(apiToken)
				s.Contact(runnerToken, otherSysID)
				return time.Now()
			},
			timeout:  100 * time.Millisecond,
			wantErr:  []error{context.DeadlineExceeded},
			wantText: []string{"gitlab lists no runner manager with system id " + sysID, "it lists " + otherSysID},
			minReqs:  2,
		},
		{
			name: "listed but never contacted",
			setup: func(t *testing.T, s *fakegitlab.Server) time.Time {
				s.Handle("GET /api/v4/runners/42/managers", jsonHandler(200,
					`[{"id":1,"system_id":"`+sysID+`","contacted_at":null,"status":"never_contacted"}]`))
				return time.Now()
			},
			timeout:  100 * time.Millisecond,
			wantErr:  []error{context.DeadlineExceeded},
			wantText: []string{"runner manager " + sysID + " is listed but has never contacted gitlab"},
			wantSeen: true,
		},
		{
			name: "401 stops at once",
			setup: func(t *testing.T, s *fakegitlab.Server) time.Time {
				s.AddRunner(runnerToken, 42)
				return time.Now()
			},
			timeout:  5 * time.Second,
			wantErr:  []error{gitlab.ErrAPITokenInvalid},
			wantNot:  []error{context.DeadlineExceeded},
			wantText: []string{"system id " + sysID},
			wantReqs: 1,
		},
		{
			name: "403 stops at once",
			setup: func(t *testing.T, s *fakegitlab.Server) time.Time {
				s.Handle("GET /api/v4/runners/42/managers", jsonHandler(403, `{"message":"403 Forbidden"}`))
				return time.Now()
			},
			timeout:  5 * time.Second,
			wantErr:  []error{gitlab.ErrAPIForbidden},
			wantNot:  []error{context.DeadlineExceeded},
			wantReqs: 1,
		},
		{
			name: "404 stops at once",
			setup: func(t *testing.T, s *fakegitlab.Server) time.Time {
				s.AddAPIToken(apiToken)
				return time.Now()
			},
			timeout:  5 * time.Second,
			wantErr:  []error{gitlab.ErrRunnerNotFound},
			wantNot:  []error{context.DeadlineExceeded},
			wantReqs: 1,
		},
		{
			name: "503 twice, then the contact",
			setup: func(t *testing.T, s *fakegitlab.Server) time.Time {
				after := time.Now()
				var n atomic.Int32
				s.Handle("GET /api/v4/runners/42/managers", func(w http.ResponseWriter, r *http.Request) {
					if n.Add(1) <= 2 {
						jsonHandler(503, `{"message":"503 Service Unavailable"}`)(w, r)
						return
					}
					managersJSON(after.Add(time.Second))(w, r)
				})
				return after
			},
			timeout:  5 * time.Second,
			wantReqs: 3,
			wantSeen: true,
		},
		{
			name: "429 keeps polling",
			setup: func(t *testing.T, s *fakegitlab.Server) time.Time {
				after := time.Now()
				var n atomic.Int32
				s.Handle("GET /api/v4/runners/42/managers", func(w http.ResponseWriter, r *http.Request) {
					if n.Add(1) == 1 {
						jsonHandler(429, `{"message":"429 Too Many Requests"}`)(w, r)
						return
					}
					managersJSON(after.Add(time.Second))(w, r)
				})
				return after
			},
			timeout:  5 * time.Second,
			wantReqs: 2,
			wantSeen: true,
		},
		{
			name: "Retry-After outlasts the deadline: one request, the failure reported",
			setup: func(t *testing.T, s *fakegitlab.Server) time.Time {
				s.Handle("GET /api/v4/runners/42/managers", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Retry-After", "30")
					jsonHandler(503, `{"message":"503 Service Unavailable"}`)(w, r)
				})
				return time.Now()
			},
			timeout:  150 * time.Millisecond,
			wantErr:  []error{context.DeadlineExceeded},
			wantNot:  []error{gitlab.ErrServer},
			wantText: []string{"gitlab never listed the runner managers", "the last attempt failed", "http 503"},
			wantReqs: 1,
		},
		{
			name: "a 200 that is not gitlab stops",
			setup: func(t *testing.T, s *fakegitlab.Server) time.Time {
				s.Handle("GET /api/v4/runners/42/managers", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/html")
					_, _ = w.Write([]byte("<html>Sign in</html>"))
				})
				return time.Now()
			},
			timeout:  5 * time.Second,
			wantErr:  []error{gitlab.ErrNotGitLab},
			wantReqs: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := fakegitlab.New(t)
			after := tt.setup(t, fake)
			c := newClient(t, fake.URL, gitlab.Options{})
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			start := time.Now()
			got, err := c.WaitContact(ctx, apiToken, 42, sysID, after, 10*time.Millisecond)
			elapsed := time.Since(start)
			assertNoSecret(t, err, apiToken)

			reqs := countManagerRequests(fake)
			if tt.wantReqs > 0 && reqs != tt.wantReqs {
				t.Errorf("managers requests = %d, want %d", reqs, tt.wantReqs)
			}
			if reqs < tt.minReqs {
				t.Errorf("managers requests = %d, want at least %d", reqs, tt.minReqs)
			}
			if seen := got.SystemID == sysID; seen != tt.wantSeen {
				t.Errorf("WaitContact() manager = %+v, want seen=%v", got, tt.wantSeen)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("WaitContact() = %v", err)
				}
				if got.ContactedAt == nil || !got.ContactedAt.After(after) {
					t.Errorf("ContactedAt = %v, want after %v", got.ContactedAt, after)
				}
				return
			}
			if err == nil {
				t.Fatalf("WaitContact() = %+v, nil; want an error", got)
			}
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("WaitContact() err = %v, want it to match %v", err, want)
				}
			}
			for _, not := range tt.wantNot {
				if errors.Is(err, not) {
					t.Errorf("WaitContact() err = %v matches %v", err, not)
				}
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("WaitContact() err = %q, want it to contain %q", err, s)
				}
			}
			if errors.Is(err, context.DeadlineExceeded) {
				if got.ContactedAt != nil && got.ContactedAt.After(after) {
					t.Errorf("timed out with a manager contacted after the write: %+v", got)
				}
			} else if elapsed > time.Second {
				t.Errorf("WaitContact() took %v to give up on a permanent error", elapsed)
			}
		})
	}
}

func TestWaitContactArguments(t *testing.T) {
	fake := fakegitlab.New(t)
	c := newClient(t, fake.URL, gitlab.Options{})
	if _, err := c.WaitContact(context.Background(), apiToken, 42, "", time.Now(), 0); err == nil {
		t.Errorf("WaitContact(no system id) = nil, want an error")
	}
	// A cancelled wait is not a deadline: the error says so.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.WaitContact(ctx, apiToken, 42, sysID, time.Now(), 0)
	if !errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitContact(cancelled) err = %v, want context.Canceled", err)
	}
	assertNoSecret(t, err, apiToken)
	if n := len(fake.Requests()); n > 1 {
		t.Errorf("got %d requests, want at most 1", n)
	}
}
