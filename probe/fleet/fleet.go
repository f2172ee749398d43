// Package fleet holds the checks about a runner that exists but is wrong:
// the config file the service really reads, its proxies, a cloned system
// id, duplicate and stale [[runners]] entries, tokens about to expire
// (user-needs §11–§15). They are probe checks, so apply, probe, check and
// the wizard's review report them alike.
package fleet

import (
	"context"
	"time"

	"github.com/runnerup/runnerup/internal/runnerconf"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/service"
)

// Check ids.
const (
	IDServiceInstall      = "service.install"
	IDServiceConfigPath   = "service.config-path"
	IDServiceDockerConfig = "service.docker-config"
	IDSystemID            = "systemid"
	IDProxy               = "proxy.paths"
	IDDuplicates          = "config.duplicates"
)

// RunnerTokenID is the check id of one runner entry's token (stale: 403
// on verify); RunnerExpiryID of its expiry.
func RunnerTokenID(name string) string  { return "runner." + name + ".token" }
func RunnerExpiryID(name string) string { return "runner." + name + ".expiry" }

// Finding ids: what a warn or fail found (Result.Finding).
const (
	FindingServiceNotRunning       = "service.not-running"
	FindingConfigPathDiffers       = "service.config-path-differs"
	FindingConfigInContainer       = "service.config-in-container"
	FindingConfigPathUnknown       = "service.config-path-unknown"
	FindingDockerConfigDiffers     = "service.docker-config-differs"
	FindingDockerConfigInContainer = "service.docker-config-in-container"
	FindingSystemIDCloned          = "systemid.cloned"
	FindingSystemIDShared          = "systemid.shared"
	FindingSystemIDInvalid         = "systemid.invalid"
	FindingProxyGitLabDiffers      = "proxy.gitlab-path-differs"
	FindingProxyRegistryDiffers    = "proxy.registry-path-differs"
	FindingProxyRegistryViaProxy   = "proxy.registry-via-proxy"
	FindingDuplicateToken          = "config.duplicate-token"
	FindingDuplicateName           = "config.duplicate-name"
	FindingStale                   = "runner.stale"
	FindingTokenExpiring           = "runner.token-expiring"
	FindingTokenExpired            = "runner.token-expired"
	FindingUnverified              = "runner.unverified"
)

// Options say what to look at. Zero parts are not checked.
type Options struct {
	// ConfigPath is the config.toml runnerup reads or writes;
	// DockerConfigPath the config.json ("" when none is involved).
	ConfigPath       string
	DockerConfigPath string
	// WritesDockerConfig says runnerup writes credentials into that file
	// (not only reads it).
	WritesDockerConfig bool
	// ConfigTOML is that file's content (nil when absent); Config is it
	// decoded, when the caller decoded it already (nil: decoded here).
	ConfigTOML []byte
	Config     *runnerconf.File

	// Service: the installs service.Detect found. Detected false leaves
	// the service checks out; DetectErr is reported with them.
	Detected  bool
	Installs  []service.Install
	DetectErr error

	// SystemID: the id beside ConfigPath. Nil MachineID leaves it out.
	SystemIDDir string
	MachineID   func() (string, error)

	// Proxy: the hosts the runner and the daemon reach, and the
	// environment of this shell. Nil ShellEnv leaves the check out.
	ShellEnv      func(string) (string, bool)
	GitLabURL     string
	RegistryHosts []string
	// DaemonProxy says the plan has daemon.proxy, whose settings the
	// proxy check compares.
	DaemonProxy bool

	// Runners: the entries of ConfigTOML.
	Runners RunnerOptions
}

// RunnerOptions tune the per-entry checks.
type RunnerOptions struct {
	// Enabled turns the per-entry and duplicate checks on.
	Enabled bool
	// Skip picks the entry apply is writing: gitlab.token verifies it.
	Skip func(Runner) bool
	// Verify calls POST /runners/verify for an entry (nil: offline, no
	// stale check). It returns ErrStale when GitLab no longer knows it.
	Verify func(ctx context.Context, r Runner) error
	// StaleStatus is what a stale entry scores: fail for probe and check,
	// warn for apply, which configures another runner.
	StaleStatus probe.Status
	// ExpiryWarning is how close an expiry must be to warn (7 days).
	ExpiryWarning time.Duration
	Now           func() time.Time
}

// Checks returns the checks opts asks for.
func Checks(o Options) []probe.Check {
	var checks []probe.Check
	if o.Detected {
		checks = append(checks, serviceChecks(o)...)
	}
	if o.MachineID != nil && o.SystemIDDir != "" {
		checks = append(checks, probe.Check{ID: IDSystemID, Title: "Runner system id", Run: func(context.Context, probe.Deps) probe.Result {
			return checkSystemID(o.SystemIDDir, o.MachineID)
		}})
	}
	if o.ShellEnv != nil {
		checks = append(checks, proxyCheck(o))
	}
	if o.Runners.Enabled {
		checks = append(checks, runnerChecks(o)...)
	}
	return checks
}
