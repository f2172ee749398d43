package testenv

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// OracleResult is what runner-oracle (GitLab Runner's own config loader,
// ../shared/tools/runner-oracle) printed about a config.toml.
type OracleResult struct {
	OK           bool     `json:"ok"`
	Error        string   `json:"error"`
	Undecoded    []string `json:"undecoded"`
	SchemaErrors []string `json:"schema_errors"`
	Concurrent   int      `json:"concurrent"`
	Runners      []struct {
		Name     string `json:"name"`
		URL      string `json:"url"`
		Executor string `json:"executor"`
		Docker   *struct {
			Image      string   `json:"image"`
			Privileged bool     `json:"privileged"`
			Volumes    []string `json:"volumes"`
			PullPolicy []string `json:"pull_policy"`
			Services   []struct {
				Name  string `json:"name"`
				Alias string `json:"alias"`
			} `json:"services"`
		} `json:"docker"`
		Environment []string `json:"environment"`
	} `json:"runners"`
}

var (
	oracleOnce sync.Once
	oraclePath string
	oracleErr  error
)

// Oracle returns the path of a runner-oracle binary: $RUNNER_ORACLE, else
// runner-oracle on PATH, else one built once from ../shared/tools/runner-oracle
// (about a minute with a cold module cache). It skips, or fails under
// RUNNERUP_REQUIRE_INTEGRATION=1, when none can be had.
func Oracle(t testing.TB) string {
	t.Helper()
	oracleOnce.Do(func() { oraclePath, oracleErr = findOracle() })
	if oracleErr != nil {
		skipOrFail(t, "runner-oracle unavailable: "+oracleErr.Error())
	}
	return oraclePath
}

func findOracle() (string, error) {
	if p := os.Getenv("RUNNER_ORACLE"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("runner-oracle"); err == nil {
		return p, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	src := filepath.Join(root, "..", "shared", "tools", "runner-oracle")
	if _, err := os.Stat(filepath.Join(src, "go.mod")); err != nil {
		return "", errors.New("../shared/tools/runner-oracle not found beside the project; set RUNNER_ORACLE")
	}
	out := filepath.Join(os.TempDir(), "runnerup-runner-oracle")
	tmp := fmt.Sprintf("%s.tmp-%d", out, os.Getpid())
	if b, err := GoBuild(src, tmp, "."); err != nil {
		return "", errors.New("building runner-oracle: " + err.Error() + ": " + string(b))
	}
	return out, os.Rename(tmp, out)
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// CheckRunnerConfig loads data with GitLab Runner's own loader in strict
// mode and fails t on a load error, undecoded keys or schema findings.
func CheckRunnerConfig(t testing.TB, data []byte) OracleResult {
	t.Helper()
	bin := Oracle(t)
	f := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(f, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-strict", f).Output()
	var res OracleResult
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		t.Fatalf("runner-oracle output is not JSON (%v): %s", err, out)
	}
	if err != nil || !res.OK || len(res.Undecoded) > 0 || len(res.SchemaErrors) > 0 {
		t.Fatalf("GitLab Runner's loader rejects the config (exit %v): error=%q undecoded=%v schema=%v\n%s", err, res.Error, res.Undecoded, res.SchemaErrors, data)
	}
	return res
}

// originalHome is HOME before any Isolate call: go commands run by tests
// keep using the real build and module caches under it.
var originalHome = os.Getenv("HOME")

// GoBuild runs `go build -o out pkg` in dir with the caches of the user
// running the tests, even inside an Isolate'd test.
func GoBuild(dir, out, pkg string) ([]byte, error) {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+originalHome)
	return cmd.CombinedOutput()
}

// GoRunOffline runs `go run . args…` in dir (a module of its own) with the
// user's caches and no network (GOPROXY=off): what the module cache holds
// or an error; its stdout, and stderr in the error.
func GoRunOffline(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", append([]string{"run", "."}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+originalHome, "GOPROXY=off", "GOFLAGS=-mod=readonly", "GOWORK=off")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
