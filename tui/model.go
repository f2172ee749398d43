package tui

import (
	"context"
	"strings"
	"sync"

	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/runnerup/runnerup/wizard"
)

// step is where the wizard is.
type step int

const (
	stepLoading    step = iota // reading config.toml
	stepExisting               // edit an existing runner or add one
	stepGitLab                 // URL, token, name (+ registration fields)
	stepExecutor               // executor, shell, docker settings
	stepServices               // service containers
	stepRegistries             // registry credentials
	stepReview                 // checks, diffs, paths, answers file
	stepWrite                  // apply, then offer to save the answers
	stepDone                   // summary and next steps
)

// crumbs are the steps shown in the header.
var crumbs = []struct {
	s    step
	name string
}{
	{stepGitLab, "GitLab"}, {stepExecutor, "Executor"}, {stepServices, "Services"},
	{stepRegistries, "Registries"}, {stepReview, "Review"}, {stepWrite, "Write"},
}

// model is the wizard's only bubbletea model. Each step keeps its update
// and view in its own file (step_*.go); sub-parts such as the checklist
// are plain structs with Render.
type model struct {
	ctx context.Context
	o   Options

	st     *Styles
	isDark bool
	width  int
	height int
	spin   spinner.Model

	step    step
	answers *wizard.Answers
	paths   wizard.Paths
	notice  string // shown under the current step (e.g. unreadable config.toml)

	// stepExisting
	existing              []existingRunner
	existingPath          string
	existingOffered       bool
	existingForm          *huh.Form
	existingChoice        *string
	existingApplied       bool
	existingAppliedChoice string

	// form steps (gitlab, executor, registries)
	form *huh.Form
	// advanced says, per step, whether its advanced settings (the ones
	// most users keep) are asked; ctrl+o toggles it. The forms' hide
	// functions read it through the pointer.
	advanced map[step]*bool
	// marks are the open form's inputs that show their checks' status.
	marks *fieldMarks
	// picker is the create path's "where to create the runner" (nil
	// until the GitLab form has been built).
	picker *targetPicker
	// files is what config.toml and config.json hold now, read at start.
	files filesNow

	// stepServices
	svc serviceState

	// stepRegistries
	regWarnings []wizard.FieldError
	// regSuggested holds, by registry key, the method pre-selected for it
	// (once: the user's choice is never overridden).
	regSuggested map[string]regSuggestion

	probes probeState
	review reviewState
	write  writeState

	// exit
	done    bool
	outcome Outcome
	err     error

	// snap, when set (tests), records the step and focused field after
	// every update.
	snap *snapshot
}

var _ tea.Model = (*model)(nil)

func newModel(ctx context.Context, o Options) *model {
	m := &model{
		ctx: ctx, o: o,
		st: NewStyles(true), isDark: true,
		width: defaultWidth, height: defaultHeight,
		spin:    spinner.New(spinner.WithSpinner(spinner.Line)),
		step:    stepLoading,
		answers: o.startAnswers(),
		advanced: map[step]*bool{
			stepGitLab: new(bool), stepExecutor: new(bool), stepServices: new(bool), stepRegistries: new(bool),
			stepWrite: new(bool),
		},
	}
	m.paths = o.targetPaths(m.answers)
	m.review.vp = viewport.New()
	return m
}

// Init reads the target config.toml (to offer its runners) and asks the
// terminal for its background colour.
func (m *model) Init() tea.Cmd {
	return tea.Batch(loadExistingCmd(m.paths), tea.RequestBackgroundColor)
}

// Update routes a message; it never blocks: everything slow runs in Cmds.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	if m.snap != nil {
		m.snap.record(m)
	}
	return m, cmd
}

