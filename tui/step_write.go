package tui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/runnerup/runnerup/internal/safewrite"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/wizard"
)

// writeState is the write step: apply, then the offer to save answers.
type writeState struct {
	running   bool
	cancel    context.CancelFunc
	interrupt bool // Ctrl+C while apply ran
	force     bool // write although checks failed: apply skips its own
	res       *wizard.ApplyResult
	err       error

	saveForm  *huh.Form
	saveVals  *saveValues
	saving    bool
	savedPath string
	saveErr   error
	envVars   map[string]string
	secrets   bool
	// declined: the user chose not to save the answers.
	declined bool
}

type applyDoneMsg struct {
	res *wizard.ApplyResult
	err error
}

type savedMsg struct {
	path    string
	envVars map[string]string
	secrets bool
	err     error
}

// saveValues are the answers of the "save answers file" question.
type saveValues struct {
	Save    bool
	Path    string
	Secrets bool
}

// answersPath is where the answers file is offered to go.
func (o Options) answersPath(runnerName string) string {
	if o.SaveAnswersPath != "" {
		return o.SaveAnswersPath
	}
	return defaultAnswersPath(o.Paths, runnerName)
}

// defaultAnswersPath is where the answers file is offered to go: the
// user's configuration directory ($XDG_CONFIG_HOME or ~/.config, then
// runnerup/), named after the runner; never the current directory, which
// may be a checkout.
func defaultAnswersPath(pe wizard.PathEnv, runnerName string) string {
	base := filepath.Join(pe.Home, ".config")
	if pe.Env != nil {
		if x, ok := pe.Env("XDG_CONFIG_HOME"); ok && filepath.IsAbs(x) {
			base = x
		}
	}
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '-'
	}, runnerName)
	if strings.Trim(name, ".-") == "" {
		name = "answers"
	}
	return filepath.Join(base, "runnerup", name+".toml")
}

// buildSaveForm offers to save the answers file at the path it names; the
// path and whether secrets are saved in clear (not by default: they become
// env: references) are asked only with the advanced settings shown
// (advanced; nil: always).
func buildSaveForm(defaultPath string, advanced *bool) (*huh.Form, *saveValues) {
	v := &saveValues{Save: true, Path: defaultPath}
	f := newForm(
		huh.NewGroup(
			huh.NewConfirm().Key("save").Title("Save the answers to "+defaultPath+"?").
				Description("Replay them with `runnerup apply --answers FILE` here or on another machine; secrets become env: references. ctrl+o: another path, or secrets in clear.").
				Affirmative("Yes").Negative("No").Value(&v.Save),
		),
		huh.NewGroup(
			huh.NewInput().Key("save.path").Title("Answers file").
				Description("Written with mode 0600.").
				Value(&v.Path).Validate(func(s string) error {
				if strings.TrimSpace(s) == "" {
					return errors.New("answers file path is empty")
				}
				return nil
			}),
			huh.NewConfirm().Key("save.secrets").Title("Save secrets in clear?").
				Description("No (recommended): tokens and passwords become env: references you export before replaying.").
				Affirmative("Yes").Negative("No").Value(&v.Secrets),
		).WithHideFunc(func() bool { return !v.Save || (advanced != nil && !*advanced) }),
	)
	return f, v
}

// startWrite applies the prepared answers for real.
func (m *model) startWrite() tea.Cmd {
	m.step = stepWrite
	m.write = writeState{running: true, force: m.write.force}
	ctx, cancel := context.WithCancel(m.ctx)
	m.write.cancel = cancel
	p, o, opts := m.review.prepared, m.o, m.o.applyOptions(m.paths, false, m.write.force, m.review.used)
	return tea.Batch(func() tea.Msg {
		res, err := o.Apply(ctx, p, opts)
		return applyDoneMsg{res: res, err: err}
	}, m.spinCmd())
}

