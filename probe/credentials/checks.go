package credentials

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/runnerup/runnerup/probe"
)

// anonymousOK are registries whose images are mostly public, so finding no
// credentials there is normal rather than a warning.
var anonymousOK = map[string]bool{
	"docker.io": true, "mcr.microsoft.com": true, "registry.k8s.io": true, "public.ecr.aws": true,
}

// CheckID is the id of the credentials check for a registry host.
func CheckID(host string) string { return probe.ID("credentials", host) }

// HelperCheckID is the id of the check for one credential helper.
func HelperCheckID(name string) string { return probe.ID("helper", name) }

// Checks returns one credentials.<host> check per registry host of images
// (Data: the Resolution of the host's first image, the others in
// Related) and one helper.<name> check per credential helper the
// DOCKER_AUTH_CONFIG or home config names. Sources are read once here to
// find the helpers; the checks resolve afresh when they run.
func Checks(r Resolver, images []string) []probe.Check {
	var hosts []string
	byHost := map[string][]string{}
	for _, img := range images {
		if strings.TrimSpace(img) == "" {
			continue
		}
		h := hostOf(normalizeImageRef(img))
		if _, ok := byHost[h]; !ok {
			hosts = append(hosts, h)
		}
		if !slices.Contains(byHost[h], img) {
			byHost[h] = append(byHost[h], img)
		}
	}
	var checks []probe.Check
	for _, h := range hosts {
		imgs := byHost[h]
		checks = append(checks, probe.Check{
			ID:    CheckID(h),
			Title: "Registry credentials for " + h,
			Run: func(ctx context.Context, _ probe.Deps) probe.Result {
				return hostResult(ctx, r, imgs)
			},
		})
	}
	return append(checks, HelperChecks(r)...)
}

// HelperChecks returns one helper.<name> check per credential helper the
// DOCKER_AUTH_CONFIG or home config names: found where the runner looks
// (Resolver.Process), executable, and (unless LookupOnly) answering.
func HelperChecks(r Resolver) []probe.Check {
	var checks []probe.Check
	for _, hr := range r.helperRefs() {
		checks = append(checks, probe.Check{
			ID:    HelperCheckID(hr.name),
			Title: "Credential helper docker-credential-" + hr.name,
			Run: func(ctx context.Context, _ probe.Deps) probe.Result {
				return helperResult(ctx, r, hr)
			},
		})
	}
	return checks
}

// hostResult resolves every image of one host; the worst verdict wins.
func hostResult(ctx context.Context, r Resolver, images []string) probe.Result {
	var all []Resolution
	out := probe.Result{Status: probe.Pass}
	var details, hints []string
	for _, img := range images {
		res, err := r.Resolve(ctx, img)
		if err != nil {
			out := probe.Failf("the runner waits for helpers without a deadline, so its jobs would hang here; run the helper by hand as the runner user",
				"%v", err)
			out.Data = res
			return out
		}
		all = append(all, res)
		st, d, h := verdict(res)
		if len(images) > 1 {
			d = img + ": " + d
		}
		details = append(details, d)
		if h != "" && !slices.Contains(hints, h) {
			hints = append(hints, h)
		}
		out.Status = worse(out.Status, st)
	}
	out.Detail, out.Hint = strings.Join(details, "; "), strings.Join(hints, "; ")
	data := all[0]
	data.Related = all[1:]
	out.Data = data
	return out
}

