package wizard

import (
	"context"
	"errors"
	"fmt"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/suite"
)

// checked is the checks stage's outcome: the results and warnings, and
// what [gitlab.create]'s preflight found (the plan as carried out takes
// it, with the stale entries the results name: Plan.afterChecks).
type checked struct {
	results  []probe.Result
	warnings []FieldError
	create   createFound
}

// runChecks is the checks stage of apply and probe --answers (mode says
// which). A networked Docker daemon is asked for a runner container first
// (never with Offline): every local input was read by load. The live
// checks run before anything is registered, created or written, because
// a job that cannot pull its image should stop apply, not the first
// pipeline. They see the runner as apply leaves it (l.eff) and verify the
// token config.toml will hold (checkPlan). A token the runner rotated is
// reported first, then [gitlab.create]'s read-only calls run. With
// ChecksHost (SkipProbes, Offline) only the local host checks run, and a
// warning says so; so they do in a dry run whose caller ran the live
// checks (LiveChecksDone). A failed check comes back as a *CheckError
// carrying every result.
func (l *loaded) runChecks(ctx context.Context, plan Plan, opts ApplyOptions, mode fleetMode) (checked, error) {
	var c checked
	scan, warnings := l.scan.remote(ctx, opts)
	c.warnings = append(c.warnings, warnings...)
	host := l.eff.forAnswers(l.hostChecks(scan, l.config.File, opts, mode, l.target.Index, plan.SystemID.Verify), l.paths.DockerConfigDir)
	if plan.TokenRotated {
		c.results = append(c.results, reportNow(*rotatedResult(l.a, l.target.Existing), opts.Probe))
	}
	if plan.creation != nil {
		found, got, err := plan.creation.preflight(ctx, opts.Probe)
		c.results, c.create = append(c.results, got...), found
		if err != nil {
			return c, err
		}
	}
	var checks suite.Plan
	switch {
	case plan.Checks == ChecksHost:
		flag := "--skip-probes"
		if plan.Offline {
			flag = "--offline"
		}
		c.warnings = append(c.warnings, FieldError{Field: "probes", Warning: true,
			Problem: fmt.Sprintf("live checks skipped (%s): nothing proves that jobs can pull their images", flag),
			Fix:     "run `runnerup probe --answers FILE` when the network is available"})
		fallthrough
	case plan.DryRun && opts.LiveChecksDone:
		// The host checks are local: run them anyway.
		host.Runners.Verify = nil
		checks = suite.Plan{Fleet: host}
	default:
		in := *l.inputs
		in.fleet, in.process = host, helperProcess(scan)
		// --recreate as the preflight found it decides what is verified.
		checks = l.checkPlan(plan.afterChecks(checked{create: c.create}), in)
	}
	got, err := runProbes(ctx, checks, opts.Probe)
	if earlier := len(c.results); earlier > 0 {
		if ce := (*CheckError)(nil); errors.As(err, &ce) {
			ce.Results = append(c.results[:earlier:earlier], got...)
		}
	}
	c.results = append(c.results, got...)
	return c, err
}

// checkPlan is the live checks for plan: the answers as they hold for the
// runner after apply, with the token config.toml will hold. When the plan
// keeps the entry (a rotated token, a runner registered or created
// before), that is the token on disk, so that is the one verified; a
// runner [gitlab.create] makes has no token to verify yet, and the token
// check says so instead of calling it a registration token.
func (l *loaded) checkPlan(plan Plan, in probeInputs) suite.Plan {
	a := l.eff
	if t := l.target; plan.Action == ActionKeep && t.Found() && t.Existing.Token != "" && t.Existing.Token != a.GitLab.Token {
		c := *a
		c.GitLab.Token, c.GitLab.TokenKind = t.Existing.Token, ""
		if _, ambiguous := ClassifyToken(c.GitLab.Token, ""); ambiguous {
			// config.toml's token is the one the runner authenticates with.
			c.GitLab.TokenKind = string(TokenAuthentication)
		}
		a = &c
	}
	p := a.plan(in)
	if p.GitLab != nil && plan.recreates() {
		// The token on disk is the deleted runner's; the new one comes
		// after the checks.
		p.GitLab.Verify = false
		p.GitLab.SkipToken = fmt.Sprintf("runner %q was deleted in GitLab: --recreate creates it again after the checks", plan.Runner.Name)
	} else if p.GitLab != nil && plan.creation != nil && plan.Action == ActionKeep {
		// Without an API token this check is the one that finds a runner
		// deleted in GitLab; the fix is [gitlab.create]'s, not the UI's.
		p.GitLab.TokenRejectedHint = fmt.Sprintf("runner %q was created by [gitlab.create]: if it was deleted in GitLab, export GITLAB_TOKEN (an access token with create_runner) and run `runnerup apply --recreate` to create it again and replace its token in config.toml", plan.Runner.Name)
	}
	if plan.Action == ActionCreate && p.GitLab != nil {
		p.GitLab.Verify = false
		p.GitLab.SkipToken = fmt.Sprintf("runner %q does not exist yet: [gitlab.create] creates it after the checks and writes the token GitLab issues", plan.Runner.Name)
		if plan.DryRun {
			p.GitLab.SkipToken = fmt.Sprintf("runner %q does not exist yet: apply creates it with [gitlab.create] (not in a dry run)", plan.Runner.Name)
		}
	}
	return p
}
