package cli

import (
	"context"
	"os"

	"github.com/runnerup/runnerup/probe/daemon"
	"github.com/runnerup/runnerup/probe/service"
	"github.com/runnerup/runnerup/wizard"
)

// detectService looks for the gitlab-runner service in systemd and, on
// the Docker daemon the runner uses, for a gitlab-runner container
// (wizard.NoDockerDaemon: on none).
func detectService(ctx context.Context, dockerHost string) ([]service.Install, error) {
	o := service.Options{Euid: os.Geteuid()}
	if dockerHost == wizard.NoDockerDaemon {
		return service.Detect(ctx, o)
	}
	if c, err := daemon.NewEngine(dockerHost); err == nil {
		defer c.Close()
		o.Docker = c
	}
	return service.Detect(ctx, o)
}
