package tui

import (
	"fmt"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/wizard"
)

// The area under a form: the focused field's error, notes, then the live
// checks, failures and warnings first, whatever step they belong to. A
// failing check is never hidden behind passing ones while the user
// answers.

// stepProbePrefixes picks the passing checks that belong to a step (the
// ones shown when there is room after the problems).
func (m *model) stepProbePrefixes() []string {
	switch m.step {
	case stepGitLab:
		return []string{"gitlab."}
	case stepExecutor:
		return []string{"daemon.", "image."}
	case stepServices:
		return []string{"image."}
	case stepRegistries:
		return []string{"registry.", "credentials."}
	}
	return nil
}

// statusFunc renders the area under a form in the rows frame gives it.
func (m *model) statusFunc(w int) func(room int) string {
	return func(room int) string { return m.formStatus(w, room) }
}

// formStatus is the area under a form, in at most room lines.
func (m *model) formStatus(w, room int) string {
	var lines []string
	if err := m.focusedError(); err != nil {
		lines = append(lines, markLinesList(m.st.Fail.Render("✗ "), err.Error(), w)...)
	}
	if m.notice != "" && m.step == stepGitLab {
		lines = append(lines, markLinesList(m.st.Warn.Render("! "), m.notice, w)...)
	}
	results := m.probes.results
	note := m.fieldNote()
	if id, text := m.noteCheck(); id != "" {
		// The note and a check say the same thing: it is said once, as
		// the check (counted with the others), in the note's words.
		if i := slices.IndexFunc(results, func(r probe.Result) bool { return r.ID == id && r.Status == probe.Warn }); i >= 0 {
			results = slices.Clone(results)
			results[i].Detail = text
			note = ""
		}
	}
	if note != "" {
		lines = append(lines, wrapIndentedLines(note, w)...)
	}
	if m.o.Probe != nil {
		if left := room - len(lines); left > 0 {
			cl := checklist{
				results: results, running: m.probes.busy(), spinner: m.spin.View(),
				prefixes: m.stepProbePrefixes(), exclude: ownsResult, compact: true, max: left,
				first: m.focusedCheckIDs(),
			}
			if s := cl.Render(m.st, w); s != "" {
				lines = append(lines, strings.Split(s, "\n")...)
			}
		}
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, w, "…")
	}
	return strings.Join(lines, "\n")
}

// focusedCheckIDs are the checks about the focused field's answer (the API
// token's check while it is typed): listed before the step's other passes.
func (m *model) focusedCheckIDs() []string {
	k := m.focusKey()
	for _, f := range m.stepFields() {
		if f.Key == k {
			return f.CheckIDs(m.stepAnswers())
		}
	}
	return nil
}

// focusedError is the validation error of the focused field, if any.
func (m *model) focusedError() error {
	f := m.activeForm()
	if f == nil {
		return nil
	}
	if ff := f.GetFocusedField(); ff != nil {
		return ff.Error()
	}
	return nil
}

// activeForm is the form of the current step, if it shows one.
func (m *model) activeForm() *huh.Form {
	switch m.step {
	case stepExisting:
		return m.existingForm
	case stepGitLab, stepExecutor, stepRegistries:
		return m.form
	case stepServices:
		return m.svc.form
	case stepReview:
		return m.review.pathsForm
	case stepWrite:
		return m.write.saveForm
	}
	return nil
}

// markLinesList is markLines as lines.
func markLinesList(mark, text string, w int) []string {
	return strings.Split(strings.TrimRight(markLines(mark, text, w), "\n"), "\n")
}

func wrapIndentedLines(l string, w int) []string {
	return strings.Split(wrapIndented(l, w), "\n")
}

// ---- check marks next to fields ----

// fieldMarks are the text inputs whose titles carry the worst status of
// the checks about their answers: "GitLab URL  ✗ gitlab.tcp".
type fieldMarks struct {
	inputs []markedInput
}

type markedInput struct {
	f     wizard.Field
	in    *huh.Input
	title string // as last set
}

func (fm *fieldMarks) add(f wizard.Field, in *huh.Input) {
	fm.inputs = append(fm.inputs, markedInput{f: f, in: in, title: f.Prompt})
}

// update sets every marked input's title from the results; it reports
// whether a title changed.
func (fm *fieldMarks) update(a *wizard.Answers, rs []probe.Result) bool {
	if fm == nil {
		return false
	}
	changed := false
	for i := range fm.inputs {
		mi := &fm.inputs[i]
		title := mi.f.Prompt
		if r, ok := worstResult(rs, mi.f.CheckIDs(a)); ok {
			title += "  " + statusIcon(r.Status) + " " + r.ID
		}
		if mi.title != title {
			mi.in.Title(title)
			mi.title = title
			changed = true
		}
	}
	return changed
}

// worstResult is the first failing, else the first warning result among
// the ids.
func worstResult(rs []probe.Result, ids []string) (probe.Result, bool) {
	var warn *probe.Result
	for _, id := range ids {
		for i := range rs {
			if rs[i].ID != id {
				continue
			}
			switch rs[i].Status {
			case probe.Fail:
				return rs[i], true
			case probe.Warn:
				if warn == nil {
					warn = &rs[i]
				}
			}
		}
	}
	if warn != nil {
		return *warn, true
	}
	return probe.Result{}, false
}

// refreshMarksCmd puts the latest check results next to the fields of the
// open form; the form redraws its page on the message it gets.
func (m *model) refreshMarksCmd() tea.Cmd {
	if !m.marks.update(m.stepAnswers(), m.probes.results) {
		return nil
	}
	var cmds []tea.Cmd
	for _, f := range []**huh.Form{&m.form, &m.svc.form} {
		if *f == nil {
			continue
		}
		nf, cmd := (*f).Update(redrawMsg{})
		*f = nf.(*huh.Form)
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

// redrawMsg makes a form rebuild its page (titles changed).
type redrawMsg struct{}

// counts is "1 ✗ · 1 ! · 5 ✓" for results.
func counts(rs []probe.Result, exclude func(probe.Result) bool) string {
	var fail, warn, pass int
	for _, r := range rs {
		if exclude != nil && exclude(r) {
			continue
		}
		switch r.Status {
		case probe.Fail:
			fail++
		case probe.Warn:
			warn++
		case probe.Pass:
			pass++
		}
	}
	parts := []string{fmt.Sprintf("%d ✗", fail)}
	if warn > 0 {
		parts = append(parts, fmt.Sprintf("%d !", warn))
	}
	parts = append(parts, fmt.Sprintf("%d ✓", pass))
	return strings.Join(parts, " · ")
}
