package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
)

// engine is the real Engine client behind ContainerAPI, as daemon.Engine
// adapts it (that package imports this one).
type engine struct{ c *client.Client }

func newEngine(t *testing.T, host string) engine {
	t.Helper()
	c, err := client.New(client.WithHost(host))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return engine{c}
}

func (e engine) ContainerList(ctx context.Context, all bool) ([]container.Summary, error) {
	r, err := e.c.ContainerList(ctx, client.ContainerListOptions{All: all})
	return r.Items, err
}

func (e engine) ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error) {
	r, err := e.c.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	return r.Container, err
}

// fakeDocker answers ContainerList and ContainerInspect from its fields
// and records which containers were inspected.
type fakeDocker struct {
	list       []container.Summary
	listErr    error
	inspect    map[string]container.InspectResponse
	inspectErr map[string]error
	inspected  []string
}

var _ ContainerAPI = (*fakeDocker)(nil)

func (f *fakeDocker) ContainerList(_ context.Context, all bool) ([]container.Summary, error) {
	if !all {
		return nil, errors.New("fakeDocker: ContainerList without All would miss stopped runners")
	}
	return f.list, f.listErr
}

func (f *fakeDocker) ContainerInspect(_ context.Context, id string) (container.InspectResponse, error) {
	f.inspected = append(f.inspected, id)
	if err := f.inspectErr[id]; err != nil {
		return container.InspectResponse{}, err
	}
	ins, ok := f.inspect[id]
	if !ok {
		return container.InspectResponse{}, fmt.Errorf("fakeDocker: no container %s", id)
	}
	return ins, nil
}

// ctr describes one container the way docker run would create it.
type ctr struct {
	id, name, image string
	entrypoint, cmd []string
	env             []string
	user, workDir   string
	status          string
	mounts          []container.MountPoint
	summaryImage    string // when docker ps shows something else (an ID)
}

func (c ctr) add(f *fakeDocker) {
	if f.inspect == nil {
		f.inspect = map[string]container.InspectResponse{}
	}
	img := c.image
	if c.summaryImage != "" {
		img = c.summaryImage
	}
	f.list = append(f.list, container.Summary{
		ID: c.id, Names: []string{"/" + c.name}, Image: img,
		Command: strings.Join(append(append([]string{}, c.entrypoint...), c.cmd...), " "),
		State:   container.ContainerState(c.status),
	})
	f.inspect[c.id] = container.InspectResponse{
		ID: c.id, Name: "/" + c.name, Image: "sha256:0123",
		State: &container.State{Status: container.ContainerState(c.status), Running: c.status == "running"},
		Config: &container.Config{
			Image: c.image, Entrypoint: c.entrypoint, Cmd: c.cmd, Env: c.env, User: c.user, WorkingDir: c.workDir,
		},
		Mounts: c.mounts,
	}
}

func bind(src, dst string) container.MountPoint {
	return container.MountPoint{Type: mount.TypeBind, Source: src, Destination: dst, RW: true}
}

// officialCmd is the gitlab/gitlab-runner image's ENTRYPOINT and CMD.
var (
	officialEntrypoint = []string{"/usr/bin/dumb-init", "/entrypoint"}
	officialCmd        = []string{"run", "--user=gitlab-runner", "--working-directory=/home/gitlab-runner"}
	imageEnv           = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
)

const id1, id2, id3 = "0123456789abcdef0123456789abcdef", "1123456789abcdef0123456789abcdef", "2123456789abcdef0123456789abcdef"

