package wizard

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/runnerup/runnerup/internal/gitlab"
	"github.com/runnerup/runnerup/probe"
)

// What the wizard asks GitLab while the user answers the create path: who
// the API token belongs to and what it may do, and where its user can
// create runners. Every call here is a read; creating the runner is
// apply's, once, when it writes.

// LookupAPI is the read-only part of the GitLab API the create path uses;
// the real *gitlab.Client implements it.
type LookupAPI interface {
	TokenSelf(ctx context.Context, apiToken string) (gitlab.TokenInfo, error)
	CurrentUser(ctx context.Context, apiToken string) (gitlab.User, error)
	CreatableProjects(ctx context.Context, apiToken string, opts gitlab.ListOptions) (gitlab.ProjectPage, error)
	CreatableGroups(ctx context.Context, apiToken string, opts gitlab.ListOptions) (gitlab.GroupPage, error)
}

// APITokenInfo is what the API-token check learnt (the Data of its
// result): whose token it is and what it may do. Never the token.
type APITokenInfo struct {
	// Source names where the token came from: "typed" or a variable.
	Source string
	// User is the token's user; UserKnown is false when the token may
	// not read it (no read_user, read_api or api scope).
	User      gitlab.User
	UserKnown bool
	Scopes    []string
	CanCreate bool
	// CanList: the scopes allow listing projects and groups (api,
	// read_api); without them the target is typed as a full path.
	CanList bool
}

// APITokenEnv names the glab variable that holds an API token ("" none).
func APITokenEnv(env Env) string {
	if env == nil {
		return ""
	}
	return gitlab.TokenFromEnv(gitlab.LookupEnv(env)).Source
}

// createAPIToken is the API token of resolved answers: the one given in
// [gitlab.create], else glab's variables.
func createAPIToken(a *Answers, env Env) gitlab.APIToken {
	if c := a.GitLab.Create; c != nil && c.APIToken != "" {
		return gitlab.APIToken{Value: c.APIToken, Source: "the API token you entered"}
	}
	if env == nil {
		return gitlab.APIToken{}
	}
	t := gitlab.TokenFromEnv(gitlab.LookupEnv(env))
	if t.Value != "" {
		t.Source = "$" + t.Source
	}
	return t
}

func lookupTimeout(opts ApplyOptions) time.Duration {
	if opts.Probe.Timeout > 0 {
		return opts.Probe.Timeout
	}
	return 5 * time.Second
}

// lookupClient is the client for the lookups, after checking that the
// token may be sent to gitlab.url (GITLAB_HOST, plain http).
func lookupClient(a *Answers, opts ApplyOptions) (LookupAPI, error) {
	if err := gitlab.CheckTokenDestination(a.GitLab.URL, gitlab.LookupEnv(opts.Env)); err != nil {
		return nil, err
	}
	api, err := newGitLab(a, opts)
	if err != nil {
		return nil, err
	}
	l, ok := api.(LookupAPI)
	if !ok {
		return nil, fmt.Errorf("the GitLab client %T cannot look up users and projects", api)
	}
	return l, nil
}

