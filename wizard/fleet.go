package wizard

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/runnerup/runnerup/internal/gitlab"
	"github.com/runnerup/runnerup/internal/imageref"
	"github.com/runnerup/runnerup/internal/secret"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/fleet"
	"github.com/runnerup/runnerup/probe/service"
	"github.com/runnerup/runnerup/render"
)

// DetectFunc finds the gitlab-runner services of this host; dockerHost is
// the daemon to look for runner containers on ("" = the default). The CLI
// passes service.Detect with a real Docker client; tests pass fakes.
type DetectFunc func(ctx context.Context, dockerHost string) ([]service.Install, error)

// FindingTokenRotated: config.toml holds another token than the answers
// for the runner apply writes; it is kept (the runner rotates its token
// and writes it back, gitlab-runner multi.go resetRunnerTokens).
const FindingTokenRotated = "runner.token-rotated"

// RotatedID is the check id of that finding.
func RotatedID(name string) string { return "runner." + name + ".token-on-disk" }

// rotatedResult is the finding for an entry whose token on disk is not
// the answers' one.
func rotatedResult(a *Answers, existing *render.ExistingRunner) *probe.Result {
	return &probe.Result{ID: RotatedID(existing.Name), Title: "Runner token on disk", Status: probe.Warn, Finding: FindingTokenRotated,
		Detail: fmt.Sprintf("config.toml holds a different token (%s) for runner %q than the answers (%s); the runner probably rotated it, so it is kept and checked instead", secret.Token(existing.Token), existing.Name, secret.Token(a.GitLab.Token)),
		Hint:   "pass --replace-token to write the answers' token on purpose; update the answers (or your config management) so they stop carrying the old token"}
}

// reportNow streams a result made outside probe.Run, as Run would.
func reportNow(r probe.Result, opts ProbeOptions) probe.Result {
	if opts.OnResult != nil {
		opts.OnResult(r)
	}
	return r
}

// NoDockerDaemon as DetectFunc's dockerHost asks it to look at no Docker
// daemon (systemd, launchd, Windows services only): the daemon is reached
// over the network, and apply is --offline or has not read its local
// inputs yet.
const NoDockerDaemon = "none:"

// serviceScan is what detection found.
type serviceScan struct {
	detected bool
	installs []service.Install
	err      error
	// remoteHost is the networked Docker daemon not asked yet for a
	// gitlab-runner container (scanLocal; scanRemote asks it).
	remoteHost string
}

// scanLocal is scanService without the network: a Docker daemon reached
// over TCP or SSH (dockerHost, else DOCKER_HOST) is left for scanRemote,
// which apply calls once every local input is read (never with Offline).
// The services found here are the path defaults; a container on a remote
// daemon reads that host's files, not this one's, so it never is.
func scanLocal(ctx context.Context, opts *ApplyOptions, dockerHost string) serviceScan {
	remote := networkedDockerHost(dockerHost, opts.Env)
	if remote == "" {
		return scanService(ctx, opts, dockerHost)
	}
	scan := scanService(ctx, opts, NoDockerDaemon)
	scan.remoteHost = remote
	return scan
}

// scanRemote asks the networked Docker daemon scanLocal left out for a
// gitlab-runner container; Offline asks nothing and says so.
func (l *loaded) scanRemote(ctx context.Context, opts ApplyOptions) {
	host := l.scan.remoteHost
	if host == "" || !l.scan.detected {
		return
	}
	if opts.Offline {
		l.warnings = append(l.warnings, FieldError{Field: "service", Warning: true,
			Problem: fmt.Sprintf("the Docker daemon at %s was not asked for a gitlab-runner container (--offline contacts nothing)", secret.RedactURL(host)),
			Fix:     "run apply without --offline to look there too"})
		return
	}
	// opts is a copy: a remote container's paths are not this host's, so
	// the path defaults load chose stay.
	l.scan = scanService(ctx, &opts, dockerHost(host))
}

// dockerHost is what DetectFunc gets for host: "" when it came from
// DOCKER_HOST (the detector reads it itself).
func dockerHost(host string) string {
	if strings.HasPrefix(host, "env:") {
		return ""
	}
	return host
}

// networkedDockerHost returns the Docker daemon dockerHost (else the
// environment's DOCKER_HOST, then prefixed "env:") names when it is
// reached over the network (tcp://, ssh://, http(s)://); "" for the local
// socket (unix://, npipe://, or none).
func networkedDockerHost(dockerHost string, env Env) string {
	host, prefix := dockerHost, ""
	if host == "" && env != nil {
		host, _ = env("DOCKER_HOST")
		prefix = "env:"
	}
	scheme, _, ok := strings.Cut(strings.TrimSpace(host), "://")
	if !ok {
		return ""
	}
	switch strings.ToLower(scheme) {
	case "unix", "npipe", "fd":
		return ""
	}
	return prefix + host
}

