package cli

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
	"github.com/runnerup/runnerup/internal/testenv"
)

// The wizard's create path (issue 14): no runner token at hand, an API
// token instead, a picker of the places its user may create runners in,
// and the runner created once, when the files are written. Driven as a
// user drives it: the real binary in tmux, against the fake GitLab.

const (
	createToken   = "glpat-TMUXcreateALICE0001"
	readonlyToken = "glpat-TMUXreadonlyALICE01"
)

// createGitLab is a GitLab where alice may create runners in team/app,
// team/api-gateway, team/web (she owns the group team) and many/p00…p24,
// but not in other/secret.
func createGitLab(t *testing.T) (*fakegitlab.Server, map[string]int64) {
	t.Helper()
	srv := fakegitlab.New(t)
	srv.AddUserToken(createToken, "alice", "create_runner", "read_api", "read_user")
	srv.AddUserToken(readonlyToken, "alice", "read_api", "read_user")
	ids := map[string]int64{}
	for _, p := range []string{"team/app", "team/api-gateway", "team/web", "other/secret"} {
		ids[p] = srv.AddProject(p)
	}
	for i := range 25 {
		p := fmt.Sprintf("many/p%02d", i)
		ids[p] = srv.AddProject(p)
		srv.SetMember("alice", p, fakegitlab.Maintainer)
	}
	ids["team"] = srv.AddGroup("team")
	srv.SetMember("alice", "team", fakegitlab.Owner)
	return srv, ids
}

// createRequests counts POST /api/v4/user/runners.
func createRequests(srv *fakegitlab.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == "POST" && r.Path == "/api/v4/user/runners" {
			n++
		}
	}
	return n
}

// createSession is a wizard on a fresh machine (env: more environment)
// against a new createGitLab, answered up to the API token field, which it
// returns the screen of.
type createSession struct {
	*tmuxSession
	world *wizardWorld
	srv   *fakegitlab.Server
	ids   map[string]int64
}

func startCreate(t *testing.T, w, h int, env ...string) (*createSession, string) {
	t.Helper()
	srv, ids := createGitLab(t)
	world := newWorld(t, "unix:///nonexistent.sock")
	world.env = env
	s := startWizard(t, w, h, world)
	s.answer("GitLab URL", srv.URL)
	s.noToken()
	return &createSession{tmuxSession: s, world: world, srv: srv, ids: ids}, s.focus("API token")
}

// noToken answers "Do you have a runner token?" with No.
func (s *tmuxSession) noToken() {
	s.t.Helper()
	s.keyAt(hasTokenTitle, "Right")
	s.expect("[No]")
	s.key("Enter")
}

// TestWizardCreatesRunner: from a fresh machine to a written config.toml
// without copying a runner token: the API token is checked live (its user
// and scopes shown), the picker finds the project as the user types, the
// review says what will be created, and the write creates it once. The API
// token and the runner token never show on screen or in the saved answers;
// replaying the saved answers creates nothing.
func TestWizardCreatesRunner(t *testing.T) {
	testenv.Need(t, true, "tmux")
	testenv.Isolate(t)
	eachSize(t, func(t *testing.T, w, h int) {
		cs, _ := startCreate(t, w, h)
		s, world, srv, ids := cs.tmuxSession, cs.world, cs.srv, cs.ids
		s.typ(createToken)
		// Checked live: whose token, and that it can create runners.
		sc := s.expectFlat("API token for runner creation — @alice can create runners")
		if l := line(sc, "API token"); strings.Contains(l, "✗") {
			t.Errorf("a good API token shows a ✗: %q", l)
		}
		s.key("Enter")
		s.focus("Where to create the runner")
		s.expect("> many/p00")
		// Search as you type: the list narrows to the project.
		s.typ("gate")
		s.waitFor("the list narrowed to team/api-gateway", func(sc string) bool {
			return strings.Contains(sc, "> team/api-gateway") && strings.Contains(sc, "1 of 1") && !strings.Contains(sc, "team/app")
		})
		s.key("Enter")
		s.answer("Tags", "docker, linux")
		s.keyAt("Run untagged jobs?", "Enter")
		s.keyAt("Executor", "Home", "Enter") // shell
		s.keyAt("Shell", "Enter")
		top := s.checksDone()
		t.Logf("review at %dx%d:\n%s", w, h, top)
		review := s.review()
		if !strings.Contains(flat(review), "will create a project runner in team/api-gateway") {
			t.Errorf("the review does not say what will be created:\n%s", review)
		}
		if n := createRequests(srv); n != 0 {
			t.Fatalf("%d runner(s) created before the write", n)
		}
		writeAndSave(s)
		if code := s.waitExit(); !strings.Contains(code, "EXIT=0") {
			t.Fatalf("exit: %s\n%s", code, s.screen())
		}

		// Created once, where the picker said, with the settings given.
		if n := createRequests(srv); n != 1 {
			t.Fatalf("POST /user/runners %d times, want 1", n)
		}
		created := srv.CreatedRunners()
		if len(created) != 1 || created[0].ProjectID != ids["team/api-gateway"] || strings.Join(created[0].Settings.Tags, ",") != "docker,linux" {
			t.Fatalf("created runners: %+v", created)
		}
		cfg, err := os.ReadFile(world.configPath)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(cfg), `token = "`+created[0].Token+`"`) || !regexp.MustCompile(`executor = "shell"`).Match(cfg) {
			t.Errorf("config.toml does not hold the created runner:\n%s", cfg)
		}
		testenv.CheckRunnerConfig(t, cfg)
		answers := savedAnswersPath(t, world)
		saved, _ := os.ReadFile(answers)
		for _, want := range []string{`api_token = "env:GITLAB_TOKEN"`, `project = "team/api-gateway"`} {
			if !strings.Contains(string(saved), want) {
				t.Errorf("saved answers lack %s:\n%s", want, saved)
			}
		}
		for what, secret := range map[string]string{"the API token": createToken, "the runner token": created[0].Token} {
			if strings.Contains(string(saved), secret) {
				t.Errorf("saved answers hold %s:\n%s", what, saved)
			}
			s.neverShown(what, secret)
		}

		// Replaying the saved answers verifies the runner and creates
		// nothing.
		cmd := exec.Command(runnerupBinary(t), "apply", "--answers", answers, "--config", world.configPath, "--docker-config", world.dockerDir)
		cmd.Env = append(os.Environ(), "GITLAB_TOKEN="+createToken, "HOME="+world.home)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "no changes") {
			t.Errorf("replaying the saved answers: %v\n%s", err, out)
		}
		if n := createRequests(srv); n != 1 {
			t.Errorf("the replay created a runner: %d POST /user/runners", n)
		}
	})
}

