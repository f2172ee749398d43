package wizard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/runnerup/runnerup/internal/systemid"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/credentials"
	"github.com/runnerup/runnerup/probe/daemon"
	"github.com/runnerup/runnerup/probe/diagnose"
	"github.com/runnerup/runnerup/probe/fleet"
	"github.com/runnerup/runnerup/probe/suite"
	"github.com/runnerup/runnerup/render"
)

// ProbeOptions tune the live checks apply, probe and the TUI run.
type ProbeOptions struct {
	// Timeout is the per-check deadline (5 s when zero).
	Timeout time.Duration
	// OnResult streams each finished check.
	OnResult func(probe.Result)
	// Tweak adjusts the plan before it runs (tests inject transports,
	// fake helpers, daemon hosts).
	Tweak func(*suite.Plan)
	// Pull lets the daemon itself pull every image (probe --pull).
	Pull bool
	// RegistryConcurrency caps the requests in flight per registry
	// (registry.DefaultConcurrency when zero).
	RegistryConcurrency int
}

// probeInputs are the files as they will be after apply: the runner
// entry's environment and the config.json bytes, so the checks see the
// credentials the runner will see.
type probeInputs struct {
	runnerEnv      []string
	configJSON     []byte
	configJSONPath string
	systemID       string
	configTOML     []byte
	certsDir       string // where the runner looks for GitLab's HOST.crt
	// fleet are the host checks (nil: none).
	fleet *fleet.Options
	// process is the gitlab-runner process credential helpers run in:
	// the detected service's PATH, environment and user (helperProcess);
	// nil: runnerup's own.
	process *credentials.Process
}

// Plan builds the live checks for prepared answers.
func (a *Answers) plan(in probeInputs) suite.Plan {
	p := suite.Plan{Fleet: in.fleet}
	kind, _ := ClassifyToken(a.GitLab.Token, a.GitLab.TokenKind)
	p.GitLab = &probe.GitLabTarget{
		URL: a.GitLab.URL, Token: a.GitLab.Token, CAFile: a.GitLab.TLSCAFile,
		Verify: kind == TokenAuthentication, SystemID: in.systemID, CertsDir: in.certsDir,
	}
	if !UsesDocker(a.Runner.Executor) {
		return p
	}
	wantOS := "linux"
	if a.Runner.Executor == "docker-windows" {
		wantOS = "windows"
	}
	p.Daemon = &daemon.Options{Host: a.Docker.Host, WantOS: wantOS, WantPrivileged: a.Docker.IsPrivileged()}
	p.Images = a.Images()
	p.Credentials = &credentials.Resolver{
		RunnerEnvironment: in.runnerEnv,
		HomeDir:           filepath.Dir(filepath.Dir(in.configJSONPath)),
		ConfigJSON:        in.configJSON,
		ConfigJSONPath:    in.configJSONPath,
		Process:           in.process,
	}
	return p
}

// runProbes runs a plan and turns failures into a CheckError.
func runProbes(ctx context.Context, p suite.Plan, opts ProbeOptions) ([]probe.Result, error) {
	if opts.Pull {
		diagnose.EnablePull(&p)
	}
	p.Registry.Concurrency = opts.RegistryConcurrency
	if opts.Tweak != nil {
		opts.Tweak(&p)
	}
	results, err := probe.Run(ctx, p.Checks(), probe.Options{Timeout: opts.Timeout, OnResult: opts.OnResult})
	results = daemon.DaemonWins(results)
	if err != nil {
		return results, err
	}
	if failed := probe.Failed(results); len(failed) > 0 {
		first := failed[0]
		return results, &CheckError{
			Check:   first.ID,
			Problem: fmt.Sprintf("%d check(s) failed; first: %s", len(failed), first.Detail),
			Hint:    first.Hint,
			Results: results,
		}
	}
	return results, nil
}

