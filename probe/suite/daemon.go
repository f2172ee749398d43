package suite

import (
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/credentials"
	"github.com/runnerup/runnerup/probe/daemon"
	"github.com/runnerup/runnerup/probe/registry"
	"github.com/runnerup/runnerup/probe/service"
)

// daemonOptions adds to the plan's daemon checks what depends on the rest
// of the plan: the images (pulls, docker:dind pairs) and the runner found
// with the host checks.
func (p Plan) daemonOptions() daemon.Options {
	d := *p.Daemon
	if len(d.Jobs) == 0 && len(p.Images) > 0 {
		d.Jobs = []daemon.Job{daemon.JobOf("", p.Images)}
	}
	if p.Pull != nil && len(p.Images) > 0 {
		po := *p.Pull
		if len(po.Images) == 0 {
			po.Images = p.Images
		}
		if p.Credentials != nil && po.CredentialFrom == nil {
			po.CredentialsCheck, po.CredentialFrom = credentials.CheckID, pullAuthFrom
		}
		if po.CertsDir == "" {
			po.CertsDir = p.Registry.CertsDir
		}
		d.Pull = &po
	}
	switch {
	case p.Runner != nil:
		d.Runner = p.Runner
	case p.Fleet != nil:
		ro := &daemon.RunnerOptions{}
		if in, ok := service.Primary(p.Fleet.Installs); ok && p.Fleet.Detected {
			*ro = daemon.RunnerFromService(in)
		}
		ro.Registry = registry.Options{Transport: p.Registry.Transport, CertsDir: p.Registry.CertsDir}
		if p.Fleet.Config != nil {
			ro.Helpers = daemon.HelperSpecsOf(p.Fleet.Config.Runners)
		} else {
			ro.Helpers = daemon.HelperSpecs(p.Fleet.ConfigTOML)
		}
		d.Runner = ro
	}
	return d
}

// pullAuthFrom hands the credentials check's answer to the daemon's pull,
// as the runner would put it into X-Registry-Auth.
func pullAuthFrom(deps probe.Deps, host string) (*daemon.PullAuth, bool) {
	res, ok := probe.DataOf[credentials.Resolution](deps, credentials.CheckID(host))
	if !ok || !res.Found || res.Credential.Empty() {
		return nil, false
	}
	c := res.Credential
	return &daemon.PullAuth{ServerAddress: c.ServerAddress, Username: c.Username, Password: c.Password, IdentityToken: c.IdentityToken, Source: res.Source}, true
}
