package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/testenv"
)

// A config.toml saved by an editor that writes a UTF-8 byte order mark loads
// in GitLab Runner (BurntSushi skips the mark), so apply must edit it too,
// keeping the mark and every other byte outside the runner's managed keys.
func TestApplyOnBOMPrefixedConfig(t *testing.T) {
	s := newSetup(t, "")
	const bom = "\ufeff"
	cfg := bom + `concurrent = 1 # kept

[[runners]]
  name = "build-01"
  url = "` + s.gitlab.URL + `"
  id = 4242
  token = "` + testToken + `"
  executor = "docker"
  [runners.docker]
    image = "alpine:3.19"
`
	writeFile(t, s.config, cfg, 0o600)
	testenv.CheckRunnerConfig(t, []byte(cfg)) // the runner loads it

	r := s.apply(t)
	if r.code != 0 {
		t.Fatalf("apply on a BOM-prefixed config.toml: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	got, _ := os.ReadFile(s.config)
	want := strings.Replace(cfg, `image = "alpine:3.19"`, `image = "alpine:3.20"`, 1)
	if string(got) != want {
		t.Fatalf("config.toml after apply:\n%q\nwant:\n%q", got, want)
	}
	testenv.CheckRunnerConfig(t, got)

	// check reads it too, with lines counted as an editor shows them.
	r = runCLI(t, s.dir, s.env, "check", "--config", s.config, "--lint-only")
	if r.code != 0 {
		t.Fatalf("check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