func (m *model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if msg.String() == "ctrl+c" {
			return m.interruptCmd()
		}
	case tea.WindowSizeMsg:
		if msg.Width > 0 && msg.Height > 0 {
			m.width, m.height = msg.Width, msg.Height
			m.resize()
		}
		return nil
	case tea.BackgroundColorMsg:
		m.isDark = msg.IsDark()
		m.st = NewStyles(m.isDark)
		m.refreshReview()
		return m.forwardToForms(msg)
	case spinner.TickMsg:
		if !m.busy() {
			return nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		m.refreshReview()
		return cmd
	case probeTickMsg, probeResultMsg, probeDoneMsg:
		return m.updateProbes(msg)
	case pickerPageMsg, pickerTickMsg:
		return m.updatePicker(msg)
	case existingMsg:
		return m.onExisting(msg)
	case reviewMsg:
		return m.onReview(msg)
	case applyDoneMsg:
		return m.onApplied(msg)
	case savedMsg:
		return m.onSaved(msg)
	}
	switch m.step {
	case stepExisting:
		return m.updateExisting(msg)
	case stepGitLab, stepExecutor, stepRegistries:
		return m.updateFormStep(msg)
	case stepServices:
		return m.updateServices(msg)
	case stepReview:
		return m.updateReview(msg)
	case stepWrite:
		return m.updateWrite(msg)
	case stepDone:
		return m.updateDone(msg)
	}
	return nil
}

// interruptCmd handles Ctrl+C: before the write it stops the wizard with
// nothing written; during the write it waits for apply (cancelling its
// network calls); after the write it just finishes.
func (m *model) interruptCmd() tea.Cmd {
	switch {
	case m.write.res != nil:
		return m.finish()
	case m.write.running:
		m.write.interrupt = true
		if m.write.cancel != nil {
			m.write.cancel()
		}
		return nil
	}
	m.stopProbes()
	return tea.Interrupt
}

func (m *model) finish() tea.Cmd {
	m.done = true
	m.outcome = Outcome{Result: m.write.res, AnswersPath: m.write.savedPath}
	m.stopProbes()
	return tea.Quit
}

// busy reports whether something shows a spinner.
func (m *model) busy() bool {
	return m.probes.busy() || m.review.running || m.write.running || m.pickerBusy()
}

func (m *model) spinCmd() tea.Cmd { return m.spin.Tick }

