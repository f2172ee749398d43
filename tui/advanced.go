package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/runnerup/runnerup/wizard"
)

// Each form step asks the settings most users change; the ones most keep
// (wizard.Field.Advanced: runner name, CA file, privileged, volumes, pull
// policy, concurrent, a service's command, where credentials go) are asked
// after ctrl+o. Until then a line under the form says what they are set to,
// and the review lists them all.

// stepFields are the wizard fields the current step asks (for services:
// the open service form's).
func (m *model) stepFields() []wizard.Field {
	switch m.step {
	case stepGitLab:
		st, _ := wizard.StepByID(wizard.StepGitLab)
		return st.Fields
	case stepExecutor:
		st, _ := wizard.StepByID(wizard.StepExecutor)
		return st.Fields
	case stepServices:
		if m.svc.form != nil {
			return wizard.ServiceFields(0)
		}
	case stepRegistries:
		var out []wizard.Field
		for _, i := range m.askedRegistries(m.answers) {
			out = append(out, wizard.RegistryFields(i)...)
		}
		return out
	}
	return nil
}

// stepAnswers are the answers the step's fields read (the service form
// edits a scratch copy).
func (m *model) stepAnswers() *wizard.Answers {
	if m.step == stepServices && m.svc.scratch != nil {
		return m.svc.scratch
	}
	return m.answers
}

// advancedFields are the step's advanced fields that apply.
func (m *model) advancedFields() []wizard.Field {
	a := m.stepAnswers()
	var out []wizard.Field
	for _, f := range m.stepFields() {
		if f.Advanced && !f.Hidden(a) {
			out = append(out, f)
		}
	}
	return out
}

// hasAdvanced says the step has advanced settings at all (some may not
// apply to the answers yet: where credentials go, before a method).
func (m *model) hasAdvanced() bool {
	for _, f := range m.stepFields() {
		if f.Advanced {
			return true
		}
	}
	return false
}

func (m *model) advancedOn() bool {
	p := m.advanced[m.step]
	return p != nil && *p
}

// toggleAdvanced shows or hides the step's advanced settings. Hiding them
// while one has focus moves back to the last page still shown.
func (m *model) toggleAdvanced(f *huh.Form) tea.Cmd {
	p := m.advanced[m.step]
	if p == nil || !m.hasAdvanced() {
		return nil
	}
	*p = !*p
	var cmds []tea.Cmd
	for i := 0; f != nil && !*p && i < 32 && m.focusedAdvanced(f); i++ {
		before := f.GetFocusedField()
		cmds = append(cmds, f.PrevGroup())
		if f.GetFocusedField() == before {
			break
		}
	}
	m.resize()
	return tea.Batch(cmds...)
}

// focusedAdvanced says the form's focused field is an advanced one.
func (m *model) focusedAdvanced(f *huh.Form) bool {
	ff := f.GetFocusedField()
	if ff == nil {
		return false
	}
	for _, wf := range m.stepFields() {
		if wf.Key == ff.GetKey() {
			return wf.Advanced
		}
	}
	return false
}

// advancedLine is the line under a form about the advanced settings: what
// they are while hidden, or that they are shown.
func (m *model) advancedLine(w int) string {
	fields := m.advancedFields()
	switch {
	case !m.hasAdvanced():
		return ""
	case m.advancedOn():
		return m.st.Muted.Render(ansi.Truncate("▾ Advanced settings are asked after the others (ctrl+o hides them)", w, "…"))
	case len(fields) == 0:
		return m.st.Muted.Render(ansi.Truncate("▸ Advanced (ctrl+o): none apply to these answers yet", w, "…"))
	}
	a, ctx := m.stepAnswers(), m.fieldCtx()
	var parts []string
	for _, f := range fields {
		parts = append(parts, f.Name()+" "+displayValue(f, a, ctx))
	}
	return m.st.Muted.Render(ansi.Truncate("▸ Advanced (ctrl+o): "+strings.Join(parts, " · "), w, "…"))
}

// displayValue is how a setting reads on the advanced line and the review:
// a select's label, *** for a secret, "none" for nothing.
func displayValue(f wizard.Field, a *wizard.Answers, ctx wizard.Context) string {
	v := f.ValueIn(a, ctx)
	switch {
	case f.Key == "gitlab.create.api_token" && v == "" && ctx.APITokenEnv != "":
		return "from $" + ctx.APITokenEnv
	case f.Key == "gitlab.create.api_token" && v != "":
		return "*** (entered; saved answers read $GITLAB_TOKEN)"
	case f.Kind == wizard.KindTarget && v != "":
		return wizard.DescribeCreateTarget(v)
	case v == "" && f.Kind == wizard.KindSelect:
		for _, o := range f.Options {
			if o.Value == "" && o.Label != "" {
				return o.Label
			}
		}
		return "default"
	case v == "":
		return "none"
	case f.Kind == wizard.KindSecret:
		return "***"
	case f.Kind == wizard.KindSelect:
		for _, o := range f.Options {
			if o.Value == v && o.Label != "" {
				return o.Label
			}
		}
	case f.Kind == wizard.KindConfirm:
		if v == "true" {
			return "yes"
		}
		return "no"
	}
	return v
}
