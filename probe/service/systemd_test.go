package service

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// installUnit is the unit `gitlab-runner install --user gitlab-runner
// --working-directory /home/gitlab-runner` writes through kardianos/service:
// every argument quoted, no User= (so the process runs as root), an
// optional EnvironmentFile.
const installUnit = `[Unit]
Description=GitLab Runner
ConditionFileIsExecutable=/usr/bin/gitlab-runner
 
After=network.target 

[Service]
StartLimitInterval=5
StartLimitBurst=10
ExecStart=/usr/bin/gitlab-runner "run" "--config" "/etc/gitlab-runner/config.toml" "--working-directory" "/home/gitlab-runner" "--service" "gitlab-runner" "--user" "gitlab-runner"

Restart=always
RestartSec=120
EnvironmentFile=-{{root}}/etc/sysconfig/gitlab-runner

[Install]
WantedBy=multi-user.target
`

// defaultInstall is what installUnit at {{root}}/<dir> yields.
func defaultInstall(dir string) Install {
	return Install{
		Kind: Systemd, Name: "gitlab-runner.service",
		Source:           []string{"{{root}}/" + dir + "/gitlab-runner.service"},
		ConfigPath:       "/etc/gitlab-runner/config.toml",
		WorkingDirectory: "/home/gitlab-runner",
		User:             "root", Home: "/root", DockerConfigPath: "/root/.docker/config.json",
		BuildUser: "gitlab-runner",
		State:     "unknown", RestartCommand: "sudo systemctl restart gitlab-runner.service",
	}
}