func TestDetectContainers(t *testing.T) {
	tests := []struct {
		name          string
		ctrs          []ctr
		want          []Install
		wantInspected []string
	}{
		{
			name: "official image, bind mount at /etc/gitlab-runner",
			ctrs: []ctr{{
				id: id1, name: "gitlab-runner", image: "gitlab/gitlab-runner:latest", status: "running",
				entrypoint: officialEntrypoint, cmd: officialCmd,
				env: append([]string{"HTTP_PROXY=http://proxy:3128"}, imageEnv...),
				mounts: []container.MountPoint{
					bind("/var/run/docker.sock", "/var/run/docker.sock"),
					bind("/srv/gitlab-runner/config", "/etc/gitlab-runner"),
				},
			}},
			want: []Install{{
				Kind: Container, Name: "gitlab-runner", Source: []string{"container 0123456789ab"},
				ConfigPath: "/srv/gitlab-runner/config/config.toml", ConfigPathFromDefault: true,
				WorkingDirectory: "/home/gitlab-runner", BuildUser: "gitlab-runner", User: "root",
				Environment: append([]string{"HTTP_PROXY=http://proxy:3128"}, imageEnv...),
				State:       "running", Running: true, RestartCommand: "docker restart gitlab-runner",
			}},
			wantInspected: []string{id1},
		},
		{
			name: "named volume for the config, host ~/.docker mounted at /root/.docker",
			ctrs: []ctr{{
				id: id1, name: "runner", image: "docker.io/gitlab/gitlab-runner:v17.4.0", status: "exited",
				entrypoint: officialEntrypoint, cmd: officialCmd, env: imageEnv,
				mounts: []container.MountPoint{
					{Type: mount.TypeVolume, Name: "runner-config", Source: "/var/lib/docker/volumes/runner-config/_data", Destination: "/etc/gitlab-runner", Driver: "local", RW: true},
					bind("/home/me/.docker", "/root/.docker"),
				},
			}},
			want: []Install{{
				Kind: Container, Name: "runner", Source: []string{"container 0123456789ab"},
				ConfigPath: "/var/lib/docker/volumes/runner-config/_data/config.toml", ConfigPathFromDefault: true,
				DockerConfigPath: "/home/me/.docker/config.json",
				WorkingDirectory: "/home/gitlab-runner", BuildUser: "gitlab-runner", User: "root", Environment: imageEnv,
				State: "exited", RestartCommand: "docker restart runner",
			}},
			wantInspected: []string{id1},
		},
		{
			name: "no mount: the config lives and dies with the container",
			ctrs: []ctr{{id: id1, name: "gitlab-runner", image: "gitlab/gitlab-runner:alpine", status: "created", entrypoint: officialEntrypoint, cmd: officialCmd}},
			want: []Install{{
				Kind: Container, Name: "gitlab-runner", Source: []string{"container 0123456789ab"},
				ConfigPathFromDefault: true, WorkingDirectory: "/home/gitlab-runner", BuildUser: "gitlab-runner", User: "root",
				State: "created", RestartCommand: "docker restart gitlab-runner",
				Notes: []string{"/etc/gitlab-runner/config.toml is inside the container: no host directory is mounted there"},
			}},
			wantInspected: []string{id1},
		},
		{
			name: "a parent directory mounted; the whole home mounted",
			ctrs: []ctr{{
				id: id1, name: "gitlab-runner", image: "registry.gitlab.com/gitlab-org/gitlab-runner@sha256:" + strings.Repeat("ab", 32), status: "running",
				entrypoint: officialEntrypoint, cmd: officialCmd,
				mounts: []container.MountPoint{bind("/srv/etc", "/etc"), bind("/srv/root-home", "/root/")},
			}},
			want: []Install{{
				Kind: Container, Name: "gitlab-runner", Source: []string{"container 0123456789ab"},
				ConfigPath: "/srv/etc/gitlab-runner/config.toml", ConfigPathFromDefault: true,
				DockerConfigPath: "/srv/root-home/.docker/config.json",
				WorkingDirectory: "/home/gitlab-runner", BuildUser: "gitlab-runner", User: "root",
				State: "running", Running: true, RestartCommand: "docker restart gitlab-runner",
			}},
			wantInspected: []string{id1},
		},
		{
			name: "the config.toml file itself mounted, inside a mounted directory",
			ctrs: []ctr{{
				id: id1, name: "gitlab-runner", image: "mirror.example:5000/gitlab/gitlab-runner:v17", status: "running",
				entrypoint: officialEntrypoint, cmd: officialCmd,
				mounts: []container.MountPoint{bind("/srv/config-dir", "/etc/gitlab-runner"), bind("/srv/runner.toml", "/etc/gitlab-runner/config.toml")},
			}},
			want: []Install{{
				Kind: Container, Name: "gitlab-runner", Source: []string{"container 0123456789ab"},
				ConfigPath: "/srv/runner.toml", ConfigPathFromDefault: true,
				WorkingDirectory: "/home/gitlab-runner", BuildUser: "gitlab-runner", User: "root",
				State: "running", Running: true, RestartCommand: "docker restart gitlab-runner",
			}},
			wantInspected: []string{id1},
		},
		{
			name: "--config in the command, relative to the image's working directory",
			ctrs: []ctr{{
				id: id1, name: "r1", image: "registry.gitlab.com/gitlab-org/gitlab-runner:alpine-v17.0.0", status: "running",
				entrypoint: []string{"gitlab-runner"}, cmd: []string{"--debug", "run", "-c", "runner.toml"}, workDir: "/cfg",
				mounts: []container.MountPoint{bind("/srv/cfg", "/cfg")},
			}},
			want: []Install{{
				Kind: Container, Name: "r1", Source: []string{"container 0123456789ab"},
				ConfigPath: "/srv/cfg/runner.toml", User: "root",
				State: "running", Running: true, RestartCommand: "docker restart r1",
			}},
			wantInspected: []string{id1},
		},
		{
			name: "CONFIG_FILE in the environment, on a volume",
			ctrs: []ctr{{
				id: id1, name: "r2", image: "gitlab/gitlab-runner", status: "running",
				entrypoint: officialEntrypoint, cmd: officialCmd, env: []string{"CONFIG_FILE=/data/config.toml"},
				mounts: []container.MountPoint{{Type: mount.TypeVolume, Name: "data", Source: "/var/lib/docker/volumes/data/_data", Destination: "/data"}},
			}},
			want: []Install{{
				Kind: Container, Name: "r2", Source: []string{"container 0123456789ab"},
				ConfigPath: "/var/lib/docker/volumes/data/_data/config.toml", WorkingDirectory: "/home/gitlab-runner", BuildUser: "gitlab-runner",
				User: "root", Environment: []string{"CONFIG_FILE=/data/config.toml"},
				State: "running", Running: true, RestartCommand: "docker restart r2",
			}},
			wantInspected: []string{id1},
		},
		{
			name: "a non-root user with HOME reads its home; without HOME the config is unknown",
			ctrs: []ctr{
				{
					id: id1, name: "rootless", image: "gitlab/gitlab-runner:v17", status: "running", user: "1000:1000",
					entrypoint: officialEntrypoint, cmd: []string{"run"}, env: []string{"HOME=/home/runner"},
					mounts: []container.MountPoint{bind("/srv/runner-home", "/home/runner")},
				},
				{id: id2, name: "nohome", image: "gitlab/gitlab-runner:v17", status: "exited", user: "gitlab-runner", entrypoint: officialEntrypoint, cmd: []string{"run"}},
			},
			want: []Install{
				{
					Kind: Container, Name: "rootless", Source: []string{"container 0123456789ab"},
					ConfigPath: "/srv/runner-home/.gitlab-runner/config.toml", ConfigPathFromDefault: true,
					DockerConfigPath: "/srv/runner-home/.docker/config.json",
					User:             "1000:1000", Environment: []string{"HOME=/home/runner"},
					State: "running", Running: true, RestartCommand: "docker restart rootless",
				},
				{
					Kind: Container, Name: "nohome", Source: []string{"container 1123456789ab"},
					ConfigPathFromDefault: true, User: "gitlab-runner",
					State: "exited", RestartCommand: "docker restart nohome",
					Notes: []string{"the home of container user gitlab-runner is unknown: config.toml location unknown"},
				},
			},
			wantInspected: []string{id1, id2},
		},
		{
			name: "found by its command when the image is only an ID",
			ctrs: []ctr{{
				id: id1, name: "custom", image: "sha256:" + strings.Repeat("cd", 32), status: "running",
				entrypoint: []string{"/usr/local/bin/gitlab-runner"}, cmd: []string{"run", "--config", "/etc/gitlab-runner/config.toml"},
				mounts: []container.MountPoint{bind("/opt/runner", "/etc/gitlab-runner")},
			}},
			want: []Install{{
				Kind: Container, Name: "custom", Source: []string{"container 0123456789ab"},
				ConfigPath: "/opt/runner/config.toml", User: "root",
				State: "running", Running: true, RestartCommand: "docker restart custom",
			}},
			wantInspected: []string{id1},
		},
		{
			name: "not runners: other images, the helper image, job containers, a register container",
			ctrs: []ctr{
				{id: id1, name: "web", image: "nginx:1.27", status: "running", entrypoint: []string{"/docker-entrypoint.sh"}, cmd: []string{"nginx", "-g", "daemon off;"}},
				{id: id2, name: "runner-abc-project-1-concurrent-0-predefined", image: "registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v17.0.0", status: "exited",
					cmd: []string{"gitlab-runner-helper", "build-logs-cleanup"}},
				{id: id3, name: "register-once", image: "gitlab/gitlab-runner:latest", status: "exited",
					entrypoint: officialEntrypoint, cmd: []string{"register", "--non-interactive", "--url", "https://gitlab.example.com"}},
				{id: "3123456789abcdef", name: "runner-abc-project-1-concurrent-0-build", image: "alpine:3.20", status: "exited", cmd: []string{"sh", "-c", "npm run build"}},
			},
			wantInspected: []string{id3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeDocker{}
			for _, c := range tt.ctrs {
				c.add(f)
			}
			got, err := Detect(context.Background(), Options{Docker: f, GOOS: "windows", LookupHome: testHomes})
			if err != nil {
				t.Fatalf("Detect: %v", err)
			}
			checkInstalls(t, got, tt.want)
			if !slices.Equal(f.inspected, tt.wantInspected) {
				t.Errorf("inspected %q, want %q", f.inspected, tt.wantInspected)
			}
		})
	}
}

