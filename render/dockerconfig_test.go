package render

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/golden"
	"github.com/runnerup/runnerup/internal/secret"
)

const existingDockerConfig = `{
	"auths": {
		"ghcr.io": {
			"auth": "b2xkOm9sZA=="
		},
		"registry.example.com:5000": {
			"username": "old",
			"password": "old-password",
			"email": "ci@example.com"
		}
	},
	"credHelpers": {
		"registry.example.com:5000": "desktop",
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"
	},
	"proxies": {
		"default": {"httpProxy": "http://proxy:3128", "noProxy": "localhost,127.0.0.1"}
	},
	"HttpHeaders": {"User-Agent": "ci-bot"},
	"plugins": {"buildx": {"enabled": "true"}},
	"currentContext": "default"
}
`

func TestDockerConfigGolden(t *testing.T) {
	tests := []struct {
		name string
		old  string
		edit DockerConfigEdit
	}{
		{"new-file-basic", "", DockerConfigEdit{Auths: []DockerAuth{{Key: "registry.example.com:5000", Username: "ci", Password: "pa:ss word"}}}},
		{"merge-basic-replaces-helper", existingDockerConfig, DockerConfigEdit{Auths: []DockerAuth{{Key: "registry.example.com:5000", Username: "ci", Password: "new-pass"}}}},
		{"merge-helper", existingDockerConfig, DockerConfigEdit{Auths: []DockerAuth{{Key: "987654321098.dkr.ecr.us-east-1.amazonaws.com", Helper: "ecr-login"}}}},
		{"merge-docker-hub", existingDockerConfig, DockerConfigEdit{Auths: []DockerAuth{{Key: "https://index.docker.io/v1/", Username: "hubuser", Password: "dckr_pat_x"}}}},
		{"creds-store", `{"auths":{}}`, DockerConfigEdit{CredsStore: "pass"}},
		{"null-auths", `{"auths": null, "experimental": "enabled"}`, DockerConfigEdit{Auths: []DockerAuth{{Key: "r.example", Username: "u", Password: "p"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := DockerConfig([]byte(tt.old), tt.edit)
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, filepath.Join("testdata", t.Name()+".json"), out)
			var got map[string]any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("output is not JSON: %v", err)
			}
			// Every top-level key of the old file survives.
			if tt.old != "" {
				var old map[string]any
				if err := json.Unmarshal([]byte(tt.old), &old); err != nil {
					t.Fatal(err)
				}
				for k := range old {
					if _, ok := got[k]; !ok {
						t.Errorf("key %q was dropped", k)
					}
				}
			}
			again, err := DockerConfig(out, tt.edit)
			if err != nil {
				t.Fatal(err)
			}
			if string(again) != string(out) {
				t.Errorf("re-applying changed the file:\n%s", Diff("config.json", out, again, nil))
			}
		})
	}
}

func TestDockerConfigAuthEncoding(t *testing.T) {
	out, err := DockerConfig(nil, DockerConfigEdit{Auths: []DockerAuth{{Key: "h:5000", Username: "ci", Password: "s3cret"}}})
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Auths map[string]struct{ Auth string } `json:"auths"`
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	// "ci:s3cret" without a newline; `echo ci:s3cret | base64` would give Y2k6czNjcmV0Cg==.
	if got, want := cfg.Auths["h:5000"].Auth, "Y2k6czNjcmV0"; got != want {
		t.Errorf("auth = %q, want %q", got, want)
	}
}

