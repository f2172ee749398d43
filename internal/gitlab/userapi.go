package gitlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The calls below take a user's API token (personal, project or group
// access token) in the PRIVATE-TOKEN header, never in the URL; the token is
// scrubbed from every error. Callers check the destination first with
// CheckTokenDestination.

// Runner types of POST /user/runners.
const (
	InstanceType = "instance_type"
	GroupType    = "group_type"
	ProjectType  = "project_type"
)

// GitLab's access levels that may create runners: Maintainer (40) of a
// project, Owner (50) of a group.
const (
	MaintainerAccess = 40
	OwnerAccess      = 50
)

// CreateRunnerRequest is POST /api/v4/user/runners. Pointer and nil slice
// fields are not sent, so GitLab's defaults apply (locked false,
// run_untagged true, paused false).
type CreateRunnerRequest struct {
	RunnerType      string // InstanceType, GroupType or ProjectType
	GroupID         int64  // GroupType
	ProjectID       int64  // ProjectType
	Description     string
	MaintenanceNote string
	Tags            []string
	RunUntagged     *bool
	Locked          *bool
	Paused          *bool
	AccessLevel     string
	MaximumTimeout  *int
}

type createRunnerBody struct {
	RunnerType      string `json:"runner_type"`
	GroupID         int64  `json:"group_id,omitempty"`
	ProjectID       int64  `json:"project_id,omitempty"`
	Description     string `json:"description,omitempty"`
	MaintenanceNote string `json:"maintenance_note,omitempty"`
	TagList         string `json:"tag_list,omitempty"`
	RunUntagged     *bool  `json:"run_untagged,omitempty"`
	Locked          *bool  `json:"locked,omitempty"`
	Paused          *bool  `json:"paused,omitempty"`
	AccessLevel     string `json:"access_level,omitempty"`
	MaximumTimeout  *int   `json:"maximum_timeout,omitempty"`
}

// CreateRunner creates a runner owned by the token's user (POST
// /api/v4/user/runners, expecting 201) and returns its id and glrt- token.
// The token needs the create_runner (or api) scope; a project or group
// runner needs a Maintainer or Owner there, an instance runner an
// administrator. Errors: ErrAPITokenInvalid (401), ErrAPIScope (403, the
// token lacks the scope), ErrAPIForbidden (403, the role), ErrBadRequest
// (400, with GitLab's message).
func (c *Client) CreateRunner(ctx context.Context, apiToken string, req CreateRunnerRequest) (Runner, error) {
	body := createRunnerBody{
		RunnerType: req.RunnerType, Description: req.Description, MaintenanceNote: req.MaintenanceNote,
		TagList: strings.Join(req.Tags, ","), RunUntagged: req.RunUntagged, Locked: req.Locked, Paused: req.Paused,
		AccessLevel: req.AccessLevel, MaximumTimeout: req.MaximumTimeout,
	}
	switch req.RunnerType {
	case GroupType:
		body.GroupID = req.GroupID
	case ProjectType:
		body.ProjectID = req.ProjectID
	}
	r, endpoint, err := c.call(ctx, http.MethodPost, "user/runners", body, apiToken, opAPI, http.StatusCreated)
	if err != nil {
		if e := (*APIError)(nil); errors.As(err, &e) && e.Kind == KindAPIForbidden {
			e.Detail = createForbiddenDetail(req.RunnerType)
		}
		return Runner{}, err
	}
	run, err := decodeRunner(endpoint, r, apiToken)
	if err != nil {
		return Runner{}, err
	}
	if run.Token == "" || run.ID == 0 {
		return Runner{}, &APIError{Endpoint: endpoint, Status: r.status, Kind: KindUnexpected,
			Message: "response has no runner id or token"}
	}
	return run, nil
}

// createForbiddenDetail says which of GitLab's rules a role 403 broke.
func createForbiddenDetail(runnerType string) string {
	switch runnerType {
	case InstanceType:
		return "instance runners can only be created by an administrator"
	case GroupType:
		return "the token's user must be an Owner of the group (or a Maintainer where the group allows it)"
	default:
		return "the token's user must be a Maintainer or Owner of the project"
	}
}

// User is GET /api/v4/user (the token's user).
type User struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	State    string `json:"state,omitempty"`
	IsAdmin  bool   `json:"is_admin,omitempty"`
	WebURL   string `json:"web_url,omitempty"`
}

// getOne decodes the JSON object GET path answers.
func getOne[T any](ctx context.Context, c *Client, apiToken, path string) (T, error) {
	var v T
	err := c.getJSON(ctx, apiToken, path, nil, &v)
	return v, err
}

