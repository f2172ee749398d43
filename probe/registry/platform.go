package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/runnerup/runnerup/probe"
)

// maxConfig caps the config blob read. It is larger than the 64 KiB used
// for error bodies because a config with a long build history legitimately
// exceeds that; only os/architecture/variant are needed from it.
const maxConfig = 1 << 20

// runPlatform is image.<ref>.platform.
func (ip imageProbe) runPlatform(ctx context.Context, deps probe.Deps) probe.Result {
	m, ok := probe.DataOf[Manifest](deps, ManifestID(ip.im.ref))
	if !ok {
		return probe.Skipf("skipped: no image manifest to read platforms from (%s)", ManifestID(ip.im.ref))
	}
	want, from := ip.wantPlatform(deps)
	if want.OS == "" {
		return probe.Skipf("skipped: the daemon's platform is unknown (%s did not pass)", probe.IDDaemonPlatform)
	}
	base := Failure{Host: ip.im.host, Ref: ip.im.ref, CredentialSource: m.auth.Source}
	if m.Index {
		return ip.indexPlatform(m, want, from, base)
	}
	r := ip.singlePlatform(ctx, m, want, from, base)
	return scrub(r, m.auth.secrets.list()...)
}

// wantPlatform is Options.Platform, else the daemon's.
func (ip imageProbe) wantPlatform(deps probe.Deps) (probe.Platform, string) {
	if ip.opts.Platform != nil {
		return *ip.opts.Platform, "the requested platform"
	}
	p, _ := probe.DataOf[probe.Platform](deps, probe.IDDaemonPlatform)
	return p, "the daemon"
}

func (ip imageProbe) indexPlatform(m Manifest, want probe.Platform, from string, base Failure) probe.Result {
	if i, ok := matchPlatform(want, m.Platforms); ok {
		return probe.Passf("%s is %s: %s", from, displayPlatform(want), describeEntry(m, i))
	}
	var offered []string
	for _, p := range m.Platforms {
		if !isAttestation(p) {
			offered = append(offered, entryPlatform(p))
		}
	}
	base.Cause, base.Suggestions = CausePlatformMissing, offered
	list := strings.Join(offered, ", ")
	if list == "" {
		list = "no runnable platform"
	}
	return failed(base,
		fmt.Sprintf("use a tag built for %s; build multi-arch (docker buildx build --platform %s,…); or route the job (runner tags) to a runner on one of: %s", want.String(), want.String(), list),
		"no matching manifest for %s in the manifest list entries: the index offers %s", displayPlatform(want), list)
}

func describeEntry(m Manifest, i int) string {
	s := entryPlatform(m.Platforms[i])
	if i < len(m.entries) {
		s += " → " + shortDigest(m.entries[i].Digest.String())
	}
	return s
}

// singlePlatform fetches a single manifest's config blob and compares its
// os/architecture: a mismatch still pulls, then fails with "exec format
// error" when the job runs.
func (ip imageProbe) singlePlatform(ctx context.Context, m Manifest, want probe.Platform, from string, base Failure) probe.Result {
	rec := &recorder{}
	got, err := fetchConfigPlatform(withRecorder(ctx, rec), m)
	if err != nil {
		if a, ok := answerOf(err, rec); ok {
			return ip.registryFailure(a, base, "GET config blob "+shortDigest(m.ConfigDigest))
		}
		f := classifyNetErr(err, ip.im.host, certsDirState{})
		base.Cause = f.cause
		return failed(base, f.hint, "reading the config blob %s: %s", shortDigest(m.ConfigDigest), f.detail)
	}
	// Any single image pulls; whether it runs is platforms.Only's question
	// whatever the daemon's version (amd64 runs 386 binaries).
	runs := want
	runs.ExactIndexMatch = false
	if _, ok := matchPlatform(runs, []probe.Platform{got}); ok {
		return probe.Passf("single-platform %s image; %s is %s", got, from, displayPlatform(want))
	}
	base.Cause, base.Suggestions = CauseWrongSingleArch, []string{got.String()}
	return warned(base,
		fmt.Sprintf("use an image built for %s (or a multi-arch tag); or route the job to a %s runner; or run it emulated with binfmt/qemu on the host", want.String(), got.String()),
		"single-platform %s image but %s is %s: it pulls, then the job fails with \"exec format error\"", got, from, displayPlatform(want))
}

