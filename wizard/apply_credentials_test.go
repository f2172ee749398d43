package wizard

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/gitlab"
)

// recordingAPI is a GitLab that records the calls apply's credentials
// steps make; verifyErr is what verify answers.
type recordingAPI struct {
	calls     *[]string
	verifyErr error
}

func (r recordingAPI) add(call string) { *r.calls = append(*r.calls, call) }

func (r recordingAPI) Verify(_ context.Context, token, systemID string) (gitlab.Runner, error) {
	r.add("verify " + systemID)
	return gitlab.Runner{ID: 42}, r.verifyErr
}
func (r recordingAPI) Register(context.Context, gitlab.RegisterRequest) (gitlab.Runner, error) {
	r.add("register")
	return gitlab.Runner{ID: 43, Token: "glrt-ISSUEDISSUEDISSUED12"}, nil
}
func (r recordingAPI) TokenSelf(context.Context, string) (gitlab.TokenInfo, error) {
	r.add("token-self")
	return gitlab.TokenInfo{}, nil
}
func (r recordingAPI) Project(context.Context, string, string) (gitlab.Project, error) {
	r.add("project")
	return gitlab.Project{}, nil
}
func (r recordingAPI) Group(context.Context, string, string) (gitlab.Group, error) {
	r.add("group")
	return gitlab.Group{}, nil
}
func (r recordingAPI) CreateRunner(_ context.Context, _ string, req gitlab.CreateRunnerRequest) (gitlab.Runner, error) {
	r.add("create")
	return gitlab.Runner{ID: 44, Token: "glrt-CREATEDCREATEDCREATE"}, nil
}
func (r recordingAPI) RunnerDetails(context.Context, string, int64) (gitlab.RunnerDetails, error) {
	r.add("details")
	return gitlab.RunnerDetails{}, nil
}
func (r recordingAPI) UpdateRunner(_ context.Context, _ string, id int64, _ gitlab.RunnerUpdate) (gitlab.RunnerDetails, error) {
	r.add("update")
	return gitlab.RunnerDetails{}, nil
}
func (r recordingAPI) DeleteRunner(context.Context, string, int64) error {
	r.add("delete")
	return nil
}

