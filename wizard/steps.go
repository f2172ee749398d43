package wizard

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/credentials"
	"github.com/runnerup/runnerup/probe/registry"
)

// The wizard's questions as data. The TUI turns each step into huh groups
// (fields with the same Group share a page) and accessible mode asks the
// same fields one line at a time, so both ask the same things in the same
// order with the same validation. Every validator is built on the checks
// Validate runs, so a value a field accepts is one apply accepts.

// StepID names a wizard step.
type StepID string

// The steps, in order.
const (
	StepGitLab     StepID = "gitlab"
	StepExecutor   StepID = "executor"
	StepServices   StepID = "services"
	StepRegistries StepID = "registries"
)

// FieldKind says how a field is asked.
type FieldKind int

const (
	// KindText is one line of text.
	KindText FieldKind = iota
	// KindSecret is one line of text that is never echoed.
	KindSecret
	// KindSelect is one of Options.
	KindSelect
	// KindConfirm is yes/no; its values are "true" and "false".
	KindConfirm
	// KindList is several values on one line, separated by Sep.
	KindList
	// KindTarget is where [gitlab.create] makes the runner: a project, a
	// group or the instance (values as CreateTargetValue writes them).
	// The TUI shows a picker that lists what GitLab offers while the user
	// types; plain prompts take the value as text.
	KindTarget
)

// Option is one choice of a KindSelect field.
type Option struct {
	Value string
	Label string // what the list shows
	Help  string // one line
	// HelpFor, when set, replaces Help with one that names the files
	// (the docker config directory actually chosen).
	HelpFor func(Context) string
}

// HelpIn is the option's help for c.
func (o Option) HelpIn(c Context) string {
	if o.HelpFor != nil {
		return o.HelpFor(c)
	}
	return o.Help
}

// Context is what the wizard knows about the files it is about to change,
// for the values fields show when their answers are unset.
type Context struct {
	// ExistingRunner: the runner is already in config.toml, so unset
	// answers keep its settings; false for a new runner.
	ExistingRunner bool
	// Concurrent is the global concurrent of config.toml (nil: absent,
	// or no file yet).
	Concurrent *int
	// DockerConfigDir is the directory config.json goes to.
	DockerConfigDir string
	// APITokenEnv names the glab variable (GITLAB_TOKEN, then
	// GITLAB_ACCESS_TOKEN) that holds an API token, "" when none does: an
	// empty gitlab.create.api_token means that one.
	APITokenEnv string
}

// Field is one question. Get and Set read and write the answer as a
// string (KindConfirm: "true"/"false"; KindList: values joined by Sep);
// Set(a, "") resets the answer to unset.
type Field struct {
	// Key is the answers-file path, e.g. gitlab.url or
	// docker.services[0].alias.
	Key string
	// Group: consecutive fields with the same Group are asked on one page.
	// Fields of one group share their Hide.
	Group  string
	Prompt string
	Help   string
	// Example is a sample answer, shown as "e.g. …" while the field is
	// empty; it is never an answer (Enter on an empty field gives "").
	Example string
	Kind    FieldKind
	Options []Option
	// Sep separates KindList values (default ",").
	Sep string
	// Default is what an unset answer amounts to: the value the runner
	// gets or keeps. It is shown as the value, and choosing it while the
	// answer is unset leaves it unset, so nothing is pinned that the
	// files already say. DefaultFor, when set, replaces it with a value
	// that depends on the files (an existing runner keeps its volumes).
	Default    string
	DefaultFor func(Context) string
	// Advanced fields hold settings most users keep: the wizard asks them
	// only when the step's advanced settings are shown, and lists them on
	// the review either way.
	Advanced bool
	// Label names the setting on the review ("" uses Prompt).
	Label string
	// Checks are the ids of the live checks about this field's answer,
	// so a failing one can be shown next to the field.
	Checks func(*Answers) []string
	// Validate rejects a value with an error naming the problem and the
	// fix; nil accepts anything. ValidateIn, when set, replaces it where
	// the context matters (an empty API token is fine when the
	// environment has one).
	Validate   func(string) error
	ValidateIn func(Context, string) error
	// Hide reports that the question does not apply to these answers.
	Hide func(*Answers) bool
	Get  func(*Answers) string
	Set  func(*Answers, string)
}

// Hidden reports whether f does not apply to a.
func (f Field) Hidden(a *Answers) bool { return f.Hide != nil && f.Hide(a) }

// Value is the current answer, or Default when it is unset.
func (f Field) Value(a *Answers) string { return f.ValueIn(a, Context{}) }

// ValueIn is the current answer, or what the unset answer amounts to in c.
func (f Field) ValueIn(a *Answers, c Context) string {
	if v := f.Get(a); v != "" {
		return v
	}
	return f.DefaultIn(c)
}

// DefaultIn is what an unset answer amounts to in c.
func (f Field) DefaultIn(c Context) string {
	if f.DefaultFor != nil {
		return f.DefaultFor(c)
	}
	return f.Default
}

// SetIn stores v, except that the default of an unset answer leaves it
// unset: "absent means untouched" holds for what the user merely kept.
func (f Field) SetIn(a *Answers, c Context, v string) {
	if f.Get(a) == "" && v == f.DefaultIn(c) {
		return
	}
	f.Set(a, v)
}

