package service

import (
	"path"
	"strings"

	"github.com/runnerup/runnerup/internal/runnerfacts"
)

// runArgs are the `gitlab-runner run` flags that decide which files the
// process reads (commands/multi.go RunCommand).
type runArgs struct {
	config    string // --config / -c
	workDir   string // --working-directory / -d
	buildUser string // --user / -u: shell-executor builds run as it
	service   string // --service / -n
}

// runnerBinaries are the names of the runner's executable.
var runnerBinaries = map[string]bool{"gitlab-runner": true, "gitlab-ci-multi-runner": true}

// Flags that take a value. The runner parses its command line with
// urfave/cli v1, i.e. Go's flag package: one or two dashes, "-c x" or
// "-c=x", and parsing stops at the first non-flag word or "--".
var (
	globalValueFlags = map[string]bool{"log-level": true, "l": true, "log-format": true, "cpuprofile": true}
	runValueFlags    = map[string]bool{
		"config": true, "c": true, "working-directory": true, "d": true,
		"user": true, "u": true, "service": true, "n": true, "listen-address": true,
	}
)

// parseRunArgv finds `run` in a command line and reads its flags. The
// command line may start with wrappers (dumb-init /entrypoint in the
// official image, env, strace) and global flags (--debug, --log-level x).
// When the gitlab-runner binary is named, the first word after it and its
// global flags must be `run`; otherwise the first word `run` is taken. ok
// is false when the command does not run the runner (register, a script).
func parseRunArgv(argv []string) (runArgs, bool) {
	start, named := 0, false
	if b := runnerBinaryIndex(argv); b >= 0 {
		start, named = b+1, true
	}
	for i := start; i < len(argv); i++ {
		w := argv[i]
		if w == "run" {
			return parseRunFlags(argv[i+1:]), true
		}
		if name, _, hasValue := cutFlag(w); name != "" {
			if !hasValue && globalValueFlags[name] {
				i++
			}
			continue
		}
		if named {
			return runArgs{}, false
		}
	}
	return runArgs{}, false
}

// runnerBinaryIndex is the index of the runner executable in a command
// line: the last word before the first `run` whose file name is
// gitlab-runner (the last, so that `strace -o /tmp/gitlab-runner
// /usr/bin/gitlab-runner run` finds the program, and before `run`, so that
// `--working-directory /home/gitlab-runner` is not taken for it); -1 when
// there is none.
func runnerBinaryIndex(argv []string) int {
	found := -1
	for i, w := range argv {
		if w == "run" {
			break
		}
		if !strings.HasPrefix(w, "-") && isRunnerBinary(w) {
			found = i
		}
	}
	return found
}

// runnerExecutable is the runner binary of a command line when it is an
// absolute path, else "".
func runnerExecutable(argv []string) string {
	if b := runnerBinaryIndex(argv); b >= 0 && strings.HasPrefix(argv[b], "/") {
		return argv[b]
	}
	return ""
}

// isRunnerBinary reports whether a program path names the runner: its
// file name is gitlab-runner (or the old gitlab-ci-multi-runner), or on
// Windows gitlab-runner.exe in any case, after a / or \ separator
// (C:\GitLab-Runner\gitlab-runner.exe).
func isRunnerBinary(w string) bool {
	base := path.Base(w)
	if i := strings.LastIndexByte(base, '\\'); i >= 0 {
		base = base[i+1:]
	}
	if len(base) > 4 && strings.EqualFold(base[len(base)-4:], ".exe") {
		base = strings.ToLower(base[:len(base)-4])
	}
	return runnerBinaries[base]
}

func parseRunFlags(args []string) runArgs {
	var r runArgs
	for i := 0; i < len(args); i++ {
		name, val, hasValue := cutFlag(args[i])
		if name == "" {
			break // "--", or the first non-flag word
		}
		if !hasValue && runValueFlags[name] && i+1 < len(args) {
			i++
			val = args[i]
		}
		switch name {
		case "config", "c":
			r.config = val
		case "working-directory", "d":
			r.workDir = val
		case "user", "u":
			r.buildUser = val
		case "service", "n":
			r.service = val
		}
	}
	return r
}

// cutFlag splits "-x", "--x" and "--x=v" into name and value; name is ""
// for a word that is not a flag, and for "-" and "--".
func cutFlag(w string) (name, value string, hasValue bool) {
	if len(w) < 2 || w[0] != '-' || w == "--" {
		return "", "", false
	}
	w = strings.TrimPrefix(strings.TrimPrefix(w, "-"), "-")
	return strings.Cut(w, "=")
}

// runnerFiles is what a runner process reads, worked out from its command
// line and environment.
type runnerFiles struct {
	configPath  string
	fromDefault bool
	workDir     string
}

// resolveRunnerFiles applies the runner's own rules. The config file is
// --config, else CONFIG_FILE, else the runner's default
// (runnerfacts.DefaultConfigFile: /etc/gitlab-runner/config.toml for uid 0,
// $HOME/.gitlab-runner/config.toml for anyone else; "" when home is
// unknown, since the runner's own fallback, its start directory, is only
// for a process without any home). A relative path is opened
// after `run` has changed into --working-directory (RunCommand.Start calls
// os.Chdir before loading the config), so it is relative to that, else to
// the process's starting directory cwd. Paths use forward slashes: they
// are Unix paths on the host or inside a container.
func resolveRunnerFiles(a runArgs, env map[string]string, cwd string, root bool, home string) runnerFiles {
	var f runnerFiles
	base := cwd
	if a.workDir != "" {
		f.workDir = joinAbs(cwd, a.workDir)
		base = f.workDir
	}
	cfg := a.config
	if cfg == "" {
		cfg = env["CONFIG_FILE"]
	}
	if cfg == "" {
		f.fromDefault = true
		if !root && home == "" {
			// Unknown, not absent: systemd and docker set HOME from
			// passwd at start, which runnerup could not read.
			return f
		}
		cfg = runnerfacts.DefaultConfigFile(false, root, home, cwd)
	}
	f.configPath = joinAbs(base, cfg)
	return f
}

// joinAbs resolves p against dir unless p is absolute; "" when p is
// relative and dir unknown.
func joinAbs(dir, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	if dir == "" {
		return ""
	}
	return path.Join(dir, p)
}

// isRootUser reports whether a User= / container user names uid 0.
func isRootUser(u string) bool {
	name, _, _ := strings.Cut(u, ":")
	return name == "" || name == "root" || name == "0"
}

// envMap turns KEY=VALUE assignments into a map; later ones win.
func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}
