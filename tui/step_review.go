package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/fleet"
	"github.com/runnerup/runnerup/wizard"
)

// reviewState is the review step: the checklist, a dry-run apply (diffs),
// the target paths and the answers file.
type reviewState struct {
	gen      int
	running  bool
	final    *wizard.Answers
	prepared *wizard.Prepared
	res      *wizard.ApplyResult
	err      error
	saved    wizard.SavedAnswers
	vp       viewport.Model
	// confirm asks to write although checks failed.
	confirm bool
	// pathsForm edits the target paths.
	pathsForm *huh.Form
	pathVals  *pathValues
	// prune and freshID are the user's consent to the fixes the checks
	// offer (x, n); off by default. used are the fixes of the last dry
	// run: the write applies exactly those, as its diff showed.
	prune, freshID bool
	used           fixes
	// skipProbes is what the last dry run planned for the write: apply's
	// own live checks skipped, because the checklist failed and writing
	// anyway is the user's call (writeSkipsProbes).
	skipProbes bool
	// leftOut says which answers no longer apply and were left out of
	// the plan and the saved answers (wizard.PruneHidden).
	leftOut []string
}

// reviewMsg is the result of a dry run.
type reviewMsg struct {
	gen      int
	prepared *wizard.Prepared
	res      *wizard.ApplyResult
	err      error
}

// pathValues are the editable target paths.
type pathValues struct {
	ConfigTOML      string
	DockerConfigDir string
}

// buildPathsForm edits where config.toml and config.json go.
func buildPathsForm(p wizard.Paths) (*huh.Form, *pathValues) {
	v := &pathValues{ConfigTOML: p.ConfigTOML, DockerConfigDir: p.DockerConfigDir}
	notEmpty := func(what string) func(string) error {
		return func(s string) error {
			if strings.TrimSpace(s) == "" {
				return fmt.Errorf("%s is empty", what)
			}
			return nil
		}
	}
	f := newForm(huh.NewGroup(
		huh.NewInput().Key("output.config_toml").Title("config.toml").
			Description("The runner's configuration file (GitLab Runner reads /etc/gitlab-runner/config.toml as root).").
			Value(&v.ConfigTOML).Validate(notEmpty("config.toml path")),
		huh.NewInput().Key("output.docker_config").Title("Docker config directory").
			Description("Where config.json goes: ~/.docker of the user the runner runs as (it ignores DOCKER_CONFIG).").
			Value(&v.DockerConfigDir).Validate(notEmpty("Docker config directory")),
	))
	return f, v
}

// enterReview starts the dry run and, when the answers changed since the
// last run, the live checks.
func (m *model) enterReview() tea.Cmd {
	m.review.vp.GotoTop() // what failed is at the top
	m.review.confirm = false
	m.review.pathsForm = nil
	m.review.prune, m.review.freshID = false, false
	cmds := []tea.Cmd{m.dryRunCmd()}
	if probeKey(m.answers, m.paths) != m.probes.startedKey || (!m.probes.ran && !m.probes.running) {
		cmds = append(cmds, m.startProbeCmd())
	}
	m.refreshReview()
	return tea.Batch(cmds...)
}

// dryRunCmd prepares the final answers and previews apply (no writes, no
// registration) in the background.
func (m *model) dryRunCmd() tea.Cmd {
	m.review.gen++
	gen := m.review.gen
	m.review.running = true
	m.review.final, m.review.leftOut = m.o.finalAnswers(m.answers, m.paths)
	m.review.saved, _ = m.o.encode(m.review.final, false)
	final, o, ctx := m.review.final.Clone(), m.o, m.ctx
	m.review.used, m.review.skipProbes = m.chosenFixes(), m.writeSkipsProbes()
	// The write's own options, so the plan shown is the write's.
	opts := o.applyOptions(m.paths, true, m.review.skipProbes, m.review.used)
	return tea.Batch(func() tea.Msg {
		p, err := o.prepare(final)
		if err != nil {
			return reviewMsg{gen: gen, err: err}
		}
		res, err := o.Apply(ctx, p, opts)
		return reviewMsg{gen: gen, prepared: p, res: res, err: err}
	}, m.spinCmd())
}

func (m *model) onReview(msg reviewMsg) tea.Cmd {
	if msg.gen != m.review.gen {
		return nil // a newer dry run is under way
	}
	m.review.running = false
	m.review.prepared, m.review.res, m.review.err = msg.prepared, msg.res, msg.err
	m.refreshReview()
	return nil
}

