package fakegitlab

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The API-token side of the fake: users, their tokens with scopes, projects
// and groups with members, and the endpoints that create and manage
// runners with a user's token. Statuses and bodies follow GitLab Rails:
// lib/api/user_runners.rb (POST /user/runners), lib/api/ci/runners.rb
// (GET/PUT/DELETE /runners/:id), lib/api/users.rb (GET /user),
// lib/api/personal_access_tokens/self_information.rb, lib/api/projects.rb,
// lib/api/groups.rb, and APIGuard's insufficient_scope answer.

// Access levels (Gitlab::Access).
const (
	Guest      = 10
	Reporter   = 20
	Developer  = 30
	Maintainer = 40
	Owner      = 50
)

// User is a GitLab user of the fake.
type User struct {
	ID       int64
	Username string
	Admin    bool
}

// Project is a project of the fake; members of its parent groups are
// members of it too, as in GitLab.
type Project struct {
	ID      int64
	Path    string // full path, "group/sub/app"
	members map[int64]int
}

// Group is a group of the fake.
type Group struct {
	ID      int64
	Path    string // full path, "group/sub"
	members map[int64]int
}

// RunnerSettings are a runner's server-side settings.
type RunnerSettings struct {
	Description     string
	Tags            []string
	RunUntagged     bool
	Locked          bool
	Paused          bool
	AccessLevel     string
	MaximumTimeout  int // 0: none
	MaintenanceNote string
}

// CreatedRunner is a runner created with POST /user/runners, as the fake
// keeps it.
type CreatedRunner struct {
	ID         int64
	Token      string
	RunnerType string
	ProjectID  int64
	GroupID    int64
	Settings   RunnerSettings
	Deleted    bool
}

type apiToken struct {
	user     *User
	scopes   []string
	name     string
	expired  bool
	revoked  bool
	expiresD string // "2026-12-31" or ""
}

// AddUser adds a user and returns its id.
func (s *Server) AddUser(username string, admin bool) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addUserLocked(username, admin).ID
}

func (s *Server) addUserLocked(username string, admin bool) *User {
	u := &User{ID: int64(len(s.users) + 1), Username: username, Admin: admin}
	s.users = append(s.users, u)
	return u
}

func (s *Server) userLocked(username string) *User {
	for _, u := range s.users {
		if u.Username == username {
			return u
		}
	}
	return nil
}

// AddUserToken makes token an access token of username (created if
// missing) with the given scopes ("api", "create_runner", "read_api", …).
func (s *Server) AddUserToken(token, username string, scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(username)
	if u == nil {
		u = s.addUserLocked(username, false)
	}
	s.apiTokens[token] = &apiToken{user: u, scopes: slices.Clone(scopes), name: "runnerup-test"}
}

// ExpireToken makes an API token expired; GitLab then answers 401
// invalid_token "Token has expired.".
func (s *Server) ExpireToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.apiTokens[token]; t != nil {
		t.expired = true
	}
}

// AddProject adds a project by full path and returns its id.
func (s *Server) AddProject(path string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &Project{ID: int64(100 + len(s.projects) + 1), Path: path, members: map[int64]int{}}
	s.projects = append(s.projects, p)
	return p.ID
}

// AddGroup adds a group by full path and returns its id.
func (s *Server) AddGroup(path string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := &Group{ID: int64(10 + len(s.groups) + 1), Path: path, members: map[int64]int{}}
	s.groups = append(s.groups, g)
	return g.ID
}

// SetMember gives username (created if missing) an access level in the
// project or group at path.
func (s *Server) SetMember(username, path string, level int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(username)
	if u == nil {
		u = s.addUserLocked(username, false)
	}
	for _, p := range s.projects {
		if p.Path == path {
			p.members[u.ID] = level
			return
		}
	}
	for _, g := range s.groups {
		if g.Path == path {
			g.members[u.ID] = level
			return
		}
	}
	panic("fakegitlab: SetMember: no project or group " + path)
}

