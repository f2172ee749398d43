package daemon

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/runnerup/runnerup/probe/registry"
	"github.com/runnerup/runnerup/probe/service"
)

// RunnerOptions say where the installed gitlab-runner is and what of its
// configuration decides its helper image.
type RunnerOptions struct {
	// Executable is the runner binary the service starts (its ExecStart),
	// Where says so for display ("gitlab-runner.service ExecStart"). ""
	// looks for gitlab-runner on PATH.
	Executable, Where string
	// Unreadable, when set, says why the runner's binary cannot be run
	// from here (a runner in a container): the checks skip with it.
	Unreadable string
	// Environment is the service's environment: DOCKER_API_VERSION there
	// fixes the runner's API version (from 14.10 on).
	Environment []string
	// LookPath finds gitlab-runner when Executable is empty (default
	// exec.LookPath).
	LookPath func(file string) (string, error)
	// RunVersion runs `BIN --version` (default: exec with the check's
	// deadline).
	RunVersion func(ctx context.Context, bin string) ([]byte, error)

	// HelperImage is [runners.docker] helper_image (an override the runner
	// always pulls), HelperImageFlavor helper_image_flavor, Shell the
	// [[runners]] shell (pwsh adds "-pwsh" to the tag).
	HelperImage, HelperImageFlavor, Shell string
	// Registry holds the transport and certs.d for probing the helper
	// image (anonymously; the checks' credential wiring is not used).
	Registry registry.Options
	// BundleDirs replace the directories the runner loads bundled helper
	// images from (default: relative to the executable, as the runner's
	// executors/docker/internal/prebuilt does).
	BundleDirs []string
}

// RunnerInfo is what `gitlab-runner --version` says about the installed
// runner.
type RunnerInfo struct {
	Found bool
	// Path is the binary; Where how it was found.
	Path, Where string
	// Version ("17.4.0"), Revision (the 8-character git revision) and
	// OSArch ("linux/amd64") from the Version/Git revision/OS/Arch lines.
	Version, Revision, OSArch string
	// Err says why the runner was not found or its version not read.
	Err error
}

var (
	versionLineRE  = regexp.MustCompile(`(?m)^Version:\s+(\S+)`)
	revisionLineRE = regexp.MustCompile(`(?m)^Git revision:\s+(\S+)`)
	osArchLineRE   = regexp.MustCompile(`(?m)^OS/Arch:\s+(\S+)`)
)

// ParseRunnerVersion reads `gitlab-runner --version` (common/version.go
// Extended: "Version:", "Git revision:", "Git branch:", "GO version:",
// "Built:", "OS/Arch:" lines).
func ParseRunnerVersion(out string) (version, revision, osArch string, ok bool) {
	m := versionLineRE.FindStringSubmatch(out)
	if m == nil {
		return "", "", "", false
	}
	version = m[1]
	if r := revisionLineRE.FindStringSubmatch(out); r != nil {
		revision = r[1]
	}
	if a := osArchLineRE.FindStringSubmatch(out); a != nil {
		osArch = a[1]
	}
	return version, revision, osArch, true
}

// runnerInfo finds the runner and reads its version once per Checks call.
func (s *session) runnerInfo(ctx context.Context) RunnerInfo {
	ri, _ := s.runner.get(ctx, func(ctx context.Context) (RunnerInfo, error) {
		return findRunner(ctx, *s.opts.Runner), nil
	})
	return ri
}

func findRunner(ctx context.Context, o RunnerOptions) RunnerInfo {
	ri := RunnerInfo{Path: o.Executable, Where: o.Where}
	if o.Unreadable != "" {
		ri.Err = errors.New(o.Unreadable)
		return ri
	}
	if ri.Path == "" {
		look := o.LookPath
		if look == nil {
			look = exec.LookPath
		}
		p, err := look("gitlab-runner")
		if err != nil {
			ri.Err = errors.New("no gitlab-runner service was found and gitlab-runner is not on PATH")
			return ri
		}
		ri.Path, ri.Where = p, "PATH"
	}
	if ri.Where == "" {
		ri.Where = "the service's command line"
	}
	ri.Found = true
	run := o.RunVersion
	if run == nil {
		run = runVersion
	}
	out, err := run(ctx, ri.Path)
	if err != nil {
		ri.Err = fmt.Errorf("`%s --version`: %w", ri.Path, err)
		return ri
	}
	v, rev, arch, ok := ParseRunnerVersion(string(out))
	if !ok {
		ri.Err = fmt.Errorf("`%s --version` printed no \"Version:\" line", ri.Path)
		return ri
	}
	ri.Version, ri.Revision, ri.OSArch = v, rev, arch
	return ri
}

// runVersion runs the runner's --version with a bound of its own: a
// binary that hangs must not hold the check to its whole deadline.
func runVersion(ctx context.Context, bin string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--version")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(ee.Stderr) > 0 {
			return out, fmt.Errorf("%w: %s", err, strings.TrimSpace(truncate(string(ee.Stderr), 300)))
		}
		return out, err
	}
	return out, nil
}

// envValue is the last KEY=VALUE of key in env.
func envValue(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v, true
		}
	}
	return "", false
}

// RunnerAPI is what the runner's Docker client asks the daemon for.
type RunnerAPI struct {
	API    string // highest version it asks for
	Client string // the client module
	// Fixed: the version is pinned (DOCKER_API_VERSION, or a runner
	// before 14.10): no negotiation down to an older daemon.
	Fixed bool
	// MinNegotiate is the lowest daemon API the client accepts.
	MinNegotiate string
}

