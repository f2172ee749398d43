package wizard

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/render"
)

func TestClassifyToken(t *testing.T) {
	tests := []struct {
		token, declared string
		want            TokenKind
		ambiguous       bool
	}{
		{"glrt-abcdefghijklmnopqrst", "", TokenAuthentication, false},
		{"glrt-t2_abcdefghijklmnopqrst", "", TokenAuthentication, false},
		{"glrtr-abcdefghijklmnopqrst", "", TokenAuthentication, false},
		{"t1_abcdefghijklmnopqrst", "", TokenAuthentication, false},
		{"t3_abcdefghijklmnopqrst", "", TokenAuthentication, false},
		{"GR1348941abcdefghijklmnop", "", TokenRegistration, false},
		{"GR1348941abcdefghijklmnop", "authentication", TokenRegistration, false},
		{"abcdefghijklmnopqrst", "", TokenRegistration, true},
		{"abcdefghijklmnopqrst", "authentication", TokenAuthentication, true},
		{"abcdefghijklmnopqrst", "registration", TokenRegistration, true},
		{"t4_abcdefghijklmnopqrst", "", TokenRegistration, true},
	}
	for _, tt := range tests {
		t.Run(tt.token+"/"+tt.declared, func(t *testing.T) {
			got, amb := ClassifyToken(tt.token, tt.declared)
			if got != tt.want || amb != tt.ambiguous {
				t.Errorf("got (%s, %v), want (%s, %v)", got, amb, tt.want, tt.ambiguous)
			}
		})
	}
}

func TestCheckGitLabURL(t *testing.T) {
	tests := []struct {
		url      string
		wantMsg  string
		wantWarn bool
	}{
		{"https://gitlab.example.com", "", false},
		{"https://gitlab.example.com/", "", false},
		{"https://example.com/gitlab", "", false},
		{"https://gitlab.example.com:8443", "", false},
		{"http://gitlab.local", "unencrypted", true},
		{"", "is empty", false},
		{"gitlab.example.com", "has no scheme", false},
		{"ssh://git@gitlab.example.com", `scheme "ssh"`, false},
		{"https://", "has no host", false},
		{"https://user:pw@gitlab.example.com", "user info", false},
		{"https://gitlab.example.com/api/v4/", "base URL", false},
		{"https://gitlab.example.com/group/project/-/settings/ci_cd", "base URL", false},
		{"https://gitlab.example.com/#x", "fragment", false},
		{"https://gitlab.example.com:port", "cannot be parsed", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			msg, _, warn := CheckGitLabURL(tt.url)
			if (tt.wantMsg == "") != (msg == "") || !strings.Contains(msg, tt.wantMsg) || warn != tt.wantWarn {
				t.Errorf("got (%q, warn=%v), want %q (warn=%v)", msg, warn, tt.wantMsg, tt.wantWarn)
			}
		})
	}
}

