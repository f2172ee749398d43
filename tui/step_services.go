package tui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/runnerup/runnerup/wizard"
)

// serviceState is the services step: a list with add / edit / remove, and
// a form while one service is edited.
type serviceState struct {
	cursor int
	// editing is the index being edited (len(services) for a new one) while
	// form is open.
	editing int
	form    *huh.Form
	// scratch holds the service being edited as docker.services[0]; it is
	// committed when the form completes.
	scratch *wizard.Answers
}

// buildServiceForm edits one service container: image and alias, then,
// with the advanced settings shown (advanced; nil: always), command,
// entrypoint and environment. It works on a copy of svc held as the only
// service of the returned scratch answers; the caller commits it on
// completion.
func buildServiceForm(svc wizard.Service, advanced *bool, marks *fieldMarks) (*huh.Form, *wizard.Answers) {
	scratch := &wizard.Answers{Runner: wizard.Runner{Executor: "docker"}}
	scratch.Docker.Services = []wizard.Service{svc}
	b := formBuilder{a: scratch, advanced: advanced, marks: marks}
	return newForm(b.groups(wizard.ServiceFields(0), nil)...), scratch
}

func (m *model) enterServices() tea.Cmd {
	m.svc.form, m.svc.scratch = nil, nil
	n := len(m.answers.Docker.Services)
	if n == 0 {
		m.svc.cursor = 0 // "add"
	} else {
		m.svc.cursor = n + 1 // "continue"
	}
	return nil
}

// rows: each service, then "add", then "continue".
func (m *model) serviceRows() int { return len(m.answers.Docker.Services) + 2 }

func (m *model) updateServices(msg tea.Msg) tea.Cmd {
	if m.svc.form != nil {
		return m.updateServiceForm(msg)
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	n := len(m.answers.Docker.Services)
	switch k.String() {
	case "up", "k", "shift+tab":
		m.svc.cursor = (m.svc.cursor + m.serviceRows() - 1) % m.serviceRows()
	case "down", "j", "tab":
		m.svc.cursor = (m.svc.cursor + 1) % m.serviceRows()
	case "a", "+":
		return m.editService(n)
	case "d", "x", "delete", "backspace":
		if m.svc.cursor < n {
			s := m.answers.Docker.Services
			m.answers.Docker.Services = append(s[:m.svc.cursor:m.svc.cursor], s[m.svc.cursor+1:]...)
			if len(m.answers.Docker.Services) == 0 {
				// Empty, not nil: removing the last service removes the
				// runner's services; nil would keep them (services = []
				// in the answers).
				m.answers.Docker.Services = []wizard.Service{}
			}
			return m.scheduleProbeCmd()
		}
	case "enter", "e", "space":
		switch {
		case m.svc.cursor < n:
			return m.editService(m.svc.cursor)
		case m.svc.cursor == n:
			return m.editService(n)
		default:
			return m.gotoStep(m.nextStep(stepServices))
		}
	case "n", "right":
		return m.gotoStep(m.nextStep(stepServices))
	case "esc", "left":
		return m.gotoStep(m.prevStep(stepServices))
	}
	return nil
}

func (m *model) editService(i int) tea.Cmd {
	var svc wizard.Service
	if i < len(m.answers.Docker.Services) {
		svc = m.answers.Docker.Services[i]
	}
	m.svc.editing = i
	m.marks = &fieldMarks{}
	m.svc.form, m.svc.scratch = buildServiceForm(svc, m.advanced[stepServices], m.marks)
	m.resize()
	return tea.Batch(m.svc.form.Init(), m.refreshMarksCmd())
}

func (m *model) updateServiceForm(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch k.String() {
		case "esc":
			before := m.svc.form.GetFocusedField()
			cmd := m.svc.form.PrevGroup()
			if m.svc.form.GetFocusedField() == before {
				m.svc.form, m.svc.scratch = nil, nil // cancel: the list keeps the service as it was
				m.resize()
				return nil
			}
			return cmd
		case "ctrl+o":
			return m.toggleAdvanced(m.svc.form)
		}
	}
	f, cmd := m.svc.form.Update(msg)
	m.svc.form = f.(*huh.Form)
	if m.svc.form.State != huh.StateCompleted {
		return cmd
	}
	svc := m.svc.scratch.Docker.Services[0]
	if m.svc.editing < len(m.answers.Docker.Services) {
		m.answers.Docker.Services[m.svc.editing] = svc
	} else {
		m.answers.Docker.Services = append(m.answers.Docker.Services, svc)
	}
	m.svc.form, m.svc.scratch = nil, nil
	m.resize()
	m.svc.cursor = len(m.answers.Docker.Services) + 1 // "continue"
	return tea.Batch(cmd, m.scheduleProbeCmd())
}

func serviceLine(s wizard.Service) string {
	line := s.Name
	if s.Alias != "" {
		line += "  alias " + s.Alias
	}
	var extra []string
	if len(s.Command) > 0 {
		extra = append(extra, "command")
	}
	if len(s.Entrypoint) > 0 {
		extra = append(extra, "entrypoint")
	}
	if len(s.Environment) > 0 {
		extra = append(extra, fmt.Sprintf("%d env", len(s.Environment)))
	}
	if len(extra) > 0 {
		line += "  (" + strings.Join(extra, ", ") + ")"
	}
	return line
}

func (m *model) viewServices(w int) (body string, status func(room int) string, help string) {
	title := m.stepTitle("Services")
	if m.svc.form != nil {
		what := "New service"
		if m.svc.editing < len(m.answers.Docker.Services) {
			what = "Edit service " + m.answers.Docker.Services[m.svc.editing].Name
		}
		body = title + m.st.Muted.Render("  "+what) + "\n" + trimBlankTail(m.svc.form.View())
		if l := m.advancedLine(w); l != "" {
			body += "\n" + l
		}
		return body, m.statusFunc(w), m.formHelp(m.svc.form, true)
	}
	var b strings.Builder
	b.WriteString(title + "\n")
	b.WriteString(m.st.StepHelp.Render(ansi.Truncate("Service containers start next to every job (databases, docker:dind, …).", w, "…")) + "\n\n")
	svcs := m.answers.Docker.Services
	row := func(i int, text string) {
		cursor := "  "
		if i == m.svc.cursor {
			cursor = m.st.Selected.Render("> ")
			text = m.st.Selected.Render(text)
		}
		b.WriteString(cursor + text + "\n")
	}
	if len(svcs) == 0 {
		b.WriteString(m.st.Muted.Render("  no services") + "\n")
	}
	for i, s := range svcs {
		row(i, serviceLine(s))
	}
	row(len(svcs), "+ Add a service")
	row(len(svcs)+1, "Continue →")
	help = m.helpLine([][2]string{{"↑/↓", "move"}, {"enter", "select"}, {"a", "add"}, {"d", "remove"}, {"n", "next"}, {"esc", "back"}, {"ctrl+c", "quit"}})
	return b.String(), m.statusFunc(w), help
}