// TestCredentialsBeforeChecks: what happens with GitLab before the
// checks, as the plan says.
func TestCredentialsBeforeChecks(t *testing.T) {
	tests := []struct {
		name, config, answers string
		opts                  func(*ApplyOptions)
		verifyErr             error
		wantCalls             string
		wantAction            string
		wantToken             string // what config.toml gets ("": those on disk stay)
		wantErr               any
		wantWarning           string
	}{
		{name: "keep: nothing contacted, the entry's id", config: curatedConfig, answers: answersFor("dind", "glrt-DINDDINDDINDDINDDIND", ""),
			wantAction: "kept"},
		{name: "verify with the id verify calls send", config: curatedConfig, answers: answersFor("fresh", "glrt-FRESHFRESHFRESHFRESH", "[runner]\nexecutor = \"shell\"\n"),
			wantCalls: "verify VERIFY", wantAction: "verified", wantToken: "glrt-FRESHFRESHFRESHFRESH"},
		{name: "verify refused: a check error", config: curatedConfig, answers: answersFor("fresh", "glrt-FRESHFRESHFRESHFRESH", "[runner]\nexecutor = \"shell\"\n"),
			verifyErr: gitlab.ErrTokenInvalid, wantCalls: "verify VERIFY", wantErr: &CheckError{}},
		{name: "--offline: written unverified, with a warning", config: curatedConfig, answers: answersFor("fresh", "glrt-FRESHFRESHFRESHFRESH", "[runner]\nexecutor = \"shell\"\n"),
			opts: func(o *ApplyOptions) { o.Offline = true }, wantAction: "unverified", wantToken: "glrt-FRESHFRESHFRESHFRESH", wantWarning: "not verified (--offline)"},
		{name: "register: a config.toml runnerup cannot edit stops it before GitLab", config: "runners = [{name = \"y\"}]\n", answers: answersFor("fresh", "GR1348941REGREGREGREGREG", "[runner]\nexecutor = \"shell\"\n"),
			wantErr: &InputError{}},
		{name: "register: nothing yet", config: curatedConfig, answers: answersFor("fresh", "GR1348941REGREGREGREGREG", "[runner]\nexecutor = \"shell\"\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStageSetup(t, tt.config, tt.answers)
			var calls []string
			s.opts.NewGitLab = func(string, gitlab.Options) (RunnerAPI, error) {
				return recordingAPI{calls: &calls, verifyErr: tt.verifyErr}, nil
			}
			if tt.opts != nil {
				tt.opts(&s.opts)
			}
			l := s.load(t)
			plan := s.plan(t, l)
			c, err := l.credentialsBeforeChecks(context.Background(), plan, s.opts)
			if got := strings.ReplaceAll(strings.Join(calls, ","), plan.SystemID.Verify, "VERIFY"); got != tt.wantCalls {
				t.Errorf("calls %q, want %q", got, tt.wantCalls)
			}
			switch tt.wantErr.(type) {
			case *CheckError:
				var ce *CheckError
				if !errors.As(err, &ce) || ce.Check != "gitlab.token" {
					t.Fatalf("err = %v, want a gitlab.token CheckError", err)
				}
				return
			case *InputError:
				var ie *InputError
				if !errors.As(err, &ie) {
					t.Fatalf("err = %v, want an InputError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.action != tt.wantAction {
				t.Errorf("action %q, want %q", c.action, tt.wantAction)
			}
			if tt.wantAction == "kept" && c.id != plan.Runner.ID || tt.wantAction == "verified" && c.id != 42 {
				t.Errorf("id %d", c.id)
			}
			if token := ""; c.write != nil && c.write.Token != tt.wantToken || c.write == nil && tt.wantToken != token {
				t.Errorf("credentials to write %+v, want token %q", c.write, tt.wantToken)
			}
			if w := tt.wantWarning; w != "" && (len(c.warnings) != 1 || !strings.Contains(c.warnings[0].Problem, w)) {
				t.Errorf("warnings %+v, want %q", c.warnings, w)
			}
		})
	}
}

// TestCredentialsAfterChecks: what happens with GitLab once the checks
// passed, with what they found.
func TestCredentialsAfterChecks(t *testing.T) {
	settings := createFound{runnerID: 5, settings: []SettingChange{{Key: "paused", From: "false", To: "true"}}}
	tests := []struct {
		name, answers string
		dryRun        bool
		found         createFound
		wantCalls     string
		want          credResult // action, id, createdIn, settingsUpdated, created, registered
		wantToken     string
	}{
		{name: "register, dry run: a placeholder", answers: answersFor("fresh", "GR1348941REGREGREGREGREG", "[runner]\nexecutor = \"shell\"\n"), dryRun: true,
			want: credResult{action: "would-register"}, wantToken: registrationPlaceholder},
		{name: "register", answers: answersFor("fresh", "GR1348941REGREGREGREGREG", "[runner]\nexecutor = \"shell\"\n"),
			wantCalls: "register", want: credResult{action: "registered", id: 43, registered: true}, wantToken: "glrt-ISSUEDISSUEDISSUED12"},
		{name: "create, dry run", answers: createAnswersFor("fresh", "[runner]\nexecutor = \"shell\"\n"), dryRun: true, found: createFound{projectID: 9, targetID: 9},
			want: credResult{action: "would-create", createdIn: "project group/app (#9)"}, wantToken: registrationPlaceholder},
		{name: "create where the checks found", answers: createAnswersFor("fresh", "[runner]\nexecutor = \"shell\"\n"), found: createFound{projectID: 9, targetID: 9},
			wantCalls: "create", want: credResult{action: "created", id: 44, createdIn: "project group/app (#9)", created: true}, wantToken: "glrt-CREATEDCREATEDCREATE"},
		{name: "created before, settings differ: updated", answers: createAnswersFor("dind", ""), found: settings,
			wantCalls: "update", want: credResult{action: "kept", id: 5, settingsUpdated: true}},
		{name: "created before, settings differ, dry run: not updated", answers: createAnswersFor("dind", ""), found: settings, dryRun: true,
			want: credResult{action: "kept", id: 5}},
		{name: "deleted in GitLab, --recreate, dry run", answers: createAnswersFor("dind", ""), dryRun: true, found: createFound{recreate: true, projectID: 9, targetID: 9},
			want: credResult{action: "would-recreate", createdIn: "project group/app (#9)"}, wantToken: registrationPlaceholder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStageSetup(t, curatedConfig, tt.answers)
			var calls []string
			s.opts.NewGitLab = func(string, gitlab.Options) (RunnerAPI, error) { return recordingAPI{calls: &calls}, nil }
			s.opts.DryRun = tt.dryRun
			l := s.load(t)
			plan := s.plan(t, l)
			before, err := l.credentialsBeforeChecks(context.Background(), plan, s.opts)
			if err != nil {
				t.Fatal(err)
			}
			calls = nil
			plan = plan.afterChecks(checked{create: tt.found})
			c, err := l.credentialsAfterChecks(context.Background(), plan, tt.found, s.opts, before)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(calls, ","); got != tt.wantCalls {
				t.Errorf("calls %q, want %q", got, tt.wantCalls)
			}
			token := ""
			if c.write != nil {
				token = c.write.Token
			}
			c.write, c.warnings = nil, nil
			if !reflect.DeepEqual(c, tt.want) || token != tt.wantToken {
				t.Errorf("got %+v token %q, want %+v token %q", c, token, tt.want, tt.wantToken)
			}
		})
	}
}
