package wizard

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// allFields is every field of every step, with one service and one
// registry so item fields are included.
func allFields() []Field {
	a := &Answers{Docker: Docker{Services: []Service{{}}}, Registries: []Registry{{}}}
	var out []Field
	for _, s := range Steps() {
		out = append(out, s.AllFields(a)...)
	}
	return out
}

func TestStepFieldKeysAreAnswersPaths(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range allFields() {
		if seen[f.Key] {
			t.Errorf("duplicate key %s", f.Key)
		}
		seen[f.Key] = true
		path := stripIndexes(f.Key)
		i := strings.LastIndex(path, ".")
		parent, leaf := path[:i], path[i+1:]
		if !slices.Contains(knownKeys[parent], leaf) {
			t.Errorf("%s is not an answers-file key", f.Key)
		}
		if f.Prompt == "" || f.Get == nil || f.Set == nil {
			t.Errorf("%s: prompt, Get and Set are required", f.Key)
		}
		if f.Kind == KindSelect && len(f.Options) == 0 {
			t.Errorf("%s: a select without options", f.Key)
		}
	}
	for _, want := range []string{"gitlab.url", "gitlab.token", "gitlab.token_kind", "gitlab.name", "gitlab.tags", "runner.executor",
		"runner.shell", "docker.image", "docker.privileged", "docker.volumes", "docker.pull_policy",
		"docker.services[0].name", "docker.services[0].environment", "registries[0].method", "registries[0].password", "registries[0].target"} {
		if !seen[want] {
			t.Errorf("no field for %s", want)
		}
	}
}

func TestExecutorOptionsAreAllExecutors(t *testing.T) {
	st, _ := StepByID(StepExecutor)
	var got []string
	for _, o := range st.Fields[0].Options {
		got = append(got, o.Value)
		if o.Help == "" {
			t.Errorf("executor %s has no help line", o.Value)
		}
	}
	if !reflect.DeepEqual(got, Executors) {
		t.Errorf("executor options %v, want %v", got, Executors)
	}
}

func fieldByKey(t *testing.T, key string) Field {
	t.Helper()
	for _, f := range allFields() {
		if f.Key == key {
			return f
		}
	}
	t.Fatalf("no field %s", key)
	return Field{}
}

// TestFieldValidatorsAgreeWithValidate: what a field rejects, Validate
// rejects for the same field, with the same words; what it accepts,
// Validate accepts.
func TestFieldValidatorsAgreeWithValidate(t *testing.T) {
	base := func() *Answers {
		return &Answers{
			Version:    1,
			GitLab:     GitLab{URL: "https://gitlab.example.com", Token: "glrt-abcdefghijklmnopqrstu", Name: "n"},
			Runner:     Runner{Executor: "docker"},
			Docker:     Docker{Image: "alpine:3.20", Services: []Service{{Name: "postgres:16"}}},
			Registries: []Registry{{Host: "docker.io", Method: MethodBasic, Username: "u", Password: "p", Target: TargetDockerConfig}},
		}
	}
	tests := []struct {
		key, value, wantErr string
		// fieldOnly: the value cannot be stored in the answers at all.
		fieldOnly bool
	}{
		{"gitlab.url", "https://gitlab.example.com", "", false},
		{"gitlab.url", "http://gitlab.local", "", false}, // a warning, not an error
		{"gitlab.url", "gitlab.example.com", "has no scheme", false},
		{"gitlab.url", "https://gitlab.example.com/api/v4", "looks like a page of GitLab", false},
		{"gitlab.token", "glrt-abcdefghijklmnopqrstu", "", false},
		{"gitlab.token", "", "is empty", false},
		{"gitlab.token", "glpat-abcdefghijklmnop", "not a runner token", false},
		{"gitlab.token", "glrt-abc def", "white space", false},
		{"gitlab.name", "build-01", "", false},
		{"gitlab.name", "", "is empty", false},
		{"runner.executor", "docker", "", false},
		{"docker.image", "registry.example.com:5000/group/app:1.2", "", false},
		{"docker.image", "Alpine:3", "must be lower-case", false},
		{"docker.image", "https://registry/x", "URL scheme", false},
		{"docker.image", "", "is empty", false},
		{"docker.volumes", "/cache, /srv:/srv:ro", "", false},
		{"docker.volumes", "cache", "must be absolute", false},
		{"docker.volumes", "/a:/b:rx", "unknown mode", false},
		{"docker.pull_policy", "if-not-present", "", false},
		{"docker.pull_policy", "if-not-present, always", "", false},
		{"docker.pull_policy", "sometimes", "not a pull policy", false},
		{"runner.concurrent", "4", "", false},
		{"runner.concurrent", "", "", false},
		{"runner.concurrent", "0", "below 1", false},
		{"runner.concurrent", "four", "not a number", true},
		{"docker.services[0].name", "postgres:16", "", false},
		{"docker.services[0].name", "", "is empty", false},
		{"docker.services[0].alias", "db", "", false},
		{"docker.services[0].alias", "DB_1", "not a valid host name", false},
		{"docker.services[0].environment", "A=1; B=2", "", false},
		{"docker.services[0].environment", "A=1; 1B=2", "not a valid variable name", false},
		{"registries[0].username", "ci", "", false},
		{"registries[0].username", "a:b", "contains ':'", false},
		{"registries[0].password", "secret", "", false},
		{"registries[0].password", "", "is empty", false},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			f := fieldByKey(t, tt.key)
			err := f.Check(tt.value)
			if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Check(%q) = %v, want %q", tt.value, err, tt.wantErr)
			}
			// The same value through the answers and Validate.
			a := base()
			f.Set(a, tt.value)
			var blocking []FieldError
			for _, p := range Blocking(a.Validate()) {
				if strings.HasPrefix(p.Field, tt.key) {
					blocking = append(blocking, p)
				}
			}
			if tt.wantErr == "" && len(blocking) > 0 {
				t.Fatalf("field accepts %q but Validate says %v", tt.value, blocking)
			}
			if tt.wantErr != "" && !tt.fieldOnly && len(blocking) == 0 {
				t.Fatalf("field rejects %q but Validate accepts it", tt.value)
			}
		})
	}
}

