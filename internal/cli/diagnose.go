package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/spf13/cobra"

	"github.com/runnerup/runnerup/internal/runnerconf"
	"github.com/runnerup/runnerup/internal/userfile"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/credentials"
	"github.com/runnerup/runnerup/probe/daemon"
	"github.com/runnerup/runnerup/probe/diagnose"
	"github.com/runnerup/runnerup/probe/service"
	"github.com/runnerup/runnerup/render"
	"github.com/runnerup/runnerup/wizard"
)

// DiagnoseOptions are `runnerup diagnose`'s flags and dependencies.
type DiagnoseOptions struct {
	IO *IOStreams

	Image           string
	RunnerName      string
	ConfigPath      string
	DockerConfigDir string
	AuthConfig      string
	AuthConfigSet   bool
	LogPath         string
	NoLive          bool
	PullPolicy      []string
	Platform        string
	Output          string
	Timeout         time.Duration
	// Pull asks the daemon itself to pull IMAGE (downloads layers).
	Pull bool

	// Paths and LookupEnv are the process's (tests inject them).
	Paths     wizard.PathEnv
	LookupEnv func(string) (string, bool)
	// Tweak adjusts the diagnosis options before the run (tests: helper
	// PATH, certs.d, StatFS).
	Tweak func(*diagnose.Options)

	detect wizard.DetectFunc
}

// maxLogBytes bounds how much of a job log is read (the tail is kept:
// the failure is at the end).
const maxLogBytes = 32 << 20

