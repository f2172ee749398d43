package credentials

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/runnerup/runnerup/internal/envlist"
	"github.com/runnerup/runnerup/probe/service"
)

// systemdDefaultPATH is the PATH systemd's system manager gives a service
// that sets none: systemd.exec(5), "Environment Variables Set or
// Propagated by the Service Manager" (systemd src/basic/path-util.h
// DEFAULT_PATH). On a distribution with an unmerged /usr (/bin not a
// symlink to /usr/bin) systemd appends splitUsrPATH. The unit GitLab
// Runner's deb/rpm packages install (`gitlab-runner install`, kardianos/
// service's systemd template) sets no PATH, so its helpers are looked up
// here (docs/gitlab-runner.md §5.4).
const (
	systemdDefaultPATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"
	splitUsrPATH       = ":/sbin:/bin"
)

// RunAs is the user a credential helper is run as when runnerup (as root)
// checks for a service that runs as another user.
type RunAs struct {
	User     string
	UID, GID uint32
	Groups   []uint32
}

// Process is the gitlab-runner process as its credential helpers see it:
// docker-credential-helpers runs them with the runner's own environment
// (PATH included) and user.
type Process struct {
	// Env is the runner process's environment; nil means runnerup's own.
	Env []string
	// PATHFrom says where Env's PATH comes from, for messages.
	PATHFrom string
	// Unit is the systemd unit, for a drop-in fix ("" when none).
	Unit string
	// Service is false when no gitlab-runner service was found and Env is
	// the runner's default for its usual install.
	Service bool
	// User runs the runner process ("" unknown); RunAs is set when
	// runnerup can and must switch to it to run helpers.
	User  string
	RunAs *RunAs
	// Notes say what could not be mirrored.
	Notes []string
}

// ProcessOptions are the facts of the process running runnerup.
type ProcessOptions struct {
	Euid int
	// UserName is runnerup's own user.
	UserName string
	// Environ is runnerup's own environment.
	Environ []string
	// LookupUser reads the passwd and group databases.
	LookupUser func(name string) (*user.User, error)
	// MergedUsr: /bin is a symlink to /usr/bin, so systemd's default PATH
	// has no /sbin:/bin.
	MergedUsr bool
	GOOS      string
}

// DefaultProcessOptions are this process's facts.
func DefaultProcessOptions() ProcessOptions {
	o := ProcessOptions{Euid: os.Geteuid(), Environ: os.Environ(), LookupUser: user.Lookup, GOOS: runtime.GOOS}
	if u, err := user.Current(); err == nil {
		o.UserName = u.Username
	}
	if fi, err := os.Lstat("/bin"); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		o.MergedUsr = true
	}
	return o
}

func (o ProcessOptions) defaultPATH() string {
	if o.MergedUsr {
		return systemdDefaultPATH
	}
	return systemdDefaultPATH + splitUsrPATH
}

// RunnerProcess is how the runner of install in runs credential helpers.
// For a systemd unit: systemd's environment for it (its default PATH
// unless the unit sets one; USER, LOGNAME, HOME and SHELL of User=), the
// unit's Environment= and EnvironmentFile= values, HOME as the runner
// itself fixes it when unset (helpers/cli/fix_home.go), and its user.
// With no service (in nil) on Linux it is runnerup's environment with the
// PATH of the unit the deb/rpm packages install. Other installs (a
// container, launchd, a Windows service) return runnerup's own
// environment with a note; nil means nothing is known.
func RunnerProcess(in *service.Install, o ProcessOptions) *Process {
	if o.LookupUser == nil {
		o.LookupUser = user.Lookup
	}
	switch {
	case in == nil && o.GOOS == "linux":
		env := setEnv(slices.Clone(o.Environ), "PATH", o.defaultPATH())
		return &Process{Env: env, PATHFrom: "systemd's default PATH for services: no gitlab-runner service was found, and the unit the deb/rpm packages install sets no PATH"}
	case in == nil:
		return nil
	case in.Kind == service.Container:
		return &Process{User: in.User, Notes: []string{fmt.Sprintf("the runner runs in container %s: its helpers must be inside the container image; this looked on the host", in.Name)}}
	case in.Kind != service.Systemd:
		return &Process{User: in.User, Notes: []string{fmt.Sprintf("the helpers were run with runnerup's environment, not the %s %s's", in.Kind, in.Name)}}
	}

	p := &Process{Unit: in.Name, Service: true, User: in.User}
	unitEnv := envMapOf(in.Environment)
	env := []string{"PATH=" + o.defaultPATH()}
	p.PATHFrom = fmt.Sprintf("systemd's default PATH for services: %s sets none", in.Name)
	if in.UserService {
		p.PATHFrom = fmt.Sprintf("assumed systemd's default PATH: %s is a user unit, whose manager's PATH the distribution may set (systemctl --user show-environment)", in.Name)
	}
	if _, ok := unitEnv["PATH"]; ok {
		p.PATHFrom = "Environment=PATH of " + in.Name
	}
	u, uerr := o.LookupUser(strings.TrimSpace(in.User))
	if !isRoot(in.User) && uerr == nil {
		env = append(env, "USER="+u.Username, "LOGNAME="+u.Username, "HOME="+u.HomeDir)
	}
	env = append(env, in.Environment...)
	if _, ok := envlist.Value(env, "HOME"); !ok && in.Home != "" {
		env = append(env, "HOME="+in.Home)
	}
	// Each key once, with its last value; a line without "=" assigns nothing.
	p.Env = envlist.Merge(nil, slices.DeleteFunc(env, func(kv string) bool { return !strings.Contains(kv, "=") })...)

	switch {
	case o.Euid == 0 && !isRoot(in.User) && uerr != nil:
		p.Notes = append(p.Notes, fmt.Sprintf("the helpers ran as root: the service's user %s is unknown here (%v)", in.User, uerr))
	case o.Euid == 0 && !isRoot(in.User):
		ra, err := runAsOf(u)
		if err != nil {
			p.Notes = append(p.Notes, fmt.Sprintf("the helpers ran as root, not as %s: %v", in.User, err))
			break
		}
		p.RunAs = ra
	case o.Euid != 0 && in.User != o.UserName:
		p.Notes = append(p.Notes, fmt.Sprintf("the helpers ran as %s, not as the service's user %s: run runnerup as root to run them as %s", orUnknown(o.UserName), in.User, in.User))
	}
	return p
}

