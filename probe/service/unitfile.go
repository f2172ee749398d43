package service

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// defaultUnitDirs is systemd's system unit search path, highest priority
// first (systemd.unit(5), without the generator and transient directories
// that never hold a gitlab-runner unit).
var defaultUnitDirs = []string{
	"/etc/systemd/system",
	"/run/systemd/system",
	"/usr/local/lib/systemd/system",
	"/usr/lib/systemd/system",
	"/lib/systemd/system",
}

// unitSettings are the [Service] settings this package reads, merged over
// the unit file and its drop-ins with systemd's rules: an empty assignment
// resets a list, a later single value replaces an earlier one.
type unitSettings struct {
	execStart []string // raw ExecStart= values; the last one applies
	env       []string // Environment= assignments, in order
	envFiles  []string // EnvironmentFile= values, in order
	user      string
	workDir   string
	notes     []string // lines that could not be understood
}

// parseUnit merges one unit file or drop-in into s.
func (s *unitSettings) parseUnit(name string, b []byte) {
	section := ""
	for _, line := range logicalLines(string(b), " ") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' && strings.HasSuffix(line, "]") {
			section = line[1 : len(line)-1]
			continue
		}
		if section != "Service" {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch key {
		case "ExecStart":
			if val == "" {
				s.execStart = nil
			} else {
				s.execStart = append(s.execStart, val)
			}
		case "Environment":
			if val == "" {
				s.env = nil
				continue
			}
			words, err := splitWords(val)
			if err != nil {
				s.notes = append(s.notes, fmt.Sprintf("%s: Environment= ignored: %v", name, err))
				continue
			}
			for _, w := range words {
				if k, _, ok := strings.Cut(w, "="); ok && isEnvName(k) {
					s.env = append(s.env, w)
				}
			}
		case "EnvironmentFile":
			if val == "" {
				s.envFiles = nil
			} else {
				s.envFiles = append(s.envFiles, val)
			}
		case "User":
			s.user = val
		case "WorkingDirectory":
			s.workDir = val
		}
	}
}

// unitFiles finds the files systemd would load for unit in dirs (highest
// priority first): the first fragment found, then every <unit>.d/*.conf
// drop-in sorted by file name, where a drop-in in a higher-priority
// directory hides one of the same name below it. masked is true when the
// fragment is masked (a symlink to /dev/null or an empty file); a masked
// drop-in hides its lower namesakes and adds nothing.
func unitFiles(dirs []string, unit string) (fragment string, dropins []string, masked bool, err error) {
	for _, d := range dirs {
		p := filepath.Join(d, unit)
		m, exists, err := isMasked(p)
		if err != nil {
			return "", nil, false, err
		}
		if !exists {
			continue
		}
		if m {
			return "", nil, true, nil
		}
		fragment = p
		break
	}
	seen := map[string]bool{}
	var names []string
	byName := map[string]string{}
	for _, d := range dirs {
		matches, err := filepath.Glob(filepath.Join(d, unit+".d", "*.conf"))
		if err != nil {
			return "", nil, false, fmt.Errorf("listing drop-ins of %s: %w", unit, err)
		}
		for _, p := range matches {
			base := filepath.Base(p)
			if seen[base] {
				continue
			}
			seen[base] = true
			m, exists, err := isMasked(p)
			if err != nil {
				return "", nil, false, err
			}
			if !exists || m {
				continue
			}
			names = append(names, base)
			byName[base] = p
		}
	}
	sort.Strings(names)
	for _, n := range names {
		dropins = append(dropins, byName[n])
	}
	return fragment, dropins, false, nil
}

// isMasked reports whether the unit file at p exists and whether systemd
// treats it as masked: a symlink to /dev/null, or an empty file.
func isMasked(p string) (masked, exists bool, err error) {
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("reading unit file: %w", err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if target, err := os.Readlink(p); err == nil && target == os.DevNull {
			return true, true, nil
		}
		if fi, err = os.Stat(p); err != nil {
			// A dangling alias: systemd cannot load it either.
			return false, false, nil
		}
	}
	return fi.Mode().IsRegular() && fi.Size() == 0, true, nil
}

// findUnitNames lists the gitlab-runner units in dirs: gitlab-runner.service
// first, then other gitlab-runner*.service units (a second runner installed
// with --service) and the old gitlab-ci-multi-runner.service, by name.
// Template units (gitlab-runner@.service) are skipped: only their
// instances run, and those cannot be named from the file alone.
func findUnitNames(dirs []string) []string {
	names := map[string]bool{}
	for _, d := range dirs {
		for _, pat := range []string{"gitlab-runner*.service", "gitlab-ci-multi-runner.service"} {
			matches, _ := filepath.Glob(filepath.Join(d, pat))
			for _, m := range matches {
				if n := filepath.Base(m); !strings.Contains(n, "@") {
					names[n] = true
				}
			}
		}
	}
	delete(names, defaultUnit)
	out := make([]string, 0, len(names)+1)
	for n := range names {
		out = append(out, n)
	}
	sort.Strings(out)
	return append([]string{defaultUnit}, out...)
}

const defaultUnit = "gitlab-runner.service"
