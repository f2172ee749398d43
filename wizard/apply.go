package wizard

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/runnerup/runnerup/internal/gitlab"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/fleet"
	"github.com/runnerup/runnerup/probe/service"
)

// InputError is bad input that is not a single answers field: an unreadable
// config file, a bad path (exit code 2).
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// CheckError is a live check that failed and blocks writing (exit code 3).
type CheckError struct {
	Check   string // stable check id, e.g. gitlab.token
	Problem string
	Hint    string
	Err     error
	// Results are the probe results when live checks failed.
	Results []probe.Result
}

func (e *CheckError) Error() string {
	s := e.Check + ": " + e.Problem
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}
func (e *CheckError) Unwrap() error { return e.Err }

// RunnerAPI is the part of the GitLab API apply uses; tests inject fakes.
type RunnerAPI interface {
	Verify(ctx context.Context, token, systemID string) (gitlab.Runner, error)
	Register(ctx context.Context, req gitlab.RegisterRequest) (gitlab.Runner, error)
}

// ApplyOptions are apply's inputs besides the answers. Apply, probe and
// the wizard read them and never change them: what they find (the
// service, the paths, the system id) is carried by the stages' values.
type ApplyOptions struct {
	// ConfigPath and DockerConfigDir override the answers' [output] and the
	// defaults.
	ConfigPath      string
	DockerConfigDir string
	DryRun          bool
	// DiffTexts adds the redacted whole files (FileChange.Before, After)
	// to the result beside the diff (apply --diff-texts).
	DiffTexts bool
	// ReplaceToken writes the answers' token over a different one on disk.
	ReplaceToken bool
	Timeout      time.Duration
	// LockTimeout bounds the wait for another runnerup's file lock.
	LockTimeout time.Duration
	// SkipProbes writes without the live checks of GitLab, the daemon and
	// registries (--skip-probes); GitLab is still called to verify,
	// register or create the runner.
	SkipProbes bool
	// Offline contacts nothing at all (--offline): no verify, register,
	// create or live checks; a plan that needs GitLab is refused (exit 2).
	Offline bool
	// LiveChecksDone: the caller ran the live checks of these answers
	// itself (the wizard's checklist, ProbeAnswers). A dry run then plans
	// them as the write will run them, and runs only the host checks.
	LiveChecksDone bool
	Probe          ProbeOptions

	Now      func() time.Time
	Hostname string
	Env      Env
	Paths    PathEnv
	// NewGitLab builds the API client; nil uses internal/gitlab.
	NewGitLab func(url string, opts gitlab.Options) (RunnerAPI, error)
	// HTTPClient is passed to the default GitLab client (nil: default).
	HTTPClient *http.Client

	// DetectService finds the gitlab-runner service (nil: not looked
	// for); the files it reads become the defaults.
	DetectService DetectFunc
	// MachineID reads this host's machine id for the system id check
	// (nil: no check).
	MachineID func() (string, error)
	// CheckStale verifies the other [[runners]] entries' tokens and
	// reports stale ones; PruneStale also removes them (with a backup).
	CheckStale bool
	PruneStale bool
	// PruneDuplicates removes later copies of an entry's url and token,
	// PruneEmpty entries without a token (both read from config.toml, no
	// checks needed; the answers' entry is never removed).
	PruneDuplicates bool
	PruneEmpty      bool
	// Prune lists entries to remove that an earlier run found stale (the
	// wizard's review, where the user chose them); no checks needed.
	Prune []fleet.Runner
	// FreshSystemID writes a new random r_ system id (a cloned or shared
	// one makes every copy one runner manager in GitLab).
	FreshSystemID bool
	// Recreate consents to creating a [gitlab.create] runner again when
	// GitLab rejects the token config.toml holds for it (the runner was
	// deleted in GitLab): its entry gets the new id and token.
	Recreate bool
	// LeaveRunner keeps a runner registered with a registration token in
	// GitLab when it cannot be saved (register --leave-runner); otherwise
	// apply unregisters it again.
	LeaveRunner bool

	// ContactPoll is WaitContact's poll interval (0: the client's 2 s).
	ContactPoll time.Duration
}

// FileChange is one file apply looked at.
type FileChange struct {
	Path    string `json:"path"`
	Changed bool   `json:"changed"`
	Created bool   `json:"created"`
	Backup  string `json:"backup,omitempty"`
	// Diff is the redacted unified diff (only in results, never logged).
	Diff string `json:"diff,omitempty"`
	// Before and After are the whole file before and after, redacted as
	// Diff is, when ApplyOptions.DiffTexts asks and the file changes
	// (Ansible's diff mode shows them side by side); Before is "" for a
	// new file.
	Before *string `json:"before,omitempty"`
	After  *string `json:"after,omitempty"`
}