func TestDetectSystemdUnitFiles(t *testing.T) {
	const etc, run, lib = "etc/systemd/system", "run/systemd/system", "usr/lib/systemd/system"
	unitWith := func(service string) string { return "[Unit]\nDescription=GitLab Runner\n\n[Service]\n" + service }
	tests := []struct {
		name  string
		files map[string]string
		edit  func(*Options)
		want  []Install
	}{
		{
			name:  "gitlab-runner install: root process, --user is only the build user",
			files: map[string]string{etc + "/gitlab-runner.service": installUnit},
			want:  []Install{defaultInstall(etc)},
		},
		{
			name:  "root caller restarts without sudo",
			files: map[string]string{etc + "/gitlab-runner.service": installUnit},
			edit:  func(o *Options) { o.Euid = 0 },
			want: func() []Install {
				in := defaultInstall(etc)
				in.RestartCommand = "systemctl restart gitlab-runner.service"
				return []Install{in}
			}(),
		},
		{
			name: "package unit with drop-ins: ExecStart reset, User=, proxies from Environment= and EnvironmentFile=",
			files: map[string]string{
				lib + "/gitlab-runner.service": installUnit,
				etc + "/gitlab-runner.service.d/10-proxy.conf": `[Service]
Environment="HTTP_PROXY=http://user:pa ss@proxy.example:3128" NO_PROXY=localhost,127.0.0.1
Environment=CONFIG_FILE=/flag/wins/over/this.toml
EnvironmentFile={{root}}/etc/default/gitlab-runner
`,
				"etc/default/gitlab-runner": `# proxies for the runner
HTTPS_PROXY="http://proxy.example:3129"
HTTP_PROXY=http://proxy.example:8080   
no equals sign here
`,
				run + "/gitlab-runner.service.d/20-config.conf": `[Service]
User=runner
ExecStart=
ExecStart=/usr/bin/gitlab-runner --debug --log-level info run -c /srv/runner/config.toml --working-directory=/srv/runner/work
`,
			},
			want: []Install{{
				Kind: Systemd, Name: "gitlab-runner.service",
				Source: []string{
					"{{root}}/" + lib + "/gitlab-runner.service",
					"{{root}}/" + etc + "/gitlab-runner.service.d/10-proxy.conf",
					"{{root}}/" + run + "/gitlab-runner.service.d/20-config.conf",
					"{{root}}/etc/default/gitlab-runner",
				},
				ConfigPath: "/srv/runner/config.toml", WorkingDirectory: "/srv/runner/work",
				User: "runner", Home: "/srv/runner-home", DockerConfigPath: "/srv/runner-home/.docker/config.json",
				// EnvironmentFile= overrides Environment=, as in systemd.
				Environment: []string{
					"HTTP_PROXY=http://proxy.example:8080",
					"NO_PROXY=localhost,127.0.0.1",
					"CONFIG_FILE=/flag/wins/over/this.toml",
					"HTTPS_PROXY=http://proxy.example:3129",
				},
				State: "unknown", RestartCommand: "sudo systemctl restart gitlab-runner.service",
			}},
		},
		{
			name: "relative --config is relative to WorkingDirectory=",
			files: map[string]string{lib + "/gitlab-runner.service": unitWith(`WorkingDirectory=/srv/runner
ExecStart=/usr/bin/gitlab-runner run --config conf/config.toml
`)},
			want: []Install{{
				Kind: Systemd, Name: "gitlab-runner.service", Source: []string{"{{root}}/" + lib + "/gitlab-runner.service"},
				ConfigPath: "/srv/runner/conf/config.toml",
				User:       "root", Home: "/root", DockerConfigPath: "/root/.docker/config.json",
				State: "unknown", RestartCommand: "sudo systemctl restart gitlab-runner.service",
			}},
		},
		{
			name: "relative --config after run changed into a relative --working-directory",
			files: map[string]string{lib + "/gitlab-runner.service": unitWith(`WorkingDirectory=-/srv/runner
ExecStart=/usr/bin/gitlab-runner run -d work -c ../config.toml
`)},
			want: []Install{{
				Kind: Systemd, Name: "gitlab-runner.service", Source: []string{"{{root}}/" + lib + "/gitlab-runner.service"},
				ConfigPath: "/srv/runner/config.toml", WorkingDirectory: "/srv/runner/work",
				User: "root", Home: "/root", DockerConfigPath: "/root/.docker/config.json",
				State: "unknown", RestartCommand: "sudo systemctl restart gitlab-runner.service",
			}},
		},
		{
			name: "--config=PATH and --user=NAME forms",
			files: map[string]string{lib + "/gitlab-runner.service": unitWith(`ExecStart=/usr/bin/gitlab-runner run --config=/opt/runner/config.toml --user=ci
`)},
			want: []Install{{
				Kind: Systemd, Name: "gitlab-runner.service", Source: []string{"{{root}}/" + lib + "/gitlab-runner.service"},
				ConfigPath: "/opt/runner/config.toml", BuildUser: "ci",
				User: "root", Home: "/root", DockerConfigPath: "/root/.docker/config.json",
				State: "unknown", RestartCommand: "sudo systemctl restart gitlab-runner.service",
			}},
		},
		{
			name: "CONFIG_FILE from Environment= when there is no --config",
			files: map[string]string{lib + "/gitlab-runner.service": unitWith(`Environment=CONFIG_FILE=/opt/from-env.toml
ExecStart=/usr/bin/gitlab-runner run
`)},
			want: []Install{{
				Kind: Systemd, Name: "gitlab-runner.service", Source: []string{"{{root}}/" + lib + "/gitlab-runner.service"},
				ConfigPath: "/opt/from-env.toml",
				User:       "root", Home: "/root", DockerConfigPath: "/root/.docker/config.json",
				Environment: []string{"CONFIG_FILE=/opt/from-env.toml"},
				State:       "unknown", RestartCommand: "sudo systemctl restart gitlab-runner.service",
			}},
		},
		{
			name: "no --config as root: /etc/gitlab-runner default",
			files: map[string]string{lib + "/gitlab-runner.service": unitWith(`ExecStart=/usr/bin/gitlab-runner run
`)},
			want: []Install{{
				Kind: Systemd, Name: "gitlab-runner.service", Source: []string{"{{root}}/" + lib + "/gitlab-runner.service"},
				ConfigPath: "/etc/gitlab-runner/config.toml", ConfigPathFromDefault: true,
				User: "root", Home: "/root", DockerConfigPath: "/root/.docker/config.json",
				State: "unknown", RestartCommand: "sudo systemctl restart gitlab-runner.service",
			}},
		},
		{
			name: "no --config as User=gitlab-runner (gitlab-runner install --init-user): the user's ~/.gitlab-runner",
			files: map[string]string{lib + "/gitlab-runner.service": unitWith(`User=gitlab-runner
ExecStart=/usr/bin/gitlab-runner run
`)},
			want: []Install{{
				Kind: Systemd, Name: "gitlab-runner.service", Source: []string{"{{root}}/" + lib + "/gitlab-runner.service"},
				ConfigPath: "/home/gitlab-runner/.gitlab-runner/config.toml", ConfigPathFromDefault: true,
				User: "gitlab-runner", Home: "/home/gitlab-runner", DockerConfigPath: "/home/gitlab-runner/.docker/config.json",
				State: "unknown", RestartCommand: "sudo systemctl restart gitlab-runner.service",
			}},
		},
		{
			name: "HOME= in the environment decides the docker config, not the root default config",
			files: map[string]string{lib + "/gitlab-runner.service": unitWith(`Environment=HOME=/var/lib/runner-home
ExecStart=/usr/bin/gitlab-runner run
`)},
			want: []Install{{
				Kind: Systemd, Name: "gitlab-runner.service", Source: []string{"{{root}}/" + lib + "/gitlab-runner.service"},
				ConfigPath: "/etc/gitlab-runner/config.toml", ConfigPathFromDefault: true,
				User: "root", Home: "/var/lib/runner-home", DockerConfigPath: "/var/lib/runner-home/.docker/config.json",
				Environment: []string{"HOME=/var/lib/runner-home"},
				State:       "unknown", RestartCommand: "sudo systemctl restart gitlab-runner.service",
			}},
		},
		{
			name: "WorkingDirectory=~ is the user's home",
			files: map[string]string{lib + "/gitlab-runner.service": unitWith(`User=gitlab-runner
WorkingDirectory=~
ExecStart=/usr/bin/gitlab-runner run -c config.toml
`)},
			want: []Install{{
				Kind: Systemd, Name: "gitlab-runner.service", Source: []string{"{{root}}/" + lib + "/gitlab-runner.service"},
				ConfigPath: "/home/gitlab-runner/config.toml",
				User:       "gitlab-runner", Home: "/home/gitlab-runner", DockerConfigPath: "/home/gitlab-runner/.docker/config.json",
				State: "unknown", RestartCommand: "sudo systemctl restart gitlab-runner.service",
			}},
		},
		{
			name: "prefixes, continuation lines, comments, specifiers and $VARIABLES",
			files: map[string]string{lib + "/gitlab-runner.service": unitWith(`Environment="RUNNER_ARGS=--working-directory /var/lib/%N --user builder" CFG=/etc/%p/custom.toml
# ExecStart=/usr/bin/gitlab-runner run --config /commented/out.toml
ExecStart=-@/usr/bin/gitlab-runner gitlab-runner run \
    $RUNNER_ARGS \
; a comment inside the continuation is skipped
    --config ${CFG}
`)},
			want: []Install{{
				Kind: Systemd, Name: "gitlab-runner.service", Source: []string{"{{root}}/" + lib + "/gitlab-runner.service"},
				ConfigPath: "/etc/gitlab-runner/custom.toml", WorkingDirectory: "/var/lib/gitlab-runner", BuildUser: "builder",
				User: "root", Home: "/root", DockerConfigPath: "/root/.docker/config.json",
				Environment: []string{"RUNNER_ARGS=--working-directory /var/lib/gitlab-runner --user builder", "CFG=/etc/gitlab-runner/custom.toml"},
				State:       "unknown", RestartCommand: "sudo systemctl restart gitlab-runner.service",
			}},
		},
		{
			name: "ExecStart that is not gitlab-runner run, and a required EnvironmentFile that is missing",
			files: map[string]string{lib + "/gitlab-runner.service": unitWith(`ExecStart=/usr/local/bin/start-runner.sh --config /not/the/runner.toml
EnvironmentFile={{root}}/missing.env
`)},
			want: []Install{{
				Kind: Systemd, Name: "gitlab-runner.service", Source: []string{"{{root}}/" + lib + "/gitlab-runner.service"},
				User: "root", Home: "/root", DockerConfigPath: "/root/.docker/config.json",
				State: "unknown", RestartCommand: "sudo systemctl restart gitlab-runner.service",
				Notes: []string{
					"EnvironmentFile {{root}}/missing.env does not exist: systemd will not start the unit",
					"ExecStart does not run `gitlab-runner run`: config.toml location unknown",
				},
			}},
		},
		{
			name: "an Environment= line systemd rejects is noted without its value",
			files: map[string]string{lib + "/gitlab-runner.service": unitWith(`Environment="HTTP_PROXY=http://u:hunter2@proxy:3128
ExecStart=/usr/bin/gitlab-runner run -c /c.toml
`)},
			want: []Install{{
				Kind: Systemd, Name: "gitlab-runner.service", Source: []string{"{{root}}/" + lib + "/gitlab-runner.service"},
				ConfigPath: "/c.toml", User: "root", Home: "/root", DockerConfigPath: "/root/.docker/config.json",
				State: "unknown", RestartCommand: "sudo systemctl restart gitlab-runner.service",
				Notes: []string{"{{root}}/" + lib + `/gitlab-runner.service: Environment= ignored: unbalanced " quote`},
			}},
		},
		{
			name: "unknown User=: home and docker config unknown",
			files: map[string]string{lib + "/gitlab-runner.service": unitWith(`User=nobody-here
ExecStart=/usr/bin/gitlab-runner run --config /etc/gitlab-runner/config.toml
`)},
			want: []Install{{
				Kind: Systemd, Name: "gitlab-runner.service", Source: []string{"{{root}}/" + lib + "/gitlab-runner.service"},
				ConfigPath: "/etc/gitlab-runner/config.toml", User: "nobody-here",
				State: "unknown", RestartCommand: "sudo systemctl restart gitlab-runner.service",
				Notes: []string{"home of nobody-here unknown: user: unknown user nobody-here"},
			}},
		},
		{
			name: "masked unit (symlink to /dev/null) hides the package's unit",
			files: map[string]string{
				etc + "/gitlab-runner.service": devNull,
				lib + "/gitlab-runner.service": installUnit,
			},
		},
		{
			name: "an empty unit file is masked too",
			files: map[string]string{
				etc + "/gitlab-runner.service": "",
				lib + "/gitlab-runner.service": installUnit,
			},
		},
		{
			name: "a drop-in masked by a same-named higher-priority one; another overridden by a same-named one",
			files: map[string]string{
				lib + "/gitlab-runner.service": installUnit,
				lib + "/gitlab-runner.service.d/50-config.conf": `[Service]
ExecStart=
ExecStart=/usr/bin/gitlab-runner run --config /masked/dropin.toml
`,
				etc + "/gitlab-runner.service.d/50-config.conf": devNull,
				lib + "/gitlab-runner.service.d/60-env.conf":    "[Service]\nEnvironment=FROM=lib\n",
				run + "/gitlab-runner.service.d/60-env.conf":    "[Service]\nEnvironment=FROM=run\n",
			},
			want: func() []Install {
				in := defaultInstall(lib)
				in.Source = append(in.Source, "{{root}}/"+run+"/gitlab-runner.service.d/60-env.conf")
				in.Environment = []string{"FROM=run"}
				return []Install{in}
			}(),
		},
		{
			name: "Environment= with an empty value resets earlier assignments",
			files: map[string]string{
				lib + "/gitlab-runner.service":                 unitWith("Environment=A=1 B=2\nExecStart=/usr/bin/gitlab-runner run -c /c.toml\n"),
				etc + "/gitlab-runner.service.d/override.conf": "[Service]\nEnvironment=\nEnvironment=C=3\n",
			},
			want: []Install{{
				Kind: Systemd, Name: "gitlab-runner.service",
				Source:     []string{"{{root}}/" + lib + "/gitlab-runner.service", "{{root}}/" + etc + "/gitlab-runner.service.d/override.conf"},
				ConfigPath: "/c.toml", User: "root", Home: "/root", DockerConfigPath: "/root/.docker/config.json",
				Environment: []string{"C=3"},
				State:       "unknown", RestartCommand: "sudo systemctl restart gitlab-runner.service",
			}},
		},
		{
			name: "other runner units are found by name; templates are not",
			files: map[string]string{
				lib + "/gitlab-runner.service":          unitWith("ExecStart=/usr/bin/gitlab-runner run -c /a.toml\n"),
				lib + "/gitlab-runner-docker.service":   unitWith("ExecStart=/usr/bin/gitlab-runner run -n gitlab-runner-docker -c /b.toml\n"),
				lib + "/gitlab-ci-multi-runner.service": unitWith("ExecStart=/usr/bin/gitlab-ci-multi-runner run -c /c.toml\n"),
				lib + "/gitlab-runner@.service":         unitWith("ExecStart=/usr/bin/gitlab-runner run -c /%i.toml\n"),
			},
			want: []Install{
				{Kind: Systemd, Name: "gitlab-ci-multi-runner.service", Source: []string{"{{root}}/" + lib + "/gitlab-ci-multi-runner.service"},
					ConfigPath: "/c.toml", User: "root", Home: "/root", DockerConfigPath: "/root/.docker/config.json",
					State: "unknown", RestartCommand: "sudo systemctl restart gitlab-ci-multi-runner.service"},
				{Kind: Systemd, Name: "gitlab-runner-docker.service", Source: []string{"{{root}}/" + lib + "/gitlab-runner-docker.service"},
					ConfigPath: "/b.toml", User: "root", Home: "/root", DockerConfigPath: "/root/.docker/config.json",
					State: "unknown", RestartCommand: "sudo systemctl restart gitlab-runner-docker.service"},
				{Kind: Systemd, Name: "gitlab-runner.service", Source: []string{"{{root}}/" + lib + "/gitlab-runner.service"},
					ConfigPath: "/a.toml", User: "root", Home: "/root", DockerConfigPath: "/root/.docker/config.json",
					State: "unknown", RestartCommand: "sudo systemctl restart gitlab-runner.service"},
			},
		},
		{
			name: "Units limits the search",
			files: map[string]string{
				lib + "/gitlab-runner.service":        installUnit,
				lib + "/gitlab-runner-docker.service": unitWith("ExecStart=/usr/bin/gitlab-runner run -c /b.toml\n"),
			},
			edit: func(o *Options) { o.Units = []string{"gitlab-runner-docker.service"} },
			want: []Install{{Kind: Systemd, Name: "gitlab-runner-docker.service", Source: []string{"{{root}}/" + lib + "/gitlab-runner-docker.service"},
				ConfigPath: "/b.toml", User: "root", Home: "/root", DockerConfigPath: "/root/.docker/config.json",
				State: "unknown", RestartCommand: "sudo systemctl restart gitlab-runner-docker.service"}},
		},
		{
			name: "a user unit (gitlab-runner install --user-service) runs as the user and restarts without sudo",
			files: map[string]string{
				"home/me/.config/systemd/user/gitlab-runner.service": unitWith("ExecStart=%h/bin/gitlab-runner run --working-directory %h/runner\n"),
			},
			edit: func(o *Options) { o.UserUnitDirs = nil },
			want: []Install{{
				Kind: Systemd, Name: "gitlab-runner.service", UserService: true,
				Source:     []string{"{{root}}/home/me/.config/systemd/user/gitlab-runner.service"},
				ConfigPath: "{{root}}/home/me/.gitlab-runner/config.toml", ConfigPathFromDefault: true,
				WorkingDirectory: "{{root}}/home/me/runner",
				User:             "me", Home: "{{root}}/home/me", DockerConfigPath: "{{root}}/home/me/.docker/config.json",
				State: "unknown", RestartCommand: "systemctl --user restart gitlab-runner.service",
			}},
		},
		{
			name:  "nothing installed",
			files: map[string]string{lib + "/docker.service": unitWith("ExecStart=/usr/bin/dockerd\n")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, tt.files)
			o := linuxOptions(root)
			if tt.edit != nil {
				tt.edit(&o)
			}
			got, err := Detect(context.Background(), o)
			if err != nil {
				t.Fatalf("Detect: %v", err)
			}
			var want []Install
			for _, in := range tt.want {
				want = append(want, rooted(root, in))
			}
			checkInstalls(t, got, want)
		})
	}
}

