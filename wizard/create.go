package wizard

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/runnerup/runnerup/internal/gitlab"
)

// Create is the [gitlab.create] table: runnerup creates the runner in
// GitLab (POST /api/v4/user/runners) with a user's API token, instead of
// the user copying a glrt- token from GitLab's UI. Unset fields leave
// GitLab's defaults at creation and the server's values at later applies.
type Create struct {
	// RunnerType is project_type, group_type or instance_type; empty
	// means project_type with Project, group_type with Group.
	RunnerType string `toml:"runner_type,omitempty"`
	// Project is the project's full path ("group/sub/app") or numeric id.
	Project IDOrPath `toml:"project,omitempty"`
	// Group is the group's full path or numeric id.
	Group           IDOrPath `toml:"group,omitempty"`
	Description     string   `toml:"description,omitempty"`
	Tags            []string `toml:"tags,omitempty"`
	RunUntagged     *bool    `toml:"run_untagged,omitempty"`
	Locked          *bool    `toml:"locked,omitempty"`
	Paused          *bool    `toml:"paused,omitempty"`
	AccessLevel     string   `toml:"access_level,omitempty"`
	MaximumTimeout  *int     `toml:"maximum_timeout,omitempty"`
	MaintenanceNote string   `toml:"maintenance_note,omitempty"`
	// APIToken is the personal, project or group access token (scope
	// create_runner or api). Empty means glab's variables, GITLAB_TOKEN
	// then GITLAB_ACCESS_TOKEN; saved answers write "env:GITLAB_TOKEN".
	APIToken string `toml:"api_token,omitempty"`

	// apiTokenSource says where the resolved APIToken came from.
	apiTokenSource string
}

// DefaultAPITokenRef is what saved answers keep for [gitlab.create].
const DefaultAPITokenRef = "env:GITLAB_TOKEN"

var createKeys = []string{"runner_type", "project", "group", "description", "tags", "run_untagged", "locked", "paused",
	"access_level", "maximum_timeout", "maintenance_note", "api_token"}

// RunnerTypes of [gitlab.create].
var RunnerTypes = []string{gitlab.ProjectType, gitlab.GroupType, gitlab.InstanceType}

// IDOrPath is a project or group given by numeric id (project = 42) or
// full path (project = "group/app").
type IDOrPath string

// UnmarshalTOML implements toml.Unmarshaler.
func (p *IDOrPath) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		*p = IDOrPath(v)
	case int64:
		*p = IDOrPath(strconv.FormatInt(v, 10))
	default:
		return fmt.Errorf("want a full path (\"group/app\") or a numeric id, got %T", v)
	}
	return nil
}

// IsID reports whether it is a numeric id.
func (p IDOrPath) IsID() bool {
	n, err := strconv.ParseInt(string(p), 10, 64)
	return err == nil && n > 0
}

// EffectiveRunnerType is RunnerType, or the one Project/Group imply.
func (c *Create) EffectiveRunnerType() string {
	switch {
	case c.RunnerType != "":
		return c.RunnerType
	case c.Group != "" && c.Project == "":
		return gitlab.GroupType
	default:
		return gitlab.ProjectType
	}
}

// Target says where the runner is created, for messages and the review:
// "project group/app", "group group", "instance".
func (c *Create) Target() string {
	switch c.EffectiveRunnerType() {
	case gitlab.GroupType:
		return "group " + string(c.Group)
	case gitlab.InstanceType:
		return "the instance"
	default:
		return "project " + string(c.Project)
	}
}

// targetRef is the project's or group's path or id as given ("" for an
// instance runner).
func (c *Create) targetRef() string {
	switch c.EffectiveRunnerType() {
	case gitlab.GroupType:
		return string(c.Group)
	case gitlab.InstanceType:
		return ""
	default:
		return string(c.Project)
	}
}

// Kind is "project runner", "group runner" or "instance runner".
func (c *Create) Kind() string { return c.kindWord() + " runner" }

// kindPhrase is "a project runner in project group/app", "an instance
// runner".
func (c *Create) kindPhrase() string {
	if c.EffectiveRunnerType() == gitlab.InstanceType {
		return "an instance runner"
	}
	return fmt.Sprintf("a %s in %s", c.Kind(), c.Target())
}

// kindWord is "project", "group" or "instance".
func (c *Create) kindWord() string { return strings.TrimSuffix(c.EffectiveRunnerType(), "_type") }

func (c *Create) clone() *Create {
	if c == nil {
		return nil
	}
	out := *c
	out.Tags = slices.Clone(c.Tags)
	out.RunUntagged = cloneBool(c.RunUntagged)
	out.Locked = cloneBool(c.Locked)
	out.Paused = cloneBool(c.Paused)
	out.MaximumTimeout = cloneInt(c.MaximumTimeout)
	return &out
}

