package fleettest

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/systemid"
	"github.com/runnerup/runnerup/internal/testenv"
)

// TestFleets starts one set of services and runs every fleet test against
// it: ansible is slow to start, so the six Ansible scenarios of issue 15,
// the contract, the collection checks and the cloud-init recipe share one
// dockerd, registry and fake GitLab.
func TestFleets(t *testing.T) {
	f := setUp(t)
	t.Run("ansible", f.testAnsible)
	t.Run("role", f.testRole)
	t.Run("contract", f.testContract)
	t.Run("collection", f.testCollection)
	t.Run("cloud-init", f.testCloudInit)
	t.Run("no secret in any output", func(t *testing.T) {
		if n := len(f.outputs); n < 20 {
			t.Errorf("only %d outputs collected", n)
		}
		for _, leak := range f.leaks() {
			t.Error(leak)
		}
	})
}

// applyTask is the runnerup_apply task of the playbooks, with extra
// module options (indented lines) before its environment.
func applyTask(extra string) string {
	return `    - name: Apply runnerup answers
      runnerup.gitlab_runner.runnerup_apply:
        binary: "{{ runnerup_binary }}"
        answers_content: "{{ answers }}"
        config: "{{ config_path }}"
        docker_config: "{{ docker_dir }}"
` + extra + `        environment:
          RUNNER_TOKEN: "{{ runner_token }}"
          REGISTRY_PASSWORD: "{{ registry_password }}"
      register: applied
`
}

// applyPlaybook calls the module directly; every scenario of the module
// uses it with different variables.
var applyPlaybook = `---
- name: Runner fleet
  hosts: runners
  gather_facts: false
  tasks:
` + applyTask("") + `
    - name: Gate on the jobs' images
      runnerup.gitlab_runner.runnerup_probe:
        binary: "{{ runnerup_binary }}"
        images: ["{{ answers.docker.image }}"]
        docker_config: "{{ docker_dir }}"
      when: not ansible_check_mode

    - name: Lint the written config.toml
      runnerup.gitlab_runner.runnerup_check:
        binary: "{{ runnerup_binary }}"
        config: "{{ config_path }}"
        lint_only: true
`

func (f *fleet) answers(name string, concurrent int, env []string) map[string]any {
	runner := map[string]any{"executor": "docker", "concurrent": concurrent}
	if env != nil {
		runner["environment"] = env
	}
	return map[string]any{
		"version": 1,
		"gitlab": map[string]any{
			"url":         f.gl.URL,
			"token":       "env:RUNNER_TOKEN",
			"name":        name,
			"description": "fleet runner " + name,
			"tags":        []string{"docker", "fleet"},
		},
		"runner": runner,
		"docker": map[string]any{
			"image":    f.image,
			"dind":     true,
			"services": []map[string]any{{"name": f.service, "alias": "db"}},
		},
		"registries": []map[string]any{{
			"host": f.reg.Host, "method": "basic", "username": f.reg.Username,
			"password": "env:REGISTRY_PASSWORD", "target": "docker-config",
		}},
	}
}