// Name is how the review names the setting.
func (f Field) Name() string {
	if f.Label != "" {
		return f.Label
	}
	return strings.TrimSuffix(strings.TrimSuffix(f.Prompt, " (optional)"), "?")
}

// CheckIDs are the live checks about the field's answer in a.
func (f Field) CheckIDs(a *Answers) []string {
	if f.Checks == nil {
		return nil
	}
	return f.Checks(a)
}

// Check runs the validator (nil accepts).
func (f Field) Check(v string) error { return f.CheckIn(Context{}, v) }

// CheckIn runs the validator in c (nil accepts).
func (f Field) CheckIn(c Context, v string) error {
	switch {
	case f.ValidateIn != nil:
		return f.ValidateIn(c, v)
	case f.Validate != nil:
		return f.Validate(v)
	}
	return nil
}

// Separator is the KindList separator.
func (f Field) Separator() string {
	if f.Sep == "" {
		return ","
	}
	return f.Sep
}

// Step is one page set of the wizard.
type Step struct {
	ID    StepID
	Title string
	Help  string
	// Fields are the step's questions (empty for item steps).
	Fields []Field
	// Count and Each describe item steps (services, registries): Count
	// entries, each asked with Each(i).
	Count func(*Answers) int
	Each  func(i int) []Field
	Hide  func(*Answers) bool
}

// Hidden reports whether the whole step does not apply to a.
func (s Step) Hidden(a *Answers) bool { return s.Hide != nil && s.Hide(a) }

// AllFields is every field of the step for a, items included.
func (s Step) AllFields(a *Answers) []Field {
	out := append([]Field(nil), s.Fields...)
	if s.Each != nil && s.Count != nil {
		for i := 0; i < s.Count(a); i++ {
			out = append(out, s.Each(i)...)
		}
	}
	return out
}

// Steps returns the wizard's steps in order.
func Steps() []Step {
	return []Step{
		{
			ID: StepGitLab, Title: "GitLab",
			Help:   "Where the runner registers, and with which token.",
			Fields: gitlabFields(),
		},
		{
			ID: StepExecutor, Title: "Executor",
			Help:   "How jobs run on this machine.",
			Fields: executorFields(),
		},
		{
			ID: StepServices, Title: "Services",
			Help:  "Service containers started next to every job (databases, docker:dind, …).",
			Count: func(a *Answers) int { return len(a.Docker.Services) },
			Each:  ServiceFields,
			Hide:  func(a *Answers) bool { return !UsesDocker(a.Runner.Executor) },
		},
		{
			ID: StepRegistries, Title: "Registry auth",
			Help:  "Credentials for the registries the job and service images come from.",
			Count: func(a *Answers) int { return len(a.Registries) },
			Each:  RegistryFields,
			Hide: func(a *Answers) bool {
				return !UsesDocker(a.Runner.Executor) || (len(NeededRegistries(a)) == 0 && len(a.Registries) == 0)
			},
		},
	}
}

// StepByID returns the step with the given id.
func StepByID(id StepID) (Step, bool) {
	for _, s := range Steps() {
		if s.ID == id {
			return s, true
		}
	}
	return Step{}, false
}

// ---- GitLab ----

func tokenKind(a *Answers) TokenKind {
	k, _ := ClassifyToken(a.GitLab.Token, a.GitLab.TokenKind)
	return k
}

// TokenAmbiguous reports that the token's prefix does not say its kind, so
// the wizard asks gitlab.token_kind. An env:/file: reference has no prefix
// to read either.
func TokenAmbiguous(a *Answers) bool {
	if a.GitLab.Token == "" {
		return false
	}
	_, amb := ClassifyToken(a.GitLab.Token, a.GitLab.TokenKind)
	return amb
}

// DescribeToken says in words what kind of token this is and what follows
// from it; "" for an empty token.
func DescribeToken(token, declared string) string {
	switch {
	case token == "":
		return ""
	case IsReference(token):
		return "read from " + token + " when applied; say below which kind of token it holds"
	case strings.HasPrefix(token, "glpat-"), strings.HasPrefix(token, "glcbt-"):
		return "not a runner token"
	}
	kind, amb := ClassifyToken(token, declared)
	switch {
	case !amb && kind == TokenAuthentication:
		return "authentication token (glrt-): tags and other runner settings live in GitLab"
	case !amb:
		return "legacy registration token: registers a new runner; its settings come next"
	case kind == TokenAuthentication:
		return "unprefixed token, declared an authentication token"
	default:
		return "unprefixed token: say below which kind it is"
	}
}

func registrationOnly(a *Answers) bool {
	return creates(a) || tokenKind(a) != TokenRegistration
}

// creates says the runner is created from the answers ([gitlab.create])
// instead of coming with a token the user pasted.
func creates(a *Answers) bool { return a.GitLab.Create != nil }