// CreatedRunners lists the runners POST /user/runners created, with their
// settings as they are now (PUT applied, deleted marked).
func (s *Server) CreatedRunners() []CreatedRunner {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CreatedRunner
	all := map[string]*runner{}
	for tok, r := range s.runners {
		all[tok] = r
	}
	for i, r := range s.deletedRunners {
		all[fmt.Sprintf("<deleted %d>", i)] = r
	}
	for tok, r := range all {
		if r.runnerType == "" {
			continue
		}
		st := r.settings
		st.Tags = slices.Clone(st.Tags)
		out = append(out, CreatedRunner{ID: r.id, Token: tok, RunnerType: r.runnerType, ProjectID: r.projectID,
			GroupID: r.groupID, Settings: st, Deleted: r.deleted})
	}
	slices.SortFunc(out, func(a, b CreatedRunner) int { return int(a.ID - b.ID) })
	return out
}

// SetRunnerSettings changes a runner's server-side settings, as a user
// editing it in GitLab's UI would.
func (s *Server) SetRunnerSettings(id int64, st RunnerSettings) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.runners {
		if r.id == id {
			r.settings = st
		}
	}
}

// DeleteRunner deletes runner id as a user deleting it in GitLab's UI
// would: its token is rejected from then on (verify answers 403) and
// GET /runners/:id answers 404.
func (s *Server) DeleteRunner(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tok, r := range s.runners {
		if r.id == id {
			r.deleted = true
			delete(s.runners, tok)
			s.deletedRunners = append(s.deletedRunners, r)
		}
	}
}

// projectAccess is the user's level in p: its own membership or that of a
// parent group, whichever is higher.
func (s *Server) projectAccess(u *User, p *Project) int { return s.access(u, p.Path, p.members) }

// groupAccess is projectAccess for a group (and its parent groups).
func (s *Server) groupAccess(u *User, g *Group) int { return s.access(u, g.Path, g.members) }

func (s *Server) access(u *User, path string, members map[int64]int) int {
	level := members[u.ID]
	for _, parent := range s.groups {
		if strings.HasPrefix(path, parent.Path+"/") {
			level = max(level, parent.members[u.ID])
		}
	}
	return level
}

// authenticateAPI is the API's authenticate! with APIGuard's scope check.
// On success it returns the token with s.mu held; the caller unlocks.
func (s *Server) authenticateAPI(w http.ResponseWriter, r *http.Request, scopes ...string) (*apiToken, bool) {
	tok := r.Header.Get("PRIVATE-TOKEN")
	if tok == "" {
		tok, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	s.mu.Lock()
	t := s.apiTokens[tok]
	switch {
	case tok == "" || t == nil:
		s.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "401 Unauthorized"})
		return nil, false
	case t.revoked:
		s.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_token",
			"error_description": "Token was revoked. You have to re-authorize from the user."})
		return nil, false
	case t.expired:
		s.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_token", "error_description": "Token has expired."})
		return nil, false
	}
	if len(scopes) > 0 && !slices.ContainsFunc(t.scopes, func(sc string) bool { return slices.Contains(scopes, sc) }) {
		s.mu.Unlock()
		w.Header().Set("WWW-Authenticate", `Bearer realm="", error="insufficient_scope"`)
		writeJSON(w, http.StatusForbidden, map[string]any{"error": "insufficient_scope",
			"error_description": "The request requires higher privileges than provided by the access token.",
			"scope":             strings.Join(scopes, " ")})
		return nil, false
	}
	return t, true
}

