package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"charm.land/huh/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/runnerup/runnerup/internal/safewrite"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/fleet"
	"github.com/runnerup/runnerup/wizard"
)

// plainUI is accessible mode: the same steps, fields and validation as the
// TUI, asked one line at a time with huh's accessible prompts; no
// alt-screen, no redrawing, no colour.
type plainUI struct {
	ctx context.Context
	o   Options
	in  inputReader
	tty bool
	out io.Writer
	// fctx is what the files hold, for the values unset answers show.
	fctx wizard.Context
	// files is what config.json holds (whether Docker Hub is asked).
	files filesNow
}

// plainWidth: accessible output is never cut.
const plainWidth = 1 << 16

func runAccessible(ctx context.Context, o Options) (Outcome, error) {
	in, tty := newLineInput(ctx, o.In)
	u := &plainUI{
		ctx: ctx, o: o, in: in, tty: tty,
		out: &colorprofile.Writer{Forward: o.Out, Profile: colorprofile.NoTTY},
	}
	return u.run()
}

func (u *plainUI) printf(format string, args ...any) { fmt.Fprintf(u.out, format, args...) }

func (u *plainUI) println(lines ...string) {
	for _, l := range lines {
		fmt.Fprintln(u.out, l)
	}
}

// runForm runs one huh form in accessible mode on the wizard's streams.
func (u *plainUI) runForm(f *huh.Form) error {
	if err := u.ctx.Err(); err != nil {
		return interrupted(err)
	}
	err := f.WithAccessible(true).WithInput(u.in).WithOutput(u.out).RunWithContext(u.ctx)
	if cerr := u.ctx.Err(); cerr != nil {
		return interrupted(cerr)
	}
	if u.in.ended() {
		return interruptedBecause("the input ended before the wizard finished")
	}
	if errors.Is(err, huh.ErrUserAborted) {
		return interrupted(err)
	}
	return err
}

func (u *plainUI) confirm(title string, def bool) (bool, error) {
	v := def
	f := huh.NewForm(huh.NewGroup(huh.NewConfirm().Title(title).Value(&v))).WithTheme(huh.ThemeFunc(plainTheme))
	return v, u.runForm(f)
}

func (u *plainUI) input(title, def string, validate func(string) error) (string, error) {
	v := def
	in := huh.NewInput().Title(title + ":").Value(&v)
	if validate != nil {
		in.Validate(func(s string) error {
			if strings.TrimSpace(s) == "" {
				s = def
			}
			return validate(s)
		})
	}
	err := u.runForm(huh.NewForm(huh.NewGroup(in)).WithTheme(huh.ThemeFunc(plainTheme)))
	return strings.TrimSpace(v), err
}

