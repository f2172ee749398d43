package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/testenv"
)

// TestApplyExistingRunnerTouchesOnlyNamedKeys (issue 13, defect 1):
// answers that name an existing runner and a few keys change exactly
// those keys of a hand-kept config.toml: the dry run's diff shows only
// them, and the written file is the old one with just those lines changed.
func TestApplyExistingRunnerTouchesOnlyNamedKeys(t *testing.T) {
	curated, err := os.ReadFile("testdata/absent-keys.toml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, runner, token, keys string
		// replace maps whole old lines to new ones; nothing else may change.
		replace map[string]string
	}{
		{
			name: "dind runner, new image", runner: "dind", token: "glrt-DINDDINDDINDDINDDIND",
			keys:    "[docker]\nimage = \"docker:28\"\n",
			replace: map[string]string{`    image = "docker:27"`: `    image = "docker:28"`},
		},
		{
			name: "shell runner, no executor, a limit", runner: "sh", token: "glrt-SHELLSHELLSHELLSHELL",
			keys:    "[runner]\nlimit = 3\n",
			replace: map[string]string{"\tshell = \"bash\"\n": "\tshell = \"bash\"\n\tlimit = 3\n"},
		},
		{
			name: "dind runner, an environment entry", runner: "dind", token: "glrt-DINDDINDDINDDINDDIND",
			keys:    "[runner]\nenvironment = [\"FOO=baz\"]\n",
			replace: map[string]string{`  environment = ["DOCKER_TLS_CERTDIR=/certs", "FOO=bar"]`: `  environment = ["DOCKER_TLS_CERTDIR=/certs", "FOO=baz"]`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "etc", "config.toml")
			writeFile(t, cfg, string(curated), 0o600)
			answers := filepath.Join(dir, "answers.toml")
			// The url is the one on disk: a different spelling would be a
			// key the answers set.
			url := "https://gitlab.example.com"
			if tt.runner == "sh" {
				url += "/"
			}
			writeFile(t, answers, "version = 1\n[gitlab]\nurl = \""+url+"\"\ntoken = \"env:RUNNER_TOKEN\"\nname = \""+tt.runner+"\"\n"+tt.keys, 0o600)
			want := string(curated)
			var wantDiff []string
			for old, new := range tt.replace {
				if !strings.Contains(want, old) {
					t.Fatalf("test case does not apply: %q", old)
				}
				want = strings.Replace(want, old, new, 1)
				for _, l := range strings.Split(strings.TrimSuffix(old, "\n"), "\n") {
					if !strings.Contains(new, l+"\n") && !strings.HasSuffix(new, l) {
						wantDiff = append(wantDiff, "-"+l)
					}
				}
				for _, l := range strings.Split(strings.TrimSuffix(new, "\n"), "\n") {
					if !strings.Contains(old, l) {
						wantDiff = append(wantDiff, "+"+l)
					}
				}
			}
			e := env{"RUNNER_TOKEN": tt.token}
			args := []string{"apply", "--answers", answers, "--config", cfg, "--docker-config", filepath.Join(dir, "docker"), "--skip-probes"}

			r := runCLI(t, dir, e, append(args, "--dry-run")...)
			if r.code != 0 {
				t.Fatalf("dry run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			var gotDiff []string
			for _, l := range strings.Split(r.stdout, "\n") {
				if (strings.HasPrefix(l, "-") || strings.HasPrefix(l, "+")) && !strings.HasPrefix(l, "---") && !strings.HasPrefix(l, "+++") {
					gotDiff = append(gotDiff, l)
				}
			}
			if strings.Join(gotDiff, "\n") != strings.Join(wantDiff, "\n") {
				t.Errorf("dry-run diff changes other lines than the answers name:\n got %q\nwant %q\n%s", gotDiff, wantDiff, r.stdout)
			}
			assertNoSecrets(t, "dry run", r.stdout+r.stderr, tt.token)

			r = runCLI(t, dir, e, args...)
			if r.code != 0 {
				t.Fatalf("apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			got, err := os.ReadFile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != want {
				t.Errorf("apply changed other bytes than the keys the answers name:\n--- got\n%s\n--- want\n%s", got, want)
			}
			testenv.CheckRunnerConfig(t, got)
		})
	}
}
