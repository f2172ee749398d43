package diagnose

import (
	"fmt"
	"slices"
	"strings"
)

// confirm sets each log match's verdict from the live causes: the log is
// confirmed when a live cause has its id, folded its symptom, or is one of
// the causes its text can also mean (then the live one is the precise
// answer); otherwise it is "not reproduced now" (a stale log, a transient
// failure, or facts runnerup cannot see, such as a CI/CD variable) and
// gets its fix from the table. Confirmed causes move to the front.
func (d *diagnosis) confirm(rep *Report, lr *LogReport) {
	base := d.baseFix(nil)
	base.User = ""
	if c := rep.Credentials; c != nil && c.Source != "none" {
		base.User, base.Source = c.Username, c.Source
	}
	confirmedAny := false
	for i := range lr.Matches {
		m := &lr.Matches[i]
		for _, list := range [][]Cause{rep.Causes, rep.Latent} {
			for j := range list {
				c := &list[j]
				if c.ID != m.ID && !slices.Contains(c.covers, m.ID) && !slices.Contains(m.Also, c.ID) {
					continue
				}
				if c.ID != m.ID && m.ConfirmedAs == "" {
					m.ConfirmedAs = c.ID // the live probe names it more precisely
				}
				m.Verdict = VerdictConfirmed
				c.Log, c.From = VerdictConfirmed, FromLogLive
				c.Evidence = append(c.Evidence, "job log: "+m.Line)
				confirmedAny = true
			}
		}
		if m.Verdict == "" {
			m.Verdict = VerdictNotReproduced
			fc := base
			m.Fix = entry(m.ID).Fix(fc)
			if m.stage == StageCredentials && strings.Contains(m.Line, "$DOCKER_AUTH_CONFIG") && d.raw.authFrom == "" {
				rep.Notes = append(rep.Notes, "the job log's DOCKER_AUTH_CONFIG is not in the runner's environment here: it probably is a CI/CD variable; pass its value with --auth-config env:NAME to check it")
			}
		}
	}
	if confirmedAny {
		slices.SortStableFunc(rep.Causes, func(a, b Cause) int {
			return boolRank(a.Log == VerdictConfirmed) - boolRank(b.Log == VerdictConfirmed)
		})
	}
	if lr.Image != "" && registryRefOrSame(lr.Image) != registryRefOrSame(d.opts.Image) {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the job log is about %s, not %s", lr.Image, d.opts.Image))
	}
}

func boolRank(b bool) int {
	if b {
		return 0
	}
	return 1
}

func registryRefOrSame(s string) string { return parseImage(s).ref }
