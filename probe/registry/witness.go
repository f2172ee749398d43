package registry

import (
	"context"
	"sync"
)

// witness lets the manifest checks of one host tell its auth check how
// the registry answered the first of their requests, which carry the
// credential as the daemon's first manifest request does: a 2xx answer
// shows the credential accepted without a GET /v2/ of its own. Any other
// first answer (a failure to explain: rejected credential, missing tag,
// denied repository), or no image on the host, leaves the auth check to
// ask GET /v2/ with the credential, as soon as that is known.
type witness struct {
	once   sync.Once
	answer *witnessed
	done   chan struct{} // closed by the first report
}

// witnessed is a 2xx answer to an authenticated manifest request.
type witnessed struct {
	method, path string
	status       int
}

// newWitness makes the witness of a host with manifest checks.
func newWitness() *witness { return &witness{done: make(chan struct{})} }

// report tells the first answer a manifest check got: a 2xx one, or nil
// when its first answer was not 2xx (or it sent nothing). Only the first
// report of all counts.
func (w *witness) report(a *witnessed) {
	if w == nil {
		return
	}
	w.once.Do(func() {
		w.answer = a
		close(w.done)
	})
}

// wait returns the first report's 2xx answer, or nil (also when ctx
// ended first).
func (w *witness) wait(ctx context.Context) *witnessed {
	if w == nil {
		return nil
	}
	select {
	case <-w.done:
		return w.answer
	case <-ctx.Done():
		return nil
	}
}

// witnesses are the witnesses of the hosts of one Checks call.
// byHost is filled by Checks before any check runs, then only read.
type witnesses struct {
	byHost map[string]*witness
}

// forHost returns host's witness; nil
// when the checks were not made together by Checks.
func (ws *witnesses) forHost(host string) *witness {
	if ws == nil {
		return nil
	}
	return ws.byHost[host]
}
