package secret

import (
	"regexp"
	"strings"
	"unicode"
)

// IsSecretName reports whether a key, field or variable name says its value
// is a credential: the one rule behind every "mask this value because of
// its name" decision (environment entries, config.toml keys, Docker config
// and credential-helper JSON fields).
//
// The name is split into words at '_', '-', '.', spaces and lower→upper
// case changes (SecretKey → secret key, CI_REGISTRY_PASSWD → ci registry
// passwd). It is secret when
//   - one word is a secret word (token, password, passwd, pass, pwd,
//     secret, auth, authorization, credential(s), creds, key(s), jwt, dsn,
//     passphrase, bearer, apikey, accesskey, secretkey, privatekey,
//     accountkey), or a word ends in token, password, passwd or secret
//     (identitytoken, registrytoken, clientsecret);
//   - and the last word does not make it a name for something else about
//     the secret: file, path, dir, id, type, name, url, at, store, helper(s)
//     (SSH_KEY_PATH, tls-key-file, AWS_ACCESS_KEY_ID, token_obtained_at,
//     credsStore hold no secret).
//
// Whole words only: KEYBOARD, MONKEY, AUTHOR and BYPASS are not secret.
func IsSecretName(name string) bool {
	words := nameWords(name)
	if len(words) == 0 || notSecretLast[words[len(words)-1]] {
		return false
	}
	for _, w := range words {
		if secretWords[w] {
			return true
		}
		for _, suf := range secretSuffixes {
			if strings.HasSuffix(w, suf) {
				return true
			}
		}
	}
	return false
}

var secretWords = map[string]bool{
	"token": true, "tokens": true,
	"password": true, "passwords": true, "passwd": true, "pass": true, "pwd": true, "passphrase": true,
	"secret": true, "secrets": true,
	"auth": true, "authorization": true, "bearer": true,
	"credential": true, "credentials": true, "creds": true,
	"key": true, "keys": true, "apikey": true, "accesskey": true, "secretkey": true,
	"privatekey": true, "accountkey": true,
	"jwt": true, "dsn": true,
}

// secretSuffixes catch words written together (identitytoken,
// registrytoken, mypassword, clientsecret); "key" is not one of them
// because too many ordinary words end in it (monkey, hockey).
var secretSuffixes = []string{"token", "password", "passwd", "secret"}

var notSecretLast = map[string]bool{
	"file": true, "path": true, "dir": true, "id": true, "type": true, "name": true,
	"url": true, "at": true, "store": true, "helper": true, "helpers": true,
}

// nameWords splits a name into lower-case words at separators and at
// lower→upper case changes.
func nameWords(name string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	var prev rune
	for _, r := range name {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && (unicode.IsLower(prev) || unicode.IsDigit(prev)):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
		prev = r
	}
	flush()
	return words
}

var (
	// jsonFieldRE is a JSON string field: 1 the name with its quotes and
	// colon, 2 the name, 3 the value.
	jsonFieldRE = regexp.MustCompile(`("([^"\\]*)"\s*:\s*)"((?:[^"\\]|\\.)*)"`)
	// escapedJSONFieldRE is the same field in JSON quoted inside another
	// string ({\"password\":\"…\"}: a DOCKER_AUTH_CONFIG in TOML or HCL).
	escapedJSONFieldRE = regexp.MustCompile(`(\\"([^"\\]*)\\"\s*:\s*)\\"((?:[^"\\]|\\[^"])*)\\"`)
)

// JSONField is one string field a JSON text holds.
type JSONField struct{ Name, Value string }

// SecretJSONFields returns the string fields of s whose name is a secret
// name, also in JSON that does not parse and in JSON quoted inside another
// string (values as written, escapes kept).
func SecretJSONFields(s string) []JSONField {
	var out []JSONField
	for _, re := range []*regexp.Regexp{jsonFieldRE, escapedJSONFieldRE} {
		for _, m := range re.FindAllStringSubmatch(s, -1) {
			if IsSecretName(m[2]) {
				out = append(out, JSONField{Name: m[2], Value: m[3]})
			}
		}
	}
	return out
}

// RedactJSONFields replaces the value of every string field of s whose
// name is a secret name with display(value), in plain JSON and in JSON
// quoted inside another string; the text around it is kept as it is.
func RedactJSONFields(s string, display func(value string) string) string {
	s = jsonFieldRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := jsonFieldRE.FindStringSubmatch(m)
		if !IsSecretName(sub[2]) {
			return m
		}
		return sub[1] + `"` + display(sub[3]) + `"`
	})
	return escapedJSONFieldRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := escapedJSONFieldRE.FindStringSubmatch(m)
		if !IsSecretName(sub[2]) {
			return m
		}
		return sub[1] + `\"` + display(sub[3]) + `\"`
	})
}
