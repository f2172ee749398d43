package wizard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/runnerup/runnerup/internal/gitlab"
	"github.com/runnerup/runnerup/internal/safewrite"
	"github.com/runnerup/runnerup/internal/secret"
	"github.com/runnerup/runnerup/internal/systemid"
	"github.com/runnerup/runnerup/internal/userfile"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/fleet"
	"github.com/runnerup/runnerup/probe/service"
	"github.com/runnerup/runnerup/probe/suite"
	"github.com/runnerup/runnerup/render"
)

// InputError is bad input that is not a single answers field: an unreadable
// config file, a bad path (exit code 2).
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// CheckError is a live check that failed and blocks writing (exit code 3).
type CheckError struct {
	Check   string // stable check id, e.g. gitlab.token
	Problem string
	Hint    string
	Err     error
	// Results are the probe results when live checks failed.
	Results []probe.Result
}

func (e *CheckError) Error() string {
	s := e.Check + ": " + e.Problem
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}
func (e *CheckError) Unwrap() error { return e.Err }

// RunnerAPI is the part of the GitLab API apply uses; tests inject fakes.
type RunnerAPI interface {
	Verify(ctx context.Context, token, systemID string) (gitlab.Runner, error)
	Register(ctx context.Context, req gitlab.RegisterRequest) (gitlab.Runner, error)
}

// ApplyOptions are apply's inputs besides the answers.
type ApplyOptions struct {
	// ConfigPath and DockerConfigDir override the answers' [output] and the
	// defaults.
	ConfigPath      string
	DockerConfigDir string
	DryRun          bool
	// ReplaceToken writes the answers' token over a different one on disk.
	ReplaceToken bool
	Timeout      time.Duration
	// LockTimeout bounds the wait for another runnerup's file lock.
	LockTimeout time.Duration
	// SkipProbes writes without the live checks (--skip-probes/--offline).
	SkipProbes bool
	Probe      ProbeOptions

	Now      func() time.Time
	Hostname string
	Env      Env
	Paths    PathEnv
	// NewGitLab builds the API client; nil uses internal/gitlab.
	NewGitLab func(url string, opts gitlab.Options) (RunnerAPI, error)
	// HTTPClient is passed to the default GitLab client (nil: default).
	HTTPClient *http.Client

	// DetectService finds the gitlab-runner service (nil: not looked
	// for); the files it reads become the defaults.
	DetectService DetectFunc
	// MachineID reads this host's machine id for the system id check
	// (nil: no check).
	MachineID func() (string, error)
	// CheckStale verifies the other [[runners]] entries' tokens and
	// reports stale ones; PruneStale also removes them (with a backup).
	CheckStale bool
	PruneStale bool
	// Prune lists entries to remove that an earlier run found stale (the
	// wizard's review, where the user chose them); no checks needed.
	Prune []fleet.Runner
	// FreshSystemID writes a new random r_ system id (a cloned or shared
	// one makes every copy one runner manager in GitLab).
	FreshSystemID bool

	// ContactPoll is WaitContact's poll interval (0: the client's 2 s).
	ContactPoll time.Duration

	// systemID is the id verify calls use, set once known.
	systemID string
}

// FileChange is one file apply looked at.
type FileChange struct {
	Path    string `json:"path"`
	Changed bool   `json:"changed"`
	Created bool   `json:"created"`
	Backup  string `json:"backup,omitempty"`
	// Diff is the redacted unified diff (only in results, never logged).
	Diff string `json:"diff,omitempty"`
}

// ApplyResult is what apply did or, with DryRun, would do.
type ApplyResult struct {
	DryRun       bool         `json:"dry_run"`
	Changed      bool         `json:"changed"`
	ConfigTOML   FileChange   `json:"config_toml"`
	DockerConfig *FileChange  `json:"docker_config,omitempty"`
	SystemID     *FileChange  `json:"system_id_file,omitempty"`
	Runner       RunnerResult `json:"runner"`
	Warnings     []FieldError `json:"warnings"`
	// Checks are the live checks' results (only the local host checks
	// with SkipProbes).
	Checks []probe.Result `json:"checks"`
	// Pruned lists stale entries removed (--prune-stale).
	Pruned []PrunedRunner `json:"pruned,omitempty"`
	// Service is the gitlab-runner service found on this host.
	Service *service.Install `json:"service,omitempty"`
	// NextSteps say what to do now, for the install kind found.
	NextSteps []string `json:"next_steps"`
}

