package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
	"github.com/runnerup/runnerup/internal/testenv"
)

const (
	corpusRunnerToken = "glrt-CORPUSrunnerTOKEN0001"
	corpusRegToken    = "GR1348941CORPUSregTOKEN01"
	corpusS3Secret    = "S3SECRETcorpus0123456789"
)

// shellWords splits a command line as sh would for these corpus lines:
// quotes, backslash escapes, $VAR and ${VAR} from vars.
func shellWords(t *testing.T, line string, vars map[string]string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord := false
	expand := func(i int) int { // at '$'
		j := i + 1
		brace := j < len(line) && line[j] == '{'
		if brace {
			j++
		}
		k := j
		for k < len(line) && (line[k] == '_' || line[k] >= 'A' && line[k] <= 'Z' || line[k] >= 'a' && line[k] <= 'z' || line[k] >= '0' && line[k] <= '9') {
			k++
		}
		cur.WriteString(vars[line[j:k]])
		if brace {
			k++
		}
		inWord = true
		return k
	}
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
			i++
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				t.Fatalf("unterminated ' in %q", line)
			}
			// Corpus lines use $GITLAB_URL inside '' as a placeholder too.
			seg := line[i+1 : i+1+end]
			for k, v := range vars {
				seg = strings.ReplaceAll(seg, "$"+k, v)
			}
			cur.WriteString(seg)
			inWord = true
			i += end + 2
		case c == '"':
			i++
			for i < len(line) && line[i] != '"' {
				switch {
				case line[i] == '$':
					i = expand(i)
				case line[i] == '\\' && i+1 < len(line):
					cur.WriteByte(line[i+1])
					i += 2
				default:
					cur.WriteByte(line[i])
					i++
				}
			}
			i++
			inWord = true
		case c == '$':
			i = expand(i)
		case c == '\\' && i+1 < len(line) && line[i+1] != 'g':
			cur.WriteByte(line[i+1])
			inWord = true
			i += 2
		default:
			cur.WriteByte(c)
			inWord = true
			i++
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

type corpusCase struct {
	name, source, command string
	template              []string
	wants                 []string
	// server are what POST /runners must carry (key=value; "-": absent).
	server []string
}

func loadCorpus(t *testing.T) []corpusCase {
	t.Helper()
	files, _ := filepath.Glob("testdata/register-corpus/*.txt")
	var out []corpusCase
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c := corpusCase{name: strings.TrimSuffix(filepath.Base(f), ".txt")}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			switch {
			case strings.HasPrefix(line, "# source:"):
				c.source = strings.TrimSpace(strings.TrimPrefix(line, "# source:"))
			case strings.HasPrefix(line, "# template:"):
				c.template = append(c.template, strings.TrimPrefix(strings.TrimPrefix(line, "# template:"), " "))
			case strings.HasPrefix(line, "# want:"):
				c.wants = append(c.wants, splitWants(strings.TrimSpace(strings.TrimPrefix(line, "# want:")))...)
			case strings.HasPrefix(line, "# server:"):
				c.server = append(c.server, splitKeys(strings.TrimSpace(strings.TrimPrefix(line, "# server:")), serverKeys)...)
			default:
				c.command = line
			}
		}
		if c.source == "" || len(c.wants) == 0 {
			t.Fatalf("%s: every corpus case needs # source: and # want:", f)
		}
		out = append(out, c)
	}
	return out
}

// wantKeys and serverKeys are the keys of # want: and # server: lines.
var (
	wantKeys   = []string{"name=", "executor=", "image=", "privileged=", "volumes=", "pull_policy=", "env=", "contains=", "verbatim="}
	serverKeys = []string{"description=", "tag_list=", "run_untagged=", "locked=", "access_level=", "maintenance_note=", "paused=", "maximum_timeout="}
)

func splitWants(s string) []string { return splitKeys(s, wantKeys) }

// splitKeys splits "key=value key=value" where a value may hold spaces up
// to the next " key=" of a known key.
func splitKeys(s string, keys []string) []string {
	var out []string
	for s != "" {
		next := len(s)
		for _, k := range keys {
			if i := strings.Index(s[1:], " "+k); i >= 0 && i+1 < next {
				next = i + 1
			}
		}
		out = append(out, strings.TrimSpace(s[:next]))
		s = strings.TrimSpace(s[next:])
	}
	return out
}

// argsAfterRegister drops the environment assignments, sudo, the binary
// (or docker run …) and "register"; the assignments become env.
func argsAfterRegister(t *testing.T, words []string, e env) []string {
	t.Helper()
	for i, w := range words {
		if w == "register" {
			return words[i+1:]
		}
		if k, v, ok := strings.Cut(w, "="); ok && !strings.HasPrefix(w, "-") && i < 8 && strings.ToUpper(k) == k {
			e[k] = v
		}
	}
	t.Fatalf("no register in %q", words)
	return nil
}