// scanService runs detection (bounded by the per-check timeout) and makes
// the service's files the path defaults.
func scanService(ctx context.Context, opts *ApplyOptions, dockerHost string) serviceScan {
	if opts.DetectService == nil {
		return serviceScan{}
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	installs, err := opts.DetectService(dctx, dockerHost)
	if primary, ok := service.Primary(installs); ok {
		opts.Paths.Service = &primary
	}
	return serviceScan{detected: true, installs: installs, err: err}
}

// fleetMode says which command builds the fleet checks.
type fleetMode int

const (
	fleetApply   fleetMode = iota // apply and the wizard: stale entries warn
	fleetProbe                    // probe --answers: no verify of other entries
	fleetInspect                  // probe --config and check --online: stale entries fail
)

// fleetOptions are the host checks for answers being applied to paths;
// target is the answers' entry in oldTOML's [[runners]] (-1: new), which
// the entry checks leave to the runner's own checks.
func (a *Answers) fleetOptions(paths Paths, oldTOML []byte, scan serviceScan, opts ApplyOptions, mode fleetMode, target int) *fleet.Options {
	f := &fleet.Options{
		ConfigPath: paths.ConfigTOML, ConfigTOML: oldTOML,
		Detected: scan.detected, Installs: scan.installs, DetectErr: scan.err,
		SystemIDDir: filepath.Dir(paths.ConfigTOML), MachineID: opts.MachineID,
		ShellEnv:  opts.Env,
		GitLabURL: a.GitLab.URL,
	}
	if UsesDocker(a.Runner.Executor) {
		f.DockerConfigPath = filepath.Join(paths.DockerConfigDir, "config.json")
		f.WritesDockerConfig = a.WritesDockerConfig()
		f.RegistryHosts = registryHosts(a.Images())
	}
	f.Runners = fleet.RunnerOptions{Enabled: true, Skip: func(r fleet.Runner) bool { return r.Index == target }, Now: opts.Now, StaleStatus: probe.Warn}
	if mode == fleetApply && (opts.PruneStale || opts.CheckStale) || mode == fleetInspect {
		f.Runners.Verify = entryVerifier(opts)
	}
	if mode == fleetInspect {
		f.Runners.StaleStatus = probe.Fail
	}
	return f
}

func registryHosts(images []string) []string {
	var hosts []string
	for _, img := range images {
		if h, err := imageref.Host(img); err == nil && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// entryVerifier verifies a [[runners]] entry with this host's system id,
// as the runner itself would (no extra runner manager appears in GitLab).
func entryVerifier(opts ApplyOptions) func(context.Context, fleet.Runner) error {
	return func(ctx context.Context, r fleet.Runner) error {
		gopts := gitlab.Options{CAFile: r.TLSCAFile, HTTPClient: opts.HTTPClient, UserAgent: "runnerup"}
		var api RunnerAPI
		var err error
		if opts.NewGitLab != nil {
			api, err = opts.NewGitLab(r.URL, gopts)
		} else {
			api, err = gitlab.New(r.URL, gopts)
		}
		if err != nil {
			return err
		}
		_, err = api.Verify(ctx, r.Token, opts.systemID)
		if errors.Is(err, gitlab.ErrTokenInvalid) || errors.Is(err, gitlab.ErrOrphaned) {
			return fmt.Errorf("%w (%v)", fleet.ErrStale, err)
		}
		return err
	}
}

func sameURL(a, b string) bool {
	return strings.TrimRight(a, "/") == strings.TrimRight(b, "/")
}

// Service actions: what next_steps ask of the gitlab-runner service, as one
// word for automation (the Ansible role's handler) that must not parse the
// prose. A restart also starts a stopped service.
const (
	ServiceActionNone    = "none"    // nothing changed, or the running service reloads config.toml
	ServiceActionStart   = "start"   // the service is (or may be) stopped
	ServiceActionRestart = "restart" // it runs with the old system id
	ServiceActionManual  = "manual"  // no service reads this file: install or re-point one
)

// nextSteps says what to do after apply for the install kind found, and
// the service action those steps ask for.
func nextSteps(res *ApplyResult, svc *service.Install, detected bool) ([]string, string) {
	if !res.Changed {
		return nil, ServiceActionNone
	}
	// Commands are in backticks and come last, so a terminal can show
	// each one whole on its own line (the wizard does).
	path := res.ConfigTOML.Path
	switch {
	case !detected:
		return []string{"a running gitlab-runner reloads config.toml within 3 s; if it is not running, start it: `gitlab-runner start` or `systemctl restart gitlab-runner`"}, ServiceActionStart
	case svc == nil:
		return []string{fmt.Sprintf("no gitlab-runner service was found: install one that reads %s, or run the gitlab/gitlab-runner image with its directory mounted: `sudo gitlab-runner install --user gitlab-runner --working-directory /home/gitlab-runner --config %s && sudo gitlab-runner start` or `docker run -d --name gitlab-runner --restart always -v %s:/etc/gitlab-runner -v /var/run/docker.sock:/var/run/docker.sock gitlab/gitlab-runner:latest`", path, path, filepath.Dir(path))}, ServiceActionManual
	case svc.ConfigPath != "" && !fleet.SamePath(svc.ConfigPath, path):
		return []string{fmt.Sprintf("%s reads %s, not %s: point its --config at this file, or apply again with --config %s", svc.Name, svc.ConfigPath, path, svc.ConfigPath)}, ServiceActionManual
	case !svc.Running && svc.State == "unknown":
		return []string{fmt.Sprintf("if %s runs, it reloads config.toml within 3 s; otherwise start it: `%s`", svc.Name, svc.RestartCommand)}, ServiceActionStart
	case !svc.Running:
		return []string{fmt.Sprintf("%s is not running; start it: `%s`", svc.Name, svc.RestartCommand)}, ServiceActionStart
	case res.SystemID != nil && !res.SystemID.Created:
		return []string{fmt.Sprintf("restart %s so that it uses the new system id: `%s`", svc.Name, svc.RestartCommand)}, ServiceActionRestart
	}
	return []string{fmt.Sprintf("%s is running and reloads config.toml within 3 s, no restart needed; a change of listen_address needs `%s`", svc.Name, svc.RestartCommand)}, ServiceActionNone
}