// askField asks one wizard field (unless hidden) and stores the answer.
func (u *plainUI) askField(f wizard.Field, a *wizard.Answers) error {
	if f.Hidden(a) {
		return nil
	}
	cur := f.ValueIn(a, u.fctx)
	help := f.Help
	if f.Example != "" && f.Kind != wizard.KindSecret {
		help = strings.TrimSpace(help + " Example: " + f.Example)
	}
	if help != "" {
		u.println(help)
	}
	str, b := cur, cur == "true"
	bind := fieldBinding{
		str: huh.NewPointerAccessor(&str), b: huh.NewPointerAccessor(&b),
		maskSecrets: u.tty, title: f.Prompt, ctx: u.fctx,
	}
	optional := f.CheckIn(u.fctx, "") == nil
	switch f.Kind {
	case wizard.KindText, wizard.KindList, wizard.KindSecret, wizard.KindTarget:
		hint := ""
		switch {
		case cur != "" && f.Kind == wizard.KindSecret:
			hint = " [enter keeps the current one]"
		case cur != "" && optional:
			hint = " [" + cur + "; - clears]"
		case cur != "":
			hint = " [" + cur + "]"
		}
		bind.title = f.Prompt + hint + ":"
		orig := f
		f.Validate = func(s string) error {
			s = strings.TrimSpace(s)
			if s == "" {
				s = cur
			}
			if s == "-" && optional {
				return nil
			}
			return orig.CheckIn(u.fctx, s)
		}
	case wizard.KindConfirm:
		bind.title = f.Prompt
	case wizard.KindSelect:
		for i, opt := range f.Options {
			if opt.Value == cur {
				bind.title = fmt.Sprintf("%s [%d: %s]", f.Prompt, i+1, optionName(opt))
			}
		}
	}
	form := huh.NewForm(huh.NewGroup(newHuhField(f, bind))).WithTheme(huh.ThemeFunc(plainTheme))
	if err := u.runForm(form); err != nil {
		return err
	}
	switch {
	case f.Kind == wizard.KindConfirm:
		f.SetIn(a, u.fctx, strconv.FormatBool(b))
	case str == "-" && optional:
		f.Set(a, "")
	default:
		f.SetIn(a, u.fctx, str)
	}
	if f.Key == "gitlab.token" || f.Key == "gitlab.token_kind" {
		if d := wizard.DescribeToken(a.GitLab.Token, a.GitLab.TokenKind); d != "" {
			u.println("→ " + d)
		}
	}
	u.println("")
	return nil
}

func (u *plainUI) askFields(fields []wizard.Field, a *wizard.Answers) error {
	for _, f := range fields {
		if err := u.askField(f, a); err != nil {
			return err
		}
	}
	return nil
}

func (u *plainUI) section(title, help string) {
	u.println("", "== "+title+" ==")
	if help != "" {
		u.println(help)
	}
	u.println("")
}

