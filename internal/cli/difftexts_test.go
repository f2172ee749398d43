package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// apply --diff-texts -o json adds each changed file's whole text, before
// and after, redacted like the diff: what Ansible's diff mode shows.
func TestApplyDiffTexts(t *testing.T) {
	s := newSetup(t, registryAnswers)
	oldAuth := "b2xkLXVzZXI6b2xkLXNlY3JldC1wYXNzd29yZA==" // old-user:old-secret-password
	writeFile(t, filepath.Join(s.docker, "config.json"), `{"auths": {"ghcr.io": {"auth": "`+oldAuth+`"}}}`, 0o600)

	r := s.apply(t, "--dry-run", "--diff-texts", "-o", "json")
	if r.code != 0 {
		t.Fatalf("apply (%d): %s%s", r.code, r.stdout, r.stderr)
	}
	assertNoSecrets(t, "JSON", r.stdout, testToken, "reg-pass-0123456789", oldAuth, "Y2k6cmVnLXBhc3MtMDEyMzQ1Njc4OQ==")
	var out struct {
		ConfigTOML   map[string]any `json:"config_toml"`
		DockerConfig map[string]any `json:"docker_config"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	text := func(fc map[string]any, key string) string {
		v, ok := fc[key].(string)
		if !ok {
			t.Fatalf("%s missing or not a string: %v", key, fc[key])
		}
		return v
	}
	if b := text(out.ConfigTOML, "before"); b != "" {
		t.Errorf("config_toml.before of a new file = %q, want \"\"", b)
	}
	if a := text(out.ConfigTOML, "after"); !strings.Contains(a, `name = "build-01"`) || !strings.Contains(a, "[[runners]]") {
		t.Errorf("config_toml.after is not the new config.toml:\n%s", a)
	}
	if b := text(out.DockerConfig, "before"); !strings.Contains(b, `"ghcr.io"`) {
		t.Errorf("docker_config.before is not the old config.json:\n%s", b)
	}
	if a := text(out.DockerConfig, "after"); !strings.Contains(a, `"ghcr.io"`) || !strings.Contains(a, `"registry.example.com:5000"`) {
		t.Errorf("docker_config.after is not the new config.json:\n%s", a)
	}

	// Without the flag the result keeps its shape: no texts.
	plain := s.apply(t, "--dry-run", "-o", "json")
	if strings.Contains(plain.stdout, `"before"`) || strings.Contains(plain.stdout, `"after"`) {
		t.Errorf("apply -o json without --diff-texts prints the file texts:\n%s", plain.stdout)
	}
	// The texts exist only in JSON.
	if bad := s.apply(t, "--dry-run", "--diff-texts"); bad.code != ExitInput || !strings.Contains(bad.stderr, "-o json") {
		t.Errorf("--diff-texts without -o json: exit %d\n%s", bad.code, bad.stderr)
	}
}
