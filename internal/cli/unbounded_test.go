package cli

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestUnboundedReadsRefused: paths that never end (/dev/zero) or
// block (a FIFO without a writer) given where runnerup reads a file: check
// --config, apply --answers and a file: reference. Read with a plain
// os.ReadFile, a FIFO blocks in open(2), where neither Ctrl+C nor SIGTERM
// can end it, and /dev/zero grows memory until the kernel kills the
// process. Each case runs the real binary for at most 2 s and must end
// with exit 2; one that hangs, runs out of memory or exits otherwise fails
// the test, naming the reader.
func TestUnboundedReadsRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	answers := filepath.Join(dir, "answers.toml")
	writeFile(t, answers, strings.ReplaceAll(baseAnswers, "GITLAB_URL", "https://gitlab.example.com"), 0o600)
	fileRef := filepath.Join(dir, "fileref.toml")
	writeFile(t, fileRef, strings.Replace(strings.ReplaceAll(baseAnswers, "GITLAB_URL", "https://gitlab.example.com"), "env:RUNNER_TOKEN", "file:"+fifo, 1), 0o600)
	cfg := filepath.Join(dir, "config.toml")
	cases := []struct {
		name, where string
		args        []string
	}{
		{"check --config FIFO", "internal/lint LintFile (os.ReadFile)", []string{"check", "--config", fifo}},
		{"check --config /dev/zero", "internal/lint LintFile (os.ReadFile)", []string{"check", "--config", "/dev/zero"}},
		{"apply --answers FIFO", "wizard/answers.go LoadFile (os.ReadFile)", []string{"apply", "--answers", fifo, "--config", cfg, "--skip-probes"}},
		{"apply --answers /dev/zero", "wizard/answers.go LoadFile (os.ReadFile)", []string{"apply", "--answers", "/dev/zero", "--config", cfg, "--skip-probes"}},
		{"file: reference to a FIFO", "wizard/resolve.go resolveOne (ReadFile)", []string{"apply", "--answers", fileRef, "--config", cfg, "--skip-probes"}},
	}
	type outcome struct {
		hung   bool
		code   int
		stderr string
	}
	outcomes := make([]outcome, len(cases))
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Bound the address space so /dev/zero cannot take the machine
			// down: the read then ends in "fatal error: out of memory".
			cmd := hardCmd(t, dir, []string{"RUNNER_TOKEN=" + testToken},
				append([]string{"-c", `ulimit -v 4000000; exec "$0" "$@"`, runnerupBinary(t)}, c.args...)...)
			cmd.Path, cmd.Args[0] = "/bin/sh", "/bin/sh"
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Error(err)
				return
			}
			var hung atomic.Bool
			timer := time.AfterFunc(2*time.Second, func() {
				hung.Store(true)
				_ = cmd.Process.Signal(syscall.SIGTERM) // what Ctrl+C / systemd would do first
				time.Sleep(500 * time.Millisecond)
				_ = cmd.Process.Kill()
			})
			err := cmd.Wait()
			timer.Stop()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			outcomes[i] = outcome{hung: hung.Load(), code: code, stderr: stderr.String()}
		}()
	}
	wg.Wait()
	var defects []string
	for i, c := range cases {
		o := outcomes[i]
		t.Logf("%s: hung=%v exit=%d %s", c.name, o.hung, o.code, strings.TrimSpace(o.stderr))
		switch {
		case o.hung:
			defects = append(defects, fmt.Sprintf("%s: still running after 2 s (%s)", c.name, c.where))
		case strings.Contains(o.stderr, "fatal error") || strings.Contains(o.stderr, "out of memory"):
			defects = append(defects, fmt.Sprintf("%s: ran out of memory (%s)", c.name, c.where))
		case o.code != ExitInput:
			defects = append(defects, fmt.Sprintf("%s: exit %d, want 2 (%s): %s", c.name, o.code, c.where, strings.TrimSpace(o.stderr)))
		}
	}
	if len(defects) > 0 {
		t.Errorf("unbounded reads:\n%s", strings.Join(defects, "\n"))
	}
}
