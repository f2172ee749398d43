package fleet

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/runnerup/runnerup/internal/systemid"
	"github.com/runnerup/runnerup/probe"
)

// KnownSharedSystemID was baked into the gitlab/gitlab-runner v15.8.2
// image (gitlab-runner#29646): every container started from it shared one
// runner manager.
const KnownSharedSystemID = "r_y3jEhmF8fN58"

// freshIDFix is the remedy for an id other hosts share.
func freshIDFix(path string) string {
	return "write a fresh random id: `runnerup apply --answers FILE --fresh-system-id`, or by hand: " +
		"`tr -dc A-Za-z0-9 </dev/urandom | head -c 12 | sed 's/^/r_/' > " + path + "`; " +
		"or give the host a new machine id (rm /etc/machine-id /var/lib/dbus/machine-id && systemd-machine-id-setup, then delete " + path + "); " +
		"restart the runner: GitLab then lists this host as a new runner manager"
}

func checkSystemID(dir string, machineID func() (string, error)) probe.Result {
	path := filepath.Join(dir, systemid.FileName)
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		mid, merr := machineID()
		if merr != nil || mid == "" {
			return probe.Passf("no %s yet; the runner will create a random r_ id (this host has no machine id)", path)
		}
		return probe.Passf("no %s yet; the runner will derive %s from this host's machine id", path, systemid.FromMachineID(mid))
	case err != nil:
		r := probe.Warnf("fix the file's permissions: the runner cannot start without reading it", "%s: %v", path, err)
		r.Finding = FindingSystemIDInvalid
		return r
	}
	id := strings.TrimSpace(string(raw))
	switch {
	case !systemid.Pattern.MatchString(id):
		r := probe.Warnf(freshIDFix(path), "%s does not hold a valid system id (%s): the runner ignores it and makes a new one, which GitLab lists as a new runner manager", path, systemid.Pattern)
		r.Finding = FindingSystemIDInvalid
		return r
	case id == KnownSharedSystemID:
		r := probe.Warnf(freshIDFix(path), "system id %s was baked into the gitlab-runner v15.8.2 image: every runner started from it shows up as one runner manager", id)
		r.Finding = FindingSystemIDShared
		return r
	case strings.HasPrefix(id, "s_"):
		mid, merr := machineID()
		if merr != nil || mid == "" {
			return probe.Passf("system id %s (this host's machine id is unreadable, so whether it was derived here cannot be told)", id)
		}
		if want := systemid.FromMachineID(mid); want != id {
			r := probe.Warnf(freshIDFix(path), "system id %s was derived from another host's machine id (this host's gives %s): the disk or image was probably cloned, and every clone shows up in GitLab as the same runner manager", id, want)
			r.Finding = FindingSystemIDCloned
			return r
		}
		return probe.Passf("system id %s, derived from this host's machine id (a clone that copied /etc/machine-id too would derive the same)", id)
	}
	return probe.Passf("system id %s (random)", id)
}