// NewCmdDiagnose builds `runnerup diagnose`.
func NewCmdDiagnose(d *Deps, runF func(context.Context, *DiagnoseOptions) error) *cobra.Command {
	opts := &DiagnoseOptions{IO: d.IO, detect: d.DetectService}
	cmd := &cobra.Command{
		Use:   "diagnose IMAGE [--runner NAME] [--config PATH] [--docker-config DIR] [--auth-config JSON|env:NAME] [--log FILE|-] [--no-live] [--pull-policy POLICY[,…]] [--platform os/arch] [-o json]",
		Short: `Name the root cause of "failed to pull image" for one image, and the fix`,
		Long: `diagnose explains why a job's image pull fails (or would), for one image and
one runner entry of config.toml:

  - it resolves the credentials exactly as GitLab Runner will: DOCKER_AUTH_CONFIG
    (the runner's [[runners]] environment, or --auth-config for a CI/CD
    variable's value), then $HOME/.docker/config.json of the runner's user
    (--docker-config), then the job payload (GitLab registry), and says which
    source wins and why the others do not;
  - it probes the chain the Docker daemon walks: reference, DNS, TCP, TLS,
    /v2/ challenge, credentials, token, manifest, platform; the job's
    image:pull_policy (--pull-policy, or as the job log states it) and the
    runner's pull_policy and allowed_pull_policies, combined as the runner
    does, against the daemon's local images; the daemon itself
    (reachable, permission, proxy, insecure registries, certs.d, disk);
  - with --log FILE (or - for stdin) it matches the job log's error text to a
    cause and says whether the live probes confirm it or it is not reproduced
    now. When the checks here cannot be the runner's (no daemon answers, no
    config.toml, the log is from another runner manager, or the runner reached
    a registry this host cannot), the log ranks the causes and the checks are
    shown as this machine's; --no-live classifies the log alone;
  - with --pull the daemon itself pulls IMAGE with the X-Registry-Auth the
    runner would send; its answer wins over runnerup's HTTP probe and any
    difference is named. This downloads the layers and leaves the image in
    the daemon's store, as a job's pull would.

The output names each cause by its id (docs/pull-failures.md), the
evidence and the fix as commands; secrets are never shown.

IMAGE may be omitted with --log when the log names it ("failed to pull image",
or the one "Pulling docker image"), and with --no-live.

Exit codes: 0 the image would pull; 3 a cause was found (an invalid image
reference is cause invalid-reference, exit 3); 2 bad input (flags, an
unreadable config.toml, config.json or log, an unknown --runner).`,
		Example: `  runnerup diagnose registry.example.com:5000/ci/app:1.4
  runnerup diagnose registry.example.com/ci/app:1.4 --runner build-01 --log job.log
  gitlab-runner ... | runnerup diagnose alpine:3.20 --log - -o json
  runnerup diagnose --log pasted-job.log --no-live
  runnerup diagnose ghcr.io/acme/tool:2 --auth-config env:DOCKER_AUTH_CONFIG --platform linux/arm64
  runnerup diagnose registry.example.com/ci/app:1.4 --pull-policy always
  runnerup diagnose registry.example.com/ci/app:1.4 --pull`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return &FlagError{Err: fmt.Errorf("diagnose takes one image, got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Image = args[0]
			}
			if opts.Image == "" && opts.LogPath == "" {
				return &FlagError{Err: errors.New("give the IMAGE to diagnose (or --log with a job log that names it)")}
			}
			if err := checkOutputAndTimeout(opts.Output, opts.Timeout); err != nil {
				return err
			}
			if err := checkDockerConfigDir(opts.DockerConfigDir); err != nil {
				return err
			}
			if opts.NoLive && opts.LogPath == "" {
				return &FlagError{Err: errors.New("--no-live classifies a job log: give --log FILE (or - for stdin)")}
			}
			if opts.Platform != "" {
				if _, err := parsePlatform(opts.Platform); err != nil {
					return &FlagError{Err: err}
				}
			}
			if err := diagnose.ValidJobPolicies(opts.PullPolicy); err != nil {
				return &FlagError{Err: fmt.Errorf("--pull-policy: %w", err)}
			}
			opts.AuthConfigSet = cmd.Flags().Changed("auth-config")
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return diagnoseRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.RunnerName, "runner", "", "the [[runners]] name in config.toml (default: the only one)")
	f.StringVarP(&opts.ConfigPath, "config", "c", "", "config.toml (default: the runner's own path)")
	f.StringVar(&opts.DockerConfigDir, "docker-config", "", "directory of the runner user's config.json (default: ~/.docker; the runner ignores DOCKER_CONFIG)")
	f.StringVar(&opts.AuthConfig, "auth-config", "", "DOCKER_AUTH_CONFIG value as the job sees it (JSON, env:NAME or file:PATH); beats the runner environment's")
	f.StringVar(&opts.LogPath, "log", "", "job log to match (FILE, or - for stdin)")
	f.BoolVar(&opts.NoLive, "no-live", false, "classify the --log alone: no check of this host's daemon, registries or credentials")
	f.StringSliceVar(&opts.PullPolicy, "pull-policy", nil, "the job's image:pull_policy, POLICY[,…] (always, if-not-present, never): checked against allowed_pull_policies as the runner does")
	f.StringVar(&opts.Platform, "platform", "", "platform the image must offer, os/arch[/variant] (default: the daemon's)")
	f.StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	f.DurationVar(&opts.Timeout, "timeout", 5*time.Second, "deadline for each check")
	f.BoolVar(&opts.Pull, "pull", false, "also let the Docker daemon pull IMAGE with the runner's credentials (downloads layers; the image stays, as after a job)")
	return cmd
}

// parsePlatform reads --platform as docker pull --platform does
// (containerd's platforms.Parse: os[(version)]/arch[/variant], normalised),
// but insists on os/arch: a bare "amd64" would take this host's OS, not the
// daemon's.
func parsePlatform(s string) (*probe.Platform, error) {
	bad := fmt.Errorf("--platform %q: want os/arch or os/arch/variant, e.g. linux/amd64", s)
	if n := strings.Count(s, "/"); n < 1 || n > 2 {
		return nil, bad
	}
	p, err := platforms.Parse(s)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return nil, bad
	}
	p = platforms.Normalize(p)
	return &probe.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion}, nil
}

func inputErr(format string, args ...any) error {
	return &wizard.InputError{Err: fmt.Errorf(format, args...)}
}

