//go:build linux

package daemon

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runnerup/runnerup/internal/testenv"
	"github.com/runnerup/runnerup/probe"
)

// TestIntegrationDaemon runs the checks against a real dockerd (Debian's
// 20.10, on a private socket) started with an insecure registry by name
// and one by CIDR.
func TestIntegrationDaemon(t *testing.T) {
	testenv.Isolate(t)
	d := testenv.StartDockerd(t, testenv.DockerdOptions{InsecureRegistries: []string{"registry.test:5443", "10.99.0.0/16"}})

	t.Run("every check passes", func(t *testing.T) {
		start := time.Now()
		res := run(t, Options{Host: d.Host, WantPrivileged: true})
		t.Logf("%d checks in %v", len(res), time.Since(start).Round(time.Millisecond))
		logResults(t, res)
		for _, id := range []string{IDReachable, IDPermission, IDVersion, IDPlatform, IDRegistries, IDStorage, IDProxy, IDPrivileged} {
			if r, ok := res[id]; !ok || r.Status != probe.Pass {
				t.Errorf("%s = %s %q (hint %q), want pass", id, r.Status, r.Detail, r.Hint)
			}
		}
		if got := res[IDVersion].Detail; !regexp.MustCompile(`^Docker \S+ \(API 1\.\d+(, minimum 1\.\d+)?\)$`).MatchString(got) {
			t.Errorf("%s detail = %q, want \"Docker X (API 1.N, minimum 1.M)\"", IDVersion, got)
		}
		if vf, ok := res[IDVersion].Data.(VersionFacts); !ok || vf.APIVersion == "" || vf.MinAPIVersion == "" {
			t.Errorf("%s Data = %#v, want the API range", IDVersion, res[IDVersion].Data)
		}
		// OS and architecture only: a 32-bit arm machine adds a variant.
		if p, ok := res[IDPlatform].Data.(probe.Platform); !ok || p.OS != "linux" || p.Architecture != runtime.GOARCH {
			t.Errorf("%s Data = %#v, want linux/%s", IDPlatform, res[IDPlatform].Data, runtime.GOARCH)
		}
		regs, ok := res[IDRegistries].Data.(probe.DaemonRegistries)
		if !ok {
			t.Fatalf("%s Data = %#v, want DaemonRegistries", IDRegistries, res[IDRegistries].Data)
		}
		if secure, known := regs.Secure["registry.test:5443"]; !known || secure {
			t.Errorf("Secure[registry.test:5443] = %v, %v; want false, true (from --insecure-registry)", secure, known)
		}
		if !regs.Secure["docker.io"] {
			t.Errorf("Secure[docker.io] = false, want true")
		}
		for _, c := range []string{"127.0.0.0/8", "10.99.0.0/16"} {
			if !slices.Contains(regs.InsecureCIDRs, c) {
				t.Errorf("InsecureCIDRs = %v, want it to contain %s", regs.InsecureCIDRs, c)
			}
		}
		if got := res[IDRegistries].Detail; !strings.Contains(got, "insecure registries: registry.test:5443") || !strings.Contains(got, "10.99.0.0/16") {
			t.Errorf("%s detail = %q, want the insecure registry and range named", IDRegistries, got)
		}
		if got, want := res[IDStorage].Detail, "storage driver vfs, data root "+filepath.Join(d.Dir, "data")+": "; !strings.HasPrefix(got, want) || !strings.Contains(got, " free of ") {
			t.Errorf("%s detail = %q, want prefix %q and the free space", IDStorage, got, want)
		}
	})

	t.Run("DOCKER_HOST is honoured", func(t *testing.T) {
		t.Setenv("DOCKER_HOST", d.Host)
		res := run(t, Options{})
		if r := res[IDReachable]; r.Status != probe.Pass || !strings.Contains(r.Detail, d.Host) {
			t.Errorf("%s = %s %q, want pass naming %s", IDReachable, r.Status, r.Detail, d.Host)
		}
		if r := res[IDStorage]; r.Status != probe.Pass || !strings.Contains(r.Detail, " free of ") {
			t.Errorf("%s = %s %q, want free space checked (local socket from DOCKER_HOST)", IDStorage, r.Status, r.Detail)
		}
	})

	t.Run("docker-windows executor on this daemon", func(t *testing.T) {
		r := run(t, Options{Host: d.Host, WantOS: "windows"})[IDPlatform]
		if r.Status != probe.Fail || !strings.Contains(r.Hint, "docker-windows executor needs a Windows Docker daemon") {
			t.Errorf("%s = %s %q (hint %q), want fail", IDPlatform, r.Status, r.Detail, r.Hint)
		}
	})

	t.Run("Gather", func(t *testing.T) {
		f, err := Gather(context.Background(), Options{Host: d.Host})
		if err != nil {
			t.Fatal(err)
		}
		if f.Host != d.Host || f.OS != "linux" || f.Arch != runtime.GOARCH || f.Driver != "vfs" || f.RootDir != filepath.Join(d.Dir, "data") ||
			f.APIVersion == "" || f.ServerVersion == "" || f.Rootless || f.Registries.Secure["registry.test:5443"] {
			t.Errorf("Gather = %+v", f)
		}
	})

	t.Run("socket missing", func(t *testing.T) {
		missing := filepath.Join(d.Dir, "missing.sock")
		res := run(t, Options{Host: "unix://" + missing})
		r := res[IDReachable]
		if want := "Cannot connect to the Docker daemon at unix://" + missing + ": no socket at " + missing; r.Status != probe.Fail || r.Detail != want {
			t.Errorf("%s = %s %q, want fail %q", IDReachable, r.Status, r.Detail, want)
		}
		checkHint(t, r, "systemctl enable --now docker")
		if p := res[IDPermission]; p.Status != probe.Skip {
			t.Errorf("%s = %s %q, want skip", IDPermission, p.Status, p.Detail)
		}
	})
}

