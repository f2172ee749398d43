package service

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// agentPlist is what `gitlab-runner install` writes as a user on macOS
// (kardianos/service's launchd template).
const agentPlist = `<?xml version='1.0' encoding='UTF-8'?>
<!DOCTYPE plist PUBLIC "-//Apple Computer//DTD PLIST 1.0//EN"
"http://www.apple.com/DTDs/PropertyList-1.0.dtd" >
<plist version='1.0'>
  <dict>
    <key>Label</key>
    <string>gitlab-runner</string>
    <key>ProgramArguments</key>
    <array>
      <string>/usr/local/bin/gitlab-runner</string>
      <string>run</string>
      <string>--working-directory</string>
      <string>/Users/alice</string>
      <string>--config</string>
      <string>/Users/alice/.gitlab-runner/config.toml</string>
      <string>--service</string>
      <string>gitlab-runner</string>
      <string>--syslog</string>
    </array>
    <key>SessionCreate</key><false/>
    <key>KeepAlive</key><true/>
    <key>RunAtLoad</key><true/>
    <key>Disabled</key><false/>
    <key>StandardOutPath</key>
    <string>/usr/local/var/log/gitlab-runner.out.log</string>
    <key>EnvironmentVariables</key>
    <dict>
      <key>PATH</key><string>/usr/local/bin:/usr/bin:/bin</string>
      <key>HTTPS_PROXY</key><string>http://proxy.example:3128</string>
    </dict>
  </dict>
</plist>
`

// daemonPlist is a system-wide daemon with no --config: root's default.
const daemonPlist = `<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
  <key>Label</key><string>gitlab-runner</string>
  <key>ProgramArguments</key><array>
    <string>/opt/homebrew/bin/gitlab-runner</string><string>run</string><string>--user</string><string>ci</string>
  </array>
  <key>WorkingDirectory</key><string>/var/lib/gitlab-runner</string>
</dict></plist>
`

func TestDetectLaunchd(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		goos    string
		want    []Install
		wantErr string
	}{
		{
			name: "user agent and system daemon",
			files: map[string]string{
				"Users/alice/Library/LaunchAgents/gitlab-runner.plist": agentPlist,
				"Library/LaunchDaemons/gitlab-runner.plist":            daemonPlist,
			},
			want: []Install{
				{
					Kind: Launchd, Name: "gitlab-runner", Source: []string{"{{root}}/Library/LaunchDaemons/gitlab-runner.plist"},
					ConfigPath: "/etc/gitlab-runner/config.toml", ConfigPathFromDefault: true, BuildUser: "ci",
					User: "root", Home: "/root", DockerConfigPath: "/root/.docker/config.json",
					State: "unknown", RestartCommand: "sudo gitlab-runner restart",
				},
				{
					Kind: Launchd, Name: "gitlab-runner", UserService: true,
					Source:     []string{"{{root}}/Users/alice/Library/LaunchAgents/gitlab-runner.plist"},
					ConfigPath: "/Users/alice/.gitlab-runner/config.toml", WorkingDirectory: "/Users/alice",
					User: "alice", Home: "{{root}}/Users/alice", DockerConfigPath: "{{root}}/Users/alice/.docker/config.json",
					Environment: []string{"HTTPS_PROXY=http://proxy.example:3128", "PATH=/usr/local/bin:/usr/bin:/bin"},
					State:       "unknown", RestartCommand: "gitlab-runner restart",
				},
			},
		},
		{
			name:  "plists are not looked for on linux",
			files: map[string]string{"Users/alice/Library/LaunchAgents/gitlab-runner.plist": agentPlist},
			goos:  "linux",
		},
		{
			name:    "a broken plist is an error",
			files:   map[string]string{"Users/alice/Library/LaunchAgents/gitlab-runner.plist": "<plist><dict><key>Label</key>"},
			wantErr: "parsing {{root}}/Users/alice/Library/LaunchAgents/gitlab-runner.plist: XML syntax error on line 1: unexpected EOF",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, tt.files)
			goos := tt.goos
			if goos == "" {
				goos = "darwin"
			}
			got, err := Detect(context.Background(), Options{
				GOOS: goos, HomeDir: filepath.Join(root, "Users/alice"), UserName: "alice", Euid: 501,
				LaunchDaemonsDir: filepath.Join(root, "Library/LaunchDaemons"), LookupHome: testHomes,
				UnitDirs: []string{}, UserUnitDirs: []string{}, Systemctl: "-",
			})
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if want := strings.ReplaceAll(tt.wantErr, "{{root}}", root); gotErr != want {
				t.Errorf("error %q, want %q", gotErr, want)
			}
			var want []Install
			for _, in := range tt.want {
				want = append(want, rooted(root, in))
			}
			checkInstalls(t, got, want)
		})
	}
}
