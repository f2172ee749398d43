package cli

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// laptopLog is a job log as pasted on a laptop: the raw log of a runner
// on another host, whose daemon Docker Hub refused.
const laptopLog = "2024-05-01T10:00:00.100001Z 00O Running with gitlab-runner 17.5.0 (8ad9e0f7)\r\n" +
	"2024-05-01T10:00:00.100002Z 00O   on build-07 t2_Zq8fWx, system ID: s_5d1f2e3a4b6c\r\n" +
	"2024-05-01T10:00:00.100003Z 00O section_start:1714557600:prepare_executor\r\x1b[0K\x1b[0K\x1b[36;1mPreparing the \"docker\" executor\x1b[0;m\r\n" +
	"2024-05-01T10:00:00.100004Z 00O Pulling docker image acme/private-tool:2 ...\r\n" +
	"2024-05-01T10:00:01.100005Z 00O \x1b[0;33mWARNING: Failed to pull image with policy \"always\": Error response from daemon: pull access denied for acme/private-tool, repository does not exist or may require 'docker login': denied: requested access to the resource is denied (manager.go:237:0s)\x1b[0;m\r\n"

// TestDiagnoseLogOnLaptop: no daemon answers here and there is no
// config.toml: the log's cause comes first, the note is said once, the
// checks follow it, and text and JSON give the causes in the same order.
func TestDiagnoseLogOnLaptop(t *testing.T) {
	home := t.TempDir()
	logPath := filepath.Join(home, "job.log")
	writeFile(t, logPath, laptopLog, 0o600)
	e := env{"DOCKER_HOST": "unix://" + filepath.Join(home, "no-daemon.sock")}
	t.Setenv("DOCKER_HOST", e["DOCKER_HOST"])
	args := []string{"acme/private-tool:2", "--log", logPath, "--timeout", "2s", "--docker-config", filepath.Join(home, "docker")}

	res := runDiagnose(t, home, e, "", nil, append(args, "-o", "json")...)
	if res.code != ExitCheckFailed {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	var out struct {
		Causes []struct {
			ID      string `json:"id"`
			From    string `json:"from"`
			LogLine int    `json:"log_line"`
		} `json:"causes"`
		Verdict struct {
			RankedBy    string   `json:"ranked_by"`
			Note        string   `json:"note"`
			Reasons     []string `json:"not_runner_host"`
			ThisMachine []struct {
				ID string `json:"id"`
			} `json:"this_machine"`
		} `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("%v: %s", err, res.stdout)
	}
	if len(out.Causes) == 0 || out.Causes[0].ID != "access-denied" || out.Causes[0].From != "log" || out.Causes[0].LogLine != 5 {
		t.Fatalf("causes = %+v", out.Causes)
	}
	if out.Verdict.RankedBy != "log" || out.Verdict.Note != "this is not the runner host: checks below describe this machine" ||
		len(out.Verdict.ThisMachine) == 0 || out.Verdict.ThisMachine[0].ID != "daemon-unreachable" {
		t.Errorf("verdict = %+v", out.Verdict)
	}

	text := runDiagnose(t, home, e, "", nil, args...)
	if text.code != ExitCheckFailed {
		t.Fatalf("exit %d\n%s%s", text.code, text.stdout, text.stderr)
	}
	s := text.stdout
	note := strings.Index(s, "This is not the runner host: checks below describe this machine:")
	first := strings.Index(s, "1. access-denied")
	check := strings.Index(s, "[daemon.reachable")
	if first < 0 || note < 0 || check < 0 || !(first < note && note < check) {
		t.Errorf("want the log's cause, then the note, then the checks:\n%s", s)
	}
	if strings.Count(s, "not the runner host") != 1 {
		t.Errorf("the note is said %d times:\n%s", strings.Count(s, "not the runner host"), s)
	}
	var jsonOrder []string
	for _, c := range out.Causes {
		jsonOrder = append(jsonOrder, c.ID)
	}
	var textOrder []string
	for _, m := range regexp.MustCompile(`(?m)^\d+\. ([a-z0-9-]+):`).FindAllStringSubmatch(s[:note], -1) {
		textOrder = append(textOrder, m[1])
	}
	if !slices.Equal(textOrder, jsonOrder) {
		t.Errorf("text order %v, JSON order %v", textOrder, jsonOrder)
	}
}

// TestDiagnoseNoLive: --no-live classifies the log alone (no IMAGE
// needed), and needs a log.
func TestDiagnoseNoLive(t *testing.T) {
	home := t.TempDir()
	res := runDiagnose(t, home, env{}, laptopLog, nil, "--log", "-", "--no-live", "-o", "json")
	if res.code != ExitCheckFailed {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	var out struct {
		Image   string `json:"image"`
		Checks  []any  `json:"checks"`
		Verdict struct {
			RankedBy string `json:"ranked_by"`
			Why      string `json:"why"`
		} `json:"verdict"`
		Causes []struct {
			ID string `json:"id"`
		} `json:"causes"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("%v: %s", err, res.stdout)
	}
	if out.Image != "acme/private-tool:2" || len(out.Checks) != 0 || out.Verdict.RankedBy != "log" || len(out.Causes) == 0 || out.Causes[0].ID != "access-denied" {
		t.Errorf("report = %+v", out)
	}
	text := runDiagnose(t, home, env{}, "ERROR: Couldn't connect to Docker daemon at http://docker:2375 - is it running?\n", nil, "--log", "-", "--no-live")
	for _, want := range []string{"Classifying the job log (--no-live: no live check)", "1. dind-tls-mismatch", "line 1: dind-tls-mismatch", "Ranked by the job log: the job log alone decides (--no-live: no live check ran)."} {
		if !strings.Contains(text.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, text.stdout)
		}
	}
	if strings.Contains(text.stdout, "not the runner host") || strings.Contains(text.stdout, "daemon.reachable") {
		t.Errorf("--no-live ran or mentioned checks:\n%s", text.stdout)
	}
	bad := runDiagnose(t, home, env{}, "", nil, "alpine", "--no-live")
	if bad.code != ExitInput || !strings.Contains(bad.stderr, "--no-live classifies a job log: give --log FILE") {
		t.Errorf("exit %d, stderr %q", bad.code, bad.stderr)
	}
}
