package diagnose

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/credentials"
)

// CredentialReport explains which credential the runner sends for the
// image, and why every other source did not count.
type CredentialReport struct {
	// RegistryPath is the image path as the runner matches keys against it.
	RegistryPath string `json:"registry_path"`
	// Source is the winning source as the runner logs it, or "none".
	Source   string `json:"source"`
	Key      string `json:"key,omitempty"`
	Username string `json:"username,omitempty"`
	// Why says in one sentence which source won and why.
	Why        string       `json:"why"`
	Sources    []SourceLine `json:"sources"`
	NearMisses []string     `json:"near_misses,omitempty"`
	Problems   []string     `json:"problems,omitempty"`
	// JobPayload explains CI_REGISTRY / CI_JOB_TOKEN for an image on the
	// runner's GitLab registry.
	JobPayload string `json:"job_payload,omitempty"`
}

// SourceLine is one credential source in the runner's precedence order.
type SourceLine struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Reason string `json:"reason"`
	Key    string `json:"key,omitempty"`
	Cause  string `json:"cause,omitempty"`
}

func (d *diagnosis) authOrigin() string {
	switch d.raw.authFrom {
	case "ci-variable":
		return "the CI/CD variable given with --auth-config"
	case "runner-env":
		name := "the runner"
		if d.runner.Name != "" {
			name = fmt.Sprintf("runner %q", d.runner.Name)
		}
		return "the [[runners]] environment of " + name
	}
	return ""
}

func (d *diagnosis) credentialReport(res credentials.Resolution, gitlab bool) *CredentialReport {
	cr := &CredentialReport{RegistryPath: res.RegistryPath, Source: "none", NearMisses: res.NearMisses}
	if res.Found {
		cr.Source, cr.Key, cr.Username = res.Source, res.Key, res.Credential.Username
	}
	for _, s := range res.Sources {
		line := SourceLine{Name: s.Name, Status: s.Status, Reason: s.Reason, Key: s.Key, Cause: s.Cause}
		if s.Name == credentials.SourceJobPayload && gitlab {
			line.Reason = d.jobPayload(res)
			cr.JobPayload = line.Reason
		}
		cr.Sources = append(cr.Sources, line)
	}
	for _, p := range res.Problems {
		cr.Problems = append(cr.Problems, p.Message)
	}

	var why strings.Builder
	switch {
	case res.Fatal != nil:
		fmt.Fprintf(&why, "credential resolution fails before any registry is contacted: %v", res.Fatal)
	case res.Found:
		fmt.Fprintf(&why, "the runner sends the credential from %s (key %q", res.Source, res.Key)
		if res.Credential.Username != "" {
			fmt.Fprintf(&why, ", user %q", res.Credential.Username)
		}
		why.WriteString(")")
		if res.Source == credentials.SourceAuthConfig {
			fmt.Fprintf(&why, ", set in %s: DOCKER_AUTH_CONFIG comes first in the runner's order", d.authOrigin())
		}
		for _, s := range res.Sources {
			switch s.Status {
			case credentials.StatusShadowed:
				fmt.Fprintf(&why, "; %s also has a key for it (%q) but is not used: the first source wins", s.Name, s.Key)
			case credentials.StatusDropped:
				if s.Key != "" {
					fmt.Fprintf(&why, "; %s would have matched (%q) but the runner discards it", s.Name, s.Key)
				}
			}
		}
	default:
		fmt.Fprintf(&why, "no source the runner reads has a credential for %s, so it pulls anonymously", res.RegistryPath)
		if gitlab {
			fmt.Fprintf(&why, "; in a job, GitLab's job-payload credentials (gitlab-ci-token, $CI_JOB_TOKEN) are used for %s", d.im.host)
		}
	}
	cr.Why = why.String()
	return cr
}

// jobPayload explains the third source for an image on the runner's GitLab
// registry; runnerup has no job token, so it cannot try it.
func (d *diagnosis) jobPayload(res credentials.Resolution) string {
	s := fmt.Sprintf("GitLab sends CI_REGISTRY=%s with user gitlab-ci-token and the job's $CI_JOB_TOKEN as password with every job", d.im.host)
	if res.Found {
		return s + fmt.Sprintf("; it is not used for this image: %s matched first (first source wins)", res.Source)
	}
	return s + "; no earlier source matches, so a job uses it: it can pull from the job's own project and from projects whose CI/CD job token allowlist includes it (the pipeline user needs the Reporter role); runnerup has no job token and probed anonymously"
}

