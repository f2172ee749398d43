package fakegitlab

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fake is checked with raw HTTP so its answers are pinned independently
// of the client that runnerup ships.
func TestEndpoints(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(*Server)
		method     string
		path       string
		body       string
		header     map[string]string
		wantStatus int
		wantCT     string
		wantBody   string // exact JSON, or a substring for HTML
	}{
		{name: "verify ok", setup: func(s *Server) { s.AddRunner("glrt-tok", 7) },
			method: "POST", path: "/api/v4/runners/verify", body: `{"token":"glrt-tok","system_id":"s_aaaaaaaaaaaa"}`,
			wantStatus: 200, wantCT: "application/json", wantBody: `{"id":7,"token":"glrt-tok","token_expires_at":null}`},
		{name: "verify unknown token", method: "POST", path: "/api/v4/runners/verify", body: `{"token":"nope"}`,
			wantStatus: 403, wantCT: "application/json", wantBody: `{"message":"403 Forbidden"}`},
		{name: "verify empty token is unknown", method: "POST", path: "/api/v4/runners/verify", body: `{"token":""}`,
			wantStatus: 403, wantCT: "application/json", wantBody: `{"message":"403 Forbidden"}`},
		{name: "verify missing token", method: "POST", path: "/api/v4/runners/verify", body: `{"system_id":"s_aaaaaaaaaaaa"}`,
			wantStatus: 400, wantCT: "application/json", wantBody: `{"error":"token is missing"}`},
		{name: "verify wrong method", method: "GET", path: "/api/v4/runners/verify",
			wantStatus: 405, wantCT: "application/json", wantBody: `{"error":"405 Not Allowed"}`},
		{name: "register missing token", method: "POST", path: "/api/v4/runners", body: `{}`,
			wantStatus: 400, wantCT: "application/json", wantBody: `{"error":"token is missing"}`},
		{name: "register unknown token", method: "POST", path: "/api/v4/runners", body: `{"token":"GR1348941x"}`,
			wantStatus: 403, wantCT: "application/json", wantBody: `{"message":"403 Forbidden - invalid token supplied"}`},
		{name: "register disabled", setup: func(s *Server) { s.AddRegistrationToken("GR1348941x"); s.DisableRegistrationTokens() },
			method: "POST", path: "/api/v4/runners", body: `{"token":"GR1348941x"}`,
			wantStatus: 410, wantCT: "application/json", wantBody: `{"message":"410 Gone - runner registration disallowed"}`},
		{name: "register active and paused", setup: func(s *Server) { s.AddRegistrationToken("GR1348941x") },
			method: "POST", path: "/api/v4/runners", body: `{"token":"GR1348941x","active":true,"paused":false}`,
			wantStatus: 400, wantCT: "application/json", wantBody: `{"error":"active, paused are mutually exclusive"}`},
		{name: "version without token", method: "GET", path: "/api/v4/version",
			wantStatus: 401, wantCT: "application/json", wantBody: `{"message":"401 Unauthorized"}`},
		{name: "version with token", method: "GET", path: "/api/v4/version", header: map[string]string{"PRIVATE-TOKEN": "glpat-x"},
			wantStatus: 200, wantCT: "application/json",
			wantBody: `{"enterprise":false,"kas":{"enabled":false},"revision":"6b9a2ac3e56","version":"17.11.0"}`},
		{name: "unknown api route", method: "GET", path: "/api/v4/nothing",
			wantStatus: 404, wantCT: "application/json", wantBody: `{"error":"404 Not Found"}`},
		{name: "non-api path", method: "GET", path: "/users/sign_in",
			wantStatus: 404, wantCT: "text/html; charset=utf-8", wantBody: "could not be found (404)"},
		{name: "job request, no job", setup: func(s *Server) { s.AddRunner("glrt-tok", 7) },
			method: "POST", path: "/api/v4/jobs/request", body: `{"token":"glrt-tok","system_id":"s_aaaaaaaaaaaa","info":{"version":"17.11.0"}}`,
			wantStatus: 204},
		{name: "job request unknown token", method: "POST", path: "/api/v4/jobs/request", body: `{"token":"nope","system_id":"s_aaaaaaaaaaaa"}`,
			wantStatus: 403, wantCT: "application/json", wantBody: `{"message":"403 Forbidden"}`},
		{name: "job request missing token", method: "POST", path: "/api/v4/jobs/request", body: `{"system_id":"s_aaaaaaaaaaaa"}`,
			wantStatus: 400, wantCT: "application/json", wantBody: `{"error":"token is missing"}`},
		{name: "job request wrong method", method: "GET", path: "/api/v4/jobs/request",
			wantStatus: 405, wantCT: "application/json", wantBody: `{"error":"405 Not Allowed"}`},
		{name: "managers without token", setup: func(s *Server) { s.AddRunner("glrt-tok", 7) },
			method: "GET", path: "/api/v4/runners/7/managers",
			wantStatus: 401, wantCT: "application/json", wantBody: `{"message":"401 Unauthorized"}`},
		{name: "managers unknown token", setup: func(s *Server) { s.AddRunner("glrt-tok", 7); s.AddAPIToken("glpat-ok") },
			method: "GET", path: "/api/v4/runners/7/managers", header: map[string]string{"PRIVATE-TOKEN": "glpat-nope"},
			wantStatus: 401, wantCT: "application/json", wantBody: `{"message":"401 Unauthorized"}`},
		{name: "managers runner token is not an api token", setup: func(s *Server) { s.AddRunner("glrt-tok", 7) },
			method: "GET", path: "/api/v4/runners/7/managers", header: map[string]string{"PRIVATE-TOKEN": "glrt-tok"},
			wantStatus: 401, wantCT: "application/json", wantBody: `{"message":"401 Unauthorized"}`},
		{name: "managers unknown runner", setup: func(s *Server) { s.AddRunner("glrt-tok", 7); s.AddAPIToken("glpat-ok") },
			method: "GET", path: "/api/v4/runners/8/managers", header: map[string]string{"PRIVATE-TOKEN": "glpat-ok"},
			wantStatus: 404, wantCT: "application/json", wantBody: `{"message":"404 Runner Not Found"}`},
		{name: "managers non-integer id", setup: func(s *Server) { s.AddAPIToken("glpat-ok") },
			method: "GET", path: "/api/v4/runners/x/managers", header: map[string]string{"PRIVATE-TOKEN": "glpat-ok"},
			wantStatus: 400, wantCT: "application/json", wantBody: `{"error":"id is invalid"}`},
		{name: "managers none yet", setup: func(s *Server) { s.AddRunner("glrt-tok", 7); s.AddAPIToken("glpat-ok") },
			method: "GET", path: "/api/v4/runners/7/managers", header: map[string]string{"PRIVATE-TOKEN": "glpat-ok"},
			wantStatus: 200, wantCT: "application/json", wantBody: `[]`},
		{name: "managers with bearer token after a job request", setup: func(s *Server) {
			s.AddRunner("glrt-tok", 7)
			s.AddAPIToken("glpat-ok")
			s.SetNow(func() time.Time { return time.Date(2026, 11, 23, 17, 0, 0, 123456789, time.UTC) })
			s.Contact("glrt-tok", "s_aaaaaaaaaaaa")
		}, method: "GET", path: "/api/v4/runners/7/managers", header: map[string]string{"Authorization": "Bearer glpat-ok"},
			wantStatus: 200, wantCT: "application/json",
			wantBody: `[{"architecture":null,"contacted_at":"2026-11-23T17:00:00.123Z","created_at":"2026-11-23T17:00:00.123Z",` +
				`"id":1,"ip_address":null,"job_execution_status":"idle","platform":null,"revision":null,"status":"online",` +
				`"system_id":"s_aaaaaaaaaaaa","version":null}]`},
		{name: "managers wrong method", method: "POST", path: "/api/v4/runners/7/managers",
			wantStatus: 405, wantCT: "application/json", wantBody: `{"error":"405 Not Allowed"}`},
		{name: "user runners without token", method: "POST", path: "/api/v4/user/runners", body: `{"runner_type":"instance_type"}`,
			wantStatus: 401, wantCT: "application/json", wantBody: `{"message":"401 Unauthorized"}`},
		{name: "user runners without the scope", setup: func(s *Server) { s.AddUserToken("glpat-r", "alice", "read_api") },
			method: "POST", path: "/api/v4/user/runners", body: `{"runner_type":"instance_type"}`, header: map[string]string{"PRIVATE-TOKEN": "glpat-r"},
			wantStatus: 403, wantCT: "application/json",
			wantBody: `{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token.","scope":"api create_runner"}`},
		{name: "user runners missing project_id", setup: func(s *Server) { s.AddUserToken("glpat-c", "alice", "create_runner") },
			method: "POST", path: "/api/v4/user/runners", body: `{"runner_type":"project_type"}`, header: map[string]string{"PRIVATE-TOKEN": "glpat-c"},
			wantStatus: 400, wantCT: "application/json", wantBody: `{"error":"project_id is missing"}`},
		{name: "user runners bad runner_type", setup: func(s *Server) { s.AddUserToken("glpat-c", "alice", "create_runner") },
			method: "POST", path: "/api/v4/user/runners", body: `{"runner_type":"project"}`, header: map[string]string{"PRIVATE-TOKEN": "glpat-c"},
			wantStatus: 400, wantCT: "application/json", wantBody: `{"error":"runner_type does not have a valid value"}`},
		{name: "user runners not a maintainer", setup: func(s *Server) {
			s.AddProject("g/app")
			s.SetMember("dave", "g/app", Developer)
			s.AddUserToken("glpat-d", "dave", "create_runner")
		}, method: "POST", path: "/api/v4/user/runners", body: `{"runner_type":"project_type","project_id":101}`,
			header:     map[string]string{"PRIVATE-TOKEN": "glpat-d"},
			wantStatus: 403, wantCT: "application/json", wantBody: `{"message":"403 Forbidden - Insufficient permissions"}`},
		{name: "user runners unknown project", setup: func(s *Server) { s.AddUserToken("glpat-c", "alice", "create_runner") },
			method: "POST", path: "/api/v4/user/runners", body: `{"runner_type":"project_type","project_id":999}`,
			header:     map[string]string{"PRIVATE-TOKEN": "glpat-c"},
			wantStatus: 400, wantCT: "application/json", wantBody: `{"message":"400 Bad request - Missing/invalid project"}`},
		{name: "expired api token", setup: func(s *Server) { s.AddUserToken("glpat-e", "alice", "api"); s.ExpireToken("glpat-e") },
			method: "GET", path: "/api/v4/user", header: map[string]string{"PRIVATE-TOKEN": "glpat-e"},
			wantStatus: 401, wantCT: "application/json", wantBody: `{"error":"invalid_token","error_description":"Token has expired."}`},
		{name: "project by encoded path", setup: func(s *Server) {
			s.AddProject("g/sub/app")
			s.AddGroup("g")
			s.SetMember("alice", "g", Maintainer)
			s.AddUserToken("glpat-a", "alice", "read_api")
		}, method: "GET", path: "/api/v4/projects/g%2Fsub%2Fapp", header: map[string]string{"PRIVATE-TOKEN": "glpat-a"},
			wantStatus: 200, wantCT: "application/json",
			wantBody: `{"id":101,"name":"app","path":"app","path_with_namespace":"g/sub/app","web_url":"http://gitlab.test/g/sub/app"}`},
		{name: "project not visible", setup: func(s *Server) { s.AddProject("g/app"); s.AddUserToken("glpat-a", "alice", "read_api") },
			method: "GET", path: "/api/v4/projects/g%2Fapp", header: map[string]string{"PRIVATE-TOKEN": "glpat-a"},
			wantStatus: 404, wantCT: "application/json", wantBody: `{"message":"404 Project Not Found"}`},
		{name: "group not found", setup: func(s *Server) { s.AddUserToken("glpat-a", "alice", "read_api") },
			method: "GET", path: "/api/v4/groups/nope", header: map[string]string{"PRIVATE-TOKEN": "glpat-a"},
			wantStatus: 404, wantCT: "application/json", wantBody: `{"message":"404 Group Not Found"}`},
		{name: "runner not found", setup: func(s *Server) { s.AddAPIToken("glpat-ok") },
			method: "DELETE", path: "/api/v4/runners/5", header: map[string]string{"PRIVATE-TOKEN": "glpat-ok"},
			wantStatus: 404, wantCT: "application/json", wantBody: `{"message":"404 Runner Not Found"}`},
		{name: "override", setup: func(s *Server) {
			s.Handle("POST /api/v4/runners/verify", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
			s.Handle("POST /api/v4/runners/verify", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(502) })
		}, method: "POST", path: "/api/v4/runners/verify", body: `{"token":"x"}`, wantStatus: 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t)
			if tt.setup != nil {
				tt.setup(s)
			}
			req, err := http.NewRequest(tt.method, s.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if ct := resp.Header.Get("Content-Type"); tt.wantCT != "" && ct != tt.wantCT {
				t.Errorf("Content-Type = %q, want %q", ct, tt.wantCT)
			}
			if strings.HasPrefix(tt.wantCT, "application/json") {
				if got := strings.TrimSpace(string(body)); got != tt.wantBody {
					t.Errorf("body = %s, want %s", got, tt.wantBody)
				}
			} else if !bytes.Contains(body, []byte(tt.wantBody)) {
				t.Errorf("body = %s, want it to contain %q", body, tt.wantBody)
			}
			if got := len(s.Requests()); got != 1 {
				t.Errorf("recorded %d requests, want 1", got)
			}
		})
	}
}

