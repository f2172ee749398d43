package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/testenv"
)

// Issue 13, defect 6: --offline contacts nothing (the GitLab fake counts
// every request), and every local input is read and checked before the
// first network call.

func TestApplyOfflineContactsNothing(t *testing.T) {
	const regToken = "GR1348941OfflineOfflineOff"
	tests := []struct {
		name string
		prep func(t *testing.T, s *testSetup)
		args []string
		code int
		// stdout+stderr must say these
		want []string
		// config.toml must hold this after the run ("" : not checked)
		wantConfig string
	}{
		{
			name: "new runner: the token is written unverified, with a warning",
			code: 0,
			want: []string{"gitlab.token", "not verified (--offline)", "unverified"},
			// the answers' token, written as given
			wantConfig: testToken,
		},
		{
			name: "dry run of a new runner",
			args: []string{"--dry-run"},
			code: 0,
			want: []string{"not verified (--offline)", "plan: write-unverified runner"},
		},
		{
			name: "runner already in config.toml: kept, nothing verified",
			prep: func(t *testing.T, s *testSetup) {
				writeFile(t, s.config, "concurrent = 1\n[[runners]]\n  name = \"build-01\"\n  url = \""+s.gitlab.URL+"\"\n  id = 4242\n  token = \""+testToken+"\"\n  executor = \"docker\"\n  [runners.docker]\n    image = \"alpine:3.19\"\n", 0o600)
			},
			code:       0,
			want:       []string{"kept", "live checks skipped (--offline)"},
			wantConfig: `image = "alpine:3.20"`,
		},
		{
			name: "registration token for a new runner: exit 2, naming the field",
			prep: func(t *testing.T, s *testSetup) {
				s.gitlab.AddRegistrationToken(regToken)
				s.env["RUNNER_TOKEN"] = regToken
			},
			code: ExitInput,
			want: []string{"gitlab.token", "registration token", "--offline"},
		},
		{
			name: "[gitlab.create] for a new runner: exit 2, naming the table",
			prep: func(t *testing.T, s *testSetup) {
				writeFile(t, s.answers, "version = 1\n[gitlab]\nurl = \""+s.gitlab.URL+"\"\nname = \"build-01\"\n[gitlab.create]\nproject = \"group/app\"\n[runner]\nexecutor = \"shell\"\n", 0o600)
				s.env["GITLAB_TOKEN"] = createAPIToken
			},
			code: ExitInput,
			want: []string{"gitlab.create", "--offline"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, "")
			s.probes = true // no --skip-probes: --offline alone
			if tt.prep != nil {
				tt.prep(t, s)
			}
			before := snapshot(t, s.dir)
			r := s.apply(t, append([]string{"--offline"}, tt.args...)...)
			if n := len(s.gitlab.Requests()); n != 0 {
				t.Errorf("--offline sent %d request(s) to GitLab: %v", n, s.gitlab.Requests())
			}
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d:\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout+r.stderr, w) {
					t.Errorf("output does not say %q:\n%s%s", w, r.stdout, r.stderr)
				}
			}
			if tt.code != 0 {
				assertSameSnapshot(t, before, snapshot(t, s.dir))
			}
			if tt.wantConfig != "" {
				data, _ := os.ReadFile(s.config)
				if !strings.Contains(string(data), tt.wantConfig) {
					t.Errorf("config.toml lacks %q:\n%s", tt.wantConfig, data)
				}
			}
			assertNoSecrets(t, "output", r.stdout+r.stderr, testToken, regToken, createAPIToken)
		})
	}
}

// A bad local input stops apply before GitLab hears of it, with or without
// the live checks.
func TestApplyLocalInputsBeforeNetwork(t *testing.T) {
	tests := []struct {
		name   string
		prep   func(t *testing.T, s *testSetup)
		probes bool
		want   []string
	}{
		{name: "malformed config.json, live checks", probes: true, prep: func(t *testing.T, s *testSetup) {
			writeFile(t, filepath.Join(s.docker, "config.json"), `{"auths": `, 0o600)
		}, want: []string{"config.json", "invalid JSON"}},
		{name: "malformed config.json, --skip-probes", prep: func(t *testing.T, s *testSetup) {
			writeFile(t, filepath.Join(s.docker, "config.json"), `{"auths": `, 0o600)
		}, want: []string{"config.json", "invalid JSON"}},
		{name: "config.json is a directory", probes: true, prep: func(t *testing.T, s *testSetup) {
			if err := os.MkdirAll(filepath.Join(s.docker, "config.json"), 0o700); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"config.json: is a directory"}},
		{name: ".runner_system_id unreadable (a directory)", probes: true, prep: func(t *testing.T, s *testSetup) {
			if err := os.MkdirAll(filepath.Join(filepath.Dir(s.config), ".runner_system_id"), 0o700); err != nil {
				t.Fatal(err)
			}
		}, want: []string{".runner_system_id"}},
		{name: "config.toml does not parse", probes: true, prep: func(t *testing.T, s *testSetup) {
			writeFile(t, s.config, "[[runners]\n", 0o600)
		}, want: []string{"config.toml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, registryAnswers)
			s.probes = tt.probes
			tt.prep(t, s)
			before := snapshot(t, s.dir)
			r := s.apply(t)
			if n := len(s.gitlab.Requests()); n != 0 {
				t.Errorf("GitLab got %d request(s) before the local inputs were checked: %v", n, s.gitlab.Requests())
			}
			if r.code != ExitInput {
				t.Fatalf("exit %d, want %d:\n%s%s", r.code, ExitInput, r.stdout, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
				}
			}
			assertSameSnapshot(t, before, snapshot(t, s.dir))
		})
	}
}

