package suite

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/credentials"
	"github.com/runnerup/runnerup/probe/daemon"
	"github.com/runnerup/runnerup/probe/fleet"
	"github.com/runnerup/runnerup/probe/service"
)

// TestPlanDaemonWiring: the runner the host checks found (the service's
// ExecStart, its environment, its config.toml's helper settings), the
// plan's images as DinD pairs, and --pull's credential wiring reach the
// daemon checks.
func TestPlanDaemonWiring(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "gitlab-runner")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nprintf 'Version:      17.4.0\\nGit revision: b92ee590\\n'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := Plan{
		Daemon:      &daemon.Options{Client: fakeDaemon{}},
		Images:      []string{"docker:24", "docker:29-dind"},
		Credentials: &credentials.Resolver{ConfigJSON: []byte("{}")},
		Fleet: &fleet.Options{
			Detected: true,
			Installs: []service.Install{{Kind: service.Systemd, Name: "gitlab-runner.service", Executable: bin, Running: true,
				Environment: []string{"DOCKER_API_VERSION=1.44"}}},
			ConfigTOML: []byte("[[runners]]\n  name = \"a\"\n  executor = \"docker\"\n  shell = \"pwsh\"\n  [runners.docker]\n    helper_image_flavor = \"ubuntu\"\n"),
		},
	}
	p.Pull = &daemon.PullOptions{}
	// The helper image's registry probe goes nowhere: no test reaches
	// registry.gitlab.com.
	p.Registry.Transport = &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return nil, errors.New("offline test")
	}}
	d := p.daemonOptions()
	if d.Runner == nil || d.Runner.Executable != bin || d.Runner.Where != "systemd gitlab-runner.service" ||
		!slices.Contains(d.Runner.Environment, "DOCKER_API_VERSION=1.44") || !reflect.DeepEqual(d.Runner.Helpers, []daemon.HelperSpec{{Runners: []string{"a"}, Flavor: "ubuntu", Shell: "pwsh"}}) {
		t.Errorf("runner = %+v", d.Runner)
	}
	if len(d.Jobs) != 1 || !slices.Equal(d.Jobs[0].Images, []string{"docker:24"}) || !slices.Equal(d.Jobs[0].Services, []string{"docker:29-dind"}) {
		t.Errorf("jobs = %+v", d.Jobs)
	}
	if d.Pull == nil || !slices.Equal(d.Pull.Images, p.Images) || d.Pull.CredentialsCheck == nil || d.Pull.CredentialFrom == nil {
		t.Fatalf("pull = %+v", d.Pull)
	}
	results, err := probe.Run(context.Background(), p.Checks(), probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range results {
		ids = append(ids, r.ID)
		switch r.ID {
		case daemon.IDRunnerAPI:
			// The service pins 1.44; this daemon (20.10) stops at 1.41.
			if r.Status != probe.Fail || !strings.Contains(r.Detail, "DOCKER_API_VERSION=1.44") || !strings.Contains(r.Detail, "client version 1.44 is too new") {
				t.Errorf("%s = %s %q", r.ID, r.Status, r.Detail)
			}
		case daemon.IDDindAPI:
			if r.Status != probe.Fail || r.Finding != daemon.CauseAPITooOld {
				t.Errorf("%s = %s %q", r.ID, r.Status, r.Detail)
			}
		}
	}
	for _, id := range []string{daemon.IDRunnerAPI, daemon.IDDindAPI, daemon.IDHelperImage, daemon.PullID("docker:24")} {
		if !slices.Contains(ids, id) {
			t.Errorf("no %s in %v", id, ids)
		}
	}
}

// TestHelperImagePerEntry: probe --config checks the helper image of every
// docker entry, once per distinct image: a helper_image mirror on the
// third entry is checked too, two entries with the same settings share
// one check, and a docker-windows entry is not given a Linux tag (the
// daemon here is Linux: it is skipped, saying why).
func TestHelperImagePerEntry(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "gitlab-runner")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nprintf 'Version:      17.4.0\\nGit revision: b92ee590\\n'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	const mirror = "mirror.example.com/gitlab-runner-helper:x86_64-v17.4.0"
	p := Plan{
		Daemon: &daemon.Options{Client: fakeDaemon{}},
		Fleet: &fleet.Options{
			Detected: true,
			Installs: []service.Install{{Kind: service.Systemd, Name: "gitlab-runner.service", Executable: bin, Running: true}},
			ConfigTOML: []byte(`
[[runners]]
  name = "win"
  executor = "docker-windows"
  shell = "pwsh"
  [runners.docker]
    image = "mcr.microsoft.com/windows/servercore:ltsc2022"
[[runners]]
  name = "plain"
  executor = "docker"
  [runners.docker]
    image = "alpine:3.20"
[[runners]]
  name = "same"
  executor = "docker"
  [runners.docker]
    image = "ruby:3.3"
[[runners]]
  name = "mirrored"
  executor = "docker"
  [runners.docker]
    image = "alpine:3.20"
    helper_image = "` + mirror + `"
`),
		},
	}
	p.Registry.Transport = &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return nil, errors.New("offline test")
	}}
	results, err := probe.Run(context.Background(), p.Checks(), probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var helpers []probe.Result
	for _, r := range results {
		if strings.HasPrefix(r.ID, daemon.IDHelperImage) {
			helpers = append(helpers, r)
		}
	}
	count := func(pred func(probe.Result) bool) int {
		n := 0
		for _, r := range helpers {
			if pred(r) {
				n++
			}
		}
		return n
	}
	defaultRef := daemon.GitLabHelperImage + ":x86_64-v17.4.0"
	if n := count(func(r probe.Result) bool {
		return strings.Contains(r.Detail, defaultRef+" ") || strings.Contains(r.Detail, defaultRef+":")
	}); n != 1 {
		t.Errorf("%d checks of the default helper %s, want 1 for plain and same: %+v", n, defaultRef, helpers)
	}
	if count(func(r probe.Result) bool { return strings.Contains(r.Detail, mirror) }) != 1 {
		t.Errorf("the mirrored entry's helper_image is not checked: %+v", helpers)
	}
	if count(func(r probe.Result) bool { return strings.Contains(r.Detail, "-pwsh") }) != 0 {
		t.Errorf("a docker-windows entry got a Linux helper tag: %+v", helpers)
	}
	if count(func(r probe.Result) bool {
		return r.Status == probe.Skip && strings.Contains(r.Detail, `"win"`) && strings.Contains(r.Detail, "docker-windows")
	}) != 1 {
		t.Errorf("the docker-windows entry is not skipped with its reason: %+v", helpers)
	}
	ids := map[string]bool{}
	for _, r := range helpers {
		if ids[r.ID] {
			t.Errorf("check id %s twice", r.ID)
		}
		ids[r.ID] = true
	}
}
