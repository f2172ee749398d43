package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestApplyPrintsThePlan: the dry run's text and apply's JSON show the
// plan (what apply decided before contacting or writing anything); the
// JSON adds "plan" beside the keys the Ansible module reads.
func TestApplyPrintsThePlan(t *testing.T) {
	curated, err := os.ReadFile("testdata/absent-keys.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "etc", "config.toml")
	writeFile(t, cfg, string(curated), 0o600)
	answers := filepath.Join(dir, "answers.toml")
	writeFile(t, answers, "version = 1\n[gitlab]\nurl = \"https://gitlab.example.com\"\ntoken = \"env:RUNNER_TOKEN\"\nname = \"dind\"\n[docker]\nimage = \"docker:28\"\n", 0o600)
	e := env{"RUNNER_TOKEN": "glrt-DINDDINDDINDDINDDIND"}
	args := []string{"apply", "--answers", answers, "--config", cfg, "--docker-config", filepath.Join(dir, "docker"), "--skip-probes", "--dry-run"}

	r := runCLI(t, dir, e, args...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, `plan: keep runner "dind" (entry 1 of config.toml, executor docker); token from config.toml; host checks`) {
		t.Errorf("the dry run does not print the plan:\n%s", r.stdout)
	}

	r = runCLI(t, dir, e, append(args, "-o", "json")...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	for _, k := range []string{"dry_run", "changed", "config_toml", "runner", "warnings", "checks", "next_steps", "plan"} {
		if _, ok := out[k]; !ok {
			t.Errorf("apply -o json lacks %q", k)
		}
	}
	plan, _ := out["plan"].(map[string]any)
	runner, _ := plan["runner"].(map[string]any)
	if plan["action"] != "keep" || plan["credentials"] != "config.toml" || plan["checks"] != "host" || runner["found"] != true || runner["index"] != 0.0 {
		t.Errorf("plan = %v", plan)
	}
	if action := out["runner"].(map[string]any)["action"]; action != "kept" {
		t.Errorf("runner.action = %v, want kept", action)
	}
	assertNoSecrets(t, "apply -o json", r.stdout+r.stderr, "glrt-DINDDINDDINDDINDDIND")
}
