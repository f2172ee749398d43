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
// Beyond the daemon itself: daemon.runner-api and daemon.dind-api compare
// the Docker clients that talk to it (the installed gitlab-runner, a job's
// docker:NN CLI beside a docker:MM-dind service) with the API range it
// accepts (Docker 29 refuses clients below 1.44: docker-api-too-old);
// runner.helper-image names the helper image the runner will use and
// checks it can have it (one check per distinct image of a config.toml's
// docker entries, Linux or Windows servercore as the daemon's OS decides); and with --pull, image.<ref>.pull lets the daemon
// pull each image itself with the X-Registry-Auth the runner would send,
// its answer beside (and over) the HTTP-side registry checks (DaemonWins).
//
// The checks talk to the daemon only through API, the three Engine calls
// they need (plus ImagePull and ImageInspect when the client has them), so
// unit tests fake it with func fields (docker/cli style) and integration
// tests point the real client at a private dockerd.
package daemon
