package diagnose

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/daemon"
)

// PolicyReport is how the runner's pull policy treats this image on this
// daemon (docs/gitlab-runner.md §6.1).
type PolicyReport struct {
	// Policies are the ones the job uses before allowed_pull_policies:
	// the job's image:pull_policy, else [runners.docker] pull_policy, else
	// always.
	Policies []string `json:"policies"`
	// Source says where they come from, in the runner's words: "GitLab
	// pipeline config", "Runner config" or "Runner config (default)".
	Source string `json:"source"`
	// Job is the job's image:pull_policy (--pull-policy, or read from the
	// job log); JobFrom says which.
	Job     []string `json:"job,omitempty"`
	JobFrom string   `json:"job_from,omitempty"`
	// Allowed is allowed_pull_policies as the runner uses it: the
	// config's, else [runners.docker] pull_policy (else always).
	Allowed   []string `json:"allowed,omitempty"`
	Effective []string `json:"effective"`
	// Local is "present", "absent" or "unknown" (daemon not reachable).
	Local   string `json:"local"`
	LocalID string `json:"local_id,omitempty"`
	// UsesLocal: the job runs the daemon's local copy even when the
	// registry fails (if-not-present or never with the image present).
	UsesLocal bool `json:"uses_local"`
	// Pulls: some effective policy pulls from the registry.
	Pulls bool `json:"pulls"`
}

// policyData is the pull-policy check's Data.
type policyData struct {
	report PolicyReport
	cause  string
}

// The runner's policy names and the source names of its error text
// (GitLab Runner 19.4 common/config.go, helpers/pull_policies).
const (
	sourceJob           = "GitLab pipeline config"
	sourceRunner        = "Runner config"
	sourceRunnerDefault = "Runner config (default)"
)

var knownPolicies = []string{"always", "if-not-present", "never"}

// PolicyCheckID is the id of the pull-policy check for an image.
func PolicyCheckID(ref string) string { return probe.ID("image", ref, "pull-policy") }

// ValidJobPolicies checks --pull-policy values: GitLab accepts only the
// three policies in image:pull_policy.
func ValidJobPolicies(ps []string) error {
	for _, p := range ps {
		if !slices.Contains(knownPolicies, p) {
			return fmt.Errorf("pull policy %q: image:pull_policy takes always, if-not-present or never", p)
		}
	}
	return nil
}

// effectivePolicies is the docker executor's rule, exactly
// (GitLab Runner 19.4 executors/docker/internal/pull/manager.go
// GetDockerImage): the job's policies, else config.toml's pull_policy
// (validated; unset is [always]); allowed is allowed_pull_policies
// (validated), else config.toml's pull_policy again; the result is the
// job-or-config list, in order and with repeats (a repeat is a retry),
// limited to the allowed ones, and an error when none is left
// (helpers/pull_policies/pull_policies.go ComputeEffectivePullPolicies).
// Values are compared as written: "Always" is not a policy.
func effectivePolicies(job, config, allowedCfg []string) (policies, allowed, effective []string, source string, err error) {
	configPolicies := func() ([]string, error) {
		if len(config) == 0 {
			return []string{"always"}, nil
		}
		for _, p := range config {
			if !slices.Contains(knownPolicies, p) {
				return nil, fmt.Errorf("unsupported pull_policy config: %q", p)
			}
		}
		return config, nil
	}
	switch {
	case len(job) > 0:
		policies, source = job, sourceJob
	case len(config) > 0:
		source = sourceRunner
	default:
		source = sourceRunnerDefault
	}
	if len(job) == 0 {
		if policies, err = configPolicies(); err != nil {
			return nil, nil, nil, source, err
		}
	}
	if len(allowedCfg) > 0 {
		for _, p := range allowedCfg {
			if !slices.Contains(knownPolicies, p) {
				return policies, nil, nil, source, fmt.Errorf("unsupported allowed_pull_policies config: %q", p)
			}
		}
		allowed = allowedCfg
	} else if allowed, err = configPolicies(); err != nil {
		return policies, nil, nil, source, err
	}
	for _, p := range policies {
		if slices.Contains(allowed, p) {
			effective = append(effective, p)
		}
	}
	return policies, allowed, effective, source, nil
}

// policyLogRE finds the job's own policies in a job log's
// incompatible-policy error (the source text is the runner's).
var policyLogRE = regexp.MustCompile(`invalid pull policy for image "([^"]*)": pull_policy \(\[([^\]]*)\]\) defined in ` + sourceJob + ` is not one of the allowed_pull_policies`)

// jobPoliciesFromLog is the job's image:pull_policy for image as the job
// log states it, or nil.
func jobPoliciesFromLog(log, image string) []string {
	var out []string
	for _, m := range policyLogRE.FindAllStringSubmatch(log, -1) {
		if registryRefOrSame(m[1]) == registryRefOrSame(image) {
			out = strings.Fields(m[2])
		}
	}
	return out
}

// policyCheck evaluates the job's and the runner's pull policies
// (intersected with allowed_pull_policies, as the runner does) against the
// daemon's local image store.
func (d *diagnosis) policyCheck(api DockerAPI) probe.Check {
	return probe.Check{
		ID:              PolicyCheckID(d.im.ref),
		Title:           fmt.Sprintf("image %s: pull policy", d.im.ref),
		Needs:           []string{daemon.IDReachable},
		RunAfterFailure: true,
		Run: func(ctx context.Context, deps probe.Deps) probe.Result {
			return d.runPolicy(ctx, deps, api)
		},
	}
}

