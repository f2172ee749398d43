package service

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"

	"github.com/moby/moby/api/types/container"
)

// Kind is how GitLab Runner is installed.
type Kind string

const (
	Systemd   Kind = "systemd"
	Container Kind = "container"
	Launchd   Kind = "launchd" // macOS: detected by plist file only, best effort
	Windows   Kind = "windows-service"
)

// Install is one gitlab-runner service found on this host.
type Install struct {
	Kind Kind `json:"kind"`
	// Name is the unit name ("gitlab-runner.service"), the container name
	// ("gitlab-runner"), the launchd label or the Windows service name
	// ("gitlab-runner").
	Name string `json:"name"`
	// Source lists where the facts came from: the unit file, its drop-ins
	// and the EnvironmentFiles read, then "systemctl show <unit>" when
	// systemctl answered; "container <id12>"; the plist file; or
	// "sc.exe qc <name>" then "sc.exe query <name>" when that answered.
	Source []string `json:"source"`
	// ConfigPath is the host path of the config.toml the service reads, ""
	// when unknown (a container with no mount behind /etc/gitlab-runner, an
	// ExecStart that is not `gitlab-runner run`).
	ConfigPath string `json:"config_path"`
	// ConfigPathFromDefault: neither --config/-c nor CONFIG_FILE is set, so
	// ConfigPath is the runner's default for the process user.
	ConfigPathFromDefault bool `json:"config_path_from_default"`
	// WorkingDirectory is --working-directory / -d, made absolute (for a
	// container, the path inside it). The runner changes into it before it
	// opens a relative --config. Paths of a Windows service are Windows
	// paths (C:\GitLab-Runner\config.toml).
	WorkingDirectory string `json:"working_directory,omitempty"`
	// User runs the runner process: the unit's User= (default "root"), the
	// container's Config.User (default "root"), the plist's UserName, the
	// Windows service's account as sc.exe shows it ("LocalSystem",
	// `.\ci`, `CORP\ci`).
	User string `json:"user"`
	// Home is that user's home on the host: HOME from the service's
	// environment, else the passwd entry; for a Windows service the
	// account's profile (USERPROFILE: C:\Windows\System32\config\systemprofile
	// for LocalSystem, else what LookupHome says); "" when unknown and for
	// containers.
	Home string `json:"home,omitempty"`
	// DockerConfigPath is the host path of the config.json the runner reads
	// for registry credentials: $HOME/.docker/config.json of the process
	// user (the runner ignores DOCKER_CONFIG); for a container, the host
	// file behind that path when a mount covers it, else "".
	DockerConfigPath string `json:"docker_config_path,omitempty"`
	// Executable is the runner binary the service starts, when its
	// command line names it by an absolute host path (systemd, launchd);
	// "" otherwise (containers, Windows). Its `--version` tells which
	// Docker API and helper image the runner uses.
	Executable string `json:"executable,omitempty"`
	// BuildUser is --user / -u: shell-executor builds run as it. It does not
	// change which files the runner process reads.
	BuildUser string `json:"build_user,omitempty"`
	// Environment is what the service process gets, as KEY=VALUE: the
	// unit's Environment= then its EnvironmentFile= values (which override,
	// as in systemd), each key once; a container's Config.Env; nil for a
	// Windows service, whose environment is not read (a note says so).
	// Values are raw and may hold credentials: show them through
	// RedactedEnvironment.
	Environment []string `json:"environment,omitempty"`
	// State is systemd's ActiveState ("active", "inactive", "failed", ...),
	// the container's State.Status ("running", "exited", "created"), the
	// Windows service's state ("running", "stopped", "start-pending",
	// "stop-pending", "paused", ...), or "unknown".
	State   string `json:"state"`
	Running bool   `json:"running"`
	// RestartCommand restarts the service so it reads changed files. For a
	// Windows service it is a PowerShell command (Restart-Service
	// gitlab-runner), to run as an administrator.
	RestartCommand string `json:"restart_command"`
	// UserService marks a per-user service (a systemd --user unit, a
	// launchd agent): it runs as the user and restarts without sudo.
	UserService bool `json:"user_service,omitempty"`
	// Notes say what could not be read or decided, for display.
	Notes []string `json:"notes,omitempty"`
}

// ContainerAPI is the part of the Docker Engine client Detect uses;
// daemon.Engine satisfies it.
type ContainerAPI interface {
	// ContainerList lists containers, stopped ones too when all is set.
	ContainerList(ctx context.Context, all bool) ([]container.Summary, error)
	ContainerInspect(ctx context.Context, containerID string) (container.InspectResponse, error)
}

