package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/runnerup/runnerup/internal/testenv"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/diagnose"
	"github.com/runnerup/runnerup/probe/service"
	"github.com/runnerup/runnerup/wizard"
)

// runDiagnose runs `runnerup diagnose args…` in-process as the root
// command would (flag errors → exit 2), with stdin, a fake environment and
// HOME-dependent defaults pointing into home; tweak adjusts the diagnosis
// (helper PATH, certs.d).
func runDiagnose(t *testing.T, home string, e env, stdin string, tweak func(*diagnose.Options), args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	d := &Deps{IO: &IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}}
	cmd := NewCmdDiagnose(d, func(ctx context.Context, o *DiagnoseOptions) error {
		o.Paths = wizard.PathEnv{Euid: 1000, Home: home, Cwd: home, Env: e.lookup}
		o.LookupEnv = e.lookup
		o.Tweak = tweak
		return diagnoseRun(ctx, o)
	})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &FlagError{Err: err} })
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	printError(d.IO, err, cmd)
	return result{stdout: out.String(), stderr: errOut.String(), code: ExitCode(err)}
}

func Test_NewCmdDiagnose(t *testing.T) {
	tests := []struct {
		name    string
		args    string
		want    DiagnoseOptions
		wantErr string
	}{
		{name: "image only", args: "alpine:3.20", want: DiagnoseOptions{Image: "alpine:3.20", Output: "text", Timeout: 5 * time.Second}},
		{name: "every flag", args: "registry.test:5000/a/b:1 --runner build-01 --config /etc/c.toml --docker-config /root/.docker --auth-config env:DAC --log - --platform linux/arm64 -o json --timeout 2s",
			want: DiagnoseOptions{Image: "registry.test:5000/a/b:1", RunnerName: "build-01", ConfigPath: "/etc/c.toml", DockerConfigDir: "/root/.docker",
				AuthConfig: "env:DAC", AuthConfigSet: true, LogPath: "-", Platform: "linux/arm64", Output: "json", Timeout: 2 * time.Second}},
		{name: "image from the log", args: "--log job.log", want: DiagnoseOptions{LogPath: "job.log", Output: "text", Timeout: 5 * time.Second}},
		{name: "no image", args: "", wantErr: "give the IMAGE to diagnose (or --log with a job log that names it)"},
		{name: "two images", args: "a b", wantErr: "diagnose takes one image, got 2 arguments"},
		{name: "bad output", args: "alpine -o yaml", wantErr: `--output must be text or json, not "yaml"`},
		{name: "bad platform", args: "alpine --platform amd64", wantErr: `--platform "amd64": want os/arch or os/arch/variant, e.g. linux/amd64`},
		{name: "bad timeout", args: "alpine --timeout 0s", wantErr: "--timeout must be positive"},
		{name: "the job's pull policies", args: "alpine --pull-policy if-not-present,always", want: DiagnoseOptions{Image: "alpine", PullPolicy: []string{"if-not-present", "always"}, Output: "text", Timeout: 5 * time.Second}},
		{name: "a pull policy GitLab refuses", args: "alpine --pull-policy if_not_present", wantErr: `--pull-policy: pull policy "if_not_present": image:pull_policy takes always, if-not-present or never`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *DiagnoseOptions
			d := &Deps{IO: &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}}
			cmd := NewCmdDiagnose(d, func(_ context.Context, o *DiagnoseOptions) error { got = o; return nil })
			cmd.SetArgs(splitArgs(t, tt.args))
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || ExitCode(err) != ExitInput {
					t.Fatalf("err = %v (exit %d), want %q (exit 2)", err, ExitCode(err), tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.IO = nil
			if fmt.Sprintf("%+v", *got) != fmt.Sprintf("%+v", tt.want) {
				t.Errorf("options\n got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

// TestDiagnoseBadInput: unreadable or ambiguous inputs are exit 2, and say
// what to do.
func TestDiagnoseBadInput(t *testing.T) {
	home := t.TempDir()
	two := filepath.Join(home, "two.toml")
	writeFile(t, two, "[[runners]]\nname = \"a\"\nurl = \"https://gitlab.example.com\"\n[[runners]]\nname = \"b\"\nurl = \"https://gitlab.example.com\"\n", 0o600)
	broken := filepath.Join(home, "broken.toml")
	writeFile(t, broken, "[[runners]\nname = \"a\"\n", 0o600)
	tests := []struct {
		name, args string
		want       string
	}{
		{"config missing", "alpine --config " + filepath.Join(home, "nope.toml"), filepath.Join(home, "nope.toml") + " does not exist (named by --config)"},
		{"two runners, none chosen", "alpine --config " + two, `has 2 runners: choose one with --runner ("a", "b")`},
		{"unknown runner", "alpine --runner c --config " + two, `has no runner named "c" (runners: "a", "b")`},
		{"config does not parse", "alpine --config " + broken, "existing config.toml: "},
		{"log missing", "alpine --log " + filepath.Join(home, "job.log"), "--log: open "},
		{"auth-config variable unset", "alpine --auth-config env:NOPE", "--auth-config: environment variable NOPE is not set"},
		{"log names no image", "--log -", "the log names no image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runDiagnose(t, home, env{}, "just text\n", nil, splitArgs(t, tt.args)...)
			if res.code != ExitInput || !strings.Contains(res.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", res.code, res.stderr, tt.want)
			}
			res = runDiagnose(t, home, env{}, "just text\n", nil, append(splitArgs(t, tt.args), "-o", "json")...)
			var out map[string]any
			if err := json.Unmarshal([]byte(res.stdout), &out); err != nil || out["exit_code"] != float64(ExitInput) {
				t.Errorf("-o json: %v %q", err, res.stdout)
			}
		})
	}
}

// TestDiagnoseCommandIntegration runs the command against a real dockerd
// and an htpasswd registry: config.toml's runner environment, the
// --docker-config file, --auth-config and --log - all reach the
// diagnosis, and the output (text and JSON) says which credential won.
func TestDiagnoseCommandIntegration(t *testing.T) {
	home := testenv.Isolate(t)
	d := testenv.StartDockerd(t, testenv.DockerdOptions{})
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{Auth: true, Password: "reg-pass-Vb72kq"})
	image := reg.PushImage(t, d, "ci/app", "1.0")

	enc := func(user, pass string) string { return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)) }
	good, stale := enc(reg.Username, reg.Password), enc(reg.Username, "stale-pass-Hn3")
	const runnerToken = "glrt-t1_SecretRunnerToken0123"
	secrets := []string{reg.Password, good, "stale-pass-Hn3", stale, runnerToken}

	dockerDir := filepath.Join(home, "runner-docker")
	writeFile(t, filepath.Join(dockerDir, "config.json"), fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.Host, stale), 0o600)
	config := func(authValue string) string {
		p := filepath.Join(t.TempDir(), "config.toml")
		writeFile(t, p, fmt.Sprintf(`concurrent = 1

[[runners]]
  name = "build-01"
  url = "https://gitlab.example.com"
  token = %q
  executor = "docker"
  environment = ['DOCKER_AUTH_CONFIG={"auths":{%q:{"auth":%q}}}']
  [runners.docker]
    host = %q
    image = "alpine:3.20"
    pull_policy = "always"
`, runnerToken, reg.Host, authValue, d.Host), 0o600)
		return p
	}
	certs := t.TempDir()
	tweak := func(o *diagnose.Options) { o.CertsDir = certs; o.HelperEnv = []string{"PATH=/nonexistent"} }
	scan := func(t *testing.T, res result) {
		t.Helper()
		assertNoSecrets(t, "stdout", res.stdout, secrets...)
		assertNoSecrets(t, "stderr", res.stderr, secrets...)
	}

	t.Run("runner environment beats config.json: pulls", func(t *testing.T) {
		res := runDiagnose(t, home, env{}, "", tweak, image, "--config", config(good), "--docker-config", dockerDir)
		scan(t, res)
		if res.code != ExitOK {
			t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
		}
		for _, want := range []string{
			"Diagnosing " + image,
			`the runner sends the credential from $DOCKER_AUTH_CONFIG (key "` + reg.Host + `", user "ci"), set in the [[runners]] environment of runner "build-01": DOCKER_AUTH_CONFIG comes first in the runner's order`,
			filepath.Join(dockerDir, "config.json") + ` also has a key for it ("` + reg.Host + `") but is not used: the first source wins`,
			"2. " + filepath.Join(dockerDir, "config.json") + ": shadowed:",
			"✓ The image would pull: no cause found.",
		} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
			}
		}
	})
	t.Run("a stale runner value wins and is blamed; the job log confirms", func(t *testing.T) {
		log := "\x1b[0;33mWARNING: Failed to pull image with policy \"always\": Error response from daemon: unauthorized: authentication required (manager.go:237:0s)\x1b[0;m\n" +
			"ERROR: Job failed: failed to pull image \"" + image + "\" with specified policies [always]: Error response from daemon: unauthorized: authentication required (manager.go:237:0s)\n"
		res := runDiagnose(t, home, env{}, log, tweak, "--config", config(stale), "--docker-config", dockerDir, "--log", "-", "-o", "json")
		scan(t, res)
		if res.code != ExitCheckFailed {
			t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
		}
		var out struct {
			Image            string `json:"image"`
			Registry         string `json:"registry"`
			CredentialSource string `json:"credential_source"`
			Causes           []struct {
				ID       string   `json:"id"`
				Summary  string   `json:"summary"`
				Evidence []string `json:"evidence"`
				Fix      []string `json:"fix"`
				Log      string   `json:"log"`
			} `json:"causes"`
			Checks []map[string]any `json:"checks"`
			OK     *bool            `json:"ok"`
		}
		if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
			t.Fatalf("json: %v\n%s", err, res.stdout)
		}
		if out.Image != image || out.Registry != reg.Host || out.CredentialSource != "$DOCKER_AUTH_CONFIG" || out.OK == nil || *out.OK || len(out.Checks) == 0 {
			t.Errorf("json = %+v", out)
		}
		if len(out.Causes) == 0 || out.Causes[0].ID != "auth-rejected" || out.Causes[0].Log != "confirmed" {
			t.Fatalf("causes = %+v", out.Causes)
		}
		joined := strings.Join(out.Causes[0].Evidence, "\n") + strings.Join(out.Causes[0].Fix, "\n")
		for _, want := range []string{"shadowed", `DOCKER_AUTH_CONFIG in the environment of the [[runners]] entry "build-01" of `, "job log: "} {
			if !strings.Contains(joined, want) {
				t.Errorf("cause lacks %q:\n%s", want, joined)
			}
		}
	})
	t.Run("without flags it diagnoses what the service reads", func(t *testing.T) {
		// The service runs as root with its own home; this shell's home has
		// no credentials. Detection points diagnose at the service's files.
		svcHome := t.TempDir()
		writeFile(t, filepath.Join(svcHome, ".docker", "config.json"), fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.Host, good), 0o600)
		svcConfig := filepath.Join(t.TempDir(), "config.toml")
		writeFile(t, svcConfig, fmt.Sprintf("[[runners]]\n  name = \"svc\"\n  url = \"https://gitlab.example.com\"\n  token = %q\n  executor = \"docker\"\n  [runners.docker]\n    host = %q\n    image = \"alpine:3.20\"\n    pull_policy = \"always\"\n", runnerToken, d.Host), 0o600)
		unit := service.Install{Kind: service.Systemd, Name: "gitlab-runner.service", ConfigPath: svcConfig, User: "root", Home: svcHome,
			DockerConfigPath: filepath.Join(svcHome, ".docker", "config.json"), State: "active", Running: true}
		var out, errOut bytes.Buffer
		dp := &Deps{IO: &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
			DetectService: func(context.Context, string) ([]service.Install, error) { return []service.Install{unit}, nil }}
		cmd := NewCmdDiagnose(dp, func(ctx context.Context, o *DiagnoseOptions) error {
			o.Paths = wizard.PathEnv{Euid: 1000, Home: t.TempDir(), Env: env{}.lookup}
			o.LookupEnv, o.Tweak = env{}.lookup, tweak
			return diagnoseRun(ctx, o)
		})
		cmd.SetArgs([]string{image})
		err := cmd.ExecuteContext(context.Background())
		res := result{stdout: out.String(), stderr: errOut.String(), code: ExitCode(err)}
		scan(t, res)
		if res.code != ExitOK || !strings.Contains(res.stdout, filepath.Join(svcHome, ".docker", "config.json")) || !strings.Contains(res.stderr, "service: ") {
			t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
		}
	})
	t.Run("--auth-config (a CI/CD variable) beats the runner environment", func(t *testing.T) {
		e := env{"CI_DAC": fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.Host, good)}
		res := runDiagnose(t, home, e, "", tweak, image, "--config", config(stale), "--docker-config", dockerDir, "--auth-config", "env:CI_DAC")
		scan(t, res)
		if res.code != ExitOK || !strings.Contains(res.stdout, "set in the CI/CD variable given with --auth-config") {
			t.Errorf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
		}
	})
	t.Run("invalid reference is a cause (exit 3)", func(t *testing.T) {
		res := runDiagnose(t, home, env{}, "", tweak, reg.Host+"/CI/App:1", "--config", config(good), "--docker-config", dockerDir)
		scan(t, res)
		if res.code != ExitCheckFailed || !strings.Contains(res.stdout, "1. invalid-reference:") {
			t.Errorf("exit %d\n%s", res.code, res.stdout)
		}
	})
	t.Run("no config.toml: runner defaults", func(t *testing.T) {
		t.Setenv("DOCKER_HOST", d.Host)
		res := runDiagnose(t, home, env{}, "", tweak, image, "--docker-config", dockerDir)
		scan(t, res)
		if res.code != ExitCheckFailed || !strings.Contains(res.stdout, "1. auth-rejected:") {
			t.Errorf("exit %d\n%s", res.code, res.stdout)
		}
	})
	if _, err := os.Stat(filepath.Join(home, ".docker")); err == nil {
		t.Errorf("diagnose created %s", filepath.Join(home, ".docker"))
	}
}

func TestParsePlatform(t *testing.T) {
	tests := []struct {
		in      string
		want    probe.Platform
		wantErr string
	}{
		{in: "linux/amd64", want: probe.Platform{OS: "linux", Architecture: "amd64"}},
		{in: "Linux/x86_64", want: probe.Platform{OS: "linux", Architecture: "amd64"}},
		{in: "linux/aarch64", want: probe.Platform{OS: "linux", Architecture: "arm64"}},
		{in: "linux/arm/7", want: probe.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}},
		// containerd's os(version) form, as docker pull --platform takes it.
		{in: "windows(10.0.20348)/amd64", want: probe.Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.20348"}},
		{in: "amd64", wantErr: `--platform "amd64": want os/arch or os/arch/variant, e.g. linux/amd64`},
		{in: "linux/", wantErr: `--platform "linux/": want os/arch or os/arch/variant, e.g. linux/amd64`},
		{in: "linux/arm/v7/x", wantErr: `--platform "linux/arm/v7/x": want os/arch or os/arch/variant, e.g. linux/amd64`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parsePlatform(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("parsePlatform(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || *got != tt.want {
				t.Fatalf("parsePlatform(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}
