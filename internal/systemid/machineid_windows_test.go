//go:build windows

package systemid

import (
	"os/exec"
	"strings"
	"testing"
)

// TestMachineIDWindows reads MachineGuid a second way, through reg.exe, and
// checks that MachineID and Resolve give what the runner would from it. The
// registry value cannot be replaced in a test; the derivation from a fixed
// GUID is pinned in TestResolve.
func TestMachineIDWindows(t *testing.T) {
	out, err := exec.Command("reg", "query", `HKLM\SOFTWARE\Microsoft\Cryptography`, "/v", "MachineGuid", "/reg:64").Output()
	if err != nil {
		t.Skipf("reg query MachineGuid: %v", err)
	}
	var guid string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "MachineGuid" {
			guid = f[2]
		}
	}
	if guid == "" {
		t.Fatalf("no MachineGuid in reg output:\n%s", out)
	}
	got, err := MachineID()
	if err != nil || got != guid {
		t.Fatalf("MachineID() = %q, %v; reg.exe says %q", got, err, guid)
	}
	id, _, err := Resolve(t.TempDir(), nil)
	if err != nil || id != FromMachineID(guid) {
		t.Errorf("Resolve() = %q, %v; want %q", id, err, FromMachineID(guid))
	}
}
