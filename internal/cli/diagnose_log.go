package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/runnerup/runnerup/internal/systemid"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/diagnose"
)

// diagnoseLogOnly is `diagnose --log FILE --no-live`: the log alone, no
// check of this host.
func diagnoseLogOnly(opts *DiagnoseOptions) error {
	dopts, err := diagnoseInputs(opts)
	if err != nil {
		return reportError(opts.IO, opts.Output, err)
	}
	rep, err := diagnose.ClassifyLog(*dopts)
	if err != nil {
		return reportError(opts.IO, opts.Output, err)
	}
	if opts.Output == "json" {
		if err := writeJSON(opts.IO.Out, rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(opts.IO.Out, "Classifying the job log (--no-live: no live check)")
		printDiagnosis(opts.IO.Out, rep, opts.IO.ColorEnabled())
	}
	if !rep.OK {
		return &SilentError{Code: ExitCheckFailed}
	}
	return nil
}

// hostFacts tells the diagnosis whether this host can be the one that
// wrote the job log: the config.toml it would read (absent: not a runner
// host), that file's runner names and the host's runner system id.
func hostFacts(read configRead, d *diagnose.Options) {
	if read.missing {
		d.ConfigSearched = read.path
		return
	}
	if read.doc == nil {
		return
	}
	for _, r := range read.doc.Runners {
		d.ConfigRunners = append(d.ConfigRunners, r.Name)
	}
	if id, _, err := systemid.Resolve(filepath.Dir(read.path), nil); err == nil {
		d.HostSystemID = id
	}
}

// printChecks prints the live checks after the fact.
func printChecks(w io.Writer, checks []probe.Result, color bool) {
	p := checklistPrinter{w: w, color: color}
	for _, r := range checks {
		p.print(r)
	}
}

// printRankedByLog is the report when the job log ranks the causes: its
// causes first; then, when live checks ran here, the note (once) and the
// checks and causes that describe this machine.
func printRankedByLog(w io.Writer, rep *diagnose.Report, color bool, paint func(string, string) string) {
	v := rep.Verdict
	switch n := len(rep.Causes); n {
	case 0:
		fmt.Fprintln(w, "\nThe job log names no catalogued cause.")
	default:
		what := "1 cause"
		if n > 1 {
			what = fmt.Sprintf("%d causes, most likely first", n)
		}
		fmt.Fprintln(w, "\n"+paint("\x1b[31m", "✗ The job log shows why the job failed: "+what))
		printCauses(w, rep.Causes, paint)
	}
	fmt.Fprintln(w, "\nRanked by the job log: "+v.Why+".")
	if v.Note != "" {
		fmt.Fprintln(w, "\n"+strings.ToUpper(v.Note[:1])+v.Note[1:]+":")
		printChecks(w, rep.Checks, color)
		if len(v.ThisMachine) > 0 {
			fmt.Fprintln(w, "\nOn this machine (not the runner's):")
			printCauses(w, v.ThisMachine, paint)
		}
	}
	printLogLines(w, rep.Log)
	printNotes(w, rep.Notes)
}

// printLiveVerdict says, after the live causes, why they rank and which
// causes of the job log they overrule.
func printLiveVerdict(w io.Writer, v *diagnose.Verdict, paint func(string, string) string) {
	if v == nil {
		return
	}
	fmt.Fprintln(w, "\nRanked by the live checks: "+v.Why+".")
	if len(v.Overruled) > 0 {
		fmt.Fprintln(w, "\nThe job log shows, not reproduced now (the live checks win):")
		printCauses(w, v.Overruled, paint)
	}
}

func printLogLines(w io.Writer, l *diagnose.LogReport) {
	if l == nil {
		return
	}
	fmt.Fprintf(w, "\nJob log: %d error line(s)\n", len(l.Lines))
	for _, m := range l.Matches {
		fmt.Fprintf(w, "  - line %d: %s\n    %s\n", m.LineNo, m.ID, m.Line)
		if len(m.Also) > 0 {
			fmt.Fprintf(w, "    the same text can also mean: %s\n", strings.Join(m.Also, ", "))
		}
	}
}

func printNotes(w io.Writer, notes []string) {
	if len(notes) == 0 {
		return
	}
	fmt.Fprintln(w, "\nNotes:")
	for _, n := range notes {
		fmt.Fprintln(w, "  - "+n)
	}
}
