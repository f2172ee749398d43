package diagnose

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runnerup/runnerup/probe/registry"
)

// unreachableTransport is a network where the registry cannot be reached
// from this host.
type unreachableTransport struct{}

func (unreachableTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: r.URL.Hostname(), Server: "10.255.255.53:53", IsNotFound: true}}
}

// TestRankNoDaemonHere: a log pasted on a laptop. No daemon answers here
// (a real Docker client dialling a socket nobody serves) and there is no
// config.toml: the log's cause comes first, the note is said once, and
// the laptop's own daemon-unreachable is only about this machine.
func TestRankNoDaemonHere(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "none.sock"))
	f := newFakeRegistry(t)
	ref := f.PushImage("lib/app", "1", linuxAMD64)
	log := "Running with gitlab-runner 17.5.0 (8ad9e0f7)\n  on build-01 t2_Zq8fWx, system ID: s_5d1f2e3a4b6c\n" +
		pullFail(ref+"-missing", "Error response from daemon: pull access denied for "+ref+"-missing, repository does not exist or may require 'docker login': denied: requested access to the resource is denied")
	rep, err := Run(context.Background(), Options{Image: ref, Log: &log, Timeout: 2 * time.Second, LookupEnv: noEnv,
		HomeDir: t.TempDir(), ConfigSearched: "/etc/gitlab-runner/config.toml"})
	if err != nil {
		t.Fatal(err)
	}
	v := rep.Verdict
	if v == nil || v.RankedBy != RankedByLog || v.RunnerHost || v.Note != NotRunnerHostNote {
		t.Fatalf("verdict = %+v", v)
	}
	if len(rep.Causes) == 0 || rep.Causes[0].ID != "access-denied" || rep.Causes[0].From != FromLog || rep.Causes[0].LogLine != 8 {
		t.Fatalf("causes = %+v, want access-denied from the log, line 8", rep.Causes)
	}
	if !slices.ContainsFunc(v.ThisMachine, func(c Cause) bool { return c.ID == "daemon-unreachable" }) {
		t.Errorf("this machine = %v, want daemon-unreachable there", causeIDs(v.ThisMachine))
	}
	if slices.ContainsFunc(rep.Causes, func(c Cause) bool { return c.ID == "daemon-unreachable" }) {
		t.Errorf("daemon-unreachable of this laptop ranked as a cause: %v", causeIDs(rep.Causes))
	}
	for _, want := range []string{"no Docker daemon answers here", "no config.toml here (/etc/gitlab-runner/config.toml does not exist)"} {
		if !slices.ContainsFunc(v.NotRunnerHost, func(s string) bool { return strings.Contains(s, want) }) {
			t.Errorf("not runner host because %q, want %q among them", v.NotRunnerHost, want)
		}
	}
	if rep.OK || rep.Log.Matches[0].Verdict != VerdictNotCheckable {
		t.Errorf("ok = %v, match verdict %q", rep.OK, rep.Log.Matches[0].Verdict)
	}
}

// TestRankRegistryNotReachableHere: the daemon answers and config.toml is
// here, but the registry the runner reached (the log shows its answer)
// does not resolve from this host: another network, so the log ranks.
func TestRankRegistryNotReachableHere(t *testing.T) {
	log := pullFail("registry.internal.example:5000/ci/app:1", "Error response from daemon: manifest for registry.internal.example:5000/ci/app:1 not found: manifest unknown: manifest unknown")
	rep := fakeRun(t, Options{Image: "registry.internal.example:5000/ci/app:1", Log: &log, Transport: unreachableTransport{},
		Runner: &Runner{Name: "build-01", ConfigPath: "/etc/gitlab-runner/config.toml"}})
	v := rep.Verdict
	if v.RankedBy != RankedByLog || len(rep.Causes) == 0 || rep.Causes[0].ID != "tag-not-found" {
		t.Fatalf("ranked by %s, causes %v", v.RankedBy, causeIDs(rep.Causes))
	}
	if !slices.ContainsFunc(v.NotRunnerHost, func(s string) bool {
		return strings.Contains(s, "registry.internal.example:5000 is not reachable from here (dns-no-such-host), but the runner reached it")
	}) {
		t.Errorf("not runner host because %q", v.NotRunnerHost)
	}
	if !slices.ContainsFunc(v.ThisMachine, func(c Cause) bool { return c.ID == "dns-no-such-host" }) {
		t.Errorf("this machine = %v", causeIDs(v.ThisMachine))
	}
}

