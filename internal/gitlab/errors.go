package gitlab

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Kind classifies an answer GitLab gave with an unexpected status.
type Kind string

// Kinds of APIError; each matches one sentinel with errors.Is.
const (
	KindTokenInvalid         Kind = "token_invalid"
	KindRegistrationDisabled Kind = "registration_disabled"
	KindOrphaned             Kind = "orphaned"
	KindBadRequest           Kind = "bad_request"
	KindRateLimited          Kind = "rate_limited"
	KindServer               Kind = "server_error"
	KindNotGitLab            Kind = "not_gitlab"
	KindUnexpected           Kind = "unexpected"
	// The API-token endpoints (GET /api/v4/runners/:id/managers).
	KindAPITokenInvalid Kind = "api_token_invalid"
	KindAPIForbidden    Kind = "api_forbidden"
	KindRunnerNotFound  Kind = "runner_not_found"
	// The API-token endpoints of runner creation (POST /user/runners,
	// GET /user, /projects/:id, /groups/:id, /runners/:id, …).
	KindAPIScope Kind = "api_scope"
	KindNotFound Kind = "not_found"
)

// Sentinels for errors.Is against an *APIError.
var (
	ErrTokenInvalid         = errors.New("token is invalid or its runner was deleted")
	ErrRegistrationDisabled = errors.New("registration with registration tokens is disabled on this gitlab")
	ErrOrphaned             = errors.New("runner is orphaned (its project or group is gone)")
	ErrBadRequest           = errors.New("gitlab rejected the request")
	ErrRateLimited          = errors.New("gitlab is rate limiting (or migrating); retry later")
	ErrServer               = errors.New("gitlab server error")
	ErrNotGitLab            = errors.New("not a gitlab api answer")
	ErrUnexpected           = errors.New("unexpected answer from gitlab")

	ErrAPITokenInvalid = errors.New("the API token was rejected (401): it is expired, revoked or wrong")
	ErrAPIForbidden    = errors.New("the API token's user may not do this (403)")
	ErrRunnerNotFound  = errors.New("gitlab has no runner with this id (404)")
	// ErrAPIScope also matches ErrAPIForbidden: both are a 403.
	ErrAPIScope = errors.New("the API token lacks the scope this needs (403 insufficient_scope)")
	ErrNotFound = errors.New("not found, or not visible to the API token's user (404)")
)

func (k Kind) sentinel() error {
	switch k {
	case KindTokenInvalid:
		return ErrTokenInvalid
	case KindRegistrationDisabled:
		return ErrRegistrationDisabled
	case KindOrphaned:
		return ErrOrphaned
	case KindBadRequest:
		return ErrBadRequest
	case KindRateLimited:
		return ErrRateLimited
	case KindServer:
		return ErrServer
	case KindNotGitLab:
		return ErrNotGitLab
	case KindAPITokenInvalid:
		return ErrAPITokenInvalid
	case KindAPIForbidden:
		return ErrAPIForbidden
	case KindRunnerNotFound:
		return ErrRunnerNotFound
	case KindAPIScope:
		return ErrAPIScope
	case KindNotFound:
		return ErrNotFound
	default:
		return ErrUnexpected
	}
}

// APIError is an HTTP answer from the server that is not the expected one.
type APIError struct {
	Endpoint string // "POST /api/v4/runners/verify"
	Status   int
	Kind     Kind
	// Message is what the server said ({"message"} or {"error"}), or a note
	// about a non-JSON body. It never contains the token.
	Message string
	// RetryAfter is the server's Retry-After, when it sent one (429, 503).
	RetryAfter time.Duration
	// Scope is the scope GitLab asked for on a 403 insufficient_scope.
	Scope string
	// Detail is runnerup's explanation of which rule applies, when the
	// endpoint tells (e.g. who may create an instance runner).
	Detail string
}

var _ error = (*APIError)(nil)

