// Package probe runs runnerup's live checks: GitLab, the Docker daemon, every
// registry and credential path an image pull will take. A check is data
// (Result); checks run concurrently, each with its own deadline, and a check
// that depends on another waits only for that one.
package probe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Status of a check.
type Status string

const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Result is one finished check, as printed by `-o json` and shown by the TUI.
type Result struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Status Status `json:"status"`
	Detail string `json:"detail,omitempty"`
	Hint   string `json:"hint,omitempty"`
	// Finding names what a warn or fail found, when one check can find
	// several things (systemid.cloned, runner.stale); stable like ID.
	Finding string `json:"finding,omitempty"`
	// StartedMS is when the check started (its Needs done), in
	// milliseconds since the run started; with DurationMS it places the
	// check on the run's timeline, so the critical path is visible. A check
	// skipped before it ran, for a failed or interrupted dependency, has
	// duration 0.
	StartedMS  int64 `json:"started_ms"`
	DurationMS int64 `json:"duration_ms"`
	// Data carries facts dependent checks need (the daemon's platform, a
	// registry's challenge); never printed.
	Data any `json:"-"`
}

// Check is one live check. Run gets a context with the check's deadline
// and the results of the checks named in Needs.
type Check struct {
	ID    string
	Title string
	// Needs lists check ids whose results Run reads; Run starts only when
	// they are done. A needed check that failed or was skipped makes this
	// one skip, unless RunAfterFailure is set.
	Needs           []string
	RunAfterFailure bool
	// Later lists checks Run may wait for only when it turns out to need
	// them, through Await; the check starts without waiting. (The registry
	// TLS check needs the daemon's insecure-registry list only when HTTPS
	// with verification fails.)
	Later []string
	// NeedsEarly lists checks whose Data Run reads as soon as they publish
	// it with Provide, before they finish: the registry auth check provides
	// its authenticated transport, then verifies the credential while the
	// manifest checks already use it. Run starts once each has provided
	// or finished (one that never calls Provide provides its result's Data
	// when it finishes). The result stands only if they pass: when one
	// fails or skips, this check is skipped as if it were in Needs (unless
	// RunAfterFailure), so no verdict rests on a provisional value; its
	// duration includes that wait.
	NeedsEarly []string
	// Timeout overrides the run's default per-check deadline.
	Timeout time.Duration
	Run     func(ctx context.Context, deps Deps) Result
}

// Deps are the finished results a check asked for.
type Deps map[string]Result

// Data returns the Data of a needed check as T.
func DataOf[T any](d Deps, id string) (T, bool) {
	v, ok := d[id].Data.(T)
	return v, ok
}

// Options for Run.
type Options struct {
	// Timeout is the default per-check deadline (5 s when zero).
	Timeout time.Duration
	// OnResult is called once per finished check, from the check's own
	// goroutine but never concurrently; the CLI prints, the TUI forwards
	// to its program.
	OnResult func(Result)
	// Now is injectable for durations in tests.
	Now func() time.Time
}

// ErrCycle is returned for checks whose Needs form a cycle or name a
// check that is not in the set (a programming error).
var ErrCycle = errors.New("probe: check dependencies are missing or cyclic")

// Run runs every check concurrently, respecting Needs, and returns the
// results in the order the checks were given. Cancelling ctx stops waiting
// checks at once; running ones see the cancellation through their context.
func Run(ctx context.Context, checks []Check, opts Options) ([]Result, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := validateGraph(checks); err != nil {
		return nil, err
	}
	runStart := opts.Now()
	since := func(t time.Time) int64 { return t.Sub(runStart).Milliseconds() }
	type slot struct {
		done, provided chan struct{}
		provideOnce    sync.Once
		data           any // provided before the check finished (under mu)
	}
	slots := make(map[string]*slot, len(checks))
	for _, c := range checks {
		slots[c.ID] = &slot{done: make(chan struct{}), provided: make(chan struct{})}
	}
	var (
		mu      sync.Mutex
		cbMu    sync.Mutex
		results = make(map[string]Result, len(checks))
		wg      sync.WaitGroup
		provide = func(id string, data any) {
			s := slots[id]
			s.provideOnce.Do(func() {
				mu.Lock()
				s.data = data
				mu.Unlock()
				close(s.provided)
			})
		}
		finished = func(r Result) {
			mu.Lock()
			results[r.ID] = r
			mu.Unlock()
			if opts.OnResult != nil {
				cbMu.Lock()
				opts.OnResult(r)
				cbMu.Unlock()
			}
			close(slots[r.ID].done)
			provide(r.ID, r.Data)
		}
		// state is a check's result when it is done, else what it provided.
		state = func(id string) (Result, bool) {
			mu.Lock()
			defer mu.Unlock()
			if r, ok := results[id]; ok {
				return r, true
			}
			return Result{ID: id, Data: slots[id].data}, false
		}
		wait = func(ch chan struct{}) bool {
			select {
			case <-ch:
				return true
			case <-ctx.Done():
				return false
			}
		}
	)
	for _, c := range checks {
		wg.Add(1)
		go func(c Check) {
			defer wg.Done()
			skip := func(detail string, started int64) Result {
				return Result{ID: c.ID, Title: c.Title, Status: Skip, Detail: detail, StartedMS: started, DurationMS: since(opts.Now()) - started}
			}
			deps := Deps{}
			for _, n := range c.Needs {
				if !wait(slots[n].done) {
					finished(skip("interrupted", since(opts.Now())))
					return
				}
				deps[n], _ = state(n)
			}
			var provisional []string
			for _, n := range c.NeedsEarly {
				if !wait(slots[n].provided) {
					finished(skip("interrupted", since(opts.Now())))
					return
				}
				r, final := state(n)
				if !final {
					provisional = append(provisional, n)
				}
				deps[n] = r
			}
			if !c.RunAfterFailure {
				for _, n := range append(slices.Clone(c.Needs), c.NeedsEarly...) {
					if s := deps[n].Status; s == Fail || s == Skip {
						finished(skip(fmt.Sprintf("skipped: %s did not pass", n), since(opts.Now())))
						return
					}
				}
			}
			await := func(actx context.Context, id string) (Result, bool) {
				if !slices.Contains(c.Later, id) {
					return Result{}, false
				}
				select {
				case <-slots[id].done:
				case <-actx.Done():
					return Result{}, false
				}
				return state(id)
			}
			r := runOne(ctx, c, deps, opts, await, func(data any) { provide(c.ID, data) }, since)
			// A provisional dependency decides now whether r stands.
			for _, n := range provisional {
				if !wait(slots[n].done) {
					r = skip("interrupted", r.StartedMS)
					break
				}
				if final, _ := state(n); !c.RunAfterFailure && (final.Status == Fail || final.Status == Skip) {
					r = skip(fmt.Sprintf("skipped: %s did not pass", n), r.StartedMS)
					break
				}
			}
			if len(provisional) > 0 {
				r.DurationMS = since(opts.Now()) - r.StartedMS
			}
			finished(r)
		}(c)
	}
	wg.Wait()
	out := make([]Result, 0, len(checks))
	for _, c := range checks {
		out = append(out, results[c.ID])
	}
	return out, ctx.Err()
}

