package tui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
	"github.com/runnerup/runnerup/wizard"
)

func runAccessibleLines(t *testing.T, o Options, lines string) (Outcome, string, error) {
	t.Helper()
	var out bytes.Buffer
	o.Accessible = true
	o.In, o.Out = strings.NewReader(lines), &out
	res, err := Run(context.Background(), o)
	return res, out.String(), err
}

// TestAccessibleMatchesTUI answers the same questions as the TUI flow
// through stdin lines: the answers applied are the same struct.
func TestAccessibleMatchesTUI(t *testing.T) {
	tuiApply := &fakeApply{}
	o := testOptions(t, tuiApply)
	runProgramFlow(t, o, scenarioFlow("https://gitlab.example.com", false, ""))

	accApply := &fakeApply{}
	o.Apply = accApply.apply
	res, out, err := runAccessibleLines(t, o, scenarioLines("https://gitlab.example.com", false, ""))
	if err != nil {
		t.Fatalf("accessible run: %v\noutput:\n%s", err, out)
	}
	if res.Result == nil {
		t.Fatal("no apply result")
	}
	if _, writes := accApply.counts(); writes != 1 {
		t.Fatalf("accessible run wrote %d times, want 1", writes)
	}
	if !reflect.DeepEqual(accApply.prepared.Raw, tuiApply.prepared.Raw) {
		t.Errorf("answers differ:\n tui %+v\nplain %+v", tuiApply.prepared.Raw, accApply.prepared.Raw)
	}
	if !reflect.DeepEqual(accApply.prepared.Resolved, tuiApply.prepared.Resolved) {
		t.Errorf("resolved answers differ:\n tui %+v\nplain %+v", tuiApply.prepared.Resolved, accApply.prepared.Resolved)
	}
	for _, want := range []string{
		"== GitLab ==", "GitLab URL:", "→ authentication token (glrt-)", "== Executor ==",
		"5. docker — jobs run in Docker containers on this host (recommended)",
		"Add a service container?", "Registry 1 of 1: registry.test:5000",
		"! probes unavailable", "Files:", `token = "env:RUNNER_TOKEN"`, "Write these files now?", "Next steps",
	} {
		contains(t, out, want)
	}
	notContains(t, out, "docker.io (Docker Hub") // postgres:16 needs no login: not asked
	if strings.Contains(out, "\x1b[") {
		t.Error("accessible output has escape sequences")
	}
	for _, secret := range []string{scToken, scPassword} {
		notContains(t, out, secret)
	}
}

// TestAccessibleRealApplyMatchesTUI runs both modes with the real
// wizard.Apply against a fake GitLab, each into its own directory: the
// files written are byte for byte the same.
func TestAccessibleRealApplyMatchesTUI(t *testing.T) {
	srv := fakegitlab.New(t)
	srv.AddRunner(scToken, 4242)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

	setup := func(t *testing.T) (Options, string) {
		dir := t.TempDir()
		o := testOptions(t, nil)
		o.ConfigPath = filepath.Join(dir, "gitlab-runner", "config.toml")
		o.DockerConfigDir = filepath.Join(dir, "docker")
		// No Docker daemon or registry here: apply's own live checks are
		// skipped as with --skip-probes.
		o.ApplyOptions = wizard.ApplyOptions{Now: func() time.Time { return now }, SkipProbes: true}
		return o, dir
	}

	tuiOpts, tuiDir := setup(t)
	saveTUI := filepath.Join(tuiDir, "answers.toml")
	fm := runProgramFlow(t, tuiOpts, scenarioFlow(srv.URL, true, saveTUI))

	accOpts, accDir := setup(t)
	saveAcc := filepath.Join(accDir, "answers.toml")
	res, out, err := runAccessibleLines(t, accOpts, scenarioLines(srv.URL, true, saveAcc))
	if err != nil {
		t.Fatalf("accessible run: %v\noutput:\n%s", err, out)
	}

	for name, r := range map[string]*wizard.ApplyResult{"tui": fm.outcome.Result, "accessible": res.Result} {
		if r == nil || r.DryRun || r.Runner.ID != 4242 || r.Runner.Action != "verified" || !r.Changed {
			t.Fatalf("%s result: %+v", name, r)
		}
	}
	if fm.outcome.AnswersPath != saveTUI || res.AnswersPath != saveAcc {
		t.Fatalf("answers paths: tui %q accessible %q", fm.outcome.AnswersPath, res.AnswersPath)
	}
	files := []string{"gitlab-runner/config.toml", "docker/config.json", "gitlab-runner/.runner_system_id"}
	for _, f := range files {
		a, errA := os.ReadFile(filepath.Join(tuiDir, f))
		b, errB := os.ReadFile(filepath.Join(accDir, f))
		if errA != nil || errB != nil {
			t.Fatalf("%s: %v / %v", f, errA, errB)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs:\n--- tui\n%s\n--- accessible\n%s", f, a, b)
		}
	}
	cfg, _ := os.ReadFile(filepath.Join(accDir, "gitlab-runner/config.toml"))
	for _, want := range []string{`token = "` + scToken + `"`, `image = "` + scImage + `"`, `name = "postgres:16"`, "id = 4242"} {
		contains(t, string(cfg), want)
	}
	js, _ := os.ReadFile(filepath.Join(accDir, "docker/config.json"))
	contains(t, string(js), `"registry.test:5000"`)
	// The saved answers differ only in their [output] paths.
	a, _ := os.ReadFile(saveTUI)
	b, _ := os.ReadFile(saveAcc)
	if got, want := strings.ReplaceAll(string(a), tuiDir, "DIR"), strings.ReplaceAll(string(b), accDir, "DIR"); got != want {
		t.Errorf("saved answers differ:\n--- tui\n%s\n--- accessible\n%s", got, want)
	}
}

