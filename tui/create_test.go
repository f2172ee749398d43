package tui

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/runnerup/runnerup/internal/gitlab"
	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/daemon"
	"github.com/runnerup/runnerup/wizard"
)

const createAPIToken = "glpat-tuiCREATEtoken0001"

// createWorld is a wizard whose GitLab is gitlab.example.com on screen and
// the fake behind it: alice may create runners in team/app, team/web and
// many/p00…p24, and owns the group team.
func createWorld(t *testing.T, fa *fakeApply) (Options, *fakegitlab.Server) {
	t.Helper()
	srv := fakegitlab.New(t)
	srv.AddUserToken(createAPIToken, "alice", "create_runner", "read_api", "read_user")
	for _, p := range []string{"team/app", "team/web"} {
		srv.AddProject(p)
	}
	for i := range 25 {
		p := fmt.Sprintf("many/p%02d", i)
		srv.AddProject(p)
		srv.SetMember("alice", p, fakegitlab.Maintainer)
	}
	srv.AddGroup("team")
	srv.SetMember("alice", "team", fakegitlab.Owner)
	o := testOptions(t, fa)
	o.NoColor = true
	o.ApplyOptions.NewGitLab = func(_ string, opts gitlab.Options) (wizard.RunnerAPI, error) {
		return gitlab.New(srv.URL, opts)
	}
	o.Probe = screenProbe{}.probe
	return o, srv
}

// toPicker answers the GitLab step up to the picker: URL, no runner
// token, the API token (checked).
func toPicker(t *testing.T, d *driver) {
	t.Helper()
	d.wantFocus("gitlab.url")
	d.typ("https://gitlab.example.com")
	d.keys("enter")
	d.wantFocus("gitlab.create")
	d.keys("right", "enter") // No
	d.wantFocus("gitlab.create.api_token")
	d.typ(createAPIToken)
	d.run(d.m.startProbeCmd())
	d.keys("enter")
	d.wantFocus("gitlab.create.runner_type")
}

// TestCreateScreensGolden keeps the create path's screens at 80×24 without
// colour: the question, the API token checked, the picker, the runner's
// settings, and the review saying what the write creates.
func TestCreateScreensGolden(t *testing.T) {
	fa := &fakeApply{}
	o, _ := createWorld(t, fa)
	o.ConfigPath = "/etc/gitlab-runner/config.toml"
	o.DockerConfigDir = "/root/.docker"
	d := newDriver(t, o)
	shot := func(name string) {
		t.Helper()
		if v := d.shot("TestCreateScreensGolden", name); strings.Contains(v, createAPIToken) {
			t.Errorf("%s shows the API token", name)
		}
	}
	d.typ("https://gitlab.example.com")
	d.keys("enter", "right")
	shot("01-no-token")
	d.keys("enter")
	d.typ(createAPIToken)
	d.run(d.m.startProbeCmd())
	shot("02-api-token")
	d.keys("enter")
	d.wantFocus("gitlab.create.runner_type")
	shot("03-picker")
	d.typ("app")
	d.send(pickerTickMsg{tag: d.m.picker.tag}) // the debounce, fired
	shot("04-picker-search")
	d.keys("enter")
	d.wantFocus("gitlab.create.tags")
	d.typ("docker")
	shot("05-settings")
	d.keys("enter", "enter")
	d.wantFocus("runner.executor")
	d.keys("home", "enter", "enter") // shell, bash
	d.wantStep(stepReview)
	shot("06-review")
}