// CurrentUser asks who the token belongs to (GET /api/v4/user). It needs
// read_user, read_api or api; a create_runner-only token gets ErrAPIScope,
// so call TokenSelf first for its scopes.
func (c *Client) CurrentUser(ctx context.Context, apiToken string) (User, error) {
	return getOne[User](ctx, c, apiToken, "user")
}

// TokenInfo is GET /api/v4/personal_access_tokens/self: any token may read
// itself, whatever its scopes. Project and group access tokens are personal
// access tokens of a bot user, so they answer too.
type TokenInfo struct {
	ID        int64    `json:"id"`
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	Active    bool     `json:"active"`
	Revoked   bool     `json:"revoked"`
	UserID    int64    `json:"user_id"`
	ExpiresAt string   `json:"expires_at,omitempty"` // a date ("2026-12-31"), "" when it never expires
}

// HasScope reports whether the token has any of scopes.
func (t TokenInfo) HasScope(scopes ...string) bool {
	return slices.ContainsFunc(t.Scopes, func(have string) bool { return slices.Contains(scopes, have) })
}

// CanCreateRunners: the scopes POST /user/runners accepts.
func (t TokenInfo) CanCreateRunners() bool { return t.HasScope("create_runner", "api") }

// TokenSelf describes the token itself (GET
// /api/v4/personal_access_tokens/self): its scopes and expiry.
func (c *Client) TokenSelf(ctx context.Context, apiToken string) (TokenInfo, error) {
	return getOne[TokenInfo](ctx, c, apiToken, "personal_access_tokens/self")
}

// Project is what runnerup needs of GET /api/v4/projects/:id.
type Project struct {
	ID                int64  `json:"id"`
	Name              string `json:"name"`
	PathWithNamespace string `json:"path_with_namespace"`
	WebURL            string `json:"web_url,omitempty"`
}

// Group is what runnerup needs of GET /api/v4/groups/:id.
type Group struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	FullPath string `json:"full_path"`
	WebURL   string `json:"web_url,omitempty"`
}

// Project finds a project by numeric id or full path ("group/sub/app"),
// URL-encoded as GitLab wants it. ErrNotFound (404) covers both a project
// that does not exist and one the token's user cannot see.
func (c *Client) Project(ctx context.Context, apiToken, idOrPath string) (Project, error) {
	return getOne[Project](ctx, c, apiToken, "projects/"+encodeID(idOrPath))
}

// Group finds a group by numeric id or full path.
func (c *Client) Group(ctx context.Context, apiToken, idOrPath string) (Group, error) {
	return getOne[Group](ctx, c, apiToken, "groups/"+encodeID(idOrPath))
}

// encodeID escapes a path for :id ("group/app" → "group%2Fapp"); the
// client sends it as the raw path so the %2F survives.
func encodeID(idOrPath string) string {
	return url.PathEscape(strings.Trim(strings.TrimSpace(idOrPath), "/"))
}

// ListOptions page through a list endpoint.
type ListOptions struct {
	Search  string // GitLab's search parameter (name or path contains)
	Page    int    // 1-based; 0 means 1
	PerPage int    // 0 means 20, GitLab's default; at most 100
}

// ProjectPage is one page of projects; NextPage is 0 on the last page.
type ProjectPage struct {
	Projects []Project
	NextPage int
}

// GroupPage is one page of groups; NextPage is 0 on the last page.
type GroupPage struct {
	Groups   []Group
	NextPage int
}

// CreatableProjects lists projects where the token's user can create
// runners: GET /api/v4/projects?membership=true&min_access_level=40,
// ordered by path, for a picker that searches as the user types.
func (c *Client) CreatableProjects(ctx context.Context, apiToken string, opts ListOptions) (ProjectPage, error) {
	q := listQuery(opts)
	q.Set("membership", "true")
	q.Set("min_access_level", strconv.Itoa(MaintainerAccess))
	q.Set("order_by", "path")
	q.Set("sort", "asc")
	q.Set("simple", "true")
	var page ProjectPage
	next, err := c.getList(ctx, apiToken, "projects", q, &page.Projects)
	page.NextPage = next
	return page, err
}

// CreatableGroups lists groups where the token's user can create runners,
// which needs Owner: GET /api/v4/groups?min_access_level=50.
func (c *Client) CreatableGroups(ctx context.Context, apiToken string, opts ListOptions) (GroupPage, error) {
	q := listQuery(opts)
	q.Set("min_access_level", strconv.Itoa(OwnerAccess))
	q.Set("order_by", "path")
	q.Set("sort", "asc")
	var page GroupPage
	next, err := c.getList(ctx, apiToken, "groups", q, &page.Groups)
	page.NextPage = next
	return page, err
}