// testAnsible: the module against the real dockerd, registry and docker
// CLI, in the order a fleet meets them. The scenarios build on each
// other: 2 re-runs what 1 wrote, 3–5 change it.
func (f *fleet) testAnsible(t *testing.T) {
	dir := filepath.Join(f.work, "ansible")
	host := filepath.Join(dir, "host") // this host's files live under here
	inventory(t, dir, "fleet-01")
	writeFile(t, filepath.Join(dir, "site.yml"), applyPlaybook, 0o644)
	configPath := filepath.Join(host, "etc", "gitlab-runner", "config.toml")
	dockerDir := filepath.Join(host, "root", ".docker")

	// A legacy registration token: the first run registers, so "the
	// second run does not" is observable.
	regToken := f.secret("registration token", "GR1348941"+"fleetRegTokenZq81xYv")
	f.gl.AddRegistrationToken(regToken)
	vars := map[string]any{
		"runnerup_binary":   f.bin,
		"config_path":       configPath,
		"docker_dir":        dockerDir,
		"answers":           f.answers("fleet-01", 2, nil),
		"runner_token":      regToken,
		"registry_password": f.reg.Password,
	}
	writeJSON(t, filepath.Join(dir, "vars.json"), vars)
	const task = "Apply runnerup answers"
	var issuedToken string
	wrongPassword := f.secret("wrong registry password", "wrong-"+f.reg.Password)

	t.Run("1 first run changes and the real docker pull works", func(t *testing.T) {
		if _, stderr, err := f.d.Docker(t, "", "pull", f.image); err == nil || !strings.Contains(stderr, "no basic auth credentials") {
			t.Fatalf("pull without credentials: err=%v stderr=%s (the registry must demand them for this test to mean anything)", err, stderr)
		}
		p := f.playbook(t, dir, "first-run", "site.yml", "-e", "@vars.json", "-v")
		if p.code != 0 {
			t.Fatalf("ansible-playbook exit %d:\n%s", p.code, p.out)
		}
		res := p.task(t, task).Result
		if res["changed"] != true || str(res, "runner", "action") != "registered" || res["dry_run"] != false {
			t.Errorf("first run: changed=%v action=%q dry_run=%v, want changed, registered, no dry run", res["changed"], str(res, "runner", "action"), res["dry_run"])
		}
		if got := str(res, "service_action"); got != "manual" {
			t.Errorf("service_action = %q, want manual (no gitlab-runner service on this host)", got)
		}
		if s := p.stats(t, "fleet-01"); s["changed"] != 1 || s["failures"] != 0 {
			t.Errorf("recap %v, want changed=1 failures=0", s)
		}
		if probe := p.task(t, "Gate on the jobs' images").Result; probe["changed"] != false || probe["ok"] != true {
			t.Errorf("probe after apply: %v", probe)
		}
		if lint := p.task(t, "Lint the written config.toml").Result; lint["changed"] != false || lint["ok"] != true || str(lint, "config") != configPath {
			t.Errorf("runnerup_check on the written config.toml: %v", lint)
		}
		if n := f.countRequests("POST", "/api/v4/runners"); n != 1 {
			t.Errorf("%d registrations, want 1", n)
		}
		assertMode(t, configPath, 0o600)
		assertMode(t, filepath.Join(dockerDir, "config.json"), 0o600)
		for _, ref := range []string{f.image, f.service} {
			if _, stderr, err := f.d.Docker(t, dockerDir, "pull", ref); err != nil {
				t.Errorf("docker --config %s pull %s with the written config.json: %v\n%s", dockerDir, ref, err, stderr)
			}
		}
		data := readFile(t, configPath)
		oracle := testenv.CheckRunnerConfig(t, []byte(data))
		if len(oracle.Runners) != 1 || oracle.Runners[0].Docker == nil || !oracle.Runners[0].Docker.Privileged {
			t.Errorf("GitLab Runner understood %+v", oracle)
		}
		m := regexp.MustCompile(`(?m)^\s*token = "([^"]+)"`).FindStringSubmatch(data)
		if m == nil {
			t.Fatalf("no token in config.toml:\n%s", data)
		}
		issuedToken = f.secret("issued runner token", m[1])
	})

	t.Run("2 second run is ok and registers nothing", func(t *testing.T) {
		before := snapshot(t, host)
		p := f.playbook(t, dir, "second-run", "site.yml", "-e", "@vars.json", "-v")
		if p.code != 0 {
			t.Fatalf("ansible-playbook exit %d:\n%s", p.code, p.out)
		}
		res := p.task(t, task).Result
		if res["changed"] != false || str(res, "runner", "action") == "registered" {
			t.Errorf("second run: changed=%v action=%q, want ok and no registration", res["changed"], str(res, "runner", "action"))
		}
		if s := p.stats(t, "fleet-01"); s["changed"] != 0 {
			t.Errorf("recap %v, want changed=0", s)
		}
		if n := f.countRequests("POST", "/api/v4/runners"); n != 1 {
			t.Errorf("%d registrations after the second run, want still 1", n)
		}
		assertUnchanged(t, "the second run", before, snapshot(t, host))
	})

	changed := func() map[string]any {
		v := map[string]any{}
		for k, val := range vars {
			v[k] = val
		}
		v["answers"] = f.answers("fleet-01", 3, []string{"FLEET_COLOUR=blue"})
		return v
	}
	writeJSON(t, filepath.Join(dir, "changed.json"), changed())

	t.Run("3 check diff writes nothing and shows the redacted diff", func(t *testing.T) {
		before := snapshot(t, host)
		p := f.playbook(t, dir, "check-diff", "site.yml", "-e", "@changed.json", "--check", "--diff", "-v")
		if p.code != 0 {
			t.Fatalf("ansible-playbook exit %d:\n%s", p.code, p.out)
		}
		res := p.task(t, task).Result
		if res["changed"] != true || res["dry_run"] != true {
			t.Errorf("check mode: changed=%v dry_run=%v, want a dry run that would change", res["changed"], res["dry_run"])
		}
		assertUnchanged(t, "--check", before, snapshot(t, host))
		diffs, _ := res["diff"].([]any)
		if len(diffs) == 0 {
			t.Fatalf("no diff in the result: %v", res)
		}
		// Ansible's before/after form, from apply --diff-texts.
		was, now := str(diffs[0], "before"), str(diffs[0], "after")
		if !strings.Contains(was, "concurrent = 2\n") || strings.Contains(was, "FLEET_COLOUR=blue") {
			t.Errorf("diff before is not the current config.toml:\n%s", was)
		}
		for _, want := range []string{"concurrent = 3\n", "FLEET_COLOUR=blue", "glrtr-…"} {
			if !strings.Contains(now, want) {
				t.Errorf("diff after lacks %q:\n%s", want, now)
			}
		}
		// The default callback shows the diff on screen.
		if !strings.Contains(p.out, "+concurrent = 3") {
			t.Errorf("ansible did not show the diff:\n%s", p.out)
		}
		if n := f.countRequests("POST", "/api/v4/runners"); n != 1 {
			t.Errorf("check mode registered: %d registrations", n)
		}
	})

	t.Run("4 a wrong registry password fails with the check id and writes nothing", func(t *testing.T) {
		v := changed()
		v["registry_password"] = wrongPassword
		writeJSON(t, filepath.Join(dir, "wrong.json"), v)
		before := snapshot(t, host)
		p := f.playbook(t, dir, "wrong-password", "site.yml", "-e", "@wrong.json", "-v")
		if p.code == 0 {
			t.Fatalf("ansible-playbook succeeded with a wrong registry password:\n%s", p.out)
		}
		e := p.task(t, task)
		msg := str(e.Result, "msg")
		checkID := "registry." + f.reg.Host + ".auth"
		if e.Event != "failed" || !strings.Contains(msg, checkID) || !strings.Contains(msg, "exit 3") || !strings.Contains(msg, "hint:") {
			t.Errorf("task %s, msg %q: want failed with %s, its hint and exit 3", e.Event, msg, checkID)
		}
		if str(e.Result, "check", "id") != checkID || e.Result["rc"] != float64(3) {
			t.Errorf("result check=%v rc=%v", e.Result["check"], e.Result["rc"])
		}
		assertUnchanged(t, "the failed run", before, snapshot(t, host))
	})

	t.Run("5 no secret in -v output, -vvv output or the diff", func(t *testing.T) {
		p := f.playbook(t, dir, "check-diff-vvv", "site.yml", "-e", "@changed.json", "--check", "--diff", "-vvv")
		if p.code != 0 {
			t.Fatalf("ansible-playbook exit %d:\n%s", p.code, p.out)
		}
		// The grep can fail: the written files do hold the secrets.
		if !strings.Contains(readFile(t, configPath), issuedToken) || !strings.Contains(readFile(t, filepath.Join(dockerDir, "config.json")), f.reg.AuthConfigValue()) {
			t.Fatal("positive control: the written files should hold the token and the auth value")
		}
		if n := len(f.outputs); n < 10 {
			t.Fatalf("only %d outputs collected", n)
		}
		for _, leak := range f.leaks() {
			t.Error(leak)
		}
		if !strings.Contains(f.outputs["check-diff-vvv (ansible-playbook output)"], "glrtr-…") {
			t.Error("the -vvv output should show the token redacted (glrtr-…)")
		}
	})

	t.Run("6 prune_empty and prune_duplicates offline remove dead entries and keep every other byte", func(t *testing.T) {
		writeFile(t, filepath.Join(dir, "prune.yml"), prunePlaybook, 0o644)
		// Hand-kept entries, an entry without a token (the runner skips
		// it) and a later copy of a hand-kept one (it goes stale when the
		// runner rotates the first one's token).
		entry := func(comment, name, token string) string {
			return "\n[[runners]]\n  # " + comment + "\n  name = \"" + name + "\"\n  url = \"" + f.gl.URL + "\"\n  token = \"" + token + "\"\n  executor = \"shell\"\n"
		}
		docsToken := f.secret("docs runner token", "glrt-DOCSfleetDOCSfleet0007")
		docs := entry("docs builds", "docs", docsToken)
		empty := entry("registration never finished", "half-registered", "")
		docsCopy := entry("docs builds", "docs-copy", docsToken)
		deploy := entry("deploys", "deploy", f.secret("deploy runner token", "glrt-DEPLOYfleetDEPLOY0009"))
		base := readFile(t, configPath)
		kept := base + docs + deploy
		writeFile(t, configPath, base+docs+empty+docsCopy+deploy, 0o600)
		requests := len(f.gl.Requests())

		before := snapshot(t, host)
		p := f.playbook(t, dir, "prune-check", "prune.yml", "-e", "@vars.json", "--check", "--diff")
		if p.code != 0 {
			t.Fatalf("ansible-playbook --check exit %d:\n%s", p.code, p.out)
		}
		if res := p.task(t, task).Result; res["changed"] != true || res["dry_run"] != true {
			t.Errorf("check mode: changed=%v dry_run=%v, want a dry run that would remove two entries", res["changed"], res["dry_run"])
		}
		if !strings.Contains(p.out, `-  name = "half-registered"`) || !strings.Contains(p.out, `-  name = "docs-copy"`) {
			t.Errorf("the diff does not show the removed entries:\n%s", p.out)
		}
		assertUnchanged(t, "prune in check mode", before, snapshot(t, host))

		p = f.playbook(t, dir, "prune", "prune.yml", "-e", "@vars.json", "-v")
		if p.code != 0 {
			t.Fatalf("ansible-playbook exit %d:\n%s", p.code, p.out)
		}
		res := p.task(t, task).Result
		if res["changed"] != true || str(res, "runner", "action") != "kept" {
			t.Errorf("prune run: changed=%v action=%q, want changed and the runner kept", res["changed"], str(res, "runner", "action"))
		}
		pruned, _ := res["pruned"].([]any)
		var got []string
		for _, e := range pruned {
			got = append(got, str(e, "name")+":"+str(e, "reason"))
		}
		if strings.Join(got, " ") != "half-registered:empty-token docs-copy:duplicate" {
			t.Errorf("pruned %v, want half-registered (empty-token) and docs-copy (duplicate)", got)
		}
		// (Not printed: the file holds tokens.)
		if data := readFile(t, configPath); data != kept {
			t.Errorf("config.toml after pruning (%d bytes) is not the file without the two entries (%d bytes)", len(data), len(kept))
		}
		backup := str(res, "files", "config_toml", "backup")
		if backup == "" || readFile(t, backup) != base+docs+empty+docsCopy+deploy {
			t.Errorf("backup %q does not hold the previous config.toml", backup)
		}
		if n := len(f.gl.Requests()) - requests; n != 0 {
			t.Errorf("offline: GitLab got %d request(s)", n)
		}
		if lint := testenv.CheckRunnerConfig(t, []byte(readFile(t, configPath))); len(lint.Runners) != 3 {
			t.Errorf("GitLab Runner loads %d runners after pruning, want fleet-01, docs and deploy", len(lint.Runners))
		}
	})
}

