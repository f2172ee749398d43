package credentials

import (
	"github.com/docker/docker-credential-helpers/client"
)

// Source names as the runner logs them ("Authenticating with credentials
// from <source>"); the home file's source name is its path.
const (
	SourceAuthConfig = "$DOCKER_AUTH_CONFIG"
	SourceJobPayload = "job payload (GitLab Registry)"
)

// SourceReport statuses.
const (
	StatusUsed     = "used"     // this source supplied the credential
	StatusShadowed = "shadowed" // it has a matching entry, but another one wins
	StatusNoMatch  = "no-match" // it loaded, but nothing in it matches the image
	StatusDropped  = "dropped"  // the runner discards it (error) or never reads it
	StatusAbsent   = "absent"   // not set / no such file
	StatusEmpty    = "empty"    // present but contributes no credentials
)

// Cause ids from docs/pull-failures.md, so diagnose can map a report
// to its catalogue entry.
const (
	CauseMissing           = "auth-missing-credentials"
	CauseKeyMismatch       = "auth-key-mismatch"
	CauseBase64Invalid     = "auth-base64-invalid"
	CauseBase64Newline     = "auth-base64-trailing-newline"
	CauseMalformed         = "docker-auth-config-malformed"
	CauseHelperMissing     = "credstore-helper-missing"
	CauseHelperFailed      = "credhelper-failed"
	CauseSourceDropped     = "credential-source-dropped"
	CausePathTraversal     = "credential-helper-path" // no catalogue entry: the runner fails the pull itself
	CauseHelperUnreachable = "credhelper-timeout"     // the runner has no deadline and would hang
)

// Resolver describes the runner the way its credential lookup sees it.
type Resolver struct {
	// RunnerEnvironment is the [[runners]] environment of the runner entry
	// (KEY=VALUE); DOCKER_AUTH_CONFIG is taken from it (last one wins) and
	// $VAR references in it are expanded against it, as the runner expands
	// job variables (references to variables only a job defines become
	// empty here, and the report says so).
	RunnerEnvironment []string
	// AuthConfig, when set, overrides the DOCKER_AUTH_CONFIG value (e.g. a
	// CI/CD variable's value, which beats the runner environment in the
	// job). It is used verbatim. A set but empty value hides the runner
	// environment's value, as an empty CI/CD variable does.
	AuthConfig *string
	// HomeDir is the home of the user the runner process runs as:
	// $HOME/.docker/config.json, else $HOME/.dockercfg (only the first that
	// opens). DOCKER_CONFIG is not consulted (the runner ignores it).
	HomeDir string
	// ConfigJSON, when non-nil, replaces the bytes of HomeDir's config.json
	// (runnerup probes the file it is about to write); ConfigJSONPath names
	// it for display and as the source name (default
	// HomeDir/.docker/config.json).
	ConfigJSON     []byte
	ConfigJSONPath string
	// JobPayload simulates the registry credentials GitLab sends with each
	// job (CI_REGISTRY host + gitlab-ci-token); optional. IdentityToken is
	// ignored, as the runner ignores it for payload credentials.
	JobPayload []Credential

	// Program is the seam for running credential helpers: it gets the
	// full program name ("docker-credential-desktop") and returns a
	// docker-credential-helpers client.ProgramFunc, the same seam
	// docker/cli's native store uses. Nil runs the binary found by
	// LookPath with the Resolve context as deadline, HelperEnv as
	// environment, and stdout as the answer (client.NewShellProgramFunc's
	// behaviour).
	Program func(name string) client.ProgramFunc
	// LookPath finds helper binaries (default: exec.LookPath, or a search
	// of HelperEnv's PATH when HelperEnv has one). The helper checks use it
	// even when Program is faked.
	LookPath func(file string) (string, error)
	// HelperEnv is the runner process's environment for helpers
	// (KEY=VALUE; nil: Process's, else runnerup's). Its PATH decides
	// whether a helper is found, as the service's PATH does for the
	// runner.
	HelperEnv []string
	// Process is the gitlab-runner process the helpers run in: its
	// environment (unless HelperEnv is set), where its PATH comes from and
	// the user to run them as (RunnerProcess); nil: runnerup's own.
	Process *Process
	// ShellPATH is runnerup's own PATH ("" = $PATH): a helper the runner
	// cannot find but this PATH has is named with its directory.
	ShellPATH string
	// LookupOnly makes the helper checks only look helpers up, without
	// running them (`check`, which contacts nothing).
	LookupOnly bool
}

// Credential is what the runner would send as X-Registry-Auth.
// Password and IdentityToken are secrets: never print them.
type Credential struct {
	ServerAddress string
	Username      string
	Password      string
	IdentityToken string
}

// Empty reports a credential with neither a user nor any secret (what a
// helper's "credentials not found" leaves behind).
func (c Credential) Empty() bool {
	return c.Username == "" && c.Password == "" && c.IdentityToken == ""
}

// SourceReport says what one source contributed for one image.
type SourceReport struct {
	Name   string // as the runner logs it
	Status string // one of the Status* constants
	Reason string // human sentence, no secrets
	Key    string // the key that matched or nearly matched
	Cause  string // a Cause* id when something is wrong, else ""
	Err    error  // the error that dropped the source; its text is redacted
	// Incomplete is set on a dropped source whose keys are not all known
	// (unparsable JSON, an unreadable file, a credsStore that could not
	// list): it may have held credentials for any image.
	Incomplete bool
}

// Problem is a finding about the resolution that the source statuses alone
// do not carry (the winning credential is unusable, the pull cannot even
// start).
type Problem struct {
	Cause   string
	Message string // no secrets
	Fatal   bool   // the pull will fail or go out without working credentials
}

// Resolution is the answer for one image.
type Resolution struct {
	Image        string
	RegistryPath string // normalised image path, as the runner matches it
	Host         string // first segment of RegistryPath (host[:port])

	Found      bool
	Source     string // the winning source's name
	Key        string // the key (as written in the source) that matched
	Credential Credential

	// Sources lists every source in precedence order, with why it was or
	// was not used.
	Sources []SourceReport
	// NearMisses are keys in any source that differ from a matching key
	// only by port, path, case, Docker Hub spelling or loopback alias
	// (auth-key-mismatch evidence); "<key> in <source>: <why>".
	NearMisses []string
	// Problems found on the way; see Problem.
	Problems []Problem
	// Fatal is the error the runner's ConfigForImage itself returns (a
	// helper name with a path): the pull fails before any registry call.
	Fatal error
	// Related holds the resolutions of further images on the same host
	// when Checks resolves several for one credentials.<host> check.
	Related []Resolution
}
