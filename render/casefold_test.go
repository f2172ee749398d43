package render

import (
	"strings"
	"testing"
)

// GitLab Runner decodes config.toml with BurntSushi, which matches a key to
// its struct field case-insensitively: `Executor = "shell"` is the
// executor. An edit must change that key where it is; adding `executor`
// beside it left two spellings, and which one the runner kept depended on
// map order (runner-oracle, run six times, printed both). A url with
// surrounding spaces is the same GitLab to Find, but the runner does not
// trim it and cannot reach GitLab with it: the edit writes the clean url.
// (FuzzConfigTOMLSplice found the pair in CI.)
func TestConfigTOMLEditsEverySpellingTheRunnerReads(t *testing.T) {
	tests := []struct {
		name, doc string
		edit      Runner
		want      []string // lines of the edited runner block
		notWant   []string
	}{
		{
			name: "executor in another case",
			doc:  "[[runners]]\n  name = \"a\"\n  url = \"https://gitlab.example.com\"\n  token = \"glrt-x\"\n  Executor = \"shell\"\n",
			edit: Runner{Name: "a", URL: "https://gitlab.example.com", Executor: "docker", Docker: &Docker{Image: "alpine:3"}},
			want: []string{`  Executor = "docker"`}, notWant: []string{`executor = `},
		},
		{
			name: "two spellings both set",
			doc:  "[[runners]]\n  name = \"a\"\n  url = \"https://gitlab.example.com\"\n  token = \"glrt-x\"\n  executor = \"shell\"\n  EXECUTOR = \"kubernetes\"\n",
			edit: Runner{Name: "a", URL: "https://gitlab.example.com", Executor: "docker", Docker: &Docker{Image: "alpine:3"}},
			want: []string{`  executor = "docker"`, `  EXECUTOR = "docker"`},
		},
		{
			name: "name in another case",
			doc:  "[[runners]]\n  nAme = \"a\"\n  url = \"https://gitlab.example.com\"\n  token = \"glrt-x\"\n  executor = \"shell\"\n",
			edit: Runner{Name: "a", URL: "https://gitlab.example.com", Executor: "shell"},
			want: []string{`  nAme = "a"`}, notWant: []string{"  name = "},
		},
		{
			name: "docker table in another case",
			doc:  "[[runners]]\n  name = \"a\"\n  url = \"https://gitlab.example.com\"\n  token = \"glrt-x\"\n  executor = \"docker\"\n  [runners.Docker]\n    Image = \"x\"\n    privileged = true\n",
			edit: Runner{Name: "a", URL: "https://gitlab.example.com", Executor: "docker", Docker: &Docker{Image: "y"}},
			want: []string{`  [runners.Docker]`, `    Image = "y"`}, notWant: []string{`[runners.docker]`, `image = `},
		},
		{
			name: "url with a trailing space",
			doc:  "[[runners]]\n  name = \"a\"\n  url = \"https://GitLab.example.com \"\n  token = \"glrt-x\"\n  executor = \"shell\"\n",
			edit: Runner{Name: "a", URL: "https://gitlab.example.com", Executor: "shell"},
			want: []string{`  url = "https://gitlab.example.com"`},
		},
		{
			name: "url in another case keeps its spelling",
			doc:  "[[runners]]\n  name = \"a\"\n  url = \"https://GitLab.example.com/\"\n  token = \"glrt-x\"\n  executor = \"shell\"\n",
			edit: Runner{Name: "a", URL: "https://gitlab.example.com", Executor: "shell"},
			want: []string{`  url = "https://GitLab.example.com/"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ConfigTOML([]byte(tt.doc), ConfigEdit{Runner: tt.edit})
			if err != nil {
				t.Fatal(err)
			}
			if res.Appended {
				t.Fatalf("appended a new runner instead of editing the one the runner reads as %q:\n%s", tt.edit.Name, res.Data)
			}
			lines := strings.Split(string(res.Data), "\n")
			for _, w := range tt.want {
				if !contains(lines, w) {
					t.Errorf("output lacks %q:\n%s", w, res.Data)
				}
			}
			for _, nw := range tt.notWant {
				if strings.Contains(string(res.Data), nw) {
					t.Errorf("output has %q, a second spelling beside the one in the file:\n%s", nw, res.Data)
				}
			}
		})
	}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}
