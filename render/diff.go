package render

import (
	"regexp"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/runnerup/runnerup/internal/secret"
)

// Secret-bearing keys, matched per line so that secrets runnerup was never
// told about (other runners' tokens, S3 keys, existing auths) are hidden too.
var (
	tomlTokenRE  = regexp.MustCompile(`^(\s*token\s*=\s*)(?:"((?:\\.|[^"\\])*)"|'([^']*)')`)
	tomlSecretRE = regexp.MustCompile(`^(\s*(?:SecretKey|SessionToken|AccessKey|AccountKey|PrivateKey|password|docker_auth_config)\s*=\s*)(?:"((?:\\.|[^"\\])*)"|'([^']*)')`)
	jsonSecretRE = regexp.MustCompile(`("(?i:auth|password|identitytoken|registrytoken)"\s*:\s*)"((?:\\.|[^"\\])*)"`)
	authConfigRE = regexp.MustCompile(`(DOCKER_AUTH_CONFIG=)((?:\\.|[^"\\])*)`)
	// environment entries whose name says secret: "DEPLOY_KEY=…".
	envSecretRE = regexp.MustCompile(`(["'][A-Za-z_][A-Za-z0-9_]*(?i:token|passw|secret|key|auth|credential)[A-Za-z0-9_]*=)((?:\\.|[^"'\\])*)`)
)

// RedactText hides every secret in a config.toml or config.json text: the
// values r knows, and the values of secret-bearing keys.
func RedactText(text string, r *secret.Redactor) string {
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		l = tomlTokenRE.ReplaceAllStringFunc(l, func(m string) string {
			sub := tomlTokenRE.FindStringSubmatch(m)
			if sub[2]+sub[3] == "" {
				return m // token = "": nothing to hide, and the reason to prune it
			}
			return sub[1] + `"` + secret.Token(sub[2]+sub[3]) + `"`
		})
		l = tomlSecretRE.ReplaceAllStringFunc(l, func(m string) string {
			sub := tomlSecretRE.FindStringSubmatch(m)
			return sub[1] + `"` + secret.Mask(sub[2]+sub[3]) + `"`
		})
		l = envSecretRE.ReplaceAllStringFunc(l, func(m string) string {
			sub := envSecretRE.FindStringSubmatch(m)
			if strings.HasPrefix(sub[1][1:], "DOCKER_AUTH_CONFIG=") {
				return m // authConfigRE below
			}
			return sub[1] + secret.Mask(sub[2])
		})
		l = secret.RedactURLsIn(l) // proxies, registry mirrors
		l = jsonSecretRE.ReplaceAllStringFunc(l, func(m string) string {
			sub := jsonSecretRE.FindStringSubmatch(m)
			return sub[1] + `"` + secret.Mask(sub[2]) + `"`
		})
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
