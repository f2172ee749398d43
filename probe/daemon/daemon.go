package daemon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"

	"github.com/runnerup/runnerup/internal/secret"
	"github.com/runnerup/runnerup/probe"
)

// Check ids. daemon.platform and daemon.registries are probe.IDDaemonPlatform
// and probe.IDDaemonRegistries, shared with the registry checks.
const (
	IDReachable  = "daemon.reachable"
	IDPermission = "daemon.permission"
	IDVersion    = "daemon.version"
	IDPlatform   = probe.IDDaemonPlatform
	IDRegistries = probe.IDDaemonRegistries
	IDStorage    = "daemon.storage"
	IDProxy      = "daemon.proxy"
	IDPrivileged = "daemon.privileged"
)

// API is the part of the Docker Engine client the checks use; Engine
// satisfies it. Tests fake it docker/cli-style, with a struct of func
// fields.
type API interface {
	Ping(ctx context.Context) (client.PingResult, error)
	ServerVersion(ctx context.Context) (system.VersionResponse, error)
	Info(ctx context.Context) (system.Info, error)
}

// Options say which daemon to check and what the runner will ask of it.
type Options struct {
	// Host is the daemon address ("unix:///var/run/docker.sock",
	// "tcp://docker:2376"). Empty means what GitLab Runner uses without
	// [runners.docker] host: DOCKER_HOST (with DOCKER_TLS_VERIFY and
	// DOCKER_CERT_PATH), else the platform's default socket. The runner
	// ignores docker contexts; see UseCLIContext.
	Host string
	// UseCLIContext makes an empty Host mean what the docker CLI would
	// use: its current context (DOCKER_CONTEXT, else config.json's
	// currentContext) when DOCKER_HOST is unset. For checks of this user's
	// docker (probe --image), not of the runner's.
	UseCLIContext bool
	// Home is the user's home for UseCLIContext (~/.docker); "" reads it
	// from the process.
	Home string
	// Client replaces the Docker client (tests). When nil one is made on
	// first use from Host and the environment, with API version
	// negotiation, and shared by the checks of one Checks call.
	Client API
	// WantOS is the daemon OS the executor needs: "windows" for the
	// docker-windows executor, otherwise "linux".
	WantOS string
	// WantPrivileged adds daemon.privileged: the runner will start
	// privileged containers (Docker-in-Docker).
	WantPrivileged bool
	// StatFS reports the bytes available to unprivileged users and the
	// size of the file system holding path. Default: statfs(2). It is used
	// only when the daemon is local (a unix socket on this host), because a
	// remote daemon's data root is not this host's path.
	StatFS func(path string) (free, total uint64, err error)

	// Pull adds image.<ref>.pull: the daemon itself pulls each image with
	// the runner's X-Registry-Auth (it downloads layers). nil: no pulls.
	Pull *PullOptions
	// Runner locates the installed gitlab-runner: daemon.runner-api
	// compares its Docker client API with the daemon's minimum and
	// runner.helper-image probes the helper image it will use. nil: not
	// looked for.
	Runner *RunnerOptions
	// Jobs are the runners' job images and services: docker:NN clients
	// used with docker:MM-dind services are compared in daemon.dind-api
	// (added only when some job has both).
	Jobs []Job
}

// Job is what one runner's jobs run: the job images (clients of a
// Docker-in-Docker service) and the services.
type Job struct {
	Runner   string // for display; "" when unknown
	Images   []string
	Services []string
}

// Checks returns the daemon checks for opts. They share one lazily made
// Docker client and one answer each from /version and /info, so a run costs
// one ping, one version and one info request however many checks read them.
//
// The client made here is never closed: Checks cannot know when the last
// check has run (dependents of a failed check are skipped without running),
// and the Engine client's transport drops idle connections after 30 s on its
// own, so repeated runs (the TUI re-probing as the user types) do not pile
// up sockets.
func Checks(opts Options) []probe.Check {
	s := newSession(opts)
	needReach := []string{IDReachable}
	checks := []probe.Check{
		{ID: IDReachable, Title: "Docker daemon reachable", Run: s.checkReachable},
		{ID: IDPermission, Title: "Docker socket permission", Needs: needReach, RunAfterFailure: true, Run: s.checkPermission},
		{ID: IDVersion, Title: "Docker daemon version", Needs: needReach, Run: s.checkVersion},
		{ID: IDPlatform, Title: "Docker daemon platform", Needs: needReach, Run: s.checkPlatform},
		{ID: IDRegistries, Title: "Docker daemon registry settings", Needs: needReach, Run: s.checkRegistries},
		{ID: IDStorage, Title: "Docker daemon storage", Needs: needReach, Run: s.checkStorage},
		{ID: IDProxy, Title: "Docker daemon proxy", Needs: needReach, Run: s.checkProxy},
	}
	if opts.WantPrivileged {
		checks = append(checks, probe.Check{ID: IDPrivileged, Title: "Privileged containers (Docker-in-Docker)", Needs: needReach, Run: s.checkPrivileged})
	}
	checks = append(checks, s.compatChecks()...)
	if opts.Pull != nil {
		checks = append(checks, s.pullChecks(*opts.Pull)...)
	}
	return checks
}

