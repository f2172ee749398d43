package tui

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	helpkey "charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/runnerup/runnerup/wizard"
)

// The create path's "Where to create the runner": a huh field that lists
// the projects (Maintainer), groups (Owner) or the instance (administrators)
// where the API token's user may create a runner, searching GitLab as the
// user types and loading the next page when the list is scrolled to its
// end. The lookups run in Cmds; each answer carries the generation of the
// query it answers, and an answer to an older query is dropped, so typing
// never waits for GitLab and a slow answer never overwrites a newer one.

// pickerDebounce is how long the filter must stay unchanged before GitLab
// is searched for it; the items already loaded are filtered at once.
const pickerDebounce = 250 * time.Millisecond

// pickerRows is how many items the list shows at most.
const pickerRows = 6

// pickerKinds are the tabs: where runners can be created.
var pickerKinds = []struct{ kind, label, noun string }{
	{wizard.TargetProject, "Projects", "project"},
	{wizard.TargetGroup, "Groups", "group"},
	{wizard.TargetInstance, "Instance", "instance"},
}

// pickerPageMsg is one page of a lookup.
type pickerPageMsg struct {
	gen  int
	page int
	res  wizard.TargetPage
	err  error
}

// pickerTickMsg fires pickerDebounce after the filter changed.
type pickerTickMsg struct{ tag int }

// pickerLoader starts a lookup: kind, search, page; the Cmd answers with a
// pickerPageMsg carrying gen.
type pickerLoader func(kind, search string, page, gen int) tea.Cmd

// targetPicker is the field. The model owns it (lookup answers go to the
// model, which hands them over, whatever page the form is on); the form
// holds it as one of its fields.
type targetPicker struct {
	f   wizard.Field
	a   *wizard.Answers
	ctx wizard.Context

	load pickerLoader
	// source is what the items depend on besides kind and filter (URL,
	// token): when it changes, the list is read again.
	source func() string
	// info is what the token check learnt (administrator, scopes).
	info func() (wizard.APITokenInfo, bool)
	// spinner draws the loading mark.
	spinner func() string

	kind   int
	filter string
	// items are the loaded places for (kind, itemsQuery); next is the
	// page after the last loaded one (0: none).
	items      []wizard.CreateTarget
	itemsQuery string
	itemsFor   string // source and kind the items belong to
	next       int
	loading    bool
	err        error
	gen        int
	tag        int
	cursor     int
	offset     int

	focused bool
	width   int
	theme   huh.Theme
	isDark  bool
	verr    error
}

var _ huh.Field = (*targetPicker)(nil)

func newTargetPicker(f wizard.Field, a *wizard.Answers, ctx wizard.Context) *targetPicker {
	p := &targetPicker{f: f, a: a, ctx: ctx, width: defaultWidth, isDark: true}
	// Open on the kind of the current answer.
	if v := f.Get(a); v != "" {
		kind, _, _ := strings.Cut(v, ":")
		for i, k := range pickerKinds {
			if k.kind == kind {
				p.kind = i
			}
		}
	}
	return p
}

func (p *targetPicker) kindName() string { return pickerKinds[p.kind].kind }

// listKey is what the shown items must belong to.
func (p *targetPicker) listKey() string {
	src := ""
	if p.source != nil {
		src = p.source()
	}
	return src + "\x00" + p.kindName()
}

// query starts page 1 of a search for the current filter, dropping every
// answer still on its way.
func (p *targetPicker) query() tea.Cmd {
	p.gen++
	p.err = nil
	if p.kindName() == wizard.TargetInstance || p.load == nil {
		p.loading = false
		return nil
	}
	p.loading = true
	return p.load(p.kindName(), p.filter, 1, p.gen)
}

// more loads the next page of the current query, if there is one.
func (p *targetPicker) more() tea.Cmd {
	if p.loading || p.next == 0 || p.load == nil || p.itemsQuery != p.filter {
		return nil
	}
	p.loading = true
	return p.load(p.kindName(), p.filter, p.next, p.gen)
}

// refresh reads the list again when what it depends on changed (another
// token, another GitLab), or when the last lookup failed.
func (p *targetPicker) refresh() tea.Cmd {
	if k := p.listKey(); k != p.itemsFor || p.err != nil && !p.loading {
		p.itemsFor = k
		p.items, p.itemsQuery, p.next, p.cursor, p.offset = nil, "", 0, 0, 0
		return p.query()
	}
	return nil
}