func (u *plainUI) run() (Outcome, error) {
	o := u.o
	a := o.startAnswers()
	paths := o.targetPaths(a)

	cfg, err := readExisting(paths.ConfigTOML)
	if err != nil {
		u.println("! config.toml could not be read (" + err.Error() + "); apply will stop on it")
	}
	runners := cfg.Runners
	u.files.credHelpers, u.files.credsStore, u.files.authHosts = readDockerConfig(filepath.Join(paths.DockerConfigDir, "config.json"))
	u.fctx = wizard.Context{Concurrent: cfg.Concurrent, DockerConfigDir: paths.DockerConfigDir, APITokenEnv: wizard.APITokenEnv(o.Env)}
	if offerExisting(o, runners) {
		f, choice := buildExistingForm(paths.ConfigTOML, runners, "")
		if err := u.runForm(f.WithTheme(huh.ThemeFunc(plainTheme))); err != nil {
			return Outcome{}, err
		}
		if i, err := strconv.Atoi(*choice); err == nil && i >= 0 && i < len(runners) {
			a = prefillFromExisting(a, runners[i])
			a.ApplyDefaults(o.Hostname)
			u.fctx.ExistingRunner = true
		}
	}

	for _, st := range wizard.Steps() {
		switch st.ID {
		case wizard.StepServices:
			if st.Hidden(a) {
				continue
			}
			u.section(st.Title, st.Help)
			if err := u.askServices(a); err != nil {
				return Outcome{}, err
			}
		case wizard.StepRegistries:
			wizard.SyncRegistries(a)
			// No live checks ran yet: config.json alone says whether
			// Docker Hub needs asking.
			asked := askedRegistries(a, u.files, nil)
			if st.Hidden(a) || len(asked) == 0 {
				continue
			}
			u.section(st.Title, st.Help)
			for n, i := range asked {
				u.println(registryTitle(n, len(asked), a.Registries[i].Host))
				if err := u.askFields(wizard.RegistryFields(i), a); err != nil {
					return Outcome{}, err
				}
			}
			u.printRegistryWarnings(a)
		default:
			if st.Hidden(a) {
				continue
			}
			u.section(st.Title, st.Help)
			if err := u.askFields(st.Fields, a); err != nil {
				return Outcome{}, err
			}
		}
	}

	results := u.runProbes(a, paths)
	fx, err := u.askFixes(results)
	if err != nil {
		return Outcome{}, err
	}

	final, leftOut := o.finalAnswers(a, paths)
	for _, n := range leftOut {
		u.println("! left out, its step no longer applies: " + n)
	}
	var prepared *wizard.Prepared
	for {
		var err error
		prepared, _, err = u.review(final, paths, results, fx)
		if err != nil {
			return Outcome{}, err
		}
		change, err := u.confirm("Change where the files are written?", false)
		if err != nil {
			return Outcome{}, err
		}
		if !change {
			break
		}
		notEmpty := func(s string) error {
			if strings.TrimSpace(s) == "" {
				return errors.New("the path is empty")
			}
			return nil
		}
		before := paths
		if paths.ConfigTOML, err = u.input("config.toml ["+paths.ConfigTOML+"]", paths.ConfigTOML, notEmpty); err != nil {
			return Outcome{}, err
		}
		if paths.DockerConfigDir, err = u.input("Docker config directory ["+paths.DockerConfigDir+"]", paths.DockerConfigDir, notEmpty); err != nil {
			return Outcome{}, err
		}
		final, _ = o.finalAnswers(a, paths)
		if paths != before {
			// The checks and the fixes were about the other files.
			results = u.runProbes(a, paths)
			if fx, err = u.askFixes(results); err != nil {
				return Outcome{}, err
			}
		}
	}

	if n := len(probe.Failed(results)); n > 0 {
		u.println(fmt.Sprintf("! %d check(s) failed; the runner may not be able to pull its images.", n))
	}
	write, err := u.confirm("Write these files now?", false)
	if err != nil {
		return Outcome{}, err
	}
	if !write {
		return Outcome{}, interruptedBecause("you chose not to write")
	}
	// Writing although checks failed is the user's call: apply then skips
	// its own checks, which would refuse.
	res, err := o.Apply(u.ctx, prepared, o.applyOptions(paths, false, len(probe.Failed(results)) > 0, fx))
	if err != nil {
		u.println("Nothing was written: " + err.Error())
		var ce *wizard.CheckError
		if errors.As(err, &ce) {
			for _, r := range probe.Failed(ce.Results) {
				u.println(statusIcon(r.Status) + " " + r.Title + " — " + r.Detail)
				if r.Hint != "" {
					u.println("    hint: " + r.Hint)
				}
			}
		}
		return Outcome{}, err
	}
	rm := &model{st: NewStyles(true), o: o, paths: paths}
	rm.write.res = res
	u.println("")
	u.println(rm.writtenLines(plainWidth)...)
	u.println("")

	out := Outcome{Result: res}
	saved, _ := u.o.encode(final, false)
	envVars, secrets := saved.EnvVars, false
	save, err := u.confirm("Save the answers file?", true)
	if err != nil {
		return out, nil // the files are written; only the offer was cut short
	}
	if save {
		def := o.answersPath(final.GitLab.Name)
		path, err := u.input("Answers file ["+def+"]", def, func(s string) error {
			if strings.TrimSpace(s) == "" {
				return errors.New("answers file path is empty")
			}
			return nil
		})
		if err != nil {
			return out, nil
		}
		if secrets, err = u.confirm("Save secrets in clear? (No: env: references you export before replaying)", false); err != nil {
			return out, nil
		}
		data, err := u.o.encode(final, secrets)
		if err == nil {
			_, err = safewrite.Write(safewrite.File{Path: path, Data: data.Data, Secret: true}, safewrite.Options{Now: o.ApplyOptions.Now})
		}
		if err != nil {
			u.println("✗ answers file not saved: " + err.Error())
		} else {
			out.AnswersPath = path
			envVars = data.EnvVars
			u.println("✓ answers saved to " + path + " (mode 0600)")
		}
	}
	u.println("")
	u.println(nextSteps(res, out.AnswersPath, envVars, secrets)...)
	return out, nil
}