func (d *diagnosis) runPolicy(ctx context.Context, deps probe.Deps, api DockerAPI) probe.Result {
	pr := PolicyReport{Local: "unknown"}
	switch {
	case len(d.opts.JobPullPolicy) > 0:
		pr.Job, pr.JobFrom = d.opts.JobPullPolicy, "--pull-policy"
	case d.opts.Log != nil:
		if pr.Job = jobPoliciesFromLog(*d.opts.Log, d.opts.Image); pr.Job != nil {
			pr.JobFrom = "the job log"
		}
	}
	var err error
	pr.Policies, pr.Allowed, pr.Effective, pr.Source, err = effectivePolicies(pr.Job, d.runner.PullPolicy, d.runner.AllowedPullPolicies)
	done := func(r probe.Result, cause string) probe.Result {
		r.Data = policyData{report: pr, cause: cause}
		return r
	}
	if err != nil {
		return done(probe.Failf(`use always, if-not-present or never (lower case)`,
			"%v: every job of this runner that pulls an image fails", err), "unclassified")
	}
	list := func(ps []string) string { return "[" + strings.Join(ps, " ") + "]" }
	if len(pr.Effective) == 0 {
		hint := fmt.Sprintf("add %s to allowed_pull_policies in [runners.docker], or set a pull_policy that is allowed", pr.Policies[0])
		if pr.Source == sourceJob {
			hint = fmt.Sprintf("change the job's image:pull_policy to one of %s, or add %s to allowed_pull_policies in [runners.docker]", list(pr.Allowed), pr.Policies[0])
		}
		detail := fmt.Sprintf("invalid pull policy for image %q: pull_policy (%s) defined in %s is not one of the allowed_pull_policies (%s)",
			d.opts.Image, list(pr.Policies), pr.Source, list(pr.Allowed))
		if pr.JobFrom != "" {
			detail += fmt.Sprintf(" (the job's image:pull_policy from %s)", pr.JobFrom)
		}
		if len(d.runner.AllowedPullPolicies) == 0 {
			detail += "; allowed_pull_policies is unset, so only [runners.docker] pull_policy (default always) is allowed"
		}
		return done(probe.Failf(hint, "%s", detail), "policy-not-allowed")
	}
	pr.Pulls = slices.Contains(pr.Effective, "always") || slices.Contains(pr.Effective, "if-not-present")
	canLocal := slices.Contains(pr.Effective, "if-not-present") || slices.Contains(pr.Effective, "never")
	effective := list(pr.Effective)
	note := ""
	switch pr.Source {
	case sourceRunnerDefault:
		note = " (pull_policy unset: always; a job's image:pull_policy would override it)"
	case sourceJob:
		note = fmt.Sprintf(" (the job's image:pull_policy %s from %s)", list(pr.Job), pr.JobFrom)
	}

	if d.im.err != nil {
		return done(probe.Skipf("skipped: the image reference does not parse"), "")
	}
	if s := deps[daemon.IDReachable].Status; s != probe.Pass || api == nil {
		if !pr.Pulls {
			return done(probe.Warnf("", "policy %s%s: only a local image is used, and the daemon's store cannot be checked (%s did not pass)", effective, note, daemon.IDReachable), "")
		}
		return done(probe.Passf("policy %s%s: the image is pulled (local store not checked: %s did not pass)", effective, note, daemon.IDReachable), "")
	}

	img, err := api.ImageInspect(ctx, d.im.ref)
	switch {
	case err == nil:
		pr.Local, pr.LocalID = "present", shortID(img.ID)
	case cerrdefs.IsNotFound(err):
		pr.Local = "absent"
	default:
		return done(probe.Warnf("", "policy %s%s; cannot inspect the local image: %v", effective, note, err), "")
	}
	pr.UsesLocal = canLocal && pr.Local == "present"

	switch {
	case !pr.Pulls && pr.Local == "absent":
		return done(probe.Failf(fmt.Sprintf("docker pull %s on the daemon host (or docker load), or pull_policy = [\"if-not-present\"]", d.im.ref),
			"policy %s%s: the runner never pulls, and the daemon has no image %s: \"No such image: %s\"", effective, note, d.im.ref, d.im.ref), "policy-never-absent")
	case !pr.Pulls:
		return done(probe.Passf("policy %s%s: the runner uses the local image %s %s and never contacts the registry", effective, note, d.im.ref, pr.LocalID), "")
	case pr.UsesLocal && pr.Effective[0] == "if-not-present":
		return done(probe.Passf("policy %s%s: the daemon has %s (%s), so the runner uses it without pulling: the job runs even if the registry fails", effective, note, d.im.ref, pr.LocalID), "")
	case pr.UsesLocal:
		return done(probe.Passf("policy %s%s: the runner pulls first, and when that fails falls back to the local %s (%s): the job runs even if the registry fails", effective, note, d.im.ref, pr.LocalID), "")
	case pr.Local == "present":
		return done(probe.Passf("policy %s%s: the runner pulls %s although the daemon has a copy (%s)", effective, note, d.im.ref, pr.LocalID), "")
	}
	return done(probe.Passf("policy %s%s: the runner pulls %s (not in the daemon's local store)", effective, note, d.im.ref), "")
}

func shortID(id string) string {
	if i := strings.IndexByte(id, ':'); i >= 0 && len(id) > i+13 {
		return id[:i+13]
	}
	return id
}
