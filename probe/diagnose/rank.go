package diagnose

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/docker/cli/cli/config/configfile"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/daemon"
	"github.com/runnerup/runnerup/probe/registry"
)

// Where a cause was found (Cause.From).
const (
	FromLive    = "live"
	FromLog     = "log"
	FromLogLive = "log and live"
	FromInput   = "input"
)

// Who ranked the causes (Verdict.RankedBy).
const (
	RankedByLog  = "log"
	RankedByLive = "live"
)

// NotRunnerHostNote is said once when the live checks ran here but cannot
// be the runner's: the causes come from the log.
const NotRunnerHostNote = "this is not the runner host: checks below describe this machine"

// VerdictNotCheckable is a log match's verdict when the live checks here
// cannot be the runner's.
const VerdictNotCheckable = "not checkable here"

// Verdict says how the causes of a diagnosis with a job log were ranked.
type Verdict struct {
	// RankedBy is "log" (the job log decides the order) or "live" (the
	// checks did, in the runner's context).
	RankedBy string `json:"ranked_by"`
	Why      string `json:"why"`
	// RunnerHost: the live checks can stand for the runner's own (its
	// daemon, its config.toml, its network). NotRunnerHost says why not.
	RunnerHost    bool     `json:"runner_host"`
	NotRunnerHost []string `json:"not_runner_host,omitempty"`
	// Note is NotRunnerHostNote when the log ranked the causes although
	// live checks ran.
	Note string `json:"note,omitempty"`
	// ThisMachine are the live checks' causes when they describe this
	// machine rather than the runner's.
	ThisMachine []Cause `json:"this_machine,omitempty"`
	// Overruled are the log's causes the live checks, in the runner's
	// context, do not reproduce although a check that tests each passed.
	Overruled []Cause `json:"overruled,omitempty"`
}

// rankOnRunnerHost ranks when the live checks are the runner's. Each of the
// log's causes is confirmed by a live cause, or contradicted by a live
// check that tests it and passed now (overruled: the live result wins), or
// neither: it happened inside the job, where the host's checks cannot
// look, or no check tests it. Those stay causes, so the diagnosis is never
// OK while the log shows a failure nothing here contradicts. A cause from
// inside the job is what failed that job (its image had pulled): the log
// ranks it first.
func (d *diagnosis) rankOnRunnerHost(rep *Report, lr *LogReport, logCs []Cause, byID map[string]probe.Result, v *Verdict) {
	d.confirm(rep, lr)
	var inJob, unchecked []Cause
	var contradicted []string
	for _, c := range logCs {
		if confirmedBy(c, rep.Causes) || confirmedBy(c, rep.Latent) {
			continue
		}
		m := lr.match(c.matchID)
		if c.inJob {
			c.NotCheckable = notCheckableInJob
			c.Evidence = append(c.Evidence, notCheckableInJob)
			if m != nil {
				m.Verdict, m.Fix = VerdictInJob, nil
			}
			inJob = append(inJob, c)
			continue
		}
		check := d.contradiction(c.ID, *lr, byID)
		if check == "" {
			c.Evidence = append(c.Evidence, "no live check tests this, so nothing here contradicts the job log")
			if m != nil {
				m.Verdict, m.Fix = VerdictNotChecked, nil
			}
			unchecked = append(unchecked, c)
			continue
		}
		c.Evidence = append(c.Evidence, fmt.Sprintf("%s passed now, in the runner's context", check))
		if m != nil {
			m.ContradictedBy = check
		}
		v.Overruled = append(v.Overruled, c)
		contradicted = append(contradicted, check)
	}
	live := rep.Causes
	kept := append(slices.Clone(inJob), unchecked...)
	v.RankedBy = RankedByLive
	switch {
	case len(inJob) > 0:
		v.RankedBy = RankedByLog
		rep.Causes = append(kept, live...)
		c := inJob[0]
		v.Why = fmt.Sprintf("the job log shows %s at line %d, which happened inside the job (its docker:dind service or its own Docker client): the runner host's live checks cannot see it, so the job log ranks it first; the live checks ran in the runner's context (%s)",
			c.ID, c.LogLine, d.context())
	case len(live) == 0 && len(unchecked) > 0:
		v.RankedBy = RankedByLog
		rep.Causes = kept
		c := unchecked[0]
		v.Why = fmt.Sprintf("the live checks ran in the runner's context (%s) and found no cause, but none of them tests %s that the job log shows at line %d: it stays the cause until a check contradicts it",
			d.context(), c.ID, c.LogLine)
	case len(v.Overruled) > 0:
		rep.Causes = append(live, unchecked...)
		o := v.Overruled[0]
		v.Why = fmt.Sprintf("the live checks ran in the runner's context (%s) and do not reproduce %s that the job log shows at line %d: %s passed now, and the live result wins, because it is the runner's state now; the log may be stale (a failure since fixed, or a transient one) or depend on what is not visible here (a CI/CD variable's value: pass it with --auth-config)",
			d.context(), o.ID, o.LogLine, contradicted[0])
	case len(logCs) > len(unchecked):
		rep.Causes = append(live, unchecked...)
		v.Why = fmt.Sprintf("the live checks ran in the runner's context (%s) and confirm the job log", d.context())
	case len(logCs) > 0:
		rep.Causes = append(live, unchecked...)
		v.Why = fmt.Sprintf("the live checks ran in the runner's context (%s) and found other causes; no live check tests %s that the job log shows at line %d, so it is kept after them", d.context(), unchecked[0].ID, unchecked[0].LogLine)
	default:
		v.Why = fmt.Sprintf("the job log names no catalogued cause; the live checks ran in the runner's context (%s)", d.context())
	}
	if len(unchecked) > 0 && v.RankedBy == RankedByLive && len(logCs) > len(unchecked) {
		v.Why += fmt.Sprintf("; no live check tests %s (job log line %d), so it is kept as a cause", unchecked[0].ID, unchecked[0].LogLine)
	}
}