func diagnoseRun(ctx context.Context, opts *DiagnoseOptions) error {
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	if opts.Paths.Env == nil {
		opts.Paths = wizard.DefaultPathEnv()
	}
	if opts.NoLive {
		return diagnoseLogOnly(opts)
	}
	var process *credentials.Process
	if opts.detect != nil {
		// Diagnose what the service sees: its config.toml and its user's
		// config.json (unless flags name others), and credential helpers
		// run with its PATH, environment and user, not this shell's.
		dctx, cancel := context.WithTimeout(ctx, opts.Timeout)
		installs, _ := opts.detect(dctx, "")
		cancel()
		var svc *service.Install
		if primary, ok := service.Primary(installs); ok {
			svc = &primary
			opts.Paths.Service = &primary
			if opts.Output == "text" {
				fmt.Fprintf(opts.IO.ErrOut, "service: %s\n", primary.Summary())
			}
		}
		process = credentials.RunnerProcess(svc, credentials.DefaultProcessOptions())
	}
	dopts, err := diagnoseInputs(opts)
	if err != nil {
		return reportError(opts.IO, opts.Output, err)
	}
	dopts.Process = process
	if opts.Tweak != nil {
		opts.Tweak(dopts)
	}
	if opts.Output == "text" {
		fmt.Fprintf(opts.IO.Out, "Diagnosing %s\n", dopts.Image)
		printer := checklistPrinter{w: opts.IO.Out, color: opts.IO.ColorEnabled()}
		if dopts.Log == nil { // with a log, the verdict decides where the checks go
			dopts.OnResult = printer.print
		}
	}
	rep, err := diagnose.Run(ctx, *dopts)
	if err != nil && rep == nil {
		return reportError(opts.IO, opts.Output, err)
	}
	if err != nil { // interrupted: report what there is, then 130
		return err
	}
	if opts.Output == "json" {
		if err := writeJSON(opts.IO.Out, rep); err != nil {
			return err
		}
	} else {
		printDiagnosis(opts.IO.Out, rep, opts.IO.ColorEnabled())
	}
	if !rep.OK {
		return &SilentError{Code: ExitCheckFailed}
	}
	return nil
}

// diagnoseInputs reads the flags' files: the log, the runner entry of
// config.toml, the docker config and DOCKER_AUTH_CONFIG. Every problem is
// an input error (exit 2).
func diagnoseInputs(opts *DiagnoseOptions) (*diagnose.Options, error) {
	d := &diagnose.Options{Image: opts.Image, Timeout: opts.Timeout, LookupEnv: opts.LookupEnv, JobPullPolicy: opts.PullPolicy, Pull: opts.Pull}
	if s := opts.Paths.Service; s != nil {
		ro := daemon.RunnerFromService(*s)
		d.RunnerBinary = &ro
	}
	if opts.LogPath != "" {
		text, err := readLog(opts.LogPath, opts.IO.In)
		if err != nil {
			return nil, err
		}
		d.Log = &text
		if d.Image == "" && !opts.NoLive {
			if d.Image = diagnose.MatchLog(text).JobImage(); d.Image == "" {
				return nil, inputErr("the log names no image (no `failed to pull image \"…\"` line): give IMAGE")
			}
		}
	}
	if opts.Platform != "" {
		p, err := parsePlatform(opts.Platform)
		if err != nil {
			return nil, &FlagError{Err: err}
		}
		d.Platform = p
	}
	if opts.AuthConfigSet {
		r := wizard.DefaultResolver("")
		r.LookupEnv, r.AllowEmpty = opts.LookupEnv, true
		v, err := r.Value(opts.AuthConfig)
		if err != nil {
			return nil, inputErr("--auth-config: %w", err)
		}
		d.AuthConfig = &v
	}
	runner, read, err := loadRunner(opts)
	if err != nil {
		return nil, err
	}
	d.Runner = runner
	hostFacts(read, d)

	switch dir := opts.DockerConfigDir; {
	case dir == "" && opts.Paths.Service != nil && opts.Paths.Service.DockerConfigPath != "":
		d.HomeDir = filepath.Dir(filepath.Dir(opts.Paths.Service.DockerConfigPath))
	case dir == "":
		d.HomeDir = opts.Paths.Home
		if runner != nil && opts.Paths.Euid != 0 && strings.HasPrefix(runner.ConfigPath, "/etc/gitlab-runner/") {
			fmt.Fprintf(opts.IO.ErrOut, "warning: %s is the system runner's, which runs as root and reads /root/.docker/config.json; this diagnosis reads %s (pass --docker-config /root/.docker to check root's)\n",
				runner.ConfigPath, filepath.Join(d.HomeDir, ".docker", "config.json"))
		}
	case filepath.Base(filepath.Clean(dir)) == ".docker":
		d.HomeDir = filepath.Dir(filepath.Clean(dir))
	default:
		p := filepath.Join(dir, "config.json")
		b, err := userfile.Read(p, 0)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			b = []byte("{}")
		case err != nil:
			return nil, inputErr("reading %s: %w", p, err)
		}
		d.ConfigJSON, d.ConfigJSONPath = b, p
	}
	return d, nil
}

