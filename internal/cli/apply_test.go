package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
)

const testToken = "glrt-VALIDVALIDVALIDVALID42"

const baseAnswers = `version = 1
[gitlab]
url = "GITLAB_URL"
token = "env:RUNNER_TOKEN"
name = "build-01"
[runner]
executor = "docker"
[docker]
image = "alpine:3.20"
`

func TestNewCmdApplyFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    string
		want    ApplyOptions
		wantErr string
	}{
		{"defaults", "apply --answers a.toml", ApplyOptions{AnswersPath: "a.toml", Output: "text", Timeout: 10 * time.Second}, ""},
		{"all", "apply --answers a.toml --config c.toml --docker-config d --dry-run --replace-token -o json --timeout 3s",
			ApplyOptions{AnswersPath: "a.toml", ConfigPath: "c.toml", DockerConfigDir: "d", DryRun: true, ReplaceToken: true, Output: "json", Timeout: 3 * time.Second}, ""},
		{"missing answers", "apply", ApplyOptions{}, "--answers FILE is required"},
		{"bad output", "apply --answers a -o yaml", ApplyOptions{}, `--output must be text or json, not "yaml"`},
		{"bad timeout", "apply --answers a --timeout 0s", ApplyOptions{}, "--timeout must be positive"},
		{"extra arg", "apply --answers a extra", ApplyOptions{}, `unknown command "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseApplyFlags(t, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if code := ExitCode(err); code != ExitInput {
					t.Errorf("exit code %d, want %d", code, ExitInput)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.IO = nil
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("options = %+v, want %+v", *got, tt.want)
			}
		})
	}
}

// parseApplyFlags runs the command line args up to apply's run function
// and returns the options it was given.
func parseApplyFlags(t *testing.T, args string) (*ApplyOptions, error) {
	t.Helper()
	var got *ApplyOptions
	d := &Deps{IO: &IOStreams{Out: &strings.Builder{}, ErrOut: &strings.Builder{}}}
	root := NewRootCmd(d)
	for _, c := range root.Commands() {
		if c.Name() == "apply" {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(NewCmdApply(d, func(_ context.Context, o *ApplyOptions) error { got = o; return nil }))
	root.SetArgs(splitArgs(t, args))
	return got, root.Execute()
}

// TestApplyBadInput: every case is refused with exit code 2, names the
// field, and leaves the disk as it was.
func TestApplyBadInput(t *testing.T) {
	rep := func(old, new string) func(string) string {
		return func(s string) string {
			if !strings.Contains(s, old) {
				panic("test case does not apply: " + old)
			}
			return strings.Replace(s, old, new, 1)
		}
	}
	add := func(extra string) func(string) string { return func(s string) string { return s + extra } }
	tests := []struct {
		name   string
		edit   func(string) string
		env    env
		field  string // what stderr must name
		reason string // and what it must say
	}{
		{"malformed toml", add("[docker\n"), nil, "answers file", "line"},
		{"wrong type", rep(`executor = "docker"`, "executor = 5"), nil, "answers file", "executor"},
		{"pull_policy type", add("pull_policy = 5\n"), nil, "answers file", "pull_policy"},
		{"version too new", rep("version = 1", "version = 2"), nil, "version", "newer runnerup"},
		{"version zero", rep("version = 1", "version = -1"), nil, "version", "unsupported version"},
		{"unknown table", add("[gitlabb]\nurl = \"x\"\n"), nil, "gitlabb", `did you mean "gitlab"`},
		{"unknown key typo", add("privilaged = true\n"), nil, "docker.privilaged", `did you mean "docker.privileged"`},
		{"url empty", rep(`url = "GITLAB_URL"`, `url = ""`), nil, "gitlab.url", "is empty"},
		{"url no scheme", rep(`url = "GITLAB_URL"`, `url = "gitlab.example.com"`), nil, "gitlab.url", "has no scheme"},
		{"url ftp", rep(`url = "GITLAB_URL"`, `url = "ftp://gitlab.example.com"`), nil, "gitlab.url", `scheme "ftp"`},
		{"url api path", rep(`url = "GITLAB_URL"`, `url = "https://gitlab.example.com/api/v4"`), nil, "gitlab.url", "base URL"},
		{"url userinfo", rep(`url = "GITLAB_URL"`, `url = "https://u:p@gitlab.example.com"`), nil, "gitlab.url", "user info"},
		{"url query", rep(`url = "GITLAB_URL"`, `url = "https://gitlab.example.com/?x=1"`), nil, "gitlab.url", "query"},
		{"token env unset", nil, env{}, "gitlab.token", "environment variable RUNNER_TOKEN is not set"},
		{"token env empty", nil, env{"RUNNER_TOKEN": ""}, "gitlab.token", "is empty"},
		{"token file missing", rep(`token = "env:RUNNER_TOKEN"`, `token = "file:/nonexistent/token"`), nil, "gitlab.token", "no such file"},
		{"token whitespace", rep(`token = "env:RUNNER_TOKEN"`, `token = "glrt-abc def"`), nil, "gitlab.token", "white space"},
		{"token is a PAT", rep(`token = "env:RUNNER_TOKEN"`, `token = "glpat-xxxxxxxxxxxxxxxxxxxx"`), nil, "gitlab.token", "not a runner token"},
		{"token kind bogus", rep(`name = "build-01"`, "name = \"build-01\"\ntoken_kind = \"auth\""), nil, "gitlab.token_kind", `unknown kind "auth"`},
		{"token kind contradicts", rep(`name = "build-01"`, "name = \"build-01\"\ntoken_kind = \"registration\""), nil, "gitlab.token_kind", "prefix makes it a authentication token"},
		{"glrt with tags", rep(`name = "build-01"`, "name = \"build-01\"\ntags = [\"docker\"]"), nil, "gitlab.tags", "set in GitLab"},
		{"glrt with locked false", rep(`name = "build-01"`, "name = \"build-01\"\nlocked = false"), nil, "gitlab.locked", "set in GitLab"},
		{"glrt with run_untagged", rep(`name = "build-01"`, "name = \"build-01\"\nrun_untagged = true"), nil, "gitlab.run_untagged", "set in GitLab"},
		{"glrt with access level", rep(`name = "build-01"`, "name = \"build-01\"\naccess_level = \"ref_protected\""), nil, "gitlab.access_level", "set in GitLab"},
		{"registration bad access level", rep(`name = "build-01"`, "name = \"build-01\"\naccess_level = \"protected\""), env{"RUNNER_TOKEN": "GR1348941abcdefabcdefabcd"}, "gitlab.access_level", `unknown access level "protected"`},
		{"name newline", rep(`name = "build-01"`, `name = "a\nb"`), nil, "gitlab.name", "line break"},
		{"tls ca missing", rep(`name = "build-01"`, "name = \"build-01\"\ntls_ca_file = \"/nonexistent/ca.pem\""), nil, "gitlab.tls_ca_file", "cannot read"},
		{"executor typo", rep(`executor = "docker"`, `executor = "dokcer"`), nil, "runner.executor", `did you mean "docker"`},
		{"executor removed", rep(`executor = "docker"`, `executor = "docker-ssh"`), nil, "runner.executor", "removed in GitLab Runner 16.0"},
		{"shell cmd", add("[runner]\n"), nil, "answers file", "runner"}, // duplicate table
		{"shell removed", rep(`executor = "docker"`, "executor = \"shell\"\nshell = \"cmd\""), nil, "runner.shell", "cmd was removed"},
		{"concurrent zero", rep(`executor = "docker"`, "executor = \"docker\"\nconcurrent = 0"), nil, "runner.concurrent", "below 1"},
		{"limit negative", rep(`executor = "docker"`, "executor = \"docker\"\nlimit = -1"), nil, "runner.limit", "is -1"},
		{"env no equals", rep(`executor = "docker"`, "executor = \"docker\"\nenvironment = [\"NOEQUALS\"]"), nil, "runner.environment[0]", "KEY=VALUE"},
		{"env bad key", rep(`executor = "docker"`, "executor = \"docker\"\nenvironment = [\"A=1\", \"1BAD=x\"]"), nil, "runner.environment[1]", "not a valid variable name"},
		{"image missing", rep(`image = "alpine:3.20"`, ""), nil, "docker.image", "required for the docker executor"},
		{"image uppercase", rep(`image = "alpine:3.20"`, `image = "MyGroup/App:1"`), nil, "docker.image", "lower-case"},
		{"image url", rep(`image = "alpine:3.20"`, `image = "https://r.example/app:1"`), nil, "docker.image", "URL scheme"},
		{"image bad tag", rep(`image = "alpine:3.20"`, `image = "alpine:bad tag"`), nil, "docker.image", "white space"},
		{"volume relative", add("volumes = [\"cache\"]\n"), nil, "docker.volumes[0]", "must be absolute"},
		{"volume bad mode", add("volumes = [\"/a:/b:rx\"]\n"), nil, "docker.volumes[0]", `unknown mode "rx"`},
		{"pull policy typo", add("pull_policy = [\"allways\"]\n"), nil, "docker.pull_policy[0]", `did you mean "always"`},
		{"docker host", add("host = \"localhost:2375\"\n"), nil, "docker.host", "not a Docker host address"},
		{"service no name", add("[[docker.services]]\nalias = \"db\"\n"), nil, "docker.services[0].name", "is empty"},
		{"service bad alias", add("[[docker.services]]\nname = \"postgres:16\"\nalias = \"DB_1\"\n"), nil, "docker.services[0].alias", "not a valid host name"},
		{"service dup alias", add("[[docker.services]]\nname = \"postgres:16\"\nalias = \"db\"\n[[docker.services]]\nname = \"mysql:8\"\nalias = \"db\"\n"), nil, "docker.services[1].alias", "already the alias"},
		{"service bad image", add("[[docker.services]]\nname = \"Postgres:16\"\n"), nil, "docker.services[0].name", "lower-case"},
		{"registry scheme", add("[[registries]]\nhost = \"https://r.example:5000\"\nusername = \"u\"\npassword = \"p\"\n"), nil, "registries[0].host", `write "r.example:5000"`},
		{"registry path", add("[[registries]]\nhost = \"r.example/ns\"\nusername = \"u\"\npassword = \"p\"\n"), nil, "registries[0].host", "has a path"},
		{"registry no password", add("[[registries]]\nhost = \"r.example\"\nmethod = \"basic\"\nusername = \"u\"\n"), nil, "registries[0].password", "is empty"},
		{"registry bad method", add("[[registries]]\nhost = \"r.example\"\nmethod = \"token\"\n"), nil, "registries[0].method", `unknown method "token"`},
		{"helper prefixed", add("[[registries]]\nhost = \"r.example\"\nmethod = \"cred-helper\"\nhelper = \"docker-credential-ecr-login\"\n"), nil, "registries[0].helper", `write "ecr-login"`},
		{"helper path", add("[[registries]]\nhost = \"r.example\"\nmethod = \"cred-helper\"\nhelper = \"/usr/bin/x\"\n"), nil, "registries[0].helper", "not a bare helper name"},
		{"registry bad target", add("[[registries]]\nhost = \"r.example\"\nusername = \"u\"\npassword = \"p\"\ntarget = \"k8s\"\n"), nil, "registries[0].target", `unknown target "k8s"`},
		{"registry duplicate", add("[[registries]]\nhost = \"r.example\"\nusername = \"u\"\npassword = \"p\"\n[[registries]]\nhost = \"r.example\"\nusername = \"u\"\npassword = \"p\"\n"), nil, "registries[1].host", "already configured"},
		{"registry user colon", add("[[registries]]\nhost = \"r.example\"\nusername = \"u:x\"\npassword = \"p\"\n"), nil, "registries[0].username", "contains ':'"},
		{"password newline", add("[[registries]]\nhost = \"r.example\"\nusername = \"u\"\npassword = \"p\\n\"\n"), nil, "registries[0].password", "line break"},
		{"auth config conflict", nil, nil, "", ""},
	}
	// The last case needs a runner-env registry too.
	tests[len(tests)-1].edit = func(s string) string {
		s = strings.Replace(s, `executor = "docker"`, "executor = \"docker\"\nenvironment = [\"DOCKER_AUTH_CONFIG={}\"]", 1)
		return s + "[[registries]]\nhost = \"r.example\"\nusername = \"u\"\npassword = \"p\"\ntarget = \"runner-env\"\n"
	}
	tests[len(tests)-1].field, tests[len(tests)-1].reason = "runner.environment[0]", "DOCKER_AUTH_CONFIG"

	if len(tests) < 30 {
		t.Fatalf("only %d bad-input cases", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			text := baseAnswers
			if tt.edit != nil {
				text = tt.edit(text)
			}
			text = strings.ReplaceAll(text, "GITLAB_URL", "https://gitlab.example.com")
			answers := filepath.Join(dir, "answers.toml")
			writeFile(t, answers, text, 0o600)
			cfg := filepath.Join(dir, "etc", "config.toml")
			writeFile(t, cfg, "concurrent = 1\n", 0o600)
			e := tt.env
			if e == nil {
				e = env{"RUNNER_TOKEN": testToken}
			}
			before := snapshot(t, dir)
			r := runCLI(t, dir, e, "apply", "--answers", answers, "--config", cfg, "--docker-config", filepath.Join(dir, "docker"))
			if r.code != ExitInput {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", r.code, ExitInput, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.field) || !strings.Contains(r.stderr, tt.reason) {
				t.Errorf("stderr does not name %q with %q:\n%s", tt.field, tt.reason, r.stderr)
			}
			assertNoSecrets(t, "stderr", r.stderr, testToken)
			assertSameSnapshot(t, before, snapshot(t, dir))
		})
	}
}

// testSetup is a directory with an answers file pointing at a fake GitLab.
type testSetup struct {
	dir, answers, config, docker string
	gitlab                       *fakegitlab.Server
	env                          env
	// probes runs the live checks; unit tests have no daemon, so they skip.
	probes bool
}

func newSetup(t *testing.T, extra string) *testSetup {
	t.Helper()
	gl := fakegitlab.New(t)
	gl.AddRunner(testToken, 4242)
	dir := t.TempDir()
	s := &testSetup{
		dir: dir, gitlab: gl,
		answers: filepath.Join(dir, "answers.toml"),
		config:  filepath.Join(dir, "etc", "gitlab-runner", "config.toml"),
		docker:  filepath.Join(dir, "home", ".docker"),
		env:     env{"RUNNER_TOKEN": testToken, "REGISTRY_PASSWORD": "reg-pass-0123456789"},
	}
	writeFile(t, s.answers, strings.ReplaceAll(baseAnswers, "GITLAB_URL", gl.URL)+extra, 0o600)
	return s
}

func (s *testSetup) apply(t *testing.T, args ...string) result {
	t.Helper()
	base := []string{"apply", "--answers", s.answers, "--config", s.config, "--docker-config", s.docker}
	if !s.probes {
		base = append(base, "--skip-probes")
	}
	return runCLI(t, filepath.Join(s.dir, "home"), s.env, append(base, args...)...)
}

const registryAnswers = `
[[docker.services]]
name = "registry.example.com:5000/ci/postgres:16"
alias = "db"

[[registries]]
host = "registry.example.com:5000"
username = "ci"
password = "env:REGISTRY_PASSWORD"
`

func TestApplyWritesAndIsIdempotent(t *testing.T) {
	s := newSetup(t, registryAnswers)
	existingJSON := `{"proxies": {"default": {"httpProxy": "http://proxy:3128"}}, "HttpHeaders": {"X-Meta": "keep"}, "auths": {"ghcr.io": {"auth": "b2xkOm9sZA=="}}}`
	writeFile(t, filepath.Join(s.docker, "config.json"), existingJSON, 0o644)

	r := s.apply(t)
	if r.code != 0 {
		t.Fatalf("apply failed (%d): %s%s", r.code, r.stdout, r.stderr)
	}
	for _, where := range []string{r.stdout, r.stderr} {
		assertNoSecrets(t, "output", where, testToken, "reg-pass-0123456789")
	}
	if !strings.Contains(r.stdout, "verified") || !strings.Contains(r.stdout, "glrt-…ID42") {
		t.Errorf("stdout does not report the verified runner:\n%s", r.stdout)
	}
	// Modes: config.toml and config.json hold secrets.
	for _, p := range []string{s.config, filepath.Join(s.docker, "config.json"), filepath.Join(filepath.Dir(s.config), ".runner_system_id")} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %04o, want 0600", p, st.Mode().Perm())
		}
	}
	if st, _ := os.Stat(filepath.Dir(s.config)); st.Mode().Perm() != 0o700 {
		t.Errorf("created config dir mode %04o, want 0700", st.Mode().Perm())
	}
	// config.json: unknown keys kept, auth added, old file backed up.
	var cfg map[string]any
	data, _ := os.ReadFile(filepath.Join(s.docker, "config.json"))
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"proxies", "HttpHeaders", "auths"} {
		if _, ok := cfg[k]; !ok {
			t.Errorf("config.json lost %q", k)
		}
	}
	auths := cfg["auths"].(map[string]any)
	if _, ok := auths["ghcr.io"]; !ok {
		t.Errorf("config.json lost auths[ghcr.io]")
	}
	if got := auths["registry.example.com:5000"].(map[string]any)["auth"]; got != "Y2k6cmVnLXBhc3MtMDEyMzQ1Njc4OQ==" {
		t.Errorf("auth = %v", got)
	}
	backups, _ := filepath.Glob(filepath.Join(s.docker, "config.json.bak.*"))
	if len(backups) != 1 {
		t.Fatalf("want one backup of config.json, got %v", backups)
	}
	if b, _ := os.ReadFile(backups[0]); string(b) != existingJSON {
		t.Errorf("backup does not hold the previous bytes")
	}
	// GitLab saw one verify with the system id written beside config.toml.
	sysID, _ := os.ReadFile(filepath.Join(filepath.Dir(s.config), ".runner_system_id"))
	if managers := s.gitlab.Managers(testToken); !reflect.DeepEqual(managers, []string{string(sysID)}) {
		t.Errorf("managers = %v, want [%s]", managers, sysID)
	}
	toml1, _ := os.ReadFile(s.config)

	// Second run: no changes, no GitLab call, no new backup.
	calls := len(s.gitlab.Requests())
	r = s.apply(t)
	if r.code != 0 || !strings.Contains(r.stdout, "no changes") {
		t.Fatalf("re-apply: code %d, stdout %q", r.code, r.stdout)
	}
	if got := len(s.gitlab.Requests()); got != calls {
		t.Errorf("re-apply made %d GitLab calls", got-calls)
	}
	toml2, _ := os.ReadFile(s.config)
	if string(toml1) != string(toml2) {
		t.Errorf("re-apply changed config.toml")
	}
	if b, _ := filepath.Glob(s.config + ".bak.*"); len(b) != 0 {
		t.Errorf("re-apply left backups: %v", b)
	}

	// A changed answer: diff, then write with a backup of config.toml.
	text, _ := os.ReadFile(s.answers)
	writeFile(t, s.answers, strings.Replace(string(text), `image = "alpine:3.20"`, `image = "alpine:3.21"`, 1), 0o600)
	r = s.apply(t, "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, `+    image = "alpine:3.21"`) || !strings.Contains(r.stdout, "nothing written") {
		t.Fatalf("dry run: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	assertNoSecrets(t, "dry-run diff", r.stdout, testToken, "reg-pass-0123456789")
	if now, _ := os.ReadFile(s.config); string(now) != string(toml1) {
		t.Fatalf("dry run wrote config.toml")
	}
	r = s.apply(t, "-o", "json")
	if r.code != 0 {
		t.Fatalf("apply: %d %s", r.code, r.stderr)
	}
	var res struct {
		Changed    bool
		ConfigTOML struct{ Backup string } `json:"config_toml"`
		Runner     struct{ Action, Token string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("-o json output: %v\n%s", err, r.stdout)
	}
	if !res.Changed || res.ConfigTOML.Backup == "" || res.Runner.Action != "kept" {
		t.Errorf("json result = %+v", res)
	}
	assertNoSecrets(t, "json", r.stdout, testToken, "reg-pass-0123456789")
	if b, _ := os.ReadFile(res.ConfigTOML.Backup); string(b) != string(toml1) {
		t.Errorf("config.toml backup does not hold the previous version")
	}
}

func TestApplyRegistrationTokenRegistersOnce(t *testing.T) {
	s := newSetup(t, "")
	const regToken = "GR1348941RegRegRegRegRegReg"
	s.gitlab.AddRegistrationToken(regToken)
	s.env["RUNNER_TOKEN"] = regToken
	r := s.apply(t, "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "would-register") {
		t.Fatalf("dry run: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if n := countRequests(s.gitlab, "POST", "/api/v4/runners"); n != 0 {
		t.Fatalf("dry run registered %d runners", n)
	}
	for i := 0; i < 3; i++ {
		if r := s.apply(t); r.code != 0 {
			t.Fatalf("apply %d: %d %s", i, r.code, r.stderr)
		}
	}
	if n := countRequests(s.gitlab, "POST", "/api/v4/runners"); n != 1 {
		t.Errorf("POST /runners called %d times, want 1", n)
	}
	data, _ := os.ReadFile(s.config)
	if strings.Count(string(data), "[[runners]]") != 1 || !strings.Contains(string(data), `token = "glrtr-`) {
		t.Errorf("config.toml:\n%s", data)
	}
	assertNoSecrets(t, "config.toml", string(data), regToken)
}

