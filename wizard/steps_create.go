package wizard

import (
	"errors"
	"strconv"
	"strings"

	"github.com/runnerup/runnerup/internal/gitlab"
)

// The GitLab step's create path: "Do you have a runner token?" No → an API
// token, where to create the runner, and its settings ([gitlab.create]).
// Nothing is created while the user answers: apply creates the runner once,
// when it writes.

// createFields are the questions of [gitlab.create], shown when the user
// has no runner token.
func createFields() []Field {
	cr := func(a *Answers) *Create {
		if a.GitLab.Create == nil {
			a.GitLab.Create = &Create{}
		}
		return a.GitLab.Create
	}
	get := func(a *Answers) Create {
		if a.GitLab.Create != nil {
			return *a.GitLab.Create
		}
		return Create{}
	}
	hide := func(a *Answers) bool { return !creates(a) }
	boolText := func(p *bool) string {
		if p == nil {
			return ""
		}
		return strconv.FormatBool(*p)
	}
	boolOf := func(v string) *bool {
		if v == "" {
			return nil
		}
		return new(v == "true")
	}
	return []Field{
		{
			Key: "gitlab.create.api_token", Group: "create-token", Kind: KindSecret,
			Prompt:  "API token",
			Label:   "API token",
			Help:    "A personal, project or group access token with the create_runner scope (api works too). Used once, when runnerup writes; saved answers read it from $GITLAB_TOKEN.",
			Example: "glpat-…",
			Checks:  func(*Answers) []string { return []string{IDAPIToken} },
			ValidateIn: func(c Context, s string) error {
				if strings.TrimSpace(s) == "" {
					if c.APITokenEnv != "" {
						return nil
					}
					return errors.New("API token is empty; paste an access token with the create_runner scope (GitLab › Preferences › Access tokens), or export GITLAB_TOKEN before starting runnerup")
				}
				return firstProblem("API token", "gitlab.create.api_token", func(v *validator) {
					v.create(&GitLab{Create: &Create{Project: "group/app", APIToken: strings.TrimSpace(s)}})
				})
			},
			Hide: hide,
			Get:  func(a *Answers) string { return get(a).APIToken },
			Set:  func(a *Answers, v string) { cr(a).APIToken = strings.TrimSpace(v) },
		},
		{
			Key: "gitlab.create.runner_type", Group: "create-target", Kind: KindTarget,
			Prompt: "Where to create the runner",
			Label:  "created in",
			Help:   "A project where you are a Maintainer, a group you own, or (administrators) the instance. Type a name to search, or a full path.",
			// As text (plain prompts): a project's path, group:PATH, instance.
			Example: "group/app, group:group, instance",
			Validate: func(s string) error {
				if strings.TrimSpace(s) == "" {
					return errors.New("choose where to create the runner: a project, a group or the instance")
				}
				var c Create
				setCreateTarget(&c, s)
				return firstProblem("Where to create the runner", createTargetField(c), func(v *validator) {
					v.create(&GitLab{Create: &c})
				})
			},
			Hide: hide,
			Get:  func(a *Answers) string { return CreateTargetValue(get(a)) },
			Set:  func(a *Answers, v string) { setCreateTarget(cr(a), v) },
		},
		{
			Key: "gitlab.create.tags", Group: "create", Kind: KindList,
			Prompt:  "Tags",
			Label:   "tags",
			Help:    "Comma-separated job tags this runner picks up.",
			Example: "docker, linux",
			Hide:    hide,
			Get:     func(a *Answers) string { return JoinList(get(a).Tags, ",") },
			Set:     func(a *Answers, v string) { cr(a).Tags = SplitList(v, ",") },
		},
		{
			Key: "gitlab.create.run_untagged", Group: "create", Kind: KindConfirm,
			Prompt:  "Run untagged jobs?",
			Label:   "run untagged",
			Help:    "GitLab's default is yes; a runner without tags must run untagged jobs.",
			Default: "true",
			Hide:    hide,
			Get:     func(a *Answers) string { return boolText(get(a).RunUntagged) },
			Set:     func(a *Answers, v string) { cr(a).RunUntagged = boolOf(v) },
		},
		{
			Key: "gitlab.create.description", Group: "create-advanced", Kind: KindText, Advanced: true,
			Prompt: "Description (optional)",
			Label:  "description",
			Help:   "Shown in GitLab's runner list; empty: the runner name.",
			Hide:   hide,
			Get:    func(a *Answers) string { return get(a).Description },
			Set:    func(a *Answers, v string) { cr(a).Description = strings.TrimSpace(v) },
		},
		{
			Key: "gitlab.create.maintenance_note", Group: "create-advanced", Kind: KindText, Advanced: true,
			Prompt: "Maintenance note (optional)",
			Label:  "maintenance note",
			Help:   "Free text for other maintainers.",
			Hide:   hide,
			Get:    func(a *Answers) string { return get(a).MaintenanceNote },
			Set:    func(a *Answers, v string) { cr(a).MaintenanceNote = strings.TrimSpace(v) },
		},
		{
			Key: "gitlab.create.access_level", Group: "create-advanced2", Kind: KindSelect, Advanced: true,
			Prompt: "Access level",
			Label:  "access level",
			Options: []Option{
				{Value: "not_protected", Label: "not_protected", Help: "runs jobs from any branch"},
				{Value: "ref_protected", Label: "ref_protected", Help: "runs jobs from protected branches and tags only"},
			},
			Default: "not_protected",
			Hide:    hide,
			Get:     func(a *Answers) string { return get(a).AccessLevel },
			Set:     func(a *Answers, v string) { cr(a).AccessLevel = v },
		},
		{
			Key: "gitlab.create.paused", Group: "create-advanced2", Kind: KindConfirm, Advanced: true,
			Prompt:  "Create it paused?",
			Label:   "paused",
			Help:    "A paused runner takes no jobs until it is resumed in GitLab.",
			Default: "false",
			Hide:    hide,
			Get:     func(a *Answers) string { return boolText(get(a).Paused) },
			Set:     func(a *Answers, v string) { cr(a).Paused = boolOf(v) },
		},
		{
			Key: "gitlab.create.locked", Group: "create-advanced2", Kind: KindConfirm, Advanced: true,
			Prompt:  "Lock it to its project?",
			Label:   "locked",
			Help:    "Project runners only: a locked runner cannot be enabled for other projects.",
			Default: "false",
			Hide:    hide,
			Get:     func(a *Answers) string { return boolText(get(a).Locked) },
			Set:     func(a *Answers, v string) { cr(a).Locked = boolOf(v) },
		},
	}
}

