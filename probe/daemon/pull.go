package daemon

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/containerd/platforms"

	"github.com/docker/cli/cli/config/types"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/runnerup/runnerup/internal/imageref"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/registry"
)

// Puller is the Engine call a real pull needs (POST /images/create);
// *client.Client satisfies it.
type Puller interface {
	ImagePull(ctx context.Context, ref string, options client.ImagePullOptions) (io.ReadCloser, error)
}

// PullAuth is the credential GitLab Runner puts into X-Registry-Auth for
// one image: the AuthConfig its resolver returned (helpers/docker/auth
// ConfigForImage), ServerAddress being the key as the source spells it.
// Password and IdentityToken are secrets.
type PullAuth struct {
	ServerAddress string
	Username      string
	Password      string
	IdentityToken string
	// Source is where the credential came from, for display ("$DOCKER_AUTH_CONFIG",
	// "/root/.docker/config.json").
	Source string
}

// EncodeRegistryAuth is the X-Registry-Auth value the runner sends: its
// helpers/docker/auth EncodeConfig, i.e. docker/cli's types.AuthConfig
// through json.Encoder (which ends the JSON with a newline) and
// base64.URLEncoding with padding. A nil credential is the empty header
// the runner sends for an anonymous pull.
func EncodeRegistryAuth(a *PullAuth) (string, error) {
	if a == nil {
		return "", nil
	}
	var buf bytes.Buffer
	ac := types.AuthConfig{Username: a.Username, Password: a.Password, ServerAddress: a.ServerAddress, IdentityToken: a.IdentityToken}
	if err := json.NewEncoder(&buf).Encode(ac); err != nil {
		return "", fmt.Errorf("encoding X-Registry-Auth: %w", err)
	}
	return base64.URLEncoding.EncodeToString(buf.Bytes()), nil
}

// PullRef is the reference the runner hands to ImagePull: the image as the
// job names it, with ":latest" added when it has neither a tag nor a
// digest (executors/docker/internal/pull/manager.go pullDockerImage).
func PullRef(img string) string {
	if !strings.ContainsAny(img, ":@") {
		return img + ":latest"
	}
	return img
}

// PullOutcome is what the daemon answered to one pull.
type PullOutcome struct {
	// Pulled is true when the stream ended without an error.
	Pulled bool
	// Error is the daemon's own error text, as the runner's job log would
	// show it: "Error response from daemon: …" when the daemon refused
	// before streaming, the stream's bare message after that.
	Error string
	// Status is the last status line ("Status: Downloaded newer image for
	// …", "Status: Image is up to date for …"); Digest the "Digest:" line.
	Status, Digest string
}

// maxPullMessage bounds one JSON message of the pull stream: progress
// lines are short, an error message a few hundred bytes.
const maxPullMessage = 1 << 20

// Pull asks the daemon to pull ref with the runner's X-Registry-Auth and
// reads the whole progress stream (the layers are downloaded; the image
// stays in the daemon's store, as after a job's pull). platform is
// "os/arch[/variant]" or "" for the daemon's own, as the runner leaves it
// unless the job sets image:docker:platform. The error is for a failure
// outside the daemon's answer (an ended context); the daemon's refusals
// are in the outcome.
func Pull(ctx context.Context, api Puller, ref string, auth *PullAuth, platform string) (PullOutcome, error) {
	header, err := EncodeRegistryAuth(auth)
	if err != nil {
		return PullOutcome{}, err
	}
	opts := client.ImagePullOptions{RegistryAuth: header}
	if platform != "" {
		p, err := platforms.Parse(platform)
		if err != nil {
			return PullOutcome{}, fmt.Errorf("pulling %s: platform %q: %w", ref, platform, err)
		}
		opts.Platforms = []ocispec.Platform{p}
	}
	rc, err := api.ImagePull(ctx, ref, opts)
	if err != nil {
		if ctx.Err() != nil {
			return PullOutcome{Error: err.Error()}, fmt.Errorf("pulling %s: %w", ref, ctx.Err())
		}
		return PullOutcome{Error: err.Error()}, nil
	}
	defer rc.Close()
	out, err := readPullStream(rc)
	if err != nil && ctx.Err() != nil {
		return out, fmt.Errorf("pulling %s: %w", ref, ctx.Err())
	}
	return out, nil
}

// pullMessage is one line of the /images/create stream (moby's
// jsonmessage.JSONMessage, the fields a pull outcome needs).
type pullMessage struct {
	Status      string `json:"status"`
	ID          string `json:"id"`
	Error       string `json:"error"`
	ErrorDetail *struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
}

