package diagnose

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// referenceFile is the catalogue this package implements, shipped in the
// repository (docs/), relative to the package directory.
var referenceFile = filepath.Join("..", "..", "docs", "pull-failures.md")

// TestCatalogueCoversReference: every cause id of the reference (each
// "### `id`" heading) is in the table, and the table names no id the
// reference lacks unless it is marked Extra.
func TestCatalogueCoversReference(t *testing.T) {
	b, err := os.ReadFile(referenceFile)
	if err != nil {
		t.Fatalf("reference catalogue %s: %v", referenceFile, err)
	}
	var ids []string
	for _, m := range regexp.MustCompile("(?m)^### `([a-z0-9-]+)`").FindAllStringSubmatch(string(b), -1) {
		ids = append(ids, m[1])
	}
	if len(ids) < 30 {
		t.Fatalf("found only %d cause headings in %s; did its format change?", len(ids), referenceFile)
	}
	for _, id := range ids {
		e, ok := Lookup(id)
		if !ok {
			t.Errorf("cause %q of %s is not in the Catalogue table", id, referenceFile)
			continue
		}
		if e.Extra {
			t.Errorf("cause %q is in the reference but marked Extra", id)
		}
	}
	for _, e := range Catalogue {
		if !e.Extra && !slices.Contains(ids, e.ID) {
			t.Errorf("table id %q is not a cause of %s (mark it Extra if it is runnerup's own)", e.ID, referenceFile)
		}
	}
	t.Logf("%d reference causes, %d table entries, %d log matchers", len(ids), len(Catalogue), matcherCount())
}

// TestCatalogueShape: unique ids, a summary and a fix for each, Then
// pointing at known ids, and every reference cause reachable from a log
// (a matcher of its own, or another entry's Then).
func TestCatalogueShape(t *testing.T) {
	seen := map[string]bool{}
	reachable := map[string]bool{}
	for _, e := range Catalogue {
		if seen[e.ID] {
			t.Errorf("duplicate id %q", e.ID)
		}
		seen[e.ID] = true
		if e.Summary == "" || e.Fix == nil {
			t.Errorf("%s: summary or fix missing", e.ID)
		}
		if len(e.Match) > 0 {
			reachable[e.ID] = true
		}
		for _, m := range e.Match {
			if len(m.All) == 0 && m.Re == nil {
				t.Errorf("%s: empty matcher", e.ID)
			}
		}
		for _, id := range e.Then {
			reachable[id] = true
		}
	}
	for _, e := range Catalogue {
		for _, id := range e.Then {
			if !seen[id] {
				t.Errorf("%s: Then names unknown id %q", e.ID, id)
			}
		}
		if !e.Extra && !reachable[e.ID] {
			t.Errorf("%s: no job-log text leads to it (no matcher, in no Then)", e.ID)
		}
		if fix := e.Fix(fixContext{Image: "registry.test:5000/a/b:1", Ref: "registry.test:5000/a/b:1", Host: "registry.test:5000", Key: "registry.test:5000"}); len(fix) == 0 && e.ID != "unclassified" {
			t.Errorf("%s: empty fix", e.ID)
		}
	}
}
