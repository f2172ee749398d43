package lint

import (
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/runnerup/runnerup/internal/editdist"
	"github.com/runnerup/runnerup/internal/runnerfacts"
)

// Accessors that tolerate wrong types (key.type reports those) and match
// keys case-insensitively, as the runner's decoder does.

func get(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for _, k := range sortedKeys(m) {
		if strings.EqualFold(k, key) {
			return m[k], true
		}
	}
	return nil, false
}

// keyIn is the key as written in m (for positions), or key itself.
func keyIn(m map[string]any, key string) string {
	if _, ok := m[key]; ok {
		return key
	}
	for _, k := range sortedKeys(m) {
		if strings.EqualFold(k, key) {
			return k
		}
	}
	return key
}

func getString(m map[string]any, key string) (string, bool) {
	v, _ := get(m, key)
	s, ok := v.(string)
	return s, ok
}

func getBool(m map[string]any, key string) (val, set bool) {
	v, _ := get(m, key)
	b, ok := v.(bool)
	return b, ok
}

func getInt(m map[string]any, key string) (int64, bool) {
	v, _ := get(m, key)
	n, ok := v.(int64)
	return n, ok
}

func getTable(m map[string]any, key string) map[string]any {
	v, _ := get(m, key)
	t, _ := v.(map[string]any)
	return t
}

func getTables(m map[string]any, key string) []map[string]any {
	v, _ := get(m, key)
	switch x := v.(type) {
	case []map[string]any:
		return x
	case []any:
		var out []map[string]any
		for _, e := range x {
			if t, ok := e.(map[string]any); ok {
				out = append(out, t)
			}
		}
		return out
	}
	return nil
}

// getStrings returns the string elements of an array, or a lone string as a
// one-element list (pull_policy's string-or-array form).
func getStrings(m map[string]any, key string) (vals []string, idx []int, set bool) {
	v, ok := get(m, key)
	switch x := v.(type) {
	case string:
		return []string{x}, []int{-1}, true
	case []any:
		for i, e := range x {
			if s, ok := e.(string); ok {
				vals = append(vals, s)
				idx = append(idx, i)
			}
		}
		return vals, idx, true
	}
	return nil, nil, ok
}

func getTime(m map[string]any, key string) (time.Time, bool) {
	v, _ := get(m, key)
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		t, err := time.Parse(time.RFC3339, x)
		return t, err == nil
	}
	return time.Time{}, false
}

// runnerCtx is one [[runners]] entry.
type runnerCtx struct {
	i      int
	m      map[string]any
	name   string
	p      string // runners[i]
	docker map[string]any
	dp     string // runners[i].docker
}

func (r *runnerCtx) key(k string) string { return joinKey(r.p, keyIn(r.m, k)) }
func (r *runnerCtx) dkey(k string) string {
	return joinKey(r.dp, keyIn(r.docker, k))
}

// label names the runner in messages.
func (r *runnerCtx) label() string {
	if r.name != "" {
		return fmt.Sprintf("runner %q", r.name)
	}
	return r.p
}

func (l *linter) rules() {
	l.globalRules()
	runners := getTables(l.doc, "runners")
	ctxs := make([]*runnerCtx, len(runners))
	for i, m := range runners {
		r := &runnerCtx{i: i, m: m, p: indexPath(keyIn(l.doc, "runners"), i)}
		r.name, _ = getString(m, "name")
		r.docker = getTable(m, "docker")
		r.dp = joinKey(r.p, keyIn(m, "docker"))
		ctxs[i] = r
		l.executorRules(r)
		l.credentialRules(r)
		if r.docker != nil {
			l.dockerRules(r)
		}
	}
	l.duplicateRules(ctxs)
	l.concurrencyRules(ctxs)
}

// --- global ---------------------------------------------------------------

var logLevels = []string{"debug", "info", "warn", "warning", "error", "fatal", "panic", "trace"}
var logFormats = []string{"runner", "text", "json"}

