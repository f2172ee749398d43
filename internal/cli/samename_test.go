package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/testenv"
)

// A runner entry with the answers' name but another GitLab's url is not
// the answers' runner: its token belongs to that other GitLab. Found in
// review: apply treated it as "created before", sent PUT /runners/<its id>
// to the new GitLab (changing an unrelated runner there) and rewrote its
// url, so the old token now pointed at the new host.

const (
	oldHostToken = "glrt-OLDHOSTOLDHOSTOLDHOST1"
	// newHostToken belongs to runner #1008 on the new GitLab: an unrelated
	// runner that happens to have the id the old entry records.
	newHostToken = "glrt-NEWHOSTUNRELATED10081"
	adminToken   = "glpat-SECRETadminADMINadmin0001"
	migEntry     = `[[runners]]
  name = "mig"
  url = "https://old-gitlab.example.com"
  id = 1008
  token = "` + oldHostToken + `"
  executor = "shell"
`
	migAnswers = `version = 1

[gitlab]
url = "GITLAB_URL"
name = "mig"

[gitlab.create]
project = "group/app"
tags = ["migrated"]
paused = true

[runner]
executor = "shell"
`
)

// migrationSetup: config.toml holds "mig" for the old GitLab; the new
// GitLab (the fake) has an unrelated runner #1008 that the admin's token
// may manage, so a PUT to it would succeed.
func migrationSetup(t *testing.T, answers string) *testSetup {
	t.Helper()
	s, _ := createSetup(t, answers)
	s.gitlab.AddRunner(newHostToken, 1008)
	s.gitlab.AddUser("root", true)
	s.gitlab.AddUserToken(adminToken, "root", "api")
	s.env["GITLAB_TOKEN"] = adminToken
	writeFile(t, s.config, otherRunners+migEntry, 0o600)
	return s
}

func TestCreateSameNameOnOtherGitLabCreates(t *testing.T) {
	for _, probes := range []bool{false, true} {
		name := "skip-probes"
		if probes {
			name = "live checks"
		}
		t.Run(name, func(t *testing.T) {
			s := migrationSetup(t, migAnswers)
			s.probes = probes
			r := s.apply(t)
			if r.code != 0 {
				t.Fatalf("apply (%d):\n%s%s", r.code, r.stdout, r.stderr)
			}
			if n := countRequests(s.gitlab, "PUT", "/api/v4/runners/1008"); n != 0 {
				t.Errorf("apply sent %d PUT /runners/1008 to the new GitLab for the old GitLab's entry", n)
			}
			if n := countRequests(s.gitlab, "POST", "/api/v4/user/runners"); n != 1 {
				t.Errorf("%d POST /user/runners, want 1 (a runner on this GitLab is created)", n)
			}
			for _, req := range s.gitlab.Requests() {
				if tok, _ := req.Body["token"].(string); tok == oldHostToken {
					t.Errorf("the old GitLab's token was sent to the new one: %s %s", req.Method, req.Path)
				}
			}
			data, err := os.ReadFile(s.config)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(data), otherRunners+migEntry) {
				t.Errorf("the old GitLab's entry changed:\n%s", data)
			}
			res := testenv.CheckRunnerConfig(t, data)
			if len(res.Runners) != 3 || res.Runners[2].Name != "mig" || res.Runners[2].URL != s.gitlab.URL {
				t.Errorf("want a third entry \"mig\" for %s; runner-oracle: %+v", s.gitlab.URL, res.Runners)
			}
			if !strings.Contains(r.stderr, "https://old-gitlab.example.com") {
				t.Errorf("no warning names the other GitLab's entry:\n%s", r.stderr)
			}
			// A re-apply finds the new entry (name and url) and keeps it.
			again := s.apply(t)
			if again.code != 0 || !strings.Contains(again.stdout, "no changes") {
				t.Errorf("re-apply (%d):\n%s%s", again.code, again.stdout, again.stderr)
			}
			if n := countRequests(s.gitlab, "POST", "/api/v4/user/runners"); n != 1 {
				t.Errorf("%d POST /user/runners after the re-apply, want 1", n)
			}
			assertNoSecrets(t, "output", r.stdout+r.stderr+again.stdout+again.stderr, append(createdTokens(s.gitlab), adminToken, oldHostToken)...)
		})
	}
}

// An authentication token for a name that config.toml holds for another
// GitLab: runnerup does not guess whether the runner moved (exit 2,
// naming both urls), and contacts nothing.
func TestTokenSameNameOnOtherGitLabRefused(t *testing.T) {
	s := migrationSetup(t, strings.Replace(strings.Replace(migAnswers, "[gitlab.create]\nproject = \"group/app\"\ntags = [\"migrated\"]\npaused = true\n", "", 1),
		`name = "mig"`, "name = \"mig\"\ntoken = \"env:RUNNER_TOKEN\"", 1))
	s.env["RUNNER_TOKEN"] = testToken
	before := snapshot(t, s.dir)
	r := s.apply(t)
	if r.code != ExitInput {
		t.Fatalf("exit %d, want 2:\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{`"mig"`, "https://old-gitlab.example.com", s.gitlab.URL, "gitlab.name"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, r.stderr)
		}
	}
	if n := len(s.gitlab.Requests()); n != 0 {
		t.Errorf("%d request(s) reached GitLab", n)
	}
	assertSameSnapshot(t, before, snapshot(t, s.dir))
	assertNoSecrets(t, "output", r.stdout+r.stderr, testToken, oldHostToken)
}

// The settings of a runner created before are read and updated only for
// the runner config.toml's token belongs to: when GitLab's verify names
// another id than the entry's, nothing is PUT.
func TestCreateReconcileChecksVerifiedID(t *testing.T) {
	s := migrationSetup(t, migAnswers)
	// The entry is on this GitLab with runner #1008's id, but its token is
	// another runner's (#4242, newSetup's).
	writeFile(t, s.config, otherRunners+`[[runners]]
  name = "mig"
  url = "`+s.gitlab.URL+`"
  id = 1008
  token = "`+testToken+`"
  executor = "shell"
`, 0o600)
	r := s.apply(t)
	if r.code != 0 {
		t.Fatalf("apply (%d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := countRequests(s.gitlab, "PUT", "/api/v4/runners/1008"); n != 0 {
		t.Errorf("%d PUT /runners/1008 for an entry whose token is runner #4242's", n)
	}
	if !strings.Contains(r.stderr, "#4242") || !strings.Contains(r.stderr, "1008") {
		t.Errorf("no warning names both ids:\n%s", r.stderr)
	}
}
