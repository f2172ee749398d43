package probe

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func sleeper(id string, d time.Duration, status Status, needs ...string) Check {
	return Check{ID: id, Title: id, Needs: needs, Run: func(ctx context.Context, deps Deps) Result {
		select {
		case <-time.After(d):
			return Result{Status: status, Data: id + "-data"}
		case <-ctx.Done():
			return Failf("", "timed out")
		}
	}}
}

// Independent checks run at once: each waits until all six have started,
// which only happens when they run concurrently (run one after another,
// the first would wait for the others until its deadline and fail).
func TestRunIsConcurrent(t *testing.T) {
	const n = 6
	var started sync.WaitGroup
	started.Add(n)
	all := make(chan struct{})
	go func() { started.Wait(); close(all) }()
	var checks []Check
	for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
		checks = append(checks, Check{ID: id, Run: func(ctx context.Context, _ Deps) Result {
			started.Done()
			select {
			case <-all:
				return Passf("ran beside the others")
			case <-ctx.Done():
				return Failf("", "the other checks did not start while this one ran")
			}
		}})
	}
	res, err := Run(context.Background(), checks, Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != n || !OK(res) {
		t.Errorf("results = %+v", res)
	}
}

func TestRunDependencies(t *testing.T) {
	var order []string
	var seen atomic.Int32
	checks := []Check{
		{ID: "manifest", Needs: []string{"auth"}, Run: func(ctx context.Context, deps Deps) Result {
			seen.Add(1)
			v, ok := DataOf[string](deps, "auth")
			if !ok || v != "auth-data" {
				return Failf("", "auth data not passed: %v", deps)
			}
			return Passf("ok")
		}},
		sleeper("auth", 50*time.Millisecond, Pass),
		sleeper("broken", 10*time.Millisecond, Fail),
		{ID: "after-broken", Needs: []string{"broken"}, Run: func(ctx context.Context, deps Deps) Result {
			t.Error("ran after a failed dependency")
			return Result{}
		}},
		{ID: "diagnose", Needs: []string{"broken"}, RunAfterFailure: true, Run: func(ctx context.Context, deps Deps) Result {
			return Passf("saw %s", deps["broken"].Status)
		}},
	}
	res, err := Run(context.Background(), checks, Options{OnResult: func(r Result) { order = append(order, r.ID) }})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Result{}
	for _, r := range res {
		got[r.ID] = r
	}
	if got["manifest"].Status != Pass || got["after-broken"].Status != Skip || got["diagnose"].Detail != "saw fail" {
		t.Errorf("results = %+v", res)
	}
	if res[0].ID != "manifest" {
		t.Errorf("results not in input order: %v", res)
	}
	pos := map[string]int{}
	for i, id := range order {
		pos[id] = i
	}
	if pos["auth"] > pos["manifest"] || len(order) != 5 {
		t.Errorf("OnResult order = %v", order)
	}
}

func TestRunDeadlineAndCancel(t *testing.T) {
	res, _ := Run(context.Background(), []Check{sleeper("slow", time.Hour, Pass)}, Options{Timeout: 50 * time.Millisecond})
	if res[0].Status != Fail || res[0].Hint == "" {
		t.Errorf("deadline result = %+v", res[0])
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	start := time.Now()
	_, err := Run(ctx, []Check{sleeper("x", time.Hour, Pass), sleeper("y", time.Hour, Pass, "x")}, Options{Timeout: time.Hour})
	if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Errorf("cancel: err=%v after %s", err, time.Since(start))
	}
}

