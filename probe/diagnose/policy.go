package diagnose

import (
	"context"
	"fmt"
	"slices"
	"strings"

	dockerclient "github.com/docker/docker/client"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/daemon"
)

// PolicyReport is how the runner's pull policy treats this image on this
// daemon (docs/gitlab-runner.md §6.1).
type PolicyReport struct {
	Policies []string `json:"policies"`
	// Source says where the policies come from, in the runner's words:
	// "Runner config" or "Runner config (default)". A job's
	// image:pull_policy (not visible here) would take precedence.
	Source    string   `json:"source"`
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

var knownPolicies = []string{"always", "if-not-present", "never"}

// PolicyCheckID is the id of the pull-policy check for an image.
func PolicyCheckID(ref string) string { return probe.ID("image", ref, "pull-policy") }

// policyCheck evaluates the runner's pull_policy (intersected with
// allowed_pull_policies, as the runner does) against the daemon's local
// image store.
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
	pr := PolicyReport{Source: "Runner config", Allowed: normPolicies(d.runner.AllowedPullPolicies), Local: "unknown"}
	pr.Policies = normPolicies(d.runner.PullPolicy)
	if len(pr.Policies) == 0 {
		pr.Policies, pr.Source = []string{"always"}, "Runner config (default)"
	}
	done := func(r probe.Result, cause string) probe.Result {
		r.Data = policyData{report: pr, cause: cause}
		return r
	}
	for _, p := range append(slices.Clone(pr.Policies), pr.Allowed...) {
		if !slices.Contains(knownPolicies, p) {
			return done(probe.Failf(`use always, if-not-present or never`,
				"pull policy %q is not one the runner knows: every job of this runner fails with \"unsupported pull_policy config\"", p), "unclassified")
		}
	}
	pr.Effective = pr.Policies
	if len(pr.Allowed) > 0 {
		pr.Effective = nil
		for _, p := range pr.Policies {
			if slices.Contains(pr.Allowed, p) {
				pr.Effective = append(pr.Effective, p)
			}
		}
		if len(pr.Effective) == 0 {
			return done(probe.Failf(fmt.Sprintf("add %s to allowed_pull_policies, or set a pull_policy that is allowed", pr.Policies[0]),
				"invalid pull policy for image %q: pull_policy ([%s]) defined in %s is not one of the allowed_pull_policies ([%s])",
				d.im.ref, strings.Join(pr.Policies, " "), pr.Source, strings.Join(pr.Allowed, " ")), "policy-not-allowed")
		}
	}
	pr.Pulls = slices.Contains(pr.Effective, "always") || slices.Contains(pr.Effective, "if-not-present")
	canLocal := slices.Contains(pr.Effective, "if-not-present") || slices.Contains(pr.Effective, "never")
	list := "[" + strings.Join(pr.Effective, " ") + "]"
	note := ""
	if pr.Source == "Runner config (default)" {
		note = " (pull_policy unset: always; a job's image:pull_policy would override it)"
	}

	if d.im.err != nil {
		return done(probe.Skipf("skipped: the image reference does not parse"), "")
	}
	if s := deps[daemon.IDReachable].Status; s != probe.Pass || api == nil {
		if !pr.Pulls {
			return done(probe.Warnf("", "policy %s%s: only a local image is used, and the daemon's store cannot be checked (%s did not pass)", list, note, daemon.IDReachable), "")
		}
		return done(probe.Passf("policy %s%s: the image is pulled (local store not checked: %s did not pass)", list, note, daemon.IDReachable), "")
	}

	img, err := api.ImageInspect(ctx, d.im.ref)
	switch {
	case err == nil:
		pr.Local, pr.LocalID = "present", shortID(img.ID)
	case dockerclient.IsErrNotFound(err):
		pr.Local = "absent"
	default:
		return done(probe.Warnf("", "policy %s%s; cannot inspect the local image: %v", list, note, err), "")
	}
	pr.UsesLocal = canLocal && pr.Local == "present"

	switch {
	case !pr.Pulls && pr.Local == "absent":
		return done(probe.Failf(fmt.Sprintf("docker pull %s on the daemon host (or docker load), or pull_policy = [\"if-not-present\"]", d.im.ref),
			"policy %s: the runner never pulls, and the daemon has no image %s: \"No such image: %s\"", list, d.im.ref, d.im.ref), "policy-never-absent")
	case !pr.Pulls:
		return done(probe.Passf("policy %s: the runner uses the local image %s %s and never contacts the registry", list, d.im.ref, pr.LocalID), "")
	case pr.UsesLocal && pr.Effective[0] == "if-not-present":
		return done(probe.Passf("policy %s: the daemon has %s (%s), so the runner uses it without pulling: the job runs even if the registry fails", list, d.im.ref, pr.LocalID), "")
	case pr.UsesLocal:
		return done(probe.Passf("policy %s: the runner pulls first, and when that fails falls back to the local %s (%s): the job runs even if the registry fails", list, d.im.ref, pr.LocalID), "")
	case pr.Local == "present":
		return done(probe.Passf("policy %s%s: the runner pulls %s although the daemon has a copy (%s)", list, note, d.im.ref, pr.LocalID), "")
	}
	return done(probe.Passf("policy %s%s: the runner pulls %s (not in the daemon's local store)", list, note, d.im.ref), "")
}

func normPolicies(in []string) []string {
	var out []string
	for _, p := range in {
		p = strings.ToLower(strings.TrimSpace(p))
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func shortID(id string) string {
	if i := strings.IndexByte(id, ':'); i >= 0 && len(id) > i+13 {
		return id[:i+13]
	}
	return id
}