// credentialEvidence says what the runner sent, for an auth failure that
// no credential problem explains.
func (d *diagnosis) credentialEvidence(res *credentials.Resolution, gitlab bool) []string {
	if res == nil {
		return nil
	}
	var out []string
	if res.Found {
		line := fmt.Sprintf("the runner sends the credential from %s (key %q, user %q)", res.Source, res.Key, res.Credential.Username)
		if res.Source == credentials.SourceAuthConfig {
			line += " set in " + d.authOrigin()
		}
		out = append(out, line)
		for _, s := range res.Sources {
			if s.Status == credentials.StatusShadowed {
				out = append(out, fmt.Sprintf("%s also has key %q for it, shadowed: if that one is right, remove the entry from %s", s.Name, s.Key, res.Source))
			}
		}
		return out
	}
	for i, s := range res.Sources {
		if s.Status == credentials.StatusAbsent && s.Name == credentials.SourceJobPayload && gitlab {
			continue
		}
		line := fmt.Sprintf("%s: %s: %s", s.Name, s.Status, s.Reason)
		if raw := d.sourceRaw(i); s.Status == credentials.StatusNoMatch && raw.CredsStore != "" {
			line += fmt.Sprintf(" (its credsStore %q lists nothing for %q: docker-credential-%s list must include it; docker login %s stores it there)",
				raw.CredsStore, res.Host, raw.CredsStore, dockerLoginHost(res.Host))
		}
		out = append(out, line)
	}
	if gitlab {
		out = append(out, d.jobPayload(*res))
	}
	return out
}

var helperNameRE = regexp.MustCompile(`docker-credential-([A-Za-z0-9_.+-]+)`)

// sourceRaw is the raw config of source index i (0 DOCKER_AUTH_CONFIG,
// 1 the home file), in the credentials package's order.
func (d *diagnosis) sourceRaw(i int) rawConfig {
	switch i {
	case 0:
		return parseRaw(d.raw.authConfig)
	case 1:
		return parseRaw(d.raw.home)
	}
	return rawConfig{}
}

