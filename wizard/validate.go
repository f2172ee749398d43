package wizard

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/distribution/reference"
	"github.com/runnerup/runnerup/internal/editdist"
	"github.com/runnerup/runnerup/internal/imageref"
	"github.com/runnerup/runnerup/internal/runnerfacts"
	"github.com/runnerup/runnerup/render"
)

// Executors are exactly the names GitLab Runner 19.x accepts
// (docs/gitlab-runner.md §1.5).
var Executors = runnerfacts.Executors

// removedExecutors no longer load in any supported runner.
var removedExecutors = map[string]string{
	"docker-ssh":         "removed in GitLab Runner 16.0; use docker",
	"docker-ssh+machine": "removed in GitLab Runner 16.0; use docker-autoscaler",
}

// Shells the runner registers (cmd is gone).
var Shells = runnerfacts.Shells

// PullPolicies are the only values the runner accepts at job time.
var PullPolicies = runnerfacts.PullPolicies

// AccessLevels for legacy registration.
var AccessLevels = []string{"not_protected", "ref_protected"}

// Methods and Targets for [[registries]].
var (
	Methods = []string{MethodBasic, MethodCredHelper, MethodCredsStore, MethodNone}
	Targets = []string{TargetDockerConfig, TargetRunnerEnv}
)

// UsesDocker reports whether the executor runs jobs in Docker containers
// configured by [runners.docker].
func UsesDocker(executor string) bool { return runnerfacts.UsesDocker(executor) }

// ApplyDefaults fills what the user left out as `gitlab-runner register`
// would for a new runner: name from the host name, docker executor (pwsh
// for docker-windows), registry methods. The wizard starts from these;
// apply uses applyCommonDefaults and leaves the new-runner ones to
// ForRunner and ConfigEdit, which know whether the runner exists.
// hostname is injected so defaults are deterministic in tests.
func (a *Answers) ApplyDefaults(hostname string) {
	a.applyCommonDefaults(hostname)
	a.applyNewRunnerDefaults()
}

// applyNewRunnerDefaults are the defaults of a runner that is not in
// config.toml yet: for an existing one the keys stay as they are on disk.
func (a *Answers) applyNewRunnerDefaults() {
	if a.Runner.Executor == "" {
		a.Runner.Executor = "docker"
	}
	if a.Runner.Executor == "docker-windows" && a.Runner.Shell == "" {
		a.Runner.Shell = "pwsh"
	}
}

// applyCommonDefaults are the defaults that hold whether or not the runner
// exists: none of them is a config.toml key of the runner (the name is the
// merge key).
func (a *Answers) applyCommonDefaults(hostname string) {
	if a.Version == 0 {
		a.Version = SchemaVersion
	}
	if a.GitLab.Name == "" {
		a.GitLab.Name = hostname
	}
	for i := range a.Registries {
		r := &a.Registries[i]
		if r.Method == "" {
			switch {
			case r.Helper != "":
				r.Method = MethodCredHelper
			case r.Username != "" || r.Password != "":
				r.Method = MethodBasic
			default:
				r.Method = MethodNone
			}
		}
		if r.Target == "" {
			r.Target = TargetDockerConfig
		}
	}
}

// Locked is the effective locked flag (default true, as register).
func (g GitLab) IsLocked() bool { return g.Locked == nil || *g.Locked }

// Validate checks resolved answers for a new runner (the wizard's and
// register's view: the new-runner defaults apply) and returns every
// problem at once; entries with Warning set do not block. Values that are
// secrets never appear in the messages.
func (a *Answers) Validate() []FieldError {
	c := a.Clone()
	c.applyNewRunnerDefaults()
	return append(c.validateOwn(), c.ValidateFor(nil)...)
}

// validateOwn checks what can be checked without config.toml. Whatever
// depends on the executor waits for ValidateFor when the answers do not
// name one (the runner on disk decides it), and whether docker.image is
// required always does (an image on disk satisfies it).
func (a *Answers) validateOwn() []FieldError {
	v := &validator{}
	v.version(a.Version)
	v.gitlab(&a.GitLab)
	if a.Runner.Executor != "" {
		v.executor(a.Runner.Executor)
		v.dockerFor(&a.Docker, a.Runner.Executor, "")
	}
	v.runnerSettings(&a.Runner)
	v.registries(a)
	v.problems = append(v.problems, validateExtra(a.Runner.Extra, a.Runner.Executor)...)
	return v.problems
}