// TestRankAnotherRunnerHost: the log's runner manager (system id) is not
// this host's.
func TestRankAnotherRunnerHost(t *testing.T) {
	f := newFakeRegistry(t)
	ref := f.PushImage("lib/app", "1", linuxAMD64)
	log := "Running with gitlab-runner 17.5.0 (8ad9e0f7)\n  on build-07 t2_Zq8fWx, system ID: s_5d1f2e3a4b6c\n" +
		pullFail(ref, "Error response from daemon: Get \"https://"+f.Host+"/v2/\": x509: certificate signed by unknown authority")
	rep := fakeRun(t, Options{Image: ref, Log: &log, HostSystemID: "s_0a0b0c0d0e0f", ConfigRunners: []string{"build-01"},
		Runner: &Runner{Name: "build-01", ConfigPath: "/etc/gitlab-runner/config.toml"}})
	if v := rep.Verdict; v.RankedBy != RankedByLog || len(v.NotRunnerHost) != 1 || !strings.Contains(v.NotRunnerHost[0], "runner manager s_5d1f2e3a4b6c") {
		t.Fatalf("verdict %+v", v)
	}
	if rep.Causes[0].ID != "tls-unknown-ca" {
		t.Errorf("causes = %v", causeIDs(rep.Causes))
	}
}

// TestRankLiveContradictsLog: the checks run in the runner's context (its
// daemon answers, its config.toml entry is loaded) and find another cause
// than the log's: both are shown and the live one wins, with the reason.
func TestRankLiveContradictsLog(t *testing.T) {
	f := newFakeRegistry(t)
	ref := f.PushImage("group/private", "1", linuxAMD64)
	f.Bearer("bob", "right-Ct4", true, "group/private")
	addSecret("right-Ct4")
	log := pullFail(ref, "Error response from daemon: Get \"https://"+f.Host+"/v2/\": x509: certificate signed by unknown authority")
	rep := fakeRun(t, Options{Image: ref, Log: &log, Runner: &Runner{Name: "build-01", ConfigPath: "/etc/gitlab-runner/config.toml"}})
	v := rep.Verdict
	if v.RankedBy != RankedByLive || !v.RunnerHost || v.Note != "" {
		t.Fatalf("verdict %+v", v)
	}
	wantCauses(t, rep, "access-denied")
	if len(v.Overruled) != 1 || v.Overruled[0].ID != "tls-unknown-ca" || v.Overruled[0].LogLine != 6 {
		t.Fatalf("overruled = %+v", v.Overruled)
	}
	for _, want := range []string{"ran in the runner's context", "tls-unknown-ca that the job log shows at line 6", "the live result wins"} {
		if !strings.Contains(v.Why, want) {
			t.Errorf("why = %q, want %q", v.Why, want)
		}
	}
	if rep.Log.Matches[0].Verdict != VerdictNotReproduced {
		t.Errorf("match verdict %q", rep.Log.Matches[0].Verdict)
	}
}

// TestRankLiveConfirmsLog: agreement is said as such.
func TestRankLiveConfirmsLog(t *testing.T) {
	f := newFakeRegistry(t)
	ref := f.PushImage("group/private", "1", linuxAMD64)
	f.Bearer("bob", "right-Ct5", true, "group/private")
	addSecret("right-Ct5")
	log := pullFail(ref, "Error response from daemon: pull access denied for "+ref+", repository does not exist or may require 'docker login': denied: requested access to the resource is denied")
	rep := fakeRun(t, Options{Image: ref, Log: &log, Runner: &Runner{Name: "build-01", ConfigPath: "/etc/gitlab-runner/config.toml"}})
	if v := rep.Verdict; v.RankedBy != RankedByLive || len(v.Overruled) != 0 || !strings.Contains(v.Why, "confirm the job log") {
		t.Fatalf("verdict %+v", v)
	}
	if c := rep.Causes[0]; c.ID != "access-denied" || c.From != FromLogLive {
		t.Errorf("cause %s from %q", c.ID, c.From)
	}
}

