package render

import (
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/secret"
	"github.com/runnerup/runnerup/internal/testenv"
)

func TestRemoveRunners(t *testing.T) {
	const three = `# fleet config, kept by hand
concurrent = 4

[[runners]]
  name = "a"
  url = "https://gitlab.example.com"
  token = "glrt-aaaaaaaaaaaaaaaaaaaa"
  executor = "docker"
  [runners.docker]
    image = "alpine:3"
  [runners.cache]
    Type = "s3"

# the second runner serves the mobile team
[[runners]]
  name = "b"
  url = "https://gitlab.example.com"
  token = "glrt-bbbbbbbbbbbbbbbbbbbb"
  executor = "shell"

[[runners]]
  name = "c"
  url = "https://gitlab.example.com"
  token = "glrt-cccccccccccccccccccc"
  executor = "shell"
`
	tests := []struct {
		name    string
		in      string
		indexes []int
		want    string
		wantErr string
	}{
		{name: "first, sub-tables and all; the comment introducing the next stays", in: three, indexes: []int{0}, want: `# fleet config, kept by hand
concurrent = 4

# the second runner serves the mobile team
[[runners]]
  name = "b"
  url = "https://gitlab.example.com"
  token = "glrt-bbbbbbbbbbbbbbbbbbbb"
  executor = "shell"

[[runners]]
  name = "c"
  url = "https://gitlab.example.com"
  token = "glrt-cccccccccccccccccccc"
  executor = "shell"
`},
		{name: "middle", in: three, indexes: []int{1}, want: strings.Replace(three, `[[runners]]
  name = "b"
  url = "https://gitlab.example.com"
  token = "glrt-bbbbbbbbbbbbbbbbbbbb"
  executor = "shell"
`, "", 1)},
		{name: "last and first, repeated index", in: three, indexes: []int{2, 0, 2}, want: `# fleet config, kept by hand
concurrent = 4

# the second runner serves the mobile team
[[runners]]
  name = "b"
  url = "https://gitlab.example.com"
  token = "glrt-bbbbbbbbbbbbbbbbbbbb"
  executor = "shell"

`},
		{name: "nothing to remove is the same bytes", in: three, indexes: nil, want: three},
		{name: "out of range", in: three, indexes: []int{3}, wantErr: "no runner entry #4"},
		{name: "inline runners array refused", in: "runners = [{name = \"a\"}]\n", indexes: []int{0}, wantErr: "inline array"},
		{name: "bad TOML refused", in: "[[runners]\n", indexes: []int{0}, wantErr: "existing config.toml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RemoveRunners([]byte(tt.in), tt.indexes)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// What is left must still load in GitLab Runner's own loader.
func TestRemoveRunnersOracle(t *testing.T) {
	in := []byte("concurrent = 2\n\n[[runners]]\n  name = \"a\"\n  url = \"https://g.example\"\n  token = \"glrt-a\"\n  executor = \"docker\"\n  [runners.docker]\n    image = \"alpine\"\n\n[[runners]]\n  name = \"b\"\n  url = \"https://g.example\"\n  token = \"glrt-b\"\n  executor = \"shell\"\n")
	out, err := RemoveRunners(in, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	res := testenv.CheckRunnerConfig(t, out)
	if len(res.Runners) != 1 || res.Runners[0].Name != "b" {
		t.Fatalf("runner-oracle read %+v, want only runner b", res.Runners)
	}
}

// The diff of a removal shows whole blocks: every secret in them must be
// hidden, including ones runnerup was never told about.
func TestRemovedBlockDiffIsRedacted(t *testing.T) {
	old := []byte(`[[runners]]
  name = "gone"
  url = "https://gitlab.example.com"
  token = 'glrt-GONEGONEGONEGONE0001'
  environment = ["DEPLOY_KEY=supersecretvalue123", "HTTPS_PROXY=http://bob:pr0xyPw@proxy:3128", "GIT_DEPTH=10"]
  executor = "docker"
  [runners.cache.azure]
    AccountName = "acct"
    AccountKey = "AZUREKEYsecretAZUREKEY"
  [runners.cache.gcs]
    PrivateKey = '-----BEGIN PRIVATE KEY-----gcsgcs'

[[runners]]
  name = "kept"
  url = "https://gitlab.example.com"
  token = "glrt-KEPTKEPTKEPTKEPT0002"
  executor = "shell"
`)
	out, err := RemoveRunners(old, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	d := Diff("config.toml", old, out, &secret.Redactor{})
	for _, s := range []string{"glrt-GONEGONEGONEGONE0001", "supersecretvalue123", "pr0xyPw", "AZUREKEYsecretAZUREKEY", "gcsgcs"} {
		if strings.Contains(d, s) {
			t.Errorf("diff shows %q:\n%s", s, d)
		}
	}
	for _, s := range []string{`-  name = "gone"`, "GIT_DEPTH=10", "DEPLOY_KEY=", "AccountName"} {
		if !strings.Contains(d, s) {
			t.Errorf("diff lacks %q:\n%s", s, d)
		}
	}
}

// An empty token is no secret, and it is why such an entry is removed: the
// diff shows it as it is, while a short token still becomes ***.
func TestRemovedEmptyTokenShowsEmpty(t *testing.T) {
	old := []byte("[[runners]]\n  name = \"blank\"\n  token = \"\"\n[[runners]]\n  name = \"lit\"\n  token = ''\n[[runners]]\n  name = \"short\"\n  token = \"abc\"\n")
	out, err := RemoveRunners(old, []int{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	d := Diff("config.toml", old, out, &secret.Redactor{})
	for _, s := range []string{"-  token = \"\"\n", "-  token = ''\n", "-  token = \"***\"\n"} {
		if !strings.Contains(d, s) {
			t.Errorf("diff lacks %q:\n%s", s, d)
		}
	}
}
