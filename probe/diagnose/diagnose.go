package diagnose

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/docker-credential-helpers/client"
	"github.com/moby/moby/api/types/system"

	"github.com/runnerup/runnerup/internal/secret"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/credentials"
	"github.com/runnerup/runnerup/probe/daemon"
	"github.com/runnerup/runnerup/probe/registry"
	"github.com/runnerup/runnerup/probe/suite"
)

// Runner is the [[runners]] entry whose pull is diagnosed: what of it
// decides credentials, the daemon and the pull policy. The zero value is
// a runner with no environment, the default daemon and pull_policy unset
// (always).
type Runner struct {
	Name        string
	URL         string // GitLab URL: images on its registry get job-payload credentials
	Executor    string
	Environment []string // [[runners]] environment (KEY=VALUE)
	// DockerHost is [runners.docker] host; "" means DOCKER_HOST, else the
	// default socket.
	DockerHost          string
	PullPolicy          []string // [runners.docker] pull_policy
	AllowedPullPolicies []string // [runners.docker] allowed_pull_policies
	// ConfigPath is the config.toml the entry came from (for fixes).
	ConfigPath string

	// Image and Services are [runners.docker] image and services' names:
	// docker:NN clients beside docker:MM-dind services are compared
	// (docker-api-too-old). HelperImage, HelperImageFlavor and Shell
	// decide the helper image the runner uses.
	Image                                 string
	Services                              []string
	HelperImage, HelperImageFlavor, Shell string
}

// DockerAPI is the part of the Docker Engine client diagnose uses: the
// daemon checks' calls plus ImageInspect for the pull policy.
// daemon.Engine satisfies it.
type DockerAPI interface {
	daemon.API
	daemon.ImageInspector
}

var _ DockerAPI = (*daemon.Engine)(nil)

// Options say what to diagnose and where the runner's facts are.
type Options struct {
	// Image is the reference as the job names it.
	Image string
	// Runner is the runner entry; nil means a runner with defaults.
	Runner *Runner
	// AuthConfig overrides DOCKER_AUTH_CONFIG (a CI/CD variable's value,
	// which beats the runner environment in a job); nil: the runner
	// environment's.
	AuthConfig *string
	// HomeDir is the home of the user the runner runs as ($HOME/.docker/
	// config.json, else $HOME/.dockercfg). ConfigJSON/ConfigJSONPath
	// replace that file (--docker-config DIR).
	HomeDir        string
	ConfigJSON     []byte
	ConfigJSONPath string
	// HelperEnv is the runner process's environment for credential
	// helpers (its PATH decides whether they are found); nil inherits
	// runnerup's. LookPath and Program are the credentials package's
	// seams.
	HelperEnv []string
	LookPath  func(string) (string, error)
	Program   func(name string) client.ProgramFunc
	// Process is the gitlab-runner process helpers run in: the detected
	// service's PATH, environment and user (credentials.RunnerProcess);
	// nil: runnerup's own. HelperEnv, when set, replaces its environment.
	Process *credentials.Process
	// Platform fixes the platform an index must offer (--platform); nil
	// means the daemon's.
	Platform *probe.Platform
	// JobPullPolicy is the job's image:pull_policy (--pull-policy); nil:
	// the job sets none, or the log says which it set.
	JobPullPolicy []string
	// Log is a job log (or a pasted error message) to match; nil: none.
	Log *string
	// ConfigSearched is the config.toml looked for when Runner is nil
	// because there is none ("" when the caller says nothing): no runner
	// is configured here, so the live checks cannot be the runner's.
	ConfigSearched string
	// HostSystemID is this host's runner system id (.runner_system_id)
	// and ConfigRunners the [[runners]] names of its config.toml: a log
	// written by another runner manager is from another host.
	HostSystemID  string
	ConfigRunners []string
	// Timeout is the per-check deadline (5 s when zero).
	Timeout time.Duration
	// OnResult streams each finished check (redacted).
	OnResult func(probe.Result)

	// Transport is the registry probes' base transport; nil means a direct
	// transport with the daemon's own proxy settings (from /info).
	Transport http.RoundTripper
	// CertsDir is the daemon's certs.d ("" = /etc/docker/certs.d).
	CertsDir string
	// Insecure overrides how the daemon treats a registry (nil: from the
	// daemon's /info, as dockerd decides).
	Insecure func(host string) bool
	// Docker replaces the Docker client (nil: made from Runner.DockerHost
	// and the environment, like the docker CLI).
	Docker DockerAPI
	// StatFS replaces statfs(2) for the daemon's free space.
	StatFS func(path string) (free, total uint64, err error)
	// LookupEnv is runnerup's own environment (proxy and DOCKER_CONFIG
	// notes); nil: os.LookupEnv.
	LookupEnv func(string) (string, bool)

	// Pull asks the daemon itself to pull the image with the runner's
	// X-Registry-Auth (--pull): it downloads layers and leaves the image
	// in the daemon's store; its answer wins over the HTTP probe's.
	Pull bool
	// RunnerBinary says where the installed gitlab-runner is (the
	// service's ExecStart, its environment); nil: gitlab-runner on PATH.
	RunnerBinary *daemon.RunnerOptions
}

