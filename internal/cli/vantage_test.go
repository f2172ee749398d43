//go:build linux

package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
	"github.com/runnerup/runnerup/internal/testenv"
	"github.com/runnerup/runnerup/probe/diagnose"
	"github.com/runnerup/runnerup/probe/service"
)

// vantage is a runner host whose gitlab-runner service (a unit file in a
// private directory, never /etc/systemd) has another PATH than the test
// process: the verdicts on credential helpers must be the service's.
type vantage struct {
	d       *testenv.Dockerd
	reg     *testenv.Registry
	image   string
	gl      *fakegitlab.Server
	config  string // config.toml the unit reads
	svcHome string // HOME of the service: .docker/config.json
	userBin string // on the test process's PATH only
	unitDir string
}

const vantageToken = "glrt-t1_VantageRunnerToken0123"

func newVantage(t *testing.T) *vantage {
	t.Helper()
	v := &vantage{
		d:   testenv.StartDockerd(t, testenv.DockerdOptions{}),
		reg: testenv.StartRegistry(t, testenv.RegistryOptions{Auth: true, Password: "reg-pass-Vantage7q"}),
		gl:  fakegitlab.New(t),
	}
	v.image = v.reg.PushImage(t, v.d, "ci/app", "1.0")
	v.gl.AddRunner(vantageToken, 7001)
	dir := t.TempDir()
	v.config = filepath.Join(dir, "etc", "config.toml")
	writeFile(t, v.config, fmt.Sprintf(`concurrent = 1

[[runners]]
  name = "vantage"
  url = %q
  token = %q
  executor = "docker"
  [runners.docker]
    host = %q
    image = %q
    pull_policy = ["always"]
`, v.gl.URL, vantageToken, v.d.Host, v.image), 0o600)
	v.svcHome = filepath.Join(dir, "svc-home")
	writeFile(t, filepath.Join(v.svcHome, ".docker", "config.json"), fmt.Sprintf(`{"credHelpers":{%q:"rup"}}`, v.reg.Host), 0o600)
	v.userBin = filepath.Join(dir, "home", "me", "bin")
	if err := os.MkdirAll(v.userBin, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", v.userBin+":"+os.Getenv("PATH"))
	v.unitDir = filepath.Join(dir, "units")
	return v
}

// helper writes docker-credential-rup into dir: it answers get for the
// registry with the right credentials.
func (v *vantage) helper(t *testing.T, dir string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "docker-credential-rup"), fmt.Sprintf(`#!/bin/sh
case "$1" in
get) IFS= read -r server || true
     if [ "$server" = %q ]; then printf '{"ServerURL":"%%s","Username":%q,"Secret":%q}' "$server"; exit 0; fi
     printf 'credentials not found in native keychain'; exit 1 ;;
esac
exit 1
`, v.reg.Host, v.reg.Username, v.reg.Password), 0o755)
}

// unit writes the service's unit with PATH (none when "").
func (v *vantage) unit(t *testing.T, path string) {
	t.Helper()
	env := "Environment=HOME=" + v.svcHome + "\n"
	if path != "" {
		env += "Environment=PATH=" + path + "\n"
	}
	writeFile(t, filepath.Join(v.unitDir, "gitlab-runner.service"), fmt.Sprintf(`[Unit]
Description=GitLab Runner

[Service]
ExecStart=/usr/bin/gitlab-runner "run" "--config" %q "--working-directory" "/home/gitlab-runner" "--service" "gitlab-runner"
%s`, v.config, env), 0o644)
}

// run is runnerup args with service detection reading v.unitDir.
func (v *vantage) run(t *testing.T, args ...string) result {
	t.Helper()
	return runCLIDeps(t, func(d *Deps) {
		d.DetectService = func(ctx context.Context, _ string) ([]service.Install, error) {
			return service.Detect(ctx, service.Options{GOOS: "linux", UnitDirs: []string{v.unitDir}, UserUnitDirs: []string{}, Systemctl: "-", Euid: 0})
		}
		d.MachineID = func() (string, error) { return "0123456789abcdef0123456789abcdef", nil }
	}, t.TempDir(), env{}, args...)
}

