package wizard

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/runnerup/runnerup/internal/gitlab"
	"github.com/runnerup/runnerup/internal/runnerconf"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/credentials"
	"github.com/runnerup/runnerup/probe/daemon"
	"github.com/runnerup/runnerup/probe/fleet"
	"github.com/runnerup/runnerup/probe/service"
	"github.com/runnerup/runnerup/probe/suite"
)

// configRunner is an entry as probing it needs it.
type configRunner = runnerconf.Runner

// inspectOptions say what ProbeConfig and CheckHost look at.
type inspectOptions struct {
	ApplyOptions
	// Online verifies every entry's token (stale entries fail); ProbeConfig
	// always does.
	Online bool
	// Images also probes the daemon and every entry's images.
	Images bool
}

// ProbeConfig probes the runners already in a config.toml (no answers):
// `runnerup probe --config`. Every entry's token is verified (stale ones
// fail), and the service, system id, proxies, the daemon and the entries'
// images are checked.
func ProbeConfig(ctx context.Context, opts ApplyOptions) (string, []probe.Result, error) {
	return inspect(ctx, inspectOptions{ApplyOptions: opts, Online: true, Images: true})
}

// CheckHost runs the local host checks for `runnerup check`: the service
// and the files it reads, the system id, proxies, token expiry, and with
// Online each entry's token. Duplicates are left to the linter, which
// names their lines.
func CheckHost(ctx context.Context, opts ApplyOptions, online bool) (string, []probe.Result, error) {
	return inspect(ctx, inspectOptions{ApplyOptions: opts, Online: online})
}

// inspect reads config.toml (decoded once, with runnerconf) and the
// system id before it asks a networked Docker daemon for a runner
// container, then runs the host checks of every entry and, with Images,
// the daemon and the entries' images.
func inspect(ctx context.Context, what inspectOptions) (string, []probe.Result, error) {
	opts := what.ApplyOptions
	if opts.Now == nil {
		opts.Now = time.Now
	}
	loc, err := readLocal(ctx, Output{}, "", opts)
	if err != nil {
		return loc.paths.ConfigTOML, nil, err
	}
	paths := loc.paths
	if loc.data == nil && what.Images && !fileExists(paths.ConfigTOML) {
		return paths.ConfigTOML, nil, MissingConfigError(paths.ConfigTOML, opts.Paths)
	}
	file, err := runnerconf.Parse(loc.data)
	if err != nil {
		return paths.ConfigTOML, nil, &InputError{Err: fmt.Errorf("%s: %w", paths.ConfigTOML, err)}
	}
	if what.Images && len(file.Runners) == 0 {
		return paths.ConfigTOML, nil, &InputError{Err: fmt.Errorf("%s has no [[runners]] entry to probe; give --answers FILE to check a new one", paths.ConfigTOML)}
	}
	ids, err := loc.resolveSystemID(opts)
	if err != nil {
		return paths.ConfigTOML, nil, err
	}
	// Every local input is read: a networked Docker daemon may be asked now.
	scan, _ := loc.scan.remote(ctx, opts)
	mode := fleetLocal
	if what.Online {
		mode = fleetInspect
	}
	f := loc.hostChecks(scan, file, opts, mode, -1, ids.verify)
	var docker []configRunner
	for _, r := range file.Runners {
		if f.GitLabURL == "" {
			f.GitLabURL = r.URL
		}
		if UsesDocker(r.Executor) {
			docker = append(docker, r)
		}
	}
	plan := suite.Plan{Fleet: f}
	if len(docker) > 0 {
		f.DockerConfigPath = filepath.Join(paths.DockerConfigDir, "config.json")
	}
	if what.Images && len(docker) > 0 {
		// The credentials of the first docker entry stand for all: entries
		// with different DOCKER_AUTH_CONFIGs are probed alike (diagnose
		// checks one image as one entry's jobs would pull it).
		first := docker[0]
		var images []string
		for _, r := range docker {
			if r.Docker == nil {
				continue
			}
			if r.Docker.Image != "" && !slices.Contains(images, r.Docker.Image) {
				images = append(images, r.Docker.Image)
			}
			for _, s := range r.Docker.Services {
				if s.Name != "" && !slices.Contains(images, s.Name) {
					images = append(images, s.Name)
				}
			}
		}
		host := ""
		if first.Docker != nil {
			host = first.Docker.Host
		}
		plan.Daemon = &daemon.Options{Host: host, WantOS: "linux"}
		if first.Executor == "docker-windows" {
			plan.Daemon.WantOS = "windows"
		}
		plan.Images = images
		f.RegistryHosts = registryHosts(images)
		jsonPath := filepath.Join(paths.DockerConfigDir, "config.json")
		configJSON, err := readExisting(jsonPath)
		if err != nil {
			return paths.ConfigTOML, nil, err
		}
		if configJSON == nil {
			configJSON = []byte("{}")
		}
		plan.Credentials = &credentials.Resolver{
			RunnerEnvironment: first.Environment,
			HomeDir:           filepath.Dir(paths.DockerConfigDir),
			ConfigJSON:        configJSON, ConfigJSONPath: jsonPath,
			Process: helperProcess(scan),
		}
	}
	if !what.Images {
		// check reports duplicates itself, with line numbers.
		checks := withoutCheck(plan.Checks(), fleet.IDDuplicates)
		if len(docker) > 0 {
			// Credential helpers are looked up where the runner looks, not run.
			checks = append(checks, credentials.HelperChecks(credentials.Resolver{
				RunnerEnvironment: docker[0].Environment, HomeDir: filepath.Dir(paths.DockerConfigDir),
				ConfigJSONPath: filepath.Join(paths.DockerConfigDir, "config.json"), Process: helperProcess(scan), LookupOnly: true,
			})...)
		}
		results, err := runChecks(ctx, checks, opts.Probe)
		return paths.ConfigTOML, results, err
	}
	results, err := runProbes(ctx, plan, opts.Probe)
	if r, ok := credentialScope(docker); ok {
		results = append(results, reportNow(r, opts.Probe))
	}
	return paths.ConfigTOML, results, err
}