func TestRegisterThenVerify(t *testing.T) {
	s := New(t)
	s.AddRegistrationToken("GR1348941reg")
	s.SetTokenExpiry(time.Hour)
	resp := post(t, s, "/api/v4/runners", `{"token":"GR1348941reg","description":"d","tag_list":"a,b","run_untagged":false,"locked":true,"paused":false}`)
	if resp.status != 201 {
		t.Fatalf("register status = %d", resp.status)
	}
	tok, _ := resp.body["token"].(string)
	if !strings.HasPrefix(tok, "glrtr-") || len(tok) != len("glrtr-")+20 {
		t.Errorf("token = %q, want glrtr- and 20 characters", tok)
	}
	exp, err := time.Parse(time.RFC3339, resp.body["token_expires_at"].(string))
	if err != nil || time.Until(exp) < 59*time.Minute {
		t.Errorf("token_expires_at = %v (%v), want about an hour ahead", resp.body["token_expires_at"], err)
	}
	v := post(t, s, "/api/v4/runners/verify", `{"token":"`+tok+`"}`)
	if v.status != 200 || v.body["id"] != resp.body["id"] {
		t.Errorf("verify = %d %v, want 200 with id %v", v.status, v.body, resp.body["id"])
	}
	if got := s.Managers(tok); len(got) != 1 || got[0] != "<legacy>" {
		t.Errorf("Managers() = %v, want [<legacy>]", got)
	}
	reqs := s.Requests()
	if len(reqs) != 2 || reqs[0].Body["description"] != "d" || reqs[0].Header.Get("Content-Type") != "application/json" {
		t.Errorf("Requests() = %+v", reqs)
	}
}