func TestDockerConfigErrors(t *testing.T) {
	tests := []struct{ name, old, want string }{
		{"malformed", "{\n\"auths\": {,}\n}", "invalid JSON near line 2"},
		{"array", `[1,2]`, `is not a JSON object (starts with "[")`},
		{"null", `null`, "is not a JSON object (starts with null)"},
		{"auths not object", `{"auths": []}`, `"auths" is not a JSON object`},
		{"trailing", `{} {}`, "has data after the closing }"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DockerConfig([]byte(tt.old), DockerConfigEdit{Auths: []DockerAuth{{Key: "h", Username: "u", Password: "p"}}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDockerAuthConfig(t *testing.T) {
	got, err := DockerAuthConfig(DockerConfigEdit{Auths: []DockerAuth{
		{Key: "registry.example.com:5000", Username: "ci", Password: "pw"},
		{Key: "1.dkr.ecr.eu-west-1.amazonaws.com", Helper: "ecr-login"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"auths":{"registry.example.com:5000":{"auth":"Y2k6cHc="}},"credHelpers":{"1.dkr.ecr.eu-west-1.amazonaws.com":"ecr-login"}}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestDiffRedacts(t *testing.T) {
	const (
		oldToken = "glrt-OLDOLDOLDOLDOLDOLD1234"
		newToken = "glrt-NEWNEWNEWNEWNEWNEW9876"
		password = "s3cret-reg-pass"
	)
	old := "[[runners]]\n  token = \"" + oldToken + "\"\n  [runners.cache.s3]\n    SecretKey = \"s3-secret-do-not-print\"\n"
	authCfg, _ := DockerAuthConfig(DockerConfigEdit{Auths: []DockerAuth{{Key: "r:5000", Username: "ci", Password: password}}})
	newTOML := "[[runners]]\n  token = \"" + newToken + "\"\n  environment = [" + encodeValue("DOCKER_AUTH_CONFIG="+authCfg) + "]\n  [runners.cache.s3]\n    SecretKey = \"s3-secret-do-not-print\"\n"
	oldJSON := `{"auths": {"r:5000": {"auth": "` + EncodeAuth("ci", "old") + `"}}}`
	newJSON, _ := DockerConfig([]byte(oldJSON), DockerConfigEdit{Auths: []DockerAuth{{Key: "r:5000", Username: "ci", Password: password}}})

	var r secret.Redactor
	r.AddMasked(password)
	out := Diff("config.toml", []byte(old), []byte(newTOML), &r) + Diff("config.json", []byte(oldJSON), newJSON, &r)
	for _, leak := range []string{oldToken, newToken, password, "s3-secret-do-not-print", EncodeAuth("ci", password), EncodeAuth("ci", "old"), "Y2k6"} {
		if strings.Contains(out, leak) {
			t.Errorf("diff leaks %q:\n%s", leak, out)
		}
	}
	for _, want := range []string{"glrt-…1234", "glrt-…9876", "DOCKER_AUTH_CONFIG=***", `"auth": "***`} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
}

func TestDiffOnlySecretChanged(t *testing.T) {
	a := []byte(`{"auths": {"r": {"auth": "` + EncodeAuth("u", "one") + `"}}}`)
	b := []byte(`{"auths": {"r": {"auth": "` + EncodeAuth("u", "two") + `"}}}`)
	out := Diff("config.json", a, b, nil)
	if out == "" || strings.Contains(out, "dTpvbmU") || strings.Contains(out, "dTp0d28") {
		t.Fatalf("want a redacted, non-empty diff, got:\n%s", out)
	}
}

// TestRedactTextSecretNames: a value is hidden because its key's name says
// credential (secret.IsSecretName), the same rule for config.toml keys,
// environment entries and JSON fields; other values stay readable.
func TestRedactTextSecretNames(t *testing.T) {
	text := `[[runners]]
  environment = ["REGISTRY_PASS=reg-pass-value", "DEPLOY_KEY=deploy-key-value", "KEYBOARD=us", "PATH=/usr/bin"]
  tls-key-file = "/etc/runner/key.pem"
  [runners.kubernetes]
    bearer_token = "kube-bearer-value"
{"credsStore": "desktop", "Secret": "helper-secret-value", "access_token": "access-token-value"}
`
	out := RedactText(text, nil)
	for _, leak := range []string{"reg-pass-value", "deploy-key-value", "kube-bearer-value", "helper-secret-value", "access-token-value"} {
		if strings.Contains(out, leak) {
			t.Errorf("RedactText leaks %q:\n%s", leak, out)
		}
	}
	for _, want := range []string{"KEYBOARD=us", "PATH=/usr/bin", `tls-key-file = "/etc/runner/key.pem"`, `"credsStore": "desktop"`} {
		if !strings.Contains(out, want) {
			t.Errorf("RedactText hides %q:\n%s", want, out)
		}
	}
}
