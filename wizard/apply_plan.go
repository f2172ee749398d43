package wizard

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/runnerup/runnerup/internal/gitlab"
	"github.com/runnerup/runnerup/internal/secret"
	"github.com/runnerup/runnerup/internal/systemid"
	"github.com/runnerup/runnerup/probe/fleet"
)

// Action is what apply does about the runner's registration with GitLab.
type Action string

const (
	// ActionKeep: the runner is in config.toml; its id and token stay.
	ActionKeep Action = "keep"
	// ActionVerify: an authentication token is checked with
	// POST /runners/verify, then written (a new entry, or --replace-token).
	ActionVerify Action = "verify"
	// ActionRegister: a registration token and no entry yet: POST /runners
	// makes the runner, after the checks and never in a dry run.
	ActionRegister Action = "register"
	// ActionCreate: [gitlab.create] and no entry yet: POST /user/runners
	// with the user's API token makes the runner, after the checks and
	// never in a dry run.
	ActionCreate Action = "create"
	// ActionUnverified: --offline and an authentication token to write:
	// it is written without POST /runners/verify, and a warning says so.
	ActionUnverified Action = "write-unverified"
)

// Where the token config.toml holds after apply comes from.
const (
	CredentialsConfigTOML = "config.toml" // the entry's own, kept
	CredentialsAnswers    = "answers"     // the answers' authentication token, verified
	CredentialsGitLab     = "gitlab"      // issued by GitLab at registration
)

// What the checks stage runs.
const (
	ChecksLive = "live" // GitLab, the daemon, registries and the host
	ChecksHost = "host" // SkipProbes or Offline: only the local host checks
)

// When apply writes .runner_system_id.
const (
	SystemIDWriteFresh      = "fresh"            // --fresh-system-id: a new random id, always
	SystemIDWriteWithConfig = "with-config-toml" // when config.toml changes (the runner would create it on start)
	SystemIDWriteNo         = "no"               // the file holds the id already
)

// Plan is what apply is going to do, decided from the answers and the files
// before anything is contacted or written (the plan stage). The checks
// complete it with what they find (afterChecks: where [gitlab.create]
// creates, the settings to update, stale entries to remove) and render
// with whether the system id is written (afterRender), each a new value:
// that plan as carried out is what the dry run, the wizard's review
// (ApplyResult.Plan) and `apply -o json` ("plan") show.
type Plan struct {
	Runner PlanRunner `json:"runner"`
	Action Action     `json:"action"`
	// Credentials says where the token config.toml holds after apply
	// comes from (CredentialsConfigTOML, …).
	Credentials string `json:"credentials"`
	// TokenRotated: config.toml holds another token than the answers, and
	// apply keeps it (the runner rotates its token and writes it back).
	TokenRotated bool `json:"token_rotated,omitempty"`
	// Checks is ChecksLive or ChecksHost.
	Checks string `json:"checks"`
	// ConfigTOML and DockerConfig are the files apply renders (and writes
	// when their bytes change); DockerConfig is empty when the answers
	// have no registry for config.json.
	ConfigTOML   string       `json:"config_toml"`
	DockerConfig string       `json:"docker_config,omitempty"`
	SystemID     SystemIDPlan `json:"system_id"`
	// Prune are the entries to remove: the stale ones the wizard's review
	// chose, with --prune-stale those the checks find (added after the
	// checks), with --prune-duplicates and --prune-empty those config.toml
	// holds. Tokens are redacted.
	Prune  []PrunedRunner `json:"prune,omitempty"`
	DryRun bool           `json:"dry_run"`
	// Offline: nothing is contacted (--offline).
	Offline bool `json:"offline,omitempty"`
	// Create is [gitlab.create]'s part (nil without it).
	Create *PlanCreate `json:"create,omitempty"`

	stale []fleet.Runner // the stale entries with their tokens, for render
	// pruneStale: --prune-stale, the stale entries the checks find go too.
	pruneStale bool
	// duplicates, empty: --prune-duplicates, --prune-empty; entries and
	// keep (the answers' entry) are config.toml's as load read it.
	duplicates, empty bool
	entries           []fleet.Runner
	keep              int
	creation          *creation // the GitLab calls of [gitlab.create]
	// warnings are the plan's own (a same-name entry on another GitLab).
	warnings []FieldError
}

