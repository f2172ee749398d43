package daemon

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	"github.com/docker/cli/cli/config/configfile"
	dockercontext "github.com/docker/cli/cli/context"
	"github.com/docker/cli/cli/context/store"
	"github.com/docker/go-connections/tlsconfig"
	"github.com/moby/moby/client"
)

// DefaultContext is the docker CLI's context without a store entry:
// DOCKER_HOST, else the platform's default socket.
const DefaultContext = "default"

// CLIContext is the docker CLI's current context for this user.
type CLIContext struct {
	// Name is the context's name; DefaultContext means "no context".
	Name string
	// Host is the context's Docker endpoint ("" for DefaultContext).
	Host          string
	SkipTLSVerify bool
	// TLSDir holds the endpoint's ca.pem, cert.pem and key.pem, when the
	// context has any.
	TLSDir string
}

// ResolveCLIContext picks the context `docker` would use, as docker/cli's
// resolveContextName does (cli/command/cli.go): a set DOCKER_HOST means
// the default context; else DOCKER_CONTEXT; else currentContext in
// config.json of the docker config directory (DOCKER_CONFIG, else
// ~/.docker under home); else the default. A named context is read from
// the CLI's own context store (docker/cli cli/context/store).
func ResolveCLIContext(getenv func(string) string, home string) (CLIContext, error) {
	if getenv("DOCKER_HOST") != "" {
		return CLIContext{Name: DefaultContext}, nil
	}
	dir := getenv("DOCKER_CONFIG")
	if dir == "" {
		dir = filepath.Join(home, ".docker")
	}
	name, from := getenv("DOCKER_CONTEXT"), "DOCKER_CONTEXT"
	if name == "" {
		from = filepath.Join(dir, "config.json")
		cur, err := currentContext(from)
		if err != nil {
			return CLIContext{}, err
		}
		name = cur
	}
	if name == "" || name == DefaultContext {
		return CLIContext{Name: DefaultContext}, nil
	}
	s := store.New(filepath.Join(dir, "contexts"), store.NewConfig(
		func() any { return &map[string]any{} },
		store.EndpointTypeGetter("docker", func() any { return &dockercontext.EndpointMetaBase{} }),
	))
	meta, err := s.GetMetadata(name)
	if err != nil {
		return CLIContext{}, &ContextError{Name: name, From: from, NotFound: errdefs.IsNotFound(err), Err: err}
	}
	var ep dockercontext.EndpointMetaBase
	switch v := meta.Endpoints["docker"].(type) {
	case dockercontext.EndpointMetaBase:
		ep = v
	case *dockercontext.EndpointMetaBase:
		ep = *v
	default:
		return CLIContext{}, &ContextError{Name: name, From: from, Err: errors.New("it has no docker endpoint")}
	}
	c := CLIContext{Name: name, Host: ep.Host, SkipTLSVerify: ep.SkipTLSVerify}
	if files, err := s.ListTLSFiles(name); err == nil && len(files["docker"]) > 0 {
		c.TLSDir = filepath.Join(s.GetStorageInfo(name).TLSPath, "docker")
	}
	return c, nil
}

// ContextError is a docker CLI context that cannot be used: named by
// DOCKER_CONTEXT or by currentContext in config.json (From), and missing
// from the CLI's context store or without a docker endpoint.
type ContextError struct {
	Name, From string
	NotFound   bool
	Err        error
}

func (e *ContextError) Error() string {
	from := e.From
	if from != "DOCKER_CONTEXT" {
		from = "currentContext in " + from
	}
	if e.NotFound {
		// The store's own error only adds a path inside it.
		return fmt.Sprintf("docker context %q (%s) does not exist", e.Name, from)
	}
	return fmt.Sprintf("docker context %q (%s): %v", e.Name, from, e.Err)
}

func (e *ContextError) Unwrap() error { return e.Err }

// Fix says how to get a usable context.
func (e *ContextError) Fix() string {
	if e.From == "DOCKER_CONTEXT" {
		return "run `docker context ls` to see this user's contexts; set DOCKER_CONTEXT to one of them, or unset it to use the default"
	}
	return fmt.Sprintf("run `docker context ls` to see this user's contexts, then `docker context use NAME` (or `docker context use default`); %s names %q", e.From, e.Name)
}

// currentContext is config.json's currentContext ("" without the file).
func currentContext(path string) (string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	cf := configfile.New(path)
	if err := cf.LoadFromReader(f); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return cf.CurrentContext, nil
}

// clientOpts are the Engine client options that reach c's endpoint, with
// its TLS material.
func (c CLIContext) clientOpts() ([]client.Opt, error) {
	var opts []client.Opt
	if c.TLSDir != "" || c.SkipTLSVerify {
		o := tlsconfig.Options{InsecureSkipVerify: c.SkipTLSVerify, ExclusiveRootPools: true, MinVersion: tls.VersionTLS12}
		if c.TLSDir != "" {
			for name, dst := range map[string]*string{"ca.pem": &o.CAFile, "cert.pem": &o.CertFile, "key.pem": &o.KeyFile} {
				if p := filepath.Join(c.TLSDir, name); fileExists(p) {
					*dst = p
				}
			}
		}
		cfg, err := tlsconfig.Client(o)
		if err != nil {
			return nil, fmt.Errorf("docker context %q TLS: %w", c.Name, err)
		}
		// Before WithHost, which fits this transport to the host's scheme.
		opts = append(opts, client.WithHTTPClient(&http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}))
	}
	return append(opts, client.WithHost(c.Host)), nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
