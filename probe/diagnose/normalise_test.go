package diagnose

import (
	"slices"
	"strings"
	"testing"
)

// TestNormaliseKinds: each kind of damage a pasted log arrives with is
// undone before matching, and the cause keeps the number of the line it
// starts on in the log as given.
func TestNormaliseKinds(t *testing.T) {
	const denied = `Error response from daemon: pull access denied for acme/app, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`
	tests := []struct {
		name     string
		log      string
		id       string
		lineNo   int
		wantLine string // the cleaned line reported ("" = not checked)
	}{
		{
			name: "soft wrap at spaces splits the cause phrase",
			log:  "Preparing the \"docker\" executor\nERROR: Job failed: invalid pull policy for image \"python:3.12-slim\": pull_policy ([if-not-present])\ndefined in GitLab pipeline config is not one of the allowed_pull_policies ([always])\n",
			id:   "policy-not-allowed", lineNo: 2,
			wantLine: `ERROR: Job failed: invalid pull policy for image "python:3.12-slim": pull_policy ([if-not-present]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([always])`,
		},
		{
			name: "wrapped after a colon with trailing blanks",
			log:  "Running with gitlab-runner 17.0.0 (44feccdf)\nERROR: Job failed: failed to pull image \"node:14\": \nError response from daemon: Head \"https://registry.example.com/v2/node/manifests/14\": \nx509: certificate signed by unknown\nauthority\n",
			id:   "tls-unknown-ca", lineNo: 2,
		},
		{
			name: "hard wrap every 60 bytes cuts words",
			log:  "Pulling docker image alpine:3.20 ...\n" + strings.Join(wrap60(`ERROR: Job failed: failed to pull image "alpine:3.20" with specified policies [always]: Error response from daemon: Get "https://registry.example.com/v2/": x509: certificate has expired or is not yet valid: current time 2026-08-13T05:50:29Z is after 2026-08-13T04:59:29Z (manager.go:251:0s)`), "\n") + "\n",
			id:   "tls-cert-expired", lineNo: 2,
		},
		{
			name: "CRLF line ends",
			log:  "Running with gitlab-runner 17.0.0 (44feccdf)\r\n  on build-01 t1_abc, system ID: s_0123456789ab\r\nWARNING: Failed to pull image with policy \"always\": " + denied + " (manager.go:237:0s)\r\n",
			id:   "access-denied", lineNo: 3,
			wantLine: `WARNING: Failed to pull image with policy "always": ` + denied,
		},
		{
			name: "ANSI colour and erase codes",
			log:  "\x1b[32;1mUsing Docker executor with image acme/app:1 ...\x1b[0;m\n\x1b[0K\x1b[0;33mWARNING: Failed to pull image with policy \"always\": " + denied + " (manager.go:237:0s)\x1b[0;m\n",
			id:   "access-denied", lineNo: 2,
			wantLine: `WARNING: Failed to pull image with policy "always": ` + denied,
		},
		{
			name: "raw log prefixes, section markers and a + continuation",
			log: "2024-05-01T10:00:00.123456Z 00O section_start:1714557600:prepare_executor\r\x1b[0K\x1b[0K\x1b[36;1mPreparing the \"docker\" executor\x1b[0;m\n" +
				"2024-05-01T10:00:01.000001Z 00O \x1b[0;33mWARNING: Failed to pull image with policy \"always\": Error response from daemon: toomanyrequests: You have reached \x1b[0;m\n" +
				"2024-05-01T10:00:01.000002Z 00O+ \x1b[0;33myour pull rate limit. (manager.go:237:0s)\x1b[0;m\n" +
				"2024-05-01T10:00:01.000003Z 00O section_end:1714557601:prepare_executor\r\x1b[0K\n",
			id: "rate-limited", lineNo: 2,
			wantLine: `WARNING: Failed to pull image with policy "always": Error response from daemon: toomanyrequests: You have reached your pull rate limit.`,
		},
		{
			name: "issue-tracker quote marks around a raw log",
			log:  "Here is my log:\n>\n> 2024-05-01T10:00:04.512341Z 00O Pulling docker image hello-world:latest ...\n> 2024-05-01T10:00:04.601122Z 00O ERROR: Job failed: failed to pull image \"hello-world:latest\" with specified policies [always]: Error response from daemon: manifest for hello-world:latest not found: manifest unknown: manifest unknown (manager.go:237:0s)\n",
			id:   "tag-not-found", lineNo: 4,
		},
		{
			name: "shell prompt and Markdown fences of a paste",
			log:  "```\n[ci@build-01 ~]$ docker pull registry.example.com/ci/app:1\nError response from daemon: Get \"https://registry.example.com/v2/\": http: server gave HTTP response to HTTPS client\n```\n",
			id:   "registry-plain-http", lineNo: 3,
		},
		{
			name: "GitLab line links turned into Markdown by a copy",
			log:  "WARNING: Failed to pull image with policy \"always\": Error response from daemon: manifest for gitlab.example.com:5005/g/ci:9a495cbc014c not found: manifest unknown: manifest unknown (manager.go:23[7](https://gitlab.example.com/g/p/-/jobs/52751479#L7):0s)\n",
			id:   "tag-not-found", lineNo: 1,
			wantLine: `WARNING: Failed to pull image with policy "always": Error response from daemon: manifest for gitlab.example.com:5005/g/ci:9a495cbc014c not found: manifest unknown: manifest unknown`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := MatchLog(tt.log)
			if len(rep.Matches) == 0 {
				t.Fatalf("no match; lines %q", rep.Lines)
			}
			m := rep.Matches[0]
			if m.ID != tt.id || m.LineNo != tt.lineNo {
				t.Errorf("first match %s at line %d, want %s at line %d (line %q)", m.ID, m.LineNo, tt.id, tt.lineNo, m.Line)
			}
			if tt.wantLine != "" && m.Line != tt.wantLine {
				t.Errorf("line = %q\nwant   %q", m.Line, tt.wantLine)
			}
		})
	}
}

func wrap60(s string) []string {
	var out []string
	for len(s) > 60 {
		out = append(out, s[:60])
		s = s[60:]
	}
	return append(out, s)
}

// TestNormaliseKeepsLinesApart: lines the runner starts afresh are never
// joined to an error before them, and a blank line ends a wrap.
func TestNormaliseKeepsLinesApart(t *testing.T) {
	log := "ERROR: Preparation failed: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running? (executor_docker.go:1173:0s)\n" +
		"Will be retried in 3s ...\n" +
		" WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n" +
		" error during connect: Post http://docker:2375/v1.40/auth: dial tcp: lookup docker on 169.254.169.254:53: no such host\n" +
		"ERROR: Couldn't connect to Docker daemon at http+docker://localhost - is it running?\n" +
		"\n" +
		"If it's at a non-standard location, specify the URL with the DOCKER_HOST environment variable.\n"
	lines := normalise(log)
	var got []int
	for _, l := range lines {
		got = append(got, l.no)
	}
	if want := []int{1, 2, 3, 4, 5, 7}; !slices.Equal(got, want) {
		t.Errorf("logical lines start at %v, want %v: %+v", got, want, lines)
	}
}
