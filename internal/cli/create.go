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
	case "recreated":
		fmt.Fprintf(ios.Out, "created the runner in GitLab again (the one config.toml held was deleted there): %s; its new token is written to config.toml only\n", r.CreatedIn)
	case "would-recreate":
		fmt.Fprintf(ios.Out, "will create the runner in GitLab again (the one config.toml holds was deleted there): %s (not in --dry-run)\n", r.CreatedIn)
	}
	if res.Plan == nil || res.Plan.Create == nil || res.Plan.Action != wizard.ActionKeep || res.Plan.Create.Recreate {
		return
	}
	c := res.Plan.Create
	if c.SettingsSkipped != "" {
		fmt.Fprintln(ios.ErrOut, "note:", c.SettingsSkipped)
		return
	}
	verb := "will update"
	switch {
	case r.SettingsUpdated:
		verb = "updated"
	case !res.DryRun:
		verb = "would update"
	}
	for _, s := range c.Settings {
		fmt.Fprintf(ios.Out, "%s runner #%d in GitLab: %s\n", verb, r.ID, s)
	}
}