// resolveCreateToken fills an absent api_token from glab's variables, as
// the one default; an explicit reference was resolved like any other.
func resolveCreateToken(raw, resolved *Answers, env Env) {
	c := resolved.GitLab.Create
	if c == nil {
		return
	}
	if raw.GitLab.Create != nil && raw.GitLab.Create.APIToken != "" {
		c.apiTokenSource = "gitlab.create.api_token"
		if name, ok := strings.CutPrefix(raw.GitLab.Create.APIToken, refEnv); ok {
			c.apiTokenSource = name
		}
		return
	}
	if env == nil {
		return
	}
	t := gitlab.TokenFromEnv(gitlab.LookupEnv(env))
	c.APIToken, c.apiTokenSource = t.Value, t.Source
}

var fullPathRE = regexp.MustCompile(`^[A-Za-z0-9_.][A-Za-z0-9_.+-]*(/[A-Za-z0-9_.][A-Za-z0-9_.+-]*)*$`)

// validateCreate checks [gitlab.create] and what it rules out elsewhere.
func (v *validator) create(g *GitLab) {
	c := g.Create
	if c == nil {
		for field, set := range map[string]bool{"gitlab.paused": g.Paused != nil, "gitlab.maximum_timeout": g.MaximumTimeout != nil} {
			if kind, _ := ClassifyToken(g.Token, g.TokenKind); set && kind == TokenAuthentication {
				v.fail(field, "with an authentication token this is set in GitLab (runner settings page), not at registration",
					"remove it, or create the runner with [gitlab.create] to manage it from the answers")
			}
		}
		return
	}
	if g.Token != "" {
		v.fail("gitlab.token", "is set together with [gitlab.create]", "remove gitlab.token: runnerup creates the runner and writes its token to config.toml")
	}
	if g.TokenKind != "" {
		v.fail("gitlab.token_kind", "is set together with [gitlab.create]", "remove it")
	}
	legacy := map[string]bool{
		"description": g.Description != "", "tags": len(g.Tags) > 0, "run_untagged": g.RunUntagged != nil, "locked": g.Locked != nil,
		"access_level": g.AccessLevel != "", "maintenance_note": g.MaintenanceNote != "", "paused": g.Paused != nil,
		"maximum_timeout": g.MaximumTimeout != nil,
	}
	for _, k := range slices.Sorted(maps.Keys(legacy)) {
		if legacy[k] {
			v.fail("gitlab."+k, "is a legacy registration field; with [gitlab.create] it belongs in the create table", "move it to gitlab.create."+k)
		}
	}
	rt := c.EffectiveRunnerType()
	if c.RunnerType != "" && !slices.Contains(RunnerTypes, c.RunnerType) {
		v.fail("gitlab.create.runner_type", fmt.Sprintf("unknown runner type %q", c.RunnerType), "use project_type, group_type or instance_type")
	} else {
		switch rt {
		case gitlab.ProjectType:
			if c.Project == "" {
				v.fail("gitlab.create.project", "is empty", `give the project's full path (project = "group/app") or its numeric id; or set runner_type = "group_type" with group`)
			}
			if c.Group != "" {
				v.fail("gitlab.create.group", "is set for a project runner", "remove group, or set runner_type = \"group_type\" and remove project")
			}
		case gitlab.GroupType:
			if c.Group == "" {
				v.fail("gitlab.create.group", "is empty", `give the group's full path (group = "group/sub") or its numeric id`)
			}
			if c.Project != "" {
				v.fail("gitlab.create.project", "is set for a group runner", "remove project, or set runner_type = \"project_type\"")
			}
		case gitlab.InstanceType:
			if c.Project != "" || c.Group != "" {
				v.fail("gitlab.create.runner_type", "instance_type takes neither project nor group", "remove project/group, or choose project_type/group_type")
			}
		}
	}
	for field, p := range map[string]IDOrPath{"gitlab.create.project": c.Project, "gitlab.create.group": c.Group} {
		if p != "" && !p.IsID() && !fullPathRE.MatchString(string(p)) {
			v.fail(field, fmt.Sprintf("%q is neither a numeric id nor a full path", string(p)), `write the path as GitLab shows it, e.g. "group/sub/app", without https:// or a trailing /`)
		}
	}
	if c.AccessLevel != "" && !slices.Contains(AccessLevels, c.AccessLevel) {
		v.fail("gitlab.create.access_level", fmt.Sprintf("unknown access level %q", c.AccessLevel), "use not_protected or ref_protected")
	}
	if c.MaximumTimeout != nil && *c.MaximumTimeout != 0 && *c.MaximumTimeout < 600 {
		v.fail("gitlab.create.maximum_timeout", fmt.Sprintf("is %d seconds; GitLab needs at least 600 (10 minutes)", *c.MaximumTimeout), "set 600 or more, or remove it")
	}
	if c.RunUntagged != nil && !*c.RunUntagged && c.Tags != nil && len(c.Tags) == 0 {
		v.fail("gitlab.create.run_untagged", "is false with no tags: the runner could never pick a job (GitLab refuses it)", "give tags, or set run_untagged = true")
	}
	for i, t := range c.Tags {
		if strings.TrimSpace(t) == "" || strings.Contains(t, ",") {
			v.fail(fmt.Sprintf("gitlab.create.tags[%d]", i), "is empty or contains a comma", "one tag per list element, e.g. tags = [\"docker\", \"linux\"]")
		}
	}
	if strings.ContainsAny(c.APIToken, " \t\r\n") {
		v.fail("gitlab.create.api_token", "contains white space", "paste the token alone")
	}
	if strings.HasPrefix(c.APIToken, "glrt-") || strings.HasPrefix(c.APIToken, "GR1348941") {
		v.fail("gitlab.create.api_token", "is a runner token, not an API token", "use a personal, project or group access token with the create_runner scope")
	}
}

