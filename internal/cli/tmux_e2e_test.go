package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
	"github.com/runnerup/runnerup/internal/testenv"
)

// The wizard driven as a user drives it: the real binary in a real terminal
// (tmux), against the fake GitLab, a private dockerd and a real auth
// registry. Every test runs at 80×24 and 100×30 and asserts what the screen
// shows; the keys a test sends are counted, typed text is not.

// tmuxSizes are the terminal sizes every wizard test runs at.
var tmuxSizes = []struct{ w, h int }{{80, 24}, {100, 30}}

// eachSize runs fn once per terminal size, in parallel subtests.
func eachSize(t *testing.T, fn func(t *testing.T, w, h int)) {
	t.Helper()
	for _, sz := range tmuxSizes {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			t.Parallel()
			fn(t, sz.w, sz.h)
		})
	}
}

// tmuxSession drives the real binary in a real terminal.
type tmuxSession struct {
	t    *testing.T
	name string
	// nav are the navigation keys sent so far (typed text is not counted).
	nav []string
	// seen is every distinct screen captured, for secret greps.
	seen []string
}

// wizardWorld is one user's machine as the wizard sees it.
type wizardWorld struct {
	home, dir  string
	configPath string
	dockerDir  string
	dockerHost string
	noColor    bool
	args       []string
	env        []string
	// command, when set, replaces the wizard's command line (the words
	// after the binary), e.g. a `register …`.
	command []string
}

// newWorld makes a fresh home and target directory for one run.
func newWorld(t *testing.T, dockerHost string) *wizardWorld {
	t.Helper()
	home := t.TempDir()
	dir := t.TempDir()
	return &wizardWorld{
		home: home, dir: dir, dockerHost: dockerHost,
		configPath: filepath.Join(dir, "etc", "config.toml"),
		dockerDir:  filepath.Join(home, ".docker"),
	}
}

var tmuxSeq struct {
	sync.Mutex
	n int
}

// tmuxCmd runs tmux on this test process's own server (-L): sessions of
// other processes (other test runs on the machine) neither see nor stop
// it.
func tmuxCmd(args ...string) *exec.Cmd {
	return exec.Command("tmux", append([]string{"-L", fmt.Sprintf("runnerup-e2e-%d", os.Getpid())}, args...)...)
}

