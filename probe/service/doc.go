// Package service finds how GitLab Runner runs on this host and which files
// that service really reads.
//
// The question matters because users edit ~/.gitlab-runner/config.toml and
// ~/.docker/config.json while the gitlab-runner service, running as root,
// reads /etc/gitlab-runner/config.toml and /root/.docker/config.json (or a
// container's bind mounts). Detect answers it for the four ways the runner
// is installed:
//
//   - systemd units, as `gitlab-runner install` and the Debian/RPM packages
//     write them: the unit file and its drop-ins are parsed the way systemd
//     merges them, and `systemctl show` (when systemd runs) supplies the
//     state and the effective ExecStart, User and Environment;
//   - containers of the gitlab/gitlab-runner image, through the Docker
//     Engine API: their mounts translate in-container paths to host paths;
//   - launchd plists on macOS, detected by file only;
//   - Windows services, as `gitlab-runner.exe install` registers them
//     through kardianos/service: `sc.exe qc` gives the command line and
//     the account, `sc.exe query` the state.
//
// For each install the runner's own rules are applied to the command line
// (`run --config/-c`, CONFIG_FILE, `--working-directory`, the root versus
// $HOME default; on Windows the directory the service starts in),
// following gitlab-runner's commands/config_unix.go,
// commands/config_windows.go and commands/multi.go, so ConfigPath is the
// file the process opens.
//
// Environment holds raw values because callers compare proxies; it may hold
// credentials, so Summary never prints it and RedactedEnvironment masks it
// for display.
package service