// prunePlaybook applies with the options apply's prune rules and
// --offline have.
var prunePlaybook = `---
- name: Runner fleet hygiene
  hosts: runners
  gather_facts: false
  tasks:
` + applyTask(`        prune_empty: true
        prune_duplicates: true
        offline: true
`)

// rolePlaybook applies the runner role to the host.
const rolePlaybook = `---
- name: Runner fleet
  hosts: runners
  gather_facts: false
  roles:
    - role: runnerup.gitlab_runner.runner
`

// curatedConfig is a hand-kept config.toml with runners runnerup does not
// manage; the role must leave every byte of it alone.
const curatedConfig = `# Curated by hand: other teams' runners live here too.
concurrent = 8
check_interval = 0
log_level = "info"

[session_server]
  session_timeout = 1800

[[runners]]
  # deploys only: shell executor on this host
  name = "deploy"
  url = "https://gitlab.example.com"
  token = "glrt-DEPLOYdeployDEPLOY000"
  executor = "shell"
  shell = "bash"
  [runners.custom_build_dir]
  [runners.cache]
    MaxUploadedArchiveSize = 0

[[runners]]
  name = "docs"
  url = "https://gitlab.example.com"
  token = "glrt-DOCSdocsDOCSdocs00000"
  executor = "docker"
  environment = ["GIT_DEPTH=1"]
  [runners.docker]
    image = "alpine:3.20"
    volumes = ["/cache"]
`

