package render

import (
	"regexp"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/runnerup/runnerup/internal/secret"
)

// Values are hidden per line by the name of their key (secret.IsSecretName,
// one rule for config.toml keys, environment entries and JSON fields), so
// that secrets runnerup was never told about (other runners' tokens, S3
// keys, existing auths) are hidden too.
var (
	// tomlStringRE: a config.toml key, bare or quoted, assigned a string.
	// Submatches: 1 key and "=", 2-4 the key, 5-6 the value.
	tomlStringRE = regexp.MustCompile(`^(\s*(?:"([^"\\]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*=\s*)(?:"((?:\\.|[^"\\])*)"|'([^']*)')`)
	authConfigRE = regexp.MustCompile(`(DOCKER_AUTH_CONFIG=)((?:\\.|[^"\\])*)`)
	// envEntryRE: a quoted environment entry "NAME=value". Submatches:
	// 1 quote, name and "=", 2 the name, 3 the value.
	envEntryRE = regexp.MustCompile(`(["']([A-Za-z_][A-Za-z0-9_]*)=)((?:\\.|[^"'\\])*)`)
)

// RedactText hides every secret in a config.toml or config.json text: the
// values r knows, and the values of secret-bearing keys.
func RedactText(text string, r *secret.Redactor) string {
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		l = tomlStringRE.ReplaceAllStringFunc(l, func(m string) string {
			sub := tomlStringRE.FindStringSubmatch(m)
			key, value := sub[2]+sub[3]+sub[4], sub[5]+sub[6]
			switch {
			case !secret.IsSecretName(key):
				return m
			case strings.EqualFold(key, "token"):
				if value == "" {
					return m // token = "": nothing to hide, and the reason to prune it
				}
				return sub[1] + `"` + secret.Token(value) + `"`
			}
			return sub[1] + `"` + secret.Mask(value) + `"`
		})
		l = envEntryRE.ReplaceAllStringFunc(l, func(m string) string {
			sub := envEntryRE.FindStringSubmatch(m)
			if sub[2] == "DOCKER_AUTH_CONFIG" || !secret.IsSecretName(sub[2]) {
				return m // DOCKER_AUTH_CONFIG: authConfigRE below
			}
			return sub[1] + secret.Mask(sub[3])
		})
		l = secret.RedactURLsIn(l) // proxies, registry mirrors
		l = secret.RedactJSONFields(l, secret.Mask)
		l = authConfigRE.ReplaceAllStringFunc(l, func(m string) string {
			sub := authConfigRE.FindStringSubmatch(m)
			return sub[1] + secret.Mask(sub[2])
		})
		lines[i] = r.Redact(l)
	}
	return strings.Join(lines, "")
}

// Diff is the unified diff old→new of one file, redacted; empty when the
// bytes are equal.
func Diff(path string, old, new []byte, r *secret.Redactor) string {
	if string(old) == string(new) {
		return ""
	}
	fromFile := path
	if len(old) == 0 {
		fromFile = "/dev/null"
	}
	d := difflib.UnifiedDiff{
		A:        splitLines(RedactText(string(old), r)),
		B:        splitLines(RedactText(string(new), r)),
		FromFile: fromFile,
		ToFile:   path,
		Context:  3,
	}
	out, err := difflib.GetUnifiedDiffString(d)
	if err != nil {
		return "(diff unavailable: " + err.Error() + ")\n"
	}
	if out == "" {
		// The files differ only inside redacted values.
		return "--- " + fromFile + "\n+++ " + path + "\n(only secret values changed)\n"
	}
	if !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	return out
}

// noEOL marks a last line without a newline, as diff(1) and git do, so a
// change of the trailing newline alone is a visible change.
const noEOL = "\n\\ No newline at end of file\n"

// splitLines keeps line endings; unlike difflib.SplitLines, empty text has
// no lines (a new file diffs as all additions), and a last line without a
// newline carries noEOL.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	} else {
		lines[len(lines)-1] += noEOL
	}
	return lines
}