// Options say where to look. The zero value looks at this host.
type Options struct {
	// UnitDirs is the systemd system unit search path, highest priority
	// first; nil means systemd's default (/etc/systemd/system, ...).
	UnitDirs []string
	// UserUnitDirs is where systemd --user units are looked for; nil means
	// HomeDir/.config/systemd/user (where `gitlab-runner install
	// --user-service` puts them), empty means none.
	UserUnitDirs []string
	// Units are the unit names to look for; nil means gitlab-runner.service
	// plus any gitlab-runner*.service and gitlab-ci-multi-runner.service
	// found in the unit directories. On Windows they are service names (a
	// ".service" suffix is dropped); nil means gitlab-runner.
	Units []string
	// Systemctl is the path of systemctl; "" looks it up in PATH, "-" does
	// not use it.
	Systemctl string
	// SC is the path of sc.exe, which reads Windows services; "" looks it
	// up in PATH, "-" does not use it (no Windows services are found).
	SC string
	// Docker lists containers; nil skips container detection.
	Docker ContainerAPI
	// LookupHome returns a user's home directory (a name or a numeric uid;
	// on Windows an account name, `.\` dropped); nil uses the passwd
	// database through os/user (on Windows, the account's profile), and
	// finds no Windows account when GOOS is "windows" on another OS.
	LookupHome func(user string) (string, error)
	// Euid decides whether RestartCommand needs sudo; callers pass
	// os.Geteuid().
	Euid int
	// GOOS selects the service managers: systemd on linux, launchd on
	// darwin, Windows services (through sc.exe) on windows; "" is
	// runtime.GOOS. Containers are looked for everywhere.
	GOOS string
	// HomeDir is the current user's home, for systemd --user units and
	// launchd agents; "" is os.UserHomeDir().
	HomeDir string
	// UserName is the current user's name, who runs per-user services; ""
	// is os/user.Current().
	UserName string
	// LaunchDaemonsDir holds system-wide launchd plists; "" is
	// /Library/LaunchDaemons.
	LaunchDaemonsDir string
}

// withDefaults fills in the zero fields from the running process.
func (o Options) withDefaults() Options {
	defaultDirs := o.UnitDirs == nil
	if defaultDirs {
		o.UnitDirs = defaultUnitDirs
	}
	if o.GOOS == "" {
		o.GOOS = runtime.GOOS
	}
	switch {
	case o.LookupHome != nil:
	case o.GOOS == "windows" && runtime.GOOS != "windows":
		o.LookupHome = lookupWindowsHomeElsewhere
	default:
		o.LookupHome = lookupHome
	}
	if o.HomeDir == "" {
		o.HomeDir, _ = os.UserHomeDir()
	}
	if o.UserName == "" {
		if u, err := user.Current(); err == nil {
			o.UserName = u.Username
		}
	}
	if o.UserUnitDirs == nil && o.HomeDir != "" {
		o.UserUnitDirs = []string{filepath.Join(o.HomeDir, ".config", "systemd", "user")}
	}
	if o.LaunchDaemonsDir == "" {
		o.LaunchDaemonsDir = "/Library/LaunchDaemons"
	}
	switch {
	case o.Systemctl == "-":
		o.Systemctl = ""
	case o.Systemctl == "" && defaultDirs && !systemdBooted():
		// systemctl would only say "System has not been booted with
		// systemd" (containers, WSL): the unit files answer alone, and
		// apply does not pay for the exec.
	case o.Systemctl == "":
		o.Systemctl, _ = exec.LookPath("systemctl")
	}
	switch {
	case o.SC == "-":
		o.SC = ""
	case o.SC == "" && o.GOOS == "windows":
		o.SC, _ = exec.LookPath("sc.exe")
	}
	return o
}

// lookupHome reads the passwd entry of a user name or numeric uid.
func lookupHome(name string) (string, error) {
	u, err := user.Lookup(name)
	if err != nil {
		if _, numErr := strconv.Atoi(name); numErr == nil {
			u, err = user.LookupId(name)
		}
	}
	if err != nil {
		return "", err
	}
	return u.HomeDir, nil
}

// Detect returns every gitlab-runner install found on this host, running
// ones first, then by Kind (systemd, container, launchd, Windows service)
// and name.
//
// A missing service manager is not an error: no systemd, no systemctl, no
// Docker daemon to connect to, Docker nil, or no sc.exe just mean no
// installs of that kind. Errors are for the unexpected (an unreadable unit
// directory, a Docker API failure other than "cannot connect", a broken
// plist, sc.exe failing other than with "no such service") and for ctx
// ending before systemctl, Docker or sc.exe answered. Each kind is detected on
// its own, so the installs found are returned together with the joined
// errors of the others: callers should use both.
func Detect(ctx context.Context, o Options) ([]Install, error) {
	o = o.withDefaults()
	var installs []Install
	var errs []error
	if o.GOOS == "linux" {
		found, err := detectSystemd(ctx, o)
		installs = append(installs, found...)
		errs = append(errs, err)
	}
	if o.Docker != nil {
		found, err := detectContainers(ctx, o.Docker)
		installs = append(installs, found...)
		errs = append(errs, err)
	}
	if o.GOOS == "darwin" {
		found, err := detectLaunchd(o)
		installs = append(installs, found...)
		errs = append(errs, err)
	}
	if o.GOOS == "windows" {
		found, err := detectWindows(ctx, o)
		installs = append(installs, found...)
		errs = append(errs, err)
	}
	sortInstalls(installs)
	return installs, errors.Join(errs...)
}

// Primary is the install the runner most likely uses: the first running
// one, else the first one; ok is false when there is none.
func Primary(installs []Install) (Install, bool) {
	for _, in := range installs {
		if in.Running {
			return in, true
		}
	}
	if len(installs) == 0 {
		return Install{}, false
	}
	return installs[0], true
}

var kindOrder = map[Kind]int{Systemd: 0, Container: 1, Launchd: 2, Windows: 3}

func sortInstalls(installs []Install) {
	sort.SliceStable(installs, func(i, j int) bool {
		a, b := installs[i], installs[j]
		switch {
		case a.Running != b.Running:
			return a.Running
		case a.Kind != b.Kind:
			return kindOrder[a.Kind] < kindOrder[b.Kind]
		case a.UserService != b.UserService:
			return !a.UserService
		}
		return a.Name < b.Name
	})
}

// systemdBooted is sd_booted(3): systemd is the init system when
// /run/systemd/system exists.
func systemdBooted() bool {
	st, err := os.Stat("/run/systemd/system")
	return err == nil && st.IsDir()
}
