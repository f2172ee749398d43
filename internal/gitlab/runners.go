package gitlab

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"time"
)

// Runner is what GitLab returns for a verified or newly registered runner
// (Entities::Ci::RunnerRegistrationDetails).
type Runner struct {
	ID             int64
	Token          string
	TokenExpiresAt time.Time // zero when GitLab sent null: the token does not expire
}

// RegisterRequest is the legacy registration (POST /api/v4/runners) body.
type RegisterRequest struct {
	Token           string // the registration token
	Description     string
	MaintenanceNote string
	Tags            []string
	RunUntagged     bool
	Locked          bool
	Paused          bool
	AccessLevel     string // "", "not_protected" or "ref_protected"
	MaximumTimeout  int    // seconds; 0 means none
	// SystemID is not sent: POST /api/v4/runners takes no system_id (GitLab
	// Rails lib/api/ci/runner.rb; the runner's RegisterRunnerRequest has no
	// such field). The manager appears when the runner first asks for jobs.
	SystemID string
}

// verifyRequest mirrors the runner's common.VerifyRunnerRequest exactly:
// the runner sends no "info" on verify and the endpoint declares none.
type verifyRequest struct {
	Token    string `json:"token"`
	SystemID string `json:"system_id,omitempty"`
}

// registerRequest mirrors the runner's common.RegisterRunnerRequest: the
// three booleans are always sent, tags go as one comma-separated string.
type registerRequest struct {
	Token           string     `json:"token"`
	Description     string     `json:"description,omitempty"`
	MaintenanceNote string     `json:"maintenance_note,omitempty"`
	TagList         string     `json:"tag_list,omitempty"`
	RunUntagged     bool       `json:"run_untagged"`
	Locked          bool       `json:"locked"`
	AccessLevel     string     `json:"access_level,omitempty"`
	MaximumTimeout  int        `json:"maximum_timeout,omitempty"`
	Paused          bool       `json:"paused"`
	Info            runnerInfo `json:"info"`
}

// runnerInfo: GitLab stores info.name as the runner's name at registration;
// the runner sends "gitlab-runner", so runnerup does too.
type runnerInfo struct {
	Name         string `json:"name,omitempty"`
	Platform     string `json:"platform,omitempty"`
	Architecture string `json:"architecture,omitempty"`
}

type runnerResponse struct {
	ID             int64      `json:"id"`
	Token          string     `json:"token"`
	TokenExpiresAt *time.Time `json:"token_expires_at"`
}

// Verify checks a runner authentication token (POST /api/v4/runners/verify,
// expecting 200). GitLab records a runner manager for systemID, so pass the
// host's real system id (package systemid), not a made-up one.
func (c *Client) Verify(ctx context.Context, token, systemID string) (Runner, error) {
	const path = "runners/verify"
	endpoint := http.MethodPost + " /api/v4/" + path
	r, err := c.send(ctx, http.MethodPost, path, verifyRequest{Token: token, SystemID: systemID}, token)
	if err != nil {
		return Runner{}, err
	}
	if r.status != http.StatusOK {
		return Runner{}, apiError(endpoint, opVerify, r, token)
	}
	return decodeRunner(endpoint, r, token)
}

// Register creates a runner with a legacy registration token (POST
// /api/v4/runners, expecting 201). Only apply calls it; probes never do.
func (c *Client) Register(ctx context.Context, req RegisterRequest) (Runner, error) {
	const path = "runners"
	endpoint := http.MethodPost + " /api/v4/" + path
	body := registerRequest{
		Token:           req.Token,
		Description:     req.Description,
		MaintenanceNote: req.MaintenanceNote,
		TagList:         strings.Join(req.Tags, ","),
		RunUntagged:     req.RunUntagged,
		Locked:          req.Locked,
		AccessLevel:     req.AccessLevel,
		MaximumTimeout:  req.MaximumTimeout,
		Paused:          req.Paused,
		Info:            runnerInfo{Name: "gitlab-runner", Platform: runtime.GOOS, Architecture: runtime.GOARCH},
	}
	r, err := c.send(ctx, http.MethodPost, path, body, req.Token)
	if err != nil {
		return Runner{}, err
	}
	if r.status != http.StatusCreated {
		return Runner{}, apiError(endpoint, opRegister, r, req.Token)
	}
	run, err := decodeRunner(endpoint, r, req.Token)
	if err != nil {
		return Runner{}, err
	}
	if run.Token == "" {
		return Runner{}, &APIError{Endpoint: endpoint, Status: r.status, Kind: KindUnexpected,
			Message: "response has no runner token"}
	}
	return run, nil
}

// Unregister deletes the runner a registration token made, by its own
// authentication token (DELETE /api/v4/runners with {token}, expecting
// 204): what gitlab-runner register does when it cannot finish
// (docs/gitlab-runner.md §3.3; it deletes the whole runner).
func (c *Client) Unregister(ctx context.Context, token string) error {
	const path = "runners"
	endpoint := http.MethodDelete + " /api/v4/" + path
	r, err := c.send(ctx, http.MethodDelete, path, verifyRequest{Token: token}, token)
	if err != nil {
		return err
	}
	if r.status != http.StatusNoContent {
		return apiError(endpoint, opVerify, r, token)
	}
	return nil
}

// Version asks GET /api/v4/version. It needs a personal access token on
// most instances, so 401 counts as "a GitLab API answered" (reachable, no
// version). Any other status or a non-JSON body is an error.
func (c *Client) Version(ctx context.Context) (reachable bool, version string, err error) {
	const path = "version"
	endpoint := http.MethodGet + " /api/v4/" + path
	r, err := c.send(ctx, http.MethodGet, path, nil, "")
	if err != nil {
		return false, "", err
	}
	switch r.status {
	case http.StatusUnauthorized:
		if !isJSON(r.contentType) {
			return false, "", notGitLab(endpoint, r, serverMessage(r))
		}
		return true, "", nil
	case http.StatusOK:
		if !isJSON(r.contentType) {
			return false, "", notGitLab(endpoint, r, serverMessage(r))
		}
		var v struct {
			Version string `json:"version"`
		}
		if err := json.Unmarshal(r.body, &v); err != nil || v.Version == "" {
			return false, "", notGitLab(endpoint, r, "response has no version")
		}
		return true, v.Version, nil
	default:
		return false, "", apiError(endpoint, opVersion, r, "")
	}
}

func decodeRunner(endpoint string, r *response, secret string) (Runner, error) {
	if !isJSON(r.contentType) {
		return Runner{}, notGitLab(endpoint, r, serverMessage(r))
	}
	var rr runnerResponse
	if err := json.Unmarshal(r.body, &rr); err != nil {
		var syn *json.SyntaxError
		msg := "invalid json response"
		if !errors.As(err, &syn) {
			// A type mismatch names the field, never the value.
			msg = scrub("unexpected json: "+err.Error(), secret)
		}
		return Runner{}, notGitLab(endpoint, r, msg)
	}
	run := Runner{ID: rr.ID, Token: rr.Token}
	if rr.TokenExpiresAt != nil {
		run.TokenExpiresAt = *rr.TokenExpiresAt
	}
	return run, nil
}
