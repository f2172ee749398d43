package tui

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/runnerup/runnerup/internal/secret"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/wizard"
)

func TestMain(m *testing.M) {
	// Keep the real environment out: huh switches to accessible mode on
	// TERM=dumb, colour depends on NO_COLOR.
	os.Setenv("TERM", "xterm-256color")
	os.Unsetenv("NO_COLOR")
	os.Exit(m.Run())
}

// ---- keys ----

// namedKeys are the keys tests press by name.
var namedKeys = map[string]tea.KeyPressMsg{
	"enter":     {Code: tea.KeyEnter},
	"esc":       {Code: tea.KeyEscape},
	"tab":       {Code: tea.KeyTab},
	"shift+tab": {Code: tea.KeyTab, Mod: tea.ModShift},
	"down":      {Code: tea.KeyDown},
	"up":        {Code: tea.KeyUp},
	"left":      {Code: tea.KeyLeft},
	"right":     {Code: tea.KeyRight},
	"backspace": {Code: tea.KeyBackspace},
	"home":      {Code: tea.KeyHome},
	"end":       {Code: tea.KeyEnd},
	"pgdown":    {Code: tea.KeyPgDown},
	"pgup":      {Code: tea.KeyPgUp},
	"ctrl+a":    {Code: 'a', Mod: tea.ModCtrl},
	"ctrl+c":    {Code: 'c', Mod: tea.ModCtrl},
	"ctrl+k":    {Code: 'k', Mod: tea.ModCtrl},
	"ctrl+o":    {Code: 'o', Mod: tea.ModCtrl},
	"ctrl+u":    {Code: 'u', Mod: tea.ModCtrl},
}

func key(s string) tea.KeyPressMsg {
	if k, ok := namedKeys[s]; ok {
		return k
	}
	r := []rune(s)
	return tea.KeyPressMsg{Code: r[0], Text: s}
}

// ---- a synchronous driver for Update-level tests ----

// driver feeds messages to the model and runs the Cmds they return,
// feeding their messages back, until nothing is left. Cmds that do not
// answer quickly (ticks: cursor blink, debounce, spinner) are dropped, so
// tests stay fast and deterministic.
type driver struct {
	t           *testing.T
	m           *model
	interrupted bool
	quit        bool
}

func newDriver(t *testing.T, o Options) *driver {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	d := &driver{t: t, m: newModel(ctx, o.withDefaults())}
	d.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	d.run(d.m.Init())
	return d
}

func (d *driver) send(msgs ...tea.Msg) {
	d.t.Helper()
	for _, msg := range msgs {
		_, cmd := d.m.Update(msg)
		d.run(cmd)
	}
}

func (d *driver) keys(ks ...string) {
	d.t.Helper()
	for _, k := range ks {
		d.send(key(k))
	}
}

// typ types text; long text arrives as one paste, as when a user pastes a
// URL or a token (and to keep tests fast).
func (d *driver) typ(s string) {
	d.t.Helper()
	if len(s) > 8 {
		d.send(tea.PasteMsg{Content: s})
		return
	}
	for _, r := range s {
		d.send(key(string(r)))
	}
}

var cmdSliceType = reflect.TypeOf([]tea.Cmd(nil))

func (d *driver) run(cmd tea.Cmd) {
	queue := []tea.Cmd{cmd}
	for n := 0; len(queue) > 0 && n < 5000; n++ {
		c := queue[0]
		queue = queue[1:]
		if c == nil || isTimerCmd(c) {
			continue
		}
		msg := runCmd(d.t, c)
		if msg == nil {
			continue
		}
		switch msg := msg.(type) {
		case tea.BatchMsg:
			queue = append(queue, msg...)
			continue
		case tea.InterruptMsg:
			d.interrupted = true
			continue
		case tea.QuitMsg:
			d.quit = true
			continue
		}
		if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().ConvertibleTo(cmdSliceType) {
			// tea.Sequence: run in order, before anything queued later.
			cmds := v.Convert(cmdSliceType).Interface().([]tea.Cmd)
			queue = append(append([]tea.Cmd(nil), cmds...), queue...)
			continue
		}
		_, next := d.m.Update(msg)
		queue = append(queue, next)
	}
}