// TestPickerDropsStaleAnswers: an answer to an older search (the user
// typed on) is dropped, never shown over the newer one; the items loaded
// are filtered at once while GitLab is asked.
func TestPickerDropsStaleAnswers(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	p := newTargetPicker(wizard.Field{Key: "gitlab.create.runner_type", Prompt: "Where", Get: func(*wizard.Answers) string { return "" }}, &wizard.Answers{}, wizard.Context{})
	p.load = func(kind, search string, page, gen int) tea.Cmd {
		mu.Lock()
		asked = append(asked, fmt.Sprintf("%s %q p%d g%d", kind, search, page, gen))
		mu.Unlock()
		return nil
	}
	p.focused = true
	p.Focus()
	first := p.gen
	page := func(paths ...string) wizard.TargetPage {
		var tp wizard.TargetPage
		for _, s := range paths {
			tp.Targets = append(tp.Targets, wizard.CreateTarget{Kind: wizard.TargetProject, Path: s})
		}
		return tp
	}
	p.onPage(pickerPageMsg{gen: first, page: 1, res: page("team/app", "team/web", "many/p01")})
	p.onKey(key("w"))
	p.onKey(key("e"))
	// Filtered at once among what is loaded.
	if v := p.visible(); len(v) != 1 || v[0].Path != "team/web" {
		t.Fatalf("local filter: %+v", v)
	}
	p.onTick(pickerTickMsg{tag: p.tag})
	searchGen := p.gen
	if searchGen == first {
		t.Fatal("the search for the filter did not start a new query")
	}
	// The answer to the first query arrives late: dropped.
	p.onPage(pickerPageMsg{gen: first, page: 1, res: page("zzz/stale")})
	if v := p.visible(); len(v) != 1 || v[0].Path != "team/web" {
		t.Errorf("a stale answer was shown: %+v", v)
	}
	p.onPage(pickerPageMsg{gen: searchGen, page: 1, res: page("team/web", "we/web2")})
	if v := p.visible(); len(v) != 2 || p.itemsQuery != "we" {
		t.Errorf("the search's answer: %+v (query %q)", v, p.itemsQuery)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(asked, "; "); got != `project "" p1 g1; project "we" p1 g2` {
		t.Errorf("lookups: %s", got)
	}
}

// TestPickerLoadsMore: the next page is asked for when the cursor nears
// the end of what is loaded, once, and appended.
func TestPickerLoadsMore(t *testing.T) {
	var asked []int
	p := newTargetPicker(wizard.Field{Key: "k", Prompt: "Where", Get: func(*wizard.Answers) string { return "" }}, &wizard.Answers{}, wizard.Context{})
	p.load = func(kind, search string, page, gen int) tea.Cmd { asked = append(asked, page); return nil }
	p.focused = true
	p.Focus()
	var tp wizard.TargetPage
	for i := range 20 {
		tp.Targets = append(tp.Targets, wizard.CreateTarget{Kind: wizard.TargetProject, Path: fmt.Sprintf("many/p%02d", i)})
	}
	tp.NextPage = 2
	p.onPage(pickerPageMsg{gen: p.gen, page: 1, res: tp})
	for range 17 {
		p.onKey(key("down"))
	}
	if len(asked) != 1 {
		t.Fatalf("asked for more before the end: %v", asked)
	}
	p.onKey(key("down")) // 18 of 20
	p.onKey(key("down")) // while loading: not again
	if len(asked) != 2 || asked[1] != 2 {
		t.Fatalf("pages asked: %v", asked)
	}
	p.onPage(pickerPageMsg{gen: p.gen, page: 2, res: wizard.TargetPage{Targets: []wizard.CreateTarget{{Kind: wizard.TargetProject, Path: "many/p20"}}}})
	if n := len(p.visible()); n != 21 || p.next != 0 {
		t.Errorf("after page 2: %d items, next %d", n, p.next)
	}
	if !strings.Contains(ansi.Strip(p.View()), "20 of 21") {
		t.Errorf("status:\n%s", ansi.Strip(p.View()))
	}
}

// TestPickerTypedPathAndInstance: a full path typed where nothing is
// listed is taken as given; the instance needs an administrator.
func TestPickerTypedPathAndInstance(t *testing.T) {
	st, _ := wizard.StepByID(wizard.StepGitLab)
	var f wizard.Field
	for _, x := range st.Fields {
		if x.Kind == wizard.KindTarget {
			f = x
		}
	}
	a := &wizard.Answers{GitLab: wizard.GitLab{Create: &wizard.Create{}}}
	p := newTargetPicker(f, a, wizard.Context{})
	p.focused = true
	p.onPage(pickerPageMsg{gen: p.gen, page: 1, err: gitlab.ErrAPIScope})
	for _, r := range "team/sub/app" {
		p.onKey(key(string(r)))
	}
	if v := ansi.Strip(p.View()); !strings.Contains(v, "read_api") {
		t.Errorf("the lookup error is not said:\n%s", v)
	}
	if !p.choose() || a.GitLab.Create.Project != "team/sub/app" || a.GitLab.Create.RunnerType != "project_type" {
		t.Fatalf("typed path: %v %+v", p.verr, a.GitLab.Create)
	}
	p.info = func() (wizard.APITokenInfo, bool) {
		return wizard.APITokenInfo{UserKnown: true, User: gitlab.User{Username: "alice"}}, true
	}
	p.onKey(key("right"))
	p.onKey(key("right"))
	if p.choose() || p.verr == nil || !strings.Contains(p.verr.Error(), "administrator") {
		t.Errorf("instance for a user who is no administrator: %v", p.verr)
	}
	p.info = func() (wizard.APITokenInfo, bool) {
		return wizard.APITokenInfo{UserKnown: true, User: gitlab.User{Username: "root", IsAdmin: true}}, true
	}
	if !p.choose() || a.GitLab.Create.RunnerType != "instance_type" {
		t.Errorf("instance for an administrator: %v %+v", p.verr, a.GitLab.Create)
	}
}

// TestCreatePathAnswers: the create path's answers are applied with the
// API token entered, and saved (secrets in clear or not) with
// api_token = "env:GITLAB_TOKEN", never the token.
func TestCreatePathAnswers(t *testing.T) {
	fa := &fakeApply{}
	o, _ := createWorld(t, fa)
	d := newDriver(t, o)
	toPicker(t, d)
	d.keys("down", "enter") // many/p01
	d.wantFocus("gitlab.create.tags")
	d.keys("enter", "enter")
	d.keys("home", "enter", "enter") // shell, bash
	d.wantStep(stepReview)
	contains(t, flat(d.view()), "will create a project runner in many/p01")
	final := d.m.review.final
	if c := final.GitLab.Create; c == nil || c.APIToken != createAPIToken || c.Project != "many/p01" || final.GitLab.Token != "" {
		t.Fatalf("final answers: %+v %+v", final.GitLab, final.GitLab.Create)
	}
	for _, secrets := range []bool{false, true} {
		saved, err := d.m.o.encode(final, secrets)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(saved.Data), createAPIToken) || !strings.Contains(string(saved.Data), `api_token = "env:GITLAB_TOKEN"`) {
			t.Errorf("saved answers (secrets in clear %v):\n%s", secrets, saved.Data)
		}
	}
	d.keys("w")
	d.wantFocus("save")
	if _, writes := fa.counts(); writes != 1 || fa.prepared.Resolved.GitLab.Create.APIToken != createAPIToken {
		t.Fatalf("writes %d, api token applied %v", writes, fa.prepared.Resolved.GitLab.Create != nil)
	}
	contains(t, d.view(), `Runner "build-host" created in GitLab (id 4321) for project many/p01`)
}

