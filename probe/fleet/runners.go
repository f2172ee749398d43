package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/runnerup/runnerup/internal/runnerconf"
	"github.com/runnerup/runnerup/internal/secret"
	"github.com/runnerup/runnerup/probe"
)

// ErrStale is what RunnerOptions.Verify returns when GitLab no longer
// knows an entry's token (403 on verify; 410/422 for deleted or orphaned
// runners on some versions).
var ErrStale = errors.New("GitLab no longer accepts this runner's token")

// Runner is one [[runners]] entry, as far as these checks need it (a
// comparable value: the wizard's review compares the entries it offers to
// remove).
type Runner struct {
	Index      int // position among the [[runners]] entries
	Name       string
	URL        string
	Token      string
	TLSCAFile  string
	ObtainedAt time.Time
	ExpiresAt  time.Time
}

// Stale is the Data of a runner token check that found the entry stale:
// what apply --prune-stale removes.
type Stale struct {
	Runner Runner
}

// StaleRunners lists the entries results found stale: what apply
// --prune-stale, or the user in the wizard's review, removes.
func StaleRunners(results []probe.Result) []Runner {
	var out []Runner
	for _, r := range results {
		if s, ok := r.Data.(Stale); ok {
			out = append(out, s.Runner)
		}
	}
	return out
}

// Runners decodes the entries of a config.toml (internal/runnerconf).
func Runners(data []byte) ([]Runner, error) {
	f, err := runnerconf.Parse(data)
	if err != nil {
		return nil, err
	}
	return RunnersOf(f.Runners), nil
}

// RunnersOf are decoded entries as these checks need them.
func RunnersOf(entries []runnerconf.Runner) []Runner {
	out := make([]Runner, len(entries))
	for i, e := range entries {
		out[i] = Runner{Index: e.Index, Name: e.Name, URL: e.URL, Token: e.Token, TLSCAFile: e.TLSCAFile,
			ObtainedAt: e.TokenObtainedAt, ExpiresAt: e.TokenExpiresAt}
	}
	return out
}

// entries are the [[runners]] entries of o: Config when the caller
// decoded the file already, else ConfigTOML decoded.
func (o Options) entries() ([]Runner, error) {
	if o.Config != nil {
		return RunnersOf(o.Config.Runners), nil
	}
	return Runners(o.ConfigTOML)
}

// label names an entry for humans: its name, else its position.
func (r Runner) label() string {
	if r.Name != "" {
		return fmt.Sprintf("%q", r.Name)
	}
	return fmt.Sprintf("#%d", r.Index+1)
}

// checkNames are the entries' parts of check ids: the name, with the
// position added when several entries share it (re-registration leftovers
// are exactly the ones to tell apart), or the position alone.
func checkNames(runners []Runner) []string {
	count := map[string]int{}
	for _, r := range runners {
		count[r.Name]++
	}
	out := make([]string, len(runners))
	for i, r := range runners {
		switch {
		case r.Name == "":
			out[i] = fmt.Sprintf("#%d", r.Index+1)
		case count[r.Name] > 1:
			out[i] = fmt.Sprintf("%s#%d", r.Name, r.Index+1)
		default:
			out[i] = r.Name
		}
	}
	return out
}

func runnerChecks(o Options) []probe.Check {
	ro := o.Runners
	if ro.Now == nil {
		ro.Now = time.Now
	}
	if ro.ExpiryWarning == 0 {
		ro.ExpiryWarning = 7 * 24 * time.Hour
	}
	if ro.StaleStatus == "" {
		ro.StaleStatus = probe.Fail
	}
	runners, err := o.entries()
	if err != nil {
		// check and apply report the parse error themselves.
		return nil
	}
	var checks []probe.Check
	if len(runners) > 1 {
		checks = append(checks, probe.Check{ID: IDDuplicates, Title: "Duplicate [[runners]] entries", Run: func(context.Context, probe.Deps) probe.Result {
			return duplicates(runners)
		}})
	}
	names := checkNames(runners)
	for i, r := range runners {
		if !r.ExpiresAt.IsZero() {
			checks = append(checks, probe.Check{ID: RunnerExpiryID(names[i]), Title: fmt.Sprintf("Runner %q token expiry", names[i]), Run: func(context.Context, probe.Deps) probe.Result {
				return expiry(r, ro.Now(), ro.ExpiryWarning)
			}})
		}
		if ro.Verify != nil && r.Token != "" && r.URL != "" && (ro.Skip == nil || !ro.Skip(r)) {
			checks = append(checks, probe.Check{ID: RunnerTokenID(names[i]), Title: fmt.Sprintf("Runner %q token on GitLab", names[i]), Run: func(ctx context.Context, _ probe.Deps) probe.Result {
				return verifyEntry(ctx, r, ro)
			}})
		}
	}
	return checks
}

