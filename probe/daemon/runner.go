package daemon

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/runnerup/runnerup/internal/envlist"
	"github.com/runnerup/runnerup/internal/runnerconf"
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

	// Helpers are the helper images to check, one check each (HelperSpecs
	// reads them from a config.toml, one per distinct image). None: one
	// check of the default helper image.
	Helpers []HelperSpec
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
		if e, ok := envlist.Value(env, "DOCKER_API_VERSION"); ok && e != "" {
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
	rev, ok := helperRevision(ri)
	if !ok {
		return "", false
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

// helperRevision is the tag's REV part (see HelperTag).
func helperRevision(ri RunnerInfo) (string, bool) {
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
	return rev, true
}

// windowsBuilds maps a Windows kernel build to the servercore version of
// the helper image (helpers/container/windows/version.go
// supportedWindowsBuilds), and windowsLTSC that version to the LTSC year in
// the bundled archive's name (helpers/container/helperimage/windows_info.go).
var (
	windowsBuilds = map[string]string{
		"10.0.17763": "1809", "10.0.20348": "21H2", "10.0.26100": "24H2",
		"10.0.19043": "1809", "10.0.19044": "1809", "10.0.19045": "1809",
		"10.0.22000": "21H2", "10.0.22621": "21H2", "10.0.22631": "21H2", "10.0.26200": "24H2",
	}
	windowsLTSC = map[string]string{"1809": "ltsc2019", "21H2": "ltsc2022", "24H2": "ltsc2025"}
)

// WindowsHelper is the helper image tag and bundled archive base name the
// runner uses on a Windows daemon (helpers/container/helperimage/
// windows_info.go Create): ARCH-REV-servercoreVERSION, VERSION from the
// daemon's kernel build (1809, 21H2, 24H2), ARCH arm64 only on 24H2 and
// an arm64 daemon, else x86_64; the shell does not change the tag. ok is
// false, with why, when the runner would fail ("unsupported Windows
// version").
func WindowsHelper(ri RunnerInfo, daemonArch, kernelVersion string) (tag, prebuilt string, why string) {
	rev, ok := helperRevision(ri)
	if !ok {
		return "", "", "the runner's version is not known"
	}
	parts := strings.FieldsFunc(kernelVersion, func(r rune) bool { return r == '.' || r == ' ' })
	if len(parts) < 3 {
		return "", "", fmt.Sprintf("the daemon's kernel version %q names no Windows build", kernelVersion)
	}
	version, ok := windowsBuilds[strings.Join(parts[:3], ".")]
	if !ok {
		return "", "", fmt.Sprintf("the runner supports no Windows build %q (\"unsupported Windows version\")", strings.Join(parts[:3], "."))
	}
	arch := "x86_64"
	if (daemonArch == "aarch64" || daemonArch == "arm64") && version == "24H2" {
		arch = "arm64"
	}
	return fmt.Sprintf("%s-%s-servercore%s", arch, rev, version), fmt.Sprintf("prebuilt-windows-servercore-%s-%s", windowsLTSC[version], arch), ""
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

// helperBundleNames are the prebuilt archive names the runner loads
// before it pulls a Linux helper: prebuilt-FLAVOR-ARCH[-pwsh].
func helperBundleNames(daemonArch, flavor, shell string) []string {
	if flavor == "" {
		flavor = "alpine"
	}
	base := fmt.Sprintf("prebuilt-%s-%s", flavor, helperArch(daemonArch))
	if shell == "pwsh" {
		base += "-pwsh"
	}
	return bundleFiles(base)
}

// bundleFiles are the files the runner tries for a prebuilt base name:
// .docker.tar.zst then .tar.xz, and an amd64 spelling of x86_64 too
// (executors/docker/internal/prebuilt).
func bundleFiles(base string) []string {
	names := []string{base + ".docker.tar.zst", base + ".tar.xz"}
	if strings.Contains(base, "x86_64") {
		alt := strings.ReplaceAll(base, "x86_64", "amd64")
		names = append(names, alt+".docker.tar.zst", alt+".tar.xz")
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

// HelperSpec is what of one or more [[runners]] entries decides the helper
// image their jobs use; entries with the same settings share it.
type HelperSpec struct {
	// Runners are the entries' names (for display).
	Runners []string
	// Windows: a docker-windows entry, whose jobs run on a Windows daemon
	// with a servercore helper image.
	Windows bool
	// Image is [runners.docker] helper_image (an override the runner
	// always pulls), Flavor helper_image_flavor ("" or "alpine": the
	// default), Shell the [[runners]] shell (pwsh adds "-pwsh" to a Linux
	// tag).
	Image, Flavor, Shell string
}

// key is what decides the image: entries with the same key use the same one.
func (h HelperSpec) key() string {
	switch {
	case h.Image != "":
		return h.Image
	case h.Windows:
		return "windows"
	}
	k := h.Flavor
	if k == "alpine" {
		k = ""
	}
	if h.Shell == "pwsh" {
		k = strings.TrimPrefix(k+"-pwsh", "-")
	}
	return k
}

// HelperCheckID is the id of spec's runner.helper-image check: the plain
// id for the default helper image (and whenever it is the only one),
// else suffixed with the helper_image, "windows", or flavor and pwsh.
func HelperCheckID(spec HelperSpec, only bool) string {
	if k := spec.key(); !only && k != "" {
		return IDHelperImage + "." + k
	}
	return IDHelperImage
}

// HelperSpecs reads, from a config.toml, what of each docker runner entry
// decides its helper image ([runners.docker] helper_image and
// helper_image_flavor, the entry's shell, docker-windows or not), one spec
// per distinct image in the file's order. A file that does not parse gives
// none (the linter reports it).
func HelperSpecs(configTOML []byte) []HelperSpec {
	f, err := runnerconf.Parse(configTOML)
	if err != nil {
		return nil
	}
	return HelperSpecsOf(f.Runners)
}

// HelperSpecsOf is HelperSpecs for entries decoded already.
func HelperSpecsOf(runners []runnerconf.Runner) []HelperSpec {
	var specs []HelperSpec
	for _, r := range runners {
		if !strings.HasPrefix(r.Executor, "docker") || r.Docker == nil {
			continue
		}
		spec := HelperSpec{Windows: r.Executor == "docker-windows", Image: r.Docker.HelperImage, Flavor: r.Docker.HelperImageFlavor, Shell: r.Shell}
		i := slices.IndexFunc(specs, func(h HelperSpec) bool { return h.key() == spec.key() })
		if i < 0 {
			specs, i = append(specs, spec), len(specs)
		}
		if r.Name != "" {
			specs[i].Runners = append(specs[i].Runners, r.Name)
		}
	}
	return specs
}