// Probe runs every live check for prepared answers and writes nothing:
// `runnerup probe --answers`. It sees config.toml and config.json as apply
// would leave them: it loads and plans as apply does, then runs the live
// checks of that plan.
func Probe(ctx context.Context, p *Prepared, opts ApplyOptions) ([]probe.Result, error) {
	l, err := load(ctx, p, &opts)
	if err != nil {
		return nil, err
	}
	opts.SkipProbes, opts.Offline = false, false
	plan, err := l.plan(opts)
	if err != nil {
		return nil, err
	}
	if err := l.readDockerConfig(plan); err != nil {
		return nil, err
	}
	l.scanRemote(ctx, opts)
	in, err := inputsFor(l.eff, l.paths, l.oldTOML, l.checkedJSON, l.target.existing, l.sysID)
	if err != nil {
		return nil, err
	}
	mode := fleetProbe
	if opts.CheckStale {
		mode = fleetInspect
	}
	in.fleet = l.eff.fleetOptions(l.paths, l.oldTOML, l.scan, opts, mode, l.target.index)
	in.process = helperProcess(l.scan)
	// As apply: a token the runner rotated is kept, and verified instead;
	// [gitlab.create]'s read-only calls run too.
	var first []probe.Result
	if plan.TokenRotated {
		first = append(first, reportNow(*rotatedResult(l.a, l.target.existing), opts.Probe))
	}
	if plan.creation != nil {
		got, err := plan.creation.preflight(ctx, opts.Probe)
		first = append(first, got...)
		if err != nil {
			return first, err
		}
	}
	results, err := runProbes(ctx, l.checkPlan(plan, in), opts.Probe)
	if len(first) > 0 {
		results = append(first, results...)
		if ce := (*CheckError)(nil); errors.As(err, &ce) {
			ce.Results = results
		}
	}
	return results, err
}

// inputsFor computes what the runner will read after apply: the entry's
// environment merged with the answers' (existing: the entry in oldTOML,
// nil when new) and configJSON, config.json as apply leaves it
// (dockerConfigFor).
func inputsFor(a *Answers, paths Paths, oldTOML, configJSON []byte, existing *render.ExistingRunner, sysID string) (probeInputs, error) {
	env, err := a.runnerEnvironment(a.Runner.Executor)
	if err != nil {
		return probeInputs{}, err
	}
	if existing != nil {
		env = render.MergeEnvironment(existing.Environment, env)
	}
	jsonPath := filepath.Join(paths.DockerConfigDir, "config.json")
	if configJSON == nil && filepath.Base(paths.DockerConfigDir) != ".docker" {
		// No file at a custom path: the resolver must not fall back to
		// some other home's config.json.
		configJSON = []byte("{}")
	}
	return probeInputs{runnerEnv: env, configJSON: configJSON, configJSONPath: jsonPath, systemID: sysID, configTOML: oldTOML,
		certsDir: certsDir(paths.ConfigTOML)}, nil
}

// dockerConfigFor reads config.json where the runner reads it (nil when
// absent) and, when the answers write it, renders their edit: the bytes
// on disk, which render starts from, and those the checks see. A file
// that cannot be read or edited is an InputError (exit 2).
func dockerConfigFor(a *Answers, paths Paths) (onDisk, after []byte, err error) {
	jsonPath := filepath.Join(paths.DockerConfigDir, "config.json")
	if onDisk, err = readExisting(jsonPath); err != nil {
		return nil, nil, err
	}
	after = onDisk
	if a.WritesDockerConfig() {
		if after, err = render.DockerConfig(onDisk, a.DockerConfigEdit()); err != nil {
			return nil, nil, &InputError{Err: fmt.Errorf("%s: %w", jsonPath, err)}
		}
	}
	return onDisk, after, nil
}

