package gitlab

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
)

// One hung managers call times out on its own and the wait goes on.
func TestWaitContactAttemptTimeout(t *testing.T) {
	saved := contactAttemptTimeout
	contactAttemptTimeout = 50 * time.Millisecond
	t.Cleanup(func() { contactAttemptTimeout = saved })

	after := time.Now()
	fake := fakegitlab.New(t)
	var n atomic.Int32
	fake.Handle("GET /api/v4/runners/7/managers", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			<-r.Context().Done() // hangs until the client gives up
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[{"id":1,"system_id":"s_aaaaaaaaaaaa","contacted_at":"` +
			after.Add(time.Second).UTC().Format(time.RFC3339Nano) + `"}]`))
	})
	c, err := New(fake.URL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := c.WaitContact(ctx, "glpat-x", 7, "s_aaaaaaaaaaaa", after, 10*time.Millisecond)
	if err != nil || m.ID != 1 {
		t.Fatalf("WaitContact() = %+v, %v; want manager 1 after one timed-out call", m, err)
	}
	if got := n.Load(); got != 2 {
		t.Errorf("managers requests = %d, want 2", got)
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"429", &APIError{Kind: KindRateLimited}, true},
		{"5xx", &APIError{Kind: KindServer}, true},
		{"401", &APIError{Kind: KindAPITokenInvalid}, false},
		{"403", &APIError{Kind: KindAPIForbidden}, false},
		{"404", &APIError{Kind: KindRunnerNotFound}, false},
		{"not gitlab", &APIError{Kind: KindNotGitLab}, false},
		{"timeout", &NetError{Reason: ErrTimeout, Err: context.DeadlineExceeded}, true},
		{"refused", &NetError{Reason: ErrConnRefused, Err: errors.New("refused")}, true},
		{"reset", &NetError{Err: errors.New("connection reset by peer")}, true},
		{"unknown ca", &NetError{Reason: ErrTLSUnknownCA, Err: errors.New("x509")}, false},
		{"cross-host redirect", &NetError{Reason: ErrCrossHostRedirect, Err: ErrCrossHostRedirect}, false},
		{"other", errors.New("boom"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryable(tt.err); got != tt.want {
				t.Errorf("retryable() = %v, want %v", got, tt.want)
			}
		})
	}
}
