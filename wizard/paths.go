package wizard

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/runnerup/runnerup/internal/runnerfacts"
	"github.com/runnerup/runnerup/probe/service"
)

// PathEnv is what default paths depend on; injected so tests need no root.
type PathEnv struct {
	Euid int
	Home string
	Cwd  string
	Env  Env
	// Service is the gitlab-runner service found on this host (nil: none
	// or not looked for); its files become the defaults.
	Service *service.Install
}

// DefaultPathEnv reads the running process.
func DefaultPathEnv() PathEnv {
	home, _ := os.UserHomeDir()
	cwd, _ := os.Getwd()
	return PathEnv{Euid: os.Geteuid(), Home: home, Cwd: cwd, Env: os.LookupEnv}
}

// Paths are the files apply writes.
type Paths struct {
	ConfigTOML      string
	DockerConfigDir string
}

// DefaultConfigPath is where GitLab Runner itself looks when run here
// (runnerfacts.DefaultConfigFile): /etc/gitlab-runner for root,
// ~/.gitlab-runner otherwise, the working directory without a home and on
// Windows.
func DefaultConfigPath(pe PathEnv) string {
	return runnerfacts.DefaultConfigFile(runtime.GOOS == "windows", pe.Euid == 0, pe.Home, pe.Cwd)
}

// ConfigFileEnv is the environment form of gitlab-runner's -c/--config
// (`env:"CONFIG_FILE"` on the flag in its commands/*.go): the config.toml
// to use when no flag names one.
const ConfigFileEnv = "CONFIG_FILE"

// ConfigFileFromEnv is CONFIG_FILE when set and non-empty.
func (pe PathEnv) ConfigFileFromEnv() string {
	if pe.Env == nil {
		return ""
	}
	v, _ := pe.Env(ConfigFileEnv)
	return v
}

// ConfigNamedBy names where an explicit config.toml path came from, for
// messages: CONFIG_FILE when it holds that path, else --config.
func (pe PathEnv) ConfigNamedBy(path string) string {
	if v := pe.ConfigFileFromEnv(); v != "" && v == path {
		return ConfigFileEnv
	}
	return "--config"
}

// MissingConfigError is the one answer to a config.toml named by --config
// or CONFIG_FILE that does not exist, where runnerup has to read one
// (probe, check, diagnose; apply creates it instead).
func MissingConfigError(path string, pe PathEnv) error {
	return &InputError{Err: fmt.Errorf("%s does not exist (named by %s): give --config the path of an existing config.toml", path, pe.ConfigNamedBy(path))}
}

// ResolvePaths picks the output paths: flags (CONFIG_FILE standing in for
// --config, as in gitlab-runner), then the answers' [output], then the
// files the installed service reads, then the runner's defaults. GitLab
// Runner reads $HOME/.docker/config.json of its own user and ignores
// DOCKER_CONFIG, so runnerup does too, and says so when DOCKER_CONFIG
// points elsewhere.
func ResolvePaths(out Output, configFlag, dockerFlag string, pe PathEnv) (Paths, []FieldError) {
	var p Paths
	var warnings []FieldError
	switch {
	case configFlag != "":
		p.ConfigTOML = configFlag
	case pe.ConfigFileFromEnv() != "":
		p.ConfigTOML = pe.ConfigFileFromEnv()
	case out.ConfigTOML != "":
		p.ConfigTOML = out.ConfigTOML
	case pe.Service != nil && pe.Service.ConfigPath != "":
		p.ConfigTOML = pe.Service.ConfigPath
	default:
		p.ConfigTOML = DefaultConfigPath(pe)
	}
	defaultDocker := filepath.Join(pe.Home, ".docker")
	switch {
	case dockerFlag != "":
		p.DockerConfigDir = dockerFlag
	case out.DockerConfig != "":
		p.DockerConfigDir = out.DockerConfig
	case pe.Service != nil && pe.Service.DockerConfigPath != "":
		p.DockerConfigDir = filepath.Dir(pe.Service.DockerConfigPath)
	default:
		p.DockerConfigDir = defaultDocker
		if pe.Env != nil {
			if dc, ok := pe.Env("DOCKER_CONFIG"); ok && dc != "" && filepath.Clean(dc) != filepath.Clean(defaultDocker) {
				warnings = append(warnings, FieldError{
					Field: "output.docker_config", Warning: true,
					Problem: fmt.Sprintf("DOCKER_CONFIG is %s, but GitLab Runner ignores DOCKER_CONFIG and reads %s", dc, filepath.Join(defaultDocker, "config.json")),
					Fix:     "runnerup writes where the runner looks; pass --docker-config to write elsewhere on purpose",
				})
			}
		}
	}
	return p, warnings
}