// TestWizardCreatePicker: the API token from GITLAB_TOKEN; the picker
// pages through 28 projects as the cursor reaches the end, narrows as the
// user types, switches to groups, and refuses an instance runner for a
// user who is no administrator.
func TestWizardCreatePicker(t *testing.T) {
	testenv.Need(t, true, "tmux")
	testenv.Isolate(t)
	eachSize(t, func(t *testing.T, w, h int) {
		cs, sc := startCreate(t, w, h, "GITLAB_TOKEN="+createToken)
		s := cs.tmuxSession
		if l := fieldValue(sc, "API token"); !strings.Contains(l, "the token in $GITLAB_TOKEN") {
			t.Errorf("the empty API token does not say it uses $GITLAB_TOKEN: %q", l)
		}
		s.expectFlat("@alice can create runners")
		s.key("Enter") // empty: the environment's
		s.focus("Where to create the runner")
		s.expect("20 shown · ↓ loads more")
		// Scrolling to the end of the first page loads the next.
		s.key("PgDn", "PgDn", "PgDn")
		sc = s.expectRE(`\d+ of 28`)
		if !strings.Contains(sc, "many/p") {
			t.Errorf("paging lost the list:\n%s", sc)
		}
		// Typing narrows the list, first among what is loaded, then by
		// GitLab's search.
		s.typ("p2")
		sc = s.waitFor("the list narrowed to p2*", func(sc string) bool {
			return strings.Contains(sc, "many/p21") && strings.Contains(sc, "1 of 5") && !strings.Contains(sc, "team/app")
		})
		if strings.Contains(sc, "many/p13") || strings.Contains(sc, "many/p02") {
			t.Errorf("the filter did not narrow the list:\n%s", sc)
		}
		// Groups: only the one alice owns.
		s.key("C-u", "Right")
		s.expect("[Groups]")
		s.waitFor("the groups", func(sc string) bool { return strings.Contains(sc, "> team") && strings.Contains(sc, "1 of 1") })
		// The instance: alice is no administrator.
		s.key("Right")
		s.expect("[Instance]")
		s.expectFlat("this token's user is not one")
		s.key("Enter")
		s.expectFlat("instance runners can only be created by an administrator")
		// Back to the group, chosen with Enter.
		s.key("Left")
		s.expect("> team")
		s.key("Enter")
		s.focus("Tags")
		s.neverShown("the API token", createToken)
	})
}

// TestWizardCreateTokenLacksScope: an API token without create_runner
// shows the field's ✗ with the reason while the user is on it.
func TestWizardCreateTokenLacksScope(t *testing.T) {
	testenv.Need(t, true, "tmux")
	testenv.Isolate(t)
	eachSize(t, func(t *testing.T, w, h int) {
		cs, _ := startCreate(t, w, h)
		s := cs.tmuxSession
		s.typ(readonlyToken)
		sc := s.expectRE(`✗ gitlab\.api-token`)
		if l := line(sc, "API token"); !strings.Contains(l, "✗") {
			t.Errorf("the API token field does not show its ✗: %q\n%s", l, sc)
		}
		s.expectFlat("without create_runner or api it cannot create runners")
		s.neverShown("the API token", readonlyToken)
	})
}

