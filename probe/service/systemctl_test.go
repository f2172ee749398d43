package service

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeSystemctl puts a systemctl script first on PATH that appends its
// arguments (one per line, then "--") to the returned file and behaves as
// script says.
func fakeSystemctl(t *testing.T, script string) (argsFile string) {
	t.Helper()
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	body := "#!/bin/sh\nprintf '%s\\n' \"$@\" -- >> '" + argsFile + "'\n" + script + "\n"
	if err := os.WriteFile(filepath.Join(dir, "systemctl"), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return argsFile
}

// showOutput is a heredoc printing `systemctl show` properties.
func showOutput(props string) string {
	return "cat <<'EOF'\n" + props + "\nEOF"
}

func TestDetectWithSystemctl(t *testing.T) {
	const etc = "etc/systemd/system"
	files := map[string]string{
		etc + "/gitlab-runner.service": installUnit,
		etc + "/gitlab-runner.service.d/proxy.conf": `[Service]
Environment=HTTP_PROXY=http://from-file:1
EnvironmentFile=-{{root}}/etc/default/gitlab-runner
`,
		"etc/default/gitlab-runner": "HTTPS_PROXY=http://proxy.example:3129\n",
	}
	const showArgs = "show\ngitlab-runner.service\n--property=ActiveState,ExecStart,User,Environment,WorkingDirectory,FragmentPath,DropInPaths,LoadState\n--no-pager\n--\n"
	const loaded = "FragmentPath={{root}}/" + etc + "/gitlab-runner.service\nDropInPaths={{root}}/" + etc + "/gitlab-runner.service.d/proxy.conf\nLoadState=loaded"
	sources := []string{
		"{{root}}/" + etc + "/gitlab-runner.service",
		"{{root}}/" + etc + "/gitlab-runner.service.d/proxy.conf",
		"{{root}}/etc/default/gitlab-runner",
	}
	tests := []struct {
		name     string
		script   string
		extra    map[string]string
		want     []Install
		wantArgs string
	}{
		{
			name: "active: systemctl's ExecStart, User and Environment win over the files",
			script: showOutput(`ActiveState=active
ExecStart={ path=/usr/bin/gitlab-runner ; argv[]=/usr/bin/gitlab-runner run --config /srv/from-systemctl/config.toml --working-directory /home/gitlab-runner --user gitlab-runner ; ignore_errors=no ; start_time=[Mon 2024-01-01 00:00:00 UTC] ; stop_time=[n/a] ; pid=1234 ; code=(null) ; status=0/0 }
User=
Environment="HTTP_PROXY=http://from-systemctl:3128" NO_PROXY=.internal
WorkingDirectory=
` + loaded),
			want: []Install{{
				Kind: Systemd, Name: "gitlab-runner.service",
				Source:     append(append([]string{}, sources...), "systemctl show gitlab-runner.service"),
				ConfigPath: "/srv/from-systemctl/config.toml", WorkingDirectory: "/home/gitlab-runner", BuildUser: "gitlab-runner",
				User: "root", Home: "/root", DockerConfigPath: "/root/.docker/config.json",
				Environment: []string{"HTTP_PROXY=http://from-systemctl:3128", "NO_PROXY=.internal", "HTTPS_PROXY=http://proxy.example:3129"},
				State:       "active", Running: true, RestartCommand: "sudo systemctl restart gitlab-runner.service",
			}},
			wantArgs: showArgs,
		},
		{
			name: "inactive, with ExecStart left to the files",
			script: showOutput(`ActiveState=inactive
ExecStart=
User=
Environment=
WorkingDirectory=
` + loaded),
			want: func() []Install {
				in := defaultInstall(etc)
				in.Source = append(append([]string{}, sources...), "systemctl show gitlab-runner.service")
				in.Environment = []string{"HTTP_PROXY=http://from-file:1", "HTTPS_PROXY=http://proxy.example:3129"}
				in.State = "inactive"
				return []Install{in}
			}(),
			wantArgs: showArgs,
		},
		{
			name: "no systemd running: the files, state unknown, systemctl asked once",
			script: `echo "System has not been booted with systemd as init system (PID 1). Can't operate." >&2
echo "Failed to connect to bus: Host is down" >&2
exit 1`,
			extra: map[string]string{etc + "/gitlab-runner-2.service": "[Service]\nExecStart=/usr/bin/gitlab-runner run -n gitlab-runner-2 -c /etc/gitlab-runner-2.toml\n"},
			want: func() []Install {
				const note = "systemctl show failed (System has not been booted with systemd as init system (PID 1). Can't operate.): state unknown, facts read from the unit files"
				second := Install{Kind: Systemd, Name: "gitlab-runner-2.service", Source: []string{"{{root}}/" + etc + "/gitlab-runner-2.service"},
					ConfigPath: "/etc/gitlab-runner-2.toml", User: "root", Home: "/root", DockerConfigPath: "/root/.docker/config.json",
					State: "unknown", RestartCommand: "sudo systemctl restart gitlab-runner-2.service", Notes: []string{note}}
				first := defaultInstall(etc)
				first.Source = sources
				first.Environment = []string{"HTTP_PROXY=http://from-file:1", "HTTPS_PROXY=http://proxy.example:3129"}
				first.Notes = []string{note}
				return []Install{second, first}
			}(),
			wantArgs: showArgs,
		},
		{
			name:     "LoadState=not-found: no install, even with a stray file",
			script:   showOutput("ActiveState=inactive\nExecStart=\nUser=\nEnvironment=\nWorkingDirectory=\nFragmentPath=\nDropInPaths=\nLoadState=not-found"),
			wantArgs: showArgs,
		},
		{
			name:     "LoadState=masked: no install",
			script:   showOutput("ActiveState=inactive\nFragmentPath=/dev/null\nLoadState=masked"),
			wantArgs: showArgs,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, files)
			writeTree(t, root, tt.extra)
			argsFile := fakeSystemctl(t, strings.ReplaceAll(tt.script, "{{root}}", root))
			o := linuxOptions(root)
			o.Systemctl = ""
			got, err := Detect(context.Background(), o)
			if err != nil {
				t.Fatalf("Detect: %v", err)
			}
			var want []Install
			for _, in := range tt.want {
				want = append(want, rooted(root, in))
			}
			checkInstalls(t, got, want)
			b, err := os.ReadFile(argsFile)
			if err != nil {
				t.Fatalf("systemctl was not run: %v", err)
			}
			if string(b) != tt.wantArgs {
				t.Errorf("systemctl arguments:\n%s\nwant:\n%s", b, tt.wantArgs)
			}
		})
	}
}

