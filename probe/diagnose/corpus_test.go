package diagnose

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// corpusMeta is the sidecar of one job-log excerpt under testdata/logs.
type corpusMeta struct {
	Source     string `toml:"source"`     // where the failure was reported
	Cause      string `toml:"cause"`      // the cause id its resolution decides
	Line       int    `toml:"line"`       // the log line (1-based) that shows it
	Resolution string `toml:"resolution"` // what fixed it, which decides the label
	Quoted     string `toml:"quoted"`     // which lines are quoted from the source
	Shape      string `toml:"shape"`      // how the excerpt is mangled
}

type corpusCase struct {
	name string
	log  string
	meta corpusMeta
}

func loadCorpus(t *testing.T) []corpusCase {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join("testdata", "logs", "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	var out []corpusCase
	for _, p := range logs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		c := corpusCase{name: strings.TrimSuffix(filepath.Base(p), ".log"), log: string(b)}
		md, err := toml.DecodeFile(strings.TrimSuffix(p, ".log")+".toml", &c.meta)
		if err != nil {
			t.Fatalf("%s: sidecar: %v", c.name, err)
		}
		if u := md.Undecoded(); len(u) > 0 {
			t.Errorf("%s: unknown sidecar keys %v", c.name, u)
		}
		out = append(out, c)
	}
	return out
}

// firstLogCause is the cause a log alone names first (diagnose --log
// --no-live), and the line (as given) that shows it.
func firstLogCause(t *testing.T, log string) (string, int) {
	rep, err := ClassifyLog(Options{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Causes) == 0 {
		return "", 0
	}
	return rep.Causes[0].ID, rep.Causes[0].LogLine
}

// secretLike are shapes of credentials that must never be in the corpus.
var secretLike = regexp.MustCompile(`glrt-[A-Za-z0-9_-]{8,}|glpat-[A-Za-z0-9_-]{8,}|GR1348941[A-Za-z0-9_-]{8,}|"auth"\s*:\s*"[A-Za-z0-9+/=]{8,}"|AKIA[0-9A-Z]{16}`)

// TestLogCorpus scores the classifier on job-log excerpts built from
// failures reported in public issues and forums (testdata/logs; each
// sidecar names the source, the resolution that decides the label and the
// expected cause). Run with -v to see the score.
func TestLogCorpus(t *testing.T) {
	cases := loadCorpus(t)
	if len(cases) < 30 {
		t.Errorf("corpus has %d excerpts, want at least 30", len(cases))
	}
	causes := map[string]int{}
	hits := 0
	var misses []string
	for _, c := range cases {
		m := c.meta
		if m.Source == "" || m.Resolution == "" || m.Quoted == "" || m.Cause == "" {
			t.Errorf("%s: sidecar lacks source, resolution, quoted or cause", c.name)
		}
		if _, ok := Lookup(m.Cause); !ok {
			t.Errorf("%s: cause %q is not in the catalogue", c.name, m.Cause)
		}
		if s := secretLike.FindString(c.log); s != "" {
			t.Errorf("%s: holds something shaped like a credential", c.name)
		}
		causes[m.Cause]++
		got, line := firstLogCause(t, c.log)
		if got == m.Cause {
			hits++
			if m.Line != 0 && line != m.Line {
				t.Errorf("%s: %s read from line %d, want line %d", c.name, got, line, m.Line)
			}
		} else {
			misses = append(misses, c.name+": got "+got+", want "+m.Cause)
		}
	}
	if len(causes) < 15 {
		t.Errorf("corpus covers %d cause ids, want at least 15", len(causes))
	}
	sort.Strings(misses)
	for _, m := range misses {
		t.Logf("miss %s", m)
	}
	acc := float64(hits) / float64(max(len(cases), 1))
	t.Logf("first-cause accuracy: %d of %d (%.0f %%), %d cause ids", hits, len(cases), 100*acc, len(causes))
	if acc < 0.9 {
		t.Errorf("first-cause accuracy %.0f %% is below 90 %%", 100*acc)
	}
}