func (l *linter) globalRules() {
	if s, ok := getString(l.doc, "log_level"); ok && !slices.Contains(logLevels, strings.ToLower(s)) {
		p := keyIn(l.doc, "log_level")
		f := Finding{ID: "log_level.invalid", Severity: Error, Path: p,
			Message: fmt.Sprintf("log_level %q is not a log level: `gitlab-runner run` stops at start (unless --log-level is given)", s),
			Fix:     "use one of: " + strings.Join(logLevels, ", ")}
		if c := editdist.Closest(s, logLevels); c != "" {
			f.Fix = fmt.Sprintf("did you mean %q?", c)
		}
		l.add(f, p)
	}
	if s, ok := getString(l.doc, "log_format"); ok && !slices.Contains(logFormats, s) {
		p := keyIn(l.doc, "log_format")
		f := Finding{ID: "log_format.invalid", Severity: Error, Path: p,
			Message: fmt.Sprintf("log_format %q is not a log format: `gitlab-runner run` stops at start (unless --log-format is given)", s),
			Fix:     "use one of: " + strings.Join(logFormats, ", ")}
		if c := editdist.Closest(s, logFormats); c != "" {
			f.Fix = fmt.Sprintf("did you mean %q?", c)
		}
		l.add(f, p)
	}
}

// --- executor and shell ---------------------------------------------------

var removedExecutors = map[string]string{
	"docker-ssh":         "docker",
	"docker-ssh+machine": "docker-autoscaler",
}

// sectionsNeeded lists the tables each executor reads (reference §1.5);
// docker's own table is checked by docker.image.missing.
var sectionsNeeded = map[string][]string{
	"docker+machine":    {"machine"},
	"docker-autoscaler": {"autoscaler"},
	"instance":          {"autoscaler"},
	"ssh":               {"ssh"},
	"parallels":         {"parallels", "ssh"},
	"virtualbox":        {"virtualbox", "ssh"},
	"kubernetes":        {"kubernetes"},
}

func (l *linter) executorRules(r *runnerCtx) {
	exec, isStr := getString(r.m, "executor")
	_, present := get(r.m, "executor")
	switch {
	case !present || (isStr && strings.TrimSpace(exec) == ""):
		l.add(Finding{ID: "runner.executor.missing", Severity: Error, Path: r.key("executor"), Runner: r.name,
			Message: fmt.Sprintf("%s has no executor: the runner cannot run its jobs", r.label()),
			Fix:     "set executor, e.g. executor = \"docker\""}, r.key("executor"), r.p)
	case !isStr:
		// key.type
	case slices.Contains(runnerfacts.Executors, exec):
		if exec == "docker+machine" {
			l.add(Finding{ID: "runner.executor.deprecated", Severity: Warning, Path: r.key("executor"), Runner: r.name,
				Message: "the docker+machine executor is deprecated (removal planned for GitLab Runner 20.0)",
				Fix:     "move to docker-autoscaler"}, r.key("executor"))
		}
		if runnerfacts.UsesDocker(exec) {
			l.dockerImageRule(r, exec)
		}
		for _, t := range sectionsNeeded[exec] {
			if getTable(r.m, t) == nil {
				l.add(Finding{ID: "runner.section.missing", Severity: Error, Path: joinKey(r.p, t), Runner: r.name,
					Message: fmt.Sprintf("executor %q needs a [runners.%s] table, and %s has none: its jobs fail", exec, t, r.label()),
					Fix:     fmt.Sprintf("add [runners.%s] to this runner", t)}, r.key("executor"), r.p)
			}
		}
	case removedExecutors[exec] != "":
		l.add(Finding{ID: "runner.executor.invalid", Severity: Error, Path: r.key("executor"), Runner: r.name,
			Message: fmt.Sprintf("executor %q was removed in GitLab Runner 16.0: the runner no longer runs it", exec),
			Fix:     fmt.Sprintf("use %s", removedExecutors[exec])}, r.key("executor"))
	default:
		f := Finding{ID: "runner.executor.invalid", Severity: Error, Path: r.key("executor"), Runner: r.name,
			Message: fmt.Sprintf("unknown executor %q: the runner cannot run this runner's jobs", exec),
			Fix:     "use one of: " + strings.Join(runnerfacts.Executors, ", ")}
		if c := editdist.Closest(exec, runnerfacts.Executors); c != "" {
			f.Fix = fmt.Sprintf("did you mean %q?", c)
		}
		l.add(f, r.key("executor"))
	}

	if sh, ok := getString(r.m, "shell"); ok && sh != "" && !slices.Contains(runnerfacts.Shells, sh) {
		f := Finding{ID: "runner.shell.invalid", Severity: Error, Path: r.key("shell"), Runner: r.name,
			Message: fmt.Sprintf("unknown shell %q: jobs fail", sh),
			Fix:     "use one of: " + strings.Join(runnerfacts.Shells, ", ")}
		switch {
		case strings.EqualFold(sh, "cmd"):
			f.Message = "shell \"cmd\" was removed from GitLab Runner: jobs fail"
			f.Fix = "use pwsh (or powershell)"
		case editdist.Closest(sh, runnerfacts.Shells) != "":
			f.Fix = fmt.Sprintf("did you mean %q?", editdist.Closest(sh, runnerfacts.Shells))
		}
		l.add(f, r.key("shell"))
	}
}

