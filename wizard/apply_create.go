package wizard

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/runnerup/runnerup/internal/gitlab"
	"github.com/runnerup/runnerup/internal/secret"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/render"
)

// [gitlab.create] in apply's stages: plan (newCreation: the API token is
// there and may go to gitlab.url; nothing contacted), checks (preflight:
// the token's scopes and the project or group, or the settings of the
// runner created before; read-only), credentials after the checks (create,
// or reconcile with PUT; only under apply, never in a dry run), and undo
// when render or write fails after the runner was created.

// CreateAPI is the part of the GitLab API runner creation uses; the real
// *gitlab.Client implements it.
type CreateAPI interface {
	TokenSelf(ctx context.Context, apiToken string) (gitlab.TokenInfo, error)
	Project(ctx context.Context, apiToken, idOrPath string) (gitlab.Project, error)
	Group(ctx context.Context, apiToken, idOrPath string) (gitlab.Group, error)
	CreateRunner(ctx context.Context, apiToken string, req gitlab.CreateRunnerRequest) (gitlab.Runner, error)
	RunnerDetails(ctx context.Context, apiToken string, id int64) (gitlab.RunnerDetails, error)
	UpdateRunner(ctx context.Context, apiToken string, id int64, u gitlab.RunnerUpdate) (gitlab.RunnerDetails, error)
	DeleteRunner(ctx context.Context, apiToken string, id int64) error
}

// Check ids of runner creation.
const (
	IDAPIToken     = "gitlab.api-token"
	IDCreateTarget = "gitlab.create-target"
	IDServerConfig = "gitlab.runner-settings"
)

// creation carries out [gitlab.create]: the API client and token, and
// what the checks found (the target's id, the settings to update).
type creation struct {
	c        *Create
	name     string
	url      string
	token    gitlab.APIToken
	api      CreateAPI // nil: nothing is contacted (offline, or no API token)
	runners  RunnerAPI // verifies the token on disk (with api)
	sysID    string    // the system id verify sends
	existing *render.ExistingRunner
	timeout  time.Duration
	errs     gitlabErrors
	// mayRecreate: --recreate, consent to create the runner again when
	// GitLab no longer knows the one config.toml holds.
	mayRecreate bool

	plan               *PlanCreate
	projectID, groupID int64
	// runnerID is the runner the settings are read and updated on: the
	// one verify says config.toml's token belongs to.
	runnerID int64
	update   gitlab.RunnerUpdate
	// created: create made a runner this apply (rollback deletes it).
	created bool
}

// newCreation checks locally what [gitlab.create] needs: creating needs an
// API token that may go to gitlab.url (--offline was refused by decide); a
// runner already in config.toml needs neither: its token is verified, and
// its settings in GitLab are compared when a token is there.
func newCreation(a *Answers, existing *render.ExistingRunner, opts ApplyOptions) (*creation, error) {
	c := a.GitLab.Create
	cr := &creation{c: c, name: a.GitLab.Name, url: a.GitLab.URL, existing: existing, timeout: opts.Timeout,
		token: gitlab.APIToken{Value: c.APIToken, Source: c.apiTokenSource}, errs: gitlabErrorsFor(a, opts),
		sysID: opts.systemID, mayRecreate: opts.Recreate}
	cr.plan = &PlanCreate{RunnerType: c.EffectiveRunnerType(), Target: c.targetRef()}
	if cr.token.Value != "" {
		cr.plan.APIToken = cr.token.Source
	}
	switch {
	case existing == nil && cr.token.Value == "":
		return nil, &ValidationError{Problems: []FieldError{{Field: "gitlab.create.api_token",
			Problem: fmt.Sprintf("is not set, and creating runner %q needs an API token", a.GitLab.Name),
			Fix:     "export GITLAB_TOKEN with a personal, project or group access token that has the create_runner scope (or set gitlab.create.api_token)"}}}
	case opts.Offline:
		cr.plan.SettingsSkipped = "offline: the runner's settings in GitLab were not compared with the answers"
		return cr, nil
	case cr.token.Value == "":
		cr.plan.SettingsSkipped = "no API token (GITLAB_TOKEN): the runner's settings in GitLab were not compared with the answers"
		return cr, nil
	}
	if err := gitlab.CheckTokenDestination(a.GitLab.URL, gitlab.LookupEnv(opts.Env)); err != nil {
		return nil, apiTokenRefusal(err)
	}
	api, err := newGitLab(a, opts)
	if err != nil {
		return nil, err
	}
	// Plain http through a proxy: the transport knows, not the URL.
	if rc, ok := api.(interface{ CheckAPITokenRoute() error }); ok {
		if err := rc.CheckAPITokenRoute(); err != nil {
			return nil, apiTokenRefusal(err)
		}
	}
	capi, ok := api.(CreateAPI)
	if !ok {
		return nil, fmt.Errorf("the GitLab client %T cannot create runners", api)
	}
	cr.api, cr.runners = capi, api
	return cr, nil
}

