package cli

import (
	"context"
	"os"

	"github.com/runnerup/runnerup/probe/daemon"
	"github.com/runnerup/runnerup/probe/service"
)

// detectService looks for the gitlab-runner service in systemd and, on
// the Docker daemon the runner uses, for a gitlab-runner container.
func detectService(ctx context.Context, dockerHost string) ([]service.Install, error) {
	o := service.Options{Euid: os.Geteuid()}
	if c, err := daemon.NewEngine(dockerHost); err == nil {
		defer c.Close()
		o.Docker = c
	}
	return service.Detect(ctx, o)
}
