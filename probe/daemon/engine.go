package daemon

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"

	"github.com/docker/cli/cli/connhelper"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"

	"github.com/runnerup/runnerup/internal/secret"
	"github.com/runnerup/runnerup/probe/service"
)

// Engine is the Docker Engine client the probes use: github.com/moby/moby/client
// (the successor of github.com/docker/docker/client, and the client GitLab
// Runner 19.2+ uses), behind the narrow interfaces the checks declare (API,
// Puller, ImageInspector, service.ContainerAPI), so tests fake those
// without the client's option and result structs.
type Engine struct {
	c *client.Client
	// dialErr is the last error dialling a unix socket: the client keeps
	// only its text ("permission denied while trying to connect…"), and
	// daemon.permission needs the errno.
	dialErr atomic.Pointer[error]
	// sshHost is the ssh:// URL the client reaches through the docker
	// CLI's connection helper ("" otherwise); the client itself only
	// knows a placeholder host.
	sshHost string
}

var (
	_ API                  = (*Engine)(nil)
	_ Puller               = (*Engine)(nil)
	_ ImageInspector       = (*Engine)(nil)
	_ service.ContainerAPI = (*Engine)(nil)
)

// NewEngine makes a client for host ("" means DOCKER_HOST, else the
// platform's default socket), with DOCKER_TLS_VERIFY, DOCKER_CERT_PATH
// and DOCKER_API_VERSION from the environment; the client negotiates the
// API version by default. It does no I/O.
func NewEngine(host string) (*Engine, error) { return newEngine(host, nil, nil) }

// NewEngineForContext makes a client for the docker CLI context c: its
// endpoint and TLS material (DefaultContext: as NewEngine("")).
func NewEngineForContext(c CLIContext) (*Engine, error) {
	if c.Name == "" || c.Name == DefaultContext {
		if h := os.Getenv(client.EnvOverrideHost); isSSHHost(h) {
			return newSSHEngine(h)
		}
		return NewEngine("")
	}
	if isSSHHost(c.Host) {
		return newSSHEngine(c.Host)
	}
	opts, err := c.clientOpts()
	if err != nil {
		return nil, err
	}
	return newEngine(c.Host, opts, nil)
}

// isSSHHost is a Docker host reached over SSH (ssh://[user@]host[:port]).
func isSSHHost(host string) bool { return strings.HasPrefix(host, "ssh://") }

// newSSHEngine reaches an ssh:// host as the docker CLI does, through its
// connection helper (docker/cli cli/connhelper: `ssh … HOST docker system
// dial-stdio`, with this user's ssh and ~/.ssh/config); the Engine client
// alone would dial the URL as TCP. Only the docker CLI does this: GitLab
// Runner's client has no such helper.
func newSSHEngine(host string) (*Engine, error) {
	h, err := connhelper.GetConnectionHelper(host)
	if err != nil {
		return nil, fmt.Errorf("docker host %s: %w", secret.RedactURL(host), err)
	}
	c, err := client.New(client.WithAPIVersionFromEnv(),
		client.WithHTTPClient(&http.Client{Transport: &http.Transport{DialContext: h.Dialer}}),
		client.WithHost(h.Host), client.WithDialContext(h.Dialer))
	if err != nil {
		return nil, err
	}
	return &Engine{c: c, sshHost: host}, nil
}

// newEngine makes the client: hostOpts (a context's) or WithHost(host), and
// dial replacing the unix socket dialer (tests).
func newEngine(host string, hostOpts []client.Opt, dial func(ctx context.Context, network, addr string) (net.Conn, error)) (*Engine, error) {
	e := &Engine{}
	opts := []client.Opt{client.FromEnv}
	switch {
	case hostOpts != nil:
		opts = append(opts, hostOpts...)
	case host != "":
		opts = append(opts, client.WithHost(host))
	}
	if sock := unixSocket(host); sock != "" {
		if dial == nil {
			var d net.Dialer
			dial = func(ctx context.Context, _, _ string) (net.Conn, error) { return d.DialContext(ctx, "unix", sock) }
		}
		opts = append(opts, client.WithDialContext(func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dial(ctx, network, addr)
			if err != nil {
				e.dialErr.Store(&err)
			}
			return conn, err
		}))
	}
	c, err := client.New(opts...)
	if err != nil {
		return nil, err
	}
	e.c = c
	return e, nil
}

