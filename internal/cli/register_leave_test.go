package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// register with a registration token whose write fails: the runner just
// registered is unregistered again (DELETE /runners with its token), as
// gitlab-runner register does when it cannot finish, and --leave-runner
// keeps it. Found in review: --leave-runner was parsed, then ignored.
func TestRegisterWriteFailureUnregisters(t *testing.T) {
	for _, leave := range []bool{false, true} {
		s := newSetup(t, "")
		s.gitlab.AddRegistrationToken(corpusRegToken)
		writeFile(t, s.config, otherRunners, 0o600)
		readOnlyDir(t, filepath.Dir(s.config))
		args := []string{"register", "--non-interactive", "--url", s.gitlab.URL, "--registration-token", corpusRegToken,
			"--executor", "shell", "--name", "ro", "--config", s.config, "--skip-probes"}
		if leave {
			args = append(args, "--leave-runner")
		}
		r := runCLI(t, filepath.Join(s.dir, "home"), env{}, args...)
		if r.code != ExitWriteFailed {
			t.Fatalf("leave %v: exit %d, want 4:\n%s%s", leave, r.code, r.stdout, r.stderr)
		}
		if n := countRequests(s.gitlab, "POST", "/api/v4/runners"); n != 1 {
			t.Fatalf("leave %v: %d registrations", leave, n)
		}
		unregistered := s.gitlab.Unregistered(1001)
		switch {
		case !leave && (!unregistered || !strings.Contains(r.stderr, "so it was unregistered again")):
			t.Errorf("the runner registered but not saved was not unregistered (%v):\n%s", unregistered, r.stderr)
		case leave && (unregistered || !strings.Contains(r.stderr, "runner #1001") || !strings.Contains(r.stderr, "--leave-runner")):
			t.Errorf("--leave-runner: unregistered %v:\n%s", unregistered, r.stderr)
		}
		assertNoSecrets(t, "output", r.stdout+r.stderr, corpusRegToken)
	}
}

// --save-answers writes the answers file only after a successful apply:
// found in review, it was written first, also on --dry-run and when apply
// then failed (exit 2/3), leaving a file that had never worked.
func TestRegisterSaveAnswersOnlyAfterSuccess(t *testing.T) {
	tests := []struct {
		name  string
		prep  func(t *testing.T, s *testSetup)
		args  []string
		code  int
		saved bool
	}{
		{name: "dry run", args: []string{"--dry-run"}, code: 0},
		{name: "bad config.toml (exit 2)", prep: func(t *testing.T, s *testSetup) { writeFile(t, s.config, "[[runners]\n", 0o600) }, code: ExitInput},
		{name: "token GitLab rejects (exit 3)", args: []string{"--token", "glrt-UNKNOWNUNKNOWNUNKNOWN1"}, code: ExitCheckFailed},
		{name: "success", code: 0, saved: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, "")
			s.gitlab.AddRunner(corpusRunnerToken, 77)
			if tt.prep != nil {
				tt.prep(t, s)
			}
			saved := filepath.Join(s.dir, "runner.toml")
			args := append([]string{"register", "--non-interactive", "--url", s.gitlab.URL, "--token", corpusRunnerToken, "--executor", "shell",
				"--name", "saved", "--config", s.config, "--skip-probes", "--save-answers", saved}, tt.args...)
			r := runCLI(t, filepath.Join(s.dir, "home"), env{}, args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d:\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
			_, err := os.Stat(saved)
			if exists := err == nil; exists != tt.saved {
				t.Errorf("answers file written: %v, want %v\n%s%s", exists, tt.saved, r.stdout, r.stderr)
			}
			if !tt.saved && tt.code == 0 && !strings.Contains(r.stderr, "not saved") {
				t.Errorf("the dry run does not say the answers were not saved:\n%s", r.stderr)
			}
		})
	}
}
