package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean.toml")
	writeFile(t, clean, "concurrent = 2\ncheck_interval = 0\n\n[[runners]]\n  name = \"a\"\n  url = \"https://gitlab.example.com\"\n  token = \"glrt-cleancleancleanclean\"\n  executor = \"docker\"\n  [runners.docker]\n    image = \"alpine:3.20\"\n", 0o600)
	typo := filepath.Join(dir, "typo.toml")
	writeFile(t, typo, "concurrent = 2\n\n[[runners]]\n  name = \"a\"\n  url = \"https://gitlab.example.com\"\n  token = \"GR1348941secretsecretsecret\"\n  executor = \"docker\"\n  [runners.docker]\n    image = \"alpine:3.20\"\n    privilaged = true\n", 0o644)
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"clean", []string{"check", "--config", clean}, 0, []string{"no findings"}},
		{"findings", []string{"check", "--config", typo}, ExitCheckFailed, []string{`did you mean "privileged"`, "runner.token.registration", "file.mode", "typo.toml:10:"}},
		{"unreadable", []string{"check", "--config", filepath.Join(dir, "missing.toml")}, ExitInput, []string{"missing.toml does not exist"}},
		{"bad flag", []string{"check", "-o", "yaml"}, ExitInput, []string{"--output"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, dir, env{}, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, c := range tt.contains {
				if !strings.Contains(r.stdout+r.stderr, c) {
					t.Errorf("output lacks %q:\n%s%s", c, r.stdout, r.stderr)
				}
			}
			assertNoSecrets(t, "check output", r.stdout+r.stderr, "GR1348941secretsecretsecret", "glrt-cleancleancleanclean")
		})
	}
	r := runCLI(t, dir, env{}, "check", "--config", typo, "-o", "json")
	var out struct {
		OK       bool
		Findings []struct{ ID, Severity string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.OK || len(out.Findings) < 3 {
		t.Errorf("json: %v %+v\n%s", err, out, r.stdout)
	}
}