// createRequest is the POST /user/runners body for the answers; ids come
// from resolving Project/Group.
func (c *Create) createRequest(projectID, groupID int64, name string) gitlab.CreateRunnerRequest {
	desc := c.Description
	if desc == "" {
		// GitLab lists runners by description: the local name is the one
		// the user will look for.
		desc = name
	}
	return gitlab.CreateRunnerRequest{
		RunnerType: c.EffectiveRunnerType(), ProjectID: projectID, GroupID: groupID,
		Description: desc, MaintenanceNote: c.MaintenanceNote, Tags: slices.Clone(c.Tags),
		RunUntagged: cloneBool(c.RunUntagged), Locked: cloneBool(c.Locked), Paused: cloneBool(c.Paused),
		AccessLevel: c.AccessLevel, MaximumTimeout: cloneInt(c.MaximumTimeout),
	}
}

// SettingChange is one server-side setting apply changes (or would).
type SettingChange struct {
	Key  string `json:"key"`
	From string `json:"from"`
	To   string `json:"to"`
}

func (s SettingChange) String() string { return fmt.Sprintf("%s: %s → %s", s.Key, s.From, s.To) }

// settingsDiff compares the server's settings with what the answers set
// (unset answers are not compared) and returns the PUT that reconciles them.
func (c *Create) settingsDiff(have gitlab.RunnerDetails) ([]SettingChange, gitlab.RunnerUpdate) {
	var (
		changes []SettingChange
		u       gitlab.RunnerUpdate
	)
	str := func(key string, want *string, have string, set func(*string)) {
		if want != nil && *want != have {
			changes = append(changes, SettingChange{Key: key, From: strconv.Quote(have), To: strconv.Quote(*want)})
			set(want)
		}
	}
	boolean := func(key string, want *bool, have bool, set func(*bool)) {
		if want != nil && *want != have {
			changes = append(changes, SettingChange{Key: key, From: strconv.FormatBool(have), To: strconv.FormatBool(*want)})
			set(want)
		}
	}
	if c.Description != "" {
		str("description", &c.Description, have.Description, func(v *string) { u.Description = v })
	}
	if c.MaintenanceNote != "" {
		str("maintenance_note", &c.MaintenanceNote, have.MaintenanceNote, func(v *string) { u.MaintenanceNote = v })
	}
	if c.AccessLevel != "" {
		str("access_level", &c.AccessLevel, have.AccessLevel, func(v *string) { u.AccessLevel = v })
	}
	boolean("run_untagged", c.RunUntagged, have.RunUntagged, func(v *bool) { u.RunUntagged = v })
	boolean("locked", c.Locked, have.Locked, func(v *bool) { u.Locked = v })
	boolean("paused", c.Paused, have.Paused, func(v *bool) { u.Paused = v })
	if c.MaximumTimeout != nil && *c.MaximumTimeout != have.MaximumTimeout {
		changes = append(changes, SettingChange{Key: "maximum_timeout", From: timeoutText(have.MaximumTimeout), To: timeoutText(*c.MaximumTimeout)})
		u.MaximumTimeout = cloneInt(c.MaximumTimeout)
	}
	if c.Tags != nil && !sameTags(c.Tags, have.Tags) {
		changes = append(changes, SettingChange{Key: "tags", From: tagText(have.Tags), To: tagText(c.Tags)})
		u.Tags = slices.Clone(c.Tags)
		if u.Tags == nil {
			u.Tags = []string{}
		}
	}
	return changes, u
}

func timeoutText(n int) string {
	if n == 0 {
		return "none"
	}
	return strconv.Itoa(n) + "s"
}

func tagText(tags []string) string {
	if len(tags) == 0 {
		return "[]"
	}
	return "[" + strings.Join(tags, ", ") + "]"
}

// sameTags compares as sets: GitLab does not keep the order.
func sameTags(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}
