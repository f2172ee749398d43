package wizard

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	"github.com/runnerup/runnerup/internal/gitlab"
	"github.com/runnerup/runnerup/internal/secret"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/render"
)

// registrationPlaceholder stands for the token GitLab issues at
// registration: in the dry run's diff, and in the render that proves the
// file can be edited before GitLab makes a runner.
const registrationPlaceholder = "<issued by GitLab at registration>"

// credentialsBeforeChecks carries out the part of the plan that comes
// before the live checks: an authentication token is verified (a wrong
// one stops apply before anything else runs), and for a registration the
// file is rendered once with a placeholder, so a config.toml runnerup
// cannot edit fails before GitLab creates a runner. It returns the
// credentials to write (nil: those on disk stay).
func (l *loaded) credentialsBeforeChecks(ctx context.Context, plan Plan, opts ApplyOptions, res *ApplyResult) (*render.Credentials, error) {
	a := l.a
	switch plan.Action {
	case ActionVerify:
		api, err := newGitLab(a, opts)
		if err != nil {
			return nil, err
		}
		r, err := verify(ctx, api, a.GitLab.Token, l.sysID, opts.Timeout)
		if err != nil {
			return nil, gitlabErrorsFor(a, opts).checkError("gitlab.token", err)
		}
		res.Runner.Action, res.Runner.ID = plan.runnerAction(), r.ID
		return &render.Credentials{ID: r.ID, Token: a.GitLab.Token, ObtainedAt: opts.Now(), ExpiresAt: r.TokenExpiresAt}, nil
	case ActionUnverified:
		// --offline: written as given; GitLab tells the runner at its
		// first contact whether the token is good.
		res.Runner.Action = plan.runnerAction()
		res.Warnings = append(res.Warnings, FieldError{Field: "gitlab.token", Warning: true,
			Problem: "not verified (--offline): nothing checked that GitLab knows this token",
			Fix:     "run `runnerup probe --answers FILE` (or apply without --offline) when GitLab is reachable"})
		return &render.Credentials{Token: a.GitLab.Token, ObtainedAt: opts.Now()}, nil
	case ActionRegister, ActionCreate:
		// A config.toml runnerup cannot edit fails before GitLab makes a
		// runner.
		placeholder := &render.Credentials{Token: registrationPlaceholder, ObtainedAt: opts.Now()}
		if _, err := renderConfig(l.oldTOML, a, placeholder, l.target.existing); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// credentialsAfterChecks carries out the rest of the plan once the checks
// passed: a registration token registers the runner, [gitlab.create]
// creates it (in a dry run a placeholder stands in for either), or
// updates the settings of the one created before. It also records the
// token the result shows.
func (l *loaded) credentialsAfterChecks(ctx context.Context, plan Plan, opts ApplyOptions, res *ApplyResult, creds *render.Credentials) (*render.Credentials, error) {
	switch {
	case (plan.Action == ActionRegister || plan.Action == ActionCreate) && opts.DryRun:
		creds = &render.Credentials{Token: registrationPlaceholder, ObtainedAt: opts.Now()}
		res.Runner.Action = plan.runnerAction()
		res.Runner.CreatedIn = plan.createdIn()
	case plan.Action == ActionRegister:
		api, err := newGitLab(l.a, opts)
		if err != nil {
			return nil, err
		}
		r, err := registerRunner(ctx, api, l.a, opts.Timeout)
		if err != nil {
			return nil, gitlabErrorsFor(l.a, opts).checkError("gitlab.register", err)
		}
		creds = &render.Credentials{ID: r.ID, Token: r.Token, ObtainedAt: opts.Now(), ExpiresAt: r.TokenExpiresAt}
		res.Runner.Action, res.Runner.ID = plan.runnerAction(), r.ID
	case plan.Action == ActionCreate:
		var err error
		if creds, res.Runner.ID, err = plan.creation.create(ctx, opts.Now()); err != nil {
			return nil, err
		}
		res.Runner.Action, res.Runner.CreatedIn = plan.runnerAction(), plan.createdIn()
	case plan.creation.recreates() && opts.DryRun:
		creds = &render.Credentials{Token: registrationPlaceholder, ObtainedAt: opts.Now()}
		res.Runner.Action, res.Runner.ID, res.Runner.CreatedIn = "would-recreate", 0, plan.createdIn()
	case plan.creation.recreates():
		var err error
		if creds, res.Runner.ID, err = plan.creation.create(ctx, opts.Now()); err != nil {
			return nil, err
		}
		res.Runner.Action, res.Runner.CreatedIn = "recreated", plan.createdIn()
	case plan.creation != nil && !opts.DryRun:
		updated, err := plan.creation.reconcile(ctx)
		if err != nil {
			return nil, err
		}
		res.Runner.SettingsUpdated = updated
	}
	shown := l.a.GitLab.Token
	switch {
	case creds != nil:
		shown = creds.Token
	case l.target.found():
		shown = l.target.existing.Token
	}
	res.Runner.Token = secret.Token(shown)
	return creds, nil
}

func newGitLab(a *Answers, opts ApplyOptions) (RunnerAPI, error) {
	gopts := gitlab.Options{CAFile: a.GitLab.TLSCAFile, HTTPClient: opts.HTTPClient, UserAgent: "runnerup"}
	if opts.NewGitLab != nil {
		return opts.NewGitLab(a.GitLab.URL, gopts)
	}
	c, err := gitlab.New(a.GitLab.URL, gopts)
	if err != nil {
		return nil, &InputError{Err: fmt.Errorf("gitlab.url: %w", err)}
	}
	return c, nil
}

func verify(ctx context.Context, api RunnerAPI, token, sysID string, timeout time.Duration) (gitlab.Runner, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return api.Verify(ctx, token, sysID)
}

func registerRunner(ctx context.Context, api RunnerAPI, a *Answers, timeout time.Duration) (gitlab.Runner, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	g := a.GitLab
	desc := g.Description
	if desc == "" {
		desc = g.Name
	}
	req := gitlab.RegisterRequest{
		Token: g.Token, Description: desc, MaintenanceNote: g.MaintenanceNote, Tags: g.Tags,
		RunUntagged: g.RunUntagged != nil && *g.RunUntagged || len(g.Tags) == 0, Locked: g.IsLocked(), AccessLevel: g.AccessLevel,
		Paused: g.Paused != nil && *g.Paused,
	}
	if g.MaximumTimeout != nil {
		req.MaximumTimeout = *g.MaximumTimeout
	}
	return api.Register(ctx, req)
}

// gitlabErrors turns a failed GitLab call into a CheckError; it knows what
// a TLS failure's message needs: the host, gitlab.tls_ca_file and the
// runner's certs directory.
type gitlabErrors struct {
	serverName, caFile, certsDir string
}

func gitlabErrorsFor(a *Answers, opts ApplyOptions) gitlabErrors {
	e := gitlabErrors{caFile: a.GitLab.TLSCAFile}
	if u, err := url.Parse(a.GitLab.URL); err == nil {
		e.serverName = u.Hostname()
	}
	if paths, _ := ResolvePaths(a.Output, opts.ConfigPath, opts.DockerConfigDir, opts.Paths); paths.ConfigTOML != "" {
		e.certsDir = certsDir(paths.ConfigTOML)
	}
	return e
}

// certsDir is where the runner reading configTOML looks for HOST.crt
// (docs/gitlab-runner.md: <config dir>/certs).
func certsDir(configTOML string) string { return filepath.Join(filepath.Dir(configTOML), "certs") }

// transport reports whether err got no answer from GitLab (network, TLS).
func (e gitlabErrors) transport(err error) bool {
	var ne *gitlab.NetError
	return errors.As(err, &ne)
}

// result fills a failed check result for a transport error: a
// certificate problem becomes gitlab.tls, with what the gitlab.tls check
// shows.
func (e gitlabErrors) result(r probe.Result, err error) probe.Result {
	ce := e.checkError(r.ID, err).(*CheckError)
	r.ID, r.Status, r.Detail, r.Hint = ce.Check, probe.Fail, ce.Problem, ce.Hint
	return r
}

// checkError is the CheckError of a failed call labelled check; a
// certificate problem is labelled gitlab.tls whatever the call.
func (e gitlabErrors) checkError(check string, err error) error {
	if r, ok := probe.GitLabTLSFailure(err, e.serverName, e.caFile, e.certsDir); ok {
		return &CheckError{Check: probe.IDGitLabTLS, Err: err, Problem: "TLS with GitLab failed: " + r.Detail, Hint: r.Hint}
	}
	return gitlabCheckError(check, err)
}

// gitlabCheckError names the cause of a GitLab failure and its fix.
func gitlabCheckError(check string, err error) error {
	ce := &CheckError{Check: check, Err: err, Problem: err.Error()}
	switch {
	case errors.Is(err, gitlab.ErrTokenInvalid) && check == "gitlab.register":
		// POST /runners answers 403 for a registration token it does not
		// accept; no runner exists yet that could have been deleted.
		ce.Problem = "GitLab refused the registration token (403): registration token wrong or reset, or registration not allowed for this group/project"
		ce.Hint = "copy the current registration token from the project's or group's Settings › CI/CD › Runners (resetting it invalidates the old one), and check that runner registration with registration tokens is allowed there; or create the runner in GitLab and use its glrt- token"
	case errors.Is(err, gitlab.ErrTokenInvalid):
		ce.Problem = "GitLab rejected the token (403): it is wrong, revoked, or the runner was deleted"
		ce.Hint = "create a new runner in GitLab (Settings › CI/CD › Runners › New runner) and use its glrt- token"
	case errors.Is(err, gitlab.ErrRegistrationDisabled):
		ce.Problem = "GitLab refused the registration token (410 Gone): registration tokens are disabled on this instance"
		ce.Hint = "create the runner in GitLab's UI and use its glrt- authentication token, or ask an admin to allow registration tokens"
	case errors.Is(err, gitlab.ErrOrphaned):
		ce.Problem = "GitLab says the runner is orphaned (422): its project or group is gone"
		ce.Hint = "create a new runner and use its token"
	case errors.Is(err, gitlab.ErrNotGitLab):
		ce.Problem = "the URL does not answer like a GitLab API (" + err.Error() + ")"
		ce.Hint = "check gitlab.url: it must be the instance's base URL, e.g. https://gitlab.example.com"
	case errors.Is(err, gitlab.ErrTLS):
		ce.Check = probe.IDGitLabTLS
		ce.Problem = "the TLS handshake with GitLab failed (" + err.Error() + ")"
		ce.Hint = "check gitlab.url and gitlab.tls_ca_file"
	case errors.Is(err, gitlab.ErrCrossHostRedirect), errors.Is(err, gitlab.ErrPostRedirect):
		ce.Problem = "GitLab redirected the request elsewhere; the token was not sent there (" + err.Error() + ")"
		ce.Hint = "set gitlab.url to the address GitLab redirects to"
	case errors.Is(err, gitlab.ErrDNS):
		ce.Problem = "GitLab's host name does not resolve (" + err.Error() + ")"
		ce.Hint = "check the host name in gitlab.url and this machine's DNS"
	case errors.Is(err, gitlab.ErrConnRefused):
		ce.Problem = "the connection to GitLab was refused (" + err.Error() + ")"
		ce.Hint = "check the port in gitlab.url and that GitLab is running"
	case errors.Is(err, gitlab.ErrTimeout):
		ce.Problem = "GitLab did not answer in time (" + err.Error() + ")"
		ce.Hint = "check the network path and proxy settings (HTTPS_PROXY/NO_PROXY)"
	case errors.Is(err, gitlab.ErrRateLimited):
		ce.Hint = "GitLab is rate limiting or migrating; retry later"
	case errors.Is(err, gitlab.ErrServer):
		ce.Hint = "GitLab had a server error; retry later"
	}
	return ce
}
