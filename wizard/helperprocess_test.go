//go:build linux

package wizard

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/service"
	"github.com/runnerup/runnerup/probe/suite"
)

// The wizard's live checks (ProbeAnswers, while the user answers) run a
// credential helper as the detected service would: a helper on this
// process's PATH but not on the unit's fails, named with both PATHs.
func TestProbeAnswersRunsHelpersAsTheService(t *testing.T) {
	dir := t.TempDir()
	userBin := filepath.Join(dir, "home", "bin")
	if err := os.MkdirAll(userBin, 0o755); err != nil {
		t.Fatal(err)
	}
	helper := "#!/bin/sh\nIFS= read -r server || true\nprintf '{\"ServerURL\":\"%s\",\"Username\":\"ci\",\"Secret\":\"helper-secret-0123\"}' \"$server\"\n"
	if err := os.WriteFile(filepath.Join(userBin, "docker-credential-rup"), []byte(helper), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", userBin+":"+os.Getenv("PATH"))
	const host = "127.0.0.1:1" // refuses at once: only the credential checks matter here
	dockerDir := filepath.Join(dir, "svc", ".docker")
	if err := os.MkdirAll(dockerDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dockerDir, "config.json"), []byte(`{"credHelpers":{"`+host+`":"rup"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	unit := service.Install{Kind: service.Systemd, Name: "gitlab-runner.service", User: "root", Running: true,
		Environment: []string{"PATH=/usr/sbin:/usr/bin", "HOME=" + filepath.Dir(dockerDir)}}
	a := &Answers{Version: 1}
	a.Runner.Executor = "docker"
	a.Docker.Image = host + "/ci/app:1"
	opts := ApplyOptions{
		ConfigPath: filepath.Join(dir, "config.toml"), DockerConfigDir: dockerDir,
		Paths:         PathEnv{Euid: os.Geteuid(), Home: dir, Cwd: dir, Env: func(string) (string, bool) { return "", false }},
		DetectService: func(context.Context, string) ([]service.Install, error) { return []service.Install{unit}, nil },
		Timeout:       2 * time.Second,
		Probe: ProbeOptions{Timeout: 2 * time.Second, Tweak: func(p *suite.Plan) {
			p.Daemon, p.Fleet, p.Runner = nil, nil, nil
		}},
	}
	results, err := ProbeAnswers(context.Background(), a, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := "found on your PATH (" + userBin + "), not on the service's PATH (/usr/sbin:/usr/bin"
	var got *probe.Result
	for i := range results {
		if results[i].ID == "helper.rup" {
			got = &results[i]
		}
		if strings.Contains(results[i].Detail, "helper-secret-0123") {
			t.Errorf("%s shows the helper's secret", results[i].ID)
		}
	}
	if got == nil || got.Status != probe.Fail || !strings.Contains(got.Detail, want) {
		t.Fatalf("helper.rup = %+v, want a failure with %q", got, want)
	}
}
