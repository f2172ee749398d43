package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckLintOnlySkipsFileMode: --lint-only is for config.toml files kept
// in repositories, where 0644 is normal; the live file keeps the check.
func TestCheckLintOnlySkipsFileMode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.toml")
	writeFile(t, p, "concurrent = 2\n\n[[runners]]\n  name = \"a\"\n  url = \"https://gitlab.example.com\"\n  token = \"glrt-repocopyrepocopyrepo\"\n  executor = \"docker\"\n  [runners.docker]\n    image = \"alpine:3.20\"\n", 0o644)
	r := runCLI(t, dir, env{}, "check", "--lint-only", "--config", p)
	if r.code != 0 || strings.Contains(r.stdout+r.stderr, "file.mode") {
		t.Errorf("--lint-only: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, dir, env{}, "check", "--config", p)
	if !strings.Contains(r.stdout+r.stderr, "file.mode") {
		t.Errorf("without --lint-only the mode is checked:\n%s%s", r.stdout, r.stderr)
	}
}
