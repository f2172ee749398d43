package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/testenv"
)

// Found in review: `probe --config` asked a Docker daemon reached over TCP
// (DOCKER_HOST) for a gitlab-runner container before it read config.toml,
// as apply did before --offline's fix; `check` detected the service (on
// that daemon too) and asked it for its insecure registries before it
// read the file; the wizard detected before it read --answers. A file that does not parse stops them before that daemon
// is asked.
func TestLocalInputsBeforeRemoteDockerDaemon(t *testing.T) {
	addr, conns := testenv.Trap(t) // a remote Docker daemon
	host := "tcp://" + addr
	t.Setenv("DOCKER_HOST", host) // the real detection reads the process environment
	realDetect := func(d *Deps) { d.DetectService = detectService }
	dir := t.TempDir()
	config := filepath.Join(dir, "config.toml")
	writeFile(t, config, "[[runners]\n  name = \"a\"\n", 0o600)
	answersFile := filepath.Join(dir, "answers.toml")
	writeFile(t, answersFile, "version = 1\n[gitlab\n", 0o600)
	for _, tt := range []struct {
		args  []string
		codes []int
	}{
		{args: []string{"probe", "--config", config, "--docker-config", filepath.Join(dir, "docker")}, codes: []int{ExitInput}},
		// check: a toml.syntax finding (3), never the daemon's facts.
		{args: []string{"check", "--config", config}, codes: []int{ExitInput, ExitCheckFailed}},
		{args: []string{"check", "--config", config, "--online"}, codes: []int{ExitInput, ExitCheckFailed}},
		// A --config file that does not exist is reported first too.
		{args: []string{"check", "--config", filepath.Join(dir, "missing.toml")}, codes: []int{ExitInput}},
		// wizard: the answers file it starts from is read first.
		{args: []string{"wizard", "--accessible", "--answers", answersFile}, codes: []int{ExitInput}},
	} {
		t.Run(strings.Join(tt.args[:1], ""), func(t *testing.T) {
			before := conns()
			r := runCLIDeps(t, realDetect, dir, env{}, tt.args...)
			if !containsInt(tt.codes, r.code) {
				t.Errorf("%s on a config.toml that does not parse: exit %d, want one of %v", tt.args[0], r.code, tt.codes)
			}
			if n := conns() - before; n != 0 {
				t.Errorf("%s connected %d time(s) to the Docker daemon at %s before its local input was read (exit %d):\n%s%s", tt.args[0], n, host, r.code, r.stdout, r.stderr)
			}
		})
	}
}

// check on a config.toml that parses does ask the remote daemon (for a
// gitlab-runner container and its insecure registries), but only after it
// has read and linted the file: at the daemon's first contact the file is
// replaced by one that does not parse, and check's findings are still
// those of the file as it was.
func TestCheckReadsConfigBeforeRemoteDockerDaemon(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "config.toml")
	good := "concurrent = 1\n\n[[runners]]\n  name = \"a\"\n  url = \"https://gitlab.example.com\"\n  token = \"glrt-LOCALfirstLOCALfirst01\"\n  executor = \"shell\"\n"
	writeFile(t, config, good, 0o600)
	addr, conns := testenv.TrapFunc(t, func(n int64) {
		if n == 1 {
			// Not writeFile: this runs on the trap's goroutine.
			_ = os.WriteFile(config, []byte("[[runners]\n"), 0o600)
		}
	})
	t.Setenv("DOCKER_HOST", "tcp://"+addr)
	r := runCLIDeps(t, func(d *Deps) { d.DetectService = detectService }, dir, env{}, "check", "--config", config, "-o", "json")
	if conns() == 0 {
		t.Fatalf("check never asked the Docker daemon at DOCKER_HOST (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "toml.syntax") {
		t.Errorf("check read config.toml after it contacted the Docker daemon (it linted the file written at that moment):\n%s%s", r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, `"config": "`+config+`"`) {
		t.Errorf("check -o json (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
