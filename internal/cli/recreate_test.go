package cli

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/testenv"
)

// A runner [gitlab.create] made and then deleted in GitLab's UI: found in
// review, re-apply failed (exit 3) with a hint to create a runner in the UI
// and paste its glrt- token, which is what [gitlab.create] is there to
// avoid, and the settings warning blamed the token's scopes for the 404.
// Now apply says the runner was deleted and --recreate creates it again
// (consent: it replaces the entry's id and token).
func TestCreateDeletedRunnerRecreate(t *testing.T) {
	s, _ := createSetup(t, createAnswers)
	if r := s.apply(t); r.code != 0 {
		t.Fatalf("first apply (%d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	first := s.gitlab.CreatedRunners()[0]
	s.gitlab.DeleteRunner(first.ID)
	created, _ := os.ReadFile(s.config)

	for _, probes := range []bool{true, false} {
		s.probes = probes
		r := s.apply(t)
		if r.code != ExitCheckFailed {
			t.Fatalf("re-apply after the deletion (probes %v): exit %d, want 3:\n%s%s", probes, r.code, r.stdout, r.stderr)
		}
		for _, want := range []string{"#1001", "deleted in GitLab", "--recreate"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("probes %v: stderr does not say %q:\n%s", probes, want, r.stderr)
			}
		}
		for _, wrong := range []string{"use its glrt- token", "manage_runner"} {
			if strings.Contains(r.stderr, wrong) {
				t.Errorf("probes %v: stderr says %q, which is not the fix here:\n%s", probes, wrong, r.stderr)
			}
		}
	}
	// Without an API token nothing can be re-created: the hint says what
	// is needed.
	tok := s.env["GITLAB_TOKEN"]
	delete(s.env, "GITLAB_TOKEN")
	s.probes = true
	if r := s.apply(t); r.code != ExitCheckFailed || !strings.Contains(r.stderr, "GITLAB_TOKEN") || !strings.Contains(r.stderr, "--recreate") {
		t.Errorf("re-apply without GITLAB_TOKEN (%d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	s.env["GITLAB_TOKEN"] = tok
	if data, _ := os.ReadFile(s.config); string(data) != string(created) {
		t.Errorf("a refused re-apply changed config.toml")
	}

	dry := s.apply(t, "--recreate", "--dry-run")
	if dry.code != 0 || !strings.Contains(dry.stdout, "would-recreate") {
		t.Fatalf("--recreate --dry-run (%d):\n%s%s", dry.code, dry.stdout, dry.stderr)
	}
	if n := countRequests(s.gitlab, "POST", "/api/v4/user/runners"); n != 1 {
		t.Fatalf("--dry-run created a runner (%d POST in all)", n)
	}

	r := s.apply(t, "--recreate")
	if r.code != 0 || !strings.Contains(r.stdout, "recreated") {
		t.Fatalf("--recreate (%d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	all := s.gitlab.CreatedRunners()
	if len(all) != 2 || all[1].Deleted || all[1].ID == first.ID {
		t.Fatalf("created runners: %v", all)
	}
	data, _ := os.ReadFile(s.config)
	if !strings.HasPrefix(string(data), otherRunners) || strings.Count(string(data), "[[runners]]") != 2 {
		t.Errorf("config.toml:\n%s", data)
	}
	if !strings.Contains(string(data), `token = "`+all[1].Token+`"`) || !strings.Contains(string(data), "id = 1002") || strings.Contains(string(data), first.Token) {
		t.Errorf("the entry does not hold the new runner's id and token:\n%s", data)
	}
	testenv.CheckRunnerConfig(t, data)
	if again := s.apply(t); again.code != 0 || !strings.Contains(again.stdout, "no changes") {
		t.Errorf("apply after --recreate (%d):\n%s%s", again.code, again.stdout, again.stderr)
	}
	if n := countRequests(s.gitlab, "POST", "/api/v4/user/runners"); n != 2 {
		t.Errorf("%d POST /user/runners, want 2", n)
	}
	for _, out := range []result{dry, r} {
		assertNoSecrets(t, "output", out.stdout+out.stderr, append(createdTokens(s.gitlab), createAPIToken)...)
	}
}

// GET /runners/:id answering 404 means the runner is gone, not that the
// token lacks a scope.
func TestCreateSettingsNotFoundSaysDeleted(t *testing.T) {
	s, _ := createSetup(t, createAnswers)
	if r := s.apply(t); r.code != 0 {
		t.Fatalf("first apply (%d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	s.gitlab.Handle("GET /api/v4/runners/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"404 Runner Not Found"}`))
	})
	r := s.apply(t)
	if !strings.Contains(r.stderr, "not found in GitLab") || strings.Contains(r.stderr, "manage_runner") {
		t.Errorf("apply (%d): the 404 is not reported as a missing runner:\n%s%s", r.code, r.stdout, r.stderr)
	}
}
