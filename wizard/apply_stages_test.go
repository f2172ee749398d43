package wizard

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runnerup/runnerup/internal/gitlab"
	"github.com/runnerup/runnerup/internal/systemid"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/fleet"
)

// Tests of apply's stages one by one (load, plan, checks, render, write);
// Apply itself is covered end to end here and in internal/cli.

func TestDecide(t *testing.T) {
	const auth, other = "glrt-ANSWERSANSWERSANSWERS", "glrt-ONDISKONDISKONDISK12"
	const reg = "GR1348941REGREGREGREGREG"
	tests := []struct {
		name string
		in   decideInput
		want decision
	}{
		{"new runner, authentication token: verify", decideInput{token: auth, kind: TokenAuthentication},
			decision{action: ActionVerify, credentials: CredentialsAnswers}},
		{"new runner, registration token: register", decideInput{token: reg, kind: TokenRegistration},
			decision{action: ActionRegister, credentials: CredentialsGitLab}},
		{"entry with the same token: keep", decideInput{found: true, diskToken: auth, token: auth, kind: TokenAuthentication},
			decision{action: ActionKeep, credentials: CredentialsConfigTOML}},
		{"entry with another token: keep it (rotated)", decideInput{found: true, diskToken: other, token: auth, kind: TokenAuthentication},
			decision{action: ActionKeep, credentials: CredentialsConfigTOML, rotated: true}},
		{"entry with another token, --replace-token: verify", decideInput{found: true, diskToken: other, token: auth, kind: TokenAuthentication, replaceToken: true},
			decision{action: ActionVerify, credentials: CredentialsAnswers}},
		{"entry, registration token: never a second runner", decideInput{found: true, diskToken: other, token: reg, kind: TokenRegistration},
			decision{action: ActionKeep, credentials: CredentialsConfigTOML}},
		{"entry, registration token, --replace-token: still keep", decideInput{found: true, diskToken: other, token: reg, kind: TokenRegistration, replaceToken: true},
			decision{action: ActionKeep, credentials: CredentialsConfigTOML}},
		// [gitlab.create]
		{"create, no entry: create", decideInput{create: true},
			decision{action: ActionCreate, credentials: CredentialsGitLab}},
		{"create, entry: keep its token (created before), never a second runner", decideInput{found: true, diskToken: other, create: true},
			decision{action: ActionKeep, credentials: CredentialsConfigTOML}},
		{"create, entry, --replace-token: still keep", decideInput{found: true, diskToken: other, create: true, replaceToken: true},
			decision{action: ActionKeep, credentials: CredentialsConfigTOML}},
		// --offline
		{"offline, new runner, authentication token: written unverified", decideInput{token: auth, kind: TokenAuthentication, offline: true},
			decision{action: ActionUnverified, credentials: CredentialsAnswers}},
		{"offline, entry with another token, --replace-token: written unverified", decideInput{found: true, diskToken: other, token: auth, kind: TokenAuthentication, replaceToken: true, offline: true},
			decision{action: ActionUnverified, credentials: CredentialsAnswers}},
		{"offline, entry with the same token: keep", decideInput{found: true, diskToken: auth, token: auth, kind: TokenAuthentication, offline: true},
			decision{action: ActionKeep, credentials: CredentialsConfigTOML}},
		{"offline, new runner, registration token: refused (gitlab.token)", decideInput{token: reg, kind: TokenRegistration, offline: true},
			decision{action: ActionRegister, credentials: CredentialsGitLab, refused: "gitlab.token"}},
		{"offline, entry, registration token: keep (nothing to register)", decideInput{found: true, diskToken: other, token: reg, kind: TokenRegistration, offline: true},
			decision{action: ActionKeep, credentials: CredentialsConfigTOML}},
		{"offline, create, no entry: refused (gitlab.create)", decideInput{create: true, offline: true},
			decision{action: ActionCreate, credentials: CredentialsGitLab, refused: "gitlab.create"}},
		{"offline, create, entry: keep", decideInput{found: true, diskToken: other, create: true, offline: true},
			decision{action: ActionKeep, credentials: CredentialsConfigTOML}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decide(tt.in); got != tt.want {
				t.Errorf("decide = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// stageSetup is a temp dir with config.toml (when given) and prepared
// answers.
type stageSetup struct {
	dir, config string
	p           *Prepared
	opts        ApplyOptions
}

func newStageSetup(t *testing.T, config, answers string) *stageSetup {
	t.Helper()
	dir := t.TempDir()
	s := &stageSetup{dir: dir, config: filepath.Join(dir, "config.toml")}
	if config != "" {
		if err := os.WriteFile(s.config, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	raw, unknown, err := Parse([]byte(answers))
	if err != nil || len(unknown) > 0 {
		t.Fatalf("answers: %v %v", err, unknown)
	}
	if s.p, err = PrepareAnswers(raw, nil, Resolver{LookupEnv: func(string) (string, bool) { return "", false }}, "host"); err != nil {
		t.Fatal(err)
	}
	s.opts = ApplyOptions{
		ConfigPath: s.config, DockerConfigDir: filepath.Join(dir, "docker"), SkipProbes: true, Hostname: "host",
		Now:       func() time.Time { return time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC) },
		NewGitLab: func(string, gitlab.Options) (RunnerAPI, error) { return noGitLab{t}, nil },
	}.withDefaults()
	return s
}

func (s *stageSetup) load(t *testing.T) *loaded {
	t.Helper()
	l, err := load(context.Background(), s.p, s.opts)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return l
}

// loadAndRender runs the stages up to render (no credentials: the cases
// keep the token on disk).
func (s *stageSetup) loadAndRender(t *testing.T) (*loaded, *Plan, *ApplyResult, *rendered) {
	t.Helper()
	l := s.load(t)
	plan := s.plan(t, l)
	creds, err := l.credentialsBeforeChecks(context.Background(), plan, s.opts)
	if err != nil {
		t.Fatal(err)
	}
	r, err := l.render(plan, creds.write, false)
	if err != nil {
		t.Fatal(err)
	}
	return l, &plan, l.result(plan, creds, checked{}, r), r
}

func (s *stageSetup) plan(t *testing.T, l *loaded) Plan {
	t.Helper()
	p, err := l.plan(s.opts)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return p
}

// writeSystemID puts .runner_system_id beside config.toml.
func (s *stageSetup) writeSystemID(t *testing.T) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(s.dir, systemid.FileName), []byte("s_0123456789ab"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func answersFor(name, token, rest string) string {
	return "version = 1\n[gitlab]\nurl = \"https://gitlab.example.com\"\ntoken = \"" + token + "\"\nname = \"" + name + "\"\n" + rest
}

func TestLoad(t *testing.T) {
	t.Run("finds the runner and what holds for it", func(t *testing.T) {
		s := newStageSetup(t, curatedConfig, answersFor("sh", "glrt-SHELLSHELLSHELLSHELL", "[runner]\nlimit = 2\n"))
		l := s.load(t)
		if l.target.Index != 1 || !l.target.Found() || l.target.Existing.Executor != "shell" {
			t.Fatalf("target = %+v", l.target)
		}
		if l.eff.Runner.Executor != "shell" || l.a.Runner.Executor != "" {
			t.Errorf("executor: effective %q, answers %q; want shell and absent", l.eff.Runner.Executor, l.a.Runner.Executor)
		}
		if string(l.data) != curatedConfig || l.paths.ConfigTOML != s.config {
			t.Errorf("load read %s", l.paths.ConfigTOML)
		}
		if l.ids.fromFile || !strings.HasPrefix(l.ids.verify, "s_") && !strings.HasPrefix(l.ids.verify, "r_") {
			t.Errorf("system id %q (from file %v)", l.ids.verify, l.ids.fromFile)
		}
		if s.plan(t, l).SystemID.Verify != l.ids.verify {
			t.Errorf("verify calls would not send the loaded system id")
		}
	})
	t.Run("no config.toml: a new runner", func(t *testing.T) {
		s := newStageSetup(t, "", answersFor("fresh", "glrt-FRESHFRESHFRESHFRESH", "[docker]\nimage = \"alpine:3.20\"\n"))
		l := s.load(t)
		if l.target.Found() || l.target.Index != -1 || l.data != nil || l.eff.Runner.Executor != "docker" {
			t.Fatalf("target %+v, executor %q", l.target, l.eff.Runner.Executor)
		}
	})
	t.Run("system id from the file beside config.toml", func(t *testing.T) {
		s := newStageSetup(t, curatedConfig, answersFor("sh", "glrt-SHELLSHELLSHELLSHELL", ""))
		s.writeSystemID(t)
		if l := s.load(t); l.ids.verify != "s_0123456789ab" || !l.ids.fromFile {
			t.Errorf("system id %q (from file %v)", l.ids.verify, l.ids.fromFile)
		}
	})
	for _, tt := range []struct {
		name, config, answers string
		want                  any
		text                  string
	}{
		{"a new docker runner without an image", "", answersFor("fresh", "glrt-FRESHFRESHFRESHFRESH", ""), &ValidationError{}, "docker.image: is required for the docker executor"},
		{"config.toml does not parse", "[[runners]\n", answersFor("sh", "glrt-SHELLSHELLSHELLSHELL", ""), &InputError{}, "config.toml"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newStageSetup(t, tt.config, tt.answers)
			_, err := load(context.Background(), s.p, s.opts)
			if err == nil || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v, want %q", err, tt.text)
			}
			switch tt.want.(type) {
			case *ValidationError:
				var ve *ValidationError
				if !errors.As(err, &ve) {
					t.Errorf("err is %T, want a ValidationError (exit 2)", err)
				}
			case *InputError:
				var ie *InputError
				if !errors.As(err, &ie) {
					t.Errorf("err is %T, want an InputError (exit 2)", err)
				}
			}
		})
	}
}

func TestPlan(t *testing.T) {
	reg := "[[registries]]\nhost = \"registry.example.com:5000\"\nusername = \"u\"\npassword = \"p\"\n"
	tests := []struct {
		name, answers string
		sysIDFile     bool
		opts          func(*ApplyOptions)
		check         func(t *testing.T, p Plan)
	}{
		{
			name: "existing runner, same token", answers: answersFor("dind", "glrt-DINDDINDDINDDINDDIND", ""),
			check: func(t *testing.T, p Plan) {
				want := PlanRunner{Name: "dind", URL: "https://gitlab.example.com", Found: true, Index: 0, ID: 5, Executor: "docker"}
				if p.Runner != want || p.Action != ActionKeep || p.Credentials != CredentialsConfigTOML || p.TokenRotated {
					t.Errorf("plan = %+v", p)
				}
				if p.Checks != ChecksHost || p.DockerConfig != "" || p.SystemID.Write != SystemIDWriteWithConfig || p.SystemID.ID != p.SystemID.Verify {
					t.Errorf("plan = %+v", p)
				}
			},
		},
		{
			name: "rotated token kept", answers: answersFor("dind", "glrt-ANOTHERANOTHERANOTHER", ""),
			check: func(t *testing.T, p Plan) {
				if p.Action != ActionKeep || !p.TokenRotated {
					t.Errorf("plan = %+v", p)
				}
			},
		},
		{
			name: "new runner, registries for config.json, live checks", answers: answersFor("fresh", "glrt-FRESHFRESHFRESHFRESH", "[docker]\nimage = \"registry.example.com:5000/ci:1\"\n"+reg),
			opts: func(o *ApplyOptions) { o.SkipProbes = false },
			check: func(t *testing.T, p Plan) {
				if p.Runner.Found || p.Runner.Index != -1 || p.Runner.Executor != "docker" || p.Action != ActionVerify || p.Credentials != CredentialsAnswers {
					t.Errorf("plan = %+v", p)
				}
				if p.Checks != ChecksLive || !strings.HasSuffix(p.DockerConfig, filepath.Join("docker", "config.json")) {
					t.Errorf("plan = %+v", p)
				}
			},
		},
		{
			name: "registration token, dry run", answers: answersFor("fresh", "GR1348941REGREGREGREGREG", "[docker]\nimage = \"alpine:3.20\"\n"),
			opts: func(o *ApplyOptions) { o.DryRun = true },
			check: func(t *testing.T, p Plan) {
				if p.Action != ActionRegister || p.Credentials != CredentialsGitLab || !p.DryRun || p.runnerAction() != "would-register" {
					t.Errorf("plan = %+v", p)
				}
			},
		},
		{
			// The apply that writes the fresh id verifies with it: GitLab
			// hears no contact from this host under the (cloned) old one.
			name: "fresh system id", answers: answersFor("sh", "glrt-SHELLSHELLSHELLSHELL", ""), sysIDFile: true,
			opts: func(o *ApplyOptions) { o.FreshSystemID = true },
			check: func(t *testing.T, p Plan) {
				if p.SystemID.Write != SystemIDWriteFresh || p.SystemID.ID != p.SystemID.Verify || p.SystemID.ID == "s_0123456789ab" {
					t.Errorf("system id plan = %+v", p.SystemID)
				}
			},
		},
		{
			// A dry run writes no id: it verifies with the one on disk.
			name: "fresh system id, dry run", answers: answersFor("sh", "glrt-SHELLSHELLSHELLSHELL", ""), sysIDFile: true,
			opts: func(o *ApplyOptions) { o.FreshSystemID, o.DryRun = true, true },
			check: func(t *testing.T, p Plan) {
				if p.SystemID.Write != SystemIDWriteFresh || p.SystemID.ID == p.SystemID.Verify || p.SystemID.Verify != "s_0123456789ab" {
					t.Errorf("system id plan = %+v", p.SystemID)
				}
			},
		},
		{
			name: "[gitlab.create], no entry yet: create", answers: createAnswersFor("fresh", "[runner]\nexecutor = \"shell\"\n"),
			opts: withCreateAPI(t),
			check: func(t *testing.T, p Plan) {
				if p.Action != ActionCreate || p.Credentials != CredentialsGitLab || p.Runner.Found || p.creation == nil {
					t.Errorf("plan = %+v", p)
				}
				want := PlanCreate{RunnerType: "project_type", Target: "group/app", APIToken: "gitlab.create.api_token"}
				if p.Create == nil || p.Create.RunnerType != want.RunnerType || p.Create.Target != want.Target || p.Create.APIToken != want.APIToken {
					t.Errorf("plan.create = %+v, want %+v", p.Create, want)
				}
				if line := p.String(); !strings.Contains(line, "will create a project runner in group/app") || strings.Contains(line, "glpat-") {
					t.Errorf("String() = %q", line)
				}
			},
		},
		{
			name: "[gitlab.create], entry created before: keep, settings compared by the checks", answers: createAnswersFor("dind", ""),
			opts: withCreateAPI(t),
			check: func(t *testing.T, p Plan) {
				if p.Action != ActionKeep || p.Credentials != CredentialsConfigTOML || p.TokenRotated || p.creation == nil || p.creation.api == nil {
					t.Errorf("plan = %+v", p)
				}
			},
		},
		{
			name: "[gitlab.create] --offline, entry created before: keep, settings not compared", answers: createAnswersFor("dind", ""),
			opts: func(o *ApplyOptions) { withCreateAPI(t)(o); o.Offline = true },
			check: func(t *testing.T, p Plan) {
				if p.Action != ActionKeep || !p.Offline || p.Checks != ChecksHost || p.creation.api != nil || !strings.Contains(p.Create.SettingsSkipped, "offline") {
					t.Errorf("plan = %+v, create %+v", p, p.Create)
				}
			},
		},
		{
			name: "--offline, new runner: written unverified", answers: answersFor("fresh", "glrt-FRESHFRESHFRESHFRESH", "[docker]\nimage = \"alpine:3.20\"\n"),
			opts: func(o *ApplyOptions) { o.Offline = true },
			check: func(t *testing.T, p Plan) {
				if p.Action != ActionUnverified || p.runnerAction() != "unverified" || p.Checks != ChecksHost || !strings.Contains(p.String(), "offline: contacts nothing") {
					t.Errorf("plan = %+v", p)
				}
			},
		},
		{
			name: "system id from the file", answers: answersFor("sh", "glrt-SHELLSHELLSHELLSHELL", ""), sysIDFile: true,
			check: func(t *testing.T, p Plan) {
				if p.SystemID.Write != SystemIDWriteNo || !p.SystemID.FromFile || p.SystemID.ID != "s_0123456789ab" {
					t.Errorf("system id plan = %+v", p.SystemID)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStageSetup(t, curatedConfig, tt.answers)
			if tt.sysIDFile {
				s.writeSystemID(t)
			}
			if tt.opts != nil {
				tt.opts(&s.opts)
			}
			p := s.plan(t, s.load(t))
			tt.check(t, p)
			if line := p.String(); !strings.Contains(line, string(p.Action)+" runner") {
				t.Errorf("String() = %q", line)
			}
		})
	}
}

// A plan that needs GitLab under --offline, or an API token it lacks, is
// an exit-2 error naming the field.
func TestPlanRefused(t *testing.T) {
	tests := []struct {
		name, answers string
		env           map[string]string
		offline       bool
		field, text   string
	}{
		{"registration token --offline", answersFor("fresh", "GR1348941REGREGREGREGREG", "[docker]\nimage = \"alpine:3.20\"\n"), nil, true, "gitlab.token", "--offline contacts nothing"},
		{"create --offline", createAnswersFor("fresh", "[runner]\nexecutor = \"shell\"\n"), nil, true, "gitlab.create", "--offline contacts nothing"},
		{"create without an API token", strings.Replace(createAnswersFor("fresh", "[runner]\nexecutor = \"shell\"\n"), "api_token = \"glpat-PLANPLANPLANPLAN\"\n", "", 1), nil, false, "gitlab.create.api_token", "is not set"},
		{"create, GITLAB_HOST names another GitLab", createAnswersFor("fresh", "[runner]\nexecutor = \"shell\"\n"), map[string]string{"GITLAB_HOST": "gitlab.com"}, false, "gitlab.create.api_token", "GITLAB_HOST=gitlab.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStageSetup(t, curatedConfig, tt.answers)
			withCreateAPI(t)(&s.opts)
			s.opts.Offline = tt.offline
			s.opts.Env = func(n string) (string, bool) { v, ok := tt.env[n]; return v, ok }
			_, err := s.load(t).plan(s.opts)
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Field != tt.field || !strings.Contains(ve.Problems[0].Problem, tt.text) {
				t.Fatalf("err = %v, want a ValidationError on %s saying %q", err, tt.field, tt.text)
			}
			if strings.Contains(err.Error(), "glpat-") {
				t.Errorf("the error shows the API token: %v", err)
			}
		})
	}
}

// checkPlan verifies the token config.toml will hold, and for a runner
// [gitlab.create] makes says why there is none to verify yet.
func TestCheckPlanToken(t *testing.T) {
	tests := []struct {
		name, answers string
		wantToken     string
		wantVerify    bool
		wantSkip      string
	}{
		{"rotated: the token on disk", answersFor("dind", "glrt-ANOTHERANOTHERANOTHER", ""), "glrt-DINDDINDDINDDINDDIND", true, ""},
		{"created before: the token on disk", createAnswersFor("dind", ""), "glrt-DINDDINDDINDDINDDIND", true, ""},
		{"registered before: the token on disk, not the registration token", answersFor("dind", "GR1348941REGREGREGREGREG", ""), "glrt-DINDDINDDINDDINDDIND", true, ""},
		{"to create: nothing to verify, and it says why", createAnswersFor("fresh", "[runner]\nexecutor = \"shell\"\n"), "", false, "[gitlab.create] creates it after the checks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStageSetup(t, curatedConfig, tt.answers)
			withCreateAPI(t)(&s.opts)
			s.opts.SkipProbes = false
			l := s.load(t)
			plan := s.plan(t, l)
			g := l.checkPlan(plan, *l.inputs).GitLab
			if g.Token != tt.wantToken || g.Verify != tt.wantVerify || !strings.Contains(g.SkipToken, tt.wantSkip) {
				t.Errorf("gitlab target: token %q verify %v skip %q; want %q %v %q", g.Token, g.Verify, g.SkipToken, tt.wantToken, tt.wantVerify, tt.wantSkip)
			}
		})
	}
}

// createAnswersFor are [gitlab.create] answers for runner name.
func createAnswersFor(name, rest string) string {
	return "version = 1\n[gitlab]\nurl = \"https://gitlab.example.com\"\nname = \"" + name + "\"\n[gitlab.create]\nproject = \"group/app\"\napi_token = \"glpat-PLANPLANPLANPLAN\"\n" + rest
}

// withCreateAPI makes the stage setup's GitLab client one that can create
// runners; every call fails the test (the stages under test contact
// nothing).
func withCreateAPI(t *testing.T) func(*ApplyOptions) {
	return func(o *ApplyOptions) {
		o.NewGitLab = func(string, gitlab.Options) (RunnerAPI, error) { return noCreateAPI{noGitLab{t}}, nil }
	}
}

type noCreateAPI struct{ noGitLab }

func (n noCreateAPI) fail() error {
	n.t.Errorf("a stage that contacts nothing called GitLab")
	return errors.New("no")
}
func (n noCreateAPI) TokenSelf(context.Context, string) (gitlab.TokenInfo, error) {
	return gitlab.TokenInfo{}, n.fail()
}
func (n noCreateAPI) Project(context.Context, string, string) (gitlab.Project, error) {
	return gitlab.Project{}, n.fail()
}
func (n noCreateAPI) Group(context.Context, string, string) (gitlab.Group, error) {
	return gitlab.Group{}, n.fail()
}
func (n noCreateAPI) CreateRunner(context.Context, string, gitlab.CreateRunnerRequest) (gitlab.Runner, error) {
	return gitlab.Runner{}, n.fail()
}
func (n noCreateAPI) RunnerDetails(context.Context, string, int64) (gitlab.RunnerDetails, error) {
	return gitlab.RunnerDetails{}, n.fail()
}
func (n noCreateAPI) UpdateRunner(context.Context, string, int64, gitlab.RunnerUpdate) (gitlab.RunnerDetails, error) {
	return gitlab.RunnerDetails{}, n.fail()
}
func (n noCreateAPI) DeleteRunner(context.Context, string, int64) error { return n.fail() }

func TestPlanAddStale(t *testing.T) {
	chosen := fleet.Runner{Name: "chosen", URL: "https://gitlab.example.com", Token: "glrt-CHOSENCHOSENCHOSEN12"}
	found := fleet.Runner{Name: "found", URL: "https://gitlab.example.com", Token: "glrt-FOUNDFOUNDFOUNDFOUND"}
	checks := []probe.Result{{ID: "runner.found.token", Status: probe.Warn, Data: fleet.Stale{Runner: found}}}
	for _, tt := range []struct {
		name       string
		opts       ApplyOptions
		wantPruned []string
	}{
		{"the review's choice only", ApplyOptions{Prune: []fleet.Runner{chosen}}, []string{"chosen"}},
		{"--prune-stale adds what the checks found", ApplyOptions{Prune: []fleet.Runner{chosen}, PruneStale: true}, []string{"chosen", "found"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := Plan{pruneStale: tt.opts.PruneStale}
			p.setStale(tt.opts.Prune)
			p = p.afterChecks(checked{results: checks})
			var names []string
			for i, r := range p.Prune {
				names = append(names, r.Name)
				if r.Token == p.stale[i].Token || !strings.HasPrefix(r.Token, "glrt-…") {
					t.Errorf("the plan shows token %q, want it redacted", r.Token)
				}
			}
			if strings.Join(names, ",") != strings.Join(tt.wantPruned, ",") || len(p.stale) != len(p.Prune) {
				t.Errorf("prune = %v, want %v", names, tt.wantPruned)
			}
		})
	}
}

func TestRunChecksHostOnly(t *testing.T) {
	s := newStageSetup(t, curatedConfig, answersFor("dind", "glrt-ROTATEDROTATEDROTATED", ""))
	l := s.load(t)
	plan := s.plan(t, l)
	if l.inputs != nil {
		t.Fatalf("host checks read no inputs: %+v", l.inputs)
	}
	c, err := l.runChecks(context.Background(), plan, s.opts, fleetApply)
	if err != nil {
		t.Fatal(err)
	}
	results, warnings := c.results, c.warnings
	if len(warnings) != 1 || warnings[0].Field != "probes" {
		t.Errorf("warnings = %+v, want the skipped-probes one", warnings)
	}
	if len(results) == 0 || results[0].Finding != FindingTokenRotated {
		t.Fatalf("the kept rotated token comes first: %+v", results)
	}
	for _, r := range results {
		if strings.HasPrefix(r.ID, "gitlab.") || strings.HasPrefix(r.ID, "image.") || strings.HasPrefix(r.ID, "daemon.") {
			t.Errorf("a live check ran with SkipProbes: %s", r.ID)
		}
	}
}

func TestRenderStage(t *testing.T) {
	tests := []struct {
		name, answers string
		sysIDFile     bool
		changed       bool
		systemIDFile  bool
	}{
		{"nothing to change", answersFor("dind", "glrt-DINDDINDDINDDINDDIND", "[docker]\nimage = \"docker:27\"\n"), false, false, false},
		{"a change writes the system id with config.toml", answersFor("dind", "glrt-DINDDINDDINDDINDDIND", "[docker]\nimage = \"docker:28\"\n"), false, true, true},
		{"the system id file is there already", answersFor("dind", "glrt-DINDDINDDINDDINDDIND", "[docker]\nimage = \"docker:28\"\n"), true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStageSetup(t, curatedConfig, tt.answers)
			if tt.sysIDFile {
				s.writeSystemID(t)
			}
			_, _, res, r := s.loadAndRender(t)
			if res.Changed != tt.changed || res.ConfigTOML.Changed != tt.changed || (res.SystemID != nil) != tt.systemIDFile {
				t.Errorf("changed %v, config.toml %v, system id %+v", res.Changed, res.ConfigTOML.Changed, res.SystemID)
			}
			if tt.changed && !strings.Contains(res.ConfigTOML.Diff, `+    image = "docker:28"`) {
				t.Errorf("diff:\n%s", res.ConfigTOML.Diff)
			}
			if strings.Contains(res.ConfigTOML.Diff, "glrt-DINDDIND") {
				t.Errorf("the diff shows the token:\n%s", res.ConfigTOML.Diff)
			}
			if len(r.write) != 1+map[bool]int{true: 1}[tt.systemIDFile] {
				t.Errorf("files to write: %+v", r.write)
			}
			if now, _ := os.ReadFile(s.config); string(now) != curatedConfig {
				t.Errorf("render wrote config.toml")
			}
		})
	}
}

// TestWriteRendersAgain: when another process changed config.toml between
// load and write, the write stage renders again from those bytes (and says
// so in the result): neither edit is lost.
func TestWriteRendersAgain(t *testing.T) {
	s := newStageSetup(t, curatedConfig, answersFor("dind", "glrt-DINDDINDDINDDINDDIND", "[docker]\nimage = \"docker:28\"\n"))
	l, plan, res, r := s.loadAndRender(t)
	// Another apply appends a runner meanwhile (and moves "dind").
	other := "[[runners]]\n  name = \"first\"\n  url = \"https://gitlab.example.com\"\n  token = \"glrt-FIRSTFIRSTFIRSTFIRST\"\n  executor = \"shell\"\n\n"
	if err := os.WriteFile(s.config, []byte(other+curatedConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := l.write(r, *plan, credResult{action: res.Runner.Action}, s.opts)
	if err != nil {
		t.Fatal(err)
	}
	res = l.result(*plan, credResult{}, checked{}, w)
	got, _ := os.ReadFile(s.config)
	want := other + strings.Replace(curatedConfig, `image = "docker:27"`, `image = "docker:28"`, 1)
	if string(got) != want {
		t.Errorf("config.toml after a concurrent change:\n%s", got)
	}
	if !res.ConfigTOML.Changed || res.ConfigTOML.Backup == "" || strings.Contains(res.ConfigTOML.Diff, "FIRST") {
		t.Errorf("result: %+v", res.ConfigTOML)
	}
	if b, _ := os.ReadFile(res.ConfigTOML.Backup); string(b) != other+curatedConfig {
		t.Errorf("the backup is not the version the write replaced")
	}
}
