package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/runnerup/runnerup/internal/envlist"
)

// systemdScope is the system manager or the user's --user manager.
type systemdScope struct {
	user  bool
	dirs  []string
	units []string
	ctl   *systemctl
}

// detectSystemd finds gitlab-runner units of the system manager and, when
// their files exist, of the current user's manager.
func detectSystemd(ctx context.Context, o Options) ([]Install, error) {
	system := systemdScope{dirs: o.UnitDirs, units: o.Units, ctl: &systemctl{path: o.Systemctl}}
	if system.units == nil {
		system.units = findUnitNames(system.dirs)
	}
	// A user unit is looked for only where its file is: asking a user
	// manager about gitlab-runner.service blindly fails under sudo and
	// finds nothing otherwise.
	userScope := systemdScope{user: true, dirs: o.UserUnitDirs, ctl: &systemctl{path: o.Systemctl, user: true}}
	candidates := o.Units
	if candidates == nil {
		candidates = findUnitNames(userScope.dirs)
	}
	for _, u := range candidates {
		if frag, _, masked, err := unitFiles(userScope.dirs, u); err == nil && frag != "" && !masked {
			userScope.units = append(userScope.units, u)
		}
	}

	var installs []Install
	var errs []error
	for _, scope := range []systemdScope{system, userScope} {
		for _, unit := range scope.units {
			in, ok, err := systemdInstall(ctx, o, scope, unit)
			if err != nil {
				errs = append(errs, err)
			}
			if ok {
				installs = append(installs, in)
			}
		}
	}
	return installs, errors.Join(errs...)
}

// systemdInstall works out one unit. ok is false when the unit does not
// exist or is masked.
func systemdInstall(ctx context.Context, o Options, scope systemdScope, unit string) (Install, bool, error) {
	in := Install{Kind: Systemd, Name: unit, State: "unknown", UserService: scope.user}
	props, note, ctlErr := scope.ctl.show(ctx, unit)
	if note != "" {
		in.Notes = append(in.Notes, note)
	}
	var files []string
	if props != nil {
		switch props["LoadState"] {
		case "not-found", "masked":
			return Install{}, false, ctlErr
		}
		if frag := props["FragmentPath"]; frag != "" && frag != os.DevNull {
			files = append(files, frag)
			files = append(files, strings.Fields(props["DropInPaths"])...)
		}
		if s := props["ActiveState"]; s != "" {
			in.State = s
		}
		in.Running = in.State == "active" || in.State == "reloading"
	}
	if files == nil {
		frag, dropins, masked, err := unitFiles(scope.dirs, unit)
		if err != nil {
			return Install{}, false, errors.Join(ctlErr, fmt.Errorf("%s: %w", unit, err))
		}
		if masked || frag == "" && props == nil {
			return Install{}, false, ctlErr
		}
		if frag != "" {
			files = append([]string{frag}, dropins...)
		}
	}

	// %h and %u name the service manager's user: root for system units.
	sp := specifiers{unit: unit, home: "/root", user: "root"}
	if scope.user {
		sp.home, sp.user = o.HomeDir, o.UserName
	}
	var us unitSettings
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			in.Notes = append(in.Notes, fmt.Sprintf("cannot read %s: %v", f, err))
			continue
		}
		us.parseUnit(f, b)
		in.Source = append(in.Source, f)
	}
	in.Notes = append(in.Notes, us.notes...)
	for i, kv := range us.env {
		us.env[i] = sp.expand(kv)
	}
	var ctlArgv []string // systemctl's ExecStart, split but not substituted
	if props != nil {
		ctlArgv = execStartArgv(props["ExecStart"])
		if u := props["User"]; u != "" {
			us.user = u
		}
		// Each assignment is printed shell-quoted when needed.
		if e := props["Environment"]; e != "" {
			if words, err := splitWords(e); err == nil {
				us.env = words
			} else {
				in.Notes = append(in.Notes, fmt.Sprintf("%s Environment: %v; using the unit files'", scope.ctl.command("show"), err))
			}
		}
		if wd := props["WorkingDirectory"]; wd != "" {
			us.workDir = strings.TrimPrefix(wd, "!")
		}
	}

	// The process user: a user manager cannot switch users.
	in.User = us.user
	switch {
	case scope.user:
		in.User = o.UserName
	case in.User == "":
		in.User = "root"
	}

	in.Environment = envlist.Merge(nil, us.env...)
	readEnvironmentFiles(&in, us.envFiles, sp)
	env := envMap(in.Environment)
	in.Home = processHome(&in, env, o, scope.user)
	if in.Home != "" {
		in.DockerConfigPath = path.Join(in.Home, ".docker", "config.json")
	}

	var execStart []string
	switch {
	case len(ctlArgv) > 0:
		execStart = expandWords(ctlArgv, env)
	case len(us.execStart) > 0:
		execStart = commandWords(us.execStart[len(us.execStart)-1], sp, env, &in.Notes)
	}
	ra, ok := parseRunArgv(execStart)
	in.Executable = runnerExecutable(execStart)
	switch {
	case len(execStart) == 0:
		in.Notes = append(in.Notes, "no ExecStart: config.toml location unknown")
	case !ok:
		in.Notes = append(in.Notes, "ExecStart does not run `gitlab-runner run`: config.toml location unknown")
	default:
		rf := resolveRunnerFiles(ra, env, unitWorkDir(us.workDir, in.Home, scope.user, sp), isRootUser(in.User), in.Home)
		in.ConfigPath, in.ConfigPathFromDefault, in.WorkingDirectory = rf.configPath, rf.fromDefault, rf.workDir
		in.BuildUser = ra.buildUser
	}

	if props != nil {
		in.Source = append(in.Source, scope.ctl.command("show")+" "+unit)
	}
	switch {
	case scope.user:
		in.RestartCommand = "systemctl --user restart " + unit
	case o.Euid == 0:
		in.RestartCommand = "systemctl restart " + unit
	default:
		in.RestartCommand = "sudo systemctl restart " + unit
	}
	return in, true, ctlErr
}

