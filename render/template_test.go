package render

import (
	"strings"
	"testing"
)

func TestSpliceTemplate(t *testing.T) {
	const template = "[[runners]]\n  name = \"t\"\n  [runners.docker]\n    image = \"x\"\n  # cache\n  [runners.cache]\n    Type = \"s3\" # kept\n    [runners.cache.s3]\n      BucketName = \"b\"\n  [[runners.kubernetes.volumes.empty_dir]]\n    name = \"e\""
	keys := map[string]any{"cache": map[string]any{"Type": "s3", "s3": map[string]any{"BucketName": "b"}}}
	tests := []struct {
		name, doc string
		want      []string
		notWant   []string
		tables    int
	}{
		{name: "new entry: every unmanaged table the keys hold", doc: "[[runners]]\n  name = \"a\"\n  [runners.docker]\n    image = \"y\"\n",
			want:    []string{"  # cache\n  [runners.cache]\n    Type = \"s3\" # kept\n    [runners.cache.s3]\n      BucketName = \"b\"\n"},
			notWant: []string{"kubernetes", `image = "x"`}, tables: 2},
		{name: "a table the entry has is left alone", doc: "[[runners]]\n  name = \"a\"\n  [runners.cache]\n    Type = \"gcs\"\n[[runners]]\n  name = \"b\"\n",
			want: []string{"  [runners.cache]\n    Type = \"gcs\"\n    [runners.cache.s3]\n      BucketName = \"b\"\n[[runners]]\n  name = \"b\"\n"}, tables: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, sp := SpliceTemplate([]byte(tt.doc), 0, []byte(template), keys)
			if len(sp.Tables) != tt.tables {
				t.Errorf("spliced %v, want %d tables", sp.Tables, tt.tables)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(string(out), w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
			if !strings.HasPrefix(string(out), strings.SplitN(tt.doc, "  [runners.cache]", 2)[0]) {
				t.Errorf("the entry's own bytes changed:\n%s", out)
			}
		})
	}
	// Not two [[runners]] in the template: nothing spliced.
	if out, sp := SpliceTemplate([]byte("[[runners]]\n"), 0, []byte("[[runners]]\n[[runners]]\n"), keys); string(out) != "[[runners]]\n" || len(sp.Tables) != 0 {
		t.Errorf("spliced from a template with two runners: %q %v", out, sp.Tables)
	}
}
