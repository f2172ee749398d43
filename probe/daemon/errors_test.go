//go:build unix

package daemon

import (
	"context"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/moby/moby/client"

	"github.com/runnerup/runnerup/probe"
)

// These tests get their errors from the real Engine client, so the
// classification is checked against the wrapping the client really does
// (connection-failed type, pkg/errors, url.Error), not a guess of it.
func TestReachableRealClientErrors(t *testing.T) {
	dir := t.TempDir()

	// A socket left behind by a stopped daemon: the file exists, connect
	// gets ECONNREFUSED.
	stale := filepath.Join(dir, "stale.sock")
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()

	notSocket := filepath.Join(dir, "plain-file")
	if err := os.WriteFile(notSocket, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	// A TCP port with nothing listening.
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedTCP := "tcp://" + tl.Addr().String()
	tl.Close()

	// Something that speaks HTTP but is no Docker daemon.
	notDocker := httptest.NewServer(http.NotFoundHandler())
	defer notDocker.Close()
	notDockerHost := "tcp://" + strings.TrimPrefix(notDocker.URL, "http://")

	missing := filepath.Join(dir, "missing.sock")
	tests := []struct {
		name       string
		host       string
		env        map[string]string
		rootless   bool // a rootless daemon's socket exists in XDG_RUNTIME_DIR
		wantDetail string
		wantHint   string
	}{
		{"no socket", "unix://" + missing, nil, false,
			"Cannot connect to the Docker daemon at unix://" + missing + ": no socket at " + missing, "systemctl enable --now docker"},
		{"no socket via DOCKER_HOST", "", map[string]string{"DOCKER_HOST": "unix://" + missing}, false,
			"Cannot connect to the Docker daemon at unix://" + missing + ": no socket at " + missing, "set DOCKER_HOST"},
		{"rootless socket suggested", "unix://" + missing, map[string]string{"XDG_RUNTIME_DIR": dir}, true,
			"Cannot connect to the Docker daemon at unix://" + missing + ": no socket at " + missing, "export DOCKER_HOST=unix://" + filepath.Join(dir, "docker.sock")},
		{"stale socket", "unix://" + stale, nil, false,
			"Cannot connect to the Docker daemon at unix://" + stale + ": nothing is listening on " + stale + " (a stopped daemon's socket is left behind)", "systemctl enable --now docker"},
		{"not a socket", "unix://" + notSocket, nil, false,
			"Cannot connect to the Docker daemon at unix://" + notSocket + ": " + notSocket + " exists but is not a socket", "point DOCKER_HOST"},
		{"tcp refused", closedTCP, nil, false,
			"Cannot connect to the Docker daemon at " + closedTCP + ": nothing answered", "tcp://docker:2376"},
		{"not a docker daemon", notDockerHost, nil, false,
			"the Docker daemon at " + notDockerHost + " did not answer /_ping properly: ", "is a Docker Engine API endpoint"},
		{"bad DOCKER_HOST", "", map[string]string{"DOCKER_HOST": "not-a-host"}, false,
			"cannot use the Docker host not-a-host: making the Docker client: unable to parse docker host `not-a-host`", "fix DOCKER_HOST"},
		// GitLab Runner's Engine client has no ssh:// connection helper (only
		// the docker CLI has one): it would dial "ci@build.example.invalid"
		// as a TCP host name.
		{"ssh host for the runner", "ssh://ci@build.example.invalid", nil, false,
			"cannot use the Docker host ssh://ci@build.example.invalid: GitLab Runner's Docker client does not support ssh:// hosts", "tcp://HOST:2376"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if tt.rootless {
				rl, err := net.Listen("unix", filepath.Join(dir, "docker.sock"))
				if err != nil {
					t.Fatal(err)
				}
				defer rl.Close()
			}
			res := run(t, Options{Host: tt.host})
			got := res[IDReachable]
			if got.Status != probe.Fail || !strings.HasPrefix(got.Detail, tt.wantDetail) {
				t.Errorf("got %s %q\nwant fail %q", got.Status, got.Detail, tt.wantDetail)
			}
			checkHint(t, got, tt.wantHint)
			if p := res[IDPermission]; p.Status != probe.Skip || !strings.Contains(p.Detail, "other than permissions") {
				t.Errorf("%s = %s %q, want skip (not a permission problem)", IDPermission, p.Status, p.Detail)
			}
			for _, id := range []string{IDVersion, IDPlatform, IDRegistries, IDStorage, IDProxy} {
				if r := res[id]; r.Status != probe.Skip {
					t.Errorf("%s = %s %q, want skip after %s failed", id, r.Status, r.Detail, IDReachable)
				}
			}
		})
	}
}

