package wizard

import (
	"context"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/suite"
)

// checkInputs are what the live checks read: the runner's environment
// and config.json as apply leaves them (nil with ChecksHost, which reads
// neither). It contacts nothing.
func (l *loaded) checkInputs(plan Plan) (*probeInputs, error) {
	if plan.Checks == ChecksHost {
		return nil, nil
	}
	in, err := inputsFor(l.eff, l.paths, l.oldTOML, l.target.existing, l.sysID)
	if err != nil {
		return nil, err
	}
	return &in, nil
}

// runChecks is apply's checks stage. The live checks run before anything
// is registered or written, because a job that cannot pull its image
// should stop apply, not the first pipeline. They see the runner as apply
// leaves it (l.eff) and, when the plan keeps a rotated token, verify that
// one. With ChecksHost (SkipProbes) only the local host checks run, and a
// warning says so. A failed check comes back as a *CheckError.
func (l *loaded) runChecks(ctx context.Context, plan Plan, in *probeInputs, opts ApplyOptions) ([]probe.Result, []FieldError, error) {
	var results []probe.Result
	var warnings []FieldError
	fleetOpts := l.eff.fleetOptions(l.paths, l.oldTOML, l.scan, opts, fleetApply, l.target.index)
	var rotated *probe.Result
	if plan.TokenRotated {
		rotated = rotatedResult(l.a, l.target.existing)
		results = append(results, reportNow(*rotated, opts.Probe))
	}
	var checks suite.Plan
	if plan.Checks == ChecksHost {
		warnings = append(warnings, FieldError{Field: "probes", Warning: true,
			Problem: "live checks skipped (--skip-probes): nothing proves that jobs can pull their images",
			Fix:     "run `runnerup probe --answers FILE` when the network is available"})
		// The host checks are local: run them anyway.
		fleetOpts.Runners.Verify = nil
		checks = suite.Plan{Fleet: fleetOpts}
	} else {
		in.fleet = fleetOpts
		checks = l.eff.withDiskToken(rotated, l.target.existing).plan(*in)
	}
	got, err := runProbes(ctx, checks, opts.Probe)
	return append(results, got...), warnings, err
}