// reviewResults are the checks whose findings the review offers to fix:
// the live ones (the dry run skips the checks that find stale entries).
func (m *model) reviewResults() []probe.Result { return m.probes.results }

// chosenFixes are the fixes the user turned on that the checks still
// offer.
func (m *model) chosenFixes() fixes {
	var fx fixes
	rs := m.reviewResults()
	if m.review.prune {
		fx.prune = fleet.StaleRunners(rs)
	}
	fx.freshID = m.review.freshID && freshIDReason(rs) != ""
	return fx
}

// syncFixes follows new check results: consent given for other stale
// entries than the checks now report is withdrawn (the user decides
// again), an offer that went away is dropped, and when the fixes changed
// the dry run runs again so the diff shows what the write will do.
func (m *model) syncFixes() tea.Cmd {
	if m.step != stepReview {
		return nil
	}
	rs := m.reviewResults()
	if m.review.prune && !sameRunners(fleet.StaleRunners(rs), m.review.used.prune) {
		m.review.prune = false
	}
	if m.review.freshID && freshIDReason(rs) == "" {
		m.review.freshID = false
	}
	if !m.chosenFixes().equal(m.review.used) || m.writeSkipsProbes() != m.review.skipProbes {
		return m.dryRunCmd()
	}
	return nil
}

// writeSkipsProbes says whether the write skips apply's own live checks:
// when the checklist failed, writing anyway is the user's call, and
// apply's checks would refuse.
func (m *model) writeSkipsProbes() bool { return m.failedChecks() > 0 }

func (m *model) canWrite() bool {
	return !m.review.running && m.review.err == nil && m.review.prepared != nil
}

func (m *model) failedChecks() int {
	return len(probe.Failed(m.probes.results))
}

func (m *model) updateReview(msg tea.Msg) tea.Cmd {
	if m.review.pathsForm != nil {
		if k, ok := msg.(tea.KeyPressMsg); ok && k.String() == "esc" {
			m.review.pathsForm = nil
			m.resize()
			return nil
		}
		f, cmd := m.review.pathsForm.Update(msg)
		m.review.pathsForm = f.(*huh.Form)
		if m.review.pathsForm.State == huh.StateCompleted {
			m.paths = wizard.Paths{
				ConfigTOML:      strings.TrimSpace(m.review.pathVals.ConfigTOML),
				DockerConfigDir: strings.TrimSpace(m.review.pathVals.DockerConfigDir),
			}
			m.review.pathsForm = nil
			// The checks were about the other files: consent starts over.
			m.review.prune, m.review.freshID = false, false
			m.resize()
			cmds := []tea.Cmd{cmd, m.dryRunCmd()}
			if probeKey(m.answers, m.paths) != m.probes.startedKey {
				cmds = append(cmds, m.startProbeCmd())
			}
			return tea.Batch(cmds...)
		}
		return cmd
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		var cmd tea.Cmd
		m.review.vp, cmd = m.review.vp.Update(msg)
		return cmd
	}
	if m.review.confirm {
		switch k.String() {
		case "y", "Y":
			m.review.confirm = false
			m.write.force = m.writeSkipsProbes()
			return m.startWrite()
		case "n", "N", "esc":
			m.review.confirm = false
		}
		return nil
	}
	switch k.String() {
	case "w":
		if !m.canWrite() {
			return nil
		}
		if m.failedChecks() > 0 || m.probes.busy() {
			m.review.confirm = true
			return nil
		}
		m.write.force = false
		return m.startWrite()
	case "x":
		if len(fleet.StaleRunners(m.reviewResults())) == 0 {
			return nil
		}
		m.review.prune = !m.review.prune
		return m.dryRunCmd()
	case "n":
		if freshIDReason(m.reviewResults()) == "" {
			return nil
		}
		m.review.freshID = !m.review.freshID
		return m.dryRunCmd()
	case "p":
		m.review.pathsForm, m.review.pathVals = buildPathsForm(m.paths)
		m.resize()
		return m.review.pathsForm.Init()
	case "r":
		return tea.Batch(m.dryRunCmd(), m.startProbeCmd())
	case "P":
		if !m.canPull() {
			return nil
		}
		return m.startPullCmd()
	case "esc", "shift+tab":
		return m.gotoStep(m.prevStep(stepReview))
	case "home", "g":
		m.review.vp.GotoTop()
		return nil
	case "end", "G":
		m.review.vp.GotoBottom()
		return nil
	}
	var cmd tea.Cmd
	m.review.vp, cmd = m.review.vp.Update(msg)
	return cmd
}

