package fleettest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/systemid"
)

// recorded is one real runnerup run as the Python unit tests replay it.
type recorded struct {
	RC     int            `json:"rc"`
	Output map[string]any `json:"output"`
}

// contractKeys are the key paths each module reads, as the Python code
// declares them (module_utils/runnerup.py), so the test checks exactly
// what the module depends on.
type contractKeys struct {
	Apply   []string `json:"apply"`
	Failure []string `json:"failure"`
	Probe   []string `json:"probe"`
	Check   []string `json:"check"`
}

// testContract: apply's JSON is the module's contract (DESIGN, "Fleets").
// Real runs of the binary cover every shape the module reads: a first
// write, dry runs, a change with a detected service, no change, a failed
// check, invalid answers, probe and check. Every key the module declares
// must appear in them, and every key (with its JSON type) of the outputs
// recorded for the Python unit tests must still be there, so a rename,
// removal or type change fails here. Additions are allowed by the
// contract and only logged. -update re-records the fixtures.
func (f *fleet) testContract(t *testing.T) {
	dir := filepath.Join(f.work, "contract")
	configDir := filepath.Join(dir, "host", "etc", "gitlab-runner")
	configPath := filepath.Join(configDir, "config.toml")
	dockerDir := filepath.Join(dir, "host", "root", ".docker")
	token := f.secret("contract runner token", "glrt-CONTRACTcontract0042")
	f.gl.AddRunner(token, 77)

	answers := func(concurrent int, extra string) string {
		return `version = 1
[gitlab]
url = "` + f.gl.URL + `"
token = "env:RUNNER_TOKEN"
name = "contract"
[runner]
executor = "docker"
concurrent = ` + strconv.Itoa(concurrent) + `
` + extra + `
[docker]
image = "` + f.image + `"
[[docker.services]]
name = "` + f.service + `"
alias = "db"
[[registries]]
host = "` + f.reg.Host + `"
method = "basic"
username = "` + f.reg.Username + `"
password = "env:REGISTRY_PASSWORD"
`
	}
	first := filepath.Join(dir, "first.toml")
	writeFile(t, first, answers(2, ""), 0o600)
	second := filepath.Join(dir, "second.toml")
	writeFile(t, second, answers(3, `environment = ["FLEET_COLOUR=blue"]`), 0o600)
	invalid := filepath.Join(dir, "invalid.toml")
	writeFile(t, invalid, strings.Replace(answers(2, ""), `executor = "docker"`, `executor = "dockr"`, 1), 0o600)
	// A config.toml beside a system id derived from another host's machine
	// id: the image it came from (fresh_system_id: if-cloned reads this).
	clonedConfig := filepath.Join(dir, "clone", "config.toml")
	writeFile(t, clonedConfig, "concurrent = 1\n", 0o600)
	writeFile(t, filepath.Join(dir, "clone", ".runner_system_id"), systemid.FromMachineID("0123456789abcdef0123456789abcdef")+"\n", 0o600)
	lint := filepath.Join(dir, "lint.toml")
	writeFile(t, lint, "concurrent = 1\n[[runners]]\nname = \"a\"\nurl = \"https://gitlab.example.com\"\ntoken = \"glrt-LINTlintLINTlint0000\"\nexecutor = \"dockr\"\n", 0o600)

	// An existing config.json with a key runnerup does not manage: the
	// first apply keeps it and makes a backup.
	writeFile(t, filepath.Join(dockerDir, "config.json"), `{"proxies": {"default": {"noProxy": "*.internal"}}}`+"\n", 0o600)
	stale := "\n[[runners]]\n  name = \"gone\"\n  url = \"" + f.gl.URL + "\"\n  token = \"" + f.secret("stale token", "glrt-GONEgoneGONEgone0000") + "\"\n  executor = \"shell\"\n"

	emptyToken := "\n[[runners]]\n  name = \"empty\"\n  url = \"" + f.gl.URL + "\"\n  token = \"\"\n  executor = \"shell\"\n"

	env := []string{"RUNNER_TOKEN=" + token, "REGISTRY_PASSWORD=" + f.reg.Password}
	paths := []string{"--config", configPath, "--docker-config", dockerDir}
	runs := []struct {
		name string
		env  []string
		args []string
		code int
		// setUp and tearDown bracket the run (the service container).
		setUp, tearDown func()
	}{
		// The dry runs as diff mode runs them (--diff-texts).
		{name: "apply_dry_run_new", args: append([]string{"apply", "--answers", first, "--dry-run", "--diff-texts"}, paths...)},
		{name: "apply_first", args: append([]string{"apply", "--answers", first}, paths...)},
		{name: "apply_dry_run_change", args: append([]string{"apply", "--answers", second, "--dry-run", "--diff-texts"}, paths...)},
		{name: "apply_change_with_service", args: append([]string{"apply", "--answers", second}, paths...),
			setUp: func() {
				f.d.ImportImage(t, "gitlab/gitlab-runner:test")
				if _, stderr, err := f.d.Docker(t, "", "create", "--name", "gitlab-runner", "-v", configDir+":/etc/gitlab-runner",
					"gitlab/gitlab-runner:test", "run"); err != nil {
					t.Fatalf("docker create: %v %s", err, stderr)
				}
			},
			tearDown: func() {
				if _, stderr, err := f.d.Docker(t, "", "rm", "-f", "gitlab-runner"); err != nil {
					t.Fatalf("docker rm: %v %s", err, stderr)
				}
			}},
		{name: "apply_unchanged", args: append([]string{"apply", "--answers", second}, paths...)},
		{name: "apply_prune_stale", args: append([]string{"apply", "--answers", second, "--prune-stale"}, paths...),
			setUp: func() {
				data := readFile(t, configPath)
				writeFile(t, configPath, data+stale, 0o600)
			}},
		// The rules that need no GitLab, offline: an entry without a token
		// and a later copy of the runner's entry go, with their reasons.
		{name: "apply_prune_empty", args: append([]string{"apply", "--answers", second, "--prune-empty", "--prune-duplicates", "--offline"}, paths...),
			setUp: func() {
				data := readFile(t, configPath)
				copyOf := "\n[[runners]]\n  name = \"contract-copy\"\n  url = \"" + f.gl.URL + "\"\n  token = \"" + token + "\"\n  executor = \"docker\"\n"
				writeFile(t, configPath, data+emptyToken+copyOf, 0o600)
			}},
		{name: "apply_check_failed", env: []string{"REGISTRY_PASSWORD=wrong-" + f.reg.Password},
			args: append([]string{"apply", "--answers", first}, paths...), code: 3},
		{name: "apply_invalid", args: append([]string{"apply", "--answers", invalid}, paths...), code: 2},
		{name: "probe_ok", args: append([]string{"probe", "--answers", second}, paths...)},
		{name: "check_findings", args: []string{"check", "--config", lint}, code: 3},
		{name: "check_cloned_id", args: []string{"check", "--config", clonedConfig}, code: 3},
	}
	got := map[string]recorded{}
	for _, r := range runs {
		if r.setUp != nil {
			r.setUp()
		}
		out, code := f.runnerupJSON(t, append(append([]string{}, env...), r.env...), r.args...)
		if r.tearDown != nil {
			r.tearDown()
		}
		if code != r.code {
			t.Fatalf("%s: runnerup %s exited %d, want %d\n%v", r.name, strings.Join(r.args, " "), code, r.code, out)
		}
		got[r.name] = recorded{RC: code, Output: out}
		raw, _ := json.Marshal(out)
		f.collect("runnerup "+strings.Join(r.args[:1], "")+" output "+r.name, string(raw))
	}
	if pruned, _ := got["apply_prune_stale"].Output["pruned"].([]any); len(pruned) != 1 {
		t.Errorf("--prune-stale removed %v, want the one stale entry", got["apply_prune_stale"].Output["pruned"])
	}
	if reasons := pruneReasons(got["apply_prune_empty"].Output); !slices.Equal(reasons, []string{"empty-token", "duplicate"}) {
		t.Errorf("--prune-empty --prune-duplicates removed entries for %v, want empty-token and duplicate", reasons)
	}
	if str(got["apply_change_with_service"].Output, "service_action") != "start" {
		t.Errorf("the run with a stopped service container: service_action %v", got["apply_change_with_service"].Output["service_action"])
	}

	keys := f.declaredKeys(t)
	union := func(names ...string) map[string]string {
		all := map[string]string{}
		for _, n := range names {
			for k, v := range keyPaths(got[n].Output) {
				all[k] = v
			}
		}
		return all
	}
	for _, c := range []struct {
		what     string
		declared []string
		real     map[string]string
	}{
		{"apply -o json", keys.Apply, union("apply_dry_run_new", "apply_first", "apply_dry_run_change", "apply_change_with_service", "apply_unchanged", "apply_prune_stale", "apply_prune_empty")},
		{"the failure JSON", keys.Failure, union("apply_check_failed", "apply_invalid")},
		{"probe -o json", keys.Probe, union("probe_ok")},
		{"check -o json", keys.Check, union("check_findings", "check_cloned_id")},
	} {
		if len(c.declared) == 0 {
			t.Errorf("the module declares no keys for %s", c.what)
		}
		for _, k := range c.declared {
			if _, ok := c.real[k]; !ok {
				t.Errorf("the module reads %s from %s, which real runs no longer produce", k, c.what)
			}
		}
	}

	fixtures := filepath.Join(f.repo, "ansible", "tests", "unit", "fixtures")
	for _, r := range runs {
		path := filepath.Join(fixtures, r.name+".json")
		real := got[r.name]
		if updating() {
			data, err := json.MarshalIndent(real, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, path, f.normalise(string(data))+"\n", 0o644)
		}
		var fixture recorded
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./internal/fleettest -run TestFleets/contract -update to record it)", err)
		}
		f.collect("fixture "+r.name, string(data))
		if err := json.Unmarshal(data, &fixture); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if fixture.RC != real.RC {
			t.Errorf("%s: recorded exit code %d, now %d", r.name, fixture.RC, real.RC)
		}
		want, have := keyPaths(fixture.Output), keyPaths(real.Output)
		var added []string
		for k, typ := range want {
			switch now, ok := have[k]; {
			case !ok:
				t.Errorf("%s: key %s of the recorded output is gone from runnerup's JSON: a breaking change of the module's contract", r.name, k)
			case now != typ && typ != "null" && now != "null":
				t.Errorf("%s: key %s was %s, is now %s", r.name, k, typ, now)
			}
		}
		for k := range have {
			if _, ok := want[k]; !ok {
				added = append(added, k)
			}
		}
		if len(added) > 0 {
			sort.Strings(added)
			t.Logf("%s: runnerup now also prints %v (additive; -update records them)", r.name, added)
		}
	}
}

