package wizard

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/runnerup/runnerup/internal/editdist"
	"github.com/runnerup/runnerup/render"
)

// `runnerup register` takes gitlab-runner register's flags and environment
// variables (registerFlagTable) and turns them into answers, so a script
// switches by changing one word. Precedence is the runner's: a flag beats
// its environment variable, both beat --template-config; a list flag adds
// to its variable's one element, as urfave/cli's generic flags do.

// regFlag is one row of registerFlagTable.
type regFlag struct {
	names []string
	env   string
	key   string // "runners.docker.image" or "register.tag-list"
	kind  string
}

var (
	regFlags      = parseRegFlagTable(registerFlagTable)
	regFlagByName = func() map[string]*regFlag {
		m := map[string]*regFlag{}
		for _, f := range regFlags {
			for _, n := range f.names {
				m[n] = f
			}
		}
		return m
	}()
)

func parseRegFlagTable(text string) []*regFlag {
	var out []*regFlag
	for _, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) != 4 {
			continue
		}
		f := &regFlag{names: strings.Split(fields[0], ","), env: fields[1], key: fields[2], kind: fields[3]}
		if f.env == "-" {
			f.env = ""
		}
		out = append(out, f)
	}
	return out
}

func (f *regFlag) long() string { return "--" + f.names[len(f.names)-1] }

// refused are flags runnerup knows but cannot honour, with the alternative.
var refusedFlags = map[string]string{
	"runners.tls-cert-file": "runnerup's GitLab checks do not present a client certificate, so it cannot verify or register through mutual TLS: register this runner with gitlab-runner register (runnerup apply keeps the key afterwards)",
	"runners.tls-key-file":  "runnerup's GitLab checks do not present a client certificate, so it cannot verify or register through mutual TLS: register this runner with gitlab-runner register (runnerup apply keeps the key afterwards)",
}

// RegisterInput is what a gitlab-runner register command line asks for.
type RegisterInput struct {
	// Answers keep env: references for secrets that came from the
	// environment, so --save-answers writes no secret.
	Answers        *Answers
	NonInteractive bool
	LeaveRunner    bool
	// ConfigPath is -c/--config (CONFIG_FILE), TemplatePath
	// --template-config (TEMPLATE_CONFIG_FILE).
	ConfigPath   string
	TemplatePath string
	// Warnings say what the runner would do silently (values from the
	// environment, executor tables it drops).
	Warnings []FieldError
}

// RegisterFlagError is a register flag runnerup cannot take (exit 2).
type RegisterFlagError struct {
	Flag, Problem, Fix string
}

func (e *RegisterFlagError) Error() string {
	s := e.Flag + ": " + e.Problem
	if e.Fix != "" {
		s += " (" + e.Fix + ")"
	}
	return s
}

// setting is one value given for a flag, with where it came from.
type setting struct {
	flag    *regFlag
	values  []string // the raw strings, in order
	source  string   // "--docker-image" or "DOCKER_IMAGE"
	fromEnv bool
}

