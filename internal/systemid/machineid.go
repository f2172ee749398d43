package systemid

import (
	"fmt"

	"github.com/denisbrodbeck/machineid"
)

// MachineID reads the host's machine id exactly as gitlab-runner does, with
// machineid.ID() (GenerateUniqueSystemID in the runner's
// commands/internal/configfile/system_id_state.go): on Linux the first
// readable of /var/lib/dbus/machine-id and /etc/machine-id, trimmed; on
// macOS IOPlatformUUID from `ioreg -rd1 -c IOPlatformExpertDevice`; on
// Windows HKLM\SOFTWARE\Microsoft\Cryptography\MachineGuid; on the BSDs
// /etc/hostid, else `kenv -q smbios.system.uuid`.
func MachineID() (string, error) {
	id, err := machineid.ID()
	if err != nil {
		return "", fmt.Errorf("reading machine id: %w", err)
	}
	return id, nil
}