func TestDetectContainersErrors(t *testing.T) {
	unreachable := newEngine(t, "unix://"+t.TempDir()+"/no-such.sock")

	running := &fakeDocker{}
	ctr{id: id1, name: "gitlab-runner", image: "gitlab/gitlab-runner", status: "running", entrypoint: officialEntrypoint, cmd: officialCmd}.add(running)
	ctr{id: id2, name: "gone", image: "gitlab/gitlab-runner", status: "exited", entrypoint: officialEntrypoint, cmd: officialCmd}.add(running)
	ctr{id: id3, name: "broken", image: "gitlab/gitlab-runner", status: "exited", entrypoint: officialEntrypoint, cmd: officialCmd}.add(running)
	running.inspectErr = map[string]error{
		id2: fmt.Errorf("no such container: %w", cerrdefs.ErrNotFound),
		id3: errors.New("boom"),
	}

	tests := []struct {
		name      string
		api       ContainerAPI
		wantNames []string
		wantErr   string
	}{
		{name: "no daemon to connect to is no containers, not an error", api: unreachable},
		{name: "the context bounds the Docker calls", api: hangingDocker{}, wantErr: "listing containers: context deadline exceeded"},
		{name: "a list failure is an error", api: &fakeDocker{listErr: errors.New("boom")}, wantErr: "listing containers: boom"},
		{
			name:      "a container removed meanwhile is skipped; an inspect failure is joined to the rest",
			api:       running,
			wantNames: []string{"gitlab-runner"},
			wantErr:   "inspecting container 2123456789ab: boom",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			got, err := Detect(ctx, Options{Docker: tt.api, GOOS: "windows"})
			var names []string
			for _, in := range got {
				names = append(names, in.Name)
			}
			if !slices.Equal(names, tt.wantNames) {
				t.Errorf("installs %q, want %q", names, tt.wantNames)
			}
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr {
				t.Errorf("error %q, want %q", gotErr, tt.wantErr)
			}
		})
	}
}

