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
	"github.com/runnerup/runnerup/probe/service"
	"github.com/runnerup/runnerup/render"
)

// local is what every command reads on this host before it contacts
// anything: detection without networked Docker daemons, the paths (the
// service's files as defaults), and config.toml's bytes.
type local struct {
	scan serviceScan
	// service is the gitlab-runner service whose files are the path
	// defaults (detected, else the caller's PathEnv.Service; nil: none).
	service *service.Install
	paths   Paths
	// warnings are the paths' (DOCKER_CONFIG pointing elsewhere).
	warnings []FieldError
	data     []byte // config.toml as read (nil: absent)
}

// readLocal detects the service without asking networked daemons
// (dockerHost, else DOCKER_HOST), resolves the paths from out and the
// options with the service's files as defaults, and reads config.toml.
// When that fails the paths are still there to name the file.
func readLocal(ctx context.Context, out Output, dockerHost string, opts ApplyOptions) (*local, error) {
	scan := scanLocal(ctx, opts, dockerHost)
	pe := opts.Paths
	if p := scan.primary(); p != nil {
		pe.Service = p
	}
	l := &local{scan: scan, service: pe.Service}
	l.paths, l.warnings = ResolvePaths(out, opts.ConfigPath, opts.DockerConfigDir, pe)
	var err error
	l.data, err = readExisting(l.paths.ConfigTOML)
	return l, err
}

// systemIDs are the runner's system ids in one run.
type systemIDs struct {
	// now is the id the runner uses now: the file's (fromFile), else
	// derived from the machine id as the runner derives it.
	now      string
	fromFile bool
	// fresh is the id --fresh-system-id writes ("" without it); verify is
	// the one verify calls send.
	fresh, verify string
}

// resolveSystemID reads the id beside config.toml, or derives it from the
// machine id the options give (the one the system id check reads).
func (l *local) resolveSystemID(opts ApplyOptions) (systemIDs, error) {
	dir := filepath.Dir(l.paths.ConfigTOML)
	id, fromFile, err := systemid.Resolve(dir, opts.MachineID)
	if err != nil {
		return systemIDs{}, &InputError{Err: fmt.Errorf("reading %s: %w", filepath.Join(dir, systemid.FileName), err)}
	}
	return systemIDs{now: id, fromFile: fromFile, verify: id}, nil
}

// loaded is what apply's load stage read: the files apply starts from and
// the runner entry it targets, found once in config.toml decoded once.
type loaded struct {
	local
	p *Prepared
	// a are the resolved answers as set: render writes only these keys.
	a *Answers
	// eff are the answers as they hold for the runner after apply (keys
	// a leaves out are the runner's on disk, or a new runner's defaults):
	// the checks see these.
	eff *Answers
	// config is config.toml decoded; target the answers' entry in it.
	config *render.Config
	target target
	ids    systemIDs
	// oldJSON is config.json as read (nil: absent or not read);
	// checkedJSON is it with the answers' edit, as the checks see it.
	oldJSON, checkedJSON []byte
	// inputs are what the live checks read (nil: only the host checks
	// run, which read none).
	inputs *probeInputs
}

// target is the runner entry the answers apply to in a config.toml: its
// index in [[runners]] and what it holds (-1 and nil: new).
type target struct {
	render.Target
	// elsewhere are entries with the answers' name on another GitLab: not
	// this runner (their tokens belong to that GitLab), found when it is
	// not in the file.
	elsewhere []render.ExistingRunner
}

// findTarget finds the answers' runner in config.toml as decoded: by name
// on the answers' GitLab, then by url and an authentication token.
func findTarget(a *Answers, c *render.Config) (target, error) {
	t, err := c.Find(a.GitLab.Name, a.GitLab.URL, matchToken(a))
	if err != nil {
		return target{Target: t}, err
	}
	out := target{Target: t}
	if !t.Found() {
		out.elsewhere = c.OtherGitLab(a.GitLab.Name, a.GitLab.URL)
	}
	return out, nil
}

func matchToken(a *Answers) string {
	if kind, _ := ClassifyToken(a.GitLab.Token, a.GitLab.TokenKind); kind == TokenAuthentication {
		return a.GitLab.Token
	}
	return ""
}

// readAnswersLocal reads what the answers' runner needs on this host
// before anything is contacted: readLocal, config.toml decoded once with
// the runner found in it, and the system id. It checks nothing about the
// answers (the wizard's live checks take answers still being given).
func readAnswersLocal(ctx context.Context, a *Answers, opts ApplyOptions) (*loaded, error) {
	loc, err := readLocal(ctx, a.Output, a.Docker.Host, opts)
	if err != nil {
		return nil, err
	}
	config, err := render.ParseConfig(loc.data)
	if err != nil {
		return nil, &InputError{Err: fmt.Errorf("%s: %w", loc.paths.ConfigTOML, err)}
	}
	t, err := findTarget(a, config)
	if err != nil {
		return nil, &InputError{Err: fmt.Errorf("%s: %w", loc.paths.ConfigTOML, err)}
	}
	l := &loaded{local: *loc, a: a, eff: a.ForRunner(t.Existing), config: config, target: t}
	if l.ids, err = loc.resolveSystemID(opts); err != nil {
		return nil, err
	}
	return l, nil
}

// load is apply's (and probe's) first stage: every local input is read
// here, so bad input stops a command before it contacts anything. It
// detects the service (no networked daemon), resolves the paths, reads
// config.toml and finds the runner in it, checks what depends on that
// runner (ValidateFor), resolves the system id, and reads config.json
// when apply writes it or the live checks read it.
func load(ctx context.Context, p *Prepared, opts ApplyOptions) (*loaded, error) {
	a := p.Resolved
	l, err := readAnswersLocal(ctx, a, opts)
	if err != nil {
		return nil, err
	}
	l.p = p
	// What depends on the runner (its executor, an image on disk) is
	// checked now that it is known.
	problems := a.ValidateFor(l.target.Existing)
	if blocking := Blocking(problems); len(blocking) > 0 {
		return nil, &ValidationError{Problems: blocking}
	}
	l.warnings = append(l.warnings, problems...)
	// Verify calls send the id the runner will send: the host's now, or
	// with --fresh-system-id the fresh one this apply writes, so GitLab
	// records no contact from this host under a cloned id. A dry run
	// writes none and keeps the host's (no manager appears for an id never
	// written); a check failing after verify leaves one for the fresh id,
	// never contacted again (GitLab removes such managers by itself).
	if opts.FreshSystemID {
		l.ids.fresh = systemid.Random()
		if !opts.DryRun {
			l.ids.verify = l.ids.fresh
		}
	}
	live := checksFor(opts) == ChecksLive
	if a.WritesDockerConfig() || live {
		if err := l.readDockerConfig(a); err != nil {
			return nil, err
		}
	}
	if live {
		in, err := l.checkInputs(l.eff)
		if err != nil {
			return nil, err
		}
		l.inputs = &in
	}
	return l, nil
}

// readDockerConfig reads config.json and checks that the answers' edit
// applies to it (dockerConfigFor).
func (l *loaded) readDockerConfig(a *Answers) error {
	var err error
	l.oldJSON, l.checkedJSON, err = dockerConfigFor(a, l.paths)
	return err
}

// checkInputs are what the live checks read for answers a: the runner's
// environment and config.json as apply leaves them.
func (l *loaded) checkInputs(a *Answers) (probeInputs, error) {
	return inputsFor(a, l.paths, l.data, l.checkedJSON, l.target.Existing, l.ids.verify)
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
