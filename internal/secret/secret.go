// Package secret decides how secrets look when runnerup has to show that
// one exists: tokens keep their prefix and last four characters, everything
// else becomes *** with a fingerprint that differs when the value differs.
package secret

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
)

// tokenPrefixes are the token prefixes worth keeping on display
// (docs/gitlab-runner.md §3.4); "glrt-tN_" comes before "glrt-" so the
// partition marker is kept too.
var tokenPrefixes = []string{
	"glrt-t1_", "glrt-t2_", "glrt-t3_",
	"GR1348941",
	"glrtr-", "glrt-", "glcbt-", "glpat-",
	"t1_", "t2_", "t3_",
}

// minShownSecret is how long the secret part (after the prefix) must be
// before its last 4 characters are shown; shorter ones show nothing.
const minShownSecret = 12

// Token is the display form of a token: known prefix, "…", last four
// characters ("glrt-…abcd"). Short or empty tokens become "***";
// placeholders ("<issued at registration>") stay as they are.
func Token(tok string) string {
	if IsPlaceholder(tok) {
		return tok
	}
	prefix := ""
	for _, p := range tokenPrefixes {
		if strings.HasPrefix(tok, p) {
			prefix = p
			break
		}
	}
	rest := []rune(tok[len(prefix):])
	if len(rest) < minShownSecret {
		return "***"
	}
	return prefix + "…" + string(rest[len(rest)-4:])
}

// fingerprintKey is random per process: fingerprints tell two values apart
// within one run's output but cannot be checked against guesses later.
var fingerprintKey = func() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}()

// Mask hides a value entirely: `***` plus a short keyed fingerprint, so a
// diff still shows that a password changed.
func Mask(v string) string {
	if v == "" {
		return ""
	}
	m := hmac.New(sha256.New, fingerprintKey)
	m.Write([]byte(v))
	return "***" + hex.EncodeToString(m.Sum(nil))[:6]
}

// Redactor replaces known secret values in any text.
type Redactor struct {
	values map[string]string
}

// Add registers a secret and how to show it; values shorter than 4 bytes
// are ignored because replacing them would garble ordinary text.
func (r *Redactor) Add(value, display string) {
	if len(value) < 4 || IsPlaceholder(value) {
		return
	}
	if r.values == nil {
		r.values = map[string]string{}
	}
	r.values[value] = display
}

// AddToken registers a token shown as Token(tok).
func (r *Redactor) AddToken(tok string) { r.Add(tok, Token(tok)) }

// AddMasked registers a value shown as Mask(v).
func (r *Redactor) AddMasked(v string) { r.Add(v, Mask(v)) }

// Redact replaces every registered secret in s, longest first so a secret
// containing another is replaced whole.
func (r *Redactor) Redact(s string) string {
	if r == nil || len(r.values) == 0 {
		return s
	}
	keys := make([]string, 0, len(r.values))
	for k := range r.values {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
	for _, k := range keys {
		s = strings.ReplaceAll(s, k, r.values[k])
	}
	return s
}

// IsPlaceholder reports a value that stands for a secret not known yet,
// such as the token GitLab issues at registration: "<…>".
func IsPlaceholder(v string) bool {
	return len(v) > 2 && v[0] == '<' && v[len(v)-1] == '>'
}
