package diagnose

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/runnerup/runnerup/probe/credentials"
)

// fixContext is what a fix needs to be concrete: names, keys, paths. It
// never holds a secret; snippets show "***" where a secret goes.
type fixContext struct {
	Image string // as given
	Ref   string // normalised ("alpine:latest")
	Host  string // registry host (registry.NormalizeHost form)
	Key   string // the config.json key the runner and the docker CLI both match
	Repo  string // repository path
	User  string // the username the runner sends, "" when none

	Source         string // winning credential source ("" none)
	ConfigJSON     string // the runner user's config.json
	ConfigTOML     string // config.toml of the runner entry ("" unknown)
	RunnerName     string
	AuthConfigFrom string // where DOCKER_AUTH_CONFIG came from: "runner-env", "ci-variable" or ""
	CertsDir       string // the daemon's certs.d
	DaemonHost     string
	GitLab         bool // the image is on the runner's GitLab registry
	Platform       string
	Policies       []string
	Executor       string // the runner's executor, when known

	// Per cause.
	Hint        string   // the failing check's own hint
	BadKey      string   // a near-miss credential key
	Helper      string   // a credential helper name
	SourceName  string   // the source the cause is about
	Suggestions []string // nearby tags, offered platforms
}

func (fc fixContext) user() string {
	if fc.User != "" {
		return fc.User
	}
	return "USER"
}

func (fc fixContext) key() string {
	if fc.Key != "" {
		return fc.Key
	}
	return fc.Host
}

func (fc fixContext) configJSON() string {
	if fc.ConfigJSON != "" {
		return fc.ConfigJSON
	}
	return "~/.docker/config.json of the user gitlab-runner runs as"
}

func (fc fixContext) configTOML() string {
	if fc.ConfigTOML != "" {
		return fc.ConfigTOML
	}
	return "config.toml"
}

func (fc fixContext) runnerBlock() string {
	if fc.RunnerName != "" {
		return fmt.Sprintf("the [[runners]] entry %q of %s", fc.RunnerName, fc.configTOML())
	}
	return "the runner's [[runners]] entry in " + fc.configTOML()
}

// b64 is the command that makes an `auth` value, with the password left to
// the shell.
func (fc fixContext) b64() string {
	return fmt.Sprintf(`printf '%%s:%%s' '%s' "$REGISTRY_PASSWORD" | base64 -w0`, fc.user())
}

// configJSONSnippet is the auths entry, secret redacted.
func (fc fixContext) configJSONSnippet() string {
	return fmt.Sprintf(`{"auths": {%q: {"auth": "***"}}}   (*** = output of: %s)`, fc.key(), fc.b64())
}

func (fc fixContext) dockerLogin() string {
	return fmt.Sprintf(`as the user gitlab-runner runs as (root for the system service), so it lands in %s: docker login --username '%s' --password-stdin %s <<< "$REGISTRY_PASSWORD"`,
		fc.configJSON(), fc.user(), dockerLoginHost(fc.key()))
}

func dockerLoginHost(key string) string {
	if key == "https://index.docker.io/v1/" {
		return "" // docker login with no server is Docker Hub
	}
	return key
}

func (fc fixContext) runnerEnvSnippet() string {
	return fmt.Sprintf(`in %s: environment = ['DOCKER_AUTH_CONFIG={"auths":{%q:{"auth":"***"}}}'] (TOML single quotes; *** as above; a project or group CI/CD variable DOCKER_AUTH_CONFIG overrides it)`,
		fc.runnerBlock(), fc.key())
}

func (fc fixContext) answers(target string) string {
	return fmt.Sprintf(`with runnerup: add to the answers file [[registries]] host = %q, method = "basic", username = %q, password = "env:REGISTRY_PASSWORD", target = %q, then run: runnerup apply --answers ANSWERS.toml`,
		fc.Host, fc.user(), target)
}

// credentialSteps are the ways to put a working credential where the
// runner reads it.
func (fc fixContext) credentialSteps() []string {
	steps := []string{
		fmt.Sprintf("put a credential under the key %q (exactly; it works for the runner and the docker CLI) in %s: %s", fc.key(), fc.configJSON(), fc.configJSONSnippet()),
		fc.dockerLogin(),
		"or put it " + fc.runnerEnvSnippet(),
		fc.answers("docker-config"),
	}
	if fc.GitLab {
		steps = append(steps, fmt.Sprintf("the image is on this GitLab's registry: in a job, GitLab sends gitlab-ci-token with $CI_JOB_TOKEN for %s when no other source matches; that token can pull from the job's own project and from projects whose Settings > CI/CD > Job token permissions allowlist it; otherwise use a deploy token with read_registry", fc.Host))
	}
	return steps
}

