package cli

import (
	"context"
	"sort"
	"time"

	"github.com/runnerup/runnerup/probe/daemon"
)

// hostInsecureRegistries are the registries the Docker daemon (DOCKER_HOST,
// else the default socket) treats as insecure by name, for the linter's
// DinD note; nil when no daemon answers within timeout.
func hostInsecureRegistries(ctx context.Context, timeout time.Duration) []string {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	facts, _ := daemon.Gather(ctx, daemon.Options{})
	var out []string
	for name, secure := range facts.Registries.Secure {
		if !secure {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
