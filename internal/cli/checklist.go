package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/runnerup/runnerup/probe"
)

// checklistPrinter prints probe results as they finish: a mark, the title,
// the detail, and the hint on its own line when there is one.
type checklistPrinter struct {
	w     io.Writer
	color bool
}

var statusMarks = map[probe.Status]struct{ mark, color string }{
	probe.Pass: {"✓", "\x1b[32m"},
	probe.Warn: {"!", "\x1b[33m"},
	probe.Fail: {"✗", "\x1b[31m"},
	probe.Skip: {"-", "\x1b[90m"},
}

func (p checklistPrinter) print(r probe.Result) {
	m := statusMarks[r.Status]
	mark := m.mark
	if p.color {
		mark = m.color + mark + "\x1b[0m"
	}
	line := fmt.Sprintf("%s %s", mark, r.Title)
	if r.Detail != "" {
		line += ": " + r.Detail
	}
	id := r.ID
	if r.Finding != "" {
		id += " " + r.Finding
	}
	line += fmt.Sprintf("  [%s, %dms]", id, r.DurationMS)
	fmt.Fprintln(p.w, line)
	if r.Hint != "" && (r.Status == probe.Fail || r.Status == probe.Warn) {
		fmt.Fprintln(p.w, "    fix: "+r.Hint)
	}
}

// summary counts results by status.
func summary(results []probe.Result) string {
	counts := map[probe.Status]int{}
	for _, r := range results {
		counts[r.Status]++
	}
	var parts []string
	for _, s := range []probe.Status{probe.Pass, probe.Warn, probe.Fail, probe.Skip} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	return strings.Join(parts, ", ")
}
