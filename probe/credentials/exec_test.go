package credentials

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fakeHelperScript is a real docker-credential-fake: it uses shell
// builtins only, because the tests run it with PATH set to its own
// directory (as a service with a minimal PATH would).
const fakeHelperScript = `#!/bin/sh
case "$1" in
list)
  printf '{"reg.example.com":"alice","tok.example.com":"<token>"}'
  exit 0 ;;
get)
  IFS= read -r server || true
  case "$server" in
  reg.example.com) printf '{"ServerURL":"reg.example.com","Username":"alice","Secret":"pw-script-4d5e6f"}'; exit 0 ;;
  tok.example.com) printf '{"ServerURL":"tok.example.com","Username":"<token>","Secret":"tok-script-8a9b7c"}'; exit 0 ;;
  *) printf 'credentials not found in native keychain'; exit 1 ;;
  esac ;;
esac
printf 'unknown action %s' "$1"
exit 1
`

// slowHelperScript never answers in time.
const slowHelperScript = "#!/bin/sh\nexec /bin/sleep 30\n"

// helperDir writes the scripts into a fresh directory for PATH.
func helperDir(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("shell helper scripts need a Unix shell")
	}
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	dir := t.TempDir()
	for name, body := range map[string]string{"docker-credential-fake": fakeHelperScript, "docker-credential-slow": slowHelperScript} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Not executable: LookPath must skip it.
	if err := os.WriteFile(filepath.Join(dir, "docker-credential-noexec"), []byte(fakeHelperScript), 0o644); err != nil {
		t.Fatal(err)
	}
	pw("pw-script-4d5e6f")
	pw("tok-script-8a9b7c")
	return dir
}

func TestRealHelperExec(t *testing.T) {
	dir := helperDir(t)
	tests := []struct {
		name       string
		config     string
		image      string
		wantFound  bool
		wantUser   string
		wantToken  bool
		wantStatus string // of the home source
		wantReason string
	}{
		{name: "credsStore lists and gets through the real binary", config: `{"credsStore":"fake"}`,
			image: "reg.example.com/app:1", wantFound: true, wantUser: "alice", wantStatus: StatusUsed},
		{name: "an identity token comes back as IdentityToken", config: `{"credsStore":"fake"}`,
			image: "tok.example.com/app", wantFound: true, wantToken: true, wantStatus: StatusUsed},
		{name: "credHelpers not found is an empty entry, not an error", config: `{"credHelpers":{"unknown.example.com":"fake"}}`,
			image: "unknown.example.com/app", wantStatus: StatusNoMatch, wantReason: `answered "credentials not found"`},
		{name: "a helper missing from the runner's PATH drops the source with docker/cli's text", config: `{"credsStore":"desktop","auths":{"reg.example.com":{"auth":"` + b64("u:pw-real-lost-5e6f") + `"}}}`,
			image: "reg.example.com/app", wantStatus: StatusDropped,
			wantReason: `error listing credentials - err: exec: "docker-credential-desktop": executable file not found in $PATH, out: ` + "``"},
		{name: "a non-executable helper file counts as missing", config: `{"credHelpers":{"reg.example.com":"noexec"}}`,
			image: "reg.example.com/app", wantStatus: StatusDropped, wantReason: "executable file not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Resolver{HomeDir: "/nonexistent", ConfigJSON: []byte(tt.config), ConfigJSONPath: homeCfg,
				HelperEnv: []string{"PATH=" + dir}}
			res, err := r.Resolve(context.Background(), tt.image)
			if err != nil {
				t.Fatal(err)
			}
			home := res.Sources[1]
			if res.Found != tt.wantFound || home.Status != tt.wantStatus || !strings.Contains(home.Reason, tt.wantReason) {
				t.Fatalf("found=%v home=%s %q; want found=%v %s %q", res.Found, home.Status, home.Reason, tt.wantFound, tt.wantStatus, tt.wantReason)
			}
			if tt.wantUser != "" && (res.Credential.Username != tt.wantUser || res.Credential.Password != "pw-script-4d5e6f") {
				t.Errorf("credential user %q", res.Credential.Username)
			}
			if tt.wantToken && (res.Credential.IdentityToken != "tok-script-8a9b7c" || res.Credential.Username != "") {
				t.Errorf("identity token not mapped: user %q", res.Credential.Username)
			}
			assertNoSecrets(t, tt.name, allTexts(res)...)
		})
	}
}