// PrunedRunner is a stale entry apply removed.
type PrunedRunner struct {
	Name  string `json:"name"`
	URL   string `json:"url"`
	Token string `json:"token"` // redacted
}

// RunnerResult says what happened to the runner entry.
type RunnerResult struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	ID   int64  `json:"id,omitempty"`
	// Action: registered (new runner via registration token), verified (an
	// authentication token checked and written), kept (entry existed; its
	// credentials stay), would-register (dry run), created / would-create
	// ([gitlab.create]).
	Action   string `json:"action"`
	Token    string `json:"token"` // redacted
	Appended bool   `json:"appended"`
	SystemID string `json:"system_id"`
	// CreatedIn says where [gitlab.create] creates (or created) the
	// runner: "project group/app (#42)".
	CreatedIn string `json:"created_in,omitempty"`
	// Server is the comparison of the runner's settings in GitLab with
	// [gitlab.create] (an existing runner only).
	Server *ServerSettings `json:"server,omitempty"`
}

// Prepared answers: loaded, resolved, defaulted and validated.
type Prepared struct {
	// Raw keeps references (env:, file:) for saving; Resolved has values.
	Raw, Resolved *Answers
	Warnings      []FieldError
	Path          string
}

// Prepare loads an answers file and runs every offline check. Problems
// come back as one *ValidationError (exit 2); warnings ride along.
func Prepare(path string, env Env, hostname string) (*Prepared, error) {
	raw, unknown, err := LoadFile(path)
	if err != nil {
		return nil, err
	}
	resolver := Resolver{LookupEnv: env, ReadFile: readReference, BaseDir: filepath.Dir(path)}
	p, err := PrepareAnswers(raw, unknown, resolver, hostname)
	if err != nil {
		return nil, err
	}
	p.Path = path
	if w := literalSecretWarnings(raw, path); len(w) > 0 {
		p.Warnings = append(p.Warnings, w...)
	}
	return p, nil
}

// PrepareAnswers is Prepare for answers already in memory (the TUI's).
func PrepareAnswers(raw *Answers, unknown []FieldError, r Resolver, hostname string) (*Prepared, error) {
	resolved, refProblems := r.Resolve(raw)
	resolveCreateToken(raw, resolved, r.LookupEnv)
	resolved.ApplyDefaults(hostname)
	problems := append(append([]FieldError{}, unknown...), refProblems...)
	problems = append(problems, resolved.Validate()...)
	if blocking := Blocking(problems); len(blocking) > 0 {
		return nil, &ValidationError{Problems: blocking}
	}
	return &Prepared{Raw: raw, Resolved: resolved, Warnings: problems}, nil
}

// literalSecretWarnings warns when secrets sit in clear in a file others
// can read.
func literalSecretWarnings(raw *Answers, path string) []FieldError {
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm()&0o077 == 0 {
		return nil
	}
	var out []FieldError
	eachString(raw, func(field string, s *string) {
		if *s != "" && IsSecretField(field) && !IsReference(*s) {
			out = append(out, FieldError{
				Field: field, Warning: true,
				Problem: fmt.Sprintf("is a literal secret in %s, which is readable by group/other (mode %04o)", path, st.Mode().Perm()),
				Fix:     fmt.Sprintf("chmod 600 %s, or use an env:NAME reference", path),
			})
		}
	})
	return out
}

