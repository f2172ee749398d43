package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/registry"
	"github.com/runnerup/runnerup/wizard"
)

// probeDebounce is how long answers must stay unchanged before they are
// probed again.
const probeDebounce = 450 * time.Millisecond

// probeTickMsg fires probeDebounce after a change; only the latest tag
// starts a probe (bubbletea's debounce example).
type probeTickMsg struct{ tag int }

// probeResultMsg is one finished check of probe run gen.
type probeResultMsg struct {
	gen int
	r   probe.Result
	ch  <-chan tea.Msg
}

// probeDoneMsg ends probe run gen.
type probeDoneMsg struct {
	gen     int
	results []probe.Result
	err     error
}

// probeState tracks live checks. Every run gets a generation; messages of
// older generations are dropped, as huh drops stale field updates.
type probeState struct {
	gen     int
	tag     int
	running bool
	cancel  context.CancelFunc
	// key of the answers last scheduled / last started.
	scheduledKey, startedKey string
	results                  []probe.Result
	err                      error
	ran                      bool // at least one run finished
	// pulled: the current run (or the last one) let the Docker daemon
	// pull every image (the review's P).
	pulled bool
}

// busy says the checks shown are not final: a run is going, or the
// answers changed and a run is scheduled (the debounce has not fired yet).
// Both show as "checking…", so what is on screen never passes for the
// verdict on answers that were not checked yet.
func (p *probeState) busy() bool {
	return p.running || p.scheduledKey != p.startedKey
}

// probeKey is what the live checks depend on; a change re-probes.
func probeKey(a *wizard.Answers, paths wizard.Paths) string {
	k := struct {
		URL, Token, Kind, CA, Executor string
		Images                         []string
		Registries                     []wizard.Registry
		Paths                          wizard.Paths
		// Create: the API token is checked (its target and settings
		// are not: nothing is created before the write).
		Create   bool
		APIToken string
	}{URL: a.GitLab.URL, Token: a.GitLab.Token, Kind: a.GitLab.TokenKind, CA: a.GitLab.TLSCAFile, Executor: a.Runner.Executor,
		Images: a.Images(), Registries: a.Registries, Paths: paths}
	if c := a.GitLab.Create; c != nil {
		k.Create, k.APIToken, k.Token, k.Kind = true, c.APIToken, "", ""
	}
	if !wizard.UsesDocker(a.Runner.Executor) {
		k.Images, k.Registries = nil, nil
	}
	b, _ := json.Marshal(k)
	return string(b)
}

// scheduleProbeCmd debounces a re-probe when the probed answers changed.
func (m *model) scheduleProbeCmd() tea.Cmd {
	if m.o.Probe == nil || m.answers.GitLab.URL == "" {
		return nil
	}
	key := probeKey(m.answers, m.paths)
	if key == m.probes.scheduledKey {
		return nil
	}
	m.probes.scheduledKey = key
	m.probes.tag++
	tag := m.probes.tag
	return tea.Batch(tea.Tick(probeDebounce, func(time.Time) tea.Msg { return probeTickMsg{tag: tag} }), m.spinCmd())
}

// startProbeCmd starts a probe run for the current answers now, cancelling
// the one in flight.
func (m *model) startProbeCmd() tea.Cmd { return m.startProbeRun(false) }

// startPullCmd is startProbeCmd with the daemon's own pull of every image
// (Options.PullImages): the review's P.
func (m *model) startPullCmd() tea.Cmd { return m.startProbeRun(true) }

func (m *model) startProbeRun(pull bool) tea.Cmd {
	run := m.o.Probe
	if pull {
		run = m.o.PullImages
	}
	if run == nil {
		return nil
	}
	m.probes.pulled = pull
	if m.probes.cancel != nil {
		m.probes.cancel()
	}
	m.probes.gen++
	m.probes.running = true
	m.probes.results = nil
	m.probes.err = nil
	m.probes.startedKey = probeKey(m.answers, m.paths)
	m.probes.scheduledKey = m.probes.startedKey
	ctx, cancel := context.WithCancel(m.ctx)
	m.probes.cancel = cancel
	return tea.Batch(probeRunCmd(ctx, m.o, run, m.probes.gen, m.answers.Clone(), m.paths), m.spinCmd(), m.refreshMarksCmd())
}

// ProbeFunc runs the live checks for answers, calling onResult for each
// finished check (from any goroutine).
type ProbeFunc func(ctx context.Context, a *wizard.Answers, onResult func(probe.Result)) ([]probe.Result, error)

