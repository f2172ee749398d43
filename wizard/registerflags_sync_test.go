package wizard

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/testenv"
)

// registerflags_table.go is what tools/registerflags-gen makes of the
// pinned GitLab Runner: regenerated here (offline, from the module cache
// runner-oracle's build fills) and compared byte for byte.
func TestRegisterFlagTableInSync(t *testing.T) {
	if testing.Short() {
		t.Skip("builds GitLab Runner's common package")
	}
	gen := filepath.Join("..", "tools", "registerflags-gen")
	if _, err := os.Stat(filepath.Join(gen, "..", "..", "..", "shared", "tools", "runner-oracle", "stubs")); err != nil {
		testenv.SkipOrFail(t, "../shared/tools/runner-oracle (whose stubs the generator uses) is not beside the project")
	}
	got, err := testenv.GoRunOffline(gen)
	if err != nil {
		if strings.Contains(err.Error(), "GOPROXY=off") || strings.Contains(err.Error(), "module lookup disabled") {
			testenv.SkipOrFail(t, "GitLab Runner's module is not in the module cache (build runner-oracle once): "+err.Error())
		}
		t.Fatalf("tools/registerflags-gen: %v", err)
	}
	want, err := os.ReadFile("registerflags_table.go")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("wizard/registerflags_table.go is not what tools/registerflags-gen makes: regenerate it with\n  (cd tools/registerflags-gen && go run . -o ../../wizard/registerflags_table.go)")
	}
}

// Namespaces are not flags: golang-cli-helpers makes no flag of a struct
// field without a namespace tag (kubernetes affinity, runner monitoring),
// so gitlab-runner register says "flag provided but not defined" and so
// does runnerup.
func TestRegisterNamespacesAreNoFlags(t *testing.T) {
	for _, name := range []string{"kubernetes-affinity", "runner-monitoring"} {
		_, err := ParseRegisterArgs([]string{"--" + name, "x"}, nil, nil)
		if err == nil || !strings.Contains(err.Error(), "has no such flag") {
			t.Errorf("--%s: %v, want no such flag", name, err)
		}
	}
}
