package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/runnerup/runnerup/probe"
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
}

// probeKey is what the live checks depend on; a change re-probes.
func probeKey(a *wizard.Answers, paths wizard.Paths) string {
	k := struct {
		URL, Token, Kind, CA, Executor string
		Images                         []string
		Registries                     []wizard.Registry
		Paths                          wizard.Paths
	}{a.GitLab.URL, a.GitLab.Token, a.GitLab.TokenKind, a.GitLab.TLSCAFile, a.Runner.Executor, a.Images(), a.Registries, paths}
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
	return tea.Tick(probeDebounce, func(time.Time) tea.Msg { return probeTickMsg{tag: tag} })
}

// startProbeCmd starts a probe run for the current answers now, cancelling
// the one in flight.
func (m *model) startProbeCmd() tea.Cmd {
	if m.o.Probe == nil {
		return nil
	}
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
	return tea.Batch(probeRunCmd(ctx, m.o, m.probes.gen, m.answers.Clone(), m.paths), m.spinCmd())
}

// probeRunCmd runs Options.Probe in the background and delivers its
// results one message at a time (bubbletea's realtime example).
func probeRunCmd(ctx context.Context, o Options, gen int, a *wizard.Answers, paths wizard.Paths) tea.Cmd {
	return func() tea.Msg {
		ch := make(chan tea.Msg, 64)
		go func() {
			defer close(ch)
			pa := o.probeAnswers(a, paths)
			results, err := o.Probe(ctx, pa, func(r probe.Result) {
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
			m.probes.results = upsertResult(m.probes.results, msg.r)
			m.refreshReview()
		}
		return waitProbe(msg.ch) // drain stale runs too
	case probeDoneMsg:
		if msg.gen != m.probes.gen {
			return nil
		}
		m.probes.running = false
		m.probes.ran = true
		if len(msg.results) > 0 {
			m.probes.results = msg.results
		}
		if msg.err != nil && m.ctx.Err() == nil && !isCanceled(msg.err) {
			m.probes.err = msg.err
		}
		cmd := m.syncFixes()
		m.refreshReview()
		return cmd
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
// warnings and failures. It is a plain struct with Render, not a model.
type checklist struct {
	results  []probe.Result
	running  bool
	spinner  string
	err      error
	disabled bool // no Probe configured
	// prefixes filters results by id prefix (nil: all).
	prefixes []string
	// exclude leaves results out (nil: none); the review's "This host"
	// block shows those.
	exclude func(probe.Result) bool
	// compact: one line per check, no hints.
	compact bool
	// max lines (0: no limit).
	max int
}

func (c checklist) match(r probe.Result) bool {
	if c.exclude != nil && c.exclude(r) {
		return false
	}
	if c.prefixes == nil {
		return true
	}
	for _, p := range c.prefixes {
		if strings.HasPrefix(r.ID, p) {
			return true
		}
	}
	return false
}

// Render draws the checklist at width.
func (c checklist) Render(st *Styles, width int) string {
	var lines []string
	if c.disabled {
		return st.Warn.Render("!") + " " + st.Muted.Render("probes unavailable: live checks are not part of this run")
	}
	for _, r := range c.results {
		if !c.match(r) {
			continue
		}
		var icon string
		switch r.Status {
		case probe.Pass:
			icon = st.Pass.Render(statusIcon(r.Status))
		case probe.Warn:
			icon = st.Warn.Render(statusIcon(r.Status))
		case probe.Fail:
			icon = st.Fail.Render(statusIcon(r.Status))
		default:
			icon = st.Skip.Render(statusIcon(r.Status))
		}
		title := r.Title
		if title == "" {
			title = r.ID
		}
		line := icon + " " + title
		problem := r.Status == probe.Warn || r.Status == probe.Fail
		switch {
		case !c.compact && problem:
			// What is wrong is read in full: wrapped, not cut.
			text := title
			if r.Detail != "" {
				text += " — " + r.Detail
			}
			for i, l := range wrapText(text, width-2) {
				if i == 0 {
					lines = append(lines, icon+" "+l)
				} else {
					lines = append(lines, "  "+l)
				}
			}
		default:
			if r.Detail != "" {
				line += st.Muted.Render(" — " + r.Detail)
			}
			lines = append(lines, ansi.Truncate(line, width, "…"))
		}
		if !c.compact && r.Hint != "" && problem {
			for _, hl := range wrapText("hint: "+r.Hint, width-4) {
				lines = append(lines, "    "+st.Hint.Render(hl))
			}
		}
	}
	if c.running {
		lines = append(lines, st.Spinner.Render(c.spinner)+" "+st.Muted.Render("checking…"))
	}
	if c.err != nil {
		lines = append(lines, st.Fail.Render("✗")+" "+ansi.Truncate("checks failed to run: "+c.err.Error(), width-2, "…"))
	}
	if c.max > 0 && len(lines) > c.max {
		extra := len(lines) - c.max + 1
		lines = append(lines[:c.max-1], st.Muted.Render(fmt.Sprintf("  … %d more (all on the review step)", extra)))
	}
	return strings.Join(lines, "\n")
}

// wrapText wraps plain text at width (words longer than width are cut by
// ansi.Wrap).
func wrapText(s string, width int) []string {
	if width < 10 {
		width = 10
	}
	return strings.Split(ansi.Wrap(s, width, " "), "\n")
}
