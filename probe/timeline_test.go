package probe

import (
	"context"
	"testing"
	"time"
)

// The timeline in the results says when each check ran: a check starts no
// earlier than the end of every check it Needs (skipped ones included);
// one that NeedsEarly starts no earlier than its provider and ends no
// earlier than it. Only the order is asserted, never how long anything
// took.
func TestTimelineIsConsistent(t *testing.T) {
	checks := []Check{
		sleeper("daemon", 3*time.Millisecond, Pass),
		sleeper("tls", 2*time.Millisecond, Pass),
		sleeper("credentials", 1*time.Millisecond, Pass),
		sleeper("auth", 3*time.Millisecond, Pass, "tls", "credentials"),
		sleeper("manifest", 2*time.Millisecond, Pass, "auth"),
		sleeper("platform", 1*time.Millisecond, Pass, "manifest", "daemon"),
		sleeper("broken", 2*time.Millisecond, Fail, "tls"),
		sleeper("after-broken", time.Millisecond, Pass, "broken"),
		{ID: "diagnose", Needs: []string{"broken"}, RunAfterFailure: true, Run: func(context.Context, Deps) Result { return Passf("ran") }},
		{ID: "provider", Needs: []string{"tls"}, Run: func(ctx context.Context, _ Deps) Result {
			Provide(ctx, "transport")
			time.Sleep(3 * time.Millisecond)
			return Passf("verified")
		}},
		sleeper("early", time.Millisecond, Pass),
		{ID: "later", Later: []string{"platform"}, Run: func(ctx context.Context, _ Deps) Result {
			if _, ok := Await(ctx, "platform"); !ok {
				return Failf("", "await failed")
			}
			return Passf("ok")
		}},
	}
	checks[len(checks)-2].NeedsEarly = []string{"provider"}
	// Several runs: a wrong origin or a start taken before the Needs are
	// done shows up as soon as a dependency takes a millisecond.
	for range 5 {
		res, err := Run(context.Background(), checks, Options{})
		if err != nil {
			t.Fatal(err)
		}
		assertTimeline(t, checks, res)
	}
}

// assertTimeline checks the timeline invariants of one run's results.
func assertTimeline(t *testing.T, checks []Check, res []Result) {
	t.Helper()
	byID := map[string]Result{}
	for _, r := range res {
		if r.StartedMS < 0 || r.DurationMS < 0 {
			t.Errorf("%s: started_ms %d, duration_ms %d: want both ≥ 0", r.ID, r.StartedMS, r.DurationMS)
		}
		byID[r.ID] = r
	}
	for _, c := range checks {
		r := byID[c.ID]
		for _, n := range c.Needs {
			need := byID[n]
			if end := need.StartedMS + need.DurationMS; r.StartedMS < end {
				t.Errorf("%s (%s) started at %d ms, before %s (%s) ended at %d ms", c.ID, r.Status, r.StartedMS, n, need.Status, end)
			}
		}
		for _, n := range c.NeedsEarly {
			p := byID[n]
			if r.StartedMS < p.StartedMS || r.StartedMS+r.DurationMS < p.StartedMS+p.DurationMS {
				t.Errorf("%s ran %d–%d ms, outside its provider %s's %d–%d ms", c.ID, r.StartedMS, r.StartedMS+r.DurationMS, n, p.StartedMS, p.StartedMS+p.DurationMS)
			}
		}
	}
	if byID["after-broken"].Status != Skip || byID["diagnose"].Status != Pass {
		t.Errorf("statuses: after-broken %s, diagnose %s", byID["after-broken"].Status, byID["diagnose"].Status)
	}
}
