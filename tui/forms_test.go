package tui

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/registry"
	"github.com/runnerup/runnerup/wizard"
)

// Forms driven by piped keystrokes, without a terminal (gh's
// huh_prompter_test): raw bytes go through io.Pipe into form.Run, so the
// real bubbletea input parser and event loop run.

type interactionStep struct {
	bytes []byte
	// at, when set, waits until the form has focused this field before
	// anything more is sent: moving focus is a Cmd the event loop runs
	// between keys, so keys sent too early would land in the old field.
	at string
}

func at(key string) interactionStep { return interactionStep{at: key} }
func enter() interactionStep        { return interactionStep{bytes: []byte("\r")} }
func down() interactionStep         { return interactionStep{bytes: []byte("\x1b[B")} }
func up() interactionStep           { return interactionStep{bytes: []byte("\x1b[A")} }
func pressN() interactionStep       { return interactionStep{bytes: []byte("n")} } // rejects and moves on
func clearLine() interactionStep    { return interactionStep{bytes: []byte{0x01, 0x0b}} }

// typeKeys types text; long text goes as a bracketed paste (one event), as
// a user pastes a token or a URL.
func typeKeys(s string) interactionStep {
	if len(s) > 8 {
		return interactionStep{bytes: []byte("\x1b[200~" + s + "\x1b[201~")}
	}
	return interactionStep{bytes: []byte(s)}
}

// focusWatch publishes the focused field's key after every render; the
// view hook runs in the program's event loop, right after Update.
type focusWatch struct {
	mu  sync.Mutex
	key string
}

func (w *focusWatch) get() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.key
}

func runForm(t *testing.T, f *huh.Form, steps ...interactionStep) {
	t.Helper()
	r, w := io.Pipe()
	watch := &focusWatch{}
	f.WithInput(r).WithOutput(io.Discard).WithWidth(80).WithViewHook(func(v tea.View) tea.View {
		k := ""
		if ff := f.GetFocusedField(); ff != nil && f.State == huh.StateNormal {
			k = ff.GetKey()
		}
		watch.mu.Lock()
		watch.key = k
		watch.mu.Unlock()
		return v
	})
	errCh := make(chan error, 1)
	go func() { errCh <- f.Run() }()
	sent := make(chan string, 1)
	go func() {
		for i, s := range steps {
			if s.at != "" {
				deadline := time.Now().Add(3 * time.Second)
				for watch.get() != s.at {
					if time.Now().After(deadline) {
						sent <- fmt.Sprintf("step %d: focus stayed on %q, want %q", i, watch.get(), s.at)
						return
					}
					time.Sleep(2 * time.Millisecond)
				}
				continue
			}
			if _, err := w.Write(s.bytes); err != nil {
				sent <- fmt.Sprintf("the form completed after %d of %d steps", i, len(steps))
				return
			}
		}
		sent <- ""
	}()
	select {
	case err := <-errCh:
		_ = r.Close()
		if err != nil {
			t.Fatalf("form.Run: %v", err)
		}
		if msg := <-sent; msg != "" {
			t.Fatal(msg)
		}
	case msg := <-sent:
		if msg != "" {
			_ = r.Close()
			t.Fatal(msg)
		}
		select {
		case err := <-errCh:
			if err != nil {
				t.Fatalf("form.Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			_ = r.Close()
			t.Fatal("form.Run() did not complete in time")
		}
	case <-time.After(10 * time.Second):
		_ = r.Close()
		t.Fatal("form.Run() did not complete in time")
	}
}

func startAnswers() *wizard.Answers {
	a := &wizard.Answers{}
	a.ApplyDefaults("build-host")
	return a
}

func TestBuildGitLabForm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps []interactionStep
		want  wizard.GitLab
	}{
		{
			name: "authentication token skips registration fields",
			steps: []interactionStep{
				at("gitlab.url"), typeKeys("https://gitlab.example.com"), enter(),
				at("gitlab.create"), enter(),
				at("gitlab.token"), typeKeys("glrt-abcdefghijklmnopqrstu"), enter(),
				at("gitlab.name"), enter(), // default: the host name
				at("gitlab.tls_ca_file"), enter(),
			},
			want: wizard.GitLab{URL: "https://gitlab.example.com", Token: "glrt-abcdefghijklmnopqrstu", Name: "build-host"},
		},
		{
			name: "invalid URL is rejected until fixed",
			steps: []interactionStep{
				at("gitlab.url"), typeKeys("gitlab.example.com"), enter(),
				clearLine(), typeKeys("https://gitlab.example.com"), enter(),
				at("gitlab.create"), enter(),
				at("gitlab.token"), typeKeys("glrt-abcdefghijklmnopqrstu"), enter(),
				at("gitlab.name"), clearLine(), typeKeys("ci-01"), enter(),
				at("gitlab.tls_ca_file"), enter(),
			},
			want: wizard.GitLab{URL: "https://gitlab.example.com", Token: "glrt-abcdefghijklmnopqrstu", Name: "ci-01"},
		},
		{
			name: "registration token asks registration fields",
			steps: []interactionStep{
				at("gitlab.url"), typeKeys("https://gitlab.example.com"), enter(),
				at("gitlab.create"), enter(),
				at("gitlab.token"), typeKeys("GR1348941abcdefghijklmnop"), enter(),
				at("gitlab.description"), typeKeys("ci box"), enter(),
				at("gitlab.tags"), typeKeys("docker, linux"), enter(),
				at("gitlab.run_untagged"), enter(), // no
				at("gitlab.locked"), enter(), // yes
				at("gitlab.access_level"), down(), enter(), // ref_protected
				at("gitlab.maintenance_note"), typeKeys("ask #ci"), enter(),
				at("gitlab.name"), enter(),
				at("gitlab.tls_ca_file"), enter(),
			},
			want: wizard.GitLab{
				URL: "https://gitlab.example.com", Token: "GR1348941abcdefghijklmnop", Name: "build-host",
				Description: "ci box", Tags: []string{"docker", "linux"}, AccessLevel: "ref_protected", MaintenanceNote: "ask #ci",
			},
		},
		{
			name: "unprefixed token asks its kind",
			steps: []interactionStep{
				at("gitlab.url"), typeKeys("https://gitlab.example.com"), enter(),
				at("gitlab.create"), enter(),
				at("gitlab.token"), typeKeys("abcdefghijklmnopqrstu"), enter(),
				at("gitlab.token_kind"), down(), enter(), // authentication
				at("gitlab.name"), enter(),
				at("gitlab.tls_ca_file"), enter(),
			},
			want: wizard.GitLab{URL: "https://gitlab.example.com", Token: "abcdefghijklmnopqrstu", TokenKind: "authentication", Name: "build-host"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, got := buildGitLabForm(formBuilder{a: startAnswers()})
			runForm(t, f, tt.steps...)
			wizard.PruneHidden(got)
			if !reflect.DeepEqual(got.GitLab, tt.want) {
				t.Errorf("gitlab answers:\n got %+v\nwant %+v", got.GitLab, tt.want)
			}
		})
	}
}