// refreshReview re-renders the review content into the viewport.
func (m *model) refreshReview() {
	if m.step != stepReview {
		return
	}
	off := m.review.vp.YOffset()
	m.review.vp.SetContent(m.reviewContent(m.innerWidth()))
	m.review.vp.SetYOffset(off)
}

func (m *model) viewReview(w int) (string, string) {
	title := m.stepTitle("Review") + m.st.Muted.Render("  nothing is written until you press w")
	if m.review.pathsForm != nil {
		return title + "\n" + m.review.pathsForm.View(), m.formHelp(m.review.pathsForm, false) + m.st.Help.Render(" · ") + m.helpLine([][2]string{{"esc", "cancel"}})
	}
	var help string
	switch {
	case m.review.confirm:
		n := m.failedChecks()
		what := fmt.Sprintf("%d check(s) failed", n)
		if n == 0 {
			what = "checks are still running"
		}
		help = m.st.Warn.Render(what+". Write anyway?") + " " + m.helpLine([][2]string{{"y", "write"}, {"n", "cancel"}})
	default:
		pairs := [][2]string{{"↑↓ PgUp PgDn Home End", "scroll"}}
		if m.canWrite() {
			pairs = append(pairs, [2]string{"w", "write"})
		}
		rs := m.reviewResults()
		if len(fleet.StaleRunners(rs)) > 0 {
			pairs = append(pairs, [2]string{"x", "remove stale"})
		}
		if freshIDReason(rs) != "" {
			pairs = append(pairs, [2]string{"n", "new system id"})
		}
		if m.canPull() {
			pairs = append(pairs, [2]string{"P", "pull images"})
		}
		pairs = append(pairs, [2]string{"p", "paths"}, [2]string{"r", "recheck"}, [2]string{"esc", "back"}, [2]string{"ctrl+c", "quit"})
		// Every key here matters: what does not fit goes on a second line
		// (ctrl+c quit, everywhere else, is left out first).
		if ansi.StringWidth(m.helpLine(pairs)) > w {
			pairs = pairs[:len(pairs)-1]
		}
		help = m.helpLines(pairs, w)
	}
	m.review.vp.SetHeight(max(m.height-2-1-1-len(strings.Split(help, "\n")), 3))
	return m.withPosition(title, w) + "\n" + m.review.vp.View(), help
}

// withPosition puts where the review is scrolled to at the right end of
// its title line: "lines 20–38 of 75" (PgDn pages; it also tells a
// screen reader's copy, or a test, which part is shown).
func (m *model) withPosition(title string, w int) string {
	vp := &m.review.vp
	total := vp.TotalLineCount()
	if total == 0 {
		return title
	}
	first := min(vp.YOffset()+1, total)
	last := min(vp.YOffset()+vp.VisibleLineCount(), total)
	pos := m.st.Muted.Render(fmt.Sprintf("lines %d–%d of %d", first, last, total))
	gap := w - ansi.StringWidth(title) - ansi.StringWidth(pos)
	if gap < 2 {
		return title
	}
	return title + strings.Repeat(" ", gap) + pos
}

