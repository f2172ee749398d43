package service

import (
	"fmt"
	"strconv"
	"strings"
)

// splitWords splits a systemd command line or Environment= value into
// words: whitespace separates them, single and double quotes group (and may
// start mid-word), and C-style backslash escapes work inside and outside
// quotes, as systemd's extract_first_word with unquoting and unescaping
// does. An unknown escape keeps the escaped character, as systemd does in
// relaxed mode. A quote left open is an error, because systemd rejects the
// whole line then.
func splitWords(s string) ([]string, error) {
	var (
		words   []string
		cur     strings.Builder
		inWord  bool
		quote   byte // 0, '"' or '\''
		pending = func() {
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		}
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			n, adv := unescape(s[i+1:])
			cur.WriteString(n)
			inWord = true
			i += adv
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote = c
			inWord = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			pending()
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		// The text itself stays out of the error: it may be an
		// Environment= value holding a password.
		return nil, fmt.Errorf("unbalanced %c quote", quote)
	}
	pending()
	return words, nil
}

// unescape decodes the C escape at the start of s (the text after a
// backslash) and reports how many bytes of s it used.
func unescape(s string) (string, int) {
	if s == "" {
		return `\`, 0
	}
	switch s[0] {
	case 'a':
		return "\a", 1
	case 'b':
		return "\b", 1
	case 'f':
		return "\f", 1
	case 'n':
		return "\n", 1
	case 'r':
		return "\r", 1
	case 's':
		return " ", 1
	case 't':
		return "\t", 1
	case 'v':
		return "\v", 1
	case 'x':
		if len(s) >= 3 {
			if b, err := strconv.ParseUint(s[1:3], 16, 8); err == nil {
				return string([]byte{byte(b)}), 3
			}
		}
	case '0', '1', '2', '3':
		if len(s) >= 3 {
			if b, err := strconv.ParseUint(s[:3], 8, 8); err == nil {
				return string([]byte{byte(b)}), 3
			}
		}
	}
	return s[:1], 1
}

// expandWords applies systemd's variable substitution to a split command
// line: a word that is exactly $NAME becomes the value split at whitespace
// (zero or more words), ${NAME} anywhere in a word is replaced by the value
// as is, and $$ is a literal $. Unset variables expand to nothing.
func expandWords(words []string, env map[string]string) []string {
	var out []string
	for _, w := range words {
		if name, ok := strings.CutPrefix(w, "$"); ok && isEnvName(name) {
			out = append(out, strings.Fields(env[name])...)
			continue
		}
		out = append(out, expandBraces(w, env))
	}
	return out
}

func expandBraces(w string, env map[string]string) string {
	if !strings.Contains(w, "$") {
		return w
	}
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		if w[i] != '$' || i+1 >= len(w) {
			b.WriteByte(w[i])
			continue
		}
		switch w[i+1] {
		case '$':
			b.WriteByte('$')
			i++
			continue
		case '{':
			if end := strings.IndexByte(w[i+2:], '}'); end >= 0 && isEnvName(w[i+2:i+2+end]) {
				b.WriteString(env[w[i+2:i+2+end]])
				i += 2 + end
				continue
			}
		}
		b.WriteByte('$')
	}
	return b.String()
}

func isEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// specifiers are the unit-file % specifiers this package resolves; systemd
// resolves them when it loads the unit, before any variable substitution.
type specifiers struct {
	unit string // %n, and %N/%p/%i derived from it
	home string // %h: the service manager's user's home (/root for system units)
	user string // %u: the service manager's user
}

// expand replaces the specifiers in s; unknown ones are left as written.
func (sp specifiers) expand(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	prefixed, _, _ := strings.Cut(strings.TrimSuffix(sp.unit, ".service"), "@")
	_, instance, _ := strings.Cut(strings.TrimSuffix(sp.unit, ".service"), "@")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case '%':
			b.WriteByte('%')
		case 'n':
			b.WriteString(sp.unit)
		case 'N':
			b.WriteString(strings.TrimSuffix(sp.unit, ".service"))
		case 'p':
			b.WriteString(prefixed)
		case 'i', 'I':
			b.WriteString(instance)
		case 'h':
			b.WriteString(sp.home)
		case 'u':
			b.WriteString(sp.user)
		default:
			b.WriteByte('%')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