func countRequests(s *fakegitlab.Server, method, path string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func TestApplyGitLabFailures(t *testing.T) {
	tests := []struct {
		name  string
		setup func(s *testSetup)
		want  string
	}{
		{"revoked token", func(s *testSetup) { s.env["RUNNER_TOKEN"] = "glrt-REVOKEDREVOKEDREVOKED" }, "GitLab rejected the token (403)"},
		{"registration disabled", func(s *testSetup) {
			s.env["RUNNER_TOKEN"] = "GR1348941DisabledDisabled"
			s.gitlab.AddRegistrationToken("GR1348941DisabledDisabled")
			s.gitlab.DisableRegistrationTokens()
		}, "registration tokens are disabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, "")
			tt.setup(s)
			before := snapshot(t, s.dir)
			r := s.apply(t)
			if r.code != ExitCheckFailed || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("code %d, stderr %q; want %d and %q", r.code, r.stderr, ExitCheckFailed, tt.want)
			}
			assertNoSecrets(t, "stderr", r.stderr, s.env["RUNNER_TOKEN"])
			assertSameSnapshot(t, before, snapshot(t, s.dir))
		})
	}
}

func TestApplyReplaceTokenGuard(t *testing.T) {
	s := newSetup(t, "")
	writeFile(t, s.config, "concurrent = 1\n\n[[runners]]\n  name = \"build-01\"\n  url = \""+s.gitlab.URL+"\"\n  token = \"glrt-ROTATEDROTATEDROTATED\"\n  executor = \"docker\"\n  [runners.docker]\n    image = \"alpine:3.20\"\n    privileged = false\n", 0o600)
	r := s.apply(t)
	if r.code != 0 || !strings.Contains(r.stderr, "probably rotated") {
		t.Fatalf("code %d stderr %q", r.code, r.stderr)
	}
	data, _ := os.ReadFile(s.config)
	if !strings.Contains(string(data), "glrt-ROTATEDROTATEDROTATED") {
		t.Fatalf("rotated token was overwritten")
	}
	s.gitlab.AddRunner("glrt-ROTATEDROTATEDROTATED", 1)
	r = s.apply(t, "--replace-token")
	if r.code != 0 {
		t.Fatalf("replace: %d %s", r.code, r.stderr)
	}
	data, _ = os.ReadFile(s.config)
	if !strings.Contains(string(data), testToken) || !strings.Contains(string(data), "id = 4242") {
		t.Errorf("token not replaced:\n%s", data)
	}
}