// reviewContent is everything the review shows, top to bottom.
func (m *model) reviewContent(w int) string {
	st := m.st
	var b strings.Builder
	section := func(s string) { b.WriteString("\n" + st.Section.Render(s) + "\n") }

	// The first line says what failed; the failing checks follow, each
	// with its id and reason, then this host, then the passing checks.
	b.WriteString(m.reviewSummary() + "\n")
	problems := func(r probe.Result) bool { return r.Status == probe.Fail || r.Status == probe.Warn }
	cl := checklist{
		results: m.probes.results, err: m.probes.err, disabled: m.o.Probe == nil,
		exclude: func(r probe.Result) bool { return ownsResult(r) || !problems(r) },
	}
	if out := cl.Render(st, w); out != "" {
		b.WriteString(out + "\n")
	}
	b.WriteString(m.hostView(w))
	b.WriteString(m.pullOffer(w))
	cl = checklist{
		results: m.probes.results, running: m.probes.busy(), spinner: m.spin.View(),
		exclude: func(r probe.Result) bool { return ownsResult(r) || problems(r) },
	}
	if out := cl.Render(st, w); out != "" {
		b.WriteString(out + "\n")
	} else if m.o.Probe != nil && len(m.probes.results) == 0 {
		b.WriteString(st.Muted.Render("no checks apply yet") + "\n")
	}

	section("Files")
	b.WriteString(m.filesSummary(w))
	if len(m.review.leftOut) > 0 {
		section("Left out (their step no longer applies)")
		for _, n := range m.review.leftOut {
			b.WriteString(markLines(st.Warn.Render("! "), n, w))
		}
	}
	section("Settings")
	b.WriteString(m.settingsView(w))

	var ve *wizard.ValidationError
	var ce *wizard.CheckError
	switch err := m.review.err; {
	case m.review.running:
		b.WriteString(st.Spinner.Render(m.spin.View()) + st.Muted.Render(" previewing the changes (dry run)…") + "\n")
	case errors.As(err, &ve):
		section("Problems (fix them before writing: esc goes back)")
		for _, p := range ve.Problems {
			b.WriteString(markLines(st.Fail.Render("✗ "), p.String(), w))
		}
	case errors.As(err, &ce):
		section("Cannot write yet")
		b.WriteString(markLines(st.Fail.Render("✗ "), ce.Error(), w))
	case err != nil:
		section("Cannot write yet")
		b.WriteString(markLines(st.Fail.Render("✗ "), err.Error(), w))
	}

	if res := m.review.res; res != nil && m.review.err == nil && !m.review.running {
		var warns []wizard.FieldError
		for _, wf := range res.Warnings {
			if wf.Warning && !skippedProbesWarning(wf) {
				warns = append(warns, wf)
			}
		}
		extra := m.o.dryRunWarnings(res)
		if len(warns) > 0 || len(extra) > 0 {
			section("Warnings")
			for _, wf := range warns {
				b.WriteString(markLines(st.Warn.Render("! "), wf.String(), w))
			}
			if len(extra) > 0 {
				b.WriteString(checklist{results: extra}.Render(st, w) + "\n")
			}
		}
		section("config.toml")
		b.WriteString(m.renderDiff(res.ConfigTOML.Diff, "no changes", w))
		if res.DockerConfig != nil {
			section("config.json")
			b.WriteString(m.renderDiff(res.DockerConfig.Diff, "no changes", w))
		}
	}

	section("Answers file (secrets as env: references)")
	for _, l := range strings.Split(strings.TrimRight(string(m.review.saved.Data), "\n"), "\n") {
		b.WriteString(st.Code.Render(ansi.Truncate(l, w, "…")) + "\n")
	}
	return strings.TrimLeft(b.String(), "\n")
}

// canPull says the review offers the daemon's own pull (P): the answers
// have images, and the wizard was given a way to pull.
func (m *model) canPull() bool {
	return m.o.PullImages != nil && wizard.UsesDocker(m.answers.Runner.Executor) && len(m.answers.Images()) > 0
}

// pullOffer says what P does before it is pressed (it downloads layers
// and leaves the images), and that the image checks include the pull
// after.
func (m *model) pullOffer(w int) string {
	if !m.canPull() {
		return ""
	}
	text := "P: the Docker daemon pulls every image now, as a job would (it downloads the layers; the images stay on this host)."
	if m.probes.pulled {
		text = "The image checks include the Docker daemon's own pull (image.<ref>.pull); the pulled images stay on this host. P pulls again."
	}
	var b strings.Builder
	for _, l := range wrapText(text, w) {
		b.WriteString(m.st.Muted.Render(l) + "\n")
	}
	return b.String()
}

// reviewSummary is the review's first line: the checks' counts, and what
// stops the write.
func (m *model) reviewSummary() string {
	st := m.st
	line := st.Section.Render("Checks") + "  "
	switch {
	case m.o.Probe == nil:
		line += st.Muted.Render("not run")
	default:
		line += counts(m.probes.results, ownsResult)
		if m.probes.busy() {
			line += st.Muted.Render(" · ") + st.Spinner.Render(m.spin.View()) + st.Muted.Render(" checking…")
		}
	}
	var ve *wizard.ValidationError
	switch err := m.review.err; {
	case m.review.running:
	case errors.As(err, &ve):
		line += st.Fail.Render(fmt.Sprintf("  ✗ %d answer(s) to fix first", len(ve.Problems)))
	case err != nil:
		line += st.Fail.Render("  ✗ cannot write yet (below)")
	}
	return line
}