func TestRunRejectsBadGraph(t *testing.T) {
	for name, checks := range map[string][]Check{
		"unknown":   {sleeper("a", 0, Pass, "nope")},
		"cycle":     {sleeper("a", 0, Pass, "b"), sleeper("b", 0, Pass, "a")},
		"duplicate": {sleeper("a", 0, Pass), sleeper("a", 0, Pass)},
	} {
		if _, err := Run(context.Background(), checks, Options{}); !errors.Is(err, ErrCycle) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestRunRecoversPanics(t *testing.T) {
	res, _ := Run(context.Background(), []Check{{ID: "p", Run: func(context.Context, Deps) Result { panic("boom") }}}, Options{})
	if res[0].Status != Fail || res[0].ID != "p" {
		t.Errorf("panic result = %+v", res[0])
	}
}

func TestLaterStartsAtOnceAndAwaitsOnDemand(t *testing.T) {
	// daemon finishes only after fast has: fast must not wait for it.
	fastDone := make(chan struct{})
	checks := []Check{
		{ID: "daemon", Run: func(ctx context.Context, _ Deps) Result {
			select {
			case <-fastDone:
				return Result{Status: Pass, Data: "daemon-data"}
			case <-ctx.Done():
				return Failf("", "fast waited for the daemon check")
			}
		}},
		{ID: "fast", Later: []string{"daemon"}, Run: func(ctx context.Context, _ Deps) Result {
			close(fastDone)
			return Passf("did not need the daemon")
		}},
		{ID: "needs-it", Later: []string{"daemon"}, Run: func(ctx context.Context, _ Deps) Result {
			r, ok := Await(ctx, "daemon")
			if !ok || r.Data != "daemon-data" {
				return Failf("", "await: %v %+v", ok, r)
			}
			if _, ok := Await(ctx, "fast"); ok {
				return Failf("", "awaited a check it did not declare")
			}
			return Passf("ok")
		}},
	}
	res, err := Run(context.Background(), checks, Options{Timeout: 10 * time.Second})
	if err != nil || !OK(res) {
		t.Fatalf("%v %+v", err, res)
	}
	if _, err := Run(context.Background(), []Check{{ID: "a", Later: []string{"b"}}, {ID: "b", Needs: []string{"a"}}}, Options{}); !errors.Is(err, ErrCycle) {
		t.Errorf("a cycle through Later was not rejected: %v", err)
	}
}

// provider provides its data, then finishes with status once release is
// closed (or at once when release is nil).
func provider(id string, status Status, release <-chan struct{}) Check {
	return Check{ID: id, Run: func(ctx context.Context, _ Deps) Result {
		Provide(ctx, id+"-early")
		if release != nil {
			select {
			case <-release:
			case <-ctx.Done():
				return Failf("", "never released")
			}
		}
		return Result{Status: status, Data: id + "-final"}
	}}
}

func TestNeedsEarly(t *testing.T) {
	tests := []struct {
		name       string
		provider   func(release <-chan struct{}) Check
		afterFail  bool
		wantStatus Status
		wantDetail string
		wantData   string // what the dependent read
	}{
		{name: "starts on the provided data, stands when the provider passes",
			provider: func(r <-chan struct{}) Check { return provider("auth", Pass, r) }, wantStatus: Pass, wantData: "auth-early"},
		{name: "skipped when the provider fails after providing",
			provider: func(r <-chan struct{}) Check { return provider("auth", Fail, r) }, wantStatus: Skip, wantDetail: "skipped: auth did not pass", wantData: "auth-early"},
		{name: "RunAfterFailure keeps its result",
			provider: func(r <-chan struct{}) Check { return provider("auth", Fail, r) }, afterFail: true, wantStatus: Pass, wantData: "auth-early"},
		{name: "a provider that never provides hands over its final data",
			provider: func(<-chan struct{}) Check {
				return Check{ID: "auth", Run: func(context.Context, Deps) Result { return Result{Status: Warn, Data: "auth-final"} }}
			}, wantStatus: Pass, wantData: "auth-final"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			var read string
			ran := false
			dependent := Check{ID: "manifest", NeedsEarly: []string{"auth"}, RunAfterFailure: tt.afterFail, Run: func(ctx context.Context, deps Deps) Result {
				ran = true
				read, _ = DataOf[string](deps, "auth")
				// The provider finishes only after this check has run: a
				// dependent that waited for it to finish would time out.
				close(release)
				return Passf("ran")
			}}
			res, err := Run(context.Background(), []Check{tt.provider(release), dependent}, Options{Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			got := res[1]
			if !ran || got.Status != tt.wantStatus || got.Detail != tt.wantDetail && tt.wantDetail != "" || read != tt.wantData {
				t.Errorf("dependent ran=%v read %q: %+v; want %s %q reading %q", ran, read, got, tt.wantStatus, tt.wantDetail, tt.wantData)
			}
			if got.StartedMS+got.DurationMS < res[0].StartedMS+res[0].DurationMS {
				t.Errorf("dependent ended at %d ms, before its provider at %d ms", got.StartedMS+got.DurationMS, res[0].StartedMS+res[0].DurationMS)
			}
		})
	}
	t.Run("a provider failing before it provides skips the dependent unrun", func(t *testing.T) {
		res, err := Run(context.Background(), []Check{
			{ID: "auth", Run: func(context.Context, Deps) Result { return Failf("", "no") }},
			{ID: "manifest", NeedsEarly: []string{"auth"}, Run: func(context.Context, Deps) Result { t.Error("ran"); return Result{} }},
		}, Options{})
		if err != nil || res[1].Status != Skip || res[1].Detail != "skipped: auth did not pass" {
			t.Errorf("%v %+v", err, res[1])
		}
	})
	if _, err := Run(context.Background(), []Check{{ID: "a", NeedsEarly: []string{"b"}}, {ID: "b", Needs: []string{"a"}}}, Options{}); !errors.Is(err, ErrCycle) {
		t.Errorf("a cycle through NeedsEarly was not rejected: %v", err)
	}
}