// session is the state the checks of one Checks call share.
type session struct {
	opts Options

	once   sync.Once
	api    API
	apiErr error
	// cliContext names the docker CLI context the client came from ("" for
	// none), for messages.
	cliContext string

	version memo[system.VersionResponse]
	info    memo[system.Info]
	runner  memo[RunnerInfo]
}

func newSession(opts Options) *session {
	if opts.StatFS == nil {
		opts.StatFS = statFS
	}
	if opts.WantOS == "" {
		opts.WantOS = "linux"
	}
	return &session{opts: opts}
}

// client returns the Docker client, making it on first use. Making it
// does no I/O; a bad DOCKER_HOST or DOCKER_CERT_PATH fails here.
func (s *session) client() (API, error) {
	s.once.Do(func() {
		if s.opts.Client != nil {
			s.api = s.opts.Client
			return
		}
		var c *Engine
		var err error
		useContext := s.opts.Host == "" && s.opts.UseCLIContext
		if !useContext && isSSHHost(cmp.Or(s.opts.Host, os.Getenv(client.EnvOverrideHost))) {
			// The runner's client (sockets.ConfigureTransport) would dial
			// "user@host" as a TCP host name and fail on DNS.
			s.apiErr = errors.New("GitLab Runner's Docker client does not support ssh:// hosts (only the docker CLI reaches them, through ssh)")
			return
		}
		if useContext {
			c, err = s.contextEngine()
		} else {
			c, err = NewEngine(s.opts.Host)
		}
		if err != nil {
			s.apiErr = fmt.Errorf("making the Docker client: %w", err)
			return
		}
		s.api = c
	})
	return s.api, s.apiErr
}

// contextEngine is the client for the docker CLI's current context,
// remembered for messages.
func (s *session) contextEngine() (*Engine, error) {
	home := s.opts.Home
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	cc, err := ResolveCLIContext(os.Getenv, home)
	if err != nil {
		return nil, err
	}
	if cc.Name != DefaultContext {
		s.cliContext = cc.Name
	}
	return NewEngineForContext(cc)
}

// host is the daemon address for messages and for deciding whether the
// daemon is local: the one asked for, else the one the client settled on,
// else what the client would default to.
func (s *session) host() string {
	if s.opts.Host != "" {
		return s.opts.Host
	}
	if h, ok := s.api.(interface{ DaemonHost() string }); ok && h.DaemonHost() != "" {
		return h.DaemonHost()
	}
	if h := os.Getenv(client.EnvOverrideHost); h != "" {
		return h
	}
	return client.DefaultDockerHost
}

// socketPath is the unix socket path of the daemon, or "" when the daemon
// is not reached through a unix socket on this host.
func (s *session) socketPath() string {
	p, ok := strings.CutPrefix(s.host(), "unix://")
	if !ok {
		return ""
	}
	return p
}

func (s *session) serverVersion(ctx context.Context) (system.VersionResponse, error) {
	return s.version.get(ctx, func(ctx context.Context) (system.VersionResponse, error) {
		api, err := s.client()
		if err != nil {
			return system.VersionResponse{}, err
		}
		v, err := api.ServerVersion(ctx)
		if err != nil {
			return v, fmt.Errorf("GET /version from %s: %w", secret.RedactURL(s.host()), err)
		}
		return v, nil
	})
}

func (s *session) systemInfo(ctx context.Context) (system.Info, error) {
	return s.info.get(ctx, func(ctx context.Context) (system.Info, error) {
		api, err := s.client()
		if err != nil {
			return system.Info{}, err
		}
		i, err := api.Info(ctx)
		if err != nil {
			return i, fmt.Errorf("GET /info from %s: %w", secret.RedactURL(s.host()), err)
		}
		return i, nil
	})
}

// memo keeps the first answer of a call so that concurrent checks reading
// the same /info share one request. An error caused by the caller's own
// deadline or cancellation is not kept: another check, with its own
// deadline, may still get an answer.
type memo[T any] struct {
	mu   sync.Mutex
	done bool
	v    T
	err  error
}

func (m *memo[T]) get(ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.done {
		return m.v, m.err
	}
	v, err := f(ctx)
	if err == nil || ctx.Err() == nil {
		m.done, m.v, m.err = true, v, err
	}
	return v, err
}
