// Package tui is runnerup's wizard: a bubbletea program with embedded huh
// forms that asks the questions of wizard.Steps, probes live while the user
// answers, shows a review with redacted diffs (from a dry-run apply) and
// writes through wizard.Apply. Accessible mode asks the same steps as plain
// line prompts. The package is thin: validation, rendering, diffs and
// writes all come from wizard; live checks from Options.Probe.
package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"github.com/charmbracelet/colorprofile"
	"golang.org/x/term"

	"github.com/runnerup/runnerup/wizard"
)

// ErrInterrupted is what Run's error matches (errors.Is) when the user
// stopped the wizard (Ctrl+C, the end of input in accessible mode,
// declining the write) before anything was written. The same errors also
// match context.Canceled, so the CLI maps them to exit code 130, and they
// wrap the cause (tea.ErrInterrupted, huh.ErrUserAborted, …).
var ErrInterrupted = errors.New("interrupted; nothing was written")

type interruptError struct {
	reason string
	cause  error
}

func (e *interruptError) Error() string {
	if e.reason != "" {
		return "interrupted (" + e.reason + "); nothing was written"
	}
	return ErrInterrupted.Error()
}

func (e *interruptError) Is(target error) bool {
	return target == ErrInterrupted || target == context.Canceled
}

func (e *interruptError) Unwrap() error { return e.cause }

// Options are the wizard's inputs and dependencies.
type Options struct {
	// In and Out: the TUI draws on Out (stderr in the CLI); accessible mode
	// reads lines from In and writes prompts to Out.
	In  io.Reader
	Out io.Writer
	// Accessible asks plain line prompts without an alt-screen (also used
	// when TERM=dumb).
	Accessible bool
	// NoColor draws without colour. The caller decides it, once, for the
	// whole program (the CLI: NO_COLOR, CLICOLOR_FORCE, --no-color).
	NoColor bool
	// ConfigPath and DockerConfigDir come from the flags; "" means
	// wizard.ResolvePaths defaults. Both are shown and editable on review.
	ConfigPath, DockerConfigDir string
	Env                         wizard.Env
	Hostname                    string
	Paths                       wizard.PathEnv
	// Probe runs the live checks for the current answers, calling onResult
	// for each finished check (from any goroutine). Nil: no live probes.
	Probe ProbeFunc
	// PullImages is Probe with the Docker daemon's own pull of every
	// image (probe --pull): the review offers it as one key (P), since it
	// downloads layers and leaves the images on the host. Nil: not offered.
	PullImages ProbeFunc
	// Apply writes (or previews with DryRun); nil means wizard.Apply.
	Apply func(ctx context.Context, p *wizard.Prepared, o wizard.ApplyOptions) (*wizard.ApplyResult, error)
	// ApplyOptions are passed through to Apply (NewGitLab, HTTPClient, Now…).
	ApplyOptions wizard.ApplyOptions
	// Prefill holds start values (an answers file, an existing runner,
	// the flags of `runnerup register`).
	Prefill *wizard.Answers
	// SaveAnswersPath is where the wizard offers to save the answers
	// ("": ~/.config/runnerup/NAME.toml).
	SaveAnswersPath string

	// refTokenKind is the kind of a prefilled env:/file: token, resolved
	// once before the wizard starts (see withDefaults).
	refTokenKind string
	// readFile reads file: references (nil: os.ReadFile); tests count the
	// reads to keep them off the Update path.
	readFile func(string) ([]byte, error)
}

// Outcome is what the wizard did.
type Outcome struct {
	Result *wizard.ApplyResult
	// AnswersPath is the saved answers file, "" if none was saved.
	AnswersPath string
}