func TestDetectSystemctlDeadline(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"etc/systemd/system/gitlab-runner.service": installUnit})
	fakeSystemctl(t, "exec sleep 30")
	o := linuxOptions(root)
	o.Systemctl = ""
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	got, err := Detect(ctx, o)
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("Detect took %v: the deadline did not stop systemctl", elapsed)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Detect error = %v, want context.DeadlineExceeded", err)
	}
	if want := "systemctl show gitlab-runner.service: context deadline exceeded"; err == nil || err.Error() != want {
		t.Errorf("Detect error = %v, want %q", err, want)
	}
	// The files still answer.
	if len(got) != 1 || got[0].ConfigPath != "/etc/gitlab-runner/config.toml" || got[0].State != "unknown" {
		t.Errorf("Detect = %+v, want the unit from its file with state unknown", got)
	}
}

// With the real unit directories, systemctl is asked only when systemd is
// the init system (sd_booted): in a container it could only fail, and apply
// would pay for the exec every time.
func TestSystemctlOnlyWhenBooted(t *testing.T) {
	args := fakeSystemctl(t, "echo 'System has not been booted with systemd as init system (PID 1).' >&2; exit 1")
	if _, err := Detect(context.Background(), Options{GOOS: "linux", UserUnitDirs: []string{}, Euid: 0}); err != nil && systemdBooted() {
		t.Logf("Detect: %v", err)
	}
	_, statErr := os.Stat(args)
	switch called := statErr == nil; {
	case systemdBooted() && !called:
		t.Error("systemd is running but systemctl was not asked")
	case !systemdBooted() && called:
		t.Error("systemctl was run although systemd is not the init system")
	}
}