// TestClassifyLog: --no-live reads the log alone; an image name or a
// DOCKER_AUTH_CONFIG value given as input joins it.
func TestClassifyLog(t *testing.T) {
	t.Run("log alone", func(t *testing.T) {
		log := "ERROR: Job failed: failed to pull image \"node:12.19\" with specified policies [always]: toomanyrequests: You have reached your pull rate limit. (manager.go:205:1s)\n"
		rep, err := ClassifyLog(Options{Log: &log})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Image != "node:12.19" || len(rep.Checks) != 0 || rep.OK || rep.Verdict.RankedBy != RankedByLog {
			t.Fatalf("report %+v", rep)
		}
		if c := rep.Causes[0]; c.ID != "rate-limited" || c.LogLine != 1 || len(c.Fix) == 0 {
			t.Errorf("cause %+v", c)
		}
	})
	t.Run("credHelpers as a string in --auth-config", func(t *testing.T) {
		log := "WARNING: Failed to pull image with policy \"always\": Error response from daemon: Head https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/myimage/manifests/latest: no basic auth credentials (docker.go:147:0s)\n"
		ac := `{"credHelpers": "ecr-login"}`
		rep, err := ClassifyLog(Options{Log: &log, AuthConfig: &ac})
		if err != nil {
			t.Fatal(err)
		}
		if got := causeIDs(rep.Causes); !slices.Equal(got, []string{"docker-auth-config-malformed", "auth-missing-credentials"}) {
			t.Fatalf("causes = %v", got)
		}
		wantText(t, rep.Causes[0], "cannot unmarshal string into Go struct field ConfigFile.credHelpers")
	})
	t.Run("no log", func(t *testing.T) {
		if _, err := ClassifyLog(Options{Image: "alpine"}); err == nil {
			t.Error("no error without a log")
		}
	})
}

// TestRankJobSideCauseOnRunnerHost: on the runner host (its daemon
// answers, its config.toml entry is loaded) a job log whose failure came
// from inside the job (the docker:dind service, the job's docker CLI) is
// not something the host's checks can see: the log's cause is kept, ranked
// by the log, and the diagnosis is not OK.
func TestRankJobSideCauseOnRunnerHost(t *testing.T) {
	f := newFakeRegistry(t)
	ref := f.PushImage("lib/docker", "24", linuxAMD64)
	log := readCorpusLog(t, "016-dind-2375-tls.log")
	rep := fakeRun(t, Options{Image: ref, Log: &log, Runner: &Runner{Name: "build-01", ConfigPath: "/etc/gitlab-runner/config.toml"}})
	v := rep.Verdict
	if rep.OK || v.RankedBy != RankedByLog || !v.RunnerHost || len(v.Overruled) != 0 {
		t.Fatalf("ok=%v ranked_by=%s runner_host=%v overruled=%v causes=%v", rep.OK, v.RankedBy, v.RunnerHost, causeIDs(v.Overruled), causeIDs(rep.Causes))
	}
	wantCauses(t, rep, "dind-tls-mismatch")
	if c := rep.Causes[0]; c.From != FromLog || c.LogLine != 3 || c.NotCheckable == "" {
		t.Errorf("cause %+v", c)
	}
	if m := rep.Log.Matches[0]; m.Verdict != VerdictInJob {
		t.Errorf("match verdict %q, want %q", m.Verdict, VerdictInJob)
	}
	for _, want := range []string{"inside the job", "dind-tls-mismatch", "line 3", "cannot see it"} {
		if !strings.Contains(v.Why, want) {
			t.Errorf("why = %q, want %q", v.Why, want)
		}
	}
}

