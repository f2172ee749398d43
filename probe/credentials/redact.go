package credentials

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	helpercreds "github.com/docker/docker-credential-helpers/credentials"

	"github.com/runnerup/runnerup/internal/secret"
)

// maxHelperOutput caps how much of a failed helper's output is quoted
// (docker-credential-helpers puts it into the error: "…, out: `…`").
const maxHelperOutput = 1024

// secretKeys are JSON field names (compared without case) whose values are
// secrets: a helper's answer (Secret), Docker's AuthConfig (password,
// auth, identitytoken, registrytoken) and common token fields.
const secretKeys = `secret|password|passwd|pass|pwd|auth|authorization|identitytoken|identity_token|registrytoken|token|access_token|refresh_token`

var (
	// jsonSecretRE is a secret field in JSON, also when the string is cut
	// off before its closing quote (partial output).
	jsonSecretRE = regexp.MustCompile(`(?im)("(?:` + secretKeys + `)"\s*:\s*)"(?:[^"\\\n]|\\.)*(?:"|$)`)
	// escapedSecretRE is the same field in JSON quoted inside a string
	// ({\"Secret\":\"…\"}).
	escapedSecretRE = regexp.MustCompile(`(?im)(\\"(?:` + secretKeys + `)\\"\s*:\s*)\\"(?:[^"\\\n]|\\[^"\n])*(?:\\"|$)`)
	// plainSecretRE is a secret in plain text: a label (optionally quoted),
	// a separator (=, :, tabs, spaces; never a line break), an optional
	// HTTP auth scheme, then the value, bare or quoted (also when the
	// closing quote is cut off). Submatches: 1 label and separator,
	// 2 separator, 3 scheme, 4 value.
	plainSecretRE = regexp.MustCompile(`(?im)(\b(?:` + secretKeys + `)\b["']?([ \t]*[:=][ \t]*|[ \t]+))` +
		`((?:basic|bearer|token|digest|negotiate)[ \t]+)?` +
		`("(?:[^"\\\n]|\\.)*(?:"|$)|'[^'\n]*(?:'|$)|[^\s"',;}]+)`)
	// proseWordRE: after a single space, a lowercase word is the sentence
	// going on ("pass not initialized", "password store is empty"), not a
	// value; keeping it keeps a real helper's message readable.
	proseWordRE = regexp.MustCompile(`^[a-z]+$`)
	// authBlobRE is a base64 token long enough to be an auth value
	// (base64 of user:password) with no label in front of it.
	authBlobRE = regexp.MustCompile(`[A-Za-z0-9+/]{8,}={0,2}`)
)

// redactHelperOutput makes what a failed helper printed safe to quote,
// without knowing the secret it may hold: terminal escapes and control
// characters go, a line (or the whole output) that parses as a JSON object
// with credential fields is not shown at all, any remaining secret field's
// value becomes ***, and at most maxHelperOutput bytes are kept.
func redactHelperOutput(out []byte) []byte {
	raw := strings.TrimSpace(string(out))
	s := cleanText(raw)
	if s != raw && isProtocolMessage(s) {
		// docker-credential-helpers compares the raw text: escapes make
		// it a plain error, not "not found". Keep the two apart.
		s += " (terminal escapes removed)"
	}
	if isCredentialsJSON(s) {
		return []byte(hiddenObject(s))
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if isCredentialsJSON(l) {
			lines[i] = hiddenObject(l)
		}
	}
	s = redactSecretFields(strings.Join(lines, "\n"))
	s = redactPlainSecrets(s)
	return []byte(capText(s, maxHelperOutput))
}

// isProtocolMessage: docker-credential-helpers turns these outputs of a
// failed helper into typed errors.
func isProtocolMessage(s string) bool {
	return helpercreds.IsErrCredentialsNotFoundMessage(s) ||
		helpercreds.IsCredentialsMissingServerURLMessage(s) || helpercreds.IsCredentialsMissingUsernameMessage(s)
}

// redactSecretFields replaces the values of secret fields in JSON and in
// JSON quoted inside a string.
func redactSecretFields(s string) string {
	s = jsonSecretRE.ReplaceAllString(s, `$1"***"`)
	return escapedSecretRE.ReplaceAllString(s, `$1\"***\"`)
}

// redactPlainSecrets hides the value after every secret label in plain
// text (password="x", password: 'x', auth: <base64>, Authorization: Basic
// x, Secret<TAB>x) and every unlabelled base64 user:password value.
func redactPlainSecrets(s string) string {
	s = plainSecretRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := plainSecretRE.FindStringSubmatch(m)
		label, sep, scheme, val := sub[1], sub[2], sub[3], sub[4]
		if sep == " " && scheme == "" && proseWordRE.MatchString(val) {
			return m
		}
		switch q := val[0]; {
		case q == '"' || q == '\'':
			return label + scheme + string(q) + "***" + string(q)
		default:
			return label + scheme + "***"
		}
	})
	return authBlobRE.ReplaceAllStringFunc(s, func(m string) string {
		if isBase64Credentials(m) {
			return "***"
		}
		return m
	})
}

// isBase64Credentials: m decodes to printable text of the form
// user:password, the shape of Docker's auth field and of HTTP Basic.
func isBase64Credentials(m string) bool {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
		b, err := enc.DecodeString(m)
		if err != nil {
			continue
		}
		user, pass, ok := strings.Cut(string(b), ":")
		return ok && user != "" && pass != "" && isPrintableASCII(string(b))
	}
	return false
}

func isPrintableASCII(s string) bool {
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			return false
		}
	}
	return true
}

// cleanText drops terminal escape sequences and every control character
// but newline and tab, and replaces invalid UTF-8.
func cleanText(s string) string {
	s = ansi.Strip(strings.ToValidUTF8(s, "\uFFFD"))
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) {
			return r
		}
		return -1
	}, s)
}

func hiddenObject(s string) string {
	return fmt.Sprintf("[a credentials object of %d bytes, not shown]", len(s))
}

// isCredentialsJSON: s is a JSON object (or array) with a secret field or
// an auths map at any depth.
func isCredentialsJSON(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || (s[0] != '{' && s[0] != '[') {
		return false
	}
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return false
	}
	return hasSecretKey(v)
}

var secretKeyRE = regexp.MustCompile(`(?i)^(?:` + secretKeys + `|auths)$`)

func hasSecretKey(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if secretKeyRE.MatchString(k) || hasSecretKey(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasSecretKey(e) {
				return true
			}
		}
	}
	return false
}

// capText keeps the first max bytes of s (on a rune boundary) and says
// how much was left out.
func capText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d more bytes not shown)", s[:cut], len(s)-cut)
}

// scrub removes every known secret, and any secret field a helper's
// quoted output may still carry, from s.
func scrub(red *secret.Redactor, s string) string {
	return red.Redact(redactSecretFields(s))
}

// redactedError shows a scrubbed message but keeps the original chain for
// errors.Is / errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