// helperProcess is the runner process credential helpers run in: the
// service found (its PATH, environment and user), or the runner's default
// when detection found none; nil when detection did not run.
func helperProcess(scan serviceScan) *credentials.Process {
	if !scan.detected {
		return nil
	}
	var in *service.Install
	if primary, ok := service.Primary(scan.installs); ok {
		in = &primary
	}
	return credentials.RunnerProcess(in, credentials.DefaultProcessOptions())
}

// IDCredentialScope says whose credentials the images were probed with
// when entries disagree.
const IDCredentialScope = "credentials.scope"

// credentialScope is a note when docker entries set different
// DOCKER_AUTH_CONFIGs: one probe run resolves credentials for one
// environment, the first entry's.
func credentialScope(docker []configRunner) (probe.Result, bool) {
	if len(docker) < 2 {
		return probe.Result{}, false
	}
	authOf := func(r configRunner) string {
		for i := len(r.Environment) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(r.Environment[i], "DOCKER_AUTH_CONFIG="); ok {
				return v
			}
		}
		return ""
	}
	var others []string
	for _, r := range docker[1:] {
		if authOf(r) != authOf(docker[0]) {
			others = append(others, fmt.Sprintf("%q", r.Name))
		}
	}
	if len(others) == 0 {
		return probe.Result{}, false
	}
	return probe.Result{ID: IDCredentialScope, Title: "Whose credentials the image checks used", Status: probe.Skip,
		Detail: fmt.Sprintf("images were checked with the credentials of runner %q; runner(s) %s set another DOCKER_AUTH_CONFIG: check their images with `runnerup diagnose IMAGE --runner NAME`", docker[0].Name, strings.Join(others, ", "))}, true
}

func withoutCheck(checks []probe.Check, id string) []probe.Check {
	return slices.DeleteFunc(checks, func(c probe.Check) bool { return c.ID == id })
}