// failingHelper names the helper that broke a source: from the error
// text when it names the binary, else the first failing helper.<name>
// check among the helpers the source names.
func failingHelper(s credentials.SourceReport, raw rawConfig, byID map[string]probe.Result) string {
	texts := s.Reason
	if s.Err != nil {
		texts = s.Err.Error() + " " + texts
	}
	if m := helperNameRE.FindStringSubmatch(texts); m != nil {
		return strings.Trim(m[1], `".,:`)
	}
	var names []string
	if raw.CredsStore != "" {
		names = append(names, raw.CredsStore)
	}
	for _, k := range sortedKeys(raw.CredHelpers) {
		if h := raw.CredHelpers[k]; !slices.Contains(names, h) {
			names = append(names, h)
		}
	}
	for _, n := range names {
		if r, ok := byID[credentials.HelperCheckID(n)]; ok && r.Status == probe.Fail {
			return n
		}
	}
	if len(names) > 0 {
		return names[0]
	}
	return ""
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// nearMissKey is the key a near-miss line names ("\"key\" in source: why").
func nearMissKey(line string) string {
	if !strings.HasPrefix(line, `"`) {
		return ""
	}
	q, err := strconv.QuotedPrefix(line)
	if err != nil {
		return ""
	}
	k, _ := strconv.Unquote(q)
	return k
}

// credentialFindings turns the credentials package's per-source report
// into causes: a dropped source, a key that nearly matched, a helper with
// nothing for the host, a winning value that cannot work.
func (d *diagnosis) credentialFindings(res *credentials.Resolution, credR probe.Result, byID map[string]probe.Result, base fixContext) []finding {
	if res == nil {
		return nil
	}
	var out []finding
	credEv := evidenceOf(credR)
	if res.Fatal != nil {
		out = append(out, finding{id: "credential-helper-path", fc: base, evidence: []string{credEv}})
	}
	for i, s := range res.Sources {
		raw := d.sourceRaw(i)
		fc := base
		fc.SourceName = s.Name
		if i == 0 && d.authOrigin() != "" {
			fc.SourceName = "DOCKER_AUTH_CONFIG (" + d.authOrigin() + ")"
		}
		ev := fmt.Sprintf("%s: %s: %s", s.Name, s.Status, s.Reason)
		switch {
		case s.Status == credentials.StatusDropped && (s.Cause == credentials.CauseHelperMissing || s.Cause == credentials.CauseHelperFailed || s.Cause == credentials.CauseHelperUnreachable):
			if s.Key == "" && !s.Incomplete {
				continue // what it lost does not match this image
			}
			fc.Helper = failingHelper(s, raw, byID)
			evs := []string{ev}
			if r, ok := byID[credentials.HelperCheckID(fc.Helper)]; ok && r.Status != probe.Pass {
				evs = append(evs, evidenceOf(r))
				if s.Cause == credentials.CauseHelperMissing {
					fc.Hint = r.Hint // where the runner looks, and how to put it there
				}
			}
			id := s.Cause
			if id == credentials.CauseHelperUnreachable {
				id = credentials.CauseHelperFailed
			}
			_, inline := raw.Auths[s.Key]
			if s.Key != "" && inline && raw.CredHelpers[s.Key] == "" {
				out = append(out, finding{id: credentials.CauseSourceDropped, fc: fc, evidence: append([]string{
					fmt.Sprintf("the credential for this image is the inline auths entry %q of %s; docker-credential-%s failing makes the runner drop the whole source (docker pull on this host would still use it)", s.Key, s.Name, fc.Helper),
				}, evs...)})
			}
			out = append(out, finding{id: id, fc: fc, evidence: evs})
		case s.Status == credentials.StatusDropped && s.Cause != "":
			if s.Key == "" && !s.Incomplete {
				continue
			}
			out = append(out, finding{id: s.Cause, fc: fc, evidence: []string{ev}})
		case (s.Status == credentials.StatusNoMatch || s.Status == credentials.StatusEmpty) && s.Cause == credentials.CauseKeyMismatch:
			fc.BadKey = s.Key
			evs := []string{ev}
			for _, nm := range res.NearMisses {
				if strings.Contains(nm, " in "+s.Name+": ") {
					evs = append(evs, "near miss: "+nm)
					if fc.BadKey == "" {
						fc.BadKey = nearMissKey(nm)
					}
				}
			}
			out = append(out, finding{id: credentials.CauseKeyMismatch, fc: fc, evidence: evs})
		case s.Status == credentials.StatusNoMatch && s.Cause == credentials.CauseHelperFailed:
			fc.Helper = failingHelper(s, raw, byID)
			out = append(out, finding{id: credentials.CauseHelperFailed, fc: fc, evidence: []string{ev}})
		}
	}
	for _, p := range res.Problems {
		if !p.Fatal {
			continue
		}
		fc := base
		fc.SourceName = res.Source
		switch p.Cause {
		case credentials.CauseBase64Newline, credentials.CauseHelperFailed:
			out = append(out, finding{id: p.Cause, fc: fc, evidence: []string{fmt.Sprintf("%s (key %q): %s", res.Source, res.Key, p.Message)}})
		}
	}
	if !res.Found && len(res.NearMisses) > 0 && !slices.ContainsFunc(out, func(f finding) bool { return f.id == credentials.CauseKeyMismatch }) {
		fc := base
		fc.BadKey = nearMissKey(res.NearMisses[0])
		var evs []string
		for _, nm := range res.NearMisses {
			evs = append(evs, "near miss: "+nm)
		}
		out = append(out, finding{id: credentials.CauseKeyMismatch, fc: fc, evidence: evs})
	}
	return out
}

// rawUser is the username an inline auths entry for key holds in any
// source (usernames are not secret), so a fix can name it even when the
// runner dropped the source.
func (d *diagnosis) rawUser(keys ...string) string {
	for _, b := range [][]byte{d.raw.authConfig, d.raw.home} {
		raw := parseRaw(b)
		for _, k := range keys {
			msg, ok := raw.Auths[k]
			if !ok {
				continue
			}
			var e struct {
				Auth     string `json:"auth"`
				Username string `json:"username"`
			}
			if json.Unmarshal(msg, &e) != nil {
				continue
			}
			if e.Username != "" {
				return e.Username
			}
			if dec, err := base64.StdEncoding.DecodeString(e.Auth); err == nil {
				if u, _, ok := strings.Cut(string(dec), ":"); ok && u != "" {
					return u
				}
			}
		}
	}
	return ""
}
