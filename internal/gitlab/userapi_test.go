package gitlab_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/gitlab"
	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
	"github.com/runnerup/runnerup/internal/testenv"
)

// Tokens of the creation tests; every error is scanned for them.
const (
	createToken = "glpat-SECRETcreateRUNNER000001" // create_runner scope
	readToken   = "glpat-SECRETreadAPI00000000002" // read_api only
	devToken    = "glpat-SECRETdeveloper000000003" // create_runner, Developer
)

// creationWorld is a GitLab with a group, a project in it and three users:
// alice (Maintainer of the project), dave (Developer) and the admin.
func creationWorld(t *testing.T) (*fakegitlab.Server, int64, int64) {
	t.Helper()
	s := fakegitlab.New(t)
	gid := s.AddGroup("group")
	pid := s.AddProject("group/sub/app")
	s.AddProject("group/other")
	s.SetMember("alice", "group/sub/app", fakegitlab.Maintainer)
	s.SetMember("dave", "group/sub/app", fakegitlab.Developer)
	s.AddUserToken(createToken, "alice", "create_runner")
	s.AddUserToken(readToken, "alice", "read_api")
	s.AddUserToken(devToken, "dave", "create_runner", "read_api")
	s.AddAPIToken(apiToken) // root, admin, api
	return s, gid, pid
}

func TestCreateRunner(t *testing.T) {
	yes, no := true, false
	timeout := 3600
	tests := []struct {
		name      string
		token     string
		req       gitlab.CreateRunnerRequest
		prep      func(*fakegitlab.Server)
		wantErr   error
		wantInErr []string
		wantToken string // prefix
	}{
		{name: "201 project runner", token: createToken,
			req: gitlab.CreateRunnerRequest{RunnerType: gitlab.ProjectType, Description: "build-01", Tags: []string{"docker", "linux"},
				RunUntagged: &no, Locked: &yes, MaximumTimeout: &timeout, AccessLevel: "ref_protected", MaintenanceNote: "rack 4"},
			wantToken: "glrt-t3_"},
		{name: "201 instance runner by an admin", token: apiToken,
			req: gitlab.CreateRunnerRequest{RunnerType: gitlab.InstanceType}, wantToken: "glrt-t1_"},
		{name: "401 unknown token", token: "glpat-SECRETnobody",
			req: gitlab.CreateRunnerRequest{RunnerType: gitlab.ProjectType}, wantErr: gitlab.ErrAPITokenInvalid},
		{name: "401 expired token says so", token: createToken, prep: func(s *fakegitlab.Server) { s.ExpireToken(createToken) },
			req: gitlab.CreateRunnerRequest{RunnerType: gitlab.ProjectType}, wantErr: gitlab.ErrAPITokenInvalid,
			wantInErr: []string{"Token has expired."}},
		{name: "403 token without create_runner", token: readToken,
			req: gitlab.CreateRunnerRequest{RunnerType: gitlab.ProjectType}, wantErr: gitlab.ErrAPIScope,
			wantInErr: []string{"insufficient_scope", "api or create_runner scope"}},
		{name: "403 developer is not maintainer", token: devToken,
			req: gitlab.CreateRunnerRequest{RunnerType: gitlab.ProjectType}, wantErr: gitlab.ErrAPIForbidden,
			wantInErr: []string{"Insufficient permissions", "Maintainer or Owner of the project"}},
		{name: "403 instance runner needs an admin", token: createToken,
			req: gitlab.CreateRunnerRequest{RunnerType: gitlab.InstanceType}, wantErr: gitlab.ErrAPIForbidden,
			wantInErr: []string{"administrator"}},
		{name: "403 group runner needs the owner", token: createToken,
			req: gitlab.CreateRunnerRequest{RunnerType: gitlab.GroupType}, wantErr: gitlab.ErrAPIForbidden,
			wantInErr: []string{"Owner of the group"}},
		{name: "400 with GitLab's message", token: createToken,
			req:     gitlab.CreateRunnerRequest{RunnerType: gitlab.ProjectType, MaintenanceNote: strings.Repeat("n", 1025)},
			wantErr: gitlab.ErrBadRequest, wantInErr: []string{"Maintenance note is too long (maximum is 1024 characters)"}},
		{name: "400 tags needed without run_untagged", token: createToken,
			req:     gitlab.CreateRunnerRequest{RunnerType: gitlab.ProjectType, RunUntagged: &no},
			wantErr: gitlab.ErrBadRequest, wantInErr: []string{"Tags list can not be empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, gid, pid := creationWorld(t)
			if tt.prep != nil {
				tt.prep(s)
			}
			req := tt.req
			req.ProjectID, req.GroupID = pid, gid
			c := newClient(t, s.URL, gitlab.Options{})
			run, err := c.CreateRunner(context.Background(), tt.token, req)
			assertNoSecret(t, err, createToken, readToken, devToken, apiToken, tt.token)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("CreateRunner() error = %v, want %v", err, tt.wantErr)
				}
				for _, w := range tt.wantInErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				if got := s.CreatedRunners(); len(got) != 0 {
					t.Errorf("runners created after an error: %v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("CreateRunner() = %v", err)
			}
			if !strings.HasPrefix(run.Token, tt.wantToken) || run.ID == 0 {
				t.Errorf("CreateRunner() = id %d token prefix %q, want %s", run.ID, run.Token[:8], tt.wantToken)
			}
			created := s.CreatedRunners()
			if len(created) != 1 || created[0].Token != run.Token {
				t.Fatalf("CreatedRunners() = %v", created)
			}
			if tt.req.Description != "" {
				st := created[0].Settings
				if st.Description != "build-01" || !slices.Equal(st.Tags, []string{"docker", "linux"}) || st.RunUntagged ||
					!st.Locked || st.MaximumTimeout != 3600 || st.AccessLevel != "ref_protected" || st.MaintenanceNote != "rack 4" ||
					created[0].ProjectID != pid {
					t.Errorf("created settings = %+v", created[0])
				}
			}
			reqs := s.Requests()
			last := reqs[len(reqs)-1]
			if last.Header.Get("PRIVATE-TOKEN") != tt.token || strings.Contains(last.Path, tt.token) {
				t.Errorf("token not sent in PRIVATE-TOKEN only: %+v", last)
			}
		})
	}
}

