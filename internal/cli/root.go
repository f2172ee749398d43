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
	root.Flags().BoolVar(&showVersion, "version", false, "print runnerup's version")
	root.SetOut(d.IO.Out)
	root.SetErr(d.IO.ErrOut)
	root.SetIn(d.IO.In)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &FlagError{Err: err} })
	root.AddCommand(NewCmdApply(d, nil), NewCmdProbe(d, nil), NewCmdCheck(d, nil), NewCmdDiagnose(d, nil), NewCmdWizard(d), NewCmdVersion(d))
	root.AddCommand(NewCmdRegister(d, nil))
	return root
}

// Main runs runnerup and returns its exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d := &Deps{IO: System(), DetectService: detectService, MachineID: systemid.MachineID}
	err := NewRootCmd(d).ExecuteContext(ctx)
	if err != nil && ctx.Err() != nil {
		err = context.Canceled
	}
	printError(d.IO, err)
	return ExitCode(err)
}

func printError(io *IOStreams, err error) {
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
		fmt.Fprintln(io.ErrOut, "run 'runnerup --help' for usage")
	}
}

// noArgs is cobra.NoArgs with the documented exit code for usage errors.
func noArgs(cmd *cobra.Command, args []string) error {
	if err := cobra.NoArgs(cmd, args); err != nil {
		return &FlagError{Err: err}
	}
	return nil
}
