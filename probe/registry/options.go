package registry

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/distribution/reference"

	"github.com/runnerup/runnerup/internal/imageref"
	"github.com/runnerup/runnerup/probe"
)

// Credential for a registry, resolved elsewhere exactly as GitLab Runner
// would; the zero value means anonymous.
type Credential struct {
	Username, Password string
	// IdentityToken is an OAuth refresh token (config.json "identitytoken",
	// or a helper answering with the username "<token>").
	IdentityToken string
	// Source says where the credential came from, for display only, e.g.
	// "/root/.docker/config.json" or "$DOCKER_AUTH_CONFIG".
	Source string
}

// empty reports whether c carries nothing to authenticate with.
func (c Credential) empty() bool {
	return c.Username == "" && c.Password == "" && c.IdentityToken == ""
}

// secrets are the values that must never appear in a result.
func (c Credential) secrets() []string {
	return []string{c.Password, c.IdentityToken}
}

// DefaultCertsDir is where dockerd looks for per-registry CAs and client
// certificates (/etc/docker/certs.d/<host:port>/*.crt, *.cert + *.key).
const DefaultCertsDir = "/etc/docker/certs.d"

// Options configure the registry and image checks. The zero value probes
// anonymously, through http.DefaultTransport (which honours HTTP(S)_PROXY),
// with the daemon's registry facts and platform read from the
// probe.IDDaemonRegistries and probe.IDDaemonPlatform checks.
type Options struct {
	// Transport is the base transport; tests point it at loopback. nil
	// means a clone of http.DefaultTransport (proxies from the environment).
	// When it is an *http.Transport, certs.d CAs and (for registries the
	// daemon treats as insecure) skipped verification are applied to a
	// clone of it, as dockerd does; other RoundTrippers are used as given.
	Transport http.RoundTripper

	// Credentials come from another check so that the auth check waits for
	// exactly that one: CredentialsCheck returns the id of the check that
	// resolves host's credential (the suite passes the credentials
	// package's "credentials.<host>"), which the auth check Needs, and
	// CredentialFrom extracts the credential from the finished results
	// (ok=false: none resolved, probe anonymously, as the runner would).
	// The auth check runs even when that check failed: the runner drops a
	// broken source and pulls with what is left. Both nil: anonymous.
	// host is always in NormalizeHost form ("docker.io", "host:port").
	CredentialsCheck func(host string) string
	CredentialFrom   func(deps probe.Deps, host string) (Credential, bool)

	// Insecure reports whether the daemon treats host as an insecure
	// registry (listed in insecure-registries, or resolving into an
	// insecure CIDR; 127.0.0.0/8 always is). nil: decide from the
	// probe.IDDaemonRegistries check's probe.DaemonRegistries, which the
	// tls check then Needs (when that check fails, only 127.0.0.0/8 is
	// assumed insecure and the detail says so).
	Insecure func(host string) bool

	// Platform fixes the platform an index must offer (diagnose
	// --platform); nil means the probe.IDDaemonPlatform check's Data.
	Platform *probe.Platform

	// CertsDir is the daemon's certs.d directory; "" means
	// DefaultCertsDir. It only helps when the daemon runs on this host.
	CertsDir string

	// Concurrency caps the requests in flight to one registry host (and
	// to each token server) across the checks of one Checks or HostChecks
	// call; 0 means DefaultConcurrency. Without Transport, it also caps the
	// connections per host, all kept for reuse.
	Concurrency int

	limiter   *hostLimiter // shared by the checks of one Checks call
	witnesses *witnesses   // the hosts' witnesses, made by Checks
}

// withLimiter gives opts the limiter its checks share, once.
func (o Options) withLimiter() Options {
	if o.limiter == nil {
		o.limiter = newHostLimiter(o.concurrency())
	}
	return o
}

func (o Options) certsDir() string {
	if o.CertsDir == "" {
		return DefaultCertsDir
	}
	return o.CertsDir
}

// NormalizeHost spells a registry host as check ids and credential lookups
// use it: lower case, Docker Hub's aliases folded into "docker.io".
func NormalizeHost(host string) string {
	if imageref.IsDockerHub(host) {
		return imageref.DockerHub
	}
	return strings.ToLower(host)
}

// Endpoint is the host:port the daemon actually sends requests to:
// registry-1.docker.io for Docker Hub, the host itself otherwise.
func Endpoint(host string) string {
	if imageref.IsDockerHub(host) {
		return "registry-1.docker.io"
	}
	return host
}

// Check ids for a host and for an image reference.
func TLSID(host string) string  { return probe.ID("registry", NormalizeHost(host), "tls") }
func AuthID(host string) string { return probe.ID("registry", NormalizeHost(host), "auth") }
func ManifestID(ref string) string {
	return probe.ID("image", NormalizeRef(ref), "manifest")
}
func PlatformID(ref string) string {
	return probe.ID("image", NormalizeRef(ref), "platform")
}

// NormalizeRef is the reference as the user wrote it, normalised as Docker
// does but kept familiar: "alpine" → "alpine:latest",
// "docker.io/library/alpine" → "alpine:latest",
// "registry.test:5000/a/b" → "registry.test:5000/a/b:latest". A reference
// that does not parse is returned unchanged.
func NormalizeRef(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	return reference.FamiliarString(reference.TagNameOnly(named))
}

// image is a parsed reference: what the checks need to address it.
type image struct {
	ref    string // NormalizeRef form
	host   string // NormalizeHost form
	path   string // repository path on the registry, e.g. "library/alpine"
	tag    string // "" when pulled by digest
	digest string // "" unless pinned
}

func parseImage(ref string) (image, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return image{}, fmt.Errorf("parsing image reference %q: %w", ref, err)
	}
	named = reference.TagNameOnly(named)
	im := image{
		ref:  reference.FamiliarString(named),
		host: NormalizeHost(reference.Domain(named)),
		path: reference.Path(named),
	}
	// With both a tag and a digest the daemon pulls by digest.
	if d, ok := named.(reference.Digested); ok {
		im.digest = d.Digest().String()
	} else if t, ok := named.(reference.Tagged); ok {
		im.tag = t.Tag()
	}
	return im, nil
}

// identifier is the manifest identifier: the digest when pinned, else the tag.
func (im image) identifier() string {
	if im.digest != "" {
		return im.digest
	}
	return im.tag
}
