package fakegitlab

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// legacySystemID is the manager key GitLab uses when verify has no
// system_id (Ci::RunnerManager::LEGACY_SYSTEM_XID).
const legacySystemID = "<legacy>"

func (s *Server) route(w http.ResponseWriter, r *http.Request, body map[string]any) {
	switch r.URL.Path {
	case "/api/v4/runners/verify":
		if r.Method != http.MethodPost {
			notAllowed(w)
			return
		}
		s.verify(w, r, body)
	case "/api/v4/runners":
		switch r.Method {
		case http.MethodPost:
			s.register(w, body)
		case http.MethodDelete:
			s.unregister(w, body)
		default:
			notAllowed(w)
		}
	case "/api/v4/version":
		if r.Method != http.MethodGet {
			notAllowed(w)
			return
		}
		s.version(w, r)
	case "/api/v4/jobs/request":
		if r.Method != http.MethodPost {
			notAllowed(w)
			return
		}
		s.jobRequest(w, r, body)
	default:
		if s.routeUserAPI(w, r, body) {
			return
		}
		if id, ok := managersPath(r.URL.Path); ok {
			if r.Method != http.MethodGet {
				notAllowed(w)
				return
			}
			s.listManagers(w, r, id)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/v4/") {
			// Grape's answer for an unknown API route.
			writeJSON(w, http.StatusNotFound, map[string]any{"error": "404 Not Found"})
			return
		}
		// Rails' public/404.html for everything outside the API.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("<!DOCTYPE html>\n<html><head><title>The page you're looking for could not be found (404)</title></head>" +
			"<body><h1>404</h1><p>The page could not be found or you don't have permission to view it.</p></body></html>\n"))
	}
}

// verify: authenticate_runner! (which heartbeats the runner manager) then
// present RunnerRegistrationDetails.
func (s *Server) verify(w http.ResponseWriter, r *http.Request, body map[string]any) {
	run, tok, ok := s.authenticateRunner(w, r, body, nil)
	if !ok {
		return
	}
	resp := details(run.id, tok, run.expiresAt)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}

// authenticateRunner is Rails' authenticate_runner!: 400 without a token,
// 403 for an unknown one, else the heartbeat of the runner manager named
// by system_id. On success it returns with s.mu held; the caller unlocks.
func (s *Server) authenticateRunner(w http.ResponseWriter, r *http.Request, body, info map[string]any) (*runner, string, bool) {
	tok, ok := stringParam(body, "token")
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "token is missing"})
		return nil, "", false
	}
	s.mu.Lock()
	run := s.runners[tok]
	if run == nil {
		s.mu.Unlock()
		writeJSON(w, http.StatusForbidden, map[string]any{"message": "403 Forbidden"})
		return nil, "", false
	}
	systemID, _ := stringParam(body, "system_id")
	s.heartbeat(run, systemID, remoteIP(r), info)
	return run, tok, true
}

var accessLevels = []string{"not_protected", "ref_protected"}

// register: Grape validation (400), then RegisterRunnerService (410 when
// registration tokens are disallowed, 403 for an unknown token), then 201.
func (s *Server) register(w http.ResponseWriter, body map[string]any) {
	tok, ok := stringParam(body, "token")
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "token is missing"})
		return
	}
	if lvl, ok := body["access_level"]; ok {
		if v, isStr := lvl.(string); !isStr || !slices.Contains(accessLevels, v) {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "access_level does not have a valid value"})
			return
		}
	}
	_, hasActive := body["active"]
	_, hasPaused := body["paused"]
	if hasActive && hasPaused {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "active, paused are mutually exclusive"})
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.regDisabled:
		writeJSON(w, http.StatusGone, map[string]any{"message": "410 Gone - runner registration disallowed"})
		return
	case !s.regTokens[tok]:
		writeJSON(w, http.StatusForbidden, map[string]any{"message": "403 Forbidden - invalid token supplied"})
		return
	}
	s.nextID++
	newToken := "glrtr-" + randomToken()
	run := &runner{id: s.nextID, expiresAt: s.expiresAt()}
	s.runners[newToken] = run
	writeJSON(w, http.StatusCreated, details(run.id, newToken, run.expiresAt))
}

// version needs a personal access token, as on a real instance.
// unregister: DELETE /runners with the runner's token (authenticate_runner!
// without a heartbeat), then 204; the runner is gone.
func (s *Server) unregister(w http.ResponseWriter, body map[string]any) {
	tok, ok := stringParam(body, "token")
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "token is missing"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	run := s.runners[tok]
	if run == nil {
		writeJSON(w, http.StatusForbidden, map[string]any{"message": "403 Forbidden"})
		return
	}
	run.deleted = true
	delete(s.runners, tok)
	s.deletedRunners = append(s.deletedRunners, run)
	w.WriteHeader(http.StatusNoContent)
}

// Unregistered reports whether the runner with id was unregistered or
// deleted.
func (s *Server) Unregistered(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.deletedRunners {
		if r.id == id {
			return true
		}
	}
	return false
}

func (s *Server) version(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("PRIVATE-TOKEN") == "" && !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "401 Unauthorized"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"version": Version, "revision": "6b9a2ac3e56", "kas": map[string]any{"enabled": false}, "enterprise": false})
}

// details is Entities::Ci::RunnerRegistrationDetails: id, token,
// token_expires_at (ISO 8601 with milliseconds, or null).
func details(id int64, token string, expiresAt time.Time) map[string]any {
	var exp any
	if !expiresAt.IsZero() {
		exp = expiresAt.UTC().Format(timeFormat)
	}
	return map[string]any{"id": id, "token": token, "token_expires_at": exp}
}

func notAllowed(w http.ResponseWriter) {
	writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "405 Not Allowed"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// stringParam reports a JSON string parameter; ok is false when it is absent
// (Grape's "requires" fails only on a missing key, not on "").
func stringParam(body map[string]any, key string) (string, bool) {
	v, ok := body[key]
	if !ok || v == nil {
		return "", false
	}
	s, _ := v.(string)
	return s, true
}

// randomToken is 20 URL-safe characters, like Devise.friendly_token.
func randomToken() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
