package diagnose

import (
	"regexp"
	"strings"
)

// Stage is where in the pull chain a cause sits; causes are listed in chain
// order (the earliest broken link first), because a later symptom is often
// only the consequence of an earlier one (a dropped credential source shows
// up as "no basic auth credentials").
type Stage int

const (
	StageReference   Stage = iota // the image name itself
	StageDaemon                   // reaching the Docker daemon
	StagePolicy                   // the runner's pull policy
	StageCredentials              // what the runner resolves and sends
	StageTransport                // DNS, TCP, TLS, proxy
	StageAuth                     // the registry's answer to the credentials
	StageManifest                 // what the registry holds
	StagePlatform                 // what the daemon can run
	StageDownload                 // layers, disk
	StageUnknown
)

// Matcher recognises one job-log symptom: every string in All must occur
// in the line (case-insensitive), and Re, when set, must match the
// lower-cased line, after the runner's " (file.go:N:Ns)" suffix is
// stripped.
type Matcher struct {
	All []string
	Re  *regexp.Regexp
	// Note is evidence the matched text carries beyond its cause.
	Note string
}

func (m Matcher) matches(lower string) bool {
	for _, s := range m.All {
		if !strings.Contains(lower, s) {
			return false
		}
	}
	if m.Re != nil {
		return m.Re.MatchString(lower)
	}
	return len(m.All) > 0
}

// re is a matcher by regular expression (written for the lower-cased
// line), with the evidence it adds.
func re(expr, note string) Matcher { return Matcher{Re: regexp.MustCompile(expr), Note: note} }

// Entry is one cause of docs/pull-failures.md: its stable id, a
// one-line summary, the job-log texts that point at it and the causes the
// same text can also mean (Then: what to check next, as the quick match
// table says), plus how to fix it.
type Entry struct {
	ID      string
	Stage   Stage
	Summary string
	// Match lists the log symptoms; the table is searched in order and the
	// first entry with a matching Matcher wins, so more specific texts sit
	// above general ones (the quick match table's order, with the
	// credential-source warnings, which are lines of their own, first).
	Match []Matcher
	// Then are further ids the same log text is also seen for.
	Then []string
	// Fix returns the concrete steps for this cause in its context.
	Fix func(fc fixContext) []string
	// Extra marks ids runnerup adds beyond the reference catalogue.
	Extra bool
	// InJob: the cause lives inside the job (its docker:dind service and
	// the job's Docker client talking to it), wherever its line is: the
	// runner host's live checks cannot see it.
	InJob bool
}

func any_(texts ...string) []Matcher {
	out := make([]Matcher, 0, len(texts))
	for _, t := range texts {
		out = append(out, Matcher{All: []string{t}})
	}
	return out
}

func all(texts ...string) Matcher { return Matcher{All: texts} }