// startWizard runs `runnerup --config … --docker-config …` in a new tmux
// session of w×h and returns once it is started; the shell prints
// EXIT=<code> when the wizard ends.
func startWizard(t *testing.T, w, h int, world *wizardWorld) *tmuxSession {
	t.Helper()
	testenv.Need(t, true, "tmux")
	bin := runnerupBinary(t)
	tmuxSeq.Lock()
	defer tmuxSeq.Unlock()
	tmuxSeq.n++
	name := fmt.Sprintf("runnerup-e2e-%d-%d", os.Getpid(), tmuxSeq.n)
	env := []string{"HOME=" + world.home, "DOCKER_HOST=" + world.dockerHost, "TERM=xterm-256color"}
	if world.noColor {
		env = append(env, "NO_COLOR=1")
	}
	env = append(env, world.env...)
	args := append([]string{"--config", world.configPath, "--docker-config", world.dockerDir, "--timeout", "3s"}, world.args...)
	if world.command != nil {
		args = world.command
	}
	script := filepath.Join(world.dir, "run.sh")
	writeFile(t, script, fmt.Sprintf("#!/bin/sh\nunset NO_COLOR\nexport %s\n%s %s\necho \"EXIT=$?\"\nsleep 600\n",
		shellQuoteAll(env), bin, shellQuoteAll(args)), 0o755)
	// One session starts at a time (under tmuxSeq): two clients starting
	// the server at once make one fail ("server exited unexpectedly").
	// A server that is shutting down (its last session was just killed)
	// still answers on the socket and then fails the new session: start
	// again once it is gone.
	for try := 1; ; try++ {
		out, err := tmuxCmd("new-session", "-d", "-s", name, "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), "-c", world.dir, script).CombinedOutput()
		if err == nil {
			break
		}
		if try == 5 || !strings.Contains(string(out), "server exited unexpectedly") {
			t.Fatalf("tmux: %v %s", err, out)
		}
		for i := 0; i < 50 && tmuxCmd("list-sessions").Run() == nil; i++ {
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Cleanup(func() {
		tmuxSeq.Lock()
		defer tmuxSeq.Unlock()
		_ = tmuxCmd("kill-session", "-t", name).Run()
	})
	return &tmuxSession{t: t, name: name}
}

func shellQuoteAll(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}

func (s *tmuxSession) capture(args ...string) string {
	out, err := tmuxCmd(append([]string{"capture-pane", "-p", "-t", s.name}, args...)...).Output()
	if err != nil {
		s.t.Fatalf("tmux capture-pane: %v", err)
	}
	if n := len(s.seen); n == 0 || s.seen[n-1] != string(out) {
		s.seen = append(s.seen, string(out))
	}
	return string(out)
}

// neverShown fails when a screen captured so far held secret.
func (s *tmuxSession) neverShown(what, secret string) {
	s.t.Helper()
	s.capture("-J", "-S", "-500") // the scrollback after exit too
	for _, sc := range s.seen {
		if strings.Contains(sc, secret) {
			s.t.Errorf("%s shown on screen:\n%s", what, sc)
			return
		}
	}
}

// screen is the visible screen, one terminal row per line.
func (s *tmuxSession) screen() string { return s.capture() }

// joined is the screen and its history with lines the terminal wrapped
// joined again, as a copy from the terminal gives them.
func (s *tmuxSession) joined() string { return s.capture("-J", "-S", "-200") }

// flat is the screen with every run of white space (line ends included)
// made one space: a message wrapped on word boundaries reads whole.
func flat(screen string) string {
	var b strings.Builder
	for _, l := range strings.Split(screen, "\n") {
		// Drop the frame's padding and the focus border huh draws.
		l = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(l), "┃│"))
		b.WriteString(l + " ")
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// squeeze is the screen without white space and borders: a path wrapped
// over lines reads whole.
func squeeze(screen string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '┃' || r == '│' {
			return -1
		}
		return r
	}, screen)
}

// waitFor waits until cond holds for the screen, failing with what the
// screen shows instead.
func (s *tmuxSession) waitFor(what string, cond func(screen string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		screen := s.screen()
		if cond(screen) {
			return screen
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("screen never showed %s; it shows:\n%s", what, screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// expect waits until the screen shows text (white space as on screen).
func (s *tmuxSession) expect(text string) string {
	s.t.Helper()
	return s.waitFor(fmt.Sprintf("%q", text), func(sc string) bool { return strings.Contains(sc, text) })
}

// expectFlat waits until the screen, white space folded, holds text.
func (s *tmuxSession) expectFlat(text string) string {
	s.t.Helper()
	return s.waitFor(fmt.Sprintf("%q (wrapped)", text), func(sc string) bool { return strings.Contains(flat(sc), text) })
}

// expectRE waits until a line of the screen matches re.
func (s *tmuxSession) expectRE(re string) string {
	s.t.Helper()
	rx := regexp.MustCompile(re)
	return s.waitFor("a line matching "+re, func(sc string) bool {
		for _, l := range strings.Split(sc, "\n") {
			if rx.MatchString(l) {
				return true
			}
		}
		return false
	})
}

// focus waits until the field titled title has the focus: huh draws the
// focused field with a thick left border, whose first line is the title
// (a later one may be help that names another field): keys typed before
// that would land in the field before it.
func (s *tmuxSession) focus(title string) string {
	s.t.Helper()
	return s.waitFor(fmt.Sprintf("%q in focus", title), func(sc string) bool {
		for _, l := range strings.Split(sc, "\n") {
			if strings.Contains(l, "┃") {
				return strings.Contains(l, title)
			}
		}
		return false
	})
}

// keyAt sends keys once the field titled title has the focus: a key sent
// while the previous field still has it (huh moves the focus with a
// message of its own, after the key) would land there.
func (s *tmuxSession) keyAt(title string, keys ...string) {
	s.t.Helper()
	s.focus(title)
	s.key(keys...)
}

// reviewPosRE is the review's scroll position ("lines 20–38 of 75").
var reviewPosRE = regexp.MustCompile(`lines (\d+)–(\d+) of (\d+)`)

// reviewPos reads the review's scroll position from a screen.
func reviewPos(screen string) (first, last, total int, ok bool) {
	m := reviewPosRE.FindStringSubmatch(screen)
	if m == nil {
		return 0, 0, 0, false
	}
	fmt.Sscan(m[1], &first)
	fmt.Sscan(m[2], &last)
	fmt.Sscan(m[3], &total)
	return first, last, total, true
}

// review returns the whole review, paging through it with PgDn from the
// top (keys not counted: they only look). Each page is read once the
// review says it scrolled there, never after a guessed delay.
func (s *tmuxSession) review() string {
	s.t.Helper()
	atTop := func(sc string) bool { f, _, _, ok := reviewPos(sc); return ok && f == 1 }
	s.tmux("send-keys", "-t", s.name, "Home")
	sc := s.waitFor("the review at its top", atTop)
	var b strings.Builder
	for i := 0; i < 60; i++ {
		b.WriteString(sc)
		first, last, total, _ := reviewPos(sc)
		if last >= total {
			break
		}
		s.tmux("send-keys", "-t", s.name, "NPage")
		sc = s.waitFor("the review one page down", func(sc string) bool {
			f, _, _, ok := reviewPos(sc)
			return ok && f > first
		})
	}
	s.tmux("send-keys", "-t", s.name, "Home")
	s.waitFor("the review back at its top", atTop)
	return b.String()
}

// answer types text into the field titled title once it has the focus,
// and moves on with Enter.
func (s *tmuxSession) answer(title, text string) {
	s.t.Helper()
	s.focus(title)
	s.typ(text)
	s.key("Enter")
}

// toServices answers GitLab (the lab's URL and token), keeps the docker
// executor and gives image, up to the services list.
func (s *tmuxSession) toServices(lab *e2eLab, image string) {
	s.t.Helper()
	s.answer("GitLab URL", lab.gl.URL)
	s.afterURL(lab, image)
}

// hasToken answers "Do you have a runner token?" with Yes (the default).
func (s *tmuxSession) hasToken() {
	s.t.Helper()
	s.keyAt(hasTokenTitle, "Enter")
}

// hasTokenTitle is the GitLab step's question after the URL.
const hasTokenTitle = "Do you have a runner token?"

// afterURL is toServices once the URL is answered.
func (s *tmuxSession) afterURL(lab *e2eLab, image string) {
	s.t.Helper()
	s.hasToken()
	s.answer("Runner token", lab.token)
	s.keyAt("Executor", "Enter")
	s.answer("Default image", image)
	s.expect("Add a service")
}

// key sends navigation keys (tmux key names: Enter, Down, C-u, or a
// letter that is a command such as "a" or "w"); each one is counted.
func (s *tmuxSession) key(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		s.nav = append(s.nav, k)
		s.tmux("send-keys", "-t", s.name, k)
	}
}

// typ types literal text (a value: URL, token, image); not counted.
func (s *tmuxSession) typ(text string) {
	s.t.Helper()
	s.tmux("send-keys", "-t", s.name, "-l", text)
}

// tmux runs a tmux command. It does not wait for the program: a test
// waits for the screen state a key is meant for (focus, keyAt, expect of
// text the previous screen did not show) before sending it.
func (s *tmuxSession) tmux(args ...string) {
	s.t.Helper()
	if out, err := tmuxCmd(args...).CombinedOutput(); err != nil {
		s.t.Fatalf("tmux %v: %v %s", args, err, out)
	}
}

// fieldValue is the input line ("> …") of the field titled title.
func fieldValue(screen, title string) string {
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		if !strings.Contains(l, title) {
			continue
		}
		for _, v := range lines[i+1:] {
			if strings.Contains(v, "> ") {
				return v
			}
		}
	}
	return ""
}

// toRegistries leaves the services list for the registry step; with
// checked, once the registry's own check has answered (the method the
// wizard suggests comes from it).
func (s *tmuxSession) toRegistries(lab *e2eLab, checked bool) {
	s.t.Helper()
	s.expect("Continue →")
	if checked {
		s.checksSettled()
	}
	s.key("n")
	s.expect("Registry 1 of 1")
}

// line is the first screen line containing text ("" if none).
func line(screen, text string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, text) {
			return l
		}
	}
	return ""
}

// waitExit waits for the wizard to end and returns its exit code line.
func (s *tmuxSession) waitExit() string {
	s.t.Helper()
	sc := s.expect("EXIT=")
	return line(sc, "EXIT=")
}

// ---- the shared set-up ----

// e2eLab is the world outside the wizard: GitLab, a daemon, a registry
// with basic auth and two images on it.
type e2eLab struct {
	gl             *fakegitlab.Server
	d              *testenv.Dockerd
	reg            *testenv.Registry
	image, service string
	token          string
}

func newLab(t *testing.T) *e2eLab {
	t.Helper()
	testenv.Need(t, true, "tmux")
	testenv.Isolate(t)
	d := testenv.StartDockerd(t, testenv.DockerdOptions{})
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{Auth: true, Password: "tmux-reg-pass-Q7"})
	lab := &e2eLab{
		gl: fakegitlab.New(t), d: d, reg: reg,
		image:   reg.PushImage(t, d, "ci/app", "1"),
		service: reg.PushImage(t, d, "ci/db", "16"),
		token:   "glrt-TMUXTMUXTMUXTMUXTM42",
	}
	lab.gl.AddRunner(lab.token, 77)
	return lab
}

// checksSettled waits until the live checks under a form have finished.
// Answers that changed show "checking…" from the moment they change (the
// debounce before the run included), so a screen without it, reached after
// the key that changed them, is the verdict on them.
func (s *tmuxSession) checksSettled() {
	s.t.Helper()
	s.waitFor("the checks finished", func(sc string) bool {
		return regexp.MustCompile(`Checks\s+\d+ ✗`).MatchString(sc) && !strings.Contains(sc, "checking")
	})
}

// checksDone waits until the review's checks have all finished.
func (s *tmuxSession) checksDone() string {
	s.t.Helper()
	return s.waitFor("the review with every check finished", func(sc string) bool {
		return strings.Contains(sc, "[Review]") && strings.Contains(sc, "w write") &&
			regexp.MustCompile(`Checks\s+\d+ ✗`).MatchString(sc) && !strings.Contains(sc, "checking")
	})
}