// ValidateFor checks what depends on the runner the answers apply to
// (existing; nil: a new runner): the executor that holds when the answers
// name none, the docker settings under it, and docker.image, which a new
// docker runner, or one the answers switch to a docker executor, needs in
// the answers or on disk (a runner on disk without one only gets a warning:
// the answers did not touch it).
func (a *Answers) ValidateFor(existing *render.ExistingRunner) []FieldError {
	v := &validator{}
	executor := a.executorFor(existing)
	if a.Runner.Executor == "" {
		if executor == "" {
			v.fail("runner.executor", fmt.Sprintf("is not set, and runner %q in config.toml has no executor either", a.GitLab.Name), "set runner.executor, e.g. executor = \"docker\"")
			return v.problems
		}
		v.dockerFor(&a.Docker, executor, fmt.Sprintf(" (the executor of runner %q in config.toml)", a.GitLab.Name))
	}
	if UsesDocker(executor) && a.Docker.Image == "" && (existing == nil || existing.Docker == nil || existing.Docker.Image == "") {
		_, fix := CheckImage("")
		if existing == nil || a.Runner.Executor != "" && a.Runner.Executor != existing.Executor {
			v.fail("docker.image", fmt.Sprintf("is required for the %s executor", executor), fix)
		} else {
			// GitLab Runner loads the runner as it is; only a job without
			// its own image: fails ("no Docker image specified to run the
			// build in", executors/docker/docker.go). Not this apply's doing.
			v.warn("docker.image", fmt.Sprintf("runner %q in config.toml has no default image: jobs without image: in .gitlab-ci.yml fail with \"no Docker image specified to run the build in\"", a.GitLab.Name), fix)
		}
	}
	return v.problems
}

// executorFor is the executor that holds after apply: the answers', else
// the runner's on disk, else (a new runner) docker.
func (a *Answers) executorFor(existing *render.ExistingRunner) string {
	switch {
	case a.Runner.Executor != "":
		return a.Runner.Executor
	case existing != nil:
		return existing.Executor
	}
	return "docker"
}

// dockerFor checks the [docker] table under executor, or warns that it is
// ignored; where says where the executor comes from when not the answers.
func (v *validator) dockerFor(d *Docker, executor, where string) {
	if UsesDocker(executor) {
		v.docker(d, executor)
	} else if d.setsAny() {
		v.warn("docker", fmt.Sprintf("ignored: executor %q%s does not use [runners.docker]", executor, where), "remove the [docker] table or choose a docker executor")
	}
}

