package credentials

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/docker/docker-credential-helpers/client"

	"github.com/runnerup/runnerup/internal/envlist"
)

// helperWaitDelay bounds how long a killed helper's children may hold its
// stdout open before Output gives up (exec.Cmd.WaitDelay).
const helperWaitDelay = time.Second

// lookPath returns the LookPath in effect: the injected one, else a PATH
// search over HelperEnv's PATH when it has one (the runner service's PATH
// is what matters, not the login shell's), else exec.LookPath.
func (r Resolver) lookPath() func(string) (string, error) {
	if r.LookPath != nil {
		return r.LookPath
	}
	// lookPathIn has Unix rules; on Windows (PATHEXT, no mode bits) the
	// standard lookup is the better approximation.
	if p, ok := envlist.Value(r.env(), "PATH"); ok && runtime.GOOS != "windows" {
		ra := r.runAs()
		return func(file string) (string, error) { return lookPathIn(file, p, ra) }
	}
	return exec.LookPath
}

// program returns the Program in effect; the default runs the helper like
// client.NewShellProgramFunc does, plus ctx (the runner has no deadline,
// but a probe must not hang) and the injected LookPath and environment.
// Every helper call, injected or real, goes through redactingProgram.
func (r Resolver) program(ctx context.Context) func(name string) client.ProgramFunc {
	inner := r.Program
	if inner == nil {
		look := r.lookPath()
		inner = func(name string) client.ProgramFunc {
			return func(args ...string) client.Program {
				return &execProgram{ctx: ctx, name: name, args: args, look: look, env: r.env(), runAs: r.runAs()}
			}
		}
	}
	return func(name string) client.ProgramFunc {
		pf := inner(name)
		return func(args ...string) client.Program { return redactingProgram{pf(args...)} }
	}
}

// redactingProgram passes a helper's answer through untouched, but what a
// failing helper printed (which docker-credential-helpers quotes in its
// error, and which may hold a password) only through redactHelperOutput.
type redactingProgram struct{ client.Program }

func (p redactingProgram) Output() ([]byte, error) {
	out, err := p.Program.Output()
	if err == nil {
		return out, nil
	}
	if ee, ok := errors.AsType[*exec.ExitError](err); ok && len(ee.Stderr) > 0 {
		ee.Stderr = redactHelperOutput(ee.Stderr)
	}
	return redactHelperOutput(out), err
}

// execProgram is client.Shell with a context and injectable lookup.
type execProgram struct {
	ctx   context.Context
	name  string
	args  []string
	look  func(string) (string, error)
	env   []string
	runAs *RunAs
	in    io.Reader
}

func (p *execProgram) Input(in io.Reader) { p.in = in }

// Output runs the helper and returns its stdout. Stderr is not captured
// into the answer (client.Shell sends it to the runner's own stderr), so
// the error texts match the runner's.
func (p *execProgram) Output() ([]byte, error) {
	bin, err := p.look(p.name)
	if err != nil {
		// exec.Command reports a failed lookup as *exec.Error; keep that
		// shape so the message reads exactly as in the runner's log.
		if _, ok := errors.AsType[*exec.Error](err); !ok {
			err = &exec.Error{Name: p.name, Err: err}
		}
		return nil, err
	}
	cmd := exec.CommandContext(p.ctx, bin, p.args...)
	cmd.Stdin = p.in
	cmd.Env = p.env
	cmd.WaitDelay = helperWaitDelay
	runAsUser(cmd, p.runAs)
	return cmd.Output()
}

// lookPathIn is exec.LookPath over an explicit PATH value (Unix rules:
// an empty element is the current directory, which yields exec.ErrDot),
// as user ra would search it (nil: any execute bit counts).
func lookPathIn(file, pathList string, ra *RunAs) (string, error) {
	if strings.Contains(file, "/") {
		if err := isExecutable(file, ra); err != nil {
			return "", &exec.Error{Name: file, Err: err}
		}
		return file, nil
	}
	for _, dir := range filepath.SplitList(pathList) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if isExecutable(p, ra) == nil {
			if !filepath.IsAbs(p) {
				return p, &exec.Error{Name: file, Err: exec.ErrDot}
			}
			return p, nil
		}
	}
	return "", &exec.Error{Name: file, Err: exec.ErrNotFound}
}

func isExecutable(p string, ra *RunAs) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if m := st.Mode(); m.IsDir() || m&0o111 == 0 || !executableBy(st, ra) {
		return fs.ErrPermission
	}
	if ra != nil {
		// The user must also be able to enter every directory on the way.
		for d := filepath.Dir(p); ; d = filepath.Dir(d) {
			if dst, err := os.Stat(d); err != nil || !executableBy(dst, ra) {
				return fs.ErrPermission
			}
			if d == filepath.Dir(d) {
				break
			}
		}
	}
	return nil
}
