package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// detectContainers finds gitlab-runner containers, stopped ones included:
// a stopped runner is still the install whose files matter.
func detectContainers(ctx context.Context, api ContainerAPI) ([]Install, error) {
	list, err := api.ContainerList(ctx, true)
	if err != nil {
		// No daemon to connect to is "no Docker here". A socket this user
		// may not open is worth saying: runner containers may be hidden.
		if client.IsErrConnectionFailed(err) && !errors.Is(err, fs.ErrPermission) {
			return nil, nil
		}
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	var installs []Install
	var errs []error
	for _, s := range list {
		if !isRunnerImage(s.Image) && !namesRunner(strings.Fields(s.Command)) {
			continue
		}
		ins, err := api.ContainerInspect(ctx, s.ID)
		if cerrdefs.IsNotFound(err) {
			continue // removed since the list
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("inspecting container %s: %w", shortID(s.ID), err))
			continue
		}
		if in, ok := containerInstall(ins, s); ok {
			installs = append(installs, in)
		}
	}
	return installs, errors.Join(errs...)
}

// containerInstall decides whether an inspected container runs `gitlab-runner
// run` and, if so, which host files back what it reads.
func containerInstall(ins container.InspectResponse, s container.Summary) (Install, bool) {
	cfg := ins.Config
	if cfg == nil {
		cfg = &container.Config{}
	}
	argv := append(append([]string{}, cfg.Entrypoint...), cfg.Cmd...)
	if len(argv) == 0 && ins.Path != "" {
		argv = append([]string{ins.Path}, ins.Args...)
	}
	image := cfg.Image
	if image == "" {
		image = s.Image
	}
	// The image or the command must say gitlab-runner, and the command
	// must be `run`: a `register` container is not the service.
	ra, ok := parseRunArgv(argv)
	if !ok || !isRunnerImage(image) && !namesRunner(argv) {
		return Install{}, false
	}

	in := Install{
		Kind:        Container,
		Source:      []string{"container " + shortID(s.ID)},
		User:        cfg.User,
		Environment: cfg.Env,
		State:       "unknown",
	}
	in.Name = strings.TrimPrefix(ins.Name, "/")
	if ins.State != nil {
		in.State = string(ins.State.Status)
		in.Running = ins.State.Running
	}
	if in.Name == "" && len(s.Names) > 0 {
		in.Name = strings.TrimPrefix(s.Names[0], "/")
	}
	if in.User == "" {
		in.User = "root"
	}
	in.RestartCommand = "docker restart " + in.Name
	in.BuildUser = ra.buildUser

	env := envMap(cfg.Env)
	root := isRootUser(cfg.User)
	home := env["HOME"]
	if home == "" && root {
		home = "/root"
	}
	cwd := cfg.WorkingDir
	if cwd == "" {
		cwd = "/"
	}
	rf := resolveRunnerFiles(ra, env, cwd, root, home)
	in.ConfigPathFromDefault = rf.fromDefault
	in.WorkingDirectory = rf.workDir
	switch {
	case rf.configPath == "":
		in.Notes = append(in.Notes, fmt.Sprintf("the home of container user %s is unknown: config.toml location unknown", in.User))
	default:
		in.ConfigPath = hostPath(ins.Mounts, rf.configPath)
		if in.ConfigPath == "" {
			in.Notes = append(in.Notes, fmt.Sprintf("%s is inside the container: no host directory is mounted there", rf.configPath))
		}
	}
	if home != "" {
		in.DockerConfigPath = hostPath(ins.Mounts, path.Join(home, ".docker", "config.json"))
	}
	return in, true
}

// hostPath translates a path inside a container to the host path behind it,
// through the mount with the longest destination that contains it: a bind
// mount's Source is a host path, a volume's Source its mountpoint on the
// daemon's host. "" when no mount covers p or the mount has no host path
// (tmpfs).
func hostPath(mounts []container.MountPoint, p string) string {
	best, bestLen := -1, -1
	for i, m := range mounts {
		d := path.Clean(m.Destination)
		if (p == d || d == "/" || strings.HasPrefix(p, d+"/")) && len(d) > bestLen {
			best, bestLen = i, len(d)
		}
	}
	if best < 0 || mounts[best].Source == "" {
		return ""
	}
	m := mounts[best]
	rel := strings.TrimPrefix(p, path.Clean(m.Destination))
	return path.Join(m.Source, rel)
}

// isRunnerImage reports whether an image reference names a GitLab Runner
// image, whatever its tag or digest: gitlab/gitlab-runner on Docker Hub,
// registry.gitlab.com/gitlab-org/gitlab-runner, a mirror's
// .../gitlab-runner, or a local gitlab-runner. The helper image
// (gitlab-runner-helper), which every docker-executor job starts, is not.
func isRunnerImage(ref string) bool {
	ref = strings.ToLower(ref)
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		ref = ref[:i]
	}
	return runnerBinaries[path.Base(ref)]
}

// namesRunner reports whether a command line calls the runner binary.
func namesRunner(argv []string) bool {
	return runnerBinaryIndex(argv) >= 0
}

// shortID is the 12-character container ID docker ps shows.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
