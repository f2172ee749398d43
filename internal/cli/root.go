// Package cli wires runnerup's cobra commands to the wizard, probe and
// render packages. Each command has an Options struct, a NewCmdX
// constructor and an xRun function, so tests can drive them with buffers.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/runnerup/runnerup/internal/systemid"
	"github.com/runnerup/runnerup/wizard"
)

// Build information, set with -ldflags by goreleaser.
var (
	Version = "dev"
	Commit  = "none"
	Date    = "unknown"
)

// Deps are what commands need from the outside world.
type Deps struct {
	IO *IOStreams
	// DetectService finds the gitlab-runner service of this host and
	// MachineID reads its machine id; nil in tests that construct Deps
	// by hand, so they never see the machine they run on.
	DetectService wizard.DetectFunc
	MachineID     func() (string, error)
}

const exitCodesHelp = `Exit codes:
  0    success, nothing wrong
  1    unexpected internal error
  2    invalid input (flags, answers file, config file); nothing written
  3    a blocking check failed (GitLab, daemon, registry); nothing written
  4    a write failed; previous files intact
  130  interrupted; nothing written`

// NewRootCmd builds the command tree.
func NewRootCmd(d *Deps) *cobra.Command {
	var noColor, showVersion bool
	wopts := &WizardOptions{IO: d.IO, detect: d.DetectService, machineID: d.MachineID}
	root := &cobra.Command{
		Use:   "runnerup",
		Short: "Set up a GitLab Runner whose jobs can pull their images",
		Long: `runnerup takes you from a GitLab URL and a runner token to a GitLab Runner
whose jobs can actually pull their images: it writes config.toml (merged, never
clobbered) and Docker's config.json, and checks GitLab, the Docker daemon and
your registries on the way.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if noColor {
				d.IO.SetColor(false)
			}
			return useConfigFileEnv(cmd, os.LookupEnv)
		},
		// Bare `runnerup` in a terminal is the wizard; elsewhere it shows
		// help, because nobody asked for prompts on a pipe.
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if showVersion {
				_, err := fmt.Fprintln(d.IO.Out, versionLine())
				return err
			}
			if !d.IO.CanPrompt() && !wopts.Accessible {
				return cmd.Help()
			}
			return wizardRun(cmd.Context(), wopts)
		},
	}
	addWizardFlags(root, wopts)
	root.PersistentFlags().BoolVar(&noColor, "no-color", false, "disable colour (also NO_COLOR)")
	// --version, as gh, glab, docker and gitlab-runner have it. Not cobra's
	// Version field: printing it our way needs SetVersionTemplate, and
	// executing any text/template turns off the linker's removal of unused
	// methods (+3.7 MB).
	// -v too, as gitlab-runner -v, docker -v and glab -v (runnerup has no
	// verbose flag).
	root.Flags().BoolVarP(&showVersion, "version", "v", false, "print runnerup's version")
	root.SetOut(d.IO.Out)
	root.SetErr(d.IO.ErrOut)
	root.SetIn(d.IO.In)
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(NewCmdApply(d, nil), NewCmdProbe(d, nil), NewCmdCheck(d, nil), NewCmdDiagnose(d, nil), NewCmdWizard(d), NewCmdVersion(d))
	root.AddCommand(NewCmdRegister(d, nil))
	strictHelpAndCompletion(root)
	return root
}

// strictHelpAndCompletion makes `completion SHELL` and `help COMMAND` with
// an unknown argument usage errors (exit 2) naming it; cobra's own answer
// is a help page and exit 0. The two commands are made now (cobra would on
// Execute) so they can be adjusted.
func strictHelpAndCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	root.InitDefaultHelpCmd()
	for _, c := range root.Commands() {
		switch c.Name() {
		case "completion":
			c.Args = func(cmd *cobra.Command, args []string) error {
				if len(args) > 0 {
					return &FlagError{Err: fmt.Errorf("runnerup cannot make a completion script for %q: give bash, zsh, fish or powershell", args[0])}
				}
				return nil
			}
			c.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
		case "help":
			show := c.Run
			c.Run = nil
			c.RunE = func(cmd *cobra.Command, args []string) error {
				// Left-over words name no command (the root takes no
				// arguments, so Find does not complain itself).
				if found, rest, err := cmd.Root().Find(args); err != nil || found == nil || len(rest) > 0 {
					return &FlagError{Err: fmt.Errorf("no help topic %q: runnerup's commands are listed by 'runnerup --help'", strings.Join(args, " "))}
				}
				show(cmd, args)
				return nil
			}
		}
	}
}

// Main runs runnerup and returns its exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d := &Deps{IO: System(), DetectService: detectService, MachineID: systemid.MachineID}
	cmd, err := NewRootCmd(d).ExecuteContextC(ctx)
	if err != nil && ctx.Err() != nil {
		err = context.Canceled
	}
	printError(d.IO, err, cmd)
	return ExitCode(err)
}

// printError prints err for the command that was run (nil: the root).
func printError(io *IOStreams, err error, cmd *cobra.Command) {
	var silent *SilentError
	if err == nil || errors.As(err, &silent) {
		return
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(io.ErrOut, "interrupted; nothing was written")
		return
	}
	fmt.Fprintln(io.ErrOut, "error:", err)
	var fe *FlagError
	if errors.As(err, &fe) {
		path := "runnerup"
		if cmd != nil {
			path = cmd.CommandPath()
		}
		fmt.Fprintf(io.ErrOut, "run '%s --help' for usage\n", path)
	}
}

// noArgs is cobra.NoArgs with the documented exit code for usage errors.
func noArgs(cmd *cobra.Command, args []string) error {
	if err := cobra.NoArgs(cmd, args); err != nil {
		return &FlagError{Err: err}
	}
	return nil
}
