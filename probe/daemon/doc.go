// Package daemon holds runnerup's live checks of the Docker daemon a GitLab
// Runner's docker executor will use: can it be reached (and by this user),
// which version and platform it is, how it treats registries (insecure
// CIDRs, mirrors), how much room its data root has, which proxy it uses and
// whether privileged containers (Docker-in-Docker) will work.
//
// The daemon, not the runner, does every registry request of a pull
// (docs/pull-failures.md §0.1), so these facts decide what the registry
// and image checks expect: daemon.platform's Data is the probe.Platform a
// manifest must offer, daemon.registries' Data the probe.DaemonRegistries
// that say whether a registry is reached over plain HTTP.
//
// The checks talk to the daemon only through API, the three Engine calls
// they need, so unit tests fake it with func fields (docker/cli style) and
// integration tests point the real client at a private dockerd.
package daemon