// goalWalk is the common case: a docker runner, its image and one service
// (with an alias) from a private registry with basic auth, every other
// setting left as it is. It stops on the review once the checks are done.
func goalWalk(s *tmuxSession, lab *e2eLab) string {
	s.t.Helper()
	return goalWalkWith(s, lab, lab.service)
}

// goalWalkWith is goalWalk with another service image.
func goalWalkWith(s *tmuxSession, lab *e2eLab, service string) string {
	s.t.Helper()
	s.toServices(lab, lab.image)
	s.key("a")
	s.answer("Service image", service)
	s.answer("Alias", "db")
	s.expect("Continue →")
	// The registry's check decides the suggested method: wait for it.
	s.checksSettled()
	s.key("Enter")
	s.expect("Registry 1 of 1: " + lab.reg.Host)
	s.expectRE(`> basic`)
	s.keyAt("Authentication", "Enter")
	s.answer("Username", lab.reg.Username)
	s.answer("Password or token", lab.reg.Password)
	return s.checksDone()
}

// writeAndSave writes from the review and saves the answers file at the
// offered path, then leaves the done screen.
func writeAndSave(s *tmuxSession) (saveScreen, doneScreen string) {
	s.t.Helper()
	s.key("w")
	saveScreen = s.focus("Save the answers")
	s.key("Enter")
	doneScreen = s.expect("Next steps")
	s.key("Enter")
	return saveScreen, doneScreen
}

// ---- the goal walk (issue 16: ≤ 15 navigation keys) and item 11 ----

// TestWizardGoalWalk completes the common case in the real binary and
// counts the navigation keys: the docker runner, one private registry with
// basic auth, one service with an alias. The written config.json lets
// `docker pull` succeed, and `runnerup apply` of the saved answers gives
// byte-identical files. Settings behind "Advanced" show on the review.
func TestWizardGoalWalk(t *testing.T) {
	lab := newLab(t)
	eachSize(t, func(t *testing.T, w, h int) {
		world := newWorld(t, lab.d.Host)
		s := startWizard(t, w, h, world)
		footer := s.expect("GitLab URL")
		for _, hint := range []string{"ctrl+u clear", "esc back", "ctrl+o advanced"} {
			if !strings.Contains(footer, hint) {
				t.Errorf("the footer does not hint %q:\n%s", hint, footer)
			}
		}
		review := goalWalk(s, lab)
		t.Logf("review at %dx%d:\n%s", w, h, review)
		// The settings the walk never showed are on the review.
		all := s.review()
		for _, k := range []string{"Settings", "runner name", "privileged", "volumes", "pull policy", "concurrent"} {
			if !strings.Contains(all, k) {
				t.Errorf("the review does not list the hidden setting %q:\n%s", k, all)
			}
		}
		_, done := writeAndSave(s)
		t.Logf("done at %dx%d:\n%s", w, h, done)
		if code := s.waitExit(); !strings.Contains(code, "EXIT=0") {
			t.Fatalf("the wizard did not exit 0: %s\n%s", code, s.screen())
		}
		keys := s.nav
		t.Logf("navigation keys at %dx%d (%d): %s", w, h, len(keys), strings.Join(keys, " "))
		if len(keys) > 15 {
			t.Errorf("the goal walk took %d navigation keys, want ≤ 15: %s", len(keys), strings.Join(keys, " "))
		}
		checkWrittenFiles(t, lab, world)
	})
}

// checkWrittenFiles: the wizard's config.json pulls both images with the
// real docker CLI, config.toml loads in GitLab Runner's own loader, and the
// saved answers (no secret in clear, 0600) replay to the same files.
func checkWrittenFiles(t *testing.T, lab *e2eLab, world *wizardWorld) {
	t.Helper()
	for _, ref := range []string{lab.image, lab.service} {
		if _, stderr, err := lab.d.Docker(t, world.dockerDir, "pull", ref); err != nil {
			t.Fatalf("docker pull %s with the wizard's config.json: %v\n%s", ref, err, stderr)
		}
	}
	wizardTOML, err := os.ReadFile(world.configPath)
	if err != nil {
		t.Fatal(err)
	}
	testenv.CheckRunnerConfig(t, wizardTOML)
	answersPath := savedAnswersPath(t, world)
	saved, err := os.ReadFile(answersPath)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(answersPath); st.Mode().Perm() != 0o600 {
		t.Errorf("answers file mode %04o", st.Mode().Perm())
	}
	for _, secret := range []string{lab.token, lab.reg.Password} {
		if strings.Contains(string(saved), secret) {
			t.Errorf("saved answers hold a secret in clear:\n%s", saved)
		}
	}
	bin := runnerupBinary(t)
	replayEnv := append(os.Environ(), "RUNNER_TOKEN="+lab.token, "DOCKER_HOST="+lab.d.Host, "HOME="+world.home)
	for _, l := range strings.Split(string(saved), "\n") {
		if names, ok := strings.CutPrefix(l, "# set first: "); ok {
			for _, n := range strings.Split(names, ", ") {
				if strings.HasPrefix(n, "REGISTRY_PASSWORD") {
					replayEnv = append(replayEnv, n+"="+lab.reg.Password)
				}
			}
		}
	}
	apply := func(args ...string) string {
		cmd := exec.Command(bin, append([]string{"apply", "--answers", answersPath}, args...)...)
		cmd.Env = replayEnv
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("runnerup apply %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := apply("--config", world.configPath, "--docker-config", world.dockerDir); !strings.Contains(out, "no changes") {
		t.Errorf("replaying the saved answers onto the wizard's files changed them:\n%s", out)
	}
	fresh := t.TempDir()
	apply("--config", filepath.Join(fresh, "config.toml"), "--docker-config", filepath.Join(fresh, "docker"))
	headlessTOML, _ := os.ReadFile(filepath.Join(fresh, "config.toml"))
	if maskObtained(headlessTOML) != maskObtained(wizardTOML) {
		t.Errorf("wizard and headless apply differ:\n%s", Diff2(wizardTOML, headlessTOML))
	}
	wizardJSON, _ := os.ReadFile(filepath.Join(world.dockerDir, "config.json"))
	headlessJSON, _ := os.ReadFile(filepath.Join(fresh, "docker", "config.json"))
	if string(wizardJSON) != string(headlessJSON) {
		t.Errorf("config.json differs between wizard and apply")
	}
}

// savedAnswersPath is where the wizard offers to save answers: beside
// nothing the user has to clean up (~/.config/runnerup).
func savedAnswersPath(t *testing.T, world *wizardWorld) string {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(world.home, ".config", "runnerup", "*.toml"))
	if len(matches) != 1 {
		t.Fatalf("saved answers under %s/.config/runnerup: %q", world.home, matches)
	}
	return matches[0]
}

