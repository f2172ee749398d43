package wizard

import (
	"strings"
	"testing"

	"github.com/runnerup/runnerup/probe/fleet"
)

func TestPruneChoose(t *testing.T) {
	const url = "https://gitlab.example.com"
	const tokA, tokB = "glrt-AAAAAAAAAAAAAAAAAAAA", "glrt-BBBBBBBBBBBBBBBBBBBB"
	entries := func(rs ...fleet.Runner) []fleet.Runner {
		for i := range rs {
			rs[i].Index = i
		}
		return rs
	}
	r := func(name, u, tok string) fleet.Runner { return fleet.Runner{Name: name, URL: u, Token: tok} }
	tests := []struct {
		name    string
		spec    pruneSpec
		runners []fleet.Runner
		keep    int
		want    string // name:reason[:copy-of] …
	}{
		{"nothing asked", pruneSpec{}, entries(r("a", url, tokA), r("b", url, tokA), r("c", url, "")), -1, ""},
		{"first copy stays", pruneSpec{duplicates: true}, entries(r("a", url, tokA), r("b", url+"/", tokA), r("c", url, tokB), r("d", strings.ToUpper(url)+"/ci", tokA)), -1, "b:duplicate:a d:duplicate:a"},
		{"the answers' copy stays", pruneSpec{duplicates: true}, entries(r("a", url, tokA), r("b", url, tokA), r("c", url, tokA)), 1, "a:duplicate:b c:duplicate:b"},
		{"other url is no copy", pruneSpec{duplicates: true}, entries(r("a", url, tokA), r("b", "https://other.example.com", tokA)), -1, ""},
		{"empty tokens are no copies", pruneSpec{duplicates: true}, entries(r("a", url, ""), r("b", url, "")), -1, ""},
		{"blank and missing tokens", pruneSpec{empty: true}, entries(r("a", url, ""), r("b", url, "  "), r("c", url, tokA)), -1, "a:empty-token b:empty-token"},
		{"the answers' entry is never removed", pruneSpec{empty: true, stale: []fleet.Runner{r("", url, tokA)}}, entries(r("a", url, ""), r("b", url, tokA)), 0, "b:stale"},
		{"stale wins over duplicate", pruneSpec{duplicates: true, stale: []fleet.Runner{r("", url, tokA)}}, entries(r("a", url, tokA), r("b", url, tokA)), -1, "a:stale b:stale"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range tt.spec.choose(tt.runners, tt.keep) {
				s := e.Name + ":" + e.reason
				if e.copyOf != nil {
					s += ":" + e.copyOf.Name
				}
				got = append(got, s)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("choose = %q, want %q", strings.Join(got, " "), tt.want)
			}
		})
	}
}
