package daemon

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/moby/moby/api/types/system"

	"github.com/runnerup/runnerup/probe"
)

// checkPlatform reports the platform images must offer. It comes from
// /version (GOOS/GOARCH spelling), not /info, whose Architecture is uname's
// x86_64/aarch64 (pull-failures §0.2); /info only adds what /version lacks,
// the ARM variant and the Windows build.
func (s *session) checkPlatform(ctx context.Context, _ probe.Deps) probe.Result {
	v, err := s.serverVersion(ctx)
	if err != nil {
		return apiFailure(err)
	}
	// /info is slower than /version (the daemon runs its runtimes to
	// report their versions); ask it only for what /version lacks, so the
	// image checks waiting for the platform do not wait for it too.
	var info *system.Info
	if needsInfo(v) {
		if i, err := s.systemInfo(ctx); err == nil {
			info = &i
		}
	}
	p := platformOf(v, info)
	detail := p.String()
	if p.OSVersion != "" {
		detail += " " + p.OSVersion
	}
	if v.KernelVersion != "" {
		detail += fmt.Sprintf(" (kernel %s)", v.KernelVersion)
	}
	r := probe.Passf("%s", detail)
	if p.OS != s.opts.WantOS {
		r = probe.Failf(wrongOSHint(s.opts.WantOS, p.OS), "the daemon runs %s containers (%s), the executor needs %s", p.OS, detail, s.opts.WantOS)
	}
	r.Data = p
	return r
}

func wrongOSHint(want, got string) string {
	if want == "windows" {
		return "the docker-windows executor needs a Windows Docker daemon: run the runner on Windows Server with Docker in Windows-containers mode (Docker Desktop: \"Switch to Windows containers…\"), or choose the docker executor for Linux images"
	}
	if got == "windows" {
		return "the docker executor runs Linux images: switch the daemon to Linux containers (Docker Desktop: \"Switch to Linux containers…\"), or choose the docker-windows executor"
	}
	return fmt.Sprintf("point the runner at a %s Docker daemon ([runners.docker] host), or choose an executor for %s", want, got)
}

// needsInfo reports whether platformOf needs /info beside v: for an OS or
// architecture /version left out, or the variant of 32-bit ARM.
func needsInfo(v system.VersionResponse) bool {
	return v.Os == "" || v.Arch == "" || goarch(v.Arch) == "arm"
}

// platformOf builds the daemon's platform from /version, with the variant
// and OS version from /info when it answered (info may be nil).
func platformOf(v system.VersionResponse, info *system.Info) probe.Platform {
	p := probe.Platform{OS: strings.ToLower(v.Os), Architecture: goarch(v.Arch)}
	if info != nil {
		if p.OS == "" {
			p.OS = strings.ToLower(info.OSType)
		}
		if p.Architecture == "" {
			p.Architecture = goarch(info.Architecture)
		}
		if p.Architecture == "arm" {
			p.Variant = armVariant(info.Architecture)
		}
	}
	if p.OS == "windows" {
		p.OSVersion = windowsVersion(v.KernelVersion)
	}
	// Docker 23 (API 1.42) moved index selection to platforms.Only.
	p.ExactIndexMatch = probe.ExactIndexMatchFor(v.APIVersion)
	return p
}

// goarch maps uname machine names to GOARCH, for daemons (or compatible
// engines) that answer in uname's spelling; GOARCH names pass through.
func goarch(arch string) string {
	a := strings.ToLower(arch)
	switch a {
	case "x86_64", "x86-64", "amd64":
		return "amd64"
	case "aarch64", "arm64":
		return "arm64"
	case "i386", "i486", "i586", "i686", "x86", "386":
		return "386"
	case "ppc64le":
		return "ppc64le"
	case "s390x":
		return "s390x"
	}
	if strings.HasPrefix(a, "armv") {
		return "arm"
	}
	return a
}

var (
	armRE           = regexp.MustCompile(`^armv(\d+)`)
	windowsKernelRE = regexp.MustCompile(`^(\d+)\.(\d+) (\d+)`)
)

// armVariant reads the variant of 32-bit ARM from uname ("armv7l" → "v7").
// arm64 stays empty: platform matchers take an empty arm64 variant as v8.
func armVariant(uname string) string {
	m := armRE.FindStringSubmatch(strings.ToLower(uname))
	if m == nil {
		return ""
	}
	return "v" + m[1]
}

// windowsVersion turns the daemon's Windows kernel version
// ("10.0 20348 (20348.1.amd64fre.fe_release.210507-1500)") into the
// major.minor.build form image indexes use for os.version ("10.0.20348").
func windowsVersion(kernel string) string {
	m := windowsKernelRE.FindStringSubmatch(kernel)
	if m == nil {
		return ""
	}
	return m[1] + "." + m[2] + "." + m[3]
}
