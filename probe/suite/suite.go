// Package suite assembles runnerup's live checks — GitLab, the Docker
// daemon, credential resolution and every registry and image — into one
// dependency graph for probe.Run.
package suite

import (
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/credentials"
	"github.com/runnerup/runnerup/probe/daemon"
	"github.com/runnerup/runnerup/probe/fleet"
	"github.com/runnerup/runnerup/probe/registry"
)

// Plan says what to probe. Nil parts are not probed.
type Plan struct {
	GitLab    *probe.GitLabTarget
	GitLabEnv probe.GitLabEnv
	// Daemon is the Docker daemon the runner will use; needed whenever
	// Images are probed (platform, insecure registries).
	Daemon *daemon.Options
	Images []string
	// Credentials resolves each image's credentials as the runner will;
	// nil probes registries anonymously.
	Credentials *credentials.Resolver
	// Registry holds the registry checks' transport and overrides; the
	// credential wiring is filled in by Checks.
	Registry registry.Options
	// Fleet holds the checks of the host's runner set-up: the service and
	// the files it reads, proxies, system id, other [[runners]] entries.
	Fleet *fleet.Options
	// Pull adds image.<ref>.pull for every image: the daemon itself pulls
	// it with the runner's X-Registry-Auth (it downloads layers).
	Pull *daemon.PullOptions
	// Runner locates the installed gitlab-runner for the Docker API and
	// helper image checks; nil with Fleet set: the service's (else PATH's).
	Runner *daemon.RunnerOptions
}

// Checks returns every check of the plan, wired so that each waits only
// for what it needs: an image manifest waits for its registry's auth,
// which waits for that host's credentials, not for GitLab.
func (p Plan) Checks() []probe.Check {
	var checks []probe.Check
	if p.GitLab != nil {
		checks = append(checks, probe.GitLabChecks(*p.GitLab, p.GitLabEnv)...)
	}
	if p.Daemon != nil {
		checks = append(checks, daemon.Checks(p.daemonOptions())...)
	}
	if len(p.Images) > 0 {
		ropts := p.Registry
		if p.Credentials != nil {
			checks = append(checks, credentials.Checks(*p.Credentials, p.Images)...)
			ropts.CredentialsCheck = credentials.CheckID
			ropts.CredentialFrom = credentialFrom
		}
		checks = append(checks, registry.Checks(p.Images, ropts)...)
	}
	if p.Fleet != nil {
		// Last: they are about the host around the runner, read after the
		// checks of what the user just answered.
		f := *p.Fleet
		f.DaemonProxy = p.Daemon != nil
		checks = append(checks, fleet.Checks(f)...)
	}
	return pruneNeeds(checks)
}

// pruneNeeds drops dependencies on checks that are not in the set (an
// image whose host the credentials package spells differently, say), so
// a lookup mismatch degrades to "probed without that fact" instead of
// failing the whole run.
func pruneNeeds(checks []probe.Check) []probe.Check {
	ids := make(map[string]bool, len(checks))
	for _, c := range checks {
		ids[c.ID] = true
	}
	keep := func(list []string) []string {
		kept := list[:0:0]
		for _, n := range list {
			if ids[n] {
				kept = append(kept, n)
			}
		}
		return kept
	}
	for i := range checks {
		checks[i].Needs = keep(checks[i].Needs)
		checks[i].NeedsEarly = keep(checks[i].NeedsEarly)
		checks[i].Later = keep(checks[i].Later)
	}
	return checks
}

// credentialFrom hands the credentials check's answer to the registry's
// auth check.
func credentialFrom(deps probe.Deps, host string) (registry.Credential, bool) {
	res, ok := probe.DataOf[credentials.Resolution](deps, credentials.CheckID(host))
	if !ok || !res.Found || res.Credential.Empty() {
		return registry.Credential{}, false
	}
	c := res.Credential
	return registry.Credential{Username: c.Username, Password: c.Password, IdentityToken: c.IdentityToken, Source: res.Source}, true
}