func (m *model) forwardToForms(msg tea.Msg) tea.Cmd {
	var cmds []tea.Cmd
	for _, f := range []**huh.Form{&m.form, &m.existingForm, &m.svc.form, &m.review.pathsForm, &m.write.saveForm} {
		if *f == nil {
			continue
		}
		nf, cmd := (*f).Update(msg)
		*f = nf.(*huh.Form)
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

// ---- step navigation ----

// stepHidden says a step does not apply to the answers.
func (m *model) stepHidden(s step) bool {
	switch s {
	case stepExisting:
		return !m.existingOffered
	case stepServices:
		st, _ := wizard.StepByID(wizard.StepServices)
		return st.Hidden(m.answers)
	case stepRegistries:
		a := m.answers.Clone()
		wizard.SyncRegistries(a)
		st, _ := wizard.StepByID(wizard.StepRegistries)
		return st.Hidden(a) || len(m.askedRegistries(a)) == 0
	}
	return false
}

func (m *model) nextStep(s step) step {
	for n := s + 1; n <= stepReview; n++ {
		if !m.stepHidden(n) {
			return n
		}
	}
	return stepReview
}

func (m *model) prevStep(s step) step {
	for p := s - 1; p >= stepExisting; p-- {
		if !m.stepHidden(p) {
			return p
		}
	}
	return s
}

// gotoStep enters a step, building its form from the current answers, so
// going back and forth keeps every answer.
func (m *model) gotoStep(s step) tea.Cmd {
	m.step = s
	m.form = nil
	var cmd tea.Cmd
	switch s {
	case stepExisting:
		m.existingForm, m.existingChoice = buildExistingForm(m.existingPath, m.existing, m.existingAppliedChoice)
		cmd = m.existingForm.Init()
	case stepGitLab:
		m.form, _ = buildGitLabForm(m.builder())
		cmd = m.form.Init()
	case stepExecutor:
		m.form, _ = buildExecutorForm(m.builder())
		cmd = m.form.Init()
	case stepServices:
		cmd = m.enterServices()
	case stepRegistries:
		wizard.SyncRegistries(m.answers)
		m.suggestRegistryMethods()
		m.form, _ = buildRegistriesForm(m.builder(), m.askedRegistries(m.answers))
		m.updateRegWarnings()
		cmd = m.form.Init()
	case stepReview:
		cmd = m.enterReview()
	}
	m.resize()
	return tea.Batch(cmd, m.refreshMarksCmd(), m.scheduleProbeCmd())
}

// builder builds the current step's form pages: bound to the answers, in
// the files' context, with the step's advanced toggle, and collecting the
// inputs that show check marks.
func (m *model) builder() formBuilder {
	m.marks = &fieldMarks{}
	b := formBuilder{a: m.answers, ctx: m.fieldCtx(), advanced: m.advanced[m.step], marks: m.marks}
	if m.step == stepGitLab {
		b.picker = func(f wizard.Field, a *wizard.Answers, ctx wizard.Context) huh.Field { return m.pickerFor(f, a, ctx) }
	}
	return b
}

// fieldCtx is what the fields need to know about the files.
func (m *model) fieldCtx() wizard.Context {
	c := wizard.Context{Concurrent: m.files.concurrent, DockerConfigDir: m.paths.DockerConfigDir, APITokenEnv: wizard.APITokenEnv(m.o.Env)}
	for _, r := range m.existing {
		if r.Name != "" && r.Name == m.answers.GitLab.Name {
			c.ExistingRunner = true
		}
	}
	return c
}

// updateFormStep drives the gitlab, executor and registries forms.
func (m *model) updateFormStep(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch k.String() {
		case "esc":
			return m.back(&m.form)
		case "ctrl+o":
			return m.toggleAdvanced(m.form)
		}
	}
	f, cmd := m.form.Update(msg)
	m.form = f.(*huh.Form)
	if m.step == stepRegistries {
		m.updateRegWarnings()
	}
	if m.form.State == huh.StateCompleted {
		return tea.Batch(cmd, m.gotoStep(m.nextStep(m.step)))
	}
	return tea.Batch(cmd, m.scheduleProbeCmd())
}

// back handles Esc in a form: the previous page, or the previous step on
// the first page.
func (m *model) back(form **huh.Form) tea.Cmd {
	before := (*form).GetFocusedField()
	cmd := (*form).PrevGroup()
	if (*form).GetFocusedField() != before {
		return cmd
	}
	if prev := m.prevStep(m.step); prev != m.step {
		return m.gotoStep(prev)
	}
	return cmd
}

// ---- layout ----

func (m *model) innerWidth() int {
	return max(m.width-m.st.App.GetHorizontalFrameSize(), 20)
}

// minStatusLines is the least room kept under a form for its status (a
// blank line, then errors, notes and live checks); the status also gets
// every row the form leaves free.
const minStatusLines = 5

// bodyHeight is the most room for a step's body between header and footer.
func (m *model) bodyHeight() int {
	return max(m.height-2-minStatusLines-2, 4)
}

// resize sizes the forms and the review viewport to the window.
func (m *model) resize() {
	w := m.innerWidth()
	// Room for the step title line and the advanced line under the form
	// (errors are shown in the status area).
	h := m.bodyHeight() - 2
	for _, f := range []*huh.Form{m.form, m.existingForm, m.svc.form, m.review.pathsForm, m.write.saveForm} {
		if f != nil {
			f.WithWidth(w).WithHeight(max(h, 3))
		}
	}
	m.review.vp.SetWidth(w)
	m.review.vp.SetHeight(max(m.height-2-2-1, 3))
	m.refreshReview()
}

// View draws the current step inside the wizard's frame; the final
// summary leaves the alt-screen so it stays in the terminal.
func (m *model) View() tea.View {
	var v tea.View
	switch m.step {
	case stepDone:
		if m.done {
			// Run prints the summary whole once the program has ended;
			// the screen's copy (commands cut at the width) goes.
			return tea.NewView("")
		}
		v = tea.NewView(m.st.App.Render(m.viewDone(m.innerWidth())))
	default:
		v = tea.NewView(m.render())
		v.AltScreen = true
	}
	return v
}

func (m *model) render() string {
	w := m.innerWidth()
	var body, help string
	var status func(room int) string
	switch m.step {
	case stepLoading:
		body = m.st.Muted.Render("reading " + m.paths.ConfigTOML + "…")
		help = m.helpLine([][2]string{{"ctrl+c", "quit"}})
	case stepExisting:
		body = m.stepTitle("Existing runners") + "\n" + m.existingForm.View()
		help = m.formHelp(m.existingForm, false)
	case stepGitLab, stepExecutor, stepRegistries:
		body = m.stepTitle(m.formStepTitle()) + "\n" + trimBlankTail(m.form.View())
		if l := m.advancedLine(w); l != "" {
			body += "\n" + l
		}
		status = m.statusFunc(w)
		help = m.formHelp(m.form, true)
	case stepServices:
		body, status, help = m.viewServices(w)
	case stepReview:
		return m.frameFull(m.viewReview(w))
	case stepWrite:
		return m.frameFull(m.viewWrite(w))
	}
	return m.frame(body, status, help)
}

// trimBlankTail drops the blank lines a form pads its view with to its
// height, so the rows below it go to the status under it.
func trimBlankTail(view string) string {
	lines := strings.Split(view, "\n")
	for len(lines) > 1 && strings.TrimSpace(ansi.Strip(lines[len(lines)-1])) == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}

func (m *model) formStepTitle() string {
	switch m.step {
	case stepGitLab:
		return "GitLab"
	case stepExecutor:
		return "Executor"
	case stepRegistries:
		return "Registry authentication"
	}
	return ""
}

func (m *model) stepTitle(t string) string { return m.st.StepTitle.Render(t) }

// headerView is the brand and the breadcrumb of steps.
func (m *model) headerView(w int) string {
	parts := []string{m.st.Brand.Render("runnerup")}
	var crumbsOut []string
	for _, c := range crumbs {
		if c.s != stepReview && c.s != stepWrite && c.s != m.step && m.stepHidden(c.s) {
			continue
		}
		switch {
		case c.s == m.step:
			// Brackets mark it without colour too.
			crumbsOut = append(crumbsOut, m.st.CrumbNow.Render("["+c.name+"]"))
		case c.s < m.step:
			crumbsOut = append(crumbsOut, m.st.CrumbDone.Render(c.name))
		default:
			crumbsOut = append(crumbsOut, m.st.Crumb.Render(c.name))
		}
	}
	parts = append(parts, strings.Join(crumbsOut, m.st.CrumbSep.Render(" › ")))
	return ansi.Truncate(strings.Join(parts, "  "), w, "…")
}

// frame lays out header, body, status and help in exactly the window's
// height; every line is cut to the width, so no size breaks the layout.
// The status goes right under the body and gets every row the body leaves
// (at least minStatusLines-1): status(room) renders it for that many.
func (m *model) frame(body string, status func(room int) string, help string) string {
	w := m.innerWidth()
	lines := []string{m.headerView(w), ""}
	bodyLines := strings.Split(strings.TrimRight(body, "\n"), "\n")
	if avail := m.bodyHeight(); len(bodyLines) > avail {
		bodyLines = bodyLines[:avail]
	}
	lines = append(lines, bodyLines...)
	helpLines := strings.Split(help, "\n")
	// Rows left: the window less what is placed, a blank line above the
	// status and one above the help.
	room := m.height - len(lines) - 2 - len(helpLines)
	if status != nil && room > 0 {
		if s := status(room); s != "" {
			sl := strings.Split(s, "\n")
			lines = append(lines, "")
			lines = append(lines, sl[:min(len(sl), room)]...)
		}
	}
	for len(lines) < m.height-1-len(helpLines) {
		lines = append(lines, "")
	}
	lines = append(lines, "")
	lines = append(lines, helpLines...)
	return m.finishFrame(lines, w)
}

// frameFull is frame for steps that manage their own body height (review,
// write): header, then content and help as given.
func (m *model) frameFull(content, help string) string {
	w := m.innerWidth()
	lines := []string{m.headerView(w), ""}
	helpLines := strings.Split(help, "\n")
	avail := max(m.height-3-len(helpLines), 1)
	cl := strings.Split(strings.TrimRight(content, "\n"), "\n")
	if len(cl) > avail {
		cl = cl[:avail]
	}
	for len(cl) < avail {
		cl = append(cl, "")
	}
	lines = append(lines, cl...)
	lines = append(lines, "")
	lines = append(lines, helpLines...)
	return m.finishFrame(lines, w)
}

// helpLines is helpLine over as many lines as the width needs (breaking
// between pairs), for footers whose every key matters.
func (m *model) helpLines(pairs [][2]string, w int) string {
	var lines []string
	var cur [][2]string
	for _, p := range pairs {
		if len(cur) > 0 && ansi.StringWidth(m.helpLine(append(cur, p))) > w {
			lines = append(lines, m.helpLine(cur))
			cur = nil
		}
		cur = append(cur, p)
	}
	if len(cur) > 0 {
		lines = append(lines, m.helpLine(cur))
	}
	return strings.Join(lines, "\n")
}

func (m *model) finishFrame(lines []string, w int) string {
	if len(lines) > m.height && m.height > 0 {
		lines = lines[:m.height]
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, w, "")
	}
	return m.st.App.Width(m.width).Render(strings.Join(lines, "\n"))
}