func (v *vantage) secrets() []string {
	return []string{v.reg.Password, vantageToken}
}

type vantageJSON struct {
	OK     bool `json:"ok"`
	Causes []struct{ ID string }
	Checks []jsonCheck `json:"checks"`
}

func decodeVantage(t *testing.T, r result) vantageJSON {
	t.Helper()
	var out vantageJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("stdout is not JSON (%v):\n%s\nstderr: %s", err, r.stdout, r.stderr)
	}
	return out
}

func (o vantageJSON) check(id string) (jsonCheck, bool) {
	for _, c := range o.Checks {
		if c.ID == id {
			return c, true
		}
	}
	return jsonCheck{}, false
}

func (o vantageJSON) causes() []string {
	var ids []string
	for _, c := range o.Causes {
		ids = append(ids, c.ID)
	}
	return ids
}

// TestHelperPATHIsTheServices: issue 13 defect 2, on a real dockerd and
// htpasswd registry. The helper is on this process's PATH but not the
// unit's: diagnose, probe --config and check fail it; and the reverse
// (only on the unit's PATH) passes.
func TestHelperPATHIsTheServices(t *testing.T) {
	v := newVantage(t)
	helperID := "helper.rup"

	t.Run("only on your PATH", func(t *testing.T) {
		v.helper(t, v.userBin)
		t.Cleanup(func() { _ = os.Remove(filepath.Join(v.userBin, "docker-credential-rup")) })
		v.unit(t, "/usr/sbin:/usr/bin")
		want := fmt.Sprintf("found on your PATH (%s), not on the service's PATH (/usr/sbin:/usr/bin", v.userBin)

		r := v.run(t, "diagnose", v.image, "-o", "json")
		assertNoSecrets(t, "diagnose", r.stdout+r.stderr, v.secrets()...)
		out := decodeVantage(t, r)
		if r.code != ExitCheckFailed || len(out.Causes) == 0 || out.Causes[0].ID != "credstore-helper-missing" {
			t.Fatalf("diagnose: exit %d, causes %v\n%s%s", r.code, out.causes(), r.stdout, r.stderr)
		}
		if c, _ := out.check(helperID); c.Status != "fail" || !strings.Contains(c.Detail, want) {
			t.Errorf("diagnose %s = %s: %s", helperID, c.Status, c.Detail)
		}
		r = v.run(t, "diagnose", v.image)
		if !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "sudo systemctl edit gitlab-runner.service") {
			t.Errorf("diagnose text lacks the PATH and the fix:\n%s", r.stdout)
		}

		r = v.run(t, "probe", "--config", v.config, "-o", "json")
		assertNoSecrets(t, "probe", r.stdout+r.stderr, v.secrets()...)
		out = decodeVantage(t, r)
		if c, _ := out.check(helperID); r.code != ExitCheckFailed || c.Status != "fail" || !strings.Contains(c.Detail, want) {
			t.Errorf("probe --config: exit %d, %s = %s: %s", r.code, helperID, c.Status, c.Detail)
		}
		if c, _ := out.check("credentials." + v.reg.Host); c.Status != "fail" {
			t.Errorf("probe --config credentials = %s: %s", c.Status, c.Detail)
		}

		r = v.run(t, "check", "--config", v.config, "-o", "json")
		assertNoSecrets(t, "check", r.stdout+r.stderr, v.secrets()...)
		out = decodeVantage(t, r)
		if c, _ := out.check(helperID); r.code != ExitCheckFailed || c.Status != "fail" || !strings.Contains(c.Detail, want) {
			t.Errorf("check: exit %d, %s = %s: %s", r.code, helperID, c.Status, c.Detail)
		}
	})

	t.Run("only on the service's PATH", func(t *testing.T) {
		svcBin := filepath.Join(t.TempDir(), "opt", "bin")
		v.helper(t, svcBin)
		v.unit(t, svcBin+":/usr/sbin:/usr/bin")

		r := v.run(t, "diagnose", v.image, "-o", "json")
		assertNoSecrets(t, "diagnose", r.stdout+r.stderr, v.secrets()...)
		out := decodeVantage(t, r)
		if r.code != ExitOK || !out.OK {
			t.Fatalf("diagnose: exit %d, causes %v\n%s%s", r.code, out.causes(), r.stdout, r.stderr)
		}
		if c, _ := out.check(helperID); c.Status != "pass" || !strings.Contains(c.Detail, svcBin) {
			t.Errorf("diagnose %s = %s: %s", helperID, c.Status, c.Detail)
		}

		r = v.run(t, "probe", "--config", v.config, "-o", "json")
		assertNoSecrets(t, "probe", r.stdout+r.stderr, v.secrets()...)
		out = decodeVantage(t, r)
		for _, id := range []string{helperID, "credentials." + v.reg.Host, "registry." + v.reg.Host + ".auth", "image." + v.image + ".manifest"} {
			if c, ok := out.check(id); !ok || c.Status != "pass" {
				t.Errorf("probe --config %s = %s: %s", id, c.Status, c.Detail)
			}
		}

		r = v.run(t, "check", "--config", v.config, "-o", "json")
		out = decodeVantage(t, r)
		if c, _ := out.check(helperID); c.Status != "pass" || !strings.Contains(c.Detail, "not run") {
			t.Errorf("check %s = %s: %s", helperID, c.Status, c.Detail)
		}
	})
}

