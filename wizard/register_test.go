package wizard

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/golden"
	"github.com/runnerup/runnerup/internal/testenv"
	"github.com/runnerup/runnerup/render"
)

// Secret values the register cases use; none may appear in any output.
const (
	regAuthToken  = "glrt-regTESTsecret0123456789"
	regLegacyTok  = "GR1348941regTESTlegacy0123"
	regPassword   = "pa$$ 'wörd\" `x`"
	regPassword2  = "second-Secret-99"
	regEnvAuthVal = `{"auths":{"x":{"auth":"c2VjcmV0"}}}`
)

func regIntp(n int) *int { return &n }

func regBoolp(b bool) *bool { return &b }

// registerCases are resolved, defaulted answers, one per golden file.
func registerCases() map[string]*Answers {
	return map[string]*Answers{
		"shell": {
			GitLab: GitLab{URL: "https://gitlab.example.com", Token: regAuthToken, Name: "shell-01"},
			Runner: Runner{Executor: "shell", Shell: "bash", Concurrent: regIntp(4), Limit: regIntp(2),
				Environment: []string{"GIT_DEPTH=10", "GREETING=it's a test"}},
		},
		"docker": {
			GitLab: GitLab{URL: "https://gitlab.internal:8443/gitlab", Token: regAuthToken, Name: "build 01",
				TLSCAFile: "/etc/gitlab-runner/certs/ca.crt"},
			Runner: Runner{Executor: "docker"},
			Docker: Docker{
				Image:      "registry.example.com:5000/ci/build:1.2",
				Volumes:    []string{"/cache", "/srv/data:/data:ro,z", "/var/run/docker.sock:/var/run/docker.sock"},
				PullPolicy: StringOrList{"if-not-present", "always"},
				Host:       "unix:///run/user/1000/docker.sock",
			},
			Registries: []Registry{{Host: "registry.example.com:5000", Method: MethodBasic, Username: "ci", Password: regPassword, Target: TargetDockerConfig}},
			Output:     Output{ConfigTOML: "/opt/runner/config.toml"},
		},
		"dind": {
			GitLab: GitLab{URL: "https://gitlab.example.com", Token: regAuthToken, Name: "dind"},
			Runner: Runner{Executor: "docker", Concurrent: regIntp(2)},
			Docker: Docker{Image: "docker:27", DinD: new(true)},
		},
		"services": {
			GitLab: GitLab{URL: "https://gitlab.example.com", Token: regAuthToken, Name: "svc"},
			Runner: Runner{Executor: "docker"},
			Docker: Docker{
				Image:   "alpine:3.20",
				Volumes: []string{"/builds-cache:/builds-cache"},
				Services: []Service{
					{Name: "registry.example.com:5000/ci/postgres:16", Alias: "db",
						Environment: []string{"POSTGRES_PASSWORD=not-a-runner-secret"}},
					{Name: "redis:7", Alias: "cache,redis", Command: []string{"redis-server", "--save", ""}, Entrypoint: []string{"/usr/local/bin/docker-entrypoint.sh"}},
				},
			},
			Registries: []Registry{{Host: "registry.example.com:5000", Method: MethodBasic, Username: "ci", Password: regPassword, Target: TargetDockerConfig}},
		},
		"legacy-tags": {
			GitLab: GitLab{URL: "https://gitlab.example.com", Token: regLegacyTok, Name: "legacy-01",
				Description: "Bob's build box", Tags: []string{"linux", "docker", "x86_64"}, RunUntagged: new(true),
				Locked: regBoolp(false), AccessLevel: "ref_protected", MaintenanceNote: "call ops; don't `reboot`"},
			Runner: Runner{Executor: "docker", Limit: regIntp(3)},
			Docker: Docker{Image: "alpine:3.20", Privileged: new(true)},
		},
		"runner-env-auth": {
			GitLab: GitLab{URL: "https://gitlab.example.com", Token: regAuthToken, Name: "env-auth"},
			Runner: Runner{Executor: "docker", Environment: []string{"HTTP_PROXY=http://proxy:3128"}},
			Docker: Docker{Image: "registry.example.com:5000/ci/build:1", PullPolicy: StringOrList{"always"}},
			Registries: []Registry{
				{Host: "registry.example.com:5000", Method: MethodBasic, Username: "ci", Password: regPassword, Target: TargetRunnerEnv},
				{Host: "docker.io", Method: MethodBasic, Username: "hubuser", Password: regPassword2, Target: TargetRunnerEnv},
				{Host: "123456789012.dkr.ecr.eu-west-1.amazonaws.com", Method: MethodCredHelper, Helper: "ecr-login", Target: TargetRunnerEnv},
			},
		},
	}
}