func listQuery(opts ListOptions) url.Values {
	q := url.Values{}
	if opts.Search != "" {
		q.Set("search", opts.Search)
	}
	page := max(opts.Page, 1)
	q.Set("page", strconv.Itoa(page))
	per := opts.PerPage
	switch {
	case per <= 0:
		per = 20
	case per > 100:
		per = 100
	}
	q.Set("per_page", strconv.Itoa(per))
	return q
}

// RunnerSettings are the server-side settings of a runner that PUT
// /api/v4/runners/:id changes.
type RunnerSettings struct {
	Description     string   `json:"description"`
	Paused          bool     `json:"paused"`
	Tags            []string `json:"tag_list"`
	RunUntagged     bool     `json:"run_untagged"`
	Locked          bool     `json:"locked"`
	AccessLevel     string   `json:"access_level"`
	MaximumTimeout  int      `json:"maximum_timeout"` // seconds; 0 when GitLab says null (none)
	MaintenanceNote string   `json:"maintenance_note"`
}

// RunnerDetails is GET /api/v4/runners/:id.
type RunnerDetails struct {
	ID         int64  `json:"id"`
	RunnerType string `json:"runner_type"`
	RunnerSettings
}

type runnerDetailsJSON struct {
	ID              int64    `json:"id"`
	RunnerType      string   `json:"runner_type"`
	Description     *string  `json:"description"`
	Paused          *bool    `json:"paused"`
	Active          *bool    `json:"active"`
	Tags            []string `json:"tag_list"`
	RunUntagged     bool     `json:"run_untagged"`
	Locked          bool     `json:"locked"`
	AccessLevel     string   `json:"access_level"`
	MaximumTimeout  *int     `json:"maximum_timeout"`
	MaintenanceNote *string  `json:"maintenance_note"`
}

func (j runnerDetailsJSON) details() RunnerDetails {
	d := RunnerDetails{ID: j.ID, RunnerType: j.RunnerType}
	d.Tags, d.RunUntagged, d.Locked, d.AccessLevel = j.Tags, j.RunUntagged, j.Locked, j.AccessLevel
	if j.Description != nil {
		d.Description = *j.Description
	}
	switch {
	case j.Paused != nil:
		d.Paused = *j.Paused
	case j.Active != nil: // GitLab before 14.8 says active, not paused
		d.Paused = !*j.Active
	}
	if j.MaximumTimeout != nil {
		d.MaximumTimeout = *j.MaximumTimeout
	}
	if j.MaintenanceNote != nil {
		d.MaintenanceNote = *j.MaintenanceNote
	}
	if d.Tags == nil {
		d.Tags = []string{}
	}
	return d
}

// RunnerDetails reads a runner's server-side settings (GET
// /api/v4/runners/:id). It needs a token whose user may manage the runner
// (Maintainer/Owner of its project or group, or admin) with api, read_api
// or manage_runner. Errors: ErrAPITokenInvalid, ErrAPIScope,
// ErrAPIForbidden, ErrRunnerNotFound.
func (c *Client) RunnerDetails(ctx context.Context, apiToken string, id int64) (RunnerDetails, error) {
	var j runnerDetailsJSON
	if err := c.getJSON(ctx, apiToken, runnerPath(id), nil, &j); err != nil {
		return RunnerDetails{}, err
	}
	return j.details(), nil
}

// RunnerUpdate is PUT /api/v4/runners/:id: nil fields are not sent.
type RunnerUpdate struct {
	Description     *string
	Paused          *bool
	Tags            []string // nil: not sent; empty: remove every tag
	RunUntagged     *bool
	Locked          *bool
	AccessLevel     *string
	MaximumTimeout  *int
	MaintenanceNote *string
}

// Empty reports whether the update changes nothing.
func (u RunnerUpdate) Empty() bool {
	return u.Description == nil && u.Paused == nil && u.Tags == nil && u.RunUntagged == nil && u.Locked == nil &&
		u.AccessLevel == nil && u.MaximumTimeout == nil && u.MaintenanceNote == nil
}

type runnerUpdateBody struct {
	Description     *string `json:"description,omitempty"`
	Paused          *bool   `json:"paused,omitempty"`
	TagList         *string `json:"tag_list,omitempty"`
	RunUntagged     *bool   `json:"run_untagged,omitempty"`
	Locked          *bool   `json:"locked,omitempty"`
	AccessLevel     *string `json:"access_level,omitempty"`
	MaximumTimeout  *int    `json:"maximum_timeout,omitempty"`
	MaintenanceNote *string `json:"maintenance_note,omitempty"`
}

