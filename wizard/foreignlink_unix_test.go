//go:build !windows

package wizard

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadExistingRefusesForeignLink: apply run as root does not read a
// config.json that another user's link points at /etc/shadow-like files
// (its bytes would reach the diff), and says why (exit 2: InputError).
func TestReadExistingRefusesForeignLink(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown the link")
	}
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(victim, []byte("root:$6$secret:1:0:99999:7:::\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "config.json")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(link, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	data, err := readExisting(link)
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Fatalf("readExisting through another user's link: data %q, err %v; want an InputError naming the link's owner", data, err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("the error shows the target's bytes: %v", err)
	}
}