// TestRealHelperProcessPATH uses the default LookPath (exec.LookPath over
// this process's PATH) when HelperEnv is nil.
func TestRealHelperProcessPATH(t *testing.T) {
	dir := helperDir(t)
	t.Setenv("PATH", dir)
	r := Resolver{HomeDir: "/nonexistent", ConfigJSON: []byte(`{"credHelpers":{"reg.example.com":"fake"}}`)}
	res, err := r.Resolve(context.Background(), "reg.example.com/app")
	if err != nil || !res.Found || res.Credential.Username != "alice" {
		t.Fatalf("Resolve = %+v, %v", res.Sources, err)
	}
}

// TestRealHelperDeadline: the runner waits forever for a helper; the
// probe must not, and says so.
func TestRealHelperDeadline(t *testing.T) {
	dir := helperDir(t)
	r := Resolver{HomeDir: "/nonexistent", ConfigJSON: []byte(`{"credHelpers":{"reg.example.com":"slow"}}`),
		HelperEnv: []string{"PATH=" + dir}}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := r.Resolve(ctx, "reg.example.com/app")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline error", err)
	}
	if s := res.Sources[1]; s.Status != StatusDropped || s.Cause != CauseHelperUnreachable {
		t.Errorf("home source = %s %s: %s", s.Status, s.Cause, s.Reason)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Resolve took %s after the deadline", d)
	}
}

func TestLookPathIn(t *testing.T) {
	dir := helperDir(t)
	if p, err := lookPathIn("docker-credential-fake", "/nonexistent:"+dir, nil); err != nil || p != filepath.Join(dir, "docker-credential-fake") {
		t.Errorf("lookPathIn = %q, %v", p, err)
	}
	if _, err := lookPathIn("docker-credential-noexec", dir, nil); err == nil || !strings.Contains(err.Error(), `exec: "docker-credential-noexec": executable file not found in $PATH`) {
		t.Errorf("non-executable file: err = %v", err)
	}
	t.Chdir(dir)
	if _, err := lookPathIn("docker-credential-fake", ":/nonexistent", nil); err == nil || !strings.Contains(err.Error(), "current directory") {
		t.Errorf("relative PATH entry: err = %v, want exec.ErrDot", err)
	}
}

// brokenHelpers are real docker-credential-<name> scripts that fail after
// printing a password in some shape; the secrets all start with "hunter2".
var brokenHelpers = map[string]string{
	// a whole answer, then exit 1
	"whole": `printf '{"ServerURL":"reg.example.com","Username":"u","Secret":"hunter2-whole-9f8e"}'; exit 1`,
	// cut off inside the secret
	"partial": `printf '{"ServerURL":"reg.example.com","Username":"u","Secret":"hunter2-partial-7d6c'; exit 1`,
	// pretty-printed over several lines, other casings and fields
	"multiline": `printf '{\n  "serverurl": "reg.example.com",\n  "username": "u",\n  "PASSWORD": "hunter2-multi-5b4a",\n  "identityToken": "hunter2-idtok-4c3d"\n}\n'; exit 1`,
	// coloured
	"ansi": `printf '\033[31merror:\033[0m {"ServerURL":"reg.example.com","Username":"u","Secret":"\033[1mhunter2-ansi-3c2b\033[0m"}\n'; exit 1`,
	// JSON quoted inside a message
	"escaped": `printf 'helper said: "{\\"Username\\":\\"u\\",\\"Secret\\":\\"hunter2-esc-2b1a\\"}"'; exit 1`,
	// a docker config fragment
	"auth": `printf 'bad config: {"auths":{"reg.example.com":{"Auth":"aHVudGVyMi1hdXRoLTFhMGY="}}}'; exit 1`,
	// very long output with the secret in the middle and at the end
	"long": `i=0; while [ $i -lt 3000 ]; do printf 'noise-%d ' $i; i=$((i+1)); done; printf '\n{"Secret":"hunter2-long-0f9e"}\n'; i=0; while [ $i -lt 3000 ]; do printf 'tail-%d ' $i; i=$((i+1)); done; printf '"Secret":"hunter2-longtail-8e7d'; exit 1`,
	// on stderr only
	"stderr": `printf '{"ServerURL":"reg.example.com","Username":"u","Secret":"hunter2-stderr-7d6c"}' >&2; printf 'see stderr'; exit 1`,
	// key=value with the value quoted, as a log line or an .env file
	"kv-quoted": `printf 'login to reg.example.com failed: password="hunter2-kvq-6a5b"\n'; exit 1`,
	// key = 'value' with spaces and single quotes
	"kv-single": `printf "Password = 'hunter2-kvs-5a4b'\n"; exit 1`,
	// YAML with a quoted value
	"yaml-quoted": `printf "username: u\npassword: 'hunter2-yaml-4a3b'\n"; exit 1`,
	// a bare auth value (base64 of user:password)
	"auth-plain": `printf 'auth: dTpodW50ZXIyLWF1dGgtM2Ey\n'; exit 1`,
	// an HTTP header the helper echoes
	"basic":  `printf 'request failed, sent Authorization: Basic dTpodW50ZXIyLWJhc2ljLTFhMmI=\n'; exit 1`,
	"bearer": `printf 'Authorization: Bearer hunter2-bearer-2a1b\n'; exit 1`,
	// JSON with a field name outside Docker's
	"json-pass": `printf '{"user":"u","pass":"hunter2-pass-1a0b"}\n'; exit 1`,
	// a table: key, tab, value
	"tab": `printf 'Username\tu\nSecret\thunter2-tab-0a9b\n'; exit 1`,
	// column-aligned
	"columns": `printf 'Username   u\nPassword   hunter2-cols-9a8b\n'; exit 1`,
	// key: value on its own line after other lines
	"lines": `printf 'username=u\npassword=hunter2-lines-8a7b\n'; exit 1`,
}