// UpdateRunner changes a runner's server-side settings (PUT
// /api/v4/runners/:id, expecting 200) and returns them as GitLab now has
// them. Same token needs as RunnerDetails, without read_api.
func (c *Client) UpdateRunner(ctx context.Context, apiToken string, id int64, u RunnerUpdate) (RunnerDetails, error) {
	body := runnerUpdateBody{Description: u.Description, Paused: u.Paused, RunUntagged: u.RunUntagged, Locked: u.Locked,
		AccessLevel: u.AccessLevel, MaximumTimeout: u.MaximumTimeout, MaintenanceNote: u.MaintenanceNote}
	if u.Tags != nil {
		tags := strings.Join(u.Tags, ",")
		body.TagList = &tags
	}
	r, endpoint, err := c.call(ctx, http.MethodPut, runnerPath(id), body, apiToken, opRunner, http.StatusOK)
	if err != nil {
		return RunnerDetails{}, err
	}
	var j runnerDetailsJSON
	if err := decodeJSON(endpoint, r, apiToken, &j); err != nil {
		return RunnerDetails{}, err
	}
	return j.details(), nil
}

// DeleteRunner deletes a runner (DELETE /api/v4/runners/:id, expecting 204).
func (c *Client) DeleteRunner(ctx context.Context, apiToken string, id int64) error {
	_, _, err := c.call(ctx, http.MethodDelete, runnerPath(id), nil, apiToken, opRunner, http.StatusNoContent, http.StatusOK)
	return err
}

// call sends one request with the API token and turns a status outside ok
// into the endpoint's APIError; endpoint ("PUT /api/v4/runners/7") names
// the request in later errors.
func (c *Client) call(ctx context.Context, method, path string, body any, apiToken, op string, ok ...int) (r *response, endpoint string, err error) {
	endpoint = method + " /api/v4/" + path
	r, err = c.sendHeader(ctx, method, path, body, apiToken, tokenHeader(apiToken))
	if err != nil {
		return nil, endpoint, err
	}
	if !slices.Contains(ok, r.status) {
		return nil, endpoint, apiError(endpoint, op, r, apiToken)
	}
	return r, endpoint, nil
}

// runnerPath is /runners/:id below /api/v4.
func runnerPath(id int64) string { return "runners/" + strconv.FormatInt(id, 10) }

func tokenHeader(apiToken string) http.Header {
	if apiToken == "" {
		return nil
	}
	return http.Header{"Private-Token": {apiToken}}
}

// getJSON is a GET expecting 200 and a JSON body.
func (c *Client) getJSON(ctx context.Context, apiToken, path string, q url.Values, out any) error {
	_, err := c.get(ctx, apiToken, path, q, out)
	return err
}

// getList is getJSON for a list, returning GitLab's X-Next-Page.
func (c *Client) getList(ctx context.Context, apiToken, path string, q url.Values, out any) (int, error) {
	r, err := c.get(ctx, apiToken, path, q, out)
	if err != nil {
		return 0, err
	}
	next, _ := strconv.Atoi(strings.TrimSpace(r.header.Get("X-Next-Page")))
	return next, nil
}

func (c *Client) get(ctx context.Context, apiToken, path string, q url.Values, out any) (*response, error) {
	endpoint := http.MethodGet + " /api/v4/" + path
	if i := strings.IndexByte(endpoint, '%'); i >= 0 {
		endpoint, _ = url.PathUnescape(endpoint)
	}
	full := path
	if len(q) > 0 {
		full += "?" + q.Encode()
	}
	r, err := c.sendHeader(ctx, http.MethodGet, full, nil, apiToken, tokenHeader(apiToken))
	if err != nil {
		return nil, err
	}
	op := opAPI
	if strings.HasPrefix(path, "runners/") {
		op = opRunner
	}
	if r.status != http.StatusOK {
		return nil, apiError(endpoint, op, r, apiToken)
	}
	return r, decodeJSON(endpoint, r, apiToken, out)
}

// decodeJSON decodes a 2xx JSON body; anything else is ErrNotGitLab.
func decodeJSON(endpoint string, r *response, secret string, out any) error {
	if !isJSON(r.contentType) {
		return notGitLab(endpoint, r, serverMessage(r))
	}
	if err := json.Unmarshal(r.body, out); err != nil {
		var syn *json.SyntaxError
		msg := "invalid json response"
		switch {
		case len(r.body) >= maxBody:
			msg = fmt.Sprintf("response is larger than the %d KiB limit", maxBody>>10)
		case !errors.As(err, &syn):
			msg = scrub("unexpected json: "+err.Error(), secret)
		}
		return notGitLab(endpoint, r, msg)
	}
	return nil
}
