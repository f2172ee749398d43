package registry

import (
	"context"
	"sync"
)

// witness lets the manifest checks of one host tell its auth check how
// the registry answered their requests, which carry the credential as the
// daemon's first manifest request does: a 2xx answer to one of them shows
// the credential accepted without a GET /v2/ of its own. The auth check
// still asks GET /v2/ when no such answer comes (a failure to explain, no
// image on the host).
type witness struct {
	expected int // manifest checks that will report

	mu       sync.Mutex
	reported int
	answer   *witnessed
	closed   bool
	done     chan struct{} // closed at the first 2xx, or once all reported
}

// witnessed is a 2xx answer to an authenticated manifest request.
type witnessed struct {
	method, path string
	status       int
}

func newWitness(expected int) *witness {
	w := &witness{expected: expected, done: make(chan struct{})}
	if expected == 0 {
		w.closed = true
		close(w.done)
	}
	return w
}

// report is called once by each manifest check: the 2xx answer it got, or
// nil when it got none.
func (w *witness) report(a *witnessed) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.reported++
	if w.closed {
		return
	}
	if a != nil {
		w.answer = a
	}
	if a != nil || w.reported >= w.expected {
		w.closed = true
		close(w.done)
	}
}

// wait returns the first 2xx answer, or nil once every manifest check has
// reported without one (or ctx ended).
func (w *witness) wait(ctx context.Context) *witnessed {
	if w == nil {
		return nil
	}
	select {
	case <-w.done:
	case <-ctx.Done():
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.answer
}

// witnesses are the witnesses of the hosts of one Checks call.
type witnesses struct {
	mu     sync.Mutex
	byHost map[string]*witness
}

// forHost returns host's witness, expecting images manifest checks; nil
// when the checks were not made together by Checks.
func (ws *witnesses) forHost(host string) *witness {
	if ws == nil {
		return nil
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.byHost[host]
}
