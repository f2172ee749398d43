package tui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/fleet"
	"github.com/runnerup/runnerup/wizard"
)

// The review's "This host" block and the fixes it offers. What the checks
// found comes from Options.Probe (package probe/fleet through
// wizard.ProbeAnswers); the fixes are wizard.ApplyOptions the user turns
// on, never on by default.

// hostNote is one warning of the "This host" block, with its hint.
type hostNote struct {
	text, hint string
}

// hostBlock is what the review says about this host's gitlab-runner
// service: one summary line and the warnings about it. ok is false when
// nobody looked for a service (no detection configured): then the review
// says nothing rather than "none found".
type hostBlock struct {
	ok      bool
	summary string
	notes   []hostNote
}

// ownsResult says the "This host" block shows this result, so the review's
// checklist leaves it out: the service and the config file it reads, and
// the other service checks when they only say there is no service.
func ownsResult(r probe.Result) bool {
	switch {
	case r.ID == fleet.IDServiceInstall, r.ID == fleet.IDServiceConfigPath:
		return true
	case strings.HasPrefix(r.ID, "service.") && r.Status == probe.Skip:
		return true
	}
	return false
}

func findResult(results []probe.Result, id string) (probe.Result, bool) {
	for _, r := range results {
		if r.ID == id {
			return r, true
		}
	}
	return probe.Result{}, false
}

// host builds the block for the paths about to be written. changePaths
// is the hint when they differ from the service's: how to change them in
// this UI. That comparison is made here, against the current paths: the
// user may have changed them since the checks ran.
func (o Options) host(paths wizard.Paths, results []probe.Result, changePaths string) hostBlock {
	svc := o.Paths.Service
	install, haveInstall := findResult(results, fleet.IDServiceInstall)
	var b hostBlock
	switch {
	case svc != nil:
		b.ok, b.summary = true, svc.Summary()
	case haveInstall && install.Status != probe.Skip:
		b.ok, b.summary = true, install.Detail
	case haveInstall || o.ApplyOptions.DetectService != nil:
		b.ok, b.summary = true, "no gitlab-runner service found"
	default:
		return b
	}
	if haveInstall && (install.Status == probe.Warn || install.Status == probe.Fail) {
		text := install.Detail
		if install.Finding == fleet.FindingServiceNotRunning && svc != nil {
			text = svc.Name + " is not running, so no job will run"
		}
		b.notes = append(b.notes, hostNote{text: text, hint: install.Hint})
	}
	switch cp, ok := findResult(results, fleet.IDServiceConfigPath); {
	case svc != nil && svc.ConfigPath != "":
		if !fleet.SamePath(svc.ConfigPath, paths.ConfigTOML) {
			b.notes = append(b.notes, hostNote{
				text: fmt.Sprintf("the service reads %s; you are writing %s", svc.ConfigPath, paths.ConfigTOML),
				hint: changePaths,
			})
		}
	case ok && (cp.Status == probe.Warn || cp.Status == probe.Fail):
		b.notes = append(b.notes, hostNote{text: cp.Detail, hint: cp.Hint})
	}
	return b
}

// fixes are the changes to the host the user agreed to on the review:
// remove stale [[runners]] entries, write a fresh system id. The zero
// value changes nothing.
type fixes struct {
	prune   []fleet.Runner
	freshID bool
}

func (f fixes) equal(g fixes) bool {
	return f.freshID == g.freshID && sameRunners(f.prune, g.prune)
}

func sameRunners(a, b []fleet.Runner) bool {
	return slices.EqualFunc(a, b, func(x, y fleet.Runner) bool {
		return x.Index == y.Index && x.Name == y.Name && x.URL == y.URL && x.Token == y.Token
	})
}

// set puts the fixes into apply's options. PruneStale stays off: entries
// are removed only when listed here, which the user chose.
func (f fixes) set(ao *wizard.ApplyOptions) {
	ao.Prune = slices.Clone(f.prune)
	ao.FreshSystemID = f.freshID
	ao.PruneStale = false
}

// freshIDReason says why a fresh system id is offered ("" when it is not):
// the system id check found it cloned, shared or invalid.
func freshIDReason(results []probe.Result) string {
	r, ok := findResult(results, fleet.IDSystemID)
	if !ok {
		return ""
	}
	switch r.Finding {
	case fleet.FindingSystemIDCloned:
		return "the current one is cloned from another host"
	case fleet.FindingSystemIDShared:
		return "the current one is shared by an old image's containers"
	case fleet.FindingSystemIDInvalid:
		return "the current one is invalid"
	}
	return ""
}

// pruneOffer is the stale-entry fix in words.
func pruneOffer(stale []fleet.Runner) string {
	names := make([]string, 0, len(stale))
	for _, r := range stale {
		if r.Name != "" {
			names = append(names, fmt.Sprintf("%q", r.Name))
		} else {
			names = append(names, fmt.Sprintf("#%d", r.Index+1))
		}
	}
	what := "entry"
	if len(stale) != 1 {
		what = "entries"
	}
	return fmt.Sprintf("remove %d stale runner %s from config.toml (%s; backup kept)", len(stale), what, strings.Join(names, ", "))
}

// freshIDOffer is the system id fix in words.
func freshIDOffer(reason string) string {
	return "write a fresh system id (" + reason + ")"
}

// dryRunWarnings are the warnings and failures of apply's own checks in a
// dry run that the checklist does not show: the token on disk that differs
// from the answers (apply adds it itself), and, without live probes, the
// host checks the dry run ran locally (but those of "This host").
func (o Options) dryRunWarnings(res *wizard.ApplyResult) []probe.Result {
	if res == nil {
		return nil
	}
	var out []probe.Result
	for _, r := range res.Checks {
		if r.Status != probe.Warn && r.Status != probe.Fail {
			continue
		}
		if r.Finding == wizard.FindingTokenRotated || o.Probe == nil && !ownsResult(r) {
			out = append(out, r)
		}
	}
	return out
}

// prunedLines say which stale entries apply removed.
func prunedLines(res *wizard.ApplyResult) []string {
	var out []string
	for _, p := range res.Pruned {
		name := fmt.Sprintf("%q", p.Name)
		if p.Name == "" {
			name = "without a name"
		}
		out = append(out, fmt.Sprintf("  removed stale runner %s (%s, token %s)", name, p.URL, p.Token))
	}
	return out
}
