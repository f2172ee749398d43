package lint

import (
	"regexp"
	"strings"

	"github.com/runnerup/runnerup/internal/secret"
)

// Messages are written so that they never quote a value that may be secret.
// The redactor is a second line of defence: every value of a secret key (and
// anything shaped like a GitLab token) found in the file is replaced by ***
// in the final messages and fixes. Which keys and environment entries hold
// secrets is secret.IsSecretName's decision, the same as everywhere else.

var (
	// assignmentRE is a line assigning a key (bare, quoted or dotted):
	// 1 the key, 2 the rest of the line.
	assignmentRE = regexp.MustCompile(`(?m)^\s*["']?([A-Za-z0-9_.-]+)["']?\s*=\s*(.*)$`)
	tokenShapeRE = regexp.MustCompile(`(?:glrt-|glrtr-|glpat-|glcbt-|GR1348941)[A-Za-z0-9_.\-]+`)
)

// redactor holds every secret value of the file; each is shown as ***.
type redactor struct{ r secret.Redactor }

func (r *redactor) add(v string) { r.r.Add(strings.TrimSpace(v), "***") }

// harvestSecrets collects secret values from the raw text, which works even
// when the file does not parse.
func harvestSecrets(src string) *redactor {
	r := &redactor{}
	for _, m := range assignmentRE.FindAllStringSubmatch(src, -1) {
		if !secret.IsSecretName(m[1]) {
			continue
		}
		v := strings.TrimSpace(m[2])
		switch {
		case strings.HasPrefix(v, `"`) || strings.HasPrefix(v, `'`):
			q := v[:1]
			v = strings.TrimLeft(v, q)
			if i := strings.Index(v, q); i >= 0 {
				v = v[:i]
			}
		default:
			if i := strings.IndexAny(v, " \t#"); i >= 0 {
				v = v[:i]
			}
		}
		r.add(v)
	}
	for _, t := range tokenShapeRE.FindAllString(src, -1) {
		r.add(t)
	}
	return r
}

// addDoc collects secret values from the decoded document.
func (r *redactor) addDoc(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && secret.IsSecretName(k) {
				r.add(s)
			}
			r.addDoc(x)
		}
	case []map[string]any:
		for _, x := range v {
			r.addDoc(x)
		}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				// environment entries such as "CI_SERVER_TOKEN=..."
				if k, val, ok := strings.Cut(s, "="); ok && secret.IsSecretName(k) {
					r.add(val)
				}
			}
			r.addDoc(x)
		}
	}
}

func (r *redactor) redact(s string) string { return r.r.Redact(s) }

// secretLine reports whether 1-based line n of src (or the line before it,
// where a value that runs on usually starts) assigns a secret key.
func secretLine(src string, n int) bool {
	lines := strings.Split(src, "\n")
	for _, i := range []int{n - 1, n - 2} {
		if i < 0 || i >= len(lines) {
			continue
		}
		if m := assignmentRE.FindStringSubmatch(lines[i]); m != nil && secret.IsSecretName(m[1]) {
			return true
		}
	}
	return false
}
