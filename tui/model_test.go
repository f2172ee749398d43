package tui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/runnerup/runnerup/internal/golden"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/wizard"
)

// Update-level tests: synthetic key presses through the root model, and
// assertions on ansi.Strip(View()).

func TestInvalidURLShowsFieldError(t *testing.T) {
	tests := []struct {
		url, want string
	}{
		{"gitlab.example.com", "GitLab URL has no scheme; write https://gitlab.example.com"},
		{"https://gitlab.example.com/api/v4", `GitLab URL has path "/api/v4", which looks like a page of GitLab`},
		{"https://ci:pw@gitlab.example.com", "GitLab URL contains user info"},
		{"ftp://gitlab.example.com", `GitLab URL has scheme "ftp"`},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			d := newDriver(t, testOptions(t, &fakeApply{}))
			d.wantFocus("gitlab.url")
			d.typ(tt.url)
			d.keys("enter")
			d.wantFocus("gitlab.url") // not accepted: still on the field
			contains(t, d.view(), tt.want)
			// Fixing it clears the error and moves on.
			d.keys("ctrl+a", "ctrl+k")
			d.typ("https://gitlab.example.com")
			d.keys("enter")
			d.wantFocus("gitlab.create")
			notContains(t, d.view(), tt.want)
		})
	}
}

func TestHTTPURLIsAcceptedWithAWarning(t *testing.T) {
	d := newDriver(t, testOptions(t, &fakeApply{}))
	d.typ("http://gitlab.local")
	contains(t, d.view(), "! GitLab URL uses http: the runner token would cross the network unencrypted")
	d.keys("enter")
	d.wantFocus("gitlab.create")
}

func TestBackNavigationKeepsValues(t *testing.T) {
	d := newDriver(t, testOptions(t, &fakeApply{}))
	d.typ("https://gitlab.example.com")
	d.keys("enter", "enter")
	d.typ(scToken)
	d.keys("ctrl+o", "enter") // the advanced settings: the runner name
	d.wantFocus("gitlab.name")
	d.keys("ctrl+a", "ctrl+k")
	d.typ("ci-01")
	d.keys("enter", "enter")
	d.wantFocus("runner.executor")
	d.keys("ctrl+o", "enter")
	d.typ("alpine:3.20")
	d.keys("enter")
	d.wantFocus("docker.privileged")
	d.keys("down") // Docker-in-Docker

	// Esc: the previous page, then the previous step.
	d.keys("esc")
	d.wantFocus("docker.image")
	d.keys("esc")
	d.wantFocus("runner.executor")
	d.keys("esc")
	d.wantStep(stepGitLab)
	d.wantFocus("gitlab.url")
	contains(t, d.view(), "https://gitlab.example.com")

	// Forward again: every answer is still there.
	d.keys("enter", "enter")
	d.wantFocus("gitlab.token")
	v := d.view()
	contains(t, v, strings.Repeat("*", len(scToken))) // the token, masked
	notContains(t, v, scToken)
	d.keys("enter")
	d.wantFocus("gitlab.name")
	contains(t, d.view(), "> ci-01")
	d.keys("enter", "enter", "enter")
	d.wantFocus("docker.image")
	contains(t, d.view(), "> alpine:3.20")
	d.keys("enter")
	d.wantFocus("docker.privileged")
	contains(t, d.view(), "> Docker-in-Docker")
	if a := d.m.answers; a.GitLab.Token != scToken || a.GitLab.Name != "ci-01" || a.Docker.Image != "alpine:3.20" || !a.Docker.IsDinD() {
		t.Fatalf("answers changed by going back and forth: %+v", a)
	}

	// Services and review go back too.
	d.keys("enter", "enter", "enter", "enter")
	d.wantStep(stepServices)
	d.keys("a")
	d.typ("postgres:16")
	d.keys("enter", "enter")
	d.keys("n")
	d.wantStep(stepReview) // images from Docker Hub only: no registry step
	d.keys("esc")
	d.wantStep(stepServices)
	contains(t, d.view(), "postgres:16")
	if len(d.m.answers.Docker.Services) != 1 || d.m.answers.Docker.Services[0].Name != "postgres:16" {
		t.Fatalf("services lost: %+v", d.m.answers.Docker.Services)
	}
	// Removing the last service leaves an empty list, which removes the
	// runner's services on apply; nil would keep them.
	d.m.svc.cursor = 0 // on the postgres row
	d.keys("d")
	if s := d.m.answers.Docker.Services; s == nil || len(s) != 0 {
		t.Fatalf("after removing the last service: %#v, want an empty list", s)
	}
}

