package registry

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/runnerup/runnerup/internal/imageref"
	"github.com/runnerup/runnerup/probe"
)

// Manifest is the manifest check's Data: the descriptor the reference
// resolves to.
type Manifest struct {
	Ref       string
	MediaType string
	Digest    string
	Size      int64
	// Index is true for an OCI index or Docker manifest list; Platforms
	// then lists its entries, attestation entries (unknown/unknown)
	// included.
	Index     bool
	Platforms []probe.Platform
	// ConfigDigest and ConfigMediaType describe a single manifest's config.
	ConfigDigest, ConfigMediaType string
	// RateLimit holds Docker Hub's rate-limit headers, when sent.
	RateLimit RateLimit

	entries []v1.Descriptor // index entries, for the platform check
	auth    Auth
	ref     name.Reference
}

// imageProbe holds what an image's checks share.
type imageProbe struct {
	im      image
	opts    Options
	witness *witness // its host's, when made by Checks
}

// runManifest is image.<ref>.manifest: HEAD, then GET with every manifest
// media type the daemon accepts (go-containerregistry sends the OCI
// index/manifest, Docker list/v2 and schema 1 types).
func (ip imageProbe) runManifest(ctx context.Context, deps probe.Deps) probe.Result {
	// Tell the host's auth check how the first request here was
	// answered (witness.go): a 2xx, or nil for anything else.
	// Only the first report of all counts (witness.report), so the
	// deferred nil is a no-op after a real one.
	report := ip.witness.report
	defer report(nil)
	auth, ok := probe.DataOf[Auth](deps, AuthID(ip.im.host))
	if !ok {
		return probe.Skipf("skipped: %s did not pass", AuthID(ip.im.host))
	}
	rec := &recorder{}
	ctx = withRecorder(ctx, rec)
	r := ip.manifest(ctx, auth, rec, report)
	if rl, _ := rec.snapshot(); !rl.empty() {
		r.Detail = joinDetail(r.Detail, rl.String())
		switch d := r.Data.(type) {
		case Manifest:
			d.RateLimit = rl
			r.Data = d
		case Failure:
			d.RateLimit = rl
			r.Data = d
		}
	}
	return scrub(r, auth.secrets.list()...)
}

func (ip imageProbe) manifest(ctx context.Context, auth Auth, rec *recorder, report func(*witnessed)) probe.Result {
	ref, err := ip.nameRef(auth)
	if err != nil {
		return probe.Failf("", "%v", err)
	}
	puller, err := remote.NewPuller(remote.WithTransport(auth.rt))
	if err != nil {
		return probe.Failf("", "go-containerregistry puller: %v", err)
	}
	base := Failure{Host: ip.im.host, Ref: ip.im.ref, CredentialSource: auth.Source}

	// HEAD first, as the daemon does (Docker Hub does not count it as a
	// pull). A HEAD error has no body, so unless the status alone decides
	// (429, 5xx) or there was no answer, the GET's answer explains it. The
	// GET is needed whatever the HEAD says (only it carries the content),
	// so it is sent beside the HEAD rather than after it.
	headRec := &recorder{}
	getCtx, cancelGet := context.WithCancel(ctx)
	defer cancelGet()
	type fetched struct {
		desc *remote.Descriptor
		err  error
	}
	got := make(chan fetched, 1)
	go func() {
		desc, err := puller.Get(getCtx, ref)
		got <- fetched{desc, err}
	}()
	headDecides := func(r probe.Result) probe.Result {
		cancelGet()
		<-got
		rec.takeRateLimit(headRec)
		return r
	}
	_, headErr := puller.Head(withRecorder(ctx, headRec), ref)
	if err := headErr; err != nil {
		a, answered := answerOf(err, headRec)
		switch {
		case answered && (a.status == http.StatusTooManyRequests || a.status >= 500):
			return headDecides(ip.registryFailure(a, base, "HEAD "+ip.manifestPath()))
		case !answered:
			if f := classifyNetErr(err, ip.im.host, certsDirState{}); f.cause != "" {
				base.Cause = f.cause
				return headDecides(failed(base, f.hint, "HEAD %s: %s", ip.manifestPath(), f.detail))
			}
		}
	}
	g := <-got
	rec.fillRateLimit(headRec)
	switch {
	case headErr == nil:
		report(&witnessed{method: http.MethodHead, path: ip.manifestPath(), status: http.StatusOK})
	case g.err == nil:
		report(&witnessed{method: http.MethodGet, path: ip.manifestPath(), status: http.StatusOK})
	}
	if g.err != nil {
		return ip.getFailed(ctx, g.err, rec, puller, ref, auth, base)
	}
	r := ip.describe(g.desc, auth, ref, base)
	if m, ok := r.Data.(Manifest); ok && !m.Index && m.ConfigDigest != "" {
		// Fetch the config blob now for the platform check, which must
		// also wait for the daemon's platform: the answer is cached by
		// digest, and a failure is the platform check's to report when it
		// asks again.
		_, _ = fetchConfigPlatform(withRecorder(ctx, &recorder{}), m)
	}
	return r
}