// helpLine renders key/description pairs.
func (m *model) helpLine(pairs [][2]string) string {
	out := make([]string, 0, len(pairs))
	for _, p := range pairs {
		if p[0] == "" {
			out = append(out, m.st.Help.Render(p[1]))
			continue
		}
		out = append(out, m.st.HelpKey.Render(p[0])+" "+m.st.Help.Render(p[1]))
	}
	return strings.Join(out, m.st.Help.Render(" · "))
}

// formHelp is the form's own key help plus the wizard's keys: clearing a
// text field, the step's advanced settings, going back, quitting.
func (m *model) formHelp(f *huh.Form, canGoBack bool) string {
	var pairs [][2]string
	for _, p := range m.formPairs(f) {
		if canGoBack && p[1] == "back" {
			continue
		}
		if canGoBack && p[1] == "submit" {
			// The last field of a step: enter goes on to the next one
			// (nothing is written before the review).
			p[1] = "next"
		}
		pairs = append(pairs, p)
	}
	if m.hasAdvanced() {
		pairs = append(pairs, [2]string{"ctrl+o", "advanced"})
	}
	if canGoBack {
		pairs = append(pairs, [2]string{"esc", "back"})
	}
	pairs = append(pairs, [2]string{"ctrl+c", "quit"})
	// ctrl+c quits everywhere: it goes first when the line is too long;
	// if that is not enough, every key is kept, on two lines.
	w := m.innerWidth()
	if line := m.fitHelp(pairs, w, "ctrl+c"); ansi.StringWidth(line) <= w {
		return line
	}
	return m.helpLines(pairs, w)
}

