package diagnose

import (
	"regexp"
	"slices"
	"strings"
)

// LogMatch is one cause a job log points at.
type LogMatch struct {
	ID string `json:"id"`
	// Line is the log line it was read from, the runner's "(file.go:N:Ns)"
	// suffix stripped and secrets redacted; LineNo is where that line
	// starts in the log as given (1-based, before normalisation).
	Line   string `json:"line"`
	LineNo int    `json:"line_no"`
	// Note is what the matched text says beyond the cause ("the host's
	// resolver is down").
	Note string `json:"note,omitempty"`
	// Also are the causes the same text can also mean (check them next).
	Also []string `json:"also,omitempty"`
	// InJob: the job's own script printed the line (its container, its
	// Docker client and daemon), not the runner.
	InJob bool `json:"in_job,omitempty"`
	// Verdict is set once live probes ran: VerdictConfirmed,
	// VerdictNotReproduced (a live check that tests it passed:
	// ContradictedBy), VerdictNotChecked, VerdictInJob or
	// VerdictNotCheckable.
	Verdict        string `json:"verdict,omitempty"`
	ContradictedBy string `json:"contradicted_by,omitempty"`
	// ConfirmedAs is the live cause that explains the log's symptom when it
	// is more precise (auth-missing-credentials → auth-key-mismatch).
	ConfirmedAs string `json:"confirmed_as,omitempty"`
	Summary     string `json:"summary"`
	// Fix is given for a cause the live probes did not reproduce.
	Fix []string `json:"fix,omitempty"`

	stage Stage
}

// Log verdicts.
const (
	VerdictConfirmed     = "confirmed"
	VerdictNotReproduced = "not reproduced now"
	// VerdictNotChecked: no live check tests what the line shows (or none
	// could run), so nothing contradicts it.
	VerdictNotChecked = "not checked: no live check tests it"
	// VerdictInJob: it happened inside the job (its docker:dind service,
	// its own Docker client), which the runner host's checks cannot see.
	VerdictInJob = "inside the job: not checkable from the runner host"
)

// LogReport is what --log found.
type LogReport struct {
	// Image is the image named by a "failed to pull image" line, if any.
	Image string `json:"image,omitempty"`
	// Lines are the error lines considered (suffix stripped, redacted).
	Lines   []string   `json:"lines"`
	Matches []LogMatch `json:"matches"`
	// Runner is what the log's header says about the runner that wrote it.
	Runner *LogRunner `json:"runner,omitempty"`

	facts logFacts
}

var (
	// Every terminal control sequence a job could print: CSI (colours,
	// cursor moves), OSC (titles, hyperlinks; ended by BEL or ST) and
	// two-byte escapes. A job log is untrusted text that diagnose prints.
	ansiRE = regexp.MustCompile(`\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?`)
	// section_start:1700000000:prepare_executor\r / section_end:…
	sectionRE = regexp.MustCompile(`section_(?:start|end):\d+:[A-Za-z0-9_.\[\]=,-]+`)
	// The runner's wrapError suffix, " (manager.go:237:0s)".
	suffixRE = regexp.MustCompile(`\s*\([A-Za-z0-9_.-]+\.go:\d+:\d+s\)[.\s]*$`)
	imageRE  = regexp.MustCompile(`failed to pull image "([^"]+)"`)
)

// The three prefixes of a failed pull in a job log, plus the lines that
// carry a cause of their own.
var logPrefixes = []string{
	"ERROR: Job failed: failed to pull image",
	"WARNING: Failed to pull image with policy",
	"ERROR: Preparation failed:",
	"ERROR: Job failed (system failure):",
	"Failed to resolve credentials from",
	"Failed to pull image", // retries: Failed to pull image "x" (attempt #2), retrying: …
}

// cleanLine removes colour codes, control characters, section markers,
// timestamps and the Markdown line links of a web-UI copy.
func cleanLine(l string) string {
	// Repeat: removing one sequence can join the halves of a nested one.
	for prev := ""; prev != l; {
		prev = l
		l = ansiRE.ReplaceAllString(l, "")
	}
	l = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, l)
	l = sectionRE.ReplaceAllString(l, "")
	l = mdLineLinkRE.ReplaceAllString(l, "$1")
	l = strings.TrimSpace(l)
	l = rawPrefixRE.ReplaceAllString(l, "")
	return strings.TrimSpace(l)
}