// Kinds of places a runner is created in, as CreateTargetValue spells them.
const (
	TargetProject  = "project"
	TargetGroup    = "group"
	TargetInstance = "instance"
)

// CreateTargetValue is where [gitlab.create] makes the runner, as the
// KindTarget field holds it: "project:group/app", "group:group/sub",
// "instance"; "" when not chosen yet.
func CreateTargetValue(c Create) string {
	switch c.EffectiveRunnerType() {
	case gitlab.InstanceType:
		return TargetInstance
	case gitlab.GroupType:
		if c.Group != "" {
			return TargetGroup + ":" + string(c.Group)
		}
	default:
		if c.Project != "" {
			return TargetProject + ":" + string(c.Project)
		}
	}
	return ""
}

// DescribeCreateTarget is a target value in words: "project group/app".
func DescribeCreateTarget(v string) string {
	kind, path, ok := strings.Cut(v, ":")
	if !ok {
		return v
	}
	return kind + " " + path
}

// setCreateTarget stores a target value; a bare path means a project.
func setCreateTarget(c *Create, v string) {
	v = strings.TrimSpace(v)
	c.RunnerType, c.Project, c.Group = "", "", ""
	switch {
	case v == "":
	case v == TargetInstance:
		c.RunnerType = gitlab.InstanceType
	case strings.HasPrefix(v, TargetGroup+":"):
		c.RunnerType, c.Group = gitlab.GroupType, IDOrPath(strings.TrimSpace(strings.TrimPrefix(v, TargetGroup+":")))
	default:
		c.RunnerType, c.Project = gitlab.ProjectType, IDOrPath(strings.TrimSpace(strings.TrimPrefix(v, TargetProject+":")))
	}
}

// createTargetField is the answers key a target's problems are about.
func createTargetField(c Create) string {
	switch c.EffectiveRunnerType() {
	case gitlab.GroupType:
		return "gitlab.create.group"
	case gitlab.InstanceType:
		return "gitlab.create.runner_type"
	}
	return "gitlab.create.project"
}