// Apply replays prepared answers headless: it finds or registers the
// runner, renders config.toml and config.json, and writes them safely
// (unless DryRun). It never registers a runner that is already in the file.
func Apply(ctx context.Context, p *Prepared, opts ApplyOptions) (*ApplyResult, error) {
	a := p.Resolved
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	scan := scanService(ctx, &opts, a.Docker.Host)
	paths, warnings := ResolvePaths(a.Output, opts.ConfigPath, opts.DockerConfigDir, opts.Paths)
	res := &ApplyResult{DryRun: opts.DryRun, Warnings: append(append([]FieldError{}, p.Warnings...), warnings...), Service: opts.Paths.Service}
	res.ConfigTOML.Path = paths.ConfigTOML

	oldTOML, err := readExisting(paths.ConfigTOML)
	if err != nil {
		return nil, err
	}
	_, existing, err := render.FindRunner(oldTOML, a.GitLab.Name, a.GitLab.URL, matchToken(a))
	if err != nil {
		return nil, &InputError{Err: fmt.Errorf("%s: %w", paths.ConfigTOML, err)}
	}
	configDir := filepath.Dir(paths.ConfigTOML)
	sysID, sysIDFromFile, err := systemid.Resolve(configDir)
	if err != nil {
		return nil, &InputError{Err: fmt.Errorf("reading %s: %w", filepath.Join(configDir, systemid.FileName), err)}
	}
	// Verify calls use the id the host has now: a fresh id reaches GitLab
	// only once it is written and the runner restarts, so a dry run or a
	// failed check never adds a runner manager for it.
	opts.systemID = sysID
	writeID := sysID
	if opts.FreshSystemID {
		writeID = systemid.Random()
	}
	res.Runner = RunnerResult{Name: a.GitLab.Name, URL: a.GitLab.URL, SystemID: writeID}

	var cr *creation
	if a.GitLab.Create != nil {
		if cr, err = planCreation(a, existing, opts); err != nil {
			return nil, err
		}
	}
	kind, _ := ClassifyToken(a.GitLab.Token, a.GitLab.TokenKind)
	var creds *render.Credentials
	var register bool
	var rotated *probe.Result
	switch {
	case cr != nil && existing != nil:
		// Created before: the on-disk token is verified by the checks.
		res.Runner.Action, res.Runner.ID = "kept", existing.ID
	case cr != nil:
		res.Runner.CreatedIn = a.GitLab.Create.Target()
	case existing != nil && kind == TokenRegistration:
		// Registered before: a registration token must not make a second runner.
		res.Runner.Action, res.Runner.ID = "kept", existing.ID
	case existing != nil && existing.Token == a.GitLab.Token:
		res.Runner.Action, res.Runner.ID = "kept", existing.ID
	case existing != nil && !opts.ReplaceToken:
		res.Runner.Action, res.Runner.ID = "kept", existing.ID
		rotated = rotatedResult(a, existing)
	case kind == TokenRegistration:
		register = true
	default:
		api, err := newGitLab(a, opts)
		if err != nil {
			return nil, err
		}
		r, err := verify(ctx, api, a.GitLab.Token, sysID, opts.Timeout)
		if err != nil {
			return nil, err
		}
		creds = &render.Credentials{ID: r.ID, Token: a.GitLab.Token, ObtainedAt: opts.Now(), ExpiresAt: r.TokenExpiresAt}
		res.Runner.Action, res.Runner.ID = "verified", r.ID
	}
	if register || cr.creates() {
		// Render once with a placeholder first: a config.toml runnerup
		// cannot edit must fail before GitLab creates a runner.
		placeholder := &render.Credentials{Token: "<issued by GitLab at registration>", ObtainedAt: opts.Now()}
		if _, err := renderConfig(oldTOML, a, placeholder, existing == nil); err != nil {
			return nil, err
		}
	}
	// Live checks run before anything is registered or written: a job
	// that cannot pull its image should stop apply, not the first pipeline.
	fleetOpts := a.fleetOptions(paths, oldTOML, scan, opts, fleetApply)
	if rotated != nil {
		res.Checks = append(res.Checks, reportNow(*rotated, opts.Probe))
	}
	if cr != nil {
		checks, err := cr.preflight(ctx, opts.Probe)
		res.Checks = append(res.Checks, checks...)
		if err != nil {
			return res, err
		}
		res.Runner.Server = cr.server
		if cr.creates() {
			for _, c := range checks {
				if c.ID == IDCreateTarget && c.Detail != "" {
					res.Runner.CreatedIn = c.Detail
				}
			}
		}
	}
	if opts.SkipProbes {
		res.Warnings = append(res.Warnings, FieldError{Field: "probes", Warning: true,
			Problem: "live checks skipped (--skip-probes): nothing proves that jobs can pull their images",
			Fix:     "run `runnerup probe --answers FILE` when the network is available"})
		// The host checks are local: run them anyway.
		fleetOpts.Runners.Verify = nil
		checks, err := runProbes(ctx, suite.Plan{Fleet: fleetOpts}, opts.Probe)
		res.Checks = append(res.Checks, checks...)
		if err != nil {
			return res, err
		}
	} else {
		in, err := inputsFor(a, paths, oldTOML)
		if err != nil {
			return nil, err
		}
		in.systemID = sysID
		in.fleet = fleetOpts
		checks, err := runProbes(ctx, a.forProbes(rotated, existing, cr).plan(in), opts.Probe)
		res.Checks = append(res.Checks, checks...)
		if err != nil {
			return res, err
		}
	}
	stale := opts.Prune
	if opts.PruneStale {
		stale = append(stale, fleet.StaleRunners(res.Checks)...)
	}
	switch {
	case cr.creates() && opts.DryRun:
		creds = &render.Credentials{Token: "<created by GitLab at apply>", ObtainedAt: opts.Now()}
		res.Runner.Action = "would-create"
	case cr.creates():
		if creds, res.Runner.ID, err = cr.create(ctx, opts.Now()); err != nil {
			return res, err
		}
		res.Runner.Action = "created"
	case cr != nil && !opts.DryRun:
		if err := cr.reconcile(ctx); err != nil {
			return res, err
		}
	}
	if register {
		placeholder := &render.Credentials{Token: "<issued by GitLab at registration>", ObtainedAt: opts.Now()}
		if opts.DryRun {
			creds = placeholder
			res.Runner.Action = "would-register"
		} else {
			api, err := newGitLab(a, opts)
			if err != nil {
				return nil, err
			}
			r, err := registerRunner(ctx, api, a, opts.Timeout)
			if err != nil {
				return nil, err
			}
			creds = &render.Credentials{ID: r.ID, Token: r.Token, ObtainedAt: opts.Now(), ExpiresAt: r.TokenExpiresAt}
			res.Runner.Action, res.Runner.ID = "registered", r.ID
		}
	}
	tokenShown := a.GitLab.Token
	if creds != nil {
		tokenShown = creds.Token
	} else if existing != nil {
		tokenShown = existing.Token
	}
	res.Runner.Token = secret.Token(tokenShown)

	// What to write is decided from the file as read above; the write then
	// re-reads it under the lock (safewrite.Update), and when another
	// process changed it meanwhile, renders again from those bytes, so
	// concurrent applies never drop each other's edits.
	redactor := redactorFor(a, creds)
	jsonPath := filepath.Join(paths.DockerConfigDir, "config.json")
	var oldJSON []byte
	if a.WritesDockerConfig() {
		if oldJSON, err = readExisting(jsonPath); err != nil {
			return nil, err
		}
	}
	out, err := renderFiles(a, creds, oldTOML, oldJSON, jsonPath, stale)
	if err != nil {
		if res.Runner.Action == "created" {
			return nil, cr.rollback(ctx, res.Runner.ID, err)
		}
		return nil, err
	}
	res.Runner.Appended = out.appended
	res.Pruned = prunedResult(out.pruned)
	res.ConfigTOML.Diff = render.Diff(paths.ConfigTOML, oldTOML, out.toml, redactor)
	res.ConfigTOML.Changed = res.ConfigTOML.Diff != ""
	res.ConfigTOML.Created = len(oldTOML) == 0 && !fileExists(paths.ConfigTOML)
	files := []safewrite.File{{Path: paths.ConfigTOML, Secret: true}}
	if a.WritesDockerConfig() {
		fc := &FileChange{Path: jsonPath, Diff: render.Diff(jsonPath, oldJSON, out.json, redactor)}
		fc.Changed, fc.Created = fc.Diff != "", !fileExists(jsonPath)
		res.DockerConfig = fc
		files = append(files, safewrite.File{Path: jsonPath, Secret: true})
	}
	idPath := filepath.Join(configDir, systemid.FileName)
	if opts.FreshSystemID || (!sysIDFromFile && res.ConfigTOML.Changed) {
		// The runner would create it on start; writing it now keeps the id
		// verify used and the one the runner will send the same.
		res.SystemID = &FileChange{Path: idPath, Changed: true, Created: !fileExists(idPath)}
		files = append(files, safewrite.File{Path: idPath, Secret: true})
	}
	res.Changed = res.ConfigTOML.Changed || (res.DockerConfig != nil && res.DockerConfig.Changed) || opts.FreshSystemID
	res.NextSteps = nextSteps(res, opts.Paths.Service, scan.detected)
	if res.Runner.Server != nil && len(res.Runner.Server.Changes) > 0 {
		res.Changed = true
	}
	if opts.DryRun || !res.Changed || !res.ConfigTOML.Changed && res.DockerConfig == nil && res.SystemID == nil {
		return res, nil
	}
	update := func(cur map[string][]byte) (map[string][]byte, error) {
		curTOML, curJSON := cur[paths.ConfigTOML], cur[jsonPath]
		now := out
		if !bytes.Equal(curTOML, oldTOML) || (res.DockerConfig != nil && !bytes.Equal(curJSON, oldJSON)) {
			// Another process wrote meanwhile: start from its bytes.
			_, curExisting, err := render.FindRunner(curTOML, a.GitLab.Name, a.GitLab.URL, matchToken(a))
			if err != nil {
				return nil, &InputError{Err: fmt.Errorf("%s (changed while applying): %w", paths.ConfigTOML, err)}
			}
			if (res.Runner.Action == "registered" || res.Runner.Action == "created") && existing == nil && curExisting != nil {
				return nil, fmt.Errorf("another process added runner %q to %s while this one was being registered", a.GitLab.Name, paths.ConfigTOML)
			}
			if now, err = renderFiles(a, creds, curTOML, curJSON, jsonPath, stale); err != nil {
				return nil, fmt.Errorf("%s changed while applying: %w", paths.ConfigTOML, err)
			}
			res.Runner.Appended = now.appended
			res.Pruned = prunedResult(now.pruned)
			res.ConfigTOML.Diff = render.Diff(paths.ConfigTOML, curTOML, now.toml, redactor)
			if res.DockerConfig != nil {
				res.DockerConfig.Diff = render.Diff(jsonPath, curJSON, now.json, redactor)
			}
		}
		data := map[string][]byte{paths.ConfigTOML: now.toml}
		if res.DockerConfig != nil {
			data[jsonPath] = now.json
		}
		if res.SystemID != nil && (opts.FreshSystemID || cur[idPath] == nil && !bytes.Equal(curTOML, now.toml)) {
			data[idPath] = []byte(writeID)
		}
		return data, nil
	}
	written, err := safewrite.Update(files, update, safewrite.Options{Now: opts.Now, LockTimeout: opts.LockTimeout})
	if err != nil && res.Runner.Action == "created" {
		return nil, cr.rollback(ctx, res.Runner.ID, err)
	}
	if err != nil {
		if res.Runner.Action == "registered" {
			return nil, fmt.Errorf("GitLab registered runner #%d but it could not be saved; remove it in GitLab (Settings › CI/CD › Runners) before retrying: %w", res.Runner.ID, err)
		}
		return nil, err
	}
	for _, w := range written {
		switch {
		case w.Path == res.ConfigTOML.Path:
			res.ConfigTOML.Changed, res.ConfigTOML.Created, res.ConfigTOML.Backup = w.Changed, w.Created, w.BackupPath
		case res.DockerConfig != nil && w.Path == res.DockerConfig.Path:
			res.DockerConfig.Changed, res.DockerConfig.Created, res.DockerConfig.Backup = w.Changed, w.Created, w.BackupPath
		case res.SystemID != nil && w.Path == res.SystemID.Path:
			res.SystemID.Changed, res.SystemID.Created = w.Changed, w.Created
			if !w.Changed {
				res.SystemID = nil
			}
		}
	}
	res.Changed = res.ConfigTOML.Changed || (res.DockerConfig != nil && res.DockerConfig.Changed) || res.SystemID != nil ||
		res.Runner.Server != nil && res.Runner.Server.Applied
	res.NextSteps = nextSteps(res, opts.Paths.Service, scan.detected)
	return res, nil
}