// onPage records a lookup's answer, unless a newer query was started.
func (p *targetPicker) onPage(msg pickerPageMsg) tea.Cmd {
	if msg.gen != p.gen {
		return nil
	}
	p.loading = false
	if msg.err != nil {
		p.err = msg.err
		return nil
	}
	p.err = nil
	if msg.page <= 1 {
		// The answer to the current filter replaces what was shown; the
		// highlighted item stays highlighted when it is still there.
		var keep string
		if vis := p.visible(); p.cursor < len(vis) {
			keep = vis[p.cursor].Value()
		}
		p.items, p.itemsQuery, p.cursor, p.offset = msg.res.Targets, p.filter, 0, 0
		for i, t := range p.visible() {
			if t.Value() == keep {
				p.cursor = i
			}
		}
	} else {
		p.items = append(p.items, msg.res.Targets...)
	}
	p.next = msg.res.NextPage
	p.scrollToCursor()
	return p.fill()
}

// fill loads more while the list does not fill its rows (the filter
// narrowed it) or the cursor is near its end.
func (p *targetPicker) fill() tea.Cmd {
	vis := p.visible()
	if len(vis) < pickerRows || p.cursor >= len(vis)-2 {
		return p.more()
	}
	return nil
}

// visible are the loaded items that match the filter: all of them once
// GitLab answered for it, the ones whose path or name contains it while
// the search is on its way.
func (p *targetPicker) visible() []wizard.CreateTarget {
	if p.kindName() == wizard.TargetInstance {
		return nil
	}
	f := strings.ToLower(strings.TrimSpace(p.filter))
	if f == "" || p.itemsQuery == p.filter {
		return p.items
	}
	var out []wizard.CreateTarget
	for _, t := range p.items {
		if strings.Contains(strings.ToLower(t.Path), f) || strings.Contains(strings.ToLower(t.Name), f) {
			out = append(out, t)
		}
	}
	return out
}

// typed is the filter as a target given by hand ("" when it is no full
// path): the way to name a place the list cannot show (a token without
// read_api, a group reached through a parent).
func (p *targetPicker) typed() string {
	f := strings.Trim(strings.TrimSpace(p.filter), "/")
	if f == "" || p.kindName() == wizard.TargetInstance {
		return ""
	}
	v := p.kindName() + ":" + f
	if p.f.Check(v) != nil || (p.kindName() == wizard.TargetProject && !strings.Contains(f, "/") && !wizard.IDOrPath(f).IsID()) {
		return ""
	}
	return v
}

func (p *targetPicker) scrollToCursor() {
	switch {
	case p.cursor < p.offset:
		p.offset = p.cursor
	case p.cursor >= p.offset+pickerRows:
		p.offset = p.cursor - pickerRows + 1
	}
	p.offset = max(p.offset, 0)
}

func (p *targetPicker) move(d int) tea.Cmd {
	n := len(p.visible())
	if n == 0 {
		return nil
	}
	p.cursor = min(max(p.cursor+d, 0), n-1)
	p.scrollToCursor()
	return p.fill()
}

func (p *targetPicker) setFilter(f string) tea.Cmd {
	if f == p.filter {
		return nil
	}
	p.filter = f
	p.cursor, p.offset, p.verr = 0, 0, nil
	p.tag++
	tag := p.tag
	return tea.Tick(pickerDebounce, func(time.Time) tea.Msg { return pickerTickMsg{tag: tag} })
}

func (p *targetPicker) setKind(k int) tea.Cmd {
	k = (k + len(pickerKinds)) % len(pickerKinds)
	if k == p.kind {
		return nil
	}
	p.kind, p.verr = k, nil
	p.items, p.itemsQuery, p.next, p.cursor, p.offset = nil, "", 0, 0, 0
	p.itemsFor = p.listKey()
	return p.query()
}

// onTick searches GitLab for the filter once typing paused.
func (p *targetPicker) onTick(msg pickerTickMsg) tea.Cmd {
	if msg.tag != p.tag || p.itemsQuery == p.filter && !p.loading {
		return nil
	}
	return p.query()
}

// admin says whether the token's user is known to be (or not be) an
// administrator.
func (p *targetPicker) admin() (isAdmin, known bool) {
	if p.info == nil {
		return false, false
	}
	info, ok := p.info()
	if !ok || !info.UserKnown {
		return false, false
	}
	return info.User.IsAdmin, true
}

