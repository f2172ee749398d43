package lint

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// Secret values used in the fixtures; no finding may contain any of them.
const (
	tokA      = "glrt-t1_FixtureTokenAAAA1111"
	tokB      = "glrt-t2_FixtureTokenBBBB2222"
	regTok    = "GR1348941FixtureRegToken22"
	patTok    = "glpat-FixturePatToken77777"
	sshPass   = "Fixture-Passw0rd-33"
	s3Secret  = "FixtureS3SecretKey44"
	envSecret = "FixtureEnvSecret55"
)

var fixtureSecrets = []string{tokA, tokB, regTok, patTok, sshPass, s3Secret, envSecret,
	"glrt-t1_FixtureUnquoted9999", "glrt-t1_FixtureUnterminated", "Fixture-Unquoted-Passw0rd"}

// doc drops the newline after the opening backtick, so that line 1 of the
// document is the first line written in the test.
func doc(s string) string { return strings.TrimPrefix(s, "\n") }

type want struct {
	id   string
	sev  Severity
	line int
	fix  string // compared exactly when set
}

type lintCase struct {
	name string
	toml string
	opts Options
	want []want
}

var cases = []lintCase{
	{
		name: "toml syntax: unterminated array, line and column",
		toml: doc(`
concurrent = 2

[[runners]]
  name = "broken"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  [runners.docker]
    image = "alpine:3.20"
    volumes = ["/cache"
`),
		want: []want{{id: "toml.syntax", sev: Error, line: 10}},
	},
	{
		name: "toml syntax: key defined twice",
		toml: doc(`
concurrent = 2
concurrent = 3
`),
		want: []want{{id: "toml.syntax", sev: Error, line: 2}},
	},
	{
		// A transposition in a short key: apply's answers check suggests it,
		// and check must too (one did-you-mean for both).
		name: "unknown key hsot, did you mean",
		toml: doc(`
concurrent = 1

[[runners]]
  name = "typo-runner"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  [runners.docker]
    image = "alpine:3.20"
    hsot = "unix:///var/run/docker.sock"
`),
		want: []want{{id: "key.unknown", sev: Warning, line: 10, fix: `did you mean "host"?`}},
	},
	{
		name: "unknown key privilaged, did you mean",
		toml: doc(`
concurrent = 1

[[runners]]
  name = "typo-runner"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  [runners.docker]
    image = "alpine:3.20"
    privilaged = true
    volumes = ["/cache"]
`),
		want: []want{{id: "key.unknown", sev: Warning, line: 10, fix: `did you mean "privileged"?`}},
	},
	{
		name: "unknown key tls_ca_file, the runner spells it with dashes",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  tls_ca_file = "/etc/gitlab-runner/certs/ca.crt"
  executor = "shell"
`),
		want: []want{{id: "key.unknown", sev: Warning, line: 5, fix: `did you mean "tls-ca-file"?`}},
	},
	{
		name: "unknown key ipc_mode, the runner spells it ipcmode",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  [runners.docker]
    image = "alpine:3.20"
    ipc_mode = "host"
`),
		want: []want{{id: "key.unknown", sev: Warning, line: 8, fix: `did you mean "ipcmode"?`}},
	},
	{
		// The runner decodes both into one field and keeps one of them
		// at random (runner-oracle printed either over six loads).
		name: "one key in two spellings",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "shell"
  Executor = "docker"
  Limit = 1
  limit = 1
`),
		want: []want{
			{id: "key.case-duplicate", sev: Error, line: 5, fix: `keep one "executor" line and delete the others`},
			{id: "key.case-duplicate", sev: Warning, line: 8, fix: `keep one "limit" line and delete the others`},
		},
	},
	{
		name: "cache keys are CamelCase; lower case is accepted but noted",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "shell"
  [runners.cache]
    type = "s3"
    Shared = true
    [runners.cache.s3]
      bucket_name = "runner-cache"
      BucketLocation = "eu-west-1"
`),
		want: []want{
			{id: "key.case", sev: Info, line: 7, fix: `write "Type"`},
			{id: "key.unknown", sev: Warning, line: 10, fix: `did you mean "BucketName"?`},
		},
	},
	{
		name: "keys under the wrong header",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  concurrent = 4
  privileged = true
  [runners.docker]
    image = "alpine:3.20"
`),
		want: []want{
			{id: "key.unknown", sev: Warning, line: 6, fix: `"concurrent" is a key of the top level (above the first [[runners]]); move it there`},
			{id: "key.unknown", sev: Warning, line: 7, fix: `"privileged" is a key of [runners.docker]; move it there`},
		},
	},
	{
		name: "feature_flags take any key; [runners.kubernetes] and inline service table keys are checked",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  [runners.feature_flags]
    FF_SOMETHING_NEW = true
  [runners.kubernetes]
    anything_goes = 1
    [runners.kubernetes.whatever]
      nested = "yes"
  [runners.docker]
    image = "alpine:3.20"
    services = [{ name = "postgres:16", aliaz = "db" }]
`),
		want: []want{{id: "key.unknown", sev: Warning, line: 9}, {id: "key.unknown", sev: Warning, line: 10},
			{id: "key.unknown", sev: Warning, line: 14, fix: `did you mean "alias"?`}},
	},
	{
		name: "type: privileged = \"yes\"",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  [runners.docker]
    image = "alpine:3.20"
    privileged = "yes"
`),
		want: []want{{id: "key.type", sev: Error, line: 8, fix: "write privileged = true, without quotes"}},
	},
	{
		name: "type: concurrent = \"4\"",
		toml: doc(`
concurrent = "4"
`),
		want: []want{{id: "key.type", sev: Error, line: 1, fix: "write concurrent = 4, without quotes"}},
	},
	{
		name: "type: [runners] written as a single table",
		toml: doc(`
concurrent = 1
[runners]
  name = "r"
`),
		want: []want{{id: "key.type", sev: Error, line: 2, fix: "write the header as [[runners]] (an array of tables), not [runners]"}},
	},
	{
		name: "type: [[runners.docker]] written as an array",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  [[runners.docker]]
    image = "alpine:3.20"
`),
		want: []want{
			{id: "key.type", sev: Error, line: 6, fix: "write the header as [runners.docker], not [[runners.docker]]"},
		},
	},
	{
		name: "type: environment as a string, feature flag as a string, ssh port as a number",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "ssh"
  environment = "GIT_DEPTH=10"
  [runners.feature_flags]
    FF_NETWORK_PER_BUILD = "true"
  [runners.ssh]
    host = "build.example.com"
    port = 22
`),
		want: []want{
			{id: "key.type", sev: Error, line: 6, fix: `make it an array: environment = ["..."]`},
			{id: "key.type", sev: Error, line: 8, fix: "write FF_NETWORK_PER_BUILD = true, without quotes"},
			{id: "key.type", sev: Error, line: 11, fix: "put the value in double quotes"},
		},
	},
	{
		name: "type: labels that are not a table are ignored; bad dates and durations refuse the file",
		toml: doc(`
connection_max_age = "15 minutes"

[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  token_obtained_at = "yesterday"
  executor = "shell"
  labels = "team=ci"
`),
		want: []want{
			{id: "key.type", sev: Error, line: 1},
			{id: "key.type", sev: Error, line: 7},
			{id: "key.type", sev: Warning, line: 9},
		},
	},
	{
		name: "executor docker-ssh was removed",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker-ssh"
`),
		want: []want{{id: "runner.executor.invalid", sev: Error, line: 5, fix: "use docker"}},
	},
	{
		name: "executor misspelt, and missing",
		toml: doc(`
concurrent = 2

[[runners]]
  name = "a"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "dokcer"

[[runners]]
  name = "b"
  url = "https://gitlab.example.com"
  token = "` + tokB + `"
`),
		want: []want{
			{id: "runner.executor.invalid", sev: Error, line: 7, fix: `did you mean "docker"?`},
			{id: "runner.executor.missing", sev: Error, line: 9},
		},
	},
	{
		name: "executor needs its own table; docker+machine is deprecated",
		toml: doc(`
concurrent = 2

[[runners]]
  name = "k8s"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "kubernetes"

[[runners]]
  name = "dm"
  url = "https://gitlab.example.com"
  token = "` + tokB + `"
  executor = "docker+machine"
  [runners.docker]
    image = "alpine:3.20"
`),
		want: []want{
			{id: "runner.section.missing", sev: Error, line: 7, fix: "add [runners.kubernetes] to this runner"},
			{id: "runner.executor.deprecated", sev: Warning, line: 13},
			{id: "runner.section.missing", sev: Error, line: 13, fix: "add [runners.machine] to this runner"},
		},
	},
	{
		name: "pull_policy: invalid string",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  [runners.docker]
    image = "alpine:3.20"
    pull_policy = "if_not_present"
`),
		want: []want{{id: "docker.pull_policy.invalid", sev: Error, line: 8, fix: `did you mean "if-not-present"?`}},
	},
	{
		name: "pull_policy: invalid element of a multi-line array",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  [runners.docker]
    image = "alpine:3.20"
    pull_policy = [
      "always",
      "Never",
    ]
`),
		want: []want{{id: "docker.pull_policy.invalid", sev: Error, line: 10, fix: `did you mean "never"?`}},
	},
	{
		name: "allowed_pull_policies: empty intersection with the default and with pull_policy",
		toml: doc(`
concurrent = 2

[[runners]]
  name = "a"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  [runners.docker]
    image = "alpine:3.20"
    allowed_pull_policies = ["if-not-present"]

[[runners]]
  name = "b"
  url = "https://gitlab.example.com"
  token = "` + tokB + `"
  executor = "docker"
  [runners.docker]
    image = "alpine:3.20"
    pull_policy = ["never"]
    allowed_pull_policies = ["always", "if-not-present"]
`),
		want: []want{
			{id: "docker.allowed_pull_policies.conflict", sev: Warning, line: 10},
			{id: "docker.allowed_pull_policies.conflict", sev: Warning, line: 20},
		},
	},
	{
		name: "shell cmd was removed, fish never existed",
		toml: doc(`
concurrent = 2

[[runners]]
  name = "win"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "shell"
  shell = "cmd"

[[runners]]
  name = "fish"
  url = "https://gitlab.example.com"
  token = "` + tokB + `"
  executor = "shell"
  shell = "fish"
`),
		want: []want{
			{id: "runner.shell.invalid", sev: Error, line: 8, fix: "use pwsh (or powershell)"},
			{id: "runner.shell.invalid", sev: Error, line: 15, fix: "use one of: bash, sh, pwsh, powershell"},
		},
	},
	{
		name: "duplicate name and duplicate url+token (re-registration)",
		toml: doc(`
concurrent = 3

[[runners]]
  name = "ci"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "shell"

[[runners]]
  name = "ci"
  url = "https://gitlab.example.com"
  token = "` + tokB + `"
  executor = "shell"

[[runners]]
  name = "ci-again"
  url = "https://gitlab.example.com/"
  token = "` + tokA + `"
  executor = "shell"
`),
		want: []want{
			{id: "runner.name.duplicate", sev: Warning, line: 10},
			{id: "runner.token.duplicate", sev: Error, line: 18},
		},
	},
	{
		name: "registration token where the authentication token belongs",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + regTok + `"
  executor = "shell"
`),
		want: []want{{id: "runner.token.registration", sev: Error, line: 4}},
	},
	{
		name: "personal access token where the runner token belongs",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + patTok + `"
  executor = "shell"
`),
		want: []want{{id: "runner.token.wrong-kind", sev: Error, line: 4}},
	},
	{
		name: "token and url missing, empty or not http(s)",
		toml: doc(`
concurrent = 3

[[runners]]
  name = "a"
  url = "ftp://gitlab.example.com"
  executor = "shell"

[[runners]]
  name = "b"
  url = "gitlab.example.com"
  token = "  "
  executor = "shell"

[[runners]]
  name = "c"
  token = "` + tokB + `"
  executor = "shell"
`),
		want: []want{
			{id: "runner.token.missing", sev: Error, line: 3},
			{id: "runner.url.invalid", sev: Error, line: 5},
			{id: "runner.url.invalid", sev: Error, line: 10, fix: "write https:// in front of the host name"},
			{id: "runner.token.missing", sev: Error, line: 11},
			{id: "runner.url.missing", sev: Error, line: 14},
		},
	},
	{
		name: "url from the environment is not checked",
		toml: doc(`
[[runners]]
  name = "r"
  url = "$CI_SERVER_URL"
  token = "${RUNNER_TOKEN}"
  executor = "shell"
`),
	},
	{
		name: "file mode wider than 0600",
		toml: "concurrent = 1\n",
		opts: Options{Mode: 0o644, HaveMode: true},
		want: []want{{id: "file.mode", sev: Warning, line: 0, fix: "chmod 600 config.toml"}},
	},
	{
		name: "file mode 0600 is fine",
		toml: "concurrent = 1\n",
		opts: Options{Mode: 0o600, HaveMode: true},
	},
	{
		name: "DinD with privileged = false",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  [runners.docker]
    image = "docker:27"
    privileged = false
    volumes = ["/certs/client", "/cache"]
    [[runners.docker.services]]
      name = "docker:27-dind"
`),
		want: []want{{id: "docker.dind.unprivileged", sev: Error, line: 11}},
	},
	{
		name: "DinD with services_privileged = false overrides privileged = true",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  [runners.docker]
    image = "docker:27"
    privileged = true
    services_privileged = false
    volumes = ["/certs/client"]
    services = [{ name = "registry.example.com/mirror/docker:dind" }]
`),
		want: []want{{id: "docker.dind.unprivileged", sev: Error, line: 11, fix: "set services_privileged = true (or remove it and set privileged = true)"}},
	},
	{
		name: "DinD with privileged not set (default false)",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  [runners.docker]
    image = "docker:27"
    [[runners.docker.services]]
      name = "docker:dind-rootless"
`),
		want: []want{{id: "docker.dind.unprivileged", sev: Warning, line: 9}},
	},
	{
		name: "DinD privileged but without the /certs/client volume",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  [runners.docker]
    image = "docker:27"
    privileged = true
    volumes = ["/cache"]
    [[runners.docker.services]]
      name = "docker:27-dind"
`),
		want: []want{{id: "docker.dind.no-certs-volume", sev: Warning, line: 9, fix: `add "/certs/client" to volumes in [runners.docker] (and set DOCKER_TLS_CERTDIR=/certs, DOCKER_HOST=tcp://docker:2376 in the job)`}},
	},
	{
		name: "DinD fully wired, and DinD with TLS turned off: nothing to say",
		toml: doc(`
concurrent = 2

[[runners]]
  name = "tls"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  [runners.docker]
    image = "docker:27"
    privileged = true
    volumes = ["/certs/client", "/cache"]
    [[runners.docker.services]]
      name = "docker:27-dind"
      alias = "docker"

[[runners]]
  name = "plain"
  url = "https://gitlab.example.com"
  token = "` + tokB + `"
  executor = "docker"
  environment = ["DOCKER_TLS_CERTDIR="]
  [runners.docker]
    image = "docker:27"
    privileged = true
    [[runners.docker.services]]
      name = "docker:27-dind"
`),
	},
	{
		name: "service without a name",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  [runners.docker]
    image = "alpine:3.20"
    [[runners.docker.services]]
      name = "postgres:16"
    [[runners.docker.services]]
      alias = "cache"
`),
		want: []want{{id: "docker.services.name.missing", sev: Error, line: 10}},
	},
	{
		name: "concurrent below the largest limit",
		toml: doc(`
concurrent = 2

[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "shell"
  limit = 4
`),
		want: []want{{id: "concurrent.below-limit", sev: Warning, line: 1, fix: "set concurrent = 4 or more at the top of the file"}},
	},
	{
		name: "concurrent absent (1) below a limit; concurrent = 0",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "shell"
  limit = 3
`),
		want: []want{{id: "concurrent.below-limit", sev: Warning, line: 6}},
	},
	{
		name: "concurrent = 0 stops the runner",
		toml: "concurrent = 0\n",
		want: []want{{id: "concurrent.invalid", sev: Error, line: 1}},
	},
	{
		name: "platform under [runners.docker] is ignored",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  [runners.docker]
    image = "alpine:3.20"
    platform = "linux/arm64"
`),
		want: []want{{id: "docker.platform.ignored", sev: Warning, line: 8}},
	},
	{
		name: "token_expires_at without token_obtained_at",
		toml: doc(`
concurrent = 2

[[runners]]
  name = "a"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  token_obtained_at = 0001-01-01T00:00:00Z
  token_expires_at = 2027-01-01T00:00:00Z
  executor = "shell"

[[runners]]
  name = "b"
  url = "https://gitlab.example.com"
  token = "` + tokB + `"
  token_obtained_at = 2026-01-01T00:00:00Z
  token_expires_at = "2027-01-01T00:00:00Z"
  executor = "shell"
`),
		want: []want{{id: "runner.token_expires_at.without-obtained", sev: Warning, line: 8}},
	},
	{
		name: "docker executor without an image, and without [runners.docker]",
		toml: doc(`
concurrent = 2

[[runners]]
  name = "a"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  [runners.docker]
    privileged = true

[[runners]]
  name = "b"
  url = "https://gitlab.example.com"
  token = "` + tokB + `"
  executor = "docker-windows"
`),
		want: []want{
			{id: "docker.image.missing", sev: Error, line: 8},
			{id: "docker.image.missing", sev: Error, line: 15},
		},
	},
	{
		name: "log_options allows only env and labels; log_level and log_format",
		toml: doc(`
log_level = "verbose"
log_format = "jsn"

[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  [runners.docker]
    image = "alpine:3.20"
    log_options = { env = "A", max-size = "10m" }
`),
		want: []want{
			{id: "log_level.invalid", sev: Error, line: 1},
			{id: "log_format.invalid", sev: Error, line: 2, fix: `did you mean "json"?`},
			{id: "docker.log_options.invalid", sev: Error, line: 11},
		},
	},
	{
		name: "multi-line strings and quoted keys do not confuse line numbers",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "docker"
  pre_build_script = """
[runners.docker]
privilaged = true
"""
  post_build_script = '''
echo "]"
'''
  [runners.docker]
    image = "alpine:3.20"
    "privilaged" = true
`),
		want: []want{{id: "key.unknown", sev: Warning, line: 15, fix: `did you mean "privileged"?`}},
	},
	{
		name: "secrets never reach messages",
		toml: doc(`
[[runners]]
  name = "r"
  url = "https://gitlab.example.com"
  token = "` + regTok + `"
  executor = "ssh"
  environment = ["DEPLOY_PASSWORD=` + envSecret + `"]
  [runners.ssh]
    host = "h"
    password = "` + sshPass + `"
    pasword = "` + sshPass + `"
  [runners.cache]
    [runners.cache.s3]
      SecretKey = 12
      secret_key = "` + s3Secret + `"
`),
		want: []want{
			{id: "runner.token.registration", sev: Error, line: 4},
			{id: "key.unknown", sev: Warning, line: 10, fix: `did you mean "password"?`},
			{id: "key.type", sev: Error, line: 13, fix: ""},
			{id: "key.unknown", sev: Warning, line: 14, fix: `did you mean "SecretKey"?`},
		},
	},
	{
		name: "syntax error in an unquoted token",
		toml: doc(`
[[runners]]
  name = "r"
  token = glrt-t1_FixtureUnquoted9999
`),
		want: []want{{id: "toml.syntax", sev: Error, line: 3}},
	},
	{
		name: "syntax error in an unterminated token",
		toml: doc(`
[[runners]]
  name = "r"
  token = "glrt-t1_FixtureUnterminated
  password = Fixture-Unquoted-Passw0rd
`),
		want: []want{{id: "toml.syntax", sev: Error, line: 3}},
	},
}