// PlanCreate is what apply does about [gitlab.create]: create the runner
// (ActionCreate), or compare the settings of the one it created before
// with the answers and update them (ActionKeep).
type PlanCreate struct {
	// RunnerType is project_type, group_type or instance_type; Target
	// the project's or group's path or id as the answers give it, ID its
	// numeric id once the checks looked it up.
	RunnerType string `json:"runner_type"`
	Target     string `json:"target,omitempty"`
	ID         int64  `json:"target_id,omitempty"`
	// APIToken names where the API token comes from (GITLAB_TOKEN, …),
	// never its value; empty: none is set.
	APIToken string `json:"api_token_from,omitempty"`
	// Settings are the runner's settings in GitLab that differ from the
	// answers, found by the checks; apply sends them with
	// PUT /runners/:id (never in a dry run).
	Settings []SettingChange `json:"settings,omitempty"`
	// SettingsSkipped says why they were not compared.
	SettingsSkipped string `json:"settings_skipped,omitempty"`
	// Recreate: GitLab rejects the token config.toml holds for the runner
	// created before (it was deleted in GitLab), and --recreate lets apply
	// create it again; found by the checks.
	Recreate bool `json:"recreate,omitempty"`
}

// String says what apply does in GitLab: "will create a project runner in
// group/app (#42)".
func (c *PlanCreate) String() string {
	kind := strings.TrimSuffix(c.RunnerType, "_type")
	if c.RunnerType == gitlab.InstanceType {
		return "will create an instance runner"
	}
	return fmt.Sprintf("will create a %s runner in %s", kind, c.place())
}

// place is where the runner is created: "group/app (#42)", "project #42",
// "the instance".
func (c *PlanCreate) place() string {
	kind := strings.TrimSuffix(c.RunnerType, "_type")
	switch {
	case c.RunnerType == gitlab.InstanceType:
		return "the instance"
	case c.isID():
		return kind + " #" + c.Target
	case c.ID != 0:
		return fmt.Sprintf("%s (#%d)", c.Target, c.ID)
	}
	return c.Target
}

func (c *PlanCreate) isID() bool { return IDOrPath(c.Target).IsID() }

// PlanRunner is the runner entry apply targets.
type PlanRunner struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// Found: the entry is in config.toml, at Index of [[runners]] (ID is
	// its id there); otherwise it is appended (Index -1).
	Found bool  `json:"found"`
	Index int   `json:"index"`
	ID    int64 `json:"id,omitempty"`
	// Executor is the one that holds after apply: the answers', else the
	// entry's, else docker.
	Executor string `json:"executor"`
}

// SystemIDPlan is the system id verify calls send and the one the runner
// uses after apply.
type SystemIDPlan struct {
	Path string `json:"path"`
	// Verify is the id verify calls send: the host's now (from Path, or
	// computed as the runner computes it), or with --fresh-system-id
	// outside a dry run the fresh ID this apply writes, so that GitLab
	// never hears the cloned one from this host.
	Verify   string `json:"verify"`
	FromFile bool   `json:"from_file"`
	// ID is the id after apply; Write says when Path is written
	// (SystemIDWriteFresh, …): with-config-toml as planned, no in the
	// plan as carried out when config.toml does not change.
	ID    string `json:"id"`
	Write string `json:"write"`
}

// decideInput is what the action depends on.
type decideInput struct {
	found        bool
	diskToken    string // the entry's token when found
	token        string // the answers'
	kind         TokenKind
	create       bool // [gitlab.create]
	replaceToken bool
	offline      bool
}

// decision is decide's answer.
type decision struct {
	action      Action
	credentials string
	rotated     bool
	// refused names the answers field that needs GitLab when the plan
	// may contact nothing (--offline); the action is then impossible.
	refused string
}

// decide chooses what happens to the runner's registration. It never
// registers or creates a runner that is in the file: a registration token
// or [gitlab.create] there only made the entry once.
func decide(in decideInput) decision {
	switch {
	case in.found && in.create:
		// Created before: the token on disk is the runner's.
		return decision{action: ActionKeep, credentials: CredentialsConfigTOML}
	case in.found && in.kind == TokenRegistration:
		return decision{action: ActionKeep, credentials: CredentialsConfigTOML}
	case in.found && in.diskToken == in.token:
		return decision{action: ActionKeep, credentials: CredentialsConfigTOML}
	case in.found && !in.replaceToken:
		// The runner rotated its token: keep it, and check that one.
		return decision{action: ActionKeep, credentials: CredentialsConfigTOML, rotated: true}
	case in.create:
		d := decision{action: ActionCreate, credentials: CredentialsGitLab}
		if in.offline {
			d.refused = "gitlab.create"
		}
		return d
	case in.kind == TokenRegistration:
		d := decision{action: ActionRegister, credentials: CredentialsGitLab}
		if in.offline {
			d.refused = "gitlab.token"
		}
		return d
	case in.offline:
		return decision{action: ActionUnverified, credentials: CredentialsAnswers}
	}
	return decision{action: ActionVerify, credentials: CredentialsAnswers}
}

