package tui

import (
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/runnerup/runnerup/probe"
)

// Found in review: the review's dry run forced SkipProbes, so the plan it
// showed said "host checks" while the write ran the live ones, and the
// review re-mapped the runner's action to its own words, so what the plan
// says (where [gitlab.create] creates, a settings update, the entries
// removed, the system id written) never showed. The dry run now takes the
// write's own options (the checklist already ran the live checks: apply
// plans them and runs only the host checks), and the review lists the
// plan as wizard.Plan.Lines words it.
func TestReviewPlansAsTheWriteRuns(t *testing.T) {
	for _, tt := range []struct {
		name      string
		extra     []probe.Result
		wantPlan  string
		skipWrite bool
	}{
		{name: "checks pass: the write runs apply's live checks", wantPlan: "live checks"},
		{name: "a check failed: writing anyway skips them", wantPlan: "host checks", skipWrite: true,
			extra: []probe.Result{{ID: "daemon.ping", Title: "Docker daemon", Status: probe.Fail, Detail: "no daemon"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, fa, _ := reviewDriver(t, nil, append(tt.extra, staleResult("old-box", "glrt-staleSTALEstale0001"))...)
			d.keys("x") // remove the stale entry the checks found
			d.send(tea.WindowSizeMsg{Width: 80, Height: 120})
			v := flat(d.view())
			dry, _ := fa.last()
			if !dry.DryRun || !dry.LiveChecksDone || dry.SkipProbes != tt.skipWrite {
				t.Errorf("dry run options: SkipProbes %v LiveChecksDone %v, want SkipProbes %v (the write's)", dry.SkipProbes, dry.LiveChecksDone, tt.skipWrite)
			}
			contains(t, v, `plan verify runner "build-host" (new, executor docker) token from answers `+tt.wantPlan)
			contains(t, v, "removes 1 runner(s): 1 stale")
			contains(t, v, "system id s_0123456789ab, written with config.toml")
			d.keys("w")
			if tt.skipWrite {
				d.keys("y")
			}
			_, write := fa.last()
			if write.DryRun || write.SkipProbes != dry.SkipProbes || len(write.Prune) != 1 {
				t.Errorf("write options: SkipProbes %v, prune %v; the dry run had SkipProbes %v", write.SkipProbes, write.Prune, dry.SkipProbes)
			}
		})
	}
}