// pruneReasons are the reasons of apply's pruned entries, in order.
func pruneReasons(out map[string]any) []string {
	pruned, _ := out["pruned"].([]any)
	reasons := []string{}
	for _, p := range pruned {
		reasons = append(reasons, str(p, "reason"))
	}
	return reasons
}

// runnerupJSON runs the built binary with -o json and decodes its output.
func (f *fleet) runnerupJSON(t *testing.T, env []string, args ...string) (map[string]any, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, f.bin, append(args, "-o", "json")...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("runnerup %v: %v", args, err)
	}
	var out map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("runnerup %v: stdout is not a JSON object (%v):\n%s\nstderr: %s", args, err, stdout.String(), stderr.String())
	}
	return out, code
}

// declaredKeys asks the installed module_utils which keys it reads.
func (f *fleet) declaredKeys(t *testing.T) contractKeys {
	t.Helper()
	const script = `import json
from ansible_collections.runnerup.gitlab_runner.plugins.module_utils import runnerup as r
print(json.dumps({"apply": r.APPLY_KEYS, "failure": r.FAILURE_KEYS, "probe": r.PROBE_KEYS, "check": r.CHECK_KEYS}))`
	res := f.run(t, "", []string{"PYTHONPATH=" + f.collections}, python, "-c", script)
	var keys contractKeys
	if res.code != 0 || json.Unmarshal([]byte(res.out), &keys) != nil {
		t.Fatalf("reading the module's declared keys: exit %d\n%s", res.code, res.out)
	}
	return keys
}

// keyPaths flattens a decoded JSON value into "a.b", "list[].field" paths
// with the JSON type found there.
func keyPaths(v any) map[string]string {
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				out[p] = jsonType(val)
				walk(p, val)
			}
		case []any:
			for _, val := range x {
				walk(prefix+"[]", val)
			}
		}
	}
	walk("", v)
	return out
}

func jsonType(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return "null"
}

var durationField = regexp.MustCompile(`"duration_ms": \d+`)

// normalise replaces this run's temporary paths, ports and timings with
// stable stand-ins, so re-recorded fixtures differ only where runnerup's
// output did.
func (f *fleet) normalise(s string) string {
	r := strings.NewReplacer(
		filepath.Join(f.work, "contract", "host"), "/srv/host",
		filepath.Join(f.work, "contract"), "/srv/answers",
		f.d.Host, "unix:///var/run/docker.sock",
		f.d.Dir, "/var/lib/docker",
		f.gl.URL, "https://gitlab.example.com",
		strings.TrimPrefix(f.gl.URL, "http://"), "gitlab.example.com:443",
		f.reg.Host, "registry.example.com:5000",
	)
	return durationField.ReplaceAllString(r.Replace(s), `"duration_ms": 0`)
}