// hangingDocker is a daemon that never answers.
type hangingDocker struct{}

func (hangingDocker) ContainerList(ctx context.Context, _ bool) ([]container.Summary, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (hangingDocker) ContainerInspect(ctx context.Context, _ string) (container.InspectResponse, error) {
	<-ctx.Done()
	return container.InspectResponse{}, ctx.Err()
}

func TestIsRunnerImage(t *testing.T) {
	for ref, want := range map[string]bool{
		"gitlab/gitlab-runner":                                                         true,
		"gitlab/gitlab-runner:latest":                                                  true,
		"GitLab/GitLab-Runner:V17":                                                     true,
		"docker.io/gitlab/gitlab-runner:alpine-v17.0":                                  true,
		"registry.gitlab.com/gitlab-org/gitlab-runner":                                 true,
		"mirror.example:5000/gitlab-runner@sha256:ab":                                  true,
		"gitlab-runner:local":                                                          true,
		"gitlab/gitlab-ci-multi-runner:v1.11.0":                                        true,
		"gitlab/gitlab-runner-helper:x86_64-v17":                                       false,
		"registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v17": false,
		"mirror.example:5000/gitlab":                                                   false,
		"sha256:0123":                                                                  false,
		"":                                                                             false,
	} {
		if got := isRunnerImage(ref); got != want {
			t.Errorf("isRunnerImage(%q) = %v, want %v", ref, got, want)
		}
	}
}

func TestHostPath(t *testing.T) {
	mounts := []container.MountPoint{
		bind("/srv/etc", "/etc"),
		bind("/srv/runner", "/etc/gitlab-runner/"),
		{Type: mount.TypeTmpfs, Destination: "/tmp"},
	}
	for p, want := range map[string]string{
		"/etc/gitlab-runner/config.toml": "/srv/runner/config.toml",
		"/etc/gitlab-runner":             "/srv/runner",
		"/etc/gitlab-runner-2/x.toml":    "/srv/etc/gitlab-runner-2/x.toml",
		"/etc/hosts":                     "/srv/etc/hosts",
		"/tmp/config.toml":               "",
		"/root/.docker/config.json":      "",
	} {
		if got := hostPath(mounts, p); got != want {
			t.Errorf("hostPath(%q) = %q, want %q", p, got, want)
		}
	}
}