// TestIntegrationPermissionDenied connects to a real dockerd's socket as
// uid 65534 (nobody), which is in neither root's group nor the socket's:
// the tests run as root, whom no socket refuses, so the test binary is
// copied somewhere nobody may run it and re-executed with that uid.
func TestIntegrationPermissionDenied(t *testing.T) {
	testenv.Isolate(t)
	d := testenv.StartDockerd(t, testenv.DockerdOptions{})
	// Let nobody reach the socket itself: the directory is 0700 root.
	if err := os.Chmod(d.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	st, err := statSocket(d.Socket)
	if err != nil {
		t.Fatal(err)
	}
	group := groupName(st.GID)
	t.Logf("socket %s: uid %d, group %s, mode %04o", d.Socket, st.UID, group, st.Mode.Perm())

	stdout := testenv.RunTestBinaryAsNobody(t, helperEnv+"=checks", helperHostEnv+"="+d.Host)
	var list []probe.Result
	if err := json.Unmarshal(stdout, &list); err != nil {
		t.Fatalf("helper output: %v\n%s", err, stdout)
	}
	res := map[string]probe.Result{}
	for _, r := range list {
		res[r.ID] = r
	}
	logResults(t, res)

	reach := res[IDReachable]
	if want := "permission denied while trying to connect to the Docker daemon socket at " + d.Host; reach.Status != probe.Fail || reach.Detail != want {
		t.Errorf("%s = %s %q, want fail %q", IDReachable, reach.Status, reach.Detail, want)
	}
	perm := res[IDPermission]
	wantDetail := "permission denied on " + d.Socket + " for uid 65534 (nobody): the socket is owned by root:" + group + ", mode 0660"
	if perm.Status != probe.Fail || perm.Detail != wantDetail {
		t.Errorf("%s = %s %q\nwant fail %q", IDPermission, perm.Status, perm.Detail, wantDetail)
	}
	if st.GID == 0 {
		// dockerd found no "docker" group and kept root's.
		checkHint(t, perm, "sudo groupadd docker")
	} else {
		checkHint(t, perm, "sudo usermod -aG "+group+" $USER")
	}
	for _, id := range []string{IDVersion, IDPlatform, IDRegistries, IDStorage, IDProxy} {
		if r := res[id]; r.Status != probe.Skip {
			t.Errorf("%s = %s %q, want skip", id, r.Status, r.Detail)
		}
	}
}

func logResults(t *testing.T, res map[string]probe.Result) {
	t.Helper()
	ids := make([]string, 0, len(res))
	for id := range res {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		r := res[id]
		t.Logf("%-18s %-4s %s%s", id, r.Status, r.Detail, map[bool]string{true: "\n    hint: " + r.Hint}[r.Hint != ""])
	}
}
