package cli

import (
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
