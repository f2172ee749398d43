package render

import (
	"strings"
	"testing"
)

// TestFindRunnerDuplicateNames is the regression test for an ambiguous
// match: with two entries of the same name on the same GitLab, FindRunner
// silently took the first, so apply edited one of two live runners and
// left the other as it was. Found by TestBadInputCorpus. Now the token
// decides when it can, and a tie is an error.
func TestFindRunnerDuplicateNames(t *testing.T) {
	const doc = `[[runners]]
  name = "x"
  url = "https://a"
  token = "glrt-FIRSTFIRSTFIRSTFIRST"
[[runners]]
  name = "x"
  url = "https://a/"
  token = "glrt-SECONDSECONDSECOND2"
[[runners]]
  name = "x"
  url = "https://b"
  token = "glrt-THIRDTHIRDTHIRDTHIRD"
`
	tests := []struct {
		url, token string
		want       int
		wantErr    string
	}{
		{url: "https://b", want: 2},
		{url: "https://a", token: "glrt-SECONDSECONDSECOND2", want: 1},
		{url: "https://a", token: "glrt-FIRSTFIRSTFIRSTFIRST", want: 0},
		{url: "https://a", wantErr: `2 runners are named "x" with url https://a`},
		{url: "https://a", token: "glrt-OTHEROTHEROTHEROTHER", wantErr: `2 runners are named "x" with url https://a`},
		// Entries named x on other GitLabs are not this runner.
		{url: "https://c", want: -1},
		// diagnose --runner: by name alone.
		{url: "", wantErr: `3 runners are named "x"; rename`},
		{url: "", token: "glrt-THIRDTHIRDTHIRDTHIRD", want: 2},
	}
	for _, tt := range tests {
		idx, r, err := FindRunner([]byte(doc), "x", tt.url, tt.token)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || idx != -1 || r != nil {
				t.Errorf("FindRunner(%s, %q) = %d, %v; want error %q", tt.url, tt.token, idx, err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "glrt-") {
				t.Errorf("error shows a token: %v", err)
			}
			continue
		}
		if tt.want == -1 {
			if err != nil || idx != -1 || r != nil {
				t.Errorf("FindRunner(%s, %q) = %d, %v; want not found", tt.url, tt.token, idx, err)
			}
			continue
		}
		if err != nil || idx != tt.want || r == nil || r.Name != "x" {
			t.Errorf("FindRunner(%s, %q) = %d, %v; want %d", tt.url, tt.token, idx, err, tt.want)
		}
	}
}

// TestFindRunnerOtherGitLab is the regression test for a migration: an
// entry with the answers' name but another GitLab's url was taken as the
// answers' runner, so apply sent its id and token to the new GitLab.
func TestFindRunnerOtherGitLab(t *testing.T) {
	const doc = `[[runners]]
  name = "mig"
  url = "https://old.example.com"
  id = 1008
  token = "glrt-OLDOLDOLDOLDOLDOLD01"
`
	idx, r, err := FindRunner([]byte(doc), "mig", "https://new.example.com", "")
	if err != nil || idx != -1 || r != nil {
		t.Errorf("FindRunner on another GitLab = %d, %+v, %v; want not found", idx, r, err)
	}
	others, err := OtherGitLab([]byte(doc), "mig", "https://new.example.com")
	if err != nil || len(others) != 1 || others[0].URL != "https://old.example.com" {
		t.Errorf("OtherGitLab = %+v, %v", others, err)
	}
	for _, same := range []string{"https://old.example.com/", "HTTPS://Old.Example.com:443", "https://old.example.com/ci"} {
		if idx, _, _ := FindRunner([]byte(doc), "mig", same, ""); idx != 0 {
			t.Errorf("FindRunner(%s) = %d, want 0 (the same GitLab)", same, idx)
		}
		if others, _ := OtherGitLab([]byte(doc), "mig", same); len(others) != 0 {
			t.Errorf("OtherGitLab(%s) = %+v, want none", same, others)
		}
	}
	for _, other := range []string{"http://old.example.com", "https://old.example.com:8443", "https://old.example.com/gitlab"} {
		if idx, _, _ := FindRunner([]byte(doc), "mig", other, ""); idx != -1 {
			t.Errorf("FindRunner(%s) = %d, want -1 (another GitLab)", other, idx)
		}
	}
}