var registerSecrets = []string{regAuthToken, regLegacyTok, regPassword, regPassword2, regEnvAuthVal, "c2VjcmV0"}

func TestRegisterCommand(t *testing.T) {
	for name, a := range registerCases() {
		t.Run(name, func(t *testing.T) {
			a.ApplyDefaults("test-host")
			exp, err := RegisterCommands(a)
			if err != nil {
				t.Fatal(err)
			}
			script := exp.Script()
			golden.Assert(t, filepath.Join("testdata", "TestRegisterCommand", name+".golden"), []byte(script))
			for _, s := range registerSecrets {
				if strings.Contains(script, s) {
					t.Errorf("the export leaks secret %q", s)
				}
			}
			for what, text := range map[string]string{"script": script, "command": exp.Command, "docker command": exp.DockerCommand} {
				bashN(t, what, text)
			}
			if !strings.HasPrefix(exp.Command, "gitlab-runner register --non-interactive \\\n") {
				t.Errorf("command does not start with gitlab-runner register --non-interactive:\n%s", exp.Command)
			}
			wantMount := "/srv/gitlab-runner/config:/etc/gitlab-runner"
			if a.Output.ConfigTOML != "" {
				wantMount = filepath.Dir(a.Output.ConfigTOML) + ":/etc/gitlab-runner"
			}
			if !strings.HasPrefix(exp.DockerCommand, "docker run --rm \\\n  -v "+wantMount+" \\\n") {
				t.Errorf("docker command does not start as expected:\n%s", exp.DockerCommand)
			}
			for _, forbidden := range []string{"--docker-services", "--concurrent"} {
				if strings.Contains(exp.Command+exp.DockerCommand, forbidden) {
					t.Errorf("export uses %s, which register does not have", forbidden)
				}
			}
		})
	}
}

// bashN fails t when bash -n rejects text.
func bashN(t *testing.T, what, text string) {
	t.Helper()
	bash := lookBash(t)
	f := filepath.Join(t.TempDir(), "script.sh")
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bash, "-n", f).CombinedOutput(); err != nil {
		t.Errorf("bash -n rejects the %s: %v\n%s\n%s", what, err, out, text)
	}
}

func lookBash(t *testing.T) string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not on PATH")
	}
	return bash
}

