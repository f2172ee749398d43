package gitlab_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/runnerup/runnerup/internal/gitlab"
	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
)

func TestVerify(t *testing.T) {
	const sysID = "s_ee3af03959fe"
	tests := []struct {
		name       string
		setup      func(*fakegitlab.Server)
		subPath    string // appended to the fake's URL
		want       gitlab.Runner
		wantExpiry bool
		wantErr    error
		wantStatus int
		wantMsg    string
		wantRetry  time.Duration
	}{
		{
			name:  "200 valid token",
			setup: func(s *fakegitlab.Server) { s.AddRunner(runnerToken, 42) },
			want:  gitlab.Runner{ID: 42, Token: runnerToken},
		},
		{
			name: "200 with expiry",
			setup: func(s *fakegitlab.Server) {
				s.AddRunner(runnerToken, 43)
				s.SetTokenExpiry(24 * time.Hour)
			},
			want:       gitlab.Runner{ID: 43, Token: runnerToken},
			wantExpiry: true,
		},
		{
			name:       "403 unknown token",
			wantErr:    gitlab.ErrTokenInvalid,
			wantStatus: 403,
			wantMsg:    "403 Forbidden",
		},
		{
			name: "422 orphaned",
			setup: func(s *fakegitlab.Server) {
				s.Handle("POST /api/v4/runners/verify", jsonHandler(422, `{"message":"Runner is orphaned"}`))
			},
			wantErr:    gitlab.ErrOrphaned,
			wantStatus: 422,
			wantMsg:    "Runner is orphaned",
		},
		{
			name: "400 bad request echoing the token",
			setup: func(s *fakegitlab.Server) {
				s.Handle("POST /api/v4/runners/verify", jsonHandler(400, `{"error":"token `+runnerToken+` is invalid"}`))
			},
			wantErr:    gitlab.ErrBadRequest,
			wantStatus: 400,
			wantMsg:    "token [REDACTED] is invalid",
		},
		{
			name: "429 keeps Retry-After",
			setup: func(s *fakegitlab.Server) {
				s.Handle("POST /api/v4/runners/verify", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Retry-After", "30")
					jsonHandler(429, `{"message":"429 Too Many Requests"}`)(w, r)
				})
			},
			wantErr:    gitlab.ErrRateLimited,
			wantStatus: 429,
			wantMsg:    "429 Too Many Requests",
			wantRetry:  30 * time.Second,
		},
		{
			name: "500",
			setup: func(s *fakegitlab.Server) {
				s.Handle("POST /api/v4/runners/verify", jsonHandler(500, `{"message":"500 Internal Server Error"}`))
			},
			wantErr:    gitlab.ErrServer,
			wantStatus: 500,
			wantMsg:    "500 Internal Server Error",
		},
		{
			name:       "404 html: wrong sub-path",
			subPath:    "/not-gitlab",
			wantErr:    gitlab.ErrNotGitLab,
			wantStatus: 404,
			wantMsg:    "non-json response (text/html; charset=utf-8)",
		},
		{
			name: "403 html from a proxy is not GitLab rejecting the token",
			setup: func(s *fakegitlab.Server) {
				s.Handle("POST /api/v4/runners/verify", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/html")
					w.WriteHeader(403)
					_, _ = io.WriteString(w, "<html><body>Access denied by corporate proxy</body></html>")
				})
			},
			wantErr:    gitlab.ErrNotGitLab,
			wantStatus: 403,
		},
		{
			name: "200 html login page",
			setup: func(s *fakegitlab.Server) {
				s.Handle("POST /api/v4/runners/verify", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/html")
					_, _ = io.WriteString(w, "<html><body>Sign in</body></html>")
				})
			},
			wantErr:    gitlab.ErrNotGitLab,
			wantStatus: 200,
			wantMsg:    "non-json response (text/html)",
		},
		{
			name: "200 json content type, broken body",
			setup: func(s *fakegitlab.Server) {
				s.Handle("POST /api/v4/runners/verify", jsonHandler(200, `{"id": 4`))
			},
			wantErr:    gitlab.ErrNotGitLab,
			wantStatus: 200,
			wantMsg:    "invalid json response",
		},
		{
			name: "200 body beyond the 64 KiB cap",
			setup: func(s *fakegitlab.Server) {
				s.Handle("POST /api/v4/runners/verify", jsonHandler(200, `{"id":1,"token":"`+strings.Repeat("x", 70<<10)+`"}`))
			},
			wantErr:    gitlab.ErrNotGitLab,
			wantStatus: 200,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := fakegitlab.New(t)
			if tt.setup != nil {
				tt.setup(fake)
			}
			c := newClient(t, fake.URL+tt.subPath, gitlab.Options{})
			got, err := c.Verify(context.Background(), runnerToken, sysID)
			assertNoSecret(t, err)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Verify() err = %v, want %v", err, tt.wantErr)
				}
				ae := apiErr(t, err)
				if ae.Status != tt.wantStatus {
					t.Errorf("Status = %d, want %d", ae.Status, tt.wantStatus)
				}
				if tt.wantMsg != "" && ae.Message != tt.wantMsg {
					t.Errorf("Message = %q, want %q", ae.Message, tt.wantMsg)
				}
				if ae.RetryAfter != tt.wantRetry {
					t.Errorf("RetryAfter = %v, want %v", ae.RetryAfter, tt.wantRetry)
				}
				if ae.Endpoint != "POST /api/v4/runners/verify" {
					t.Errorf("Endpoint = %q", ae.Endpoint)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify() = %v", err)
			}
			if got.ID != tt.want.ID || got.Token != tt.want.Token {
				t.Errorf("Verify() = %+v, want %+v", got, tt.want)
			}
			if tt.wantExpiry {
				if d := time.Until(got.TokenExpiresAt); d < 23*time.Hour || d > 25*time.Hour {
					t.Errorf("TokenExpiresAt = %v, want about 24h from now", got.TokenExpiresAt)
				}
			} else if !got.TokenExpiresAt.IsZero() {
				t.Errorf("TokenExpiresAt = %v, want zero (null)", got.TokenExpiresAt)
			}
		})
	}
}

