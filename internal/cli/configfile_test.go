package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/testenv"
)

// TestConfigFileEnvStandsInForFlag: CONFIG_FILE means exactly what -c
// means, for every command that has --config (gitlab-runner's -c is
// `env:"CONFIG_FILE"`): the same exit code and the same words, for a file
// that exists and for one that does not.
func TestConfigFileEnvStandsInForFlag(t *testing.T) {
	home := testenv.Isolate(t)
	noRunners := filepath.Join(home, "empty.toml")
	if err := os.WriteFile(noRunners, []byte("concurrent = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(home, "missing", "config.toml")
	tests := []struct {
		name string
		path string
		args []string
		// want is a phrase both forms must print.
		want     string
		wantCode int
	}{
		{"probe, file without runners", noRunners, []string{"probe"}, "has no [[runners]] entry", ExitInput},
		{"probe, missing file", missing, []string{"probe"}, "does not exist", ExitInput},
		{"diagnose, missing file", missing, []string{"diagnose", "127.0.0.1:1/ci/app:1", "--timeout", "1s"}, "does not exist", ExitInput},
		{"check, missing file", missing, []string{"check", "--lint-only"}, "does not exist", ExitInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flag := runCLI(t, home, nil, append(tt.args, "-c", tt.path)...)
			t.Setenv("CONFIG_FILE", tt.path)
			viaEnv := runCLI(t, home, nil, tt.args...)
			os.Unsetenv("CONFIG_FILE")
			if flag.code != tt.wantCode || !strings.Contains(flag.stderr, tt.want) {
				t.Errorf("-c %s: exit %d, stderr %q; want exit %d and %q", tt.path, flag.code, flag.stderr, tt.wantCode, tt.want)
			}
			// The same words, but for who named the file.
			if viaEnv.code != flag.code || strings.ReplaceAll(viaEnv.stderr, "CONFIG_FILE", "--config") != flag.stderr {
				t.Errorf("CONFIG_FILE=%s: exit %d, stderr %q\n-c: exit %d, stderr %q", tt.path, viaEnv.code, viaEnv.stderr, flag.code, flag.stderr)
			}
		})
	}
}
