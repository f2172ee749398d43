//go:build linux

package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// answers writes an answers file for the vantage runner (the token literal:
// the CLI runs with an empty environment here; the file is 0600).
func (v *vantage) answers(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "answers.toml")
	writeFile(t, p, fmt.Sprintf(`version = 1
[gitlab]
url = %q
token = %q
name = "vantage"
[runner]
executor = "docker"
[docker]
host = %q
image = %q
pull_policy = ["always"]
`, v.gl.URL, vantageToken, v.d.Host, v.image), 0o600)
	return p
}

// TestHelperPATHIsTheServicesForAnswersAndImages: the rest of issue 13
// defect 2. probe --answers, apply (its dry run runs the same checks) and
// probe --image run credential helpers with the detected service's PATH,
// environment and user, as diagnose, probe --config and check do.
func TestHelperPATHIsTheServicesForAnswersAndImages(t *testing.T) {
	v := newVantage(t)
	helperID := "helper.rup"
	dockerDir := filepath.Join(v.svcHome, ".docker")
	answers := v.answers(t)
	t.Setenv("DOCKER_HOST", v.d.Host) // probe --image asks the daemon of this shell
	commands := map[string][]string{
		"probe --answers": {"probe", "--answers", answers, "--config", v.config, "--docker-config", dockerDir, "-o", "json"},
		"apply --dry-run": {"apply", "--answers", answers, "--config", v.config, "--docker-config", dockerDir, "--dry-run", "-o", "json"},
		"probe --image":   {"probe", "--image", v.image, "--docker-config", dockerDir, "-o", "json"},
	}

	t.Run("only on your PATH", func(t *testing.T) {
		v.helper(t, v.userBin)
		t.Cleanup(func() { _ = os.Remove(filepath.Join(v.userBin, "docker-credential-rup")) })
		v.unit(t, "/usr/sbin:/usr/bin")
		want := fmt.Sprintf("found on your PATH (%s), not on the service's PATH (/usr/sbin:/usr/bin", v.userBin)
		for name, args := range commands {
			r := v.run(t, args...)
			assertNoSecrets(t, name, r.stdout+r.stderr, v.secrets()...)
			if r.code != ExitCheckFailed {
				t.Errorf("%s: exit %d, want %d\n%s%s", name, r.code, ExitCheckFailed, r.stdout, r.stderr)
				continue
			}
			out := decodeVantage(t, r)
			if c, _ := out.check(helperID); c.Status != "fail" || !strings.Contains(c.Detail, want) {
				t.Errorf("%s: %s = %q: %s", name, helperID, c.Status, c.Detail)
			}
		}
		if b, _ := os.ReadFile(v.config); strings.Contains(string(b), "pull_policy = [\"always\"]\n") == false {
			t.Errorf("config.toml changed by a dry run:\n%s", b)
		}
	})

	t.Run("only on the service's PATH", func(t *testing.T) {
		svcBin := filepath.Join(t.TempDir(), "opt", "bin")
		v.helper(t, svcBin)
		v.unit(t, svcBin+":/usr/sbin:/usr/bin")
		for name, args := range commands {
			r := v.run(t, args...)
			assertNoSecrets(t, name, r.stdout+r.stderr, v.secrets()...)
			if r.code != ExitOK {
				t.Errorf("%s: exit %d\n%s%s", name, r.code, r.stdout, r.stderr)
				continue
			}
			out := decodeVantage(t, r)
			for _, id := range []string{helperID, "credentials." + v.reg.Host, "registry." + v.reg.Host + ".auth", "image." + v.image + ".manifest"} {
				if c, ok := out.check(id); !ok || c.Status != "pass" {
					t.Errorf("%s: %s = %q: %s", name, id, c.Status, c.Detail)
				}
			}
		}
	})
}
