package cli

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
	"github.com/runnerup/runnerup/internal/testenv"
)

const (
	createAPIToken = "glpat-SECRETcreateRUNNERtoken01"
	createAnswers  = `version = 1

[gitlab]
url = "GITLAB_URL"
name = "build-01"

[gitlab.create]
project = "group/app"
description = "build box"
tags = ["docker", "linux"]
run_untagged = false
locked = true
maximum_timeout = 3600

[runner]
executor = "shell"
`
	otherRunners = `concurrent = 2
# a comment that must stay
[[runners]]
  name = "other"
  url = "https://other.example.com"
  token = "glrt-OTHEROTHEROTHEROTHER1"
  executor = "shell"
`
)

var glrtRE = regexp.MustCompile(`glrt-t[0-9]_[A-Za-z0-9_-]{6,}`)

// createSetup: a GitLab with group/app where alice is Maintainer and her
// token has create_runner; config.toml already holds another runner.
func createSetup(t *testing.T, answers string) (*testSetup, env) {
	t.Helper()
	s := newSetup(t, "")
	s.probes = true // shell executor: only GitLab and host checks, no daemon
	s.gitlab.AddGroup("group")
	s.gitlab.AddProject("group/app")
	s.gitlab.SetMember("alice", "group/app", fakegitlab.Maintainer)
	s.gitlab.AddUserToken(createAPIToken, "alice", "create_runner", "read_api", "manage_runner")
	writeFile(t, s.answers, strings.ReplaceAll(answers, "GITLAB_URL", s.gitlab.URL), 0o600)
	writeFile(t, s.config, otherRunners, 0o600)
	e := env{"GITLAB_TOKEN": createAPIToken}
	s.env = e
	return s, e
}

// createdToken is the glrt- token fakegitlab issued (to grep outputs for).
func createdTokens(s *fakegitlab.Server) []string {
	var out []string
	for _, r := range s.CreatedRunners() {
		if !strings.HasPrefix(r.Token, "<") {
			out = append(out, r.Token)
		}
	}
	return out
}

func TestCreateRunnerTwoAppliesOnePost(t *testing.T) {
	s, _ := createSetup(t, createAnswers)

	dry := s.apply(t, "--dry-run")
	if dry.code != 0 || !strings.Contains(dry.stdout, "would-create") ||
		!strings.Contains(dry.stdout, `plan: create runner "build-01" (new, executor shell); token from gitlab; will create a project runner in group/app (#101)`) {
		t.Fatalf("dry run (%d):\n%s%s", dry.code, dry.stdout, dry.stderr)
	}
	if n := countRequests(s.gitlab, "POST", "/api/v4/user/runners"); n != 0 {
		t.Fatalf("--dry-run created %d runners", n)
	}

	first := s.apply(t, "-o", "json")
	if first.code != 0 {
		t.Fatalf("first apply (%d):\n%s%s", first.code, first.stdout, first.stderr)
	}
	created := s.gitlab.CreatedRunners()
	if len(created) != 1 {
		t.Fatalf("created %v", created)
	}
	st := created[0].Settings
	if st.Description != "build box" || !slices.Equal(st.Tags, []string{"docker", "linux"}) || st.RunUntagged || !st.Locked ||
		st.MaximumTimeout != 3600 || created[0].RunnerType != "project_type" || created[0].ProjectID != 101 {
		t.Errorf("created runner = %v", created[0])
	}
	var out struct {
		Runner struct {
			Action    string `json:"action"`
			CreatedIn string `json:"created_in"`
		} `json:"runner"`
		Checks []struct {
			ID, Status, Detail string
		} `json:"checks"`
		Plan struct {
			Action string `json:"action"`
			Create struct {
				Target string `json:"target"`
				ID     int64  `json:"target_id"`
			} `json:"create"`
		} `json:"plan"`
	}
	_ = json.Unmarshal([]byte(first.stdout), &out)
	if out.Runner.Action != "created" || out.Runner.CreatedIn != "project group/app (#101)" || out.Plan.Action != "create" ||
		out.Plan.Create.Target != "group/app" || out.Plan.Create.ID != 101 {
		t.Errorf("json runner/plan = %+v %+v\n%s", out.Runner, out.Plan, first.stdout)
	}
	// The runner token check says why it has nothing to verify yet (not
	// "registration token").
	for _, c := range out.Checks {
		if c.ID == "gitlab.token" && (c.Status != "skip" || !strings.Contains(c.Detail, "[gitlab.create] creates it") || strings.Contains(c.Detail, "registration")) {
			t.Errorf("gitlab.token check: %s %q", c.Status, c.Detail)
		}
	}
	data, err := os.ReadFile(s.config)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), otherRunners) {
		t.Errorf("the other runner's bytes changed:\n%s", data)
	}
	if !strings.Contains(string(data), `token = "`+created[0].Token+`"`) || !strings.Contains(string(data), "id = 1001") {
		t.Errorf("config.toml lacks the created token or id:\n%s", data)
	}
	if st, _ := os.Stat(s.config); st.Mode().Perm() != 0o600 {
		t.Errorf("config.toml mode %04o", st.Mode().Perm())
	}
	testenv.CheckRunnerConfig(t, data)

	second := s.apply(t)
	if second.code != 0 || !strings.Contains(second.stdout, "kept") || !strings.Contains(second.stdout, "no changes") {
		t.Fatalf("second apply (%d):\n%s%s", second.code, second.stdout, second.stderr)
	}
	if n := countRequests(s.gitlab, "POST", "/api/v4/user/runners"); n != 1 {
		t.Errorf("two applies made %d POST /user/runners, want 1", n)
	}
	// The re-apply verified the on-disk token.
	if n := countRequests(s.gitlab, "POST", "/api/v4/runners/verify"); n < 1 {
		t.Errorf("the re-apply did not verify the on-disk token")
	}
	for _, r := range []result{dry, first, second} {
		assertNoSecrets(t, "output", r.stdout+r.stderr, append(createdTokens(s.gitlab), createAPIToken)...)
		if m := glrtRE.FindString(r.stdout + r.stderr); m != "" {
			t.Errorf("output holds a runner token: %q", m)
		}
	}
}