// probeRunCmd runs a probe function in the background and delivers its
// results one message at a time (bubbletea's realtime example).
func probeRunCmd(ctx context.Context, o Options, run ProbeFunc, gen int, a *wizard.Answers, paths wizard.Paths) tea.Cmd {
	return func() tea.Msg {
		ch := make(chan tea.Msg, 64)
		go func() {
			defer close(ch)
			pa := o.probeAnswers(a, paths)
			results, err := run(ctx, pa, func(r probe.Result) {
				select {
				case ch <- probeResultMsg{gen: gen, r: r, ch: ch}:
				case <-ctx.Done():
				}
			})
			ch <- probeDoneMsg{gen: gen, results: results, err: err}
		}()
		return waitProbe(ch)()
	}
}

func waitProbe(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		msg, ok := <-ch
		if !ok {
			return nil
		}
		return msg
	}
}

// updateProbes records probe messages of the current generation.
func (m *model) updateProbes(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case probeTickMsg:
		if msg.tag != m.probes.tag || m.probes.scheduledKey == m.probes.startedKey {
			return nil
		}
		return m.startProbeCmd()
	case probeResultMsg:
		if msg.gen == m.probes.gen {
			m.probes.results = upsertResult(m.probes.results, explainResult(msg.r, m.answers))
			m.refreshReview()
			return tea.Batch(waitProbe(msg.ch), m.refreshMarksCmd(), m.suggestWhileAsked())
		}
		return waitProbe(msg.ch) // drain stale runs too
	case probeDoneMsg:
		if msg.gen != m.probes.gen {
			return nil
		}
		m.probes.running = false
		m.probes.ran = true
		if len(msg.results) > 0 {
			m.probes.results = make([]probe.Result, len(msg.results))
			for i, r := range msg.results {
				m.probes.results[i] = explainResult(r, m.answers)
			}
		}
		if msg.err != nil && m.ctx.Err() == nil && !isCanceled(msg.err) {
			m.probes.err = msg.err
		}
		cmd := m.syncFixes()
		m.refreshReview()
		return tea.Batch(cmd, m.refreshMarksCmd())
	}
	return nil
}

func isCanceled(err error) bool { return errors.Is(err, context.Canceled) }

func upsertResult(rs []probe.Result, r probe.Result) []probe.Result {
	for i := range rs {
		if rs[i].ID == r.ID {
			rs[i] = r
			return rs
		}
	}
	return append(rs, r)
}

func (m *model) stopProbes() {
	if m.probes.cancel != nil {
		m.probes.cancel()
	}
}

// statusIcon is the checklist mark for a status.
func statusIcon(s probe.Status) string {
	switch s {
	case probe.Pass:
		return "✓"
	case probe.Warn:
		return "!"
	case probe.Fail:
		return "✗"
	default:
		return "–"
	}
}

// checklist renders probe results: ✓ ! ✗ – with details, and hints under
// warnings and failures. Failures come first, then warnings, then the
// rest in finishing order, so a problem never hides behind passing checks.
// It is a plain struct with Render, not a model.
type checklist struct {
	results  []probe.Result
	running  bool
	spinner  string
	err      error
	disabled bool // no Probe configured
	// prefixes filters the passing results by id prefix (nil: all);
	// failures and warnings always show.
	prefixes []string
	// exclude leaves results out (nil: none); the review's "This host"
	// block shows those.
	exclude func(probe.Result) bool
	// compact: a count line, problems on at most two lines each, passes on
	// one, no hints.
	compact bool
	// first are ids listed before the other passes (the focused field's).
	first []string
	// max lines (0: no limit).
	max int
}

func (c checklist) excluded(r probe.Result) bool { return c.exclude != nil && c.exclude(r) }

// shown says whether a result is listed: problems always, others when
// they match the prefixes.
func (c checklist) shown(r probe.Result) bool {
	if c.excluded(r) {
		return false
	}
	if c.prefixes == nil || r.Status == probe.Fail || r.Status == probe.Warn {
		return true
	}
	for _, p := range c.prefixes {
		if strings.HasPrefix(r.ID, p) {
			return true
		}
	}
	return false
}

// ordered is the results to list, failures first, then warnings, then the
// rest, each group in finishing order.
func (c checklist) ordered() []probe.Result {
	var out []probe.Result
	for _, st := range []probe.Status{probe.Fail, probe.Warn, ""} {
		for _, r := range c.results {
			isProblem := r.Status == probe.Fail || r.Status == probe.Warn
			if (st == "" && !isProblem) || r.Status == st {
				if c.shown(r) {
					out = append(out, r)
				}
			}
		}
	}
	return out
}

func (c checklist) icon(st *Styles, s probe.Status) string {
	switch s {
	case probe.Pass:
		return st.Pass.Render(statusIcon(s))
	case probe.Warn:
		return st.Warn.Render(statusIcon(s))
	case probe.Fail:
		return st.Fail.Render(statusIcon(s))
	}
	return st.Skip.Render(statusIcon(s))
}