func TestLint(t *testing.T) {
	if len(cases) < 25 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Lint([]byte(tc.toml), tc.opts)
			checkFindings(t, got, tc.want)
		})
	}
}

// checkFindings asserts that every wanted finding is there (id, line,
// severity, fix) and that there is no other error or warning.
func checkFindings(t *testing.T, got []Finding, wants []want) {
	t.Helper()
	used := make([]bool, len(got))
	for _, w := range wants {
		found := false
		for i, f := range got {
			if used[i] || f.ID != w.id || f.Line != w.line {
				continue
			}
			used[i], found = true, true
			if f.Severity != w.sev {
				t.Errorf("%s at line %d: severity %s, want %s", w.id, w.line, f.Severity, w.sev)
			}
			if w.fix != "" && f.Fix != w.fix {
				t.Errorf("%s at line %d: fix %q, want %q", w.id, w.line, f.Fix, w.fix)
			}
			if f.Message == "" {
				t.Errorf("%s at line %d: empty message", w.id, w.line)
			}
			if f.Line > 0 && f.Column < 1 {
				t.Errorf("%s at line %d: column %d", w.id, w.line, f.Column)
			}
			break
		}
		if !found {
			t.Errorf("missing %s at line %d", w.id, w.line)
		}
	}
	for i, f := range got {
		if !used[i] && f.Severity != Info {
			t.Errorf("unexpected finding: %s", f)
		}
	}
	if t.Failed() {
		for _, f := range got {
			t.Logf("got: %s  path=%s", f, f.Path)
		}
	}
}