// renderedFiles are apply's new config.toml and config.json bytes.
type renderedFiles struct {
	pruned     []fleet.Runner
	toml, json []byte
	appended   bool
}

// renderFiles renders both files from their current bytes; json is only
// rendered when the answers write config.json.
func renderFiles(a *Answers, creds *render.Credentials, oldTOML, oldJSON []byte, jsonPath string, stale []fleet.Runner) (renderedFiles, error) {
	idx, _, err := render.FindRunner(oldTOML, a.GitLab.Name, a.GitLab.URL, matchToken(a))
	if err != nil {
		return renderedFiles{}, &InputError{Err: err}
	}
	pruned, removed, err := pruneStale(oldTOML, stale, idx)
	if err != nil {
		return renderedFiles{}, err
	}
	rendered, err := renderConfig(pruned, a, creds, idx < 0)
	if err != nil {
		return renderedFiles{}, err
	}
	out := renderedFiles{toml: rendered.Data, appended: rendered.Appended, pruned: removed}
	if a.WritesDockerConfig() {
		if out.json, err = render.DockerConfig(oldJSON, a.DockerConfigEdit()); err != nil {
			return renderedFiles{}, &InputError{Err: fmt.Errorf("%s: %w", jsonPath, err)}
		}
	}
	return out, nil
}

