package wizard

import (
	"fmt"
	"strings"

	"github.com/runnerup/runnerup/internal/lint"
	"github.com/runnerup/runnerup/internal/secret"
	"github.com/runnerup/runnerup/probe/fleet"
	"github.com/runnerup/runnerup/render"
)

// Why apply removes a [[runners]] entry (PrunedRunner.Reason).
const (
	PruneStale      = "stale"       // GitLab rejects its token (--prune-stale, the review)
	PruneDuplicate  = "duplicate"   // a later copy of another entry's url and token (--prune-duplicates)
	PruneEmptyToken = "empty-token" // no token: the runner skips it (--prune-empty)
)

// pruneSpec says which entries apply removes. Duplicates and entries
// without a token are chosen from the bytes being edited, so a render
// under the lock after another process wrote chooses them again.
type pruneSpec struct {
	stale      []fleet.Runner // matched by url and token
	duplicates bool
	empty      bool
}

// prunedEntry is an entry chosen for removal, and why.
type prunedEntry struct {
	fleet.Runner
	reason string
	copyOf *fleet.Runner // the entry a duplicate copies, which is kept
}

// hasToken is GitLab Runner's RunnerCredentials.HasToken: an entry whose
// token is blank is skipped when the runner polls for jobs, yet it still
// takes its share of check_interval (multi.go feedRunners divides the
// interval by the number of entries).
func hasToken(r fleet.Runner) bool { return strings.TrimSpace(r.Token) != "" }

// credentialsKey is what makes two entries one runner: the url (normalised
// as the linter's runner.token.duplicate does) and the token.
func credentialsKey(r fleet.Runner) string { return lint.NormURL(r.URL) + "\x00" + r.Token }

// choose lists the entries of runners to remove; keep (the entry the
// answers target, -1 for none) is never one of them.
//
// Of entries sharing url and token the first in the file stays: GitLab
// Runner runs every copy, but when it rotates the token it writes the new
// one into the first entry with the old token (multi.go resetOneRunnerToken,
// Config.RunnerByToken), so later copies keep a revoked token and go stale.
// The entry the answers target stays instead when it is one of the copies.
func (s pruneSpec) choose(runners []fleet.Runner, keep int) []prunedEntry {
	kept := map[string]int{} // credentialsKey -> position in runners
	if s.duplicates {
		for i, r := range runners {
			if r.Index == keep && hasToken(r) {
				kept[credentialsKey(r)] = i
			}
		}
		for i, r := range runners {
			if _, ok := kept[credentialsKey(r)]; hasToken(r) && !ok {
				kept[credentialsKey(r)] = i
			}
		}
	}
	var out []prunedEntry
	for i, r := range runners {
		if r.Index == keep {
			continue
		}
		switch k, dup := kept[credentialsKey(r)]; {
		case s.isStale(r):
			out = append(out, prunedEntry{Runner: r, reason: PruneStale})
		case s.empty && !hasToken(r):
			out = append(out, prunedEntry{Runner: r, reason: PruneEmptyToken})
		case s.duplicates && hasToken(r) && dup && k != i:
			out = append(out, prunedEntry{Runner: r, reason: PruneDuplicate, copyOf: &runners[k]})
		}
	}
	return out
}

func (s pruneSpec) isStale(r fleet.Runner) bool {
	for _, st := range s.stale {
		if r.Token == st.Token && sameURL(r.URL, st.URL) {
			return true
		}
	}
	return false
}

// pruneEntries removes what spec chooses from config (decoded already),
// byte for byte (render.Config.Remove); keep is the entry apply is
// writing.
func pruneEntries(config *render.Config, spec pruneSpec, keep int) (*render.Config, []prunedEntry, error) {
	if len(spec.stale) == 0 && !spec.duplicates && !spec.empty {
		return config, nil, nil
	}
	removed := spec.choose(fleet.RunnersOf(config.Runners), keep)
	idx := make([]int, 0, len(removed))
	for _, r := range removed {
		idx = append(idx, r.Index)
	}
	out, err := config.Remove(idx)
	return out, removed, err
}

// staleEntries are stale runners as entries to remove.
func staleEntries(stale []fleet.Runner) []prunedEntry {
	out := make([]prunedEntry, 0, len(stale))
	for _, r := range stale {
		out = append(out, prunedEntry{Runner: r, reason: PruneStale})
	}
	return out
}

// EntryRef names a [[runners]] entry: its name and its position (1-based)
// in config.toml as apply read it.
type EntryRef struct {
	Name  string `json:"name"`
	Entry int    `json:"entry"`
}

func prunedResult(removed []prunedEntry) []PrunedRunner {
	var out []PrunedRunner
	for _, r := range removed {
		p := PrunedRunner{Name: r.Name, URL: r.URL, Reason: r.reason}
		if hasToken(r.Runner) {
			p.Token = secret.Token(r.Token)
		}
		if r.copyOf != nil {
			p.DuplicateOf = &EntryRef{Name: r.copyOf.Name, Entry: r.copyOf.Index + 1}
		}
		out = append(out, p)
	}
	return out
}

// pruneCounts says how many entries go for each reason: "1 stale, 2 duplicate".
func pruneCounts(pruned []PrunedRunner) string {
	var parts []string
	for _, reason := range []string{PruneStale, PruneDuplicate, PruneEmptyToken} {
		n := 0
		for _, p := range pruned {
			if p.Reason == reason {
				n++
			}
		}
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, reason))
		}
	}
	return strings.Join(parts, ", ")
}