// runChecks runs checks as runProbes runs a plan.
func runChecks(ctx context.Context, checks []probe.Check, opts ProbeOptions) ([]probe.Result, error) {
	results, err := probe.Run(ctx, checks, probe.Options{Timeout: opts.Timeout, OnResult: opts.OnResult})
	if err != nil {
		return results, err
	}
	if failed := probe.Failed(results); len(failed) > 0 {
		return results, &CheckError{Check: failed[0].ID, Problem: failed[0].Detail, Hint: failed[0].Hint, Results: results}
	}
	return results, nil
}

// IDContact is the check id of --wait-contact.
const IDContact = "gitlab.contact"

// WaitContact waits, bounded by timeout, until GitLab reports that the
// running runner (not runnerup's own verify) contacted it with this host's
// system id after the write at `after`. GitLab shows a runner manager's
// last contact only through its REST API, so this needs an API token with
// read_api; the runner token cannot read it.
func WaitContact(ctx context.Context, res *ApplyResult, url, caFile, apiToken string, after time.Time, timeout time.Duration, opts ApplyOptions) probe.Result {
	start := time.Now()
	r := probe.Result{ID: IDContact, Title: "Runner contacted GitLab"}
	defer func() { r.DurationMS = time.Since(start).Milliseconds() }()
	if res.Runner.ID == 0 {
		r.Status, r.Detail = probe.Skip, "the runner's id is unknown (config.toml has no id for it), so its managers cannot be listed"
		return r
	}
	c, err := gitlab.New(url, gitlab.Options{CAFile: caFile, HTTPClient: opts.HTTPClient, UserAgent: "runnerup"})
	if err != nil {
		r.Status, r.Detail, r.Finding = probe.Fail, err.Error(), "gitlab.not-contacted"
		r.Hint = "fix gitlab.url / gitlab.tls_ca_file in the answers"
		return r
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// GitLab's clock, not this host's, stamps contacts: the contact seen
	// now (runnerup's own verify, a moment ago) is the baseline, so clock
	// skew cannot pass that verify off as the runner's.
	if ms, err := c.Managers(wctx, apiToken, res.Runner.ID); err == nil {
		for _, m := range ms {
			if m.SystemID == res.Runner.SystemID && m.ContactedAt != nil && m.ContactedAt.After(after) {
				after = *m.ContactedAt
			}
		}
	}
	m, err := c.WaitContact(wctx, apiToken, res.Runner.ID, res.Runner.SystemID, after, opts.ContactPoll)
	if err == nil {
		r.Status = probe.Pass
		r.Detail = fmt.Sprintf("runner manager %s of runner #%d contacted GitLab at %s", m.SystemID, res.Runner.ID, m.ContactedAt.UTC().Format(time.RFC3339))
		if m.Version != "" {
			r.Detail += " (gitlab-runner " + m.Version + ")"
		}
		return r
	}
	r.Status, r.Detail = probe.Fail, err.Error()
	r.Finding = "gitlab.not-contacted"
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		r.Hint = "the files are written; check that the service runs and reads this config.toml (see service.* checks), then look at its log (journalctl -u gitlab-runner / docker logs)"
		if s := res.Service; s != nil {
			r.Hint = fmt.Sprintf("the files are written; restart the service (`%s`) and look at its log", s.RestartCommand)
		}
	case errors.Is(err, gitlab.ErrAPITokenInvalid), errors.Is(err, gitlab.ErrAPIForbidden):
		r.Hint = "set GITLAB_TOKEN to a personal, project or group access token with read_api from a Maintainer of the runner's project or group (or an admin)"
	case errors.Is(err, gitlab.ErrRunnerNotFound):
		r.Hint = "GitLab does not list runner #" + fmt.Sprint(res.Runner.ID) + " (deleted, or a GitLab older than 15.10 without the managers API); check Settings › CI/CD › Runners"
	default:
		r.Hint = "the files are written; GitLab's API could not be asked — check the network and run `runnerup probe --config` later"
	}
	return r
}
