package tui

import (
	"image/color"
	"sync"

	"charm.land/huh/v2"
	"charm.land/lipgloss/v2"
)

// Styles holds every style the wizard draws with; nothing else in the
// package builds a lipgloss style. Colours come from the named palette
// below, never from literals at the call site.
type Styles struct {
	// Chrome.
	App        lipgloss.Style // outer padding
	Brand      lipgloss.Style
	Crumb      lipgloss.Style // a step in the breadcrumb
	CrumbDone  lipgloss.Style
	CrumbNow   lipgloss.Style
	CrumbSep   lipgloss.Style
	Help       lipgloss.Style // key help line
	HelpKey    lipgloss.Style
	StepTitle  lipgloss.Style
	StepHelp   lipgloss.Style
	Section    lipgloss.Style // section heading on review/done
	Muted      lipgloss.Style
	Emphasis   lipgloss.Style
	Selected   lipgloss.Style // selected list row
	ErrorTitle lipgloss.Style
	ErrorText  lipgloss.Style

	// Checklist.
	Pass    lipgloss.Style
	Warn    lipgloss.Style
	Fail    lipgloss.Style
	Skip    lipgloss.Style
	Spinner lipgloss.Style
	Hint    lipgloss.Style

	// Diffs.
	DiffAdd    lipgloss.Style
	DiffDel    lipgloss.Style
	DiffHunk   lipgloss.Style
	DiffHeader lipgloss.Style

	Code lipgloss.Style // answers file, commands
}

// palette is the wizard's named colours.
type palette struct {
	accent, accentSoft, text, muted, subtle, green, yellow, red color.Color
}

func newPalette(isDark bool) palette {
	ld := lipgloss.LightDark(isDark)
	return palette{
		accent:     ld(lipgloss.Color("#5A56E0"), lipgloss.Color("#7571F9")),
		accentSoft: ld(lipgloss.Color("#8E8BE8"), lipgloss.Color("#A5A2FB")),
		text:       ld(lipgloss.Color("235"), lipgloss.Color("252")),
		muted:      ld(lipgloss.Color("243"), lipgloss.Color("245")),
		subtle:     ld(lipgloss.Color("250"), lipgloss.Color("238")),
		green:      ld(lipgloss.Color("#02BA84"), lipgloss.Color("#02BF87")),
		yellow:     ld(lipgloss.Color("#B08800"), lipgloss.Color("#E5C07B")),
		red:        ld(lipgloss.Color("#FF4672"), lipgloss.Color("#ED567A")),
	}
}

// NewStyles builds the styles for a light or dark background.
func NewStyles(isDark bool) *Styles {
	p := newPalette(isDark)
	s := &Styles{}
	s.App = lipgloss.NewStyle().Padding(0, 1)
	s.Brand = lipgloss.NewStyle().Bold(true).Foreground(p.accent)
	s.Crumb = lipgloss.NewStyle().Foreground(p.muted)
	s.CrumbDone = lipgloss.NewStyle().Foreground(p.accentSoft)
	s.CrumbNow = lipgloss.NewStyle().Bold(true).Underline(true).Foreground(p.accent)
	s.CrumbSep = lipgloss.NewStyle().Foreground(p.subtle)
	s.Help = lipgloss.NewStyle().Foreground(p.muted)
	s.HelpKey = lipgloss.NewStyle().Foreground(p.text)
	s.StepTitle = lipgloss.NewStyle().Bold(true).Foreground(p.accent)
	s.StepHelp = lipgloss.NewStyle().Foreground(p.muted)
	s.Section = lipgloss.NewStyle().Bold(true).Foreground(p.accent)
	s.Muted = lipgloss.NewStyle().Foreground(p.muted)
	s.Emphasis = lipgloss.NewStyle().Bold(true)
	s.Selected = lipgloss.NewStyle().Bold(true).Foreground(p.accent)
	s.ErrorTitle = lipgloss.NewStyle().Bold(true).Foreground(p.red)
	s.ErrorText = lipgloss.NewStyle().Foreground(p.red)

	s.Pass = lipgloss.NewStyle().Foreground(p.green)
	s.Warn = lipgloss.NewStyle().Foreground(p.yellow)
	s.Fail = lipgloss.NewStyle().Bold(true).Foreground(p.red)
	s.Skip = lipgloss.NewStyle().Foreground(p.muted)
	s.Spinner = lipgloss.NewStyle().Foreground(p.accent)
	s.Hint = lipgloss.NewStyle().Foreground(p.muted)

	s.DiffAdd = lipgloss.NewStyle().Foreground(p.green)
	s.DiffDel = lipgloss.NewStyle().Foreground(p.red)
	s.DiffHunk = lipgloss.NewStyle().Foreground(p.accentSoft)
	s.DiffHeader = lipgloss.NewStyle().Bold(true)

	s.Code = lipgloss.NewStyle().Foreground(p.text)
	return s
}

