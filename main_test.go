package main

import (
	"os/exec"
	"path/filepath"
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

// TestDeadCodeEliminationKept: executing a text/template anywhere in the
// binary (cobra does it only for custom help, usage or version templates)
// makes the linker keep every exported method of every reachable type,
// +3.7 MB here. The linked binary must not contain template execution.
func TestDeadCodeEliminationKept(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "runnerup")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	syms, err := exec.Command("go", "tool", "nm", bin).Output()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	if strings.Contains(string(syms), "text/template.(*state).walk") {
		t.Errorf("the binary executes text/templates (a cobra Set*Template?), so the linker keeps every exported method")
	}
}