// Render draws the checklist at width.
func (c checklist) Render(st *Styles, width int) string {
	if c.disabled {
		return st.Warn.Render("!") + " " + st.Muted.Render("probes unavailable: live checks are not part of this run")
	}
	if c.compact {
		return strings.Join(c.renderCompact(st, width), "\n")
	}
	var lines []string
	for _, r := range c.ordered() {
		icon := c.icon(st, r.Status)
		title := r.Title
		if title == "" {
			title = r.ID
		}
		if r.Status == probe.Warn || r.Status == probe.Fail {
			// What is wrong is read in full: id, title and detail wrapped,
			// never cut.
			text := r.ID + "  " + title
			if r.Detail != "" {
				text += " — " + r.Detail
			}
			lines = append(lines, markLinesList(icon+" ", text, width)...)
			if r.Hint != "" {
				for _, hl := range wrapText("hint: "+r.Hint, width-4) {
					lines = append(lines, "    "+st.Hint.Render(hl))
				}
			}
			continue
		}
		line := icon + " " + title
		if r.Detail != "" {
			line += st.Muted.Render(" — " + r.Detail)
		}
		lines = append(lines, ansi.Truncate(line, width, "…"))
	}
	if c.running {
		lines = append(lines, st.Spinner.Render(c.spinner)+" "+st.Muted.Render("checking…"))
	}
	if c.err != nil {
		lines = append(lines, markLinesList(st.Fail.Render("✗ "), "checks failed to run: "+c.err.Error(), width)...)
	}
	if c.max > 0 && len(lines) > c.max {
		lines = lines[:c.max]
	}
	return strings.Join(lines, "\n")
}

// renderCompact is the box under a form: a count line, then every problem
// (failures first, then warnings; the focused field's first within each),
// then the step's passing checks while lines are left. What does not fit
// is counted on a "… N more" line, never dropped silently. Lines go, in
// this order: one per problem; the count of problems left out; a second
// line for each failure, then for each warning (the reason of a long
// detail); then the passes, with their own count when some are left out.
func (c checklist) renderCompact(st *Styles, width int) []string {
	if len(c.results) == 0 && !c.running && c.err == nil {
		return nil
	}
	head := st.Section.Render("Checks") + "  " + counts(c.results, c.exclude)
	if c.running {
		head += st.Muted.Render(" · ") + st.Spinner.Render(c.spinner) + st.Muted.Render(" checking…")
	}
	lines := []string{head}
	room := 1 << 16
	if c.max > 0 {
		room = c.max - 1
	}
	if c.err != nil && room > 0 {
		lines = append(lines, ansi.Truncate(st.Fail.Render("✗ ")+"checks failed to run: "+c.err.Error(), width, "…"))
		room--
	}
	var problems []compactProblem
	var passes []string
	for _, r := range c.sortedForBox() {
		icon := c.icon(st, r.Status)
		if r.Status != probe.Warn && r.Status != probe.Fail {
			title := r.Title
			if title == "" {
				title = r.ID
			}
			line := icon + " " + title
			if r.Detail != "" {
				line += st.Muted.Render(" — " + r.Detail)
			}
			passes = append(passes, ansi.Truncate(line, width, "…"))
			continue
		}
		problems = append(problems, newCompactProblem(icon, r, width))
	}
	if room <= 0 {
		return lines
	}

	// Problems: one line each; those that do not fit are counted.
	shown, hidden := len(problems), 0
	if len(problems) > room {
		shown = max(room-1, 1)
		hidden = len(problems) - shown
	}
	left := room - shown
	if hidden > 0 {
		left = max(left-1, 0)
	}
	// Second lines: failures first, then warnings.
	second := make([]bool, shown)
	for _, status := range []probe.Status{probe.Fail, probe.Warn} {
		for i, p := range problems[:shown] {
			if left > 0 && p.status == status && p.second != "" {
				second[i] = true
				left--
			}
		}
	}
	for i, p := range problems[:shown] {
		switch {
		case second[i]:
			lines = append(lines, p.first, p.second)
		case hidden > 0 && room == 1:
			// The only line: the problem, with the count of the others.
			more := fmt.Sprintf(" (+%d more)", hidden)
			lines = append(lines, ansi.Truncate(p.whole, width-ansi.StringWidth(more), "…")+st.Muted.Render(more))
		default:
			lines = append(lines, p.whole)
		}
	}
	if hidden > 0 {
		if room > 1 {
			lines = append(lines, st.Muted.Render(fmt.Sprintf("… %d more problem(s): all on the review step", hidden)))
		}
		return lines
	}
	// Passes in the lines left, the last one counting the rest.
	if len(passes) > left && left > 0 {
		lines = append(lines, passes[:left-1]...)
		return append(lines, st.Muted.Render(fmt.Sprintf("… %d more: all on the review step", len(passes)-(left-1))))
	}
	return append(lines, passes[:min(left, len(passes))]...)
}

