package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/versions"

	"github.com/runnerup/runnerup/internal/secret"
	"github.com/runnerup/runnerup/probe"
)

// reachability is daemon.reachable's Data: the ping's answer or error, so
// daemon.permission can explain an EACCES without pinging again.
type reachability struct {
	Host string // redacted
	Ping client.PingResult
	Err  error
}

func (s *session) checkReachable(ctx context.Context, _ probe.Deps) probe.Result {
	api, err := s.client()
	host := secret.RedactURL(s.host())
	if err != nil {
		r := probe.Failf("fix DOCKER_HOST (unix:///var/run/docker.sock, tcp://HOST:2376), DOCKER_CERT_PATH and DOCKER_TLS_VERIFY, or the runner's [runners.docker] host",
			"cannot use the Docker host %s: %v", host, err)
		if ce := (*ContextError)(nil); errors.As(err, &ce) {
			// No host was chosen: the context naming one is the problem.
			r = probe.Failf(ce.Fix(), "cannot use the docker CLI's context: %v", ce)
		}
		r.Data = reachability{Host: host, Err: err}
		return r
	}
	ping, err := api.Ping(ctx)
	r := s.pingResult(ctx, host, ping, err)
	r.Data = reachability{Host: host, Ping: ping, Err: err}
	return r
}

// pingResult maps the ping's outcome to a result. The Engine client wraps
// dial errors in its own connection-failed type: EACCES stays inspectable
// through errors.Is, ENOENT and ECONNREFUSED are flattened into "Cannot
// connect…", so for a unix socket the reason comes from stat'ing it.
func (s *session) pingResult(ctx context.Context, host string, ping client.PingResult, err error) probe.Result {
	switch {
	case err == nil:
		detail := "the Docker daemon at " + host + " answers"
		if s.cliContext != "" {
			detail = fmt.Sprintf("the Docker daemon at %s (docker context %q) answers", host, s.cliContext)
		}
		var facts []string
		if ping.APIVersion != "" {
			facts = append(facts, "API "+ping.APIVersion)
		}
		if ping.OSType != "" {
			facts = append(facts, ping.OSType)
		}
		if len(facts) > 0 {
			detail += " (" + strings.Join(facts, ", ") + ")"
		}
		return probe.Passf("%s", detail)
	case ping.APIVersion != "" && versions.LessThan(ping.APIVersion, client.MinAPIVersion):
		// The ping answered; the client refused to negotiate down to it.
		return probe.Failf("upgrade the Docker Engine to 20.10 or newer: GitLab Runner 19.2+ (github.com/moby/moby/client) cannot use this daemon either",
			"the Docker daemon at %s speaks API %s, older than %s, the oldest the Engine client of runnerup and of GitLab Runner 19.2+ accepts", host, ping.APIVersion, client.MinAPIVersion)
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		// probe.Run adds the "raise --timeout" hint.
		return probe.Failf("", "no answer from the Docker daemon at %s: %v", host, err)
	case errors.Is(err, fs.ErrPermission):
		return probe.Failf(fmt.Sprintf("this user may not use the daemon's socket; %s says which group to join", IDPermission),
			"permission denied while trying to connect to the Docker daemon socket at %s", host)
	case IsConnectionFailed(err):
		return s.unreachable(host, err)
	default:
		return probe.Failf(fmt.Sprintf("check that %s is a Docker Engine API endpoint (DOCKER_HOST, [runners.docker] host) and that nothing between rewrites the traffic", host),
			"the Docker daemon at %s did not answer /_ping properly: %v", host, err)
	}
}

// unreachable explains a connection failure: for a unix socket whether it
// exists and is a socket; otherwise the client's own words.
func (s *session) unreachable(host string, err error) probe.Result {
	const start = "start the daemon (`sudo systemctl enable --now docker`; its log: `journalctl -u docker`)"
	path := s.socketPath()
	if path == "" {
		reason := err.Error()
		if strings.HasPrefix(reason, "Cannot connect to the Docker daemon") {
			reason = "nothing answered"
		}
		return probe.Failf(start+" or point DOCKER_HOST / [runners.docker] host at it; Docker-in-Docker with TLS listens on tcp://docker:2376 (DOCKER_TLS_VERIFY=1, DOCKER_CERT_PATH=/certs/client), without TLS on tcp://docker:2375",
			"Cannot connect to the Docker daemon at %s: %s", host, reason)
	}
	hint := start + ", or set DOCKER_HOST (the runner: [runners.docker] host) to the daemon's socket"
	if alt := rootlessSocket(); alt != "" && alt != path {
		hint = fmt.Sprintf("a rootless daemon listens on %s: `export DOCKER_HOST=unix://%s` (the runner: [runners.docker] host); or %s", alt, alt, start)
	}
	var reason string
	fi, statErr := os.Stat(path)
	switch {
	case errors.Is(statErr, fs.ErrNotExist):
		reason = "no socket at " + path
	case statErr != nil:
		reason = fmt.Sprintf("cannot stat %s: %v", path, statErr)
	case fi.Mode().Type() != fs.ModeSocket:
		reason = path + " exists but is not a socket"
		hint = "point DOCKER_HOST (the runner: [runners.docker] host) at the daemon's socket; " + start
	default:
		reason = "nothing is listening on " + path + " (a stopped daemon's socket is left behind)"
	}
	return probe.Failf(hint, "Cannot connect to the Docker daemon at %s: %s", host, reason)
}

// rootlessSocket is the socket a rootless dockerd of this user would make,
// when it exists: a common reason the default socket is missing.
func rootlessSocket() string {
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		return ""
	}
	p := filepath.Join(dir, "docker.sock")
	if fi, err := os.Stat(p); err == nil && fi.Mode().Type() == fs.ModeSocket {
		return p
	}
	return ""
}
