package registry

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/runnerup/runnerup/probe"
)

// hostProbe holds what the checks of one registry host share.
type hostProbe struct {
	host    string   // NormalizeHost form
	repos   []string // repository paths, for the token scope
	opts    Options
	witness *witness // nil: no manifest checks report to this auth check
}

// HostChecks returns registry.<host>.tls and registry.<host>.auth.
//
// tls: GET /v2/ as the daemon would (HTTPS with system roots + certs.d;
// insecure registries also without verification, then plain HTTP); it
// Needs probe.IDDaemonRegistries unless Options.Insecure is set. auth: the
// 401 challenge answered with the credential Options.CredentialFrom
// resolves (Basic: an authenticated GET /v2/; Bearer: a token for
// repository:<repo>:pull for repos). repos should name every repository the
// images on this host use (Checks does that): the token is reused by their
// manifest checks, and for realms fetched without go-containerregistry (see
// ggcrAcceptsRealm) it is not refreshed for other repositories. Data:
// Connection (tls), Auth (auth), or Failure.
func HostChecks(host string, repos []string, opts Options) []probe.Check {
	opts = opts.withLimiter()
	h := hostProbe{host: NormalizeHost(host), repos: repos, opts: opts}
	h.witness = opts.witnesses.forHost(h.host)
	tls := probe.Check{
		ID:    TLSID(h.host),
		Title: fmt.Sprintf("registry %s: connection (TLS / HTTP)", h.host),
		Run:   h.runTLS,
	}
	if opts.Insecure == nil {
		// Only a failed verified-HTTPS attempt needs the daemon's insecure
		// list, so the check does not wait for it up front.
		tls.Later = []string{probe.IDDaemonRegistries}
	}
	auth := probe.Check{
		ID:    AuthID(h.host),
		Title: fmt.Sprintf("registry %s: credentials", h.host),
		Needs: []string{TLSID(h.host)},
		Run:   h.runAuth,
	}
	if opts.CredentialsCheck != nil {
		auth.Needs = append(auth.Needs, opts.CredentialsCheck(h.host))
		// A failed credentials source still leaves a pull to probe; the
		// tls dependency is checked by runAuth itself.
		auth.RunAfterFailure = true
	}
	return []probe.Check{tls, auth}
}

// ImageChecks returns image.<ref>.manifest (NeedsEarly registry.<host>.auth) and
// image.<ref>.platform (Needs the manifest check and, unless
// Options.Platform is set, probe.IDDaemonPlatform). A reference that does
// not parse gives one failing manifest check (invalid-reference).
func ImageChecks(ref string, opts Options) []probe.Check {
	im, err := parseImage(ref)
	if err != nil {
		return []probe.Check{{
			ID:    ManifestID(ref),
			Title: fmt.Sprintf("image %s: manifest", ref),
			Run: func(context.Context, probe.Deps) probe.Result {
				return failed(Failure{Cause: CauseInvalidReference, Ref: ref},
					"write the image as [host[:port]/]path[:tag][@digest] in lower case", "%v", err)
			},
		}}
	}
	ip := imageProbe{im: im, opts: opts, witness: opts.witnesses.forHost(im.host)}
	platformNeeds := []string{ManifestID(im.ref)}
	if opts.Platform == nil {
		platformNeeds = append(platformNeeds, probe.IDDaemonPlatform)
	}
	return []probe.Check{
		{
			ID:    ManifestID(im.ref),
			Title: fmt.Sprintf("image %s: manifest", im.ref),
			// The auth check provides its transport before it has
			// verified a Basic credential; the manifest is asked for
			// meanwhile, and skipped if the verification fails.
			NeedsEarly: []string{AuthID(im.host)},
			Run:        ip.runManifest,
		},
		{
			ID:    PlatformID(im.ref),
			Title: fmt.Sprintf("image %s: platform", im.ref),
			Needs: platformNeeds,
			Run:   ip.runPlatform,
		},
	}
}

// Checks returns the checks for a set of images: HostChecks once per
// registry host (with every repository of that host in the token scope)
// and ImageChecks once per distinct reference, in a stable order.
func Checks(refs []string, opts Options) []probe.Check {
	opts = opts.withLimiter()
	repos := map[string][]string{}
	var hosts, order []string
	seen := map[string]bool{}
	witnesses := &witnesses{byHost: map[string]*witness{}}
	opts.witnesses = witnesses
	for _, ref := range refs {
		im, err := parseImage(ref)
		key := ref
		if err == nil {
			key = im.ref
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		order = append(order, ref)
		if err != nil {
			continue
		}
		if _, ok := repos[im.host]; !ok {
			hosts = append(hosts, im.host)
			// The host's manifest checks (it has at least this one) tell
			// its auth check how the registry answered them (witness.go).
			witnesses.byHost[im.host] = newWitness()
		}
		if !slices.Contains(repos[im.host], im.path) {
			repos[im.host] = append(repos[im.host], im.path)
		}
	}
	sort.Strings(hosts)
	var checks []probe.Check
	for _, h := range hosts {
		checks = append(checks, HostChecks(h, repos[h], opts)...)
	}
	for _, ref := range order {
		checks = append(checks, ImageChecks(ref, opts)...)
	}
	return checks
}
