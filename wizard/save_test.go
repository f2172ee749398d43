package wizard

import (
	"reflect"
	"strings"
	"testing"
)

func TestEncodeReplacesSecrets(t *testing.T) {
	locked := true
	a := &Answers{
		GitLab:     GitLab{URL: "https://g.example", Token: "glrt-secretsecretsecret", Name: "n", Locked: &locked},
		Runner:     Runner{Executor: "docker"},
		Docker:     Docker{Image: "alpine:3.20", Services: []Service{{Name: "postgres:16", Alias: "db"}}},
		Registries: []Registry{{Host: "registry.example.com:5000", Method: "basic", Username: "ci", Password: "hunter2hunter2", Target: "docker-config"}, {Host: "r2", Password: "env:MINE"}},
	}
	saved, err := Encode(a, false)
	if err != nil {
		t.Fatal(err)
	}
	text := string(saved.Data)
	for _, leak := range []string{"glrt-secretsecretsecret", "hunter2hunter2"} {
		if strings.Contains(text, leak) {
			t.Errorf("saved answers leak %q:\n%s", leak, text)
		}
	}
	for _, want := range []string{`token = "env:RUNNER_TOKEN"`, `password = "env:REGISTRY_PASSWORD_REGISTRY_EXAMPLE_COM_5000"`, `password = "env:MINE"`, "# set first: MINE, REGISTRY_PASSWORD_REGISTRY_EXAMPLE_COM_5000, RUNNER_TOKEN"} {
		if !strings.Contains(text, want) {
			t.Errorf("saved answers lack %q:\n%s", want, text)
		}
	}
	if a.GitLab.Token != "glrt-secretsecretsecret" {
		t.Errorf("Encode changed its input")
	}
	// The file parses back into the same answers (with references).
	back, unknown, err := Parse(saved.Data)
	if err != nil || len(unknown) > 0 {
		t.Fatalf("re-parse: %v %v", err, unknown)
	}
	if back.GitLab.URL != a.GitLab.URL || back.Docker.Services[0].Alias != "db" || back.Registries[0].Username != "ci" {
		t.Errorf("round trip lost values: %+v", back)
	}
	clear, _ := Encode(a, true)
	if !strings.Contains(string(clear.Data), "hunter2hunter2") || !strings.Contains(string(clear.Data), "WARNING") {
		t.Errorf("--save-secrets did not keep the secret with a warning")
	}
}

// An empty list is an answer ("none"), not an absent key ("keep the
// runner's"): Encode must write a table whose only key is one.
func TestEncodeKeepsTablesWithOnlyEmptyLists(t *testing.T) {
	empty := []string{}
	cases := []struct {
		name string
		set  func(*Answers)
		want string
	}{
		{"docker.volumes", func(a *Answers) { a.Docker.Volumes = empty }, "[docker]\n  volumes = []"},
		{"docker.pull_policy", func(a *Answers) { a.Docker.PullPolicy = StringOrList{} }, "[docker]\n  pull_policy = []"},
		{"docker.services", func(a *Answers) { a.Docker.Services = []Service{} }, "[docker]\n  services = []"},
		{"runner.environment", func(a *Answers) { a.Runner.Environment = empty }, "[runner]\n  environment = []"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := &Answers{}
			c.set(a)
			saved, err := Encode(a, false)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(saved.Data), c.want) {
				t.Fatalf("saved answers lost %s = []:\n%s", c.name, saved.Data)
			}
			back, _, err := Parse(saved.Data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back.Docker, a.Docker) || !reflect.DeepEqual(back.Runner.Environment, a.Runner.Environment) {
				t.Fatalf("round trip: got %#v / %#v", back.Docker, back.Runner.Environment)
			}
		})
	}
}

// answersFile must list every Answers field with the same key, or Encode
// would silently drop one.
func TestAnswersFileShapeMatchesAnswers(t *testing.T) {
	a, f := reflect.TypeOf(Answers{}), reflect.TypeOf(answersFile{})
	if a.NumField() != f.NumField() {
		t.Fatalf("Answers has %d fields, answersFile %d", a.NumField(), f.NumField())
	}
	for i := 0; i < a.NumField(); i++ {
		if a.Field(i).Name != f.Field(i).Name || a.Field(i).Tag != f.Field(i).Tag {
			t.Errorf("field %d: Answers %s %q, answersFile %s %q", i, a.Field(i).Name, a.Field(i).Tag, f.Field(i).Name, f.Field(i).Tag)
		}
	}
}