// routeUserAPI serves the API-token endpoints; it reports whether the path
// was one of them.
func (s *Server) routeUserAPI(w http.ResponseWriter, r *http.Request, body map[string]any) bool {
	path := r.URL.EscapedPath()
	switch {
	case path == "/api/v4/user":
		s.onlyMethods(w, r, map[string]func(){http.MethodGet: func() { s.getUser(w, r) }})
	case path == "/api/v4/personal_access_tokens/self":
		s.onlyMethods(w, r, map[string]func(){http.MethodGet: func() { s.tokenSelf(w, r) }})
	case path == "/api/v4/user/runners":
		s.onlyMethods(w, r, map[string]func(){http.MethodPost: func() { s.createRunner(w, r, body) }})
	case path == "/api/v4/projects":
		s.onlyMethods(w, r, map[string]func(){http.MethodGet: func() { s.listSpaces(w, r, true) }})
	case path == "/api/v4/groups":
		s.onlyMethods(w, r, map[string]func(){http.MethodGet: func() { s.listSpaces(w, r, false) }})
	case oneSegment(path, "/api/v4/projects/"):
		id, _ := url.PathUnescape(strings.TrimPrefix(path, "/api/v4/projects/"))
		s.onlyMethods(w, r, map[string]func(){http.MethodGet: func() { s.getSpace(w, r, id, true) }})
	case oneSegment(path, "/api/v4/groups/"):
		id, _ := url.PathUnescape(strings.TrimPrefix(path, "/api/v4/groups/"))
		s.onlyMethods(w, r, map[string]func(){http.MethodGet: func() { s.getSpace(w, r, id, false) }})
	case oneSegment(path, "/api/v4/runners/") && !strings.HasSuffix(path, "/verify"):
		id := strings.TrimPrefix(path, "/api/v4/runners/")
		s.onlyMethods(w, r, map[string]func(){
			http.MethodGet:    func() { s.runnerDetails(w, r, id) },
			http.MethodPut:    func() { s.updateRunner(w, r, id, body) },
			http.MethodDelete: func() { s.deleteRunner(w, r, id) },
		})
	default:
		return false
	}
	return true
}

func oneSegment(path, prefix string) bool {
	rest, ok := strings.CutPrefix(path, prefix)
	return ok && rest != "" && !strings.Contains(rest, "/")
}

func (s *Server) onlyMethods(w http.ResponseWriter, r *http.Request, handlers map[string]func()) {
	if h, ok := handlers[r.Method]; ok {
		h()
		return
	}
	notAllowed(w)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	t, ok := s.authenticateAPI(w, r, "api", "read_api", "read_user")
	if !ok {
		return
	}
	u := *t.user
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"id": u.ID, "username": u.Username, "name": u.Username, "state": "active",
		"is_admin": u.Admin, "web_url": "http://gitlab.test/" + u.Username})
}

func (s *Server) tokenSelf(w http.ResponseWriter, r *http.Request) {
	t, ok := s.authenticateAPI(w, r) // any scope may read itself
	if !ok {
		return
	}
	resp := map[string]any{"id": 1, "name": t.name, "revoked": t.revoked, "created_at": "2026-01-01T00:00:00.000Z",
		"scopes": slices.Clone(t.scopes), "user_id": t.user.ID, "active": !t.revoked && !t.expired, "expires_at": nil}
	if t.expiresD != "" {
		resp["expires_at"] = t.expiresD
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}

func projectJSON(p *Project) map[string]any {
	name := p.Path[strings.LastIndexByte(p.Path, '/')+1:]
	return map[string]any{"id": p.ID, "name": name, "path": name, "path_with_namespace": p.Path,
		"web_url": "http://gitlab.test/" + p.Path}
}

func groupJSON(g *Group) map[string]any {
	name := g.Path[strings.LastIndexByte(g.Path, '/')+1:]
	return map[string]any{"id": g.ID, "name": name, "path": name, "full_path": g.Path, "web_url": "http://gitlab.test/groups/" + g.Path}
}

// space is a project or a group as the lookup and list endpoints treat
// both: found by id or full path, visible by the user's access level there.
type space struct {
	id    int64
	path  string
	level int // the user's access level, parent groups' included
	json  map[string]any
}

// spaces are the projects (project true) or the groups, with u's access
// level, ordered by path.
func (s *Server) spaces(project bool, u *User) []space {
	var out []space
	if project {
		for _, p := range s.projects {
			out = append(out, space{id: p.ID, path: p.Path, level: s.projectAccess(u, p), json: projectJSON(p)})
		}
	} else {
		for _, g := range s.groups {
			out = append(out, space{id: g.ID, path: g.Path, level: s.groupAccess(u, g), json: groupJSON(g)})
		}
	}
	slices.SortFunc(out, func(a, b space) int { return strings.Compare(a.path, b.path) })
	return out
}

// findSpace finds a project or group by numeric id or full path.
func (s *Server) findSpace(project bool, u *User, id string) *space {
	for _, sp := range s.spaces(project, u) {
		if strconv.FormatInt(sp.id, 10) == id || strings.EqualFold(sp.path, id) {
			return &sp
		}
	}
	return nil
}

// getSpace is GET /projects/:id and GET /groups/:id. Every project and
// group of the fake is private, so one the user is no member of is a 404,
// as GitLab hides it.
func (s *Server) getSpace(w http.ResponseWriter, r *http.Request, id string, project bool) {
	t, ok := s.authenticateAPI(w, r, "api", "read_api")
	if !ok {
		return
	}
	if sp := s.findSpace(project, t.user, id); sp != nil && (t.user.Admin || sp.level > 0) {
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, sp.json)
		return
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusNotFound, map[string]any{"message": "404 " + map[bool]string{true: "Project", false: "Group"}[project] + " Not Found"})
}

