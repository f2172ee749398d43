package secret

import "testing"

func TestIsSecretName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		// Environment variables whose values are credentials.
		{"DEPLOY_KEY", true},
		{"REGISTRY_PASS", true},
		{"SSH_PRIVATE_KEY", true},
		{"CI_REGISTRY_PASSWD", true},
		{"GITLAB_CREDENTIALS", true},
		{"CI_JOB_TOKEN", true},
		{"CI_JOB_JWT", true},
		{"DOCKER_AUTH_CONFIG", true},
		{"AWS_SECRET_ACCESS_KEY", true},
		{"MYSQL_PASSWORD", true},
		{"NPM_AUTH", true},
		{"GPG_PASSPHRASE", true},
		{"SENTRY_DSN", true},
		{"api_key", true},
		{"oauth_token", true},
		// config.toml keys (GitLab Runner's spelling).
		{"token", true},
		{"password", true},
		{"bearer_token", true},
		{"sentry_dsn", true},
		{"AccessKey", true},
		{"SecretKey", true},
		{"SessionToken", true},
		{"AccountKey", true},
		{"secretkey", true},
		// JSON fields of a Docker config and of a credential helper's answer.
		{"auth", true},
		{"identitytoken", true},
		{"registrytoken", true},
		{"identity_token", true},
		{"Secret", true},
		{"access_token", true},
		{"refresh_token", true},

		// Names that only contain a secret word inside another word.
		{"KEYBOARD", false},
		{"MONKEY", false},
		{"GIT_AUTHOR_NAME", false},
		{"BYPASS", false},
		{"TOKENIZER_MODEL", false},
		{"PASSENGER", false},
		// Ordinary variables and keys.
		{"PATH", false},
		{"HOME", false},
		{"HTTP_PROXY", false}, // URL credentials: RedactURL
		{"DOCKER_HOST", false},
		{"DOCKER_TLS_CERTDIR", false},
		{"FF_NETWORK_PER_BUILD", false},
		{"url", false},
		{"username", false},
		{"email", false},
		{"serveraddress", false},
		{"auths", false}, // the map, not a value
		// Names about a secret that hold none.
		{"SSH_KEY_PATH", false},
		{"tls-key-file", false},
		{"AWS_ACCESS_KEY_ID", false},
		{"token_obtained_at", false},
		{"token_expires_at", false},
		{"credsStore", false},
		{"credHelpers", false},
		{"CredentialsFile", false},
		{"ServerSideEncryptionKeyID", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsSecretName(tt.name); got != tt.want {
				t.Errorf("IsSecretName(%q) = %v, want %v (words %q)", tt.name, got, tt.want, nameWords(tt.name))
			}
		})
	}
}