// TestCreateFromEnvironment: with GITLAB_TOKEN set, the API token may be
// left empty; the answers then read the variable by name.
func TestCreateFromEnvironment(t *testing.T) {
	o, _ := createWorld(t, &fakeApply{})
	env := map[string]string{"GITLAB_ACCESS_TOKEN": createAPIToken}
	o.Env = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	d := newDriver(t, o)
	d.typ("https://gitlab.example.com")
	d.keys("enter", "right", "enter")
	d.wantFocus("gitlab.create.api_token")
	contains(t, d.view(), "> empty: the token in $GITLAB_ACCESS_TOKEN")
	d.keys("enter")
	d.wantFocus("gitlab.create.runner_type")
	f, _ := o.withDefaults().finalAnswers(d.m.answers, d.m.paths)
	if f.GitLab.Create.APIToken != "env:GITLAB_ACCESS_TOKEN" {
		t.Errorf("api_token = %q", f.GitLab.Create.APIToken)
	}
}

// pullProbe answers like the live checks; with pull, each image also has
// its daemon pull (image.<ref>.pull).
type pullProbe struct {
	mu    sync.Mutex
	pulls int
}

func (p *pullProbe) run(pull bool) ProbeFunc {
	return func(ctx context.Context, a *wizard.Answers, onResult func(probe.Result)) ([]probe.Result, error) {
		rs, _ := screenProbe{}.probe(ctx, a, onResult)
		if pull {
			p.mu.Lock()
			p.pulls++
			p.mu.Unlock()
			for _, img := range a.Images() {
				r := probe.Result{ID: daemon.PullID(img), Title: "image " + img + ": pulled by the daemon", Status: probe.Pass, Detail: "the daemon pulled " + img}
				onResult(r)
				rs = append(rs, r)
			}
		}
		return rs, nil
	}
}

