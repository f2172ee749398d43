package wizard

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/testenv"
	"github.com/runnerup/runnerup/render"
)

// parseRegister runs ParseRegisterArgs with an environment and files (for
// --template-config) given as maps.
func parseRegister(t *testing.T, args []string, env map[string]string, files map[string]string) *RegisterInput {
	t.Helper()
	in, err := ParseRegisterArgs(args, func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		func(p string) ([]byte, error) {
			if data, ok := files[p]; ok {
				return []byte(data), nil
			}
			return nil, fs.ErrNotExist
		})
	if err != nil {
		t.Fatalf("ParseRegisterArgs(%q): %v", args, err)
	}
	return in
}

var registerBase = []string{"--non-interactive", "--url", "https://gitlab.example.com", "--token", "glrt-REGISTERFLAGSTEST0001", "--executor", "docker", "--docker-image", "alpine"}

// The cache volume as gitlab-runner register's askDocker adds it: to the
// volumes from flags, environment or template, unless one targets /cache
// or the cache is disabled. Found in review: --docker-disable-cache without
// --docker-volumes still wrote volumes = ["/cache"] (the new-runner
// default), and a template's volumes got no cache volume.
func TestRegisterCacheVolume(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		template string
		want     []string // nil: left to the new-runner default (["/cache"])
	}{
		{name: "nothing given", want: nil},
		{name: "disable-cache, no volumes", args: []string{"--docker-disable-cache"}, want: []string{}},
		{name: "disable-cache, volumes", args: []string{"--docker-disable-cache", "--docker-volumes", "/data"}, want: []string{"/data"}},
		{name: "volumes", args: []string{"--docker-volumes", "/data"}, want: []string{"/data", "/cache"}},
		{name: "volume targeting /cache", args: []string{"--docker-volumes", "/srv/cache:/cache"}, want: []string{"/srv/cache:/cache"}},
		{name: "template volumes", args: []string{"--template-config", "t.toml"}, template: "[[runners]]\n  [runners.docker]\n    volumes = [\"/data\"]\n", want: []string{"/data", "/cache"}},
		{name: "template disables the cache", args: []string{"--template-config", "t.toml"}, template: "[[runners]]\n  [runners.docker]\n    disable_cache = true\n", want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := parseRegister(t, append(slices.Clone(registerBase), tt.args...), nil, map[string]string{"t.toml": tt.template})
			got := in.Answers.Docker.Volumes
			if (got == nil) != (tt.want == nil) || !slices.Equal(got, tt.want) {
				t.Errorf("volumes = %#v, want %#v", got, tt.want)
			}
		})
	}
}

// register's values are literal: a flag or variable value that starts
// with env: or file: is not a reference. Found in review:
// DOCKER_IMAGE=env:image was resolved (exit 2: variable image not set) and
// --docker-image file:/path read that file into config.toml.
func TestRegisterValuesStayLiteral(t *testing.T) {
	env := map[string]string{"DOCKER_IMAGE": "env:image"}
	args := []string{"--non-interactive", "--url", "https://gitlab.example.com", "--token", "glrt-REGISTERFLAGSTEST0001", "--executor", "docker",
		"--name", "file:/etc/hostname", "--env", "A=env:HOME", "--docker-volumes", "file:/data"} // a named volume "file"
	in := parseRegister(t, args, env, nil)
	readFile := func(p string) ([]byte, error) {
		t.Errorf("a register value was read as a file: reference (%s)", p)
		return nil, errors.New("no")
	}
	p, err := PrepareAnswers(in.Answers, nil, Resolver{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, ReadFile: readFile}, "h")
	if err != nil {
		t.Fatalf("PrepareAnswers: %v", err)
	}
	a := p.Resolved
	if a.Docker.Image != "env:image" || a.GitLab.Name != "file:/etc/hostname" || !slices.Contains(a.Runner.Environment, "A=env:HOME") ||
		!slices.Contains(a.Docker.Volumes, "file:/data") {
		t.Errorf("resolved: image %q name %q env %v volumes %v", a.Docker.Image, a.GitLab.Name, a.Runner.Environment, a.Docker.Volumes)
	}
	// The token still comes from its variable as a reference (for
	// --save-answers), and resolves.
	in = parseRegister(t, []string{"--non-interactive", "--url", "https://gitlab.example.com", "--executor", "shell"}, map[string]string{"CI_SERVER_TOKEN": "glrt-REGISTERFLAGSTEST0001"}, nil)
	if in.Answers.GitLab.Token != "env:CI_SERVER_TOKEN" {
		t.Errorf("token from the environment = %q, want the reference env:CI_SERVER_TOKEN", in.Answers.GitLab.Token)
	}
}

