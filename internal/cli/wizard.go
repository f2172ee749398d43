package cli

import (
	"context"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/service"
	"github.com/runnerup/runnerup/tui"
	"github.com/runnerup/runnerup/wizard"
)

// WizardOptions are `runnerup wizard`'s flags.
type WizardOptions struct {
	IO              *IOStreams
	Accessible      bool
	AnswersPath     string
	ConfigPath      string
	DockerConfigDir string
	Timeout         time.Duration

	detect    wizard.DetectFunc
	machineID func() (string, error)
	// prefill starts the wizard from answers (runnerup register's flags);
	// saveAnswers is where it offers to save them.
	prefill     *wizard.Answers
	saveAnswers string
	// leaveRunner: register --leave-runner (a runner registered with a
	// registration token stays in GitLab if the write fails).
	leaveRunner bool
	// runTUI runs the wizard (nil: tui.Run); tests capture its options.
	runTUI func(context.Context, tui.Options) (tui.Outcome, error)
}

func addWizardFlags(cmd *cobra.Command, opts *WizardOptions) {
	f := cmd.Flags()
	f.BoolVar(&opts.Accessible, "accessible", false, "plain line prompts, no full-screen UI (screen readers, dumb terminals; automatic without a terminal)")
	f.StringVar(&opts.AnswersPath, "answers", "", "start from this answers file")
	f.StringVarP(&opts.ConfigPath, "config", "c", "", "config.toml to write (default: the runner's own path)")
	f.StringVar(&opts.DockerConfigDir, "docker-config", "", "directory of the config.json to write (default: ~/.docker; the runner ignores DOCKER_CONFIG)")
	f.DurationVar(&opts.Timeout, "timeout", 5*time.Second, "deadline for each live check")
}

// NewCmdWizard builds `runnerup wizard` (also what bare `runnerup` runs in
// a terminal).
func NewCmdWizard(d *Deps) *cobra.Command {
	opts := &WizardOptions{IO: d.IO, detect: d.DetectService, machineID: d.MachineID}
	cmd := &cobra.Command{
		Use:   "wizard",
		Short: "Step-by-step set-up in the terminal, with live checks, a review and diffs",
		Long: `wizard asks for the GitLab URL and token, the executor, image, services and
registry credentials, checks each answer live (GitLab, the Docker daemon, every
registry), shows a review with the redacted diffs, writes config.toml and
config.json, and offers to save an answers file for 'runnerup apply'.

Without a terminal (or with --accessible) it asks plain line prompts on stdin.
Ctrl+C at any point exits with code 130 and writes nothing.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return wizardRun(cmd.Context(), opts) },
	}
	addWizardFlags(cmd, opts)
	return cmd
}

func wizardRun(ctx context.Context, opts *WizardOptions) error {
	if err := checkDockerConfigDir(opts.DockerConfigDir); err != nil {
		return err
	}
	paths := wizard.DefaultPathEnv()
	hostname, _ := os.Hostname()
	o := tui.Options{
		In: opts.IO.In, Out: opts.IO.ErrOut,
		Accessible: opts.Accessible || !opts.IO.CanPrompt(),
		NoColor:    !opts.IO.ColorEnabled(),
		ConfigPath: opts.ConfigPath, DockerConfigDir: opts.DockerConfigDir,
		Env: os.LookupEnv, Hostname: hostname, Paths: paths,
	}
	base := wizard.ApplyOptions{Env: os.LookupEnv, Hostname: hostname, Paths: paths, ConfigPath: opts.ConfigPath, DockerConfigDir: opts.DockerConfigDir,
		MachineID: opts.machineID, CheckStale: true, LeaveRunner: opts.leaveRunner}
	// The answers file is local: read it before detection, which may ask
	// a Docker daemon on another host (DOCKER_HOST).
	var answers *wizard.Answers
	if opts.AnswersPath != "" {
		a, unknown, err := wizard.LoadFile(opts.AnswersPath)
		if err != nil {
			return err
		}
		if len(unknown) > 0 {
			return &wizard.ValidationError{Problems: unknown}
		}
		answers = a
	}
	if opts.detect != nil {
		// Once, up front: the service's files are the default targets the
		// wizard shows, and every re-probe reuses what was found.
		dctx, cancel := context.WithTimeout(ctx, opts.Timeout)
		installs, derr := opts.detect(dctx, "")
		cancel()
		if primary, ok := service.Primary(installs); ok {
			paths.Service = &primary
			o.Paths, base.Paths = paths, paths
		}
		base.DetectService = func(context.Context, string) ([]service.Install, error) { return installs, derr }
	}
	base.Probe.Timeout = opts.Timeout
	o.ApplyOptions = base
	probeWith := func(pull bool) tui.ProbeFunc {
		return func(ctx context.Context, a *wizard.Answers, onResult func(probe.Result)) ([]probe.Result, error) {
			po := base
			po.Probe.OnResult = onResult
			po.Probe.Pull = pull
			// The review passes the paths chosen there as [output]; they
			// win over the flags the wizard started with.
			if a.Output.ConfigTOML != "" {
				po.ConfigPath = ""
			}
			if a.Output.DockerConfig != "" {
				po.DockerConfigDir = ""
			}
			return wizard.ProbeAnswers(ctx, a, po)
		}
	}
	o.Probe = probeWith(false)
	// The review's P: the daemon itself pulls, as probe --pull.
	o.PullImages = probeWith(true)
	o.Prefill, o.SaveAnswersPath = opts.prefill, opts.saveAnswers
	if answers != nil {
		o.Prefill = answers
	}
	// The wizard prints its summary with the replay command on exit.
	run := opts.runTUI
	if run == nil {
		run = tui.Run
	}
	_, err := run(ctx, o)
	return err
}