// choose takes the highlighted item (or the typed path, or the instance)
// as the answer; it reports whether there was one to take.
func (p *targetPicker) choose() bool {
	var v string
	switch vis := p.visible(); {
	case p.kindName() == wizard.TargetInstance:
		if isAdmin, known := p.admin(); known && !isAdmin {
			p.verr = errors.New("instance runners can only be created by an administrator; choose a project or group, or use an administrator's token")
			return false
		}
		v = wizard.TargetInstance
	case p.cursor < len(vis):
		v = vis[p.cursor].Value()
	case p.typed() != "":
		v = p.typed()
	case p.f.Get(p.a) != "" && p.filter == "":
		v = p.f.Get(p.a) // keep the answer given before
	default:
		what := pickerKinds[p.kind].noun
		p.verr = fmt.Errorf("no %s chosen; pick one from the list, or type its full path (group/app)", what)
		if p.loading {
			p.verr = fmt.Errorf("no %s chosen yet: the list is still loading", what)
		}
		return false
	}
	if err := p.f.Check(v); err != nil {
		p.verr = err
		return false
	}
	p.verr = nil
	p.f.SetIn(p.a, p.ctx, v)
	return true
}

// ---- huh.Field ----

func (p *targetPicker) Init() tea.Cmd { return nil }

func (p *targetPicker) Update(msg tea.Msg) (huh.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.BackgroundColorMsg:
		p.isDark = msg.IsDark()
	case tea.PasteMsg:
		if p.focused {
			return p, p.setFilter(p.filter + strings.TrimSpace(msg.Content))
		}
	case tea.KeyPressMsg:
		if !p.focused {
			return p, nil
		}
		return p, p.onKey(msg)
	}
	return p, nil
}

func (p *targetPicker) onKey(k tea.KeyPressMsg) tea.Cmd {
	switch k.String() {
	case "enter", "tab":
		if p.choose() {
			return huh.NextField
		}
		return nil
	case "shift+tab":
		return huh.PrevField
	case "up", "ctrl+p":
		return p.move(-1)
	case "down", "ctrl+n":
		return p.move(1)
	case "pgup":
		return p.move(-pickerRows)
	case "pgdown":
		return p.move(pickerRows)
	case "left":
		return p.setKind(p.kind - 1)
	case "right":
		return p.setKind(p.kind + 1)
	case "backspace":
		r := []rune(p.filter)
		if len(r) == 0 {
			return nil
		}
		return p.setFilter(string(r[:len(r)-1]))
	case "ctrl+u":
		return p.setFilter("")
	}
	if k.Text != "" && k.Mod&(tea.ModCtrl|tea.ModAlt) == 0 {
		return p.setFilter(p.filter + k.Text)
	}
	return nil
}

func (p *targetPicker) Focus() tea.Cmd {
	p.focused = true
	return p.refresh()
}

func (p *targetPicker) Blur() tea.Cmd {
	p.focused = false
	return nil
}

func (p *targetPicker) Error() error { return p.verr }

func (p *targetPicker) Run() error { return huh.Run(p) }

// RunAccessible asks for the target as text (accessible mode builds a
// text input for KindTarget instead; this is for completeness).
func (p *targetPicker) RunAccessible(w io.Writer, r io.Reader) error {
	in := huh.NewInput().Title(p.f.Prompt).Description(p.f.Help).Validate(p.f.Check)
	in.Accessor(answerAccessor{p.a, p.f, p.ctx})
	return in.RunAccessible(w, r)
}

func (p *targetPicker) Skip() bool { return false }
func (p *targetPicker) Zoom() bool { return false }

func (p *targetPicker) KeyBinds() []helpkey.Binding {
	return []helpkey.Binding{
		helpkey.NewBinding(helpkey.WithKeys("up", "down"), helpkey.WithHelp("↑/↓", "move")),
		helpkey.NewBinding(helpkey.WithKeys("left", "right"), helpkey.WithHelp("←/→", "projects/groups/instance")),
		helpkey.NewBinding(helpkey.WithKeys("enter"), helpkey.WithHelp("enter", "choose")),
	}
}

func (p *targetPicker) WithTheme(t huh.Theme) huh.Field {
	if p.theme == nil {
		p.theme = t
	}
	return p
}

