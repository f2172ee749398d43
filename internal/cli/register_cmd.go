package cli

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/runnerup/runnerup/internal/safewrite"
	"github.com/runnerup/runnerup/tui"
	"github.com/runnerup/runnerup/wizard"
)

// RegisterOptions are `runnerup register`'s own flags; gitlab-runner
// register's flags are in Args.
type RegisterOptions struct {
	Apply       ApplyOptions
	SaveAnswers string
	Args        []string
	Help        bool
	// Env reads gitlab-runner register's environment variables (nil: the
	// process's).
	Env wizard.Env
	// runTUI runs the wizard register opens in a terminal (nil: tui.Run).
	runTUI func(context.Context, tui.Options) (tui.Outcome, error)
}

// runnerupRegisterFlags are runnerup's flags inside `runnerup register`;
// none of them is a gitlab-runner register flag name.
var runnerupRegisterFlags = map[string]bool{
	"dry-run": false, "offline": false, "skip-probes": false, "replace-token": false,
	"output": true, "o": true, "docker-config": true, "timeout": true, "save-answers": true,
	"help": false, "h": false,
}

// NewCmdRegister builds `runnerup register`: gitlab-runner register's
// flags and environment, turned into answers and applied like apply does.
func NewCmdRegister(d *Deps, runF func(context.Context, *RegisterOptions) error) *cobra.Command {
	opts := &RegisterOptions{Apply: ApplyOptions{IO: d.IO, detect: d.DetectService, machineID: d.MachineID, Output: "text", Timeout: 10 * time.Second}}
	cmd := &cobra.Command{
		Use:   "register [gitlab-runner register flags]",
		Short: "gitlab-runner register's flags and environment, applied the runnerup way (merge, never rewrite)",
		Long: `register takes the flags and environment variables of 'gitlab-runner register'
(--url, --token or --registration-token, --executor, --docker-image, --tag-list,
--template-config, …, and CI_SERVER_URL, CI_SERVER_TOKEN, REGISTRATION_TOKEN,
RUNNER_EXECUTOR, DOCKER_IMAGE, …), turns them into answers and applies them: the
runner entry is merged into config.toml (comments and other runners stay), the
live checks run, and writes are atomic. Precedence is the runner's: flag, then
environment variable, then --template-config. Template keys runnerup does not
manage ([runners.cache.s3], feature_flags, …) are written into the entry too.

A flag runnerup cannot honour is an error (exit 2) naming it and the alternative.
Without --non-interactive, in a terminal, register opens the wizard with the
values given filled in (where gitlab-runner register would ask its questions);
without a terminal it refuses (exit 2) rather than read answers from stdin.
--dry-run, --offline, --skip-probes, --replace-token and -o json need
--non-interactive.

runnerup's own flags: --dry-run, -o/--output text|json, --docker-config DIR,
--timeout, --skip-probes (no live checks; GitLab still verifies or registers),
--offline (contacts nothing: a --token is written unverified, a
--registration-token is refused), --replace-token, --save-answers FILE (the
equivalent answers file, secrets as env: references; written only after an
apply that succeeded, never with --dry-run).

` + exitCodesHelp,
		Example: `  runnerup register --non-interactive --url https://gitlab.example.com \
    --token "$RUNNER_TOKEN" --executor docker --docker-image alpine:3.20 \
    --description build-01 --save-answers runner.toml`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := splitRegisterArgs(args, opts); err != nil {
				return err
			}
			if err := checkDockerConfigDir(opts.Apply.DockerConfigDir); err != nil {
				return err
			}
			if opts.Help {
				return cmd.Help()
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return registerRun(cmd.Context(), opts)
		},
	}
	return cmd
}

// splitRegisterArgs takes runnerup's own flags out of args; the rest are
// gitlab-runner register's.
func splitRegisterArgs(args []string, opts *RegisterOptions) error {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		takesValue, ours := runnerupRegisterFlags[name]
		if !strings.HasPrefix(arg, "-") || !ours {
			opts.Args = append(opts.Args, arg)
			continue
		}
		if takesValue && !hasValue {
			if i+1 >= len(args) {
				return &FlagError{Err: fmt.Errorf("--%s needs a value", name)}
			}
			i++
			value = args[i]
		}
		a := &opts.Apply
		switch name {
		case "dry-run":
			a.DryRun = value != "false"
		case "offline":
			a.Offline = value != "false"
		case "skip-probes":
			a.SkipProbes = value != "false"
		case "replace-token":
			a.ReplaceToken = value != "false"
		case "output", "o":
			if value != "text" && value != "json" {
				return &FlagError{Err: fmt.Errorf("--output must be text or json, not %q", value)}
			}
			a.Output = value
		case "docker-config":
			a.DockerConfigDir = value
		case "timeout":
			d, err := time.ParseDuration(value)
			if err != nil || d <= 0 {
				return &FlagError{Err: fmt.Errorf("--timeout must be a positive duration, not %q", value)}
			}
			a.Timeout = d
		case "save-answers":
			opts.SaveAnswers = value
		case "help", "h":
			opts.Help = true
		}
	}
	return nil
}