// Blocking filters out warnings.
func Blocking(problems []FieldError) []FieldError {
	var out []FieldError
	for _, p := range problems {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

type validator struct{ problems []FieldError }

func (v *validator) fail(field, problem, fix string) {
	v.problems = append(v.problems, FieldError{Field: field, Problem: problem, Fix: fix})
}

func (v *validator) warn(field, problem, fix string) {
	v.problems = append(v.problems, FieldError{Field: field, Problem: problem, Fix: fix, Warning: true})
}

func (v *validator) version(n int) {
	switch {
	case n == SchemaVersion:
	case n > SchemaVersion:
		v.fail("version", fmt.Sprintf("version %d was written by a newer runnerup", n), "upgrade runnerup")
	default:
		v.fail("version", fmt.Sprintf("unsupported version %d", n), "set version = 1")
	}
}

func (v *validator) gitlab(g *GitLab) {
	if msg, fix, warn := CheckGitLabURL(g.URL); msg != "" {
		if warn {
			v.warn("gitlab.url", msg, fix)
		} else {
			v.fail("gitlab.url", msg, fix)
		}
	}
	v.token(g)
	v.create(g)
	if g.Name == "" {
		v.fail("gitlab.name", "is empty", "set a runner name (the [[runners]] name in config.toml)")
	} else if strings.ContainsAny(g.Name, "\n\r") {
		v.fail("gitlab.name", "contains a line break", "use a single-line name")
	}
	if g.TLSCAFile != "" {
		if st, err := os.Stat(g.TLSCAFile); err != nil {
			v.fail("gitlab.tls_ca_file", fmt.Sprintf("cannot read %s: %v", g.TLSCAFile, unwrapPathError(err)), "give the path of the PEM CA bundle that signed GitLab's certificate")
		} else if st.IsDir() {
			v.fail("gitlab.tls_ca_file", fmt.Sprintf("%s is a directory", g.TLSCAFile), "give the path of a PEM file")
		}
	}
}

func (v *validator) token(g *GitLab) {
	switch g.TokenKind {
	case "", string(TokenAuthentication), string(TokenRegistration):
	default:
		v.fail("gitlab.token_kind", fmt.Sprintf("unknown kind %q", g.TokenKind), `use "authentication" or "registration" (only needed for unprefixed tokens)`)
	}
	if g.Token == "" && g.Create != nil {
		return // created by runnerup (create.go)
	}
	if g.Token == "" {
		v.fail("gitlab.token", "is empty", `set the runner authentication token (glrt-…) from GitLab's "New runner" page, e.g. token = "env:RUNNER_TOKEN"`)
		return
	}
	if strings.ContainsAny(g.Token, " \t\r\n") {
		v.fail("gitlab.token", "contains white space", "paste the token alone, without spaces or line breaks")
	}
	if strings.HasPrefix(g.Token, "glcbt-") || strings.HasPrefix(g.Token, "glpat-") {
		v.fail("gitlab.token", "is a CI job token or personal access token, not a runner token", `create a runner in GitLab (Settings › CI/CD › Runners › New runner) and use its glrt- token`)
		return
	}
	kind, ambiguous := ClassifyToken(g.Token, g.TokenKind)
	if !ambiguous && g.TokenKind != "" && g.TokenKind != string(kind) {
		v.fail("gitlab.token_kind", fmt.Sprintf("says %s but the token's prefix makes it a %s token", g.TokenKind, kind), "remove token_kind; it is only for unprefixed tokens")
	}
	if kind != TokenAuthentication {
		if g.AccessLevel != "" && !slices.Contains(AccessLevels, g.AccessLevel) {
			v.fail("gitlab.access_level", fmt.Sprintf("unknown access level %q", g.AccessLevel), "use not_protected or ref_protected")
		}
		return
	}
	// With an authentication token these settings live on the server, and
	// `gitlab-runner register --token` refuses them (reference §2.3).
	why := "with an authentication token this is set in GitLab (runner settings page), not at registration"
	if g.Description != "" {
		v.fail("gitlab.description", why, "remove it; gitlab.name is the local runner name")
	}
	if len(g.Tags) > 0 {
		v.fail("gitlab.tags", why, "remove it and set the tags on the runner in GitLab")
	}
	if g.RunUntagged != nil && *g.RunUntagged {
		v.fail("gitlab.run_untagged", why, "remove it and set \"Run untagged jobs\" in GitLab")
	}
	if !g.IsLocked() {
		v.fail("gitlab.locked", why, "remove it and set \"Lock to current projects\" in GitLab")
	}
	if g.AccessLevel != "" {
		v.fail("gitlab.access_level", why, "remove it and set \"Protected\" in GitLab")
	}
	if g.MaintenanceNote != "" {
		v.fail("gitlab.maintenance_note", why, "remove it and set the maintenance note in GitLab")
	}
}

// CheckGitLabURL validates a GitLab instance URL. It returns an empty
// message when the URL is fine; warn marks a message that should not block.
// The TUI uses it as a field validator.
func CheckGitLabURL(raw string) (msg, fix string, warn bool) {
	const example = "use the instance's base URL, e.g. https://gitlab.example.com"
	if raw == "" {
		return "is empty", example, false
	}
	if strings.ContainsAny(strings.TrimSpace(raw), " \t") {
		// Checked first: "write https://" + raw would keep the space.
		// (Space around the URL is a parse error, said as such.)
		return "contains a space", "a URL has none; " + example, false
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Sprintf("cannot be parsed: %v", unwrapURLError(err)), example, false
	}
	switch u.Scheme {
	case "https":
	case "http":
		if u.Host != "" {
			return "uses http: the runner token would cross the network unencrypted", "use https unless GitLab is on a trusted local network", true
		}
	case "":
		return "has no scheme", "write https://" + raw, false
	default:
		return fmt.Sprintf("has scheme %q; GitLab Runner accepts only http and https", u.Scheme), example, false
	}
	if u.Host == "" || u.Hostname() == "" {
		return "has no host", example, false
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("has port %s, outside 1–65535", p), example, false
		}
	}
	if u.User != nil {
		return "contains user info (user:password@)", "remove the credentials from the URL; the token authenticates the runner", false
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "has a query or fragment", example, false
	}
	if strings.Contains(u.Path, "/api/") || strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/-/runners") || strings.Contains(u.Path, "/-/") {
		return fmt.Sprintf("has path %q, which looks like a page of GitLab rather than its base URL", u.Path), example, false
	}
	return "", "", false
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func (v *validator) runner(r *Runner) {
	v.executor(r.Executor)
	v.runnerSettings(r)
}

func (v *validator) executor(executor string) {
	switch {
	case slices.Contains(Executors, executor):
		if executor == "docker+machine" {
			v.warn("runner.executor", "docker+machine is deprecated (removal planned for GitLab Runner 20.0)", "use docker-autoscaler")
		}
	case removedExecutors[executor] != "":
		v.fail("runner.executor", fmt.Sprintf("%q was %s", executor, removedExecutors[executor]), "choose one of: "+strings.Join(Executors, ", "))
	default:
		fix := "choose one of: " + strings.Join(Executors, ", ")
		if s := editdist.Closest(executor, Executors); s != "" {
			fix = fmt.Sprintf("did you mean %q?", s)
		}
		v.fail("runner.executor", fmt.Sprintf("unknown executor %q", executor), fix)
	}
}

// runnerSettings checks the [runner] keys but the executor.
func (v *validator) runnerSettings(r *Runner) {
	if r.Shell != "" && !slices.Contains(Shells, r.Shell) {
		fix := "use one of: " + strings.Join(Shells, ", ")
		if r.Shell == "cmd" {
			fix = "cmd was removed from GitLab Runner; use pwsh or powershell"
		}
		v.fail("runner.shell", fmt.Sprintf("unknown shell %q", r.Shell), fix)
	}
	if r.Concurrent != nil && *r.Concurrent < 1 {
		v.fail("runner.concurrent", fmt.Sprintf("is %d; below 1 the runner refuses to start", *r.Concurrent), "set concurrent to at least 1")
	}
	if r.Limit != nil && *r.Limit < 0 {
		v.fail("runner.limit", fmt.Sprintf("is %d", *r.Limit), "use 0 for no limit or a positive number")
	} else if r.Limit != nil && r.Concurrent != nil && *r.Limit > *r.Concurrent {
		v.warn("runner.limit", fmt.Sprintf("limit %d is above concurrent %d, which caps all runners together", *r.Limit, *r.Concurrent), "raise runner.concurrent or lower runner.limit")
	}
	v.envList("runner.environment", r.Environment)
}

var envKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (v *validator) envList(field string, env []string) {
	seen := map[string]bool{}
	for i, e := range env {
		f := fmt.Sprintf("%s[%d]", field, i)
		key, _, ok := strings.Cut(e, "=")
		if !ok {
			// Not quoted, not even in part: a value pasted on its own
			// (a token, a password) is the usual cause.
			v.fail(f, fmt.Sprintf("is not KEY=VALUE: the entry (%d characters, not shown: it may be a secret) has no \"=\"", utf8.RuneCountInString(e)),
				"write it as NAME=value, e.g. REGISTRY_PASSWORD=… with the value after the =")
			continue
		}
		if !envKeyRE.MatchString(key) {
			v.fail(f, fmt.Sprintf("%q is not a valid variable name", key), "use letters, digits and _ (not starting with a digit)")
			continue
		}
		if seen[key] {
			v.warn(f, fmt.Sprintf("%s is set more than once; the last one wins", key), "remove the duplicate")
		}
		seen[key] = true
	}
}

// CheckImage parses an image reference as Docker does and explains what is
// wrong in words a user can act on.
func CheckImage(ref string) (msg, fix string) {
	if ref == "" {
		return "is empty", "give an image such as alpine:3.20"
	}
	if strings.TrimSpace(ref) != ref || strings.ContainsAny(ref, " \t") {
		return fmt.Sprintf("%q contains white space", ref), "remove the spaces"
	}
	if strings.Contains(ref, "://") {
		return fmt.Sprintf("%q has a URL scheme", ref), "write host/path:tag without https://"
	}
	if _, err := reference.ParseNormalizedNamed(ref); err != nil {
		if lower := strings.ToLower(ref); lower != ref {
			if _, err2 := reference.ParseNormalizedNamed(lower); err2 == nil {
				return fmt.Sprintf("%q: repository names must be lower-case", ref), fmt.Sprintf("use %q", lowerRepo(ref))
			}
		}
		return fmt.Sprintf("%q is not a valid image reference: %v", ref, err), "use [registry[:port]/]path[:tag][@sha256:digest], e.g. registry.example.com:5000/group/app:1.2"
	}
	return "", ""
}

// lowerRepo lower-cases the repository part but keeps the tag as written.
func lowerRepo(ref string) string {
	name, tag := ref, ""
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		name, tag = ref[:i], ref[i:]
	}
	return strings.ToLower(name) + tag
}

