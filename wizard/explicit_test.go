package wizard

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/render"
)

// answersHead is the merge key of an answers file for runner name.
func answersHead(name, token string) string {
	return "version = 1\n[gitlab]\nurl = \"https://gitlab.example.com\"\ntoken = \"" + token + "\"\nname = \"" + name + "\"\n"
}

// fieldProblem is the problem for field in err (a *ValidationError).
func fieldProblem(err error, field string) (FieldError, bool) {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return FieldError{}, false
	}
	i := slices.IndexFunc(ve.Problems, func(p FieldError) bool { return p.Field == field })
	if i < 0 {
		return FieldError{}, false
	}
	return ve.Problems[i], true
}

// TestEmptyListIsAnAnswer: `volumes = []` says "no volumes", for a runner
// on disk and for a new one (no /cache); it is not the same as leaving
// the key out.
func TestEmptyListIsAnAnswer(t *testing.T) {
	t.Run("existing dind runner", func(t *testing.T) {
		out, _, err := applyText(t, curatedConfig, answersHead("dind", "glrt-DINDDINDDINDDINDDIND")+"[docker]\nvolumes = []\n")
		if err != nil {
			t.Fatalf("apply refused: %v", err)
		}
		want := strings.Replace(curatedConfig, `    volumes = ["/cache", "/certs/client"]`, `    volumes = []`, 1)
		if string(out) != want {
			t.Errorf("volumes = [] is not written as asked:\n%s", render.Diff("config.toml", []byte(want), out, nil))
		}
	})
	t.Run("new runner gets no /cache", func(t *testing.T) {
		out, _, err := applyText(t, curatedConfig, answersHead("fresh", "glrt-FRESHFRESHFRESHFRESH")+"[docker]\nimage = \"alpine:3.20\"\nvolumes = []\n")
		if err != nil {
			t.Fatalf("apply refused: %v", err)
		}
		block := string(out[len(curatedConfig):])
		if !strings.Contains(block, "volumes = []") || strings.Contains(block, "/cache") {
			t.Errorf("new runner with volumes = []:\n%s", block)
		}
	})
	t.Run("the resolved answers keep it", func(t *testing.T) {
		raw, _, err := Parse([]byte(answersHead("dind", "glrt-DINDDINDDINDDINDDIND") + "[runner]\nenvironment = []\n[docker]\nvolumes = []\n"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := PrepareAnswers(raw, nil, Resolver{LookupEnv: func(string) (string, bool) { return "", false }}, "host")
		if err != nil {
			t.Fatal(err)
		}
		for name, a := range map[string]*Answers{"Resolved": p.Resolved, "Clone": p.Resolved.Clone(), "ForRunner": p.Resolved.ForRunner(&render.ExistingRunner{Executor: "docker", Docker: &render.ExistingDocker{Volumes: []string{"/cache"}}})} {
			if a.Docker.Volumes == nil || len(a.Docker.Volumes) != 0 {
				t.Errorf("%s: volumes = %#v, want an empty list", name, a.Docker.Volumes)
			}
			if a.Runner.Environment == nil {
				t.Errorf("%s: environment = nil, want an empty list", name)
			}
		}
	})
}

// TestEmptyPullPolicyRefused: GitLab Runner reads an empty pull_policy as
// its default, always (common/config.go GetPullPolicies: len == 0 →
// PullPolicyAlways), so `pull_policy = []` would write a list that does
// not say what it does; apply refuses it and names the field.
func TestEmptyPullPolicyRefused(t *testing.T) {
	_, _, err := applyText(t, curatedConfig, answersHead("dind", "glrt-DINDDINDDINDDINDDIND")+"[docker]\npull_policy = []\n")
	p, ok := fieldProblem(err, "docker.pull_policy")
	if !ok {
		t.Fatalf("err = %v, want a docker.pull_policy problem", err)
	}
	if !strings.Contains(p.Problem, "always") || !strings.Contains(p.Fix, "leave") {
		t.Errorf("problem = %s", p)
	}
}

// TestExistingDockerRunnerWithoutImage: a docker runner on disk with no
// [runners.docker] image loads in GitLab Runner (jobs then need image:);
// answers that neither set the image nor switch the executor are applied
// with a warning. A new runner, or a switch to docker, still needs one.
const noImageConfig = `concurrent = 1
[[runners]]
  name = "noimg"
  url = "https://gitlab.example.com"
  token = "glrt-NOIMGNOIMGNOIMGNOIMG"
  executor = "docker"
  [runners.docker]
    privileged = false
    volumes = ["/cache"]
`

func TestExistingDockerRunnerWithoutImage(t *testing.T) {
	out, res, err := applyText(t, noImageConfig, answersHead("noimg", "glrt-NOIMGNOIMGNOIMGNOIMG")+"[runner]\nlimit = 2\n")
	if err != nil {
		t.Fatalf("apply refused: %v", err)
	}
	want := strings.Replace(noImageConfig, "  executor = \"docker\"\n", "  executor = \"docker\"\n  limit = 2\n", 1)
	if string(out) != want {
		t.Errorf("output:\n%s", render.Diff("config.toml", []byte(want), out, nil))
	}
	if !slices.ContainsFunc(res.Warnings, func(p FieldError) bool { return p.Field == "docker.image" }) {
		t.Errorf("no docker.image warning: %v", res.Warnings)
	}
	for name, tc := range map[string]struct{ config, answers string }{
		"switch to docker": {curatedConfig, answersHead("sh", "glrt-SHELLSHELLSHELLSHELL") + "[runner]\nexecutor = \"docker\"\n"},
		"new runner":       {curatedConfig, answersHead("fresh", "glrt-FRESHFRESHFRESHFRESH") + "[runner]\nlimit = 1\n"},
	} {
		if _, _, err := applyText(t, tc.config, tc.answers); err == nil {
			t.Errorf("%s: applied without an image", name)
		} else if _, ok := fieldProblem(err, "docker.image"); !ok {
			t.Errorf("%s: err = %v, want a docker.image problem", name, err)
		}
	}
}

// TestDinDAnswersWarn: answers that leave a working DinD runner broken, or
// ask for something apply does not do (dind = false removes nothing), are
// applied as asked, with a warning naming what check would say.
func TestDinDAnswersWarn(t *testing.T) {
	dind := answersHead("dind", "glrt-DINDDINDDINDDINDDIND")
	tests := []struct {
		name    string
		answers string
		// replace is the change to the file (nil: none).
		replace map[string]string
		// warn: field -> words the warning must hold; noWarn: fields that
		// must not be warned about.
		warn   map[string][]string
		noWarn []string
	}{
		{
			name:    "dind = false on a DinD runner",
			answers: dind + "[docker]\ndind = false\n",
			warn:    map[string][]string{"docker.dind": {"privileged", "/certs/client", "DOCKER_TLS_CERTDIR", "privileged = false"}},
			noWarn:  []string{"docker.dind.unprivileged"},
		},
		{
			name:    "dind = false and privileged = false",
			answers: dind + "[docker]\ndind = false\nprivileged = false\n",
			replace: map[string]string{"privileged = true   # DinD needs it": "privileged = false   # DinD needs it"},
			warn: map[string][]string{
				"docker.dind":              {"/certs/client", "DOCKER_TLS_CERTDIR"},
				"docker.dind.unprivileged": {"docker:27-dind", "privileged = false"},
			},
		},
		{
			name:    "privileged = false under a dind service",
			answers: dind + "[docker]\nprivileged = false\n",
			replace: map[string]string{"privileged = true   # DinD needs it": "privileged = false   # DinD needs it"},
			warn:    map[string][]string{"docker.dind.unprivileged": {"docker:27-dind", "Cannot connect to the Docker daemon"}},
			noWarn:  []string{"docker.dind"},
		},
		{
			name:    "volumes = [] drops the certificates volume",
			answers: dind + "[docker]\nvolumes = []\n",
			replace: map[string]string{`volumes = ["/cache", "/certs/client"]`: `volumes = []`},
			warn:    map[string][]string{"docker.dind.no-certs-volume": {"/certs/client"}},
		},
		{
			name:    "an image change keeps DinD working: no warning",
			answers: dind + "[docker]\nimage = \"docker:28\"\n",
			replace: map[string]string{`image = "docker:27"`: `image = "docker:28"`},
			noWarn:  []string{"docker.dind", "docker.dind.unprivileged", "docker.dind.no-certs-volume"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, res, err := applyText(t, curatedConfig, tt.answers)
			if err != nil {
				t.Fatalf("apply refused: %v", err)
			}
			want := curatedConfig
			for o, n := range tt.replace {
				want = strings.Replace(want, o, n, 1)
			}
			if string(out) != want {
				t.Errorf("output:\n%s", render.Diff("config.toml", []byte(want), out, nil))
			}
			for field, words := range tt.warn {
				i := slices.IndexFunc(res.Warnings, func(p FieldError) bool { return p.Field == field })
				if i < 0 {
					t.Errorf("no %s warning; warnings: %v", field, res.Warnings)
					continue
				}
				w := res.Warnings[i]
				if !w.Warning {
					t.Errorf("%s is not marked a warning", field)
				}
				for _, word := range words {
					if !strings.Contains(w.String(), word) {
						t.Errorf("%s warning lacks %q: %s", field, word, w)
					}
				}
			}
			for _, field := range tt.noWarn {
				if slices.ContainsFunc(res.Warnings, func(p FieldError) bool { return p.Field == field }) {
					t.Errorf("unexpected %s warning: %v", field, res.Warnings)
				}
			}
		})
	}
}

// TestURLTrailingSlashKeepsBytes: FindRunner takes url with and without a
// trailing slash for the same GitLab, so the runner's url line stays as
// it is when that is the only difference.
func TestURLTrailingSlashKeepsBytes(t *testing.T) {
	for _, tc := range []struct{ config, answersURL string }{
		{curatedConfig, "https://gitlab.example.com/"},
		{strings.ReplaceAll(curatedConfig, `url = "https://gitlab.example.com"`, `url = "https://gitlab.example.com/"`), "https://gitlab.example.com"},
	} {
		answers := strings.Replace(answersHead("sh", "glrt-SHELLSHELLSHELLSHELL"), `url = "https://gitlab.example.com"`, `url = "`+tc.answersURL+`"`, 1) + "[runner]\nlimit = 2\n"
		out, _, err := applyText(t, tc.config, answers)
		if err != nil {
			t.Fatalf("apply refused: %v", err)
		}
		want := strings.Replace(tc.config, "  shell = \"bash\"\n", "  shell = \"bash\"\n  limit = 2\n", 1)
		if string(out) != want {
			t.Errorf("answers url %s:\n%s", tc.answersURL, render.Diff("config.toml", []byte(want), out, nil))
		}
	}
}
