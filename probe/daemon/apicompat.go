package daemon

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/moby/client/pkg/versions"
)

// CauseAPITooOld is the catalogue id of a Docker client whose API version
// is below the daemon's minimum (docs/pull-failures.md docker-api-too-old).
const CauseAPITooOld = "docker-api-too-old"

// Docker Engine 29 raised the daemon's default minimum API version from
// 1.24 to 1.44 (moby daemon/config/config.go defaultMinAPIVersion at
// docker-v29.0.0; DOCKER_MIN_API_VERSION or daemon.json "min-api-version"
// lower it, down to 1.24). Engines 25–28 accept 1.24, older ones 1.12
// (api/common_unix.go MinVersion).
const engine29MinAPI = "1.44"

// semver is a major.minor release for table lookups.
type semver struct{ major, minor int }

func (v semver) less(o semver) bool {
	return v.major < o.major || v.major == o.major && v.minor < o.minor
}

func (v semver) String() string { return fmt.Sprintf("%d.%d", v.major, v.minor) }

// apiRow says which Docker API a client speaks from release `from` on.
type apiRow struct {
	from semver
	// api is the highest API version the client asks for; it negotiates
	// down to an older daemon's, never up.
	api string
	// client names the Docker client behind it (the evidence).
	client string
	// fixed: no negotiation, always api (DOCKER_API_VERSION not read).
	fixed bool
	// minNegotiate is the lowest daemon API the client accepts ("" = any).
	minNegotiate string
}

// runnerClients: the Docker client each GitLab Runner release uses, from
// the runner's go.mod and helpers/docker/official_docker_client.go at each
// vX.Y.0 tag (no patch release changes it), with the client's default
// version from moby api/common.go DefaultVersion (client/client.go
// MaxAPIVersion for github.com/moby/moby/client). Before 14.10 the runner
// pinned API 1.25 (DefaultAPIVersion) without negotiation; from 14.10 on
// it negotiates and honours DOCKER_API_VERSION (WithVersionFromEnv, which
// then turns negotiation off).
var runnerClients = []apiRow{
	{from: semver{0, 0}, api: "1.25", client: "github.com/docker/docker pinned to API 1.25 (DefaultAPIVersion, no negotiation)", fixed: true},
	{from: semver{14, 10}, api: "1.41", client: "github.com/docker/docker v20.10"},
	{from: semver{15, 10}, api: "1.42", client: "github.com/docker/docker v23.0"},
	{from: semver{16, 3}, api: "1.43", client: "github.com/docker/docker v24.0"},
	{from: semver{17, 5}, api: "1.44", client: "github.com/docker/docker v25.0.6"},
	{from: semver{17, 11}, api: "1.47", client: "github.com/docker/docker v27.5.0"},
	{from: semver{18, 6}, api: "1.48", client: "github.com/docker/docker v28.0.0"},
	{from: semver{18, 7}, api: "1.50", client: "github.com/docker/docker v28.2.2"},
	{from: semver{18, 9}, api: "1.51", client: "github.com/docker/docker v28.5.2"},
	{from: semver{19, 2}, api: "1.55", client: "github.com/moby/moby/client v0.5", minNegotiate: "1.40"},
}

// dockerCLIs: the API version of the docker CLI by release, from docker/cli
// at each tag (vendor/github.com/docker/docker/api/common.go DefaultVersion;
// vendor/github.com/moby/moby/client/client.go MaxAPIVersion from 29.0).
// The docker:NN images ship that CLI.
var dockerCLIs = []apiRow{
	{from: semver{18, 9}, api: "1.39"},
	{from: semver{19, 3}, api: "1.40"},
	{from: semver{20, 10}, api: "1.41"},
	{from: semver{23, 0}, api: "1.42"},
	{from: semver{24, 0}, api: "1.43"},
	{from: semver{25, 0}, api: "1.44"},
	{from: semver{26, 0}, api: "1.45"},
	{from: semver{27, 0}, api: "1.46"},
	{from: semver{27, 2}, api: "1.47"},
	{from: semver{28, 0}, api: "1.48"},
	{from: semver{28, 1}, api: "1.49"},
	{from: semver{28, 2}, api: "1.50"},
	{from: semver{28, 3}, api: "1.51"},
	{from: semver{29, 0}, api: "1.52"},
	{from: semver{29, 2}, api: "1.53"},
	{from: semver{29, 3}, api: "1.54"},
	{from: semver{29, 6}, api: "1.55"},
}

