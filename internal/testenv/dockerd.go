package testenv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Timeouts. dockerd 20.10 answers /_ping about 0.3 s after start on the
// reference machine; the start timeout is generous for loaded CI hosts.
const (
	dockerdStartTimeout = 30 * time.Second
	dockerdStopGrace    = 15 * time.Second
	dockerCLITimeout    = 2 * time.Minute
)

// DockerdOptions tunes a private daemon.
type DockerdOptions struct {
	// InsecureRegistries are passed as --insecure-registry (host:port or
	// CIDR). 127.0.0.0/8 is always insecure to dockerd; use this for a
	// registry reached by name on ::1.
	InsecureRegistries []string
	// ExtraArgs are appended to the dockerd command line.
	ExtraArgs []string
}

// Dockerd is a private Docker daemon owned by one test.
type Dockerd struct {
	// Host is the value for docker -H / DOCKER_HOST: "unix:///tmp/rudk…/docker.sock".
	Host string
	// Socket is the path of the unix socket.
	Socket string
	// Dir holds everything the daemon owns (data-root, exec-root, pidfile,
	// socket, log); it is removed at clean-up.
	Dir string
	// Log is the daemon's combined stdout/stderr.
	Log string

	proc *proc
}

// StartDockerd starts a private dockerd and returns once it answers /_ping.
// Everything lives under one short directory in /tmp because unix socket
// paths are limited to 108 bytes and dockerd puts containerd's socket under
// --exec-root (t.TempDir paths embed the test name and can be too long).
// --bridge=none --iptables=false keep it off the host network so several
// can run at once; --storage-driver=vfs avoids overlay mounts that could
// outlive a killed daemon; an empty --config-file keeps the host's
// /etc/docker/daemon.json out. Clean-up stops the daemon (SIGTERM, up to
// 15 s, then SIGKILL) and removes the directory. It calls Need(t, true,
// "dockerd", "docker").
func StartDockerd(t testing.TB, opts DockerdOptions) *Dockerd {
	t.Helper()
	Need(t, true, "dockerd", "docker")
	bin, err := Lookup("dockerd")
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}

	sweepStaleDirs(t)
	dir, err := os.MkdirTemp("/tmp", dockerdDirPrefix)
	if err != nil {
		t.Fatalf("testenv: dockerd dir: %v", err)
	}
	d := &Dockerd{
		Dir:    dir,
		Socket: filepath.Join(dir, "docker.sock"),
		Log:    filepath.Join(dir, "dockerd.log"),
	}
	d.Host = "unix://" + d.Socket
	// Registered first so it runs last, after the daemon is stopped.
	t.Cleanup(func() {
		if err := unmountUnder(dir); err != nil {
			t.Errorf("testenv: %v", err)
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("testenv: remove dockerd dir: %v", err)
		}
	})

	// The owner's pid lets a later run remove this directory if the test
	// binary is killed before its clean-up runs (see sweepStaleDirs).
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatalf("testenv: write owner pid: %v", err)
	}
	daemonJSON := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(daemonJSON, []byte("{}\n"), 0o644); err != nil {
		t.Fatalf("testenv: write daemon.json: %v", err)
	}
	args := []string{
		"--config-file", daemonJSON,
		"--host", d.Host,
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"),
		"--bridge=none",
		"--iptables=false",
		"--storage-driver=vfs",
	}
	for _, r := range opts.InsecureRegistries {
		args = append(args, "--insecure-registry", r)
	}
	args = append(args, opts.ExtraArgs...)

	cmd := exec.Command(bin, args...)
	// Debian's directories first so dockerd finds the containerd and runc
	// it was built against, and no proxy variables: pulls from the
	// loopback registry must not be sent to a proxy.
	cmd.Env = append(cleanEnv(), "PATH="+filepath.Dir(bin)+":/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin:/usr/local/bin")
	cmd.Dir = dir
	p, err := startProc("dockerd", cmd, d.Log, syscall.SIGTERM)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	d.proc = p
	logShown := false
	t.Cleanup(func() {
		stopStart := time.Now()
		reportStop(t, p.stop(dockerdStopGrace))
		t.Logf("testenv: dockerd on %s stopped in %v", d.Host, time.Since(stopStart).Round(time.Millisecond))
		if t.Failed() && !logShown {
			t.Logf("testenv: dockerd log tail (%s):\n%s", d.Log, tail(d.Log, 4096))
		}
	})

	start := time.Now()
	if err := d.waitReady(dockerdStartTimeout); err != nil {
		logShown = true
		t.Fatalf("testenv: dockerd (%s) not ready: %v\n--- dockerd log tail ---\n%s", strings.Join(cmd.Args, " "), err, tail(d.Log, 4096))
	}
	t.Logf("testenv: dockerd ready on %s in %v", d.Host, time.Since(start).Round(time.Millisecond))
	return d
}

