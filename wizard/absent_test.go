package wizard

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runnerup/runnerup/internal/gitlab"
	"github.com/runnerup/runnerup/render"
)

// curatedConfig has one runner of each kind an answers file may target
// without naming its executor.
const curatedConfig = `concurrent = 2

[[runners]]
  name = "dind"
  url = "https://gitlab.example.com"
  id = 5
  token = "glrt-DINDDINDDINDDINDDIND"
  executor = "docker"
  environment = ["DOCKER_TLS_CERTDIR=/certs"]
  [runners.docker]
    image = "docker:27"
    privileged = true   # DinD needs it
    volumes = ["/cache", "/certs/client"]
    [[runners.docker.services]]
      name = "docker:27-dind"
      alias = "docker"

[[runners]]
  name = "sh"
  url = "https://gitlab.example.com"
  token = "glrt-SHELLSHELLSHELLSHELL"
  executor = "shell"
  shell = "bash"

[[runners]]
  name = "win"
  url = "https://gitlab.example.com"
  token = "glrt-WINWINWINWINWINWINWIN"
  executor = "docker-windows"
  [runners.docker]
    image = "mcr.microsoft.com/windows/servercore:ltsc2022"
    volumes = ['c:\cache']
`

// noGitLab fails the test when apply calls GitLab for a runner that is
// on disk (each case keeps that token); a new runner's token verifies.
type noGitLab struct{ t *testing.T }

func (n noGitLab) Verify(_ context.Context, token, _ string) (gitlab.Runner, error) {
	if !strings.HasPrefix(token, "glrt-FRESH") {
		n.t.Errorf("apply verified a token that is already on disk")
	}
	return gitlab.Runner{ID: 9}, nil
}

func (n noGitLab) Register(context.Context, gitlab.RegisterRequest) (gitlab.Runner, error) {
	n.t.Errorf("apply registered a runner")
	return gitlab.Runner{}, nil
}

// applyText prepares answers-file text and applies it to config (written
// to a temp dir) without live checks; it returns the file apply left.
func applyText(t *testing.T, config, answers string) ([]byte, *ApplyResult, error) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	raw, unknown, err := Parse([]byte(answers))
	if err != nil {
		t.Fatalf("answers: %v", err)
	}
	if len(unknown) > 0 {
		t.Fatalf("answers: unknown keys %v", unknown)
	}
	p, err := PrepareAnswers(raw, nil, Resolver{LookupEnv: func(string) (string, bool) { return "", false }}, "host")
	if err != nil {
		return nil, nil, err
	}
	res, err := Apply(context.Background(), p, ApplyOptions{
		ConfigPath: cfg, DockerConfigDir: filepath.Join(dir, "docker"), SkipProbes: true, Hostname: "host",
		Now:       func() time.Time { return time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC) },
		NewGitLab: func(string, gitlab.Options) (RunnerAPI, error) { return noGitLab{t}, nil },
	})
	if err != nil {
		return nil, nil, err
	}
	out, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out, res, nil
}

// TestApplyAbsentKeysUntouched (issue 13, defect 1): for a runner already
// in config.toml, keys the answers do not set keep their bytes, and the
// executor the answers do not name is the one on disk; the defaults
// (executor docker, privileged false, /cache) are for new runners only.
func TestApplyAbsentKeysUntouched(t *testing.T) {
	head := func(name, token string) string {
		return "version = 1\n[gitlab]\nurl = \"https://gitlab.example.com\"\ntoken = \"" + token + "\"\nname = \"" + name + "\"\n"
	}
	tests := []struct {
		name    string
		answers string
		// replace maps old text to new; nothing else may change.
		replace map[string]string
		// appended is text the new runner's block must contain.
		appended []string
	}{
		{
			name:    "dind runner, only the image",
			answers: head("dind", "glrt-DINDDINDDINDDINDDIND") + "[docker]\nimage = \"docker:28\"\n",
			replace: map[string]string{`    image = "docker:27"`: `    image = "docker:28"`},
		},
		{
			name:    "shell runner, no executor named",
			answers: head("sh", "glrt-SHELLSHELLSHELLSHELL") + "[runner]\nlimit = 2\n",
			replace: map[string]string{"  shell = \"bash\"\n": "  shell = \"bash\"\n  limit = 2\n"},
		},
		{
			name:    "shell runner, nothing but the merge key",
			answers: head("sh", "glrt-SHELLSHELLSHELLSHELL"),
		},
		{
			name:    "docker runner, executor named, image on disk",
			answers: head("dind", "glrt-DINDDINDDINDDINDDIND") + "[runner]\nexecutor = \"docker\"\n[docker]\npull_policy = \"always\"\n",
			replace: map[string]string{"    volumes = [\"/cache\", \"/certs/client\"]\n": "    volumes = [\"/cache\", \"/certs/client\"]\n    pull_policy = [\"always\"]\n"},
		},
		{
			name:    "windows runner, only the image: executor and shell stay",
			answers: head("win", "glrt-WINWINWINWINWINWINWIN") + "[docker]\nimage = \"mcr.microsoft.com/windows/servercore:ltsc2025\"\n",
			replace: map[string]string{"ltsc2022": "ltsc2025"},
		},
		{
			name:    "dind runner, dind = true again changes nothing",
			answers: head("dind", "glrt-DINDDINDDINDDINDDIND") + "[docker]\ndind = true\n",
		},
		{
			name:     "new runner gets the defaults",
			answers:  head("fresh", "glrt-FRESHFRESHFRESHFRESH") + "[docker]\nimage = \"alpine:3.20\"\n",
			appended: []string{`executor = "docker"`, `privileged = false`, `volumes = ["/cache"]`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, res, err := applyText(t, curatedConfig, tt.answers)
			if err != nil {
				t.Fatalf("apply refused: %v", err)
			}
			if tt.appended != nil {
				if !res.Runner.Appended || !strings.HasPrefix(string(out), curatedConfig) {
					t.Fatalf("want the runner appended after the existing bytes:\n%s", out)
				}
				for _, w := range tt.appended {
					if !strings.Contains(string(out[len(curatedConfig):]), w) {
						t.Errorf("the new runner lacks %s:\n%s", w, out[len(curatedConfig):])
					}
				}
				return
			}
			want := curatedConfig
			for old, new := range tt.replace {
				if !strings.Contains(want, old) {
					t.Fatalf("test case does not apply: %q", old)
				}
				want = strings.Replace(want, old, new, 1)
			}
			if string(out) != want {
				t.Errorf("apply changed keys the answers do not set:\n%s", render.Diff("config.toml", []byte(want), out, nil))
			}
		})
	}
}