// EACCES cannot be produced for real as root (the tests' usual user; the
// integration test re-executes as nobody for that). Here the real client
// gets the dial error the kernel gives an unprivileged user, so its own
// wrapping is what the checks see.
func TestReachablePermissionDeniedThroughRealClient(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := os.Chmod(sock, 0o660); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// Give the socket a group root is not in, as dockerd gives it
		// "docker".
		if err := os.Chown(sock, 0, 65534); err != nil {
			t.Fatal(err)
		}
	}
	st, err := statSocket(sock)
	if err != nil {
		t.Fatal(err)
	}
	group := groupName(st.GID)

	host := "unix://" + sock
	c, err := newEngine(host, nil, func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: "unix", Addr: &net.UnixAddr{Name: sock, Net: "unix"}, Err: os.NewSyscallError("connect", syscall.EACCES)}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The shape the checks rely on: still a connection failure, and
	// EACCES still reachable through errors.Is.
	_, pingErr := c.Ping(context.Background())
	if !client.IsErrConnectionFailed(pingErr) {
		t.Errorf("ping error %v is not a connection failure", pingErr)
	}

	res := run(t, Options{Host: host, Client: c})
	reach := res[IDReachable]
	if reach.Status != probe.Fail || reach.Detail != "permission denied while trying to connect to the Docker daemon socket at "+host {
		t.Errorf("%s = %s %q", IDReachable, reach.Status, reach.Detail)
	}
	checkHint(t, reach, IDPermission)
	perm := res[IDPermission]
	if perm.Status != probe.Fail || !strings.Contains(perm.Detail, "permission denied on "+sock) || !strings.Contains(perm.Detail, ":"+group+", mode 0660") {
		t.Errorf("%s = %s %q, want fail naming group %s", IDPermission, perm.Status, perm.Detail, group)
	}
	if st.GID != 0 {
		checkHint(t, perm, "sudo usermod -aG "+group+" $USER")
	}
}

func TestExplainPermission(t *testing.T) {
	const path = "/run/docker.sock"
	docker := groupName(106)
	nobody := account{UID: 1000, Name: "alice", ProcGIDs: []uint32{1000}, MemberGIDs: []uint32{1000}}
	joined := account{UID: 1000, Name: "alice", ProcGIDs: []uint32{1000}, MemberGIDs: []uint32{1000, 106}}
	tests := []struct {
		name       string
		st         sockStat
		statErr    error
		who        account
		wantDetail string // substring
		wantHint   string // substring
		notHint    string
	}{
		{"not in the group", sockStat{UID: 0, GID: 106, Mode: fs.ModeSocket | 0o660}, nil, nobody,
			"permission denied on /run/docker.sock for uid 1000 (alice): the socket is owned by root:" + docker + ", mode 0660",
			"sudo usermod -aG " + docker + " $USER", "newgrp"},
		{"joined but not logged in again", sockStat{UID: 0, GID: 106, Mode: fs.ModeSocket | 0o660}, nil, joined,
			"(group " + docker + " not active in this session)", "log in again (or `newgrp " + docker + "`)", "usermod"},
		{"root-only socket", sockStat{UID: 0, GID: 0, Mode: fs.ModeSocket | 0o660}, nil, nobody,
			"owned by root:root, mode 0660", "sudo groupadd docker", ""},
		{"group may not write", sockStat{UID: 0, GID: 106, Mode: fs.ModeSocket | 0o600}, nil, nobody,
			"mode 0600", "only root may use this socket", ""},
		{"directory not searchable", sockStat{}, &fs.PathError{Op: "stat", Path: path, Err: fs.ErrPermission}, nobody,
			"permission denied reaching /run/docker.sock for uid 1000 (alice)", "chmod o+x DIR", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := explainPermission(path, tt.st, tt.statErr, tt.who)
			if got.Status != probe.Fail || !strings.Contains(got.Detail, tt.wantDetail) {
				t.Errorf("got %s %q, want fail containing %q", got.Status, got.Detail, tt.wantDetail)
			}
			checkHint(t, got, tt.wantHint)
			if tt.notHint != "" && strings.Contains(got.Hint, tt.notHint) {
				t.Errorf("hint %q should not contain %q", got.Hint, tt.notHint)
			}
			if strings.Contains(got.Hint, "chmod 666") && !strings.Contains(got.Hint, "Do not chmod 666") {
				t.Errorf("hint suggests chmod 666: %q", got.Hint)
			}
		})
	}
}