func TestApplyLockedFails(t *testing.T) {
	s := newSetup(t, "")
	if err := os.MkdirAll(filepath.Dir(s.config), 0o700); err != nil {
		t.Fatal(err)
	}
	lock := flock.New(s.config + ".lock")
	if ok, err := lock.TryLock(); !ok || err != nil {
		t.Fatalf("taking the lock: %v", err)
	}
	defer lock.Unlock()
	r := s.apply(t)
	if r.code != ExitWriteFailed || !strings.Contains(r.stderr, "held by another runnerup process") {
		t.Fatalf("code %d stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(s.config); !os.IsNotExist(err) {
		t.Errorf("config.toml written despite the lock")
	}
}

func TestApplyMalformedExistingFiles(t *testing.T) {
	tests := []struct{ name, file, content, want string }{
		{"config.toml", "config", "concurrent = 1\n[[runners]\n", "config.toml"},
		{"config.json", "docker", "{\"auths\": ", "invalid JSON"},
		{"config.json array", "docker", "[]", "is not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, registryAnswers)
			path := s.config
			if tt.file == "docker" {
				path = filepath.Join(s.docker, "config.json")
			}
			writeFile(t, path, tt.content, 0o600)
			before := snapshot(t, s.dir)
			r := s.apply(t)
			if r.code != ExitInput || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("code %d stderr %q", r.code, r.stderr)
			}
			assertSameSnapshot(t, before, snapshot(t, s.dir))
		})
	}
}
