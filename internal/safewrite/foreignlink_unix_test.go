//go:build !windows

package safewrite

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestForeignSymlinkRefusedAsRoot: root writing into a directory another
// user can write (/home/gitlab-runner/.docker) must not follow a link that
// user planted at config.json, or at a directory on the way, to a file of
// root's; a link root owns (a dotfiles set-up) is still followed, as
// docker/cli follows it.
func TestForeignSymlinkRefusedAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to own and chown the links")
	}
	const nobody = 65534
	tests := []struct {
		name    string
		plant   func(t *testing.T, dir, victim string) string // returns the path to write
		refused bool
	}{
		{"file link owned by another user", func(t *testing.T, dir, victim string) string {
			p := filepath.Join(dir, "config.json")
			mustDo(t, os.Symlink(victim, p))
			mustDo(t, os.Lchown(p, nobody, nobody))
			return p
		}, true},
		{"directory link owned by another user", func(t *testing.T, dir, victim string) string {
			d := filepath.Join(dir, ".docker")
			mustDo(t, os.Symlink(filepath.Dir(victim), d))
			mustDo(t, os.Lchown(d, nobody, nobody))
			return filepath.Join(d, filepath.Base(victim))
		}, true},
		{"relative link chain ending in another user's link", func(t *testing.T, dir, victim string) string {
			mid := filepath.Join(dir, "mid.json")
			mustDo(t, os.Symlink(victim, mid))
			mustDo(t, os.Lchown(mid, nobody, nobody))
			p := filepath.Join(dir, "config.json")
			mustDo(t, os.Symlink("mid.json", p))
			return p
		}, true},
		{"link root owns", func(t *testing.T, dir, victim string) string {
			p := filepath.Join(dir, "config.json")
			mustDo(t, os.Symlink(victim, p))
			return p
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			victimDir := t.TempDir()
			victim := filepath.Join(victimDir, "precious")
			mustDo(t, os.WriteFile(victim, []byte("precious\n"), 0o600))
			path := tt.plant(t, dir, victim)
			_, err := Write(File{Path: path, Data: []byte(`{"auths":{}}`), Secret: true}, Options{Now: plantedNow})
			got, rerr := os.ReadFile(victim)
			mustDo(t, rerr)
			if !tt.refused {
				if err != nil {
					t.Fatalf("a link root owns was refused: %v", err)
				}
				if string(got) != `{"auths":{}}` {
					t.Fatalf("the link's target was not written: %q", got)
				}
				return
			}
			if err == nil {
				t.Fatalf("wrote through a link uid %d owns; the victim now holds %q", nobody, got)
			}
			var we *WriteError
			if !errors.As(err, &we) || !strings.Contains(err.Error(), "owned by uid 65534") || !strings.Contains(err.Error(), "replace the link") {
				t.Errorf("error does not name the link's owner and the fix: %v", err)
			}
			if string(got) != "precious\n" {
				t.Errorf("the victim changed: %q", got)
			}
		})
	}
}
