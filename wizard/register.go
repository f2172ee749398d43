package wizard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/runnerup/runnerup/render"
)

// Where the register export expects things: the docker form keeps the
// runner's configuration in /srv/gitlab-runner/config on the host, as
// GitLab's docs for the gitlab/gitlab-runner image do.
const (
	registerTemplateFile   = "runnerup-register-template.toml"
	registerTemplateInImg  = "/tmp/" + registerTemplateFile
	registerDockerConfig   = "/srv/gitlab-runner/config"
	registerRunnerImage    = "gitlab/gitlab-runner"
	registerHeredocEnd     = "RUNNERUP_TEMPLATE"
	dockerAuthConfigEnvVar = "DOCKER_AUTH_CONFIG"
)

// RegisterExport is the `gitlab-runner register` equivalent of a set of
// answers: for users who want GitLab Runner's own command instead of
// runnerup apply. Secrets never appear in it: each is a shell variable
// ("$RUNNER_TOKEN") the user sets first.
type RegisterExport struct {
	// Command is `gitlab-runner register --non-interactive …`, one flag per
	// line with ` \` continuations, for a runner installed on the host.
	Command string
	// DockerCommand is the same registration run with the gitlab/gitlab-runner
	// image, its configuration directory (/srv/gitlab-runner/config, or the
	// directory of the answers' output.config_toml) mounted as /etc/gitlab-runner.
	DockerCommand string
	// Template is the --template-config TOML the commands reference (for
	// what register has no flag for: services); empty when not needed.
	Template string
	// TemplateFile is the file the commands expect Template in, relative
	// to the directory they run in; empty when Template is.
	TemplateFile string
	// DockerAuthConfig is a shell command that sets DOCKER_AUTH_CONFIG from
	// the password variables, for registries whose target is runner-env;
	// empty when there are none.
	DockerAuthConfig string
	// Vars are the shell variables the commands expect, in order.
	Vars []RegisterVar
	// Notes are what the answers ask for that register cannot do.
	Notes []string
}

// RegisterVar is one shell variable a RegisterExport reads.
type RegisterVar struct {
	Name string
	// Holds says what to put in it (a field path, never a value).
	Holds string
}

// RegisterCommands returns the `gitlab-runner register --non-interactive`
// command lines equivalent to a, which must be resolved and defaulted
// answers (Prepared.Resolved): the token's prefix decides between --token
// and --registration-token. Secrets become variables named as an answers
// file saved by runnerup names them (RUNNER_TOKEN, REGISTRY_PASSWORD_<HOST>).
func RegisterCommands(a *Answers) (RegisterExport, error) {
	return registerCommands(a, nil)
}

// RegisterCommands is the package's RegisterCommands for prepared answers:
// secrets the answers file reads with env:NAME keep that NAME.
func (p *Prepared) RegisterCommands() (RegisterExport, error) {
	return registerCommands(p.Resolved, p.Raw)
}

// flagLine is one `--flag value` argument line of a command.
type flagLine struct {
	flag  string
	value string // already shell-quoted; empty for a boolean flag
}

type registerBuilder struct {
	a, raw *Answers
	vars   []RegisterVar
	notes  []string
}