// TestBrokenHelperOutputRedacted: a helper that prints a password and then
// fails must not put that password (or any credentials object) into a
// report, whatever the shape of its output, and what it printed is capped.
func TestBrokenHelperOutputRedacted(t *testing.T) {
	dir := helperDir(t)
	for name, body := range brokenHelpers {
		if err := os.WriteFile(filepath.Join(dir, "docker-credential-"+name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name := range brokenHelpers {
		t.Run(name, func(t *testing.T) {
			r := Resolver{HomeDir: "/nonexistent", ConfigJSON: []byte(`{"credHelpers":{"reg.example.com":"` + name + `"}}`),
				ConfigJSONPath: homeCfg, HelperEnv: []string{"PATH=" + dir}}
			res, err := r.Resolve(context.Background(), "reg.example.com/app")
			if err != nil {
				t.Fatal(err)
			}
			if s := res.Sources[1]; s.Status != StatusDropped || s.Cause != CauseHelperFailed {
				t.Fatalf("home source = %s %s: %s", s.Status, s.Cause, s.Reason)
			}
			texts := allTexts(res)
			for _, c := range Checks(r, []string{"reg.example.com/app"}) {
				out := c.Run(context.Background(), nil)
				texts = append(texts, out.Detail, out.Hint)
			}
			for _, txt := range texts {
				// hunter2 in clear, base64 alone or after "u:" (auth values)
				if strings.Contains(txt, "hunter2") || strings.Contains(txt, "aHVudGVyMi") || strings.Contains(txt, "dTpodW50ZXIy") {
					t.Errorf("leaks the helper's secret: %q", txt)
				}
				if strings.Contains(txt, "\x1b") {
					t.Errorf("passes terminal escapes through: %q", txt)
				}
				if len(txt) > 2*maxHelperOutput+512 {
					t.Errorf("text of %d bytes: helper output is not capped", len(txt))
				}
			}
		})
	}
}

// TestDroppedReasonNamesMatchingKeyOnce: the key that would have matched
// is named again only when other keys went with the file too.
func TestDroppedReasonNamesMatchingKeyOnce(t *testing.T) {
	dir := helperDir(t)
	if err := os.WriteFile(filepath.Join(dir, "docker-credential-broken"), []byte("#!/bin/sh\necho broken; exit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ config, want, not string }{
		{`{"credHelpers":{"reg.example.com":"broken"}}`,
			`credentials lost with it: "reg.example.com", which would match "reg.example.com/app"`, "including"},
		{`{"credHelpers":{"reg.example.com":"broken"},"auths":{"other.example.com":{"auth":"dTpw"}}}`,
			`credentials lost with it: "other.example.com", "reg.example.com", including "reg.example.com", which would match "reg.example.com/app"`, ""},
	} {
		r := Resolver{HomeDir: "/nonexistent", ConfigJSON: []byte(tc.config), ConfigJSONPath: homeCfg, HelperEnv: []string{"PATH=" + dir}}
		res, err := r.Resolve(context.Background(), "reg.example.com/app")
		if err != nil {
			t.Fatal(err)
		}
		reason := res.Sources[1].Reason
		if !strings.Contains(reason, tc.want) || (tc.not != "" && strings.Contains(reason, tc.not)) {
			t.Errorf("config %s: reason\n%s\nwant it to contain %q (and not %q)", tc.config, reason, tc.want, tc.not)
		}
	}
}
