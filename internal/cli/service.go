package cli

import (
	"context"
	"os"

	"github.com/docker/docker/client"

	"github.com/runnerup/runnerup/probe/service"
)

// detectService looks for the gitlab-runner service in systemd and, on
// the Docker daemon the runner uses, for a gitlab-runner container.
func detectService(ctx context.Context, dockerHost string) ([]service.Install, error) {
	o := service.Options{Euid: os.Geteuid()}
	copts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if dockerHost != "" {
		copts = append(copts, client.WithHost(dockerHost))
	}
	if c, err := client.NewClientWithOpts(copts...); err == nil {
		defer c.Close()
		o.Docker = c
	}
	return service.Detect(ctx, o)
}