const (
	dockerdDirPrefix = "rudk"
	ownerFile        = "owner.pid"
)

// sweepStaleDirs removes /tmp/rudk* directories left by test binaries that
// were killed (e.g. by go test -timeout) before their clean-up ran. The
// daemon itself does not outlive them (it gets SIGTERM as parent-death
// signal) but its directory does. Only directories whose recorded owner is
// dead and whose dockerd pidfile names no live process are touched.
func sweepStaleDirs(t testing.TB) {
	dirs, _ := filepath.Glob(filepath.Join("/tmp", dockerdDirPrefix+"*"))
	for _, dir := range dirs {
		owner, ok := pidFromFile(filepath.Join(dir, ownerFile))
		if !ok || alive(owner) {
			continue
		}
		if pid, ok := pidFromFile(filepath.Join(dir, "docker.pid")); ok && alive(pid) {
			continue
		}
		if err := unmountUnder(dir); err != nil {
			t.Logf("testenv: stale %s: %v", dir, err)
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Logf("testenv: remove stale %s: %v", dir, err)
		}
	}
}

func pidFromFile(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid, err == nil && pid > 0
}

// HTTPClient returns a client whose every request goes to the daemon's unix
// socket (use any host in the URL, e.g. "http://docker/_ping").
func (d *Dockerd) HTTPClient() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var dl net.Dialer
				return dl.DialContext(ctx, "unix", d.Socket)
			},
		},
	}
}

// waitReady polls /_ping until it answers OK, the daemon exits, or timeout.
func (d *Dockerd) waitReady(timeout time.Duration) error {
	c := d.HTTPClient()
	c.Timeout = 2 * time.Second
	defer c.CloseIdleConnections()
	deadline := time.Now().Add(timeout)
	var last error
	for {
		if done, err := d.proc.exited(); done {
			return fmt.Errorf("dockerd exited during start-up: %w", errOrExit0(err))
		}
		resp, err := c.Get("http://docker/_ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/_ping: %s", resp.Status)
		}
		last = err
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer from /_ping within %v: %w", timeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func errOrExit0(err error) error {
	if err == nil {
		return fmt.Errorf("exit status 0")
	}
	return err
}

// Docker runs the Debian docker CLI (/usr/bin/docker; see Lookup) as
// "docker -H d.Host --config configDir args...". configDir "" means a fresh
// empty temporary directory, i.e. no credentials at all. DOCKER_* and proxy
// variables are removed from the CLI's environment so only the flags count.
// It has a 2-minute timeout and does not fail the test: callers assert on
// the error and output themselves.
func (d *Dockerd) Docker(t testing.TB, configDir string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return d.DockerInput(t, configDir, "", args...)
}

// DockerInput is Docker with stdin, e.g. for "login --password-stdin".
func (d *Dockerd) DockerInput(t testing.TB, configDir, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return d.dockerRun(t, configDir, strings.NewReader(stdin), args...)
}

// DockerCmd returns an unstarted "docker -H d.Host args..." command for
// cases Docker does not cover (a custom environment such as DOCKER_CONFIG
// or HOME, streaming output). Unlike Docker it adds no --config flag. The
// environment is os.Environ() without DOCKER_*/proxy variables; append to
// cmd.Env to add some back.
func (d *Dockerd) DockerCmd(ctx context.Context, args ...string) (*exec.Cmd, error) {
	bin, err := Lookup("docker")
	if err != nil {
		return nil, fmt.Errorf("docker CLI: %w", err)
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"-H", d.Host}, args...)...)
	cmd.Env = cleanEnv()
	return cmd, nil
}

func (d *Dockerd) dockerRun(t testing.TB, configDir string, stdin io.Reader, args ...string) (string, string, error) {
	t.Helper()
	if configDir == "" {
		configDir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), dockerCLITimeout)
	defer cancel()
	cmd, err := d.DockerCmd(ctx, append([]string{"--config", configDir}, args...)...)
	if err != nil {
		return "", "", err
	}
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	err = cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("docker %s: timed out after %v: %w", strings.Join(args, " "), dockerCLITimeout, ctx.Err())
	} else if err != nil {
		err = fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), errb.String(), err
}

// ImportImage makes a one-file image named ref on d, offline (docker
// import): enough for containers that are created, never started.
func (d *Dockerd) ImportImage(t testing.TB, ref string) {
	t.Helper()
	rootfs, err := tarOneFile("image.txt", []byte(ref+"\n"))
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if _, stderr, err := d.DockerInput(t, "", string(rootfs), "import", "-", ref); err != nil {
		t.Fatalf("testenv: docker import %s: %v (stderr: %s)", ref, err, stderr)
	}
}