// --- url and token ----------------------------------------------------------

// tokenKinds are prefixes of tokens that are not runner authentication tokens.
var tokenKinds = []struct{ prefix, what, fix string }{
	{"GR1348941", "a registration token",
		"register the runner (runnerup apply, or gitlab-runner register) and put the authentication token it returns (glrt-…) here"},
	{"glpat-", "a personal access token", "create a runner in GitLab (Settings › CI/CD › Runners › New runner) and use its glrt- token"},
	{"glcbt-", "a CI job token", "create a runner in GitLab (Settings › CI/CD › Runners › New runner) and use its glrt- token"},
}

func (l *linter) credentialRules(r *runnerCtx) {
	// url
	u, isStr := getString(r.m, "url")
	if _, present := get(r.m, "url"); !present || (isStr && strings.TrimSpace(u) == "") {
		l.add(Finding{ID: "runner.url.missing", Severity: Error, Path: r.key("url"), Runner: r.name,
			Message: fmt.Sprintf("%s has no url: it cannot reach GitLab", r.label()),
			Fix:     `set url = "https://gitlab.example.com"`}, r.key("url"), r.p)
	} else if isStr && !strings.Contains(u, "$") { // $VAR is expanded at load time
		if msg, fix := checkURL(u); msg != "" {
			l.add(Finding{ID: "runner.url.invalid", Severity: Error, Path: r.key("url"), Runner: r.name,
				Message: msg, Fix: fix}, r.key("url"))
		}
	}

	// token
	tok, isStr := getString(r.m, "token")
	if _, present := get(r.m, "token"); !present || (isStr && strings.TrimSpace(tok) == "") {
		l.add(Finding{ID: "runner.token.missing", Severity: Error, Path: r.key("token"), Runner: r.name,
			Message: fmt.Sprintf("%s has no token: the runner skips it when polling for jobs", r.label()),
			Fix:     "register the runner (runnerup apply) to get its authentication token"}, r.key("token"), r.p)
		return
	}
	if !isStr {
		return
	}
	for _, k := range tokenKinds {
		if strings.HasPrefix(tok, k.prefix) {
			id := "runner.token.wrong-kind"
			if k.prefix == "GR1348941" {
				id = "runner.token.registration"
			}
			l.add(Finding{ID: id, Severity: Error, Path: r.key("token"), Runner: r.name,
				Message: fmt.Sprintf("token starts with %q, so it is %s; the runner needs a runner authentication token and every request will fail", k.prefix+"…", k.what),
				Fix:     k.fix}, r.key("token"))
			break
		}
	}

	// token_expires_at without token_obtained_at (reference §3.3)
	if exp, ok := getTime(r.m, "token_expires_at"); ok && !isZeroTime(exp) {
		obt, ok := getTime(r.m, "token_obtained_at")
		if !ok || isZeroTime(obt) {
			l.add(Finding{ID: "runner.token_expires_at.without-obtained", Severity: Warning, Path: r.key("token_expires_at"), Runner: r.name,
				Message: "token_expires_at is set but token_obtained_at is zero or missing: the runner computes its rotation time from both and rotates the token immediately at start, rewriting config.toml",
				Fix:     "set token_obtained_at to when the token was issued, or remove both"}, r.key("token_expires_at"))
		}
	}
}

func isZeroTime(t time.Time) bool { return t.IsZero() || t.Year() <= 1 }

// checkURL validates a runner url without ever quoting it (it may carry
// credentials).
func checkURL(raw string) (msg, fix string) {
	const example = "use the GitLab base URL, e.g. https://gitlab.example.com"
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "url cannot be parsed", example
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return "url has no scheme: the runner accepts only http:// and https:// URLs", "write https:// in front of the host name"
	default:
		return fmt.Sprintf("url has scheme %q: the runner accepts only http and https", u.Scheme), example
	}
	if u.Hostname() == "" {
		return "url has no host name", example
	}
	return "", ""
}

// --- docker -----------------------------------------------------------------

