package diagnose

import (
	"slices"
	"strings"
	"testing"
)

// TestLogPatterns: texts seen in real logs that the classifier once missed
// or ranked wrong; each is read through ClassifyLog (--no-live).
func TestLogPatterns(t *testing.T) {
	const ecrImage = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1"
	helperMissing := "WARNING: Failed to resolve credentials from $DOCKER_AUTH_CONFIG: error getting credentials - err: exec: \"docker-credential-ecr-login\": executable file not found in $PATH, out: ``. Credentials from this source will not be used.\n" +
		"ERROR: Job failed: failed to pull image \"" + ecrImage + "\" with specified policies [always]: Error response from daemon: Head \"https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/app/manifests/1\": no basic auth credentials (manager.go:250:0s)\n"
	tests := []struct {
		name     string
		log      string
		ids      []string // the causes, in order (a prefix is enough)
		evidence string   // in the first cause's evidence
		fix      string   // in the first cause's first fix step
	}{
		{
			name:     "the resolver itself refuses",
			log:      "WARNING: Failed to pull image with policy \"always\": Error response from daemon: Get \"https://registry.example.com/v2/\": dial tcp: lookup registry.example.com on 127.0.0.53:53: read udp 127.0.0.1:41312->127.0.0.53:53: read: connection refused (manager.go:237:0s)\n",
			ids:      []string{"dns-no-such-host"},
			evidence: "the host's resolver is down",
		},
		{
			name: "docker-compose against DinD on 2375",
			log:  "$ docker-compose up -d db\nERROR: Couldn't connect to Docker daemon at http://docker:2375 - is it running?\n\nIf it's at a non-standard location, specify the URL with the DOCKER_HOST environment variable.\n",
			ids:  []string{"dind-tls-mismatch"},
		},
		{
			name: "docker-compose against the local socket",
			log:  "ERROR: Couldn't connect to Docker daemon at http+docker://localunixsocket - is it running?\n",
			ids:  []string{"daemon-unreachable"},
		},
		{
			name: "No such image with pull_policy never",
			log:  "Using Docker executor with image docker:stable ...\nERROR: Preparation failed: Error: No such image: docker:stable (executor_docker.go:188:0s)\n",
			ids:  []string{"policy-never-absent"},
			fix:  "load the image on every host",
		},
		{
			name:     "No such image after an old runner's pull",
			log:      "Using Docker executor with image registry.example.com/ci/app:7 ...\nPulling docker image registry.example.com/ci/app:7 ...\nERROR: Preparation failed: Error: No such image: registry.example.com/ci/app:7 (docker.go:138:0s)\n",
			ids:      []string{"tag-not-found"},
			evidence: "the runner pulled registry.example.com/ci/app:7 (line 2: Pulling docker image)",
		},
		{
			name: "No such image of the helper image",
			log:  "ERROR: Job failed (system failure): Error: No such image: registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v17.0.0 (docker.go:450:0s)\n",
			ids:  []string{"helper-image-missing"},
		},
		{
			name: "credHelpers as a string, shown beside the log",
			log: "runners_environment_vars = [\"DOCKER_AUTH_CONFIG='{\\\"credHelpers\\\": \\\"ecr-login\\\"}'\"]\n" +
				"ERROR: Preparation failed: failed to pull image \"" + ecrImage + "\" with specified policies [always]: Error response from daemon: Head https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/app/manifests/1: no basic auth credentials (docker.go:147:0s)\n",
			ids:      []string{"docker-auth-config-malformed", "auth-missing-credentials"},
			evidence: `"credHelpers" is a string here`,
		},
		{
			name:     "DinD under another alias",
			log:      "$ docker version\nerror during connect: Get http://lordgaav__dind-options:2375/v1.30/version: dial tcp: lookup lordgaav__dind-options on 10.0.1.12:53: no such host\n",
			ids:      []string{"dind-host-unresolvable"},
			evidence: "the Docker daemon's address",
		},
		{
			name:     "ECR helper missing on a docker+machine manager",
			log:      "Preparing the \"docker+machine\" executor\nUsing Docker executor with image " + ecrImage + " ...\n" + helperMissing,
			ids:      []string{"credstore-helper-missing"},
			evidence: "the manager (the host running gitlab-runner) resolves credentials and runs docker-credential-ecr-login",
			fix:      "install docker-credential-ecr-login on the runner manager",
		},
		{
			name: "the same on a plain docker executor",
			log:  "Preparing the \"docker\" executor\n" + helperMissing,
			ids:  []string{"credstore-helper-missing"},
			fix:  "install docker-credential-ecr-login where the gitlab-runner service finds it",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := ClassifyLog(Options{Log: &tt.log})
			if err != nil {
				t.Fatal(err)
			}
			got := causeIDs(rep.Causes)
			if len(got) < len(tt.ids) || !slices.Equal(got[:len(tt.ids)], tt.ids) {
				t.Fatalf("causes = %v, want %v first", got, tt.ids)
			}
			c := rep.Causes[0]
			if tt.evidence != "" && !strings.Contains(strings.Join(c.Evidence, "\n"), tt.evidence) {
				t.Errorf("evidence %q lacks %q", c.Evidence, tt.evidence)
			}
			if tt.fix != "" && (len(c.Fix) == 0 || !strings.Contains(c.Fix[0], tt.fix)) {
				t.Errorf("fix %q, want the first step to say %q", c.Fix, tt.fix)
			}
		})
	}
}

// TestCloudRegistryRE: the cloud registries whose helpers must sit on a
// docker+machine/autoscaler manager, however the log writes the account
// and region (a number, a CI variable, a placeholder a user typed over it).
func TestCloudRegistryRE(t *testing.T) {
	for _, tc := range []struct {
		line string
		want bool
	}{
		{"Head https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/app/manifests/1: no basic auth credentials", true},
		{`pull image "${AWS_ACCOUNT_ID}.dkr.ecr.${AWS_REGION}.amazonaws.com/app:1": no basic auth credentials`, true},
		{"pull image 123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app:1", true},
		{"pull image 123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app:1", true},
		{`pull image "gcr.io/project/app:1"`, true},
		{"pull image europe-docker.pkg.dev/project/repo/app:1", true},
		{"pull image myregistry.azurecr.io/app:1", true},
		{"pull image registry.example.com/dkr.ecr/app:1", false},
		{"pull image registry.example.com/app:1 from amazonaws.com", false},
	} {
		if got := cloudRegistryRE.MatchString(tc.line); got != tc.want {
			t.Errorf("%q: match = %v, want %v", tc.line, got, tc.want)
		}
	}
}
