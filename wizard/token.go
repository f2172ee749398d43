package wizard

import "strings"

// TokenKind says which of GitLab's two runner token flows a token takes.
type TokenKind string

const (
	// TokenAuthentication is a runner authentication token (glrt-, glrtr-,
	// tN_): it is verified, never registered again.
	TokenAuthentication TokenKind = "authentication"
	// TokenRegistration is a legacy registration token (GR1348941… or an
	// old unprefixed one): it registers a new runner via POST /runners.
	TokenRegistration TokenKind = "registration"
)

// ClassifyToken decides the token kind from its prefix
// (docs/gitlab-runner.md §3.4); for an unprefixed token the declared kind
// (gitlab.token_kind) decides, and without one it is a registration token,
// as `gitlab-runner register -r` would treat it. ambiguous reports that the
// prefix alone could not tell.
func ClassifyToken(token, declared string) (kind TokenKind, ambiguous bool) {
	switch {
	case strings.HasPrefix(token, "GR1348941"):
		return TokenRegistration, false
	case strings.HasPrefix(token, "glrt-"), strings.HasPrefix(token, "glrtr-"),
		hasPartitionPrefix(token):
		return TokenAuthentication, false
	}
	if declared == string(TokenAuthentication) {
		return TokenAuthentication, true
	}
	return TokenRegistration, true
}

func hasPartitionPrefix(token string) bool {
	return len(token) > 3 && token[0] == 't' && token[1] >= '1' && token[1] <= '3' && token[2] == '_'
}