// settingsView lists every setting the answers make, those asked behind
// "advanced" included, with its value.
func (m *model) settingsView(w int) string {
	a, ctx := m.answers, m.fieldCtx()
	type setting struct{ name, value string }
	var rows []setting
	row := func(prefix string, f wizard.Field) {
		if f.Hidden(a) {
			return
		}
		v := displayValue(f, a, ctx)
		if prefix != "" && v == "none" && f.Kind == wizard.KindList {
			return // a service's empty command, entrypoint, environment
		}
		rows = append(rows, setting{prefix + f.Name(), v})
	}
	for _, id := range []wizard.StepID{wizard.StepGitLab, wizard.StepExecutor} {
		st, _ := wizard.StepByID(id)
		for _, f := range st.Fields {
			if f.Key == "gitlab.token" || f.Key == "gitlab.create" {
				continue // the runner line above says it, the token redacted
			}
			row("", f)
		}
	}
	if wizard.UsesDocker(a.Runner.Executor) {
		for i := range a.Docker.Services {
			for _, f := range wizard.ServiceFields(i) {
				row(fmt.Sprintf("service %d: ", i+1), f)
			}
		}
		for n, i := range m.askedRegistries(a) {
			for _, f := range wizard.RegistryFields(i) {
				if f.Kind != wizard.KindSecret {
					row(fmt.Sprintf("registry %d: ", n+1), f)
				}
			}
		}
	}
	// One column for the names, as wide as the widest (up to half the
	// width: a longer name gets a line of its own); values wrap under
	// their column, never cut.
	col := 0
	for _, r := range rows {
		col = max(col, ansi.StringWidth(r.name))
	}
	col = min(col, max(w/2-4, 8))
	indent := strings.Repeat(" ", 2+col+2)
	var b strings.Builder
	for _, r := range rows {
		value := wrapText(r.value, w-len(indent))
		if ansi.StringWidth(r.name) > col {
			b.WriteString(ansi.Truncate("  "+r.name, w, "…") + "\n")
		} else {
			b.WriteString(fmt.Sprintf("  %-*s  %s", col, r.name, value[0]) + "\n")
			value = value[1:]
		}
		for _, l := range value {
			b.WriteString(indent + l + "\n")
		}
	}
	return b.String()
}

// filesSummary lists the target paths and what happens to each.
func (m *model) filesSummary(w int) string {
	st := m.st
	var b strings.Builder
	status := func(fc *wizard.FileChange) string {
		switch {
		case fc == nil:
			return ""
		case fc.Created:
			return "new file"
		case fc.Changed:
			return "changes below"
		default:
			return "no changes"
		}
	}
	res := m.review.res
	line := func(label, path, state string) {
		suffix := ""
		if state != "" {
			suffix = "  (" + state + ")"
		}
		room := w - 13 - ansi.StringWidth(suffix)
		if ansi.StringWidth(path) > room && room > 10 {
			path = "…" + ansi.TruncateLeft(path, ansi.StringWidth(path)-room+1, "")
		}
		s := fmt.Sprintf("%-12s %s", label, path) + st.Muted.Render(suffix)
		b.WriteString(ansi.Truncate(s, w, "…") + "\n")
	}
	var tomlState, jsonState string
	if res != nil {
		tomlState = status(&res.ConfigTOML)
		if res.DockerConfig != nil {
			jsonState = status(res.DockerConfig)
		} else {
			jsonState = "not written: no credentials go there"
		}
	}
	line("config.toml", m.paths.ConfigTOML, tomlState)
	line("config.json", joinPath(m.paths.DockerConfigDir, "config.json"), jsonState)
	if res != nil {
		r := res.Runner
		token := r.Token
		if strings.HasPrefix(token, "<") { // placeholder: issued at registration
			token = ""
		} else {
			token = " " + token
		}
		b.WriteString(ansi.Truncate(fmt.Sprintf("%-12s %q%s", "runner", r.Name, token), w, "…") + "\n")
		if r.SystemID != "" {
			b.WriteString(ansi.Truncate(fmt.Sprintf("%-12s %s", "system id", r.SystemID), w, "…") + "\n")
		}
		if res.Plan != nil {
			// What the write does, as apply planned it (the dry run's
			// plan: line, a clause a line).
			label := "plan"
			for _, clause := range res.Plan.Lines() {
				for _, l := range wrapText(clause, w-13) {
					b.WriteString(fmt.Sprintf("%-12s ", label) + l + "\n")
					label = ""
				}
			}
		}
	}
	b.WriteString(st.Muted.Render("p changes the paths") + "\n")
	return b.String()
}

