package wizard

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// answersSeeds are answers files that exercise every table, references,
// odd quoting and the pull_policy string-or-list form.
var answersSeeds = []string{
	"",
	"version = 1\n",
	`version = 1
[gitlab]
url = "https://gitlab.example.com"
token = "env:RUNNER_TOKEN"
token_kind = "authentication"
name = "build-01"
tls_ca_file = "/etc/ssl/ca.pem"
[runner]
executor = "docker"
concurrent = 4
limit = 2
shell = "bash"
environment = ["HTTP_PROXY=http://proxy:3128", "A="]
[docker]
image = "registry.example.com:5000/ci/app:1.2@sha256:0123456789012345678901234567890123456789012345678901234567890123"
privileged = true
dind = true
volumes = ["/cache", "/a:/b:ro"]
pull_policy = "always"
host = "unix:///var/run/docker.sock"
[[docker.services]]
name = "postgres:16"
alias = "db"
command = ["postgres", "-c", "fsync=off"]
entrypoint = ["/bin/sh", "-c"]
environment = ["POSTGRES_PASSWORD=x"]
[[docker.services]]
name = "redis"
[[registries]]
host = "registry.example.com:5000"
method = "basic"
username = "ci"
password = "file:secret.txt"
target = "runner-env"
[[registries]]
host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
method = "cred-helper"
helper = "ecr-login"
[output]
config_toml = "/etc/gitlab-runner/config.toml"
docker_config = "/home/gitlab-runner/.docker"
`,
	`version = 1
[gitlab]
url = 'https://g.example/'
token = "GR1348941abc\u00e9\t\"quoted\""
description = """multi
line"""
tags = ["a", 'b', ""]
run_untagged = true
locked = false
access_level = "ref_protected"
maintenance_note = "note # not a comment"
[docker]
pull_policy = ["always", "never"]
volumes = []
services = []
`,
	"version = 1\n[gitlab]\nlocked = true\n[runner]\nconcurrent = 0\nlimit = -1\n",
	"version = 1\ngitlab.url = \"https://x\"\ndocker.services = [{name = \"a\", alias = \"b\"}]\nregistries = [{host = \"h\"}]\n",
	"version = 1\n[unknown]\nkey = 1\n[gitlab]\nurll = \"typo\"\n",
	"version = 1\n[gitlab]\nname = \"\\u0000\\u007f\\ud7ff\"\n",
	"version = 2\n",
	"version = 1\n[docker]\nimage = 5\n",
}

