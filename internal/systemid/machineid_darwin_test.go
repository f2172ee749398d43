//go:build darwin

package systemid

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMachineIDDarwin gives MachineID a fixed IOPlatformUUID: machineid runs
// `ioreg -rd1 -c IOPlatformExpertDevice` through PATH, so a stand-in ioreg
// first on PATH prints what a Mac's does.
func TestMachineIDDarwin(t *testing.T) {
	tests := []struct {
		name    string
		ioreg   string // the script's output; "" with fail: ioreg fails
		fail    bool
		want    string
		wantID  string // "r_": random
		wantErr bool
	}{
		{
			name: "IOPlatformUUID",
			ioreg: `+-o J314sAP  <class IOPlatformExpertDevice, id 0x100000207, registered, matched, active, busy 0 (7 ms), retain 38>
    {
      "IOPlatformSerialNumber" = "C02XXXXXXXXX"
      "IOPlatformUUID" = "5A3B2C1D-0E9F-4A8B-9C7D-6E5F4A3B2C1D"
    }
`,
			want:   "5A3B2C1D-0E9F-4A8B-9C7D-6E5F4A3B2C1D",
			wantID: FromMachineID("5A3B2C1D-0E9F-4A8B-9C7D-6E5F4A3B2C1D"),
		},
		{name: "no IOPlatformUUID line", ioreg: "{}\n", wantErr: true, wantID: "r_"},
		{name: "ioreg fails", fail: true, wantErr: true, wantID: "r_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := t.TempDir()
			out := filepath.Join(bin, "out")
			if err := os.WriteFile(out, []byte(tt.ioreg), 0o644); err != nil {
				t.Fatal(err)
			}
			script := "#!/bin/sh\ncat '" + out + "'\n"
			if tt.fail {
				script = "#!/bin/sh\nexit 1\n"
			}
			if err := os.WriteFile(filepath.Join(bin, "ioreg"), []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			got, err := MachineID()
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("MachineID() = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
			id, _, err := Resolve(t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantID == "r_" {
				if id[:2] != "r_" || !Pattern.MatchString(id) {
					t.Errorf("Resolve() = %q, want a random r_ id", id)
				}
			} else if id != tt.wantID {
				t.Errorf("Resolve() = %q, want %q", id, tt.wantID)
			}
		})
	}
}