// checksFor is what the checks stage runs with opts.
func checksFor(opts ApplyOptions) string {
	if opts.SkipProbes || opts.Offline {
		return ChecksHost
	}
	return ChecksLive
}

// plan is apply's second stage: what happens to the runner, the files and
// the system id, from what load found. It contacts nothing; a plan that
// cannot be carried out (GitLab needed under --offline, [gitlab.create]
// without an API token that may go to gitlab.url) is an error (exit 2).
func (l *loaded) plan(opts ApplyOptions) (Plan, error) {
	a, t := l.a, l.target
	kind, _ := ClassifyToken(a.GitLab.Token, a.GitLab.TokenKind)
	in := decideInput{found: t.Found(), token: a.GitLab.Token, kind: kind, create: a.GitLab.Create != nil,
		replaceToken: opts.ReplaceToken, offline: opts.Offline}
	p := Plan{
		Runner:     PlanRunner{Name: a.GitLab.Name, URL: a.GitLab.URL, Index: t.Index, Executor: l.eff.Runner.Executor},
		ConfigTOML: l.paths.ConfigTOML,
		Checks:     checksFor(opts),
		DryRun:     opts.DryRun,
		Offline:    opts.Offline,
	}
	if t.Found() {
		in.diskToken = t.Existing.Token
		p.Runner.Found, p.Runner.ID = true, t.Existing.ID
	}
	d := decide(in)
	p.Action, p.Credentials, p.TokenRotated = d.action, d.credentials, d.rotated
	if d.refused != "" {
		return p, offlineRefusal(d.refused, a.GitLab.Name)
	}
	var err error
	if p.warnings, err = l.sameNameElsewhere(p.Action); err != nil {
		return p, err
	}
	if a.WritesDockerConfig() {
		p.DockerConfig = filepath.Join(l.paths.DockerConfigDir, "config.json")
	}
	id := l.ids
	p.SystemID = SystemIDPlan{
		Path:   filepath.Join(filepath.Dir(l.paths.ConfigTOML), systemid.FileName),
		Verify: id.verify, FromFile: id.fromFile, ID: id.now, Write: SystemIDWriteWithConfig,
	}
	switch {
	case opts.FreshSystemID:
		p.SystemID.ID, p.SystemID.Write = id.fresh, SystemIDWriteFresh
	case id.fromFile:
		p.SystemID.Write = SystemIDWriteNo
	}
	p.duplicates, p.empty, p.keep, p.pruneStale = opts.PruneDuplicates, opts.PruneEmpty, t.Index, opts.PruneStale
	if p.duplicates || p.empty {
		p.entries = fleet.RunnersOf(l.config.Runners)
	}
	p.setStale(opts.Prune)
	if a.GitLab.Create != nil {
		if p.creation, err = newCreation(a, t.Existing, opts, l.paths, id.verify); err != nil {
			return p, err
		}
		p.Create = p.creation.planned()
	}
	return p, nil
}

// sameNameElsewhere decides about entries with the answers' name on
// another GitLab (t.elsewhere). They are not this runner, and their token
// is never sent to this GitLab. A runner apply makes (create, register) is
// added beside them, with a warning naming them; an authentication token
// is refused (exit 2): whether the runner moved or the answers were copied
// from another host is the user's to say, by renaming one of the two.
func (l *loaded) sameNameElsewhere(action Action) ([]FieldError, error) {
	others := l.target.elsewhere
	if len(others) == 0 {
		return nil, nil
	}
	a := l.a
	var urls []string
	for _, o := range others {
		if u := secret.RedactURL(o.URL); !slices.Contains(urls, u) {
			urls = append(urls, u)
		}
	}
	there := strings.Join(urls, ", ")
	here := secret.RedactURL(a.GitLab.URL)
	found := fmt.Sprintf("runner %q in config.toml is for %s", a.GitLab.Name, there)
	if len(others) > 1 {
		found = fmt.Sprintf("%d runners are named %q in config.toml, for %s", len(others), a.GitLab.Name, there)
	}
	if action == ActionCreate || action == ActionRegister {
		return []FieldError{{Field: "gitlab.name", Warning: true,
			Problem: fmt.Sprintf("%s: another GitLab's runner, which stays as it is; apply adds %q for %s beside it", found, a.GitLab.Name, here),
			Fix:     "when that runner is no longer needed (a finished migration), remove its entry; or give this one another gitlab.name"}}, nil
	}
	return nil, &ValidationError{Problems: []FieldError{{Field: "gitlab.name",
		Problem: fmt.Sprintf("%s, but the answers put it on %s: runnerup does not move a runner to another GitLab (its token belongs to %s), nor add a second %q without being told", found, here, there, a.GitLab.Name),
		Fix:     fmt.Sprintf("give this runner another gitlab.name to keep both; or, if GitLab moved, change url in that config.toml entry to %s (or remove the entry) and apply again", here)}}}
}