// isTimerCmd recognises Cmds that only wait (cursor blink, tea.Tick for
// the probe debounce, spinner frames); the driver drops them, so a test
// never sleeps and never sees a timer fire at a random moment.
func isTimerCmd(c tea.Cmd) bool {
	name := runtime.FuncForPC(reflect.ValueOf(c).Pointer()).Name()
	for _, s := range []string{"bubbles/v2/cursor.", "bubbletea/v2.Tick", "bubbletea/v2.Every", "bubbles/v2/spinner."} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

func runCmd(t *testing.T, c tea.Cmd) tea.Msg {
	ch := make(chan tea.Msg, 1)
	go func() { ch <- c() }()
	select {
	case msg := <-ch:
		return msg
	case <-time.After(3 * time.Second):
		t.Errorf("a Cmd (%s) did not return within 3s", runtime.FuncForPC(reflect.ValueOf(c).Pointer()).Name())
		return nil
	}
}

func (d *driver) view() string { return ansi.Strip(d.m.View().Content) }

func (d *driver) focus() string { return d.m.focusKey() }

func (d *driver) wantFocus(k string) {
	d.t.Helper()
	if got := d.focus(); got != k {
		d.t.Fatalf("focus = %q, want %q\nview:\n%s", got, k, d.view())
	}
}

func (d *driver) wantStep(s step) {
	d.t.Helper()
	if d.m.step != s {
		d.t.Fatalf("step = %d, want %d\nview:\n%s", d.m.step, s, d.view())
	}
}

// ---- fakes ----

// fakeApply records Apply calls and answers with a fixed result; the
// entries in ApplyOptions.Prune show as removed in the diff and in Pruned,
// FreshSystemID as a new id, as wizard.Apply does.
type fakeApply struct {
	mu       sync.Mutex
	dryRuns  int
	writes   int
	prepared *wizard.Prepared
	opts     wizard.ApplyOptions
	// lastDry and lastWrite are the options of the last dry run and of
	// the last write.
	lastDry, lastWrite wizard.ApplyOptions
}

func (f *fakeApply) apply(ctx context.Context, p *wizard.Prepared, o wizard.ApplyOptions) (*wizard.ApplyResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if o.DryRun {
		f.dryRuns++
		f.lastDry = o
	} else {
		f.writes++
		f.lastWrite = o
	}
	f.prepared, f.opts = p, o
	a := p.Resolved
	var removed string
	for _, r := range o.Prune {
		removed += "-[[runners]]\n-  name = \"" + r.Name + "\"\n"
	}
	// The token as apply shows it (the same redaction as the checks').
	tok := secret.Token(a.GitLab.Token)
	res := &wizard.ApplyResult{
		DryRun: o.DryRun, Changed: true,
		ConfigTOML: wizard.FileChange{
			Path: o.ConfigPath, Changed: true, Created: true,
			Diff: "--- /dev/null\n+++ " + o.ConfigPath + "\n@@ -0,0 +1,3 @@\n" + removed + "+[[runners]]\n+  name = \"" + a.GitLab.Name + "\"\n+  token = \"" + tok + "\"\n",
		},
		Runner:    wizard.RunnerResult{Name: a.GitLab.Name, URL: a.GitLab.URL, ID: 42, Action: "verified", Token: tok, SystemID: "s_0123456789ab"},
		NextSteps: []string{"a running gitlab-runner reloads config.toml within 3 s; if it is not running, start it: `gitlab-runner start` or `systemctl restart gitlab-runner`"},
	}
	// The plan as wizard.Apply's says it, for a new runner verified.
	res.Plan = &wizard.Plan{Action: wizard.ActionVerify, Credentials: wizard.CredentialsAnswers, Checks: wizard.ChecksLive,
		Runner: wizard.PlanRunner{Name: a.GitLab.Name, URL: a.GitLab.URL, Index: -1, Executor: a.Runner.Executor}, ConfigTOML: o.ConfigPath, DryRun: o.DryRun,
		SystemID: wizard.SystemIDPlan{Path: filepath.Join(filepath.Dir(o.ConfigPath), ".runner_system_id"), ID: res.Runner.SystemID, Verify: res.Runner.SystemID, Write: wizard.SystemIDWriteWithConfig}}
	if o.SkipProbes {
		res.Plan.Checks = wizard.ChecksHost
	}
	if a.WritesDockerConfig() {
		res.Plan.DockerConfig = filepath.Join(o.DockerConfigDir, "config.json")
	}
	for _, r := range o.Prune {
		res.Pruned = append(res.Pruned, wizard.PrunedRunner{Name: r.Name, URL: r.URL, Token: "glrt-…" + r.Token[len(r.Token)-4:], Reason: wizard.PruneStale})
	}
	res.Plan.Prune = res.Pruned
	if o.FreshSystemID {
		res.Runner.SystemID = "r_fReShfReShfReS"
		res.SystemID = &wizard.FileChange{Path: filepath.Join(filepath.Dir(o.ConfigPath), ".runner_system_id"), Changed: true}
		res.Plan.SystemID.ID, res.Plan.SystemID.Write = res.Runner.SystemID, wizard.SystemIDWriteFresh
	}
	if o.DryRun {
		res.Runner.Action = "verified"
	}
	if c := a.GitLab.Create; c != nil {
		// [gitlab.create]: the plan says what the write creates, as
		// wizard.Apply's does.
		target := string(c.Project)
		if c.EffectiveRunnerType() == "group_type" {
			target = string(c.Group)
		}
		res.Plan.Action, res.Plan.Credentials = wizard.ActionCreate, wizard.CredentialsGitLab
		res.Plan.Create = &wizard.PlanCreate{RunnerType: c.EffectiveRunnerType(), Target: target, ID: 102}
		res.Runner.Action, res.Runner.Token, res.Runner.ID = "would-create", "<issued by GitLab at creation>", 0
		res.ConfigTOML.Diff = strings.Replace(res.ConfigTOML.Diff, tok, "<issued by GitLab at creation>", 1)
		if !o.DryRun {
			res.Runner.Action, res.Runner.Token, res.Runner.ID = "created", "glrt-…new1", 4321
		}
	}
	if a.WritesDockerConfig() {
		p := filepath.Join(o.DockerConfigDir, "config.json")
		res.DockerConfig = &wizard.FileChange{Path: p, Changed: true, Created: true,
			Diff: "--- /dev/null\n+++ " + p + "\n@@ -0,0 +1,1 @@\n+{\"auths\": {\"registry.test:5000\": {\"auth\": \"***\"}}}\n"}
	}
	return res, nil
}

func (f *fakeApply) counts() (dry, writes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dryRuns, f.writes
}

// fakeProbe answers every run with the same checks.
type fakeProbe struct {
	mu    sync.Mutex
	calls int
}

func (f *fakeProbe) probe(ctx context.Context, a *wizard.Answers, onResult func(probe.Result)) ([]probe.Result, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	var rs []probe.Result
	if a.GitLab.URL != "" {
		rs = append(rs, probe.Result{ID: "gitlab.tls", Title: "GitLab TLS", Status: probe.Pass, Detail: "certificate valid for 89 days"})
	}
	if a.Docker.Image != "" {
		rs = append(rs, probe.Result{ID: "image." + a.Docker.Image + ".manifest", Title: "image " + a.Docker.Image, Status: probe.Pass, Detail: "linux/amd64 present"})
	}
	for _, r := range a.Registries {
		rs = append(rs, probe.Result{ID: "registry." + r.Host + ".auth", Title: "registry " + r.Host + " login", Status: probe.Warn,
			Detail: "anonymous pulls only", Hint: "check the username and password"})
	}
	for _, r := range rs {
		onResult(r)
	}
	return rs, nil
}

// testOptions are Options for a wizard that writes nowhere real.
func testOptions(t *testing.T, fa *fakeApply) Options {
	t.Helper()
	dir := t.TempDir()
	o := Options{
		Out:             os.Stderr,
		ConfigPath:      filepath.Join(dir, "etc", "config.toml"),
		DockerConfigDir: filepath.Join(dir, "docker"),
		Env:             func(string) (string, bool) { return "", false },
		Hostname:        "build-host",
		Paths:           wizard.PathEnv{Euid: 1000, Home: filepath.Join(dir, "home"), Cwd: dir, Env: func(string) (string, bool) { return "", false }},
	}
	if fa != nil {
		o.Apply = fa.apply
	}
	return o
}

func contains(t *testing.T, s, want string) {
	t.Helper()
	if !strings.Contains(s, want) {
		t.Fatalf("missing %q in:\n%s", want, s)
	}
}

func notContains(t *testing.T, s, unwanted string) {
	t.Helper()
	if strings.Contains(s, unwanted) {
		t.Fatalf("unexpected %q in:\n%s", unwanted, s)
	}
}