// lookup returns the row that applies to v.
func lookup(rows []apiRow, v semver) (apiRow, bool) {
	var found apiRow
	ok := false
	for _, r := range rows {
		if v.less(r.from) {
			break
		}
		found, ok = r, true
	}
	return found, ok
}

// RunnerClientAPI is the Docker API a gitlab-runner release's client asks
// for ("17.4.0" → 1.43 via github.com/docker/docker v24.0).
func RunnerClientAPI(version string) (api, client string, ok bool) {
	ra, ok := runnerAPI(version, nil)
	return ra.API, ra.Client, ok
}

var semverRE = regexp.MustCompile(`^v?(\d+)\.(\d+)(?:\.(\d+))?`)

func parseSemver(s string) (semver, bool) {
	m := semverRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return semver{}, false
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return semver{major, minor}, true
}

// DockerImage is what an image reference says about the Docker inside it,
// when it is the official docker image (docker:NN, docker:NN-dind, …).
type DockerImage struct {
	Ref string
	// Latest: a moving tag (latest, dind, cli, git, …) that follows the
	// newest Docker release: 29 or newer since November 2025.
	Latest bool
	// Version is the release the tag names ({24, 0} for docker:24; a
	// major-only tag gets its newest minor when looked up).
	Version  semver
	HasMinor bool
	// DinD: the tag runs a daemon (docker:NN-dind, docker:dind).
	DinD bool
}

var dockerTagRE = regexp.MustCompile(`^(\d+)(?:\.(\d+))?(?:\.\d+)?(?:-(.*))?$`)

// ParseDockerImage recognises the official docker image (docker.io's
// library/docker, a mirror of it, or GitLab's dependency proxy path) and
// its tag. ok is false for any other image or an unknown tag.
func ParseDockerImage(ref string) (DockerImage, bool) {
	named, err := reference.ParseNormalizedNamed(strings.TrimSpace(ref))
	if err != nil {
		return DockerImage{}, false
	}
	path := reference.Path(named)
	if path != "library/docker" && !strings.HasSuffix(path, "/library/docker") && !strings.HasSuffix(path, "/dependency_proxy/containers/docker") {
		return DockerImage{}, false
	}
	tag := "latest"
	if t, ok := named.(reference.Tagged); ok {
		tag = t.Tag()
	}
	d := DockerImage{Ref: reference.FamiliarString(reference.TagNameOnly(named))}
	switch tag {
	case "latest", "cli", "git", "windowsservercore":
		d.Latest = true
		return d, true
	case "dind", "dind-rootless":
		d.Latest, d.DinD = true, true
		return d, true
	}
	m := dockerTagRE.FindStringSubmatch(tag)
	if m == nil {
		return DockerImage{}, false
	}
	d.Version.major, _ = strconv.Atoi(m[1])
	if m[2] != "" {
		d.Version.minor, _ = strconv.Atoi(m[2])
		d.HasMinor = true
	}
	d.DinD = strings.HasPrefix(m[3], "dind")
	return d, true
}

// ClientAPI is the API version the image's docker CLI asks for; latest
// tags return the newest known.
func (d DockerImage) ClientAPI() (string, bool) {
	if d.Latest {
		return dockerCLIs[len(dockerCLIs)-1].api, true
	}
	v := d.Version
	if !d.HasMinor {
		v.minor = 99 // docker:27 is the newest 27.x
	}
	r, ok := lookup(dockerCLIs, v)
	return r.api, ok
}

// MinAPI is the lowest API version the image's daemon accepts by default.
func (d DockerImage) MinAPI() string {
	switch {
	case d.Latest || d.Version.major >= 29:
		return engine29MinAPI
	case d.Version.major >= 25:
		return "1.24"
	default:
		return "1.12"
	}
}

// Describe names the release: "Docker 24", "Docker 24.0", "the newest Docker".
func (d DockerImage) Describe() string {
	if d.Latest {
		return "the newest Docker (29 or later)"
	}
	if d.HasMinor {
		return "Docker " + d.Version.String()
	}
	return fmt.Sprintf("Docker %d", d.Version.major)
}

// apiLess reports a < b for "1.NN" versions.
func apiLess(a, b string) bool { return versions.LessThan(a, b) }