// runnerAPI applies the version table and the service's environment.
func runnerAPI(version string, env []string) (RunnerAPI, bool) {
	v, ok := parseSemver(version)
	if !ok {
		return RunnerAPI{}, false
	}
	row, ok := lookup(runnerClients, v)
	if !ok {
		return RunnerAPI{}, false
	}
	ra := RunnerAPI{API: row.api, Client: row.client, Fixed: row.fixed, MinNegotiate: row.minNegotiate}
	if !row.fixed {
		if e, ok := envValue(env, "DOCKER_API_VERSION"); ok && e != "" {
			ra.API, ra.Fixed = strings.TrimPrefix(e, "v"), true
			ra.Client += ", fixed by DOCKER_API_VERSION=" + e + " in the service's environment"
		}
	}
	return ra, true
}

// GitLabHelperImage is the helper image repository on registry.gitlab.com
// (helpers/container/helperimage/info.go GitLabRegistryName).
const GitLabHelperImage = "registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper"

// HelperTag is the helper image tag a Linux docker executor of this runner
// uses (helpers/container/helperimage/linux_info.go Create): [FLAVOR-]ARCH-
// REV[-pwsh], where ARCH is the daemon's /info Architecture mapped as the
// runner maps it (x86_64 stays, aarch64 → arm64, armv6l/armv7l → arm,
// amd64 → x86_64), FLAVOR is helper_image_flavor unless "alpine" (the
// default, never written), and REV is "v" + the version's x.y.z since
// 16.8 (common.VERSION) or the 8-character git revision before
// (common.REVISION).
func HelperTag(ri RunnerInfo, daemonArch, flavor, shell string) (string, bool) {
	v, ok := parseSemver(ri.Version)
	if !ok {
		return "", false
	}
	rev := "v" + strings.TrimPrefix(semverRE.FindString(ri.Version), "v")
	if v.less(semver{16, 8}) {
		if ri.Revision == "" {
			return "", false
		}
		rev = ri.Revision
	} else if strings.Count(rev, ".") < 2 {
		rev = "latest" // helperimage.Version: no x.y.z, no release tag
	}
	arch := helperArch(daemonArch)
	if arch == "" {
		return "", false
	}
	tag := arch + "-" + rev
	if flavor != "" && flavor != "alpine" {
		tag = flavor + "-" + tag
	}
	if shell == "pwsh" {
		tag += "-pwsh"
	}
	return tag, true
}

func helperArch(arch string) string {
	switch arch {
	case "armv6l", "armv7l":
		return "arm"
	case "aarch64":
		return "arm64"
	case "amd64":
		return "x86_64"
	}
	return arch
}

// helperBundle is the prebuilt archive name the runner loads before it
// pulls (prebuilt-FLAVOR-ARCH[-pwsh], .docker.tar.zst then .tar.xz, an
// amd64 spelling for x86_64 too).
func helperBundleNames(daemonArch, flavor, shell string) []string {
	if flavor == "" {
		flavor = "alpine"
	}
	arch := helperArch(daemonArch)
	base := []string{fmt.Sprintf("prebuilt-%s-%s", flavor, arch)}
	if arch == "x86_64" {
		base = append(base, fmt.Sprintf("prebuilt-%s-amd64", flavor))
	}
	var names []string
	for _, b := range base {
		if shell == "pwsh" {
			b += "-pwsh"
		}
		names = append(names, b+".docker.tar.zst", b+".tar.xz")
	}
	return names
}

// bundleDirs are the runner's PrebuiltImagesPaths for a binary at bin.
func bundleDirs(bin string) []string {
	dir := filepath.Dir(bin)
	return []string{
		filepath.Join(dir, "out/helper-images"),
		filepath.Join(dir, "../helper-images"),
		filepath.Join(dir, "../lib/gitlab-runner/helper-images"),
	}
}

// RunnerFromService is where a detected service's runner is: the binary
// of its command line and its environment. A runner in a container cannot
// be run from here.
func RunnerFromService(in service.Install) RunnerOptions {
	ro := RunnerOptions{Executable: in.Executable, Environment: in.Environment, Where: string(in.Kind) + " " + in.Name}
	if in.Kind == service.Container {
		ro.Unreadable = "the runner runs in container " + in.Name + ": its version is that of its image, which runnerup does not read"
	}
	return ro
}

// HelperSettings reads, from a config.toml, what of the first docker
// runner entry decides its helper image: [runners.docker] helper_image and
// helper_image_flavor, and the entry's shell. A file that does not parse
// gives none (the linter reports it).
func HelperSettings(configTOML []byte) (helperImage, flavor, shell string) {
	var doc struct {
		Runners []struct {
			Executor string `toml:"executor"`
			Shell    string `toml:"shell"`
			Docker   *struct {
				HelperImage       string `toml:"helper_image"`
				HelperImageFlavor string `toml:"helper_image_flavor"`
			} `toml:"docker"`
		} `toml:"runners"`
	}
	if _, err := toml.Decode(string(configTOML), &doc); err != nil {
		return "", "", ""
	}
	for _, r := range doc.Runners {
		if strings.HasPrefix(r.Executor, "docker") && r.Docker != nil {
			return r.Docker.HelperImage, r.Docker.HelperImageFlavor, r.Shell
		}
	}
	return "", "", ""
}
