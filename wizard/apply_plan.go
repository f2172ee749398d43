package wizard

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/runnerup/runnerup/internal/systemid"
	"github.com/runnerup/runnerup/probe"
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
	// Runner creation with [gitlab.create] (issue 14) and --offline
	// (issue 13) add their rows to decide.
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
	ChecksHost = "host" // SkipProbes: only the local host checks
)

// When apply writes .runner_system_id.
const (
	SystemIDWriteFresh      = "fresh"            // --fresh-system-id: a new random id, always
	SystemIDWriteWithConfig = "with-config-toml" // when config.toml changes (the runner would create it on start)
	SystemIDWriteNo         = "no"               // the file holds the id already
)

// Plan is what apply is going to do, decided from the answers and the files
// before anything is contacted or written. The dry run, the wizard's review
// (ApplyResult.Plan) and `apply -o json` ("plan") show it.
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
	// Prune are the stale entries to remove: those the wizard's review
	// chose, and with --prune-stale those the checks find (added after
	// the checks). Tokens are redacted.
	Prune  []PrunedRunner `json:"prune,omitempty"`
	DryRun bool           `json:"dry_run"`

	stale []fleet.Runner // Prune with their tokens, for render
}

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
	// Verify is the host's id now (from Path, or computed as the runner
	// computes it): a dry run or a failed check never shows GitLab
	// another one.
	Verify   string `json:"verify"`
	FromFile bool   `json:"from_file"`
	// ID is the id after apply; Write says when Path is written
	// (SystemIDWriteFresh, …).
	ID    string `json:"id"`
	Write string `json:"write"`
}

// decideInput is what the action depends on.
type decideInput struct {
	found        bool
	diskToken    string // the entry's token when found
	token        string // the answers'
	kind         TokenKind
	replaceToken bool
}

// decision is decide's answer.
type decision struct {
	action      Action
	credentials string
	rotated     bool
}

// decide chooses what happens to the runner's registration. It never
// registers a runner that is in the file: a registration token there only
// made the entry once.
func decide(in decideInput) decision {
	switch {
	case in.found && in.kind == TokenRegistration:
		return decision{action: ActionKeep, credentials: CredentialsConfigTOML}
	case in.found && in.diskToken == in.token:
		return decision{action: ActionKeep, credentials: CredentialsConfigTOML}
	case in.found && !in.replaceToken:
		// The runner rotated its token: keep it, and check that one.
		return decision{action: ActionKeep, credentials: CredentialsConfigTOML, rotated: true}
	case in.kind == TokenRegistration:
		return decision{action: ActionRegister, credentials: CredentialsGitLab}
	}
	return decision{action: ActionVerify, credentials: CredentialsAnswers}
}

// plan is apply's second stage: what happens to the runner, the files and
// the system id, from what load found. It contacts nothing.
func (l *loaded) plan(opts ApplyOptions) Plan {
	a, t := l.a, l.target
	kind, _ := ClassifyToken(a.GitLab.Token, a.GitLab.TokenKind)
	in := decideInput{found: t.found(), token: a.GitLab.Token, kind: kind, replaceToken: opts.ReplaceToken}
	p := Plan{
		Runner:     PlanRunner{Name: a.GitLab.Name, URL: a.GitLab.URL, Index: t.index, Executor: l.eff.Runner.Executor},
		ConfigTOML: l.paths.ConfigTOML,
		Checks:     ChecksLive,
		DryRun:     opts.DryRun,
	}
	if t.found() {
		in.diskToken = t.existing.Token
		p.Runner.Found, p.Runner.ID = true, t.existing.ID
	}
	d := decide(in)
	p.Action, p.Credentials, p.TokenRotated = d.action, d.credentials, d.rotated
	if opts.SkipProbes {
		p.Checks = ChecksHost
	}
	if a.WritesDockerConfig() {
		p.DockerConfig = filepath.Join(l.paths.DockerConfigDir, "config.json")
	}
	p.SystemID = SystemIDPlan{
		Path:   filepath.Join(filepath.Dir(l.paths.ConfigTOML), systemid.FileName),
		Verify: l.sysID, FromFile: l.sysIDFromFile, ID: l.sysID, Write: SystemIDWriteWithConfig,
	}
	switch {
	case opts.FreshSystemID:
		p.SystemID.ID, p.SystemID.Write = systemid.Random(), SystemIDWriteFresh
	case l.sysIDFromFile:
		p.SystemID.Write = SystemIDWriteNo
	}
	p.setStale(opts.Prune)
	return p
}

// addStale adds, with --prune-stale, the entries the checks found stale.
func (p *Plan) addStale(opts ApplyOptions, checks []probe.Result) {
	if opts.PruneStale {
		p.setStale(append(p.stale, fleet.StaleRunners(checks)...))
	}
}

func (p *Plan) setStale(stale []fleet.Runner) {
	p.stale = stale
	p.Prune = prunedResult(stale)
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
	}
	return string(p.Action)
}

// String is the plan in one line, as the dry run prints it.
func (p Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s runner %q", p.Action, p.Runner.Name)
	if p.Runner.Found {
		fmt.Fprintf(&b, " (entry %d of config.toml, executor %s)", p.Runner.Index+1, p.Runner.Executor)
	} else {
		fmt.Fprintf(&b, " (new, executor %s)", p.Runner.Executor)
	}
	fmt.Fprintf(&b, "; token from %s", p.Credentials)
	if p.TokenRotated {
		b.WriteString(" (differs from the answers': kept)")
	}
	fmt.Fprintf(&b, "; %s checks; renders %s", p.Checks, p.ConfigTOML)
	if p.DockerConfig != "" {
		b.WriteString(" and " + p.DockerConfig)
	}
	if len(p.Prune) > 0 {
		fmt.Fprintf(&b, "; removes %d stale runner(s)", len(p.Prune))
	}
	switch p.SystemID.Write {
	case SystemIDWriteFresh:
		fmt.Fprintf(&b, "; writes a fresh system id %s", p.SystemID.ID)
	case SystemIDWriteWithConfig:
		fmt.Fprintf(&b, "; system id %s, written with config.toml", p.SystemID.ID)
	default:
		fmt.Fprintf(&b, "; system id %s from %s", p.SystemID.ID, filepath.Base(p.SystemID.Path))
	}
	return b.String()
}

// newResult starts apply's result from the plan: the runner as planned,
// the warnings so far and the paths.
func (l *loaded) newResult(plan *Plan, opts ApplyOptions) *ApplyResult {
	res := &ApplyResult{
		DryRun:   opts.DryRun,
		Warnings: append(append([]FieldError{}, l.p.Warnings...), l.warnings...),
		Service:  opts.Paths.Service,
		Plan:     plan,
	}
	res.ConfigTOML.Path = plan.ConfigTOML
	res.Runner = RunnerResult{Name: plan.Runner.Name, URL: plan.Runner.URL, SystemID: plan.SystemID.ID}
	if plan.Action == ActionKeep {
		res.Runner.Action, res.Runner.ID = plan.runnerAction(), plan.Runner.ID
	}
	return res
}