// apiTokenRefusal is the exit-2 error for an API token that may not go
// where gitlab.url (and the proxy) would send it.
func apiTokenRefusal(err error) error {
	fe := FieldError{Field: "gitlab.create.api_token", Problem: err.Error()}
	if de := (*gitlab.TokenDestinationError)(nil); errors.As(err, &de) {
		fe.Problem, fe.Fix = de.Reason, de.Fix
	}
	return &ValidationError{Problems: []FieldError{fe}}
}

// planned is the plan's view of the creation.
func (cr *creation) planned() *PlanCreate { return cr.plan }

// recreates reports whether apply creates again the runner of an entry
// GitLab no longer knows (--recreate).
func (cr *creation) recreates() bool { return cr != nil && cr.existing != nil && cr.plan.Recreate }

func (cr *creation) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, cr.timeout)
}

// preflight is [gitlab.create]'s part of the checks stage, read-only:
// for a runner to create, the token's scopes and the project or group
// (whose id POST /user/runners needs); for one created before, its token
// is verified first (the settings are those of the runner it belongs to,
// and a runner deleted in GitLab is found here), then its settings in
// GitLab are compared with the answers, recorded in the plan.
func (cr *creation) preflight(ctx context.Context, opts ProbeOptions) ([]probe.Result, error) {
	if cr.api == nil {
		return nil, nil
	}
	pf := &preflightRun{opts: opts}
	if cr.existing == nil {
		return cr.createPreflight(ctx, pf)
	}
	id, ok, err := cr.verifyExisting(ctx, pf)
	switch {
	case err == nil && cr.plan.Recreate:
		return cr.createPreflight(ctx, pf)
	case err != nil || !ok:
		return pf.results, err
	}
	cr.runnerID = id
	r := probe.Result{ID: IDServerConfig, Title: "Runner settings in GitLab"}
	cctx, cancel := cr.ctx(ctx)
	have, err := cr.api.RunnerDetails(cctx, cr.token.Value, id)
	cancel()
	if err != nil {
		// Reading is not the user's goal: a token that may only create
		// runners still re-applies, with the reason shown.
		cr.plan.SettingsSkipped = fmt.Sprintf("could not read runner #%d: %v", id, err)
		r.Status, r.Detail = probe.Warn, cr.plan.SettingsSkipped
		switch {
		case errors.Is(err, gitlab.ErrRunnerNotFound) || errors.Is(err, gitlab.ErrNotFound):
			cr.plan.SettingsSkipped = fmt.Sprintf("runner #%d was not found in GitLab (404): it was deleted, or the %s's user cannot see it", id, cr.token)
			r.Detail = cr.plan.SettingsSkipped
			r.Hint = "if it was deleted, `runnerup apply --recreate` creates it again; otherwise use a token of a Maintainer/Owner of the runner's project or group"
		case errors.Is(err, gitlab.ErrAPIForbidden):
			r.Hint = "give the token the manage_runner (or api) scope and Maintainer of the runner's project/group to keep its settings in step with the answers"
		default:
			r.Hint = apiHint(err)
		}
		return pf.add(r), nil
	}
	cr.plan.Settings, cr.update = cr.c.settingsDiff(have)
	r.Status, r.Detail = probe.Pass, fmt.Sprintf("runner #%d matches the answers", id)
	if n := len(cr.plan.Settings); n > 0 {
		r.Detail = fmt.Sprintf("runner #%d differs from the answers: %d setting(s) to update", id, n)
	}
	return pf.add(r), nil
}

// preflightRun collects preflight's results, streaming each.
type preflightRun struct {
	opts    ProbeOptions
	results []probe.Result
}