// TestWizardAdvancedToggle (item 11): ctrl+o shows a step's settings most
// users keep; what is chosen there shows on the review.
func TestWizardAdvancedToggle(t *testing.T) {
	lab := newLab(t)
	eachSize(t, func(t *testing.T, w, h int) {
		world := newWorld(t, lab.d.Host)
		s := startWizard(t, w, h, world)
		s.answer("GitLab URL", lab.gl.URL)
		s.hasToken()
		s.answer("Runner token", lab.token)
		sc := s.focus("Executor")
		if strings.Contains(sc, "Privileged containers") {
			t.Fatalf("the executor step shows its advanced settings before ctrl+o:\n%s", sc)
		}
		s.key("C-o")
		s.expect("▾ Advanced")
		s.key("Enter")
		s.answer("Default image", lab.image)
		s.keyAt("Privileged containers", "Down", "Down") // privileged
		s.key("Enter")
		s.keyAt("Volumes", "Enter")
		s.keyAt("Pull policy", "Enter")
		s.keyAt("Concurrent jobs", "Enter")
		s.expect("Add a service")
		s.toRegistries(lab, true)
		s.key("Escape")
		s.expect("Continue →")
		s.key("Escape")
		// Back on the executor step the toggle is still on; off again, the
		// line under the form says what the hidden settings are.
		s.expect("▾ Advanced")
		s.keyAt("Executor", "C-o")
		s.expectRE(`▸ Advanced \(ctrl\+o\): privileged on`)
		s.key("Enter")
		s.keyAt("Default image", "Enter")
		s.expect("Continue →")
		s.key("n")
		s.expect("Registry 1 of 1")
		s.expectRE(`> basic`)
		s.keyAt("Authentication", "Enter")
		s.answer("Username", lab.reg.Username)
		s.answer("Password or token", lab.reg.Password)
		s.checksDone()
		if got := s.review(); !regexp.MustCompile(`privileged\s+on`).MatchString(got) {
			t.Errorf("the review does not show privileged on, chosen behind Advanced:\n%s", got)
		}
	})
}

// ---- item 1: failures are never hidden while answering ----

func TestWizardFailuresShowFirst(t *testing.T) {
	lab := newLab(t)
	countRE := `\d+ ✗ · (\d+ ! · )?\d+ ✓`
	t.Run("refused", func(t *testing.T) {
		eachSize(t, func(t *testing.T, w, h int) {
			s := startWizard(t, w, h, newWorld(t, lab.d.Host))
			s.answer("GitLab URL", "http://127.0.0.1:1")
			s.focus(hasTokenTitle)
			sc := s.expectRE(`✗ gitlab\.tcp`)
			if !regexp.MustCompile(countRE).MatchString(sc) {
				t.Errorf("no count of failures, warnings and passes:\n%s", sc)
			}
			if l := line(sc, "GitLab URL"); !strings.Contains(l, "✗") {
				t.Errorf("the URL field does not show its ✗: %q\n%s", l, sc)
			}
		})
	})
	t.Run("revoked token", func(t *testing.T) {
		eachSize(t, func(t *testing.T, w, h int) {
			s := startWizard(t, w, h, newWorld(t, lab.d.Host))
			s.answer("GitLab URL", lab.gl.URL)
			s.hasToken()
			s.focus("Runner token")
			s.typ("glrt-REVOKEDREVOKEDREVOKED1")
			sc := s.expectRE(`✗ gitlab\.token`)
			if !regexp.MustCompile(countRE).MatchString(sc) {
				t.Errorf("no count of failures, warnings and passes:\n%s", sc)
			}
			if l := line(sc, "Runner token"); !strings.Contains(l, "✗") {
				t.Errorf("the token field does not show its ✗: %q\n%s", l, sc)
			}
			// On the next step the failure is still the first thing shown.
			s.key("Enter")
			s.focus("Executor")
			s.expectRE(`✗ gitlab\.token`)
		})
	})
}

// ---- item 2: placeholders are examples, values are values ----

func TestWizardPlaceholdersAreExamples(t *testing.T) {
	lab := newLab(t)
	eachSize(t, func(t *testing.T, w, h int) {
		world := newWorld(t, lab.d.Host)
		// An existing file: its concurrent is what the field shows.
		writeFile(t, world.configPath, "concurrent = 3\n", 0o600)
		s := startWizard(t, w, h, world)
		sc := s.focus("GitLab URL")
		if l := fieldValue(sc, "GitLab URL"); !strings.Contains(l, "e.g. https://gitlab.example.com") {
			t.Errorf("the URL field's example does not read as one: %q", l)
		}
		s.typ(lab.gl.URL)
		s.key("Enter")
		s.hasToken()
		s.answer("Runner token", lab.token)
		s.keyAt("Executor", "C-o")
		s.expect("▾ Advanced")
		s.key("Enter")
		sc = s.focus("Default image")
		if l := fieldValue(sc, "Default image"); !strings.Contains(l, "e.g. alpine:3.20") {
			t.Errorf("the image field's example does not read as one: %q\n%s", l, sc)
		}
		s.key("Enter")
		s.expectFlat("Image is empty")
		s.typ(lab.image)
		s.key("Enter")
		s.keyAt("Privileged containers", "Enter")
		sc = s.focus("Volumes")
		if l := fieldValue(sc, "Volumes"); !strings.Contains(l, "> /cache") || strings.Contains(l, "e.g.") {
			t.Errorf("volumes does not show the /cache a new runner gets as a value: %q", l)
		}
		s.key("Enter")
		s.keyAt("Pull policy", "Enter")
		sc = s.focus("Concurrent jobs")
		if l := fieldValue(sc, "Concurrent jobs"); !regexp.MustCompile(`> 3\s*$`).MatchString(strings.TrimRight(l, " ")) {
			t.Errorf("concurrent does not show the file's value 3: %q\n%s", l, sc)
		}
		s.key("Enter")
		s.expect("Add a service")
		s.key("a")
		s.answer("Service image", lab.service)
		sc = s.focus("Alias")
		if l := fieldValue(sc, "Alias"); !strings.Contains(l, "e.g. db") {
			t.Errorf("the alias example does not read as one: %q\n%s", l, sc)
		}
		s.key("Enter")
		sc = s.expect("Continue →")
		if l := line(sc, "ci/db:16"); strings.Contains(l, "alias") {
			t.Errorf("Enter on an empty alias gave one: %q", l)
		}
		s.checksSettled()
		s.key("Enter")
		s.expect("Registry 1 of 1")
		s.expectRE(`> basic`)
		s.keyAt("Authentication", "Enter")
		s.answer("Username", lab.reg.Username)
		s.answer("Password or token", lab.reg.Password)
		s.checksDone()
		writeAndSave(s)
		s.waitExit()
		// The shown value is the written one.
		got, _ := os.ReadFile(world.configPath)
		if !regexp.MustCompile(`(?m)^concurrent = 3$`).Match(got) {
			t.Errorf("config.toml does not keep concurrent = 3:\n%s", got)
		}
	})
}

// ---- item 3: every selection shows without colour ----

