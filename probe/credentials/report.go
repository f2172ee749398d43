package credentials

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// maxListed bounds the keys a reason lists, so a big config stays readable.
const maxListed = 6

// reportSource explains what source i contributed for the image.
func reportSource(i int, l loaded, srcs []loaded, w *registryInfo, res Resolution) SourceReport {
	rep := SourceReport{Name: l.raw.name}
	notes := func(s string) string {
		if len(l.raw.notes) == 0 {
			return s
		}
		return s + " (" + strings.Join(l.raw.notes, "; ") + ")"
	}
	switch {
	case l.raw.status != "":
		rep.Status, rep.Reason, rep.Err = l.raw.status, notes(l.raw.reason), l.raw.err
		if rep.Status == StatusDropped && rep.Err != nil {
			rep.Cause, rep.Incomplete = CauseSourceDropped, true
		}
		return rep
	case l.p.fatal != nil:
		rep.Status, rep.Cause, rep.Err = StatusDropped, CausePathTraversal, l.p.fatal
		rep.Reason = notes(fmt.Sprintf("%v: the runner refuses a helper name with a path component and fails every image pull", l.p.fatal))
		return rep
	case l.p.err != nil:
		rep.Status, rep.Cause, rep.Err, rep.Incomplete = StatusDropped, l.p.cause, l.p.err, l.p.incomplete
		rep.Key, rep.Reason = droppedReason(l, res.RegistryPath)
		rep.Reason = notes(rep.Reason)
		return rep
	case l.p.empty:
		rep.Status = StatusEmpty
		rep.Reason = "it has no auths, credsStore or credHelpers, so the runner skips it"
		if l.p.legacy {
			rep.Reason = `it uses the old .dockercfg layout (registry keys at the top level); the runner's parser (docker/cli LoadFromReader) reads only "auths", so it contributes nothing`
			rep.Cause = CauseKeyMismatch
		}
		rep.Reason = notes(rep.Reason)
		return rep
	}

	own := bestOwnMatch(l.p.entries, res.RegistryPath)
	switch {
	case w != nil && w.src == i:
		rep.Status, rep.Key = StatusUsed, w.e.key
		rep.Reason = fmt.Sprintf("key %q (%s) normalises to %q and is the longest match for %q", w.e.key, w.e.via, w.e.path, res.RegistryPath)
		if dups := sameSourceDuplicates(l.p.entries, w.e); len(dups) > 0 {
			rep.Reason += fmt.Sprintf("; %s also normalise(s) to %q but sort after it, so the runner ignores them", quoteList(dups), w.e.path)
		}
	case own != nil && res.Fatal != nil:
		rep.Status, rep.Key = StatusDropped, own.key
		rep.Reason = fmt.Sprintf("key %q matches, but credential resolution fails first (%v)", own.key, res.Fatal)
	case own != nil && w != nil:
		rep.Status, rep.Key = StatusShadowed, own.key
		winner := srcs[w.src].raw.name
		if own.path == w.e.path {
			rep.Reason = fmt.Sprintf("key %q normalises to %q, which is already set from %s (key %q); the first source wins", own.key, own.path, winner, w.e.key)
		} else {
			rep.Reason = fmt.Sprintf("key %q matches as %q, but the longer path %q from %s wins", own.key, own.path, w.e.path, winner)
		}
	default:
		rep.Status = StatusNoMatch
		rep.Reason, rep.Key, rep.Cause = noMatchReason(l, res.RegistryPath)
	}
	rep.Reason = notes(rep.Reason)
	return rep
}

// bestOwnMatch is the source's own longest match, as if it were alone.
func bestOwnMatch(entries []entry, imagePath string) *entry {
	var best *entry
	for i := range entries {
		e := &entries[i]
		if e.path == "" || !isAncestorOrSelf(e.path, imagePath) {
			continue
		}
		if best == nil || len(e.path) > len(best.path) {
			best = e
		}
	}
	return best
}

func sameSourceDuplicates(entries []entry, w entry) []string {
	var out []string
	for _, e := range entries {
		if e.path == w.path && e.key != w.key {
			out = append(out, e.key)
		}
	}
	return out
}