func TestRegistrationOnlyFieldsHide(t *testing.T) {
	regOnly := []string{"gitlab.description", "gitlab.tags", "gitlab.run_untagged", "gitlab.locked", "gitlab.access_level", "gitlab.maintenance_note"}
	tests := []struct {
		token, kind   string
		wantReg       bool
		wantKindAsked bool
	}{
		{"glrt-abcdefghijklmnopqrstu", "", false, false},
		{"glrt-t1_abcdefghijklmnopqrstu", "", false, false},
		{"t2_abcdefghijklmnopqrstu", "", false, false},
		{"GR1348941abcdefghijklmnop", "", true, false},
		{"abcdefghijklmnopqrstu", "", true, true},
		{"abcdefghijklmnopqrstu", "registration", true, true},
		{"abcdefghijklmnopqrstu", "authentication", false, true},
		{"env:RUNNER_TOKEN", "", true, true},
		{"env:RUNNER_TOKEN", "authentication", false, true},
	}
	for _, tt := range tests {
		a := &Answers{GitLab: GitLab{Token: tt.token, TokenKind: tt.kind}}
		for _, k := range regOnly {
			if shown := !fieldByKey(t, k).Hidden(a); shown != tt.wantReg {
				t.Errorf("%s/%s: %s shown = %v, want %v", tt.token, tt.kind, k, shown, tt.wantReg)
			}
		}
		if asked := !fieldByKey(t, "gitlab.token_kind").Hidden(a); asked != tt.wantKindAsked {
			t.Errorf("%s: token_kind asked = %v, want %v", tt.token, asked, tt.wantKindAsked)
		}
	}
}

