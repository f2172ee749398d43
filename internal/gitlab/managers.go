package gitlab

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Manager is one runner manager (Entities::Ci::RunnerManager): a host, keyed
// by its system id, that uses the runner's authentication token.
type Manager struct {
	ID           int64      `json:"id"`
	SystemID     string     `json:"system_id"`
	Version      string     `json:"version,omitempty"`
	Revision     string     `json:"revision,omitempty"`
	Platform     string     `json:"platform,omitempty"`
	Architecture string     `json:"architecture,omitempty"`
	IPAddress    string     `json:"ip_address,omitempty"`
	CreatedAt    *time.Time `json:"created_at,omitempty"`
	ContactedAt  *time.Time `json:"contacted_at,omitempty"` // nil: never contacted
	Status       string     `json:"status,omitempty"`       // online, offline, never_contacted, stale
}

// DefaultContactPoll is WaitContact's poll interval when it is given 0.
const DefaultContactPoll = 2 * time.Second

// contactAttemptTimeout bounds one Managers call inside WaitContact, so one
// hung request does not use up the whole wait.
var contactAttemptTimeout = 15 * time.Second

// Managers lists a runner's managers (GET /api/v4/runners/:id/managers,
// expecting 200). apiToken is a personal, project or group access token with
// read_api whose user can see the runner; it goes in the PRIVATE-TOKEN header
// and is scrubbed from every error.
//
// Errors: ErrAPITokenInvalid (401), ErrAPIForbidden (403), ErrRunnerNotFound
// (404), and the statuses every endpoint shares (ErrRateLimited, ErrServer,
// ErrNotGitLab, …).
func (c *Client) Managers(ctx context.Context, apiToken string, runnerID int64) ([]Manager, error) {
	var ms []Manager
	// A type mismatch names the field, never the value.
	if err := c.getJSON(ctx, apiToken, runnerPath(runnerID)+"/managers", nil, &ms); err != nil {
		return nil, err
	}
	if ms == nil {
		ms = []Manager{} // "null" is not GitLab's answer, but it means none
	}
	return ms, nil
}

// WaitContact polls Managers every poll (DefaultContactPoll when 0) until the
// manager with systemID reports a ContactedAt strictly after after, and
// returns it. That proves the runner service itself reached GitLab after
// runnerup's own last heartbeat (verify heartbeats too), so the caller sets
// after to the moment config.toml was written.
//
// ContactedAt is GitLab's clock and after is the caller's: a GitLab clock
// running behind this host's delays the proof by the skew (the runner polls
// every few seconds, so it comes once GitLab's clock passes after), one
// running ahead can make a heartbeat from before the write count.
//
// ctx bounds the whole wait. When it ends, WaitContact returns the manager it
// last saw (zero if none) and an error wrapping ctx.Err() (normally
// context.DeadlineExceeded) that says what it last saw. 429, 5xx and failed
// or timed-out calls are retried at the next poll (429/503 wait at least
// Retry-After); any other answer, such as ErrAPITokenInvalid,
// ErrAPIForbidden or ErrRunnerNotFound, ends the wait at once.
func (c *Client) WaitContact(ctx context.Context, apiToken string, runnerID int64, systemID string, after time.Time,
	poll time.Duration) (Manager, error) {
	if systemID == "" {
		return Manager{}, fmt.Errorf("waiting for runner %d to contact gitlab: no system id given", runnerID)
	}
	if poll <= 0 {
		poll = DefaultContactPoll
	}
	var (
		last    Manager  // the manager with systemID, as last seen
		seen    bool     // last is set
		listed  []string // system ids of the last successful listing
		answers int      // successful listings
		lastErr error    // the last retried error, nil after a success
	)
	for {
		actx, cancel := context.WithTimeout(ctx, contactAttemptTimeout)
		ms, err := c.Managers(actx, apiToken, runnerID)
		cancel()
		wait := poll
		switch {
		case err == nil:
			answers++
			lastErr = nil
			listed = listed[:0]
			for _, m := range ms {
				listed = append(listed, m.SystemID)
				if m.SystemID != systemID {
					continue
				}
				last, seen = m, true
				if m.ContactedAt != nil && m.ContactedAt.After(after) {
					return m, nil
				}
			}
		case ctx.Err() != nil:
			// The wait ended during this call; report what came before.
		case retryable(err):
			lastErr = err
			var ae *APIError
			if errors.As(err, &ae) && ae.RetryAfter > wait {
				wait = ae.RetryAfter
			}
		default:
			return last, fmt.Errorf("waiting for runner %d (system id %s) to contact gitlab: %w", runnerID, systemID, err)
		}
		if ctx.Err() == nil {
			timer := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				timer.Stop()
			case <-timer.C:
				continue
			}
		}
		detail := contactDetail(systemID, after, last, seen, listed, answers, lastErr)
		return last, fmt.Errorf("waiting for runner %d to contact gitlab: %s: %w", runnerID, detail, ctx.Err())
	}
}

// retryable: worth asking again at the next poll. Certificate and redirect
// problems do not go away by themselves; refused connections, resets and
// timeouts of one call do (GitLab restarting, a proxy hiccup).
func retryable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Kind == KindRateLimited || ae.Kind == KindServer
	}
	var ne *NetError
	if errors.As(err, &ne) {
		return !errors.Is(ne.Reason, ErrTLS) && ne.Reason != ErrCrossHostRedirect && ne.Reason != ErrPostRedirect
	}
	return false
}

// timeFormat is GitLab's own (milliseconds, UTC): contacts within the same
// second stay distinguishable.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// maxListed caps the other system ids named in a timeout message.
const maxListed = 5

func contactDetail(systemID string, after time.Time, last Manager, seen bool, listed []string, answers int,
	lastErr error) string {
	var s string
	switch {
	case seen && last.ContactedAt != nil:
		s = fmt.Sprintf("runner manager %s last contacted gitlab at %s, before config.toml was written at %s",
			systemID, last.ContactedAt.UTC().Format(timeFormat), after.UTC().Format(timeFormat))
	case seen:
		s = fmt.Sprintf("runner manager %s is listed but has never contacted gitlab", systemID)
	case answers > 0:
		s = fmt.Sprintf("gitlab lists no runner manager with system id %s "+
			"(the runner service has not picked up config.toml yet, or is not running)", systemID)
		if len(listed) > 0 {
			others := listed
			if len(others) > maxListed {
				others = others[:maxListed]
			}
			s += "; it lists " + strings.Join(others, ", ")
			if n := len(listed) - len(others); n > 0 {
				s += fmt.Sprintf(" and %d more", n)
			}
		}
	default:
		s = fmt.Sprintf("gitlab never listed the runner managers, so runner manager %s was never seen", systemID)
	}
	if lastErr != nil {
		s += fmt.Sprintf(" (the last attempt failed: %v)", lastErr)
	}
	return s
}
