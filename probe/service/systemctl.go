package service

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// showProperties are the unit properties Detect asks systemctl for. The
// fragment and drop-in paths say which files systemd really loaded, so
// EnvironmentFile= (which `show` reports only as a list of file names) is
// read from the same files.
const showProperties = "ActiveState,ExecStart,User,Environment,WorkingDirectory,FragmentPath,DropInPaths,LoadState"

// systemctl runs `systemctl show` for one scope (system or --user). After
// the first failure (no systemd running, which is the normal case in
// containers and WSL) it is not run again: the unit files alone are used
// and every install of the scope carries the reason in its notes.
type systemctl struct {
	path string // "" when systemctl is not used
	user bool
	note string // why systemctl is not used, after a failure
}

// show runs `systemctl show unit` and returns its properties. props is
// nil when systemctl is not used or failed; note then says why (or is ""
// when systemctl was never to be used). err is set only when the context
// ended the command: that is the caller's deadline, not a fact about the
// host.
func (s *systemctl) show(ctx context.Context, unit string) (props map[string]string, note string, err error) {
	if s.path == "" {
		return nil, s.note, nil
	}
	args := []string{"show", unit, "--property=" + showProperties, "--no-pager"}
	if s.user {
		args = append([]string{"--user"}, args...)
	}
	cmd := exec.CommandContext(ctx, s.path, args...)
	// Let a killed systemctl's stray children not hold the pipes open.
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if runErr == nil {
		return parseShow(stdout.Bytes()), "", nil
	}
	s.path = ""
	reason := firstLine(stderr.String())
	if reason == "" {
		reason = runErr.Error()
	}
	s.note = fmt.Sprintf("%s failed (%s): state unknown, facts read from the unit files", s.command("show"), reason)
	if ctx.Err() != nil {
		s.note = fmt.Sprintf("%s did not answer in time: state unknown, facts read from the unit files", s.command("show"))
		return nil, s.note, fmt.Errorf("%s %s: %w", s.command("show"), unit, ctx.Err())
	}
	return nil, s.note, nil
}

// command is "systemctl [--user] verb", for messages and Source.
func (s *systemctl) command(verb string) string {
	if s.user {
		return "systemctl --user " + verb
	}
	return "systemctl " + verb
}

// parseShow reads `systemctl show` output: one Key=Value per line.
func parseShow(b []byte) map[string]string {
	props := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(strings.TrimRight(line, "\r"), "="); ok {
			props[k] = v
		}
	}
	return props
}

// execStartArgv extracts the argv of the last command in a `systemctl
// show` ExecStart value, which reads
// "{ path=/usr/bin/gitlab-runner ; argv[]=/usr/bin/gitlab-runner run --config /x ; ignore_errors=no ; ... }".
// systemctl joins argv with plain spaces, without quoting (strv_join in
// bus_print_property), so it is split at whitespace: an argument with a
// space in it cannot be told apart, which no runner flag value needs.
// Specifiers are already resolved; $VARIABLES are not (systemd substitutes
// them when it starts the process).
func execStartArgv(v string) []string {
	i := strings.LastIndex(v, "argv[]=")
	if i < 0 {
		return nil
	}
	rest := v[i+len("argv[]="):]
	if j := strings.Index(rest, " ; "); j >= 0 {
		rest = rest[:j]
	}
	return strings.Fields(strings.TrimSuffix(strings.TrimSpace(rest), "}"))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.TrimSpace(s)
}