var volumeModes = []string{"ro", "rw", "z", "Z", "shared", "rshared", "slave", "rslave", "private", "rprivate", "nocopy"}

// docker checks the [docker] values the answers set; whether an image is
// needed at all is ValidateFor's question.
func (v *validator) docker(d *Docker, executor string) {
	if d.Image != "" {
		if msg, fix := CheckImage(d.Image); msg != "" {
			v.fail("docker.image", msg, fix)
		}
	}
	if d.IsDinD() && d.Privileged != nil && !*d.Privileged {
		v.warn("docker.privileged", "is false, but dind = true makes the job containers privileged (Docker-in-Docker needs it)", "remove privileged, or set dind = false")
	}
	if executor != "docker-windows" {
		for i, vol := range d.Volumes {
			if msg := checkVolume(vol); msg != "" {
				v.fail(fmt.Sprintf("docker.volumes[%d]", i), msg, `use "/path", "/host:/container[:ro|rw]" or "volume:/container"`)
			}
		}
	}
	if d.PullPolicy != nil && len(d.PullPolicy) == 0 {
		// GitLab Runner reads an empty list as its default, always
		// (common/config.go, DockerConfig.GetPullPolicies).
		v.fail("docker.pull_policy", "is an empty list, which GitLab Runner reads as its default, always (it does not mean \"never pull\")",
			`name the policies, e.g. ["if-not-present"] or ["never"]; leave the key out to keep the runner's current value`)
	}
	for i, p := range d.PullPolicy {
		if !slices.Contains(PullPolicies, p) {
			fix := "use always, if-not-present or never"
			if s := editdist.Closest(p, PullPolicies); s != "" {
				fix = fmt.Sprintf("did you mean %q?", s)
			}
			v.fail(fmt.Sprintf("docker.pull_policy[%d]", i), fmt.Sprintf("unknown pull policy %q (the runner fails every job with it)", p), fix)
		}
	}
	if d.Host != "" {
		u, err := url.Parse(d.Host)
		if err != nil || !slices.Contains([]string{"unix", "tcp", "npipe", "ssh"}, u.Scheme) {
			v.fail("docker.host", fmt.Sprintf("%q is not a Docker host address", d.Host), "use unix:///var/run/docker.sock, tcp://host:2376 or leave it empty for the local daemon")
		}
	}
	aliases := map[string]int{}
	for i, s := range d.Services {
		f := fmt.Sprintf("docker.services[%d]", i)
		if s.Name == "" {
			v.fail(f+".name", "is empty", "give the service image, e.g. postgres:16")
		} else if msg, fix := CheckImage(s.Name); msg != "" {
			v.fail(f+".name", msg, fix)
		}
		for _, alias := range strings.FieldsFunc(s.Alias, func(r rune) bool { return r == ' ' || r == ',' }) {
			if !hostLabelRE.MatchString(alias) {
				v.fail(f+".alias", fmt.Sprintf("%q is not a valid host name for the service", alias), "use lower-case letters, digits and '-' (e.g. db)")
				continue
			}
			if j, dup := aliases[alias]; dup {
				v.fail(f+".alias", fmt.Sprintf("%q is already the alias of docker.services[%d]", alias, j), "give each service its own alias")
			}
			aliases[alias] = i
		}
		v.envList(f+".environment", s.Environment)
	}
}

var hostLabelRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

// checkVolume applies `docker run -v` syntax on Unix.
func checkVolume(vol string) string {
	if vol == "" {
		return "is empty"
	}
	parts := strings.Split(vol, ":")
	switch len(parts) {
	case 1:
		if !strings.HasPrefix(vol, "/") {
			return fmt.Sprintf("%q: a single path must be absolute", vol)
		}
	case 2, 3:
		if parts[0] == "" || parts[1] == "" {
			return fmt.Sprintf("%q has an empty part", vol)
		}
		if !strings.HasPrefix(parts[1], "/") {
			return fmt.Sprintf("%q: the container path %q must be absolute", vol, parts[1])
		}
		if len(parts) == 3 {
			for _, m := range strings.Split(parts[2], ",") {
				if !slices.Contains(volumeModes, m) {
					return fmt.Sprintf("%q: unknown mode %q", vol, m)
				}
			}
		}
	default:
		return fmt.Sprintf("%q has too many ':'", vol)
	}
	return ""
}

var registryHostRE = regexp.MustCompile(`^(localhost|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:]+\])(:[0-9]{1,5})?$`)

// CheckRegistryHost validates a registry host as Docker keys it: host[:port].
func CheckRegistryHost(h string) (msg, fix string) {
	switch {
	case h == "":
		return "is empty", "give the registry host, e.g. registry.example.com:5000"
	case strings.Contains(h, "://"):
		u, err := url.Parse(h)
		if err == nil && u.Host != "" {
			return fmt.Sprintf("%q has a URL scheme", h), fmt.Sprintf("write %q", u.Host)
		}
		return fmt.Sprintf("%q has a URL scheme", h), "write just host[:port]"
	case strings.Contains(h, "/"):
		return fmt.Sprintf("%q has a path", h), fmt.Sprintf("write %q; credentials apply to the whole host", strings.SplitN(h, "/", 2)[0])
	case h != strings.ToLower(h):
		return fmt.Sprintf("%q has upper-case letters", h), fmt.Sprintf("write %q", strings.ToLower(h))
	case !registryHostRE.MatchString(h):
		return fmt.Sprintf("%q is not a valid host[:port]", h), "e.g. registry.example.com:5000"
	}
	return "", ""
}