func (m *model) onApplied(msg applyDoneMsg) tea.Cmd {
	m.write.running = false
	if m.write.cancel != nil {
		m.write.cancel()
	}
	if msg.err != nil {
		if m.write.interrupt {
			m.err = interrupted(msg.err)
			return tea.Interrupt
		}
		m.write.err = msg.err
		return nil
	}
	m.write.res = msg.res
	saved, _ := m.o.encode(m.review.final, false)
	m.write.envVars = saved.EnvVars
	if m.write.interrupt {
		return m.finish()
	}
	m.write.saveForm, m.write.saveVals = buildSaveForm(m.o.answersPath(m.review.final.GitLab.Name), m.advanced[stepWrite])
	m.resize()
	return m.write.saveForm.Init()
}

func (m *model) saveAnswersCmd(path string, secrets bool) tea.Cmd {
	final, now, o := m.review.final.Clone(), m.o.ApplyOptions.Now, m.o
	return func() tea.Msg {
		saved, err := o.encode(final, secrets)
		if err != nil {
			return savedMsg{err: err}
		}
		_, err = safewrite.Write(safewrite.File{Path: path, Data: saved.Data, Secret: true}, safewrite.Options{Now: now})
		return savedMsg{path: path, envVars: saved.EnvVars, secrets: secrets, err: err}
	}
}

func (m *model) onSaved(msg savedMsg) tea.Cmd {
	m.write.saving = false
	if msg.err != nil {
		m.write.saveErr = msg.err
	} else {
		m.write.savedPath, m.write.envVars, m.write.secrets = msg.path, msg.envVars, msg.secrets
	}
	m.step = stepDone
	return nil
}

func (m *model) updateWrite(msg tea.Msg) tea.Cmd {
	k, isKey := msg.(tea.KeyPressMsg)
	switch {
	case m.write.running || m.write.saving:
		return nil
	case m.write.err != nil:
		if isKey {
			switch k.String() {
			case "esc":
				m.write.err = nil
				m.step = stepReview
				m.resize()
				return m.dryRunCmd()
			case "q", "enter":
				m.err = m.write.err
				return tea.Quit
			}
		}
		return nil
	case m.write.saveForm != nil:
		if isKey && k.String() == "esc" {
			m.write.saveForm = nil
			m.write.declined = true
			m.step = stepDone
			return nil
		}
		if isKey && k.String() == "ctrl+o" && m.focusKey() == "save" {
			*m.advanced[stepWrite] = !*m.advanced[stepWrite]
			return nil
		}
		f, cmd := m.write.saveForm.Update(msg)
		m.write.saveForm = f.(*huh.Form)
		if m.write.saveForm.State != huh.StateCompleted {
			return cmd
		}
		v := m.write.saveVals
		m.write.saveForm = nil
		if !v.Save {
			m.write.declined = true
			m.step = stepDone
			return cmd
		}
		m.write.saving = true
		return tea.Batch(cmd, m.saveAnswersCmd(strings.TrimSpace(v.Path), v.Secrets))
	}
	return nil
}

func (m *model) updateDone(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch k.String() {
		case "enter", "q", "esc", "space":
			return m.finish()
		}
	}
	return nil
}

func (m *model) viewWrite(w int) (string, string) {
	st := m.st
	title := m.stepTitle("Write")
	switch {
	case m.write.running:
		what := " writing config.toml and config.json…"
		if m.write.interrupt {
			what = " stopping: waiting for the write to finish or fail…"
		}
		return title + "\n\n" + st.Spinner.Render(m.spin.View()) + st.Muted.Render(what), m.helpLine([][2]string{{"ctrl+c", "stop"}})
	case m.write.err != nil:
		var b strings.Builder
		b.WriteString(title + "\n\n" + st.ErrorTitle.Render("Nothing was written.") + "\n")
		for _, l := range wrapText(m.write.err.Error(), w-2) {
			b.WriteString(st.ErrorText.Render(l) + "\n")
		}
		var ce *wizard.CheckError
		if errors.As(m.write.err, &ce) && len(ce.Results) > 0 {
			b.WriteString("\n" + checklist{results: probe.Failed(ce.Results)}.Render(st, w) + "\n")
		}
		return b.String(), m.helpLine([][2]string{{"esc", "back to review"}, {"q", "quit"}})
	case m.write.saving:
		return title + "\n\n" + st.Muted.Render("saving the answers file…"), ""
	case m.write.saveForm != nil:
		body := title + "\n" + strings.Join(m.writtenLines(w), "\n") + "\n\n" + m.write.saveForm.View()
		return body, m.fitHelp(append(m.formPairs(m.write.saveForm), [2]string{"ctrl+o", "path, secrets"}, [2]string{"esc", "skip"}), w, "ctrl+c")
	}
	return title, ""
}

