package render

import (
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/secret"
)

func TestDiffEdges(t *testing.T) {
	var r secret.Redactor
	r.Add("s3cret-value", "***")
	r.Add("other-value", "***")
	tests := []struct {
		name     string
		old, new string
		want     string // exact diff
	}{
		{
			name: "only a trailing newline added",
			old:  "concurrent = 1\nlog_level = \"info\"",
			new:  "concurrent = 1\nlog_level = \"info\"\n",
			want: "--- config.toml\n+++ config.toml\n@@ -1,2 +1,2 @@\n concurrent = 1\n-log_level = \"info\"\n\\ No newline at end of file\n+log_level = \"info\"\n",
		},
		{
			name: "only a trailing newline removed",
			old:  "a = 1\n",
			new:  "a = 1",
			want: "--- config.toml\n+++ config.toml\n@@ -1 +1 @@\n-a = 1\n+a = 1\n\\ No newline at end of file\n",
		},
		{
			name: "only a secret changed",
			old:  "environment = [\"X=s3cret-value\"]\n",
			new:  "environment = [\"X=other-value\"]\n",
			want: "--- config.toml\n+++ config.toml\n(only secret values changed)\n",
		},
		{name: "equal", old: "a = 1", new: "a = 1", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diff("config.toml", []byte(tt.old), []byte(tt.new), &r)
			if got != tt.want {
				t.Errorf("Diff =\n%s\nwant\n%s", got, tt.want)
			}
			if strings.Contains(got, "s3cret-value") || strings.Contains(got, "other-value") {
				t.Errorf("secret in diff:\n%s", got)
			}
		})
	}
}
