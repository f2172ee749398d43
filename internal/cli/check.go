package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/runnerup/runnerup/internal/lint"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/service"
	"github.com/runnerup/runnerup/wizard"
)

// CheckOptions are `runnerup check`'s flags.
type CheckOptions struct {
	IO         *IOStreams
	ConfigPath string
	Output     string
	Online     bool
	LintOnly   bool
	Timeout    time.Duration
	Paths      wizard.PathEnv
	// Wizard holds injectable parts of the host checks (tests).
	Wizard wizard.ApplyOptions

	detect    wizard.DetectFunc
	machineID func() (string, error)
}

// NewCmdCheck builds `runnerup check`.
func NewCmdCheck(d *Deps, runF func(context.Context, *CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{IO: d.IO, detect: d.DetectService, machineID: d.MachineID}
	cmd := &cobra.Command{
		Use:   "check [--config PATH] [--online]",
		Short: "Lint an existing config.toml and the runner set-up of this host",
		Long: `check lints a GitLab Runner config.toml without contacting anything: TOML errors
with line:column, unknown keys with did-you-mean, wrong types, invalid executor,
pull_policy and shell values, duplicate runners and tokens, registration tokens
stored as runner tokens, Docker-in-Docker wiring, file modes and more.

It also looks at this host: which config.toml and config.json the gitlab-runner
service really reads (systemd unit, container mount), whether it runs, the
system id (cloned or shared), the proxies of the shell, the service and the
daemon, and token expiry. --online also asks GitLab whether each entry's token
is still valid (stale entries, deleted in GitLab).

Exit codes: 0 no errors or warnings, 3 findings, 2 the file cannot be read.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutputAndTimeout(opts.Output, opts.Timeout); err != nil {
				return err
			}
			if opts.LintOnly && opts.Online {
				return &FlagError{Err: errors.New("--online checks tokens with GitLab; --lint-only checks only the file: give one")}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return checkRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.ConfigPath, "config", "c", "", "config.toml to check (default: the runner's own path)")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	cmd.Flags().BoolVar(&opts.Online, "online", false, "also verify each runner's token with GitLab (finds stale entries)")
	cmd.Flags().BoolVar(&opts.LintOnly, "lint-only", false, "only lint the file, without the checks of this host (service, system id, proxies, expiry): for a config.toml kept in a repository")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 5*time.Second, "deadline for each check")
	return cmd
}

func checkRun(ctx context.Context, opts *CheckOptions) error {
	// A path given is read before anything asks a Docker daemon, which
	// DOCKER_HOST may put on another host: a file that cannot be read or
	// parsed is reported without that contact, and the findings are those
	// of the file as it was when check started.
	pe := opts.Paths
	if pe.Env == nil {
		pe = wizard.DefaultPathEnv()
	}
	var file lint.File
	if opts.ConfigPath != "" {
		var err error
		if file, err = lint.ReadFile(opts.ConfigPath, opts.LintOnly); err != nil {
			return checkReadFailed(opts, opts.ConfigPath, pe, err)
		}
		if !lint.Parses(file.Data) {
			return reportCheck(ctx, opts, opts.ConfigPath, file, nil)
		}
	}
	var installs []service.Install
	if detect := firstNonNil(opts.Wizard.DetectService, opts.detect); detect != nil && (opts.ConfigPath == "" || !opts.LintOnly) {
		// Once: the default path and the host checks both use it.
		dctx, cancel := context.WithTimeout(ctx, opts.Timeout)
		found, derr := detect(dctx, "")
		cancel()
		installs = found
		opts.Wizard.DetectService = func(context.Context, string) ([]service.Install, error) { return found, derr }
	}
	path := opts.ConfigPath
	if path == "" {
		// The file the service reads, else the runner's default
		// (CONFIG_FILE is already in opts.ConfigPath: useConfigFileEnv).
		if primary, ok := service.Primary(installs); ok {
			pe.Service = &primary
		}
		paths, _ := wizard.ResolvePaths(wizard.Output{}, "", "", pe)
		path = paths.ConfigTOML
		var err error
		if file, err = lint.ReadFile(path, opts.LintOnly); err != nil {
			return checkReadFailed(opts, path, pe, err)
		}
	}
	var insecure []string
	if !opts.LintOnly {
		insecure = hostInsecureRegistries(ctx, opts.Timeout)
	}
	return reportCheck(ctx, opts, path, file, insecure)
}

// checkReadFailed reports a config.toml check could not read: a --config
// file that does not exist, or no file where the runner would look.
func checkReadFailed(opts *CheckOptions, path string, pe wizard.PathEnv, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist) && opts.ConfigPath != "":
		return reportError(opts.IO, opts.Output, wizard.MissingConfigError(path, pe))
	case errors.Is(err, fs.ErrNotExist):
		err = fmt.Errorf("no config.toml at %s, where GitLab Runner looks for this user (or where the service found reads it); pass --config PATH", path)
	}
	return reportError(opts.IO, opts.Output, &wizard.InputError{Err: err})
}

// reportCheck lints file (insecure: the daemon's insecure registries),
// runs the host checks and prints both.
func reportCheck(ctx context.Context, opts *CheckOptions, path string, file lint.File, insecure []string) error {
	// (--lint-only: ReadFile left out the mode of a repository's copy.)
	findings := file.Lint(lint.Options{InsecureRegistries: insecure})
	blocking := 0
	for _, f := range findings {
		if f.Severity != lint.Info {
			blocking++
		}
	}
	checks := hostChecks(ctx, opts, path, slices.ContainsFunc(findings, func(f lint.Finding) bool { return f.ID == "toml.syntax" }))
	for _, c := range checks {
		if c.Status == probe.Warn || c.Status == probe.Fail {
			blocking++
		}
	}
	if opts.Output == "json" {
		if findings == nil {
			findings = []lint.Finding{}
		}
		if checks == nil {
			checks = []probe.Result{}
		}
		if err := writeJSON(opts.IO.Out, map[string]any{"config": path, "findings": findings, "checks": checks, "ok": blocking == 0}); err != nil {
			return err
		}
	} else {
		for _, f := range findings {
			fmt.Fprintf(opts.IO.Out, "%s:%s\n", path, f.String())
		}
		printer := checklistPrinter{w: opts.IO.Out, color: opts.IO.ColorEnabled()}
		for _, c := range checks {
			if c.Status != probe.Skip {
				printer.print(c)
			}
		}
		if blocking == 0 && len(findings) == 0 {
			fmt.Fprintf(opts.IO.Out, "%s: no findings\n", path)
		}
	}
	if blocking > 0 {
		return &SilentError{Code: ExitCheckFailed}
	}
	return nil
}

// hostChecks runs the host checks beside the lint: the service, system
// id, proxies, expiry and, with --online, each entry's token. A file the
// linter cannot parse gets none.
func hostChecks(ctx context.Context, opts *CheckOptions, path string, broken bool) []probe.Result {
	if broken || opts.LintOnly {
		return nil
	}
	w := opts.Wizard
	if w.Paths.Env == nil {
		w.Paths = opts.Paths
	}
	w = withDefaults(w, opts.detect, opts.machineID)
	w.ConfigPath = path
	w.Timeout, w.Probe.Timeout = opts.Timeout, opts.Timeout
	_, results, _ := wizard.CheckHost(ctx, w, opts.Online)
	return results
}

func firstNonNil(fs ...wizard.DetectFunc) wizard.DetectFunc {
	for _, f := range fs {
		if f != nil {
			return f
		}
	}
	return nil
}