// ParseRegisterArgs reads gitlab-runner register's arguments (Go flag
// syntax: -name, --name, --name=value, --name value, boolean --name or
// --name=false) and its environment variables, then merges the template.
// readFile reads --template-config.
func ParseRegisterArgs(args []string, env Env, readFile func(string) ([]byte, error)) (*RegisterInput, error) {
	given := map[*regFlag]*setting{}
	var order []*regFlag
	// The environment first: a flag then replaces a scalar and adds to a list.
	for _, f := range regFlags {
		if f.env == "" || env == nil {
			continue
		}
		if v, ok := env(f.env); ok {
			given[f] = &setting{flag: f, values: []string{v}, source: f.env, fromEnv: true}
			order = append(order, f)
		}
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if !strings.HasPrefix(arg, "-") || arg == "-" || arg == "--" {
			return nil, &RegisterFlagError{Flag: arg, Problem: "unexpected argument: gitlab-runner register takes only flags",
				Fix: "quote values with spaces, and write booleans as --flag or --flag=false"}
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		f := regFlagByName[name]
		if f == nil {
			return nil, unknownRegisterFlag(name)
		}
		if f.kind == "bool" {
			if !hasValue {
				value = "true"
			}
		} else if !hasValue {
			if i+1 >= len(args) {
				return nil, &RegisterFlagError{Flag: f.long(), Problem: "needs a value"}
			}
			i++
			value = args[i]
		}
		s := given[f]
		switch {
		case s == nil:
			s = &setting{flag: f}
			given[f] = s
			order = append(order, f)
		case s.fromEnv && !strings.HasPrefix(f.kind, "list:") && !strings.HasPrefix(f.kind, "map:"):
			s.values = nil
		}
		s.values, s.source, s.fromEnv = append(s.values, value), f.long(), false
	}
	in := &RegisterInput{Answers: &Answers{Version: SchemaVersion}}
	m := &regMapper{in: in, a: in.Answers, extra: map[string]any{}}
	for _, f := range order {
		if err := m.apply(given[f]); err != nil {
			return nil, err
		}
	}
	if err := m.finishToken(); err != nil {
		return nil, err
	}
	if in.TemplatePath != "" {
		if err := m.template(in.TemplatePath, readFile); err != nil {
			return nil, err
		}
	}
	m.finish()
	return in, nil
}

func unknownRegisterFlag(name string) error {
	e := &RegisterFlagError{Flag: "--" + name, Problem: "gitlab-runner register has no such flag"}
	switch {
	case name == "docker-services" || strings.HasPrefix(name, "docker-services-") && regFlagByName[name] == nil:
		e.Fix = "register has no flag for services: give them in --template-config as [[runners.docker.services]], or use [[docker.services]] in an answers file"
	default:
		names := make([]string, 0, len(regFlagByName))
		for n := range regFlagByName {
			names = append(names, n)
		}
		slices.Sort(names)
		if c := editdist.Closest(name, names); c != "" {
			e.Fix = fmt.Sprintf("did you mean --%s?", c)
		}
	}
	return e
}

// regMapper turns settings into answers.
type regMapper struct {
	in    *RegisterInput
	a     *Answers
	extra map[string]any
	// token bookkeeping: register's two token flags.
	token, regToken        string
	tokenRef, regTokenRef  string // env: references
	tagList                string
	runUntagged, locked    *bool
	paused                 *bool
	maximumTimeout         *int
	accessLevel, maintNote string
}

func (m *regMapper) last(s *setting) string { return s.values[len(s.values)-1] }

func (m *regMapper) apply(s *setting) error {
	f := s.flag
	if why, ok := refusedFlags[f.key]; ok {
		return &RegisterFlagError{Flag: s.source, Problem: "runnerup cannot honour this flag", Fix: why}
	}
	if strings.HasPrefix(f.kind, "custom:") || strings.HasPrefix(f.kind, "other:") || f.kind == "map:list:string" {
		return &RegisterFlagError{Flag: s.source, Problem: "runnerup cannot write this flag's value",
			Fix: fmt.Sprintf("set %s in --template-config, or under [runner.extra] in an answers file", strings.TrimPrefix(f.key, "runners."))}
	}
	if s.fromEnv && !strings.HasPrefix(f.key, "register.") && f.key != "runners.url" && f.key != "runners.token" {
		m.in.Warnings = append(m.in.Warnings, FieldError{Field: f.key, Warning: true,
			Problem: fmt.Sprintf("set from the environment variable %s, as gitlab-runner register would", f.env),
			Fix:     fmt.Sprintf("unset %s if it was not meant for the runner", f.env)})
	}
	v := m.last(s)
	boolean := func() (*bool, error) {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return nil, &RegisterFlagError{Flag: s.source, Problem: fmt.Sprintf("%q is not a boolean", v), Fix: "use true or false"}
		}
		return &b, nil
	}
	integer := func() (*int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return nil, &RegisterFlagError{Flag: s.source, Problem: fmt.Sprintf("%q is not a whole number", v)}
		}
		return &n, nil
	}
	// register's values are literal: one starting with env: or file: is
	// escaped (Literal) so that resolving the answers leaves it as it is.
	ref := func() string {
		if s.fromEnv {
			return refEnv + f.env
		}
		return Literal(v)
	}
	lit := Literal(v)
	var err error
	switch f.key {
	case "register.config":
		m.in.ConfigPath = v
	case "register.template-config":
		m.in.TemplatePath = v
	case "register.non-interactive":
		var b *bool
		if b, err = boolean(); err == nil {
			m.in.NonInteractive = *b
		}
	case "register.leave-runner":
		var b *bool
		if b, err = boolean(); err == nil {
			m.in.LeaveRunner = *b
		}
	case "register.registration-token":
		m.regToken, m.regTokenRef = v, ref()
	case "runners.token":
		m.token, m.tokenRef = v, ref()
	case "register.tag-list":
		m.tagList = v
	case "register.run-untagged":
		m.runUntagged, err = boolean()
	case "register.locked":
		m.locked, err = boolean()
	case "register.paused":
		m.paused, err = boolean()
	case "register.maximum-timeout":
		m.maximumTimeout, err = integer()
	case "register.access-level":
		if v != "" && !slices.Contains(AccessLevels, v) {
			// The runner panics up front: "Given access-level is not valid".
			return &RegisterFlagError{Flag: s.source, Problem: fmt.Sprintf("access level %q is not valid", v), Fix: "use not_protected or ref_protected"}
		}
		m.accessLevel = v
	case "register.maintenance-note":
		m.maintNote = v
	case "runners.name":
		m.a.GitLab.Name = lit
	case "runners.url":
		m.a.GitLab.URL = lit
	case "runners.tls-ca-file":
		m.a.GitLab.TLSCAFile = lit
	case "runners.executor":
		m.a.Runner.Executor = lit
	case "runners.shell":
		m.a.Runner.Shell = lit
	case "runners.limit":
		m.a.Runner.Limit, err = integer()
	case "runners.environment":
		m.a.Runner.Environment = append(m.a.Runner.Environment, literals(s.values)...)
	case "runners.docker.image":
		m.a.Docker.Image = lit
	case "runners.docker.privileged":
		var b *bool
		if b, err = boolean(); err == nil {
			m.a.Docker.Privileged = b
		}
	case "runners.docker.volumes":
		m.a.Docker.Volumes = append(m.a.Docker.Volumes, literals(s.values)...)
	case "runners.docker.pull_policy":
		m.a.Docker.PullPolicy = StringOrList(literals(splitCSV(v)))
	case "runners.docker.host":
		m.a.Docker.Host = lit
	default:
		return m.setExtra(s)
	}
	return err
}