// TestBrokenHelperOutputNeverPrinted: issue 13 defect 3. A helper on the
// service's PATH prints the registry password (whole, cut off, pretty,
// coloured, long) and fails; no output of diagnose or probe --config, text
// or JSON, contains it.
func TestBrokenHelperOutputNeverPrinted(t *testing.T) {
	v := newVantage(t)
	svcBin := filepath.Join(t.TempDir(), "bin")
	v.unit(t, svcBin+":/usr/sbin:/usr/bin:/bin")
	pass := v.reg.Password
	basicAuth := base64.StdEncoding.EncodeToString([]byte("ci:" + pass))
	for name, body := range map[string]string{
		"whole":       `printf '{"ServerURL":"%s","Username":"ci","Secret":"` + pass + `"}' "$server"`,
		"partial":     `printf '{"ServerURL":"%s","Username":"ci","Secret":"` + pass + `' "$server"`,
		"multiline":   `printf '{\n  "serverURL": "%s",\n  "password": "` + pass + `"\n}\n' "$server"`,
		"ansi":        `printf '\033[31mfailed\033[0m: {"Secret":"\033[1m` + pass + `\033[0m"}\n'`,
		"long":        `i=0; while [ $i -lt 2000 ]; do printf 'noise-%d ' $i; i=$((i+1)); done; printf '{"Username":"ci","Secret":"` + pass + `"}'`,
		"kv-quoted":   `printf 'login to %s failed: password="` + pass + `"\n' "$server"`,
		"yaml-quoted": `printf "username: ci\npassword: '` + pass + `'\n"`,
		"basic":       `printf 'Authorization: Basic %s\n' "$(printf 'ci:` + pass + `' | base64 -w0)"`,
		"auth":        `printf 'auth: %s\n' "$(printf 'ci:` + pass + `' | base64 -w0)"`,
		"json-pass":   `printf '{"user":"ci","pass":"` + pass + `"}\n'`,
		"tab":         `printf 'Username\tci\nSecret\t` + pass + `\n'`,
	} {
		t.Run(name, func(t *testing.T) {
			// On both PATHs: the output must be clean whichever runs it.
			for _, dir := range []string{svcBin, v.userBin} {
				writeFile(t, filepath.Join(dir, "docker-credential-rup"), "#!/bin/sh\nIFS= read -r server || true\n"+body+"\nexit 1\n", 0o755)
			}
			for _, args := range [][]string{
				{"diagnose", v.image}, {"diagnose", v.image, "-o", "json"},
				{"probe", "--config", v.config}, {"probe", "--config", v.config, "-o", "json"},
			} {
				r := v.run(t, args...)
				if r.code != ExitCheckFailed {
					t.Errorf("%v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
				}
				assertNoSecrets(t, strings.Join(args, " "), r.stdout+r.stderr, append(v.secrets(), basicAuth)...)
				if !strings.Contains(r.stdout, "docker-credential-rup get") {
					t.Errorf("%v: the failing helper is not named:\n%s", args, r.stdout)
				}
				if strings.Contains(r.stdout, "\x1b[31m") || strings.Contains(r.stdout, `\u001b[31m`) {
					t.Errorf("%v: the helper's terminal escapes reach the output", args)
				}
			}
		})
	}
}

// TestPolicyConflictFromConfig: issue 13 defect 4, on a real dockerd and
// registry where the image pulls fine. The runner allows only
// if-not-present; a job asking for always is refused by the runner itself,
// so the config proves it (exit 3) from the job log or --pull-policy.
func TestPolicyConflictFromConfig(t *testing.T) {
	home := testenv.Isolate(t)
	d := testenv.StartDockerd(t, testenv.DockerdOptions{})
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{})
	image := reg.PushImage(t, d, "ci/app", "1.0")
	config := filepath.Join(home, "config.toml")
	writeFile(t, config, fmt.Sprintf(`[[runners]]
  name = "strict"
  url = "https://gitlab.example.com"
  token = "glrt-t1_StrictRunnerToken0123"
  executor = "docker"
  [runners.docker]
    host = %q
    image = "alpine:3.20"
    pull_policy = ["if-not-present"]
    allowed_pull_policies = ["if-not-present"]
`, d.Host), 0o600)
	log := "Using Docker executor with image " + image + " ...\n" +
		`ERROR: Preparation failed: invalid pull policy for image "` + image + `": pull_policy ([always]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([if-not-present]) (docker.go:120:0s)` + "\n" +
		"Will be retried in 3s ...\n"
	tweak := func(o *diagnose.Options) { o.CertsDir = t.TempDir(); o.HelperEnv = []string{"PATH=/nonexistent"} }
	base := []string{image, "--config", config, "--docker-config", filepath.Join(home, "none"), "-o", "json"}
	decode := func(t *testing.T, r result) diagnose.Report {
		t.Helper()
		var rep diagnose.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("json: %v\n%s%s", err, r.stdout, r.stderr)
		}
		return rep
	}

	t.Run("the job log names the job's always", func(t *testing.T) {
		r := runDiagnose(t, home, env{}, log, tweak, append(base, "--log", "-")...)
		rep := decode(t, r)
		if r.code != ExitCheckFailed || len(rep.Causes) == 0 || rep.Causes[0].ID != "policy-not-allowed" || rep.Causes[0].Log != "confirmed" {
			t.Fatalf("exit %d, causes %+v\n%s", r.code, rep.Causes, r.stderr)
		}
		if p := rep.Policy; p == nil || p.Source != "GitLab pipeline config" || p.JobFrom != "the job log" {
			t.Errorf("policy = %+v", rep.Policy)
		}
	})
	t.Run("--pull-policy always, no log", func(t *testing.T) {
		r := runDiagnose(t, home, env{}, "", tweak, append(base, "--pull-policy", "always")...)
		rep := decode(t, r)
		if r.code != ExitCheckFailed || len(rep.Causes) == 0 || rep.Causes[0].ID != "policy-not-allowed" {
			t.Fatalf("exit %d, causes %+v", r.code, rep.Causes)
		}
		r = runDiagnose(t, home, env{}, "", tweak, image, "--config", config, "--docker-config", filepath.Join(home, "none"), "--pull-policy", "always")
		for _, want := range []string{"1. policy-not-allowed:", `pull_policy ([always]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([if-not-present])`, "change the job's image:pull_policy to one of [if-not-present]"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("text lacks %q:\n%s", want, r.stdout)
			}
		}
	})
	t.Run("--pull-policy if-not-present,always: the allowed one is used", func(t *testing.T) {
		r := runDiagnose(t, home, env{}, "", tweak, append(base, "--pull-policy", "if-not-present,always")...)
		rep := decode(t, r)
		if r.code != ExitOK || rep.Policy == nil || strings.Join(rep.Policy.Effective, ",") != "if-not-present" {
			t.Fatalf("exit %d, policy %+v, causes %+v", r.code, rep.Policy, rep.Causes)
		}
	})
	t.Run("--pull-policy with a value GitLab refuses", func(t *testing.T) {
		r := runDiagnose(t, home, env{}, "", tweak, image, "--pull-policy", "Always")
		if r.code != ExitInput || !strings.Contains(r.stderr, `pull policy "Always"`) {
			t.Errorf("exit %d: %s", r.code, r.stderr)
		}
	})
}