func gitlabFields() []Field {
	fields := []Field{
		{
			Key: "gitlab.url", Group: "gitlab", Kind: KindText,
			Prompt:  "GitLab URL",
			Label:   "GitLab URL",
			Help:    "The instance's base URL, as in your browser's address bar.",
			Example: "https://gitlab.example.com",
			Checks: func(*Answers) []string {
				return []string{probe.IDGitLabDNS, probe.IDGitLabTCP, probe.IDGitLabTLS, probe.IDGitLabAPI}
			},
			Validate: func(s string) error {
				if msg, fix, warn := CheckGitLabURL(strings.TrimSpace(s)); msg != "" && !warn {
					return fieldError("GitLab URL", msg, fix)
				}
				return nil
			},
			Get: func(a *Answers) string { return a.GitLab.URL },
			Set: func(a *Answers, v string) { a.GitLab.URL = strings.TrimSpace(v) },
		},
		{
			Key: "gitlab.create", Group: "gitlab", Kind: KindConfirm,
			Prompt: "Do you have a runner token?",
			Label:  "runner token at hand",
			Help:   "Yes: paste the glrt- token from GitLab. No: runnerup creates the runner in GitLab with your API token when it writes.",
			Get:    func(a *Answers) string { return strconv.FormatBool(!creates(a)) },
			Set: func(a *Answers, v string) {
				switch {
				case v == "false" && a.GitLab.Create == nil:
					a.GitLab.Create = &Create{}
				case v != "false":
					a.GitLab.Create = nil
				}
			},
		},
		{
			Key: "gitlab.token", Group: "token", Kind: KindSecret,
			Prompt:  "Runner token",
			Label:   "runner token",
			Help:    "glrt-… from GitLab › Settings › CI/CD › Runners › New runner, or a legacy registration token.",
			Example: "glrt-…",
			Checks:  func(*Answers) []string { return []string{probe.IDGitLabToken} },
			Hide:    creates,
			Validate: func(s string) error {
				if strings.TrimSpace(s) == "" {
					return errors.New("runner token is empty; paste the glrt- token from GitLab › Settings › CI/CD › Runners › New runner")
				}
				return firstProblem("Runner token", "gitlab.token", func(v *validator) { v.token(&GitLab{Token: s}) })
			},
			Get: func(a *Answers) string { return a.GitLab.Token },
			Set: func(a *Answers, v string) { a.GitLab.Token = v },
		},
		{
			Key: "gitlab.token_kind", Group: "token_kind", Kind: KindSelect,
			Prompt: "Token kind",
			Help:   "The token has no prefix that tells its kind.",
			Options: []Option{
				{Value: string(TokenRegistration), Label: "registration", Help: "a legacy registration token: registers a new runner"},
				{Value: string(TokenAuthentication), Label: "authentication", Help: "a runner authentication token created in GitLab"},
			},
			Default: string(TokenRegistration),
			Hide:    func(a *Answers) bool { return creates(a) || !TokenAmbiguous(a) },
			Get:     func(a *Answers) string { return a.GitLab.TokenKind },
			Set:     func(a *Answers, v string) { a.GitLab.TokenKind = v },
		},
		{
			Key: "gitlab.description", Group: "registration", Kind: KindText,
			Prompt: "Description",
			Label:  "description",
			Help:   "Shown in GitLab's runner list (default: the runner name).",
			Hide:   registrationOnly,
			Get:    func(a *Answers) string { return a.GitLab.Description },
			Set:    func(a *Answers, v string) { a.GitLab.Description = strings.TrimSpace(v) },
		},
		{
			Key: "gitlab.tags", Group: "registration", Kind: KindList,
			Prompt:  "Tags",
			Label:   "tags",
			Help:    "Comma-separated job tags this runner picks up.",
			Example: "docker, linux",
			Hide:    registrationOnly,
			Get:     func(a *Answers) string { return JoinList(a.GitLab.Tags, ",") },
			Set:     func(a *Answers, v string) { a.GitLab.Tags = SplitList(v, ",") },
		},
		{
			Key: "gitlab.run_untagged", Group: "registration", Kind: KindConfirm,
			Prompt: "Run untagged jobs?",
			Label:  "run untagged",
			Help:   "Without tags the runner always runs untagged jobs.",
			Hide:   registrationOnly,
			Get: func(a *Answers) string {
				return strconv.FormatBool(a.GitLab.RunUntagged != nil && *a.GitLab.RunUntagged)
			},
			Set: func(a *Answers, v string) {
				// false is the default: keep it unset so answers stay minimal.
				a.GitLab.RunUntagged = nil
				if v == "true" {
					a.GitLab.RunUntagged = new(true)
				}
			},
		},
		{
			Key: "gitlab.locked", Group: "registration2", Kind: KindConfirm,
			Prompt: "Lock to the current project?",
			Label:  "locked",
			Hide:   registrationOnly,
			Get:    func(a *Answers) string { return strconv.FormatBool(a.GitLab.IsLocked()) },
			Set: func(a *Answers, v string) {
				// Locked is the default: keep it unset so answers stay minimal.
				if v != "false" {
					a.GitLab.Locked = nil
					return
				}
				b := false
				a.GitLab.Locked = &b
			},
		},
		{
			Key: "gitlab.access_level", Group: "registration2", Kind: KindSelect,
			Prompt: "Access level",
			Options: []Option{
				{Value: "not_protected", Label: "not_protected", Help: "runs jobs from any branch"},
				{Value: "ref_protected", Label: "ref_protected", Help: "runs jobs from protected branches and tags only"},
			},
			Default: "not_protected",
			Hide:    registrationOnly,
			Get:     func(a *Answers) string { return a.GitLab.AccessLevel },
			Set:     func(a *Answers, v string) { a.GitLab.AccessLevel = v },
		},
		{
			Key: "gitlab.maintenance_note", Group: "registration2", Kind: KindText,
			Prompt: "Maintenance note",
			Label:  "maintenance note",
			Help:   "Free text for other maintainers (optional).",
			Hide:   registrationOnly,
			Get:    func(a *Answers) string { return a.GitLab.MaintenanceNote },
			Set:    func(a *Answers, v string) { a.GitLab.MaintenanceNote = strings.TrimSpace(v) },
		},
	}
	fields = append(fields, createFields()...)
	return append(fields,
		Field{
			Key: "gitlab.name", Group: "name", Kind: KindText, Advanced: true,
			Prompt: "Runner name",
			Label:  "runner name",
			Help:   "The [[runners]] name in config.toml; runnerup finds this runner by it next time.",
			Validate: func(s string) error {
				return firstProblem("Runner name", "gitlab.name", func(v *validator) { v.gitlab(&GitLab{Name: strings.TrimSpace(s)}) })
			},
			Get: func(a *Answers) string { return a.GitLab.Name },
			Set: func(a *Answers, v string) { a.GitLab.Name = strings.TrimSpace(v) },
		},
		Field{
			Key: "gitlab.tls_ca_file", Group: "name", Kind: KindText, Advanced: true,
			Prompt:  "TLS CA file (optional)",
			Label:   "TLS CA file",
			Help:    "PEM bundle that signed GitLab's certificate, for a private CA.",
			Example: "/etc/gitlab-runner/certs/gitlab.example.com.crt",
			Checks:  func(*Answers) []string { return []string{probe.IDGitLabTLS} },
			Validate: func(s string) error {
				if strings.ContainsAny(s, "\n\r") {
					return errors.New("TLS CA file must be a single path")
				}
				return nil
			},
			Get: func(a *Answers) string { return a.GitLab.TLSCAFile },
			Set: func(a *Answers, v string) { a.GitLab.TLSCAFile = strings.TrimSpace(v) },
		},
	)
}

