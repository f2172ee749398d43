package cli

import (
	"fmt"

	"github.com/runnerup/runnerup/wizard"
)

// printCreation says what [gitlab.create] did or would do: where the runner
// is created and which of its settings in GitLab change.
func printCreation(ios *IOStreams, res *wizard.ApplyResult) {
	r := res.Runner
	switch r.Action {
	case "created":
		fmt.Fprintf(ios.Out, "created the runner in GitLab: %s; its token is written to config.toml only\n", r.CreatedIn)
	case "would-create":
		fmt.Fprintf(ios.Out, "will create the runner in GitLab: %s (not in --dry-run)\n", r.CreatedIn)
	}
	s := r.Server
	if s == nil {
		return
	}
	if s.Skipped != "" {
		fmt.Fprintln(ios.ErrOut, "note:", s.Skipped)
		return
	}
	verb := "will update"
	if s.Applied {
		verb = "updated"
	} else if !res.DryRun && len(s.Changes) > 0 {
		verb = "would update"
	}
	for _, c := range s.Changes {
		fmt.Fprintf(ios.Out, "%s runner #%d in GitLab: %s\n", verb, r.ID, c)
	}
}
