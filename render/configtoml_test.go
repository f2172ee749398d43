package render

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/runnerup/runnerup/internal/golden"
	"github.com/runnerup/runnerup/internal/testenv"
)

func intp(i int) *int { return &i }

func dockerRunner(name string) Runner {
	return Runner{
		Name:     name,
		URL:      "https://gitlab.example.com",
		Executor: "docker",
		Docker: &Docker{
			Image:      "alpine:3.20",
			Privileged: new(false),
			Volumes:    []string{"/cache"},
		},
	}
}

func newCreds() *Credentials {
	return &Credentials{
		ID:         77,
		Token:      "glrt-NEWNEWNEWNEWNEWNEW9876",
		ObtainedAt: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
	}
}

func TestConfigTOMLGolden(t *testing.T) {
	existing, err := os.ReadFile("testdata/existing.toml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		old        []byte
		edit       func() ConfigEdit
		wantAppend bool
	}{
		{
			name: "merge-image-and-pull-policy",
			old:  existing,
			edit: func() ConfigEdit {
				r := dockerRunner("build-01")
				r.Docker.PullPolicy = []string{"always", "if-not-present"}
				return ConfigEdit{Runner: r}
			},
		},
		{
			name: "merge-unchanged",
			old:  existing,
			edit: func() ConfigEdit {
				r := dockerRunner("build-01")
				r.Docker.Image = "alpine:3.19"
				r.Docker.PullPolicy = []string{"if-not-present"}
				r.Environment = []string{"FOO=bar"}
				return ConfigEdit{Runner: r}
			},
		},
		{
			name: "merge-services-and-concurrent",
			old:  existing,
			edit: func() ConfigEdit {
				r := dockerRunner("build-01")
				r.Docker.Services = []Service{
					{Name: "postgres:16", Alias: "db", Environment: []string{"POSTGRES_PASSWORD=ci"}},
					{Name: "redis:7", Alias: "cache", Command: []string{"redis-server", "--save", ""}},
				}
				return ConfigEdit{Concurrent: intp(8), Runner: r}
			},
		},
		{
			name: "merge-dind",
			old:  existing,
			edit: func() ConfigEdit {
				r := dockerRunner("build-01")
				r.Docker.Image = "docker:27"
				r.Docker.Privileged = new(true)
				r.Docker.Volumes = nil
				r.Docker.EnsureVolumes = []string{"/certs/client"}
				r.Environment = []string{"DOCKER_TLS_CERTDIR=/certs"}
				r.Docker.Services = []Service{{Name: "docker:27-dind", Alias: "docker"}}
				return ConfigEdit{Runner: r}
			},
		},
		{
			name: "merge-runner-env-auth",
			old:  existing,
			edit: func() ConfigEdit {
				r := dockerRunner("build-01")
				auth, err := DockerAuthConfig(DockerConfigEdit{Auths: []DockerAuth{{Key: "registry.example.com:5000", Username: "ci", Password: "s3cret-reg-pass"}}})
				if err != nil {
					t.Fatal(err)
				}
				r.Environment = []string{"DOCKER_AUTH_CONFIG=" + auth}
				return ConfigEdit{Runner: r}
			},
		},
		{
			name: "merge-new-token",
			old:  existing,
			edit: func() ConfigEdit {
				r := dockerRunner("build-01")
				c := newCreds()
				c.ExpiresAt = c.ObtainedAt.Add(30 * 24 * time.Hour)
				r.Credentials = c
				return ConfigEdit{Runner: r}
			},
		},
		{
			name:       "append",
			old:        existing,
			wantAppend: true,
			edit: func() ConfigEdit {
				r := dockerRunner("build-02")
				r.Credentials = newCreds()
				r.Docker.Services = []Service{{Name: "postgres:16", Alias: "db"}}
				return ConfigEdit{Runner: r}
			},
		},
		{
			name:       "new-file",
			old:        nil,
			wantAppend: true,
			edit: func() ConfigEdit {
				r := dockerRunner("build-01")
				r.Credentials = newCreds()
				r.Docker.Privileged = new(true)
				r.Docker.EnsureVolumes = []string{"/certs/client"}
				r.Docker.PullPolicy = []string{"if-not-present"}
				r.Docker.Services = []Service{{Name: "docker:27-dind", Alias: "docker"}}
				r.Environment = []string{"DOCKER_TLS_CERTDIR=/certs"}
				return ConfigEdit{Concurrent: intp(2), Runner: r}
			},
		},
		{
			name:       "append-no-trailing-newline",
			old:        []byte("concurrent = 1\n[[runners]]\n  name = \"a\"\n  url = \"https://g.example\"\n  token = \"glrt-AAAAAAAAAAAAAA\"\n  executor = \"shell\""),
			wantAppend: true,
			edit: func() ConfigEdit {
				r := dockerRunner("b")
				r.Credentials = newCreds()
				return ConfigEdit{Runner: r}
			},
		},
		{
			name: "add-docker-table",
			old:  []byte("concurrent = 1\n\n[[runners]]\n  name = \"a\"\n  url = \"https://gitlab.example.com\"\n  token = \"glrt-AAAAAAAAAAAAAA\"\n  executor = \"shell\"\n  [runners.cache]\n    Type = \"s3\"\n"),
			edit: func() ConfigEdit {
				r := dockerRunner("a")
				r.Docker.Services = []Service{{Name: "postgres:16"}}
				return ConfigEdit{Runner: r}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.edit()
			res, err := ConfigTOML(tt.old, e)
			if err != nil {
				t.Fatalf("ConfigTOML: %v", err)
			}
			if res.Appended != tt.wantAppend {
				t.Errorf("Appended = %v, want %v", res.Appended, tt.wantAppend)
			}
			golden.Assert(t, filepath.Join("testdata", t.Name()+".toml"), res.Data)
			assertOnlyTargetChanged(t, tt.old, res.Data, res.Index, res.Appended, e.Concurrent != nil)
			assertRunnerKeysDecode(t, res.Data)
			// Re-applying the same edit must be a no-op.
			again, err := ConfigTOML(res.Data, e)
			if err != nil {
				t.Fatalf("second ConfigTOML: %v", err)
			}
			if !bytes.Equal(again.Data, res.Data) {
				t.Errorf("second apply changed the file:\n%s", Diff("config.toml", res.Data, again.Data, nil))
			}
			if again.Appended {
				t.Errorf("second apply appended another runner")
			}
			testenv.CheckRunnerConfig(t, res.Data)
		})
	}
}

