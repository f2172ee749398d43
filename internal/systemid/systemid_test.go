package systemid

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// The derivation is confirmed in gitlab-runner's
// commands/internal/configfile/system_id_state.go (GenerateUniqueSystemID):
//
//	mac := hmac.New(sha256.New, []byte(systemID)) // systemID = machineid.ID()
//	mac.Write([]byte("gitlab-runner"))
//	return "s_" + hex.EncodeToString(mac.Sum(nil))[0:12]
//
// i.e. the machine id is the HMAC key and "gitlab-runner" the message. That
// equals denisbrodbeck/machineid's ProtectedID("gitlab-runner") (helper.go
// protect(appID, id): key id, message appID), but the runner calls ID() and
// hashes itself.
func TestFromMachineID(t *testing.T) {
	tests := []struct {
		name      string
		machineID string
		want      string // computed independently (Python hmac) and pinned
	}{
		{name: "systemd style", machineID: "0123456789abcdef0123456789abcdef", want: "s_ee3af03959fe"},
		{name: "another host", machineID: "b08dfa6083e7567a1921a715000001fb", want: "s_75dbf98a91e6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mac := hmac.New(sha256.New, []byte(tt.machineID))
			mac.Write([]byte("gitlab-runner"))
			fromFirstPrinciples := "s_" + hex.EncodeToString(mac.Sum(nil))[:12]
			if fromFirstPrinciples != tt.want {
				t.Fatalf("pinned value %s disagrees with hmac %s", tt.want, fromFirstPrinciples)
			}
			got := FromMachineID(tt.machineID)
			if got != tt.want {
				t.Errorf("FromMachineID(%q) = %q, want %q", tt.machineID, got, tt.want)
			}
			if !Pattern.MatchString(got) {
				t.Errorf("%q does not match %s", got, Pattern)
			}
			swapped := hmac.New(sha256.New, []byte("gitlab-runner"))
			swapped.Write([]byte(tt.machineID))
			if got == "s_"+hex.EncodeToString(swapped.Sum(nil))[:12] {
				t.Errorf("key and message are swapped")
			}
		})
	}
}

func TestRead(t *testing.T) {
	tests := []struct {
		name     string
		contents *string // nil: no file
		dir      bool    // a directory where the file should be
		wantID   string
		wantOK   bool
		wantErr  bool
	}{
		{name: "absent"},
		{name: "valid s_", contents: ptr("s_0123456789ab"), wantID: "s_0123456789ab", wantOK: true},
		{name: "valid r_ with newline", contents: ptr("r_ABCdef123456\n"), wantID: "r_ABCdef123456", wantOK: true},
		{name: "surrounding spaces", contents: ptr("  s_ee3af03959fe \r\n"), wantID: "s_ee3af03959fe", wantOK: true},
		{name: "empty", contents: ptr("")},
		{name: "too short", contents: ptr("s_0123")},
		{name: "too long", contents: ptr("s_0123456789abc")},
		{name: "wrong prefix", contents: ptr("x_0123456789ab")},
		{name: "bad char", contents: ptr("s_0123456789a-")},
		{name: "two lines", contents: ptr("s_0123456789ab\ns_0123456789ab")},
		{name: "directory", dir: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, FileName)
			if tt.contents != nil {
				if err := os.WriteFile(p, []byte(*tt.contents), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if tt.dir {
				if err := os.Mkdir(p, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			id, ok, err := Read(dir)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Read() err = %v, wantErr %v", err, tt.wantErr)
			}
			if id != tt.wantID || ok != tt.wantOK {
				t.Errorf("Read() = %q, %v; want %q, %v", id, ok, tt.wantID, tt.wantOK)
			}
		})
	}
}

func ptr(s string) *string { return &s }

// resolve follows GenerateUniqueSystemID: the file's id when valid, else
// s_ from a non-empty machine id, else r_ random.
func TestResolve(t *testing.T) {
	tests := []struct {
		name      string
		file      *string
		machineID string
		idErr     error
		want      string // "r_": any random id
		fromFile  bool
	}{
		{name: "valid file wins", file: ptr("r_ABCdef123456\n"), machineID: "0123456789abcdef0123456789abcdef", want: "r_ABCdef123456", fromFile: true},
		{name: "derived from the machine id", machineID: "0123456789abcdef0123456789abcdef", want: "s_ee3af03959fe"},
		{name: "invalid file: derived", file: ptr("s_short"), machineID: "0123456789abcdef0123456789abcdef", want: "s_ee3af03959fe"},
		{name: "Windows MachineGuid", machineID: "c0ffee00-1234-4abc-8def-0123456789ab", want: FromMachineID("c0ffee00-1234-4abc-8def-0123456789ab")},
		{name: "empty machine id: random", machineID: "", want: "r_"},
		{name: "unreadable machine id: random", idErr: os.ErrNotExist, want: "r_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.file != nil {
				if err := os.WriteFile(filepath.Join(dir, FileName), []byte(*tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, fromFile, err := Resolve(dir, func() (string, error) { return tt.machineID, tt.idErr })
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "r_" {
				if !Pattern.MatchString(got) || got[:2] != "r_" {
					t.Errorf("Resolve() = %q, want a random r_ id", got)
				}
			} else if got != tt.want {
				t.Errorf("Resolve() = %q, want %q", got, tt.want)
			}
			if fromFile != tt.fromFile {
				t.Errorf("fromFile = %v, want %v", fromFile, tt.fromFile)
			}
		})
	}
}
