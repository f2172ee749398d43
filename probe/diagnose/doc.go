// Package diagnose answers "why did my job die with `failed to pull image`?"
// for one image and one runner entry: it resolves the credentials exactly as
// GitLab Runner will (probe/credentials), probes the pull chain the Docker
// daemon will walk (probe/daemon, probe/registry through probe/suite), adds
// the runner's pull policy against the daemon's local images, optionally
// matches a job log's error text against the catalogue of
// docs/pull-failures.md, and names the causes, most likely first, with
// the evidence that proves each and the fix as concrete steps.
//
// The catalogue (ids, summaries, job-log matchers, fixes) is one table,
// Catalogue. Live probes decide from the cause ids the checks record (never
// from message text); the log matcher is only for --log, and its verdict is
// confirmed or refuted by the live probes ("confirmed" / "not reproduced
// now"), since a log can be stale.
//
// Nothing in a Report holds a secret: every text goes through a redactor
// that knows the passwords, tokens and raw `auth` values of every source.
package diagnose
