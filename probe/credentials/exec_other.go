//go:build !unix

package credentials

import (
	"io/fs"
	"os/exec"
)

// runAsUser: switching users is Unix only; helpers run as runnerup.
func runAsUser(*exec.Cmd, *RunAs) {}

func executableBy(fs.FileInfo, *RunAs) bool { return true }
