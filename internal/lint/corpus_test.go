package lint

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/testenv"
)

// TestConfigCorpusAgainstRunner lints config.toml files modelled on public
// ones (testdata/configs; each names the file it is modelled on) and
// compares with GitLab Runner's own loader (runner-oracle): every key the
// runner leaves undecoded is a finding (on the key or on the table that
// holds it), no key.unknown finding falls on a key the runner decodes, and
// a file the runner refuses has an error finding.
func TestConfigCorpusAgainstRunner(t *testing.T) {
	bin := testenv.Oracle(t)
	files, err := filepath.Glob(filepath.Join("testdata", "configs", "*.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Errorf("corpus has %d config.toml files, want at least 20", len(files))
	}
	undecodedTotal := 0
	for _, p := range files {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(data), "# Modelled on ") {
				t.Errorf("the file does not start by naming the public file it is modelled on")
			}
			out, runErr := exec.Command(bin, p).Output()
			var oracle struct {
				OK        bool     `json:"ok"`
				Error     string   `json:"error"`
				Undecoded []string `json:"undecoded"`
			}
			if err := json.Unmarshal(out, &oracle); err != nil {
				t.Fatalf("runner-oracle output is not JSON (%v): %s", runErr, out)
			}
			findings := Lint(data, Options{})
			if !oracle.OK {
				if !HasErrors(findings) {
					t.Errorf("the runner refuses the file (%s) but lint has no error finding: %v", oracle.Error, findings)
				}
				return
			}
			undecodedTotal += len(oracle.Undecoded)
			var unknownPaths []string
			for _, f := range findings {
				if f.ID == "key.unknown" {
					unknownPaths = append(unknownPaths, stripIndexes(f.Path))
				}
			}
			for _, u := range oracle.Undecoded {
				if !slices.ContainsFunc(findings, func(f Finding) bool {
					fp := stripIndexes(f.Path)
					return fp != "" && (fp == u || strings.HasPrefix(u, fp+"."))
				}) {
					t.Errorf("the runner ignores %s, and lint says nothing about it", u)
				}
			}
			for _, up := range unknownPaths {
				// A table opened by a dotted header is reported at its first
				// unknown segment; the runner lists the keys under it.
				if !slices.ContainsFunc(oracle.Undecoded, func(u string) bool { return u == up || strings.HasPrefix(u, up+".") }) {
					t.Errorf("lint calls %s unknown, but the runner decodes it", up)
				}
			}
			for _, f := range findings {
				t.Logf("%s", f)
			}
		})
	}
	t.Logf("%d files, %d keys the runner ignores", len(files), undecodedTotal)
}

// citedSourceRE is a header's citation: "owner/repo path" of a public
// repository, or a web page "host/path".
var citedSourceRE = regexp.MustCompile(`^# Modelled on (?:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+ [^\s,:]+|[a-z0-9-]+(?:\.[a-z0-9-]+)+/\S+)`)

// untraceable are ways a header can name a source nobody can open.
var untraceable = []string{"without its repository name", "runner-oracle", "issue 18", "configs behind"}

// TestConfigCorpusSources: every corpus file names the public file it is
// modelled on so that it can be found again: a repository and a path, or a
// web page; never a search hit without its repository, runnerup's own
// tools or its issues.
func TestConfigCorpusSources(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "configs", "*.toml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var header []string
		for _, l := range strings.Split(string(data), "\n") {
			if !strings.HasPrefix(l, "#") {
				break
			}
			header = append(header, l)
		}
		if len(header) == 0 || !citedSourceRE.MatchString(header[0]) {
			t.Errorf("%s: the first line does not cite owner/repo path or a web page: %q", filepath.Base(p), strings.Join(header, " "))
			continue
		}
		h := strings.Join(header, " ")
		for _, bad := range untraceable {
			if strings.Contains(h, bad) {
				t.Errorf("%s: the header cites an untraceable source (%q)", filepath.Base(p), bad)
			}
		}
	}
}
