package service

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestInstallJSONRedactsEnvironment(t *testing.T) {
	in := Install{Kind: Systemd, Name: "gitlab-runner.service", Environment: []string{
		"HTTPS_PROXY=http://svc:S3cretPw@proxy.corp:3128", "SOME_TOKEN=glpat-abcdefabcdef", "NO_PROXY=.corp",
		// Credential names beyond TOKEN/PASSWORD/SECRET/AUTH (secret.IsSecretName).
		"DEPLOY_KEY=deploy-key-value", "REGISTRY_PASS=registry-pass-value",
		"SSH_PRIVATE_KEY=ssh-private-key-value", "CI_REGISTRY_PASSWD=ci-registry-passwd-value",
		"GITLAB_CREDENTIALS=gitlab-credentials-value", "KEYBOARD=us"}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"S3cretPw", "glpat-abcdefabcdef", "deploy-key-value", "registry-pass-value",
		"ssh-private-key-value", "ci-registry-passwd-value", "gitlab-credentials-value"} {
		if strings.Contains(string(b), s) {
			t.Errorf("JSON shows %q: %s", s, b)
		}
	}
	if !strings.Contains(string(b), "NO_PROXY=.corp") || !strings.Contains(string(b), "KEYBOARD=us") || !strings.Contains(string(b), `"kind":"systemd"`) {
		t.Errorf("JSON lost fields: %s", b)
	}
	if in.Environment[0] != "HTTPS_PROXY=http://svc:S3cretPw@proxy.corp:3128" {
		t.Error("marshalling changed the install")
	}
}
