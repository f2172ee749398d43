package diagnose

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/runnerup/runnerup/internal/secret"
	"github.com/runnerup/runnerup/probe"
)

// rawSources are the bytes of the credential sources, read here as well as
// by the credentials package: to know every secret they hold (for the
// redactor, even when they do not parse) and which keys an inline `auths`
// entry has (to tell credential-source-dropped from a helper's own key).
type rawSources struct {
	authConfig []byte // DOCKER_AUTH_CONFIG as the job sees it (nil: unset)
	authFrom   string // "ci-variable", "runner-env" or ""
	home       []byte // the runner user's config.json / .dockercfg (nil: none)
}

// rawConfig is the part of a Docker config a diagnosis reads.
type rawConfig struct {
	Auths       map[string]json.RawMessage `json:"auths"`
	CredsStore  string                     `json:"credsStore"`
	CredHelpers map[string]string          `json:"credHelpers"`
}

func parseRaw(b []byte) rawConfig {
	var c rawConfig
	_ = json.Unmarshal(b, &c)
	return c
}

func loadRawSources(opts Options, r Runner) rawSources {
	var rs rawSources
	switch {
	case opts.AuthConfig != nil:
		rs.authConfig, rs.authFrom = []byte(*opts.AuthConfig), "ci-variable"
	default:
		for _, kv := range r.Environment {
			if v, ok := strings.CutPrefix(kv, "DOCKER_AUTH_CONFIG="); ok {
				rs.authConfig, rs.authFrom = []byte(v), "runner-env"
			}
		}
	}
	switch {
	case opts.ConfigJSON != nil:
		rs.home = opts.ConfigJSON
	case opts.HomeDir != "":
		for _, p := range []string{filepath.Join(opts.HomeDir, ".docker", "config.json"), filepath.Join(opts.HomeDir, ".dockercfg")} {
			if b, err := os.ReadFile(p); err == nil {
				rs.home = b
				break
			}
		}
	}
	return rs
}

// bearerRE catches an Authorization value quoted in a pasted log.
var bearerRE = regexp.MustCompile(`(?i)\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{12,}`)

// redactor knows every secret of the sources.
type redactor struct{ r secret.Redactor }

func newRedactor(rs rawSources) *redactor {
	red := &redactor{}
	for _, b := range [][]byte{rs.authConfig, rs.home} {
		if len(b) == 0 {
			continue
		}
		if s := strings.TrimSpace(string(b)); len(s) >= 8 && s != "{}" {
			red.r.AddMasked(s) // a whole DOCKER_AUTH_CONFIG value never shows
		}
		// Secret-named fields, also when the JSON does not parse.
		for _, f := range secret.SecretJSONFields(string(b)) {
			red.add(f.Value)
			var unq string
			if json.Unmarshal([]byte(`"`+f.Value+`"`), &unq) == nil {
				red.add(unq)
			}
			if strings.EqualFold(f.Name, "auth") {
				if dec, err := base64.StdEncoding.DecodeString(unq); err == nil {
					_, pass, _ := strings.Cut(string(dec), ":")
					red.add(pass)
				}
			}
		}
	}
	return red
}

func (red *redactor) add(v string) {
	red.r.AddMasked(v)
	if t := strings.TrimSpace(v); t != v {
		red.r.AddMasked(t)
	}
}

func (red *redactor) s(v string) string {
	v = red.r.Redact(v)
	// Values nobody registered, quoted in a pasted log: a helper's answer,
	// a config fragment, an Authorization header.
	v = secret.RedactJSONFields(v, func(string) string { return "***" })
	return bearerRE.ReplaceAllString(v, "$1 ***")
}

func (red *redactor) list(vs []string) []string {
	for i := range vs {
		vs[i] = red.s(vs[i])
	}
	return vs
}

func (red *redactor) result(r probe.Result) probe.Result {
	r.Title, r.Detail, r.Hint = red.s(r.Title), red.s(r.Detail), red.s(r.Hint)
	return r
}

func (red *redactor) causes(cs []Cause) {
	for i := range cs {
		cs[i].Summary = red.s(cs[i].Summary)
		red.list(cs[i].Evidence)
		red.list(cs[i].Fix)
	}
}

// report scrubs every text of a report in place.
func (red *redactor) report(rep *Report) {
	for i := range rep.Checks {
		rep.Checks[i] = red.result(rep.Checks[i])
		// Data holds the resolved credential and transports: facts for
		// the analysis, never for a caller that might print them.
		rep.Checks[i].Data = nil
	}
	red.causes(rep.Causes)
	red.causes(rep.Latent)
	if v := rep.Verdict; v != nil {
		v.Why = red.s(v.Why)
		red.list(v.NotRunnerHost)
		red.causes(v.ThisMachine)
		red.causes(v.Overruled)
	}
	red.list(rep.Notes)
	if c := rep.Credentials; c != nil {
		c.Why, c.JobPayload = red.s(c.Why), red.s(c.JobPayload)
		red.list(c.NearMisses)
		red.list(c.Problems)
		for i := range c.Sources {
			c.Sources[i].Reason = red.s(c.Sources[i].Reason)
		}
	}
	if l := rep.Log; l != nil {
		red.list(l.Lines)
		for i := range l.Matches {
			l.Matches[i].Line = red.s(l.Matches[i].Line)
			red.list(l.Matches[i].Fix)
		}
	}
}

// addCredential registers the credential the runner resolved.
func (red *redactor) addCredential(user, pass, token string) {
	red.add(pass)
	red.add(token)
	if pass != "" {
		red.add(base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)))
	}
}
