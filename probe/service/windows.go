package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// defaultWindowsService is the name `gitlab-runner install` gives the
// service when --service is not set (commands/service.go).
const defaultWindowsService = "gitlab-runner"

// scQCBufferSize is the buffer `sc.exe qc` is given, the most
// QueryServiceConfig accepts: the default 1,024 bytes can be too small for
// a long BINARY_PATH_NAME (the strings are UTF-16).
const scQCBufferSize = "8192"

// windowsEnvNote says why a Windows service's Environment is empty.
const windowsEnvNote = "environment not read (machine and account variables, the service's registry Environment): its proxy settings are unknown"

// errServiceMissing is ERROR_SERVICE_DOES_NOT_EXIST, sc.exe's exit code
// and message number when no service has the name.
const errServiceMissing = 1060

// detectWindows asks sc.exe about each service name: `sc.exe qc` for the
// command line and the account, `sc.exe query` for the state.
//
// sc.exe prints in the console's OEM code page: paths with non-ASCII
// characters may come out garbled. The field names (BINARY_PATH_NAME,
// STATE) are not translated; the state is read from its number.
func detectWindows(ctx context.Context, o Options) ([]Install, error) {
	if o.SC == "" {
		return nil, nil
	}
	var installs []Install
	var errs []error
	for _, name := range windowsServiceNames(o.Units) {
		in, ok, err := windowsInstall(ctx, o, name)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			installs = append(installs, in)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return installs, errors.Join(errs...)
}

// windowsServiceNames are the service names to ask about: Units without a
// ".service" suffix (systemd unit names name the same runner), each once
// (service names are case-insensitive); "gitlab-runner" when Units is nil.
func windowsServiceNames(units []string) []string {
	if units == nil {
		return []string{defaultWindowsService}
	}
	var names []string
	seen := map[string]bool{}
	for _, u := range units {
		n := strings.TrimSuffix(u, ".service")
		if n == "" || seen[strings.ToLower(n)] {
			continue
		}
		seen[strings.ToLower(n)] = true
		names = append(names, n)
	}
	return names
}

// windowsInstall works out one service. ok is false when no service has
// the name.
func windowsInstall(ctx context.Context, o Options, name string) (Install, bool, error) {
	out, code, err := runSC(ctx, o.SC, "qc", name, scQCBufferSize)
	switch {
	case err != nil:
		return Install{}, false, fmt.Errorf("sc.exe qc %s: %w", name, err)
	case isServiceMissing(code, out):
		return Install{}, false, nil
	case code != 0:
		return Install{}, false, fmt.Errorf("sc.exe qc %s failed (%s)", name, scFailure(out, code))
	}
	cfg := parseSCFields(out)
	in := Install{Kind: Windows, Name: name, Source: []string{"sc.exe qc " + name}, State: "unknown"}
	if n := cfg["SERVICE_NAME"]; n != "" {
		in.Name = n // the registered spelling
	}

	var ctxErr error
	out, code, err = runSC(ctx, o.SC, "query", name)
	switch {
	case err != nil:
		in.Notes = append(in.Notes, fmt.Sprintf("sc.exe query %s did not answer: state unknown", name))
		ctxErr = fmt.Errorf("sc.exe query %s: %w", name, err)
	case code != 0:
		in.Notes = append(in.Notes, fmt.Sprintf("sc.exe query %s failed (%s): state unknown", name, scFailure(out, code)))
	default:
		in.Source = append(in.Source, "sc.exe query "+name)
		if s := windowsState(parseSCFields(out)["STATE"]); s != "" {
			in.State = s
		}
		in.Running = in.State == "running"
	}

	in.User = cfg["SERVICE_START_NAME"]
	if in.User == "" {
		in.User = "LocalSystem"
	}
	in.Home = windowsServiceHome(&in, o)
	if in.Home != "" {
		in.DockerConfigPath = winJoin(in.Home, `.docker\config.json`)
	}

	argv := splitWindowsCommandLine(cfg["BINARY_PATH_NAME"])
	ra, ok := parseRunArgv(argv)
	switch {
	case len(argv) == 0:
		in.Notes = append(in.Notes, "sc.exe qc shows no BINARY_PATH_NAME: config.toml location unknown")
	case !ok:
		in.Notes = append(in.Notes, "the service's command line does not run `gitlab-runner run`: config.toml location unknown")
	default:
		rf := resolveWindowsRunnerFiles(ra, windowsServiceStartDir())
		in.ConfigPath, in.ConfigPathFromDefault, in.WorkingDirectory = rf.configPath, rf.fromDefault, rf.workDir
		if rf.fromDefault {
			in.Notes = append(in.Notes, "no --config: the runner's default, config.toml in the directory the service starts in; a CONFIG_FILE set in the service's registry Environment would win and is not read")
		}
		in.BuildUser = ra.buildUser
	}
	// The process gets the machine's variables, its account's and the
	// service's registry Environment value: none of which sc.exe shows.
	in.Notes = append(in.Notes, windowsEnvNote)
	in.RestartCommand = "Restart-Service " + powershellQuote(in.Name)
	return in, true, ctxErr
}

// resolveWindowsRunnerFiles applies the runner's rules on Windows. The
// default config file is config.toml in the directory the process starts
// in (commands/config_windows.go: os.Getwd when the command is built,
// before `run` changes directory), which for a service is startDir. A
// relative --config is opened after `run` has changed into
// --working-directory (RunCommand.Start), so it is relative to that, else
// to startDir. CONFIG_FILE is not considered: a service's environment
// lives in the registry, which sc.exe does not show.
func resolveWindowsRunnerFiles(a runArgs, startDir string) runnerFiles {
	var f runnerFiles
	base := startDir
	if a.workDir != "" {
		f.workDir = winJoin(startDir, a.workDir)
		base = f.workDir
	}
	cfg := a.config
	if cfg == "" {
		f.fromDefault = true
		f.configPath = winJoin(startDir, "config.toml")
		return f
	}
	f.configPath = winJoin(base, cfg)
	return f
}

// windowsRoot is %SystemRoot%: from the environment when this runs on
// Windows, else the usual C:\Windows.
func windowsRoot() string {
	if runtime.GOOS == "windows" {
		if r := os.Getenv("SystemRoot"); winIsAbs(r) {
			return winClean(r)
		}
	}
	return `C:\Windows`
}

// windowsServiceStartDir is the current directory the service control
// manager starts services in: %SystemRoot%\System32.
func windowsServiceStartDir() string {
	return windowsRoot() + `\System32`
}

// windowsServiceHome is USERPROFILE of the service process, which the
// runner (os.UserHomeDir) takes as home for .docker\config.json: the
// system profiles of the built-in accounts, else the account's profile
// through LookupHome (".\" marks a local account and is dropped), else "".
func windowsServiceHome(in *Install, o Options) string {
	account := strings.ToLower(in.User)
	switch {
	case account == "localsystem" || strings.HasSuffix(account, `\localsystem`) || account == `nt authority\system`:
		return windowsRoot() + `\System32\config\systemprofile`
	case account == `nt authority\localservice`:
		return windowsRoot() + `\ServiceProfiles\LocalService`
	case account == `nt authority\networkservice`:
		return windowsRoot() + `\ServiceProfiles\NetworkService`
	}
	h, err := o.LookupHome(strings.TrimPrefix(in.User, `.\`))
	if err != nil || h == "" {
		reason := "no profile"
		if err != nil {
			reason = err.Error()
		}
		in.Notes = append(in.Notes, fmt.Sprintf("home of %s unknown: %s", in.User, reason))
		return ""
	}
	return h
}

// lookupWindowsHomeElsewhere is LookupHome when Windows services are read
// on another OS: this host's accounts are not the service's.
func lookupWindowsHomeElsewhere(user string) (string, error) {
	return "", fmt.Errorf("the Windows account database is not on this %s host", runtime.GOOS)
}

// runSC runs sc.exe. err is set when it could not run or ctx ended it;
// otherwise code is its exit code and out its standard output, where
// sc.exe writes its errors too.
func runSC(ctx context.Context, sc string, args ...string) (out []byte, code int, err error) {
	cmd := exec.CommandContext(ctx, sc, args...)
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return nil, 0, ctx.Err()
	}
	var exitErr *exec.ExitError
	switch {
	case runErr == nil:
	case errors.As(runErr, &exitErr):
		code = exitErr.ExitCode()
	default:
		return nil, 0, runErr
	}
	stdout.Write(stderr.Bytes())
	return stdout.Bytes(), code, nil
}

// isServiceMissing reports whether sc.exe failed because the service does
// not exist: exit code 1060, or "FAILED 1060" in its output (the exit code
// may be cut to 8 bits where it is not run by Windows itself).
func isServiceMissing(code int, out []byte) bool {
	return code == errServiceMissing || bytes.Contains(out, []byte("FAILED "+strconv.Itoa(errServiceMissing)))
}

// scFailure is sc.exe's error message on one line, or its exit code.
func scFailure(out []byte, code int) string {
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
		if len(lines) == 2 {
			break
		}
	}
	if len(lines) == 0 {
		return fmt.Sprintf("exit code %d", code)
	}
	return firstLine(strings.Join(lines, " "))
}

// parseSCFields reads the "NAME : value" lines of `sc.exe qc` and
// `sc.exe query`. Lines without a name (the continuation lines of
// DEPENDENCIES and of STATE's flags) are skipped.
func parseSCFields(b []byte) map[string]string {
	fields := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t[") {
			continue
		}
		if _, dup := fields[k]; !dup {
			fields[k] = strings.TrimSpace(v)
		}
	}
	return fields
}

// windowsStates names the SERVICE_STATUS dwCurrentState values.
var windowsStates = map[string]string{
	"1": "stopped", "2": "start-pending", "3": "stop-pending", "4": "running",
	"5": "continue-pending", "6": "pause-pending", "7": "paused",
}

// windowsState turns `sc.exe query`'s STATE value ("4  RUNNING") into
// "running", "stopped", ...; "" when it is not a known state.
func windowsState(v string) string {
	f := strings.Fields(v)
	if len(f) == 0 {
		return ""
	}
	return windowsStates[f[0]]
}

// powershellQuote quotes a service name for PowerShell when it needs it.
func powershellQuote(s string) string {
	safe := s != "" && s[0] != '-'
	for _, c := range s {
		if !(c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