// secretLocation says where the credential the runner sends lives.
func (fc fixContext) secretLocation() string {
	switch {
	case fc.Source == credentials.SourceAuthConfig && fc.AuthConfigFrom == "runner-env":
		return fmt.Sprintf("DOCKER_AUTH_CONFIG in the environment of %s", fc.runnerBlock())
	case fc.Source == credentials.SourceAuthConfig:
		return "the DOCKER_AUTH_CONFIG CI/CD variable (project, group or instance)"
	case fc.Source == credentials.SourceJobPayload:
		return "the job token GitLab sends"
	case fc.Source != "":
		return fc.Source
	}
	return fc.configJSON()
}

func withHint(fc fixContext, steps ...string) []string {
	if fc.Hint != "" {
		steps = append([]string{fc.Hint}, steps...)
	}
	return steps
}

func fixInvalidReference(fc fixContext) []string {
	lower := strings.ToLower(strings.TrimSpace(fc.Image))
	return []string{
		fmt.Sprintf("write the image as [host[:port]/]path[:tag][@digest], lower case, without a scheme or whitespace: e.g. %q in .gitlab-ci.yml image: (or [runners.docker] image)", lower),
		"quote YAML values and check CI variables used in the name for trailing spaces or newlines",
	}
}

func fixPolicyNotAllowed(fc fixContext) []string {
	return []string{
		fmt.Sprintf("in [runners.docker] of %s add the policy to allowed_pull_policies, e.g. allowed_pull_policies = [\"always\", \"if-not-present\"], or change the job's image:pull_policy to one that is allowed", fc.runnerBlock()),
		`with runnerup: set [docker] pull_policy in the answers file to an allowed policy and run: runnerup apply --answers ANSWERS.toml`,
	}
}

func fixPolicyNever(fc fixContext) []string {
	return []string{
		fmt.Sprintf("load the image on every host the runner uses: docker pull %s (or docker load -i IMAGE.tar), named exactly %s", fc.Ref, fc.Ref),
		fmt.Sprintf(`or let the runner pull it: pull_policy = ["if-not-present"] in [runners.docker] of %s`, fc.runnerBlock()),
		`with runnerup: [docker] pull_policy = ["if-not-present"] in the answers file, then: runnerup apply --answers ANSWERS.toml`,
	}
}

func fixBase64Invalid(fc fixContext) []string {
	where := fc.SourceName
	if where == "" {
		where = "the credential source"
	}
	return []string{
		fmt.Sprintf("regenerate the broken `auth` value in %s with: %s (the value is base64 of user:password, nothing else)", where, fc.b64()),
		fmt.Sprintf("the corrected entry: %s", fc.configJSONSnippet()),
	}
}

func fixHelperMissing(fc fixContext) []string {
	h := orDefault(fc.Helper, "NAME")
	if slices.Contains(managerExecutors, fc.Executor) {
		return []string{
			fmt.Sprintf("install docker-credential-%s on the runner manager, the host where gitlab-runner runs with the %s executor, where its service finds it (e.g. /usr/local/bin; the service's PATH: systemctl show gitlab-runner -p Environment): the manager resolves credentials for the machines it creates, so installing it on them does not help", h, fc.Executor),
			fmt.Sprintf("give the manager what the helper needs there (ecr-login: an IAM role or AWS_* environment in the gitlab-runner unit), then check as the runner's user: printf '%%s' '%s' | docker-credential-%s get", fc.key(), h),
		}
	}
	install := fmt.Sprintf("install docker-credential-%s where the gitlab-runner service finds it (e.g. /usr/local/bin; the service's PATH, not your login shell's: systemctl show gitlab-runner -p Environment)", h)
	if fc.Hint != "" {
		install = "" // the helper check's hint names the directories
	}
	return withHint(fc, install,
		fmt.Sprintf("or remove the credsStore/credHelpers entry for %q from %s (a Docker Desktop config copied to a server is the usual cause), and store the credential inline: %s", h, orDefault(fc.SourceName, fc.configJSON()), fc.configJSONSnippet()),
	)
}