func orUnknown(s string) string {
	if s == "" {
		return "this user"
	}
	return s
}

func isRoot(u string) bool {
	name, _, _ := strings.Cut(strings.TrimSpace(u), ":")
	return name == "" || name == "root" || name == "0"
}

// runAsOf is u with its primary and supplementary groups, as systemd sets
// them for User= (initgroups).
func runAsOf(u *user.User) (*RunAs, error) {
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("gid %q: %w", u.Gid, err)
	}
	ra := &RunAs{User: u.Username, UID: uint32(uid), GID: uint32(gid)}
	if ids, err := u.GroupIds(); err == nil {
		for _, g := range ids {
			if n, err := strconv.ParseUint(g, 10, 32); err == nil {
				ra.Groups = append(ra.Groups, uint32(n))
			}
		}
	}
	return ra, nil
}

func envMapOf(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// setEnv replaces every key= entry of env with key=value.
func setEnv(env []string, key, value string) []string {
	env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, key+"=") })
	return append(env, key+"="+value)
}

// env is the environment helpers run with: HelperEnv when set, else the
// runner process's; nil inherits runnerup's.
func (r Resolver) env() []string {
	if r.HelperEnv != nil || r.Process == nil {
		return r.HelperEnv
	}
	return r.Process.Env
}

func (r Resolver) runAs() *RunAs {
	if r.Process == nil {
		return nil
	}
	return r.Process.RunAs
}

// shellPATH is runnerup's own PATH.
func (r Resolver) shellPATH() string {
	if r.ShellPATH != "" {
		return r.ShellPATH
	}
	return os.Getenv("PATH")
}

// missingHelper explains a helper the runner cannot find: where runnerup
// finds it instead, and how to put it where the runner looks.
func (r Resolver) missingHelper(bin string) (detail, hint string) {
	runnerPATH, ok := envlist.Value(r.env(), "PATH")
	if !ok || runtime.GOOS == "windows" {
		return "", ""
	}
	whose, from, unit := "the runner's PATH", "", ""
	if p := r.Process; p != nil && r.HelperEnv == nil {
		from = "; " + p.PATHFrom
		if p.Service {
			whose, unit = "the service's PATH", p.Unit
		}
	}
	found, err := lookPathIn(bin, r.shellPATH(), nil)
	if err != nil || !filepath.IsAbs(found) {
		return fmt.Sprintf("; %s is %s%s", whose, runnerPATH, from), ""
	}
	dir := filepath.Dir(found)
	dirs := filepath.SplitList(runnerPATH)
	if slices.Contains(dirs, dir) {
		who := "the runner's user"
		if ra := r.runAs(); ra != nil {
			who = ra.User
		}
		return fmt.Sprintf("; %s is on %s (%s%s) but %s cannot execute it", found, whose, runnerPATH, from, who),
			fmt.Sprintf("make it executable for the runner's user: sudo chmod a+rx %s (and every directory above it)", found)
	}
	detail = fmt.Sprintf("; found on your PATH (%s), not on %s (%s%s)", dir, whose, runnerPATH, from)
	target := "/usr/local/bin"
	if !slices.Contains(dirs, target) {
		target = firstAbs(dirs)
	}
	if target == "" {
		return detail, ""
	}
	hint = fmt.Sprintf("install it where the runner looks: sudo install -m 0755 %s %s/", found, target)
	if target != "/usr/local/bin" {
		hint += " (this PATH has no /usr/local/bin)"
	}
	if unit != "" {
		hint += fmt.Sprintf("; or add %s to the service's PATH in a drop-in: sudo systemctl edit %s, add [Service] Environment=PATH=%s:%s, then sudo systemctl restart %s", dir, unit, dir, runnerPATH, unit)
	}
	return detail, hint
}

func firstAbs(dirs []string) string {
	for _, d := range dirs {
		if filepath.IsAbs(d) {
			return d
		}
	}
	return ""
}

// asUser says whose user the helper ran as, when runnerup switched.
func (r Resolver) asUser() string {
	if ra := r.runAs(); ra != nil {
		return ", run as " + ra.User
	}
	return ""
}

// processNotes are the Process's notes, for a helper check's detail.
func (r Resolver) processNotes() string {
	if r.Process == nil || len(r.Process.Notes) == 0 {
		return ""
	}
	return " (" + strings.Join(r.Process.Notes, "; ") + ")"
}