func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return strings.TrimRight(dir, "/") + "/" + name
}

// renderDiff colours a unified diff; long lines are cut at the width.
func (m *model) renderDiff(diff, empty string, w int) string {
	st := m.st
	if diff == "" {
		return st.Muted.Render(empty) + "\n"
	}
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(diff, "\n"), "\n") {
		l = ansi.Truncate(l, w, "…")
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
			l = st.DiffHeader.Render(l)
		case strings.HasPrefix(l, "@@"):
			l = st.DiffHunk.Render(l)
		case strings.HasPrefix(l, "+"):
			l = st.DiffAdd.Render(l)
		case strings.HasPrefix(l, "-"):
			l = st.DiffDel.Render(l)
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

// skippedProbesWarning is apply's note that its live checks were skipped,
// which the dry run does on purpose (the checklist above has them).
func skippedProbesWarning(w wizard.FieldError) bool { return w.Field == "probes" }

// markLines wraps text under a two-column mark (✗, !) on its first line.
func markLines(mark, text string, w int) string {
	var b strings.Builder
	for i, l := range wrapText(text, w-2) {
		if i == 0 {
			b.WriteString(mark + l + "\n")
		} else {
			b.WriteString("  " + l + "\n")
		}
	}
	return b.String()
}

// hostView is the review's top: the gitlab-runner service of this host
// and what is wrong with it, then the fixes the checks offer with their
// keys and whether the user turned them on.
func (m *model) hostView(w int) string {
	st := m.st
	var b strings.Builder
	rs := m.reviewResults()
	if h := m.o.host(m.paths, rs, "p changes the paths"); h.ok {
		// Kept short so that it shows without scrolling: the summary on
		// two lines at most (one when a warning follows: it names the
		// paths), each warning with its hint as one paragraph.
		const label = "This host  "
		summary := wrapText(h.summary, w-len(label))
		if len(h.notes) > 0 && len(summary) > 1 {
			summary = []string{ansi.Truncate(h.summary, w-len(label), "…")}
		}
		for i, l := range summary {
			switch i {
			case 0:
				b.WriteString(st.Section.Render(strings.TrimSpace(label)) + "  " + l + "\n")
			case 1:
				b.WriteString(strings.Repeat(" ", len(label)) + ansi.Truncate(l, w-len(label), "…") + "\n")
			}
		}
		for _, n := range h.notes {
			text := n.text
			if n.hint != "" {
				text += " — " + n.hint
			}
			b.WriteString(markLines(st.Warn.Render("! "), text, w))
		}
	}
	offer := func(on bool, key, text string) {
		box := "[ ]"
		if on {
			box = st.Pass.Render("[x]")
		}
		for i, l := range wrapText(text, w-7) {
			if i == 0 {
				b.WriteString(box + " " + st.HelpKey.Render(key) + "  " + l + "\n")
			} else {
				b.WriteString("       " + l + "\n")
			}
		}
	}
	if stale := fleet.StaleRunners(rs); len(stale) > 0 {
		offer(m.review.prune, "x", pruneOffer(stale))
	}
	if reason := freshIDReason(rs); reason != "" {
		offer(m.review.freshID, "n", freshIDOffer(reason))
	}
	return b.String()
}

// fitHelp is helpLine with the pairs whose keys are in drop (in that
// order) left out until the line fits the width.
func (m *model) fitHelp(pairs [][2]string, w int, drop ...string) string {
	pairs = slices.Clone(pairs) // DeleteFunc below must not touch the caller's
	line := m.helpLine(pairs)
	for _, k := range drop {
		if ansi.StringWidth(line) <= w {
			break
		}
		pairs = slices.DeleteFunc(pairs, func(p [2]string) bool { return p[0] == k })
		line = m.helpLine(pairs)
	}
	return line
}