// testRole: issue 15, 6: the role on a host whose config.toml is curated,
// installed from a release archive over HTTP (sha256 checked), with a
// gitlab-runner container the service detection finds stopped, so apply
// asks for a start and the handler runs; a second run changes nothing
// and notifies nothing.
func (f *fleet) testRole(t *testing.T) {
	dir := filepath.Join(f.work, "role")
	host := filepath.Join(dir, "host")
	inventory(t, dir, "fleet-02")
	writeFile(t, filepath.Join(dir, "site.yml"), rolePlaybook, 0o644)
	configDir := filepath.Join(host, "etc", "gitlab-runner")
	configPath := filepath.Join(configDir, "config.toml")
	writeFile(t, configPath, curatedConfig, 0o600)
	restarted := filepath.Join(dir, "restarted")
	started := filepath.Join(dir, "started")

	token := f.secret("role's runner token", "glrt-FLEETroleFLEETrole042")
	f.gl.AddRunner(token, 4242)
	answers := f.answers("fleet-02", 0, nil)
	delete(answers["runner"].(map[string]any), "concurrent") // absent: the curated concurrent = 8 stays
	delete(answers["gitlab"].(map[string]any), "description")
	delete(answers["gitlab"].(map[string]any), "tags")
	vars := map[string]any{
		"runnerup_install_method":  "url",
		"runnerup_url":             f.archiveURL,
		"runnerup_sha256":          f.archiveSHA,
		"runnerup_download_dir":    filepath.Join(host, "var", "cache", "runnerup"),
		"runnerup_install_dir":     filepath.Join(host, "usr", "local", "bin"),
		"runnerup_answers_path":    filepath.Join(host, "etc", "runnerup", "runner.toml"),
		"runnerup_answers":         answers,
		"runnerup_secrets":         map[string]string{"RUNNER_TOKEN": token, "REGISTRY_PASSWORD": f.reg.Password},
		"runnerup_config":          configPath,
		"runnerup_docker_config":   filepath.Join(host, "root", ".docker"),
		"runnerup_restart_command": "touch " + restarted,
		"runnerup_start_command":   "touch " + started,
	}
	writeJSON(t, filepath.Join(dir, "vars.json"), vars)

	// The service: a gitlab/gitlab-runner container reading configDir,
	// created but stopped (the image holds no runner).
	f.d.ImportImage(t, "gitlab/gitlab-runner:test")
	if _, stderr, err := f.d.Docker(t, "", "create", "--name", "gitlab-runner", "-v", configDir+":/etc/gitlab-runner",
		"gitlab/gitlab-runner:test", "run", "--working-directory", "/home/gitlab-runner"); err != nil {
		t.Fatalf("docker create: %v %s", err, stderr)
	}
	defer func() {
		if _, stderr, err := f.d.Docker(t, "", "rm", "-f", "gitlab-runner"); err != nil {
			t.Errorf("docker rm: %v %s", err, stderr)
		}
	}()

	// Check mode on a host without runnerup: it would install, it cannot
	// preview the answers yet, and it writes nothing.
	before := snapshot(t, host)
	p := f.playbook(t, dir, "role-check-new-host", "site.yml", "-e", "@vars.json", "--check", "--diff")
	if p.code != 0 {
		t.Fatalf("role in check mode on a new host: exit %d:\n%s", p.code, p.out)
	}
	if e := p.task(t, "Apply the answers with runnerup"); e.Event != "skipped" {
		t.Errorf("apply in check mode without runnerup installed: %s %v", e.Event, e.Result)
	}
	assertUnchanged(t, "the role in check mode", before, snapshot(t, host))

	p = f.playbook(t, dir, "role-first", "site.yml", "-e", "@vars.json", "-v")
	if p.code != 0 {
		t.Fatalf("ansible-playbook exit %d:\n%s", p.code, p.out)
	}
	installed := filepath.Join(host, "usr", "local", "bin", "runnerup")
	assertMode(t, installed, 0o755)
	if readFile(t, installed) != readFile(t, f.bin) {
		t.Error("the installed runnerup is not the released binary")
	}
	answersFile := readFile(t, vars["runnerup_answers_path"].(string))
	assertMode(t, vars["runnerup_answers_path"].(string), 0o600)
	if !strings.Contains(answersFile, `token = "env:RUNNER_TOKEN"`) || strings.Contains(answersFile, token) {
		t.Errorf("answers file on the host:\n%s", answersFile)
	}
	res := p.task(t, "Apply the answers with runnerup").Result
	if res["changed"] != true || str(res, "service_action") != "start" || str(res, "service", "restart_command") != "docker restart gitlab-runner" {
		t.Errorf("apply: changed=%v service_action=%q service=%v", res["changed"], str(res, "service_action"), res["service"])
	}
	// A start must not restart: a restart aborts the jobs a running
	// service has, and "start" is also what apply says when it cannot
	// tell whether the service runs.
	if !p.handlerRan("Start gitlab-runner") || p.handlerRan("Restart gitlab-runner") {
		t.Errorf("apply asked for a start: want the start handler and not the restart one (start %v, restart %v):\n%s",
			p.handlerRan("Start gitlab-runner"), p.handlerRan("Restart gitlab-runner"), p.out)
	}
	if _, err := os.Stat(started); err != nil {
		t.Errorf("the overridden start command did not run: %v", err)
	}
	if _, err := os.Stat(restarted); err == nil {
		t.Error("the restart command ran although apply asked only for a start")
	}
	data := readFile(t, configPath)
	if !strings.HasPrefix(data, curatedConfig) {
		t.Errorf("the curated part of config.toml changed; got:\n%s", data)
	}
	if !strings.Contains(data[len(curatedConfig):], `name = "fleet-02"`) {
		t.Errorf("the new runner was not appended:\n%s", data)
	}
	if oracle := testenv.CheckRunnerConfig(t, []byte(data)); oracle.Concurrent != 8 || len(oracle.Runners) != 3 {
		t.Errorf("GitLab Runner understood concurrent=%d and %d runners, want 8 and 3", oracle.Concurrent, len(oracle.Runners))
	}

	if err := os.Remove(started); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	systemIDPath := filepath.Join(configDir, ".runner_system_id")
	ownID := strings.TrimSpace(readFile(t, systemIDPath))
	if !strings.HasPrefix(ownID, "s_") {
		t.Errorf("the first run wrote system id %q, want this host's s_ id (the guard found nothing cloned)", ownID)
	}
	before = snapshot(t, host)
	p = f.playbook(t, dir, "role-second", "site.yml", "-e", "@vars.json", "-v")
	if p.code != 0 {
		t.Fatalf("second role run: exit %d:\n%s", p.code, p.out)
	}
	if s := p.stats(t, "fleet-02"); s["changed"] != 0 {
		t.Errorf("second role run recap %v, want changed=0:\n%s", s, p.out)
	}
	if p.handlerRan("Restart gitlab-runner") || p.handlerRan("Start gitlab-runner") {
		t.Error("a service handler ran although nothing changed")
	}
	for _, m := range []string{started, restarted} {
		if _, err := os.Stat(m); err == nil {
			t.Errorf("%s: a service command ran on the second run", m)
		}
	}
	assertUnchanged(t, "the second role run", before, snapshot(t, host))

	// The host turns out to be a clone: its .runner_system_id was derived
	// from another host's machine id (the image's). The role's default
	// guard writes one fresh id on the next play, and the play after it
	// keeps that id: one new runner manager in GitLab, not one per play.
	cloned := systemid.FromMachineID("0123456789abcdef0123456789abcdef")
	writeFile(t, systemIDPath, cloned+"\n", 0o600)
	p = f.playbook(t, dir, "role-clone", "site.yml", "-e", "@vars.json", "-v")
	if p.code != 0 {
		t.Fatalf("role run on a clone: exit %d:\n%s", p.code, p.out)
	}
	freshID := strings.TrimSpace(readFile(t, systemIDPath))
	if freshID == cloned || !strings.HasPrefix(freshID, "r_") {
		t.Errorf("on a clone the role kept system id %q (cloned %q), want one fresh r_ id", freshID, cloned)
	}
	if res := p.task(t, "Apply the answers with runnerup").Result; res["changed"] != true || str(res, "fresh_system_id_reason") != "systemid.cloned" {
		t.Errorf("apply on a clone: changed=%v fresh_system_id_reason=%v", res["changed"], res["fresh_system_id_reason"])
	}
	before = snapshot(t, host)
	p = f.playbook(t, dir, "role-clone-again", "site.yml", "-e", "@vars.json", "-v")
	if p.code != 0 {
		t.Fatalf("second role run on the clone: exit %d:\n%s", p.code, p.out)
	}
	if got := strings.TrimSpace(readFile(t, systemIDPath)); got != freshID {
		t.Errorf("the second play on the clone wrote another system id (%q after %q): the guard must write one", got, freshID)
	}
	if s := p.stats(t, "fleet-02"); s["changed"] != 0 {
		t.Errorf("second role run on the clone: recap %v, want changed=0", s)
	}
	assertUnchanged(t, "the second role run on the clone", before, snapshot(t, host))
}