func TestBuildExecutorForm(t *testing.T) {
	t.Parallel()
	four := 4
	tests := []struct {
		name   string
		steps  []interactionStep
		runner wizard.Runner
		docker wizard.Docker
	}{
		{
			name: "docker with Docker-in-Docker",
			steps: []interactionStep{
				at("runner.executor"), enter(), // docker (the default)
				at("docker.image"), typeKeys("registry.test:5000/ci/build:1"), enter(),
				at("docker.privileged"), down(), enter(), // Docker-in-Docker
				at("docker.volumes"), clearLine(), typeKeys("/cache, /srv/data:/data:ro"), enter(), // prefilled /cache
				at("docker.pull_policy"), down(), down(), enter(), // if-not-present
				at("runner.concurrent"), clearLine(), typeKeys("4"), enter(), // prefilled 1
			},
			runner: wizard.Runner{Executor: "docker", Concurrent: &four},
			docker: wizard.Docker{Image: "registry.test:5000/ci/build:1", DinD: new(true), Volumes: []string{"/cache", "/srv/data:/data:ro"}, PullPolicy: wizard.StringOrList{"if-not-present"}},
		},
		{
			name: "shell executor asks the shell, no docker settings",
			steps: []interactionStep{
				at("runner.executor"), up(), up(), up(), up(), enter(), // shell
				at("runner.shell"), down(), enter(), // sh
				at("runner.concurrent"), enter(),
			},
			runner: wizard.Runner{Executor: "shell", Shell: "sh"},
		},
		{
			name: "invalid image is rejected",
			steps: []interactionStep{
				at("runner.executor"), enter(),
				at("docker.image"), typeKeys("Alpine:3"), enter(),
				clearLine(), typeKeys("alpine:3"), enter(),
				at("docker.privileged"), enter(),
				at("docker.volumes"), enter(),
				at("docker.pull_policy"), enter(),
				at("runner.concurrent"), enter(),
			},
			runner: wizard.Runner{Executor: "docker"},
			// "off" kept as shown stays unset: a new runner gets false anyway,
			// and saved answers do not pin it for an existing one.
			docker: wizard.Docker{Image: "alpine:3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, got := buildExecutorForm(formBuilder{a: startAnswers()})
			runForm(t, f, tt.steps...)
			wizard.PruneHidden(got)
			if !reflect.DeepEqual(got.Runner, tt.runner) {
				t.Errorf("runner:\n got %+v\nwant %+v", got.Runner, tt.runner)
			}
			if !reflect.DeepEqual(got.Docker, tt.docker) {
				t.Errorf("docker:\n got %+v\nwant %+v", got.Docker, tt.docker)
			}
		})
	}
}