// notCheckableInJob is said of a log cause from inside the job.
const notCheckableInJob = "inside the job (its docker:dind service, its own Docker client and daemon): the runner host's live checks cannot see it"

// match returns the log match with id, or nil.
func (lr *LogReport) match(id string) *LogMatch {
	for i := range lr.Matches {
		if lr.Matches[i].ID == id {
			return &lr.Matches[i]
		}
	}
	return nil
}

// contradiction names a live check that tests what a log cause blames
// and passed now, or "". A check of another image or registry than the
// log's tests nothing the log says about its own.
func (d *diagnosis) contradiction(id string, lr LogReport, byID map[string]probe.Result) string {
	sameImage, sameHost := true, true
	if lr.Image != "" {
		p := parseImage(lr.Image)
		sameImage, sameHost = p.ref == d.im.ref, p.host == d.im.host
	}
	ref := d.im.ref
	var tests []string
	switch e := entry(id); {
	case id == "helper-image-missing":
		tests = []string{daemon.IDHelperImage}
	case id == "docker-api-too-old":
		tests = []string{daemon.IDRunnerAPI}
	case id == "daemon-permission-denied":
		tests = []string{daemon.IDPermission}
	case id == "disk-full":
		tests = []string{daemon.IDStorage}
	case e.Stage == StageDaemon:
		tests = []string{daemon.IDReachable}
	case !sameImage && !(e.Stage == StageTransport && sameHost):
		// the log is about another image: its registry's answers are not
		// tested here
	case e.Stage == StageReference || e.Stage == StageAuth || e.Stage == StageManifest:
		tests = []string{registry.ManifestID(ref)}
	case e.Stage == StagePolicy:
		tests = []string{PolicyCheckID(ref)}
	case e.Stage == StageCredentials:
		for _, cid := range slices.Sorted(maps.Keys(byID)) {
			if strings.HasPrefix(cid, "credentials.") {
				tests = append(tests, cid)
			}
		}
	case e.Stage == StageTransport:
		tests = []string{registry.TLSID(d.im.host)}
		if sameImage {
			tests = append(tests, registry.ManifestID(ref))
		}
	case e.Stage == StagePlatform:
		tests = []string{registry.PlatformID(ref)}
	case e.Stage == StageDownload:
		tests = []string{daemon.PullID(ref)}
	}
	for _, cid := range tests {
		if byID[cid].Status == probe.Pass {
			return cid
		}
	}
	return ""
}