func TestPruneHidden(t *testing.T) {
	f := false
	a := &Answers{
		Version: 1,
		GitLab: GitLab{URL: "https://g.example", Token: "glrt-abcdefghijklmnopqrstu", TokenKind: "registration", Name: "n",
			Description: "d", Tags: []string{"x"}, RunUntagged: new(true), Locked: &f, AccessLevel: "not_protected", MaintenanceNote: "m"},
		Runner: Runner{Executor: "docker", Shell: "bash"},
		Docker: Docker{Image: "alpine:3.20"},
		Registries: []Registry{
			{Host: "registry.example.com", Method: MethodCredHelper, Username: "u", Password: "p", Helper: "ecr-login", Target: TargetDockerConfig},
			{Host: "docker.io", Method: MethodNone, Target: TargetDockerConfig},
		},
	}
	PruneHidden(a)
	want := GitLab{URL: "https://g.example", Token: "glrt-abcdefghijklmnopqrstu", Name: "n"}
	if !reflect.DeepEqual(a.GitLab, want) {
		t.Errorf("gitlab after prune: %+v", a.GitLab)
	}
	if a.Runner.Shell != "" {
		t.Errorf("shell kept for the docker executor")
	}
	wantRegs := []Registry{{Host: "registry.example.com", Method: MethodCredHelper, Helper: "ecr-login", Target: TargetDockerConfig}}
	if !reflect.DeepEqual(a.Registries, wantRegs) {
		t.Errorf("registries after prune: %+v", a.Registries)
	}
	// Pruned answers validate.
	if b := Blocking(a.Validate()); len(b) > 0 {
		t.Errorf("pruned answers do not validate: %v", b)
	}

	shell := &Answers{Runner: Runner{Executor: "shell"}, Docker: Docker{Image: "alpine", Services: []Service{{Name: "x"}}}}
	PruneHidden(shell)
	if !reflect.DeepEqual(shell.Docker, Docker{}) {
		t.Errorf("docker settings kept for the shell executor: %+v", shell.Docker)
	}
}

func TestSyncRegistries(t *testing.T) {
	a := &Answers{
		Docker: Docker{Image: "registry.example.com:5000/ci/app:1", Services: []Service{{Name: "postgres:16"}, {Name: "registry.example.com:5000/ci/db"}}},
		Registries: []Registry{
			{Host: "old.example.com", Method: MethodNone, Target: TargetDockerConfig},               // unused, none: dropped
			{Host: "other.example.com", Method: MethodBasic, Username: "u", Password: "p"},          // unused, configured: kept
			{Host: "registry.example.com:5000", Method: MethodBasic, Username: "ci", Password: "x"}, // needed: kept as is
		},
	}
	SyncRegistries(a)
	var hosts []string
	for _, r := range a.Registries {
		hosts = append(hosts, r.Host+"/"+r.Method)
	}
	want := []string{"registry.example.com:5000/basic", "docker.io/none", "other.example.com/basic"}
	if !reflect.DeepEqual(hosts, want) {
		t.Errorf("registries = %v, want %v", hosts, want)
	}
	if a.Registries[0].Username != "ci" {
		t.Errorf("configured registry lost its settings: %+v", a.Registries[0])
	}
	SyncRegistries(a)
	if len(a.Registries) != 3 {
		t.Errorf("SyncRegistries is not idempotent: %+v", a.Registries)
	}
}

func TestFieldGetSetRoundTrip(t *testing.T) {
	values := map[string]string{
		"gitlab.tags":                    "docker, linux",
		"docker.volumes":                 "/cache, /a:/b:ro",
		"docker.pull_policy":             "always, if-not-present",
		"docker.privileged":              PrivilegedDinD,
		"gitlab.locked":                  "false",
		"gitlab.run_untagged":            "true",
		"runner.concurrent":              "8",
		"docker.services[0].command":     "--a b",
		"docker.services[0].environment": "A=1; B=2",
	}
	for key, v := range values {
		f := fieldByKey(t, key)
		a := &Answers{}
		f.Set(a, v)
		if got := f.Get(a); got != v {
			t.Errorf("%s: Set(%q) then Get = %q", key, v, got)
		}
		f.Set(a, "")
		if got := f.Get(a); got != "" && f.Kind != KindConfirm {
			t.Errorf("%s: Set(\"\") then Get = %q", key, got)
		}
	}
}

func TestDescribeToken(t *testing.T) {
	tests := map[string]string{
		"glrt-abcdefghijklmnopqrstu": "authentication token",
		"GR1348941abcdefghijklmnop":  "legacy registration token",
		"abcdefghijklmnopqrstu":      "unprefixed token",
		"glpat-abcdefghijklmnop":     "not a runner token",
		"env:RUNNER_TOKEN":           "read from env:RUNNER_TOKEN when applied",
		"":                           "",
	}
	for tok, want := range tests {
		if got := DescribeToken(tok, ""); !strings.Contains(got, want) || (want == "") != (got == "") {
			t.Errorf("DescribeToken(%q) = %q, want %q", tok, got, want)
		}
	}
}