// writtenLines says what apply did to each file.
func (m *model) writtenLines(w int) []string {
	res := m.write.res
	if res == nil {
		return nil
	}
	st := m.st
	var out []string
	r := res.Runner
	head := fmt.Sprintf("Runner %q %s", r.Name, res.RunnerDone())
	out = append(out, st.Pass.Render("✓ ")+head)
	if !res.Changed {
		out = append(out, "  no changes: the files already say this")
	}
	files := []*wizard.FileChange{&res.ConfigTOML}
	if res.DockerConfig != nil {
		files = append(files, res.DockerConfig)
	}
	for _, f := range files {
		switch {
		case !res.Changed:
		case !f.Changed:
			out = append(out, "  unchanged "+f.Path)
		case f.Backup != "":
			out = append(out, "  wrote "+f.Path+st.Muted.Render(" (previous kept as "+filepath.Base(f.Backup)+")"))
		default:
			out = append(out, "  wrote "+f.Path)
		}
	}
	out = append(out, prunedLines(res)...)
	if res.SystemID != nil && res.Changed {
		line := "  wrote " + res.SystemID.Path
		if r.SystemID != "" {
			line += st.Muted.Render(" (system id " + r.SystemID + ")")
		}
		out = append(out, line)
	}
	for i, l := range out {
		out[i] = wrapIndented(l, w)
	}
	return out
}

// nextStep is one numbered item of the next steps: text and commands in
// their order, each command meant to be copied whole.
type nextStep struct {
	parts []stepPart
}

type stepPart struct {
	text  string
	isCmd bool
}

// splitCommands takes a next-step sentence apart at its backticks:
// "start it: `a` or `b`" is the text, command a, "or", command b.
func splitCommands(s string) nextStep {
	var ns nextStep
	for i, seg := range strings.Split(s, "`") {
		if i%2 == 0 {
			seg = strings.TrimSpace(seg)
		}
		if seg != "" {
			ns.parts = append(ns.parts, stepPart{text: seg, isCmd: i%2 == 1})
		}
	}
	return ns
}

// nextStepItems are what to do after the write: what apply says for the
// service it found (start, restart, point it at the file), and how to
// replay the answers when they were saved.
func nextStepItems(res *wizard.ApplyResult, savedPath string, envVars map[string]string, secretsSaved bool) []nextStep {
	var out []nextStep
	if res != nil {
		for _, s := range res.NextSteps {
			out = append(out, splitCommands(s))
		}
	}
	if savedPath == "" {
		return out
	}
	replay := nextStep{parts: []stepPart{{text: "Replay the answers (here again, or on another machine):"}}}
	if !secretsSaved {
		names := make([]string, 0, len(envVars))
		for n := range envVars {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			replay.parts = append(replay.parts, stepPart{text: "export " + n + "=…", isCmd: true})
		}
	}
	replay.parts = append(replay.parts, stepPart{text: "runnerup apply --answers " + savedPath, isCmd: true})
	return append(out, replay)
}