// formPairs are a form's own key hints, plus ctrl+u on a text field.
func (m *model) formPairs(f *huh.Form) [][2]string {
	var pairs [][2]string
	if f == nil {
		return nil
	}
	for _, b := range f.KeyBinds() {
		if b.Enabled() && b.Help().Key != "" {
			pairs = append(pairs, [2]string{b.Help().Key, b.Help().Desc})
		}
	}
	if _, ok := f.GetFocusedField().(*huh.Input); ok {
		pairs = append(pairs, [2]string{"ctrl+u", "clear"})
	}
	return pairs
}

// ---- test hook ----

// snapshot is what tests driving a running program can wait for.
type snapshot struct {
	mu    sync.Mutex
	step  step
	focus string
	ready bool
}

func (s *snapshot) record(m *model) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.step = m.step
	s.focus = m.focusKey()
	s.ready = !m.review.running && !m.write.running && !m.probes.busy()
}

func (s *snapshot) get() (step, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.step, s.focus, s.ready
}

// focusKey is the key of the focused form field ("" when no form has focus).
func (m *model) focusKey() string {
	var f *huh.Form
	switch m.step {
	case stepExisting:
		f = m.existingForm
	case stepGitLab, stepExecutor, stepRegistries:
		f = m.form
	case stepServices:
		f = m.svc.form
	case stepReview:
		f = m.review.pathsForm
	case stepWrite:
		f = m.write.saveForm
	}
	if f == nil || f.State != huh.StateNormal {
		return ""
	}
	if ff := f.GetFocusedField(); ff != nil {
		return ff.GetKey()
	}
	return ""
}
