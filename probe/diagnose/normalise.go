package diagnose

import (
	"regexp"
	"strings"
)

// logLine is one logical line of a pasted job log: the runner's text with
// the paste's damage undone, and where it starts in what was pasted.
type logLine struct {
	text string // cleaned; the pieces of a wrapped line joined with a space
	// tight is the same pieces joined with nothing, for a terminal's hard
	// wrap that cut a word in two ("" when the line is not wrapped).
	tight string
	no    int // 1-based number of the original line it starts on
	end   int // and ends on
	// width is the length of its first piece: a hard wrap cuts every piece
	// but the last at the same width.
	width   int
	lastLen int // length of its last piece
	pieces  int
	// spaced: its original text ended in blanks, which cleaning dropped (a
	// "+" continuation then starts a new word).
	spaced bool
	// script: it was printed while the job's own script ran (between the
	// runner's "Executing \"step_script\" stage" and its clean-up), in the
	// job's environment rather than by the runner.
	script bool
}

var (
	// GitLab's raw log prefix: a timestamp and the stream (00O, 01E, …);
	// "+" marks the rest of the previous line, written later.
	rawPrefixRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT[0-9:.]+Z [0-9a-fA-F]{2}[OE](\+?) ?`)
	// Quote marks of an issue tracker or e-mail reply: "> ", ">> ", "> > ".
	quoteRE = regexp.MustCompile(`^(?:[ \t]*>)+[ \t]?`)
	// A shell prompt before a pasted command: "$ ", "user@host:~/dir$ ",
	// "[user@host dir]$ ".
	promptRE = regexp.MustCompile(`^(?:\$|[\w.-]+@[\w.-]+(?::[^\s$#]*)?[$#]|\[[^\]\n]+\][$#]) `)
	// GitLab's line anchors turned into Markdown by a copy from the web UI:
	// "23[7](https://gitlab.example.com/g/p/-/jobs/1#L7)" is "237".
	mdLineLinkRE = regexp.MustCompile(`\[(\d+)\]\(https?://[^)\s]*#L\d+\)`)
	fenceRE      = regexp.MustCompile("^```[A-Za-z0-9_+-]*$")
	// Where the job's own script starts and stops: the runner's section
	// markers (step_script, build_script on older runners, after_script)
	// and the lines it prints around them.
	sectionNameRE = regexp.MustCompile(`section_(start|end):\d+:([A-Za-z0-9_]+)`)
	scriptStartRE = regexp.MustCompile(`^(?:Executing "[a-z_]*script" stage|Running before_script and script|Running after_script)`)
	scriptEndRE   = regexp.MustCompile(`^(?:Uploading artifacts|Cleaning up|Saving cache|Job succeeded)`)
	// Lines the runner (or a tool it runs) starts afresh: never the rest
	// of a wrapped line.
	lineStartRE = regexp.MustCompile(`^(?:(?:ERROR|WARNING|INFO|DEBUG|PANIC|FATAL)\b|Running with |Running on |Running before_script|Preparing |Using |Pulling docker image|Authenticating with|Getting source|Fetching changes|Checking out|Executing |Cleaning up|Job succeeded|Uploading|Downloading|Resolving secrets|Waiting for|Starting service|Runtime platform|Will be retried|Restoring cache|Saving cache|Skipping |Created fresh|Initialized empty|Reinitialized|Removing |Health check|See '|If it's at a non-standard|on \S|feature flags:|\d\d:\d\d$)`)
	// Messages that start a line of their own, unless a wrap cut the line
	// before them right after a colon.
	weakStartRE = regexp.MustCompile(`^(?:Error response from daemon|error during connect|docker: |Error: |Got permission denied)`)
	// A line a wrap can have cut: an error or warning not yet ended.
	openRE = regexp.MustCompile(`(?i)\b(?:error|failed|failure|denied|cannot|couldn't|unable|warning)\b`)
	// The runner's wrapError suffix also ends a line; so do . ? !
	endedRE = regexp.MustCompile(`(?:[.?!]|\([A-Za-z0-9_.-]+\.go:\d+:[0-9hms.µ]+\))$`)
)

// maxPieces bounds how many physical lines one wrapped line may span.
const maxPieces = 8

// normalise turns a pasted job log into logical lines: CRLF and lone CRs,
// GitLab's raw timestamps and stream markers (joining "+" continuations),
// section markers, ANSI, quote marks, shell prompts, Markdown line links
// and code fences removed; lines a terminal or a web page wrapped joined
// again. Each logical line keeps the number of the original line it
// starts on, for evidence.
func normalise(log string) []logLine {
	var out []logLine
	script := false
	for i, phys := range strings.Split(log, "\n") {
		no := i + 1
		phys = strings.TrimSuffix(phys, "\r")
		phys = quoteRE.ReplaceAllString(phys, "")
		plus := false
		if m := rawPrefixRE.FindStringSubmatch(phys); m != nil {
			plus, phys = m[1] == "+", phys[len(m[0]):]
		}
		for j, seg := range strings.Split(phys, "\r") {
			if m := sectionNameRE.FindStringSubmatch(seg); m != nil {
				script = m[1] == "start" && strings.Contains(m[2], "script")
			}
			text := cleanLine(seg)
			if fenceRE.MatchString(text) {
				text = ""
			}
			if text == "" {
				continue
			}
			bare := ansiRE.ReplaceAllString(seg, "")
			spaced := strings.TrimRight(bare, " \t") != bare
			if plus && j == 0 && len(out) > 0 {
				last := &out[len(out)-1]
				if last.spaced || strings.TrimLeft(bare, " \t") != bare {
					text = " " + text
				}
				last.text += text
				if last.tight != "" {
					last.tight += text
				}
				last.end, last.spaced = no, spaced
				continue
			}
			switch {
			case scriptStartRE.MatchString(text):
				script = true
			case scriptEndRE.MatchString(text):
				script = false
			}
			cmd := false
			if p := promptRE.FindString(text); p != "" {
				text, cmd = strings.TrimSpace(text[len(p):]), true
			}
			if j == 0 && !cmd && len(out) > 0 && continues(&out[len(out)-1], text, no) {
				last := &out[len(out)-1]
				if last.tight == "" {
					last.tight = last.text
				}
				last.text += " " + text
				last.tight += text
				last.end, last.pieces, last.lastLen, last.spaced = no, last.pieces+1, len(text), spaced
				continue
			}
			out = append(out, logLine{text: text, no: no, end: no, width: len(text), lastLen: len(text), pieces: 1, spaced: spaced, script: script})
		}
	}
	return out
}

// continues reports whether text (on original line no) is the rest of
// last, cut by a wrap: it follows last directly, does not start a line of
// its own, and last is an error line that has not ended, or a piece of a
// hard wrap (cut at the width of its first piece).
func continues(last *logLine, text string, no int) bool {
	if last.end != no-1 || last.pieces >= maxPieces || lineStartRE.MatchString(text) {
		return false
	}
	hardWrap := last.pieces > 1 && last.width >= 40 && last.lastLen == last.width
	if strings.HasSuffix(last.text, ":") || strings.HasSuffix(last.text, ",") {
		return true
	}
	if weakStartRE.MatchString(text) && !hardWrap {
		return false
	}
	if endedRE.MatchString(last.text) && !hardWrap {
		return false
	}
	return openRE.MatchString(last.text) || hardWrap
}