// ---- Executor ----

// ExecutorHelp is a one-line description of each executor.
var ExecutorHelp = map[string]string{
	"shell":             "jobs run directly on this host, as the runner's user",
	"ssh":               "jobs run on another machine over SSH",
	"parallels":         "jobs run in Parallels VMs (macOS)",
	"virtualbox":        "jobs run in VirtualBox VMs",
	"docker":            "jobs run in Docker containers on this host (recommended)",
	"docker-windows":    "jobs run in Windows containers",
	"docker+machine":    "autoscaled Docker hosts via Docker Machine (deprecated)",
	"docker-autoscaler": "autoscaled Docker hosts via a fleeting plugin",
	"instance":          "autoscaled VMs via a fleeting plugin; jobs run on the VM",
	"kubernetes":        "jobs run as pods in a Kubernetes cluster",
	"custom":            "jobs run through your own driver scripts",
}

func noDocker(a *Answers) bool { return !UsesDocker(a.Runner.Executor) }

// Privileged modes of the docker.privileged field.
const (
	PrivilegedOff  = "off"
	PrivilegedDinD = "dind"
	PrivilegedOn   = "privileged"
)

func executorFields() []Field {
	executors := make([]Option, 0, len(Executors))
	for _, e := range Executors {
		executors = append(executors, Option{Value: e, Label: e, Help: ExecutorHelp[e]})
	}
	shells := make([]Option, 0, len(Shells))
	for _, s := range Shells {
		shells = append(shells, Option{Value: s, Label: s})
	}
	return []Field{
		{
			Key: "runner.executor", Group: "executor", Kind: KindSelect,
			Prompt:  "Executor",
			Label:   "executor",
			Help:    "How the runner runs each job.",
			Options: executors,
			Default: "docker",
			Validate: func(s string) error {
				return firstProblem("Executor", "runner.executor", func(v *validator) { v.runner(&Runner{Executor: s}) })
			},
			Get: func(a *Answers) string { return a.Runner.Executor },
			Set: func(a *Answers, v string) { a.Runner.Executor = v },
		},
		{
			Key: "runner.shell", Group: "shell", Kind: KindSelect,
			Prompt:  "Shell",
			Label:   "shell",
			Help:    "The shell the job script runs in.",
			Options: shells,
			Default: "bash",
			Hide:    func(a *Answers) bool { return a.Runner.Executor != "shell" },
			Get:     func(a *Answers) string { return a.Runner.Shell },
			Set:     func(a *Answers, v string) { a.Runner.Shell = v },
		},
		{
			Key: "docker.image", Group: "docker", Kind: KindText,
			Prompt:  "Default image",
			Label:   "default image",
			Help:    "Used by jobs that do not name an image; checked live (manifest and platform).",
			Example: "alpine:3.20",
			Validate: func(s string) error {
				if msg, fix := CheckImage(strings.TrimSpace(s)); msg != "" {
					if strings.TrimSpace(s) == "" {
						fix = "give the image jobs run in, e.g. alpine:3.20"
					}
					return fieldError("Image", msg, fix)
				}
				return nil
			},
			Checks: func(a *Answers) []string { return imageChecks(a.Docker.Image) },
			Hide:   noDocker,
			Get:    func(a *Answers) string { return a.Docker.Image },
			Set:    func(a *Answers, v string) { a.Docker.Image = strings.TrimSpace(v) },
		},
		{
			Key: "docker.privileged", Group: "docker-advanced", Kind: KindSelect, Advanced: true,
			Prompt: "Privileged containers",
			Label:  "privileged",
			Help:   "Privileged job containers can do anything root on this host can. Docker-in-Docker needs it; runnerup then also mounts /certs/client and sets DOCKER_TLS_CERTDIR=/certs so jobs reach the docker:dind service over TLS.",
			Options: []Option{
				{Value: PrivilegedOff, Label: "off", Help: "not privileged (safe default)"},
				{Value: PrivilegedDinD, Label: "Docker-in-Docker", Help: "privileged + TLS wiring for the docker:dind service"},
				{Value: PrivilegedOn, Label: "on", Help: "privileged, without the DinD wiring"},
			},
			Default: PrivilegedOff,
			Hide:    noDocker,
			Get: func(a *Answers) string {
				switch {
				case a.Docker.IsDinD():
					return PrivilegedDinD
				case a.Docker.IsPrivileged():
					return PrivilegedOn
				}
				return ""
			},
			Set: func(a *Answers, v string) {
				// A choice is explicit (off writes privileged = false over an
				// existing runner's true); cleared ("") is absent.
				a.Docker.DinD, a.Docker.Privileged = nil, nil
				switch v {
				case PrivilegedDinD:
					a.Docker.DinD = new(true)
				case PrivilegedOn:
					a.Docker.Privileged = new(true)
				case PrivilegedOff:
					a.Docker.Privileged = new(false)
				}
			},
		},
		{
			Key: "docker.volumes", Group: "docker-advanced", Kind: KindList, Advanced: true,
			Prompt:  "Volumes",
			Label:   "volumes",
			Help:    "Comma-separated, as docker run -v. A new runner gets /cache; an existing one keeps its list.",
			Example: "/cache, /var/run/docker.sock:/var/run/docker.sock",
			// A new runner gets /cache; an existing one keeps its list
			// (prefilled from config.toml).
			DefaultFor: func(c Context) string {
				if c.ExistingRunner {
					return ""
				}
				return "/cache"
			},
			Validate: func(s string) error {
				for _, vol := range SplitList(s, ",") {
					if windowsPath(vol) {
						continue
					}
					if msg := checkVolume(vol); msg != "" {
						return fieldError("Volume", msg, `use "/path", "/host:/container[:ro|rw]" or "volume:/container"`)
					}
				}
				return nil
			},
			Hide: noDocker,
			Get:  func(a *Answers) string { return JoinList(a.Docker.Volumes, ",") },
			Set:  func(a *Answers, v string) { a.Docker.Volumes = SplitList(v, ",") },
		},
		{
			Key: "docker.pull_policy", Group: "docker-advanced2", Kind: KindSelect, Advanced: true,
			Prompt: "Pull policy",
			Label:  "pull policy",
			Help:   "When the runner pulls job and service images.",
			Options: []Option{
				{Value: "", Label: "default", Help: "the runner's default (always)"},
				{Value: "always", Label: "always", Help: "pull every time (fresh, costs rate limit)"},
				{Value: "if-not-present", Label: "if-not-present", Help: "use a local copy when there is one"},
				{Value: "never", Label: "never", Help: "only local images"},
			},
			Validate: func(s string) error {
				for _, p := range SplitList(s, ",") {
					if !slices.Contains(PullPolicies, p) {
						return fieldError("Pull policy", fmt.Sprintf("%q is not a pull policy", p), "use always, if-not-present or never")
					}
				}
				return nil
			},
			Hide: noDocker,
			Get:  func(a *Answers) string { return JoinList(a.Docker.PullPolicy, ",") },
			Set:  func(a *Answers, v string) { a.Docker.PullPolicy = StringOrList(SplitList(v, ",")) },
		},
		{
			Key: "runner.concurrent", Group: "global", Kind: KindText, Advanced: true,
			Prompt:  "Concurrent jobs (global)",
			Label:   "concurrent",
			Help:    "How many jobs all runners in config.toml run at once.",
			Example: "4",
			// What config.toml holds, or 1 (a new file, or the runner's
			// default when the key is absent).
			DefaultFor: func(c Context) string {
				if c.Concurrent != nil {
					return strconv.Itoa(*c.Concurrent)
				}
				return "1"
			},
			Validate: func(s string) error {
				s = strings.TrimSpace(s)
				if s == "" {
					return nil
				}
				n, err := strconv.Atoi(s)
				if err != nil {
					return fieldError("Concurrent", fmt.Sprintf("%q is not a number", s), "give a whole number such as 4, or leave it empty")
				}
				return firstProblem("Concurrent", "runner.concurrent", func(v *validator) { v.runner(&Runner{Executor: "shell", Concurrent: &n}) })
			},
			Get: func(a *Answers) string {
				if a.Runner.Concurrent == nil {
					return ""
				}
				return strconv.Itoa(*a.Runner.Concurrent)
			},
			Set: func(a *Answers, v string) {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil {
					a.Runner.Concurrent = nil
					return
				}
				a.Runner.Concurrent = &n
			},
		},
	}
}

