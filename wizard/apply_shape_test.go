package wizard

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/runnerup/runnerup/internal/gitlab"
	"github.com/runnerup/runnerup/internal/systemid"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/fleet"
	"github.com/runnerup/runnerup/probe/service"
	"github.com/runnerup/runnerup/probe/suite"
)

// noLiveChecks leaves the host checks (suite.Plan.Fleet) and drops the
// networked ones.
func noLiveChecks(p *suite.Plan) {
	p.GitLab, p.Daemon, p.Images, p.Credentials, p.Runner = nil, nil, nil, nil, nil
}

// acceptAll is a GitLab that knows every runner token.
type acceptAll struct{}

func (acceptAll) Verify(context.Context, string, string) (gitlab.Runner, error) {
	return gitlab.Runner{ID: 7}, nil
}
func (acceptAll) Register(context.Context, gitlab.RegisterRequest) (gitlab.Runner, error) {
	return gitlab.Runner{ID: 8, Token: "glrt-ISSUEDISSUEDISSUED12"}, nil
}

// Found in review: load derived the system id from this host's real
// machine id while the system id check used the injected one, so one run
// could verify with one id and report another. The id comes from the
// machine id the options give, everywhere.
func TestApplyOneMachineID(t *testing.T) {
	const machineID = "0123456789abcdef0123456789abcdef"
	want := systemid.FromMachineID(machineID)
	s := newStageSetup(t, curatedConfig, answersFor("dind", "glrt-DINDDINDDINDDINDDIND", "[docker]\nimage = \"docker:28\"\n"))
	s.opts.DryRun = true
	s.opts.MachineID = func() (string, error) { return machineID, nil }
	res, err := Apply(context.Background(), s.p, s.opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.SystemID.ID != want || res.Plan.SystemID.Verify != want || res.Runner.SystemID != want {
		t.Errorf("system id: plan %+v, runner %q; want %s (from the injected machine id)", res.Plan.SystemID, res.Runner.SystemID, want)
	}
	i := slices.IndexFunc(res.Checks, func(r probe.Result) bool { return r.ID == fleet.IDSystemID })
	if i < 0 || !strings.Contains(res.Checks[i].Detail, want) {
		t.Errorf("the system id check does not name %s: %+v", want, res.Checks)
	}
}

// Found in review: `check`, `probe --config` and the wizard's live checks
// asked a Docker daemon reached over the network (DOCKER_HOST=tcp://) for
// a gitlab-runner container before they read config.toml; apply reads
// every local input first. A file that cannot be read stops them before
// any networked daemon is asked, and a good one is read before it is.
func TestLocalInputsBeforeRemoteDaemon(t *testing.T) {
	const remote = "tcp://127.0.0.1:9"
	commands := []struct {
		name string
		run  func(ApplyOptions) error
	}{
		{"check", func(o ApplyOptions) error { _, _, err := CheckHost(context.Background(), o, false); return err }},
		{"probe --config", func(o ApplyOptions) error { _, _, err := ProbeConfig(context.Background(), o); return err }},
		{"wizard live checks", func(o ApplyOptions) error {
			a := &Answers{Version: 1}
			a.GitLab.Name, a.GitLab.URL = "sh", "https://gitlab.example.com"
			a.Runner.Executor = "shell"
			_, err := ProbeAnswers(context.Background(), a, o)
			return err
		}},
	}
	for _, cmd := range commands {
		for _, config := range []string{"[[runners]\n", curatedConfig} {
			bad := config != curatedConfig
			t.Run(cmd.name+map[bool]string{true: ", bad config.toml", false: ""}[bad], func(t *testing.T) {
				dir := t.TempDir()
				cfg := filepath.Join(dir, "config.toml")
				if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
					t.Fatal(err)
				}
				var mu sync.Mutex
				var asked []string // the daemons detection was asked, "" = DOCKER_HOST's
				env := func(k string) (string, bool) {
					if k == "DOCKER_HOST" {
						return remote, true
					}
					return "", false
				}
				o := ApplyOptions{
					ConfigPath: cfg, DockerConfigDir: filepath.Join(dir, "docker"), Env: env,
					Paths: PathEnv{Home: dir, Cwd: dir, Env: env},
					DetectService: func(_ context.Context, host string) ([]service.Install, error) {
						mu.Lock()
						defer mu.Unlock()
						asked = append(asked, host)
						return nil, nil
					},
					NewGitLab: func(string, gitlab.Options) (RunnerAPI, error) { return acceptAll{}, nil },
				}
				o.Probe.Tweak = noLiveChecks
				err := cmd.run(o)
				mu.Lock()
				defer mu.Unlock()
				networked := slices.DeleteFunc(slices.Clone(asked), func(h string) bool { return h == NoDockerDaemon })
				switch {
				case bad && err == nil:
					t.Fatalf("a bad config.toml gave no error")
				case bad && len(networked) > 0:
					t.Errorf("with a bad config.toml the networked daemon was asked (detection calls %q)", asked)
				case !bad && len(networked) != 1:
					t.Errorf("detection calls %q: want the networked daemon asked once, after the local look", asked)
				case !bad && asked[0] != NoDockerDaemon:
					t.Errorf("detection calls %q: the first must leave the networked daemon out", asked)
				}
			})
		}
	}
}

// Found in review: a dry run that changes nothing printed "plan: … system
// id …, written with config.toml" above "no changes". The plan in the
// result says what happens: the id is written only when config.toml
// changes.
func TestPlanLineSystemIDWrite(t *testing.T) {
	for _, tt := range []struct {
		name, image string
		written     bool
	}{
		{"no change", "docker:27", false},
		{"a change", "docker:28", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newStageSetup(t, curatedConfig, answersFor("dind", "glrt-DINDDINDDINDDINDDIND", "[docker]\nimage = \""+tt.image+"\"\n"))
			s.opts.DryRun = true
			res, err := Apply(context.Background(), s.p, s.opts)
			if err != nil {
				t.Fatal(err)
			}
			line := res.Plan.String()
			says := strings.Contains(line, "written with config.toml")
			if res.Changed != tt.written || says != tt.written || (res.SystemID != nil) != tt.written {
				t.Errorf("changed %v, system id file %+v, plan line %q: want the id written %v", res.Changed, res.SystemID, line, tt.written)
			}
		})
	}
}

// The wizard's review: a dry run whose caller ran the live checks itself
// plans them as the write runs them (its plan says live checks) and runs
// only the host checks, without the skipped-checks warning.
func TestDryRunLiveChecksDone(t *testing.T) {
	s := newStageSetup(t, curatedConfig, answersFor("dind", "glrt-DINDDINDDINDDINDDIND", "[docker]\nimage = \"docker:28\"\n"))
	s.opts.DryRun, s.opts.SkipProbes, s.opts.LiveChecksDone = true, false, true
	s.opts.Probe.Tweak = func(p *suite.Plan) {
		if p.GitLab != nil || p.Daemon != nil || len(p.Images) > 0 {
			t.Errorf("the dry run ran live checks: %+v", p)
		}
	}
	res, err := Apply(context.Background(), s.p, s.opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.Checks != ChecksLive || !strings.Contains(res.Plan.String(), "; live checks;") {
		t.Errorf("plan %q: want the live checks the write runs", res.Plan)
	}
	for _, w := range res.Warnings {
		if w.Field == "probes" {
			t.Errorf("warning %q: the caller ran the live checks", w)
		}
	}
	if !slices.ContainsFunc(res.Checks, func(r probe.Result) bool { return r.ID == fleet.IDDuplicates }) {
		t.Errorf("the host checks did not run: %+v", res.Checks)
	}
}
