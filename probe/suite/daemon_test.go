package suite

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
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
		!slices.Contains(d.Runner.Environment, "DOCKER_API_VERSION=1.44") || d.Runner.HelperImageFlavor != "ubuntu" || d.Runner.Shell != "pwsh" {
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