// nameRef addresses the image at the endpoint the tls check settled on.
func (ip imageProbe) nameRef(auth Auth) (name.Reference, error) {
	repo := auth.reg.Repo(ip.im.path)
	if ip.im.digest != "" {
		return name.NewDigest(repo.Name() + "@" + ip.im.digest)
	}
	return name.NewTag(repo.Name() + ":" + ip.im.tag)
}

func (ip imageProbe) manifestPath() string {
	return fmt.Sprintf("/v2/%s/manifests/%s", ip.im.path, ip.im.identifier())
}

// getFailed explains a failed manifest GET from the registry's codes.
func (ip imageProbe) getFailed(ctx context.Context, err error, rec *recorder, puller *remote.Puller, ref name.Reference, auth Auth, base Failure) probe.Result {
	what := "GET " + ip.manifestPath()
	a, answered := answerOf(err, rec)
	if !answered {
		f := classifyNetErr(err, ip.im.host, certsDirState{})
		base.Cause = f.cause
		return failed(base, f.hint, "%s: %s", what, f.detail)
	}
	base.Status, base.Codes = a.status, a.codes
	key := imageref.AuthKey(ip.im.host)
	switch {
	case a.has(transport.NameUnknownErrorCode):
		base.Cause = CauseRepoNotFound
		return failed(base, repoHint(ip.im), "%s answered %s: repository %s not found", what, a.text(), ip.im.path)
	case a.status == http.StatusNotFound && (a.isJSON() || len(a.body) == 0):
		return ip.notFound(ctx, a, puller, ref, base)
	case a.status == http.StatusUnauthorized || a.status == http.StatusForbidden ||
		a.has(transport.DeniedErrorCode) || a.has(transport.UnauthorizedErrorCode):
		base.Cause = CauseAccessDenied
		if auth.Anonymous {
			return failed(base, fmt.Sprintf("the repository is private or does not exist: check the name, or add credentials with pull rights under %q (DOCKER_AUTH_CONFIG or the runner user's ~/.docker/config.json)", key),
				"%s answered %s: pull access denied for %s without credentials", what, a.text(), ip.im.path)
		}
		return failed(base, "grant pull access to that repository (GitLab: Reporter role or above, the project's CI/CD job token allowlist, or a deploy token with read_registry), or check the name: a missing repository looks the same on many registries",
			"%s answered %s: the credentials from %s lack pull access to %s (or it does not exist)", what, a.text(), sourceName(Credential{Source: auth.Source}), ip.im.path)
	}
	return ip.registryFailure(a, base, what)
}

// notFound tells a missing tag from a missing repository with GET
// tags/list (distribution answers MANIFEST_UNKNOWN for both on the
// manifest) and suggests the nearest existing tags.
func (ip imageProbe) notFound(ctx context.Context, a answer, puller *remote.Puller, ref name.Reference, base Failure) probe.Result {
	what := "GET " + ip.manifestPath()
	tags, lerr := listTags(ctx, puller, ref.Context())
	if la, ok := answerOf(lerr, recorderFrom(ctx)); ok && (la.has(transport.NameUnknownErrorCode) || la.status == http.StatusNotFound) {
		base.Cause, base.Codes = CauseRepoNotFound, append(base.Codes, la.codes...)
		return failed(base, repoHint(ip.im), "%s answered %s, and GET /v2/%s/tags/list answered %s: repository %s not found",
			what, a.text(), ip.im.path, la.text(), ip.im.path)
	}
	base.Cause = CauseTagNotFound
	detail := fmt.Sprintf("%s answered %s: %s has no %s", what, a.text(), ip.im.path, ip.im.identifier())
	hint := "correct the tag, push it, or pin the image by digest; check cleanup policies that delete tags"
	switch {
	case lerr != nil:
		detail += fmt.Sprintf(" (tags could not be listed: %v)", lerr)
	case ip.im.tag != "":
		base.Suggestions = nearestTags(ip.im.tag, tags, 3)
		if len(base.Suggestions) > 0 {
			detail += fmt.Sprintf("; %d tags exist, nearest: %s", len(tags), strings.Join(base.Suggestions, ", "))
			hint = fmt.Sprintf("use an existing tag (nearest: %s), push %s, or pin the image by digest", strings.Join(base.Suggestions, ", "), ip.im.tag)
		} else {
			detail += "; the repository has no tags"
		}
	}
	return failed(base, hint, "%s", detail)
}

