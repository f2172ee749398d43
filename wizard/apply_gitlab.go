package wizard

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/runnerup/runnerup/internal/gitlab"
	"github.com/runnerup/runnerup/internal/secret"
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
			return nil, err
		}
		res.Runner.Action, res.Runner.ID = plan.runnerAction(), r.ID
		return &render.Credentials{ID: r.ID, Token: a.GitLab.Token, ObtainedAt: opts.Now(), ExpiresAt: r.TokenExpiresAt}, nil
	case ActionRegister:
		placeholder := &render.Credentials{Token: registrationPlaceholder, ObtainedAt: opts.Now()}
		if _, err := renderConfig(l.oldTOML, a, placeholder, l.target.existing); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// credentialsAfterChecks carries out the rest of the plan once the checks
// passed: a registration token registers the runner (in a dry run the
// placeholder stands in). It also records the token the result shows.
func (l *loaded) credentialsAfterChecks(ctx context.Context, plan Plan, opts ApplyOptions, res *ApplyResult, creds *render.Credentials) (*render.Credentials, error) {
	if plan.Action == ActionRegister {
		if opts.DryRun {
			creds = &render.Credentials{Token: registrationPlaceholder, ObtainedAt: opts.Now()}
			res.Runner.Action = plan.runnerAction()
		} else {
			api, err := newGitLab(l.a, opts)
			if err != nil {
				return nil, err
			}
			r, err := registerRunner(ctx, api, l.a, opts.Timeout)
			if err != nil {
				return nil, err
			}
			creds = &render.Credentials{ID: r.ID, Token: r.Token, ObtainedAt: opts.Now(), ExpiresAt: r.TokenExpiresAt}
			res.Runner.Action, res.Runner.ID = plan.runnerAction(), r.ID
		}
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
	r, err := api.Verify(ctx, token, sysID)
	if err != nil {
		return r, gitlabCheckError("gitlab.token", err)
	}
	return r, nil
}

func registerRunner(ctx context.Context, api RunnerAPI, a *Answers, timeout time.Duration) (gitlab.Runner, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	g := a.GitLab
	desc := g.Description
	if desc == "" {
		desc = g.Name
	}
	r, err := api.Register(ctx, gitlab.RegisterRequest{
		Token: g.Token, Description: desc, MaintenanceNote: g.MaintenanceNote, Tags: g.Tags,
		RunUntagged: g.RunUntagged != nil && *g.RunUntagged || len(g.Tags) == 0, Locked: g.IsLocked(), AccessLevel: g.AccessLevel,
	})
	if err != nil {
		return r, gitlabCheckError("gitlab.register", err)
	}
	return r, nil
}

// gitlabCheckError names the cause of a GitLab failure and its fix.
func gitlabCheckError(check string, err error) error {
	ce := &CheckError{Check: check, Err: err, Problem: err.Error()}
	switch {
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
	case errors.Is(err, gitlab.ErrTLSUnknownCA):
		ce.Problem = "GitLab's TLS certificate is signed by an unknown authority"
		ce.Hint = "set gitlab.tls_ca_file to the CA bundle (PEM) that signed it"
	case errors.Is(err, gitlab.ErrTLSHostname):
		ce.Problem = "GitLab's TLS certificate is not valid for this host name"
		ce.Hint = "use the host name the certificate was issued for in gitlab.url"
	case errors.Is(err, gitlab.ErrTLSExpired):
		ce.Problem = "GitLab's TLS certificate has expired or is not yet valid"
		ce.Hint = "renew the certificate on the GitLab server, and check this host's clock"
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