// runWithFakes runs a command text with bash, fake gitlab-runner and docker
// programs first on PATH that print their arguments NUL-separated, and
// returns the argv they received.
func runWithFakes(t *testing.T, text string, env ...string) []string {
	t.Helper()
	bash := lookBash(t)
	bin := t.TempDir()
	fake := "#!/bin/sh\nprintf '%s\\0' \"$(basename \"$0\")\" \"$@\"\n"
	for _, name := range []string{"gitlab-runner", "docker"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(fake), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bash, "-c", text)
	cmd.Env = append([]string{"PATH=" + bin + ":/usr/bin:/bin"}, env...)
	cmd.Dir = bin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("running %q: %v\n%s", text, err, stderr.String())
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

// The commands, run by a real shell, pass exactly these arguments: values
// with spaces, quotes and commas arrive whole, secrets come from the
// variables.
func TestRegisterCommandArgv(t *testing.T) {
	cases := registerCases()

	docker := cases["docker"]
	docker.ApplyDefaults("test-host")
	exp, err := RegisterCommands(docker)
	if err != nil {
		t.Fatal(err)
	}
	got := runWithFakes(t, exp.Command, "RUNNER_TOKEN="+regAuthToken)
	want := []string{"gitlab-runner", "register", "--non-interactive",
		"--config", "/opt/runner/config.toml",
		"--url", "https://gitlab.internal:8443/gitlab",
		"--token", regAuthToken,
		"--name", "build 01",
		"--tls-ca-file", "/etc/gitlab-runner/certs/ca.crt",
		"--executor", "docker",
		"--docker-image", "registry.example.com:5000/ci/build:1.2",
		"--docker-volumes", "/cache",
		"--docker-volumes", "/srv/data:/data:ro,z",
		"--docker-volumes", "/var/run/docker.sock:/var/run/docker.sock",
		"--docker-pull-policy", "if-not-present,always",
		"--docker-host", "unix:///run/user/1000/docker.sock",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("argv:\n got %q\nwant %q", got, want)
	}
	got = runWithFakes(t, exp.DockerCommand, "RUNNER_TOKEN="+regAuthToken)
	wantDocker := append([]string{"docker", "run", "--rm",
		"-v", "/opt/runner:/etc/gitlab-runner",
		"-v", "/etc/gitlab-runner/certs/ca.crt:/etc/gitlab-runner/certs/ca.crt:ro",
		"gitlab/gitlab-runner", "register", "--non-interactive"}, want[5:]...)
	if !reflect.DeepEqual(got, wantDocker) {
		t.Errorf("docker argv:\n got %q\nwant %q", got, wantDocker)
	}

	legacy := cases["legacy-tags"]
	legacy.ApplyDefaults("test-host")
	exp, err = RegisterCommands(legacy)
	if err != nil {
		t.Fatal(err)
	}
	got = runWithFakes(t, exp.Command, "RUNNER_TOKEN="+regLegacyTok)
	want = []string{"gitlab-runner", "register", "--non-interactive",
		"--url", "https://gitlab.example.com",
		"--registration-token", regLegacyTok,
		"--name", "legacy-01",
		"--tag-list", "linux,docker,x86_64",
		"--run-untagged",
		"--locked=false",
		"--access-level", "ref_protected",
		"--maintenance-note", "call ops; don't `reboot`",
		"--executor", "docker",
		"--limit", "3",
		"--docker-image", "alpine:3.20",
		"--docker-privileged",
		"--docker-volumes", "/cache",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("legacy argv:\n got %q\nwant %q", got, want)
	}

	svc := cases["services"]
	svc.ApplyDefaults("test-host")
	exp, err = RegisterCommands(svc)
	if err != nil {
		t.Fatal(err)
	}
	got = runWithFakes(t, exp.DockerCommand, "RUNNER_TOKEN="+regAuthToken)
	mounted := false
	for i := 0; i+1 < len(got); i++ {
		mounted = mounted || got[i] == "-v" && strings.HasPrefix(got[i+1], "/") &&
			strings.HasSuffix(got[i+1], "/runnerup-register-template.toml:/tmp/runnerup-register-template.toml:ro")
	}
	if !mounted ||
		!containsSeq(got, "--template-config", "/tmp/runnerup-register-template.toml") {
		t.Errorf("docker form does not mount and use the template: %q", got)
	}
	got = runWithFakes(t, exp.Command, "RUNNER_TOKEN="+regAuthToken)
	if !containsSeq(got, "--template-config", "runnerup-register-template.toml") {
		t.Errorf("host form does not use the template: %q", got)
	}
}

// A relative CA path is mounted from where docker runs, at the same
// absolute path inside the container.
func TestRegisterCommandRelativeCA(t *testing.T) {
	a := &Answers{GitLab: GitLab{URL: "https://gitlab.example.com", Token: regAuthToken, TLSCAFile: "certs/my ca.crt"},
		Runner: Runner{Executor: "docker"}, Docker: Docker{Image: "alpine:3.20"}}
	a.ApplyDefaults("h")
	exp, err := RegisterCommands(a)
	if err != nil {
		t.Fatal(err)
	}
	got := runWithFakes(t, exp.Command)
	if !containsSeq(got, "--tls-ca-file", "certs/my ca.crt") {
		t.Errorf("host form: %q", got)
	}
	got = runWithFakes(t, exp.DockerCommand)
	var mount, flag string
	for i := 0; i+1 < len(got); i++ {
		switch got[i] {
		case "-v":
			if strings.Contains(got[i+1], "my ca.crt") {
				mount = got[i+1]
			}
		case "--tls-ca-file":
			flag = got[i+1]
		}
	}
	if !filepath.IsAbs(flag) || !strings.HasSuffix(flag, "/certs/my ca.crt") || mount != flag+":"+flag+":ro" {
		t.Errorf("docker form: mount %q, --tls-ca-file %q", mount, flag)
	}
}

func containsSeq(args []string, a, b string) bool {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == a && args[i+1] == b {
			return true
		}
	}
	return false
}