func TestRegistrationFieldsOnlyForRegistrationToken(t *testing.T) {
	registrationOnly := []string{"Description", "Tags", "Run untagged jobs?", "Lock to the current project?", "Access level", "Maintenance note"}
	tests := []struct {
		name      string
		token     string
		note      string
		kindKeys  []string // answers to the token-kind question, if asked
		wantFirst string   // focus after the token
		wantReg   bool
	}{
		{name: "authentication token", token: "glrt-abcdefghijklmnopqrstu", note: "authentication token (glrt-)", wantFirst: "runner.executor"},
		{name: "partitioned authentication token", token: "glrt-t2_abcdefghijklmnopqrstu", note: "authentication token (glrt-)", wantFirst: "runner.executor"},
		{name: "registration token", token: "GR1348941abcdefghijklmnop", note: "legacy registration token", wantFirst: "gitlab.description", wantReg: true},
		{name: "unprefixed, declared authentication", token: "abcdefghijklmnopqrstu", note: "unprefixed token", kindKeys: []string{"down", "enter"}, wantFirst: "runner.executor"},
		{name: "unprefixed, declared registration", token: "abcdefghijklmnopqrstu", note: "unprefixed token", kindKeys: []string{"enter"}, wantFirst: "gitlab.description", wantReg: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := newDriver(t, testOptions(t, &fakeApply{}))
			d.typ("https://gitlab.example.com")
			d.keys("enter", "enter")
			d.typ(tt.token)
			contains(t, d.view(), tt.note) // said while the token is typed
			d.keys("enter")
			if tt.kindKeys != nil {
				d.wantFocus("gitlab.token_kind")
				d.keys(tt.kindKeys...)
			}
			d.wantFocus(tt.wantFirst)
			// Walk the rest of the step and collect every page.
			views := d.view()
			for i := 0; d.m.step == stepGitLab && i < 20; i++ {
				d.keys("enter")
				views += d.view()
			}
			d.wantStep(stepExecutor)
			for _, label := range registrationOnly {
				if got := strings.Contains(views, label); got != tt.wantReg {
					t.Errorf("%q shown = %v, want %v", label, got, tt.wantReg)
				}
			}
		})
	}
}

func TestCtrlCInterruptsWithoutWriting(t *testing.T) {
	tests := []struct {
		name  string
		setup func(d *driver)
		want  step
	}{
		{"while typing the URL", func(d *driver) { d.typ("https://git") }, stepGitLab},
		{"on the executor step", func(d *driver) {
			d.play(scenarioTo("docker.image"))
		}, stepExecutor},
		{"on the services list", func(d *driver) {
			d.play(scenarioTo("services"))
		}, stepServices},
		{"in the service form", func(d *driver) {
			d.play(scenarioTo("docker.services[0].name"))
		}, stepServices},
		{"on the review", func(d *driver) {
			d.play(scenarioTo("review"))
		}, stepReview},
		{"editing paths on the review", func(d *driver) {
			d.play(scenarioTo("review"))
			d.keys("p")
		}, stepReview},
		{"asked to write despite failed checks", func(d *driver) {
			d.play(scenarioTo("review"))
			d.m.probes.results = append(d.m.probes.results, probe.Result{ID: "daemon.reachable", Status: probe.Fail})
			d.keys("w")
			contains(d.t, d.view(), "1 check(s) failed. Write anyway?")
		}, stepReview},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fa := &fakeApply{}
			d := newDriver(t, testOptions(t, fa))
			tt.setup(d)
			d.wantStep(tt.want)
			d.keys("ctrl+c")
			if !d.interrupted {
				t.Fatalf("ctrl+c did not interrupt; view:\n%s", d.view())
			}
			if _, writes := fa.counts(); writes != 0 {
				t.Fatalf("Apply wrote %d times", writes)
			}
			if d.m.done {
				t.Fatal("the wizard reports done")
			}
		})
	}
}