// verdict turns one Resolution into a status, detail and hint: first
// what the runner sends, then anything that breaks or weakens it.
func verdict(res Resolution) (probe.Status, string, string) {
	if res.Fatal != nil {
		return probe.Fail, fmt.Sprintf("every image pull fails: %v", res.Fatal),
			"use the helper's bare name (docker-credential-<name> must be on the runner's PATH); the runner refuses names with a path"
	}
	st := probe.Pass
	var parts, hints []string
	add := func(s probe.Status, part, hint string) {
		st = worse(st, s)
		parts = append(parts, part)
		if hint != "" {
			hints = append(hints, hint)
		}
	}

	if res.Found {
		add(probe.Pass, fmt.Sprintf("from %s (key %s)", res.Source, res.Key), "")
		for _, p := range res.Problems {
			s, hint := probe.Warn, ""
			if p.Fatal {
				s = probe.Fail
			}
			if p.Cause == CauseBase64Newline {
				hint = "encode with printf '%s:%s' \"$USER\" \"$PASS\" | base64 -w0 (echo adds a newline)"
			}
			add(s, p.Message, hint)
		}
	} else {
		s, hint := probe.Warn, ""
		part := fmt.Sprintf("no credentials for %s in any source; the pull goes out anonymously", res.RegistryPath)
		if anonymousOK[res.Host] && len(res.NearMisses) == 0 {
			s, hint = probe.Pass, ""
			part = fmt.Sprintf("no credentials for %s; pulls anonymously", res.RegistryPath)
			if res.Host == dockerHub {
				part += " (anonymous Docker Hub pulls are rate-limited)"
			}
		}
		add(s, part, hint)
		for _, src := range res.Sources {
			if src.Cause == CauseHelperFailed && src.Status == StatusNoMatch {
				add(probe.Warn, src.Name+": "+src.Reason,
					"the helper has nothing for this host in the runner's context (for ecr-login: no AWS identity or region for the runner user; see ~/.ecr/log)")
			}
		}
		if len(res.NearMisses) > 0 {
			add(probe.Warn, "near misses: "+strings.Join(res.NearMisses, "; "),
				fmt.Sprintf("name the key exactly %q (host[:port] as in the image; this spelling works for the docker CLI too)", suggestedKey(res)))
		}
		if st == probe.Warn && len(hints) == 0 {
			hints = append(hints, fmt.Sprintf("if the image is private, add an auths entry for %q to DOCKER_AUTH_CONFIG or the runner user's ~/.docker/config.json; images on this GitLab's own registry get the job token instead", suggestedKey(res)))
		}
	}

	for i, s := range res.Sources {
		if s.Status != StatusDropped || s.Err == nil {
			continue
		}
		if dropMatters(s, i, res) {
			add(probe.Fail, fmt.Sprintf("%s is discarded: %s", s.Name, s.Reason), dropHint(s))
		} else {
			parts = append(parts, fmt.Sprintf("(%s is discarded (%s), which does not change this image's credentials)", s.Name, s.Cause))
		}
	}
	return st, strings.Join(parts, "; "), strings.Join(hints, "; ")
}

// dropMatters: a dropped source matters for this image when a key it lost
// would have won (longer path than the winner's, or the same path from an
// earlier source), or when nobody knows what it held and it could have.
func dropMatters(s SourceReport, i int, res Resolution) bool {
	switch {
	case !res.Found:
		return s.Key != "" || s.Incomplete
	}
	winnerIdx := slices.IndexFunc(res.Sources, func(s SourceReport) bool { return s.Status == StatusUsed })
	switch {
	case s.Incomplete:
		// Unknown contents could only have won from an earlier position
		// (a longer namespace key in a later source is possible but rare
		// enough not to fail every host over it).
		return i < winnerIdx
	case s.Key == "":
		return false
	}
	lost, won := len(convertToRegistryPath(s.Key)), len(convertToRegistryPath(res.Credential.ServerAddress))
	return lost > won || (lost == won && i < winnerIdx)
}

// suggestedKey is the key both the runner and the docker CLI find.
func suggestedKey(res Resolution) string {
	if res.Host == dockerHub {
		return "https://index.docker.io/v1/"
	}
	return res.Host
}

func dropHint(s SourceReport) string {
	switch s.Cause {
	case CauseHelperMissing:
		return "a credsStore/credHelpers helper missing from the runner's PATH discards the whole source, plain auths included (credstore-helper-missing); install it where the gitlab-runner process finds it, or remove the entry"
	case CauseHelperFailed:
		return "a failing helper discards the whole source, plain auths included (credhelper-failed); run `printf HOST | docker-credential-NAME get` as the runner user with the runner's environment"
	case CauseBase64Invalid:
		return "one bad `auth` discards the whole source (auth-base64-invalid); regenerate it with printf '%s:%s' \"$USER\" \"$PASS\" | base64 -w0"
	case CauseMalformed:
		return "DOCKER_AUTH_CONFIG is not valid JSON (docker-auth-config-malformed); generate it with jq -n instead of writing it by hand"
	}
	return "fix or remove the file; the runner ignores it without a word (credential-source-dropped)"
}

var rank = map[probe.Status]int{probe.Pass: 0, probe.Skip: 1, probe.Warn: 2, probe.Fail: 3}

func worse(a, b probe.Status) probe.Status {
	if rank[b] > rank[a] {
		return b
	}
	return a
}