// TestPruneHiddenLeavesOutUnreachableSteps: after switching to the shell
// executor, registry credentials and docker settings can no longer be
// seen or edited; they are dropped from what is planned and saved, and
// each drop is said.
func TestPruneHiddenLeavesOutUnreachableSteps(t *testing.T) {
	a := &Answers{
		Runner: Runner{Executor: "shell"},
		Docker: Docker{Image: "registry.example.com/ci/app:1", Services: []Service{{Name: "postgres:16"}}},
		Registries: []Registry{
			{Host: "registry.example.com", Method: MethodBasic, Username: "ci", Password: "p", Target: TargetDockerConfig},
			{Host: "docker.io", Method: MethodNone},
		},
	}
	notes := PruneHidden(a)
	if len(a.Registries) != 0 || a.WritesDockerConfig() {
		t.Errorf("registries kept for the shell executor: %+v", a.Registries)
	}
	if len(notes) != 3 {
		t.Fatalf("notes = %q, want one each for the services, the docker settings and the registry", notes)
	}
	if !strings.Contains(notes[2], "registry.example.com (basic)") || !strings.Contains(notes[2], "no config.json is written") {
		t.Errorf("registry note = %q", notes[2])
	}

	// With a docker executor nothing is dropped but method none, and an
	// emptied service list stays empty (it removes the runner's services).
	d := &Answers{Runner: Runner{Executor: "docker"}, Docker: Docker{Image: "alpine:3", Services: []Service{}},
		Registries: []Registry{{Host: "registry.example.com", Method: MethodBasic, Username: "ci", Password: "p", Target: TargetDockerConfig}}}
	if notes := PruneHidden(d); len(notes) != 0 || len(d.Registries) != 1 {
		t.Errorf("docker executor: notes %q, registries %+v", notes, d.Registries)
	}
	if d.Docker.Services == nil {
		t.Error("an emptied service list became nil (keep the runner's) instead of empty (remove them)")
	}
}

// TestSetInKeepsDefaultsUnset: keeping the value a field shows for an unset
// answer leaves it unset (nothing pinned), while any other value, or the
// default over a set answer, is stored.
func TestSetInKeepsDefaultsUnset(t *testing.T) {
	st, _ := StepByID(StepExecutor)
	field := func(key string) Field {
		for _, f := range st.Fields {
			if f.Key == key {
				return f
			}
		}
		t.Fatalf("no field %s", key)
		return Field{}
	}
	conc, vols := field("runner.concurrent"), field("docker.volumes")
	three := 3
	fileSays := Context{Concurrent: &three}
	tests := []struct {
		name  string
		f     Field
		ctx   Context
		start *Answers
		value string
		shown string // ValueIn before the change
		get   string // Get after it
	}{
		{"concurrent kept from the file", conc, fileSays, &Answers{}, "3", "3", ""},
		{"concurrent changed", conc, fileSays, &Answers{}, "5", "3", "5"},
		{"concurrent of a new file", conc, Context{}, &Answers{}, "1", "1", ""},
		{"concurrent set back to the file's value", conc, fileSays, &Answers{Runner: Runner{Concurrent: new(5)}}, "3", "5", "3"},
		{"volumes of a new runner", vols, Context{}, &Answers{}, "/cache", "/cache", ""},
		{"an existing runner shows no default volumes", vols, Context{ExistingRunner: true}, &Answers{}, "/cache", "", "/cache"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.start
			if got := tt.f.ValueIn(a, tt.ctx); got != tt.shown {
				t.Errorf("shown %q, want %q", got, tt.shown)
			}
			tt.f.SetIn(a, tt.ctx, tt.value)
			if got := tt.f.Get(a); got != tt.get {
				t.Errorf("after SetIn(%q): Get = %q, want %q", tt.value, got, tt.get)
			}
		})
	}
}

func TestGitLabURLWithASpace(t *testing.T) {
	msg, fix, warn := CheckGitLabURL("gitlab example.com")
	if warn || msg != "contains a space" || strings.Contains(fix, "gitlab example.com") {
		t.Errorf("got %q / %q / %v; the fix must not keep the space", msg, fix, warn)
	}
}
