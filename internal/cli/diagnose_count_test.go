package cli

import (
	"path/filepath"
	"testing"

	"github.com/runnerup/runnerup/internal/runnerconf"
)

// diagnose --runner reads config.toml once: one decode, one lookup (it
// decoded a second time to find the entry by name).
func TestDiagnoseRunnerDecodesConfigOnce(t *testing.T) {
	config := filepath.Join(t.TempDir(), "config.toml")
	writeFile(t, config, `concurrent = 1

[[runners]]
  name = "a"
  url = "https://gitlab.example.com"
  executor = "shell"

[[runners]]
  name = "b"
  url = "https://gitlab.example.com"
  executor = "docker"
  [runners.docker]
    image = "alpine:3"
`, 0o600)
	before := runnerconf.Counted()
	r, _, err := loadRunner(&DiagnoseOptions{ConfigPath: config, RunnerName: "b"})
	after := runnerconf.Counted()
	if err != nil || r == nil || r.Name != "b" || r.Image != "alpine:3" {
		t.Fatalf("loadRunner: %+v, %v", r, err)
	}
	if d, l := after.Decodes-before.Decodes, after.Lookups-before.Lookups; d != 1 || l != 1 {
		t.Errorf("diagnose --runner decoded config.toml %d time(s) and looked the runner up %d time(s), want 1 and 1", d, l)
	}
}

// The whole command reads config.toml once too: hostFacts (is this the
// runner host?) used to read and decode it a second time.
func TestDiagnoseCommandDecodesConfigOnce(t *testing.T) {
	home := t.TempDir()
	config := filepath.Join(home, "config.toml")
	writeFile(t, config, "concurrent = 1\n\n[[runners]]\n  name = \"b\"\n  url = \"https://gitlab.example.com\"\n  executor = \"docker\"\n", 0o600)
	before := runnerconf.Counted()
	res := runDiagnose(t, home, env{}, laptopLog, nil, "--log", "-", "--no-live", "--config", config, "--runner", "b", "-o", "json")
	after := runnerconf.Counted()
	if res.code != ExitCheckFailed {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if d := after.Decodes - before.Decodes; d != 1 {
		t.Errorf("diagnose decoded config.toml %d time(s), want 1", d)
	}
}