// assertOnlyTargetChanged byte-compares everything outside the target
// runner block (and the top-level keys when globals were edited).
func assertOnlyTargetChanged(t *testing.T, old, new []byte, idx int, appended, globals bool) {
	t.Helper()
	if len(bytes.TrimSpace(old)) == 0 {
		return
	}
	if appended {
		trimmed := bytes.TrimRight(old, "\n")
		if !globals && !bytes.HasPrefix(new, trimmed) {
			t.Fatalf("append changed existing bytes")
		}
		return
	}
	oldStart, oldEnd := blockRange(t, old, idx)
	newStart, newEnd := blockRange(t, new, idx)
	if !globals && !bytes.Equal(old[:oldStart], new[:newStart]) {
		t.Errorf("bytes before the target block changed:\n%s", Diff("before", old[:oldStart], new[:newStart], nil))
	}
	if globals {
		oldSecs, _ := scanDocument(old)
		newSecs, _ := scanDocument(new)
		// Only the top section may differ before the block.
		if !bytes.Equal(old[oldSecs[1].header.Start:oldStart], new[newSecs[1].header.Start:newStart]) {
			t.Errorf("tables before the target block changed")
		}
	}
	if !bytes.Equal(old[oldEnd:], new[newEnd:]) {
		t.Errorf("bytes after the target block changed:\n%s", Diff("after", old[oldEnd:], new[newEnd:], nil))
	}
}

func blockRange(t *testing.T, src []byte, idx int) (int, int) {
	t.Helper()
	secs, err := scanDocument(src)
	if err != nil {
		t.Fatal(err)
	}
	blocks := runnerBlocks(secs)
	if idx >= len(blocks) {
		t.Fatalf("runner %d not found (%d blocks)", idx, len(blocks))
	}
	b := blocks[idx]
	return secs[b.first].header.Start, secs[b.last].contentEnd()
}

// runnerDoc mirrors the keys GitLab Runner documents for what runnerup
// writes (docs/gitlab-runner.md §1); anything runnerup writes outside
// it would be a key the runner silently ignores.
type runnerDoc struct {
	Concurrent    int    `toml:"concurrent"`
	CheckInterval int    `toml:"check_interval"`
	LogLevel      string `toml:"log_level"`
	SessionServer struct {
		SessionTimeout int `toml:"session_timeout"`
	} `toml:"session_server"`
	Runners []struct {
		Name            string                 `toml:"name"`
		URL             string                 `toml:"url"`
		ID              int64                  `toml:"id"`
		Token           string                 `toml:"token"`
		TokenObtainedAt time.Time              `toml:"token_obtained_at"`
		TokenExpiresAt  time.Time              `toml:"token_expires_at"`
		TLSCAFile       string                 `toml:"tls-ca-file"`
		Executor        string                 `toml:"executor"`
		Shell           string                 `toml:"shell"`
		Limit           int                    `toml:"limit"`
		BuildsDir       string                 `toml:"builds_dir"`
		Environment     []string               `toml:"environment"`
		FeatureFlags    map[string]bool        `toml:"feature_flags"`
		CustomBuildDir  struct{ Enabled bool } `toml:"custom_build_dir"`
		Cache           struct {
			Type                   string `toml:"Type"`
			Shared                 bool   `toml:"Shared"`
			MaxUploadedArchiveSize int64  `toml:"MaxUploadedArchiveSize"`
			S3                     struct {
				ServerAddress, AccessKey, SecretKey, BucketName string
			} `toml:"s3"`
		} `toml:"cache"`
		Kubernetes struct {
			Namespace    string            `toml:"namespace"`
			Image        string            `toml:"image"`
			NodeSelector map[string]string `toml:"node_selector"`
		} `toml:"kubernetes"`
		Docker *struct {
			Host       string   `toml:"host"`
			Image      string   `toml:"image"`
			Privileged bool     `toml:"privileged"`
			Volumes    []string `toml:"volumes"`
			ShmSize    int64    `toml:"shm_size"`
			PullPolicy []string `toml:"pull_policy"`
			Services   []struct {
				Name        string   `toml:"name"`
				Alias       string   `toml:"alias"`
				Command     []string `toml:"command"`
				Entrypoint  []string `toml:"entrypoint"`
				Environment []string `toml:"environment"`
			} `toml:"services"`
		} `toml:"docker"`
	} `toml:"runners"`
}