func (pf *preflightRun) add(r probe.Result) []probe.Result {
	pf.results = append(pf.results, reportNow(r, pf.opts))
	return pf.results
}

func (pf *preflightRun) fail(r probe.Result, err error) ([]probe.Result, error) {
	r.Status = probe.Fail
	pf.add(r)
	return pf.results, &CheckError{Check: r.ID, Problem: r.Detail, Hint: r.Hint, Err: err, Results: pf.results}
}

// createPreflight checks what POST /user/runners needs: the token's
// scopes, and the project's or group's id.
func (cr *creation) createPreflight(ctx context.Context, pf *preflightRun) ([]probe.Result, error) {
	r := probe.Result{ID: IDAPIToken, Title: "API token for runner creation"}
	cctx, cancel := cr.ctx(ctx)
	info, err := cr.api.TokenSelf(cctx, cr.token.Value)
	cancel()
	switch {
	case err != nil && errors.Is(err, gitlab.ErrAPITokenInvalid):
		r.Detail, r.Hint = fmt.Sprintf("GitLab rejected the %s (401): %v", cr.token, err), "create a new access token with the create_runner scope and export it as GITLAB_TOKEN"
		return pf.fail(r, err)
	case err != nil && cr.errs.transport(err):
		return pf.fail(cr.errs.result(r, err), err)
	case err != nil:
		// Not every token can describe itself (OAuth tokens): creation
		// itself will say what is missing.
		r.Status, r.Detail = probe.Warn, fmt.Sprintf("could not read the token's scopes: %v", err)
	case !info.CanCreateRunners():
		r.Detail = fmt.Sprintf("the %s has scopes %v, without create_runner or api", cr.token, info.Scopes)
		r.Hint = "create an access token with the create_runner scope (Settings › Access tokens) and export it as GITLAB_TOKEN"
		return pf.fail(r, &gitlab.APIError{Kind: gitlab.KindAPIScope, Status: 403})
	default:
		r.Status, r.Detail = probe.Pass, fmt.Sprintf("%s can create runners (scopes %v)", cr.token, info.Scopes)
	}
	pf.add(r)
	tr, err := cr.resolveTarget(ctx)
	if err != nil {
		return pf.fail(tr, err)
	}
	return pf.add(tr), nil
}

// verifyExisting verifies the token config.toml holds for the runner
// created before, with the id verify calls send. A token GitLab rejects
// (the runner was deleted in GitLab) stops apply, unless --recreate allows
// creating it again (plan.Recreate); a token of another runner than the
// entry's id leaves the settings alone. ok is false when the settings are
// not to be compared.
func (cr *creation) verifyExisting(ctx context.Context, pf *preflightRun) (id int64, ok bool, err error) {
	r := probe.Result{ID: probe.IDGitLabToken, Title: "Runner token"}
	cctx, cancel := cr.ctx(ctx)
	got, err := cr.runners.Verify(cctx, cr.existing.Token, cr.sysID)
	cancel()
	onDisk := "its entry"
	if cr.existing.ID != 0 {
		onDisk = fmt.Sprintf("runner #%d", cr.existing.ID)
	}
	switch {
	case errors.Is(err, gitlab.ErrTokenInvalid) || errors.Is(err, gitlab.ErrOrphaned):
		r.Detail = fmt.Sprintf("%s (%q, created by [gitlab.create]) was deleted in GitLab, or its token revoked: GitLab rejects the token config.toml holds (%v)", onDisk, cr.name, err)
		if !cr.mayRecreate {
			r.Hint = "`runnerup apply --recreate` creates the runner again from [gitlab.create] and replaces its id and token in config.toml (only that entry changes); or remove the entry"
			_, err = pf.fail(r, err)
			return 0, false, err
		}
		cr.plan.Recreate = true
		r.Status, r.Hint = probe.Warn, "--recreate: apply creates the runner again and replaces its id and token in config.toml"
		pf.add(r)
		return 0, false, nil
	case err != nil && cr.errs.transport(err):
		_, err = pf.fail(cr.errs.result(r, err), err)
		return 0, false, err
	case err != nil:
		ce := gitlabCheckError(r.ID, err).(*CheckError)
		r.Detail, r.Hint = ce.Problem, ce.Hint
		_, err = pf.fail(r, err)
		return 0, false, err
	case cr.existing.ID != 0 && got.ID != cr.existing.ID:
		cr.plan.SettingsSkipped = fmt.Sprintf("config.toml records id %d for runner %q, but GitLab says its token belongs to runner #%d: its settings were not compared, nothing was updated", cr.existing.ID, cr.name, got.ID)
		r.Status, r.Detail = probe.Warn, cr.plan.SettingsSkipped
		r.Hint = fmt.Sprintf("set id = %d in that [[runners]] entry (the token decides which runner it is)", got.ID)
		pf.add(r)
		return got.ID, false, nil
	}
	r.Status, r.Detail = probe.Pass, fmt.Sprintf("%s is valid (runner #%d, system id %s)", secret.Token(cr.existing.Token), got.ID, cr.sysID)
	pf.add(r)
	return got.ID, true, nil
}