// ApplyResult is what apply did or, with DryRun, would do.
type ApplyResult struct {
	DryRun       bool         `json:"dry_run"`
	Changed      bool         `json:"changed"`
	ConfigTOML   FileChange   `json:"config_toml"`
	DockerConfig *FileChange  `json:"docker_config,omitempty"`
	SystemID     *FileChange  `json:"system_id_file,omitempty"`
	Runner       RunnerResult `json:"runner"`
	Warnings     []FieldError `json:"warnings"`
	// Checks are the live checks' results (only the local host checks
	// with SkipProbes).
	Checks []probe.Result `json:"checks"`
	// Pruned lists the entries removed (--prune-stale, --prune-duplicates,
	// --prune-empty).
	Pruned []PrunedRunner `json:"pruned,omitempty"`
	// Service is the gitlab-runner service found on this host.
	Service *service.Install `json:"service,omitempty"`
	// NextSteps say what to do now, for the install kind found.
	NextSteps []string `json:"next_steps"`
	// ServiceAction is what NextSteps ask of the service, for automation:
	// none, start, restart or manual (ServiceAction* constants).
	ServiceAction string `json:"service_action"`
	// Plan is what apply decided to do before contacting or writing
	// anything, as the checks and render completed it (added to the JSON
	// contract additively).
	Plan *Plan `json:"plan,omitempty"`
}

// PrunedRunner is an entry apply removed.
type PrunedRunner struct {
	Name  string `json:"name"`
	URL   string `json:"url"`
	Token string `json:"token"` // redacted; "" when the entry has none
	// Reason is PruneStale, PruneDuplicate or PruneEmptyToken.
	Reason string `json:"reason"`
	// DuplicateOf is the entry a duplicate copies, which stays.
	DuplicateOf *EntryRef `json:"duplicate_of,omitempty"`
}

// RunnerResult says what happened to the runner entry.
type RunnerResult struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	ID   int64  `json:"id,omitempty"`
	// Action: registered (new runner via registration token), verified (an
	// authentication token checked and written), kept (entry existed; its
	// credentials stay), would-register (dry run), created / would-create
	// ([gitlab.create]).
	Action   string `json:"action"`
	Token    string `json:"token"` // redacted
	Appended bool   `json:"appended"`
	SystemID string `json:"system_id"`
	// CreatedIn says where [gitlab.create] creates (or created) the
	// runner: "project group/app (#42)".
	CreatedIn string `json:"created_in,omitempty"`
	// SettingsUpdated: apply sent plan.create.settings to GitLab
	// (PUT /runners/:id).
	SettingsUpdated bool `json:"settings_updated,omitempty"`
}

// Prepared answers: loaded, resolved, defaulted and validated.
type Prepared struct {
	// Raw keeps references (env:, file:) for saving; Resolved has values.
	Raw, Resolved *Answers
	Warnings      []FieldError
	Path          string
}

// Prepare loads an answers file and runs every offline check. Problems
// come back as one *ValidationError (exit 2); warnings ride along.
func Prepare(path string, env Env, hostname string) (*Prepared, error) {
	raw, unknown, err := LoadFile(path)
	if err != nil {
		return nil, err
	}
	resolver := Resolver{LookupEnv: env, ReadFile: readReference, BaseDir: filepath.Dir(path)}
	p, err := PrepareAnswers(raw, unknown, resolver, hostname)
	if err != nil {
		return nil, err
	}
	p.Path = path
	if w := literalSecretWarnings(raw, path); len(w) > 0 {
		p.Warnings = append(p.Warnings, w...)
	}
	return p, nil
}

// PrepareAnswers is Prepare for answers already in memory (the TUI's).
// Defaults and checks that depend on whether the runner is in config.toml
// (the executor, a required image) wait for Apply and Probe, which know.
func PrepareAnswers(raw *Answers, unknown []FieldError, r Resolver, hostname string) (*Prepared, error) {
	resolved, refProblems := r.Resolve(raw)
	resolveCreateToken(raw, resolved, r.LookupEnv)
	resolved.applyCommonDefaults(hostname)
	problems := append(append([]FieldError{}, unknown...), refProblems...)
	problems = append(problems, resolved.validateOwn()...)
	if blocking := Blocking(problems); len(blocking) > 0 {
		return nil, &ValidationError{Problems: blocking}
	}
	return &Prepared{Raw: raw, Resolved: resolved, Warnings: problems}, nil
}