func TestNewTLS(t *testing.T) {
	s := NewTLS(t)
	if !strings.HasPrefix(s.URL, "https://") || s.CAFile == "" || s.Certificate() == nil {
		t.Fatalf("NewTLS() = %+v", s)
	}
	resp, err := s.Client().Get(s.URL + "/api/v4/version")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("status = %d, want 401", resp.StatusCode)
	}
}

type answer struct {
	status int
	body   map[string]any
}

func post(t *testing.T, s *Server, path, body string) answer {
	t.Helper()
	resp, err := http.Post(s.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, m}
}

// A controllable clock for the manager tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Verify, a job request and Contact all land on the runner's managers, and
// GET /api/v4/runners/:id/managers lists what they recorded.
func TestManagersReflectContact(t *testing.T) {
	s := New(t)
	t0 := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)
	clk := &clock{now: t0}
	s.SetNow(clk.Now)
	s.AddRunner("glrt-tok", 7)
	s.AddAPIToken("glpat-ok")

	if a := post(t, s, "/api/v4/runners/verify", `{"token":"glrt-tok","system_id":"s_aaaaaaaaaaaa"}`); a.status != 200 {
		t.Fatalf("verify status = %d", a.status)
	}
	clk.Add(time.Minute)
	resp, err := http.Post(s.URL+"/api/v4/jobs/request", "application/json", strings.NewReader(
		`{"token":"glrt-tok","system_id":"s_bbbbbbbbbbbb","info":{"version":"17.11.0","revision":"abc","platform":"linux","architecture":"amd64"}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("job request status = %d, want 204", resp.StatusCode)
	}
	clk.Add(time.Minute)
	if !s.Contact("glrt-tok", "s_aaaaaaaaaaaa") {
		t.Fatal("Contact(known token) = false")
	}
	if s.Contact("glrt-unknown", "s_aaaaaaaaaaaa") {
		t.Error("Contact(unknown token) = true")
	}

	got := s.RunnerManagers("glrt-tok")
	want := []Manager{
		{ID: 1, SystemID: "s_aaaaaaaaaaaa", IPAddress: "127.0.0.1", CreatedAt: t0, ContactedAt: t0.Add(2 * time.Minute), Status: "online"},
		{ID: 2, SystemID: "s_bbbbbbbbbbbb", Version: "17.11.0", Revision: "abc", Platform: "linux", Architecture: "amd64",
			IPAddress: "127.0.0.1", CreatedAt: t0.Add(time.Minute), ContactedAt: t0.Add(time.Minute), Status: "online"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RunnerManagers() =\n%+v\nwant\n%+v", got, want)
	}
	if ids := s.Managers("glrt-tok"); !reflect.DeepEqual(ids, []string{"s_aaaaaaaaaaaa", "s_bbbbbbbbbbbb"}) {
		t.Errorf("Managers() = %v", ids)
	}

	// Three hours on, nobody has polled: both are offline over HTTP too.
	clk.Add(3 * time.Hour)
	req, _ := http.NewRequest("GET", s.URL+"/api/v4/runners/7/managers", nil)
	req.Header.Set("PRIVATE-TOKEN", "glpat-ok")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != 200 {
		t.Fatalf("managers = %d, %v", resp.StatusCode, err)
	}
	if len(list) != 2 || list[0]["system_id"] != "s_aaaaaaaaaaaa" || list[0]["contacted_at"] != "2026-11-23T17:02:00.000Z" ||
		list[0]["status"] != "offline" || list[1]["version"] != "17.11.0" || list[1]["status"] != "offline" {
		t.Errorf("managers = %v", list)
	}
	reqs := s.Requests()
	if last := reqs[len(reqs)-1]; last.Path != "/api/v4/runners/7/managers" || last.Header.Get("PRIVATE-TOKEN") != "glpat-ok" {
		t.Errorf("last recorded request = %+v", last)
	}
	if jr := reqs[1]; jr.Path != "/api/v4/jobs/request" || jr.Body["system_id"] != "s_bbbbbbbbbbbb" {
		t.Errorf("job request recorded as %+v", jr)
	}
}

func TestManagerStatus(t *testing.T) {
	now := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)
	tests := []struct {
		name               string
		created, contacted time.Time
		want               string
	}{
		{"just contacted", now.Add(-time.Hour), now.Add(-time.Minute), "online"},
		{"never contacted", now.Add(-time.Hour), time.Time{}, "never_contacted"},
		{"contacted three hours ago", now.Add(-24 * time.Hour), now.Add(-3 * time.Hour), "offline"},
		{"nothing for eight days", now.Add(-30 * 24 * time.Hour), now.Add(-8 * 24 * time.Hour), "stale"},
		{"created eight days ago, never contacted", now.Add(-8 * 24 * time.Hour), time.Time{}, "stale"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := status(Manager{CreatedAt: tt.created, ContactedAt: tt.contacted}, now); got != tt.want {
				t.Errorf("status() = %q, want %q", got, tt.want)
			}
		})
	}
}