// compactProblem is a problem as the box shows it: whole on one line (cut
// with "…"), or over two.
type compactProblem struct {
	status probe.Status
	// whole is the one-line form: the unwrapped text, cut at the width
	// with "…", so a cut always shows.
	whole string
	// first and second are the two-line form; second is "" when the
	// text fits one line (whole says it all).
	first, second string
}

func newCompactProblem(icon string, r probe.Result, width int) compactProblem {
	text := r.ID
	if r.Detail != "" {
		text += " — " + r.Detail
	}
	p := compactProblem{status: r.Status, whole: ansi.Truncate(icon+" "+text, width, "…")}
	wrapped := wrapText(text, width-2)
	if len(wrapped) < 2 {
		return p
	}
	p.first = icon + " " + wrapped[0]
	p.second = "  " + ansi.Truncate(strings.Join(wrapped[1:], " "), width-2, "…")
	return p
}

// sortedForBox orders the results for the box: by status (failures,
// warnings, the rest), and within one status the focused field's checks
// first; otherwise in finishing order.
func (c checklist) sortedForBox() []probe.Result {
	rank := func(s probe.Status) int {
		switch s {
		case probe.Fail:
			return 0
		case probe.Warn:
			return 1
		}
		return 2
	}
	out := c.ordered()
	slices.SortStableFunc(out, func(a, b probe.Result) int {
		if d := rank(a.Status) - rank(b.Status); d != 0 {
			return d
		}
		fa, fb := slices.Contains(c.first, a.ID), slices.Contains(c.first, b.ID)
		switch {
		case fa == fb:
			return 0
		case fa:
			return -1
		}
		return 1
	})
	return out
}

// wrapText wraps plain text at width (words longer than width are cut by
// ansi.Wrap).
func wrapText(s string, width int) []string {
	if width < 10 {
		width = 10
	}
	return strings.Split(ansi.Wrap(s, width, " "), "\n")
}

// explainResult rephrases a check about credentials the user typed in this
// wizard: they are not in any file yet (config.json may be "(new file)"),
// so a rejected login points at what was entered, not at a file to edit.
func explainResult(r probe.Result, a *wizard.Answers) probe.Result {
	if host, what, ok := loginIncomplete(a, r.ID); ok {
		// probeAnswers left the login out: it is not rejected, it is not
		// there yet.
		return probe.Result{ID: r.ID, Title: r.Title, Status: probe.Skip,
			Detail: fmt.Sprintf("waiting for %s: the login to %s is checked once it is entered", what, host)}
	}
	if r.Status != probe.Fail || registry.Cause(r) != registry.CauseAuthRejected {
		return r
	}
	f, ok := r.Data.(registry.Failure)
	if !ok {
		return r
	}
	for _, reg := range a.Registries {
		if reg.Method != wizard.MethodBasic || registry.AuthID(reg.Host) != r.ID {
			continue
		}
		if f.CredentialSource != "" {
			r.Detail = strings.Replace(r.Detail, "credentials from "+f.CredentialSource+" rejected", "the username and the password you entered were rejected", 1)
		}
		r.Hint = "check the username and the password you entered for " + reg.Host + " (a token needs pull rights: GitLab read_registry, Docker Hub an access token)"
	}
	return r
}

// loginIncomplete says whether the check id is the auth check of a
// registry whose basic login is still being typed (no password yet), and
// what it waits for.
func loginIncomplete(a *wizard.Answers, id string) (host, what string, ok bool) {
	for _, reg := range a.Registries {
		if reg.Method != wizard.MethodBasic || reg.Password != "" || registry.AuthID(reg.Host) != id {
			continue
		}
		if reg.Username == "" {
			return reg.Host, "the username and the password", true
		}
		return reg.Host, "the password", true
	}
	return "", "", false
}

// holdIncompleteLogins keeps a basic login without a password out of the
// live checks (as if no method were chosen yet): a login with an empty
// password would only be rejected, and registries count failed logins.
// explainResult then says the check waits for the password.
func holdIncompleteLogins(a *wizard.Answers) {
	for i := range a.Registries {
		r := &a.Registries[i]
		if r.Method == wizard.MethodBasic && r.Password == "" {
			r.Method, r.Username = wizard.MethodNone, ""
		}
	}
}