// Auth tokens never come with the server-side flags; legacy ones do.
func TestRegisterCommandTokenKinds(t *testing.T) {
	server := []string{"--tag-list", "--run-untagged", "--locked", "--access-level", "--maintenance-note", "--description", "--registration-token"}
	for _, tok := range []string{"glrt-abcdefghijklmnopqrst", "glrtr-abcdefghijklmnopqrst", "t2_abcdefghijklmnopqrst"} {
		a := &Answers{GitLab: GitLab{URL: "https://gitlab.example.com", Token: tok}, Runner: Runner{Executor: "shell"}}
		a.ApplyDefaults("h")
		exp, err := RegisterCommands(a)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(exp.Command, `--token "$RUNNER_TOKEN"`) {
			t.Errorf("%s: no --token:\n%s", tok, exp.Command)
		}
		for _, f := range server {
			if strings.Contains(exp.Command, f) {
				t.Errorf("%s: command has %s:\n%s", tok, f, exp.Command)
			}
		}
	}
	// An unprefixed token is a registration token unless declared otherwise.
	a := &Answers{GitLab: GitLab{URL: "https://gitlab.example.com", Token: "abcdefghijklmnopqrst"}, Runner: Runner{Executor: "shell"}}
	a.ApplyDefaults("h")
	exp, err := RegisterCommands(a)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(exp.Command, `--registration-token "$RUNNER_TOKEN"`) {
		t.Errorf("unprefixed token: no --registration-token:\n%s", exp.Command)
	}
	if strings.Contains(exp.Command, "--locked") {
		t.Errorf("locked by default, yet --locked is given:\n%s", exp.Command)
	}
}

// The DOCKER_AUTH_CONFIG command, run by a real shell with the password
// variables set, builds the same JSON apply writes into the environment.
func TestRegisterDockerAuthConfigScript(t *testing.T) {
	a := registerCases()["runner-env-auth"]
	a.ApplyDefaults("test-host")
	exp, err := RegisterCommands(a)
	if err != nil {
		t.Fatal(err)
	}
	if exp.DockerAuthConfig == "" {
		t.Fatal("no DOCKER_AUTH_CONFIG command")
	}
	bash := lookBash(t)
	cmd := exec.Command(bash, "-c", exp.DockerAuthConfig+` && printf '%s' "$DOCKER_AUTH_CONFIG"`)
	cmd.Env = []string{"PATH=/usr/bin:/bin",
		"REGISTRY_PASSWORD_REGISTRY_EXAMPLE_COM_5000=" + regPassword,
		"REGISTRY_PASSWORD_DOCKER_IO=" + regPassword2}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, exp.DockerAuthConfig)
	}
	want, err := render.DockerAuthConfig(a.dockerEdit(TargetRunnerEnv))
	if err != nil {
		t.Fatal(err)
	}
	var gotV, wantV any
	if err := json.Unmarshal(out, &gotV); err != nil {
		t.Fatalf("not JSON: %v: %s", err, out)
	}
	_ = json.Unmarshal([]byte(want), &wantV)
	if !reflect.DeepEqual(gotV, wantV) {
		t.Errorf("DOCKER_AUTH_CONFIG:\n got %s\nwant %s", out, want)
	}
	if !strings.Contains(exp.Command, `--env "DOCKER_AUTH_CONFIG=$DOCKER_AUTH_CONFIG"`) {
		t.Errorf("command does not pass DOCKER_AUTH_CONFIG by variable:\n%s", exp.Command)
	}
}

