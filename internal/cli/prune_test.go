package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/testenv"
)

// Issue 13, defect 8: entries with an empty token and url+token duplicates
// are removed only with consent (--prune-empty, --prune-duplicates), byte
// for byte, with a backup, and the diff shows an empty token as empty.

const liveToken = "glrt-LIVELIVELIVELIVELIVE1"

func pruneConfig(url string) (cfg, copyBlock, emptyBlocks string) {
	head := `concurrent = 2

[[runners]]
  name = "build-01"
  url = "` + url + `"
  id = 4242
  token = "` + testToken + `"
  executor = "shell"

[[runners]]
  name = "live"
  url = "` + url + `"
  token = "` + liveToken + `"
  executor = "shell"

# copied in by hand
`
	copyBlock = `[[runners]]
  name = "live-copy"
  url = "` + url + `/"
  token = "` + liveToken + `"
  executor = "docker"
  [runners.docker]
    image = "alpine:3.20"
`
	emptyBlocks = `[[runners]]
  name = "blank"
  url = "` + url + `"
  token = ""
  executor = "shell"

[[runners]]
  name = "unregistered"
  url = "` + url + `"
  executor = "shell"
`
	// The blank line after the copy stays: the comment before it now
	// introduces the next entry (render.RemoveRunners' rule).
	return head + copyBlock + "\n" + emptyBlocks, copyBlock, emptyBlocks
}

func TestPruneDuplicatesAndEmptyTokens(t *testing.T) {
	s := newSetup(t, "")
	writeFile(t, s.answers, strings.ReplaceAll(shellAnswers, "GITLAB_URL", s.gitlab.URL), 0o600)
	cfg, copyBlock, emptyBlocks := pruneConfig(s.gitlab.URL)
	writeFile(t, s.config, cfg, 0o600)
	secrets := []string{testToken, liveToken}

	// Without consent nothing is removed.
	r := s.apply(t)
	if r.code != 0 {
		t.Fatalf("apply: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got, _ := os.ReadFile(s.config); string(got) != cfg {
		t.Fatalf("apply without --prune-* changed config.toml:\n%s", got)
	}

	// The dry run names each entry with its reason and shows token = ""
	// as it is: an empty token is no secret.
	r = s.apply(t, "--prune-duplicates", "--prune-empty", "--dry-run", "-o", "json")
	if r.code != 0 {
		t.Fatalf("dry run: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	assertNoSecrets(t, "dry run", r.stdout+r.stderr, secrets...)
	out := decodeOut(t, r)
	var got []string
	for _, p := range out.Pruned {
		got = append(got, p.Name+":"+p.Reason+":"+p.Token)
	}
	want := []string{"live-copy:duplicate:glrt-…IVE1", "blank:empty-token:", "unregistered:empty-token:"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("pruned = %v, want %v", got, want)
	}
	if len(out.Plan.Prune) != 3 {
		t.Errorf("plan.prune = %+v, want the three entries", out.Plan.Prune)
	}
	if !strings.Contains(out.ConfigTOML.Diff, "-  token = \"\"\n") || strings.Contains(out.ConfigTOML.Diff, `token = "***"`) {
		t.Errorf("diff does not show the empty token as empty:\n%s", out.ConfigTOML.Diff)
	}
	if got, _ := os.ReadFile(s.config); string(got) != cfg {
		t.Fatal("--dry-run wrote config.toml")
	}
	r = s.apply(t, "--prune-duplicates", "--prune-empty", "--dry-run")
	for _, line := range []string{
		`would remove duplicate runner "live-copy" (glrt-…IVE1, ` + s.gitlab.URL + `/): a copy of entry 2 "live", the one GitLab Runner rotates the token of`,
		`would remove runner "blank" without a token (` + s.gitlab.URL + `)`,
	} {
		if !strings.Contains(r.stdout, line) {
			t.Errorf("dry run text lacks %q:\n%s", line, r.stdout)
		}
	}

	// --prune-duplicates removes the later copy only, and keeps a backup.
	r = s.apply(t, "--prune-duplicates", "-o", "json")
	if r.code != 0 {
		t.Fatalf("--prune-duplicates: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	out = decodeOut(t, r)
	afterDup := strings.Replace(cfg, copyBlock, "", 1)
	if b, _ := os.ReadFile(s.config); string(b) != afterDup {
		t.Fatalf("after --prune-duplicates:\n%s\nwant:\n%s", b, afterDup)
	}
	if b, err := os.ReadFile(out.ConfigTOML.Backup); err != nil || string(b) != cfg {
		t.Fatalf("backup %q does not hold the previous file (%v)", out.ConfigTOML.Backup, err)
	}
	// (GitLab Runner's schema wants a token: strict loading waits for
	// --prune-empty below.)

	// --prune-empty removes the entries without a token.
	r = s.apply(t, "--prune-empty")
	if r.code != 0 {
		t.Fatalf("--prune-empty: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	afterEmpty := strings.Replace(afterDup, emptyBlocks, "", 1)
	if b, _ := os.ReadFile(s.config); string(b) != afterEmpty {
		t.Fatalf("after --prune-empty:\n%q\nwant:\n%q", b, afterEmpty)
	}
	testenv.CheckRunnerConfig(t, []byte(afterEmpty))
	assertNoSecrets(t, "apply", r.stdout+r.stderr, secrets...)
}

// Of a url+token pair, the entry the answers name is never removed, even
// when it is the later one.
func TestPruneDuplicatesKeepsTheAnswersEntry(t *testing.T) {
	s := newSetup(t, "")
	writeFile(t, s.answers, strings.ReplaceAll(shellAnswers, "GITLAB_URL", s.gitlab.URL), 0o600)
	first := `[[runners]]
  name = "old-name"
  url = "` + s.gitlab.URL + `"
  token = "` + testToken + `"
  executor = "shell"

`
	cfg := "concurrent = 1\n\n" + first + `[[runners]]
  name = "build-01"
  url = "` + s.gitlab.URL + `"
  id = 4242
  token = "` + testToken + `"
  executor = "shell"
`
	writeFile(t, s.config, cfg, 0o600)
	r := s.apply(t, "--prune-duplicates", "-o", "json")
	if r.code != 0 {
		t.Fatalf("apply: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	out := decodeOut(t, r)
	if len(out.Pruned) != 1 || out.Pruned[0].Name != "old-name" {
		t.Fatalf("pruned = %+v, want old-name", out.Pruned)
	}
	want := strings.Replace(cfg, first, "", 1)
	if b, _ := os.ReadFile(s.config); string(b) != want {
		t.Fatalf("after --prune-duplicates:\n%s\nwant:\n%s", b, want)
	}
}

func TestPruneFlagsInHelp(t *testing.T) {
	r := runCLI(t, t.TempDir(), env{}, "apply", "--help")
	for _, flag := range []string{"--prune-duplicates", "--prune-empty", "--prune-stale"} {
		if !strings.Contains(r.stdout, flag) {
			t.Errorf("apply --help lacks %s:\n%s", flag, r.stdout)
		}
	}
}
