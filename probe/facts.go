package probe

import "github.com/moby/moby/client/pkg/versions"

// Shared check ids and the facts they carry in Result.Data, so checks in
// different sub-packages can depend on each other without importing one
// another.
const (
	// IDDaemonPlatform's Data is a Platform: the daemon's OS/arch, which
	// manifest platform checks compare against.
	IDDaemonPlatform = "daemon.platform"
	// IDDaemonRegistries' Data is a DaemonRegistries: how the daemon treats
	// registries (insecure CIDRs, mirrors), which TLS/HTTP checks need.
	IDDaemonRegistries = "daemon.registries"
)

// Platform is an OS/architecture pair in GOOS/GOARCH spelling, as the
// daemon's /version reports it and OCI indexes list it.
type Platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
	OSVersion    string `json:"os_version,omitempty"`
	// ExactIndexMatch is set for daemons older than Docker 23 (API < 1.42):
	// they pull an index entry only for exactly this platform
	// (platforms.NewMatcher in moby 20.10's distribution/pull_v2_unix.go).
	// Newer ones take compatible entries too (platforms.Only since moby
	// fcc42d5682): amd64 → 386, arm64 → arm/v8…v5.
	ExactIndexMatch bool `json:"exact_index_match,omitempty"`
}

// ExactIndexMatchFor is Platform.ExactIndexMatch for a daemon answering
// with API version api ("" when unknown: assume a current daemon).
func ExactIndexMatchFor(api string) bool {
	return api != "" && versions.LessThan(api, "1.42")
}

func (p Platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// DaemonRegistries is the daemon's registry configuration from /info.
type DaemonRegistries struct {
	// InsecureCIDRs always contains 127.0.0.0/8 (and ::1/128 on Docker 28+).
	InsecureCIDRs []string `json:"insecure_cidrs"`
	// Secure maps index names (host[:port]) the daemon knows to whether it
	// verifies them; an insecure-registries entry appears here as false.
	Secure  map[string]bool `json:"secure"`
	Mirrors []string        `json:"mirrors"`
}