func (l *linter) dockerRules(r *runnerCtx) {
	d := r.docker
	if _, ok := get(d, "platform"); ok {
		l.add(Finding{ID: "docker.platform.ignored", Severity: Warning, Path: r.dkey("platform"), Runner: r.name,
			Message: "platform is not a [runners.docker] key: the runner silently ignores it",
			Fix:     "set the platform per job in .gitlab-ci.yml (image: docker: platform: linux/arm64), or use a runner on that architecture"}, r.dkey("platform"))
	}

	// pull_policy values
	policies, idx, set := getStrings(d, "pull_policy")
	for n, p := range policies {
		if slices.Contains(runnerfacts.PullPolicies, p) {
			continue
		}
		pp := r.dkey("pull_policy")
		if idx[n] >= 0 {
			pp = indexPath(pp, idx[n])
		}
		f := Finding{ID: "docker.pull_policy.invalid", Severity: Error, Path: pp, Runner: r.name,
			Message: fmt.Sprintf("pull_policy %q is not a pull policy: every job of this runner fails with `unsupported pull_policy config`", p),
			Fix:     "use always, if-not-present or never"}
		if c := editdist.Closest(p, runnerfacts.PullPolicies); c != "" {
			f.Fix = fmt.Sprintf("did you mean %q?", c)
		}
		l.add(f, pp, r.dkey("pull_policy"))
	}
	allowed, aidx, aset := getStrings(d, "allowed_pull_policies")
	if v, _ := get(d, "allowed_pull_policies"); aset {
		if _, isStr := v.(string); isStr {
			allowed, aset = nil, false // an array is required: key.type
		}
	}
	validAllowed := true
	for n, p := range allowed {
		if slices.Contains(runnerfacts.PullPolicies, p) {
			continue
		}
		validAllowed = false
		pp := indexPath(r.dkey("allowed_pull_policies"), aidx[n])
		f := Finding{ID: "docker.allowed_pull_policies.invalid", Severity: Error, Path: pp, Runner: r.name,
			Message: fmt.Sprintf("allowed_pull_policies %q is not a pull policy: every job of this runner fails with `unsupported allowed_pull_policies config`", p),
			Fix:     "use always, if-not-present or never"}
		if c := editdist.Closest(p, runnerfacts.PullPolicies); c != "" {
			f.Fix = fmt.Sprintf("did you mean %q?", c)
		}
		l.add(f, pp, r.dkey("allowed_pull_policies"))
	}
	if aset && validAllowed && len(allowed) > 0 {
		effective, src := policies, "pull_policy"
		if !set || len(policies) == 0 {
			effective, src = []string{"always"}, "the default pull_policy (always)"
		}
		if !slices.ContainsFunc(effective, func(p string) bool { return slices.Contains(allowed, p) }) {
			l.add(Finding{ID: "docker.allowed_pull_policies.conflict", Severity: Warning, Path: r.dkey("allowed_pull_policies"), Runner: r.name,
				Message: fmt.Sprintf("%s has nothing in common with allowed_pull_policies %v: jobs that do not set their own pull_policy fail with `pull_policy … is not one of the allowed_pull_policies`", src, allowed),
				Fix:     "add one of the allowed policies to pull_policy, or widen allowed_pull_policies"}, r.dkey("allowed_pull_policies"))
		}
	}

	// services
	services := getTables(d, "services")
	sp := r.dkey("services")
	var dind []int
	for i, s := range services {
		name, _ := getString(s, "name")
		if strings.TrimSpace(name) == "" {
			l.add(Finding{ID: "docker.services.name.missing", Severity: Error, Path: indexPath(sp, i), Runner: r.name,
				Message: fmt.Sprintf("services[%d] has no name: a service needs the image to run", i),
				Fix:     `set name, e.g. name = "postgres:16"`}, joinKey(indexPath(sp, i), keyIn(s, "name")), indexPath(sp, i))
			continue
		}
		if isDinD(name) {
			dind = append(dind, i)
		}
	}
	if len(dind) > 0 {
		l.dindRules(r, services, dind)
		l.dindPortRule(r, services, dind)
		l.dindInsecureRule(r, services, dind)
	}

	// log_options accepts only env and labels (reference §1.3)
	if lo := getTable(d, "log_options"); lo != nil {
		for _, k := range sortedKeys(lo) {
			if k == "env" || k == "labels" {
				continue
			}
			p := joinKey(r.dkey("log_options"), k)
			l.add(Finding{ID: "docker.log_options.invalid", Severity: Error, Path: p, Runner: r.name,
				Message: fmt.Sprintf("log_options key %q is not allowed: every job of this runner fails", k),
				Fix:     "only env and labels are allowed in log_options"}, p, r.dkey("log_options"))
		}
	}
}