func fixHelperFailed(fc fixContext) []string {
	h := orDefault(fc.Helper, "NAME")
	return []string{
		fmt.Sprintf("run the helper as the runner does, as the runner's user with its environment: printf '%%s' '%s' | docker-credential-%s get", fc.key(), h),
		"give the runner process what the helper needs (ecr-login: an IAM identity and AWS_REGION / AWS_SDK_LOAD_CONFIG=true in the gitlab-runner unit, see ~/.ecr/log; pass/secretservice: an initialised store for that user)",
		fmt.Sprintf("or use an inline credential instead: %s", fc.configJSONSnippet()),
	}
}

func fixMalformed(fc fixContext) []string {
	return []string{
		fmt.Sprintf(`generate DOCKER_AUTH_CONFIG with a tool instead of by hand: jq -nc --arg a "$(%s)" '{auths:{"%s":{auth:$a}}}'`, fc.b64(), fc.key()),
		fmt.Sprintf(`in config.toml use TOML single quotes so nothing needs escaping: environment = ['DOCKER_AUTH_CONFIG={"auths":{%q:{"auth":"***"}}}'] in %s; as a CI/CD variable, do not mark it "Expand variable reference"`, fc.key(), fc.runnerBlock()),
		fc.answers("runner-env"),
	}
}

func fixPermission(fc fixContext) []string {
	return withHint(fc,
		"add the runner's user to the socket's group and restart it: sudo usermod -aG docker gitlab-runner && sudo systemctl restart gitlab-runner (group changes need a new process)",
		"never chmod 666 the socket: that gives every local user root")
}

func fixDindTLS(fc fixContext) []string {
	return []string{
		fmt.Sprintf(`make the TLS wiring consistent in %s: privileged = true and volumes = ["/certs/client", "/cache"] in [runners.docker]`, fc.runnerBlock()),
		`in the job: variables DOCKER_TLS_CERTDIR: "/certs", and either no DOCKER_HOST or DOCKER_HOST: tcp://docker:2376 with DOCKER_TLS_VERIFY: "1" and DOCKER_CERT_PATH: /certs/client`,
		`with runnerup: [docker] dind = true in the answers file writes all of it: runnerup apply --answers ANSWERS.toml`,
	}
}

func fixDaemonUnreachable(fc fixContext) []string {
	return withHint(fc,
		"start the daemon: sudo systemctl enable --now docker (its log: journalctl -u docker)",
		fmt.Sprintf("or point the runner at the right daemon: host = \"unix:///var/run/docker.sock\" (or tcp://HOST:2376) in [runners.docker] of %s", fc.runnerBlock()))
}

func fixDindHost(fc fixContext) []string {
	return []string{
		"add the service to the job: services: [docker:dind] (alias docker), and privileged = true in [runners.docker]",
		`use the service alias as the host (tcp://docker:2376); network_mode = "host" hides service aliases`,
		"check the dind service's own log with CI_DEBUG_SERVICES: \"true\"",
	}
}

func fixHelperImage(fc fixContext) []string {
	return []string{
		"install the helper images bundle on the runner host: apt-get install gitlab-runner-helper-images (or the matching rpm)",
		"or mirror the exact helper tag to a reachable registry and set helper_image = \"REGISTRY/gitlab-runner-helper:TAG\" in [runners.docker]",
		"or allow egress from the daemon to registry.gitlab.com",
	}
}

func fixRateLimited(fc fixContext) []string {
	return withHint(fc,
		`authenticate Docker Hub pulls: a Hub access token in DOCKER_AUTH_CONFIG or config.json under "https://index.docker.io/v1/"`,
		`use a pull-through mirror ("registry-mirrors" in /etc/docker/daemon.json, the GitLab Dependency Proxy, Harbor)`,
		fmt.Sprintf(`or pull less often: pull_policy = ["if-not-present"] in [runners.docker] of %s (a private image cached locally is then usable by jobs without credentials)`, fc.runnerBlock()))
}

func fixPlatform(fc fixContext) []string {
	steps := []string{
		fmt.Sprintf("use a tag built for %s, or build it multi-arch: docker buildx build --platform linux/amd64,linux/arm64 -t %s --push .", orDefault(fc.Platform, "the daemon's platform"), fc.Ref),
		"or route the job to a runner of the right architecture (runner tags), or run it emulated with binfmt/qemu and the job's image: docker: platform:",
	}
	if len(fc.Suggestions) > 0 {
		steps = append(steps, "the image offers: "+strings.Join(fc.Suggestions, ", "))
	}
	return steps
}

func fixMediaType(fc fixContext) []string {
	return withHint(fc, "use the container image's reference, not the artifact's (Helm charts, signatures and SBOMs often share the repository)")
}