// Precedence as the runner's: a flag beats its variable, both beat
// --template-config. An explicit false or 0 from a flag or variable also
// beats the template's true or non-zero (gitlab-runner's mergo.Merge would
// take the template's; runnerup keeps what the command says, with a
// warning naming the difference).
func TestRegisterPrecedence(t *testing.T) {
	template := "[[runners]]\n  name = \"from-template\"\n  limit = 3\n  [runners.docker]\n    image = \"template:1\"\n    privileged = true\n    tls_verify = true\n"
	files := map[string]string{"t.toml": template}
	base := []string{"--non-interactive", "--url", "https://gitlab.example.com", "--token", "glrt-REGISTERFLAGSTEST0001", "--executor", "docker", "--template-config", "t.toml"}

	in := parseRegister(t, base, nil, files)
	if a := in.Answers; a.GitLab.Name != "from-template" || a.Docker.Image != "template:1" || a.Runner.Limit == nil || *a.Runner.Limit != 3 || !a.Docker.IsPrivileged() {
		t.Errorf("template only: name %q image %q limit %v privileged %v", a.GitLab.Name, a.Docker.Image, a.Runner.Limit, a.Docker.Privileged)
	}
	env := map[string]string{"RUNNER_NAME": "from-env", "DOCKER_IMAGE": "envimage:2", "RUNNER_LIMIT": "2"}
	in = parseRegister(t, base, env, files)
	if a := in.Answers; a.GitLab.Name != "from-env" || a.Docker.Image != "envimage:2" || *a.Runner.Limit != 2 {
		t.Errorf("env over template: name %q image %q limit %v", a.GitLab.Name, a.Docker.Image, *a.Runner.Limit)
	}
	in = parseRegister(t, append(slices.Clone(base), "--name", "from-flag", "--docker-image", "flag:3", "--limit", "0", "--docker-privileged=false"), env, files)
	a := in.Answers
	if a.GitLab.Name != "from-flag" || a.Docker.Image != "flag:3" || *a.Runner.Limit != 0 || a.Docker.IsPrivileged() {
		t.Errorf("flag over env and template: name %q image %q limit %v privileged %v", a.GitLab.Name, a.Docker.Image, *a.Runner.Limit, *a.Docker.Privileged)
	}
	var warned []string
	for _, w := range in.Warnings {
		if strings.Contains(w.Problem, "gitlab-runner register would take the template's") {
			warned = append(warned, w.Field)
		}
	}
	if !slices.Contains(warned, "runners.docker.privileged") || !slices.Contains(warned, "runners.limit") {
		t.Errorf("no warning for the zero values that beat the template: %v (%+v)", warned, in.Warnings)
	}
	// Keys runnerup does not manage merge the same way.
	if v, _ := getTreeValue(in.Answers.Runner.Extra, []string{"docker", "tls_verify"}); v != true {
		t.Errorf("template's docker.tls_verify = %v", v)
	}
}

// A template's tables runnerup does not manage are copied byte for byte
// (comments, key order); a flag changing one of their keys changes that
// key in place, and a flag adding one adds it, leaving the template's
// other lines as they were.
func TestRegisterTemplateSpliced(t *testing.T) {
	template := `concurrent = 5
[[runners]]
  # the shared cache
  [runners.cache]
    Type = "s3"   # S3 cache, see wiki
    Shared = true
    [runners.cache.s3]
      BucketName = "runners-cache"   # eu-west-1
  [runners.kubernetes]
    namespace = "ci"
`
	args := append(slices.Clone(registerBase), "--template-config", "t.toml", "--cache-shared=false", "--cache-s3-server-address", "s3.example.com", "--name", "spliced")
	in := parseRegister(t, args, nil, map[string]string{"t.toml": template})
	p, err := PrepareAnswers(in.Answers, nil, Resolver{LookupEnv: func(string) (string, bool) { return "", false }}, "h")
	if err != nil {
		t.Fatal(err)
	}
	out, err := renderConfig(nil, p.Resolved, &render.Credentials{ID: 1, Token: "glrt-REGISTERFLAGSTEST0001"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := string(out.Data)
	for _, want := range []string{
		"  # the shared cache\n  [runners.cache]\n    Type = \"s3\"   # S3 cache, see wiki\n    Shared = false\n",
		"    [runners.cache.s3]\n      BucketName = \"runners-cache\"   # eu-west-1\n",
		`ServerAddress = "s3.example.com"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("config.toml lacks %q:\n%s", want, got)
		}
	}
	// The docker executor does not read [runners.kubernetes]: dropped, as
	// gitlab-runner register drops it, not copied.
	if strings.Contains(got, "kubernetes") {
		t.Errorf("the unused [runners.kubernetes] was copied:\n%s", got)
	}
	testenv.CheckRunnerConfig(t, out.Data)
	// The template's global keys are ignored, as the runner ignores them,
	// with a warning.
	var warned bool
	for _, w := range in.Warnings {
		warned = warned || strings.Contains(w.Problem, "concurrent")
	}
	if !warned {
		t.Errorf("no warning that the template's concurrent is ignored: %+v", in.Warnings)
	}
}