func matchToken(a *Answers) string {
	if kind, _ := ClassifyToken(a.GitLab.Token, a.GitLab.TokenKind); kind == TokenAuthentication {
		return a.GitLab.Token
	}
	return ""
}

func renderConfig(old []byte, a *Answers, creds *render.Credentials, isNew bool) (render.ConfigResult, error) {
	edit, err := a.ConfigEdit(creds, isNew)
	if err != nil {
		return render.ConfigResult{}, err
	}
	out, err := render.ConfigTOML(old, edit)
	if err != nil {
		var cerr *render.ConfigTOMLError
		if errors.As(err, &cerr) {
			return render.ConfigResult{}, &InputError{Err: err}
		}
		return render.ConfigResult{}, err
	}
	return renderExtra(out, a)
}

// redactorFor knows every secret of this run, so diffs hide them even where
// no key name gives them away.
func redactorFor(a *Answers, creds *render.Credentials) *secret.Redactor {
	r := &secret.Redactor{}
	r.AddToken(a.GitLab.Token)
	if creds != nil {
		r.AddToken(creds.Token)
	}
	if a.GitLab.Create != nil {
		r.AddToken(a.GitLab.Create.APIToken)
	}
	walkTree(cloneTree(a.Runner.Extra), "runner.extra", func(path string, s *string) {
		if IsSecretField(path) && *s != "" {
			r.AddMasked(*s)
		}
	})
	for _, reg := range a.Registries {
		if reg.Password != "" {
			r.AddMasked(reg.Password)
			r.AddMasked(render.EncodeAuth(reg.Username, reg.Password))
		}
	}
	return r
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

func newGitLab(a *Answers, opts ApplyOptions) (RunnerAPI, error) {
	gopts := gitlab.Options{CAFile: a.GitLab.TLSCAFile, HTTPClient: opts.HTTPClient, UserAgent: "runnerup"}
	if opts.NewGitLab != nil {
		return opts.NewGitLab(a.GitLab.URL, gopts)
	}
	c, err := gitlab.New(a.GitLab.URL, gopts)
	if err != nil {
		return nil, &InputError{Err: fmt.Errorf("gitlab.url: %w", err)}
	}
	return c, nil
}

func verify(ctx context.Context, api RunnerAPI, token, sysID string, timeout time.Duration) (gitlab.Runner, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r, err := api.Verify(ctx, token, sysID)
	if err != nil {
		return r, gitlabCheckError("gitlab.token", err)
	}
	return r, nil
}

func registerRunner(ctx context.Context, api RunnerAPI, a *Answers, timeout time.Duration) (gitlab.Runner, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	g := a.GitLab
	desc := g.Description
	if desc == "" {
		desc = g.Name
	}
	r, err := api.Register(ctx, gitlab.RegisterRequest{
		Token: g.Token, Description: desc, MaintenanceNote: g.MaintenanceNote, Tags: g.Tags,
		RunUntagged: g.RunUntagged || len(g.Tags) == 0, Locked: g.IsLocked(), AccessLevel: g.AccessLevel,
	})
	if err != nil {
		return r, gitlabCheckError("gitlab.register", err)
	}
	return r, nil
}

// gitlabCheckError names the cause of a GitLab failure and its fix.
func gitlabCheckError(check string, err error) error {
	ce := &CheckError{Check: check, Err: err, Problem: err.Error()}
	switch {
	case errors.Is(err, gitlab.ErrTokenInvalid):
		ce.Problem = "GitLab rejected the token (403): it is wrong, revoked, or the runner was deleted"
		ce.Hint = "create a new runner in GitLab (Settings › CI/CD › Runners › New runner) and use its glrt- token"
	case errors.Is(err, gitlab.ErrRegistrationDisabled):
		ce.Problem = "GitLab refused the registration token (410 Gone): registration tokens are disabled on this instance"
		ce.Hint = "create the runner in GitLab's UI and use its glrt- authentication token, or ask an admin to allow registration tokens"
	case errors.Is(err, gitlab.ErrOrphaned):
		ce.Problem = "GitLab says the runner is orphaned (422): its project or group is gone"
		ce.Hint = "create a new runner and use its token"
	case errors.Is(err, gitlab.ErrNotGitLab):
		ce.Problem = "the URL does not answer like a GitLab API (" + err.Error() + ")"
		ce.Hint = "check gitlab.url: it must be the instance's base URL, e.g. https://gitlab.example.com"
	case errors.Is(err, gitlab.ErrTLSUnknownCA):
		ce.Problem = "GitLab's TLS certificate is signed by an unknown authority"
		ce.Hint = "set gitlab.tls_ca_file to the CA bundle (PEM) that signed it"
	case errors.Is(err, gitlab.ErrTLSHostname):
		ce.Problem = "GitLab's TLS certificate is not valid for this host name"
		ce.Hint = "use the host name the certificate was issued for in gitlab.url"
	case errors.Is(err, gitlab.ErrTLSExpired):
		ce.Problem = "GitLab's TLS certificate has expired or is not yet valid"
		ce.Hint = "renew the certificate on the GitLab server, and check this host's clock"
	case errors.Is(err, gitlab.ErrCrossHostRedirect), errors.Is(err, gitlab.ErrPostRedirect):
		ce.Problem = "GitLab redirected the request elsewhere; the token was not sent there (" + err.Error() + ")"
		ce.Hint = "set gitlab.url to the address GitLab redirects to"
	case errors.Is(err, gitlab.ErrDNS):
		ce.Problem = "GitLab's host name does not resolve (" + err.Error() + ")"
		ce.Hint = "check the host name in gitlab.url and this machine's DNS"
	case errors.Is(err, gitlab.ErrConnRefused):
		ce.Problem = "the connection to GitLab was refused (" + err.Error() + ")"
		ce.Hint = "check the port in gitlab.url and that GitLab is running"
	case errors.Is(err, gitlab.ErrTimeout):
		ce.Problem = "GitLab did not answer in time (" + err.Error() + ")"
		ce.Hint = "check the network path and proxy settings (HTTPS_PROXY/NO_PROXY)"
	case errors.Is(err, gitlab.ErrRateLimited):
		ce.Hint = "GitLab is rate limiting or migrating; retry later"
	case errors.Is(err, gitlab.ErrServer):
		ce.Hint = "GitLab had a server error; retry later"
	}
	return ce
}