// TestWizardReviewPull (issue 13): the review offers the daemon's own pull
// as one key; P re-runs the image checks with pulls, whose results show,
// and the pulled images stay in the daemon's store.
func TestWizardReviewPull(t *testing.T) {
	lab := newLab(t)
	// The images are on the registry, not in the daemon: the pull is a
	// real one.
	for _, ref := range []string{lab.image, lab.service} {
		if _, _, err := lab.d.Docker(t, "", "image", "inspect", ref); err == nil {
			t.Fatalf("%s is in the daemon's store before the pull", ref)
		}
	}
	eachSize(t, func(t *testing.T, w, h int) {
		s := startWizard(t, w, h, newWorld(t, lab.d.Host))
		sc := goalWalk(s, lab)
		if !strings.Contains(flat(sc), "P pull images") {
			t.Errorf("the review's footer does not offer P:\n%s", sc)
		}
		if !strings.Contains(flat(sc), "the Docker daemon pulls every image now, as a job would (it downloads the layers; the images stay on this host)") {
			t.Errorf("the review does not say what P does:\n%s", sc)
		}
		s.key("P")
		s.waitFor("the pull under way", func(sc string) bool { return strings.Contains(sc, "checking") })
		s.checksDone()
		all := flat(s.review())
		for _, ref := range []string{lab.image, lab.service} {
			if !strings.Contains(all, "✓ image "+ref+": pulled by the daemon — the daemon pulled") {
				t.Errorf("no pull result for %s:\n%s", ref, all)
			}
			if _, stderr, err := lab.d.Docker(t, "", "image", "inspect", ref); err != nil {
				t.Errorf("the pulled image %s is not in the daemon's store: %v\n%s", ref, err, stderr)
			}
		}
		if !strings.Contains(all, "The image checks include the Docker daemon's own pull (image.<ref>.pull)") {
			t.Errorf("the review does not say the checks include the pull:\n%s", all)
		}
	})
}

// TestRegisterOpensWizard (issue 14 §2): `runnerup register` without
// --non-interactive in a terminal opens the wizard with the flags' values
// filled in; what the wizard does not ask (--limit) is written as given.
// Flags that only make sense headless are refused.
func TestRegisterOpensWizard(t *testing.T) {
	lab := newLab(t)
	eachSize(t, func(t *testing.T, w, h int) {
		world := newWorld(t, lab.d.Host)
		world.command = []string{"register", "--url", lab.gl.URL, "--token", lab.token, "--executor", "shell", "--limit", "3",
			"-c", world.configPath, "--docker-config", world.dockerDir, "--timeout", "3s"}
		s := startWizard(t, w, h, world)
		sc := s.focus("GitLab URL")
		if l := fieldValue(sc, "GitLab URL"); !strings.Contains(l, lab.gl.URL) {
			t.Errorf("the URL given with --url is not filled in: %q\n%s", l, sc)
		}
		s.key("Enter")
		s.hasToken()
		sc = s.focus("Runner token")
		if l := fieldValue(sc, "Runner token"); !strings.Contains(l, strings.Repeat("*", len(lab.token))) {
			t.Errorf("the token given with --token is not filled in (masked): %q", l)
		}
		s.key("Enter")
		sc = s.focus("Executor")
		if l := line(sc, "shell —"); !strings.Contains(l, "> shell") {
			t.Errorf("--executor shell is not the selection: %q\n%s", l, sc)
		}
		s.key("Enter")
		s.keyAt("Shell", "Enter")
		s.checksDone()
		writeAndSave(s)
		if code := s.waitExit(); !strings.Contains(code, "EXIT=0") {
			t.Fatalf("exit: %s\n%s", code, s.screen())
		}
		cfg, _ := os.ReadFile(world.configPath)
		for _, want := range []string{`executor = "shell"`, "limit = 3", `token = "` + lab.token + `"`} {
			if !strings.Contains(string(cfg), want) {
				t.Errorf("config.toml lacks %s:\n%s", want, cfg)
			}
		}
		testenv.CheckRunnerConfig(t, cfg)
		s.neverShown("the runner token", lab.token)
	})
	t.Run("headless flags", func(t *testing.T) {
		world := newWorld(t, lab.d.Host)
		world.command = []string{"register", "--url", lab.gl.URL, "--token", lab.token, "--executor", "shell", "--dry-run", "-c", world.configPath}
		s := startWizard(t, 80, 24, world)
		code := s.waitExit()
		if !strings.Contains(code, "EXIT=2") || !strings.Contains(flat(s.screen()), "--dry-run needs --non-interactive") {
			t.Errorf("register --dry-run on a terminal: %s\n%s", code, s.screen())
		}
	})
}