// listSpaces is GET /projects (membership, min_access_level, search in the
// name) and GET /groups (min_access_level, search in the path; without
// min_access_level the groups the user belongs to, all for an admin),
// ordered by path, with the offset pagination headers.
func (s *Server) listSpaces(w http.ResponseWriter, r *http.Request, project bool) {
	t, ok := s.authenticateAPI(w, r, "api", "read_api")
	if !ok {
		return
	}
	q := r.URL.Query()
	minLevel, _ := strconv.Atoi(q.Get("min_access_level"))
	search := strings.ToLower(q.Get("search"))
	var items []map[string]any
	for _, sp := range s.spaces(project, t.user) {
		name := sp.path
		hidden := minLevel > 0 && sp.level < minLevel
		if project {
			name = sp.path[strings.LastIndexByte(sp.path, '/')+1:]
			hidden = hidden || q.Get("membership") == "true" && sp.level == 0
		} else {
			hidden = hidden || minLevel == 0 && sp.level == 0 && !t.user.Admin
		}
		if hidden || search != "" && !strings.Contains(strings.ToLower(name), search) {
			continue
		}
		items = append(items, sp.json)
	}
	s.mu.Unlock()
	writePage(w, q, items)
}

// writePage answers one page with GitLab's offset pagination headers;
// X-Next-Page is empty on the last page.
func writePage(w http.ResponseWriter, q url.Values, items []map[string]any) {
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 {
		per = 20
	}
	per = min(per, 100)
	start := min((page-1)*per, len(items))
	end := min(start+per, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(page + 1)
	}
	w.Header().Set("X-Page", strconv.Itoa(page))
	w.Header().Set("X-Per-Page", strconv.Itoa(per))
	w.Header().Set("X-Next-Page", next)
	w.Header().Set("X-Total", strconv.Itoa(len(items)))
	out := items[start:end]
	if out == nil {
		out = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, out)
}

var runnerTypes = []string{"instance_type", "group_type", "project_type"}