// testCollection: the collection's own checks: every module documents
// itself through ansible-doc, ansible-lint passes, and the module's Python
// mapping passes its unit tests against the recorded apply outputs.
func (f *fleet) testCollection(t *testing.T) {
	t.Run("ansible-doc", func(t *testing.T) {
		modules, _ := filepath.Glob(filepath.Join(f.collection, "plugins", "modules", "*.py"))
		if len(modules) < 3 {
			t.Fatalf("modules: %v", modules)
		}
		var names []string
		for _, m := range modules {
			names = append(names, "runnerup.gitlab_runner."+strings.TrimSuffix(filepath.Base(m), ".py"))
		}
		res := f.run(t, "", nil, "ansible-doc", append([]string{"--json"}, names...)...)
		var docs map[string]struct {
			Doc      map[string]any `json:"doc"`
			Examples string         `json:"examples"`
			Return   map[string]any `json:"return"`
		}
		if res.code != 0 || json.Unmarshal([]byte(res.out), &docs) != nil {
			t.Fatalf("ansible-doc --json: exit %d\n%s", res.code, res.out)
		}
		for _, name := range names {
			d, ok := docs[name]
			if !ok || d.Doc["short_description"] == nil || d.Doc["options"] == nil || d.Examples == "" || d.Return["changed"] == nil {
				t.Errorf("ansible-doc %s lacks a part: %+v", name, d)
			}
		}
		text := f.run(t, "", nil, "ansible-doc", names...)
		if text.code != 0 || strings.Count(text.out, "EXAMPLES:") != len(names) || strings.Count(text.out, "RETURN VALUES:") != len(names) {
			t.Errorf("ansible-doc (text): exit %d\n%s", text.code, text.out)
		}
	})

	t.Run("ansible-lint", func(t *testing.T) {
		// ansible-compat 3.0 (Debian 12) installs its collection finder on
		// the parent directory of ANSIBLE_COLLECTIONS_PATH, so point it at
		// …/collections/ansible_collections for the modules to resolve.
		env := []string{"ANSIBLE_COLLECTIONS_PATH=" + filepath.Join(f.collections, "ansible_collections")}
		// Every rule (args, which checks module options, is experimental in
		// 6.13 and in no profile), warnings fatal.
		lint := []string{"--offline", "--nocolor", "--strict"}
		res := f.run(t, f.work, env, "ansible-lint", append(lint, f.collection)...)
		if res.code != 0 || !strings.Contains(res.out, "Passed with production profile") || !strings.Contains(res.out, "0 warning(s)") {
			t.Errorf("ansible-lint: exit %d\n%s", res.code, res.out)
		}
		if strings.Contains(res.out, "Unable to resolve FQCN") || strings.Contains(res.out, "Unable to load module") {
			t.Errorf("ansible-lint could not load the collection's modules, so it did not check their options:\n%s", res.out)
		}
		// Control: the same invocation rejects a task with an unknown
		// option of runnerup_apply, so a pass above means something.
		bad := filepath.Join(f.work, "lint-control")
		writeFile(t, filepath.Join(bad, "site.yml"), `---
- name: Control
  hosts: all
  tasks:
    - name: Apply with a misspelt option
      runnerup.gitlab_runner.runnerup_apply:
        answer: /etc/runnerup/runner.toml
`, 0o644)
		if res := f.run(t, bad, env, "ansible-lint", append(lint, "site.yml")...); res.code == 0 || !strings.Contains(res.out, "args[module]") {
			t.Errorf("ansible-lint passed a task with an unknown module option (exit %d):\n%s", res.code, res.out)
		}
	})

	t.Run("example playbook", func(t *testing.T) {
		examples := filepath.Join(f.collection, "examples")
		res := f.run(t, examples, nil, "ansible-playbook", "--syntax-check", "-i", "inventory.ini", "site.yml")
		if res.code != 0 {
			t.Errorf("ansible-playbook --syntax-check examples/site.yml: exit %d\n%s", res.code, res.out)
		}
		hosts := f.run(t, examples, nil, "ansible-inventory", "-i", "inventory.ini", "--graph", "runners")
		if hosts.code != 0 || strings.Count(hosts.out, "runner-0") != 3 {
			t.Errorf("examples/inventory.ini: exit %d\n%s", hosts.code, hosts.out)
		}

		// The preview the example documents, on a fleet that has nothing
		// yet: runnerup is not installed, so nothing can be applied or
		// probed, and the run must say so rather than fail.
		dir := filepath.Join(f.work, "example-check")
		root := filepath.Join(dir, "host")
		inventory(t, dir, "runner-01")
		writeJSON(t, filepath.Join(dir, "vars.json"), map[string]any{
			"vault_runner_token":      f.secret("example runner token", "glrt-EXAMPLEcheckMODE00042"),
			"vault_registry_password": "example-registry-password",
			"runnerup_download_dir":   filepath.Join(root, "var", "cache", "runnerup"),
			"runnerup_install_dir":    filepath.Join(root, "usr", "local", "bin"),
			"runnerup_binary":         filepath.Join(root, "usr", "local", "bin", "runnerup"),
			"runnerup_answers_path":   filepath.Join(root, "etc", "runnerup", "runner.toml"),
			"runnerup_config":         filepath.Join(root, "etc", "gitlab-runner", "config.toml"),
		})
		writeFile(t, filepath.Join(root, ".keep"), "", 0o644)
		before := snapshot(t, root)
		p := f.playbook(t, dir, "example-check-new-fleet", filepath.Join(examples, "site.yml"), "-e", "@vars.json", "--check", "--diff")
		if p.code != 0 {
			t.Fatalf("examples/site.yml --check --diff on a new fleet: exit %d\n%s", p.code, p.out)
		}
		for _, task := range []string{"Apply the answers with runnerup", "Probe the runners in config.toml (tokens, images, daemon)"} {
			if e := p.task(t, task); e.Event != "skipped" {
				t.Errorf("%s without runnerup installed: %s %v", task, e.Event, e.Result)
			}
		}
		assertUnchanged(t, "the example in check mode", before, snapshot(t, root))
	})

	t.Run("an architecture without a release stops the role", func(t *testing.T) {
		dir := filepath.Join(f.work, "arch")
		inventory(t, dir, "riscv-01")
		writeFile(t, filepath.Join(dir, "site.yml"), rolePlaybook, 0o644)
		writeJSON(t, filepath.Join(dir, "vars.json"), map[string]any{
			// What fact gathering reports on a RISC-V host.
			"ansible_facts":         map[string]any{"architecture": "riscv64"},
			"runnerup_sha256":       strings.Repeat("0", 64),
			"runnerup_download_dir": filepath.Join(dir, "host", "var", "cache", "runnerup"),
			"runnerup_install_dir":  filepath.Join(dir, "host", "usr", "local", "bin"),
			"runnerup_answers_path": filepath.Join(dir, "host", "etc", "runnerup", "runner.toml"),
			"runnerup_answers":      map[string]any{"version": 1},
		})
		p := f.playbook(t, dir, "unknown-arch", "site.yml", "-e", "@vars.json", "--check")
		e := p.task(t, "Check that runnerup has a release for this host")
		if p.code == 0 || e.Event != "failed" || !strings.Contains(str(e.Result, "msg"), "no release for the architecture of this host (riscv64") {
			t.Errorf("the role on a riscv64 host: exit %d, %s %v\n%s", p.code, e.Event, e.Result, p.out)
		}
		if strings.Contains(p.out, "linux_amd64") {
			t.Errorf("the role still names the amd64 release for a riscv64 host:\n%s", p.out)
		}
	})

	t.Run("python unit tests", func(t *testing.T) {
		// The fixtures of this tree, which -update may just have rewritten
		// (the installed collection holds the ones it was built with).
		env := []string{"PYTHONPATH=" + f.collections, "RUNNERUP_FIXTURES=" + filepath.Join(f.repo, "ansible", "tests", "unit", "fixtures")}
		res := f.run(t, f.collection, env, python, "-m", "unittest", "discover", "-s", "tests/unit", "-v")
		if res.code != 0 {
			t.Errorf("python unit tests: exit %d\n%s", res.code, res.out)
		}
		if !strings.Contains(res.out, "OK") {
			t.Errorf("python unit tests did not report OK:\n%s", res.out)
		}
	})
}
