package wizard

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
	"github.com/runnerup/runnerup/probe"
)

func envOf(m map[string]string) Env {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// createLab is a GitLab with alice, Maintainer of two projects and Owner
// of one group, and tokens with different scopes.
func createLab(t *testing.T) *fakegitlab.Server {
	t.Helper()
	srv := fakegitlab.New(t)
	srv.AddUserToken("glpat-alice-create", "alice", "create_runner", "read_api", "read_user")
	srv.AddUserToken("glpat-alice-readonly", "alice", "read_api", "read_user")
	srv.AddUserToken("glpat-alice-expired", "alice", "api")
	srv.ExpireToken("glpat-alice-expired")
	srv.AddUserToken("glpat-alice-createonly", "alice", "create_runner")
	for _, p := range []string{"team/app", "team/web", "other/secret"} {
		srv.AddProject(p)
	}
	srv.AddGroup("team")
	srv.SetMember("alice", "team/app", fakegitlab.Maintainer)
	srv.SetMember("alice", "team/web", fakegitlab.Developer)
	srv.SetMember("alice", "team", fakegitlab.Owner)
	return srv
}

func TestCheckAPIToken(t *testing.T) {
	srv := createLab(t)
	tests := []struct {
		name       string
		token      string
		env        map[string]string
		want       probe.Status
		wantDetail string
		wantList   bool
		noRequest  bool
	}{
		{name: "can create", token: "glpat-alice-create", want: probe.Pass, wantDetail: "@alice can create runners · scopes create_runner, read_api, read_user", wantList: true},
		{name: "from GITLAB_TOKEN", env: map[string]string{"GITLAB_TOKEN": "glpat-alice-create"}, want: probe.Pass, wantDetail: "@alice can create runners", wantList: true},
		{name: "from GITLAB_ACCESS_TOKEN", env: map[string]string{"GITLAB_ACCESS_TOKEN": "glpat-alice-create"}, want: probe.Pass, wantDetail: "@alice"},
		{name: "lacks create_runner", token: "glpat-alice-readonly", want: probe.Fail, wantDetail: "@alice has scopes read_api, read_user: without create_runner or api it cannot create runners"},
		{name: "create_runner only", token: "glpat-alice-createonly", want: probe.Pass, wantDetail: "its user is unknown (no read_user scope) can create runners"},
		{name: "expired", token: "glpat-alice-expired", want: probe.Fail, wantDetail: "GitLab rejected the API token you entered (401)"},
		{name: "none", want: probe.Fail, wantDetail: "no API token", noRequest: true},
		{name: "GITLAB_HOST names another GitLab", token: "glpat-alice-create", env: map[string]string{"GITLAB_HOST": "gitlab.other.example"},
			want: probe.Fail, wantDetail: "GITLAB_HOST=gitlab.other.example says the API token belongs to another GitLab", noRequest: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.Requests())
			a := &Answers{GitLab: GitLab{URL: srv.URL, Create: &Create{APIToken: tt.token}}}
			r := CheckAPIToken(context.Background(), a, ApplyOptions{Env: envOf(tt.env)})
			if r.ID != IDAPIToken || r.Status != tt.want || !strings.Contains(r.Detail, tt.wantDetail) {
				t.Fatalf("got %s %s %q (hint %q), want %s containing %q", r.ID, r.Status, r.Detail, r.Hint, tt.want, tt.wantDetail)
			}
			for _, secret := range []string{"glpat-alice"} {
				if strings.Contains(r.Detail+r.Hint, secret) {
					t.Errorf("the result shows the token: %q %q", r.Detail, r.Hint)
				}
			}
			if info, ok := r.Data.(APITokenInfo); tt.want == probe.Pass && (!ok || info.CanList != tt.wantList && tt.wantList) {
				t.Errorf("data %+v", r.Data)
			}
			if sent := len(srv.Requests()) - before; tt.noRequest && sent != 0 {
				t.Errorf("%d request(s) sent; the token must not leave before the checks allow it", sent)
			}
		})
	}
}

