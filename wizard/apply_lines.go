package wizard

import (
	"fmt"
	"path/filepath"
	"strings"
)

// What apply does and did, in words: the dry run's plan: line and the
// wizard's review print Plan.Lines, the wizard's last screen
// ApplyResult.RunnerDone. Nothing else maps actions to words.

// Lines are the plan as carried out, one clause each, in order: the
// runner and what happens to it, where its token comes from,
// [gitlab.create]'s part, offline, the checks, the files rendered, the
// entries removed, the system id.
func (p Plan) Lines() []string {
	where := fmt.Sprintf("(new, executor %s)", p.Runner.Executor)
	if p.Runner.Found {
		where = fmt.Sprintf("(entry %d of config.toml, executor %s)", p.Runner.Index+1, p.Runner.Executor)
	}
	out := []string{fmt.Sprintf("%s runner %q %s", p.Action, p.Runner.Name, where)}
	token := "token from " + p.Credentials
	if p.TokenRotated {
		token += " (differs from the answers': kept)"
	}
	out = append(out, token)
	if p.Create != nil {
		out = append(out, p.createLine())
	}
	if p.Offline {
		out = append(out, "offline: contacts nothing")
	}
	files := "renders " + p.ConfigTOML
	if p.DockerConfig != "" {
		files += " and " + p.DockerConfig
	}
	out = append(out, p.Checks+" checks", files)
	if len(p.Prune) > 0 {
		out = append(out, fmt.Sprintf("removes %d runner(s): %s", len(p.Prune), pruneCounts(p.Prune)))
	}
	switch id := p.SystemID; {
	case id.Write == SystemIDWriteFresh:
		out = append(out, "writes a fresh system id "+id.ID)
	case id.Write == SystemIDWriteWithConfig:
		out = append(out, fmt.Sprintf("system id %s, written with config.toml", id.ID))
	case id.FromFile:
		out = append(out, fmt.Sprintf("system id %s from %s", id.ID, filepath.Base(id.Path)))
	default:
		out = append(out, fmt.Sprintf("system id %s, not written (config.toml does not change; the runner writes it when it starts)", id.ID))
	}
	return out
}

// createLine is [gitlab.create]'s part of the plan.
func (p Plan) createLine() string {
	c := p.Create
	switch {
	case p.Action == ActionCreate:
		return c.String()
	case c.Recreate:
		return fmt.Sprintf("runner #%d was deleted in GitLab: %s again (--recreate)", p.Runner.ID, c.String())
	case len(c.Settings) > 0:
		return fmt.Sprintf("will update runner #%d in GitLab (PUT /runners/%d): %s", p.Runner.ID, p.Runner.ID, c.settingsList())
	case c.SettingsSkipped != "":
		return "GitLab settings not compared: " + c.SettingsSkipped
	}
	return "GitLab settings match the answers"
}

// String is the plan in one line, as the dry run prints it.
func (p Plan) String() string { return strings.Join(p.Lines(), "; ") }

// RunnerDone says what apply did to the runner, after a write:
// "verified with GitLab (id 42)", "created in GitLab (id 7) for project
// group/app".
func (r *ApplyResult) RunnerDone() string {
	run := r.Runner
	switch run.Action {
	case "registered":
		return fmt.Sprintf("registered with GitLab (id %d)", run.ID)
	case "verified":
		return fmt.Sprintf("verified with GitLab (id %d)", run.ID) + r.settingsDone()
	case "created", "recreated":
		s := fmt.Sprintf("created in GitLab (id %d)", run.ID)
		if run.Action == "recreated" {
			s = fmt.Sprintf("created in GitLab again (id %d; the one config.toml held was deleted there)", run.ID)
		}
		if r.Plan != nil && r.Plan.Create != nil {
			s += " for " + r.Plan.Create.where()
		}
		return s + "; its token is written to config.toml only"
	case "kept":
		return "updated; its token is kept" + r.settingsDone()
	case "unverified":
		return "written with its token unverified (--offline)"
	}
	return run.Action
}

// settingsDone is the settings update [gitlab.create] sent, if any.
func (r *ApplyResult) settingsDone() string {
	if !r.Runner.SettingsUpdated || r.Plan == nil || r.Plan.Create == nil {
		return ""
	}
	return fmt.Sprintf("; updated in GitLab (PUT /runners/%d): %s", r.Runner.ID, r.Plan.Create.settingsList())
}

// settingsList is the settings update as "locked: false → true, …".
func (c *PlanCreate) settingsList() string {
	changes := make([]string, len(c.Settings))
	for i, s := range c.Settings {
		changes[i] = s.String()
	}
	return strings.Join(changes, ", ")
}

// where is where a created runner lives, without its id: "project
// team/app", "group team", "the instance".
func (c *PlanCreate) where() string {
	kind := strings.TrimSuffix(c.RunnerType, "_type")
	if kind == "instance" || c.Target == "" {
		return "the " + kind
	}
	return kind + " " + c.Target
}