// literalSecretWarnings warns when secrets sit in clear in a file others
// can read.
func literalSecretWarnings(raw *Answers, path string) []FieldError {
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm()&0o077 == 0 {
		return nil
	}
	var out []FieldError
	eachString(raw, func(field string, s *string) {
		if *s != "" && IsSecretField(field) && !IsReference(*s) {
			out = append(out, FieldError{
				Field: field, Warning: true,
				Problem: fmt.Sprintf("is a literal secret in %s, which is readable by group/other (mode %04o)", path, st.Mode().Perm()),
				Fix:     fmt.Sprintf("chmod 600 %s, or use an env:NAME reference", path),
			})
		}
	})
	return out
}

// Apply replays prepared answers headless, as the stages it has, each a
// small function of its own that returns a value the next one takes:
//
//	load         read every local input: config.toml (decoded once, the
//	             runner found once), config.json, the system id, the service
//	plan         decide what happens to the runner and its files: a Plan
//	credentials  verify an authentication token (before the checks: a wrong
//	             one stops apply first)
//	checks       the live checks (only the local host checks with SkipProbes
//	             or Offline), after [gitlab.create]'s read-only calls
//	credentials  register or create the runner, or update its settings
//	render       the new config.toml and config.json bytes and their diffs
//	write        safewrite.Update, rendering again if another process wrote
//
// GitLab is called where the plan says, never in a dry run (but to verify)
// and never with Offline. Apply never registers or creates a runner that
// is already in the file; when render or write fails after it created
// one, it deletes it again.
func Apply(ctx context.Context, p *Prepared, opts ApplyOptions) (*ApplyResult, error) {
	opts = opts.withDefaults()
	l, err := load(ctx, p, opts)
	if err != nil {
		return nil, err
	}
	plan, err := l.plan(opts)
	if err != nil {
		return nil, err
	}
	creds, err := l.credentialsBeforeChecks(ctx, plan, opts)
	if err != nil {
		return nil, err
	}
	checks, err := l.runChecks(ctx, plan, opts, fleetApply)
	if err != nil {
		return l.result(plan, creds, checks, nil), err
	}
	plan = plan.afterChecks(checks)
	if creds, err = l.credentialsAfterChecks(ctx, plan, checks.create, opts, creds); err != nil {
		return nil, err
	}
	out, err := l.render(plan, creds.write, opts.DiffTexts)
	if err != nil {
		return nil, l.undo(ctx, plan, creds, opts, err)
	}
	plan = plan.afterRender(out.configTOML.Changed)
	if !opts.DryRun && out.changed() {
		if out, err = l.write(out, plan, creds, opts); err != nil {
			return nil, l.undo(ctx, plan, creds, opts, err)
		}
	}
	return l.result(plan, creds, checks, out), nil
}

// result is apply's result from what the stages returned; out is nil when
// the checks stopped apply.
func (l *loaded) result(plan Plan, creds credResult, checks checked, out *rendered) *ApplyResult {
	res := &ApplyResult{
		DryRun:  plan.DryRun,
		Service: l.service,
		Plan:    &plan,
		Checks:  checks.results,
	}
	res.Warnings = append(append(append(append([]FieldError{}, l.p.Warnings...), l.warnings...), plan.warnings...), creds.warnings...)
	res.Warnings = append(res.Warnings, checks.warnings...)
	res.ConfigTOML.Path = plan.ConfigTOML
	res.Runner = RunnerResult{Name: plan.Runner.Name, URL: plan.Runner.URL, SystemID: plan.SystemID.ID,
		Action: creds.action, ID: creds.id, CreatedIn: creds.createdIn, SettingsUpdated: creds.settingsUpdated}
	if out == nil {
		return res
	}
	res.Runner.Token = l.shownToken(creds)
	res.Warnings = append(res.Warnings, out.warnings...)
	res.Runner.Appended = out.files.appended
	res.Pruned = prunedResult(out.files.pruned)
	res.ConfigTOML, res.DockerConfig, res.SystemID = out.configTOML, out.dockerConfig, out.systemID
	// The files decide the next steps; a settings update in GitLab is a
	// change too.
	res.Changed = out.changed()
	res.NextSteps, res.ServiceAction = nextSteps(res, l.service, l.scan.detected)
	res.Changed = res.Changed || plan.updatesSettings()
	return res
}

// withDefaults fills the options apply needs and the caller left zero.
func (o ApplyOptions) withDefaults() ApplyOptions {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	return o
}
