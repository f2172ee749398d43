package wizard

import (
	"context"
	"fmt"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/suite"
)

// readDockerConfig reads config.json when apply writes it or the live
// checks read it, and checks that the answers' edit applies to it. It is
// the last local input; Apply reads it before anything is contacted, so a
// malformed file stops apply (exit 2) before GitLab hears of it.
func (l *loaded) readDockerConfig(plan Plan) error {
	if plan.DockerConfig == "" && plan.Checks != ChecksLive {
		return nil
	}
	var err error
	l.oldJSON, l.checkedJSON, err = dockerConfigFor(l.a, l.paths)
	return err
}

// checkInputs are what the live checks read: the runner's environment
// and config.json as apply leaves them (nil with ChecksHost, which reads
// neither). It contacts nothing.
func (l *loaded) checkInputs(plan Plan) (*probeInputs, error) {
	if plan.Checks == ChecksHost {
		return nil, nil
	}
	in, err := inputsFor(l.eff, l.paths, l.oldTOML, l.checkedJSON, l.target.existing, l.sysID)
	if err != nil {
		return nil, err
	}
	in.process = helperProcess(l.scan)
	return &in, nil
}

// runChecks is apply's checks stage. The live checks run before anything
// is registered, created or written, because a job that cannot pull its
// image should stop apply, not the first pipeline. They see the runner as
// apply leaves it (l.eff) and verify the token config.toml will hold
// (checkPlan). [gitlab.create]'s read-only calls come first. With
// ChecksHost (SkipProbes, Offline) only the local host checks run, and a
// warning says so. A failed check comes back as a *CheckError.
func (l *loaded) runChecks(ctx context.Context, plan Plan, in *probeInputs, opts ApplyOptions) ([]probe.Result, []FieldError, error) {
	var results []probe.Result
	var warnings []FieldError
	fleetOpts := l.eff.fleetOptions(l.paths, l.oldTOML, l.scan, opts, fleetApply, l.target.index)
	if plan.TokenRotated {
		results = append(results, reportNow(*rotatedResult(l.a, l.target.existing), opts.Probe))
	}
	if plan.creation != nil {
		got, err := plan.creation.preflight(ctx, opts.Probe)
		results = append(results, got...)
		if err != nil {
			return results, warnings, err
		}
	}
	var checks suite.Plan
	if plan.Checks == ChecksHost {
		flag := "--skip-probes"
		if plan.Offline {
			flag = "--offline"
		}
		warnings = append(warnings, FieldError{Field: "probes", Warning: true,
			Problem: fmt.Sprintf("live checks skipped (%s): nothing proves that jobs can pull their images", flag),
			Fix:     "run `runnerup probe --answers FILE` when the network is available"})
		// The host checks are local: run them anyway.
		fleetOpts.Runners.Verify = nil
		checks = suite.Plan{Fleet: fleetOpts}
	} else {
		in.fleet = fleetOpts
		checks = l.checkPlan(plan, *in)
	}
	got, err := runProbes(ctx, checks, opts.Probe)
	return append(results, got...), warnings, err
}

// checkPlan is the live checks for plan: the answers as they hold for the
// runner after apply, with the token config.toml will hold. When the plan
// keeps the entry (a rotated token, a runner registered or created
// before), that is the token on disk, so that is the one verified; a
// runner [gitlab.create] makes has no token to verify yet, and the token
// check says so instead of calling it a registration token.
func (l *loaded) checkPlan(plan Plan, in probeInputs) suite.Plan {
	a := l.eff
	if t := l.target; plan.Action == ActionKeep && t.found() && t.existing.Token != "" && t.existing.Token != a.GitLab.Token {
		c := *a
		c.GitLab.Token, c.GitLab.TokenKind = t.existing.Token, ""
		if _, ambiguous := ClassifyToken(c.GitLab.Token, ""); ambiguous {
			// config.toml's token is the one the runner authenticates with.
			c.GitLab.TokenKind = string(TokenAuthentication)
		}
		a = &c
	}
	p := a.plan(in)
	if p.GitLab != nil && plan.creation.recreates() {
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