func TestWizardNoColorMarkers(t *testing.T) {
	lab := newLab(t)
	const regToken = "GR1348941TMUXREGISTRATION01"
	lab.gl.AddRegistrationToken(regToken)
	eachSize(t, func(t *testing.T, w, h int) {
		world := newWorld(t, lab.d.Host)
		world.noColor = true
		s := startWizard(t, w, h, world)
		sc := s.focus("GitLab URL")
		if !strings.Contains(line(sc, "runnerup"), "[GitLab]") {
			t.Errorf("the breadcrumb does not mark the current step: %q", line(sc, "runnerup"))
		}
		s.typ(lab.gl.URL)
		s.key("Enter")
		wantMark(t, s.focus(hasTokenTitle), "    No", "[Yes]", "Yes/No") // the buttons' line; the help says "Yes: …"
		s.key("Enter")
		s.answer("Runner token", regToken)
		s.keyAt("Description", "Enter")
		s.keyAt("Tags", "Enter")
		sc = s.focus("Run untagged jobs?")
		if l := line(sc, "Yes"); !strings.Contains(l, "[No]") || strings.Contains(l, "[Yes]") {
			t.Errorf("Yes/No shows no selection without colour: %q\n%s", l, sc)
		}
		s.key("Left") // Yes
		s.expect("[Yes]")
		s.key("Enter")
		wantMark(t, s.focus("Lock to the current project?"), "Yes", "[Yes]", "Yes/No")
		s.key("Enter")
		// The select the user just left keeps its mark; the one in focus has it.
		wantMark(t, s.focus("Access level"), "not_protected —", "> not_protected", "the select in focus")
		s.key("Down", "Enter")
		wantMark(t, s.focus("Maintenance note"), "ref_protected —", "> ref_protected", "a select out of focus")
		s.key("Enter")
		sc = s.focus("Executor")
		wantMark(t, sc, "docker — jobs run in Docker", "> docker", "the executor select")
		if !strings.Contains(line(sc, "runnerup"), "[Executor]") {
			t.Errorf("the breadcrumb does not mark the current step: %q", line(sc, "runnerup"))
		}
		// On to the review: its key hints read without colour, each key
		// next to what it does, and the step is marked.
		s.key("Enter")
		s.answer("Default image", lab.image)
		s.expect("Add a service")
		s.toRegistries(lab, true)
		wantMark(t, s.expectRE(`> basic`), "basic —", "> basic", "the suggested method")
		s.keyAt("Authentication", "Enter")
		s.answer("Username", lab.reg.Username)
		s.answer("Password or token", lab.reg.Password)
		sc = s.checksDone()
		if !strings.Contains(line(sc, "runnerup"), "[Review]") {
			t.Errorf("the breadcrumb does not mark the review: %q", line(sc, "runnerup"))
		}
		footer := footerOf(sc)
		for _, hint := range []string{"PgUp PgDn Home End scroll", "w write", "p paths", "r recheck", "esc back"} {
			if !strings.Contains(flat(footer), hint) {
				t.Errorf("the review's footer does not read %q without colour: %q", hint, footer)
			}
		}
	})
}

// wantMark checks that the screen line holding text also holds mark, a
// selection marker that needs no colour.
func wantMark(t *testing.T, screen, text, mark, what string) {
	t.Helper()
	if l := line(screen, text); !strings.Contains(l, mark) {
		t.Errorf("%s shows no selection without colour: %q\n%s", what, l, screen)
	}
}

// ---- item 4: nothing is cut: errors wrap, commands stay whole ----

func TestWizardTextIsNeverCut(t *testing.T) {
	lab := newLab(t)
	eachSize(t, func(t *testing.T, w, h int) {
		world := newWorld(t, lab.d.Host)
		s := startWizard(t, w, h, world)
		s.answer("GitLab URL", "ftp://gitlab.example.com")
		// The whole message, wrapped on word boundaries, fix included.
		s.expectFlat(`GitLab URL has scheme "ftp"; GitLab Runner accepts only http and https; use the instance's base URL, e.g. https://gitlab.example.com`)
		s.key("C-u")
		s.typ(lab.gl.URL)
		s.key("Enter")
		s.afterURL(lab, lab.image)
		s.toRegistries(lab, true)
		s.expectRE(`> basic`)
		s.keyAt("Authentication", "Enter")
		s.answer("Username", lab.reg.Username)
		s.focus("Password or token")
		s.typ("wrong-password")
		// The check's detail reads to its reason.
		s.expectFlat("rejected: GET /v2/")
		s.key("C-u")
		s.answer("Password or token", lab.reg.Password)
		s.checksDone()
		writeAndSave(s)
		if code := s.waitExit(); !strings.Contains(code, "EXIT=0") {
			t.Fatalf("exit: %s", code)
		}
		// Every command of the next steps is one line, whole, to copy.
		out := s.joined()
		for _, cmd := range []string{
			"sudo gitlab-runner install --user gitlab-runner --working-directory /home/gitlab-runner --config " + world.configPath + " && sudo gitlab-runner start",
			"runnerup apply --answers " + savedAnswersPath(t, world),
		} {
			found := false
			for _, l := range strings.Split(out, "\n") {
				if strings.TrimSpace(l) == cmd {
					found = true
				}
			}
			if !found {
				t.Errorf("no line holds just the command %q:\n%s", cmd, out)
			}
		}
	})
}

// ---- item 5: registry auth suggested from what the registry said ----

func TestWizardRegistryAuthSuggested(t *testing.T) {
	lab := newLab(t)
	t.Run("basic challenge", func(t *testing.T) {
		eachSize(t, func(t *testing.T, w, h int) {
			s := startWizard(t, w, h, newWorld(t, lab.d.Host))
			toRegistryStep(s, lab)
			sc := s.expect("Registry 1 of 1: " + lab.reg.Host)
			if l := line(sc, "username and password"); !strings.Contains(l, "> basic") {
				t.Errorf("basic is not pre-selected after the registry asked for Basic auth: %q\n%s", l, sc)
			}
			s.expectFlat("401")
		})
	})
	t.Run("credential helper", func(t *testing.T) {
		eachSize(t, func(t *testing.T, w, h int) {
			world := newWorld(t, lab.d.Host)
			writeFile(t, filepath.Join(world.dockerDir, "config.json"), `{"credHelpers": {"`+lab.reg.Host+`": "tmuxhelper"}}`, 0o600)
			s := startWizard(t, w, h, world)
			toRegistryStep(s, lab)
			sc := s.expect("Registry 1 of 1: " + lab.reg.Host)
			if l := line(sc, "a docker-credential-<name> helper"); !strings.Contains(l, "> cred-helper") {
				t.Errorf("cred-helper is not pre-selected for a host with a credHelpers entry: %q\n%s", l, sc)
			}
			s.expectFlat("credHelpers")
			s.keyAt("Authentication", "Enter")
			sc = s.focus("Helper name")
			if l := fieldValue(sc, "Helper name"); !strings.Contains(l, "tmuxhelper") {
				t.Errorf("the helper configured for the host is not the value: %q", l)
			}
		})
	})
}

// toRegistryStep answers GitLab, executor and image, then waits for the
// registry's check before entering the registry step.
func toRegistryStep(s *tmuxSession, lab *e2eLab) {
	s.t.Helper()
	s.toServices(lab, lab.image)
	s.checksSettled()
	s.key("n")
}

// ---- item 6: answers of steps that no longer apply are left out ----