// rank puts the log's causes and the live checks' in one order. When the
// live context cannot be the runner's, the log ranks and the live causes
// describe this machine (except what comes from the inputs themselves);
// otherwise the live checks rank, confirming the log's causes or
// overruling them, with the reason.
func (d *diagnosis) rank(rep *Report, lr *LogReport) {
	byID := make(map[string]probe.Result, len(rep.Checks))
	for _, r := range rep.Checks {
		byID[r.ID] = r
	}
	logCs := d.logCauses(*lr)
	v := &Verdict{NotRunnerHost: d.notRunnerHost(byID, *lr, logCs, rep.Causes)}
	v.RunnerHost = len(v.NotRunnerHost) == 0
	if !v.RunnerHost {
		v.RankedBy, v.Note = RankedByLog, NotRunnerHostNote
		var given []Cause
		for _, c := range rep.Causes {
			if d.fromInput(c.ID) {
				c.From = FromInput
				given = append(given, c)
				continue
			}
			v.ThisMachine = append(v.ThisMachine, c)
		}
		rep.Causes = mergeByStage(given, logCs)
		for i := range lr.Matches {
			lr.Matches[i].Verdict = VerdictNotCheckable
		}
		v.Why = "the live checks cannot be the runner's (" + strings.Join(v.NotRunnerHost, "; ") + "), so the job log decides the order"
		if len(logCs) == 0 {
			v.Why = "the job log names no catalogued cause, and the live checks cannot be the runner's (" + strings.Join(v.NotRunnerHost, "; ") + ")"
		}
	} else {
		d.rankOnRunnerHost(rep, lr, logCs, byID, v)
	}
	rep.Verdict = v
	rep.OK = len(rep.Causes) == 0 && len(v.ThisMachine) == 0
}

// context names what makes the live checks the runner's.
func (d *diagnosis) context() string {
	s := "its daemon at " + d.daemonHost()
	if d.runner.ConfigPath != "" {
		s += ", " + d.runner.ConfigPath
	}
	return s
}

// notRunnerHost lists why the live checks cannot stand for the runner's.
func (d *diagnosis) notRunnerHost(byID map[string]probe.Result, lr LogReport, logCs, live []Cause) []string {
	var why []string
	// The log blames the runner's own daemon (not the job's DinD one): this
	// host's unreachable daemon may be that very failure.
	logBlamesDaemon := slices.ContainsFunc(logCs, func(c Cause) bool { return entry(c.ID).Stage == StageDaemon && !c.inJob })
	if r, ok := byID[daemon.IDReachable]; ok && r.Status == probe.Fail && !logBlamesDaemon {
		why = append(why, "no Docker daemon answers here at "+d.daemonHost())
	}
	if d.opts.ConfigSearched != "" {
		why = append(why, "no config.toml here ("+d.opts.ConfigSearched+" does not exist)")
	}
	if r := lr.Runner; r != nil {
		switch {
		case r.SystemID != "" && d.opts.HostSystemID != "" && r.SystemID != d.opts.HostSystemID:
			why = append(why, fmt.Sprintf("the log was written by runner manager %s, and this host's system id is %s", r.SystemID, d.opts.HostSystemID))
		case r.Name != "" && len(d.opts.ConfigRunners) > 0 && !slices.Contains(d.opts.ConfigRunners, r.Name):
			why = append(why, fmt.Sprintf("the log's runner %q is not in this host's config.toml", r.Name))
		}
	}
	executor := d.runner.Executor
	if lr.Runner != nil && lr.Runner.Executor != "" {
		executor = lr.Runner.Executor
	}
	if slices.Contains(managerExecutors, executor) || executor == "kubernetes" {
		why = append(why, fmt.Sprintf("the runner uses the %s executor: its jobs pull on other machines, not through this host's daemon", executor))
	}
	// The runner got past the network to the registry, which this host
	// cannot reach: another network.
	reached := slices.ContainsFunc(logCs, func(c Cause) bool { return entry(c.ID).Stage > StageTransport && entry(c.ID).Stage < StageUnknown })
	if i := slices.IndexFunc(live, func(c Cause) bool { return entry(c.ID).Stage == StageTransport }); i >= 0 && reached {
		why = append(why, fmt.Sprintf("the registry %s is not reachable from here (%s), but the runner reached it", d.im.host, live[i].ID))
	}
	return why
}

// fromInput: causes that follow from what was given (the image name, a
// CI/CD variable's DOCKER_AUTH_CONFIG), true on any host.
func (d *diagnosis) fromInput(id string) bool {
	switch id {
	case "invalid-reference":
		return true
	case "docker-auth-config-malformed", "auth-base64-invalid", "credential-helper-path":
		return d.raw.authFrom == "ci-variable"
	}
	return false
}

// confirmedBy: a live cause has the log cause's id, folded it in, or is
// one of the causes its text can also mean.
func confirmedBy(c Cause, live []Cause) bool {
	return slices.ContainsFunc(live, func(l Cause) bool {
		return l.ID == c.ID || slices.Contains(l.covers, c.ID) || slices.Contains(entry(c.ID).Then, l.ID)
	})
}

