package wizard

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/runnerup/runnerup/internal/safewrite"
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
	// sysID is the id verify calls send: the host's now (diskID), or the
	// fresh one an apply writing --fresh-system-id sends (freshID).
	sysID, diskID, freshID string
	sysIDFromFile          bool
}

// target is the runner entry the answers apply to in some config.toml
// bytes: its index in [[runners]] and what it holds (-1 and nil: new).
type target struct {
	index    int
	existing *render.ExistingRunner
	// elsewhere are entries with the answers' name on another GitLab: not
	// this runner (their tokens belong to that GitLab), found when it is
	// not in the file.
	elsewhere []render.ExistingRunner
}

func (t target) found() bool { return t.existing != nil }

// findTarget finds the answers' runner in config.toml bytes: by name on
// the answers' GitLab, then by url and an authentication token.
func findTarget(a *Answers, data []byte) (target, error) {
	idx, existing, err := render.FindRunner(data, a.GitLab.Name, a.GitLab.URL, matchToken(a))
	t := target{index: idx, existing: existing}
	if err == nil && existing == nil {
		t.elsewhere, err = render.OtherGitLab(data, a.GitLab.Name, a.GitLab.URL)
	}
	return t, err
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
	scan := scanLocal(ctx, opts, a.Docker.Host)
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
	// Verify calls send the id the runner will send: the host's now, or
	// with --fresh-system-id the fresh one this apply writes, so GitLab
	// records no contact from this host under a cloned id. A dry run
	// writes none and keeps the host's (no manager appears for an id never
	// written); a check failing after verify leaves one for the fresh id,
	// never contacted again (GitLab removes such managers by itself).
	verifyID, fresh := sysID, ""
	if opts.FreshSystemID {
		fresh = systemid.Random()
		if !opts.DryRun {
			verifyID = fresh
		}
	}
	opts.systemID = verifyID
	return &loaded{
		p: p, a: a, eff: a.ForRunner(t.existing),
		paths: paths, warnings: append(warnings, problems...), scan: scan,
		oldTOML: oldTOML, target: t,
		sysID: verifyID, diskID: sysID, freshID: fresh, sysIDFromFile: fromFile,
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
	// A file apply may replace is not read through another user's link
	// either (root would show that file's bytes in the diff).
	if err := safewrite.CheckLinks(path); err != nil {
		return nil, &InputError{Err: err}
	}
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
