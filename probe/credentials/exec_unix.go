//go:build unix

package credentials

import (
	"io/fs"
	"os/exec"
	"slices"
	"syscall"
)

// runAsUser makes cmd run as ra (uid, gid, supplementary groups), as
// systemd runs a User= service; nil leaves it as runnerup's user.
func runAsUser(cmd *exec.Cmd, ra *RunAs) {
	if ra == nil {
		return
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: ra.UID, Gid: ra.GID, Groups: ra.Groups}}
}

// executableBy: the file's mode lets ra execute it (owner, group or other
// bits, as the kernel picks them); nil: any execute bit.
func executableBy(fi fs.FileInfo, ra *RunAs) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ra == nil || !ok {
		return true
	}
	m := fi.Mode().Perm()
	switch {
	case st.Uid == ra.UID:
		return m&0o100 != 0
	case st.Gid == ra.GID || slices.Contains(ra.Groups, st.Gid):
		return m&0o010 != 0
	}
	return m&0o001 != 0
}