// Run runs the wizard until the files are written (and the answers file
// offered), or the user stops it. Stopping before the write returns an
// error for which errors.Is(err, ErrInterrupted) holds; nothing is written
// then.
func Run(ctx context.Context, o Options) (Outcome, error) {
	o = o.withDefaults()
	if o.Accessible || o.dumbTerminal() {
		return runAccessible(ctx, o)
	}
	m := newModel(ctx, o)
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithOutput(o.Out)}
	if o.In != nil {
		opts = append(opts, tea.WithInput(o.In))
	}
	if o.NoColor {
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	}
	if !isTerminal(o.Out) {
		// Not a terminal (tests, a recording): draw at 80×24.
		opts = append(opts, tea.WithWindowSize(defaultWidth, defaultHeight))
	}
	final, err := tea.NewProgram(m, opts...).Run()
	if fm, ok := final.(*model); ok {
		m = fm
	}
	m.stopProbes()
	switch {
	case m.done:
		if text := m.finalText(); text != "" {
			fmt.Fprint(o.Out, text)
		}
		return m.outcome, nil
	case errors.Is(err, tea.ErrInterrupted), errors.Is(err, huh.ErrUserAborted),
		errors.Is(err, context.Canceled), errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil:
		return Outcome{}, interrupted(err)
	case err != nil:
		return Outcome{}, fmt.Errorf("running the wizard: %w", err)
	case m.err != nil:
		return m.outcome, m.err
	default:
		return Outcome{}, interrupted(nil)
	}
}

// interrupted is the error for a stop caused by cause (may be nil).
func interrupted(cause error) error {
	var ie *interruptError
	if errors.As(cause, &ie) {
		return ie
	}
	return &interruptError{cause: cause}
}

// interruptedBecause is the error for a stop with a reason to show.
func interruptedBecause(reason string) error {
	return &interruptError{reason: reason}
}

func (o Options) withDefaults() Options {
	if o.Out == nil {
		o.Out = os.Stderr
	}
	if o.Env == nil {
		o.Env = os.LookupEnv
	}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
	}
	if o.Paths.Env == nil && o.Paths.Home == "" && o.Paths.Cwd == "" {
		o.Paths = wizard.DefaultPathEnv()
	}
	if o.Paths.Env == nil {
		o.Paths.Env = o.Env
	}
	if o.Apply == nil {
		o.Apply = wizard.Apply
	}
	o.refTokenKind = o.prefillTokenKind()
	return o
}

// prefillTokenKind resolves a prefilled token reference (env:, file:) so
// the wizard knows whether to ask the registration-only questions; "" when
// there is none or it cannot be resolved (then they are asked).
func (o Options) prefillTokenKind() string {
	if o.Prefill == nil || !wizard.IsReference(o.Prefill.GitLab.Token) || o.Prefill.GitLab.TokenKind != "" {
		return ""
	}
	r, problems := o.resolver().Resolve(&wizard.Answers{GitLab: wizard.GitLab{Token: o.Prefill.GitLab.Token}})
	if len(problems) > 0 {
		return ""
	}
	if kind, ambiguous := wizard.ClassifyToken(r.GitLab.Token, ""); !ambiguous {
		return string(kind)
	}
	return ""
}

func (o Options) dumbTerminal() bool {
	t, _ := o.Env("TERM")
	return t == "dumb"
}

// startAnswers are the answers the wizard opens with: the prefill, with
// register's defaults (name = host name, executor docker).
func (o Options) startAnswers() *wizard.Answers {
	a := &wizard.Answers{}
	if o.Prefill != nil {
		a = o.Prefill.Clone()
	}
	if o.refTokenKind != "" {
		// Declared so the token's questions follow the referenced value;
		// it matches the prefix, so validation accepts it.
		a.GitLab.TokenKind = o.refTokenKind
	}
	a.ApplyDefaults(o.Hostname)
	return a
}

// targetPaths are the files the answers go to before the user edits them.
func (o Options) targetPaths(a *wizard.Answers) wizard.Paths {
	p, _ := wizard.ResolvePaths(a.Output, o.ConfigPath, o.DockerConfigDir, o.Paths)
	return p
}