func TestNoSecretsInFindings(t *testing.T) {
	var all []Finding
	for _, tc := range cases {
		all = append(all, Lint([]byte(tc.toml), tc.opts)...)
	}
	if len(all) < len(cases) {
		t.Fatalf("only %d findings", len(all))
	}
	for _, f := range all {
		b, _ := json.Marshal(f)
		for _, s := range fixtureSecrets {
			if strings.Contains(string(b), s) {
				t.Errorf("finding %s contains secret %q", f, s)
			}
		}
	}
	// The registration token is named by its prefix only.
	for _, f := range Lint([]byte(cases[indexOfCase(t, "registration token where the authentication token belongs")].toml), Options{}) {
		if f.ID == "runner.token.registration" && !strings.Contains(f.Message, `"GR1348941…"`) {
			t.Errorf("message does not name the prefix: %s", f.Message)
		}
	}
}

func indexOfCase(t *testing.T, name string) int {
	for i, c := range cases {
		if c.name == name {
			return i
		}
	}
	t.Fatalf("no case %q", name)
	return -1
}

const oracleGood = "/work/shared/tools/runner-oracle/testdata/good.toml"

func TestGoodConfigHasNoErrors(t *testing.T) {
	data, err := os.ReadFile(oracleGood)
	if err != nil {
		t.Skipf("runner-oracle sample not available: %v", err)
	}
	got := Lint(data, Options{})
	if HasErrors(got) {
		t.Errorf("good.toml gave errors: %v", got)
	}
	// Its second runner has a docker:27-dind service without privileged:
	// that is the one warning.
	checkFindings(t, got, []want{{id: "docker.dind.unprivileged", sev: Warning, line: 31}})

	// Through LintFile, with a private copy: same result.
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	fromFile, err := LintFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(fromFile) != len(got) {
		t.Errorf("LintFile gave %v, Lint gave %v", fromFile, got)
	}
}

func TestLintFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.toml")
	if _, err := LintFile(p); err == nil {
		t.Fatal("LintFile of a missing file: no error")
	}
	if err := os.WriteFile(p, []byte("concurrent = [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LintFile(p)
	if err != nil {
		t.Fatalf("a syntax error must be a finding, not an error: %v", err)
	}
	wants := []want{{id: "toml.syntax", sev: Error, line: 1}}
	if runtime.GOOS != "windows" {
		wants = append(wants, want{id: "file.mode", sev: Warning, line: 0, fix: "chmod 600 " + p})
	}
	checkFindings(t, got, wants)

}

func TestSortedByLineThenID(t *testing.T) {
	got := Lint([]byte(cases[indexOfCase(t, "secrets never reach messages")].toml), Options{Mode: 0o666, HaveMode: true})
	if !sort.SliceIsSorted(got, func(i, j int) bool {
		if got[i].Line != got[j].Line {
			return got[i].Line < got[j].Line
		}
		return got[i].ID < got[j].ID
	}) {
		t.Errorf("not sorted: %v", got)
	}
	if got[0].ID != "file.mode" {
		t.Errorf("file.mode (no line) should come first: %v", got)
	}
}

func TestPathsAndRunnerNames(t *testing.T) {
	src := doc(`
concurrent = 2

[[runners]]
  name = "first"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "shell"

[[runners]]
  name = "second"
  url = "https://gitlab.example.com"
  token = "` + tokB + `"
  executor = "docker"
  [runners.docker]
    image = "alpine:3.20"
    [[runners.docker.services]]
      name = "postgres:16"
    [[runners.docker.services]]
      name = "redis:7"
      entrypoint = "redis-server"
`)
	got := Lint([]byte(src), Options{})
	if len(got) != 1 {
		t.Fatalf("want 1 finding, got %v", got)
	}
	f := got[0]
	if f.ID != "key.type" || f.Path != "runners[1].docker.services[1].entrypoint" || f.Runner != "second" || f.Line != 20 || f.Column != 7 {
		t.Errorf("got %+v", f)
	}
}

func TestLocate(t *testing.T) {
	src := doc(`
a = 1 # comment
"quoted key" = { x = 1, y = [1, 2] }
b.c = """
[not.a.table]
"""

[[t]]
  k = 'v'
[t.sub]
  z = [
    "one",
    { w = 2 },
  ]
[[t]]
  k = "v2"
[[t.arr]]
  q = 1
`)
	pos := locate(src)
	for p, want := range map[string]position{
		"a":                       {1, 1},
		`"quoted key"`:            {2, 1},
		`"quoted key".x`:          {2, 18},
		`"quoted key".y[1]`:       {2, 33},
		"b.c":                     {3, 1},
		"t[0]":                    {7, 1},
		"t[0].k":                  {8, 3},
		"t[0].sub":                {9, 1},
		"t[0].sub.z[1].w":         {12, 7},
		"t[1].k":                  {15, 3},
		"t[1].arr[0]":             {16, 1},
		"t[1].arr[0].q":           {17, 3},
		"not.a.table":             {},
		`"quoted key".y[2]`:       {},
		"t[2]":                    {},
		"t[0].sub.z[0]":           {11, 5},
		"t[0].sub.z":              {10, 3},
		"t[1].arr[0].q.nonexists": {},
	} {
		got, ok := pos[p]
		if want == (position{}) {
			if ok {
				t.Errorf("%s: found at %v, want absent", p, got)
			}
			continue
		}
		if got != want {
			t.Errorf("%s: at %v, want %v", p, got, want)
		}
	}
}

func TestCRLFAndByteOrderMark(t *testing.T) {
	src := cases[indexOfCase(t, "unknown key privilaged, did you mean")].toml
	for name, in := range map[string]string{
		"crlf": strings.ReplaceAll(src, "\n", "\r\n"),
		"bom":  "\ufeff" + src,
	} {
		t.Run(name, func(t *testing.T) {
			checkFindings(t, Lint([]byte(in), Options{}), []want{{id: "key.unknown", sev: Warning, line: 10, fix: `did you mean "privileged"?`}})
		})
	}
}

func TestSchemaCoversReference(t *testing.T) {
	// Spot checks against docs/gitlab-runner.md §1.
	for table, keys := range map[string][]string{
		"":                         {"concurrent", "check_interval", "log_level", "log_format", "listen_address", "shutdown_timeout", "connection_max_age", "sentry_dsn", "session_server", "labels"},
		"session_server":           {"listen_address", "advertise_address", "session_timeout"},
		"runners":                  {"url", "id", "token", "token_obtained_at", "token_expires_at", "tls-ca-file", "tls-cert-file", "tls-key-file", "name", "executor", "shell", "limit", "environment", "feature_flags", "docker", "cache", "kubernetes", "custom_build_dir", "request_concurrency", "output_limit"},
		"runners.docker":           {"host", "tls_cert_path", "tls_verify", "image", "privileged", "services_privileged", "pull_policy", "allowed_pull_policies", "volumes", "ipcmode", "shm_size", "services", "log_options", "helper_image", "wait_for_services_timeout"},
		"runners.docker.services":  {"name", "alias", "command", "entrypoint", "environment"},
		"runners.cache":            {"Type", "Path", "Shared", "MaxUploadedArchiveSize", "s3", "gcs", "azure"},
		"runners.cache.s3":         {"ServerAddress", "AccessKey", "SecretKey", "BucketName"},
		"runners.custom_build_dir": {"enabled"},
	} {
		for _, k := range keys {
			if _, ok := schema[table][k]; !ok {
				t.Errorf("schema[%q] lacks %q", table, k)
			}
		}
	}
	if _, ok := schema["runners.docker"]["platform"]; ok {
		t.Error("platform must not be a [runners.docker] key")
	}
	if schema["runners"]["kubernetes"] != shTable || schema["runners.kubernetes"]["privileged"] != shBool ||
		schema["runners.kubernetes.volumes"]["pvc"] != shTables || schema["runners.kubernetes.pod_spec"]["patch_type"] != shString {
		t.Error("[runners.kubernetes] must be checked like every other table")
	}
}

// TestSecretsByNameInFindings: an environment entry is a secret when its
// name says so (secret.IsSecretName), so its value never shows even where it
// was pasted into another key; a name that only contains KEY inside a word
// (KEYBOARD) is not a secret and its value stays readable.
func TestSecretsByNameInFindings(t *testing.T) {
	src := doc(`
[[runners]]
  name = "a"
  url = "https://gitlab.example.com"
  token = "` + tokA + `"
  executor = "shell"
  shell = "Reg1stryPassValue"
  environment = ["REGISTRY_PASS=Reg1stryPassValue", "KEYBOARD=dvorak-layout"]
[[runners]]
  name = "b"
  url = "https://gitlab.example.com"
  token = "` + tokB + `"
  executor = "shell"
  shell = "dvorak-layout"
`)
	var msgs []string
	for _, f := range Lint([]byte(src), Options{}) {
		if f.ID == "runner.shell" || strings.Contains(f.Message, "shell") {
			msgs = append(msgs, f.Message)
		}
	}
	all := strings.Join(msgs, "\n")
	if len(msgs) != 2 {
		t.Fatalf("want two unknown-shell findings, got %q", msgs)
	}
	if strings.Contains(all, "Reg1stryPassValue") {
		t.Errorf("the value of REGISTRY_PASS shows:\n%s", all)
	}
	if !strings.Contains(all, `"dvorak-layout"`) {
		t.Errorf("the value of KEYBOARD (no secret) is hidden:\n%s", all)
	}
}
