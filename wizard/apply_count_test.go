package wizard

import (
	"context"
	"os"
	"testing"

	"github.com/runnerup/runnerup/internal/gitlab"
	"github.com/runnerup/runnerup/internal/runnerconf"
	"github.com/runnerup/runnerup/probe/suite"
)

// changingAPI verifies any token; verify first runs change, another
// process writing config.toml while apply runs.
type changingAPI struct {
	acceptAll
	change func()
}

func (c changingAPI) Verify(ctx context.Context, token, id string) (gitlab.Runner, error) {
	c.change()
	return c.acceptAll.Verify(ctx, token, id)
}

// Found in review: one apply decoded config.toml up to 15 times and
// looked for its runner up to 4 times (load, the placeholder render, the
// render stage, the plan's and prune's entry lists, the fleet checks, the
// helper images). load decodes it once and finds the runner once; render,
// prune and the checks take that; only a file another process changed
// under the lock is decoded and searched again.
func TestApplyDecodesConfigOnce(t *testing.T) {
	dup := curatedConfig + "\n[[runners]]\n  name = \"sh2\"\n  url = \"https://gitlab.example.com\"\n  token = \"glrt-SHELLSHELLSHELLSHELL\"\n  executor = \"shell\"\n"
	daemonOnly := func(p *suite.Plan) {
		// The daemon checks build the helper image specs from the entries;
		// a refused daemon is enough, nothing else leaves the host.
		p.GitLab, p.Images, p.Credentials = nil, nil, nil
		if p.Daemon != nil {
			p.Daemon.Host = "tcp://127.0.0.1:1"
		}
	}
	tests := []struct {
		name, config, answers string
		opts                  func(*stageSetup)
		probe                 bool // wizard.Probe, not Apply
		want                  runnerconf.Counts
	}{
		{name: "keep, a change", config: curatedConfig, answers: answersFor("dind", "glrt-DINDDINDDINDDINDDIND", "[docker]\nimage = \"docker:28\"\n"),
			want: runnerconf.Counts{Decodes: 1, Lookups: 1}},
		{name: "keep, nothing to change", config: curatedConfig, answers: answersFor("dind", "glrt-DINDDINDDINDDINDDIND", "[docker]\nimage = \"docker:27\"\n"),
			want: runnerconf.Counts{Decodes: 1, Lookups: 1}},
		{name: "dry run", config: curatedConfig, answers: answersFor("dind", "glrt-DINDDINDDINDDINDDIND", "[docker]\nimage = \"docker:28\"\n"),
			opts: func(s *stageSetup) { s.opts.DryRun = true }, want: runnerconf.Counts{Decodes: 1, Lookups: 1}},
		{name: "register a new runner (placeholder render first)", config: curatedConfig, answers: answersFor("fresh", "GR1348941REGREGREGREGREG", "[runner]\nexecutor = \"shell\"\n"),
			opts: func(s *stageSetup) {
				s.opts.NewGitLab = func(string, gitlab.Options) (RunnerAPI, error) { return acceptAll{}, nil }
			}, want: runnerconf.Counts{Decodes: 1, Lookups: 1}},
		{name: "--prune-duplicates", config: dup, answers: answersFor("dind", "glrt-DINDDINDDINDDINDDIND", "[docker]\nimage = \"docker:28\"\n"),
			opts: func(s *stageSetup) { s.opts.PruneDuplicates = true }, want: runnerconf.Counts{Decodes: 1, Lookups: 1}},
		{name: "live host and daemon checks", config: curatedConfig, answers: answersFor("dind", "glrt-DINDDINDDINDDINDDIND", "[docker]\nimage = \"docker:28\"\n"),
			opts: func(s *stageSetup) { s.opts.SkipProbes, s.opts.Probe.Tweak = false, daemonOnly },
			want: runnerconf.Counts{Decodes: 1, Lookups: 1}},
		{name: "probe --answers", config: curatedConfig, answers: answersFor("dind", "glrt-DINDDINDDINDDINDDIND", "[docker]\nimage = \"docker:28\"\n"),
			opts: func(s *stageSetup) { s.opts.Probe.Tweak = daemonOnly }, probe: true,
			want: runnerconf.Counts{Decodes: 1, Lookups: 1}},
		{name: "config.toml changed under the lock", config: curatedConfig, answers: answersFor("fresh", "glrt-FRESHFRESHFRESHFRESH", "[runner]\nexecutor = \"shell\"\n"),
			opts: func(s *stageSetup) {
				api := changingAPI{change: func() { _ = os.WriteFile(s.config, []byte("# another process\n"+curatedConfig), 0o600) }}
				s.opts.NewGitLab = func(string, gitlab.Options) (RunnerAPI, error) { return api, nil }
			}, want: runnerconf.Counts{Decodes: 2, Lookups: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStageSetup(t, tt.config, tt.answers)
			if tt.opts != nil {
				tt.opts(s)
			}
			before := runnerconf.Counted()
			var err error
			if tt.probe {
				_, err = Probe(context.Background(), s.p, s.opts)
			} else {
				_, err = Apply(context.Background(), s.p, s.opts)
			}
			after := runnerconf.Counted()
			if err != nil && s.opts.Probe.Tweak == nil {
				t.Fatal(err)
			}
			got := runnerconf.Counts{Decodes: after.Decodes - before.Decodes, Lookups: after.Lookups - before.Lookups}
			if got != tt.want {
				t.Errorf("config.toml decoded %d time(s), runner looked up %d time(s); want %d and %d", got.Decodes, got.Lookups, tt.want.Decodes, tt.want.Lookups)
			}
		})
	}
}
