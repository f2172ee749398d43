package service

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// devNull in a tree makes a symlink to /dev/null: how systemctl mask and
// users mask units.
const devNull = "->/dev/null"

// writeTree creates files under root. "{{root}}" in a name or content is
// replaced by root, so fixtures can name each other without touching the
// real /etc.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, strings.ReplaceAll(name, "{{root}}", root))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "->"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(content, "{{root}}", root)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// homes is a passwd database for LookupHome.
func homes(m map[string]string) func(string) (string, error) {
	return func(user string) (string, error) {
		if h, ok := m[user]; ok {
			return h, nil
		}
		return "", fmt.Errorf("user: unknown user %s", user)
	}
}

var testHomes = homes(map[string]string{
	"root":          "/root",
	"gitlab-runner": "/home/gitlab-runner",
	"runner":        "/srv/runner-home",
})

// unitDirs are the fixture's systemd search path, highest priority first.
func unitDirs(root string) []string {
	return []string{
		filepath.Join(root, "etc/systemd/system"),
		filepath.Join(root, "run/systemd/system"),
		filepath.Join(root, "usr/lib/systemd/system"),
	}
}

// linuxOptions look only at the fixture under root: no systemctl, no
// Docker, no user units, a non-root caller.
func linuxOptions(root string) Options {
	return Options{
		UnitDirs:     unitDirs(root),
		UserUnitDirs: []string{},
		Systemctl:    "-",
		LookupHome:   testHomes,
		Euid:         1000,
		GOOS:         "linux",
		HomeDir:      filepath.Join(root, "home/me"),
		UserName:     "me",
	}
}

// checkInstalls compares whole installs and prints both as JSON on a
// mismatch, so one failing field is easy to spot.
func checkInstalls(t *testing.T, got, want []Install) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	// Executable is compared only where a case names it
	// (TestDetectExecutable); the other cases are about the files read.
	if len(got) == len(want) {
		got = append([]Install(nil), got...)
		for i := range got {
			if want[i].Executable == "" {
				got[i].Executable = ""
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("installs differ\n got: %s\nwant: %s", g, w)
	}
}

// rooted replaces {{root}} in every path-like field of want.
func rooted(root string, in Install) Install {
	r := func(s string) string { return strings.ReplaceAll(s, "{{root}}", root) }
	for i := range in.Source {
		in.Source[i] = r(in.Source[i])
	}
	for i := range in.Notes {
		in.Notes[i] = r(in.Notes[i])
	}
	in.ConfigPath, in.Home, in.DockerConfigPath, in.WorkingDirectory = r(in.ConfigPath), r(in.Home), r(in.DockerConfigPath), r(in.WorkingDirectory)
	return in
}