// ExpiryOf reports an expiry the way check and the review show it.
func expiry(r Runner, now time.Time, warnWithin time.Duration) probe.Result {
	left := r.ExpiresAt.Sub(now)
	when := r.ExpiresAt.UTC().Format(time.RFC3339)
	switch {
	case left <= 0:
		res := probe.Warnf("reset the token in GitLab (Settings › CI/CD › Runners › the runner › Reset token) and write it with `runnerup apply --replace-token`",
			"token %s of runner %s expired at %s: the runner cannot rotate it any more", secret.Token(r.Token), r.label(), when)
		res.Finding = FindingTokenExpired
		return res
	case left < warnWithin:
		res := probe.Warnf("a running runner rotates its token by itself before expiry; make sure the service is running and that config management does not write the old token back",
			"token %s of runner %s expires at %s, in %s", secret.Token(r.Token), r.label(), when, left.Round(time.Hour))
		res.Finding = FindingTokenExpiring
		return res
	}
	return probe.Passf("token %s of runner %s expires at %s, in %d days", secret.Token(r.Token), r.label(), when, int(left.Hours()/24))
}

func verifyEntry(ctx context.Context, r Runner, ro RunnerOptions) probe.Result {
	err := ro.Verify(ctx, r)
	switch {
	case err == nil:
		return probe.Passf("GitLab at %s accepts token %s of runner %s", r.URL, secret.Token(r.Token), r.label())
	case errors.Is(err, ErrStale):
		res := probe.Result{Status: ro.StaleStatus,
			Detail: fmt.Sprintf("runner %s (token %s) is stale: %v (the runner was deleted in GitLab or its token was reset); it can never pick up a job", r.label(), secret.Token(r.Token), err),
			Hint:   "remove the entry: `runnerup apply --prune-stale` (keeps a backup), or delete its [[runners]] block by hand",
		}
		res.Finding = FindingStale
		res.Data = Stale{Runner: r}
		return res
	}
	res := probe.Warnf("check the network and GitLab's URL; run again with a longer --timeout", "could not verify runner %s against %s: %v", r.label(), r.URL, err)
	res.Finding = FindingUnverified
	return res
}

func duplicates(runners []Runner) probe.Result {
	var problems []string
	finding := ""
	byToken := map[string]Runner{}
	byNameURL := map[string]Runner{}
	for _, r := range runners {
		if r.Token != "" {
			if first, ok := byToken[r.Token]; ok {
				problems = append(problems, fmt.Sprintf("entries #%d and #%d share token %s", first.Index+1, r.Index+1, secret.Token(r.Token)))
				finding = FindingDuplicateToken // the worse of the two
				continue
			}
			byToken[r.Token] = r
		}
		key := r.Name + "\x00" + strings.TrimRight(r.URL, "/")
		if r.Name != "" {
			if first, ok := byNameURL[key]; ok {
				problems = append(problems, fmt.Sprintf("entries #%d and #%d are both named %q on %s", first.Index+1, r.Index+1, r.Name, r.URL))
				if finding == "" {
					finding = FindingDuplicateName
				}
				continue
			}
			byNameURL[key] = r
		}
	}
	if len(problems) == 0 {
		return probe.Passf("%d [[runners]] entries, no duplicates", len(runners))
	}
	res := probe.Warnf("keep one entry per runner: `runnerup apply --prune-duplicates` removes the later copies of a url and token (keeps a backup), or remove them by hand (re-registering adds a new one each time); `runnerup check` shows their lines",
		"%s: each polls for jobs on its own, and when the runner rotates one copy's token the other stops working", strings.Join(problems, "; "))
	res.Finding = finding
	return res
}
