package credentials

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/service"
)

// whoamiHelper answers get for any server with a user naming the uid and
// HOME it ran with; it needs /usr/bin/id, so the service PATH must have
// /usr/bin.
const whoamiHelper = `#!/bin/sh
case "$1" in
get) IFS= read -r server || true
     printf '{"ServerURL":"%s","Username":"uid-%s-home-%s","Secret":"pw-whoami-6c5d4e"}' "$server" "$(id -u)" "$HOME"; exit 0 ;;
esac
exit 1
`

// unitService detects a gitlab-runner.service written into a private unit
// directory (never /etc/systemd), as the CLI's detection would find it.
func unitService(t *testing.T, serviceLines ...string) *service.Install {
	t.Helper()
	dir := t.TempDir()
	unit := "[Unit]\nDescription=GitLab Runner\n\n[Service]\n" +
		"ExecStart=/usr/bin/gitlab-runner \"run\" \"--config\" \"/etc/gitlab-runner/config.toml\" \"--working-directory\" \"/home/gitlab-runner\" \"--service\" \"gitlab-runner\" \"--user\" \"gitlab-runner\"\n" +
		strings.Join(serviceLines, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "gitlab-runner.service"), []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	installs, err := service.Detect(context.Background(), service.Options{GOOS: "linux", UnitDirs: []string{dir}, UserUnitDirs: []string{}, Systemctl: "-"})
	if err != nil || len(installs) != 1 {
		t.Fatalf("Detect = %+v, %v", installs, err)
	}
	return &installs[0]
}