// TestRankUncontradictedLogCauseKept: the live checks ran in the runner's
// context and found nothing, but none of them tests what the log shows (a
// layer download broke off; only a real pull would): the log's cause stays,
// and the diagnosis is not OK.
func TestRankUncontradictedLogCauseKept(t *testing.T) {
	f := newFakeRegistry(t)
	ref := f.PushImage("lib/app", "1", linuxAMD64)
	log := pullFail(ref, "Error response from daemon: filesystem layer verification failed for digest sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	rep := fakeRun(t, Options{Image: ref, Log: &log, Runner: &Runner{Name: "build-01", ConfigPath: "/etc/gitlab-runner/config.toml"}})
	v := rep.Verdict
	if rep.OK || len(v.Overruled) != 0 {
		t.Fatalf("ok=%v overruled=%v causes=%v why=%s", rep.OK, causeIDs(v.Overruled), causeIDs(rep.Causes), v.Why)
	}
	wantCauses(t, rep, "blob-download-failed")
	if m := rep.Log.Matches[0]; m.Verdict != VerdictNotChecked {
		t.Errorf("match verdict %q, want %q", m.Verdict, VerdictNotChecked)
	}
}

// TestRankContradictionNamesTheCheck: a log cause is overruled only by a
// live check that tests it and passed, and the reason names that check.
func TestRankContradictionNamesTheCheck(t *testing.T) {
	f := newFakeRegistry(t)
	ref := f.PushImage("lib/app", "1", linuxAMD64)
	log := pullFail(ref, "Error response from daemon: manifest for "+ref+" not found: manifest unknown: manifest unknown")
	rep := fakeRun(t, Options{Image: ref, Log: &log, Runner: &Runner{Name: "build-01", ConfigPath: "/etc/gitlab-runner/config.toml"}})
	v := rep.Verdict
	if !rep.OK || v.RankedBy != RankedByLive || len(v.Overruled) != 1 || v.Overruled[0].ID != "tag-not-found" {
		t.Fatalf("ok=%v ranked_by=%s overruled=%v causes=%v", rep.OK, v.RankedBy, causeIDs(v.Overruled), causeIDs(rep.Causes))
	}
	if m := rep.Log.Matches[0]; m.Verdict != VerdictNotReproduced || m.ContradictedBy != registry.ManifestID(ref) {
		t.Errorf("match %+v", m)
	}
	if !strings.Contains(v.Why, registry.ManifestID(ref)+" passed") {
		t.Errorf("why = %q", v.Why)
	}
}

// readCorpusLog reads a job log of the committed corpus.
func readCorpusLog(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "logs", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRankScriptLines: a line the job's script printed is inside the job
// for container executors, but a shell executor's script runs on the
// runner host as the runner's user, so the host's checks test it.
func TestRankScriptLines(t *testing.T) {
	f := newFakeRegistry(t)
	ref := f.PushImage("lib/app", "1", linuxAMD64)
	script := "section_start:1714557620:step_script\r\x1b[0KExecuting \"step_script\" stage of the job script\n$ docker info\n" +
		"docker: Got permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: dial unix /var/run/docker.sock: connect: permission denied.\n" +
		"section_end:1714557622:step_script\r\x1b[0K\nERROR: Job failed: exit code 1\n"
	for _, tc := range []struct {
		executor string
		verdict  string
		ok       bool
	}{
		{"docker", VerdictInJob, false},
		{"shell", VerdictNotReproduced, true},
	} {
		t.Run(tc.executor, func(t *testing.T) {
			log := "Running with gitlab-runner 17.5.0 (8ad9e0f7)\n  on build-01 t2_Zq8fWx\nPreparing the \"" + tc.executor + "\" executor\n" + script
			rep := fakeRun(t, Options{Image: ref, Log: &log, Runner: &Runner{Name: "build-01", Executor: tc.executor, ConfigPath: "/etc/gitlab-runner/config.toml"}})
			m := rep.Log.Matches[0]
			if m.ID != "daemon-permission-denied" || !m.InJob || m.Verdict != tc.verdict || rep.OK != tc.ok {
				t.Errorf("match %+v, ok %v, causes %v", m, rep.OK, causeIDs(rep.Causes))
			}
		})
	}
	t.Run("the runner's own lines are not the job's", func(t *testing.T) {
		lr := MatchLog(script + "ERROR: Job failed (system failure): Error response from daemon: no space left on device (docker.go:1:0s)\n")
		for _, m := range lr.Matches {
			if m.InJob != (m.ID == "daemon-permission-denied") {
				t.Errorf("match %s in job = %v", m.ID, m.InJob)
			}
		}
	})
}