func TestProjectAndGroupLookup(t *testing.T) {
	s, gid, pid := creationWorld(t)
	c := newClient(t, s.URL, gitlab.Options{})
	ctx := context.Background()
	p, err := c.Project(ctx, devToken, "group/sub/app")
	if err != nil || p.ID != pid || p.PathWithNamespace != "group/sub/app" {
		t.Fatalf("Project(path) = %+v, %v", p, err)
	}
	if reqs := s.Requests(); !strings.HasSuffix(reqs[len(reqs)-1].EscapedPath, "/projects/group%2Fsub%2Fapp") {
		t.Errorf("request path = %q, want the path URL-encoded as one segment", reqs[len(reqs)-1].EscapedPath)
	}
	if p, err = c.Project(ctx, devToken, "102"); err == nil {
		t.Errorf("Project(a project dave is no member of) = %+v, want 404", p)
	} else if !errors.Is(err, gitlab.ErrNotFound) || !strings.Contains(err.Error(), "404 Project Not Found") {
		t.Errorf("Project(invisible) error = %v, want ErrNotFound", err)
	}
	if _, err := c.Project(ctx, createToken, "group/sub/app"); !errors.Is(err, gitlab.ErrAPIScope) {
		t.Errorf("Project() with a create_runner-only token = %v, want ErrAPIScope", err)
	}
	g, err := c.Group(ctx, apiToken, "group")
	if err != nil || g.ID != gid || g.FullPath != "group" {
		t.Errorf("Group() = %+v, %v", g, err)
	}
	if _, err := c.Group(ctx, apiToken, "nope"); !errors.Is(err, gitlab.ErrNotFound) {
		t.Errorf("Group(missing) = %v, want ErrNotFound", err)
	}
}