// binDir is a fresh directory every user may enter, holding helper as
// docker-credential-rup when helper is not "".
func binDir(t *testing.T, helper string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "rup-bin-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if helper != "" {
		if err := os.WriteFile(filepath.Join(dir, "docker-credential-rup"), []byte(helper), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestHelpersFromTheRunnersVantagePoint: the helper is looked up and run
// with the service's PATH, not the PATH of the process running the
// check; the test process's PATH and the unit's differ on purpose.
func TestHelpersFromTheRunnersVantagePoint(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("systemd units: linux only")
	}
	pw("pw-script-4d5e6f")
	const cfg = `{"credHelpers":{"reg.example.com":"rup"}}`
	helper := fakeHelperScript
	tests := []struct {
		name       string
		onUserPATH bool // the helper is on the test process's PATH
		onUnitPATH bool // … in a directory only the unit's PATH has
		unitPATH   string
		noService  bool
		wantStatus probe.Status
		wantDetail []string
		wantHint   []string
	}{
		{name: "only on your PATH: the service cannot run it", onUserPATH: true, unitPATH: "/usr/sbin:/usr/bin",
			wantStatus: probe.Fail,
			wantDetail: []string{"found on your PATH (USERBIN), not on the service's PATH (/usr/sbin:/usr/bin", "Environment=PATH of gitlab-runner.service"},
			wantHint:   []string{"sudo install -m 0755 USERBIN/docker-credential-rup /usr/sbin/", "no /usr/local/bin", "sudo systemctl edit gitlab-runner.service", "Environment=PATH=USERBIN:/usr/sbin:/usr/bin"}},
		{name: "only on the service's PATH: passes", onUnitPATH: true, unitPATH: "UNITBIN:/usr/sbin:/usr/bin",
			wantStatus: probe.Pass, wantDetail: []string{"UNITBIN/docker-credential-rup", `get answered for "reg.example.com" (user alice)`}},
		{name: "no PATH in the unit: systemd's default", onUserPATH: true,
			wantStatus: probe.Fail,
			wantDetail: []string{"found on your PATH (USERBIN), not on the service's PATH (/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin", "systemd's default PATH for services"},
			wantHint:   []string{"sudo install -m 0755 USERBIN/docker-credential-rup /usr/local/bin/"}},
		{name: "no service: the deb/rpm unit's PATH", onUserPATH: true, noService: true,
			wantStatus: probe.Fail,
			wantDetail: []string{"found on your PATH (USERBIN), not on the runner's PATH (/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin", "no gitlab-runner service was found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			userBin, unitBin := binDir(t, ""), binDir(t, "")
			if tt.onUserPATH {
				userBin = binDir(t, helper)
			}
			if tt.onUnitPATH {
				unitBin = binDir(t, helper)
			}
			t.Setenv("PATH", userBin+":/usr/bin:/bin")
			sub := strings.NewReplacer("USERBIN", userBin, "UNITBIN", unitBin)
			var in *service.Install
			if !tt.noService {
				var lines []string
				if tt.unitPATH != "" {
					lines = append(lines, "Environment=PATH="+sub.Replace(tt.unitPATH))
				}
				in = unitService(t, lines...)
			}
			o := DefaultProcessOptions()
			o.MergedUsr = true
			r := Resolver{HomeDir: "/nonexistent", ConfigJSON: []byte(cfg), ConfigJSONPath: homeCfg, Process: RunnerProcess(in, o)}

			res, err := r.Resolve(context.Background(), "reg.example.com/app")
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantStatus == probe.Pass {
				if !res.Found || res.Credential.Username != "alice" {
					t.Errorf("Resolve: found=%v user %q; sources %+v", res.Found, res.Credential.Username, res.Sources)
				}
			} else if s := res.Sources[1]; s.Status != StatusDropped || s.Cause != CauseHelperMissing {
				t.Errorf("home source = %s %s: %s", s.Status, s.Cause, s.Reason)
			}
			var got probe.Result
			for _, c := range Checks(r, []string{"reg.example.com/app"}) {
				if c.ID == HelperCheckID("rup") {
					got = c.Run(context.Background(), nil)
				}
			}
			if got.Status != tt.wantStatus {
				t.Fatalf("helper.rup = %s: %s (hint %s)", got.Status, got.Detail, got.Hint)
			}
			for _, w := range tt.wantDetail {
				if !strings.Contains(got.Detail, sub.Replace(w)) {
					t.Errorf("detail lacks %q:\n%s", sub.Replace(w), got.Detail)
				}
			}
			for _, w := range tt.wantHint {
				if !strings.Contains(got.Hint, sub.Replace(w)) {
					t.Errorf("hint lacks %q:\n%s", sub.Replace(w), got.Hint)
				}
			}
			assertNoSecrets(t, tt.name, append(allTexts(res), got.Detail, got.Hint)...)
		})
	}
}

// TestHelperRunsAsTheServicesUser: runnerup as root runs a helper of a
// User= service as that user, with its HOME (ecr-login reads ~/.aws).
func TestHelperRunsAsTheServicesUser(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("needs root to switch users")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	pw("pw-whoami-6c5d4e")
	bin := binDir(t, whoamiHelper)
	svcHome := binDir(t, "")
	in := unitService(t, "User=nobody", "Environment=PATH="+bin+":/usr/sbin:/usr/bin", "Environment=HOME="+svcHome)
	r := Resolver{HomeDir: "/nonexistent", ConfigJSON: []byte(`{"credHelpers":{"reg.example.com":"rup"}}`), ConfigJSONPath: homeCfg,
		Process: RunnerProcess(in, DefaultProcessOptions())}
	res, err := r.Resolve(context.Background(), "reg.example.com/app")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("uid-%s-home-%s", nobody.Uid, svcHome)
	if !res.Found || res.Credential.Username != want {
		t.Errorf("helper answered user %q, want %q (sources %+v)", res.Credential.Username, want, res.Sources)
	}
	for _, c := range Checks(r, []string{"reg.example.com/app"}) {
		if c.ID != HelperCheckID("rup") {
			continue
		}
		got := c.Run(context.Background(), nil)
		if got.Status != probe.Pass || !strings.Contains(got.Detail, "run as nobody") {
			t.Errorf("helper.rup = %s: %s", got.Status, got.Detail)
		}
	}
}