func registerCommands(a, raw *Answers) (RegisterExport, error) {
	if a == nil {
		return RegisterExport{}, errors.New("no answers")
	}
	// register makes a new runner: its defaults apply.
	a = a.Clone()
	a.applyNewRunnerDefaults()
	// The commands may run on another machine than this one (the docker
	// form mounts the CA file from where docker runs), so a CA file missing
	// here is register's problem there, not a reason to print nothing.
	blocking := slices.DeleteFunc(Blocking(a.Validate()), func(p FieldError) bool { return p.Field == "gitlab.tls_ca_file" })
	if len(blocking) > 0 {
		return RegisterExport{}, &ValidationError{Problems: blocking}
	}
	b := &registerBuilder{a: a, raw: raw}
	var exp RegisterExport
	flags := b.gitlabFlags()
	flags = append(flags, b.runnerFlags()...)
	if UsesDocker(a.Runner.Executor) {
		flags = append(flags, b.dockerFlags()...)
	}
	flags = append(flags, b.envFlags(&exp)...)
	if tmpl, err := b.template(); err != nil {
		return RegisterExport{}, err
	} else if tmpl != "" {
		exp.Template, exp.TemplateFile = tmpl, registerTemplateFile
	}
	b.globalNotes()

	host := append([]flagLine{}, flags...)
	if a.Output.ConfigTOML != "" {
		host = append([]flagLine{{"--config", shellQuote(a.Output.ConfigTOML)}}, host...)
	}
	inImage := append([]flagLine{}, flags...)
	if exp.Template != "" {
		host = append(host, flagLine{"--template-config", shellQuote(registerTemplateFile)})
		inImage = append(inImage, flagLine{"--template-config", registerTemplateInImg})
	}
	exp.Command = renderCommand([]string{"gitlab-runner register --non-interactive"}, host)

	head := []string{"docker run --rm", "-v " + shellQuote(dockerConfigDir(a.Output.ConfigTOML)+":/etc/gitlab-runner")}
	if exp.Template != "" {
		head = append(head, "-v "+`"$PWD/`+registerTemplateFile+`:`+registerTemplateInImg+`:ro"`)
	}
	if ca := a.GitLab.TLSCAFile; ca != "" {
		// The container sees the CA at the same absolute path as the host
		// (a relative path is taken from where docker runs).
		inCA := shellQuote(ca)
		if !filepath.IsAbs(ca) {
			inCA = `"$PWD"/` + shellQuote(ca)
			for i := range inImage {
				if inImage[i].flag == "--tls-ca-file" {
					inImage[i].value = inCA
				}
			}
		}
		head = append(head, "-v "+inCA+":"+inCA+":ro")
	}
	head = append(head, registerRunnerImage+" register --non-interactive")
	exp.DockerCommand = renderCommand(head, inImage)
	exp.Vars, exp.Notes = b.vars, b.notes
	return exp, nil
}

// dockerConfigDir is the host directory the docker form mounts as
// /etc/gitlab-runner: the answers' config.toml directory when they name a
// config.toml, else GitLab's documented /srv/gitlab-runner/config.
func dockerConfigDir(configTOML string) string {
	if filepath.IsAbs(configTOML) && filepath.Base(configTOML) == "config.toml" {
		return filepath.Dir(configTOML)
	}
	return registerDockerConfig
}

// renderCommand joins the command words and flags, one per line.
func renderCommand(head []string, flags []flagLine) string {
	lines := slices.Clone(head)
	for _, f := range flags {
		if f.value == "" {
			lines = append(lines, f.flag)
		} else {
			lines = append(lines, f.flag+" "+f.value)
		}
	}
	var sb strings.Builder
	for i, l := range lines {
		if i > 0 {
			sb.WriteString("  ")
		}
		sb.WriteString(l)
		if i < len(lines)-1 {
			sb.WriteString(" \\")
		}
		sb.WriteString("\n")
	}
	return sb.String()
}

// addVar records a variable the commands read and returns its name.
func (b *registerBuilder) addVar(name, holds string) string {
	if !slices.ContainsFunc(b.vars, func(v RegisterVar) bool { return v.Name == name }) {
		b.vars = append(b.vars, RegisterVar{Name: name, Holds: holds})
	}
	return name
}

// quotedVar is "$NAME": expanded by the shell, never split.
func quotedVar(name string) string { return `"$` + name + `"` }

// secretVar names the variable for a secret field: the answers file's own
// env:NAME when it has one, else the name runnerup suggests when it saves.
func (b *registerBuilder) secretVar(path string) string {
	if name := b.rawEnvRef(path); name != "" {
		return name
	}
	return suggestedEnvName(b.a, path)
}

