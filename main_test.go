package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestShippedBinaryLeavesOutDocTooling: man pages are generated at release
// time by internal/cmd/gendocs, so the runnerup binary must not link
// cobra/doc and what it pulls in (markdown and roff renderers, YAML).
func TestShippedBinaryLeavesOutDocTooling(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, bad := range []string{"github.com/spf13/cobra/doc", "github.com/cpuguy83/go-md2man", "github.com/russross/blackfriday", "go.yaml.in/yaml", "gopkg.in/yaml"} {
			if strings.HasPrefix(pkg, bad) {
				t.Errorf("runnerup links %s: generate docs in internal/cmd/gendocs instead", pkg)
			}
		}
	}
}
