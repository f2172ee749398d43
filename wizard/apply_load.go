package wizard

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/runnerup/runnerup/internal/systemid"
	"github.com/runnerup/runnerup/internal/userfile"
	"github.com/runnerup/runnerup/render"
)

// loaded is what apply's load stage read: the files apply starts from and
// the runner entry it targets, found once.
type loaded struct {
	p *Prepared
	// a are the resolved answers as set: render writes only these keys.
	a *Answers
	// eff are the answers as they hold for the runner after apply (keys
	// a leaves out are the runner's on disk, or a new runner's defaults):
	// the checks see these.
	eff      *Answers
	paths    Paths
	warnings []FieldError // the paths' and the runner-dependent ones
	scan     serviceScan
	oldTOML  []byte
	// oldJSON is config.json as read (readDockerConfig, nil: absent or
	// not read); checkedJSON is it with the answers' edit, as the checks
	// see it.
	oldJSON, checkedJSON []byte
	target               target
	// sysID is the id verify calls send: the host's now (the file beside
	// config.toml, or computed as the runner computes it).
	sysID         string
	sysIDFromFile bool
}

// target is the runner entry the answers apply to in some config.toml
// bytes: its index in [[runners]] and what it holds (-1 and nil: new).
type target struct {
	index    int
	existing *render.ExistingRunner
}

func (t target) found() bool { return t.existing != nil }

// findTarget finds the answers' runner in config.toml bytes: by name, then
// by url and an authentication token.
func findTarget(a *Answers, data []byte) (target, error) {
	idx, existing, err := render.FindRunner(data, a.GitLab.Name, a.GitLab.URL, matchToken(a))
	return target{index: idx, existing: existing}, err
}

func matchToken(a *Answers) string {
	if kind, _ := ClassifyToken(a.GitLab.Token, a.GitLab.TokenKind); kind == TokenAuthentication {
		return a.GitLab.Token
	}
	return ""
}

// load is apply's (and probe's) first stage: detect the service, resolve
// the paths, read config.toml and find the runner in it, check what
// depends on that runner (ValidateFor), and resolve the system id. It
// contacts nothing.
func load(ctx context.Context, p *Prepared, opts *ApplyOptions) (*loaded, error) {
	a := p.Resolved
	scan := scanService(ctx, opts, a.Docker.Host)
	paths, warnings := ResolvePaths(a.Output, opts.ConfigPath, opts.DockerConfigDir, opts.Paths)
	oldTOML, t, err := readTarget(a, paths)
	if err != nil {
		return nil, err
	}
	// What depends on the runner (its executor, an image on disk) is
	// checked now that it is known.
	problems := a.ValidateFor(t.existing)
	if blocking := Blocking(problems); len(blocking) > 0 {
		return nil, &ValidationError{Problems: blocking}
	}
	configDir := filepath.Dir(paths.ConfigTOML)
	sysID, fromFile, err := systemid.Resolve(configDir)
	if err != nil {
		return nil, &InputError{Err: fmt.Errorf("reading %s: %w", filepath.Join(configDir, systemid.FileName), err)}
	}
	// Verify calls use the id the host has now: a fresh id reaches GitLab
	// only once it is written and the runner restarts, so a dry run or a
	// failed check never adds a runner manager for it.
	opts.systemID = sysID
	return &loaded{
		p: p, a: a, eff: a.ForRunner(t.existing),
		paths: paths, warnings: append(warnings, problems...), scan: scan,
		oldTOML: oldTOML, target: t,
		sysID: sysID, sysIDFromFile: fromFile,
	}, nil
}

// readTarget reads config.toml at paths and finds the answers' runner.
func readTarget(a *Answers, paths Paths) ([]byte, target, error) {
	oldTOML, err := readExisting(paths.ConfigTOML)
	if err != nil {
		return nil, target{}, err
	}
	t, err := findTarget(a, oldTOML)
	if err != nil {
		return nil, target{}, &InputError{Err: fmt.Errorf("%s: %w", paths.ConfigTOML, err)}
	}
	return oldTOML, t, nil
}

// maxConfigSize bounds what is read of an existing config.toml or
// config.json. GitLab Runner's files are a few KB (a runner entry is about
// 500 bytes); a path that reads without end (/dev/zero) or a file of
// hundreds of MB is not one, and reading it whole would exhaust memory.
const maxConfigSize = 8 << 20

// readExisting returns a config file's bytes, nil when it does not exist.
// Only regular files are read: a FIFO would block the open until a writer
// comes (Ctrl+C cannot interrupt it) and a device may never end.
func readExisting(path string) ([]byte, error) {
	data, err := userfile.Read(path, maxConfigSize)
	switch {
	case err == nil:
		return data, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case errors.Is(err, fs.ErrPermission):
		return nil, &InputError{Err: fmt.Errorf("reading %s: %w: run runnerup as the user that owns it (sudo for /etc/gitlab-runner), or pass --config/--docker-config to use other files (a service reading this one will not see them)", path, unwrapPathError(err))}
	default:
		return nil, &InputError{Err: fmt.Errorf("reading %s: %w", path, unwrapPathError(err))}
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
