package tui

import (
	"context"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/runnerup/runnerup/internal/golden"
	"github.com/runnerup/runnerup/wizard"
)

// runProgramFlow runs the whole wizard as a bubbletea program at 80×24
// with the ASCII colour profile (teatest), typing the flow's keys as each
// field gets focus, and returns the final model after the done screen is
// left with enter.
func runProgramFlow(t *testing.T, o Options, flow []flowStep) *model {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := newModel(ctx, o.withDefaults())
	snap := &snapshot{}
	m.snap = snap
	tm := teatest.NewTestModel(t, m,
		teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)),
	)
	for i, s := range flow {
		waitSnap(t, snap, s, i)
		if s.text != "" {
			tm.Type(s.text)
		}
		for _, k := range s.keys {
			tm.Send(key(k))
		}
	}
	waitSnap(t, snap, flowStep{step: stepDone}, len(flow))
	tm.Send(key("enter"))
	fm, ok := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*model)
	if !ok {
		t.Fatalf("final model is not the wizard")
	}
	return fm
}

// TestProgramFlowGolden drives the real program through docker, one
// service and basic auth to the write step, with a fake Apply and a fake
// Probe, and compares the final screen with a golden file.
func TestProgramFlowGolden(t *testing.T) {
	fa := &fakeApply{}
	fp := &fakeProbe{}
	o := testOptions(t, fa)
	o.ConfigPath = "/srv/runnerup-test/config.toml"
	o.DockerConfigDir = "/srv/runnerup-test/docker"
	o.Probe = fp.probe
	fm := runProgramFlow(t, o, scenarioFlow("https://gitlab.example.com", false, ""))

	if !fm.done || fm.outcome.Result == nil || fm.outcome.AnswersPath != "" {
		t.Fatalf("outcome: done=%v %+v", fm.done, fm.outcome)
	}
	if dry, writes := fa.counts(); writes != 1 || dry == 0 {
		t.Fatalf("Apply: %d dry runs, %d writes; want ≥1 and 1", dry, writes)
	}
	// What was applied is the answers of the flow.
	got := fa.prepared.Raw
	if got.Docker.Image != scImage || len(got.Docker.Services) != 1 || got.Docker.Services[0].Alias != "db" ||
		len(got.Registries) != 1 || got.Registries[0].Method != wizard.MethodBasic || got.Registries[0].Password != scPassword {
		t.Fatalf("applied answers: %+v", got)
	}
	view := fm.View()
	if view.AltScreen || view.Content != "" {
		t.Errorf("the done screen stays drawn after exit (alt-screen %v): %q", view.AltScreen, view.Content)
	}
	// What stays in the terminal is printed after the program ends, each
	// command whole on its own line.
	golden.Assert(t, "testdata/TestProgramFlowGolden/final.golden", []byte(ansi.Strip(fm.finalText())))
}