// createRunner is POST /user/runners: APIGuard (create_runner or api),
// Grape's params (400 {"error"}), the strategy's scope (400 "Missing/invalid
// project|group"), its authorization (403 "Insufficient permissions"), the
// model's validations (400), then 201 RunnerRegistrationDetails.
func (s *Server) createRunner(w http.ResponseWriter, r *http.Request, body map[string]any) {
	t, ok := s.authenticateAPI(w, r, "api", "create_runner")
	if !ok {
		return
	}
	defer s.mu.Unlock()
	rt, ok := stringParam(body, "runner_type")
	switch {
	case !ok:
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "runner_type is missing"})
		return
	case !slices.Contains(runnerTypes, rt):
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "runner_type does not have a valid value"})
		return
	}
	idParam := map[string]string{"group_type": "group_id", "project_type": "project_id"}[rt]
	var scopeID string
	if idParam != "" {
		v, present := body[idParam]
		n, isNum := v.(float64)
		switch {
		case !present:
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": idParam + " is missing"})
			return
		case !isNum:
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": idParam + " is invalid"})
			return
		}
		scopeID = strconv.FormatInt(int64(n), 10)
	}
	st, errMsg := settingsFromBody(RunnerSettings{RunUntagged: true}, body)
	if errMsg != "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": errMsg})
		return
	}
	run := &runner{runnerType: rt}
	prefix := "glrt-t1_"
	if rt == "instance_type" {
		if !t.user.Admin {
			writeJSON(w, http.StatusForbidden, map[string]any{"message": "403 Forbidden - Insufficient permissions"})
			return
		}
	} else {
		// A project runner needs Maintainer of the project, a group
		// runner Owner of the group.
		project := rt == "project_type"
		sp := s.findSpace(project, t.user, scopeID)
		if sp == nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": "400 Bad request - Missing/invalid " + map[bool]string{true: "project", false: "group"}[project]})
			return
		}
		if need := map[bool]int{true: Maintainer, false: Owner}[project]; !t.user.Admin && sp.level < need {
			writeJSON(w, http.StatusForbidden, map[string]any{"message": "403 Forbidden - Insufficient permissions"})
			return
		}
		if project {
			run.projectID, prefix = sp.id, "glrt-t3_"
		} else {
			run.groupID, prefix = sp.id, "glrt-t2_"
		}
	}
	if msg := validateSettings(st); msg != "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "400 Bad request - " + msg})
		return
	}
	s.nextID++
	run.id, run.settings, run.expiresAt = s.nextID, st, s.expiresAt()
	tok := prefix + randomToken()
	s.runners[tok] = run
	writeJSON(w, http.StatusCreated, details(run.id, tok, run.expiresAt))
}

// settingsFromBody applies the optional parameters POST /user/runners and
// PUT /runners/:id share; it returns Grape's message for a bad one.
func settingsFromBody(st RunnerSettings, body map[string]any) (RunnerSettings, string) {
	for key, dst := range map[string]*string{"description": &st.Description, "maintenance_note": &st.MaintenanceNote} {
		if v, ok := body[key]; ok {
			str, isStr := v.(string)
			if !isStr {
				return st, key + " is invalid"
			}
			*dst = str
		}
	}
	for key, dst := range map[string]*bool{"run_untagged": &st.RunUntagged, "locked": &st.Locked, "paused": &st.Paused} {
		if v, ok := body[key]; ok {
			b, isBool := v.(bool)
			if !isBool {
				return st, key + " is invalid"
			}
			*dst = b
		}
	}
	if v, ok := body["access_level"]; ok {
		str, isStr := v.(string)
		if !isStr || !slices.Contains(accessLevels, str) {
			return st, "access_level does not have a valid value"
		}
		st.AccessLevel = str
	}
	if v, ok := body["maximum_timeout"]; ok {
		n, isNum := v.(float64)
		if !isNum {
			return st, "maximum_timeout is invalid"
		}
		st.MaximumTimeout = int(n)
	}
	if v, ok := body["tag_list"]; ok {
		str, isStr := v.(string)
		if !isStr {
			return st, "tag_list is invalid"
		}
		st.Tags = nil
		for _, t := range strings.Split(str, ",") {
			if t = strings.TrimSpace(t); t != "" && !slices.Contains(st.Tags, t) {
				st.Tags = append(st.Tags, t)
			}
		}
	}
	if st.AccessLevel == "" {
		st.AccessLevel = "not_protected"
	}
	return st, ""
}

// validateSettings is Ci::Runner's model validation, as full_messages.
func validateSettings(st RunnerSettings) string {
	var msgs []string
	if len(st.MaintenanceNote) > 1024 {
		msgs = append(msgs, "Maintenance note is too long (maximum is 1024 characters)")
	}
	if st.MaximumTimeout != 0 && st.MaximumTimeout < 600 {
		msgs = append(msgs, "Maximum timeout needs to be at least 10 minutes")
	}
	if !st.RunUntagged && len(st.Tags) == 0 {
		msgs = append(msgs, "Tags list can not be empty when runner is not allowed to pick untagged jobs")
	}
	return strings.Join(msgs, " and ")
}

