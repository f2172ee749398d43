package cli

import (
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
	"github.com/runnerup/runnerup/internal/testenv"
)

// TestPullFlag: --pull on the real binary, the real test dockerd and an
// htpasswd registry: `probe --image`, `probe --config` and `diagnose` let
// the daemon pull with the credentials of the runner's config.json, and
// say that the image stays.
func TestPullFlag(t *testing.T) {
	home := testenv.Isolate(t)
	d := testenv.StartDockerd(t, testenv.DockerdOptions{})
	const pass = "pull-flag-pw-Hq3"
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{Auth: true, Password: pass})
	image := reg.PushImage(t, d, "ci/pulled", "1")
	other := reg.PushImage(t, d, "ci/config", "1")
	dockerDir := filepath.Join(home, ".docker")
	auth := base64.StdEncoding.EncodeToString([]byte(reg.Username + ":" + pass))
	writeFile(t, filepath.Join(dockerDir, "config.json"), `{"auths": {"`+reg.Host+`": {"auth": "`+auth+`"}}}`, 0o600)
	env := []string{"DOCKER_HOST=" + d.Host}
	secrets := []string{pass, auth}

	pullCheck := func(t *testing.T, stdout, ref string) jsonCheck {
		t.Helper()
		var out jsonOut
		if err := json.Unmarshal([]byte(stdout), &out); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, stdout)
		}
		for _, c := range out.Checks {
			if c.ID == "image."+ref+".pull" {
				return c
			}
		}
		t.Fatalf("no image.%s.pull check in\n%s", ref, stdout)
		return jsonCheck{}
	}

	t.Run("probe --image --pull", func(t *testing.T) {
		r := runBinary(t, home, env, 2*time.Minute, "probe", "--image", image, "--docker-config", dockerDir, "--pull", "-o", "json")
		if r.code != 0 {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		c := pullCheck(t, r.stdout, image)
		if c.Status != "pass" || !strings.Contains(c.Detail, "with the credentials from "+filepath.Join(dockerDir, "config.json")) || !strings.Contains(c.Detail, "stays in the daemon's store") {
			t.Errorf("pull check = %+v", c)
		}
		if _, _, err := d.Docker(t, "", "image", "inspect", image); err != nil {
			t.Errorf("the pulled image is not left in the daemon's store: %v", err)
		}
		assertNoSecrets(t, "probe --pull", r.stdout+r.stderr, secrets...)
		// Without --pull nothing is pulled.
		r = runBinary(t, home, env, time.Minute, "probe", "--image", image, "--docker-config", dockerDir, "-o", "json")
		if strings.Contains(r.stdout, ".pull\"") {
			t.Errorf("probe without --pull pulled:\n%s", r.stdout)
		}
	})

	t.Run("probe --image --pull without credentials", func(t *testing.T) {
		empty := t.TempDir()
		r := runBinary(t, home, env, time.Minute, "probe", "--image", image, "--docker-config", empty, "--pull", "-o", "json")
		if r.code != ExitCheckFailed {
			t.Fatalf("exit %d, want 3\n%s%s", r.code, r.stdout, r.stderr)
		}
		if c := pullCheck(t, r.stdout, image); c.Status != "fail" || c.Finding != "auth-missing-credentials" || !strings.Contains(c.Detail, "no basic auth credentials") {
			t.Errorf("pull check = %+v", c)
		}
	})

	t.Run("probe --config --pull", func(t *testing.T) {
		gl := fakegitlab.New(t)
		gl.AddRunner(testToken, 7)
		cfg := filepath.Join(t.TempDir(), "config.toml")
		writeFile(t, cfg, `concurrent = 1

[[runners]]
  name = "pull"
  url = "`+gl.URL+`"
  token = "`+testToken+`"
  executor = "docker"
  [runners.docker]
    image = "`+other+`"
    host = "`+d.Host+`"
`, 0o600)
		r := runBinary(t, home, env, 2*time.Minute, "probe", "--config", cfg, "--docker-config", dockerDir, "--pull", "-o", "json")
		if c := pullCheck(t, r.stdout, other); c.Status != "pass" {
			t.Errorf("exit %d; pull check = %+v\n%s", r.code, c, r.stderr)
		}
		assertNoSecrets(t, "probe --config --pull", r.stdout+r.stderr, append(secrets, testToken)...)
	})

	t.Run("probe --answers --pull: the credentials apply would write", func(t *testing.T) {
		gl := fakegitlab.New(t)
		gl.AddRunner(testToken, 8)
		dir := t.TempDir()
		answers := filepath.Join(dir, "answers.toml")
		writeFile(t, answers, `version = 1
[gitlab]
url = "`+gl.URL+`"
token = "env:RUNNER_TOKEN"
name = "pull-answers"
[runner]
executor = "docker"
[docker]
image = "`+other+`"
host = "`+d.Host+`"
[[registries]]
host = "`+reg.Host+`"
username = "`+reg.Username+`"
password = "env:REGISTRY_PASSWORD"
target = "docker-config"
`, 0o600)
		// config.json does not exist yet: the pull uses what apply would write.
		emptyDocker := filepath.Join(dir, "home", ".docker")
		r := runBinary(t, home, append(env, "RUNNER_TOKEN="+testToken, "REGISTRY_PASSWORD="+pass), 2*time.Minute,
			"probe", "--answers", answers, "--config", filepath.Join(dir, "config.toml"), "--docker-config", emptyDocker, "--pull", "-o", "json")
		if c := pullCheck(t, r.stdout, other); c.Status != "pass" || !strings.Contains(c.Detail, "with the credentials from") {
			t.Errorf("exit %d; pull check = %+v\n%s", r.code, c, r.stderr)
		}
		assertNoSecrets(t, "probe --answers --pull", r.stdout+r.stderr, append(secrets, testToken)...)
	})

	t.Run("diagnose --pull", func(t *testing.T) {
		cfg := filepath.Join(t.TempDir(), "config.toml")
		writeFile(t, cfg, "[[runners]]\n  name = \"pull\"\n  executor = \"docker\"\n  [runners.docker]\n    host = \""+d.Host+"\"\n", 0o600)
		r := runBinary(t, home, env, 2*time.Minute, "diagnose", image, "--config", cfg, "--docker-config", dockerDir, "--pull", "-o", "json")
		var rep struct {
			OK   bool `json:"ok"`
			Pull *struct {
				Pulled           bool   `json:"pulled"`
				HTTP             string `json:"http_verdict"`
				Agree            bool   `json:"agree"`
				CredentialSource string `json:"credential_source"`
			} `json:"pull"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("exit %d, not JSON: %v\n%s%s", r.code, err, r.stdout, r.stderr)
		}
		if r.code != 0 || !rep.OK || rep.Pull == nil || !rep.Pull.Pulled || !rep.Pull.Agree || rep.Pull.HTTP != "passed" {
			t.Errorf("exit %d, report %+v pull %+v\n%s", r.code, rep, rep.Pull, r.stderr)
		}
		r = runBinary(t, home, env, 2*time.Minute, "diagnose", image, "--config", cfg, "--docker-config", dockerDir, "--pull")
		for _, want := range []string{"Daemon pull (X-Registry-Auth from " + filepath.Join(dockerDir, "config.json") + ")", "the image stays in the daemon's store", "runnerup's HTTP probe: passed"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("text output lacks %q:\n%s", want, r.stdout)
			}
		}
		assertNoSecrets(t, "diagnose --pull", r.stdout+r.stderr, secrets...)
	})
}
