package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	hostsFile   = "/etc/hosts"
	hostsLock   = "/tmp/runnerup-testenv-hosts.lock"
	hostsMarker = "# runnerup-testenv"
)

// AddHost adds an "ip name" line to /etc/hosts for the duration of the test.
//
// It exists for the one failure dockerd cannot show on 127.0.0.0/8 (which it
// always treats as insecure): an untrusted TLS certificate. A TLS registry
// listening on ::1 and reached through a name that resolves only to ::1
// (use a reserved name such as "registry.test") makes "docker pull" fail
// with "x509: certificate signed by unknown authority" as on a real network.
// Docker 20.10 rejects "[::1]:PORT/…" references, hence the name.
//
// /etc/hosts is machine-wide, so edits are serialised with a lock file (go
// test runs packages in parallel processes) and each line carries the
// owner's pid: lines left by a test binary that was killed are dropped the
// next time. The file is rewritten in place because it may be a bind mount.
// Clean-up removes the line. It returns once this process resolves the
// name. It needs root.
func AddHost(t testing.TB, ip, name string) {
	t.Helper()
	Need(t, true)
	if net.ParseIP(ip) == nil {
		t.Fatalf("testenv: AddHost: %q is not an IP address", ip)
	}
	if name == "" || strings.ContainsAny(name, " \t#:/") {
		t.Fatalf("testenv: AddHost: bad host name %q", name)
	}
	line := fmt.Sprintf("%s %s %s pid=%d id=%s", ip, name, hostsMarker, os.Getpid(), randomHex(t, 6))
	err := editHosts(func(lines []string) ([]string, error) {
		var out []string
		for _, l := range lines {
			if pid, ok := markerPid(l); ok && !alive(pid) {
				continue // left behind by a test binary that died
			}
			f := strings.Fields(l)
			if len(f) >= 2 && !strings.HasPrefix(f[0], "#") && f[0] != ip {
				for _, n := range f[1:] {
					if strings.HasPrefix(n, "#") {
						break
					}
					if strings.EqualFold(n, name) {
						return nil, fmt.Errorf("%s already maps %s to %s", hostsFile, name, f[0])
					}
				}
			}
			out = append(out, l)
		}
		return append(out, line), nil
	})
	if err != nil {
		t.Fatalf("testenv: AddHost %s %s: %v", ip, name, err)
	}
	t.Cleanup(func() {
		err := editHosts(func(lines []string) ([]string, error) {
			var out []string
			for _, l := range lines {
				if l != line {
					out = append(out, l)
				}
			}
			return out, nil
		})
		if err != nil {
			t.Errorf("testenv: remove %q from %s: %v", line, hostsFile, err)
		}
	})
	// Go's resolver caches /etc/hosts for up to 5 s: wait until this
	// process resolves the name, or a lookup made just before the edit
	// would miss it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		addrs, err := net.DefaultResolver.LookupHost(ctx, name)
		cancel()
		if err == nil && len(addrs) > 0 && addrs[0] == ip {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: %s does not resolve to %s after editing %s: %v %v", name, ip, hostsFile, addrs, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// editHosts applies edit to the lines of /etc/hosts under an exclusive lock.
func editHosts(edit func([]string) ([]string, error)) error {
	lock, err := os.OpenFile(hostsLock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("open lock: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s: %w", hostsLock, err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing releases it anyway

	b, err := os.ReadFile(hostsFile)
	if err != nil {
		return fmt.Errorf("read %s: %w", hostsFile, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(b) == 0 {
		lines = nil
	}
	lines, err = edit(lines)
	if err != nil {
		return err
	}
	text := strings.Join(lines, "\n")
	if text != "" {
		text += "\n"
	}
	f, err := os.OpenFile(hostsFile, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("open %s for writing: %w", hostsFile, err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", hostsFile, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", hostsFile, err)
	}
	return nil
}

// markerPid returns the pid recorded in a line AddHost wrote.
func markerPid(line string) (int, bool) {
	_, rest, ok := strings.Cut(line, hostsMarker+" pid=")
	if !ok {
		return 0, false
	}
	num, _, _ := strings.Cut(rest, " ")
	pid, err := strconv.Atoi(num)
	return pid, err == nil && pid > 0
}

// alive reports whether a process with this pid exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