func fixSchema1(fc fixContext) []string {
	return withHint(fc, fmt.Sprintf("rebuild and push it with a current client: docker pull on an old host, then docker buildx build or docker tag + docker push %s", fc.Ref))
}

func fixDiskFull(fc fixContext) []string {
	return withHint(fc,
		`free space on the daemon host: docker system prune -af --filter "until=24h" (add --volumes only if no job keeps data in volumes)`,
		"schedule GitLab Runner's clear-docker-cache script, grow the disk, or move data-root in /etc/docker/daemon.json")
}

func fixPlainHTTP(fc fixContext) []string {
	return []string{
		fmt.Sprintf(`on the daemon host, /etc/docker/daemon.json: {"insecure-registries": [%q]} (host:port exactly as in the image), then: sudo systemctl restart docker`, fc.Host),
		"for a docker:dind service: command: [\"--insecure-registry=" + fc.Host + "\"]",
		"better: serve the registry over TLS",
	}
}

func fixUnknownCA(fc fixContext) []string {
	dir := filepath.Join(orDefault(fc.CertsDir, "/etc/docker/certs.d"), fc.Host)
	return []string{
		fmt.Sprintf("on the daemon host: sudo mkdir -p %s && sudo cp ca.crt %s/ca.crt (the directory must be named exactly %s, the file must end in .crt; no restart needed)", dir, dir, fc.Host),
		"or add the CA to the system store: cp ca.crt /usr/local/share/ca-certificates/ && update-ca-certificates, then restart dockerd",
		"or have the registry send its full chain (intermediates)",
	}
}

func fixHostname(fc fixContext) []string {
	return withHint(fc, "reissue the certificate with subjectAltName=DNS:"+hostOnly(fc.Host)+", or use a name the certificate has in the image reference")
}

func fixExpired(fc fixContext) []string {
	return withHint(fc, "renew the registry's certificate; if it is still valid, fix the daemon host's clock (timedatectl, NTP)")
}

func fixClientCert(fc fixContext) []string {
	dir := filepath.Join(orDefault(fc.CertsDir, "/etc/docker/certs.d"), fc.Host)
	return []string{fmt.Sprintf("put the client certificate next to the CA: %s/client.cert and %s/client.key (same base name, .cert and .key)", dir, dir)}
}

func fixProxyWrong(fc fixContext) []string {
	return withHint(fc,
		fmt.Sprintf("correct dockerd's proxy, or add %s to its NO_PROXY: /etc/systemd/system/docker.service.d/http-proxy.conf, then sudo systemctl daemon-reload && sudo systemctl restart docker", hostOnly(fc.Host)))
}

func fixDNS(fc fixContext) []string {
	return append([]string{},
		fmt.Sprintf("check the registry host %q in the image name", hostOnly(fc.Host)),
		`make the daemon host resolve it: its /etc/resolv.conf, or {"dns": ["10.0.0.2"]} in /etc/docker/daemon.json; or give dockerd the proxy it needs (daemon-proxy-missing)`)
}

func fixRefused(fc fixContext) []string {
	return withHint(fc, fmt.Sprintf("GitLab's registry is often on port 5050; see what answers: curl -sI https://%s/v2/", fc.Host))
}

func fixTimeout(fc fixContext) []string {
	return withHint(fc,
		"open egress from the daemon host to the registry, or give dockerd a proxy (see daemon-proxy-missing)",
		`a TLS handshake that stalls on a VPN or overlay network points at the MTU: {"mtu": 1400} in /etc/docker/daemon.json, or the host interface's MTU`)
}

func fixProxyMissing(fc fixContext) []string {
	return []string{
		`give dockerd itself the proxy: /etc/systemd/system/docker.service.d/http-proxy.conf with [Service] Environment="HTTP_PROXY=http://proxy:3128" "HTTPS_PROXY=http://proxy:3128" "NO_PROXY=localhost,127.0.0.1,` + hostOnly(fc.Host) + `"`,
		"then: sudo systemctl daemon-reload && sudo systemctl restart docker (Docker ≥ 23 also reads \"proxies\" from daemon.json)",
		"the runner's environment and config.json \"proxies\" reach only containers, never the daemon's pulls",
	}
}

func fixTokenExpired(fc fixContext) []string {
	return []string{
		fmt.Sprintf(`use the helper instead of a pasted token: {"credHelpers": {%q: "ecr-login"}} in %s, with docker-credential-ecr-login on the runner's PATH and an IAM identity for the runner process`, fc.key(), fc.configJSON()),
		"remove the stale static `auth` for this host from " + fc.secretLocation(),
	}
}