func (b *registerBuilder) gitlabFlags() []flagLine {
	g := b.a.GitLab
	kind, _ := ClassifyToken(g.Token, g.TokenKind)
	flags := []flagLine{{"--url", shellQuote(g.URL)}}
	tokenVar := b.secretVar("gitlab.token")
	if kind == TokenAuthentication {
		flags = append(flags, flagLine{"--token", quotedVar(b.addVar(tokenVar, "gitlab.token (runner authentication token, glrt-…)"))})
		flags = append(flags, flagLine{"--name", shellQuote(g.Name)})
	} else {
		flags = append(flags, flagLine{"--registration-token", quotedVar(b.addVar(tokenVar, "gitlab.token (legacy registration token)"))})
		// --name and --description are one flag of register: the local
		// name is also the description GitLab shows.
		flags = append(flags, flagLine{"--name", shellQuote(g.Name)})
		if g.Description != "" && g.Description != g.Name {
			b.notes = append(b.notes, fmt.Sprintf(
				"gitlab.description %q: register's --description is the same flag as --name, so GitLab shows the name %q; change the description in GitLab's runner settings afterwards (runnerup apply sends it)",
				g.Description, g.Name))
		}
		if len(g.Tags) > 0 {
			flags = append(flags, flagLine{"--tag-list", shellQuote(strings.Join(g.Tags, ","))})
		}
		if g.RunUntagged != nil && *g.RunUntagged {
			flags = append(flags, flagLine{"--run-untagged", ""})
		}
		if !g.IsLocked() {
			flags = append(flags, flagLine{"--locked=false", ""})
		}
		if g.AccessLevel != "" {
			flags = append(flags, flagLine{"--access-level", shellQuote(g.AccessLevel)})
		}
		if g.MaintenanceNote != "" {
			flags = append(flags, flagLine{"--maintenance-note", shellQuote(g.MaintenanceNote)})
		}
	}
	if g.TLSCAFile != "" {
		flags = append(flags, flagLine{"--tls-ca-file", shellQuote(g.TLSCAFile)})
	}
	return flags
}

func (b *registerBuilder) runnerFlags() []flagLine {
	r := b.a.Runner
	flags := []flagLine{{"--executor", shellQuote(r.Executor)}}
	if r.Shell != "" {
		flags = append(flags, flagLine{"--shell", shellQuote(r.Shell)})
	}
	if r.Limit != nil && *r.Limit > 0 {
		flags = append(flags, flagLine{"--limit", strconv.Itoa(*r.Limit)})
	}
	switch {
	case r.Executor == "shell", UsesDocker(r.Executor):
	default:
		b.notes = append(b.notes, fmt.Sprintf("the %s executor needs settings of its own (register's executor-specific flags), which runnerup's answers do not hold", r.Executor))
	}
	return flags
}

func (b *registerBuilder) dockerFlags() []flagLine {
	d := b.a.Docker
	flags := []flagLine{{"--docker-image", shellQuote(d.Image)}}
	if d.IsPrivileged() {
		flags = append(flags, flagLine{"--docker-privileged", ""})
	}
	// register appends /cache unless a volume already targets it; runnerup
	// gives a new runner the same default, and writes a given list as is.
	vols := slices.Clone(d.Volumes)
	if vols == nil {
		vols = defaultVolumes(b.a.Runner.Executor)
	} else if b.a.Runner.Executor != "docker-windows" && !slices.ContainsFunc(vols, targetsCache) {
		b.notes = append(b.notes, "register appends a /cache volume to docker.volumes, which runnerup does not add to a list you give; remove it from config.toml afterwards if you do not want it")
	}
	if d.IsDinD() && !slices.Contains(vols, dindCertsVolume) {
		vols = append(vols, dindCertsVolume)
	}
	// One flag per volume: register does not split a value on commas.
	for _, v := range vols {
		flags = append(flags, flagLine{"--docker-volumes", shellQuote(v)})
	}
	if len(d.PullPolicy) > 0 {
		// register splits this one on commas into the list.
		flags = append(flags, flagLine{"--docker-pull-policy", shellQuote(strings.Join(d.PullPolicy, ","))})
	}
	if d.Host != "" {
		flags = append(flags, flagLine{"--docker-host", shellQuote(d.Host)})
	}
	return flags
}

// targetsCache reports whether a docker volume's container path is /cache.
func targetsCache(vol string) bool {
	parts := strings.Split(vol, ":")
	target := parts[0]
	if len(parts) > 1 {
		target = parts[1]
	}
	return strings.TrimRight(target, "/") == "/cache"
}

