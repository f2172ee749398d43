package cli

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/runnerup/runnerup/wizard"
)

// result of one in-process runnerup invocation.
type result struct {
	stdout, stderr string
	code           int
}

// env is a fake process environment for env: references.
type env map[string]string

func (e env) lookup(name string) (string, bool) { v, ok := e[name]; return v, ok }

// runCLI runs runnerup with args in-process, with buffers for IO and the
// given environment; HOME-dependent defaults point into home.
func runCLI(t *testing.T, home string, e env, args ...string) result {
	t.Helper()
	return runCLIDeps(t, nil, home, e, args...)
}

// runCLIDeps is runCLI with Deps adjusted first (service detection,
// machine id).
func runCLIDeps(t *testing.T, adjust func(*Deps), home string, e env, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	d := &Deps{IO: &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}}
	if adjust != nil {
		adjust(d)
	}
	root := NewRootCmd(d)
	// Inject the environment and fixed clock into apply.
	for _, c := range root.Commands() {
		if c.Name() == "apply" {
			root.RemoveCommand(c)
			root.AddCommand(NewCmdApply(d, func(ctx context.Context, o *ApplyOptions) error {
				o.Wizard = wizard.ApplyOptions{
					Env:         e.lookup,
					Hostname:    "test-host",
					Paths:       wizard.PathEnv{Euid: 1000, Home: home, Cwd: home, Env: e.lookup},
					Now:         func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) },
					LockTimeout: 300 * time.Millisecond,
					ContactPoll: 20 * time.Millisecond,
				}
				return applyRun(ctx, o)
			}))
		}
	}
	for _, c := range root.Commands() {
		if c.Name() == "register" {
			root.RemoveCommand(c)
			root.AddCommand(NewCmdRegister(d, func(ctx context.Context, o *RegisterOptions) error {
				o.Apply.Wizard = wizard.ApplyOptions{
					Env:         e.lookup,
					Hostname:    "test-host",
					Paths:       wizard.PathEnv{Euid: 1000, Home: home, Cwd: home, Env: e.lookup},
					Now:         func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) },
					LockTimeout: 300 * time.Millisecond,
				}
				return registerRun(ctx, o)
			}))
		}
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(context.Background())
	printError(d.IO, err, cmd)
	return result{stdout: out.String(), stderr: errOut.String(), code: ExitCode(err)}
}

func splitArgs(t *testing.T, s string) []string {
	t.Helper()
	return strings.Fields(s)
}

// snapshot lists every file under dir with its bytes and mode, to prove
// that a failed run changed nothing.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		info, _ := d.Info()
		data, _ := os.ReadFile(p)
		out[p] = info.Mode().String() + "\n" + string(data)
		return nil
	})
	return out
}

func assertSameSnapshot(t *testing.T, before, after map[string]string) {
	t.Helper()
	var diffs []string
	for k, v := range after {
		if before[k] != v {
			diffs = append(diffs, k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			diffs = append(diffs, k+" (removed)")
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("files changed by a failed run: %v", diffs)
	}
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func assertNoSecrets(t *testing.T, where, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s leaks secret %q:\n%s", where, s, text)
		}
	}
}