// FuzzParseAnswers: Parse never panics, and an answers file it accepts,
// saved with Encode (secrets kept) and parsed again, means exactly the same
// answers. A difference would make a wizard-saved file replay differently
// from what the user chose.
func FuzzParseAnswers(f *testing.F) {
	for _, s := range answersSeeds {
		f.Add([]byte(s))
	}
	if b, err := os.ReadFile("../examples/runner.toml"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, unknown, err := Parse(data)
		if err != nil {
			if a != nil || unknown != nil {
				t.Fatalf("error %v with answers %+v", err, a)
			}
			return
		}
		for _, u := range unknown {
			// Field is "" only for a key spelled "" (`"" = 1`, `[""]`).
			if u.Problem != "unknown key" || u.Fix == "" || (u.Field == "" && !strings.Contains(string(data), `""`) && !strings.Contains(string(data), "''")) {
				t.Errorf("unknown-key error without field, problem or fix: %+v", u)
			}
		}
		if a.Version != 0 && a.Version != SchemaVersion {
			// Encode writes the current version; a file of another version
			// is refused by Validate before anything could save it.
			return
		}
		saved, err := Encode(a, true)
		if err != nil {
			t.Fatalf("Encode of parsed answers: %v\n%s", err, data)
		}
		back, unknown2, err := Parse(saved.Data)
		if err != nil {
			t.Fatalf("Encode wrote a file Parse rejects: %v\ninput:\n%s\nsaved:\n%s", err, data, saved.Data)
		}
		if len(unknown2) > 0 {
			t.Fatalf("Encode wrote unknown keys %v:\n%s", unknown2, saved.Data)
		}
		want := a.Clone()
		want.Version = SchemaVersion
		normalizeAnswers(want)
		normalizeAnswers(back)
		if !reflect.DeepEqual(want, back) {
			t.Fatalf("round trip changed the answers\ninput:\n%s\nsaved:\n%s\nwant %#v\ngot  %#v", data, saved.Data, want, back)
		}
		// Saving again is stable (from the file as read, not normalized:
		// normalizing folds services = [] into "no services key").
		reread, _, _ := Parse(saved.Data)
		again, err := Encode(reread, true)
		if err != nil || string(again.Data) != string(saved.Data) {
			t.Fatalf("Encode is not stable:\n%s\n---\n%s", saved.Data, again.Data)
		}
		// Without --save-secrets no literal secret survives.
		hidden, err := Encode(a, false)
		if err != nil {
			t.Fatal(err)
		}
		var public []string
		eachString(a, func(path string, s *string) {
			if !IsSecretField(path) {
				public = append(public, *s)
			}
		})
		alsoPublic := func(secret string) bool {
			for _, p := range public {
				if strings.Contains(p, secret) {
					return true
				}
			}
			return false
		}
		eachString(a, func(path string, s *string) {
			if IsSecretField(path) && len(*s) >= 4 && !IsReference(*s) && !alsoPublic(*s) && strings.Contains(string(hidden.Data), tomlQuoted(*s)) {
				t.Errorf("Encode(saveSecrets=false) kept %s in clear:\n%s", path, hidden.Data)
			}
		})
	})
}

// normalizeAnswers maps empty lists to nil where the two mean the same
// ("not given"). docker.services is the exception: an empty list means "no
// services" and nil "leave them as they are", but Encode drops an empty
// list (TestEncodeKeepsEmptyServices), so it is normalised here too until
// that is fixed.
func normalizeAnswers(a *Answers) {
	if len(a.Docker.Services) == 0 {
		a.Docker.Services = nil
	}
	nilIfEmpty := func(s *[]string) {
		if s != nil && len(*s) == 0 {
			*s = nil
		}
	}
	nilIfEmpty(&a.GitLab.Tags)
	// runner.environment, docker.volumes and docker.pull_policy are not
	// normalised: absent (nil) and empty ([]) mean different things, and
	// Encode keeps the difference.
	for i := range a.Docker.Services {
		s := &a.Docker.Services[i]
		nilIfEmpty(&s.Command)
		nilIfEmpty(&s.Entrypoint)
		nilIfEmpty(&s.Environment)
	}
	if len(a.Registries) == 0 {
		a.Registries = nil
	}
}

// tomlQuoted is how the TOML encoder would spell s inside a basic string,
// close enough to find a literal secret in its output.
func tomlQuoted(s string) string {
	if strings.ContainsAny(s, "\"\\\n\t\r") {
		return "\x00never" // escaped spellings are not searched for
	}
	return `"` + s + `"`
}

// TestEncodeKeepsEmptyServices: `services = []` tells apply to remove the
// runner's services (render writes exactly the list given), while no
// services key leaves them as they are; a saved file must replay the same
// (found by FuzzParseAnswers).
func TestEncodeKeepsEmptyServices(t *testing.T) {
	a, _, err := Parse([]byte("version = 1\n[docker]\nimage = \"alpine\"\nservices = []\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Docker.Services == nil {
		t.Fatal("Parse read services = [] as nil")
	}
	saved, err := Encode(a, false)
	if err != nil {
		t.Fatal(err)
	}
	back, _, err := Parse(saved.Data)
	if err != nil {
		t.Fatal(err)
	}
	if back.Docker.Services == nil {
		t.Fatalf("services = [] is dropped, so the saved answers keep the runner's services instead of removing them:\n%s", saved.Data)
	}
}