// resolveTarget turns the project or group path into its id (POST
// /user/runners takes ids only).
func (cr *creation) resolveTarget(ctx context.Context) (probe.Result, error) {
	r := probe.Result{ID: IDCreateTarget, Title: "Where the runner is created", Status: probe.Pass}
	rt := cr.c.EffectiveRunnerType()
	field, ref := "gitlab.create.project", cr.c.Project
	if rt == gitlab.GroupType {
		field, ref = "gitlab.create.group", cr.c.Group
	}
	if rt == gitlab.InstanceType {
		r.Detail = "an instance runner (needs an administrator's token)"
		return r, nil
	}
	if ref.IsID() {
		n, _ := parseID(string(ref))
		cr.projectID, cr.groupID, cr.plan.ID = n, n, n
		r.Detail = fmt.Sprintf("%s #%d", cr.c.kindWord(), n)
		return r, nil
	}
	cctx, cancel := cr.ctx(ctx)
	defer cancel()
	var err error
	if rt == gitlab.GroupType {
		var g gitlab.Group
		g, err = cr.api.Group(cctx, cr.token.Value, string(ref))
		cr.groupID, r.Detail = g.ID, fmt.Sprintf("group %s (#%d)", g.FullPath, g.ID)
	} else {
		var p gitlab.Project
		p, err = cr.api.Project(cctx, cr.token.Value, string(ref))
		cr.projectID, r.Detail = p.ID, fmt.Sprintf("project %s (#%d)", p.PathWithNamespace, p.ID)
	}
	if err == nil {
		cr.plan.ID = max(cr.projectID, cr.groupID)
		return r, nil
	}
	r.Status = probe.Fail
	switch {
	case cr.errs.transport(err):
		r = cr.errs.result(r, err)
	case errors.Is(err, gitlab.ErrNotFound):
		r.Detail = fmt.Sprintf("%s %q: GitLab has no such %s, or the token's user cannot see it (404)", field, string(ref), cr.c.kindWord())
		r.Hint = "check the full path as GitLab shows it (group/sub/app) and that the token's user is a member"
	case errors.Is(err, gitlab.ErrAPIScope):
		r.Detail = fmt.Sprintf("%s %q: looking a path up needs the read_api scope, which the %s lacks", field, string(ref), cr.token)
		r.Hint = fmt.Sprintf("give the numeric id instead (%s = 42, shown on the %s's overview page), or add read_api to the token", field, cr.c.kindWord())
	default:
		r.Detail = fmt.Sprintf("%s %q: %v", field, string(ref), err)
		r.Hint = apiHint(err)
	}
	return r, err
}

func parseID(s string) (int64, error) {
	var n int64
	_, err := fmt.Sscan(s, &n)
	return n, err
}

// create makes the runner in GitLab (POST /user/runners): the one call
// that is not read-only. The returned token goes to config.toml only.
func (cr *creation) create(ctx context.Context, now time.Time) (*render.Credentials, int64, error) {
	cctx, cancel := cr.ctx(ctx)
	defer cancel()
	run, err := cr.api.CreateRunner(cctx, cr.token.Value, cr.c.createRequest(cr.projectID, cr.groupID, cr.name))
	if err != nil {
		if cr.errs.transport(err) {
			return nil, 0, cr.errs.checkError("gitlab.create", err)
		}
		ce := &CheckError{Check: "gitlab.create", Err: err, Problem: err.Error(), Hint: apiHint(err)}
		if errors.Is(err, gitlab.ErrAPIForbidden) && !errors.Is(err, gitlab.ErrAPIScope) {
			ce.Problem = fmt.Sprintf("GitLab refused to create %s (403): %v", cr.c.kindPhrase(), err)
		}
		return nil, 0, ce
	}
	cr.created = true
	return &render.Credentials{ID: run.ID, Token: run.Token, ObtainedAt: now, ExpiresAt: run.TokenExpiresAt}, run.ID, nil
}

