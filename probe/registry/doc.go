// Package registry holds runnerup's live checks of the registries an image
// pull talks to, replaying what the Docker daemon does for a pull
// (docs/pull-failures.md §0.3): GET /v2/ over HTTPS (or plain HTTP when
// the daemon treats the registry as insecure), the 401 challenge, the token
// or Basic credentials, the manifest HEAD/GET with the OCI and Docker media
// types, and the platform the daemon will pick from an index.
//
// Per registry host there are two checks, registry.<host>.tls and
// registry.<host>.auth (HostChecks); per image two more, image.<ref>.manifest
// and image.<ref>.platform (ImageChecks). Each failing result records the
// cause id of docs/pull-failures.md in its Data (read it with Cause), so
// diagnose can name the cause without matching message text.
//
// The OCI flow itself (ping, challenge parsing, token exchange, manifest and
// blob requests, error bodies) is go-containerregistry's. This package adds
// what a daemon-faithful probe needs on top: the daemon's secure/insecure
// rules and certs.d trust (ggcr guesses from the host name instead), typed
// causes, response headers ggcr does not surface (Retry-After, Docker Hub's
// rate-limit headers, token-server error bodies) and credential redaction.
//
// Credentials are not resolved here: the check the caller names with
// Options.CredentialsCheck (the credentials package's credentials.<host>)
// resolves them exactly as GitLab Runner would, and the auth check reads its
// result through Options.CredentialFrom.
package registry