func fetchConfigPlatform(ctx context.Context, m Manifest) (probe.Platform, error) {
	puller, err := remote.NewPuller(remote.WithTransport(m.auth.rt))
	if err != nil {
		return probe.Platform{}, fmt.Errorf("go-containerregistry puller: %w", err)
	}
	layer, err := puller.Layer(ctx, m.ref.Context().Digest(m.ConfigDigest))
	if err != nil {
		return probe.Platform{}, err
	}
	rc, err := layer.Compressed()
	if err != nil {
		return probe.Platform{}, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxConfig))
	if err != nil {
		return probe.Platform{}, fmt.Errorf("reading config blob: %w", err)
	}
	var cfg struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Variant      string `json:"variant"`
		OSVersion    string `json:"os.version"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return probe.Platform{}, fmt.Errorf("parsing config blob: %w", err)
	}
	return probe.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion}, nil
}

// matchPlatform picks the entry the daemon would pull for want, by the
// preference of containerd's platforms.Only (what dockerd filters and
// sorts an index with since Docker 23): amd64 also takes 386, arm64 takes
// arm/v8…v5, and an entry without a platform matches too, sorted after
// every entry that names one (moby's filterManifests, containerd's
// images.Manifest: `descP == nil || m.Match(*descP)`). With
// want.ExactIndexMatch (Docker 20.10) only the exact platform, then, for
// 32-bit arm, any arm entry (its deprecated fallback); an entry without a
// platform never. Attestation entries (unknown/unknown) never match.
func matchPlatform(want probe.Platform, entries []probe.Platform) (int, bool) {
	m := platforms.Only(toSpec(want))
	if want.ExactIndexMatch {
		m = platforms.OnlyStrict(toSpec(want))
	}
	if i, ok := bestMatch(m, entries); ok {
		return i, ok
	}
	if !want.ExactIndexMatch {
		i := slices.IndexFunc(entries, isNoPlatform)
		return max(i, 0), i >= 0
	}
	n := platforms.Normalize(toSpec(want))
	if n.Architecture != "arm" {
		return 0, false
	}
	for i, e := range entries {
		if e.OS == n.OS && e.Architecture == "arm" {
			return i, true
		}
	}
	return 0, false
}

// bestMatch is the entry m matches and ranks first.
func bestMatch(m platforms.MatchComparer, entries []probe.Platform) (int, bool) {
	best := -1
	for i, e := range entries {
		if isAttestation(e) || isNoPlatform(e) || !m.Match(toSpec(e)) {
			continue
		}
		if best < 0 || m.Less(toSpec(e), toSpec(entries[best])) {
			best = i
		}
	}
	return max(best, 0), best >= 0
}

func toSpec(p probe.Platform) ocispec.Platform {
	return ocispec.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion}
}

// displayPlatform spells a platform as the daemon's error does
// (normalised; linux/arm64/v8 for arm64).
func displayPlatform(p probe.Platform) string {
	n := platforms.Normalize(toSpec(p))
	if n.Architecture == "arm64" && n.Variant == "" {
		n.Variant = "v8"
	}
	return platforms.Format(n)
}

func isAttestation(p probe.Platform) bool {
	return p.OS == "unknown" || p.Architecture == "unknown"
}

// toPlatform converts an index entry's platform. An entry without one
// (no platform field, or an empty one, which moby reads alike) is the zero
// Platform: not unknown/unknown, because the daemon may pull it.
func toPlatform(p *v1.Platform) probe.Platform {
	if p == nil || p.Equals(v1.Platform{}) {
		return probe.Platform{}
	}
	return probe.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion}
}

// isNoPlatform is an index entry without a platform.
func isNoPlatform(p probe.Platform) bool { return p == probe.Platform{} }

// entryPlatform spells an index entry's platform for messages.
func entryPlatform(p probe.Platform) string {
	if isNoPlatform(p) {
		return "(no platform)"
	}
	return p.String()
}