// TestRegisterCorpus runs real-world gitlab-runner register command lines
// through runnerup register into a config.toml that already holds other
// runners: GitLab Runner's own loader reads the result, the other runners'
// bytes are untouched, and the runner says what the command asked for.
func TestRegisterCorpus(t *testing.T) {
	cases := loadCorpus(t)
	if len(cases) < 20 {
		t.Fatalf("corpus has %d cases, want at least 20", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSetup(t, "")
			s.gitlab.AddRunner(corpusRunnerToken, 77)
			s.gitlab.AddRegistrationToken(corpusRegToken)
			writeFile(t, s.config, otherRunners, 0o600)
			ca := filepath.Join(s.dir, "gitlab-ca.crt")
			pem, err := os.ReadFile(fakegitlab.NewTLS(t).CAFile) // any real certificate
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, ca, string(pem), 0o644)
			tmpl := filepath.Join(s.dir, "template.toml")
			writeFile(t, tmpl, strings.Join(c.template, "\n")+"\n", 0o600)
			vars := map[string]string{"GITLAB_URL": s.gitlab.URL, "RUNNER_TOKEN": corpusRunnerToken, "REGISTRATION_TOKEN": corpusRegToken,
				"PROJECT_REGISTRATION_TOKEN": corpusRegToken, "TEMPLATE": tmpl, "CA_FILE": ca, "S3_ACCESS": "AKIACORPUS", "S3_SECRET": corpusS3Secret}
			e := env{}
			args := argsAfterRegister(t, shellWords(t, c.command, vars), e)
			// --skip-probes: no daemon here; GitLab (the fake) still verifies
			// the token or registers the runner, once.
			args = append(args, "--config", s.config, "--docker-config", s.docker, "--skip-probes")
			r := runCLI(t, filepath.Join(s.dir, "home"), e, append([]string{"register"}, args...)...)
			if r.code != 0 {
				t.Fatalf("%s\nexit %d:\n%s%s", c.command, r.code, r.stdout, r.stderr)
			}
			if n := countRequests(s.gitlab, "POST", "/api/v4/runners/verify") + countRequests(s.gitlab, "POST", "/api/v4/runners"); n != 1 {
				t.Errorf("%d verify/register calls, want 1", n)
			}
			data, err := os.ReadFile(s.config)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(data), otherRunners) {
				t.Errorf("the other runners' bytes changed:\n%s", data)
			}
			res := testenv.CheckRunnerConfig(t, data)
			if len(res.Runners) != 2 {
				t.Fatalf("runner-oracle sees %d runners, want 2", len(res.Runners))
			}
			got := res.Runners[1]
			for _, w := range c.wants {
				k, v, _ := strings.Cut(w, "=")
				ok := true
				switch k {
				case "name":
					ok = got.Name == v
				case "executor":
					ok = got.Executor == v
				case "image":
					ok = got.Docker != nil && got.Docker.Image == v
				case "privileged":
					ok = got.Docker != nil && (got.Docker.Privileged == (v == "true"))
				case "volumes":
					ok = got.Docker != nil && strings.Join(got.Docker.Volumes, "|") == v
				case "pull_policy":
					ok = got.Docker != nil && strings.Join(got.Docker.PullPolicy, "|") == v
				case "env":
					ok = strings.Contains("|"+strings.Join(got.Environment, "|")+"|", "|"+v+"|")
				case "contains":
					ok = strings.Contains(string(data[len(otherRunners):]), v)
				case "verbatim":
					// Template lines N-M, byte for byte and in their order.
					var from, to int
					if _, err := fmt.Sscanf(v, "%d-%d", &from, &to); err != nil || from < 1 || to > len(c.template) {
						t.Fatalf("bad want %q", w)
					}
					ok = strings.Contains(string(data[len(otherRunners):]), strings.Join(c.template[from-1:to], "\n")+"\n")
				default:
					t.Fatalf("unknown want %q", k)
				}
				if !ok {
					t.Errorf("want %s; runner-oracle: %+v\n%s", w, got, data[len(otherRunners):])
				}
			}
			checkServerSettings(t, s.gitlab, c.server)
			assertNoSecrets(t, "output", r.stdout+r.stderr, corpusRunnerToken, corpusRegToken, corpusS3Secret)
		})
	}
}

// checkServerSettings asserts what the one POST /api/v4/runners carried:
// the server-side flags (--tag-list, --locked, --run-untagged,
// --access-level, --maintenance-note, --paused, --maximum-timeout) reach
// GitLab as gitlab-runner register sends them.
func checkServerSettings(t *testing.T, gl *fakegitlab.Server, want []string) {
	t.Helper()
	if len(want) == 0 {
		return
	}
	var body map[string]any
	for _, r := range gl.Requests() {
		if r.Method == "POST" && r.Path == "/api/v4/runners" {
			body = r.Body
		}
	}
	if body == nil {
		t.Fatal("no POST /api/v4/runners")
	}
	for _, w := range want {
		k, v, _ := strings.Cut(w, "=")
		got, ok := body[k]
		switch {
		case v == "-" && ok && got != "" && got != nil:
			t.Errorf("POST /runners carries %s = %v, want none", k, got)
		case v != "-" && (!ok || fmt.Sprint(got) != v):
			t.Errorf("POST /runners carries %s = %v, want %s", k, got, v)
		}
	}
}