// readEnvironmentFiles adds the EnvironmentFile= assignments to
// in.Environment, overriding Environment= as systemd does. A leading "-"
// makes a missing file fine; any other unreadable file is noted, not an
// error: it is often root-only while Detect runs as a user.
func readEnvironmentFiles(in *Install, files []string, sp specifiers) {
	for _, ef := range files {
		optional := strings.HasPrefix(ef, "-")
		p := sp.expand(strings.TrimPrefix(ef, "-"))
		b, err := os.ReadFile(p)
		switch {
		case err == nil:
			in.Environment = envlist.Merge(in.Environment, parseEnvFile(b)...)
			in.Source = append(in.Source, p)
		case errors.Is(err, fs.ErrNotExist) && optional:
		case errors.Is(err, fs.ErrNotExist):
			in.Notes = append(in.Notes, fmt.Sprintf("EnvironmentFile %s does not exist: systemd will not start the unit", p))
		default:
			in.Notes = append(in.Notes, fmt.Sprintf("cannot read EnvironmentFile %s: %v", p, err))
		}
	}
}

// processHome is $HOME of the runner process, which decides the
// config.json it reads: HOME from the unit's environment, else the user
// manager's home for a user unit, else the passwd entry of in.User (which
// systemd puts in HOME for User= units; root's for units without one).
func processHome(in *Install, env map[string]string, o Options, user bool) string {
	switch {
	case env["HOME"] != "":
		return env["HOME"]
	case user && o.HomeDir != "":
		return o.HomeDir
	}
	h, err := o.LookupHome(in.User)
	if err != nil {
		in.Notes = append(in.Notes, fmt.Sprintf("home of %s unknown: %v", in.User, err))
	}
	return h
}

// commandWords turns an ExecStart= value from a unit file into argv:
// prefixes stripped ("@" drops the argv[0] word that follows the path, ":"
// turns off variable substitution), specifiers resolved, words split and
// $VARIABLES substituted as systemd does when it starts the process.
func commandWords(raw string, sp specifiers, env map[string]string, notes *[]string) []string {
	expand, argv0 := true, false
	for raw != "" && strings.ContainsRune("-@+!:|", rune(raw[0])) {
		switch raw[0] {
		case '@':
			argv0 = true
		case ':':
			expand = false
		}
		raw = raw[1:]
	}
	words, err := splitWords(sp.expand(raw))
	if err != nil {
		*notes = append(*notes, fmt.Sprintf("ExecStart: %v", err))
		return nil
	}
	if argv0 && len(words) >= 2 {
		words = slices.Delete(words, 1, 2)
	}
	if expand {
		words = expandWords(words, env)
	}
	return words
}

// unitWorkDir is the directory the process starts in: WorkingDirectory=
// ("-" prefix: missing is fine; "~": the user's home), else "/" for the
// system manager and the home directory for a user manager.
func unitWorkDir(wd, home string, user bool, sp specifiers) string {
	wd = strings.TrimPrefix(wd, "-")
	switch {
	case wd == "~":
		return home
	case strings.HasPrefix(wd, "~/"):
		if home == "" {
			return ""
		}
		return path.Join(home, wd[2:])
	case wd != "":
		return sp.expand(wd)
	case user:
		return home
	}
	return "/"
}