// droppedReason says why a source was discarded, in the runner's words
// where it has any, and which keys went with it.
func droppedReason(l loaded, imagePath string) (key, reason string) {
	var b strings.Builder
	if l.raw.name == SourceAuthConfig {
		fmt.Fprintf(&b, "the job log shows: Failed to resolve credentials from %s: %v. Credentials from this source will not be used.", l.raw.name, l.p.err)
	} else {
		fmt.Fprintf(&b, "the runner drops this file silently (no log line): %v", l.p.err)
	}
	if l.p.cause == CauseBase64Invalid {
		var bad []string
		for _, k := range slices.Sorted(maps.Keys(l.p.raw)) {
			if err := l.p.raw[k].decodeErr; err != nil {
				bad = append(bad, fmt.Sprintf("auths[%q].auth: %v", k, err))
			}
		}
		if len(bad) > 0 {
			fmt.Fprintf(&b, "; bad entries: %s", strings.Join(bad, ", "))
		}
	}
	if len(l.p.helperErrs) > 1 {
		fmt.Fprintf(&b, "; all failing helpers: %s", strings.Join(l.p.helperErrs, "; "))
	}
	if len(l.p.keys) > 0 {
		fmt.Fprintf(&b, "; credentials lost with it: %s", quoteList(l.p.keys))
		for _, k := range l.p.keys {
			p := convertToRegistryPath(k)
			if p != "" && isAncestorOrSelf(p, imagePath) && (key == "" || len(p) > len(convertToRegistryPath(key))) {
				key = k
			}
		}
		switch {
		case key != "" && len(l.p.keys) == 1:
			fmt.Fprintf(&b, ", which would match %q", imagePath)
		case key != "":
			fmt.Fprintf(&b, ", including %q, which would match %q", key, imagePath)
		}
	}
	return key, b.String()
}

// noMatchReason lists how the source's keys normalise, and calls out a
// helper that answered "not found" for a key that would have matched.
func noMatchReason(l loaded, imagePath string) (reason, key, cause string) {
	for _, e := range l.p.entries {
		if e.notFound && e.path == "" && isAncestorOrSelf(convertToRegistryPath(e.key), imagePath) {
			return fmt.Sprintf("%s answered \"credentials not found\" for %q: the runner keeps an entry with no server address, which matches nothing (and replaces any auths entry under that key)", e.via, e.key),
				e.key, CauseHelperFailed
		}
	}
	var forms []string
	for _, e := range l.p.entries {
		if e.path == "" {
			continue
		}
		if len(forms) == maxListed {
			forms = append(forms, "…")
			break
		}
		if e.path == e.key {
			forms = append(forms, fmt.Sprintf("%q", e.key))
		} else {
			forms = append(forms, fmt.Sprintf("%q → %q", e.key, e.path))
		}
	}
	reason = fmt.Sprintf("no key matches %q", imagePath)
	if len(forms) > 0 {
		reason += "; its keys: " + strings.Join(forms, ", ")
	}
	for _, k := range l.p.keys {
		if nearWhy(convertToRegistryPath(k), imagePath) != "" {
			return reason, k, CauseKeyMismatch
		}
	}
	return reason, "", ""
}

// credentialProblems inspects the winning entry for values the runner
// accepts but the registry will not.
func credentialProblems(e entry, l loaded) []Problem {
	var out []Problem
	ac := e.ac
	if ac.Username == "" && ac.Password == "" && ac.IdentityToken == "" {
		out = append(out, Problem{Cause: CauseHelperFailed, Fatal: true, Message: fmt.Sprintf(
			"the matching entry %q (%s) has no username, password or token (its helper answered \"credentials not found\"); the runner sends empty credentials", e.key, e.via)})
	}
	switch {
	case l.p.raw[e.key].crlf && e.via == "auths":
		out = append(out, Problem{Cause: CauseBase64Newline, Fatal: true, Message: fmt.Sprintf(
			"auths[%q].auth decodes to user:password followed by a newline (made with echo without -n); the runner accepts it, sends the newline as part of the password, and the registry answers unauthorized; regenerate it with printf '%%s:%%s' USER PASS | base64 -w0", e.key)})
	case hasCRLFEdge(ac.Password) || hasCRLFEdge(ac.Username):
		out = append(out, Problem{Cause: CauseBase64Newline, Fatal: true, Message: fmt.Sprintf(
			"the username or password of %q (%s) ends in a newline or carriage return; the registry will answer unauthorized", e.key, e.via)})
	case hasSpaceEdge(ac.Password) || hasSpaceEdge(ac.Username):
		out = append(out, Problem{Cause: CauseBase64Newline, Message: fmt.Sprintf(
			"the username or password of %q (%s) starts or ends with a space or tab; check it was not pasted with one", e.key, e.via)})
	}
	return out
}

func hasCRLFEdge(s string) bool {
	return strings.HasSuffix(s, "\n") || strings.HasSuffix(s, "\r") || strings.HasPrefix(s, "\n") || strings.HasPrefix(s, "\r")
}

func hasSpaceEdge(s string) bool {
	return s != strings.Trim(s, " \t")
}

func quoteList(keys []string) string {
	q := make([]string, 0, len(keys))
	for i, k := range keys {
		if i == maxListed {
			q = append(q, fmt.Sprintf("and %d more", len(keys)-i))
			break
		}
		q = append(q, fmt.Sprintf("%q", k))
	}
	return strings.Join(q, ", ")
}