// Prepared answers keep the names of the answers file's env: references;
// a literal DOCKER_AUTH_CONFIG in runner.environment is never printed.
func TestRegisterCommandsPreparedNames(t *testing.T) {
	raw := &Answers{
		GitLab: GitLab{URL: "https://gitlab.example.com", Token: "env:MY_GLRT", Name: "n"},
		Runner: Runner{Executor: "docker", Environment: []string{"env:PROXY_LINE", "DOCKER_AUTH_CONFIG=" + regEnvAuthVal}},
		Docker: Docker{Image: "alpine:3.20"},
		Registries: []Registry{{Host: "registry.example.com", Method: MethodBasic, Username: "ci",
			Password: "env:HARBOR_PW", Target: TargetRunnerEnv}},
	}
	env := map[string]string{"MY_GLRT": regAuthToken, "PROXY_LINE": "HTTPS_PROXY=http://user:" + regPassword2 + "@proxy:3128", "HARBOR_PW": regPassword}
	r := Resolver{LookupEnv: func(n string) (string, bool) { v, ok := env[n]; return v, ok }, ReadFile: os.ReadFile}
	p, err := PrepareAnswers(raw, nil, r, "h")
	if err != nil {
		// The runner-env registry and the literal DOCKER_AUTH_CONFIG may
		// conflict in validation; drop the literal one then.
		t.Logf("prepare: %v", err)
		raw.Runner.Environment = raw.Runner.Environment[:1]
		if p, err = PrepareAnswers(raw, nil, r, "h"); err != nil {
			t.Fatal(err)
		}
	}
	exp, err := p.RegisterCommands()
	if err != nil {
		t.Fatal(err)
	}
	script := exp.Script()
	for _, want := range []string{`--token "$MY_GLRT"`, `--env "$PROXY_LINE"`, `"$HARBOR_PW"`, `--env "DOCKER_AUTH_CONFIG=$DOCKER_AUTH_CONFIG"`} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %s:\n%s", want, script)
		}
	}
	for _, s := range registerSecrets {
		if strings.Contains(script, s) {
			t.Errorf("script leaks %q:\n%s", s, script)
		}
	}
	bashN(t, "script", script)

	// A literal DOCKER_AUTH_CONFIG entry goes by variable too.
	a := &Answers{GitLab: GitLab{URL: "https://gitlab.example.com", Token: regAuthToken},
		Runner: Runner{Executor: "shell", Environment: []string{"DOCKER_AUTH_CONFIG=" + regEnvAuthVal}}}
	a.ApplyDefaults("h")
	exp, err = RegisterCommands(a)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(exp.Script(), "c2VjcmV0") || !strings.Contains(exp.Command, `--env "DOCKER_AUTH_CONFIG=$DOCKER_AUTH_CONFIG"`) {
		t.Errorf("literal DOCKER_AUTH_CONFIG printed or not by variable:\n%s", exp.Script())
	}
}

func TestRegisterCommandsInvalid(t *testing.T) {
	a := &Answers{GitLab: GitLab{URL: "https://gitlab.example.com", Token: regAuthToken, Tags: []string{"x"}}, Runner: Runner{Executor: "docker"}}
	a.ApplyDefaults("h")
	_, err := RegisterCommands(a)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a ValidationError, got %v", err)
	}
	if strings.Contains(err.Error(), regAuthToken) {
		t.Errorf("error leaks the token: %v", err)
	}
	if _, err := RegisterCommands(nil); err == nil {
		t.Error("nil answers accepted")
	}
}

// GitLab Runner's own loader reads the template: exactly one runner, its
// services decoded, no unknown keys.
func TestRegisterTemplateLoadsInRunner(t *testing.T) {
	a := registerCases()["services"]
	a.ApplyDefaults("test-host")
	exp, err := RegisterCommands(a)
	if err != nil {
		t.Fatal(err)
	}
	if exp.Template == "" || exp.TemplateFile == "" {
		t.Fatal("no template for services")
	}
	if strings.Contains(exp.Template, "token =") {
		t.Errorf("template has a token:\n%s", exp.Template)
	}
	bin := testenv.Oracle(t)
	f := filepath.Join(t.TempDir(), "template.toml")
	if err := os.WriteFile(f, []byte(exp.Template), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(bin, f).Output()
	var res testenv.OracleResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("runner-oracle output is not JSON: %v: %s", err, out)
	}
	if !res.OK || len(res.Undecoded) > 0 {
		t.Fatalf("runner's loader: ok=%v error=%q undecoded=%v\n%s", res.OK, res.Error, res.Undecoded, exp.Template)
	}
	if len(res.Runners) != 1 || res.Runners[0].Docker == nil || len(res.Runners[0].Docker.Services) != 2 {
		t.Fatalf("runner's loader saw %+v", res.Runners)
	}
	s := res.Runners[0].Docker.Services
	if s[0].Name != "registry.example.com:5000/ci/postgres:16" || s[0].Alias != "db" || s[1].Alias != "cache,redis" {
		t.Errorf("services as the runner reads them: %+v", s)
	}
}