func TestRegisterBadInput(t *testing.T) {
	tests := []struct {
		name     string
		args     string
		template string
		want     string
	}{
		{"unhonourable flag", "--tls-cert-file /c.pem", "", "--tls-cert-file: runnerup cannot honour this flag (runnerup's GitLab checks do not present a client certificate"},
		{"no services flag", "--docker-services postgres", "", "--docker-services: gitlab-runner register has no such flag (register has no flag for services: give them in --template-config"},
		{"typo with did-you-mean", "--docker-imag alpine", "", `did you mean --docker-image?`},
		{"flag runnerup cannot write", "--kubernetes-host_aliases x", "", "set kubernetes.host_aliases in --template-config"},
		{"unknown template key", "--template-config TEMPLATE", "[[runners]]\n  [runners.docker]\n    netwrk_mode = \"host\"\n", `runners.docker.netwrk_mode: is not a key GitLab Runner knows (it would ignore it) (fix: did you mean "network_mode"?)`},
		{"template with two runners", "--template-config TEMPLATE", "[[runners]]\n[[runners]]\n", "exactly one [[runners]] entry"},
		{"server flags with --token", "--tag-list a,b --locked=false", "", "--locked=false, --tag-list: cannot be set when registering with an authentication token"},
		{"bad access level", "--access-level public", "", `access level "public" is not valid`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, "")
			writeFile(t, s.config, otherRunners, 0o600)
			tmpl := filepath.Join(s.dir, "t.toml")
			writeFile(t, tmpl, tt.template, 0o600)
			before := snapshot(t, s.dir)
			args := []string{"register", "--non-interactive", "--url", s.gitlab.URL, "--token", corpusRunnerToken, "--executor", "docker",
				"--docker-image", "alpine", "--config", s.config, "--offline"}
			args = append(args, strings.Fields(strings.ReplaceAll(tt.args, "TEMPLATE", tmpl))...)
			r := runCLI(t, filepath.Join(s.dir, "home"), env{}, args...)
			if r.code != ExitInput || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, want 2 and %q:\n%s", r.code, tt.want, r.stderr)
			}
			if n := len(s.gitlab.Requests()); n != 0 {
				t.Errorf("bad input reached GitLab: %d request(s)", n)
			}
			assertSameSnapshot(t, before, snapshot(t, s.dir))
			assertNoSecrets(t, "output", r.stdout+r.stderr, corpusRunnerToken)
		})
	}
	t.Run("without --non-interactive", func(t *testing.T) {
		s := newSetup(t, "")
		r := runCLI(t, filepath.Join(s.dir, "home"), env{}, "register", "--url", s.gitlab.URL, "--token", corpusRunnerToken, "--executor", "shell")
		if r.code != ExitInput || !strings.Contains(r.stderr, "add --non-interactive") {
			t.Errorf("exit %d:\n%s", r.code, r.stderr)
		}
	})
}

// --save-answers writes the equivalent answers file with secrets as env:
// references; applying it reproduces the same config.toml.
func TestRegisterSaveAnswers(t *testing.T) {
	s := newSetup(t, "")
	s.gitlab.AddRunner(corpusRunnerToken, 77)
	saved := filepath.Join(s.dir, "runner.toml")
	e := env{"CI_SERVER_TOKEN": corpusRunnerToken}
	r := runCLI(t, filepath.Join(s.dir, "home"), e, "register", "--non-interactive", "--url", s.gitlab.URL, "--executor", "shell",
		"--name", "saved", "--output-limit", "8192", "--cache-s3-secret-key", corpusS3Secret, "--config", s.config, "--skip-probes", "--save-answers", saved)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	data, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`token = "env:CI_SERVER_TOKEN"`, "output_limit = 8192", `SecretKey = "env:RUNNER_EXTRA_CACHE_S3_SECRETKEY"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("saved answers lack %q:\n%s", want, data)
		}
	}
	assertNoSecrets(t, "saved answers", string(data), corpusRunnerToken, corpusS3Secret)
	assertNoSecrets(t, "output", r.stdout+r.stderr, corpusRunnerToken, corpusS3Secret)
	first, _ := os.ReadFile(s.config)
	e["RUNNER_EXTRA_CACHE_S3_SECRETKEY"] = corpusS3Secret
	r = runCLI(t, filepath.Join(s.dir, "home"), e, "apply", "--answers", saved, "--skip-probes")
	if r.code != 0 || !strings.Contains(r.stdout, "no changes") {
		t.Errorf("replaying the saved answers (%d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	if second, _ := os.ReadFile(s.config); string(second) != string(first) {
		t.Errorf("replay changed config.toml:\n%s\n---\n%s", first, second)
	}
	testenv.CheckRunnerConfig(t, first)
}