// TestRunCtrlCReturnsErrInterrupted runs the whole program on piped input:
// Ctrl+C ends Run with ErrInterrupted and nothing is applied or written.
func TestRunCtrlCReturnsErrInterrupted(t *testing.T) {
	fa := &fakeApply{}
	o := testOptions(t, fa)
	r, w := io.Pipe()
	var out bytes.Buffer
	o.In, o.Out = r, &out
	done := make(chan error, 1)
	go func() {
		_, err := Run(context.Background(), o)
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	_, _ = w.Write([]byte("https://gitlab.example.com"))
	time.Sleep(50 * time.Millisecond)
	_, _ = w.Write([]byte{0x03}) // ctrl+c
	select {
	case err := <-done:
		if !errors.Is(err, ErrInterrupted) {
			t.Fatalf("err = %v, want ErrInterrupted", err)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v does not map to exit code 130 (context.Canceled)", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after ctrl+c")
	}
	if dry, writes := fa.counts(); dry+writes != 0 {
		t.Fatalf("Apply called (%d dry runs, %d writes)", dry, writes)
	}
	if _, err := os.Stat(o.ConfigPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("config.toml exists after an interrupt: %v", err)
	}
}

func TestRunContextCancelIsInterrupted(t *testing.T) {
	fa := &fakeApply{}
	o := testOptions(t, fa)
	r, _ := io.Pipe()
	o.In, o.Out = r, io.Discard
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := Run(ctx, o)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
}

// TestLayoutFits draws every step at several window sizes: each frame has
// exactly the window's height and no line is wider than the window.
func TestLayoutFits(t *testing.T) {
	sizes := [][2]int{{80, 24}, {60, 18}, {120, 40}, {100, 30}}
	fa := &fakeApply{}
	fp := &fakeProbe{}
	o := testOptions(t, fa)
	o.Probe = fp.probe
	d := newDriver(t, o)
	check := func(where string) {
		t.Helper()
		for _, sz := range sizes {
			d.send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			v := d.m.View()
			lines := strings.Split(v.Content, "\n")
			if v.AltScreen && len(lines) != sz[1] {
				t.Errorf("%s at %dx%d: %d lines", where, sz[0], sz[1], len(lines))
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > sz[0] {
					t.Errorf("%s at %dx%d: line %d is %d wide: %q", where, sz[0], sz[1], i, w, ansi.Strip(l))
				}
			}
		}
		d.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	}
	flow := scenarioFlow("https://gitlab.example.com", false, "")
	check("gitlab")
	for i, s := range flow {
		d.play(flow[i : i+1])
		check(s.focus + " after " + strings.Join(s.keys, ","))
	}
	d.keys("enter")
	check("done")
}

func TestExistingRunnerIsOffered(t *testing.T) {
	const existing = `concurrent = 2

[[runners]]
  name = "old-box"
  url = "https://gitlab.example.com"
  token = "glrt-ondiskondiskondisk1234"
  executor = "docker"
  [runners.docker]
    image = "alpine:3.19"
    privileged = true
    volumes = ["/cache", "/certs/client"]
    pull_policy = "if-not-present"
    [[runners.docker.services]]
      name = "docker:27-dind"
      alias = "docker"

[[runners]]
  name = "shell-box"
  url = "https://gitlab.example.com"
  token = "glrt-otherotherotherother99"
  executor = "shell"
`
	setup := func(t *testing.T) (*driver, *fakeApply) {
		fa := &fakeApply{}
		o := testOptions(t, fa)
		if err := os.MkdirAll(filepath.Dir(o.ConfigPath), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(o.ConfigPath, []byte(existing), 0o600); err != nil {
			t.Fatal(err)
		}
		d := newDriver(t, o)
		d.wantStep(stepExisting)
		v := d.view()
		contains(t, v, `Edit "old-box" (https://gitlab.example.com, docker)`)
		contains(t, v, `Edit "shell-box"`)
		contains(t, v, "Add a new runner")
		return d, fa
	}
	t.Run("edit", func(t *testing.T) {
		d, _ := setup(t)
		d.keys("up", "up", "enter") // from "add" to the first runner
		d.wantStep(stepGitLab)
		a := d.m.answers
		if a.GitLab.Name != "old-box" || a.GitLab.URL != "https://gitlab.example.com" || a.Runner.Executor != "docker" ||
			a.Docker.Image != "alpine:3.19" || !a.Docker.IsDinD() || a.Docker.Privileged != nil && *a.Docker.Privileged ||
			strings.Join(a.Docker.Volumes, ",") != "/cache" || strings.Join(a.Docker.PullPolicy, ",") != "if-not-present" ||
			len(a.Docker.Services) != 1 || a.Docker.Services[0].Alias != "docker" {
			t.Fatalf("prefill: %+v", a)
		}
		if a.GitLab.Token != "glrt-ondiskondiskondisk1234" {
			t.Fatalf("token not taken from disk")
		}
		contains(t, d.view(), "> https://gitlab.example.com")
		notContains(t, d.view(), "glrt-ondisk")
		// Esc on the first page goes back to the choice.
		d.keys("esc")
		d.wantStep(stepExisting)
	})
	t.Run("new", func(t *testing.T) {
		d, _ := setup(t)
		d.keys("enter")
		d.wantStep(stepGitLab)
		if a := d.m.answers; a.GitLab.URL != "" || a.GitLab.Name != "build-host" || a.Docker.Image != "" {
			t.Fatalf("a new runner was prefilled: %+v", a)
		}
	})
}

// TestReviewView checks the review step's content: the checklist with
// hints, files, diffs and the answers file with env: references. The
// capture is kept as a golden file.
func TestReviewView(t *testing.T) {
	fa := &fakeApply{}
	fp := &fakeProbe{}
	o := testOptions(t, fa)
	o.ConfigPath = "/srv/runnerup-test/config.toml"
	o.DockerConfigDir = "/srv/runnerup-test/docker"
	o.Probe = fp.probe
	d := newDriver(t, o)
	d.play(scenarioTo("review"))
	d.wantStep(stepReview)
	d.send(tea.WindowSizeMsg{Width: 80, Height: 110}) // tall enough for all of it
	v := d.view()
	for _, want := range []string{
		"✓ GitLab TLS — certificate valid for 89 days",
		"hint: check the username and password",
		"config.toml  /srv/runnerup-test/config.toml  (new file)",
		"config.json  /srv/runnerup-test/docker/config.json  (new file)",
		`+  name = "build-host"`,
		`token = "env:RUNNER_TOKEN"`,
		`password = "env:REGISTRY_PASSWORD_REGISTRY_TEST_5000"`,
		"w write",
	} {
		contains(t, v, want)
	}
	// Problems come first, with their check id; wrapped, never cut.
	contains(t, flat(v), "Checks 0 ✗ · 1 ! · 2 ✓ ! registry.registry.test:5000.auth registry registry.test:5000 login — anonymous pulls only")
	notContains(t, v, scPassword)
	notContains(t, v, scToken)
	golden.Assert(t, "testdata/TestReviewView/review.golden", []byte(v))
	if dry, writes := fa.counts(); dry == 0 || writes != 0 {
		t.Fatalf("review: %d dry runs, %d writes", dry, writes)
	}
}

func TestSaveAnswersFile(t *testing.T) {
	fa := &fakeApply{}
	o := testOptions(t, fa)
	path := filepath.Join(t.TempDir(), "answers.toml")
	d := newDriver(t, o)
	d.play(scenarioFlow("https://gitlab.example.com", true, path))
	d.wantStep(stepDone)
	if _, writes := fa.counts(); writes != 1 {
		t.Fatalf("writes = %d, want 1", writes)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("answers file mode %04o, want 0600", st.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	for _, leak := range []string{scToken, scPassword} {
		if bytes.Contains(data, []byte(leak)) {
			t.Fatalf("saved answers hold a secret in clear:\n%s", data)
		}
	}
	saved, unknown, err := wizard.Parse(data)
	if err != nil || len(unknown) > 0 {
		t.Fatalf("saved answers do not parse back: %v %v", err, unknown)
	}
	if saved.GitLab.Token != "env:RUNNER_TOKEN" || saved.Registries[0].Password != "env:REGISTRY_PASSWORD_REGISTRY_TEST_5000" {
		t.Fatalf("secrets are not env references: %+v", saved)
	}
	v := strings.Join(strings.Fields(d.view()), " ") // long lines wrap
	contains(t, v, "✓ answers saved to "+path)
	// Commands are never wrapped: one per line, whole in what stays in the
	// terminal after exit (the screen cuts what does not fit).
	contains(t, d.m.finalText(), "\n       export REGISTRY_PASSWORD_REGISTRY_TEST_5000=…\n       export RUNNER_TOKEN=…\n       runnerup apply --answers "+path+"\n")
	d.keys("enter")
	if !d.quit || d.m.outcome.AnswersPath != path || d.m.outcome.Result == nil {
		t.Fatalf("outcome after exit: quit=%v %+v", d.quit, d.m.outcome)
	}
}

func TestWriteFailureWritesNothingAndGoesBack(t *testing.T) {
	fa := &fakeApply{}
	o := testOptions(t, fa)
	fail := &wizard.CheckError{Check: "gitlab.token", Problem: "GitLab rejected the token (403)", Hint: "create a new runner"}
	o.Apply = func(ctx context.Context, p *wizard.Prepared, ao wizard.ApplyOptions) (*wizard.ApplyResult, error) {
		if !ao.DryRun {
			return nil, fail
		}
		return fa.apply(ctx, p, ao)
	}
	d := newDriver(t, o)
	d.play(scenarioTo("write"))
	d.wantStep(stepWrite)
	contains(t, d.view(), "Nothing was written.")
	contains(t, d.view(), "GitLab rejected the token (403)")
	d.keys("esc")
	d.wantStep(stepReview)
	d.keys("w")
	d.wantStep(stepWrite)
	d.keys("q")
	if !d.quit || !errors.As(d.m.err, new(*wizard.CheckError)) {
		t.Fatalf("quit=%v err=%v, want the CheckError", d.quit, d.m.err)
	}
}

func TestStaleProbeResultsAreDropped(t *testing.T) {
	fp := &fakeProbe{}
	o := testOptions(t, &fakeApply{})
	o.Probe = fp.probe
	d := newDriver(t, o)
	d.m.probes.gen = 3
	stale := probe.Result{ID: "gitlab.tls", Title: "stale", Status: probe.Fail}
	fresh := probe.Result{ID: "gitlab.tls", Title: "fresh", Status: probe.Pass}
	closed := make(chan tea.Msg)
	close(closed)
	d.send(probeResultMsg{gen: 2, r: stale, ch: closed})
	if len(d.m.probes.results) != 0 {
		t.Fatalf("a result of an older run was kept: %+v", d.m.probes.results)
	}
	d.send(probeResultMsg{gen: 3, r: fresh, ch: closed})
	d.send(probeDoneMsg{gen: 2, results: []probe.Result{stale}})
	if len(d.m.probes.results) != 1 || d.m.probes.results[0].Title != "fresh" {
		t.Fatalf("results = %+v, want the fresh one only", d.m.probes.results)
	}

	// Debounce: only the latest tag starts a probe.
	d.typ("https://gitlab.example.com")
	tag := d.m.probes.tag
	if tag == 0 {
		t.Fatal("typing the URL did not schedule a probe")
	}
	calls := fp.calls
	d.send(probeTickMsg{tag: tag - 1})
	if fp.calls != calls {
		t.Fatal("a stale debounce tick started a probe")
	}
	d.send(probeTickMsg{tag: tag})
	if fp.calls != calls+1 {
		t.Fatalf("the current tick did not start a probe (calls %d -> %d)", calls, fp.calls)
	}
	contains(t, d.view(), "✓ GitLab TLS")
}

// TestRunNoColor: with NoColor the program draws no colours;
// the same run without them does (CLICOLOR_FORCE makes the piped output
// count as a colour terminal), so the check can fail.
func TestRunNoColor(t *testing.T) {
	t.Setenv("CLICOLOR_FORCE", "1")
	for _, tc := range []struct {
		name      string
		set       func(*Options)
		wantColor bool
	}{
		{"colour", func(o *Options) {}, true},
		{"option", func(o *Options) { o.NoColor = true }, false},
		// NO_COLOR is the caller's to read (the CLI decides colour once,
		// internal/cli colorWanted): the wizard draws as NoColor says.
		{"NO_COLOR is not read here", func(o *Options) {
			o.Env = func(k string) (string, bool) {
				if k == "NO_COLOR" {
					return "1", true
				}
				return "", false
			}
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(t, &fakeApply{})
			tc.set(&o)
			r, w := io.Pipe()
			out := &syncBuffer{}
			o.In, o.Out = r, out
			done := make(chan error, 1)
			go func() { _, err := Run(context.Background(), o); done <- err }()
			time.Sleep(100 * time.Millisecond)
			_, _ = w.Write([]byte("https://gitlab.example.com"))
			time.Sleep(50 * time.Millisecond)
			_, _ = w.Write([]byte{0x03})
			if err := <-done; !errors.Is(err, ErrInterrupted) {
				t.Fatalf("err = %v", err)
			}
			got := out.String()
			contains(t, got, "GitLab URL")
			if has := colorSGR.MatchString(got); has != tc.wantColor {
				t.Fatalf("colour sequences = %v, want %v (%q)", has, tc.wantColor, colorSGR.FindString(got))
			}
		})
	}
}

// colorSGR matches SGR sequences that set a colour (30–37, 38;…, 40–47,
// 48;…, 90–97, 100–107).
var colorSGR = regexp.MustCompile(`\x1b\[(?:[0-9;]*;)?(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;[0-9;]*)?m`)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPrefillWithEnvReference starts from answers whose token is an env:
// reference: it stays a reference (never shown, saved as is), its kind is
// read from the variable, and the applied answers resolve it.
func TestPrefillWithEnvReference(t *testing.T) {
	fa := &fakeApply{}
	o := testOptions(t, fa)
	env := map[string]string{"RUNNER_TOKEN": scToken}
	o.Env = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	o.Prefill = &wizard.Answers{
		GitLab: wizard.GitLab{URL: "https://gitlab.example.com", Token: "env:RUNNER_TOKEN", Name: "ci-01"},
		Docker: wizard.Docker{Image: "alpine:3.20"},
	}
	d := newDriver(t, o)
	d.keys("enter", "enter", "enter")
	d.wantFocus("gitlab.token_kind")
	contains(t, d.view(), "read from env:RUNNER_TOKEN")
	contains(t, d.view(), "> authentication") // from the variable's glrt- prefix
	d.keys("enter")
	d.wantFocus("runner.executor") // no registration questions; the name is an advanced setting
	for i := 0; d.m.step != stepReview && i < 30; i++ {
		if d.m.step == stepServices {
			d.keys("n")
			continue
		}
		d.keys("enter")
	}
	d.wantStep(stepReview)
	raw, res := fa.prepared.Raw, fa.prepared.Resolved
	if raw.GitLab.Token != "env:RUNNER_TOKEN" || res.GitLab.Token != scToken || raw.GitLab.TokenKind != "authentication" {
		t.Fatalf("raw %+v resolved %+v", raw.GitLab, res.GitLab)
	}
	notContains(t, d.view(), scToken)
}

// TestRegistryWarningsShown: the registry step lists the registries the
// images need and shows wizard validation's warnings (credsStore drops the
// whole config.json when its helper fails).
func TestRegistryWarningsShown(t *testing.T) {
	d := newDriver(t, testOptions(t, &fakeApply{}))
	d.play(scenarioTo("registries[0].method"))
	d.wantFocus("registries[0].method")
	contains(t, d.view(), "Registry 1 of 1: registry.test:5000")
	d.keys("ctrl+o")                        // where the credentials go is an advanced setting
	d.keys("down", "down", "down", "enter") // creds-store
	d.wantFocus("registries[0].helper")
	d.typ("pass")
	contains(t, d.view(), "! credsStore applies to every registry in config.json")
	d.keys("enter")
	d.wantFocus("registries[0].target")
	d.keys("down", "enter") // runner-env: the warning is about config.json only
	d.wantStep(stepReview)  // Docker Hub (postgres:16) is not asked
	if len(d.m.regWarnings) != 0 {
		t.Fatalf("warnings after choosing runner-env: %v", d.m.regWarnings)
	}
}