func TestBuildServiceForm(t *testing.T) {
	t.Parallel()
	const (
		name  = "docker.services[0].name"
		alias = "docker.services[0].alias"
	)
	tests := []struct {
		name     string
		start    wizard.Service
		advanced bool // the advanced settings are shown (ctrl+o)
		steps    []interactionStep
		want     wizard.Service
	}{
		{
			name:  "image and alias",
			steps: []interactionStep{at(name), typeKeys("postgres:16"), enter(), at(alias), typeKeys("db"), enter()},
			want:  wizard.Service{Name: "postgres:16", Alias: "db"},
		},
		{
			name:     "advanced options",
			advanced: true,
			steps: []interactionStep{
				at(name), typeKeys("docker:27-dind"), enter(),
				at(alias), typeKeys("docker"), enter(),
				at("docker.services[0].command"), typeKeys("--insecure-registry registry.test:5000"), enter(),
				at("docker.services[0].entrypoint"), enter(),
				at("docker.services[0].environment"), typeKeys("DOCKER_TLS_CERTDIR=/certs; A=1"), enter(),
			},
			want: wizard.Service{Name: "docker:27-dind", Alias: "docker",
				Command: []string{"--insecure-registry", "registry.test:5000"}, Environment: []string{"DOCKER_TLS_CERTDIR=/certs", "A=1"}},
		},
		{
			name:  "editing keeps what is not changed",
			start: wizard.Service{Name: "redis:7", Alias: "cache"},
			steps: []interactionStep{at(name), enter(), at(alias), enter()},
			want:  wizard.Service{Name: "redis:7", Alias: "cache"},
		},
		{
			name: "bad alias is rejected",
			steps: []interactionStep{
				at(name), typeKeys("postgres:16"), enter(),
				at(alias), typeKeys("DB_1"), enter(), clearLine(), typeKeys("db"), enter(),
			},
			want: wizard.Service{Name: "postgres:16", Alias: "db"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, scratch := buildServiceForm(tt.start, &tt.advanced, nil)
			got := &scratch.Docker.Services[0]
			runForm(t, f, tt.steps...)
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("service:\n got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestBuildRegistriesForm(t *testing.T) {
	t.Parallel()
	a := startAnswers()
	a.Docker.Image = "registry.test:5000/ci/build:1"
	a.Docker.Services = []wizard.Service{{Name: "postgres:16"}, {Name: "registry.test:5000/ci/db:2"}}
	wizard.SyncRegistries(a)
	if len(a.Registries) != 2 || a.Registries[0].Host != "registry.test:5000" || a.Registries[1].Host != "docker.io" {
		t.Fatalf("registries to ask: %+v", a.Registries)
	}
	f, got := buildRegistriesForm(formBuilder{a: a}, []int{0, 1})
	runForm(t, f,
		at("registries[0].method"), down(), enter(), // basic
		at("registries[0].username"), typeKeys("ci"), enter(),
		at("registries[0].password"), typeKeys("s3cret-pass"), enter(),
		at("registries[0].target"), down(), enter(), // runner-env
		at("registries[1].method"), enter(), // docker.io: none
	)
	wizard.PruneHidden(got)
	want := []wizard.Registry{{Host: "registry.test:5000", Method: "basic", Username: "ci", Password: "s3cret-pass", Target: "runner-env"}}
	if !reflect.DeepEqual(got.Registries, want) {
		t.Errorf("registries:\n got %+v\nwant %+v", got.Registries, want)
	}
}

func TestBuildSaveForm(t *testing.T) {
	t.Parallel()
	t.Run("save with env references", func(t *testing.T) {
		t.Parallel()
		f, v := buildSaveForm("/work/runnerup-answers.toml", nil)
		runForm(t, f, at("save"), enter(), at("save.path"), clearLine(), typeKeys("/tmp/a.toml"), enter(), at("save.secrets"), enter())
		if want := (saveValues{Save: true, Path: "/tmp/a.toml"}); *v != want {
			t.Errorf("got %+v, want %+v", *v, want)
		}
	})
	t.Run("decline", func(t *testing.T) {
		t.Parallel()
		f, v := buildSaveForm("/work/runnerup-answers.toml", nil)
		runForm(t, f, at("save"), pressN())
		if v.Save {
			t.Errorf("got %+v, want Save false", *v)
		}
	})
}

func TestBuildPathsForm(t *testing.T) {
	t.Parallel()
	f, v := buildPathsForm(wizard.Paths{ConfigTOML: "/etc/gitlab-runner/config.toml", DockerConfigDir: "/root/.docker"})
	runForm(t, f,
		at("output.config_toml"), clearLine(), enter(), // empty: rejected
		typeKeys("/srv/runner/config.toml"), enter(),
		at("output.docker_config"), enter(),
	)
	if want := (pathValues{ConfigTOML: "/srv/runner/config.toml", DockerConfigDir: "/root/.docker"}); *v != want {
		t.Errorf("got %+v, want %+v", *v, want)
	}
}

func TestBuildFormAborted(t *testing.T) {
	t.Parallel()
	f, _ := buildGitLabForm(formBuilder{a: startAnswers()})
	r, w := io.Pipe()
	f.WithInput(r).WithOutput(io.Discard)
	errCh := make(chan error, 1)
	go func() { errCh <- f.Run() }()
	time.Sleep(50 * time.Millisecond)
	_, _ = w.Write([]byte("https://x\x03"))
	select {
	case err := <-errCh:
		if !errors.Is(err, huh.ErrUserAborted) {
			t.Fatalf("err = %v, want huh.ErrUserAborted", err)
		}
		if !errors.Is(interrupted(err), ErrInterrupted) {
			t.Fatalf("interrupted(%v) is not ErrInterrupted", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("form did not stop on ctrl+c")
	}
}

// TestAskRegistry: Docker Hub's optional question is asked only when
// something calls for credentials there; the decision needs no network.
func TestAskRegistry(t *testing.T) {
	t.Parallel()
	a := startAnswers()
	a.Docker.Image = "registry.test:5000/ci/build:1"
	a.Docker.Services = []wizard.Service{{Name: "postgres:16"}}
	hub := wizard.Registry{Host: "docker.io", Method: wizard.MethodNone}
	failed := func(id, cause string) []probe.Result {
		return []probe.Result{{ID: id, Status: probe.Fail, Data: registry.Failure{Cause: cause, Host: "docker.io"}}}
	}
	tests := []struct {
		name    string
		reg     wizard.Registry
		files   filesNow
		results []probe.Result
		want    bool
	}{
		{"a private registry", wizard.Registry{Host: "registry.test:5000", Method: wizard.MethodNone}, filesNow{}, nil, true},
		{"Docker Hub, nothing known", hub, filesNow{}, nil, false},
		{"Docker Hub unreachable (offline)", hub, filesNow{}, failed(registry.TLSID("docker.io"), registry.CauseDNS), false},
		{"Docker Hub, method chosen", wizard.Registry{Host: "docker.io", Method: wizard.MethodBasic}, filesNow{}, nil, true},
		{"Docker Hub auths in config.json", hub, filesNow{authHosts: []string{"https://index.docker.io/v1/"}}, nil, true},
		{"Docker Hub credHelpers in config.json", hub, filesNow{credHelpers: map[string]string{"docker.io": "pass"}}, nil, true},
		{"Docker Hub login rejected", hub, filesNow{}, failed(registry.AuthID("docker.io"), registry.CauseAuthRejected), true},
		{"Docker Hub rate limit on the image", hub, filesNow{}, failed(registry.ManifestID("postgres:16"), registry.CauseRateLimited), true},
		{"a rate limit on another registry", hub, filesNow{}, failed(registry.ManifestID("registry.test:5000/ci/build:1"), registry.CauseRateLimited), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := askRegistry(tt.reg, a, tt.files, tt.results); got != tt.want {
				t.Errorf("askRegistry = %v, want %v", got, tt.want)
			}
		})
	}
}