// literals escapes each value with Literal.
func literals(vs []string) []string {
	if vs == nil {
		return nil
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = Literal(v)
	}
	return out
}

func splitCSV(v string) StringOrList {
	if v == "" {
		return StringOrList{}
	}
	var out StringOrList
	for _, p := range strings.Split(v, ",") {
		out = append(out, strings.TrimSpace(p))
	}
	return out
}

// setExtra writes a flag the answers have no field for into [runner.extra],
// typed as the runner's struct field is.
func (m *regMapper) setExtra(s *setting) error {
	f := s.flag
	path := strings.Split(strings.TrimPrefix(f.key, "runners."), ".")
	v := m.last(s)
	bad := func(what string) error {
		return &RegisterFlagError{Flag: s.source, Problem: fmt.Sprintf("%q is not %s", v, what)}
	}
	var val any
	switch kind := f.kind; {
	case kind == "string":
		val = Literal(v)
	case kind == "bool":
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return bad("a boolean")
		}
		val = b
	case kind == "int":
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return bad("a whole number")
		}
		val = n
	case kind == "float":
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return bad("a number")
		}
		val = x
	case kind == "duration":
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return bad("a duration such as 30m")
		}
		val = d.String()
	case kind == "csv":
		val = literals(splitCSV(v))
	case kind == "list:string":
		val = literals(s.values)
	case kind == "list:int":
		var ns []int64
		for _, e := range s.values {
			n, err := strconv.ParseInt(strings.TrimSpace(e), 10, 64)
			if err != nil {
				return &RegisterFlagError{Flag: s.source, Problem: fmt.Sprintf("%q is not a whole number", e)}
			}
			ns = append(ns, n)
		}
		val = ns
	case strings.HasPrefix(kind, "map:"):
		tbl := map[string]any{}
		if old, ok := getTreeValue(m.extra, path); ok {
			tbl, _ = old.(map[string]any)
		}
		for _, e := range s.values {
			k, ev, _ := strings.Cut(e, ":")
			switch strings.TrimPrefix(kind, "map:") {
			case "bool":
				b, err := strconv.ParseBool(ev)
				if err != nil {
					return &RegisterFlagError{Flag: s.source, Problem: fmt.Sprintf("%q is not NAME:true or NAME:false", e)}
				}
				tbl[k] = b
			case "int":
				n, err := strconv.ParseInt(ev, 10, 64)
				if err != nil {
					return &RegisterFlagError{Flag: s.source, Problem: fmt.Sprintf("%q is not NAME:NUMBER", e)}
				}
				tbl[k] = n
			default:
				tbl[k] = Literal(ev)
			}
		}
		val = tbl
	default:
		return &RegisterFlagError{Flag: s.source, Problem: "runnerup cannot write this flag's value", Fix: "use --template-config"}
	}
	setTreeValue(m.extra, path, val)
	return nil
}

