package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/moby/moby/api/types/system"

	"github.com/runnerup/runnerup/probe"
)

// Free-space thresholds for the daemon's data root. A pull writes each
// layer to <data-root>/tmp and then extracts it, so it needs about twice the
// compressed image; 2 GiB covers common CI images, under 256 MiB almost any
// pull fails with "no space left on device" (pull-failures disk-full).
const (
	warnFree = 2 << 30
	failFree = 256 << 20
)

const pruneHint = "free space: `docker system prune -af --filter until=24h` removes unused images, stopped containers and build cache older than a day (add --volumes only if no job keeps data in volumes); schedule GitLab Runner's clear-docker-cache script, grow the disk or move data-root"

func (s *session) checkStorage(ctx context.Context, _ probe.Deps) probe.Result {
	info, err := s.systemInfo(ctx)
	if err != nil {
		return apiFailure(err)
	}
	where := describeDriver(info)
	if s.socketPath() == "" {
		return probe.Passf("%s; free space not checked (remote daemon)", where)
	}
	if info.DockerRootDir == "" {
		return probe.Passf("%s; free space not checked (the daemon did not report its data root)", where)
	}
	free, total, err := s.opts.StatFS(info.DockerRootDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// The socket is local but the data root is not visible: the
		// runner runs in a container with only the socket mounted.
		return probe.Passf("%s; free space not checked (%s is not visible here: the daemon's file system is elsewhere)", where, info.DockerRootDir)
	case err != nil:
		return probe.Warnf(fmt.Sprintf("check the space by hand: `df -h %s`", info.DockerRootDir), "%s; cannot check free space: %v", where, err)
	}
	detail := fmt.Sprintf("%s: %s free of %s", where, humanBytes(free), humanBytes(total))
	switch {
	case free < failFree:
		return probe.Failf(pruneHint, "%s, below %s: pulls will fail with \"no space left on device\"", detail, humanBytes(failFree))
	case free < warnFree:
		return probe.Warnf(pruneHint, "%s, below %s: large images may not fit", detail, humanBytes(warnFree))
	}
	return probe.Passf("%s", detail)
}

// describeDriver says "storage driver overlay2, data root /var/lib/docker",
// and names the containerd image store, whose pull errors read differently
// (pull-failures §0.1).
func describeDriver(info system.Info) string {
	driver := info.Driver
	if driver == "" {
		driver = "unknown"
	}
	for _, kv := range info.DriverStatus {
		if kv[0] == "driver-type" && kv[1] == "io.containerd.snapshotter.v1" {
			driver += " (containerd image store)"
			break
		}
	}
	root := info.DockerRootDir
	if root == "" {
		root = "unknown"
	}
	return fmt.Sprintf("storage driver %s, data root %s", driver, root)
}

// humanBytes prints binary units with one decimal: "1.5 GiB", "200.0 MiB".
func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