// unixSocket is the socket path the client will dial for host (DOCKER_HOST
// or the default when empty), or "" for other transports.
func unixSocket(host string) string {
	if host == "" {
		host = os.Getenv(client.EnvOverrideHost)
	}
	if host == "" {
		host = client.DefaultDockerHost
	}
	u, err := client.ParseHostURL(host)
	if err != nil || u.Scheme != "unix" {
		return ""
	}
	return u.Host
}

// withDialError gives a connection failure back its dial error, so
// errors.Is(err, fs.ErrPermission) works as with a plain dial.
func (e *Engine) withDialError(err error) error {
	if err == nil || !client.IsErrConnectionFailed(err) {
		return err
	}
	if d := e.dialErr.Load(); d != nil {
		return &dialFailure{err: err, dial: *d}
	}
	return err
}

// dialFailure is the client's connection failure plus the dial error
// behind it; its text stays the client's.
type dialFailure struct{ err, dial error }

func (d *dialFailure) Error() string   { return d.err.Error() }
func (d *dialFailure) Unwrap() []error { return []error{d.err, d.dial} }

// Close releases the client's idle connections.
func (e *Engine) Close() error { return e.c.Close() }

// DaemonHost is the address the client dials.
func (e *Engine) DaemonHost() string {
	if e.sshHost != "" {
		return e.sshHost
	}
	return e.c.DaemonHost()
}

// Ping asks /_ping and negotiates the API version with its answer, so the
// first versioned request needs no second ping. A daemon below the
// client's minimum (client.MinAPIVersion) answers the ping and fails the
// negotiation: the answer comes back with the error.
func (e *Engine) Ping(ctx context.Context) (client.PingResult, error) {
	p, err := e.c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	return p, e.withDialError(err)
}

// ServerVersion is GET /version. The client's result leaves out the
// engine's details (kernel, Go version, commit); they come back from the
// "Engine" component, where the daemon puts them too.
func (e *Engine) ServerVersion(ctx context.Context) (system.VersionResponse, error) {
	r, err := e.c.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return system.VersionResponse{}, e.withDialError(err)
	}
	v := system.VersionResponse{
		Platform: system.PlatformInfo{Name: r.Platform.Name}, Version: r.Version, APIVersion: r.APIVersion,
		MinAPIVersion: r.MinAPIVersion, Os: r.Os, Arch: r.Arch, Components: r.Components,
	}
	for _, c := range r.Components {
		if c.Name == "Engine" {
			v.KernelVersion, v.GoVersion, v.GitCommit, v.BuildTime = c.Details["KernelVersion"], c.Details["GoVersion"], c.Details["GitCommit"], c.Details["BuildTime"]
		}
	}
	return v, nil
}

// Info is GET /info.
func (e *Engine) Info(ctx context.Context) (system.Info, error) {
	r, err := e.c.Info(ctx, client.InfoOptions{})
	return r.Info, e.withDialError(err)
}

// ImagePull is POST /images/create; the caller reads and closes the
// progress stream.
func (e *Engine) ImagePull(ctx context.Context, ref string, options client.ImagePullOptions) (io.ReadCloser, error) {
	r, err := e.c.ImagePull(ctx, ref, options)
	if err != nil {
		return nil, e.withDialError(err)
	}
	return r, nil
}

// ImageInspect is GET /images/{ref}/json.
func (e *Engine) ImageInspect(ctx context.Context, ref string) (image.InspectResponse, error) {
	r, err := e.c.ImageInspect(ctx, ref)
	return r.InspectResponse, e.withDialError(err)
}

// ContainerList is GET /containers/json (all: stopped ones too).
func (e *Engine) ContainerList(ctx context.Context, all bool) ([]container.Summary, error) {
	r, err := e.c.ContainerList(ctx, client.ContainerListOptions{All: all})
	return r.Items, e.withDialError(err)
}

// ContainerInspect is GET /containers/{id}/json.
func (e *Engine) ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error) {
	r, err := e.c.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	return r.Container, e.withDialError(err)
}

// IsConnectionFailed says the daemon could not be reached at all.
func IsConnectionFailed(err error) bool { return client.IsErrConnectionFailed(err) }

// DefaultHost is where the client dials without DOCKER_HOST.
const DefaultHost = client.DefaultDockerHost