func logEvidencePrefix(no int) string { return fmt.Sprintf("job log line %d: ", no) }

// logCauses are the causes the log alone names, in its order (rankLog),
// each with its line and the catalogue's fix.
func (d *diagnosis) logCauses(lr LogReport) []Cause {
	base := d.baseFix(nil)
	if lr.Runner != nil && lr.Runner.Executor != "" {
		base.Executor = lr.Runner.Executor
	}
	// A shell executor's script runs on the runner host itself, as the
	// runner's user: its output is the host's to check.
	executor := d.runner.Executor
	if base.Executor != "" {
		executor = base.Executor
	}
	var out []Cause
	for _, lc := range rankLog(lr) {
		fc := base
		fc.Helper = lc.helper
		if lc.id == "invalid-reference" && fc.Image == "" {
			fc.Image = lr.Image
		}
		e := entry(lc.id)
		c := Cause{ID: e.ID, Summary: e.Summary, From: FromLog, LogLine: lc.match.LineNo,
			Evidence: append([]string{logEvidencePrefix(lc.match.LineNo) + lc.match.Line}, lc.evidence...),
			matchID:  lc.match.ID, inJob: e.InJob || lc.match.InJob && executor != "shell"}
		for _, s := range e.Fix(fc) {
			if s != "" && !slices.Contains(c.Fix, s) {
				c.Fix = append(c.Fix, s)
			}
		}
		if c.Fix == nil {
			c.Fix = []string{}
		}
		out = append(out, c)
	}
	return out
}

// mergeByStage orders causes from the inputs and from the log along the
// pull chain; on a tie the input comes first, and an id is listed once.
func mergeByStage(given, logCs []Cause) []Cause {
	out := append(slices.Clone(given), logCs...)
	slices.SortStableFunc(out, func(a, b Cause) int { return int(entry(a.ID).Stage) - int(entry(b.ID).Stage) })
	seen := map[string]bool{}
	out = slices.DeleteFunc(out, func(c Cause) bool {
		dup := seen[c.ID]
		seen[c.ID] = true
		return dup
	})
	if out == nil {
		out = []Cause{}
	}
	return out
}

// ClassifyLog classifies a job log alone (--no-live): no daemon, registry or
// credential check runs. The image comes from the log when opts.Image is
// empty. What the inputs show whatever the host (an invalid image name, a
// DOCKER_AUTH_CONFIG value that does not parse) joins the log's causes.
func ClassifyLog(opts Options) (*Report, error) {
	if opts.Log == nil {
		return nil, errors.New("diagnose: --no-live needs a job log")
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = func(string) (string, bool) { return "", false }
	}
	lr := MatchLog(*opts.Log)
	// An image named only by the log may be masked there ("***/app",
	// "<aws-id>.dkr…"): only a name given as input is checked as one.
	imageGiven := opts.Image != ""
	if !imageGiven {
		opts.Image = lr.JobImage()
	}
	d := newDiagnosis(opts)
	rep := &Report{Image: opts.Image, Registry: d.im.host, Runner: d.runner.Name, CredentialSource: "none", Checks: []probe.Result{}, Log: &lr}
	var given []Cause
	if imageGiven && d.im.err != nil {
		given = append(given, d.inputCause("invalid-reference", d.im.err.Error()))
	}
	if d.raw.authFrom == "ci-variable" && len(bytes.TrimSpace(d.raw.authConfig)) > 0 {
		if err := (&configfile.ConfigFile{}).LoadFromReader(bytes.NewReader(d.raw.authConfig)); err != nil {
			given = append(given, d.inputCause("docker-auth-config-malformed", "--auth-config: the runner's docker/cli decoder refuses the value: "+err.Error()))
		}
	}
	rep.Causes = mergeByStage(given, d.logCauses(lr))
	rep.Verdict = &Verdict{RankedBy: RankedByLog, Why: "the job log alone decides (--no-live: no live check ran)"}
	rep.OK = len(rep.Causes) == 0
	d.red.report(rep)
	return rep, nil
}

// inputCause is a cause shown by an input alone.
func (d *diagnosis) inputCause(id, evidence string) Cause {
	fc := d.baseFix(nil)
	fc.SourceName = "DOCKER_AUTH_CONFIG (the CI/CD variable's value)"
	return finding{id: id, evidence: []string{evidence}, fc: fc}.withFrom(FromInput)
}

func (f finding) withFrom(from string) Cause {
	c := f.cause()
	c.From = from
	return c
}