func (v *validator) registries(a *Answers) {
	seen := map[string]int{}
	runnerEnvAuth := false
	for i, r := range a.Registries {
		f := fmt.Sprintf("registries[%d]", i)
		if msg, fix := CheckRegistryHost(r.Host); msg != "" {
			v.fail(f+".host", msg, fix)
		} else {
			key := RegistryKey(r.Host)
			if j, dup := seen[key]; dup {
				v.fail(f+".host", fmt.Sprintf("%q is already configured in registries[%d]", r.Host, j), "merge the two entries")
			}
			seen[key] = i
		}
		if !slices.Contains(Methods, r.Method) {
			v.fail(f+".method", fmt.Sprintf("unknown method %q", r.Method), "use basic, cred-helper, creds-store or none")
		}
		if !slices.Contains(Targets, r.Target) {
			v.fail(f+".target", fmt.Sprintf("unknown target %q", r.Target), "use docker-config or runner-env")
		}
		if r.Target == TargetRunnerEnv {
			runnerEnvAuth = true
		}
		switch r.Method {
		case MethodBasic:
			if r.Username == "" {
				v.fail(f+".username", "is empty (method basic)", "set the registry user name")
			} else if strings.Contains(r.Username, ":") {
				v.fail(f+".username", "contains ':', which Docker's auth encoding cannot carry", "use a user name without ':'")
			}
			if r.Password == "" {
				v.fail(f+".password", "is empty (method basic)", `set it, e.g. password = "env:REGISTRY_PASSWORD"`)
			} else if strings.HasSuffix(r.Password, "\n") || strings.HasSuffix(r.Password, "\r") {
				v.fail(f+".password", "ends with a line break", "remove the trailing newline (a common cause of 'unauthorized')")
			}
			if r.Helper != "" {
				v.fail(f+".helper", "is set but method is basic", "remove helper, or set method = \"cred-helper\"")
			}
		case MethodCredHelper, MethodCredsStore:
			switch {
			case r.Helper == "":
				v.fail(f+".helper", fmt.Sprintf("is empty (method %s)", r.Method), `name the helper, e.g. "ecr-login" for docker-credential-ecr-login`)
			case strings.HasPrefix(r.Helper, "docker-credential-"):
				v.fail(f+".helper", fmt.Sprintf("%q includes the docker-credential- prefix", r.Helper), fmt.Sprintf("write %q", strings.TrimPrefix(r.Helper, "docker-credential-")))
			case strings.ContainsAny(r.Helper, `/\`) || strings.ContainsAny(r.Helper, " \t"):
				v.fail(f+".helper", fmt.Sprintf("%q is not a bare helper name (the runner rejects paths)", r.Helper), "install docker-credential-NAME on the runner's PATH and give NAME")
			}
			if r.Username != "" || r.Password != "" {
				v.fail(f+".username", fmt.Sprintf("credentials are set but method is %s, which gets them from the helper", r.Method), "remove username/password, or use method = \"basic\"")
			}
			if r.Method == MethodCredsStore && r.Target == TargetDockerConfig {
				v.warn(f+".method", "credsStore applies to every registry in config.json; if the store fails, the runner drops the whole file, including its auths", "prefer cred-helper for just this host")
			}
		case MethodNone:
			if r.Username != "" || r.Password != "" || r.Helper != "" {
				v.fail(f+".method", "is none but credentials or a helper are set", "set method = \"basic\" or \"cred-helper\", or remove them")
			}
		}
	}
	if runnerEnvAuth {
		for i, e := range a.Runner.Environment {
			if strings.HasPrefix(e, "DOCKER_AUTH_CONFIG=") {
				v.fail(fmt.Sprintf("runner.environment[%d]", i), "sets DOCKER_AUTH_CONFIG while registries with target = \"runner-env\" also render it", "remove the entry and describe the registries in [[registries]]")
			}
		}
	}
	// A registry nobody pulls from is probably a typo of one that is.
	used := map[string]bool{}
	for _, img := range a.Images() {
		if h, err := ImageRegistry(img); err == nil {
			used[RegistryKey(h)] = true
		}
	}
	for i, r := range a.Registries {
		if r.Host != "" && len(used) > 0 && !used[RegistryKey(r.Host)] {
			v.warn(fmt.Sprintf("registries[%d].host", i), fmt.Sprintf("no job or service image comes from %q", r.Host), "check the host and port against docker.image and the services")
		}
	}
}

// Images lists the job image and every service image.
func (a *Answers) Images() []string {
	var out []string
	if a.Docker.Image != "" {
		out = append(out, a.Docker.Image)
	}
	for _, s := range a.Docker.Services {
		if s.Name != "" {
			out = append(out, s.Name)
		}
	}
	return out
}

// RegistryKey is the config.json key for a registry host of the answers.
func RegistryKey(host string) string { return imageref.RegistryKey(host) }

// ImageRegistry is the registry host an image is pulled from.
func ImageRegistry(ref string) (string, error) { return imageref.Host(ref) }