// probe --answers runs creation's read-only calls and the live checks, and
// creates nothing; its token check says why there is no token yet.
func TestProbeCreateAnswers(t *testing.T) {
	s, _ := createSetup(t, createAnswers)
	t.Setenv("GITLAB_TOKEN", createAPIToken) // probe reads the process environment
	r := runCLI(t, filepath.Join(s.dir, "home"), s.env, "probe", "--answers", s.answers, "--config", s.config, "--docker-config", s.docker, "-o", "json")
	if r.code != 0 {
		t.Fatalf("probe (%d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	out := decodeOut(t, r)
	expectFinding(t, out.check(t, "gitlab.api-token"), "pass", "")
	if c := out.check(t, "gitlab.create-target"); c.Status != "pass" || !strings.Contains(c.Detail, "project group/app (#101)") {
		t.Errorf("gitlab.create-target = %+v", c)
	}
	if c := out.check(t, "gitlab.token"); c.Status != "skip" || !strings.Contains(c.Detail, "[gitlab.create]") {
		t.Errorf("gitlab.token = %+v", c)
	}
	if n := countRequests(s.gitlab, "POST", "/api/v4/user/runners"); n != 0 {
		t.Errorf("probe created %d runners", n)
	}
	assertNoSecrets(t, "output", r.stdout+r.stderr, createAPIToken)
}

// --skip-probes skips the live checks, not GitLab: the runner is still
// created (after the API token and project checks).
func TestCreateSkipProbesStillCreates(t *testing.T) {
	s, _ := createSetup(t, createAnswers)
	s.probes = false
	r := s.apply(t)
	if r.code != 0 || !strings.Contains(r.stdout, `runner "build-01" created in GitLab (id 1001) for project group/app; its token is written to config.toml only`) ||
		!strings.Contains(r.stderr, "live checks skipped (--skip-probes)") {
		t.Fatalf("apply --skip-probes (%d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := countRequests(s.gitlab, "POST", "/api/v4/user/runners"); n != 1 {
		t.Errorf("%d POST /user/runners, want 1", n)
	}
	if n := countRequests(s.gitlab, "GET", "/api/v4/version"); n != 0 {
		t.Errorf("--skip-probes ran the GitLab live checks (%d GET /version)", n)
	}
}

// Server-side settings follow the answers: a change in GitLab's UI (or in
// the answers) is shown by --dry-run and the plan, and PUT only by apply.
func TestCreateReconcilesServerSettings(t *testing.T) {
	s, _ := createSetup(t, createAnswers)
	if r := s.apply(t); r.code != 0 {
		t.Fatalf("apply (%d): %s%s", r.code, r.stdout, r.stderr)
	}
	id := s.gitlab.CreatedRunners()[0].ID
	st := s.gitlab.CreatedRunners()[0].Settings
	st.Tags, st.Locked = []string{"docker"}, false
	s.gitlab.SetRunnerSettings(id, st)

	dry := s.apply(t, "--dry-run")
	if dry.code != 0 || !strings.Contains(dry.stdout, "; will update runner #1001 in GitLab (PUT /runners/1001): locked: false → true, tags: [docker] → [docker, linux]") {
		t.Fatalf("dry run (%d):\n%s%s", dry.code, dry.stdout, dry.stderr)
	}
	if n := countRequests(s.gitlab, "PUT", "/api/v4/runners/1001"); n != 0 {
		t.Fatalf("--dry-run sent %d PUT", n)
	}
	r := s.apply(t)
	if r.code != 0 || !strings.Contains(r.stdout, `; updated in GitLab (PUT /runners/1001): locked: false → true, tags: [docker] → [docker, linux]`) {
		t.Fatalf("apply (%d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	got := s.gitlab.CreatedRunners()[0].Settings
	if !got.Locked || !slices.Equal(got.Tags, []string{"docker", "linux"}) {
		t.Errorf("after apply: %+v", got)
	}
	if n := countRequests(s.gitlab, "PUT", "/api/v4/runners/1001"); n != 1 {
		t.Errorf("%d PUT, want 1", n)
	}
	if r := s.apply(t); r.code != 0 || strings.Contains(r.stdout, "update") {
		t.Errorf("third apply should change nothing (%d):\n%s", r.code, r.stdout)
	}
	// Without GITLAB_TOKEN the re-apply still works and says what it skipped.
	delete(s.env, "GITLAB_TOKEN")
	if r := s.apply(t); r.code != 0 || !strings.Contains(r.stderr, "no API token") {
		t.Errorf("apply without GITLAB_TOKEN (%d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := countRequests(s.gitlab, "POST", "/api/v4/user/runners"); n != 1 {
		t.Errorf("%d POST /user/runners, want 1", n)
	}
}

func TestCreateBadCases(t *testing.T) {
	tests := []struct {
		name     string
		answers  func(string) string
		prep     func(*testSetup)
		args     []string
		wantCode int
		want     []string
	}{
		{name: "no api token", prep: func(s *testSetup) { delete(s.env, "GITLAB_TOKEN") }, wantCode: ExitInput,
			want: []string{"export GITLAB_TOKEN"}},
		{name: "GITLAB_HOST names another GitLab", prep: func(s *testSetup) { s.env["GITLAB_HOST"] = "gitlab.com" }, wantCode: ExitInput,
			want: []string{"GITLAB_HOST=gitlab.com says the API token belongs to another GitLab"}},
		{name: "offline cannot create", args: []string{"--offline"}, wantCode: ExitInput, want: []string{"gitlab.create", "--offline contacts nothing"}},
		{name: "token and create together", answers: func(a string) string {
			return strings.Replace(a, `name = "build-01"`, "name = \"build-01\"\ntoken = \"env:GITLAB_TOKEN\"", 1)
		}, wantCode: ExitInput, want: []string{"gitlab.token: is set together with [gitlab.create]"}},
		{name: "401 invalid token", prep: func(s *testSetup) { s.env["GITLAB_TOKEN"] = "glpat-SECRETunknownTOKEN" }, wantCode: ExitCheckFailed,
			want: []string{"401"}},
		{name: "401 expired token", prep: func(s *testSetup) { s.gitlab.ExpireToken(createAPIToken) }, wantCode: ExitCheckFailed,
			want: []string{"Token has expired."}},
		{name: "403 missing create_runner scope", prep: func(s *testSetup) {
			s.gitlab.AddUserToken("glpat-SECRETreadONLYtoken0001", "alice", "read_api")
			s.env["GITLAB_TOKEN"] = "glpat-SECRETreadONLYtoken0001"
		}, wantCode: ExitCheckFailed, want: []string{"without create_runner or api"}},
		{name: "403 not maintainer", prep: func(s *testSetup) {
			s.gitlab.SetMember("dave", "group/app", fakegitlab.Developer)
			s.gitlab.AddUserToken("glpat-SECRETdeveloperTOKEN01", "dave", "create_runner", "read_api")
			s.env["GITLAB_TOKEN"] = "glpat-SECRETdeveloperTOKEN01"
		}, wantCode: ExitCheckFailed, want: []string{"refused to create a project runner in project group/app (403)", "Maintainer or Owner of the project"}},
		{name: "403 instance runner needs admin", answers: func(a string) string {
			return strings.Replace(a, `project = "group/app"`, `runner_type = "instance_type"`, 1)
		}, wantCode: ExitCheckFailed, want: []string{"instance runners can only be created by an administrator"}},
		{name: "404 project not found", answers: func(a string) string {
			return strings.Replace(a, `project = "group/app"`, `project = "group/nope"`, 1)
		}, wantCode: ExitCheckFailed, want: []string{`gitlab.create.project "group/nope": GitLab has no such project, or the token's user cannot see it (404)`}},
		{name: "path lookup without read_api", prep: func(s *testSetup) {
			s.gitlab.AddUserToken("glpat-SECRETcreateONLY000001", "alice", "create_runner")
			s.env["GITLAB_TOKEN"] = "glpat-SECRETcreateONLY000001"
		}, wantCode: ExitCheckFailed, want: []string{"needs the read_api scope", "give the numeric id instead"}},
		{name: "400 with GitLab's message", answers: func(a string) string {
			return strings.Replace(a, `description = "build box"`, `maintenance_note = "`+strings.Repeat("n", 1100)+`"`, 1)
		}, wantCode: ExitCheckFailed, want: []string{"Maintenance note is too long (maximum is 1024 characters)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answers := createAnswers
			if tt.answers != nil {
				answers = tt.answers(answers)
			}
			s, _ := createSetup(t, answers)
			if tt.prep != nil {
				tt.prep(s)
			}
			before := snapshot(t, s.dir)
			r := s.apply(t, tt.args...)
			if r.code != tt.wantCode {
				t.Fatalf("exit %d, want %d:\n%s%s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
				}
			}
			assertSameSnapshot(t, before, snapshot(t, s.dir))
			if got := len(createdTokens(s.gitlab)); got != 0 {
				t.Errorf("%d runners created", got)
			}
			assertNoSecrets(t, "output", r.stdout+r.stderr, createAPIToken, s.env["GITLAB_TOKEN"])
		})
	}
}

// A write that fails after GitLab created the runner deletes it again; when
// the delete fails too, the id and the command to remove it are printed.
func TestCreateWriteFailureRollsBack(t *testing.T) {
	const createOnly = "glpat-SECRETcreateREADonly0001"
	tests := []struct {
		name string
		prep func(s *testSetup)
		// deleted: the runner was deleted again; else stderr names it,
		// the command to remove it, and these
		deleted bool
		want    []string
	}{
		{name: "deleted", deleted: true, want: []string{"so it was deleted again"}},
		{name: "delete fails", prep: func(s *testSetup) {
			s.gitlab.Handle("DELETE /api/v4/runners/{id}", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write([]byte(`{"message":"500 Internal Server Error"}`))
			})
		}, want: []string{"500"}},
		// create_runner (+ read_api) may create but not delete.
		{name: "create_runner-only token cannot delete", prep: func(s *testSetup) {
			s.gitlab.AddUserToken(createOnly, "alice", "create_runner", "read_api")
			s.env["GITLAB_TOKEN"] = createOnly
		}, want: []string{"deleting needs the manage_runner or api scope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := createSetup(t, createAnswers)
			if tt.prep != nil {
				tt.prep(s)
			}
			readOnlyDir(t, filepath.Dir(s.config))
			r := s.apply(t)
			if r.code != ExitWriteFailed {
				t.Fatalf("exit %d, want %d:\n%s%s", r.code, ExitWriteFailed, r.stdout, r.stderr)
			}
			created := s.gitlab.CreatedRunners()
			if len(created) != 1 {
				t.Fatalf("created %v", created)
			}
			if created[0].Deleted != tt.deleted {
				t.Errorf("runner deleted = %v, want %v\n%s", created[0].Deleted, tt.deleted, r.stderr)
			}
			want := tt.want
			if !tt.deleted {
				want = append(want, "runner #1001 was created",
					`curl --request DELETE --header "PRIVATE-TOKEN: $GITLAB_TOKEN" `+s.gitlab.URL+"/api/v4/runners/1001")
			}
			for _, w := range want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
				}
			}
			assertNoSecrets(t, "output", r.stdout+r.stderr, append(createdTokens(s.gitlab), createAPIToken, createOnly)...)
			if data, _ := os.ReadFile(s.config); string(data) != otherRunners {
				t.Errorf("config.toml changed:\n%s", data)
			}
		})
	}
}

// readOnlyDir makes dir unwritable with its files still readable: chmod
// for a user, and for root (whom no mode stops) a read-only tmpfs mounted
// over it holding the same files.
func readOnlyDir(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if data, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
			files[e.Name()] = data
		}
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs to make %s read-only for root: %v", dir, err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Fatalf("remounting %s read-only: %v", dir, err)
	}
}