func TestListCreateTargets(t *testing.T) {
	srv := createLab(t)
	for i := range 25 {
		p := fmt.Sprintf("many/p%02d", i)
		srv.AddProject(p)
		srv.SetMember("alice", p, fakegitlab.Maintainer)
	}
	a := &Answers{GitLab: GitLab{URL: srv.URL, Create: &Create{APIToken: "glpat-alice-create"}}}
	ctx := context.Background()
	paths := func(p TargetPage) []string {
		var out []string
		for _, t := range p.Targets {
			out = append(out, t.Value())
		}
		return out
	}

	// Projects where alice may create runners (Maintainer), by pages.
	p1, err := ListCreateTargets(ctx, a, ApplyOptions{}, TargetProject, "", 1)
	if err != nil || len(p1.Targets) != 20 || p1.NextPage != 2 {
		t.Fatalf("page 1: %d targets, next %d, err %v", len(p1.Targets), p1.NextPage, err)
	}
	p2, err := ListCreateTargets(ctx, a, ApplyOptions{}, TargetProject, "", 2)
	// 25 + team/app + team/web (alice owns the group team, so she is an
	// Owner of its projects too, as in GitLab).
	if err != nil || len(p2.Targets) != 7 || p2.NextPage != 0 {
		t.Fatalf("page 2: %v next %d err %v", paths(p2), p2.NextPage, err)
	}
	all := append(paths(p1), paths(p2)...)
	for _, not := range []string{"project:other/secret"} {
		for _, got := range all {
			if got == not {
				t.Errorf("%s listed: alice is not a Maintainer there", not)
			}
		}
	}
	// A search narrows it.
	s, err := ListCreateTargets(ctx, a, ApplyOptions{}, TargetProject, "app", 1)
	if err != nil || !reflect.DeepEqual(paths(s), []string{"project:team/app"}) {
		t.Errorf("search app: %v %v", paths(s), err)
	}
	// Groups need Owner.
	g, err := ListCreateTargets(ctx, a, ApplyOptions{}, TargetGroup, "", 1)
	if err != nil || !reflect.DeepEqual(paths(g), []string{"group:team"}) {
		t.Errorf("groups: %v %v", paths(g), err)
	}
	// A token that may not list says what to do instead.
	a.GitLab.Create.APIToken = "glpat-alice-createonly"
	_, err = ListCreateTargets(ctx, a, ApplyOptions{}, TargetProject, "", 1)
	if msg := DescribeLookupError(err); !strings.Contains(msg, "read_api") || !strings.Contains(msg, "type the full path") {
		t.Errorf("listing without read_api: %v → %q", err, msg)
	}
}

func TestCreateTargetValue(t *testing.T) {
	tests := []struct {
		value, wantType, wantProject, wantGroup, back string
	}{
		{"project:team/app", "project_type", "team/app", "", "project:team/app"},
		{"team/app", "project_type", "team/app", "", "project:team/app"},
		{"group:team/sub", "group_type", "", "team/sub", "group:team/sub"},
		{"instance", "instance_type", "", "", "instance"},
		{"", "", "", "", ""},
	}
	for _, tt := range tests {
		var c Create
		setCreateTarget(&c, tt.value)
		if c.RunnerType != tt.wantType || string(c.Project) != tt.wantProject || string(c.Group) != tt.wantGroup {
			t.Errorf("%q → %+v", tt.value, c)
		}
		if got := CreateTargetValue(c); got != tt.back {
			t.Errorf("%q → %q, want %q", tt.value, got, tt.back)
		}
	}
}

// TestCreateFieldsOnlyWithoutToken: "Do you have a runner token?" No hides
// the runner token and the registration questions and asks the create
// ones; the API token may be empty only when the environment holds one.
func TestCreateFieldsOnlyWithoutToken(t *testing.T) {
	st, _ := StepByID(StepGitLab)
	shown := func(a *Answers) []string {
		var out []string
		for _, f := range st.Fields {
			if !f.Hidden(a) {
				out = append(out, f.Key)
			}
		}
		return out
	}
	a := &Answers{}
	byKey := map[string]Field{}
	for _, f := range st.Fields {
		byKey[f.Key] = f
	}
	byKey["gitlab.create"].Set(a, "false")
	got := strings.Join(shown(a), " ")
	want := "gitlab.url gitlab.create gitlab.create.api_token gitlab.create.runner_type gitlab.create.tags gitlab.create.run_untagged " +
		"gitlab.create.description gitlab.create.maintenance_note gitlab.create.access_level gitlab.create.paused gitlab.create.locked gitlab.name gitlab.tls_ca_file"
	if got != want {
		t.Errorf("create path asks\n %s\nwant\n %s", got, want)
	}
	byKey["gitlab.create"].Set(a, "true")
	if a.GitLab.Create != nil || strings.Contains(strings.Join(shown(a), " "), "gitlab.create.") {
		t.Errorf("yes keeps the create questions: %v", shown(a))
	}
	tok := byKey["gitlab.create.api_token"]
	if err := tok.CheckIn(Context{}, ""); err == nil || !strings.Contains(err.Error(), "export GITLAB_TOKEN") {
		t.Errorf("empty API token without the environment: %v", err)
	}
	if err := tok.CheckIn(Context{APITokenEnv: "GITLAB_TOKEN"}, ""); err != nil {
		t.Errorf("empty API token with GITLAB_TOKEN set: %v", err)
	}
	if err := tok.CheckIn(Context{}, "glrt-abcdefghijklmnopqrst"); err == nil || !strings.Contains(err.Error(), "runner token, not an API token") {
		t.Errorf("a runner token as the API token: %v", err)
	}
}

// TestEncodeKeepsAPITokenAsGitLabToken: saved answers name glab's variable
// for an API token, never its value.
func TestEncodeKeepsAPITokenAsGitLabToken(t *testing.T) {
	a := &Answers{GitLab: GitLab{URL: "https://gitlab.example.com", Name: "r", Create: &Create{Project: "team/app", APIToken: "glpat-secret-value"}}}
	saved, err := Encode(a, false)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(saved.Data), "glpat-secret-value") || !strings.Contains(string(saved.Data), `api_token = "env:GITLAB_TOKEN"`) {
		t.Errorf("saved answers:\n%s", saved.Data)
	}
	if saved.EnvVars["GITLAB_TOKEN"] != "gitlab.create.api_token" {
		t.Errorf("env vars %v", saved.EnvVars)
	}
}