func TestWizardHiddenStepsPruned(t *testing.T) {
	lab := newLab(t)
	eachSize(t, func(t *testing.T, w, h int) {
		world := newWorld(t, lab.d.Host)
		s := startWizard(t, w, h, world)
		goalWalk(s, lab)
		planned := regexp.MustCompile(`config\.json\s+\S+config\.json\s+\(new file\)`)
		if review := s.review(); !planned.MatchString(review) {
			t.Fatalf("the docker walk plans no config.json:\n%s", review)
		}
		// Back to the executor and switch to shell.
		s.key("Escape")
		s.expect("Registry 1 of 1")
		s.key("Escape")
		s.expect("Continue →")
		s.key("Escape")
		s.keyAt("Executor", "Home", "Enter")
		s.keyAt("Shell", "Enter")
		s.checksDone()
		all := s.review()
		if planned.MatchString(all) || !strings.Contains(all, "not written") {
			t.Errorf("config.json is still planned for the shell executor:\n%s", all)
		}
		if strings.Contains(all, "[[registries]]") {
			t.Errorf("the answers file keeps the registry the shell executor cannot use:\n%s", all)
		}
		if !strings.Contains(flat(all), "Left out") {
			t.Errorf("the review does not say what was left out:\n%s", all)
		}
		writeAndSave(s)
		s.waitExit()
		if _, err := os.Stat(filepath.Join(world.dockerDir, "config.json")); err == nil {
			t.Errorf("config.json written for the shell executor")
		}
		saved, _ := os.ReadFile(savedAnswersPath(t, world))
		if strings.Contains(string(saved), "registries") || strings.Contains(string(saved), "[docker]") {
			t.Errorf("saved answers keep the docker steps' answers:\n%s", saved)
		}
	})
}

// ---- item 7: the review starts with what failed ----

func TestWizardReviewFailuresOnTop(t *testing.T) {
	lab := newLab(t)
	eachSize(t, func(t *testing.T, w, h int) {
		s := startWizard(t, w, h, newWorld(t, lab.d.Host))
		missing := lab.reg.Host + "/ci/missing:1"
		s.toServices(lab, missing)
		s.toRegistries(lab, true)
		s.expectRE(`> basic`)
		s.keyAt("Authentication", "Enter")
		s.answer("Username", lab.reg.Username)
		s.answer("Password or token", lab.reg.Password)
		sc := s.checksDone()
		// The first lines say what failed, with the check id and reason.
		top := strings.Join(strings.Split(sc, "\n")[:6], "\n")
		if !regexp.MustCompile(`1 ✗`).MatchString(top) {
			t.Errorf("the review's top does not count the failure:\n%s", sc)
		}
		id := "image." + missing + ".manifest"
		if !strings.Contains(flat(sc), "✗ "+id) || !strings.Contains(flat(sc), "not found") {
			t.Errorf("the ✗ line does not show its id and reason without scrolling:\n%s", sc)
		}
		footer := line(sc, "write")
		for _, k := range []string{"PgUp", "PgDn", "Home", "End"} {
			if !strings.Contains(footer, k) {
				t.Errorf("the footer does not advertise %s: %q", k, footer)
			}
		}
		// Scrolled down, left and entered again: it opens at the top.
		s.key("PPage") // nothing above: stays
		s.key("NPage", "NPage")
		s.waitFor("the review scrolled", func(sc string) bool { return !regexp.MustCompile(`1 ✗`).MatchString(sc) })
		s.key("Escape")
		s.expect("Registry 1 of 1")
		s.keyAt("Authentication", "Enter")
		s.keyAt("Username", "Enter")
		s.keyAt("Password or token", "Enter")
		s.expect("[Review]")
		s.expectRE(`1 ✗`)
	})
}

// ---- item 8: messages that say the right thing ----

func TestWizardMessages(t *testing.T) {
	lab := newLab(t)
	eachSize(t, func(t *testing.T, w, h int) {
		world := newWorld(t, lab.d.Host)
		world.dockerDir = filepath.Join(world.dir, "custom-docker")
		s := startWizard(t, w, h, world)
		s.answer("GitLab URL", "gitlab example.com")
		sc := s.expectFlat("space")
		if strings.Contains(flat(sc), "https://gitlab example.com") {
			t.Errorf("the fix for a URL with a space keeps the space:\n%s", sc)
		}
		s.key("C-u")
		s.typ(lab.gl.URL)
		s.key("Enter")
		s.afterURL(lab, lab.image)
		s.toRegistries(lab, true)
		s.expectRE(`> basic`)
		s.keyAt("Authentication", "C-o")
		s.expect("▾ Advanced")
		s.key("Enter")
		s.answer("Username", lab.reg.Username)
		s.focus("Password or token")
		s.typ("wrong-password")
		sc = s.expectFlat("the password you entered")
		if strings.Contains(flat(sc), "secret in "+world.dockerDir) {
			t.Errorf("the hint points at a config.json that does not exist yet:\n%s", sc)
		}
		s.key("C-u")
		s.answer("Password or token", lab.reg.Password)
		sc = s.focus("Where the credentials go")
		if l := line(sc, "docker-config —"); !strings.Contains(flat(sc), world.dockerDir) || strings.Contains(l, "$HOME/.docker") {
			t.Errorf("the docker-config option does not name %s: %q", world.dockerDir, l)
		}
		s.key("Enter")
		s.checksDone()
		s.key("w")
		s.keyAt("Save the answers", "Right", "Enter") // No
		sc = s.expect("Next steps")
		if strings.Contains(flat(sc), "saved answers") {
			t.Errorf("next steps mention saved answers the user declined:\n%s", sc)
		}
		s.key("Enter")
		s.waitExit()
		if strings.Contains(flat(s.joined()), "saved answers") {
			t.Errorf("the printed next steps mention saved answers the user declined:\n%s", s.joined())
		}
	})
}

// ---- item 9: no lock files left beside the runner's files ----

func TestWizardLeavesNoLockFiles(t *testing.T) {
	lab := newLab(t)
	eachSize(t, func(t *testing.T, w, h int) {
		world := newWorld(t, lab.d.Host)
		s := startWizard(t, w, h, world)
		goalWalk(s, lab)
		writeAndSave(s)
		s.waitExit()
		for _, dir := range []string{filepath.Dir(world.configPath), world.dockerDir, filepath.Join(world.home, ".config", "runnerup")} {
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
				if strings.HasSuffix(e.Name(), ".lock") {
					t.Errorf("lock file left behind: %s", filepath.Join(dir, e.Name()))
				}
			}
			t.Logf("ls %s: %s", dir, strings.Join(names, "  "))
		}
	})
}

// ---- item 10: the answers file goes where it belongs, said up front ----

func TestWizardSavesAnswersBesideConfig(t *testing.T) {
	lab := newLab(t)
	eachSize(t, func(t *testing.T, w, h int) {
		world := newWorld(t, lab.d.Host)
		s := startWizard(t, w, h, world)
		goalWalk(s, lab)
		s.key("w")
		sc := s.focus("Save the answers")
		want := filepath.Join(world.home, ".config", "runnerup") + "/"
		if !strings.Contains(squeeze(sc), want) {
			t.Errorf("the save question does not show the path under %s:\n%s", want, sc)
		}
		s.key("Enter")
		s.expect("Next steps")
		s.key("Enter")
		s.waitExit()
		savedAnswersPath(t, world)
		if _, err := os.Stat(filepath.Join(world.dir, "runnerup-answers.toml")); err == nil {
			t.Errorf("answers saved in the current directory")
		}
	})
}

