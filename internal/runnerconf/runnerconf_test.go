package runnerconf

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	const doc = `concurrent = 4

[[runners]]
  name = "a"
  url = "https://gitlab.example.com"
  token = "glrt-AAAAAAAAAAAAAAAAAAAA"
  token_expires_at = 2027-01-02T03:04:05Z
  executor = "docker"
  environment = ["A=1"]
  [runners.docker]
    image = "alpine:3.20"
    pull_policy = "always"
    allowed_pull_policies = ["always", "if-not-present"]
    helper_image_flavor = "ubuntu"
    [[runners.docker.services]]
      name = "docker:27-dind"
      alias = "docker"

[[runners]]
  name = "b"
  executor = "shell"
`
	f, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if f.Concurrent == nil || *f.Concurrent != 4 || len(f.Runners) != 2 || f.OtherRunnersKey != "" {
		t.Fatalf("file = %+v", f)
	}
	a, b := f.Runners[0], f.Runners[1]
	if a.Index != 0 || b.Index != 1 || a.Name != "a" || a.TokenExpiresAt.Year() != 2027 || a.Environment[0] != "A=1" {
		t.Errorf("entries %+v %+v", a, b)
	}
	d := a.Docker
	if d == nil || d.Image != "alpine:3.20" || len(d.PullPolicy) != 1 || len(d.AllowedPullPolicies) != 2 || d.HelperImageFlavor != "ubuntu" ||
		len(d.Services) != 1 || d.Services[0].Alias != "docker" || b.Docker != nil {
		t.Errorf("docker %+v", d)
	}
}

func TestParseEdges(t *testing.T) {
	tests := []struct {
		name, doc   string
		wantErr     string // "" = parses
		otherRunner string
	}{
		{name: "absent file", doc: ""},
		// The linter reports a wrong type of a global key; an edit that
		// does not set it keeps its bytes.
		{name: "concurrent not an integer", doc: "concurrent = \"many\"\n"},
		{name: "a key of the wrong type names its line", doc: "[[runners]]\n  name = \"a\"\n  token = 5\n", wantErr: "line 3"},
		{name: "runners spelled twice", doc: "[[Runners]]\n  name = \"a\"\n[[runners]]\n  name = \"b\"\n", otherRunner: "Runners"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.doc))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Concurrent != nil || f.OtherRunnersKey != tt.otherRunner {
				t.Errorf("file = %+v", f)
			}
		})
	}
}

// Parse and Find are counted: tests pin how often a command reads the
// file and looks for its runner.
func TestCounted(t *testing.T) {
	before := Counted()
	f, _ := Parse([]byte("[[runners]]\n  name = \"a\"\n  url = \"https://g\"\n"))
	if i, r, err := f.Find("a", "https://g/", ""); i != 0 || r == nil || err != nil {
		t.Fatalf("Find = %d %v %v", i, r, err)
	}
	if i, _, _ := f.Find("a", "https://other", ""); i != -1 {
		t.Errorf("an entry on another GitLab is not the runner")
	}
	after := Counted()
	if after.Decodes-before.Decodes != 1 || after.Lookups-before.Lookups != 2 {
		t.Errorf("counted %+v → %+v, want 1 decode and 2 lookups", before, after)
	}
}