func (e *APIError) Error() string {
	s := fmt.Sprintf("%s: http %d: %s", e.Endpoint, e.Status, e.Kind.sentinel())
	if e.Message != "" {
		s += fmt.Sprintf(": server says %q", e.Message)
	}
	if e.Scope != "" {
		s += fmt.Sprintf(" (it needs the %s scope)", strings.ReplaceAll(e.Scope, " ", " or "))
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

// Is makes errors.Is(err, ErrTokenInvalid) and friends work.
func (e *APIError) Is(target error) bool {
	return target == e.Kind.sentinel() || e.Kind == KindAPIScope && target == ErrAPIForbidden
}

// Operations, for the statuses whose meaning depends on the endpoint.
const (
	opVerify   = "verify"
	opRegister = "register"
	opVersion  = "version"
	// opAPI: the API-token endpoints (user, projects, groups, user/runners).
	opAPI = "api"
	// opRunner: GET/PUT/DELETE /runners/:id and GET /runners/:id/managers.
	opRunner = "runner"
)

func classify(op string, status int) Kind {
	apiOp := op == opAPI || op == opRunner
	switch {
	case apiOp && status == http.StatusUnauthorized:
		return KindAPITokenInvalid
	case apiOp && status == http.StatusForbidden:
		return KindAPIForbidden
	case op == opRunner && status == http.StatusNotFound:
		// not_found!('Runner'); a non-JSON 404 is turned into KindNotGitLab
		// by apiError.
		return KindRunnerNotFound
	case op == opAPI && status == http.StatusNotFound:
		return KindNotFound
	case status == http.StatusBadRequest:
		return KindBadRequest
	case status == http.StatusForbidden && op != opVersion:
		return KindTokenInvalid
	case status == http.StatusNotFound:
		// Every supported GitLab has these routes: a 404 means the URL does
		// not lead to a GitLab API (wrong host or sub-path).
		return KindNotGitLab
	case status == http.StatusGone && op == opRegister:
		return KindRegistrationDisabled
	case status == http.StatusUnprocessableEntity && op == opVerify:
		return KindOrphaned
	case status == http.StatusTooManyRequests:
		return KindRateLimited
	case status >= 500:
		return KindServer
	default:
		return KindUnexpected
	}
}

// apiError builds the error for an answer whose status was not the expected one.
func apiError(endpoint, op string, r *response, secret string) *APIError {
	e := &APIError{
		Endpoint: endpoint,
		Status:   r.status,
		Kind:     classify(op, r.status),
		Message:  scrub(serverMessage(r), secret),
	}
	if e.Kind == KindAPIForbidden && isJSON(r.contentType) {
		// APIGuard's answer for a token without the scope:
		// {"error":"insufficient_scope", "scope":"api create_runner", …}.
		var body struct {
			Error string `json:"error"`
			Scope string `json:"scope"`
		}
		if json.Unmarshal(r.body, &body) == nil && body.Error == "insufficient_scope" {
			e.Kind, e.Scope = KindAPIScope, body.Scope
		}
	}
	if (e.Kind == KindRunnerNotFound || e.Kind == KindNotFound || e.Kind == KindAPITokenInvalid || e.Kind == KindAPIForbidden || op == opVerify && (e.Kind == KindTokenInvalid || e.Kind == KindOrphaned)) && !isJSON(r.contentType) {
		// GitLab's API answers these in JSON; an HTML 404 is the wrong host
		// or sub-path, an HTML 403 a proxy or firewall, not GitLab saying
		// the token is gone (which would make an entry look stale).
		e.Kind = KindNotGitLab
	}
	if e.Kind == KindRateLimited || r.status == http.StatusServiceUnavailable {
		e.RetryAfter = retryAfter(r.header.Get("Retry-After"), time.Now())
	}
	return e
}

// notGitLab is the error for an expected status whose body is not the JSON
// GitLab sends (an HTML login page, a proxy's splash page, …).
func notGitLab(endpoint string, r *response, detail string) *APIError {
	return &APIError{Endpoint: endpoint, Status: r.status, Kind: KindNotGitLab, Message: detail}
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// serverMessage extracts GitLab's error text: {"message": "..."} from
// render_api_error!, {"error": "..."} from Grape validation, or an object of
// field errors from render_validation_error!.
func serverMessage(r *response) string {
	if !isJSON(r.contentType) {
		if len(r.body) == 0 {
			return ""
		}
		ct := r.contentType
		if ct == "" {
			ct = "no content type"
		}
		return "non-json response (" + ct + ")"
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &m); err != nil {
		return "invalid json response"
	}
	for _, k := range []string{"message", "error"} {
		raw, ok := m[k]
		if !ok {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			// OAuth-style errors explain themselves in error_description
			// ("invalid_token" / "Token has expired.").
			var desc string
			if d, ok := m["error_description"]; ok && json.Unmarshal(d, &desc) == nil && desc != "" {
				s += ": " + desc
			}
			return s
		}
		// render_validation_error!: {"message": {"field": ["problem", …]}}.
		var fields map[string][]string
		if json.Unmarshal(raw, &fields) == nil && len(fields) > 0 {
			var parts []string
			for _, f := range slices.Sorted(maps.Keys(fields)) {
				parts = append(parts, f+" "+strings.Join(fields[f], ", "))
			}
			return strings.Join(parts, "; ")
		}
		return string(raw)
	}
	return ""
}

const maxMessage = 300

// scrub removes the token from server-provided text and keeps it short and
// on one line.
func scrub(s, secret string) string {
	if secret != "" {
		s = strings.ReplaceAll(s, secret, "[REDACTED]")
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxMessage {
		s = s[:maxMessage] + "…"
	}
	return strings.TrimSpace(s)
}

// retryAfter parses delay-seconds or an HTTP date (RFC 9110 §10.2.3).
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}