// Catalogue is every cause diagnose can name: the ids of
// docs/pull-failures.md (a test checks the two agree) plus a few
// runnerup-specific ones (Extra). It is searched top to bottom by the log
// matcher.
var Catalogue = []Entry{
	// The helper image first: its name is in the line, whatever else the
	// line says (a missing helper image is "No such image" too).
	{ID: "helper-image-missing", Stage: StageManifest,
		Summary: "the runner's helper image could not be found locally, in the bundled archive, or pulled",
		Match: []Matcher{all("gitlab-runner-helper", "manifest unknown"), all("gitlab-runner-helper", "failed to resolve reference", ": not found"),
			all("gitlab-runner-helper", "no such host"), all("gitlab-runner-helper", "i/o timeout"), all("gitlab-runner-helper", "no such image")},
		Then: []string{"tag-not-found", "dns-no-such-host", "network-timeout"},
		Fix:  fixHelperImage},
	{ID: "invalid-reference", Stage: StageReference,
		Summary: "the image name is not a valid reference (upper case, a scheme, whitespace, a bad tag or digest)",
		Match:   any_("invalid reference format", "invalid tag format"),
		Fix:     fixInvalidReference},
	{ID: "policy-not-allowed", Stage: StagePolicy,
		Summary: "the pull policy has no overlap with the runner's allowed_pull_policies",
		Match:   any_("is not one of the allowed_pull_policies"),
		Fix:     fixPolicyNotAllowed},
	{ID: "policy-never-absent", Stage: StagePolicy,
		Summary: `pull_policy is "never" and the image is not in the daemon's local store`,
		// "Error: No such image" alone is how runners report an image
		// missing from the daemon's store; rankLog reads it as a failed
		// pull instead when the log shows the runner pulling.
		Match: []Matcher{all("specified policies [never]", "no such image"), all(`policy "never"`, "no such image"), all("error: no such image:")},
		Then:  []string{"tag-not-found"},
		Fix:   fixPolicyNever},

	// Credential-source warnings are lines of their own, earlier in the
	// chain than the pull error they cause; they are matched first so a
	// helper's quoted output ("denied: …") is not taken for a registry
	// answer.
	{ID: "auth-base64-invalid", Stage: StageCredentials,
		Summary: "an `auth` value is not valid base64 of user:password, so the runner discards the whole credential source",
		Match: []Matcher{all("Failed to resolve credentials from", "illegal base64"), all("Failed to resolve credentials from", "invalid auth configuration file"),
			all("illegal base64 data at input byte"), all("invalid auth configuration file")},
		Then: []string{"auth-missing-credentials"},
		Fix:  fixBase64Invalid},
	{ID: "credstore-helper-missing", Stage: StageCredentials,
		Summary: "a credsStore/credHelpers helper is not on the runner's PATH, so the runner discards the whole credential source",
		Match: []Matcher{all("Failed to resolve credentials from", "executable file not found"), all("credentials - err: exec:", "executable file not found"),
			all("docker-credential-", "resolves to executable in current directory")},
		Then: []string{"credential-source-dropped", "auth-missing-credentials"},
		Fix:  fixHelperMissing},
	{ID: "credhelper-failed", Stage: StageCredentials,
		Summary: "a credential helper ran but could not produce credentials in the runner's context",
		Match: []Matcher{all("Failed to resolve credentials from", "error getting credentials"), all("Failed to resolve credentials from", "error listing credentials"),
			all("error getting credentials - err:"), all("error listing credentials - err:")},
		Then: []string{"credential-source-dropped", "auth-missing-credentials"},
		Fix:  fixHelperFailed},
	{ID: "docker-auth-config-malformed", Stage: StageCredentials,
		Summary: "DOCKER_AUTH_CONFIG is not valid Docker config JSON, so the runner ignores it",
		Match: append(any_("Failed to resolve credentials from $DOCKER_AUTH_CONFIG:", "Failed to create credential store from DOCKER_AUTH_CONFIG"),
			// A config shown in the log (or pasted beside it) whose
			// credHelpers is a string: docker/cli refuses the whole value.
			re(`\\?"credhelpers\\?"\s*:\s*\\?"`, `"credHelpers" is a string here, but Docker's config wants a map of registry host to helper name ({"credHelpers": {"<host>": "ecr-login"}}): docker/cli rejects the value, so the runner drops the whole DOCKER_AUTH_CONFIG and sends no credentials`)),
		Then: []string{"auth-missing-credentials"},
		Fix:  fixMalformed},

	{ID: "docker-api-too-old", Stage: StageDaemon,
		Summary: "a Docker client (the runner's, or a docker:NN job image's CLI) speaks an API version below the daemon's minimum (1.44 since Docker 29)",
		Match:   []Matcher{all("client version", "is too old"), all("Minimum supported API version is")},
		Fix:     fixAPITooOld},
	{ID: "daemon-permission-denied", Stage: StageDaemon,
		Summary: "the runner's user may not use the Docker daemon's socket",
		Match:   any_("permission denied while trying to connect to the"),
		Fix:     fixPermission},
	{ID: "dind-tls-mismatch", Stage: StageDaemon, InJob: true,
		Summary: "the job's Docker client and the docker:dind service disagree about TLS (port 2375 vs 2376, certificates)",
		Match: any_("Client sent an HTTP request to an HTTPS server", "open /certs/client/", "Cannot connect to the Docker daemon at tcp://docker:2375",
			"docker API at tcp://docker:2375", "trying to connect to a TLS-enabled daemon without TLS", "client authentication (--tlsverify) enabled",
			"Couldn't connect to Docker daemon at http://docker:2375"), // docker-compose 1.x
		Fix: fixDindTLS},
	{ID: "daemon-unreachable", Stage: StageDaemon,
		Summary: "the Docker daemon does not answer at the address the runner uses",
		// docker-compose 1.x says "Couldn't connect … is it running?" for a
		// socket it may not open as well.
		Match: any_("Cannot connect to the Docker daemon", "failed to connect to the docker API", "Couldn't connect to Docker daemon at"),
		Then:  []string{"daemon-permission-denied"},
		Fix:   fixDaemonUnreachable},
	{ID: "dind-host-unresolvable", Stage: StageDaemon, InJob: true,
		Summary: `the job's DOCKER_HOST names a service ("docker") that does not resolve: no docker:dind service, another alias, or it died`,
		Match: append(any_("lookup docker on", "lookup docker:"),
			// The same under another service alias: the Docker client's own
			// address (port 2375/2376) does not resolve.
			re(`:237[56]/.*lookup \S+ on \S*: ?no such host`, "the name that does not resolve is the Docker daemon's address (port 2375/2376): a DinD service alias, not a registry")),
		Fix: fixDindHost},
	{ID: "rate-limited", Stage: StageAuth,
		Summary: "the registry refuses more pulls for now (HTTP 429; Docker Hub's pull rate limit)",
		Match:   any_("toomanyrequests", "You have reached your pull rate limit"),
		Fix:     fixRateLimited},
	{ID: "platform-missing", Stage: StagePlatform,
		Summary: "the image index has no entry for the daemon's OS/architecture",
		Match:   any_("no matching manifest for", "no match for platform in manifest"),
		Fix:     fixPlatform},
	{ID: "platform-wrong-single-arch", Stage: StagePlatform,
		Summary: "a single-platform image built for another architecture: it pulls, then fails with \"exec format error\"",
		Match:   any_("exec format error", "does not match the specified platform", "does not match the detected host platform"),
		Fix:     fixPlatform},
	{ID: "unsupported-media-type", Stage: StageManifest,
		Summary: "the reference names an artifact (Helm chart, signature, SBOM, …), not a container image",
		Match:   any_("unsupported media type", "Encountered remote"),
		Fix:     fixMediaType},
	{ID: "schema1-removed", Stage: StageManifest,
		Summary: "the image uses the Docker schema 1 manifest format, which current Docker refuses",
		Match:   any_("schema 1 support"),
		Fix:     fixSchema1},
	{ID: "disk-full", Stage: StageDownload,
		Summary: "the daemon's data root is out of space (or inodes)",
		Match:   any_("no space left on device"),
		Fix:     fixDiskFull},
	{ID: "registry-plain-http", Stage: StageTransport,
		Summary: "the registry speaks plain HTTP and the daemon does not treat it as an insecure registry",
		Match:   any_("server gave HTTP response to HTTPS client"),
		Fix:     fixPlainHTTP},
	{ID: "tls-unknown-ca", Stage: StageTransport,
		Summary: "the daemon does not trust the CA that signed the registry's certificate",
		Match:   any_("x509: certificate signed by unknown authority", "certificate signed by unknown authority"),
		Fix:     fixUnknownCA},
	{ID: "tls-hostname-mismatch", Stage: StageTransport,
		Summary: "the registry's certificate is not valid for the host name in the image",
		Match:   any_("x509: certificate is valid for", "legacy Common Name field"),
		Fix:     fixHostname},
	{ID: "tls-cert-expired", Stage: StageTransport,
		Summary: "the registry's certificate has expired (or the daemon host's clock is wrong)",
		Match:   any_("x509: certificate has expired or is not yet valid"),
		Fix:     fixExpired},
	{ID: "tls-client-cert-required", Stage: StageTransport,
		Summary: "the registry wants a TLS client certificate the daemon does not have",
		Match:   any_("tls: bad certificate", "tls: certificate required"),
		Fix:     fixClientCert},
	{ID: "daemon-proxy-wrong", Stage: StageTransport,
		Summary: "the daemon sends registry traffic to a proxy that does not answer (or should not be used for this host)",
		Match:   any_("proxyconnect tcp"),
		Fix:     fixProxyWrong},
	{ID: "dns-no-such-host", Stage: StageTransport,
		Summary: "the registry host name does not resolve on the daemon host",
		Match: append([]Matcher{re(`lookup \S+ on \S+: .*(?:read: connection refused|connect: connection refused|connect: network is unreachable)`,
			"the host's resolver is down: the DNS server the daemon asks refuses the query, so no registry name resolves (check /etc/resolv.conf and systemd-resolved on the daemon host, or set \"dns\" in /etc/docker/daemon.json)")},
			any_("no such host", "server misbehaving", "Temporary failure in name resolution")...),
		Then: []string{"daemon-proxy-missing"},
		Fix:  fixDNS},
	{ID: "connection-refused", Stage: StageTransport,
		Summary: "nothing listens at the registry's host:port",
		Match:   any_("connect: connection refused"),
		Fix:     fixRefused},
	{ID: "network-timeout", Stage: StageTransport,
		Summary: "the registry does not answer in time (firewall, missing proxy, MTU, overload)",
		Match:   any_("TLS handshake timeout", "i/o timeout", "context deadline exceeded", "Client.Timeout exceeded", "connection reset"),
		Then:    []string{"daemon-proxy-missing"},
		Fix:     fixTimeout},
	{ID: "registry-token-expired", Stage: StageAuth,
		Summary: "a static short-lived registry token (ECR, cached Hub token) has expired",
		Match:   any_("authorization token has expired"),
		Fix:     fixTokenExpired},
	{ID: "access-denied", Stage: StageAuth,
		Summary: "the registry denies pulling this repository with the credentials sent (private, missing, or no pull right)",
		Match:   any_("pull access denied", "denied:", "insufficient_scope"),
		Then:    []string{"auth-missing-credentials", "auth-key-mismatch"},
		Fix:     fixAccessDenied},
	{ID: "token-auth-rejected", Stage: StageAuth,
		Summary: "the registry's token server rejects the credentials the runner sends",
		Match:   any_("incorrect username or password", "HTTP Basic: Access denied"),
		Then:    []string{"auth-base64-trailing-newline"},
		Fix:     fixRejected},
	{ID: "auth-missing-credentials", Stage: StageAuth,
		Summary: "the registry needs credentials and the runner has none for this image",
		Match:   any_("no basic auth credentials"),
		Then:    []string{"auth-key-mismatch", "credstore-helper-missing", "credhelper-failed", "credential-source-dropped"},
		Fix:     fixMissing},
	{ID: "auth-rejected", Stage: StageAuth,
		Summary: "the registry rejects the username/password the runner sends",
		Match:   any_("unauthorized: authentication required", "unauthorized:"),
		Then:    []string{"auth-base64-trailing-newline"},
		Fix:     fixRejected},
	{ID: "tag-not-found", Stage: StageManifest,
		Summary: "the repository has no such tag (or digest)",
		Match:   []Matcher{all("manifest unknown"), all("failed to resolve reference", ": not found")},
		Fix:     fixTagNotFound},
	{ID: "repository-not-found", Stage: StageManifest,
		Summary: "the registry has no repository with this path",
		Match:   any_("name unknown", "repository name not known to registry"),
		Fix:     fixRepoNotFound},
	{ID: "registry-server-error", Stage: StageAuth,
		Summary: "the registry (or a proxy in front of it) answers with a server error or a non-registry page",
		Match:   any_("received unexpected HTTP status: 5", "error parsing HTTP"),
		Fix:     fixServerError},
	{ID: "blob-download-failed", Stage: StageDownload,
		Summary: "a layer download broke off or was corrupted (proxy, blob storage redirect, registry storage)",
		Match:   any_("filesystem layer verification failed", "unexpected EOF"),
		Fix:     fixBlob},

	// No log text of their own: reached through another entry's Then, and
	// found by the live probes.
	{ID: "daemon-proxy-missing", Stage: StageTransport,
		Summary: "the registry is only reachable through a proxy, and dockerd itself has none (the runner's and the shell's proxy do not reach it)",
		Fix:     fixProxyMissing},
	{ID: "auth-key-mismatch", Stage: StageCredentials,
		Summary: "a credential exists, but under a key the runner does not match to this image (port, scheme/path, Hub spelling)",
		Fix:     fixKeyMismatch},
	{ID: "credential-source-dropped", Stage: StageCredentials,
		Summary: "the credentials for this image are in a source the runner discards whole because of another entry in it",
		Fix:     fixSourceDropped},
	{ID: "auth-base64-trailing-newline", Stage: StageCredentials,
		Summary: "the `auth` value decodes to a password ending in a newline (made with echo without -n)",
		Fix:     fixTrailingNewline},

	// runnerup's own ids, beyond the reference catalogue.
	{ID: "credential-helper-path", Stage: StageCredentials, Extra: true,
		Summary: "a credsStore/credHelpers name contains a path: the runner refuses it and fails every pull (\"path traversal is not allowed\")",
		Match:   any_("path traversal is not allowed"),
		Fix:     fixHelperPath},
	{ID: "unclassified", Stage: StageUnknown, Extra: true,
		Summary: "a check failed for a reason the catalogue does not name",
		Fix:     fixUnclassified},
}

// The matchers' texts are compared with the lower-cased line.
func init() {
	for i := range Catalogue {
		for j := range Catalogue[i].Match {
			for k, t := range Catalogue[i].Match[j].All {
				Catalogue[i].Match[j].All[k] = strings.ToLower(t)
			}
		}
	}
}

// byID indexes Catalogue.
var byID = func() map[string]*Entry {
	m := make(map[string]*Entry, len(Catalogue))
	for i := range Catalogue {
		m[Catalogue[i].ID] = &Catalogue[i]
	}
	return m
}()

// Lookup returns the catalogue entry for id.
func Lookup(id string) (Entry, bool) {
	e, ok := byID[id]
	if !ok {
		return Entry{}, false
	}
	return *e, true
}

// entry returns the entry for id, falling back to "unclassified".
func entry(id string) *Entry {
	if e, ok := byID[id]; ok {
		return e
	}
	return byID["unclassified"]
}