// reconcile sends the settings update the checks planned
// (PUT /runners/:id); it reports whether it sent one.
func (cr *creation) reconcile(ctx context.Context) (bool, error) {
	// Settings are only planned for the runner verify found (runnerID).
	if cr.api == nil || cr.existing == nil || cr.runnerID == 0 || len(cr.plan.Settings) == 0 {
		return false, nil
	}
	cctx, cancel := cr.ctx(ctx)
	defer cancel()
	if _, err := cr.api.UpdateRunner(cctx, cr.token.Value, cr.runnerID, cr.update); err != nil {
		hint := apiHint(err)
		if errors.Is(err, gitlab.ErrAPIForbidden) {
			hint = "updating a runner needs a token with the manage_runner (or api) scope of a Maintainer/Owner of its project or group"
		}
		return false, &CheckError{Check: IDServerConfig, Err: err, Hint: hint,
			Problem: fmt.Sprintf("updating runner #%d's settings in GitLab failed: %v", cr.runnerID, err)}
	}
	return true, nil
}

// rollback deletes the runner just created when its token could not be
// saved, so no runner is left in GitLab that nothing can use; when that
// fails too, the error names the runner and the command that removes it.
func (cr *creation) rollback(ctx context.Context, id int64, writeErr error) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cr.timeout)
	defer cancel()
	if err := cr.api.DeleteRunner(cctx, cr.token.Value, id); err != nil {
		why := err.Error()
		if errors.Is(err, gitlab.ErrAPIForbidden) {
			// create_runner alone may create but not delete.
			why += "; deleting needs the manage_runner or api scope"
		}
		return fmt.Errorf("runner #%d was created in GitLab but its token could not be saved, and deleting it failed (%s): remove it with\n"+
			"  curl --request DELETE --header \"PRIVATE-TOKEN: $%s\" %s/api/v4/runners/%d\n"+
			"or in GitLab (Settings › CI/CD › Runners); the write failed: %w", id, why, envOrGitLabToken(cr.token.Source), strings.TrimRight(cr.url, "/"), id, writeErr)
	}
	return fmt.Errorf("runner #%d was created in GitLab but its token could not be saved, so it was deleted again: %w", id, writeErr)
}

func envOrGitLabToken(source string) string {
	if validEnvName(source) {
		return source
	}
	return "GITLAB_TOKEN"
}

// apiHint is the fix for an API-token error.
func apiHint(err error) string {
	switch {
	case errors.Is(err, gitlab.ErrAPITokenInvalid):
		return "the API token is expired, revoked or wrong: create a new one and export it as GITLAB_TOKEN"
	case errors.Is(err, gitlab.ErrAPIScope):
		return "create an access token with the create_runner scope (api works too) and export it as GITLAB_TOKEN"
	case errors.Is(err, gitlab.ErrAPIForbidden):
		return "use a token of a user with the role the message names (Maintainer/Owner there, or an administrator for instance runners)"
	case errors.Is(err, gitlab.ErrBadRequest):
		return "fix the [gitlab.create] value GitLab names"
	case errors.Is(err, gitlab.ErrNotFound):
		return "check the project/group path and that the token's user can see it"
	}
	return ""
}

// ContactToken is the API token --wait-contact uses: gitlab.create's when
// the answers have one, else glab's variables; it is refused (exit 2) when
// it may not go to gitlab.url. "" means none is set.
func ContactToken(p *Prepared, env Env) (string, error) {
	a := p.Resolved
	tok := gitlab.TokenFromEnv(gitlab.LookupEnv(env))
	if c := a.GitLab.Create; c != nil && c.APIToken != "" {
		tok = gitlab.APIToken{Value: c.APIToken, Source: c.apiTokenSource}
	}
	if tok.Value == "" {
		return "", nil
	}
	if err := gitlab.CheckTokenDestination(a.GitLab.URL, gitlab.LookupEnv(env)); err != nil {
		return "", &InputError{Err: fmt.Errorf("--wait-contact: %w", err)}
	}
	return tok.Value, nil
}
