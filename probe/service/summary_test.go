package service

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSummary(t *testing.T) {
	secretEnv := []string{"HTTP_PROXY=http://user:hunter2@proxy:3128", "CI_SERVER_TOKEN=glrt-secret"}
	tests := []struct {
		in   Install
		want string
	}{
		{
			Install{Kind: Systemd, Name: "gitlab-runner.service", State: "active", User: "root", ConfigPath: "/etc/gitlab-runner/config.toml", Environment: secretEnv},
			"systemd unit gitlab-runner.service (active) runs as root, reads /etc/gitlab-runner/config.toml",
		},
		{
			Install{Kind: Systemd, UserService: true, Name: "gitlab-runner.service", State: "unknown", User: "me", ConfigPath: "/home/me/.gitlab-runner/config.toml", ConfigPathFromDefault: true},
			"systemd user unit gitlab-runner.service (unknown) runs as me, reads /home/me/.gitlab-runner/config.toml (the runner's default)",
		},
		{
			Install{Kind: Container, Name: "gitlab-runner", State: "exited", User: "root", Environment: secretEnv},
			"container gitlab-runner (exited) runs as root, config.toml location unknown",
		},
		{
			Install{Kind: Launchd, UserService: true, Name: "gitlab-runner", User: "alice", ConfigPath: "/Users/alice/.gitlab-runner/config.toml"},
			"launchd agent gitlab-runner (unknown) runs as alice, reads /Users/alice/.gitlab-runner/config.toml",
		},
		{
			Install{Kind: Launchd, Name: "gitlab-runner", State: "unknown", User: "root", ConfigPath: "/etc/gitlab-runner/config.toml", ConfigPathFromDefault: true},
			"launchd daemon gitlab-runner (unknown) runs as root, reads /etc/gitlab-runner/config.toml (the runner's default)",
		},
		{
			Install{Kind: Windows, Name: "gitlab-runner", State: "running", User: "LocalSystem", ConfigPath: `C:\GitLab-Runner\config.toml`},
			`Windows service gitlab-runner (running) runs as LocalSystem, reads C:\GitLab-Runner\config.toml`,
		},
		{
			Install{Kind: Windows, Name: "gitlab-runner", State: "stopped", User: `.\ci`},
			`Windows service gitlab-runner (stopped) runs as .\ci, config.toml location unknown`,
		},
	}
	for _, tt := range tests {
		got := tt.in.Summary()
		if got != tt.want {
			t.Errorf("Summary() = %q\nwant        %q", got, tt.want)
		}
		for _, secret := range []string{"hunter2", "glrt-secret", "HTTP_PROXY"} {
			if strings.Contains(got, secret) {
				t.Errorf("Summary() = %q shows %q from the environment", got, secret)
			}
		}
	}
}

func TestRedactedEnvironment(t *testing.T) {
	env := []string{
		"HTTP_PROXY=http://user:hunter2@proxy.example:3128",
		"https_proxy=user:hunter2@proxy.example:3129",
		"ALL_PROXY=socks5://proxy.example:1080",
		"NO_PROXY=localhost,.internal",
		"CI_SERVER_TOKEN=glrt-abc",
		"DB_Password=pw",
		"AWS_SECRET_ACCESS_KEY=k",
		"DOCKER_AUTH_CONFIG={\"auths\":{}}",
		"MIRRORS=https://a:pw1@m1.example/v2 https://m2.example,https://tok@m3.example",
		"PATH=/usr/bin:/bin",
		"HOME=/root",
		"not-an-assignment",
	}
	orig := slices.Clone(env)
	want := []string{
		"HTTP_PROXY=http://user:xxxxx@proxy.example:3128",
		"https_proxy=user:xxxxx@proxy.example:3129",
		"ALL_PROXY=socks5://proxy.example:1080",
		"NO_PROXY=localhost,.internal",
		"CI_SERVER_TOKEN=***",
		"DB_Password=***",
		"AWS_SECRET_ACCESS_KEY=***",
		"DOCKER_AUTH_CONFIG=***",
		"MIRRORS=https://a:xxxxx@m1.example/v2 https://m2.example,https://xxxxx@m3.example",
		"PATH=/usr/bin:/bin",
		"HOME=/root",
		"not-an-assignment",
	}
	got := RedactedEnvironment(env)
	if !slices.Equal(got, want) {
		t.Errorf("RedactedEnvironment =\n%q\nwant\n%q", got, want)
	}
	if !slices.Equal(env, orig) {
		t.Errorf("RedactedEnvironment changed its argument: %q", env)
	}
	if RedactedEnvironment(nil) != nil {
		t.Errorf("RedactedEnvironment(nil) != nil")
	}
}

func TestPrimary(t *testing.T) {
	a := Install{Name: "a"}
	b := Install{Name: "b", Running: true}
	c := Install{Name: "c", Running: true}
	tests := []struct {
		name     string
		installs []Install
		want     string
		wantOK   bool
	}{
		{name: "none"},
		{name: "the first running one", installs: []Install{a, b, c}, want: "b", wantOK: true},
		{name: "else the first", installs: []Install{a, {Name: "z"}}, want: "a", wantOK: true},
	}
	for _, tt := range tests {
		got, ok := Primary(tt.installs)
		if got.Name != tt.want || ok != tt.wantOK {
			t.Errorf("%s: Primary = %q, %v; want %q, %v", tt.name, got.Name, ok, tt.want, tt.wantOK)
		}
	}
}

// TestDetectOrder: running installs first, then systemd before containers
// before launchd, system units before user units, then by name.
func TestDetectOrder(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"usr/lib/systemd/system/gitlab-runner.service":       "[Service]\nExecStart=/usr/bin/gitlab-runner run\n",
		"home/me/.config/systemd/user/gitlab-runner.service": "[Service]\nExecStart=/usr/bin/gitlab-runner run\n",
	})
	f := &fakeDocker{}
	ctr{id: id1, name: "b-stopped", image: "gitlab/gitlab-runner", status: "exited", entrypoint: officialEntrypoint, cmd: officialCmd}.add(f)
	ctr{id: id2, name: "z-running", image: "gitlab/gitlab-runner", status: "running", entrypoint: officialEntrypoint, cmd: officialCmd}.add(f)
	ctr{id: id3, name: "a-stopped", image: "gitlab/gitlab-runner", status: "exited", entrypoint: officialEntrypoint, cmd: officialCmd}.add(f)
	o := linuxOptions(root)
	o.UserUnitDirs = []string{filepath.Join(root, "home/me/.config/systemd/user")}
	o.Docker = f
	got, err := Detect(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, in := range got {
		order = append(order, string(in.Kind)+" "+in.Name+map[bool]string{true: " (user)"}[in.UserService])
	}
	want := []string{"container z-running", "systemd gitlab-runner.service", "systemd gitlab-runner.service (user)", "container a-stopped", "container b-stopped"}
	if !slices.Equal(order, want) {
		t.Errorf("order %q, want %q", order, want)
	}
	if p, _ := Primary(got); p.Name != "z-running" {
		t.Errorf("Primary = %q, want the running container", p.Name)
	}

	installs := []Install{{Kind: Windows, Name: "0"}, {Kind: Launchd, Name: "a"}, {Kind: Container, Name: "b"}, {Kind: Systemd, Name: "c"}}
	sortInstalls(installs)
	if installs[0].Kind != Systemd || installs[1].Kind != Container || installs[2].Kind != Launchd || installs[3].Kind != Windows {
		t.Errorf("sortInstalls kinds = %v, %v, %v, %v", installs[0].Kind, installs[1].Kind, installs[2].Kind, installs[3].Kind)
	}
}