// awaitKey carries the function Await uses in a check's context.
type awaitKey struct{}

// Await waits for a check named in the calling check's Later and returns
// its result; ok is false when id was not declared or ctx ended first.
func Await(ctx context.Context, id string) (Result, bool) {
	f, _ := ctx.Value(awaitKey{}).(func(context.Context, string) (Result, bool))
	if f == nil {
		return Result{}, false
	}
	return f(ctx, id)
}

// provideKey carries the function Provide uses in a check's context.
type provideKey struct{}

// Provide publishes data as the calling check's Data to the checks that
// name it in NeedsEarly, before it finishes; they start at once. Only the
// first call counts, and the check's final result still decides whether
// their results stand. Outside a check it does nothing.
func Provide(ctx context.Context, data any) {
	if f, _ := ctx.Value(provideKey{}).(func(any)); f != nil {
		f(data)
	}
}

func runOne(ctx context.Context, c Check, deps Deps, opts Options, await func(context.Context, string) (Result, bool), provide func(any), since func(time.Time) int64) (r Result) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = opts.Timeout
	}
	cctx := context.WithValue(context.WithValue(ctx, awaitKey{}, await), provideKey{}, provide)
	cctx, cancel := context.WithTimeout(cctx, timeout)
	defer cancel()
	start := opts.Now()
	defer func() {
		if p := recover(); p != nil {
			r = Result{Status: Fail, Detail: fmt.Sprintf("internal error: %v", p)}
		}
		r.ID, r.Title = c.ID, c.Title
		// Both truncated to whole milliseconds from the same origin, so
		// started_ms + duration_ms never exceeds a later check's started_ms.
		end := opts.Now()
		r.StartedMS = since(start)
		r.DurationMS = since(end) - r.StartedMS
		if r.Status == "" {
			r.Status = Pass
		}
		if r.Status == Fail && errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil && r.Hint == "" {
			r.Hint = fmt.Sprintf("no answer within %s; raise --timeout if the network is slow", timeout)
		}
	}()
	return c.Run(cctx, deps)
}

func validateGraph(checks []Check) error {
	byID := make(map[string]Check, len(checks))
	for _, c := range checks {
		if _, dup := byID[c.ID]; dup {
			return fmt.Errorf("%w: duplicate check id %q", ErrCycle, c.ID)
		}
		byID[c.ID] = c
	}
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(id string) error
	visit = func(id string) error {
		switch state[id] {
		case 1:
			return fmt.Errorf("%w: cycle through %q", ErrCycle, id)
		case 2:
			return nil
		}
		state[id] = 1
		c := byID[id]
		for _, n := range slices.Concat(c.Needs, c.NeedsEarly, c.Later) {
			if _, ok := byID[n]; !ok {
				return fmt.Errorf("%w: %q needs unknown check %q", ErrCycle, id, n)
			}
			if err := visit(n); err != nil {
				return err
			}
		}
		state[id] = 2
		return nil
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if err := visit(id); err != nil {
			return err
		}
	}
	return nil
}

// OK is true when no result failed.
func OK(results []Result) bool {
	for _, r := range results {
		if r.Status == Fail {
			return false
		}
	}
	return true
}

// Failed lists the failed results.
func Failed(results []Result) []Result {
	var out []Result
	for _, r := range results {
		if r.Status == Fail {
			out = append(out, r)
		}
	}
	return out
}

// ID builds a stable, dotted, lower-case check id from parts; parts that
// are hosts or references keep their punctuation (registry.host:5000.auth).
func ID(parts ...string) string {
	for i, p := range parts {
		parts[i] = strings.ToLower(p)
	}
	return strings.Join(parts, ".")
}

// Passf, Warnf, Failf and Skipf build results.
func Passf(format string, args ...any) Result {
	return Result{Status: Pass, Detail: fmt.Sprintf(format, args...)}
}

func Warnf(hint, format string, args ...any) Result {
	return Result{Status: Warn, Detail: fmt.Sprintf(format, args...), Hint: hint}
}

func Failf(hint, format string, args ...any) Result {
	return Result{Status: Fail, Detail: fmt.Sprintf(format, args...), Hint: hint}
}

func Skipf(format string, args ...any) Result {
	return Result{Status: Skip, Detail: fmt.Sprintf(format, args...)}
}
