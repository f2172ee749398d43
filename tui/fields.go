package tui

import (
	"strconv"

	"charm.land/huh/v2"

	"github.com/runnerup/runnerup/wizard"
)

// answerAccessor binds a huh field straight to the answers through the
// wizard field's Get/Set, so hide functions always see what the user typed.
// An unset answer shows what it amounts to in ctx (the file's concurrent,
// /cache for a new runner), and keeping that value leaves it unset.
type answerAccessor struct {
	a   *wizard.Answers
	f   wizard.Field
	ctx wizard.Context
}

func (x answerAccessor) Get() string  { return x.f.ValueIn(x.a, x.ctx) }
func (x answerAccessor) Set(v string) { x.f.SetIn(x.a, x.ctx, v) }

// confirmAccessor is answerAccessor for yes/no fields.
type confirmAccessor struct {
	a   *wizard.Answers
	f   wizard.Field
	ctx wizard.Context
}

func (x confirmAccessor) Get() bool  { return x.f.ValueIn(x.a, x.ctx) == "true" }
func (x confirmAccessor) Set(v bool) { x.f.SetIn(x.a, x.ctx, strconv.FormatBool(v)) }

var (
	_ huh.Accessor[string] = answerAccessor{}
	_ huh.Accessor[bool]   = confirmAccessor{}
)

// fieldBinding says where a huh field keeps its value: the answers
// themselves (the TUI), or plain variables the caller copies back
// (accessible mode, where huh needs pointer accessors to know defaults).
type fieldBinding struct {
	str huh.Accessor[string]
	b   huh.Accessor[bool]
	// maskSecrets: secrets use password echo (off when accessible input is
	// not a terminal: huh can only read passwords from a tty).
	maskSecrets bool
	// title overrides the field's prompt (accessible mode adds hints).
	title string
	// ctx names the files in option labels (the docker config directory).
	ctx wizard.Context
}

func bindAnswers(a *wizard.Answers, f wizard.Field, ctx wizard.Context) fieldBinding {
	return fieldBinding{str: answerAccessor{a, f, ctx}, b: confirmAccessor{a, f, ctx}, maskSecrets: true, ctx: ctx}
}

// optionLabel is how a select shows an option: name, then its help.
func optionLabel(o wizard.Option, ctx wizard.Context) string {
	label := o.Label
	if label == "" {
		label = o.Value
	}
	help := o.HelpIn(ctx)
	if help == "" {
		return label
	}
	return label + " — " + help
}

// selectOptions turns the field's options into huh options, adding the
// current value when the list does not have it (a pull policy list read
// from an answers file, say).
func selectOptions(f wizard.Field, current string, ctx wizard.Context) []huh.Option[string] {
	var opts []huh.Option[string]
	found := false
	for _, o := range f.Options {
		if o.Value == current {
			found = true
		}
		opts = append(opts, huh.NewOption(optionLabel(o, ctx), o.Value))
	}
	if !found && current != "" {
		opts = append([]huh.Option[string]{huh.NewOption(current+" — current value", current)}, opts...)
	}
	return opts
}

// examplePrefix marks a placeholder as an example, so it never reads as a
// value (without colour the dim italic style is lost).
const examplePrefix = "e.g. "

// newHuhField builds the huh field for one wizard field.
func newHuhField(f wizard.Field, bind fieldBinding) huh.Field {
	title := f.Prompt
	if bind.title != "" {
		title = bind.title
	}
	switch f.Kind {
	case wizard.KindSelect:
		s := huh.NewSelect[string]().Key(f.Key).Title(title).Description(f.Help).
			Options(selectOptions(f, bind.str.Get(), bind.ctx)...)
		s.Accessor(bind.str)
		if f.Validate != nil || f.ValidateIn != nil {
			s.Validate(func(v string) error { return f.CheckIn(bind.ctx, v) })
		}
		return s
	case wizard.KindConfirm:
		c := huh.NewConfirm().Key(f.Key).Title(title).Description(f.Help).
			Affirmative("Yes").Negative("No")
		c.Accessor(bind.b)
		return c
	default:
		in := huh.NewInput().Key(f.Key).Title(title).Description(f.Help).
			Validate(func(v string) error { return f.CheckIn(bind.ctx, v) })
		switch {
		case f.Key == "gitlab.create.api_token" && bind.ctx.APITokenEnv != "":
			// Empty is an answer here: the token in the environment.
			in.Placeholder("empty: the token in $" + bind.ctx.APITokenEnv)
		case f.Example != "":
			in.Placeholder(examplePrefix + f.Example)
		}
		if f.Kind == wizard.KindSecret && bind.maskSecrets {
			in.EchoMode(huh.EchoModePassword)
		}
		in.Accessor(bind.str)
		return in
	}
}

// formBuilder turns wizard fields into huh groups bound to the answers.
type formBuilder struct {
	a   *wizard.Answers
	ctx wizard.Context
	// advanced, when set, hides the advanced fields while it is false.
	advanced *bool
	// marks collects the text inputs whose titles show check marks.
	marks *fieldMarks
	// picker, when set, builds the KindTarget field (the TUI's picker;
	// without it the target is asked as text).
	picker func(f wizard.Field, a *wizard.Answers, ctx wizard.Context) huh.Field
}

// groups builds the pages: consecutive fields with the same Group share a
// page, hidden when its fields do not apply (or are advanced ones and the
// step's advanced settings are hidden).
func (b formBuilder) groups(fields []wizard.Field, title func(first wizard.Field) string) []*huh.Group {
	var groups []*huh.Group
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && fields[j].Group == fields[i].Group && fields[i].Group != "" {
			j++
		}
		page := fields[i:j]
		hfs := make([]huh.Field, 0, len(page))
		for _, f := range page {
			var hf huh.Field
			if f.Kind == wizard.KindTarget && b.picker != nil {
				hf = b.picker(f, b.a, b.ctx)
			} else {
				hf = newHuhField(f, bindAnswers(b.a, f, b.ctx))
			}
			if in, ok := hf.(*huh.Input); ok && b.marks != nil && f.Checks != nil {
				b.marks.add(f, in)
			}
			hfs = append(hfs, hf)
		}
		first, a, adv := page[0], b.a, b.advanced
		g := huh.NewGroup(hfs...).WithHideFunc(func() bool {
			return first.Hidden(a) || (first.Advanced && adv != nil && !*adv)
		})
		if title != nil {
			if t := title(first); t != "" {
				g.Title(t)
			}
		}
		groups = append(groups, g)
		i = j
	}
	return groups
}

// newForm wraps groups in a form with the wizard's settings: TUI mode (an
// embedded form must never switch to accessible mode on its own, which huh
// does when TERM=dumb); errors and help are drawn by the wizard itself.
func newForm(groups ...*huh.Group) *huh.Form {
	return huh.NewForm(groups...).
		WithAccessible(false).
		WithShowHelp(false).
		WithShowErrors(false). // formStatus shows them, wrapped
		WithTheme(huh.ThemeFunc(huhTheme)).
		WithWidth(defaultWidth)
}

// The size drawn at until the terminal reports its own.
const (
	defaultWidth  = 80
	defaultHeight = 24
)