func TestCommandWords(t *testing.T) {
	env := map[string]string{"ARGS": "-c /x.toml", "CFG": "/y.toml"}
	sp := specifiers{unit: "gitlab-runner.service", home: "/root", user: "root"}
	tests := []struct {
		raw  string
		want []string
	}{
		{`/usr/bin/gitlab-runner run $ARGS`, []string{"/usr/bin/gitlab-runner", "run", "-c", "/x.toml"}},
		{`:/usr/bin/gitlab-runner run $ARGS`, []string{"/usr/bin/gitlab-runner", "run", "$ARGS"}},
		{`!!/usr/bin/gitlab-runner run -c ${CFG}`, []string{"/usr/bin/gitlab-runner", "run", "-c", "/y.toml"}},
		{`+@/usr/bin/gitlab-runner runner-argv0 run`, []string{"/usr/bin/gitlab-runner", "run"}},
		{`/usr/bin/gitlab-runner run -n %N -c "%h/my config.toml"`, []string{"/usr/bin/gitlab-runner", "run", "-n", "gitlab-runner", "-c", "/root/my config.toml"}},
		{`/usr/bin/gitlab-runner run "unbalanced`, nil},
	}
	for _, tt := range tests {
		var notes []string
		got := commandWords(tt.raw, sp, env, &notes)
		if !slices.Equal(got, tt.want) {
			t.Errorf("commandWords(%q) = %q, want %q (notes %q)", tt.raw, got, tt.want, notes)
		}
	}
}

