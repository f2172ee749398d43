package cli

import (
	"path/filepath"
	"testing"

	"github.com/runnerup/runnerup/internal/testenv"
)

// Found in review: `probe --config` asked a Docker daemon reached over TCP
// (DOCKER_HOST) for a gitlab-runner container before it read config.toml,
// as apply did before --offline's fix. A file that does not parse stops
// it before that daemon is asked. (`check` detects once up front in checkRun, for the
// default path, and asks the daemon for the linter's insecure registries:
// both before the file is read.)
func TestLocalInputsBeforeRemoteDockerDaemon(t *testing.T) {
	addr, conns := testenv.Trap(t) // a remote Docker daemon
	host := "tcp://" + addr
	t.Setenv("DOCKER_HOST", host) // the real detection reads the process environment
	realDetect := func(d *Deps) { d.DetectService = detectService }
	dir := t.TempDir()
	config := filepath.Join(dir, "config.toml")
	writeFile(t, config, "[[runners]\n  name = \"a\"\n", 0o600)
	for _, args := range [][]string{
		{"probe", "--config", config, "--docker-config", filepath.Join(dir, "docker")},
	} {
		t.Run(args[0], func(t *testing.T) {
			before := conns()
			r := runCLIDeps(t, realDetect, dir, env{}, args...)
			if r.code != ExitInput {
				t.Errorf("%s on a config.toml that does not parse: exit %d, want %d", args[0], r.code, ExitInput)
			}
			if n := conns() - before; n != 0 {
				t.Errorf("%s connected %d time(s) to the Docker daemon at %s before config.toml was read (exit %d):\n%s%s", args[0], n, host, r.code, r.stdout, r.stderr)
			}
		})
	}
}