// The wizard's picker: who the token is, its scopes, and the projects and
// groups where it can create runners, searched and paged.
func TestWizardFacingCalls(t *testing.T) {
	s, _, _ := creationWorld(t)
	for i := range 25 {
		p := "group/many-" + string(rune('a'+i))
		s.AddProject(p)
		s.SetMember("alice", p, fakegitlab.Maintainer)
	}
	s.AddProject("group/reporter-only")
	s.SetMember("alice", "group/reporter-only", fakegitlab.Reporter)
	s.AddUserToken("glpat-SECRETalicefull000000004", "alice", "api")
	const full = "glpat-SECRETalicefull000000004"
	c := newClient(t, s.URL, gitlab.Options{})
	ctx := context.Background()

	info, err := c.TokenSelf(ctx, createToken)
	if err != nil || !info.CanCreateRunners() || info.HasScope("api") {
		t.Errorf("TokenSelf(create_runner token) = %+v, %v", info, err)
	}
	if _, err := c.CurrentUser(ctx, createToken); !errors.Is(err, gitlab.ErrAPIScope) {
		t.Errorf("CurrentUser(create_runner-only) = %v, want ErrAPIScope", err)
	}
	u, err := c.CurrentUser(ctx, full)
	if err != nil || u.Username != "alice" || u.IsAdmin {
		t.Errorf("CurrentUser() = %+v, %v", u, err)
	}

	var all []string
	opts := gitlab.ListOptions{PerPage: 10}
	for page := 1; page != 0; {
		opts.Page = page
		pp, err := c.CreatableProjects(ctx, full, opts)
		if err != nil {
			t.Fatalf("CreatableProjects(page %d) = %v", page, err)
		}
		for _, p := range pp.Projects {
			all = append(all, p.PathWithNamespace)
		}
		page = pp.NextPage
	}
	if len(all) != 26 || all[0] != "group/many-a" || slices.Contains(all, "group/reporter-only") {
		t.Errorf("CreatableProjects over all pages = %d %v", len(all), all)
	}
	pp, err := c.CreatableProjects(ctx, full, gitlab.ListOptions{Search: "app"})
	if err != nil || len(pp.Projects) != 1 || pp.Projects[0].PathWithNamespace != "group/sub/app" || pp.NextPage != 0 {
		t.Errorf("CreatableProjects(search app) = %+v, %v", pp, err)
	}
	// A group runner needs Owner of the group: a Maintainer's groups are
	// not offered.
	s.SetMember("alice", "group", fakegitlab.Maintainer)
	if gp, err := c.CreatableGroups(ctx, full, gitlab.ListOptions{}); err != nil || len(gp.Groups) != 0 {
		t.Errorf("CreatableGroups(Maintainer) = %+v, %v; want none", gp, err)
	}
	s.SetMember("alice", "group", fakegitlab.Owner)
	gp, err := c.CreatableGroups(ctx, full, gitlab.ListOptions{})
	if err != nil || len(gp.Groups) != 1 || gp.Groups[0].FullPath != "group" {
		t.Errorf("CreatableGroups() = %+v, %v", gp, err)
	}
	assertNoSecret(t, err, full)
}

func TestRunnerDetailsUpdateDelete(t *testing.T) {
	s, _, pid := creationWorld(t)
	c := newClient(t, s.URL, gitlab.Options{})
	ctx := context.Background()
	run, err := c.CreateRunner(ctx, createToken, gitlab.CreateRunnerRequest{RunnerType: gitlab.ProjectType, ProjectID: pid, Description: "x"})
	if err != nil {
		t.Fatal(err)
	}
	// create_runner cannot read it back: GET /runners/:id wants api,
	// read_api or manage_runner.
	if _, err := c.RunnerDetails(ctx, createToken, run.ID); !errors.Is(err, gitlab.ErrAPIScope) {
		t.Errorf("RunnerDetails(create_runner token) = %v, want ErrAPIScope", err)
	}
	d, err := c.RunnerDetails(ctx, readToken, run.ID)
	if err != nil || d.Description != "x" || !d.RunUntagged || d.Locked || d.RunnerType != gitlab.ProjectType || d.AccessLevel != "not_protected" {
		t.Fatalf("RunnerDetails() = %+v, %v", d, err)
	}
	if _, err := c.RunnerDetails(ctx, devToken, run.ID); !errors.Is(err, gitlab.ErrAPIForbidden) || errors.Is(err, gitlab.ErrAPIScope) {
		t.Errorf("RunnerDetails(developer) = %v, want ErrAPIForbidden (the role)", err)
	}
	if _, err := c.RunnerDetails(ctx, apiToken, 99999); !errors.Is(err, gitlab.ErrRunnerNotFound) {
		t.Errorf("RunnerDetails(missing) = %v, want ErrRunnerNotFound", err)
	}
	desc, locked, timeout := "y", true, 7200
	got, err := c.UpdateRunner(ctx, apiToken, run.ID, gitlab.RunnerUpdate{Description: &desc, Locked: &locked,
		Tags: []string{"a", "b"}, MaximumTimeout: &timeout})
	if err != nil || got.Description != "y" || !got.Locked || !slices.Equal(got.Tags, []string{"a", "b"}) || got.MaximumTimeout != 7200 {
		t.Fatalf("UpdateRunner() = %+v, %v", got, err)
	}
	short := 60
	if _, err := c.UpdateRunner(ctx, apiToken, run.ID, gitlab.RunnerUpdate{MaximumTimeout: &short}); !errors.Is(err, gitlab.ErrBadRequest) ||
		!strings.Contains(err.Error(), "needs to be at least 10 minutes") {
		t.Errorf("UpdateRunner(timeout 60) = %v, want GitLab's 400", err)
	}
	if err := c.DeleteRunner(ctx, readToken, run.ID); !errors.Is(err, gitlab.ErrAPIScope) {
		t.Errorf("DeleteRunner(read_api) = %v, want ErrAPIScope", err)
	}
	if err := c.DeleteRunner(ctx, apiToken, run.ID); err != nil {
		t.Fatalf("DeleteRunner() = %v", err)
	}
	if cr := s.CreatedRunners(); len(cr) != 1 || !cr[0].Deleted {
		t.Errorf("after delete: %v", cr)
	}
	if _, err := c.Verify(ctx, run.Token, sysID); !errors.Is(err, gitlab.ErrTokenInvalid) {
		t.Errorf("Verify(deleted runner's token) = %v, want ErrTokenInvalid", err)
	}
}