func TestUnreadableUnitFileIsNoted(t *testing.T) {
	root := t.TempDir()
	// A directory where the unit file should be: found, but unreadable.
	writeTree(t, root, map[string]string{"usr/lib/systemd/system/gitlab-runner.service/x": "y"})
	got, err := Detect(context.Background(), linuxOptions(root))
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	prefix := "cannot read " + filepath.Join(root, "usr/lib/systemd/system/gitlab-runner.service") + ": "
	if len(got) != 1 || got[0].Source != nil || len(got[0].Notes) == 0 || !strings.HasPrefix(got[0].Notes[0], prefix) {
		t.Errorf("Detect = %+v, want one install whose first note starts with %q", got, prefix)
	}
}

// TestDetectExecutable: the runner binary of the service's command line,
// whose --version decides the Docker API and helper image checks.
func TestDetectExecutable(t *testing.T) {
	const etc = "etc/systemd/system"
	tests := []struct {
		name, execStart, want string
	}{
		{"package unit", "/usr/bin/gitlab-runner run --config /etc/gitlab-runner/config.toml", "/usr/bin/gitlab-runner"},
		{"behind a wrapper", "/usr/bin/env HOME=/root /opt/runner/bin/gitlab-runner --debug run", "/opt/runner/bin/gitlab-runner"},
		{"not the runner", "/usr/bin/sleep infinity", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, map[string]string{etc + "/gitlab-runner.service": "[Service]\nExecStart=" + tt.execStart + "\n"})
			got, err := Detect(context.Background(), linuxOptions(root))
			if err != nil || len(got) != 1 {
				t.Fatalf("Detect = %+v, %v", got, err)
			}
			if got[0].Executable != tt.want {
				t.Errorf("Executable = %q, want %q", got[0].Executable, tt.want)
			}
		})
	}
}