func TestParseUnknownKeys(t *testing.T) {
	_, unknown, err := Parse([]byte("version = 1\nurll = 1\n[gitlab]\ntokn = \"x\"\n[docker]\nprivilaged = true\n[[docker.services]]\nnmae = \"x\"\n[zzz]\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, u := range unknown {
		got[u.Field] = u.Fix
	}
	want := map[string]string{
		"gitlab.tokn":          `did you mean "gitlab.token"?`,
		"docker.privilaged":    `did you mean "docker.privileged"?`,
		"docker.services.nmae": `did you mean "docker.services.name"?`,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: fix = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["zzz"]; !ok {
		t.Errorf("unknown table zzz not reported: %v", got)
	}
	if _, ok := got["urll"]; !ok {
		t.Errorf("unknown key urll not reported: %v", got)
	}
}

func TestPullPolicyStringOrList(t *testing.T) {
	for _, in := range []string{`pull_policy = "always"`, `pull_policy = ["always"]`} {
		a, _, err := Parse([]byte("[docker]\n" + in))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual([]string(a.Docker.PullPolicy), []string{"always"}) {
			t.Errorf("%s: got %v", in, a.Docker.PullPolicy)
		}
	}
	if _, _, err := Parse([]byte("[docker]\npull_policy = [1]")); err == nil {
		t.Errorf("a list of numbers was accepted")
	}
}

func TestResolveReferences(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("glrt-fromfilefromfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := &Answers{
		GitLab:     GitLab{URL: "env:GL_URL", Token: "file:token"},
		Registries: []Registry{{Host: "r", Password: "env:MISSING"}, {Host: "s", Password: "env:bad-name"}},
	}
	r := Resolver{
		LookupEnv: func(k string) (string, bool) {
			if k == "GL_URL" {
				return "https://gitlab.example.com", true
			}
			return "", false
		},
		ReadFile: os.ReadFile, BaseDir: dir,
	}
	got, problems := r.Resolve(a)
	if got.GitLab.URL != "https://gitlab.example.com" || got.GitLab.Token != "glrt-fromfilefromfile" {
		t.Errorf("resolved gitlab = %+v", got.GitLab)
	}
	if a.GitLab.Token != "file:token" {
		t.Errorf("Resolve changed the original answers")
	}
	if len(problems) != 2 || problems[0].Field != "registries[0].password" || !strings.Contains(problems[0].Problem, "MISSING is not set") ||
		problems[1].Field != "registries[1].password" || !strings.Contains(problems[1].Problem, "not a valid environment variable name") {
		t.Errorf("problems = %+v", problems)
	}
	if !IsSecretField("registries[3].password") || IsSecretField("registries[3].username") {
		t.Errorf("IsSecretField is wrong")
	}
}

func TestValidationErrorListsAll(t *testing.T) {
	a := &Answers{Version: 1, Runner: Runner{Executor: "nope"}}
	problems := Blocking(a.Validate())
	fields := map[string]bool{}
	for _, p := range problems {
		fields[p.Field] = true
	}
	for _, f := range []string{"gitlab.url", "gitlab.token", "gitlab.name", "runner.executor"} {
		if !fields[f] {
			t.Errorf("missing problem for %s in %v", f, problems)
		}
	}
	err := error(&ValidationError{Problems: problems})
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "runner.executor") {
		t.Errorf("error text: %v", err)
	}
}

func TestConfigEditDinDAndRunnerEnv(t *testing.T) {
	a := &Answers{
		Version: 1,
		GitLab:  GitLab{URL: "https://g.example", Token: "glrt-abcdefghijklmnopqrst", Name: "n"},
		Runner:  Runner{Executor: "docker", Environment: []string{"A=1"}},
		Docker:  Docker{Image: "docker:27", DinD: new(true)},
		Registries: []Registry{
			{Host: "docker.io", Method: MethodBasic, Username: "u", Password: "p", Target: TargetRunnerEnv},
			{Host: "r.example:5000", Method: MethodCredHelper, Helper: "ecr-login", Target: TargetDockerConfig},
		},
	}
	e, err := a.ConfigEdit(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := e.Runner.Docker
	if d.Privileged == nil || !*d.Privileged || !reflect.DeepEqual(d.Volumes, []string{"/cache"}) || !reflect.DeepEqual(d.EnsureVolumes, []string{"/certs/client"}) {
		t.Errorf("docker = %+v", d)
	}
	wantEnv := []string{"A=1", "DOCKER_TLS_CERTDIR=/certs", `DOCKER_AUTH_CONFIG={"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"}}}`}
	if !reflect.DeepEqual(e.Runner.Environment, wantEnv) {
		t.Errorf("environment = %q\nwant          %q", e.Runner.Environment, wantEnv)
	}
	if e.MatchToken != a.GitLab.Token {
		t.Errorf("MatchToken not set for an authentication token")
	}
	je := a.DockerConfigEdit()
	if len(je.Auths) != 1 || je.Auths[0].Key != "r.example:5000" || je.Auths[0].Helper != "ecr-login" {
		t.Errorf("config.json edit = %+v", je)
	}
	// An existing runner keeps its volumes when the answers give none.
	e, _ = a.ConfigEdit(nil, &render.ExistingRunner{Name: "n", Executor: "docker"})
	if e.Runner.Docker.Volumes != nil {
		t.Errorf("existing runner volumes = %v, want nil (leave)", e.Runner.Docker.Volumes)
	}
}

func TestResolvePaths(t *testing.T) {
	lookup := func(m map[string]string) Env {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	p, w := ResolvePaths(Output{}, "", "", PathEnv{Euid: 0, Home: "/root", Env: lookup(nil)})
	if p.ConfigTOML != "/etc/gitlab-runner/config.toml" || p.DockerConfigDir != "/root/.docker" || len(w) != 0 {
		t.Errorf("root: %+v %v", p, w)
	}
	p, w = ResolvePaths(Output{}, "", "", PathEnv{Euid: 1000, Home: "/home/ci", Env: lookup(map[string]string{"DOCKER_CONFIG": "/elsewhere"})})
	if p.ConfigTOML != "/home/ci/.gitlab-runner/config.toml" || p.DockerConfigDir != "/home/ci/.docker" {
		t.Errorf("user: %+v", p)
	}
	if len(w) != 1 || !strings.Contains(w[0].Problem, "ignores DOCKER_CONFIG") {
		t.Errorf("want a DOCKER_CONFIG warning, got %v", w)
	}
	p, _ = ResolvePaths(Output{ConfigTOML: "/a/c.toml", DockerConfig: "/a/d"}, "/flag/c.toml", "", PathEnv{Home: "/h", Env: lookup(nil)})
	if p.ConfigTOML != "/flag/c.toml" || p.DockerConfigDir != "/a/d" {
		t.Errorf("precedence: %+v", p)
	}
	// CONFIG_FILE is --config's environment form, as in gitlab-runner.
	cf := lookup(map[string]string{"CONFIG_FILE": "/env/c.toml"})
	p, _ = ResolvePaths(Output{ConfigTOML: "/a/c.toml"}, "", "", PathEnv{Euid: 0, Home: "/root", Env: cf})
	if p.ConfigTOML != "/env/c.toml" {
		t.Errorf("CONFIG_FILE: %+v", p)
	}
	p, _ = ResolvePaths(Output{}, "/flag/c.toml", "", PathEnv{Euid: 0, Home: "/root", Env: cf})
	if p.ConfigTOML != "/flag/c.toml" {
		t.Errorf("--config beside CONFIG_FILE: %+v", p)
	}
	p, _ = ResolvePaths(Output{}, "", "", PathEnv{Euid: 0, Home: "/root", Env: lookup(map[string]string{"CONFIG_FILE": ""})})
	if p.ConfigTOML != "/etc/gitlab-runner/config.toml" {
		t.Errorf("empty CONFIG_FILE: %+v", p)
	}
}