// TestCheckDinD: issue 13 defect 5 through `check`, with a real dockerd
// that has an insecure registry (--insecure-registry, as daemon.json's
// insecure-registries would): the DinD port/TLS disagreement is an error,
// and the registry the DinD runner uses gets a note that the DinD daemon
// needs the flag too. --lint-only asks no daemon.
func TestCheckDinD(t *testing.T) {
	d := testenv.StartDockerd(t, testenv.DockerdOptions{InsecureRegistries: []string{"registry.internal:5000"}})
	t.Setenv("DOCKER_HOST", d.Host)
	dir := t.TempDir()
	config := filepath.Join(dir, "config.toml")
	writeFile(t, config, `concurrent = 1

[[runners]]
  name = "dind"
  url = "https://gitlab.example.com"
  token = "glrt-t1_DinDRunnerToken012345"
  executor = "docker"
  environment = ["DOCKER_HOST=tcp://docker:2375", "DOCKER_TLS_CERTDIR=/certs"]
  [runners.docker]
    image = "registry.internal:5000/ci/builder:1"
    privileged = true
    volumes = ["/certs/client", "/cache"]
    [[runners.docker.services]]
      name = "docker:27-dind"
`, 0o600)
	findings := func(t *testing.T, r result) map[string]string {
		t.Helper()
		var out struct {
			Findings []struct{ ID, Severity, Message, Fix string }
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("json: %v\n%s%s", err, r.stdout, r.stderr)
		}
		m := map[string]string{}
		for _, f := range out.Findings {
			m[f.ID] = f.Severity + ": " + f.Message + " | " + f.Fix
		}
		return m
	}
	r := runCLI(t, dir, env{}, "check", "--config", config, "-o", "json")
	got := findings(t, r)
	if r.code != ExitCheckFailed || !strings.HasPrefix(got["docker.dind.tls-port-mismatch"], "error: ") {
		t.Errorf("exit %d, tls-port-mismatch = %q\n%s", r.code, got["docker.dind.tls-port-mismatch"], r.stdout)
	}
	if n := got["docker.dind.insecure-registry"]; !strings.HasPrefix(n, "info: ") || !strings.Contains(n, `command = ["--insecure-registry=registry.internal:5000"]`) {
		t.Errorf("insecure-registry note = %q\n%s", n, r.stdout)
	}
	r = runCLI(t, dir, env{}, "check", "--config", config, "--lint-only", "-o", "json")
	if _, ok := findings(t, r)["docker.dind.insecure-registry"]; ok {
		t.Errorf("--lint-only asked the daemon:\n%s", r.stdout)
	}
	assertNoSecrets(t, "check", r.stdout+r.stderr, "glrt-t1_DinDRunnerToken012345")
}