func fixAccessDenied(fc fixContext) []string {
	steps := withHint(fc, fmt.Sprintf("check the repository path %q exists (on Docker Hub a missing repository looks exactly like a private one)", fc.Repo))
	if fc.Source == "" {
		steps = append(steps, fc.credentialSteps()...)
	} else {
		steps = append(steps, fmt.Sprintf("grant the user %q pull access to %s, or replace the credential in %s with one that has it", fc.user(), fc.Repo, fc.secretLocation()))
	}
	if fc.GitLab {
		steps = append(steps, "GitLab: the job's project needs the Reporter role on the image's project, or must be in that project's CI/CD job token allowlist (Settings > CI/CD > Job token permissions)")
	}
	return steps
}

func fixRejected(fc fixContext) []string {
	steps := []string{
		fmt.Sprintf("correct or rotate the secret the runner sends for user %q, in %s: %s", fc.user(), fc.secretLocation(), fc.configJSONSnippet()),
	}
	if fc.Source != credentials.SourceAuthConfig {
		steps = append(steps, fc.dockerLogin())
	}
	steps = append(steps,
		"use a token with pull rights (GitLab: read_registry on a deploy, project or personal access token; Docker Hub: an access token, not the account password)",
		fc.answers("docker-config"))
	return steps
}

func fixMissing(fc fixContext) []string {
	return fc.credentialSteps()
}

func fixTagNotFound(fc fixContext) []string {
	steps := withHint(fc)
	if len(fc.Suggestions) > 0 {
		steps = append(steps, "existing tags near it: "+strings.Join(fc.Suggestions, ", "))
	}
	return append(steps, fmt.Sprintf("push the tag (check the job that builds %s ran first), or pin the image by digest; exclude it from tag cleanup policies", fc.Ref))
}

func fixRepoNotFound(fc fixContext) []string {
	return withHint(fc, "GitLab registry paths are registry.host/group/project[/image]: a renamed group or project changes them")
}

func fixServerError(fc fixContext) []string {
	return withHint(fc,
		"retry later; check the registry's status page and logs",
		fmt.Sprintf("a non-registry answer (an HTML page) means %s is a web server or proxy, not the registry: correct the host:port, or let the proxy pass /v2/ through", fc.Host))
}

func fixBlob(fc fixContext) []string {
	return []string{
		"allow the blob storage host the registry redirects to (S3, GCS, CDN) through the firewall and dockerd's NO_PROXY/proxy",
		`lower "max-concurrent-downloads" in /etc/docker/daemon.json; check the registry storage for corruption`,
	}
}

func fixKeyMismatch(fc fixContext) []string {
	bad := orDefault(fc.BadKey, "the existing key")
	return []string{
		fmt.Sprintf("rename the key %q to %q (host[:port] exactly as in the image; valid for the runner and the docker CLI) in %s: %s", bad, fc.key(), orDefault(fc.SourceName, fc.configJSON()), fc.configJSONSnippet()),
		fc.answers("docker-config"),
	}
}

func fixSourceDropped(fc fixContext) []string {
	return []string{
		fmt.Sprintf("remove or repair the broken helper entry (%s) in %s: one failing helper makes the runner discard every credential in that source, the working auths entry for %q included (docker pull on the same host still works, which is why this hides)",
			orDefault(fc.Helper, "credsStore/credHelpers"), orDefault(fc.SourceName, fc.configJSON()), fc.key()),
		"or move the working credential into a source without helpers, " + fc.runnerEnvSnippet(),
	}
}

func fixTrailingNewline(fc fixContext) []string {
	return []string{
		fmt.Sprintf("regenerate the `auth` value without the newline: %s (echo without -n adds one), and replace it in %s: %s", fc.b64(), orDefault(fc.SourceName, fc.secretLocation()), fc.configJSONSnippet()),
	}
}

func fixHelperPath(fc fixContext) []string {
	return []string{
		fmt.Sprintf("name the helper by its suffix only (\"desktop\", \"ecr-login\") in %s and put docker-credential-<suffix> on the runner's PATH", orDefault(fc.SourceName, fc.configJSON())),
	}
}

func fixUnclassified(fc fixContext) []string {
	return withHint(fc)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func hostOnly(host string) string {
	if i := strings.LastIndex(host, ":"); i > 0 && !strings.HasSuffix(host, "]") {
		return host[:i]
	}
	return host
}