func (p *targetPicker) WithKeyMap(*huh.KeyMap) huh.Field         { return p }
func (p *targetPicker) WithWidth(w int) huh.Field                { p.width = w; return p }
func (p *targetPicker) WithHeight(int) huh.Field                 { return p }
func (p *targetPicker) WithPosition(huh.FieldPosition) huh.Field { return p }
func (p *targetPicker) GetKey() string                           { return p.f.Key }
func (p *targetPicker) GetValue() any                            { return p.f.Get(p.a) }

func (p *targetPicker) styles() *huh.FieldStyles {
	t := p.theme
	if t == nil {
		t = huh.ThemeFunc(huhTheme)
	}
	if p.focused {
		return &t.Theme(p.isDark).Focused
	}
	return &t.Theme(p.isDark).Blurred
}

// View draws the field: title and help, then (in focus) the kinds, the
// filter, the list and a status line; out of focus, the answer.
func (p *targetPicker) View() string {
	st := p.styles()
	w := max(p.width-st.Base.GetHorizontalFrameSize(), 20)
	var lines []string
	title := p.f.Prompt
	if p.verr != nil {
		title += st.ErrorIndicator.String()
	}
	lines = append(lines, st.Title.Render(title))
	if !p.focused {
		v := p.f.Get(p.a)
		shown := "none chosen yet"
		if v != "" {
			shown = wizard.DescribeCreateTarget(v)
		}
		lines = append(lines, st.SelectSelector.String()+st.Option.Render(ansi.Truncate(shown, w-2, "…")))
		return st.Base.Width(p.width).Render(strings.Join(lines, "\n"))
	}
	for _, l := range wrapText(p.f.Help, w) {
		lines = append(lines, st.Description.Render(l))
	}
	// The kinds; the chosen one is in brackets, so it reads without colour.
	var tabs []string
	for i, k := range pickerKinds {
		if i == p.kind {
			tabs = append(tabs, st.SelectedOption.Render("["+k.label+"]"))
		} else {
			tabs = append(tabs, st.Option.Render(" "+k.label+" "))
		}
	}
	lines = append(lines, strings.Join(tabs, " "))
	lines = append(lines, p.bodyLines(st, w)...)
	return st.Base.Width(p.width).Render(strings.Join(lines, "\n"))
}

func (p *targetPicker) bodyLines(st *huh.FieldStyles, w int) []string {
	muted := st.Description
	if p.kindName() == wizard.TargetInstance {
		text := "An instance runner takes jobs from every project of this GitLab; creating one needs an administrator's token."
		if isAdmin, known := p.admin(); known && !isAdmin {
			text = "Instance runners need an administrator's token, and this token's user is not one."
		}
		var out []string
		for _, l := range wrapText(text, w) {
			out = append(out, muted.Render(l))
		}
		return append(out, st.SelectSelector.String()+st.SelectedOption.Render("the instance"))
	}
	noun := pickerKinds[p.kind].noun
	var out []string
	filter := st.TextInput.Placeholder.Render("type to search " + noun + "s, or a full path")
	if p.filter != "" {
		filter = st.TextInput.Text.Render(p.filter)
	}
	out = append(out, st.TextInput.Prompt.Render("search: ")+filter+st.TextInput.Cursor.Render("▏"))
	vis := p.visible()
	for i := p.offset; i < len(vis) && i < p.offset+pickerRows; i++ {
		t := vis[i]
		text := t.Path
		if t.Name != "" && !strings.HasSuffix(strings.ToLower(t.Path), strings.ToLower(t.Name)) {
			text += muted.Render("  " + t.Name)
		}
		if i == p.cursor {
			out = append(out, st.SelectSelector.String()+st.SelectedOption.Render(ansi.Truncate(text, w-2, "…")))
		} else {
			out = append(out, "  "+st.Option.Render(ansi.Truncate(text, w-2, "…")))
		}
	}
	// The line under the list: what is happening, or what Enter does.
	var status string
	switch {
	case p.err != nil:
		status = wizard.DescribeLookupError(p.err)
	case p.loading && len(vis) == 0:
		status = p.spin() + "searching GitLab…"
	case len(vis) == 0 && p.typed() != "":
		status = "enter: use " + wizard.DescribeCreateTarget(p.typed()) + " as typed"
	case len(vis) == 0 && p.filter != "":
		status = fmt.Sprintf("no %s where you can create runners matches %q", noun, p.filter)
	case len(vis) == 0:
		status = fmt.Sprintf("no %s where you can create runners", noun)
	case p.loading:
		status = fmt.Sprintf("%d shown · %sloading more…", len(vis), p.spin())
	case p.next > 0:
		status = fmt.Sprintf("%d shown · ↓ loads more", len(vis))
	default:
		status = fmt.Sprintf("%d of %d", p.cursor+1, len(vis))
	}
	for _, l := range wrapText(status, w) {
		out = append(out, muted.Render(l))
	}
	return out
}

