//go:build linux

package service

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runnerup/runnerup/internal/testenv"
)

// TestIntegrationContainers finds runner containers on a real dockerd
// (private socket, no network): the Engine API's inspect output for bind
// mounts and volumes is what the mount translation is written against.
// The runner image is a one-file image imported offline and tagged
// gitlab/gitlab-runner:test; the containers are created, not started, as
// the image has no runner binary.
func TestIntegrationContainers(t *testing.T) {
	testenv.Isolate(t)
	d := testenv.StartDockerd(t, testenv.DockerdOptions{})
	docker := func(args ...string) string {
		t.Helper()
		out, stderr, err := d.Docker(t, "", args...)
		if err != nil {
			t.Fatalf("%v (stderr: %s)", err, stderr)
		}
		return strings.TrimSpace(out)
	}
	d.ImportImage(t, "gitlab/gitlab-runner:test")
	d.ImportImage(t, "example/other:1")

	configDir := t.TempDir()
	dockerDir := t.TempDir()
	docker("create", "--name", "gitlab-runner", "-v", configDir+":/etc/gitlab-runner",
		"gitlab/gitlab-runner:test", "run", "--working-directory", "/home/gitlab-runner")
	docker("volume", "create", "runner-config")
	volume := docker("volume", "inspect", "--format", "{{.Mountpoint}}", "runner-config")
	docker("create", "--name", "runner-vol", "-v", "runner-config:/etc/gitlab-runner", "-v", dockerDir+":/root/.docker",
		"-e", "HTTPS_PROXY=http://proxy.example:3128", "gitlab/gitlab-runner:test", "run", "-c", "/etc/gitlab-runner/custom.toml")
	// Not a runner: another image running a command that happens to be "run".
	docker("create", "--name", "other", "-v", configDir+":/etc/gitlab-runner", "example/other:1", "run")

	api := newEngine(t, d.Host)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := Detect(ctx, Options{Docker: api, GOOS: "linux", UnitDirs: []string{}, UserUnitDirs: []string{}, Systemctl: "-"})
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	for _, in := range got {
		t.Logf("%s %v", in.Summary(), in.Source)
	}
	if len(got) != 2 {
		t.Fatalf("Detect found %d installs, want gitlab-runner and runner-vol", len(got))
	}

	bound := got[0]
	if bound.Kind != Container || bound.Name != "gitlab-runner" || bound.ConfigPath != filepath.Join(configDir, "config.toml") ||
		!bound.ConfigPathFromDefault || bound.State != "created" || bound.Running || bound.RestartCommand != "docker restart gitlab-runner" ||
		bound.User != "root" || bound.WorkingDirectory != "/home/gitlab-runner" || bound.DockerConfigPath != "" ||
		len(bound.Source) != 1 || !strings.HasPrefix(bound.Source[0], "container ") || len(bound.Source[0]) != len("container ")+12 {
		t.Errorf("bind-mounted runner = %+v", bound)
	}

	vol := got[1]
	if vol.Name != "runner-vol" || vol.ConfigPath != filepath.Join(volume, "custom.toml") || vol.ConfigPathFromDefault ||
		vol.DockerConfigPath != filepath.Join(dockerDir, "config.json") || vol.State != "created" ||
		!slices.Contains(vol.Environment, "HTTPS_PROXY=http://proxy.example:3128") {
		t.Errorf("volume runner = %+v, want config %s and docker config %s", vol, filepath.Join(volume, "custom.toml"), filepath.Join(dockerDir, "config.json"))
	}
}