// offlineRefusal is the exit-2 error for a plan that needs GitLab under
// --offline.
func offlineRefusal(field, name string) error {
	fe := FieldError{Field: field}
	switch field {
	case "gitlab.create":
		fe.Problem = fmt.Sprintf("runner %q is not in config.toml yet, and creating it needs GitLab (POST /user/runners); --offline contacts nothing", name)
		fe.Fix = "run apply without --offline once to create the runner; later applies may be --offline"
	default:
		fe.Problem = fmt.Sprintf("is a registration token: registering runner %q needs GitLab (POST /runners); --offline contacts nothing", name)
		fe.Fix = "run apply without --offline, or use the runner's glrt- authentication token (written unverified with --offline)"
	}
	return &ValidationError{Problems: []FieldError{fe}}
}

// afterChecks is the plan as the checks completed it, a new value: where
// [gitlab.create] creates (the target's id), the runner's settings in
// GitLab to update (or why they were not compared), whether --recreate
// creates it again, and with --prune-stale the stale entries found.
func (p Plan) afterChecks(c checked) Plan {
	if p.Create != nil {
		pc, f := *p.Create, c.create
		if f.targetID != 0 {
			pc.ID = f.targetID
		}
		pc.Settings, pc.Recreate = f.settings, f.recreate
		if f.skipped != "" {
			pc.SettingsSkipped = f.skipped
		}
		p.Create = &pc
	}
	if p.pruneStale {
		p.setStale(append(slices.Clone(p.stale), fleet.StaleRunners(c.results)...))
	}
	return p
}

// afterRender is the plan as render completed it: the system id planned
// to be written with config.toml is not when config.toml does not change
// (the runner writes it itself when it starts).
func (p Plan) afterRender(configChanged bool) Plan {
	if p.SystemID.Write == SystemIDWriteWithConfig && !configChanged {
		p.SystemID.Write = SystemIDWriteNo
	}
	return p
}

func (p *Plan) setStale(stale []fleet.Runner) {
	p.stale = stale
	p.Prune = prunedResult(p.chosen())
}

// pruneSpec is what render removes.
func (p *Plan) pruneSpec() pruneSpec {
	return pruneSpec{stale: p.stale, duplicates: p.duplicates, empty: p.empty}
}

// chosen are the entries the plan removes from config.toml as load read
// it, and stale entries it does not hold (render matches them again).
func (p *Plan) chosen() []prunedEntry {
	out := p.pruneSpec().choose(p.entries, p.keep)
	found := map[string]bool{}
	for _, e := range out {
		found[credentialsKey(e.Runner)] = true
	}
	for _, e := range staleEntries(p.stale) {
		if !found[credentialsKey(e.Runner)] {
			out = append(out, e)
		}
	}
	return out
}

// runnerAction is RunnerResult.Action before GitLab answered: what the
// JSON contract calls the plan's action.
func (p Plan) runnerAction() string {
	switch p.Action {
	case ActionKeep:
		return "kept"
	case ActionVerify:
		return "verified"
	case ActionRegister:
		if p.DryRun {
			return "would-register"
		}
		return "registered"
	case ActionCreate:
		if p.DryRun {
			return "would-create"
		}
		return "created"
	case ActionUnverified:
		return "unverified"
	}
	return string(p.Action)
}

// createdIn is RunnerResult.CreatedIn: where [gitlab.create] creates the
// runner, with the id the checks found.
func (p Plan) createdIn() string {
	switch {
	case p.Create == nil:
		return ""
	case p.Create.RunnerType == gitlab.InstanceType || p.Create.isID():
		return p.Create.place()
	}
	return strings.TrimSuffix(p.Create.RunnerType, "_type") + " " + p.Create.place()
}

// updatesSettings: the checks found settings in GitLab to update.
func (p Plan) updatesSettings() bool {
	return p.Create != nil && p.Action == ActionKeep && len(p.Create.Settings) > 0
}