func TestAccessibleRepromptsInvalidAnswers(t *testing.T) {
	fa := &fakeApply{}
	o := testOptions(t, fa)
	lines := "gitlab.example.com\n" + scenarioLines("https://gitlab.example.com", false, "")
	_, out, err := runAccessibleLines(t, o, lines)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	contains(t, out, "GitLab URL has no scheme; write https://gitlab.example.com")
	if got := fa.prepared.Raw.GitLab.URL; got != "https://gitlab.example.com" {
		t.Fatalf("url = %q", got)
	}
}

func TestAccessibleStopsWithoutWriting(t *testing.T) {
	full := scenarioLines("https://gitlab.example.com", false, "")
	lines := strings.Split(strings.TrimSuffix(full, "\n"), "\n")
	tests := []struct {
		name  string
		input string
	}{
		{"input ends after the token", strings.Join(lines[:2], "\n") + "\n"},
		{"input ends on the review", strings.Join(lines[:len(lines)-2], "\n") + "\n"},
		{"write declined", strings.Join(lines[:len(lines)-2], "\n") + "\n\nn\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fa := &fakeApply{}
			o := testOptions(t, fa)
			_, out, err := runAccessibleLines(t, o, tt.input)
			if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want ErrInterrupted\n%s", err, out)
			}
			if _, writes := fa.counts(); writes != 0 {
				t.Fatalf("Apply wrote %d times", writes)
			}
		})
	}
}

func TestAccessibleCancelWhileWaiting(t *testing.T) {
	fa := &fakeApply{}
	o := testOptions(t, fa)
	r, w := io.Pipe()
	defer w.Close()
	o.Accessible, o.In, o.Out = true, r, io.Discard
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel) // SIGINT while the URL prompt waits
	done := make(chan error, 1)
	go func() { _, err := Run(ctx, o); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrInterrupted) {
			t.Fatalf("err = %v, want ErrInterrupted", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a cancelled context did not end the prompt")
	}
}

// TestDumbTerminalIsAccessible: TERM=dumb gets line prompts even without
// --accessible.
func TestDumbTerminalIsAccessible(t *testing.T) {
	fa := &fakeApply{}
	o := testOptions(t, fa)
	o.Env = func(k string) (string, bool) {
		if k == "TERM" {
			return "dumb", true
		}
		return "", false
	}
	var out bytes.Buffer
	o.In, o.Out = strings.NewReader(scenarioLines("https://gitlab.example.com", false, "")), &out
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	contains(t, out.String(), "== GitLab ==")
	if _, writes := fa.counts(); writes != 1 {
		t.Fatalf("writes = %d", writes)
	}
}