// finishToken applies register's token rules (docs/gitlab-runner.md §2.2,
// §2.3): --token is an authentication token (verified, never registered);
// --registration-token registers, unless it is a glrt- token, which the
// runner then treats as --token while ignoring the server-side flags.
func (m *regMapper) finishToken() error {
	g := &m.a.GitLab
	server := m.serverSettings()
	switch {
	case m.token != "":
		g.Token = m.tokenRef
		if _, ambiguous := ClassifyToken(m.token, ""); ambiguous {
			g.TokenKind = string(TokenAuthentication)
		}
		if len(server) > 0 {
			return &RegisterFlagError{Flag: strings.Join(server, ", "),
				Problem: "cannot be set when registering with an authentication token (--token): GitLab keeps these settings server-side, and gitlab-runner register refuses them too",
				Fix:     "remove them and set them on the runner in GitLab, or let runnerup create the runner with [gitlab.create] in an answers file"}
		}
	case m.regToken != "" && strings.HasPrefix(m.regToken, "glrt-"):
		g.Token = m.regTokenRef
		if len(server) > 0 {
			m.in.Warnings = append(m.in.Warnings, FieldError{Field: "register", Warning: true,
				Problem: fmt.Sprintf("%s ignored: a glrt- token's settings live in GitLab (gitlab-runner register ignores them the same way)", strings.Join(server, ", ")),
				Fix:     "set them on the runner in GitLab"})
		}
	case m.regToken != "":
		g.Token = m.regTokenRef
		if _, ambiguous := ClassifyToken(m.regToken, ""); ambiguous {
			g.TokenKind = string(TokenRegistration)
		}
		g.Tags = literals(splitTags(m.tagList))
		// The legacy flow forces run-untagged when there are no tags.
		g.RunUntagged = new(m.runUntagged != nil && *m.runUntagged || len(g.Tags) == 0)
		g.Locked = m.locked
		g.AccessLevel, g.MaintenanceNote = m.accessLevel, Literal(m.maintNote)
		if m.paused != nil && *m.paused {
			g.Paused = m.paused
		}
		if m.maximumTimeout != nil && *m.maximumTimeout != 0 {
			g.MaximumTimeout = m.maximumTimeout
		}
	}
	return nil
}

// serverSettings names the server-side flags given with a non-default
// value, as ensureServerConfigArgsEmpty counts them.
func (m *regMapper) serverSettings() []string {
	var out []string
	if m.locked != nil && !*m.locked {
		out = append(out, "--locked=false")
	}
	if m.accessLevel != "" {
		out = append(out, "--access-level")
	}
	if m.runUntagged != nil && *m.runUntagged {
		out = append(out, "--run-untagged")
	}
	if m.maximumTimeout != nil && *m.maximumTimeout != 0 {
		out = append(out, "--maximum-timeout")
	}
	if m.paused != nil && *m.paused {
		out = append(out, "--paused")
	}
	if m.tagList != "" {
		out = append(out, "--tag-list")
	}
	if m.maintNote != "" {
		out = append(out, "--maintenance-note")
	}
	return out
}

