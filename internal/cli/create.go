package cli

import (
	"fmt"

	"github.com/runnerup/runnerup/wizard"
)

// printCreation says, after a write, what [gitlab.create] did in GitLab
// (wizard.ApplyResult.RunnerDone, the words the wizard's last screen
// uses). A dry run's plan: line already says what it would do.
func printCreation(ios *IOStreams, res *wizard.ApplyResult) {
	p := res.Plan
	if res.DryRun || p == nil || p.Create == nil {
		return
	}
	if c := p.Create; c.SettingsSkipped != "" && p.Action == wizard.ActionKeep && !c.Recreate {
		fmt.Fprintln(ios.ErrOut, "note:", c.SettingsSkipped)
	}
	// Only when GitLab changed: the line above already names the action.
	if a := res.Runner.Action; a == "created" || a == "recreated" || res.Runner.SettingsUpdated {
		fmt.Fprintf(ios.Out, "runner %q %s\n", res.Runner.Name, res.RunnerDone())
	}
}
