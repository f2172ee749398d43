package fakegitlab

import (
	"cmp"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Manager is a runner manager as the fake records it (Ci::RunnerManager):
// created by the first verify or job request with its system id, contacted
// by every later one.
type Manager struct {
	ID           int64
	SystemID     string // "<legacy>" when the runner sent none
	Version      string // from a job request's info; verify sends none
	Revision     string
	Platform     string
	Architecture string
	IPAddress    string
	CreatedAt    time.Time
	ContactedAt  time.Time // zero: never contacted
	// Status is computed when the manager is read: online, offline,
	// never_contacted or stale.
	Status string
}

// GitLab's thresholds (Ci::RunnerManager ONLINE_CONTACT_TIMEOUT and
// STALE_TIMEOUT).
const (
	onlineContactTimeout = 2 * time.Hour
	staleTimeout         = 7 * 24 * time.Hour
)

// heartbeat is authenticate_runner!'s runner manager part: find or create
// the manager for systemID, then record the contact. ip and info may be
// empty. s.mu must be held.
func (s *Server) heartbeat(r *runner, systemID, ip string, info map[string]any) {
	if systemID == "" {
		systemID = legacySystemID
	}
	now := s.now().UTC()
	var m *Manager
	for _, x := range r.managers {
		if x.SystemID == systemID {
			m = x
			break
		}
	}
	if m == nil {
		s.nextManagerID++
		m = &Manager{ID: s.nextManagerID, SystemID: systemID, CreatedAt: now}
		r.managers = append(r.managers, m)
	}
	m.ContactedAt = now
	if ip != "" {
		m.IPAddress = ip
	}
	for key, field := range map[string]*string{
		"version": &m.Version, "revision": &m.Revision, "platform": &m.Platform, "architecture": &m.Architecture,
	} {
		if v, ok := info[key].(string); ok && v != "" {
			*field = v
		}
	}
}

// snapshot copies managers and fills in Status. s.mu must be held.
func (s *Server) snapshot(managers []*Manager) []Manager {
	now := s.now()
	out := make([]Manager, 0, len(managers))
	for _, m := range managers {
		c := *m
		c.Status = status(c, now)
		out = append(out, c)
	}
	return out
}

// status follows Ci::HasRunnerStatus: stale when neither created nor
// contacted within a week, then never_contacted, online (contacted within
// two hours) or offline.
func status(m Manager, now time.Time) string {
	latest := m.CreatedAt
	if m.ContactedAt.After(latest) {
		latest = m.ContactedAt
	}
	switch {
	case !latest.IsZero() && !latest.After(now.Add(-staleTimeout)):
		return "stale"
	case m.ContactedAt.IsZero():
		return "never_contacted"
	case m.ContactedAt.After(now.Add(-onlineContactTimeout)):
		return "online"
	default:
		return "offline"
	}
}

// jobRequest is POST /api/v4/jobs/request with no job to hand out:
// authenticate_runner! (400 without a token, 403 for an unknown one), the
// manager heartbeat with the runner's info, then 204 No Content.
func (s *Server) jobRequest(w http.ResponseWriter, r *http.Request, body map[string]any) {
	info, _ := body["info"].(map[string]any)
	if _, _, ok := s.authenticateRunner(w, r, body, info); !ok {
		return
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// listManagers is GET /api/v4/runners/:id/managers: authenticate! (401),
// the Integer id (400), get_runner (404), then the managers as
// Entities::Ci::RunnerManager. Every API token sees every runner.
func (s *Server) listManagers(w http.ResponseWriter, r *http.Request, rawID string) {
	tok := r.Header.Get("PRIVATE-TOKEN")
	if tok == "" {
		tok, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.apiTokens[tok]; tok == "" || t == nil || t.expired || t.revoked {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "401 Unauthorized"})
		return
	}
	id, err := strconv.ParseInt(rawID, 10, 64)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "id is invalid"})
		return
	}
	var managers []*Manager
	found := false
	for _, run := range s.runners {
		if run.id == id {
			found = true
			managers = append(managers, run.managers...)
		}
	}
	if !found {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "404 Runner Not Found"})
		return
	}
	// Several tokens may name one runner id; creation order is ID order.
	slices.SortFunc(managers, func(a, b *Manager) int { return cmp.Compare(a.ID, b.ID) })
	out := make([]map[string]any, 0, len(managers))
	for _, m := range s.snapshot(managers) {
		out = append(out, map[string]any{
			"id":                   m.ID,
			"system_id":            m.SystemID,
			"version":              nullable(m.Version),
			"revision":             nullable(m.Revision),
			"platform":             nullable(m.Platform),
			"architecture":         nullable(m.Architecture),
			"created_at":           timestamp(m.CreatedAt),
			"contacted_at":         timestamp(m.ContactedAt),
			"ip_address":           nullable(m.IPAddress),
			"status":               m.Status,
			"job_execution_status": "idle",
		})
	}
	writeJSON(w, http.StatusOK, out)
}

// managersPath reports the :id of "/api/v4/runners/:id/managers".
func managersPath(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/api/v4/runners/")
	if !ok {
		return "", false
	}
	id, ok := strings.CutSuffix(rest, "/managers")
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return ""
	}
	return host
}

// nullable is Grape's nil for an unset string attribute.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// timestamp is Rails' JSON time (ISO 8601, milliseconds, UTC) or null.
func timestamp(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeFormat)
}

const timeFormat = "2006-01-02T15:04:05.000Z07:00"
