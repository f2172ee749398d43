// Package imageref maps image references to registry hosts and to the
// config.json keys Docker stores their credentials under. render (which
// writes the keys) and probe (which looks them up) share it so the two can
// never disagree.
package imageref

import (
	"fmt"
	"strings"

	"github.com/distribution/reference"
)

// DockerHubAuthKey is the only spelling of Docker Hub's key that the docker
// CLI finds (docker/cli configfile getAuthConfigKey).
const DockerHubAuthKey = "https://index.docker.io/v1/"

// DockerHub is the domain distribution/reference gives Docker Hub images.
const DockerHub = "docker.io"

// Host returns the registry domain of an image reference, normalised as
// Docker does: `alpine` → docker.io, `localhost:5000/x` → localhost:5000.
func Host(ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("parsing image reference %q: %w", ref, err)
	}
	domain := reference.Domain(named)
	if domain == "" {
		// "foo_bar.com/app": '_' cannot be in a host name, so reference
		// reads the whole thing as a path on no registry at all. An empty
		// host would become an empty config.json key.
		return "", fmt.Errorf("parsing image reference %q: no registry host (the first part is not a valid host name, so it reads as a repository path)", ref)
	}
	return domain, nil
}

// IsDockerHub reports whether host names Docker Hub in any of its spellings.
func IsDockerHub(host string) bool {
	switch strings.ToLower(host) {
	case "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return true
	}
	return false
}

// AuthKey is the config.json `auths`/`credHelpers` key Docker and GitLab
// Runner look an image's credentials up under, for the image's registry
// host: DockerHubAuthKey for docker.io (and index.docker.io, which
// reference folds into it), host[:port] otherwise. Docker Hub's other
// names (registry-1.docker.io, registry.hub.docker.com) are keys of their
// own for images named with them.
func AuthKey(host string) string {
	switch h := strings.ToLower(host); h {
	case DockerHub, "index.docker.io":
		return DockerHubAuthKey
	default:
		return h
	}
}

// RegistryKey is the key for a registry host a person typed: any of Docker
// Hub's names means Docker Hub, whose images are named docker.io/….
func RegistryKey(host string) string {
	if IsDockerHub(host) {
		return DockerHubAuthKey
	}
	return AuthKey(host)
}