// maxTagPages bounds the tags/list walk: suggestions need not be complete.
const maxTagPages = 5

func listTags(ctx context.Context, puller *remote.Puller, repo name.Repository) ([]string, error) {
	l, err := puller.Lister(ctx, repo)
	if err != nil {
		return nil, err
	}
	var tags []string
	for i := 0; i < maxTagPages && l.HasNext(); i++ {
		page, err := l.Next(ctx)
		if err != nil {
			return tags, err
		}
		tags = append(tags, page.Tags...)
	}
	return tags, nil
}

func repoHint(im image) string {
	return fmt.Sprintf("correct the repository path %q in the image name (GitLab: registry.host/group/project[/image]); the group or project may have been renamed", im.path)
}

func (ip imageProbe) registryFailure(a answer, base Failure, what string) probe.Result {
	cause, detail, hint := serverFailure(a, what, ip.im.host)
	base.Cause, base.Status, base.Codes, base.RetryAfter = cause, a.status, a.codes, a.retryAfter
	return failed(base, hint, "%s", detail)
}

// describe turns the fetched manifest into the check's Data.
func (ip imageProbe) describe(desc *remote.Descriptor, auth Auth, ref name.Reference, base Failure) probe.Result {
	m := Manifest{Ref: ip.im.ref, MediaType: string(desc.MediaType), Digest: desc.Digest.String(), Size: desc.Size, auth: auth, ref: ref}
	short := shortDigest(m.Digest)
	switch {
	case desc.MediaType.IsIndex():
		idx, err := v1.ParseIndexManifest(bytes.NewReader(desc.Manifest))
		if err != nil {
			return probe.Failf("", "parsing the index %s: %v", short, err)
		}
		m.Index = true
		var shown []string
		for _, d := range idx.Manifests {
			m.entries = append(m.entries, d)
			p := toPlatform(d.Platform)
			m.Platforms = append(m.Platforms, p)
			if !isAttestation(p) {
				shown = append(shown, entryPlatform(p))
			}
		}
		r := probe.Passf("%s %s: index of %s", m.MediaType, short, strings.Join(shown, ", "))
		r.Data = m
		return r
	case desc.MediaType.IsSchema1():
		base.Cause = CauseSchema1
		return warned(base, "rebuild and push the image with a current client: Docker ≥ 28.2 refuses schema 1, 26.0–28.1 only with DOCKER_ENABLE_DEPRECATED_PULL_SCHEMA_1_IMAGE",
			"%s %s: a Docker schema 1 manifest", desc.MediaType, short)
	case desc.MediaType.IsImage():
		mf, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
		if err != nil {
			return probe.Failf("", "parsing the manifest %s: %v", short, err)
		}
		m.ConfigDigest, m.ConfigMediaType = mf.Config.Digest.String(), string(mf.Config.MediaType)
		if !mf.Config.MediaType.IsConfig() {
			base.Cause = CauseUnsupportedMedia
			return failed(base, "the reference names an artifact (a Helm chart, signature, SBOM, …), not a container image: use the image's reference",
				"%s %s has config media type %s: the daemon fails with \"unsupported media type %s\"", m.MediaType, short, m.ConfigMediaType, m.ConfigMediaType)
		}
		r := probe.Passf("%s %s: single-platform image", m.MediaType, short)
		r.Data = m
		return r
	}
	base.Cause = CauseUnsupportedMedia
	return failed(base, "the reference names something that is not a container image", "%s: unsupported media type %q", short, desc.MediaType)
}

func shortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13] + "…"
	}
	return d
}
