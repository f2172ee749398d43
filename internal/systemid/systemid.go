// Package systemid reads, computes and writes GitLab Runner's system id: the
// value the runner sends as system_id and GitLab keys a runner manager by.
//
// It follows gitlab-runner's commands/internal/configfile/system_id_state.go:
// the id lives in ".runner_system_id" beside config.toml; a file whose trimmed
// contents do not match Pattern is ignored; a new id is "s_" plus the first
// 12 hex characters of HMAC-SHA256(key = machine id, message =
// "gitlab-runner"), or "r_" plus 12 random alphanumerics when the machine id
// cannot be read or is empty. The machine id comes from the library the
// runner uses, github.com/denisbrodbeck/machineid at the runner's version
// (v1.0.1 in its go.mod), on every OS. The file itself is written through
// internal/safewrite by its callers.
package systemid

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// FileName is the runner's system id file, beside config.toml.
const FileName = ".runner_system_id"

// Pattern is what the runner accepts from the file.
var Pattern = regexp.MustCompile(`^[sr]_[0-9a-zA-Z]{12}$`)

const (
	idLength = 12
	hmacMsg  = "gitlab-runner"
	charset  = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

// Read returns the id stored in configDir. ok is false when the file is
// absent or its contents are not a valid id (the runner then makes a new
// one); err is set only for other failures (permissions, a directory), which
// make the runner itself fail to load its config.
func Read(configDir string) (id string, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(configDir, FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reading runner system id: %w", err)
	}
	id = strings.TrimSpace(string(b))
	if !Pattern.MatchString(id) {
		return "", false, nil
	}
	return id, true, nil
}

// FromMachineID derives the runner's "s_" id from a machine id.
func FromMachineID(machineID string) string {
	mac := hmac.New(sha256.New, []byte(machineID))
	mac.Write([]byte(hmacMsg))
	return "s_" + hex.EncodeToString(mac.Sum(nil))[:idLength]
}

// Random is the runner's fallback id: "r_" plus 12 random alphanumerics.
func Random() string {
	const n = len(charset)
	// Rejection sampling keeps the choice uniform: 248 = 4*62.
	const limit = 256 - 256%n
	out := make([]byte, 0, idLength)
	buf := make([]byte, 32)
	for len(out) < idLength {
		_, _ = rand.Read(buf) // never fails since Go 1.24
		for _, b := range buf {
			if int(b) < limit && len(out) < idLength {
				out = append(out, charset[int(b)%n])
			}
		}
	}
	return "r_" + string(out)
}

// Resolve returns the id the runner will use with configDir: the file's
// when valid (fromFile), else the one computed from the machine id
// machineID reads (nil: MachineID, this host's), else a random one. Only
// a computed or random id needs writing. Callers that also check the id
// pass the machine id reader the check uses, so one run has one id.
func Resolve(configDir string, machineID func() (string, error)) (id string, fromFile bool, err error) {
	if machineID == nil {
		machineID = MachineID
	}
	id, ok, err := Read(configDir)
	if err != nil {
		return "", false, err
	}
	if ok {
		return id, true, nil
	}
	if mid, err := machineID(); err == nil && mid != "" {
		return FromMachineID(mid), false, nil
	}
	return Random(), false, nil
}
