package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/wizard"
)

// ApplyOptions are `runnerup apply`'s flags and dependencies.
type ApplyOptions struct {
	IO *IOStreams

	AnswersPath     string
	ConfigPath      string
	DockerConfigDir string
	DryRun          bool
	// DiffTexts adds each changed file's redacted before and after texts
	// to -o json (config_toml.before/after), for Ansible's diff mode.
	DiffTexts    bool
	ReplaceToken bool
	SkipProbes   bool
	// Offline contacts nothing (no verify, register, create, live checks).
	Offline bool
	Output  string
	Timeout time.Duration
	// PrintRegisterCommand prints the gitlab-runner register equivalent of the answers and stops.
	PrintRegisterCommand bool
	PruneStale           bool
	PruneDuplicates      bool
	PruneEmpty           bool
	FreshSystemID        bool
	Recreate             bool
	// WaitContact bounds the wait for the running runner to contact
	// GitLab after the write (0: do not wait).
	WaitContact time.Duration

	detect    wizard.DetectFunc
	machineID func() (string, error)

	// Wizard holds the injectable parts of wizard.Apply (tests point them
	// at fakes); zero values mean the real ones.
	Wizard wizard.ApplyOptions
}

// NewCmdApply builds `runnerup apply`. runF replaces the run function in
// tests that check flag parsing only.
func NewCmdApply(d *Deps, runF func(context.Context, *ApplyOptions) error) *cobra.Command {
	opts := &ApplyOptions{IO: d.IO, detect: d.DetectService, machineID: d.MachineID}
	cmd := &cobra.Command{
		Use:   "apply --answers FILE",
		Short: "Replay an answers file headless: validate, register, write config.toml and config.json",
		Long: `apply reads an answers file (the wizard saves one; see the README for every key),
validates it, registers or verifies the runner with GitLab, and merges the result
into config.toml and Docker's config.json. Re-applying the same answers changes
nothing and never registers a second runner.

String values may be env:NAME or file:PATH references, resolved at apply time.

` + exitCodesHelp,
		Example: `  RUNNER_TOKEN=glrt-… runnerup apply --answers runner.toml --dry-run
  runnerup apply --answers runner.toml -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			args, err := takeDurationAfterSpace(cmd, "wait-contact", args)
			if err != nil {
				return err
			}
			return noArgs(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.AnswersPath == "" {
				return &FlagError{Err: errors.New("--answers FILE is required")}
			}
			if err := checkOutputAndTimeout(opts.Output, opts.Timeout); err != nil {
				return err
			}
			if opts.PrintRegisterCommand && opts.Output == "json" {
				return &FlagError{Err: errors.New("--print-register-command prints shell commands; it cannot be combined with -o json")}
			}
			if err := checkDockerConfigDir(opts.DockerConfigDir); err != nil {
				return err
			}
			if opts.PruneStale && (opts.SkipProbes || opts.Offline) {
				return &FlagError{Err: errors.New("--prune-stale asks GitLab which entries are stale; it cannot be combined with --skip-probes/--offline")}
			}
			if opts.WaitContact > 0 && opts.Offline {
				return &FlagError{Err: errors.New("--wait-contact asks GitLab when the runner last contacted it; --offline contacts nothing")}
			}
			if opts.WaitContact < 0 {
				return &FlagError{Err: errors.New("--wait-contact must be positive")}
			}
			if opts.DiffTexts && opts.Output != "json" {
				return &FlagError{Err: errors.New("--diff-texts adds the redacted files to the JSON result: use it with -o json (the text output prints the diff)")}
			}
			if opts.WaitContact > 0 && opts.DryRun {
				return &FlagError{Err: errors.New("--wait-contact waits for the runner to pick up written files; --dry-run writes nothing")}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return applyRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.AnswersPath, "answers", "", "answers file to replay (TOML)")
	f.StringVarP(&opts.ConfigPath, "config", "c", "", "config.toml to write (default: the runner's, /etc/gitlab-runner/config.toml for root, ~/.gitlab-runner/config.toml otherwise)")
	f.StringVar(&opts.DockerConfigDir, "docker-config", "", "directory of the config.json to write (default: ~/.docker of this user; the runner ignores DOCKER_CONFIG)")
	f.BoolVar(&opts.DryRun, "dry-run", false, "show the redacted diff and write nothing (never registers)")
	f.BoolVar(&opts.DiffTexts, "diff-texts", false, "with -o json: also each changed file's whole text before and after, redacted like the diff (Ansible's diff mode)")
	f.BoolVar(&opts.ReplaceToken, "replace-token", false, "write the answers' token even when config.toml holds a different one (e.g. rotated)")
	f.BoolVar(&opts.SkipProbes, "skip-probes", false, "write without the live checks of GitLab, the daemon and registries (warns); GitLab is still called to verify, register or create the runner")
	f.BoolVar(&opts.Offline, "offline", false, "contact nothing: no verify, register, create or live checks (only local host checks); a new runner's authentication token is written unverified (warns); a registration token or [gitlab.create] for a runner not yet in config.toml is refused (exit 2)")
	f.StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	f.DurationVar(&opts.Timeout, "timeout", 10*time.Second, "deadline for each network call and live check")
	f.BoolVar(&opts.PruneStale, "prune-stale", false, "remove [[runners]] entries whose token GitLab rejects (403: deleted runners); the previous file is kept as a backup")
	f.BoolVar(&opts.PruneDuplicates, "prune-duplicates", false, "remove later copies of an entry with the same url and token (the first stays: the runner rotates its token; the answers' entry always stays); with a backup")
	f.BoolVar(&opts.PruneEmpty, "prune-empty", false, "remove [[runners]] entries without a token (the runner skips them); with a backup")
	f.BoolVar(&opts.FreshSystemID, "fresh-system-id", false, "write a new random r_ system id (for a cloned disk or image whose id other hosts share)")
	f.BoolVar(&opts.Recreate, "recreate", false, "[gitlab.create]: when GitLab rejects the token config.toml holds for the runner (deleted in GitLab), create it again and replace that entry's id and token")
	f.DurationVar(&opts.WaitContact, "wait-contact", 0, "after writing, wait until the running runner contacts GitLab: --wait-contact (60s) or --wait-contact DURATION; needs GITLAB_TOKEN with read_api")
	f.Lookup("wait-contact").NoOptDefVal = "60s"
	f.BoolVar(&opts.PrintRegisterCommand, "print-register-command", false, "print the equivalent 'gitlab-runner register' commands (secrets as shell variables) and exit; contacts nothing, writes nothing")
	return cmd
}

func applyRun(ctx context.Context, opts *ApplyOptions) error {
	w, printer := applyWizardOptions(opts)
	prepared, err := wizard.Prepare(opts.AnswersPath, w.Env, w.Hostname)
	if err != nil {
		return reportError(opts.IO, opts.Output, err)
	}
	return applyPrepared(ctx, opts, w, printer, prepared)
}

// applyWizardOptions fills wizard.Apply's options from the flags.
func applyWizardOptions(opts *ApplyOptions) (wizard.ApplyOptions, *checklistPrinter) {
	w := withDefaults(opts.Wizard, opts.detect, opts.machineID)
	w.ConfigPath, w.DockerConfigDir = opts.ConfigPath, opts.DockerConfigDir
	w.DryRun, w.ReplaceToken, w.Timeout, w.SkipProbes, w.Offline = opts.DryRun, opts.ReplaceToken, opts.Timeout, opts.SkipProbes, opts.Offline
	w.DiffTexts = opts.DiffTexts
	w.PruneStale, w.FreshSystemID, w.Recreate = opts.PruneStale, opts.FreshSystemID, opts.Recreate
	w.PruneDuplicates, w.PruneEmpty = opts.PruneDuplicates, opts.PruneEmpty
	w.Probe.Timeout = opts.Timeout
	var printer *checklistPrinter
	if opts.Output == "text" {
		printer = &checklistPrinter{w: opts.IO.ErrOut, color: opts.IO.ColorEnabled()}
		w.Probe.OnResult = printer.print
	}
	return w, printer
}

// applyPrepared is apply from validated answers on: `runnerup apply` and
// `runnerup register` share it, with the same output and exit codes.
func applyPrepared(ctx context.Context, opts *ApplyOptions, w wizard.ApplyOptions, printer *checklistPrinter, prepared *wizard.Prepared) error {
	var contactToken string
	var err error
	if opts.WaitContact > 0 && !opts.DryRun {
		// GITLAB_TOKEN is read like glab reads it; an injected environment
		// (tests) falls back to the process's.
		env := func(n string) (string, bool) {
			if v, ok := w.Env(n); ok {
				return v, ok
			}
			return os.LookupEnv(n)
		}
		if contactToken, err = wizard.ContactToken(prepared, env); err != nil {
			return reportError(opts.IO, opts.Output, err)
		}
		if contactToken == "" {
			return reportError(opts.IO, opts.Output, &FlagError{Err: errors.New("--wait-contact needs GITLAB_TOKEN: GitLab reports when a runner last contacted it only through its REST API (GET /runners/:id/managers), which the runner token cannot read; export GITLAB_TOKEN (or GITLAB_ACCESS_TOKEN) with a personal, project or group access token that has read_api")})
		}
	}
	if opts.PrintRegisterCommand {
		if err := printPreparedRegisterCommands(opts.IO.Out, prepared); err != nil {
			return reportError(opts.IO, opts.Output, err)
		}
		return nil
	}
	res, err := wizard.Apply(ctx, prepared, w)
	if err != nil {
		return reportError(opts.IO, opts.Output, err)
	}
	var contact *probe.Result
	if opts.WaitContact > 0 && !res.DryRun {
		if printer != nil {
			printApplyText(opts.IO, res)
			fmt.Fprintf(opts.IO.ErrOut, "waiting up to %s for the runner to contact GitLab…\n", opts.WaitContact)
		}
		g := prepared.Resolved.GitLab
		r := wizard.WaitContact(ctx, res, g.URL, g.TLSCAFile, contactToken, time.Now(), opts.WaitContact, w)
		contact = &r
		res.Checks = append(res.Checks, r)
		if printer != nil {
			printer.print(r)
		}
	}
	switch {
	case opts.Output == "json":
		if err := writeJSON(opts.IO.Out, res); err != nil {
			return err
		}
	case contact == nil:
		printApplyText(opts.IO, res)
	}
	if contact != nil && contact.Status == probe.Fail {
		// The files are written; automation still learns that the runner
		// is not up.
		return &SilentError{Code: ExitCheckFailed}
	}
	return nil
}

// reportError prints an error in the chosen format and returns a
// SilentError carrying its exit code.
func reportError(io *IOStreams, format string, err error) error {
	code := ExitCode(err)
	if code == ExitInterrupted {
		return err
	}
	if format == "json" {
		out := map[string]any{"ok": false, "error": err.Error(), "exit_code": code}
		var ve *wizard.ValidationError
		if errors.As(err, &ve) {
			out["problems"] = ve.Problems
		}
		var ce *wizard.CheckError
		if errors.As(err, &ce) {
			out["check"] = map[string]string{"id": ce.Check, "problem": ce.Problem, "hint": ce.Hint}
			if ce.Results != nil {
				out["checks"] = ce.Results
			}
		}
		_ = writeJSON(io.Out, out)
	} else {
		fmt.Fprintln(io.ErrOut, "error:", err)
	}
	return &SilentError{Code: code}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printApplyText(ios *IOStreams, res *wizard.ApplyResult) {
	printWarnings(ios, res.Warnings)
	r := res.Runner
	idText := ""
	if r.ID != 0 {
		idText = fmt.Sprintf(", id %d", r.ID)
	}
	fmt.Fprintf(ios.Out, "runner %q (%s%s): %s; system id %s\n", r.Name, r.Token, idText, r.Action, r.SystemID)
	printCreation(ios, res)
	files := []*wizard.FileChange{&res.ConfigTOML}
	if res.DockerConfig != nil {
		files = append(files, res.DockerConfig)
	}
	if res.DryRun {
		if res.Plan != nil {
			fmt.Fprintln(ios.Out, "plan:", res.Plan)
		}
		for _, f := range files {
			if f.Diff != "" {
				fmt.Fprint(ios.Out, f.Diff)
			}
		}
		printPruned(ios, res)
		if !res.Changed {
			fmt.Fprintln(ios.Out, "no changes")
		} else {
			fmt.Fprintln(ios.Out, "dry run: nothing written")
		}
		return
	}
	if !res.Changed {
		fmt.Fprintln(ios.Out, "no changes")
		return
	}
	for _, f := range files {
		switch {
		case !f.Changed:
			fmt.Fprintf(ios.Out, "unchanged %s\n", f.Path)
		case f.Backup != "":
			fmt.Fprintf(ios.Out, "wrote %s (previous version kept as %s)\n", f.Path, f.Backup)
		default:
			fmt.Fprintf(ios.Out, "wrote %s\n", f.Path)
		}
	}
	if res.SystemID != nil {
		fmt.Fprintf(ios.Out, "wrote %s\n", res.SystemID.Path)
	}
	printPruned(ios, res)
	for _, n := range res.NextSteps {
		fmt.Fprintln(ios.Out, "next:", n)
	}
}

func printPruned(ios *IOStreams, res *wizard.ApplyResult) {
	verb := "removed"
	if res.DryRun {
		verb = "would remove"
	}
	for _, p := range res.Pruned {
		switch p.Reason {
		case wizard.PruneDuplicate:
			fmt.Fprintf(ios.Out, "%s duplicate runner %q (%s, %s): a copy of entry %d %q, the one GitLab Runner rotates the token of, from %s\n",
				verb, p.Name, p.Token, p.URL, p.DuplicateOf.Entry, p.DuplicateOf.Name, res.ConfigTOML.Path)
		case wizard.PruneEmptyToken:
			fmt.Fprintf(ios.Out, "%s runner %q without a token (%s) from %s\n", verb, p.Name, p.URL, res.ConfigTOML.Path)
		default:
			fmt.Fprintf(ios.Out, "%s stale runner %q (%s, %s) from %s\n", verb, p.Name, p.Token, p.URL, res.ConfigTOML.Path)
		}
	}
}