// TestReviewPullKey (issue 13): the review offers the daemon's own pull as
// P, says what it does, and P re-runs the checks with pulls.
func TestReviewPullKey(t *testing.T) {
	o := testOptions(t, &fakeApply{})
	pp := &pullProbe{}
	o.Probe, o.PullImages = pp.run(false), pp.run(true)
	d := newDriver(t, o)
	d.play(scenarioTo("review"))
	d.wantStep(stepReview)
	v := flat(d.view())
	contains(t, v, "P pull images")
	contains(t, v, "P: the Docker daemon pulls every image now, as a job would (it downloads the layers; the images stay on this host).")
	d.keys("P")
	if pp.pulls != 1 {
		t.Fatalf("P pulled %d times", pp.pulls)
	}
	got := map[string]bool{}
	for _, r := range d.m.probes.results {
		got[r.ID] = true
	}
	for _, img := range []string{scImage, scService} {
		if !got[daemon.PullID(img)] {
			t.Errorf("no %s after P: %v", daemon.PullID(img), got)
		}
	}
	contains(t, flat(d.view()), "The image checks include the Docker daemon's own pull")
	// r rechecks without pulling.
	d.keys("r")
	if pp.pulls != 1 || d.m.probes.pulled {
		t.Errorf("r pulled (%d pulls)", pp.pulls)
	}
	// Without images (shell) P is not offered.
	o2 := testOptions(t, &fakeApply{})
	o2.Probe, o2.PullImages = pp.run(false), pp.run(true)
	d2 := newDriver(t, o2)
	d2.typ("https://gitlab.example.com")
	d2.keys("enter", "enter")
	d2.typ(scToken)
	d2.keys("enter", "home", "enter", "enter")
	d2.wantStep(stepReview)
	notContains(t, d2.view(), "P pull images")
	d2.keys("P")
	if pp.pulls != 1 {
		t.Errorf("P pulled without images")
	}
}

// TestAccessibleCreatePath: plain prompts ask the create path too; the
// target is typed as text, and the answers applied hold the API token
// entered while the saved ones read $GITLAB_TOKEN.
func TestAccessibleCreatePath(t *testing.T) {
	fa := &fakeApply{}
	o, _ := createWorld(t, fa)
	save := t.TempDir() + "/answers.toml"
	lines := strings.Join([]string{
		"https://gitlab.example.com",
		"n", // no runner token
		createAPIToken,
		"group:team",
		"docker, linux",
		"", "", "", "", "", "", // run untagged, description, note, access level, paused, locked
		"", "", // runner name, CA file
		"1", "", "", // shell, bash, concurrent
		"",  // change paths: no
		"y", // write
		"y", save, "",
	}, "\n") + "\n"
	res, out, err := runAccessibleLines(t, o, lines)
	if err != nil || res.Result == nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	c := fa.prepared.Resolved.GitLab.Create
	if c == nil || c.Group != "team" || c.RunnerType != "group_type" || c.APIToken != createAPIToken || strings.Join(c.Tags, ",") != "docker,linux" {
		t.Fatalf("create answers: %+v", c)
	}
	contains(t, out, "Do you have a runner token?")
	contains(t, out, "Example: group/app, group:group, instance")
	notContains(t, out, createAPIToken)
	saved, _ := os.ReadFile(save)
	if strings.Contains(string(saved), createAPIToken) || !strings.Contains(string(saved), `api_token = "env:GITLAB_TOKEN"`) {
		t.Errorf("saved answers:\n%s", saved)
	}
}