// finalAnswers are the answers as prepared and saved: hidden questions
// cleared, registries with method none dropped, and [output] set when the
// chosen paths are not the runner's defaults. leftOut says which answers
// were dropped because their step no longer applies.
func (o Options) finalAnswers(a *wizard.Answers, paths wizard.Paths) (final *wizard.Answers, leftOut []string) {
	f := a.Clone()
	leftOut = wizard.PruneHidden(f)
	def, _ := wizard.ResolvePaths(wizard.Output{}, "", "", o.Paths)
	f.Output = wizard.Output{}
	if filepath.Clean(paths.ConfigTOML) != filepath.Clean(def.ConfigTOML) {
		f.Output.ConfigTOML = paths.ConfigTOML
	}
	if filepath.Clean(paths.DockerConfigDir) != filepath.Clean(def.DockerConfigDir) {
		f.Output.DockerConfig = paths.DockerConfigDir
	}
	if c := f.GitLab.Create; c != nil && c.APIToken == "" {
		// Left empty: the token in the environment, named as glab names
		// it, so saved answers replay with it.
		c.APIToken = "env:" + o.apiTokenEnv()
	}
	return f, leftOut
}

// apiTokenEnv is the variable an API token is read from at apply time:
// the glab variable that holds one now, else GITLAB_TOKEN.
func (o Options) apiTokenEnv() string {
	if name := wizard.APITokenEnv(o.Env); name != "" {
		return name
	}
	return "GITLAB_TOKEN"
}

// encode is wizard.Encode for the wizard's answers, except that an API
// token is always saved as an env: reference, secrets in clear or not: it
// is the user's own credential, needed again only to re-check settings,
// and it never goes into a file (wizard.Encode makes the other secrets
// references unless secrets is set).
func (o Options) encode(final *wizard.Answers, secrets bool) (wizard.SavedAnswers, error) {
	out := final
	if c := final.GitLab.Create; c != nil && c.APIToken != "" && !wizard.IsReference(c.APIToken) {
		out = final.Clone()
		out.GitLab.Create.APIToken = "env:" + o.apiTokenEnv()
	}
	return wizard.Encode(out, secrets)
}

// resolver resolves env:/file: references the way apply will.
func (o Options) resolver() wizard.Resolver {
	read := o.readFile
	if read == nil {
		read = os.ReadFile
	}
	return wizard.Resolver{LookupEnv: o.Env, ReadFile: read, BaseDir: o.Paths.Cwd}
}

// applyOptions are the options for one Apply call. The review's dry run
// plans the checks as the write runs them but runs only the host checks
// (LiveChecksDone): it is there for the diffs and the plan, and the
// checklist comes from Options.Probe. skipProbes skips apply's own live
// checks, on the write when the user chose to write although checks
// failed, and so in the dry run before it. fx are the fixes the user chose
// on the review; the dry run and the write get the same ones, so the
// write does what the diff showed.
func (o Options) applyOptions(paths wizard.Paths, dryRun, skipProbes bool, fx fixes) wizard.ApplyOptions {
	ao := o.ApplyOptions
	ao.ConfigPath, ao.DockerConfigDir, ao.DryRun = paths.ConfigTOML, paths.DockerConfigDir, dryRun
	fx.set(&ao)
	ao.LiveChecksDone = dryRun
	if skipProbes {
		ao.SkipProbes = true
	}
	if ao.Env == nil {
		ao.Env = o.Env
	}
	if ao.Hostname == "" {
		ao.Hostname = o.Hostname
	}
	if ao.Paths.Env == nil && ao.Paths.Home == "" {
		ao.Paths = o.Paths
	}
	return ao
}

// prepare resolves and validates final answers (may read file: references).
func (o Options) prepare(final *wizard.Answers) (*wizard.Prepared, error) {
	return wizard.PrepareAnswers(final, nil, o.resolver(), o.Hostname)
}

// probeAnswers are the answers handed to Probe: references resolved when
// they can be, hidden questions cleared, and [output] set to the paths
// about to be written, so the host checks read that config.toml.
func (o Options) probeAnswers(a *wizard.Answers, paths wizard.Paths) *wizard.Answers {
	f := a.Clone()
	holdIncompleteLogins(f)
	wizard.PruneHidden(f)
	f.Output = wizard.Output{ConfigTOML: paths.ConfigTOML, DockerConfig: paths.DockerConfigDir}
	if r, problems := o.resolver().Resolve(f); len(problems) == 0 {
		f = r
	}
	return f
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
