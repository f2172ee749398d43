package daemon

import (
	"context"
	"errors"

	"github.com/moby/moby/api/types/system"

	"github.com/runnerup/runnerup/internal/secret"
	"github.com/runnerup/runnerup/probe"
)

// Facts is what runnerup knows about a daemon, for `diagnose` to say which
// side of a pull a fact came from (pull-failures §0.1). Proxy URLs are
// redacted.
type Facts struct {
	Host string // redacted

	OS, Arch, Variant string // GOOS/GOARCH spelling, from /version
	KernelVersion     string
	ServerVersion     string // "20.10.24"
	APIVersion        string // "1.41"
	MinAPIVersion     string // "1.12"; Docker 29: "1.44"

	RootDir, Driver string
	Rootless        bool

	HTTPProxy, HTTPSProxy, NoProxy string

	Registries probe.DaemonRegistries
}

// Gather reads /version and /info once and returns the Facts, using the
// same client rules as Checks. Whatever was read is returned with the
// error of what could not be.
func Gather(ctx context.Context, opts Options) (Facts, error) {
	s := newSession(opts)
	if _, err := s.client(); err != nil {
		return Facts{Host: secret.RedactURL(s.host())}, err
	}
	v, verr := s.serverVersion(ctx)
	info, ierr := s.systemInfo(ctx)
	var vp *system.VersionResponse
	if verr == nil {
		vp = &v
	}
	var ip *system.Info
	if ierr == nil {
		ip = &info
	}
	return factsOf(secret.RedactURL(s.host()), vp, ip), errors.Join(verr, ierr)
}

// factsOf fills Facts from whichever answers there are (nil: none).
func factsOf(host string, v *system.VersionResponse, info *system.Info) Facts {
	f := Facts{Host: host}
	if v != nil {
		p := platformOf(*v, info)
		f.OS, f.Arch, f.Variant = p.OS, p.Architecture, p.Variant
		f.KernelVersion, f.ServerVersion, f.APIVersion, f.MinAPIVersion = v.KernelVersion, v.Version, v.APIVersion, v.MinAPIVersion
	}
	if info != nil {
		if v == nil {
			f.OS, f.Arch = info.OSType, goarch(info.Architecture)
			f.KernelVersion, f.ServerVersion = info.KernelVersion, info.ServerVersion
		}
		f.RootDir, f.Driver = info.DockerRootDir, info.Driver
		f.Rootless = securityOptions(info.SecurityOptions)["rootless"]
		f.HTTPProxy, f.HTTPSProxy, f.NoProxy = secret.RedactURL(info.HTTPProxy), secret.RedactURL(info.HTTPSProxy), info.NoProxy
		f.Registries = registriesOf(info.RegistryConfig)
	}
	return f
}
