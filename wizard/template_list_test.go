package wizard

import (
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/testenv"
	"github.com/runnerup/runnerup/render"
)

// A template table holding a plain list (cap_add = [...]) is copied like any
// other key: render.TableList panicked on a list whose elements are not
// tables (found in review).
func TestRegisterTemplateTableWithAList(t *testing.T) {
	template := `[[runners]]
  [runners.kubernetes]
    namespace = "ci"
    cap_add = ["NET_ADMIN", "SYS_TIME"]
`
	args := []string{"--non-interactive", "--url", "https://gitlab.example.com", "--token", "glrt-REGISTERFLAGSTEST0001", "--executor", "kubernetes",
		"--template-config", "t.toml", "--name", "listed"}
	in := parseRegister(t, args, nil, map[string]string{"t.toml": template})
	p, err := PrepareAnswers(in.Answers, nil, Resolver{LookupEnv: func(string) (string, bool) { return "", false }}, "h")
	if err != nil {
		t.Fatal(err)
	}
	empty, _ := render.ParseConfig(nil)
	out, err := renderConfig(empty, p.Resolved, &render.Credentials{ID: 1, Token: "glrt-REGISTERFLAGSTEST0001"}, render.Target{Index: -1})
	if err != nil {
		t.Fatal(err)
	}
	got := string(out.Data)
	for _, want := range []string{`cap_add = ["NET_ADMIN", "SYS_TIME"]`, `namespace = "ci"`} {
		if !strings.Contains(got, want) {
			t.Errorf("config.toml lacks %q:\n%s", want, got)
		}
	}
	testenv.CheckRunnerConfig(t, out.Data)
}