func readLog(path string, stdin io.Reader) (string, error) {
	var r io.Reader
	if path == "-" {
		r = stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return "", inputErr("--log: %w", err)
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.Size() > maxLogBytes {
			if _, err := f.Seek(fi.Size()-maxLogBytes, io.SeekStart); err != nil {
				return "", inputErr("--log: %w", err)
			}
		}
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxLogBytes))
	if err != nil {
		return "", inputErr("--log: reading %s: %w", path, err)
	}
	return string(b), nil
}

// runnerDoc is config.toml's entries as a diagnosis reads them.
type runnerDoc = runnerconf.File

// configRead is the config.toml diagnose read: where, and its entries
// (doc nil when there is none at the default path: missing).
type configRead struct {
	path    string
	doc     *runnerDoc
	missing bool
}

// loadRunner finds the runner entry: --runner by name (runnerconf's Find,
// as apply does), else the only one. A missing default config.toml means
// a runner with defaults; a missing --config file is an error. It also
// returns what it read, for hostFacts.
func loadRunner(opts *DiagnoseOptions) (*diagnose.Runner, configRead, error) {
	path := opts.ConfigPath
	if path == "" {
		paths, _ := wizard.ResolvePaths(wizard.Output{}, "", "", opts.Paths)
		path = paths.ConfigTOML
	}
	read := configRead{path: path}
	data, err := userfile.Read(path, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist) && opts.ConfigPath == "" && opts.RunnerName == "":
		read.missing = true
		return nil, read, nil
	case errors.Is(err, fs.ErrNotExist) && opts.ConfigPath != "":
		return nil, read, wizard.MissingConfigError(path, opts.Paths)
	case err != nil:
		return nil, read, inputErr("reading config.toml: %w", err)
	}
	doc, err := runnerconf.Parse(data)
	if err != nil {
		return nil, read, &render.ConfigTOMLError{Err: fmt.Errorf("%s: %w", path, err)}
	}
	read.doc = doc
	idx := -1
	if opts.RunnerName != "" {
		// By name alone, as apply finds it (the document decoded above).
		i, existing, err := doc.Find(opts.RunnerName, "", "")
		if err != nil {
			return nil, read, &render.ConfigTOMLError{Err: err}
		}
		if existing == nil {
			return nil, read, inputErr("%s has no runner named %q (runners: %s)", path, opts.RunnerName, runnerNames(doc))
		}
		idx = i
	} else {
		switch len(doc.Runners) {
		case 0:
			return nil, read, nil
		case 1:
			idx = 0
		default:
			return nil, read, inputErr("%s has %d runners: choose one with --runner (%s)", path, len(doc.Runners), runnerNames(doc))
		}
	}
	e := doc.Runners[idx]
	r := &diagnose.Runner{Name: e.Name, URL: e.URL, Executor: e.Executor, Environment: e.Environment, ConfigPath: path}
	if e.Docker != nil {
		r.DockerHost, r.PullPolicy, r.AllowedPullPolicies = e.Docker.Host, e.Docker.PullPolicy, e.Docker.AllowedPullPolicies
		r.Image, r.HelperImage, r.HelperImageFlavor, r.Shell = e.Docker.Image, e.Docker.HelperImage, e.Docker.HelperImageFlavor, e.Shell
		for _, svc := range e.Docker.Services {
			r.Services = append(r.Services, svc.Name)
		}
	}
	return r, read, nil
}