// The request has exactly the runner's shape: token and system_id, JSON
// headers, no "info" (common.VerifyRunnerRequest has none).
func TestVerifyRequestShape(t *testing.T) {
	fake := fakegitlab.New(t)
	fake.AddRunner(runnerToken, 7)
	c := newClient(t, fake.URL, gitlab.Options{UserAgent: "runnerup/test"})
	for _, id := range []string{"s_aaaaaaaaaaaa", "s_aaaaaaaaaaaa", "s_bbbbbbbbbbbb", ""} {
		if _, err := c.Verify(context.Background(), runnerToken, id); err != nil {
			t.Fatalf("Verify(%q) = %v", id, err)
		}
	}
	reqs := fake.Requests()
	if len(reqs) != 4 {
		t.Fatalf("got %d requests, want 4", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != "/api/v4/runners/verify" {
		t.Errorf("request = %s %s", r.Method, r.Path)
	}
	if len(r.Body) != 2 || r.Body["token"] != runnerToken || r.Body["system_id"] != "s_aaaaaaaaaaaa" {
		t.Errorf("body = %v, want exactly token and system_id", r.Body)
	}
	if _, ok := reqs[3].Body["system_id"]; ok {
		t.Errorf("empty system id was sent: %v", reqs[3].Body)
	}
	for h, want := range map[string]string{"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "runnerup/test"} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
	got := fake.Managers(runnerToken)
	want := []string{"s_aaaaaaaaaaaa", "s_bbbbbbbbbbbb", "<legacy>"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Managers() = %v, want %v", got, want)
	}
}

func TestRegister(t *testing.T) {
	full := gitlab.RegisterRequest{
		Token:           regToken,
		Description:     "build-01",
		MaintenanceNote: "rack 4",
		Tags:            []string{"docker", "linux"},
		RunUntagged:     false,
		Locked:          true,
		Paused:          false,
		AccessLevel:     "ref_protected",
		MaximumTimeout:  3600,
		SystemID:        "s_ee3af03959fe",
	}
	tests := []struct {
		name       string
		setup      func(*fakegitlab.Server)
		req        gitlab.RegisterRequest
		wantErr    error
		wantStatus int
		wantMsg    string
		wantBody   map[string]any
	}{
		{
			name:  "201 registered",
			setup: func(s *fakegitlab.Server) { s.AddRegistrationToken(regToken) },
			req:   full,
			wantBody: map[string]any{
				"token": regToken, "description": "build-01", "maintenance_note": "rack 4",
				"tag_list": "docker,linux", "run_untagged": false, "locked": true, "paused": false,
				"access_level": "ref_protected", "maximum_timeout": float64(3600),
			},
		},
		{
			name:  "201 minimal request still sends the three booleans",
			setup: func(s *fakegitlab.Server) { s.AddRegistrationToken(regToken) },
			req:   gitlab.RegisterRequest{Token: regToken, RunUntagged: true},
			wantBody: map[string]any{
				"token": regToken, "run_untagged": true, "locked": false, "paused": false,
			},
		},
		{
			name:       "403 unknown registration token",
			req:        full,
			wantErr:    gitlab.ErrTokenInvalid,
			wantStatus: 403,
			wantMsg:    "403 Forbidden - invalid token supplied",
		},
		{
			name: "410 registration disabled",
			setup: func(s *fakegitlab.Server) {
				s.AddRegistrationToken(regToken)
				s.DisableRegistrationTokens()
			},
			req:        full,
			wantErr:    gitlab.ErrRegistrationDisabled,
			wantStatus: 410,
			wantMsg:    "410 Gone - runner registration disallowed",
		},
		{
			name:       "400 invalid access level",
			setup:      func(s *fakegitlab.Server) { s.AddRegistrationToken(regToken) },
			req:        gitlab.RegisterRequest{Token: regToken, AccessLevel: "everyone"},
			wantErr:    gitlab.ErrBadRequest,
			wantStatus: 400,
			wantMsg:    "access_level does not have a valid value",
		},
		{
			name: "400 validation errors as an object",
			setup: func(s *fakegitlab.Server) {
				s.Handle("POST /api/v4/runners", jsonHandler(400, `{"message":{"tags_list":["is too long"]}}`))
			},
			req:        full,
			wantErr:    gitlab.ErrBadRequest,
			wantStatus: 400,
			wantMsg:    `tags_list is too long`,
		},
		{
			name: "201 without a token",
			setup: func(s *fakegitlab.Server) {
				s.Handle("POST /api/v4/runners", jsonHandler(201, `{"id":5,"token":"","token_expires_at":null}`))
			},
			req:        full,
			wantErr:    gitlab.ErrUnexpected,
			wantStatus: 201,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := fakegitlab.New(t)
			if tt.setup != nil {
				tt.setup(fake)
			}
			c := newClient(t, fake.URL, gitlab.Options{})
			got, err := c.Register(context.Background(), tt.req)
			assertNoSecret(t, err)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Register() err = %v, want %v", err, tt.wantErr)
				}
				ae := apiErr(t, err)
				if ae.Status != tt.wantStatus || (tt.wantMsg != "" && ae.Message != tt.wantMsg) {
					t.Errorf("APIError = %+v, want status %d message %q", ae, tt.wantStatus, tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatalf("Register() = %v", err)
			}
			if got.ID == 0 || !strings.HasPrefix(got.Token, "glrtr-") || got.Token == regToken {
				t.Errorf("Register() = %+v, want an id and a glrtr- token", got)
			}
			body := fake.Requests()[0].Body
			for k, want := range tt.wantBody {
				if body[k] != want {
					t.Errorf("body[%q] = %#v, want %#v", k, body[k], want)
				}
			}
			for k := range body {
				if _, ok := tt.wantBody[k]; !ok && k != "info" {
					t.Errorf("unexpected body key %q = %#v", k, body[k])
				}
			}
			if info, _ := body["info"].(map[string]any); info["name"] != "gitlab-runner" {
				t.Errorf("info = %#v, want name gitlab-runner", body["info"])
			}
			// The token GitLab issued is a working authentication token.
			if _, err := c.Verify(context.Background(), got.Token, "s_ee3af03959fe"); err != nil {
				t.Errorf("Verify(new token) = %v", err)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	withPAT := &http.Client{Transport: headerTransport{"PRIVATE-TOKEN", "glpat-SECRET"}}
	tests := []struct {
		name          string
		setup         func(*fakegitlab.Server)
		client        *http.Client
		subPath       string
		wantReachable bool
		wantVersion   string
		wantErr       error
	}{
		{name: "401 without token is reachable", wantReachable: true},
		{name: "200 with token", client: withPAT, wantReachable: true, wantVersion: fakegitlab.Version},
		{name: "404 html", subPath: "/nope", wantErr: gitlab.ErrNotGitLab},
		{
			name: "200 html",
			setup: func(s *fakegitlab.Server) {
				s.Handle("GET /api/v4/version", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/html")
					_, _ = io.WriteString(w, "<html>proxy splash</html>")
				})
			},
			wantErr: gitlab.ErrNotGitLab,
		},
		{
			name: "503",
			setup: func(s *fakegitlab.Server) {
				s.Handle("GET /api/v4/version", jsonHandler(503, `{"message":"503 Service Unavailable"}`))
			},
			wantErr: gitlab.ErrServer,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := fakegitlab.New(t)
			if tt.setup != nil {
				tt.setup(fake)
			}
			c := newClient(t, fake.URL+tt.subPath, gitlab.Options{HTTPClient: tt.client})
			reachable, version, err := c.Version(context.Background())
			assertNoSecret(t, err, "glpat-SECRET")
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Version() err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Version() = %v", err)
			}
			if reachable != tt.wantReachable || version != tt.wantVersion {
				t.Errorf("Version() = %v, %q; want %v, %q", reachable, version, tt.wantReachable, tt.wantVersion)
			}
		})
	}
}

// A GitLab under a sub-path works with or without a trailing "/" or the
// legacy "/ci" suffix, as the runner's fixCIURL allows.
func TestSubPathBaseURL(t *testing.T) {
	fake := fakegitlab.New(t)
	fake.AddRunner(runnerToken, 9)
	front := httptest.NewServer(http.StripPrefix("/gitlab", fake))
	t.Cleanup(front.Close)
	for _, suffix := range []string{"/gitlab", "/gitlab/", "/gitlab/ci", "/gitlab/ci/"} {
		t.Run(suffix, func(t *testing.T) {
			c := newClient(t, front.URL+suffix, gitlab.Options{})
			if got, want := c.BaseURL(), front.URL+"/gitlab/api/v4/"; got != want {
				t.Errorf("BaseURL() = %q, want %q", got, want)
			}
			r, err := c.Verify(context.Background(), runnerToken, "s_ee3af03959fe")
			if err != nil || r.ID != 9 {
				t.Fatalf("Verify() = %+v, %v", r, err)
			}
		})
	}
}

func TestContextDeadline(t *testing.T) {
	fake := fakegitlab.New(t)
	fake.Handle("POST /api/v4/runners/verify", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	c := newClient(t, fake.URL, gitlab.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Verify(ctx, runnerToken, "s_ee3af03959fe")
	if !errors.Is(err, gitlab.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Verify() err = %v, want ErrTimeout and context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Verify() took %v despite a 100ms deadline", d)
	}
	var ne *gitlab.NetError
	if !errors.As(err, &ne) || ne.Endpoint != "POST /api/v4/runners/verify" {
		t.Errorf("err = %#v, want a *NetError for the verify endpoint", err)
	}
	assertNoSecret(t, err)
}

func TestConnRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	c := newClient(t, url, gitlab.Options{})
	_, err := c.Verify(context.Background(), runnerToken, "")
	if !errors.Is(err, gitlab.ErrConnRefused) {
		t.Fatalf("Verify() err = %v, want ErrConnRefused", err)
	}
	assertNoSecret(t, err)
}

func TestNew(t *testing.T) {
	tests := []struct {
		url     string
		want    string
		wantErr string
	}{
		{url: "https://gitlab.example.com", want: "https://gitlab.example.com/api/v4/"},
		{url: " https://gitlab.example.com/ ", want: "https://gitlab.example.com/api/v4/"},
		{url: "https://gitlab.example.com/ci", want: "https://gitlab.example.com/api/v4/"},
		{url: "http://10.0.0.5:8080/gitlab/", want: "http://10.0.0.5:8080/gitlab/api/v4/"},
		{url: "HTTPS://GitLab.example.com", want: "https://GitLab.example.com/api/v4/"},
		{url: "", wantErr: "invalid gitlab url: scheme must be http or https"},
		{url: "gitlab.example.com", wantErr: "invalid gitlab url: scheme must be http or https"},
		{url: "ftp://gitlab.example.com", wantErr: "invalid gitlab url: scheme must be http or https"},
		{url: "https://", wantErr: "invalid gitlab url: no host"},
		{url: "https://user:hunter2@gitlab.example.com", wantErr: "invalid gitlab url: must not contain credentials"},
		{url: "https://gitlab.example.com/?private_token=x", wantErr: "invalid gitlab url: must not have a query or fragment"},
		{url: "https://gitlab.example.com:99999999999x", wantErr: `invalid gitlab url: invalid port ":99999999999x" after host`},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			c, err := gitlab.New(tt.url, gitlab.Options{})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("New() err = %v, want %q", err, tt.wantErr)
				}
				if !errors.Is(err, gitlab.ErrInvalidURL) {
					t.Errorf("err does not match ErrInvalidURL")
				}
				return
			}
			if err != nil {
				t.Fatalf("New() = %v", err)
			}
			if got := c.BaseURL(); got != tt.want {
				t.Errorf("BaseURL() = %q, want %q", got, tt.want)
			}
		})
	}
}

func jsonHandler(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// headerTransport adds one header, standing in for a caller's transport.
type headerTransport struct{ key, value string }

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.key, h.value)
	return http.DefaultTransport.RoundTrip(r)
}

func TestProxy(t *testing.T) {
	proxyURL, _ := url.Parse("http://user:pw@proxy.internal:3128")
	tests := []struct {
		name   string
		client *http.Client
		want   string
	}{
		{name: "explicit proxy, password masked", client: &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}, want: "http://user:xxxxx@proxy.internal:3128"},
		{name: "no proxy func", client: &http.Client{Transport: &http.Transport{}}, want: ""},
		{name: "custom round tripper", client: &http.Client{Transport: headerTransport{"a", "b"}}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, "https://gitlab.example.com", gitlab.Options{HTTPClient: tt.client})
			got, err := c.Proxy()
			if err != nil || got != tt.want {
				t.Errorf("Proxy() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
