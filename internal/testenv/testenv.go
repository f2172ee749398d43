// Package testenv starts the real programs that runnerup's integration tests
// run against: a private dockerd on a temporary unix socket, a
// docker-registry (distribution 2.8) on a loopback port with optional
// htpasswd auth and TLS, and the real docker CLI.
//
// Nothing here is faked: the point of these tests is to prove that the
// config.json and config.toml runnerup writes are understood by the real
// tools. Every helper skips the test with a reason when a prerequisite is
// missing (binaries, root), and fails it instead when
// RUNNERUP_REQUIRE_INTEGRATION=1, so CI cannot go green by skipping.
//
// All helpers register their own clean-up with t.Cleanup, so a test never
// leaves daemons, registries, mounts or temporary directories behind.
package testenv

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// EnvRequire is the variable that turns skips into failures. CI and the
// README test command set it to 1 so that a machine without dockerd or root
// fails loudly instead of reporting a green run that tested nothing.
const EnvRequire = "RUNNERUP_REQUIRE_INTEGRATION"

// Required reports whether EnvRequire is set to a true value ("1", "true").
func Required() bool {
	v, err := strconv.ParseBool(strings.TrimSpace(os.Getenv(EnvRequire)))
	return err == nil && v
}

// preferredPaths are the Debian locations of the binaries the tests use.
// They are tried before PATH because PATH may hold other builds (this
// machine has a docker 28.x client in /usr/local/bin whose behaviour differs
// from the Debian 20.10 one the tests are written against) and because
// /usr/sbin is often missing from a non-login PATH.
var preferredPaths = map[string]string{
	"docker":          "/usr/bin/docker",
	"dockerd":         "/usr/sbin/dockerd",
	"docker-registry": "/usr/bin/docker-registry",
	"htpasswd":        "/usr/bin/htpasswd",
	"openssl":         "/usr/bin/openssl",
}

// debianPackage names the package that provides a binary, for skip messages.
var debianPackage = map[string]string{
	"docker":          "docker.io",
	"dockerd":         "docker.io",
	"docker-registry": "docker-registry",
	"htpasswd":        "apache2-utils",
	"openssl":         "openssl",
	"tmux":            "tmux",
	"hyperfine":       "hyperfine",
}

// Lookup returns the absolute path of a binary: its Debian location when
// that exists, else the PATH entry, else /usr/sbin or /sbin (root-only
// daemons live there and are often not on PATH).
func Lookup(name string) (string, error) {
	if p, ok := preferredPaths[name]; ok && isExecutable(p) {
		return p, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return filepath.Abs(p)
	}
	if !strings.ContainsRune(name, '/') {
		for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
			if p := filepath.Join(dir, name); isExecutable(p) {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%s: %w", name, exec.ErrNotFound)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// missing describes what is missing for Need, or "" when nothing is. It is
// separate from Need so the wording can be unit tested without skipping.
func missing(root bool, binaries ...string) string {
	var parts []string
	if root {
		if uid := os.Geteuid(); uid != 0 {
			parts = append(parts, fmt.Sprintf("needs root (running as uid %d)", uid))
		}
	}
	var absent []string
	for _, b := range binaries {
		if _, err := Lookup(b); err != nil {
			if pkg, ok := debianPackage[b]; ok {
				absent = append(absent, fmt.Sprintf("%s (Debian package %s)", b, pkg))
			} else {
				absent = append(absent, b)
			}
		}
	}
	if len(absent) > 0 {
		parts = append(parts, "missing binaries: "+strings.Join(absent, ", "))
	}
	return strings.Join(parts, "; ")
}

// Need skips the test with a clear reason when any named binary cannot be
// found (see Lookup) or, when root is true, the test is not running as root.
// When RUNNERUP_REQUIRE_INTEGRATION=1 it calls t.Fatalf with the same reason
// instead, so a misconfigured CI machine fails rather than skips.
func Need(t testing.TB, root bool, binaries ...string) {
	t.Helper()
	if reason := missing(root, binaries...); reason != "" {
		skipOrFail(t, reason)
	}
}

// SkipOrFail skips with reason, or fails under RUNNERUP_REQUIRE_INTEGRATION=1:
// for a test whose outside dependency (a module cache, a tool) is absent.
func SkipOrFail(t testing.TB, reason string) {
	t.Helper()
	skipOrFail(t, reason)
}

// skipOrFail skips with reason, or fails under RUNNERUP_REQUIRE_INTEGRATION=1.
func skipOrFail(t testing.TB, reason string) {
	t.Helper()
	if Required() {
		t.Fatalf("integration test cannot run: %s (%s=%s makes this a failure instead of a skip)",
			reason, EnvRequire, os.Getenv(EnvRequire))
	}
	t.Skipf("integration test skipped: %s (set %s=1 to make this a failure)", reason, EnvRequire)
}

// isolatedVars are unset by Isolate: each one would make the docker CLI or
// an HTTP client in the code under test look somewhere other than the
// temporary home and the loopback daemons the test set up.
var isolatedVars = []string{
	"DOCKER_CONFIG", "DOCKER_HOST", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "DOCKER_TLS",
	"DOCKER_AUTH_CONFIG", "DOCKER_CONTEXT", "DOCKER_API_VERSION", "DOCKER_DEFAULT_PLATFORM",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
	"http_proxy", "https_proxy", "no_proxy", "all_proxy",
	"XDG_CONFIG_HOME", "CONFIG_FILE",
}

// Isolate points HOME at a fresh temporary directory and unsets the Docker,
// proxy and XDG_CONFIG_HOME variables, so that code under test can neither
// read nor overwrite the real user's ~/.docker/config.json or follow a
// proxy off the loopback interface. It returns the new home directory.
// Like t.Setenv it cannot be used in parallel tests; the previous values
// are restored when the test ends.
func Isolate(t testing.TB) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, k := range isolatedVars {
		// t.Setenv records the old value for restoration; then unset it so
		// the code under test sees "not set" rather than "set to empty".
		t.Setenv(k, "")
		if err := os.Unsetenv(k); err != nil {
			t.Fatalf("testenv: unset %s: %v", k, err)
		}
	}
	return home
}

// cleanEnv returns os.Environ() without the variables Isolate unsets, for
// child processes (docker CLI, daemons) that must talk only to the test's
// own daemon and registry whatever the caller's environment says.
func cleanEnv() []string {
	drop := make(map[string]bool, len(isolatedVars))
	for _, k := range isolatedVars {
		drop[k] = true
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if drop[k] || strings.HasPrefix(k, "REGISTRY_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// tail returns at most the last n bytes of a file, starting at a line
// boundary, for failure messages that quote a daemon's log.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	defer f.Close()
	off := int64(0)
	if fi, err := f.Stat(); err == nil && fi.Size() > n {
		off = fi.Size() - n
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	s := string(b)
	if off > 0 {
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	return strings.TrimRight(s, "\n")
}