// readPullStream reads the stream to its end, as the runner's
// ImagePullBlocking does; the first error message ends the pull.
func readPullStream(r io.Reader) (PullOutcome, error) {
	dec := json.NewDecoder(io.LimitReader(r, 1<<30))
	var out PullOutcome
	for {
		var m pullMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				out.Pulled = out.Error == ""
				return out, nil
			}
			if out.Error == "" {
				out.Error = "reading the daemon's pull stream: " + err.Error()
			}
			return out, err
		}
		switch {
		case m.ErrorDetail != nil && m.ErrorDetail.Message != "":
			out.Error = m.ErrorDetail.Message
		case m.Error != "":
			out.Error = m.Error
		case strings.HasPrefix(m.Status, "Digest: "):
			out.Digest = strings.TrimPrefix(m.Status, "Digest: ")
		case strings.HasPrefix(m.Status, "Status: "):
			out.Status = m.Status
		}
		if out.Error != "" {
			out.Error = truncate(out.Error, maxPullMessage)
			return out, nil
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// PullID is the check id of the daemon's own pull of ref.
func PullID(ref string) string { return probe.ID("image", registry.NormalizeRef(ref), "pull") }

// DefaultPullTimeout bounds one pull: it downloads every layer.
const DefaultPullTimeout = 10 * time.Minute

// PullOptions turn on image.<ref>.pull: the daemon itself pulls each image
// with the X-Registry-Auth the runner would send. It downloads layers and
// leaves the image in the daemon's store, as the runner's pull does.
type PullOptions struct {
	// Images are the references to pull, as the jobs name them.
	Images []string
	// Platform is the job's image:docker:platform ("" = the daemon's own).
	Platform string
	// CredentialsCheck and CredentialFrom hand the runner's credential for
	// a host (NormalizeHost form) to the pull, as registry.Options does
	// for the HTTP checks; nil: anonymous.
	CredentialsCheck func(host string) string
	CredentialFrom   func(deps probe.Deps, host string) (*PullAuth, bool)
	// Classify maps the daemon's error text to a cause id of the
	// pull-failure catalogue ("" for none). diagnose supplies its job-log
	// matcher, so the daemon's words are read as a job log's would be.
	Classify func(text string) string
	// CertsDir is the certs.d runnerup's HTTP checks read (named when the
	// daemon distrusts what they trusted); "" = /etc/docker/certs.d.
	CertsDir string
	// Timeout bounds each pull (DefaultPullTimeout when zero).
	Timeout time.Duration
}

// PullVerdict is image.<ref>.pull's Data: the daemon's answer beside
// runnerup's HTTP-side verdict for the same image.
type PullVerdict struct {
	Image string `json:"image"`
	// Pulled: the daemon pulled the image.
	Pulled bool `json:"pulled"`
	// DaemonError is the daemon's error text (credentials never appear in
	// it: the daemon does not echo X-Registry-Auth).
	DaemonError string `json:"daemon_error,omitempty"`
	// Cause is the catalogue id of DaemonError ("" when pulled or
	// unclassified).
	Cause string `json:"cause,omitempty"`
	// HTTP is runnerup's own verdict from its registry checks: "passed" or
	// "failed: CAUSE (check id)"; HTTPCause the cause id of that failure.
	HTTP      string `json:"http_verdict"`
	HTTPCause string `json:"http_cause,omitempty"`
	// Agree is false when the two sides disagree; Difference then names
	// what the daemon sees otherwise (proxy, certs.d, mirrors, insecure
	// settings, DNS). The daemon's answer wins.
	Agree      bool   `json:"agree"`
	Difference string `json:"difference,omitempty"`
	// CredentialSource is where the X-Registry-Auth came from ("none":
	// anonymous).
	CredentialSource string `json:"credential_source"`
	Digest           string `json:"digest,omitempty"`

	// httpFailed are the ids of the HTTP checks that failed: when the
	// daemon pulled, the daemon's view wins over them (DaemonWins).
	httpFailed []string
}

// pullChecks returns image.<ref>.pull for every distinct image.
func (s *session) pullChecks(po PullOptions) []probe.Check {
	if po.Timeout <= 0 {
		po.Timeout = DefaultPullTimeout
	}
	seen := map[string]bool{}
	var checks []probe.Check
	for _, img := range po.Images {
		id := PullID(img)
		if seen[id] {
			continue
		}
		seen[id] = true
		http := httpCheckIDs(img)
		needs := append([]string{IDReachable, IDRegistries, IDProxy}, http...)
		host := hostOf(img)
		if po.CredentialsCheck != nil && host != "" {
			needs = append(needs, po.CredentialsCheck(host))
		}
		img := img
		checks = append(checks, probe.Check{
			ID:              id,
			Title:           fmt.Sprintf("image %s: pulled by the daemon", registry.NormalizeRef(img)),
			Needs:           needs,
			RunAfterFailure: true,
			Timeout:         po.Timeout,
			Run: func(ctx context.Context, deps probe.Deps) probe.Result {
				return s.checkPull(ctx, deps, img, http, po)
			},
		})
	}
	return checks
}

// httpCheckIDs are runnerup's HTTP-side checks of img, in chain order.
func httpCheckIDs(img string) []string {
	host := hostOf(img)
	if host == "" {
		return []string{registry.ManifestID(img)}
	}
	return []string{registry.TLSID(host), registry.AuthID(host), registry.ManifestID(img), registry.PlatformID(img)}
}

// hostOf is img's registry host in NormalizeHost form, "" when img does
// not parse.
func hostOf(img string) string {
	host, err := imageref.Host(img)
	if err != nil {
		return ""
	}
	return registry.NormalizeHost(host)
}

func (s *session) checkPull(ctx context.Context, deps probe.Deps, img string, httpIDs []string, po PullOptions) probe.Result {
	if deps[IDReachable].Status != probe.Pass {
		return probe.Skipf("skipped: %s did not pass", IDReachable)
	}
	api, err := s.client()
	if err != nil {
		return apiFailure(err)
	}
	puller, ok := api.(Puller)
	if !ok {
		return probe.Skipf("this Docker client cannot pull (a test double without ImagePull)")
	}
	v := PullVerdict{Image: img, CredentialSource: "none"}
	var auth *PullAuth
	if host := hostOf(img); host != "" && po.CredentialFrom != nil {
		if a, ok := po.CredentialFrom(deps, host); ok && a != nil {
			auth, v.CredentialSource = a, a.Source
		}
	}
	out, err := Pull(ctx, puller, PullRef(img), auth, po.Platform)
	if err != nil {
		// The deadline or an interrupt, not the daemon's verdict.
		r := probe.Failf(fmt.Sprintf("the pull did not finish within %s: a large image on a slow link; pull it once by hand (`docker pull %s`) or raise --timeout", po.Timeout, PullRef(img)),
			"%v", err)
		return r
	}
	v.Pulled, v.DaemonError, v.Digest = out.Pulled, out.Error, out.Digest
	if !v.Pulled && po.Classify != nil {
		v.Cause = po.Classify(out.Error)
	}
	v.HTTP, v.HTTPCause, v.httpFailed = httpVerdict(deps, httpIDs)
	v.Agree = v.Pulled == (len(v.httpFailed) == 0) && (v.Pulled || v.Cause == v.HTTPCause)
	if !v.Agree {
		facts := pullFacts{host: hostOf(img), certsDir: po.CertsDir}
		facts.proxy, _ = probe.DataOf[ProxySettings](deps, IDProxy)
		facts.regs, _ = probe.DataOf[probe.DaemonRegistries](deps, IDRegistries)
		v.Difference = difference(v, facts)
	}
	via := "anonymously"
	if auth != nil {
		via = "with the credentials from " + v.CredentialSource
	}
	var r probe.Result
	if v.Pulled {
		detail := fmt.Sprintf("the daemon pulled %s %s", PullRef(img), via)
		if out.Digest != "" {
			detail += " (" + out.Digest + ")"
		}
		detail += "; the image stays in the daemon's store, as after a job's pull (`docker rmi " + PullRef(img) + "` removes it)"
		if !v.Agree {
			detail += fmt.Sprintf("; runnerup's HTTP probe %s, but the daemon's answer wins: %s", v.HTTP, v.Difference)
		}
		r = probe.Passf("%s", detail)
	} else {
		cause := v.Cause
		if cause == "" {
			cause = "unclassified"
		}
		detail := fmt.Sprintf("the daemon refused to pull %s %s: %s [%s]; runnerup's HTTP probe %s", PullRef(img), via, v.DaemonError, cause, v.HTTP)
		if !v.Agree {
			detail += "; the daemon's answer wins: " + v.Difference
		}
		r = probe.Failf("", "%s", detail)
		r.Finding = v.Cause
	}
	r.Data = v
	return r
}

// httpVerdict summarises runnerup's HTTP checks of one image: the first
// failure in chain order, or "passed".
func httpVerdict(deps probe.Deps, ids []string) (verdict, cause string, failed []string) {
	for _, id := range ids {
		if r, ok := deps[id]; ok && r.Status == probe.Fail {
			failed = append(failed, id)
			if cause == "" {
				cause = registry.Cause(r)
				c := cause
				if c == "" {
					c = "unclassified"
				}
				verdict = fmt.Sprintf("failed: %s (%s)", c, id)
			}
		}
	}
	if verdict == "" {
		verdict = "passed"
	}
	return verdict, cause, failed
}

// pullFacts are the daemon facts that can make its view differ.
type pullFacts struct {
	host     string
	certsDir string
	proxy    ProxySettings
	regs     probe.DaemonRegistries
}

// difference names what the daemon sees otherwise than runnerup's HTTP
// probe, from the cause on the side that failed.
func difference(v PullVerdict, f pullFacts) string {
	certs := f.certsDir
	if certs == "" {
		certs = registry.DefaultCertsDir
	}
	proxy := describeProxy(f.proxy)
	mirrors := ""
	if f.host == "docker.io" && len(f.regs.Mirrors) > 0 {
		mirrors = "; the daemon pulls Docker Hub images through its registry-mirrors (" + strings.Join(f.regs.Mirrors, ", ") + "), runnerup probed Docker Hub itself"
	}
	if !v.Pulled {
		switch v.Cause {
		case registry.CauseTLSUnknownCA, registry.CauseTLSHostname, registry.CauseTLSExpired, registry.CauseTLSClientCert:
			return fmt.Sprintf("certificates: the daemon verifies %s with the system CAs and /etc/docker/certs.d/%s/ on the daemon's host, which lack what runnerup's probe trusted (system CAs plus %s/%s/)", f.host, f.host, certs, f.host) + mirrors
		case registry.CausePlainHTTP:
			return fmt.Sprintf("insecure settings: the daemon does not treat %s as an insecure registry (insecure-registries in daemon.json, or an address in an insecure range), so it refuses plain HTTP", f.host) + mirrors
		case registry.CauseDNS:
			return fmt.Sprintf("DNS seen by the daemon: %s does not resolve where the daemon runs (its resolv.conf, a remote daemon, a container network), though it resolved for runnerup", f.host) + mirrors
		case registry.CauseProxyWrong, registry.CauseNetworkTimeout, registry.CauseConnectionRefused:
			return fmt.Sprintf("daemon proxy and network: %s; runnerup's probe reached %s through the same settings, so the daemon's own route (firewall, proxy environment at its start) differs", proxy, f.host) + mirrors
		case registry.CauseMissingCredentials, registry.CauseAuthRejected, registry.CauseTokenRejected, registry.CauseAccessDenied:
			return fmt.Sprintf("credentials: the daemon used the X-Registry-Auth the runner sends (from %s); runnerup's probe got a different answer with the same credential (a token server or registry policy that treats the daemon's requests otherwise)", v.CredentialSource) + mirrors
		}
		if mirrors != "" {
			return strings.TrimPrefix(mirrors, "; ")
		}
		return fmt.Sprintf("the daemon's view of %s (proxy: %s; certs.d; mirrors; insecure registries; DNS) differs from runnerup's", f.host, proxy)
	}
	// The daemon pulled what runnerup's probe could not fetch.
	switch v.HTTPCause {
	case registry.CauseTLSUnknownCA, registry.CauseTLSHostname, registry.CauseTLSExpired, registry.CauseTLSClientCert:
		return fmt.Sprintf("certificates: the daemon trusts %s (its /etc/docker/certs.d/%s/ or system CAs), runnerup's probe read %s/%s/ and this host's CAs", f.host, f.host, certs, f.host) + mirrors
	case registry.CausePlainHTTP:
		return fmt.Sprintf("insecure settings: the daemon treats %s as an insecure registry", f.host) + mirrors
	case registry.CauseDNS, registry.CauseNetworkTimeout, registry.CauseConnectionRefused, registry.CauseProxyWrong:
		return fmt.Sprintf("DNS and network seen by the daemon: it reaches %s (%s) where runnerup's probe could not", f.host, proxy) + mirrors
	}
	if mirrors != "" {
		return strings.TrimPrefix(mirrors, "; ")
	}
	return fmt.Sprintf("the daemon's view of %s (proxy: %s; certs.d; mirrors; insecure registries; DNS) differs from runnerup's", f.host, proxy)
}

// DaemonWins applies the rule "the daemon's own pull beats runnerup's HTTP
// probe": a failed HTTP check of an image the daemon then pulled becomes a
// warning saying so, unless another image's pull through the same check
// failed too. Results without pull checks are returned unchanged.
func DaemonWins(results []probe.Result) []probe.Result {
	won := map[string]string{} // HTTP check id -> pull check id
	lost := map[string]bool{}
	for _, r := range results {
		v, ok := r.Data.(PullVerdict)
		if !ok {
			continue
		}
		for _, id := range v.httpFailed {
			if v.Pulled {
				won[id] = r.ID
			} else {
				lost[id] = true
			}
		}
	}
	if len(won) == 0 {
		return results
	}
	out := make([]probe.Result, len(results))
	for i, r := range results {
		if pull, ok := won[r.ID]; ok && !lost[r.ID] && r.Status == probe.Fail {
			r.Status = probe.Warn
			r.Detail += fmt.Sprintf(" (the daemon pulled the image anyway, see %s: its answer wins)", pull)
		}
		out[i] = r
	}
	return out
}