func (p *targetPicker) spin() string {
	if p.spinner == nil {
		return ""
	}
	return p.spinner() + " "
}

// ---- the model's side ----

// pickerFor builds the create path's picker for the GitLab form, wired to
// the model: lookups with the current answers, the token check's findings.
func (m *model) pickerFor(f wizard.Field, a *wizard.Answers, ctx wizard.Context) *targetPicker {
	p := newTargetPicker(f, a, ctx)
	if m.picker != nil {
		// Rebuilding the form keeps what was loaded and typed.
		p.kind, p.filter, p.items, p.itemsQuery, p.itemsFor = m.picker.kind, m.picker.filter, m.picker.items, m.picker.itemsQuery, m.picker.itemsFor
		p.next, p.gen, p.tag, p.cursor, p.offset = m.picker.next, m.picker.gen, m.picker.tag, m.picker.cursor, m.picker.offset
		p.loading, p.err = m.picker.loading, m.picker.err
	}
	p.load = m.pickerLoadCmd
	p.source = m.pickerSource
	p.info = m.apiTokenInfo
	p.spinner = func() string { return m.spin.View() } // the current frame, not a copy
	m.picker = p
	return p
}

// pickerSource is what the lookups depend on: GitLab and the API token.
func (m *model) pickerSource() string {
	k := struct{ URL, CA, Token, Env string }{URL: m.answers.GitLab.URL, CA: m.answers.GitLab.TLSCAFile, Env: m.fieldCtx().APITokenEnv}
	if c := m.answers.GitLab.Create; c != nil {
		k.Token = c.APIToken
	}
	b, _ := json.Marshal(k)
	return string(b)
}

// pickerLoadCmd looks a page of places up in the background. The answers
// are copied here and resolved in the Cmd: a file: API token is read
// there, never on the Update path.
func (m *model) pickerLoadCmd(kind, search string, page, gen int) tea.Cmd {
	o, a, paths := m.o, m.answers.Clone(), m.paths
	opts := m.o.lookupOptions()
	ctx := m.ctx
	return tea.Batch(func() tea.Msg {
		res, err := wizard.ListCreateTargets(ctx, o.probeAnswers(a, paths), opts, kind, search, page)
		return pickerPageMsg{gen: gen, page: page, res: res, err: err}
	}, m.spinCmd())
}

// updatePicker hands lookup answers and debounce ticks to the picker and
// redraws the form showing it.
func (m *model) updatePicker(msg tea.Msg) tea.Cmd {
	if m.picker == nil {
		return nil
	}
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case pickerPageMsg:
		cmd = m.picker.onPage(msg)
	case pickerTickMsg:
		cmd = m.picker.onTick(msg)
	}
	if m.form != nil && m.step == stepGitLab {
		f, c := m.form.Update(redrawMsg{})
		m.form = f.(*huh.Form)
		cmd = tea.Batch(cmd, c)
	}
	return cmd
}

// apiTokenInfo is what the last API-token check found.
func (m *model) apiTokenInfo() (wizard.APITokenInfo, bool) {
	r, ok := findResult(m.probes.results, wizard.IDAPIToken)
	if !ok {
		return wizard.APITokenInfo{}, false
	}
	info, ok := r.Data.(wizard.APITokenInfo)
	return info, ok
}

// lookupOptions are the options the create path's lookups use.
func (o Options) lookupOptions() wizard.ApplyOptions {
	ao := o.ApplyOptions
	if ao.Env == nil {
		ao.Env = o.Env
	}
	if ao.Probe.Timeout == 0 {
		ao.Probe.Timeout = 10 * time.Second
	}
	return ao
}

// pickerBusy says a lookup is on its way (the spinner turns).
func (m *model) pickerBusy() bool { return m.picker != nil && m.picker.loading && m.step == stepGitLab }
