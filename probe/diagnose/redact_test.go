package diagnose

import (
	"strings"
	"testing"
)

// TestRedactorHidesSecretFieldsByName: values of JSON fields whose name
// says credential (secret.IsSecretName) are hidden in pasted text even when
// nobody registered them (a token endpoint's answer quoted in a job log),
// plain and quoted inside another string; other fields stay readable.
func TestRedactorHidesSecretFieldsByName(t *testing.T) {
	red := newRedactor(rawSources{})
	text := `token answer: {"token":"tok-value-1234","access_token":"access-value-1234","expires_in":300,"Username":"ci"}` + "\n" +
		`DOCKER_AUTH_CONFIG="{\"auths\":{\"r\":{\"passwd\":\"passwd-value-1234\",\"email\":\"ci@example.com\"}}}"`
	got := red.s(text)
	for _, leak := range []string{"tok-value-1234", "access-value-1234", "passwd-value-1234"} {
		if strings.Contains(got, leak) {
			t.Errorf("redacted text shows %q:\n%s", leak, got)
		}
	}
	for _, keep := range []string{`"Username":"ci"`, `\"email\":\"ci@example.com\"`, `"expires_in":300`} {
		if !strings.Contains(got, keep) {
			t.Errorf("redacted text lost %q:\n%s", keep, got)
		}
	}
}
