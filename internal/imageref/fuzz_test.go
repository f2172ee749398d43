package imageref

import (
	"strings"
	"testing"

	"github.com/distribution/reference"
)

// runnerImageHost is GitLab Runner's normalizeImageRef host part
// (docs/gitlab-runner.md §5.3): the first path segment is the
// registry when it holds "." or ":" or is "localhost" (any case), else the
// image is on Docker Hub; the host is lower-cased and index.docker.io is
// docker.io.
func runnerImageHost(ref string) string {
	first, _, ok := strings.Cut(ref, "/")
	if !ok || !(strings.ContainsAny(first, ".:") || strings.EqualFold(first, "localhost")) {
		return "docker.io"
	}
	h := strings.ToLower(first)
	if h == "index.docker.io" {
		return "docker.io"
	}
	return h
}

// runnerKeyHost is the host part of GitLab Runner's normalisation of a
// config.json key (§5.3).
func runnerKeyHost(key string) string {
	k := key
	for _, scheme := range []string{"https://", "http://"} {
		if rest, ok := strings.CutPrefix(k, scheme); ok {
			k, _, _ = strings.Cut(rest, "/")
			break
		}
	}
	k = strings.TrimSuffix(k, "/")
	h, _, _ := strings.Cut(k, "/")
	h = strings.ToLower(h)
	if h == "index.docker.io" {
		return "docker.io"
	}
	return h
}

// dockerCLIKey is the key the docker CLI looks up for a reference's domain
// (registry.ParseRepositoryInfo: the official index, docker.io, uses
// IndexServer; every other registry its domain as written).
func dockerCLIKey(domain string) string {
	if domain == "docker.io" {
		return DockerHubAuthKey
	}
	return domain
}

// FuzzImageRef: Host never panics and accepts exactly the references
// distribution/reference accepts, returning their domain; AuthKey of that
// host is the key the docker CLI (for lower-case domains) and GitLab Runner
// look the image's credentials up under, so credentials runnerup writes are
// the ones a pull uses.
func FuzzImageRef(f *testing.F) {
	for _, s := range []string{
		"alpine", "alpine:3.20", "library/alpine", "docker.io/library/alpine:latest", "index.docker.io/user/app",
		"registry-1.docker.io/library/alpine", "Registry.Example.com/app", "registry.example.com:5000/group/sub/app:1.2",
		"localhost/app", "LOCALHOST/app", "localhost:5000/app@sha256:0123456789012345678901234567890123456789012345678901234567890123",
		"[::1]:5000/app", "192.168.1.10:5000/a", "ghcr.io/owner/img", "group/UPPER", "https://r.example/app", "a b",
		"xn--bcher-kva.example/app", "foo_bar.com/app", "host:99999/app", "a/b/c/d/e:tag@sha256:0123456789012345678901234567890123456789012345678901234567890123",
		"", ":", "/", "a:", "@", "registry.hub.docker.com/library/alpine", "Docker.IO/library/alpine",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		host, err := Host(ref)
		named, perr := reference.ParseNormalizedNamed(ref)
		if perr == nil && reference.Domain(named) == "" {
			// A path on no registry ("foo_bar.com/app"): Host refuses it.
			if err == nil {
				t.Fatalf("Host(%q) = %q with no error for a reference without a domain", ref, host)
			}
			return
		}
		if (err == nil) != (perr == nil) {
			t.Fatalf("Host(%q) err = %v, reference says %v", ref, err, perr)
		}
		if err != nil {
			if host != "" || !strings.Contains(err.Error(), "parsing image reference") {
				t.Fatalf("Host(%q) = %q, %v", ref, host, err)
			}
			return
		}
		domain := reference.Domain(named)
		if host != domain {
			t.Fatalf("Host(%q) = %q, reference's domain is %q", ref, host, domain)
		}
		key := AuthKey(host)
		if key != strings.ToLower(key) && key != DockerHubAuthKey {
			t.Fatalf("AuthKey(%q) = %q is not lower case", host, key)
		}
		if AuthKey(key) != key && key != DockerHubAuthKey {
			t.Fatalf("AuthKey is not idempotent: %q → %q", key, AuthKey(key))
		}
		if key == DockerHubAuthKey && !IsDockerHub(host) {
			t.Fatalf("AuthKey(%q) is Docker Hub's key but IsDockerHub says no", host)
		}
		if IsDockerHub(host) && RegistryKey(host) != DockerHubAuthKey {
			t.Fatalf("RegistryKey(%q) = %q, want Docker Hub's key", host, RegistryKey(host))
		}
		if domain == strings.ToLower(domain) && key != dockerCLIKey(domain) {
			t.Fatalf("AuthKey(%q) = %q; the docker CLI looks %q up under %q", host, key, ref, dockerCLIKey(domain))
		}
		// The runner's own matching: the key written must match the image.
		// Not comparable: a first segment with upper case and no "." or ":"
		// ("A/b"), a registry for Docker but Docker Hub for the runner.
		first, _, _ := strings.Cut(ref, "/")
		if first != strings.ToLower(first) && !strings.ContainsAny(first, ".:") && !strings.EqualFold(first, "localhost") {
			return
		}
		if runnerKeyHost(key) != runnerImageHost(ref) {
			t.Fatalf("GitLab Runner would not use key %q for %q (its image host %q, key host %q)", key, ref, runnerImageHost(ref), runnerKeyHost(key))
		}
	})
}