func assertRunnerKeysDecode(t *testing.T, data []byte) {
	t.Helper()
	var doc runnerDoc
	md, err := toml.Decode(string(data), &doc)
	if err != nil {
		t.Fatalf("rendered config.toml does not decode: %v", err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		t.Errorf("undecoded keys: %v", u)
	}
}

func TestConfigTOMLMatchByURLAndToken(t *testing.T) {
	old := []byte("[[runners]]\n  name = \"old-name\"\n  url = \"https://gitlab.example.com/\"\n  token = \"glrt-MATCHMATCHMATCH\"\n  executor = \"shell\"\n")
	r := Runner{Name: "new-name", URL: "https://gitlab.example.com", Executor: "shell"}
	res, err := ConfigTOML(old, ConfigEdit{Runner: r, MatchToken: "glrt-MATCHMATCHMATCH"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Appended || res.Index != 0 {
		t.Fatalf("want the existing runner renamed, got appended=%v index=%d", res.Appended, res.Index)
	}
	if !strings.Contains(string(res.Data), `name = "new-name"`) || strings.Count(string(res.Data), "[[runners]]") != 1 {
		t.Errorf("unexpected result:\n%s", res.Data)
	}
}

func TestConfigTOMLErrors(t *testing.T) {
	tests := []struct {
		name    string
		old     string
		wantErr string
	}{
		{"malformed", "concurrent = 1\n[[runners]\n", "expected end of table array name delimiter"},
		{"wrong type", "concurrent = \"many\"\n[[runners]]\nname = 5\n", "line 3"},
		{"duplicate names", "[[runners]]\nname = \"x\"\nurl = \"https://c\"\n[[runners]]\nname = \"x\"\nurl = \"https://C/\"\n", `2 runners are named "x"`},
		{"inline runners", "runners = [{name = \"y\"}]\n", "inline array"},
		// Valid TOML and zero runners to the runner; a [[runners]] added
		// after it could not parse (FuzzConfigTOMLSplice, CI).
		{"empty inline runners", "concurrent = 1\nrunners = []\n", "inline array, runners = … (line 2)"},
		{"case-folded runners", "[[runNers]]\n[[runners]]\n", "besides \"runners\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := dockerRunner("x")
			r.URL = "https://c"
			r.Credentials = newCreds()
			_, err := ConfigTOML([]byte(tt.old), ConfigEdit{Runner: r})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// Settings written as an inline table or dotted keys cannot take the
// table runnerup would add beside them: a named refusal, not an internal
// error about a file that does not parse.
func TestConfigTOMLInlineDockerIsNamed(t *testing.T) {
	img := "alpine:3.21"
	for name, tc := range map[string]struct {
		src  string
		edit Docker
		want string
	}{
		"inline docker": {"[[runners]]\nname = \"a\"\nurl = \"https://x\"\ndocker = {image = \"x\"}\n", Docker{Image: img},
			`runner "a" writes its docker settings as docker = … (line 4); runnerup edits them only as [runners.docker] tables`},
		"dotted docker": {"[[runners]]\nname = \"a\"\nurl = \"https://x\"\n  docker.image = \"x\"\n", Docker{Image: img},
			`as docker.image = … (line 4)`},
		"inline services": {"[[runners]]\nname = \"a\"\nurl = \"https://x\"\n[runners.docker]\nimage = \"x\"\nservices = [{name = \"redis:7\"}]\n", Docker{Services: []Service{{Name: "postgres:16"}}},
			`writes its services as services = … (line 6); runnerup edits them only as [[runners.docker.services]] tables`},
	} {
		t.Run(name, func(t *testing.T) {
			d := tc.edit
			_, err := ConfigTOML([]byte(tc.src), ConfigEdit{Runner: Runner{Name: "a", URL: "https://x", Executor: "docker", Docker: &d}})
			var ce *ConfigTOMLError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a ConfigTOMLError with %q", err, tc.want)
			}
		})
	}
}