func splitTags(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// executorTables are the [[runners]] sub-tables each executor reads;
// register drops the others' tables before it saves.
var executorTables = map[string][]string{
	"docker": {"docker"}, "docker-windows": {"docker"}, "docker+machine": {"docker", "machine"},
	"docker-autoscaler": {"docker", "autoscaler"}, "instance": {"autoscaler"}, "kubernetes": {"kubernetes"},
	"ssh": {"ssh"}, "parallels": {"parallels", "ssh"}, "virtualbox": {"virtualbox", "ssh"}, "custom": {"custom"},
	"shell": {},
}

func (m *regMapper) finish() {
	a := m.a
	exec := a.Runner.Executor
	if keep, known := executorTables[exec]; known {
		for _, t := range []string{"docker", "machine", "autoscaler", "kubernetes", "ssh", "parallels", "virtualbox", "custom", "instance"} {
			if _, ok := m.extra[t]; ok && !slices.Contains(keep, t) {
				delete(m.extra, t)
				m.in.Warnings = append(m.in.Warnings, FieldError{Field: "runners." + t, Warning: true,
					Problem: fmt.Sprintf("dropped: executor %q does not use [runners.%s] (gitlab-runner register drops it too)", exec, t)})
			}
		}
		if !UsesDocker(exec) && (a.Docker.Image != "" || a.Docker.Privileged != nil || a.Docker.Volumes != nil || a.Docker.PullPolicy != nil || a.Docker.Host != "" || a.Docker.Services != nil) {
			a.Docker = Docker{}
			m.in.Warnings = append(m.in.Warnings, FieldError{Field: "runners.docker", Warning: true,
				Problem: fmt.Sprintf("dropped: executor %q does not use [runners.docker] (gitlab-runner register drops it too)", exec)})
		}
	}
	m.cacheVolume()
	if len(m.extra) > 0 {
		a.Runner.Extra = m.extra
	}
}

// cacheVolume adds the cache volume as register's askDocker does (§1.6):
// to a docker runner's volumes, from flags, environment or template,
// unless one already targets it or the cache is disabled (docker-windows:
// always). No volumes at all are left to the new-runner default, which is
// that same list; with the cache disabled they are none, not the default.
func (m *regMapper) cacheVolume() {
	a := m.a
	exec := a.Runner.Executor
	if !UsesDocker(exec) {
		return
	}
	windows := exec == "docker-windows"
	cache := defaultVolumes(exec)[0]
	disabled, _ := getTreeValue(m.extra, []string{"docker", "disable_cache"})
	vols := a.Docker.Volumes
	has := slices.ContainsFunc(vols, func(v string) bool { return targetsCache(v) || strings.EqualFold(v, cache) })
	switch {
	case has:
	case windows || disabled != true:
		if vols != nil {
			a.Docker.Volumes = append(vols, cache)
		}
	case vols == nil:
		a.Docker.Volumes = []string{}
	}
}

// template merges --template-config as the runner does (values fill what
// flags and environment left empty; nested tables key by key; its token is
// blanked), except that keys runnerup does not manage are kept, not lost.
func (m *regMapper) template(path string, readFile func(string) ([]byte, error)) error {
	data, err := readFile(path)
	if err != nil {
		return &RegisterFlagError{Flag: "--template-config", Problem: fmt.Sprintf("reading %s: %v", path, unwrapPathError(err))}
	}
	tr, globals, err := render.TemplateRunner(data)
	if err != nil {
		return &RegisterFlagError{Flag: "--template-config", Problem: fmt.Sprintf("%s: %v", path, err),
			Fix: "the template needs exactly one [[runners]] entry, as gitlab-runner register requires"}
	}
	if problems := lintRunnerKeys(tr, "runners"); len(problems) > 0 {
		var msgs []string
		for _, p := range problems {
			msgs = append(msgs, p.String())
		}
		return &RegisterFlagError{Flag: "--template-config", Problem: fmt.Sprintf("%s has keys GitLab Runner does not take:\n  %s", filepath.Base(path), strings.Join(msgs, "\n  "))}
	}
	if len(globals) > 0 {
		m.in.Warnings = append(m.in.Warnings, FieldError{Field: "--template-config", Warning: true,
			Problem: fmt.Sprintf("%s sets %s outside [[runners]]: ignored, as gitlab-runner register ignores a template's global keys", filepath.Base(path), strings.Join(globals, ", ")),
			Fix:     "set them in config.toml itself (concurrent: [runner] concurrent in an answers file)"})
	}
	// The template's strings are literal, as its flags' are.
	walkTree(tr, "", func(_ string, s *string) { *s = Literal(*s) })
	m.a.Runner.template = data
	m.zeroOverrides(tr)
	a := m.a
	str := func(dst *string, key string) {
		if v, ok := tr[key].(string); ok && *dst == "" {
			*dst = v
		}
		delete(tr, key)
	}
	str(&a.GitLab.Name, "name")
	str(&a.GitLab.URL, "url")
	str(&a.GitLab.TLSCAFile, "tls-ca-file")
	str(&a.Runner.Executor, "executor")
	str(&a.Runner.Shell, "shell")
	for _, k := range []string{"token", "id", "token_obtained_at", "token_expires_at"} {
		delete(tr, k) // the runner blanks the template's token; the rest come from GitLab
	}
	if n, ok := tr["limit"].(int64); ok && a.Runner.Limit == nil {
		v := int(n)
		a.Runner.Limit = &v
	}
	delete(tr, "limit")
	if env := templateStringList(tr["environment"]); env != nil && a.Runner.Environment == nil {
		a.Runner.Environment = env
	}
	delete(tr, "environment")
	if d, ok := tr["docker"].(map[string]any); ok {
		if v, ok := d["image"].(string); ok && a.Docker.Image == "" {
			a.Docker.Image = v
		}
		if v, ok := d["host"].(string); ok && a.Docker.Host == "" {
			a.Docker.Host = v
		}
		if v, ok := d["privileged"].(bool); ok && a.Docker.Privileged == nil {
			a.Docker.Privileged = &v
		}
		if v := templateStringList(d["volumes"]); v != nil && a.Docker.Volumes == nil {
			a.Docker.Volumes = v
		}
		switch pp := d["pull_policy"].(type) {
		case string:
			if a.Docker.PullPolicy == nil {
				a.Docker.PullPolicy = StringOrList{pp}
			}
		case []any:
			if a.Docker.PullPolicy == nil {
				a.Docker.PullPolicy = StringOrList(templateStringList(pp))
			}
		}
		if svcs, ok := d["services"]; ok && a.Docker.Services == nil {
			a.Docker.Services = templateServices(svcs)
		}
		for _, k := range []string{"image", "host", "privileged", "volumes", "pull_policy", "services"} {
			delete(d, k)
		}
		if len(d) == 0 {
			delete(tr, "docker")
		}
	}
	mergeTree(m.extra, tr)
	return nil
}

// zeroOverrides warns where the command line or environment gave a false,
// 0 or empty value and the template another one: runnerup keeps what the
// command said, while gitlab-runner register (mergo.Merge of the template
// into the flags' config) would fill those zero values from the template.
func (m *regMapper) zeroOverrides(tr map[string]any) {
	warn := func(key string, flagValue, templateValue any) {
		m.in.Warnings = append(m.in.Warnings, FieldError{Field: key, Warning: true,
			Problem: fmt.Sprintf("%v from the command line (or environment) wins over the template's %v; gitlab-runner register would take the template's (it fills zero values from the template)", flagValue, templateValue),
			Fix:     "drop the flag to take the template's value"})
	}
	if p := m.a.Docker.Privileged; p != nil && !*p {
		if d, ok := tr["docker"].(map[string]any); ok && d["privileged"] == true {
			warn("runners.docker.privileged", false, true)
		}
	}
	if l := m.a.Runner.Limit; l != nil && *l == 0 {
		if n, ok := tr["limit"].(int64); ok && n != 0 {
			warn("runners.limit", 0, n)
		}
	}
	var walk func(dst, src map[string]any, path string)
	walk = func(dst, src map[string]any, path string) {
		for _, k := range slices.Sorted(maps.Keys(dst)) {
			sv, ok := src[k]
			if !ok {
				continue
			}
			if dm, isMap := dst[k].(map[string]any); isMap {
				if sm, ok := sv.(map[string]any); ok {
					walk(dm, sm, path+"."+k)
				}
				continue
			}
			if isZeroValue(dst[k]) && !isZeroValue(sv) {
				warn(path+"."+k, dst[k], sv)
			}
		}
	}
	walk(m.extra, tr, "runners")
}

func isZeroValue(v any) bool {
	switch v := v.(type) {
	case bool:
		return !v
	case int64:
		return v == 0
	case float64:
		return v == 0
	case string:
		return v == ""
	case []string:
		return len(v) == 0
	case []any:
		return len(v) == 0
	}
	return false
}

func templateStringList(v any) []string {
	arr, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func templateServices(v any) []Service {
	var out []Service
	list, _ := render.TableList(v)
	for _, e := range list {
		s := Service{Command: templateStringList(e["command"]), Entrypoint: templateStringList(e["entrypoint"]), Environment: templateStringList(e["environment"])}
		s.Name, _ = e["name"].(string)
		s.Alias, _ = e["alias"].(string)
		out = append(out, s)
	}
	return out
}