// askFixes offers the fixes the checks found a reason for; each is a
// yes/no question that defaults to no.
func (u *plainUI) askFixes(results []probe.Result) (fixes, error) {
	var fx fixes
	if stale := fleet.StaleRunners(results); len(stale) > 0 {
		yes, err := u.confirm(upperFirst(pruneOffer(stale))+"?", false)
		if err != nil {
			return fixes{}, err
		}
		if yes {
			fx.prune = stale
		}
	}
	if reason := freshIDReason(results); reason != "" {
		yes, err := u.confirm("Write a fresh system id? ("+reason+")", false)
		if err != nil {
			return fixes{}, err
		}
		fx.freshID = yes
	}
	return fx, nil
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// printHost prints the "This host" block and the fixes chosen.
func (u *plainUI) printHost(paths wizard.Paths, results []probe.Result, fx fixes) {
	if h := u.o.host(paths, results, `answer yes to "Change where the files are written?" and write the file the service reads, or change the service's --config`); h.ok {
		u.println("This host: " + h.summary)
		for _, n := range h.notes {
			u.println("! " + n.text)
			if n.hint != "" {
				u.println("    hint: " + n.hint)
			}
		}
	}
	if len(fx.prune) > 0 {
		u.println("You chose to " + pruneOffer(fx.prune) + ".")
	}
	if fx.freshID {
		u.println("You chose to " + freshIDOffer(freshIDReason(results)) + ".")
	}
	u.println("")
}

// review prepares the answers, previews apply with the chosen fixes and
// prints this host, the files, the diffs and the answers file.
func (u *plainUI) review(final *wizard.Answers, paths wizard.Paths, results []probe.Result, fx fixes) (*wizard.Prepared, *wizard.ApplyResult, error) {
	u.section("Review", "Nothing is written until you confirm.")
	u.printHost(paths, results, fx)
	prepared, err := u.o.prepare(final)
	var ve *wizard.ValidationError
	if errors.As(err, &ve) {
		u.println("Problems:")
		for _, p := range ve.Problems {
			u.println("✗ " + p.String())
		}
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, err
	}
	res, err := u.o.Apply(u.ctx, prepared, u.o.applyOptions(paths, true, len(probe.Failed(results)) > 0, fx))
	if err != nil {
		u.println("✗ " + err.Error())
		return nil, nil, err
	}
	rm := &model{st: NewStyles(true), o: u.o, paths: paths}
	rm.review.res = res
	u.println("Files:")
	u.printf("%s", rm.filesSummary(plainWidth))
	for _, w := range res.Warnings {
		if w.Warning && !skippedProbesWarning(w) {
			u.println("! " + w.String())
		}
	}
	for _, r := range u.o.dryRunWarnings(res) {
		u.printResult(r)
	}
	u.println("", "config.toml:")
	u.printf("%s", rm.renderDiff(res.ConfigTOML.Diff, "no changes", plainWidth))
	if res.DockerConfig != nil {
		u.println("", "config.json:")
		u.printf("%s", rm.renderDiff(res.DockerConfig.Diff, "no changes", plainWidth))
	}
	saved, _ := u.o.encode(final, false)
	u.println("", "Answers file (secrets as env: references):")
	u.printf("%s\n", strings.TrimRight(string(saved.Data), "\n"))
	return prepared, res, nil
}

// printResult prints one check result and, for a warning or failure,
// its hint.
func (u *plainUI) printResult(r probe.Result) {
	line := statusIcon(r.Status) + " " + r.Title
	if r.Title == "" {
		line = statusIcon(r.Status) + " " + r.ID
	}
	if r.Detail != "" {
		line += " — " + r.Detail
	}
	u.println(line)
	if r.Hint != "" && (r.Status == probe.Warn || r.Status == probe.Fail) {
		u.println("    hint: " + r.Hint)
	}
}

// runProbes runs the live checks once and prints each result as it comes
// (but those the review's "This host" block shows).
func (u *plainUI) runProbes(a *wizard.Answers, paths wizard.Paths) []probe.Result {
	u.section("Checks", "")
	if u.o.Probe == nil {
		u.println("! probes unavailable: live checks are not part of this run")
		return nil
	}
	var mu sync.Mutex
	printed := map[string]bool{}
	print := func(r probe.Result) {
		mu.Lock()
		defer mu.Unlock()
		if printed[r.ID] || ownsResult(r) {
			return
		}
		printed[r.ID] = true
		u.printResult(r)
	}
	u.println("checking…")
	results, err := u.o.Probe(u.ctx, u.o.probeAnswers(a, paths), print)
	for _, r := range results {
		print(r)
	}
	if err != nil && !isCanceled(err) {
		u.println("✗ checks failed to run: " + err.Error())
	}
	return results
}

func (u *plainUI) printRegistryWarnings(a *wizard.Answers) {
	c := a.Clone()
	c.GitLab.TLSCAFile = ""
	wizard.PruneHidden(c)
	for _, p := range c.Validate() {
		if p.Warning && strings.HasPrefix(p.Field, "registries[") {
			u.println("! " + p.String())
		}
	}
}

// askServices walks the existing services (keep, edit, remove) and offers
// to add more.
func (u *plainUI) askServices(a *wizard.Answers) error {
	var kept []wizard.Service
	for i, s := range a.Docker.Services {
		choice := "keep"
		f := huh.NewForm(huh.NewGroup(huh.NewSelect[string]().
			Title(fmt.Sprintf("Service %d: %s", i+1, serviceLine(s))).
			Options(huh.NewOption("keep", "keep"), huh.NewOption("edit", "edit"), huh.NewOption("remove", "remove")).
			Value(&choice))).WithTheme(huh.ThemeFunc(plainTheme))
		if err := u.runForm(f); err != nil {
			return err
		}
		switch choice {
		case "keep":
			kept = append(kept, s)
		case "edit":
			ns, err := u.askService(s)
			if err != nil {
				return err
			}
			kept = append(kept, ns)
		}
	}
	for {
		title := "Add a service container?"
		if len(kept) > 0 {
			title = "Add another service container?"
		}
		add, err := u.confirm(title, false)
		if err != nil {
			return err
		}
		if !add {
			break
		}
		ns, err := u.askService(wizard.Service{})
		if err != nil {
			return err
		}
		kept = append(kept, ns)
	}
	if kept == nil && a.Docker.Services != nil {
		// All removed: an empty list removes the runner's services; nil
		// would keep them.
		kept = []wizard.Service{}
	}
	a.Docker.Services = kept
	return nil
}

// askService asks the service fields on a copy of svc, as the TUI's
// service form does.
func (u *plainUI) askService(svc wizard.Service) (wizard.Service, error) {
	scratch := &wizard.Answers{Runner: wizard.Runner{Executor: "docker"}}
	scratch.Docker.Services = []wizard.Service{svc}
	advanced := len(svc.Command) > 0 || len(svc.Entrypoint) > 0 || len(svc.Environment) > 0
	var adv []wizard.Field
	for _, f := range wizard.ServiceFields(0) {
		if f.Group == "service-advanced" {
			adv = append(adv, f)
			continue
		}
		if err := u.askField(f, scratch); err != nil {
			return svc, err
		}
	}
	more, err := u.confirm("More options (command, entrypoint, environment)?", advanced)
	if err != nil {
		return svc, err
	}
	if more {
		if err := u.askFields(adv, scratch); err != nil {
			return svc, err
		}
	}
	return scratch.Docker.Services[0], nil
}

func optionName(o wizard.Option) string {
	if o.Label != "" {
		return o.Label
	}
	return o.Value
}
