package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/runnerup/runnerup/wizard"
)

// checkDockerConfigDir refuses a --docker-config naming a file (config.json
// itself, or any existing non-directory): the flag takes the directory, as
// DOCKER_CONFIG does, and a file path would make runnerup read or write
// <file>/config.json.
func checkDockerConfigDir(dir string) error {
	if dir == "" {
		return nil
	}
	if filepath.Base(filepath.Clean(dir)) == "config.json" {
		return &FlagError{Err: fmt.Errorf("--docker-config takes the directory that holds config.json, not the file: use --docker-config %s", filepath.Dir(filepath.Clean(dir)))}
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return &FlagError{Err: fmt.Errorf("--docker-config takes the directory that holds config.json: %s is a file", dir)}
	}
	return nil
}

// checkOutputAndTimeout checks the -o/--output and --timeout flags every
// command with live checks has.
func checkOutputAndTimeout(output string, timeout time.Duration) error {
	if output != "text" && output != "json" {
		return &FlagError{Err: fmt.Errorf("--output must be text or json, not %q", output)}
	}
	if timeout <= 0 {
		return &FlagError{Err: errors.New("--timeout must be positive")}
	}
	return nil
}

// withDefaults fills the wizard options a command did not get injected
// (tests inject them): the process's environment, host name and paths,
// and the Deps' service detection and machine id.
func withDefaults(w wizard.ApplyOptions, detect wizard.DetectFunc, machineID func() (string, error)) wizard.ApplyOptions {
	if w.Env == nil {
		w.Env = os.LookupEnv
	}
	if w.Hostname == "" {
		w.Hostname, _ = os.Hostname()
	}
	if w.Paths.Env == nil {
		w.Paths = wizard.DefaultPathEnv()
	}
	if w.DetectService == nil {
		w.DetectService = detect
	}
	if w.MachineID == nil {
		w.MachineID = machineID
	}
	return w
}

// takeDurationAfterSpace gives a duration flag with an optional value
// (pflag's NoOptDefVal, as --wait-contact) the value written after a
// space: pflag reads "--wait-contact 30s" as the flag alone plus an
// argument "30s". When the flag was given alone and the first argument is
// a duration, that argument becomes the value; the rest is returned for
// the command's own argument check. ("--wait-contact=60s 30s" cannot be
// told from "--wait-contact 30s" and takes 30s too.) A bare number there
// ("--wait-contact 30") is an error asking for the unit.
func takeDurationAfterSpace(cmd *cobra.Command, name string, args []string) ([]string, error) {
	f := cmd.Flags().Lookup(name)
	if f == nil || !f.Changed || len(args) == 0 {
		return args, nil
	}
	bare, err := time.ParseDuration(f.NoOptDefVal)
	if err != nil || f.Value.String() != bare.String() {
		return args, nil
	}
	if err := unitlessDuration(name, args[0]); err != nil {
		return nil, err
	}
	if _, err := time.ParseDuration(args[0]); err != nil {
		return args, nil
	}
	if err := f.Value.Set(args[0]); err != nil {
		return args, nil
	}
	return args[1:], nil
}

// unitlessDuration is the error for a duration flag given a bare number
// ("--timeout 30"), which Go's durations refuse with "missing unit"; nil
// when value is not a bare number.
func unitlessDuration(name, value string) error {
	if _, err := strconv.ParseFloat(value, 64); err != nil {
		return nil
	}
	return &FlagError{Err: fmt.Errorf("--%s %s has no unit: write --%s %ss (or ms, m, h)", name, value, name, value)}
}

// flagError is the root's flag error function: every flag error is a
// usage error (exit 2), and a bare number given to a duration flag says
// which unit is missing.
func flagError(_ *cobra.Command, err error) error {
	var bad *pflag.InvalidValueError
	if errors.As(err, &bad) && bad.GetFlag().Value.Type() == "duration" {
		if uerr := unitlessDuration(bad.GetFlag().Name, bad.GetValue()); uerr != nil {
			return uerr
		}
	}
	return &FlagError{Err: err}
}

// useConfigFileEnv makes CONFIG_FILE stand in for -c/--config, as it does
// for gitlab-runner (`env:"CONFIG_FILE"` on its flag): before the command
// runs, an unset --config takes CONFIG_FILE's value, so every command sees
// one explicit path however it was given and treats it alike (a missing
// file is the same error, probe's "--config given" holds). Commands without
// --config (register parses gitlab-runner's flags itself) are left alone.
func useConfigFileEnv(cmd *cobra.Command, lookup func(string) (string, bool)) error {
	f := cmd.Flags().Lookup("config")
	if f == nil || f.Changed {
		return nil
	}
	v, ok := lookup(wizard.ConfigFileEnv)
	if !ok || v == "" {
		return nil
	}
	if err := cmd.Flags().Set("config", v); err != nil {
		return &FlagError{Err: fmt.Errorf("%s: %w", wizard.ConfigFileEnv, err)}
	}
	return nil
}