// Report is diagnose's answer.
type Report struct {
	Image    string `json:"image"`
	Registry string `json:"registry"`
	// CredentialSource is where the credential the runner sends comes from,
	// as the runner logs it, or "none".
	CredentialSource string            `json:"credential_source"`
	Runner           string            `json:"runner,omitempty"`
	Daemon           string            `json:"daemon,omitempty"`
	Credentials      *CredentialReport `json:"credentials,omitempty"`
	Policy           *PolicyReport     `json:"pull_policy,omitempty"`
	// Causes are why the pull fails now, most likely first; empty when the
	// image would pull.
	Causes []Cause `json:"causes"`
	// Latent are registry problems that do not fail this pull because the
	// runner uses the daemon's local copy (pull policy), but would on a
	// host without it.
	Latent []Cause `json:"latent,omitempty"`
	// Verdict says, when a job log was given, whether the log or the live
	// checks ranked the causes, and why.
	Verdict *Verdict   `json:"verdict,omitempty"`
	Log     *LogReport `json:"log,omitempty"`
	// Pull is the daemon's own pull (--pull) beside the HTTP verdict.
	Pull   *daemon.PullVerdict `json:"pull,omitempty"`
	Notes  []string            `json:"notes,omitempty"`
	Checks []probe.Result      `json:"checks"`
	OK     bool                `json:"ok"`
	// DurationMS is the wall-clock time of the diagnosis.
	DurationMS int64 `json:"duration_ms"`
}

// Cause is one root cause with its proof and its fix.
type Cause struct {
	ID       string   `json:"id"`
	Summary  string   `json:"summary"`
	Evidence []string `json:"evidence"`
	Fix      []string `json:"fix"`
	// Log is "confirmed" when a --log line points at this cause.
	Log string `json:"log,omitempty"`
	// From is where the cause was found: "live" (the checks), "log" (the
	// job log alone), "log and live", or "input" (the image name or a
	// DOCKER_AUTH_CONFIG value given, whatever host reads them).
	From string `json:"from,omitempty"`
	// LogLine is the job-log line (1-based, as given) that shows it.
	LogLine int `json:"log_line,omitempty"`
	// NotCheckable says why the live checks cannot test a cause the job
	// log shows (it happened inside the job).
	NotCheckable string `json:"not_checkable,omitempty"`

	covers []string // symptom ids folded into it, for log confirmation
	// matchID is the log match a cause from the log was read from (rankLog
	// may have renamed it); inJob: that cause happened inside the job.
	matchID string
	inJob   bool
}