// CheckAPIToken is the live check of [gitlab.create]'s API token (id
// gitlab.api-token), read-only: it may go to gitlab.url, GitLab accepts it
// (GET /personal_access_tokens/self), it can create runners (its scopes),
// and whose it is (GET /user). a are resolved answers.
func CheckAPIToken(ctx context.Context, a *Answers, opts ApplyOptions) probe.Result {
	r := probe.Result{ID: IDAPIToken, Title: "API token for runner creation", Status: probe.Fail}
	start := time.Now()
	defer func() { r.DurationMS = time.Since(start).Milliseconds() }()
	tok := createAPIToken(a, opts.Env)
	if tok.Value == "" {
		r.Detail = "no API token: none was entered, and neither GITLAB_TOKEN nor GITLAB_ACCESS_TOKEN is set"
		r.Hint = "paste an access token with the create_runner scope, or export GITLAB_TOKEN and start runnerup again"
		return r
	}
	api, err := lookupClient(a, opts)
	if err != nil {
		var de *gitlab.TokenDestinationError
		if errors.As(err, &de) {
			r.Detail, r.Hint = de.Reason, de.Fix
		} else {
			r.Detail = err.Error()
		}
		return r
	}
	cctx, cancel := context.WithTimeout(ctx, lookupTimeout(opts))
	defer cancel()
	info := APITokenInfo{Source: tok.Source}
	self, err := api.TokenSelf(cctx, tok.Value)
	switch {
	case errors.Is(err, gitlab.ErrAPITokenInvalid):
		r.Detail = fmt.Sprintf("GitLab rejected %s (401): it is expired, revoked or wrong", tok.Source)
		r.Hint = "create a new access token with the create_runner scope (GitLab › Preferences › Access tokens)"
		return r
	case err != nil && ctx.Err() != nil:
		r.Status, r.Detail = probe.Skip, "stopped"
		return r
	case err != nil:
		// Not every token can describe itself (OAuth tokens): creation
		// will say what is missing.
		r.Status, r.Detail = probe.Warn, fmt.Sprintf("could not read the token's scopes: %v", err)
	default:
		info.Scopes, info.CanCreate = self.Scopes, self.CanCreateRunners()
		info.CanList = self.HasScope("api", "read_api")
	}
	if u, err := api.CurrentUser(cctx, tok.Value); err == nil {
		info.User, info.UserKnown = u, true
	}
	r.Data = info
	who := "its user is unknown (no read_user scope)"
	if info.UserKnown {
		who = "@" + info.User.Username
		if info.User.Name != "" && info.User.Name != info.User.Username {
			who += " (" + info.User.Name + ")"
		}
		if info.User.IsAdmin {
			who += ", administrator"
		}
	}
	if r.Status == probe.Warn {
		r.Detail = who + "; " + r.Detail
		return r
	}
	scopes := "scopes " + strings.Join(info.Scopes, ", ")
	if len(info.Scopes) == 0 {
		scopes = "no scopes"
	}
	if !info.CanCreate {
		r.Detail = fmt.Sprintf("%s has %s: without create_runner or api it cannot create runners", who, scopes)
		r.Hint = "create an access token with the create_runner scope (GitLab › Preferences › Access tokens)"
		return r
	}
	r.Status, r.Detail = probe.Pass, who+" can create runners · "+scopes
	if self.ExpiresAt != "" {
		r.Detail += " · expires " + self.ExpiresAt
	}
	return r
}

// CreateTarget is one place the token's user may create a runner in.
type CreateTarget struct {
	Kind string // TargetProject or TargetGroup
	Path string // full path
	Name string
	ID   int64
}

// Value is the target as the KindTarget field holds it.
func (t CreateTarget) Value() string { return t.Kind + ":" + t.Path }

// TargetPage is one page of create targets; NextPage is 0 on the last.
type TargetPage struct {
	Targets  []CreateTarget
	NextPage int
}

// ListCreateTargets lists, one page at a time, the projects (kind
// TargetProject: where the token's user is a Maintainer or Owner) or groups
// (TargetGroup: where it is an Owner) whose names contain search. a are
// resolved answers.
func ListCreateTargets(ctx context.Context, a *Answers, opts ApplyOptions, kind, search string, page int) (TargetPage, error) {
	tok := createAPIToken(a, opts.Env)
	if tok.Value == "" {
		return TargetPage{}, errors.New("no API token to list projects and groups with")
	}
	api, err := lookupClient(a, opts)
	if err != nil {
		return TargetPage{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, lookupTimeout(opts))
	defer cancel()
	lo := gitlab.ListOptions{Search: strings.TrimSpace(search), Page: page, PerPage: 20}
	var out TargetPage
	switch kind {
	case TargetGroup:
		gp, err := api.CreatableGroups(cctx, tok.Value, lo)
		if err != nil {
			return TargetPage{}, err
		}
		for _, g := range gp.Groups {
			out.Targets = append(out.Targets, CreateTarget{Kind: TargetGroup, Path: g.FullPath, Name: g.Name, ID: g.ID})
		}
		out.NextPage = gp.NextPage
	default:
		pp, err := api.CreatableProjects(cctx, tok.Value, lo)
		if err != nil {
			return TargetPage{}, err
		}
		for _, p := range pp.Projects {
			out.Targets = append(out.Targets, CreateTarget{Kind: TargetProject, Path: p.PathWithNamespace, Name: p.Name, ID: p.ID})
		}
		out.NextPage = pp.NextPage
	}
	return out, nil
}

// DescribeLookupError says in a line why a list could not be read, and
// what to do instead.
func DescribeLookupError(err error) string {
	var de *gitlab.TokenDestinationError
	switch {
	case errors.As(err, &de):
		return de.Reason + " (" + de.Fix + ")"
	case errors.Is(err, gitlab.ErrAPIScope):
		return "listing needs the read_api (or api) scope, which the token lacks: type the full path and press enter"
	case errors.Is(err, gitlab.ErrAPITokenInvalid):
		return "GitLab rejected the API token (401): fix it above (esc)"
	}
	return fmt.Sprintf("could not list: %v; type the full path and press enter", err)
}