// imageChecks are the live checks about one image reference.
func imageChecks(ref string) []string {
	if ref == "" || IsReference(ref) {
		return nil
	}
	return []string{registry.ManifestID(ref), registry.PlatformID(ref)}
}

// windowsPath recognises docker-windows volume syntax (c:\cache), which
// the Unix volume check does not apply to.
var windowsPathRE = regexp.MustCompile(`^[A-Za-z]:[\\/]`)

func windowsPath(s string) bool { return windowsPathRE.MatchString(s) || strings.Contains(s, `\`) }

// ---- Services ----

// ServiceFields are the questions for docker.services[i]. The fields in
// Group "service-advanced" (command, entrypoint, environment) are optional.
func ServiceFields(i int) []Field {
	svc := func(a *Answers) *Service {
		for len(a.Docker.Services) <= i {
			a.Docker.Services = append(a.Docker.Services, Service{})
		}
		return &a.Docker.Services[i]
	}
	get := func(a *Answers) *Service {
		if i < len(a.Docker.Services) {
			return &a.Docker.Services[i]
		}
		return &Service{}
	}
	key := func(k string) string { return fmt.Sprintf("docker.services[%d].%s", i, k) }
	return []Field{
		{
			Key: key("name"), Group: "service", Kind: KindText,
			Prompt:  "Service image",
			Label:   "image",
			Help:    "Started next to every job; checked live like the job image.",
			Example: "postgres:16",
			Checks:  func(a *Answers) []string { return imageChecks(get(a).Name) },
			Validate: func(s string) error {
				if msg, fix := CheckImage(strings.TrimSpace(s)); msg != "" {
					if strings.TrimSpace(s) == "" {
						fix = "give the service image, e.g. postgres:16"
					}
					return fieldError("Service image", msg, fix)
				}
				return nil
			},
			Get: func(a *Answers) string { return get(a).Name },
			Set: func(a *Answers, v string) { svc(a).Name = strings.TrimSpace(v) },
		},
		{
			Key: key("alias"), Group: "service", Kind: KindText,
			Prompt:  "Alias (optional)",
			Label:   "alias",
			Help:    "Host name jobs reach the service by; empty: derived from the image name.",
			Example: "db",
			Validate: func(s string) error {
				for _, alias := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }) {
					if !hostLabelRE.MatchString(alias) {
						return fieldError("Alias", fmt.Sprintf("%q is not a valid host name for the service", alias), "use lower-case letters, digits and '-' (e.g. db)")
					}
				}
				return nil
			},
			Get: func(a *Answers) string { return get(a).Alias },
			Set: func(a *Answers, v string) { svc(a).Alias = strings.TrimSpace(v) },
		},
		{
			Key: key("command"), Group: "service-advanced", Kind: KindList, Sep: " ", Advanced: true,
			Prompt:  "Command (optional)",
			Label:   "command",
			Help:    "Arguments replacing the image's CMD, separated by spaces.",
			Example: "--insecure-registry registry.local:5000",
			Get:     func(a *Answers) string { return JoinList(get(a).Command, " ") },
			Set:     func(a *Answers, v string) { svc(a).Command = SplitList(v, " ") },
		},
		{
			Key: key("entrypoint"), Group: "service-advanced", Kind: KindList, Sep: " ", Advanced: true,
			Prompt: "Entrypoint (optional)",
			Label:  "entrypoint",
			Help:   "Replaces the image's ENTRYPOINT, separated by spaces.",
			Get:    func(a *Answers) string { return JoinList(get(a).Entrypoint, " ") },
			Set:    func(a *Answers, v string) { svc(a).Entrypoint = SplitList(v, " ") },
		},
		{
			Key: key("environment"), Group: "service-advanced", Kind: KindList, Sep: ";", Advanced: true,
			Prompt:  "Environment (optional)",
			Help:    "KEY=VALUE entries separated by ';'.",
			Example: "POSTGRES_PASSWORD=ci; POSTGRES_DB=test",
			Validate: func(s string) error {
				return firstProblemPrefix("Environment", "x.environment", func(v *validator) { v.envList("x.environment", SplitList(s, ";")) })
			},
			Get: func(a *Answers) string { return JoinList(get(a).Environment, ";") },
			Set: func(a *Answers, v string) { svc(a).Environment = SplitList(v, ";") },
		},
	}
}

// ---- Registries ----

// RegistryMethodHelp is a one-line description of each method.
var RegistryMethodHelp = map[string]string{
	MethodNone:       "no credentials (public images, CI_JOB_TOKEN pulls)",
	MethodBasic:      "username and password (or access token)",
	MethodCredHelper: "a docker-credential-<name> helper for this host",
	MethodCredsStore: "one helper (credsStore) for every registry",
}

// RegistryTargetHelp says where each target puts the credentials.
var RegistryTargetHelp = map[string]string{
	TargetDockerConfig: "config.json of the runner's user ($HOME/.docker)",
	TargetRunnerEnv:    "DOCKER_AUTH_CONFIG in the runner's environment",
}

// targetHelpFor names the directory config.json really goes to.
func targetHelpFor(target string) func(Context) string {
	return func(c Context) string {
		if target == TargetDockerConfig && c.DockerConfigDir != "" {
			return "config.json in " + c.DockerConfigDir
		}
		return RegistryTargetHelp[target]
	}
}

// RegistryFields are the questions for registries[i]; the host itself is
// derived from the images (NeededRegistries), not asked.
func RegistryFields(i int) []Field {
	reg := func(a *Answers) *Registry {
		for len(a.Registries) <= i {
			a.Registries = append(a.Registries, Registry{Method: MethodNone, Target: TargetDockerConfig})
		}
		return &a.Registries[i]
	}
	get := func(a *Answers) Registry {
		if i < len(a.Registries) {
			return a.Registries[i]
		}
		return Registry{}
	}
	key := func(k string) string { return fmt.Sprintf("registries[%d].%s", i, k) }
	methods := make([]Option, 0, len(Methods))
	for _, m := range []string{MethodNone, MethodBasic, MethodCredHelper, MethodCredsStore} {
		methods = append(methods, Option{Value: m, Label: m, Help: RegistryMethodHelp[m]})
	}
	targets := make([]Option, 0, len(Targets))
	for _, t := range Targets {
		targets = append(targets, Option{Value: t, Label: t, Help: RegistryTargetHelp[t], HelpFor: targetHelpFor(t)})
	}
	method := func(a *Answers) string { return get(a).Method }
	checks := func(a *Answers) []string {
		h := get(a).Host
		if h == "" {
			return nil
		}
		return []string{credentials.CheckID(h), registry.AuthID(h)}
	}
	return []Field{
		{
			Key: key("method"), Group: "method", Kind: KindSelect,
			Prompt:  "Authentication",
			Label:   "authentication",
			Help:    "How pulls from this registry authenticate.",
			Options: methods,
			Default: MethodNone,
			Checks:  checks,
			Get:     method,
			Set:     func(a *Answers, v string) { reg(a).Method = v },
		},
		{
			Key: key("username"), Group: "basic", Kind: KindText,
			Prompt: "Username",
			Label:  "username",
			Validate: func(s string) error {
				return firstProblem("Username", "registries[0].username", func(v *validator) {
					v.registries(&Answers{Registries: []Registry{{Host: "registry.invalid", Method: MethodBasic, Username: s, Password: "x", Target: TargetDockerConfig}}})
				})
			},
			Checks: checks,
			Hide:   func(a *Answers) bool { return method(a) != MethodBasic },
			Get:    func(a *Answers) string { return get(a).Username },
			Set:    func(a *Answers, v string) { reg(a).Username = strings.TrimSpace(v) },
		},
		{
			Key: key("password"), Group: "basic", Kind: KindSecret,
			Prompt: "Password or token",
			Label:  "password",
			Help:   "Checked live against the registry; saved answers get an env: reference instead.",
			Validate: func(s string) error {
				return firstProblem("Password", "registries[0].password", func(v *validator) {
					v.registries(&Answers{Registries: []Registry{{Host: "registry.invalid", Method: MethodBasic, Username: "x", Password: s, Target: TargetDockerConfig}}})
				})
			},
			Checks: checks,
			Hide:   func(a *Answers) bool { return method(a) != MethodBasic },
			Get:    func(a *Answers) string { return get(a).Password },
			Set:    func(a *Answers, v string) { reg(a).Password = v },
		},
		{
			Key: key("helper"), Group: "helper", Kind: KindText,
			Prompt:  "Helper name",
			Label:   "helper",
			Help:    "NAME of docker-credential-NAME, installed on the PATH of the runner's service.",
			Example: "ecr-login",
			Checks: func(a *Answers) []string {
				ids := checks(a)
				if h := get(a).Helper; h != "" {
					ids = append(ids, credentials.HelperCheckID(h))
				}
				return ids
			},
			Validate: func(s string) error {
				return firstProblem("Helper", "registries[0].helper", func(v *validator) {
					v.registries(&Answers{Registries: []Registry{{Host: "registry.invalid", Method: MethodCredHelper, Helper: strings.TrimSpace(s), Target: TargetDockerConfig}}})
				})
			},
			Hide: func(a *Answers) bool { m := method(a); return m != MethodCredHelper && m != MethodCredsStore },
			Get:  func(a *Answers) string { return get(a).Helper },
			Set:  func(a *Answers, v string) { reg(a).Helper = strings.TrimSpace(v) },
		},
		{
			Key: key("target"), Group: "target", Kind: KindSelect, Advanced: true,
			Prompt:  "Where the credentials go",
			Label:   "credentials go to",
			Options: targets,
			Default: TargetDockerConfig,
			Hide:    func(a *Answers) bool { return method(a) == MethodNone || method(a) == "" },
			Get:     func(a *Answers) string { return get(a).Target },
			Set:     func(a *Answers, v string) { reg(a).Target = v },
		},
	}
}

// NeededRegistries lists the registry hosts the job and service images
// come from, in image order, each once (Docker Hub as docker.io).
func NeededRegistries(a *Answers) []string {
	var out []string
	seen := map[string]bool{}
	for _, img := range a.Images() {
		if IsReference(img) {
			continue
		}
		h, err := ImageRegistry(img)
		if err != nil {
			continue
		}
		if k := RegistryKey(h); !seen[k] {
			seen[k] = true
			out = append(out, h)
		}
	}
	return out
}

// SyncRegistries makes a.Registries list every registry the images need
// (new ones with method none), keeps entries the user configured, and
// drops method-none entries no image needs any more. Needed hosts come
// first, in image order.
func SyncRegistries(a *Answers) {
	byKey := map[string]Registry{}
	var order []string
	for _, r := range a.Registries {
		k := RegistryKey(r.Host)
		if _, dup := byKey[k]; !dup {
			order = append(order, k)
		}
		byKey[k] = r
	}
	var out []Registry
	used := map[string]bool{}
	for _, h := range NeededRegistries(a) {
		k := RegistryKey(h)
		used[k] = true
		if r, ok := byKey[k]; ok {
			out = append(out, r)
			continue
		}
		out = append(out, Registry{Host: h, Method: MethodNone, Target: TargetDockerConfig})
	}
	for _, k := range order {
		r := byKey[k]
		if used[k] || r.Method == MethodNone || r.Method == "" {
			continue
		}
		out = append(out, r)
	}
	a.Registries = out
}

// PruneHidden clears the answers to questions that do not apply (a
// registration-only field with an authentication token, a password with
// method cred-helper, docker settings and registry credentials for the
// shell executor, …) and drops registries with method none, which write
// nothing. The wizard calls it before preparing answers, so what it shows,
// plans and saves is exactly what apply uses. It returns one note per
// answer given on a step that no longer applies, for the user to read.
func PruneHidden(a *Answers) (notes []string) {
	// Decide what is hidden first: clearing one answer (token_kind) must
	// not change which other questions count as asked.
	image, services := a.Docker.Image, len(a.Docker.Services)
	var clear []Field
	servicesHidden, registriesHidden := false, false
	for _, s := range Steps() {
		switch {
		case s.ID == StepServices && s.Hidden(a):
			servicesHidden = true
		case s.ID == StepRegistries && !UsesDocker(a.Runner.Executor):
			// Hidden because of the executor (not merely because no image
			// needs a registry): no pull goes through these credentials.
			registriesHidden = true
		}
		for _, f := range s.AllFields(a) {
			if f.Hidden(a) && f.Get(a) != "" {
				clear = append(clear, f)
			}
		}
	}
	for _, f := range clear {
		f.Set(a, "")
	}
	exec := a.Runner.Executor
	if servicesHidden && services > 0 {
		notes = append(notes, fmt.Sprintf("%d service(s): the %s executor starts no service containers", services, exec))
	}
	if servicesHidden {
		a.Docker.Services = nil
	}
	if !UsesDocker(exec) {
		if image != "" {
			notes = append(notes, fmt.Sprintf("docker settings (image %s): the %s executor does not run jobs in containers", image, exec))
		}
		a.Docker = Docker{}
	}
	var regs []Registry
	for _, r := range a.Registries {
		if r.Method == MethodNone || r.Method == "" {
			continue
		}
		if registriesHidden {
			notes = append(notes, fmt.Sprintf("credentials for %s (%s): the %s executor pulls no images through them; no config.json is written", r.Host, r.Method, exec))
			continue
		}
		regs = append(regs, r)
	}
	a.Registries = regs
	return notes
}

// ---- helpers ----

// SplitList splits a one-line list; sep " " splits on any white space.
// Empty items are dropped; no items gives nil.
func SplitList(s, sep string) []string {
	var parts []string
	if sep == " " {
		parts = strings.Fields(s)
	} else {
		parts = strings.Split(s, sep)
	}
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// JoinList is the inverse of SplitList (", " for commas, "; " for ';').
func JoinList(items []string, sep string) string {
	switch sep {
	case ",":
		return strings.Join(items, ", ")
	case ";":
		return strings.Join(items, "; ")
	}
	return strings.Join(items, sep)
}

func fieldError(subject, problem, fix string) error {
	msg := subject + " " + problem
	if fix != "" {
		msg += "; " + fix
	}
	return errors.New(msg)
}

// firstProblem runs a validator part and returns its first blocking
// problem for field, phrased for the wizard.
func firstProblem(subject, field string, run func(v *validator)) error {
	v := &validator{}
	run(v)
	for _, p := range v.problems {
		if p.Field == field && !p.Warning {
			return fieldError(subject, p.Problem, p.Fix)
		}
	}
	return nil
}

// firstProblemPrefix is firstProblem for list fields whose problems carry
// an index (x.environment[2]).
func firstProblemPrefix(subject, prefix string, run func(v *validator)) error {
	v := &validator{}
	run(v)
	for _, p := range v.problems {
		if strings.HasPrefix(p.Field, prefix) && !p.Warning {
			return fieldError(subject, p.Problem, p.Fix)
		}
	}
	return nil
}