func maskObtained(b []byte) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "token_obtained_at") {
			l = "  token_obtained_at = <time>"
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func Diff2(a, b []byte) string { return "--- wizard\n" + string(a) + "--- apply\n" + string(b) }

// ---- the second walk (issue 16 review): what the screen still hid ----

// boxAccounted fails when the checks box under a form leaves a problem
// out without saying so: every ✗ and ! the count line announces is either
// listed or counted on a "… N more" line.
func boxAccounted(t *testing.T, screen string) {
	t.Helper()
	lines := strings.Split(screen, "\n")
	countRE := regexp.MustCompile(`Checks\s+(\d+) ✗(?: · (\d+) !)?`)
	for i, l := range lines {
		m := countRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		var fails, warns int
		fmt.Sscan(m[1], &fails)
		if m[2] != "" {
			fmt.Sscan(m[2], &warns)
		}
		listed, more := 0, false
		for _, b := range lines[i+1:] {
			b = strings.TrimSpace(b)
			switch {
			case strings.HasPrefix(b, "✗ "), strings.HasPrefix(b, "! "):
				listed++
			case strings.Contains(b, "more"):
				more = true
			}
		}
		if listed < fails+warns && !more {
			t.Errorf("the box announces %d ✗ and %d ! but lists %d and counts no more:\n%s", fails, warns, listed, screen)
		}
		return
	}
	t.Errorf("no checks box on the screen:\n%s", screen)
}

// problemReadable fails when the box cuts a problem's detail without an
// ellipsis: the lines of the problem with id read whole, or end in "…".
func problemReadable(t *testing.T, screen, id, detail string) {
	t.Helper()
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(strings.TrimSpace(l), "✗ "+id) {
			continue // not in the box (a field's title carries its mark too)
		}
		text := []string{strings.TrimSpace(l)}
		for _, c := range lines[i+1:] {
			tc := strings.TrimSpace(c)
			if tc == "" || !strings.HasPrefix(c, "   ") || strings.IndexAny(tc, "✗!✓–…") == 0 {
				break // not the problem's indented continuation
			}
			text = append(text, tc)
		}
		whole := strings.Join(text, " ")
		if !strings.Contains(whole, detail) && !strings.HasSuffix(whole, "…") {
			t.Errorf("the ✗ %s line is cut before its reason with no ellipsis: %q\n%s", id, whole, screen)
		}
		return
	}
	t.Errorf("no ✗ %s line:\n%s", id, screen)
}

// footerOf is a screen's key hints: its last lines after the last blank
// one (the footer may take two lines).
func footerOf(screen string) string {
	lines := strings.Split(strings.TrimRight(screen, " \n"), "\n")
	i := len(lines) - 1
	for i > 0 && strings.TrimSpace(lines[i-1]) != "" {
		i--
	}
	return strings.Join(lines[i:], "\n")
}

// reviewLines are the review's content lines, in order, from the pages
// review() collected: each page's lines under its "lines N–M of T" title.
func reviewLines(pages string) []string {
	var out []string
	lines := strings.Split(pages, "\n")
	for i, l := range lines {
		first, last, _, ok := reviewPos(l)
		if !ok {
			continue
		}
		for j := i + 1; j < len(lines) && j <= i+last-first+1; j++ {
			out = append(out, lines[j])
		}
	}
	return out
}

// TestWizardFailureBeatsWarning: back on the GitLab URL (plain http, a
// warning about that URL) with a registry failing, the ✗ still shows: a
// failure is never sorted behind a warning of the focused field, the box
// takes the rows the form leaves free, and what does not fit is counted.
// The http warning is said once.
func TestWizardFailureBeatsWarning(t *testing.T) {
	lab := newLab(t)
	eachSize(t, func(t *testing.T, w, h int) {
		s := startWizard(t, w, h, newWorld(t, lab.d.Host))
		s.answer("GitLab URL", lab.gl.URL) // http://127.0.0.1:…
		s.hasToken()
		s.answer("Runner token", lab.token)
		s.keyAt("Executor", "Enter")
		s.focus("Default image")
		s.typ(lab.image) // the registry answers 401: no credentials yet
		s.expectRE(`✗ registry\.`)
		s.key("Escape")
		s.focus("Executor")
		s.key("Escape")
		s.focus("GitLab URL")
		s.checksSettled()
		sc := s.screen()
		t.Logf("back on the URL at %dx%d:\n%s", w, h, sc)
		if !regexp.MustCompile(`✗ registry\.\S+\.auth`).MatchString(sc) {
			t.Errorf("the registry's ✗ is hidden behind the URL's warning:\n%s", sc)
		}
		boxAccounted(t, sc)
		if f := flat(sc); strings.Contains(f, "uses http") && strings.Contains(f, "plain http") {
			t.Errorf("the http warning is shown twice:\n%s", sc)
		}
	})
}

// TestWizardRevokedTokenReadable (item 4 of the review): a rejected token's
// reason reads to its end, or the cut says so with "…".
func TestWizardRevokedTokenReadable(t *testing.T) {
	lab := newLab(t)
	eachSize(t, func(t *testing.T, w, h int) {
		s := startWizard(t, w, h, newWorld(t, lab.d.Host))
		s.answer("GitLab URL", lab.gl.URL)
		s.hasToken()
		s.focus("Runner token")
		s.typ("glrt-REVOKEDREVOKEDREVOKED1")
		s.expectRE(`✗ gitlab\.token`)
		s.checksSettled()
		sc := s.screen()
		t.Logf("a revoked token at %dx%d:\n%s", w, h, sc)
		problemReadable(t, sc, "gitlab.token", "GitLab rejected the token (403): wrong, revoked, or its runner was deleted")
		boxAccounted(t, sc)
	})
}

// TestWizardNoTokenYet: on the token field before anything is typed, the
// token's check says there is none yet (not "registration token ***").
func TestWizardNoTokenYet(t *testing.T) {
	lab := newLab(t)
	eachSize(t, func(t *testing.T, w, h int) {
		s := startWizard(t, w, h, newWorld(t, lab.d.Host))
		s.answer("GitLab URL", lab.gl.URL)
		s.hasToken()
		s.focus("Runner token")
		s.checksSettled()
		sc := s.expectRE(`Runner token —`)
		if l := line(sc, "Runner token —"); strings.Contains(l, "registration token") {
			t.Errorf("an empty token is described as a registration token: %q\n%s", l, sc)
		}
		if l := line(sc, "Runner token —"); !strings.Contains(l, "no token yet") {
			t.Errorf("the token's check does not say there is no token yet: %q\n%s", l, sc)
		}
	})
}

// TestWizardWaitsForPassword: basic auth with the username typed and the
// password not yet: nothing is "rejected"; the check waits for the
// password (and no login with an empty password reaches the registry).
func TestWizardWaitsForPassword(t *testing.T) {
	lab := newLab(t)
	eachSize(t, func(t *testing.T, w, h int) {
		s := startWizard(t, w, h, newWorld(t, lab.d.Host))
		s.toServices(lab, lab.image)
		s.toRegistries(lab, true)
		s.expectRE(`> basic`)
		s.keyAt("Authentication", "Enter")
		s.answer("Username", lab.reg.Username)
		s.focus("Password or token")
		s.checksSettled()
		sc := s.screen()
		if strings.Contains(flat(sc), "rejected") {
			t.Errorf("credentials are called rejected before a password was typed:\n%s", sc)
		}
		s.expectFlat("waiting for the password")
	})
}