// Run diagnoses opts.Image. The error is for bad arguments only: every
// failure of the pull itself is in the Report.
func Run(ctx context.Context, opts Options) (*Report, error) {
	start := time.Now()
	if opts.Image == "" {
		return nil, errors.New("diagnose: no image reference given")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	d := newDiagnosis(opts)
	runner := d.runner

	api, closeAPI := d.dockerClient()
	defer closeAPI()
	if h, ok := api.(interface{ DaemonHost() string }); ok {
		d.apiHost = h.DaemonHost()
	}
	d.daemonFacts(ctx, api)
	transport := opts.Transport
	if transport == nil {
		transport = d.proxy.transport()
	}

	resolver := credentials.Resolver{
		RunnerEnvironment: runner.Environment, AuthConfig: opts.AuthConfig,
		HomeDir: opts.HomeDir, ConfigJSON: opts.ConfigJSON, ConfigJSONPath: opts.ConfigJSONPath,
		Program: opts.Program, LookPath: opts.LookPath, HelperEnv: opts.HelperEnv, Process: opts.Process,
	}
	dopts := &daemon.Options{Host: runner.DockerHost, StatFS: opts.StatFS}
	if api != nil {
		dopts.Client = api
	}
	plan := suite.Plan{
		Daemon:      dopts,
		Images:      []string{opts.Image},
		Credentials: &resolver,
		Registry:    registry.Options{Transport: transport, Platform: opts.Platform, CertsDir: opts.CertsDir, Insecure: opts.Insecure},
	}
	d.extendPlan(&plan)
	checks := append(plan.Checks(), d.policyCheck(api))
	onResult := opts.OnResult
	if onResult != nil {
		onResult = func(r probe.Result) { opts.OnResult(d.red.result(r)) }
	}
	results, err := probe.Run(ctx, checks, probe.Options{Timeout: opts.Timeout, OnResult: onResult})
	if err != nil && ctx.Err() == nil {
		return nil, err
	}
	rep := d.analyse(daemon.DaemonWins(results))
	if opts.Log != nil {
		lr := MatchLog(*opts.Log)
		d.rank(rep, &lr)
		rep.Log = &lr
	}
	rep.DurationMS = time.Since(start).Milliseconds()
	d.red.report(rep)
	return rep, ctx.Err()
}

// newDiagnosis starts one diagnosis: the runner entry (defaults when none),
// the image as the checks name it, the raw credential sources and their
// redactor.
func newDiagnosis(opts Options) *diagnosis {
	runner := Runner{}
	if opts.Runner != nil {
		runner = *opts.Runner
	}
	d := &diagnosis{opts: opts, runner: runner, im: parseImage(opts.Image)}
	d.raw = loadRawSources(opts, runner)
	d.red = newRedactor(d.raw)
	return d
}

// diagnosis is the state of one Run.
type diagnosis struct {
	opts   Options
	runner Runner
	im     parsedImage
	raw    rawSources
	red    *redactor

	proxy         daemonProxy
	daemonVersion string
	apiHost       string // the address the Docker client settled on
}

// parsedImage is the reference as the checks name it.
type parsedImage struct {
	given string
	ref   string // registry.NormalizeRef
	host  string // registry.NormalizeHost of the domain
	repo  string
	err   error
}

func parseImage(s string) parsedImage {
	p := parsedImage{given: s, ref: registry.NormalizeRef(s)}
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		p.err = err
		return p
	}
	p.host = registry.NormalizeHost(reference.Domain(named))
	p.repo = reference.Path(named)
	return p
}

// dockerClient is opts.Docker, or a client made like the docker CLI's (with
// Runner.DockerHost) whose /info is read once for every check. A client
// that cannot be made is left to the daemon checks to report.
func (d *diagnosis) dockerClient() (DockerAPI, func()) {
	if d.opts.Docker != nil {
		return d.opts.Docker, func() {}
	}
	c, err := daemon.NewEngine(d.runner.DockerHost)
	if err != nil {
		return nil, func() {}
	}
	return &cachedInfo{Engine: c}, func() { _ = c.Close() }
}

// cachedInfo shares one GET /info between diagnose's own read (the
// daemon's proxy) and the daemon checks.
type cachedInfo struct {
	*daemon.Engine
	mu   sync.Mutex
	done bool
	info system.Info
	err  error
}

func (c *cachedInfo) Info(ctx context.Context) (system.Info, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return c.info, c.err
	}
	info, err := c.Engine.Info(ctx)
	if err == nil || ctx.Err() == nil {
		c.done, c.info, c.err = true, info, err
	}
	return info, err
}

// daemonFacts reads the daemon's proxy and version before the checks run:
// the registry probes must go through the proxy dockerd uses.
func (d *diagnosis) daemonFacts(ctx context.Context, api DockerAPI) {
	if api == nil {
		return
	}
	ictx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	info, err := api.Info(ictx)
	if err != nil {
		return
	}
	d.proxy = daemonProxy{HTTP: info.HTTPProxy, HTTPS: info.HTTPSProxy, NoProxy: info.NoProxy, Known: true}
	d.daemonVersion = info.ServerVersion
}

// daemonHost is the address the runner's daemon is reached at, redacted.
func (d *diagnosis) daemonHost() string {
	if d.runner.DockerHost != "" {
		return secret.RedactURL(d.runner.DockerHost)
	}
	if d.apiHost != "" {
		return secret.RedactURL(d.apiHost)
	}
	if h, ok := d.opts.LookupEnv("DOCKER_HOST"); ok && h != "" {
		return secret.RedactURL(h)
	}
	return daemon.DefaultHost
}

// onGitLabRegistry: the image host is the runner's GitLab host (any port)
// or registry.<gitlab host> (also registry.example.com for
// gitlab.example.com).
func onGitLabRegistry(imageHost, gitlabURL string) bool {
	if imageHost == "" || gitlabURL == "" {
		return false
	}
	gh := gitlabURL
	if i := strings.Index(gh, "://"); i >= 0 {
		gh = gh[i+3:]
	}
	if i := strings.IndexAny(gh, "/?#"); i >= 0 {
		gh = gh[:i]
	}
	gh = strings.ToLower(hostOnly(gh))
	ih := strings.ToLower(hostOnly(imageHost))
	if gh == "" {
		return false
	}
	return ih == gh || ih == "registry."+gh ||
		(strings.HasPrefix(gh, "gitlab.") && ih == "registry."+strings.TrimPrefix(gh, "gitlab."))
}