func TestCheckTokenDestination(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		env     map[string]string
		wantErr string
	}{
		{name: "https, no GITLAB_HOST", url: "https://gitlab.example.com"},
		{name: "http to loopback", url: "http://127.0.0.1:8080"},
		{name: "http to localhost", url: "http://localhost:8080/gitlab"},
		{name: "http to ::1", url: "http://[::1]:8080"},
		{name: "http elsewhere", url: "http://gitlab.example.com", wantErr: "plain http"},
		// Go's proxy exclusion (and so the token's path) treats only the
		// literal localhost and loopback IPs as local: a *.localhost name
		// goes through HTTP_PROXY.
		{name: "http to a .localhost name", url: "http://gitlab.localhost:8080", wantErr: "plain http"},
		{name: "GITLAB_HOST the same host", url: "https://gitlab.example.com", env: map[string]string{"GITLAB_HOST": "gitlab.example.com"}},
		{name: "GITLAB_HOST as a URL, any case", url: "https://gitlab.example.com/", env: map[string]string{"GITLAB_HOST": "https://GitLab.Example.com"}},
		{name: "GITLAB_HOST another host", url: "https://gitlab.example.com", env: map[string]string{"GITLAB_HOST": "gitlab.com"},
			wantErr: "GITLAB_HOST=gitlab.com says the API token belongs to another GitLab"},
		{name: "GITLAB_HOST another port", url: "https://gitlab.example.com:8443", env: map[string]string{"GITLAB_HOST": "gitlab.example.com:443"},
			wantErr: "another GitLab"},
		{name: "GL_HOST as glab reads it", url: "https://a.example", env: map[string]string{"GL_HOST": "b.example"}, wantErr: "GL_HOST=b.example"},
		{name: "empty GITLAB_HOST is unset", url: "https://a.example", env: map[string]string{"GITLAB_HOST": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			err := gitlab.CheckTokenDestination(tt.url, lookup)
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("CheckTokenDestination() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, gitlab.ErrTokenDestination) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("CheckTokenDestination() = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestTokenFromEnv(t *testing.T) {
	env := map[string]string{"GITLAB_ACCESS_TOKEN": "second", "GITLAB_TOKEN": "  "}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if got := gitlab.TokenFromEnv(lookup); got.Value != "second" || got.Source != "GITLAB_ACCESS_TOKEN" {
		t.Errorf("TokenFromEnv() = %+v, want GITLAB_ACCESS_TOKEN's (GITLAB_TOKEN is blank)", got)
	}
	env["GITLAB_TOKEN"] = "first"
	if got := gitlab.TokenFromEnv(lookup); got.Value != "first" || got.String() != "API token from GITLAB_TOKEN" {
		t.Errorf("TokenFromEnv() = %+v (%s), want GITLAB_TOKEN's", got, got)
	}
}

// An API token over plain http through a proxy: found in review, with
// HTTP_PROXY set the token went to the proxy in clear, although the
// destination was loopback. The client refuses before sending anything.
func TestAPITokenNotSentThroughProxyOverHTTP(t *testing.T) {
	s, _, _ := creationWorld(t)
	trap, conns := testenv.Trap(t)
	proxy, _ := url.Parse("http://" + trap)
	hc := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}}
	c, err := gitlab.New(s.URL, gitlab.Options{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckAPITokenRoute(); !errors.Is(err, gitlab.ErrTokenDestination) || !strings.Contains(err.Error(), "proxy") {
		t.Errorf("CheckAPITokenRoute() = %v, want a refusal naming the proxy", err)
	}
	_, err = c.TokenSelf(context.Background(), createToken)
	if !errors.Is(err, gitlab.ErrTokenDestination) {
		t.Errorf("TokenSelf through an http proxy = %v, want ErrTokenDestination", err)
	}
	if err != nil && strings.Contains(err.Error(), createToken) {
		t.Errorf("error shows the token: %v", err)
	}
	if n := conns(); n != 0 {
		t.Errorf("the proxy got %d connection(s) carrying the API token", n)
	}
	// Without a proxy the same client setup reaches the loopback GitLab.
	direct, _ := gitlab.New(s.URL, gitlab.Options{HTTPClient: &http.Client{Transport: &http.Transport{}}})
	if err := direct.CheckAPITokenRoute(); err != nil {
		t.Errorf("direct CheckAPITokenRoute() = %v", err)
	}
	if _, err := direct.TokenSelf(context.Background(), createToken); err != nil {
		t.Errorf("direct TokenSelf = %v", err)
	}
}
