package runnerfacts

import (
	"path"
	"path/filepath"
)

// DefaultConfigFile is the config.toml GitLab Runner reads without
// --config/-c or CONFIG_FILE (commands/config.go GetDefaultConfigFile with
// commands/config_unix.go and config_windows.go): on Unix
// /etc/gitlab-runner/config.toml for uid 0, else
// $HOME/.gitlab-runner/config.toml, else config.toml in the directory the
// process started in; on Windows config.toml in that directory. home is
// the runner's home as it finds it (helpers/homedir: $HOME, else the
// passwd entry); "" means it has none. The runner works the path out at
// start-up (init), before `run` changes into --working-directory, so
// startDir is where the process started; an empty startDir gives the
// relative "config.toml".
//
// Unix paths are joined with forward slashes (a service's or container's
// paths, read on any host); Windows paths with the host's separator.
func DefaultConfigFile(windows, root bool, home, startDir string) string {
	switch {
	case windows:
		return filepath.Join(startDir, "config.toml")
	case root:
		return "/etc/gitlab-runner/config.toml"
	case home != "":
		return path.Join(home, ".gitlab-runner", "config.toml")
	}
	return path.Join(startDir, "config.toml")
}
