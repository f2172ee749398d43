package credentials

import (
	"strings"
	"testing"
)

// TestRedactHelperOutputShapes: the shapes a failing helper may print its
// secret in (S3cretPW, base64 "ci:S3cretPW" = Y2k6UzNjcmV0UFc=) are hidden,
// and a real helper's prose around the labels stays readable.
func TestRedactHelperOutputShapes(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`password="S3cretPW"`, `password="***"`},
		{`password: 'S3cretPW'`, `password: '***'`},
		{`Password = "S3cretPW"`, `Password = "***"`},
		{`password="S3cret PW cut off`, `password="***"`},
		{`auth: Y2k6UzNjcmV0UFc=`, `auth: ***`},
		{`{"user":"ci","pass":"S3cretPW"} and more`, `{"user":"ci","pass":"***"} and more`},
		{`Authorization: Basic Y2k6UzNjcmV0UFc=`, `Authorization: Basic ***`},
		{`authorization=Bearer S3cretPW`, `authorization=Bearer ***`},
		{"Secret\tS3cretPW", "Secret\t***"},
		{"Password    S3cretPW", "Password    ***"},
		{"Secret S3cretPW", "Secret ***"},
		{"username=ci\npassword=S3cretPW", "username=ci\npassword=***"},
		{`'password': 'S3cretPW'`, `'password': '***'`},
		{`x-auth-token: S3cretPW`, `x-auth-token: ***`},
		{`sent Y2k6UzNjcmV0UFc= to the registry`, `sent *** to the registry`},
		// prose from real helpers keeps its words
		{`pass not initialized: exit status 1: Error: password store is empty. Try "pass init".`,
			`pass not initialized: exit status 1: Error: password store is empty. Try "pass init".`},
		{`credentials not found in native keychain`, `credentials not found in native keychain`},
		{`basic auth required for registry.example.com`, `basic auth required for registry.example.com`},
		{`token expired at 12:00`, `token expired at 12:00`},
	} {
		got := string(redactHelperOutput([]byte(tc.in)))
		if got != tc.want {
			t.Errorf("redactHelperOutput(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
		if strings.Contains(got, "S3cretPW") || strings.Contains(got, "Y2k6") {
			t.Errorf("redactHelperOutput(%q) leaks: %q", tc.in, got)
		}
	}
}