func registerRun(ctx context.Context, opts *RegisterOptions) error {
	a := &opts.Apply
	w, printer := applyWizardOptions(a)
	env := opts.Env
	if env == nil {
		env = w.Env
	}
	// Files named by flags and env:/file: references are read as every
	// answers file's are.
	resolver := wizard.DefaultResolver("")
	resolver.LookupEnv = env
	in, err := wizard.ParseRegisterArgs(opts.Args, env, resolver.ReadFile)
	if err != nil {
		var rf *wizard.RegisterFlagError
		if errors.As(err, &rf) {
			err = &FlagError{Err: err}
		}
		return reportError(a.IO, a.Output, err)
	}
	if !in.NonInteractive {
		if a.IO.CanPrompt() {
			// Where gitlab-runner register asks its questions one by one,
			// runnerup opens the wizard with what was given filled in.
			return registerWizard(ctx, opts, in)
		}
		// Without a terminal gitlab-runner register would read answers
		// from stdin; runnerup refuses instead of half-asking.
		msg := "runnerup register without a terminal asks no questions: add --non-interactive (or REGISTER_NON_INTERACTIVE=true) and give every value as a flag"
		return reportError(a.IO, a.Output, &FlagError{Err: errors.New(msg)})
	}
	for _, req := range []struct {
		set  bool
		flag string
	}{
		{in.Answers.GitLab.URL != "", "--url (CI_SERVER_URL)"},
		{in.Answers.GitLab.Token != "", "--token (CI_SERVER_TOKEN) or --registration-token (REGISTRATION_TOKEN)"},
		{in.Answers.Runner.Executor != "", "--executor (RUNNER_EXECUTOR)"},
	} {
		if !req.set {
			// gitlab-runner register --non-interactive stops the same way.
			return reportError(a.IO, a.Output, &FlagError{Err: fmt.Errorf("%s is required", req.flag)})
		}
	}
	if in.ConfigPath != "" {
		a.ConfigPath = in.ConfigPath
	}
	w.ConfigPath = a.ConfigPath
	w.LeaveRunner = in.LeaveRunner
	prepared, err := wizard.PrepareAnswers(in.Answers, nil, resolver, w.Hostname)
	if err != nil {
		return reportError(a.IO, a.Output, err)
	}
	prepared.Warnings = append(prepared.Warnings, in.Warnings...)
	if err := applyPrepared(ctx, a, w, printer, prepared); err != nil {
		return err
	}
	// The answers are saved once they worked: not when apply failed, and
	// not in a dry run (which writes nothing).
	switch {
	case opts.SaveAnswers == "":
	case a.DryRun:
		if a.Output == "text" {
			fmt.Fprintf(a.IO.ErrOut, "--dry-run: answers not saved to %s (they are saved after an apply that succeeds)\n", opts.SaveAnswers)
		}
	default:
		if err := saveRegisterAnswers(opts.SaveAnswers, prepared.Raw, a); err != nil {
			return reportError(a.IO, a.Output, fmt.Errorf("config.toml is applied, but saving the answers failed: %w", err))
		}
	}
	return nil
}

// registerWizard is `runnerup register` without --non-interactive in a
// terminal: the wizard, prefilled with the flags and environment given, so
// the user answers only what is missing and sees the review before the
// write. runnerup's own flags that only make sense headless are refused.
func registerWizard(ctx context.Context, opts *RegisterOptions, in *wizard.RegisterInput) error {
	a := &opts.Apply
	for _, c := range []struct {
		set        bool
		flag, what string
	}{
		{a.DryRun, "--dry-run", "the wizard's review is its dry run: nothing is written until you press w"},
		{a.Offline, "--offline", "the wizard checks every answer live"},
		{a.SkipProbes, "--skip-probes", "the wizard checks every answer live, and its review writes even when a check failed if you confirm"},
		{a.ReplaceToken, "--replace-token", "the wizard edits a runner of config.toml with its own token"},
		{a.Output == "json", "--output json", "the wizard draws on the terminal"},
	} {
		if c.set {
			return reportError(a.IO, "text", &FlagError{Err: fmt.Errorf("%s needs --non-interactive (%s); without it runnerup register opens the wizard", c.flag, c.what)})
		}
	}
	configPath := a.ConfigPath
	if in.ConfigPath != "" {
		configPath = in.ConfigPath
	}
	err := wizardRun(ctx, &WizardOptions{
		IO: a.IO, ConfigPath: configPath, DockerConfigDir: a.DockerConfigDir, Timeout: a.Timeout,
		detect: a.detect, machineID: a.machineID, prefill: in.Answers, saveAnswers: opts.SaveAnswers,
		leaveRunner: in.LeaveRunner, runTUI: opts.runTUI,
	})
	// What the flags did silently (values from the environment, dropped
	// executor tables) is said after the wizard left the screen.
	for _, w := range in.Warnings {
		fmt.Fprintln(a.IO.ErrOut, "! "+w.String())
	}
	return err
}

// saveRegisterAnswers writes the answers equivalent to the command line:
// secrets as env: references (the variable they came from, or a suggested
// name), so the one-off command becomes `runnerup apply --answers FILE`.
func saveRegisterAnswers(path string, raw *wizard.Answers, a *ApplyOptions) error {
	out := raw.Clone()
	if a.ConfigPath != "" {
		out.Output.ConfigTOML = a.ConfigPath
	}
	saved, err := wizard.Encode(out, false)
	if err != nil {
		return err
	}
	if _, err := safewrite.Write(safewrite.File{Path: path, Data: saved.Data, Mode: 0o600}, safewrite.Options{NoBackup: false}); err != nil {
		return err
	}
	if a.Output == "text" {
		fmt.Fprintf(a.IO.ErrOut, "saved the answers to %s", path)
		if len(saved.EnvVars) > 0 {
			names := slices.Sorted(maps.Keys(saved.EnvVars))
			fmt.Fprintf(a.IO.ErrOut, " (set %s before `runnerup apply --answers %s`)", strings.Join(names, ", "), path)
		}
		fmt.Fprintln(a.IO.ErrOut)
	}
	return nil
}
