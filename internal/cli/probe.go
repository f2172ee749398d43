package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/registry"
	"github.com/runnerup/runnerup/wizard"
)

// ProbeOptions are `runnerup probe`'s flags.
type ProbeOptions struct {
	IO              *IOStreams
	AnswersPath     string
	Images          []string
	ConfigPath      string
	DockerConfigDir string
	Output          string
	Timeout         time.Duration
	Pull            bool
	// RegistryConcurrency caps the requests in flight per registry.
	RegistryConcurrency int
	Wizard              wizard.ApplyOptions

	detect    wizard.DetectFunc
	machineID func() (string, error)
}

// NewCmdProbe builds `runnerup probe`.
func NewCmdProbe(d *Deps, runF func(context.Context, *ProbeOptions) error) *cobra.Command {
	opts := &ProbeOptions{IO: d.IO, detect: d.DetectService, machineID: d.MachineID}
	cmd := &cobra.Command{
		Use:   "probe (--answers FILE | --image REF... | --config PATH)",
		Short: "Run every live check (GitLab, Docker daemon, registries, credentials); write nothing",
		Long: `probe runs the live checks apply runs before writing, and writes nothing:
GitLab (DNS, TCP, TLS, API, token), the Docker daemon (reachable, permission,
platform, storage, proxy, insecure registries), the credentials GitLab Runner
will use for each image, and each registry and image (TLS, auth challenge,
credentials accepted, manifest, platform).

With --answers it sees config.toml and config.json as apply would leave them.
With --image it checks just the daemon and those images with the current
docker config of this user (no GitLab, no answers); the credential helpers
it names run as the gitlab-runner service found here runs them (its PATH,
environment and user).
With only --config it probes the runners already in that config.toml: each
entry's token (stale entries, deleted in GitLab, fail), their images, the
daemon, the service that reads the file, the system id and proxies.
With --pull the daemon itself pulls every image with the runner's
credentials (it downloads layers and leaves the images, as jobs would).

Exit codes: 0 every check passed or warned, 3 a check failed, 2 bad input.`,
		Example: `  runnerup probe --answers runner.toml
  runnerup probe --image registry.example.com:5000/ci/app:1 -o json
  sudo runnerup probe --config /etc/gitlab-runner/config.toml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.AnswersPath != "" && len(opts.Images) > 0 || opts.AnswersPath == "" && len(opts.Images) == 0 && !cmd.Flags().Changed("config") {
				return &FlagError{Err: errors.New("give one of --answers FILE, --image REF, or --config PATH (the runners already in a config.toml)")}
			}
			if err := checkOutputAndTimeout(opts.Output, opts.Timeout); err != nil {
				return err
			}
			if opts.RegistryConcurrency < 1 {
				return &FlagError{Err: fmt.Errorf("--registry-concurrency must be at least 1, not %d", opts.RegistryConcurrency)}
			}
			if err := checkDockerConfigDir(opts.DockerConfigDir); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return probeRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.AnswersPath, "answers", "", "answers file whose runner, images and registries to check")
	f.StringArrayVar(&opts.Images, "image", nil, "image reference to check (repeatable)")
	f.StringVarP(&opts.ConfigPath, "config", "c", "", "config.toml (default: the runner's own path)")
	f.StringVar(&opts.DockerConfigDir, "docker-config", "", "directory of config.json (default: ~/.docker; the runner ignores DOCKER_CONFIG)")
	f.StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	f.DurationVar(&opts.Timeout, "timeout", 5*time.Second, "deadline for each check")
	f.IntVar(&opts.RegistryConcurrency, "registry-concurrency", registry.DefaultConcurrency, "most requests in flight to one registry (or token server) at once; each registry's connections are reused")
	f.BoolVar(&opts.Pull, "pull", false, "also let the Docker daemon pull every image with the runner's credentials (downloads layers; the images stay, as after a job)")
	return cmd
}

func probeRun(ctx context.Context, opts *ProbeOptions) error {
	w := withDefaults(opts.Wizard, opts.detect, opts.machineID)
	w.ConfigPath, w.DockerConfigDir = opts.ConfigPath, opts.DockerConfigDir
	w.Probe.Timeout = opts.Timeout
	w.Probe.Pull = opts.Pull
	w.Probe.RegistryConcurrency = opts.RegistryConcurrency
	if w.Timeout == 0 {
		w.Timeout = opts.Timeout
	}
	if opts.Output == "text" {
		printer := checklistPrinter{w: opts.IO.Out, color: opts.IO.ColorEnabled()}
		w.Probe.OnResult = printer.print
	}
	var results []probe.Result
	var err error
	// Warnings go into -o json's document, else to stderr before the checks.
	warnings := []wizard.FieldError{}
	warn := func(ws []wizard.FieldError) {
		if opts.Output == "json" {
			warnings = append(warnings, ws...)
		} else {
			printWarnings(opts.IO, ws)
		}
	}
	if opts.AnswersPath != "" {
		var p *wizard.Prepared
		if p, err = wizard.Prepare(opts.AnswersPath, w.Env, w.Hostname); err != nil {
			return reportError(opts.IO, opts.Output, err)
		}
		warn(p.Warnings)
		warn(pathWarnings(p.Resolved.Output, w))
		results, err = wizard.Probe(ctx, p, w)
	} else if len(opts.Images) > 0 {
		warn(pathWarnings(wizard.Output{}, w))
		results, err = wizard.ProbeImages(ctx, opts.Images, w)
	} else {
		warn(pathWarnings(wizard.Output{}, w))
		_, results, err = wizard.ProbeConfig(ctx, w)
	}
	var ce *wizard.CheckError
	if err != nil && !errors.As(err, &ce) {
		return reportError(opts.IO, opts.Output, err)
	}
	if opts.Output == "json" {
		if results == nil {
			results = []probe.Result{}
		}
		if err := writeJSON(opts.IO.Out, map[string]any{"checks": results, "warnings": warnings, "ok": probe.OK(results)}); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(opts.IO.Out, summary(results))
	}
	if !probe.OK(results) {
		return &SilentError{Code: ExitCheckFailed}
	}
	return nil
}

// pathWarnings are ResolvePaths' warnings for the files probe reads (a
// DOCKER_CONFIG the runner ignores), worded for probe, which reads where
// apply would write.
func pathWarnings(out wizard.Output, w wizard.ApplyOptions) []wizard.FieldError {
	paths, warnings := wizard.ResolvePaths(out, w.ConfigPath, w.DockerConfigDir, w.Paths)
	for i, warn := range warnings {
		if warn.Field == "output.docker_config" {
			warnings[i].Field = "DOCKER_CONFIG"
			warnings[i].Fix = fmt.Sprintf("probe reads %s, the file the runner reads; pass --docker-config DIR to check another directory on purpose",
				filepath.Join(paths.DockerConfigDir, "config.json"))
		}
	}
	return warnings
}

func printWarnings(io *IOStreams, warnings []wizard.FieldError) {
	for _, warn := range warnings {
		if warn.Warning {
			fmt.Fprintln(io.ErrOut, "warning:", warn.String())
		}
	}
}