// isDinD reports a Docker-in-Docker service image: docker:*dind*
// (any registry or mirror path), or an image whose name contains "dind".
func isDinD(image string) bool {
	ref := strings.ToLower(strings.TrimSpace(image))
	ref, _, _ = strings.Cut(ref, "@")
	repo, tag := ref, ""
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		repo, tag = ref[:i], ref[i+1:]
	}
	base := path.Base(repo)
	return (base == "docker" && strings.Contains(tag, "dind")) || strings.Contains(base, "dind")
}

func (l *linter) dindRules(r *runnerCtx, services []map[string]any, dind []int) {
	d := r.docker
	for _, k := range []string{"privileged", "services_privileged"} {
		if v, ok := get(d, k); ok {
			if _, isBool := v.(bool); !isBool {
				return // key.type
			}
		}
	}
	priv, privSet := getBool(d, "privileged")
	svcPriv, svcPrivSet := getBool(d, "services_privileged")
	effective, explicit, why := priv, privSet, "privileged"
	if svcPrivSet {
		effective, explicit, why = svcPriv, true, "services_privileged"
	}
	sp := r.dkey("services")
	first := dind[0]
	name, _ := getString(services[first], "name")
	at := joinKey(indexPath(sp, first), keyIn(services[first], "name"))

	if !effective {
		f := Finding{ID: "docker.dind.unprivileged", Path: at, Runner: r.name,
			Fix: "set privileged = true in [runners.docker] (and add \"/certs/client\" to volumes)"}
		if explicit {
			f.Severity = Error
			f.Message = fmt.Sprintf("service %q is Docker-in-Docker but %s = false: the DinD daemon cannot start, so docker commands in jobs fail (\"Cannot connect to the Docker daemon\")", name, why)
			if why == "services_privileged" {
				f.Fix = "set services_privileged = true (or remove it and set privileged = true)"
			}
		} else {
			// Absent means false too, but the file does not contradict itself.
			f.Severity = Warning
			f.Message = fmt.Sprintf("service %q is Docker-in-Docker but privileged is not set (default false): the DinD daemon cannot start, so docker commands in jobs fail (\"Cannot connect to the Docker daemon\")", name)
		}
		l.add(f, at)
		return
	}

	// TLS: the dind image writes client certificates to
	// $DOCKER_TLS_CERTDIR/client (default /certs); the job container sees
	// them only through a shared volume. DOCKER_TLS_CERTDIR="" turns TLS
	// off, and with it the need for the volume.
	certDir := ""
	for _, i := range dind {
		on, dir, _ := dindTLS(r, services[i])
		if !on {
			return
		}
		certDir = dir
	}
	vols, _, _ := getStrings(d, "volumes")
	for _, v := range vols {
		if t := volumeTarget(v); t == certDir || t == certDir+"/client" {
			return
		}
	}
	l.add(Finding{ID: "docker.dind.no-certs-volume", Severity: Warning, Path: r.dkey("volumes"), Runner: r.name,
		Message: fmt.Sprintf("service %q is Docker-in-Docker with TLS (the default) but no volume shares %s/client: jobs cannot read the client certificates and fail to connect to the DinD daemon", name, certDir),
		Fix:     fmt.Sprintf("add %q to volumes in [runners.docker] (and set DOCKER_TLS_CERTDIR=%s, DOCKER_HOST=tcp://docker:2376 in the job)", certDir+"/client", certDir)},
		r.dkey("volumes"), at)
}

// volumeTarget is the container path of a `docker -v` volume spec.
func volumeTarget(v string) string {
	parts := strings.Split(strings.TrimSpace(v), ":")
	t := parts[0]
	if len(parts) >= 2 {
		t = parts[1]
	}
	return strings.TrimRight(t, "/")
}

// --- docker image -----------------------------------------------------------

func (l *linter) dockerImageRule(r *runnerCtx, exec string) {
	if r.docker == nil {
		if _, present := get(r.m, "docker"); present {
			return // key.type
		}
		l.add(Finding{ID: "docker.image.missing", Severity: Error, Path: r.dp, Runner: r.name,
			Message: fmt.Sprintf("executor %q needs a [runners.docker] table with a default image, and %s has none", exec, r.label()),
			Fix:     "add [runners.docker] with image = \"alpine:latest\" (or another default image)"}, r.key("executor"), r.p)
		return
	}
	v, present := get(r.docker, "image")
	if _, isStr := v.(string); present && !isStr {
		return // key.type
	}
	if img, _ := v.(string); strings.TrimSpace(img) == "" {
		l.add(Finding{ID: "docker.image.missing", Severity: Error, Path: r.dkey("image"), Runner: r.name,
			Message: fmt.Sprintf("[runners.docker] of %s has no image: jobs that do not name an image fail", r.label()),
			Fix:     "set image in [runners.docker], e.g. image = \"alpine:latest\""}, r.dkey("image"), r.dp)
	}
}