// ProbeImages checks the daemon and the given images with the current
// docker config of this user, as the runner running as this user would
// resolve credentials (no GitLab, no answers): `runnerup probe --image`.
func ProbeImages(ctx context.Context, images []string, opts ApplyOptions) ([]probe.Result, error) {
	for _, img := range images {
		if msg, fix := CheckImage(img); msg != "" {
			return nil, &ValidationError{Problems: []FieldError{{Field: "--image", Problem: msg, Fix: fix}}}
		}
	}
	paths, _ := ResolvePaths(Output{}, opts.ConfigPath, opts.DockerConfigDir, opts.Paths)
	jsonPath := filepath.Join(paths.DockerConfigDir, "config.json")
	configJSON, err := readExisting(jsonPath)
	if err != nil {
		return nil, err
	}
	p := suite.Plan{
		// This user's docker, as `docker pull` would reach it: the CLI's
		// current context counts here (the runner ignores contexts).
		Daemon: &daemon.Options{WantOS: "linux", UseCLIContext: true, Home: opts.Paths.Home},
		Images: images,
		Credentials: &credentials.Resolver{
			HomeDir: filepath.Dir(paths.DockerConfigDir), ConfigJSON: configJSON, ConfigJSONPath: jsonPath,
		},
	}
	if namesHelpers(configJSON) {
		// The runner runs the helpers in its own world; the service is
		// looked for only then, so a probe without helpers stays fast.
		p.Credentials.Process = helperProcess(scanService(ctx, &opts, ""))
	}
	if configJSON == nil {
		p.Credentials.ConfigJSON = []byte("{}")
	}
	return runProbes(ctx, p, opts.Probe)
}

// namesHelpers reports whether a config.json names credential helpers
// (credHelpers or credsStore), which GitLab Runner would run.
func namesHelpers(configJSON []byte) bool {
	var cfg struct {
		CredHelpers map[string]string `json:"credHelpers"`
		CredsStore  string            `json:"credsStore"`
	}
	return json.Unmarshal(configJSON, &cfg) == nil && (len(cfg.CredHelpers) > 0 || cfg.CredsStore != "")
}

// ProbeAnswers runs the checks that the answers given so far allow: the
// wizard calls it while the user is still answering, so a URL alone probes
// GitLab's reachability, a token adds its verification, an image adds the
// daemon, credentials and registry chain.
func ProbeAnswers(ctx context.Context, a *Answers, opts ApplyOptions) ([]probe.Result, error) {
	scan := scanService(ctx, &opts, a.Docker.Host)
	paths, _ := ResolvePaths(a.Output, opts.ConfigPath, opts.DockerConfigDir, opts.Paths)
	oldTOML, t, err := readTarget(a, paths)
	if err != nil {
		return nil, err
	}
	sysID, _, err := systemid.Resolve(filepath.Dir(paths.ConfigTOML))
	if err != nil {
		return nil, &InputError{Err: err}
	}
	_, configJSON, err := dockerConfigFor(a, paths)
	if err != nil {
		return nil, err
	}
	in, err := inputsFor(a, paths, oldTOML, configJSON, t.existing, sysID)
	if err != nil {
		return nil, err
	}
	opts.systemID = sysID
	in.fleet = a.fleetOptions(paths, oldTOML, scan, opts, fleetApply, t.index)
	in.process = helperProcess(scan)
	p := a.plan(in)
	if msg, _, warn := CheckGitLabURL(a.GitLab.URL); msg != "" && !warn {
		p.GitLab = nil
	} else if a.GitLab.Token == "" {
		p.GitLab.Verify = false
		if a.GitLab.Create != nil {
			p.GitLab.SkipToken = fmt.Sprintf("runner %q does not exist yet: runnerup creates it in GitLab when it writes, and writes the token GitLab issues", a.GitLab.Name)
		}
	}
	if a.Docker.Image == "" && len(a.Docker.Services) == 0 {
		p.Daemon, p.Images, p.Credentials = nil, nil, nil
	}
	// [gitlab.create]: the API token is checked beside the others.
	created := make(chan probe.Result, 1)
	if a.GitLab.Create != nil {
		go func() {
			r := CheckAPIToken(ctx, a, opts)
			if opts.Probe.OnResult != nil {
				opts.Probe.OnResult(r)
			}
			created <- r
		}()
	}
	results, err := runProbes(ctx, p, opts.Probe)
	if a.GitLab.Create != nil {
		results = append([]probe.Result{<-created}, results...)
	}
	var ce *CheckError
	if errors.As(err, &ce) {
		// Failures are results to show, not an error of the run.
		return results, nil
	}
	return results, err
}