// runnerFor finds the runner :id and checks the token's user may manage it
// (RunnerPolicy: admin, or a runner of a project or group where the user is
// Maintainer or more). It writes the 400/403/404 itself.
func (s *Server) runnerFor(w http.ResponseWriter, t *apiToken, rawID string) (*runner, string, bool) {
	id, err := strconv.ParseInt(rawID, 10, 64)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "id is invalid"})
		return nil, "", false
	}
	for tok, r := range s.runners {
		if r.id != id || r.deleted {
			continue
		}
		allowed := t.user.Admin
		if r.projectID != 0 || r.groupID != 0 {
			sp := s.findSpace(r.projectID != 0, t.user, strconv.FormatInt(max(r.projectID, r.groupID), 10))
			allowed = allowed || sp != nil && sp.level >= Maintainer
		}
		if !allowed {
			writeJSON(w, http.StatusForbidden, map[string]any{"message": "403 Forbidden"})
			return nil, "", false
		}
		return r, tok, true
	}
	writeJSON(w, http.StatusNotFound, map[string]any{"message": "404 Runner Not Found"})
	return nil, "", false
}

// withRunner authenticates the API token with one of scopes, finds the
// runner its user may manage (runnerFor) and calls fn with s.mu held.
func (s *Server) withRunner(w http.ResponseWriter, r *http.Request, rawID string, scopes []string, fn func(run *runner, tok string)) {
	t, ok := s.authenticateAPI(w, r, scopes...)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	if run, tok, ok := s.runnerFor(w, t, rawID); ok {
		fn(run, tok)
	}
}

func (s *Server) runnerDetails(w http.ResponseWriter, r *http.Request, rawID string) {
	s.withRunner(w, r, rawID, []string{"api", "read_api", "manage_runner"}, func(run *runner, _ string) {
		writeJSON(w, http.StatusOK, runnerDetailsJSON(run))
	})
}

func (s *Server) updateRunner(w http.ResponseWriter, r *http.Request, rawID string, body map[string]any) {
	s.withRunner(w, r, rawID, []string{"api", "manage_runner"}, func(run *runner, _ string) {
		st, errMsg := settingsFromBody(run.settings, body)
		if errMsg != "" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": errMsg})
			return
		}
		if msg := validateSettings(st); msg != "" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": "400 Bad request - " + msg})
			return
		}
		run.settings = st
		writeJSON(w, http.StatusOK, runnerDetailsJSON(run))
	})
}

func (s *Server) deleteRunner(w http.ResponseWriter, r *http.Request, rawID string) {
	s.withRunner(w, r, rawID, []string{"api", "manage_runner"}, func(run *runner, tok string) {
		run.deleted = true
		delete(s.runners, tok)
		s.deletedRunners = append(s.deletedRunners, run)
		w.WriteHeader(http.StatusNoContent)
	})
}

// runnerDetailsJSON is Entities::Ci::RunnerDetails (the part runnerup reads).
func runnerDetailsJSON(r *runner) map[string]any {
	runnerType := r.runnerType
	if runnerType == "" {
		runnerType = "instance_type"
	}
	st := r.settings
	tags := st.Tags
	if tags == nil {
		tags = []string{}
	}
	var timeout any
	if st.MaximumTimeout != 0 {
		timeout = st.MaximumTimeout
	}
	access := st.AccessLevel
	if access == "" {
		access = "not_protected"
	}
	return map[string]any{
		"id": r.id, "description": st.Description, "active": !st.Paused, "paused": st.Paused,
		"is_shared": runnerType == "instance_type", "runner_type": runnerType, "name": "gitlab-runner",
		"online": false, "status": "never_contacted", "tag_list": tags, "run_untagged": st.RunUntagged,
		"locked": st.Locked, "maximum_timeout": timeout, "access_level": access,
		"maintenance_note": nullable(st.MaintenanceNote), "contacted_at": nil,
		"created_at": time.Unix(0, 0).UTC().Format(timeFormat),
	}
}

// String is for test failure messages.
func (c CreatedRunner) String() string {
	return fmt.Sprintf("runner #%d %s %+v deleted=%v", c.ID, c.RunnerType, c.Settings, c.Deleted)
}
