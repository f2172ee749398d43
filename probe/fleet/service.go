package fleet

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/service"
)

func serviceChecks(o Options) []probe.Check {
	primary, found := service.Primary(o.Installs)
	install := probe.Check{ID: IDServiceInstall, Title: "GitLab Runner service", Run: func(context.Context, probe.Deps) probe.Result {
		if !found {
			if o.DetectErr != nil {
				return probe.Skipf("no gitlab-runner service found (%v)", o.DetectErr)
			}
			return probe.Skipf("no gitlab-runner service found (systemd units, containers on the Docker daemon); install one with `gitlab-runner install` or run the gitlab/gitlab-runner image")
		}
		detail := primary.Summary()
		if len(o.Installs) > 1 {
			others := make([]string, 0, len(o.Installs)-1)
			for _, in := range o.Installs[1:] {
				others = append(others, in.Summary())
			}
			detail += "; also found: " + strings.Join(others, "; ")
		}
		if primary.State == "unknown" {
			return probe.Passf("%s; whether it runs cannot be told here (no systemd or daemon answer)", detail)
		}
		if !primary.Running {
			r := probe.Warnf("start it: "+primary.RestartCommand, "%s; it is not running, so no job will run", detail)
			r.Finding = FindingServiceNotRunning
			return r
		}
		return probe.Passf("%s", detail)
	}}
	checks := []probe.Check{install}
	if o.ConfigPath != "" {
		checks = append(checks, probe.Check{ID: IDServiceConfigPath, Title: "Config file the service reads", Needs: []string{IDServiceInstall}, RunAfterFailure: true,
			Run: func(context.Context, probe.Deps) probe.Result {
				switch {
				case !found:
					return probe.Skipf("no service found to compare with")
				case primary.ConfigPath == "" && primary.Kind != service.Container:
					r := probe.Warnf(fmt.Sprintf("look at how it starts (systemctl cat %s) and pass --config with the file it reads", primary.Name),
						"%s starts GitLab Runner in a way that does not show which config.toml it reads (a wrapper script?), so whether it reads %s is unknown", primary.Name, o.ConfigPath)
					r.Finding = FindingConfigPathUnknown
					return r
				case primary.ConfigPath == "":
					r := probe.Warnf("mount a host directory at /etc/gitlab-runner (docker run -v /srv/gitlab-runner/config:/etc/gitlab-runner …) and pass --config for its config.toml",
						"%s reads a config.toml inside the container that no host directory backs: %s is not what it reads, and whatever register writes there is lost with the container", primary.Name, o.ConfigPath)
					r.Finding = FindingConfigInContainer
					return r
				case SamePath(primary.ConfigPath, o.ConfigPath):
					return probe.Passf("%s reads %s, the file runnerup uses", primary.Name, o.ConfigPath)
				}
				r := probe.Warnf(fmt.Sprintf("use --config %s (runnerup's default when it finds the service), or change the service's --config", primary.ConfigPath),
					"%s reads %s, but runnerup uses %s: the service will not see these changes", primary.Name, primary.ConfigPath, o.ConfigPath)
				r.Finding = FindingConfigPathDiffers
				return r
			}})
	}
	if o.DockerConfigPath != "" {
		checks = append(checks, probe.Check{ID: IDServiceDockerConfig, Title: "Docker config.json the runner reads", Needs: []string{IDServiceInstall}, RunAfterFailure: true,
			Run: func(context.Context, probe.Deps) probe.Result {
				switch {
				case !found:
					return probe.Skipf("no service found to compare with")
				case primary.DockerConfigPath == "" && primary.Kind == service.Container && o.WritesDockerConfig:
					r := probe.Warnf("put the credentials in the runner's environment instead (registries target \"runner-env\": DOCKER_AUTH_CONFIG), or mount a host directory at /root/.docker and pass --docker-config with it",
						"%s reads $HOME/.docker/config.json inside the container, which no host directory backs: the credentials written to %s never reach it", primary.Name, o.DockerConfigPath)
					r.Finding = FindingDockerConfigInContainer
					return r
				case primary.DockerConfigPath == "":
					return probe.Skipf("%s runs as %s, whose home is unknown here; GitLab Runner reads $HOME/.docker/config.json of that user", primary.Name, primary.User)
				case SamePath(primary.DockerConfigPath, o.DockerConfigPath):
					return probe.Passf("%s runs as %s and reads %s, the file runnerup uses", primary.Name, primary.User, o.DockerConfigPath)
				}
				r := probe.Warnf(fmt.Sprintf("use --docker-config %s, or put the credentials in the runner's environment as DOCKER_AUTH_CONFIG", filepath.Dir(primary.DockerConfigPath)),
					"%s runs as %s and reads %s, but runnerup uses %s: its jobs will not get these registry credentials", primary.Name, primary.User, primary.DockerConfigPath, o.DockerConfigPath)
				r.Finding = FindingDockerConfigDiffers
				return r
			}})
	}
	return checks
}

// SamePath compares two paths as the filesystem sees them: symlinks
// resolved where they exist.
func SamePath(a, b string) bool {
	if runtime.GOOS == "windows" {
		// NTFS and the runner's own path handling ignore case.
		return strings.EqualFold(canonical(a), canonical(b))
	}
	return canonical(a) == canonical(b)
}

func canonical(p string) string {
	p = filepath.Clean(p)
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	// The file may not exist yet: resolve the nearest existing parent.
	rest := ""
	for dir := p; ; {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return p
		}
		rest = filepath.Join(filepath.Base(dir), rest)
		dir = parent
	}
}
