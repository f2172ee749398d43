//go:build linux

package systemid

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/runnerup/runnerup/internal/testenv"
)

// envMachineIDFiles carries a child's fixture: JSON of path → contents
// (absent: the file does not exist).
const envMachineIDFiles = "RUNNERUP_TEST_MACHINE_ID_FILES"

// TestMachineIDLinux gives MachineID fixed /var/lib/dbus/machine-id and
// /etc/machine-id in a private mount namespace (the real paths, so the
// library reads them as it would on the runner's host) and pins what it
// reads and the id the runner derives from it.
func TestMachineIDLinux(t *testing.T) {
	testenv.Need(t, true)
	const dbus, etc = "/var/lib/dbus/machine-id", "/etc/machine-id"
	tests := []struct {
		name    string
		files   map[string]string
		want    string // the machine id; "" with wantErr false: empty
		wantID  string // "r_": random
		wantErr bool
	}{
		{name: "dbus first", files: map[string]string{dbus: "0123456789abcdef0123456789abcdef\n", etc: "b08dfa6083e7567a1921a715000001fb\n"},
			want: "0123456789abcdef0123456789abcdef", wantID: "s_ee3af03959fe"},
		{name: "falls back to /etc", files: map[string]string{etc: "b08dfa6083e7567a1921a715000001fb\n"},
			want: "b08dfa6083e7567a1921a715000001fb", wantID: "s_75dbf98a91e6"},
		{name: "trimmed", files: map[string]string{dbus: "\n  b08dfa6083e7567a1921a715000001fb \n\n"},
			want: "b08dfa6083e7567a1921a715000001fb", wantID: "s_75dbf98a91e6"},
		{name: "an empty dbus file wins and gives a random id", files: map[string]string{dbus: "\n", etc: "b08dfa6083e7567a1921a715000001fb"},
			want: "", wantID: "r_"},
		{name: "neither", files: map[string]string{}, wantErr: true, wantID: "r_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fixture, err := json.Marshal(tt.files)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestMachineIDChild$", "-test.v")
			cmd.Env = append(os.Environ(), envMachineIDFiles+"="+string(fixture))
			// Go makes / private (MS_REC|MS_PRIVATE) in a new mount namespace,
			// so the child's mounts never reach this host.
			cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			var got childResult
			if err := json.Unmarshal(lastLine(out, "RESULT "), &got); err != nil {
				t.Fatalf("child output: %v\n%s", err, out)
			}
			if got.MachineID != tt.want || (got.Err != "") != tt.wantErr {
				t.Errorf("MachineID() = %q, err %q; want %q, error %v", got.MachineID, got.Err, tt.want, tt.wantErr)
			}
			if tt.wantID == "r_" {
				if len(got.SystemID) != 14 || got.SystemID[:2] != "r_" {
					t.Errorf("system id = %q, want a random r_ id", got.SystemID)
				}
			} else if got.SystemID != tt.wantID {
				t.Errorf("system id = %q, want %q", got.SystemID, tt.wantID)
			}
		})
	}
}

type childResult struct {
	MachineID string `json:"machine_id"`
	Err       string `json:"err"`
	SystemID  string `json:"system_id"`
}

// TestMachineIDChild runs only as TestMachineIDLinux's child, in its own
// mount namespace: it hides each file's directory under a tmpfs, writes the
// fixture's files there and reports what MachineID and Resolve give.
func TestMachineIDChild(t *testing.T) {
	fixture, ok := os.LookupEnv(envMachineIDFiles)
	if !ok {
		t.Skip("runs only as TestMachineIDLinux's child")
	}
	var files map[string]string
	if err := json.Unmarshal([]byte(fixture), &files); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/var/lib/dbus/machine-id", "/etc/machine-id"} {
		dir := filepath.Dir(p)
		if _, err := os.Stat(dir); err != nil {
			// No /var/lib/dbus on this host: hide /var/lib instead and make it.
			dir = filepath.Dir(dir)
		}
		if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
			t.Fatalf("mount tmpfs on %s: %v", dir, err)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if c, ok := files[p]; ok {
			if err := os.WriteFile(p, []byte(c), 0o444); err != nil {
				t.Fatal(err)
			}
		}
	}
	var r childResult
	var err error
	r.MachineID, err = MachineID()
	if err != nil {
		r.Err = err.Error()
	}
	r.SystemID, _, err = Resolve(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(r)
	fmt.Printf("RESULT %s\n", b)
}

// lastLine is the rest of out's last line that starts with prefix.
func lastLine(out []byte, prefix string) []byte {
	var last []byte
	for _, l := range bytes.Split(out, []byte("\n")) {
		if rest, ok := bytes.CutPrefix(l, []byte(prefix)); ok {
			last = rest
		}
	}
	return last
}