// envFlags are --env lines: the user's entries, the DinD wiring and
// DOCKER_AUTH_CONFIG (by variable, never by value).
func (b *registerBuilder) envFlags(exp *RegisterExport) []flagLine {
	var flags []flagLine
	for i, e := range b.a.Runner.Environment {
		key, _, _ := strings.Cut(e, "=")
		path := fmt.Sprintf("runner.environment[%d]", i)
		switch name := b.rawEnvRef(path); {
		case name != "":
			flags = append(flags, flagLine{"--env", quotedVar(b.addVar(name, path+" (KEY=VALUE)"))})
		case key == dockerAuthConfigEnvVar:
			flags = append(flags, flagLine{"--env", authConfigEnv(b.addVar(dockerAuthConfigEnvVar, path+" (Docker config.json JSON)"))})
		default:
			flags = append(flags, flagLine{"--env", shellQuote(e)})
		}
	}
	if b.a.Docker.IsDinD() && UsesDocker(b.a.Runner.Executor) {
		flags = append(flags, flagLine{"--env", shellQuote(dindCertDirEnv)})
	}
	if script := b.dockerAuthConfigScript(); script != "" {
		exp.DockerAuthConfig = script
		flags = append(flags, flagLine{"--env", authConfigEnv(b.addVar(dockerAuthConfigEnvVar, "the runner-env registries' credentials as Docker config.json JSON (built below)"))})
	}
	return flags
}

// authConfigEnv is the --env value "DOCKER_AUTH_CONFIG=$NAME".
func authConfigEnv(name string) string { return `"` + dockerAuthConfigEnvVar + `=$` + name + `"` }

// rawEnvRef is the NAME of an env:NAME reference the answers file has at
// path, or "".
func (b *registerBuilder) rawEnvRef(path string) string {
	if b.raw == nil {
		return ""
	}
	var ref string
	eachString(b.raw, func(p string, s *string) {
		if p == path {
			ref = *s
		}
	})
	if name, ok := strings.CutPrefix(ref, refEnv); ok && validEnvName(name) {
		return name
	}
	return ""
}

// dockerAuthConfigScript builds the shell command that sets
// DOCKER_AUTH_CONFIG for the registries whose target is runner-env: the
// same JSON render.DockerAuthConfig writes, with each password read from
// its variable and base64-encoded by the shell.
func (b *registerBuilder) dockerAuthConfigScript() string {
	type basic struct{ key, user, pwVar string }
	var (
		auths      []basic
		helpers    [][2]string
		credsStore string
	)
	for i, r := range b.a.Registries {
		if r.Target != TargetRunnerEnv {
			continue
		}
		key := RegistryKey(r.Host)
		switch r.Method {
		case MethodBasic:
			path := fmt.Sprintf("registries[%d].password", i)
			name := b.secretVar(path)
			b.addVar(name, path+" ("+r.Host+")")
			auths = append(auths, basic{key, r.Username, name})
		case MethodCredHelper:
			helpers = append(helpers, [2]string{key, r.Helper})
		case MethodCredsStore:
			credsStore = r.Helper
		}
	}
	if len(auths) == 0 && len(helpers) == 0 && credsStore == "" {
		return ""
	}
	// A printf format: the JSON with %s where each auth goes. Keys and
	// helper names are JSON-encoded, then escaped for printf.
	var format strings.Builder
	var args []string
	format.WriteString("{")
	sep := ""
	if len(auths) > 0 {
		format.WriteString(`"auths":{`)
		for i, a := range auths {
			if i > 0 {
				format.WriteString(",")
			}
			format.WriteString(jsonString(a.key) + `:{"auth":"%s"}`)
			args = append(args, fmt.Sprintf(`"$(printf '%%s:%%s' %s "$%s" | base64 | tr -d '\n')"`, shellQuote(a.user), a.pwVar))
		}
		format.WriteString("}")
		sep = ","
	}
	if len(helpers) > 0 {
		format.WriteString(sep + `"credHelpers":{`)
		for i, h := range helpers {
			if i > 0 {
				format.WriteString(",")
			}
			format.WriteString(printfEscape(jsonString(h[0]) + ":" + jsonString(h[1])))
		}
		format.WriteString("}")
		sep = ","
	}
	if credsStore != "" {
		format.WriteString(sep + `"credsStore":` + printfEscape(jsonString(credsStore)))
	}
	format.WriteString("}")
	cmd := "export " + dockerAuthConfigEnvVar + `="$(printf ` + shellQuote(format.String())
	for _, a := range args {
		cmd += " " + a
	}
	return cmd + `)"`
}

func jsonString(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(buf.String(), "\n")
}

// printfEscape makes s print as itself in a printf format.
func printfEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `%%`).Replace(s)
}

// Template types: only what register has no flag for. The template's
// token is blanked by register, so it gets none.
type registerTemplate struct {
	Runners []templateRunner `toml:"runners"`
}

