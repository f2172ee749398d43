package cli

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/testenv"
	"github.com/runnerup/runnerup/probe/diagnose"
	"github.com/runnerup/runnerup/probe/registry"
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

// TestDiagnoseLogOnRunnerHost runs diagnose --log on the runner host
// itself: a real dockerd (the runner's, named by config.toml), a real
// htpasswd registry, the runner's config.json and .runner_system_id. The
// live checks are the runner's, so they may overrule the log, but only
// where they test what the log shows.
func TestDiagnoseLogOnRunnerHost(t *testing.T) {
	home := testenv.Isolate(t)
	d := testenv.StartDockerd(t, testenv.DockerdOptions{})
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{Auth: true, Password: "reg-pass-Qx81mz"})
	app := reg.PushImage(t, d, "ci/app", "1.0")
	dockerImage := reg.PushImage(t, d, "ci/docker", "24")
	auth := base64.StdEncoding.EncodeToString([]byte(reg.Username + ":" + reg.Password))
	secrets := []string{reg.Password, auth}

	cfgDir := t.TempDir()
	config := filepath.Join(cfgDir, "config.toml")
	writeFile(t, config, fmt.Sprintf(`concurrent = 1

[[runners]]
  name = "build-01"
  url = "https://gitlab.example.com"
  token = "glrt-t1_RunnerTokenOnHost0123"
  executor = "docker"
  [runners.docker]
    host = %q
    image = "alpine:3.20"
    privileged = true
    pull_policy = "always"
`, d.Host), 0o600)
	writeFile(t, filepath.Join(cfgDir, ".runner_system_id"), "s_9a8b7c6d5e4f\n", 0o600)
	dockerDir := filepath.Join(home, "runner-docker")
	writeFile(t, filepath.Join(dockerDir, "config.json"), fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.Host, auth), 0o600)
	tweak := func(o *diagnose.Options) { o.CertsDir = t.TempDir(); o.HelperEnv = []string{"PATH=/nonexistent"} }
	header := "Running with gitlab-runner 17.5.0 (8ad9e0f7)\n  on build-01 t1_Runner, system ID: s_9a8b7c6d5e4f\n" +
		"Preparing the \"docker\" executor\n"

	type verdict struct {
		RankedBy   string `json:"ranked_by"`
		Why        string `json:"why"`
		RunnerHost bool   `json:"runner_host"`
		Overruled  []struct {
			ID string `json:"id"`
		} `json:"overruled"`
	}
	type report struct {
		Causes []struct {
			ID           string `json:"id"`
			From         string `json:"from"`
			NotCheckable string `json:"not_checkable"`
		} `json:"causes"`
		Verdict verdict `json:"verdict"`
		Log     struct {
			Matches []struct {
				ID             string `json:"id"`
				Verdict        string `json:"verdict"`
				ContradictedBy string `json:"contradicted_by"`
			} `json:"matches"`
		} `json:"log"`
		OK bool `json:"ok"`
	}
	run := func(t *testing.T, log, image string, wantCode int) (report, result) {
		t.Helper()
		logPath := filepath.Join(t.TempDir(), "job.log")
		writeFile(t, logPath, log, 0o600)
		args := []string{image, "--config", config, "--docker-config", dockerDir, "--log", logPath}
		res := runDiagnose(t, home, env{}, "", tweak, append(args, "-o", "json")...)
		assertNoSecrets(t, "json", res.stdout+res.stderr, secrets...)
		if res.code != wantCode {
			t.Fatalf("json: exit %d, want %d\n%s%s", res.code, wantCode, res.stdout, res.stderr)
		}
		var out report
		if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
			t.Fatalf("%v: %s", err, res.stdout)
		}
		text := runDiagnose(t, home, env{}, "", tweak, args...)
		assertNoSecrets(t, "text", text.stdout+text.stderr, secrets...)
		if text.code != wantCode {
			t.Fatalf("text: exit %d, want %d\n%s%s", text.code, wantCode, text.stdout, text.stderr)
		}
		return out, text
	}

	t.Run("live contradicts the log: both shown, the live result wins", func(t *testing.T) {
		log := header + "Pulling docker image " + app + " ...\n" +
			"WARNING: Failed to pull image with policy \"always\": Error response from daemon: manifest for " + app + " not found: manifest unknown: manifest unknown (manager.go:237:0s)\n" +
			"ERROR: Job failed: failed to pull image \"" + app + "\" with specified policies [always]: Error response from daemon: manifest for " + app + " not found: manifest unknown: manifest unknown (manager.go:237:0s)\n"
		out, text := run(t, log, app, ExitOK)
		v := out.Verdict
		if v.RankedBy != "live" || !v.RunnerHost || len(out.Causes) != 0 || len(v.Overruled) != 1 || v.Overruled[0].ID != "tag-not-found" {
			t.Fatalf("report = %+v", out)
		}
		manifest := registry.ManifestID(app)
		if len(out.Log.Matches) == 0 || out.Log.Matches[0].ContradictedBy != manifest {
			t.Errorf("matches = %+v, want tag-not-found contradicted by %s", out.Log.Matches, manifest)
		}
		for _, want := range []string{"ran in the runner's context", manifest + " passed", "the live result wins"} {
			if !strings.Contains(v.Why, want) {
				t.Errorf("why = %q, want %q", v.Why, want)
			}
		}
		for _, want := range []string{"✓ The image would pull: no cause found.", "Ranked by the live checks:", "The job log shows, not reproduced now (the live checks win):", "1. tag-not-found:"} {
			if !strings.Contains(text.stdout, want) {
				t.Errorf("text lacks %q:\n%s", want, text.stdout)
			}
		}
	})

	t.Run("a DinD failure inside the job: the log's cause stays, exit 3", func(t *testing.T) {
		log := header + "Pulling docker image " + dockerImage + " ...\n" +
			"Starting service docker:24-dind ...\n" +
			"section_start:1714557620:step_script\r\x1b[0K\x1b[0K\x1b[36;1mExecuting \"step_script\" stage of the job script\x1b[0;m\n" +
			"\x1b[32;1m$ docker info\x1b[0;m\n" +
			"docker: Cannot connect to the Docker daemon at tcp://docker:2375. Is the docker daemon running?.\n" +
			"See 'docker run --help'.\n" +
			"section_end:1714557622:step_script\r\x1b[0K\n" +
			"\x1b[31;1mERROR: Job failed: exit code 1\x1b[0;m\n"
		out, text := run(t, log, dockerImage, ExitCheckFailed)
		v := out.Verdict
		if out.OK || v.RankedBy != "log" || !v.RunnerHost || len(v.Overruled) != 0 {
			t.Fatalf("report = %+v", out)
		}
		if len(out.Causes) != 1 || out.Causes[0].ID != "dind-tls-mismatch" || out.Causes[0].From != "log" || out.Causes[0].NotCheckable == "" {
			t.Fatalf("causes = %+v", out.Causes)
		}
		if len(out.Log.Matches) == 0 || out.Log.Matches[0].Verdict != diagnose.VerdictInJob {
			t.Errorf("matches = %+v", out.Log.Matches)
		}
		s := text.stdout
		first, ranked, check := strings.Index(s, "1. dind-tls-mismatch:"), strings.Index(s, "Ranked by the job log:"), strings.Index(s, "[daemon.reachable")
		if first < 0 || ranked < 0 || check < 0 || check > first {
			t.Errorf("want the runner's checks, then the log's cause and its ranking:\n%s", s)
		}
		if strings.Contains(s, "not the runner host") || strings.Contains(s, "The image would pull") {
			t.Errorf("text:\n%s", s)
		}
	})
}
