package secret

import (
	"net/url"
	"regexp"
	"strings"
)

// urlMask is url.URL.Redacted's mask, used for every URL credential.
const urlMask = "xxxxx"

// RedactURL is the one display form of a URL or proxy value that may carry
// credentials: url.URL.Redacted ("user:xxxxx@"), a user name without a
// password masked too (it is often a token: https://glpat-…@gitlab…;
// not for ssh://, where it is the login name of a Docker host),
// query values masked and the fragment dropped. Values without a scheme
// ("user:pass@proxy:3128", as proxy variables are often written) keep
// their form; a value that is not a valid URL has everything before the
// last @ of its authority masked, so a malformed value never leaks.
func RedactURL(raw string) string {
	schemeless := !strings.Contains(raw, "://")
	parse := raw
	if schemeless {
		parse = "//" + raw
	}
	u, err := url.Parse(parse)
	if err != nil || u.Host == "" {
		return maskAuthority(raw)
	}
	out := RedactParsedURL(u)
	if schemeless {
		out = strings.TrimPrefix(out, "//")
	}
	return out
}

// RedactParsedURL is RedactURL for a parsed URL; u is not changed.
func RedactParsedURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		_, hasPassword := c.User.Password()
		switch {
		case !hasPassword && c.Scheme == "ssh":
			// ssh://ci@host (a Docker host): a login name, not a token.
		case !hasPassword:
			c.User = url.User(urlMask)
		default:
			// Redacted masks a non-empty password only.
			c.User = url.UserPassword(c.User.Username(), urlMask)
		}
	}
	if c.RawQuery != "" {
		q := c.Query()
		for k, vs := range q {
			for i := range vs {
				vs[i] = urlMask
			}
			q[k] = vs
		}
		c.RawQuery = q.Encode()
	}
	c.ForceQuery = false
	c.Fragment, c.RawFragment = "", ""
	return c.Redacted()
}

// maskAuthority masks everything before the last @ of raw's authority,
// without parsing.
func maskAuthority(raw string) string {
	prefix, rest := "", raw
	if i := strings.Index(raw, "://"); i >= 0 {
		prefix, rest = raw[:i+3], raw[i+3:]
	}
	authority := rest
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		authority = rest[:j]
	}
	if k := strings.LastIndex(authority, "@"); k >= 0 {
		return prefix + urlMask + rest[k:]
	}
	return raw
}

// urlInText finds URLs with a scheme inside free text: an environment
// value that is a list, a line of config.toml or config.json.
var urlInText = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s,;"'<>]+`)

// RedactURLsIn applies RedactURL to every URL with a scheme in text.
func RedactURLsIn(text string) string {
	return urlInText.ReplaceAllStringFunc(text, RedactURL)
}