// StripSuffix removes the runner's " (file.go:N:Ns)" from an error line.
func StripSuffix(l string) string { return suffixRE.ReplaceAllString(l, "") }

// pickedLine is a logical line MatchLog considers, with the entry (and
// matcher) its text fits.
type pickedLine struct {
	text  string
	no    int
	inJob bool
	entry *Entry
	m     *Matcher
}

// logLines returns the lines of a job log that carry a pull error: those
// with one of the runner's prefixes or a catalogued symptom, or, when
// there are none (a pasted error message), every non-empty line. A wrapped
// line is tried as joined with spaces, then as joined without (a hard
// wrap that cut a word); the text reported is the one that matched.
func logLines(lines []logLine) []pickedLine {
	var all, picked []pickedLine
	// Logs repeat lines (retries, progress): match each text once.
	type hit struct {
		e *Entry
		m *Matcher
	}
	memo := map[string]hit{}
	match := func(text string) (*Entry, *Matcher) {
		h, ok := memo[text]
		if !ok {
			h.e, h.m = matchLineWith(text)
			memo[text] = h
		}
		return h.e, h.m
	}
	for _, ll := range lines {
		p := pickedLine{text: StripSuffix(ll.text), no: ll.no, inJob: ll.script && !runnerLine(ll.text)}
		p.entry, p.m = match(p.text)
		if p.entry == nil && ll.tight != "" {
			if e, m := match(StripSuffix(ll.tight)); e != nil {
				p.text, p.entry, p.m = StripSuffix(ll.tight), e, m
			}
		}
		all = append(all, p)
		if p.entry != nil || runnerLine(ll.text) {
			picked = append(picked, p)
		}
	}
	if len(picked) == 0 {
		return all
	}
	return picked
}

// runnerLine: the runner itself prints the line (a failed pull, a failed
// preparation, a system failure), even while the job's script runs.
func runnerLine(text string) bool {
	return slices.ContainsFunc(logPrefixes, func(pre string) bool { return strings.Contains(text, pre) })
}

// matchLineWith returns the first catalogue entry whose matcher fits line,
// and that matcher.
func matchLineWith(line string) (*Entry, *Matcher) {
	lower := strings.ToLower(line)
	for i := range Catalogue {
		for j := range Catalogue[i].Match {
			if m := &Catalogue[i].Match[j]; m.matches(lower) {
				return &Catalogue[i], m
			}
		}
	}
	return nil, nil
}

// MatchLog reads a job log (or a pasted error message) and returns the
// causes its error lines point at, earliest in the pull chain first: a
// "Failed to resolve credentials" warning comes before the "no basic auth
// credentials" it leads to, which then only confirms it. The log is
// normalised first (see normalise); each match keeps the number of the
// line it was read from.
func MatchLog(log string) LogReport {
	lines := normalise(log)
	rep := LogReport{facts: readFacts(lines)}
	if r := rep.facts.runner; r != (LogRunner{}) {
		rep.Runner = &r
	}
	seen := map[string]bool{}
	for _, p := range logLines(lines) {
		l := p.text
		if rep.Image == "" {
			if m := imageRE.FindStringSubmatch(l); m != nil {
				rep.Image = m[1]
			}
		}
		if slices.Contains(rep.Lines, l) {
			continue
		}
		rep.Lines = append(rep.Lines, l)
		e := p.entry
		if e == nil || seen[e.ID] {
			continue
		}
		seen[e.ID] = true
		rep.Matches = append(rep.Matches, LogMatch{ID: e.ID, Line: l, LineNo: p.no, InJob: p.inJob, Note: p.m.Note, Also: e.Then, Summary: e.Summary, stage: e.Stage})
	}
	slices.SortStableFunc(rep.Matches, func(a, b LogMatch) int { return int(a.stage) - int(b.stage) })
	if rep.Lines == nil {
		rep.Lines = []string{}
	}
	if rep.Matches == nil {
		rep.Matches = []LogMatch{}
	}
	return rep
}
