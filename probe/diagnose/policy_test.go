package diagnose

import (
	"slices"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/probe"
)

// TestPullPolicyRule: the job's image:pull_policy, [runners.docker]
// pull_policy and allowed_pull_policies combine exactly as GitLab Runner
// 19.4 combines them (executors/docker/internal/pull/manager.go
// GetDockerImage, common/config.go GetPullPolicies and
// GetAllowedPullPolicies, helpers/pull_policies ComputeEffectivePullPolicies).
func TestPullPolicyRule(t *testing.T) {
	tests := []struct {
		name                 string
		job, config, allowed []string
		wantStatus           probe.Status
		wantDetail           string
		wantEffective        []string
		wantSource           string
	}{
		{name: "allowed without pull_policy: the default always is not allowed", allowed: []string{"if-not-present"},
			wantStatus: probe.Fail, wantSource: "Runner config (default)",
			wantDetail: `invalid pull policy for image "IMG": pull_policy ([always]) defined in Runner config (default) is not one of the allowed_pull_policies ([if-not-present])`},
		{name: "the job's always against an if-not-present runner", job: []string{"always"}, config: []string{"if-not-present"}, allowed: []string{"if-not-present"},
			wantStatus: probe.Fail, wantSource: "GitLab pipeline config",
			wantDetail: `invalid pull policy for image "IMG": pull_policy ([always]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([if-not-present])`},
		{name: "allowed unset: the runner's own pull_policy is the allowed list", job: []string{"if-not-present"},
			wantStatus: probe.Fail, wantSource: "GitLab pipeline config",
			wantDetail: `pull_policy ([if-not-present]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([always])`},
		{name: "allowed unset, the job picks one of the runner's", job: []string{"if-not-present"}, config: []string{"always", "if-not-present"},
			wantStatus: probe.Pass, wantEffective: []string{"if-not-present"}, wantSource: "GitLab pipeline config"},
		{name: "the job's order, limited to the allowed", job: []string{"if-not-present", "always"}, allowed: []string{"always"},
			wantStatus: probe.Pass, wantEffective: []string{"always"}, wantSource: "GitLab pipeline config"},
		{name: "a repeated policy is a retry and stays", config: []string{"always", "always"},
			wantStatus: probe.Pass, wantEffective: []string{"always", "always"}, wantSource: "Runner config"},
		{name: "policies are case-sensitive", config: []string{"Always"},
			wantStatus: probe.Fail, wantDetail: `unsupported pull_policy config: "Always"`},
		{name: "a bad pull_policy does not matter when the job sets one and allowed is set", job: []string{"if-not-present"}, config: []string{"foo"}, allowed: []string{"always", "if-not-present"},
			wantStatus: probe.Pass, wantEffective: []string{"if-not-present"}, wantSource: "GitLab pipeline config"},
		{name: "… but does when allowed falls back to it", job: []string{"always"}, config: []string{"foo"},
			wantStatus: probe.Fail, wantDetail: `unsupported pull_policy config: "foo"`},
		{name: "a bad allowed_pull_policies value", allowed: []string{"if_not_present"},
			wantStatus: probe.Fail, wantDetail: `unsupported allowed_pull_policies config: "if_not_present"`},
	}
	f := newFakeRegistry(t)
	ref := f.PushImage("lib/policy", "1", linuxAMD64)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := fakeRun(t, Options{Image: ref, JobPullPolicy: tt.job,
				Runner: &Runner{Name: "p", PullPolicy: tt.config, AllowedPullPolicies: tt.allowed}})
			r := resultOf(rep, PolicyCheckID(ref))
			if r.Status != tt.wantStatus || !strings.Contains(r.Detail, strings.ReplaceAll(tt.wantDetail, "IMG", ref)) {
				t.Fatalf("pull policy check = %s: %s\nwant %s: %s", r.Status, r.Detail, tt.wantStatus, tt.wantDetail)
			}
			if tt.wantStatus == probe.Fail {
				if len(rep.Causes) == 0 || !slices.Contains(causeIDs(rep.Causes), "policy-not-allowed") && !strings.Contains(tt.wantDetail, "unsupported") {
					t.Errorf("causes = %v, want policy-not-allowed", causeIDs(rep.Causes))
				}
				if rep.OK {
					t.Error("ok with a policy the runner refuses")
				}
			}
			if tt.wantEffective != nil && (rep.Policy == nil || !slices.Equal(rep.Policy.Effective, tt.wantEffective)) {
				t.Errorf("effective = %+v, want %v", rep.Policy, tt.wantEffective)
			}
			if tt.wantSource != "" && (rep.Policy == nil || rep.Policy.Source != tt.wantSource) {
				t.Errorf("source = %+v, want %q", rep.Policy, tt.wantSource)
			}
		})
	}
}

// TestPolicyConflictFromTheLog: issue 13 defect 4. The job log names the
// job's own policy ("defined in GitLab pipeline config"); the config alone
// then proves the conflict, so it is a cause, confirmed, not "not
// reproduced now".
func TestPolicyConflictFromTheLog(t *testing.T) {
	f := newFakeRegistry(t)
	ref := f.PushImage("lib/app", "1", linuxAMD64)
	runner := &Runner{Name: "p", PullPolicy: []string{"if-not-present"}, AllowedPullPolicies: []string{"if-not-present"}}
	log := "Using Docker executor with image " + ref + " ...\n" +
		`ERROR: Preparation failed: invalid pull policy for image "` + ref + `": pull_policy ([always]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([if-not-present])` + "\n" +
		"Will be retried in 3s ...\n"
	rep := fakeRun(t, Options{Image: ref, Runner: runner, Log: &log})
	wantCauses(t, rep, "policy-not-allowed")
	if c := rep.Causes[0]; c.Log != "confirmed" {
		t.Errorf("log = %q, want confirmed", c.Log)
	}
	wantText(t, rep.Causes[0], "defined in GitLab pipeline config", "allowed_pull_policies", "image:pull_policy")
	if rep.Policy == nil || !slices.Equal(rep.Policy.Job, []string{"always"}) {
		t.Errorf("policy = %+v, want the job's [always] from the log", rep.Policy)
	}

	// Allowed now: the log is old news.
	runner.AllowedPullPolicies = []string{"always", "if-not-present"}
	rep = fakeRun(t, Options{Image: ref, Runner: runner, Log: &log})
	wantCauses(t, rep)
	if m := rep.Log.Matches[0]; m.ID != "policy-not-allowed" || m.Verdict != VerdictNotReproduced {
		t.Errorf("log match = %+v", m)
	}
}