// --- across runners -----------------------------------------------------------

// NormURL is the url as the runner uses it: no trailing / or legacy /ci.
func NormURL(u string) string {
	u = strings.TrimRight(strings.TrimSpace(u), "/")
	u = strings.TrimSuffix(u, "/ci")
	return strings.ToLower(strings.TrimRight(u, "/"))
}

func (l *linter) duplicateRules(rs []*runnerCtx) {
	names := map[string]*runnerCtx{}
	creds := map[string]*runnerCtx{}
	for _, r := range rs {
		if r.name != "" {
			if first, dup := names[r.name]; dup {
				l.add(Finding{ID: "runner.name.duplicate", Severity: Warning, Path: r.key("name"), Runner: r.name,
					Message: fmt.Sprintf("runner name %q is already used by %s%s: names are how people and tools (runnerup too) tell runners apart", r.name, first.p, l.lineNote(first.key("name"))),
					Fix:     "give each [[runners]] entry its own name, or remove the duplicate"}, r.key("name"), r.p)
			} else {
				names[r.name] = r
			}
		}
		u, ok1 := getString(r.m, "url")
		t, ok2 := getString(r.m, "token")
		if !ok1 || !ok2 || strings.TrimSpace(t) == "" {
			continue
		}
		k := NormURL(u) + "\x00" + t
		if first, dup := creds[k]; dup {
			l.add(Finding{ID: "runner.token.duplicate", Severity: Error, Path: r.key("token"), Runner: r.name,
				Message: fmt.Sprintf("%s has the same url and token as %s%s: a duplicate entry, usually left by registering again; it polls for jobs twice, and when the runner rotates the token of one entry the other stops working", r.p, first.p, l.lineNote(first.p)),
				Fix:     "remove one of the two [[runners]] entries"}, r.key("token"), r.p)
		} else {
			creds[k] = r
		}
	}
}

func (l *linter) lineNote(p string) string {
	if pos, ok := l.pos[p]; ok {
		return fmt.Sprintf(" (line %d)", pos.line)
	}
	return ""
}

func (l *linter) concurrencyRules(rs []*runnerCtx) {
	concurrent, explicit := int64(1), false
	if v, present := get(l.doc, "concurrent"); present {
		n, ok := v.(int64)
		if !ok {
			return // key.type
		}
		concurrent, explicit = n, true
	}
	cp := keyIn(l.doc, "concurrent")
	if explicit && concurrent < 1 {
		l.add(Finding{ID: "concurrent.invalid", Severity: Error, Path: cp,
			Message: fmt.Sprintf("concurrent = %d: `gitlab-runner run` refuses to start (no jobs would be processed)", concurrent),
			Fix:     "set concurrent to at least 1"}, cp)
		return
	}
	setting := fmt.Sprintf("concurrent = %d", concurrent)
	if !explicit {
		setting = "concurrent is not set (default 1)"
	}
	var maxR *runnerCtx
	var maxLimit int64
	for _, r := range rs {
		if n, ok := getInt(r.m, "limit"); ok && n > maxLimit {
			maxR, maxLimit = r, n
		}
	}
	if maxR != nil && concurrent < maxLimit {
		l.add(Finding{ID: "concurrent.below-limit", Severity: Warning, Path: cp, Runner: maxR.name,
			Message: fmt.Sprintf("%s, which caps all runners together, is below the limit = %d of %s: it can never run that many jobs", setting, maxLimit, maxR.label()),
			Fix:     fmt.Sprintf("set concurrent = %d or more at the top of the file", maxLimit)}, cp, maxR.key("limit"))
		return
	}
	if len(rs) > 1 && concurrent < int64(len(rs)) {
		l.add(Finding{ID: "concurrent.below-runners", Severity: Info, Path: cp,
			Message: fmt.Sprintf("%s for %d runners: they cannot all run a job at the same time (the runner logs a \"worker starvation\" warning)", setting, len(rs)),
			Fix:     fmt.Sprintf("set concurrent = %d or more at the top of the file", len(rs))}, cp)
	}
}