// huhTheme is the forms' theme: huh's Charm theme with the wizard's
// accent and one blank line between fields, so a page fits 80×24. huh asks
// for the theme on every render of every option, so it is built once per
// background.
func huhTheme(isDark bool) *huh.Styles {
	if isDark {
		darkTheme.once.Do(func() { darkTheme.s = buildHuhTheme(true) })
		return darkTheme.s
	}
	lightTheme.once.Do(func() { lightTheme.s = buildHuhTheme(false) })
	return lightTheme.s
}

var darkTheme, lightTheme struct {
	once sync.Once
	s    *huh.Styles
}

func buildHuhTheme(isDark bool) *huh.Styles {
	t := huh.ThemeCharm(isDark)
	p := newPalette(isDark)
	t.FieldSeparator = lipgloss.NewStyle().SetString("\n")
	t.Focused.Title = t.Focused.Title.Foreground(p.accent)
	t.Focused.Description = t.Focused.Description.Foreground(p.muted)
	// Every selection reads without colour too (NO_COLOR, a monochrome
	// terminal, a screen reader's copy): the chosen button is in brackets,
	// the chosen option has its "> ", and an example is prefixed "e.g."
	// (see newHuhField) besides being dim and italic.
	t.Focused.FocusedButton = t.Focused.FocusedButton.Padding(0, 1).Transform(func(s string) string { return "[" + s + "]" })
	t.Focused.BlurredButton = t.Focused.BlurredButton.Padding(0, 1).Transform(func(s string) string { return " " + s + " " })
	t.Focused.TextInput.Placeholder = t.Focused.TextInput.Placeholder.Italic(true).Faint(true)
	t.Blurred = t.Focused
	t.Blurred.Base = t.Focused.Base.BorderStyle(lipgloss.HiddenBorder())
	t.Blurred.Card = t.Blurred.Base
	t.Blurred.NextIndicator = lipgloss.NewStyle()
	t.Blurred.PrevIndicator = lipgloss.NewStyle()
	// The chosen option of a select out of focus keeps its marker (huh
	// blanks it), muted rather than accented.
	t.Blurred.SelectSelector = lipgloss.NewStyle().SetString("> ").Foreground(p.muted)
	t.Group.Title = t.Focused.Title
	t.Group.Description = t.Focused.Description
	return t
}

// plainTheme is for accessible mode: no borders or padding, so prompts
// read as plain lines.
func plainTheme(bool) *huh.Styles {
	plain.once.Do(func() { plain.s = buildPlainTheme() })
	return plain.s
}

var plain struct {
	once sync.Once
	s    *huh.Styles
}

func buildPlainTheme() *huh.Styles {
	t := huh.ThemeBase(false)
	t.Focused.Base = lipgloss.NewStyle()
	t.Blurred.Base = lipgloss.NewStyle()
	t.Focused.Title = lipgloss.NewStyle()
	t.Blurred.Title = lipgloss.NewStyle()
	return t
}
