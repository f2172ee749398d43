package wizard

import (
	"testing"

	"github.com/runnerup/runnerup/probe/service"
)

// TestNextStepsServiceAction: the one-word service action automation
// reads agrees with the prose of next_steps for every install kind.
func TestNextStepsServiceAction(t *testing.T) {
	const path = "/etc/gitlab-runner/config.toml"
	running := &service.Install{Name: "gitlab-runner.service", ConfigPath: path, Running: true, State: "active", RestartCommand: "systemctl restart gitlab-runner.service"}
	stopped := &service.Install{Name: "gitlab-runner.service", ConfigPath: path, State: "inactive", RestartCommand: "systemctl restart gitlab-runner.service"}
	unknown := &service.Install{Name: "gitlab-runner.service", ConfigPath: path, State: "unknown", RestartCommand: "systemctl restart gitlab-runner.service"}
	elsewhere := &service.Install{Name: "gitlab-runner.service", ConfigPath: "/srv/runner/config.toml", Running: true, State: "active"}
	tests := []struct {
		name       string
		changed    bool
		newID      bool
		svc        *service.Install
		detected   bool
		wantAction string
	}{
		{"nothing changed", false, false, running, true, ServiceActionNone},
		{"running service reloads", true, false, running, true, ServiceActionNone},
		{"running service with a new system id", true, true, running, true, ServiceActionRestart},
		{"stopped service", true, false, stopped, true, ServiceActionStart},
		{"state unknown", true, false, unknown, true, ServiceActionStart},
		{"no service found", true, false, nil, true, ServiceActionManual},
		{"service reads another file", true, false, elsewhere, true, ServiceActionManual},
		{"not looked for", true, false, nil, false, ServiceActionStart},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &ApplyResult{Changed: tt.changed, ConfigTOML: FileChange{Path: path}}
			if tt.newID {
				res.SystemID = &FileChange{Path: "/etc/gitlab-runner/.runner_system_id", Changed: true}
			}
			steps, action := nextSteps(res, tt.svc, tt.detected)
			if action != tt.wantAction {
				t.Errorf("action = %q, want %q (steps %q)", action, tt.wantAction, steps)
			}
			if tt.changed != (len(steps) > 0) {
				t.Errorf("steps = %q for changed=%v", steps, tt.changed)
			}
		})
	}
}