// TestWizardWording (item 7 of the review): the last field of a step says
// enter moves on, and the review's settings keep their columns.
func TestWizardWording(t *testing.T) {
	lab := newLab(t)
	eachSize(t, func(t *testing.T, w, h int) {
		s := startWizard(t, w, h, newWorld(t, lab.d.Host))
		s.answer("GitLab URL", lab.gl.URL)
		s.hasToken()
		s.answer("Runner token", lab.token)
		s.keyAt("Executor", "Enter")
		sc := s.focus("Default image")
		if footer := footerOf(sc); !strings.Contains(footer, "enter next") || strings.Contains(footer, "submit") {
			t.Errorf("the last field of the executor step does not say enter moves on: %q", footer)
		}
		s.typ(lab.image)
		s.key("Enter")
		s.expect("Add a service")
		s.toRegistries(lab, true)
		s.keyAt("Authentication", "Enter")
		s.answer("Username", lab.reg.Username)
		s.answer("Password or token", lab.reg.Password)
		s.checksDone()
		settings := false
		col := -1
		for _, l := range reviewLines(s.review()) {
			l = strings.TrimPrefix(l, " ") // the frame's padding
			switch {
			case strings.HasPrefix(l, "Settings"):
				settings = true
				continue
			case !settings:
				continue
			case !strings.HasPrefix(l, "  ") || strings.TrimSpace(l) == "":
				settings = false
				continue
			case strings.HasPrefix(l, "   "):
				continue // a wrapped value, or a value under a long name
			}
			row := l[2:]
			i := strings.Index(row, "  ")
			if i < 0 {
				continue // a long name alone on its line, its value below
			}
			at := 2 + len(row) - len(strings.TrimLeft(row[i:], " "))
			if col >= 0 && at != col {
				t.Errorf("the review's settings leave their column: %q starts its value at %d, the others at %d", l, at, col)
			}
			col = at
		}
		if col < 0 {
			t.Errorf("no settings on the review:\n%s", s.review())
		}
	})
}

// TestWizardGoalWalkDockerHub: the goal walk with the usual Docker Hub
// service (postgres:16) asks no optional Docker Hub step when nothing
// calls for credentials there (none configured, no check about them
// failing): the decision needs no network. This machine is offline, so
// Docker Hub does not resolve: the write asks "write anyway?", a key the
// walk would not need online; it is counted apart.
func TestWizardGoalWalkDockerHub(t *testing.T) {
	lab := newLab(t)
	eachSize(t, func(t *testing.T, w, h int) {
		world := newWorld(t, lab.d.Host)
		s := startWizard(t, w, h, world)
		// The registry step asks about the private registry only (goalWalk
		// waits for "Registry 1 of 1"), then the review.
		review := goalWalkWith(s, lab, "postgres:16")
		for _, l := range strings.Split(review, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "✗ ") && !strings.Contains(l, "docker.io") {
				t.Errorf("a check other than Docker Hub's (offline) fails: %q\n%s", l, review)
			}
		}
		s.key("w")
		offline := 0
		sc := s.waitFor("the save question or the write-anyway question", func(sc string) bool {
			return strings.Contains(sc, "Write anyway?") || strings.Contains(sc, "Save the answers")
		})
		if strings.Contains(sc, "Write anyway?") {
			s.tmux("send-keys", "-t", s.name, "y")
			offline++
		}
		s.keyAt("Save the answers", "Enter")
		s.expect("Next steps")
		s.key("Enter")
		if code := s.waitExit(); !strings.Contains(code, "EXIT=0") {
			t.Fatalf("the wizard did not exit 0: %s\n%s", code, s.screen())
		}
		t.Logf("navigation keys at %dx%d with a Docker Hub service: %d (%s), plus %d only because Docker Hub is offline here",
			w, h, len(s.nav), strings.Join(s.nav, " "), offline)
		if len(s.nav) > 15 {
			t.Errorf("the goal walk with a Docker Hub service took %d navigation keys, want ≤ 15: %s", len(s.nav), strings.Join(s.nav, " "))
		}
		cfg, _ := os.ReadFile(filepath.Join(world.dockerDir, "config.json"))
		if strings.Contains(string(cfg), "index.docker.io") {
			t.Errorf("config.json got a Docker Hub entry nobody asked for:\n%s", cfg)
		}
	})
}

// TestWizardCreateWording (item 7 of the review, create path): the
// picker's footer names all three kinds, and the review's settings wrap
// the API token's note instead of cutting it (beside the widest names: a
// docker runner with a private registry).
func TestWizardCreateWording(t *testing.T) {
	lab := newLab(t)
	eachSize(t, func(t *testing.T, w, h int) {
		srv, _ := createGitLab(t)
		s := startWizard(t, w, h, newWorld(t, lab.d.Host))
		s.answer("GitLab URL", srv.URL)
		s.noToken()
		s.focus("API token")
		s.typ(createToken)
		s.expectFlat("@alice can create runners")
		s.key("Enter")
		s.focus("Where to create the runner")
		sc := s.expect("> many/p00")
		if footer := footerOf(sc); !strings.Contains(footer, "instance") {
			t.Errorf("the picker's footer does not name the instance: %q", footer)
		}
		s.key("Enter")
		s.answer("Tags", "docker")
		s.keyAt("Run untagged jobs?", "Enter")
		s.keyAt("Executor", "Enter")
		s.answer("Default image", lab.image)
		s.expect("Add a service")
		s.toRegistries(lab, true)
		s.expectRE(`> basic`)
		s.keyAt("Authentication", "Enter")
		s.answer("Username", lab.reg.Username)
		s.answer("Password or token", lab.reg.Password)
		s.checksDone()
		review := s.review()
		if !strings.Contains(flat(strings.Join(reviewLines(review), "\n")), "*** (entered; saved answers read $GITLAB_TOKEN)") {
			t.Errorf("the review cuts the API token's setting:\n%s", review)
		}
	})
}

// TestSavedCreateAnswersReplayWithoutToken: the wizard's create path saves
// api_token = "env:GITLAB_TOKEN" (issue 14). Replayed on the host where
// the runner now exists, the API token only serves to compare the runner's
// settings in GitLab: without GITLAB_TOKEN the apply verifies the runner,
// says the settings were not compared, and succeeds; creating still needs
// the token.
func TestSavedCreateAnswersReplayWithoutToken(t *testing.T) {
	saved := strings.Replace(createAnswers, "[gitlab.create]\n", "[gitlab.create]\napi_token = \"env:GITLAB_TOKEN\"\n", 1)
	s, _ := createSetup(t, saved)
	if r := s.apply(t); r.code != 0 {
		t.Fatalf("first apply (%d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	delete(s.env, "GITLAB_TOKEN")
	r := s.apply(t)
	if r.code != 0 || !strings.Contains(r.stderr+r.stdout, "not compared") {
		t.Errorf("replay without GITLAB_TOKEN where the runner exists (%d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := countRequests(s.gitlab, "POST", "/api/v4/user/runners"); n != 1 {
		t.Errorf("%d POST /user/runners, want 1", n)
	}
	// Where the runner does not exist yet, the token is needed.
	writeFile(t, s.config, otherRunners, 0o600)
	if r := s.apply(t); r.code != ExitInput || !strings.Contains(r.stderr, "GITLAB_TOKEN") {
		t.Errorf("create without GITLAB_TOKEN (%d), want exit %d naming GITLAB_TOKEN:\n%s%s", r.code, ExitInput, r.stdout, r.stderr)
	}
}
