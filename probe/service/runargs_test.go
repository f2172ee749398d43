package service

import "testing"

func TestParseRunArgv(t *testing.T) {
	tests := []struct {
		name   string
		argv   []string
		want   runArgs
		wantOK bool
	}{
		{
			name:   "gitlab-runner install's unit",
			argv:   []string{"/usr/bin/gitlab-runner", "run", "--config", "/etc/gitlab-runner/config.toml", "--working-directory", "/home/gitlab-runner", "--service", "gitlab-runner", "--user", "gitlab-runner", "--syslog"},
			want:   runArgs{config: "/etc/gitlab-runner/config.toml", workDir: "/home/gitlab-runner", service: "gitlab-runner", buildUser: "gitlab-runner"},
			wantOK: true,
		},
		{
			name:   "short flags, = forms and single-dash long flags (Go's flag package)",
			argv:   []string{"gitlab-runner", "run", "-c=/a.toml", "-d", "/w", "-u=ci", "-n", "svc", "-config", "/b.toml"},
			want:   runArgs{config: "/b.toml", workDir: "/w", buildUser: "ci", service: "svc"},
			wantOK: true,
		},
		{
			name:   "global flags before run, with and without values",
			argv:   []string{"/usr/bin/gitlab-runner", "--debug", "--log-level", "debug", "--log-format=json", "run", "--listen-address", ":9252", "-c", "/x.toml"},
			want:   runArgs{config: "/x.toml"},
			wantOK: true,
		},
		{
			name:   "official image: dumb-init and /entrypoint wrap the runner",
			argv:   []string{"/usr/bin/dumb-init", "/entrypoint", "run", "--user=gitlab-runner", "--working-directory=/home/gitlab-runner"},
			want:   runArgs{workDir: "/home/gitlab-runner", buildUser: "gitlab-runner"},
			wantOK: true,
		},
		{
			name:   "a wrapper argument that looks like the binary",
			argv:   []string{"strace", "-o", "/tmp/gitlab-runner", "--", "/usr/bin/gitlab-runner", "run", "-c", "/y.toml"},
			want:   runArgs{config: "/y.toml"},
			wantOK: true,
		},
		{
			name:   "flag parsing stops at the first non-flag word",
			argv:   []string{"gitlab-runner", "run", "--syslog", "extra", "--config", "/ignored.toml"},
			wantOK: true,
		},
		{
			name:   "flag parsing stops at --",
			argv:   []string{"gitlab-runner", "run", "--", "--config", "/ignored.toml"},
			wantOK: true,
		},
		{
			name:   "a Windows service's command line",
			argv:   []string{`C:\Program Files\GitLab Runner\GitLab-Runner.exe`, "run", "--config", `C:\Program Files\GitLab Runner\config.toml`, "--working-directory", `C:\Program Files\GitLab Runner`, "--service", "gitlab-runner", "--syslog"},
			want:   runArgs{config: `C:\Program Files\GitLab Runner\config.toml`, workDir: `C:\Program Files\GitLab Runner`, service: "gitlab-runner"},
			wantOK: true,
		},
		{
			name: "a named Windows binary followed by another command",
			argv: []string{`C:\GitLab-Runner\gitlab-runner.exe`, "verify", "run"},
		},
		{
			name: "register is not the service",
			argv: []string{"/usr/bin/gitlab-runner", "register", "--config", "/etc/gitlab-runner/config.toml"},
		},
		{
			name: "a named binary followed by another command, then a run elsewhere",
			argv: []string{"gitlab-runner", "verify", "run"},
		},
		{
			name: "a script",
			argv: []string{"/usr/local/bin/start-runner.sh", "--config", "/etc/x.toml"},
		},
		{name: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseRunArgv(tt.argv)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("parseRunArgv = %+v, %v; want %+v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestResolveRunnerFiles(t *testing.T) {
	tests := []struct {
		name string
		args runArgs
		env  map[string]string
		cwd  string
		root bool
		home string
		want runnerFiles
	}{
		{name: "flag", args: runArgs{config: "/a.toml"}, env: map[string]string{"CONFIG_FILE": "/env.toml"}, cwd: "/", root: true,
			want: runnerFiles{configPath: "/a.toml"}},
		{name: "CONFIG_FILE", env: map[string]string{"CONFIG_FILE": "/env.toml"}, cwd: "/", root: true,
			want: runnerFiles{configPath: "/env.toml"}},
		{name: "root default", cwd: "/", root: true, home: "/root",
			want: runnerFiles{configPath: "/etc/gitlab-runner/config.toml", fromDefault: true}},
		{name: "user default", cwd: "/", home: "/home/u",
			want: runnerFiles{configPath: "/home/u/.gitlab-runner/config.toml", fromDefault: true}},
		// The runner falls back to its start directory only without any
		// home (helpers/homedir: $HOME, else passwd); a service's home
		// that runnerup could not learn is not that: systemd and docker
		// set HOME from passwd when the process starts.
		{name: "user default, home unknown", cwd: "/srv",
			want: runnerFiles{fromDefault: true}},
		{name: "relative flag against the start directory", args: runArgs{config: "c/x.toml"}, cwd: "/srv",
			want: runnerFiles{configPath: "/srv/c/x.toml"}},
		{name: "relative CONFIG_FILE against --working-directory", args: runArgs{workDir: "/w"}, env: map[string]string{"CONFIG_FILE": "x.toml"}, cwd: "/srv",
			want: runnerFiles{configPath: "/w/x.toml", workDir: "/w"}},
		{name: "relative --working-directory", args: runArgs{workDir: "w/../v", config: "./x.toml"}, cwd: "/srv",
			want: runnerFiles{configPath: "/srv/v/x.toml", workDir: "/srv/v"}},
		{name: "relative with no known start directory", args: runArgs{config: "x.toml"},
			want: runnerFiles{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := resolveRunnerFiles(tt.args, tt.env, tt.cwd, tt.root, tt.home); got != tt.want {
				t.Errorf("resolveRunnerFiles = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestIsRootUser(t *testing.T) {
	for u, want := range map[string]bool{"": true, "root": true, "0": true, "0:0": true, "root:docker": true, "1000": false, "gitlab-runner": false, "1000:0": false} {
		if got := isRootUser(u); got != want {
			t.Errorf("isRootUser(%q) = %v, want %v", u, got, want)
		}
	}
}