// --wait-contact and --prune-stale ask GitLab: not with --offline.
func TestApplyOfflineFlagConflicts(t *testing.T) {
	for _, args := range [][]string{{"--wait-contact"}, {"--prune-stale"}} {
		t.Run(args[0], func(t *testing.T) {
			s := newSetup(t, "")
			s.probes = true
			r := s.apply(t, append([]string{"--offline"}, args...)...)
			if r.code != ExitInput || !strings.Contains(r.stderr, "--offline") {
				t.Fatalf("exit %d:\n%s", r.code, r.stderr)
			}
			if n := len(s.gitlab.Requests()); n != 0 {
				t.Errorf("%d request(s)", n)
			}
		})
	}
}

// runnerup register --offline is apply's --offline: a --token is written
// unverified, a --registration-token is refused; GitLab hears nothing.
func TestRegisterOffline(t *testing.T) {
	const regToken = "GR1348941RegisterOfflineOf"
	tests := []struct {
		name  string
		token []string
		code  int
		want  string
	}{
		{"--token: written unverified", []string{"--token", testToken}, 0, "not verified (--offline)"},
		{"--registration-token: refused", []string{"--registration-token", regToken}, ExitInput, "gitlab.token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, "")
			s.gitlab.AddRegistrationToken(regToken)
			args := append([]string{"register", "--non-interactive", "--url", s.gitlab.URL, "--executor", "shell", "--name", "off",
				"--config", s.config, "--docker-config", s.docker, "--offline"}, tt.token...)
			r := runCLI(t, filepath.Join(s.dir, "home"), env{}, args...)
			if r.code != tt.code || !strings.Contains(r.stdout+r.stderr, tt.want) {
				t.Fatalf("exit %d, want %d and %q:\n%s%s", r.code, tt.code, tt.want, r.stdout, r.stderr)
			}
			if n := len(s.gitlab.Requests()); n != 0 {
				t.Errorf("register --offline sent %d request(s)", n)
			}
			assertNoSecrets(t, "output", r.stdout+r.stderr, testToken, regToken)
		})
	}
}

// Found in review: --offline still asked DOCKER_HOST for a gitlab-runner
// container (service detection), and did so before config.toml was read.
// Under --offline a Docker daemon reached over TCP or SSH is not asked at
// all; without it, only after every local input was read.
func TestOfflineAsksNoRemoteDockerDaemon(t *testing.T) {
	addr, conns := testenv.Trap(t) // a remote Docker daemon
	host := "tcp://" + addr
	t.Setenv("DOCKER_HOST", host) // the real detection reads the process environment
	realDetect := func(d *Deps) { d.DetectService = detectService }

	s := newSetup(t, "")
	s.env["DOCKER_HOST"] = host
	writeFile(t, s.answers, strings.ReplaceAll(shellAnswers, "GITLAB_URL", s.gitlab.URL), 0o600)
	r := runCLIDeps(t, realDetect, filepath.Join(s.dir, "home"), s.env, "apply", "--answers", s.answers, "--config", s.config, "--offline")
	if r.code != 0 {
		t.Fatalf("apply --offline (%d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := conns(); n != 0 {
		t.Errorf("apply --offline connected %d time(s) to the Docker daemon at %s", n, host)
	}
	if !strings.Contains(r.stderr, host) {
		t.Errorf("no warning says the daemon at %s was not asked:\n%s", host, r.stderr)
	}

	// Without --offline a bad config.toml stops apply before the daemon is
	// asked.
	writeFile(t, s.config, "[[runners]\n", 0o600)
	r = runCLIDeps(t, realDetect, filepath.Join(s.dir, "home"), s.env, "apply", "--answers", s.answers, "--config", s.config, "--skip-probes")
	if r.code != ExitInput {
		t.Fatalf("apply with a bad config.toml (%d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := conns(); n != 0 {
		t.Errorf("apply connected %d time(s) to the Docker daemon at %s before reading config.toml", n, host)
	}
}
