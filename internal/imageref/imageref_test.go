package imageref

import "testing"

func TestHostAndAuthKey(t *testing.T) {
	tests := []struct{ ref, host, key string }{
		{"alpine", "docker.io", DockerHubAuthKey},
		{"library/alpine:3.20", "docker.io", DockerHubAuthKey},
		{"index.docker.io/user/app", "docker.io", DockerHubAuthKey},
		{"registry.example.com:5000/group/app:1", "registry.example.com:5000", "registry.example.com:5000"},
		{"localhost/app", "localhost", "localhost"},
		{"localhost:5000/app@sha256:" + "0123456789012345678901234567890123456789012345678901234567890123", "localhost:5000", "localhost:5000"},
		{"ghcr.io/owner/img", "ghcr.io", "ghcr.io"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			h, err := Host(tt.ref)
			if err != nil || h != tt.host || AuthKey(h) != tt.key {
				t.Errorf("Host = %q (%v), AuthKey = %q; want %q, %q", h, err, AuthKey(h), tt.host, tt.key)
			}
		})
	}
	if _, err := Host("group/UPPER"); err == nil {
		t.Errorf("an upper-case repository was accepted")
	}
	// An image named registry-1.docker.io/… is looked up under that name
	// by Docker and the runner; a registry host typed as it means Hub.
	if AuthKey("Registry-1.Docker.IO") != "registry-1.docker.io" || AuthKey("Index.Docker.IO") != DockerHubAuthKey {
		t.Errorf("AuthKey must follow Docker's lookup: %q, %q", AuthKey("Registry-1.Docker.IO"), AuthKey("Index.Docker.IO"))
	}
	if RegistryKey("Registry-1.Docker.IO") != DockerHubAuthKey || RegistryKey("registry.hub.docker.com") != DockerHubAuthKey || RegistryKey("ghcr.io") != "ghcr.io" {
		t.Errorf("RegistryKey must fold Docker Hub's names into its key")
	}
}