type templateRunner struct {
	Name     string         `toml:"name"`
	URL      string         `toml:"url"`
	Executor string         `toml:"executor"`
	Docker   templateDocker `toml:"docker"`
}

type templateDocker struct {
	Image    string            `toml:"image,omitempty"`
	Services []templateService `toml:"services"`
}

// templateService is a [[runners.docker.services]] entry as config.toml
// spells it.
type templateService = render.Service

// template renders the --template-config file for the services: register
// has no --docker-services flag (docs/gitlab-runner.md §2.1).
func (b *registerBuilder) template() (string, error) {
	a := b.a
	if !UsesDocker(a.Runner.Executor) || len(a.Docker.Services) == 0 {
		return "", nil
	}
	r := templateRunner{Name: a.GitLab.Name, URL: a.GitLab.URL, Executor: a.Runner.Executor, Docker: templateDocker{Image: a.Docker.Image}}
	for _, s := range a.Docker.Services {
		r.Docker.Services = append(r.Docker.Services, templateService(s))
	}
	var buf bytes.Buffer
	buf.WriteString("# --template-config for gitlab-runner register: the services, which register has no flag for.\n")
	buf.WriteString("# Values given as flags on the command line win over the ones here. It holds no credentials.\n")
	if err := toml.NewEncoder(&buf).Encode(registerTemplate{Runners: []templateRunner{r}}); err != nil {
		return "", fmt.Errorf("encoding the register template: %w", err)
	}
	return buf.String(), nil
}

// globalNotes are the answers register cannot act on.
func (b *registerBuilder) globalNotes() {
	a := b.a
	if a.Runner.Concurrent != nil {
		b.notes = append(b.notes, fmt.Sprintf("concurrent = %d is a global setting register cannot set: edit it at the top of config.toml afterwards (runnerup apply sets it)", *a.Runner.Concurrent))
	}
	var hosts []string
	for _, r := range a.Registries {
		if r.Target == TargetDockerConfig && r.Method != MethodNone {
			hosts = append(hosts, r.Host)
		}
	}
	if len(hosts) > 0 {
		b.notes = append(b.notes, fmt.Sprintf(
			"registry credentials for %s go to Docker's config.json, which register never writes: run runnerup apply, or `docker login` as the user the runner runs as (root: /root/.docker/config.json)",
			strings.Join(hosts, ", ")))
	}
}

// Script is the whole export as `runnerup apply --print-register-command`
// prints it: the variables to set, notes, the template (as a heredoc that
// writes it) and both forms of the command.
func (e RegisterExport) Script() string {
	var sb strings.Builder
	sb.WriteString("# gitlab-runner register equivalent of these answers (printed by runnerup; nothing was contacted or written).\n")
	if len(e.Vars) > 0 {
		sb.WriteString("# No secret is printed: set these variables first:\n")
		width := 0
		for _, v := range e.Vars {
			width = max(width, len(v.Name))
		}
		for _, v := range e.Vars {
			fmt.Fprintf(&sb, "#   %-*s  %s\n", width, v.Name, v.Holds)
		}
	}
	if e.DockerAuthConfig != "" {
		sb.WriteString("# DOCKER_AUTH_CONFIG is Docker's config.json JSON for the runner-env registries; build it with:\n")
		sb.WriteString("#   " + e.DockerAuthConfig + "\n")
	}
	for _, n := range e.Notes {
		sb.WriteString("# Note: " + n + "\n")
	}
	if e.Template != "" {
		sb.WriteString("\n# register has no --docker-services flag: the services come from this --template-config file.\n")
		sb.WriteString("cat > " + shellQuote(e.TemplateFile) + " <<'" + registerHeredocEnd + "'\n")
		sb.WriteString(e.Template)
		sb.WriteString(registerHeredocEnd + "\n")
	}
	sb.WriteString("\n# On the host (as root for the gitlab-runner system service):\n")
	sb.WriteString(e.Command)
	sb.WriteString("\n# Or with the gitlab/gitlab-runner image (its configuration directory mounted as /etc/gitlab-runner):\n")
	sb.WriteString(e.DockerCommand)
	return sb.String()
}

// shellQuote quotes s for a POSIX shell: as it is when it has only
// characters no shell treats specially, else in single quotes.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !shellSafe(r) }) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shellSafe(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("-_./:=,@%+", r)
}
