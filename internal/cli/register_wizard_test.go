package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/tui"
)

// runnerup register in a terminal opens the wizard with the flags filled
// in; --leave-runner must reach the wizard's write as it reaches apply's
// (it did not: a failed write unregistered the runner anyway).
func TestRegisterWizardPassesLeaveRunner(t *testing.T) {
	for _, tt := range []struct {
		name  string
		extra []string
		want  bool
	}{
		{"without", nil, false},
		{"with --leave-runner", []string{"--leave-runner"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			d := &Deps{IO: &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, stdinTTY: true, stdoutTTY: true}}
			var got *tui.Options
			cmd := NewCmdRegister(d, func(ctx context.Context, o *RegisterOptions) error {
				o.Env = func(string) (string, bool) { return "", false }
				o.runTUI = func(_ context.Context, to tui.Options) (tui.Outcome, error) {
					got = &to
					return tui.Outcome{}, nil
				}
				return registerRun(ctx, o)
			})
			args := append([]string{"--url", "https://gitlab.example.com", "--registration-token", "GR1348941-leave-runner-test", "--executor", "shell",
				"-c", t.TempDir() + "/config.toml"}, tt.extra...)
			cmd.SetArgs(args)
			cmd.SetOut(&out)
			cmd.SetErr(&errOut)
			if err := cmd.Execute(); err != nil {
				t.Fatalf("register: %v\n%s%s", err, out.String(), errOut.String())
			}
			if got == nil {
				t.Fatalf("register in a terminal did not open the wizard:\n%s%s", out.String(), errOut.String())
			}
			if got.Prefill == nil || got.Prefill.GitLab.URL != "https://gitlab.example.com" {
				t.Errorf("wizard prefill: %+v", got.Prefill)
			}
			if got.ApplyOptions.LeaveRunner != tt.want {
				t.Errorf("the wizard's write has LeaveRunner %v, want %v", got.ApplyOptions.LeaveRunner, tt.want)
			}
		})
	}
}