func runnerNames(doc *runnerDoc) string {
	var names []string
	for _, r := range doc.Runners {
		names = append(names, fmt.Sprintf("%q", r.Name))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// printDiagnosis is the human report, after the live checklist (printed
// here when a job log was given, where the verdict puts it).
func printDiagnosis(w io.Writer, rep *diagnose.Report, color bool) {
	if v := rep.Verdict; v != nil && v.RunnerHost {
		printChecks(w, rep.Checks, color) // the runner's own checks, whoever ranks
	}
	paint := func(code, s string) string {
		if !color {
			return s
		}
		return code + s + "\x1b[0m"
	}
	fmt.Fprintln(w)
	head := fmt.Sprintf("image %s, registry %s", rep.Image, rep.Registry)
	if rep.Runner != "" {
		head += fmt.Sprintf(", runner %q", rep.Runner)
	}
	if rep.Daemon != "" {
		head += ", daemon " + rep.Daemon
	}
	fmt.Fprintln(w, head)
	if v := rep.Verdict; v != nil && v.RankedBy == diagnose.RankedByLog {
		printRankedByLog(w, rep, color, paint)
		return
	}

	if c := rep.Credentials; c != nil {
		fmt.Fprintf(w, "\nCredentials (as GitLab Runner resolves them for %s):\n  %s\n", c.RegistryPath, c.Why)
		for i, s := range c.Sources {
			fmt.Fprintf(w, "  %d. %s: %s: %s\n", i+1, s.Name, s.Status, s.Reason)
		}
	}
	if p := rep.Policy; p != nil && len(p.Effective) == 0 && len(p.Policies) > 0 {
		fmt.Fprintf(w, "\nPull policy: [%s] (%s) is not in allowed_pull_policies [%s]\n", strings.Join(p.Policies, " "), p.Source, strings.Join(p.Allowed, " "))
	} else if p != nil {
		fmt.Fprintf(w, "\nPull policy: [%s] (%s), local image: %s", strings.Join(p.Effective, " "), p.Source, p.Local)
		if p.UsesLocal {
			fmt.Fprint(w, " (used even if the registry fails)")
		}
		fmt.Fprintln(w)
	}

	if p := rep.Pull; p != nil {
		printPull(w, p)
	}
	if len(rep.Causes) == 0 {
		fmt.Fprintln(w, "\n"+paint("\x1b[32m", "✓ The image would pull: no cause found."))
	} else {
		n := "1 cause"
		if len(rep.Causes) > 1 {
			n = fmt.Sprintf("%d causes, most likely first", len(rep.Causes))
		}
		fmt.Fprintln(w, "\n"+paint("\x1b[31m", "✗ The pull fails: "+n))
		printCauses(w, rep.Causes, paint)
	}
	printLiveVerdict(w, rep.Verdict, paint)
	if len(rep.Latent) > 0 {
		fmt.Fprintln(w, "\nLatent (would fail on a host without the local image):")
		printCauses(w, rep.Latent, paint)
	}
	if l := rep.Log; l != nil {
		fmt.Fprintf(w, "\nJob log: %d error line(s)\n", len(l.Lines))
		if len(l.Matches) == 0 {
			fmt.Fprintln(w, "  no catalogued cause matches its text")
		}
		for _, m := range l.Matches {
			v := m.Verdict
			if m.ConfirmedAs != "" {
				v += " as " + m.ConfirmedAs
			}
			fmt.Fprintf(w, "  - line %d: %s: %s\n    %s\n", m.LineNo, m.ID, v, m.Line)
			if len(m.Also) > 0 && m.Verdict != diagnose.VerdictConfirmed {
				fmt.Fprintf(w, "    the same text can also mean: %s\n", strings.Join(m.Also, ", "))
			}
			for i, f := range m.Fix {
				fmt.Fprintf(w, "    fix %d. %s\n", i+1, f)
			}
		}
	}
	printNotes(w, rep.Notes)
}

func printCauses(w io.Writer, causes []diagnose.Cause, paint func(string, string) string) {
	for i, c := range causes {
		line := fmt.Sprintf("\n%d. %s: %s", i+1, paint("\x1b[1m", c.ID), c.Summary)
		if c.Log != "" {
			line += "  [" + c.Log + " by the job log]"
		}
		fmt.Fprintln(w, line)
		if len(c.Evidence) > 0 {
			fmt.Fprintln(w, "   evidence:")
			for _, e := range c.Evidence {
				fmt.Fprintln(w, "     - "+e)
			}
		}
		if len(c.Fix) > 0 {
			fmt.Fprintln(w, "   fix:")
			for j, f := range c.Fix {
				fmt.Fprintf(w, "     %d. %s\n", j+1, f)
			}
		}
	}
}

// printPull is the daemon's own pull beside the HTTP verdict.
func printPull(w io.Writer, p *daemon.PullVerdict) {
	fmt.Fprintf(w, "\nDaemon pull (X-Registry-Auth from %s):\n", p.CredentialSource)
	if p.Pulled {
		fmt.Fprintln(w, "  pulled; the image stays in the daemon's store, as after a job's pull")
	} else {
		fmt.Fprintf(w, "  refused: %s\n", p.DaemonError)
	}
	fmt.Fprintf(w, "  runnerup's HTTP probe: %s\n", p.HTTP)
	if !p.Agree {
		fmt.Fprintf(w, "  the daemon's answer wins; the difference: %s\n", p.Difference)
	}
}