// renderNextSteps lays the items out at width w: the text wrapped on word
// boundaries, every command on a line of its own and never wrapped. A
// command wider than the line is cut with "…" when cutAllowed (the
// screen, which prints them whole on exit); otherwise it runs on.
func renderNextSteps(items []nextStep, w int, cutAllowed bool) (lines []string, cut bool) {
	if len(items) == 0 {
		return nil, false
	}
	lines = []string{"Next steps"}
	for i, it := range items {
		number := fmt.Sprintf("  %d. ", i+1)
		if len(it.parts) > 0 && it.parts[0].isCmd {
			lines = append(lines, strings.TrimRight(number, " "))
		}
		for j, p := range it.parts {
			switch {
			case p.isCmd:
				c := "       " + p.text
				if cutAllowed && ansi.StringWidth(c) > w {
					c, cut = ansi.Truncate(c, w, "…"), true
				}
				lines = append(lines, c)
			case j == 0:
				lines = append(lines, wrapIndentedLines(number+p.text, w)...)
			default:
				lines = append(lines, wrapIndentedLines("     "+p.text, w)...)
			}
		}
	}
	return lines, cut
}

// nextSteps are the next steps as plain lines, commands whole (accessible
// mode prints them).
func nextSteps(res *wizard.ApplyResult, savedPath string, envVars map[string]string, secretsSaved bool) []string {
	lines, _ := renderNextSteps(nextStepItems(res, savedPath, envVars, secretsSaved), plainWidth, false)
	return lines
}

// doneLines are the summary of the done screen; cutAllowed allows cutting
// commands at the width (see renderNextSteps).
func (m *model) doneLines(w int, cutAllowed bool) (lines []string, cut bool) {
	st := m.st
	lines = append(lines, m.writtenLines(w)...)
	switch {
	case m.write.saveErr != nil:
		lines = append(lines, markLinesList(st.Fail.Render("✗ "), "answers file not saved: "+m.write.saveErr.Error(), w)...)
	case m.write.savedPath != "":
		note := " (mode 0600)"
		if m.write.secrets {
			note = " (mode 0600; it holds secrets in clear)"
		}
		lines = append(lines, markLinesList(st.Pass.Render("✓ "), "answers saved to "+m.write.savedPath+note, w)...)
	}
	next, cut := renderNextSteps(nextStepItems(m.write.res, m.write.savedPath, m.write.envVars, m.write.secrets), w, cutAllowed)
	if len(next) > 0 {
		next[0] = st.Section.Render(next[0])
		lines = append(lines, "")
		lines = append(lines, next...)
	}
	return lines, cut
}

func (m *model) viewDone(w int) string {
	st := m.st
	var b strings.Builder
	b.WriteString(st.Brand.Render("runnerup") + "  " + st.StepTitle.Render("Done") + "\n\n")
	lines, cut := m.doneLines(w, true)
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	b.WriteString("\n")
	help := [][2]string{{"enter", "exit"}}
	if cut {
		help = append(help, [2]string{"", "the commands cut here are printed whole on exit"})
	}
	b.WriteString(m.helpLine(help))
	return b.String()
}

// finalText is what stays in the terminal after the wizard: the done
// screen's summary with every command whole on its own line, for copying
// (the screen cuts what does not fit).
func (m *model) finalText() string {
	if m.write.res == nil {
		return ""
	}
	lines, _ := m.doneLines(m.innerWidth(), false)
	return "runnerup  Done\n\n" + ansi.Strip(strings.Join(lines, "\n")) + "\n"
}

// wrapIndented wraps a line at width, continuing under its indentation.
func wrapIndented(l string, w int) string {
	if ansi.StringWidth(l) <= w {
		return l
	}
	indent := l[:len(l)-len(strings.TrimLeft(l, " "))]
	text := strings.TrimLeft(l, " ")
	// A numbered item ("1. …") continues under its text.
	number := ""
	if digits := strings.TrimLeft(text, "0123456789"); len(digits) < len(text) && strings.HasPrefix(digits, ". ") {
		number = text[:len(text)-len(digits)+2]
		text = text[len(number):]
	}
	if len(indent)+len(number) > w/2 {
		indent, text, number = "", strings.TrimLeft(l, " "), ""
	}
	wrapped := strings.Split(ansi.Wrap(text, w-len(indent)-len(number), " "), "\n")
	for i := range wrapped {
		if i == 0 {
			wrapped[i] = indent + number + wrapped[i]
		} else {
			wrapped[i] = indent + strings.Repeat(" ", len(number)) + wrapped[i]
		}
	}
	return strings.Join(wrapped, "\n")
}
