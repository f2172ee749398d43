package tui

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"github.com/runnerup/runnerup/internal/runnerconf"
	"github.com/runnerup/runnerup/wizard"
)

// existingRunner is the part of a [[runners]] entry the wizard prefills
// from (internal/runnerconf decodes it). The token is read only so apply
// can match the entry; it is never shown and stays what it is on disk.
type existingRunner = runnerconf.Runner

type existingConfig = runnerconf.File

// filesNow is what the target files hold before the wizard changes them:
// the values unset answers amount to, and the credential helpers the
// registry step suggests.
type filesNow struct {
	concurrent *int // config.toml's global concurrent
	// credHelpers and credsStore are config.json's (keys as written).
	credHelpers map[string]string
	credsStore  string
	// authHosts are the keys of config.json's auths.
	authHosts []string
}

// existingMsg carries the runners of the config.toml at the target path,
// and what config.toml and config.json hold.
type existingMsg struct {
	path    string
	runners []existingRunner
	files   filesNow
	err     error
}

// readExisting reads the runners of a config.toml; a missing file has none.
func readExisting(path string) (existingConfig, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return existingConfig{}, nil
	}
	if err != nil {
		return existingConfig{}, fmt.Errorf("reading %s: %w", path, err)
	}
	cfg, err := runnerconf.Parse(data)
	if err != nil {
		return existingConfig{}, fmt.Errorf("%s: %w", path, err)
	}
	return *cfg, nil
}

// readDockerConfig reads what the wizard needs of a config.json: its
// credential helpers, its credsStore and the hosts it has auths for (no
// secret); an unreadable file has none (apply reports it).
func readDockerConfig(path string) (helpers map[string]string, store string, authHosts []string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", nil
	}
	var cfg struct {
		Auths       map[string]json.RawMessage `json:"auths"`
		CredHelpers map[string]string          `json:"credHelpers"`
		CredsStore  string                     `json:"credsStore"`
	}
	if json.Unmarshal(data, &cfg) != nil {
		return nil, "", nil
	}
	for k := range cfg.Auths {
		authHosts = append(authHosts, k)
	}
	return cfg.CredHelpers, cfg.CredsStore, authHosts
}

// loadExistingCmd reads config.toml and config.json in the background (the
// first frame never waits for a disk).
func loadExistingCmd(paths wizard.Paths) tea.Cmd {
	return func() tea.Msg {
		cfg, err := readExisting(paths.ConfigTOML)
		helpers, store, auths := readDockerConfig(filepath.Join(paths.DockerConfigDir, "config.json"))
		return existingMsg{path: paths.ConfigTOML, runners: cfg.Runners, err: err,
			files: filesNow{concurrent: cfg.Concurrent, credHelpers: helpers, credsStore: store, authHosts: auths}}
	}
}

// offerExisting says whether to ask "edit which runner?": there are
// runners, and the prefill does not already name one.
func offerExisting(o Options, runners []existingRunner) bool {
	return len(runners) > 0 && (o.Prefill == nil || o.Prefill.GitLab.Name == "")
}

const choiceNewRunner = "new"

// existingOptions are the choices of the "edit which runner" question.
func existingOptions(runners []existingRunner) []huh.Option[string] {
	opts := make([]huh.Option[string], 0, len(runners)+1)
	for i, r := range runners {
		label := fmt.Sprintf("Edit %q", r.Name)
		if details := strings.Join(nonEmpty(r.URL, r.Executor), ", "); details != "" {
			label += " (" + details + ")"
		}
		opts = append(opts, huh.NewOption(label, strconv.Itoa(i)))
	}
	return append(opts, huh.NewOption("Add a new runner", choiceNewRunner))
}

// buildExistingForm asks whether to edit one of the runners in config.toml
// or add a new one; the choice is a runner index or choiceNewRunner.
func buildExistingForm(path string, runners []existingRunner, current string) (*huh.Form, *string) {
	choice := current
	if choice == "" {
		choice = choiceNewRunner
		if len(runners) == 1 {
			choice = "0"
		}
	}
	f := newForm(huh.NewGroup(
		huh.NewSelect[string]().Key("existing").
			Title(fmt.Sprintf("%s has %d runner(s)", path, len(runners))).
			Description("Edit one of them (its token stays as it is on disk), or add a new runner.").
			Options(existingOptions(runners)...).
			Value(&choice),
	))
	return f, &choice
}

// prefillFromExisting overlays an existing runner on the answers: name,
// url, executor and the docker settings. The token is the one on disk, so
// apply matches the entry and keeps it.
func prefillFromExisting(a *wizard.Answers, r existingRunner) *wizard.Answers {
	out := a.Clone()
	out.GitLab.Name, out.GitLab.URL, out.GitLab.Token = r.Name, r.URL, r.Token
	if _, ambiguous := wizard.ClassifyToken(r.Token, ""); ambiguous && r.Token != "" {
		// Tokens GitLab issued at registration may be unprefixed; in
		// config.toml they are always authentication tokens.
		out.GitLab.TokenKind = string(wizard.TokenAuthentication)
	}
	if r.Executor != "" {
		out.Runner.Executor = r.Executor
	}
	out.Runner.Shell = r.Shell
	if r.Docker != nil {
		d := r.Docker
		out.Docker.Image = d.Image
		vols := slices.Clone(d.Volumes)
		// Privileged with the /certs/client volume is GitLab's TLS
		// Docker-in-Docker set-up, which the DinD choice writes.
		dind := d.Privileged && slices.Contains(vols, "/certs/client")
		if dind {
			vols = slices.DeleteFunc(vols, func(v string) bool { return v == "/certs/client" })
		}
		out.Docker.DinD, out.Docker.Privileged = new(dind), new(d.Privileged && !dind)
		out.Docker.Volumes = vols
		if len(vols) == 0 {
			out.Docker.Volumes = nil
		}
		out.Docker.PullPolicy = slices.Clone(d.PullPolicy)
		out.Docker.Services = nil
		for _, s := range d.Services {
			out.Docker.Services = append(out.Docker.Services, wizard.Service{
				Name: s.Name, Alias: s.Alias, Command: slices.Clone(s.Command), Entrypoint: slices.Clone(s.Entrypoint),
			})
		}
	}
	return out
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ---- the step ----

func (m *model) onExisting(msg existingMsg) tea.Cmd {
	m.existing = msg.runners
	m.files = msg.files
	if msg.err != nil {
		m.notice = "config.toml could not be read (" + msg.err.Error() + "); apply will stop on it"
	}
	if offerExisting(m.o, msg.runners) {
		m.existingOffered = true
		m.existingPath = msg.path
		m.existingForm, m.existingChoice = buildExistingForm(msg.path, msg.runners, "")
		return m.gotoStep(stepExisting)
	}
	return m.gotoStep(stepGitLab)
}

func (m *model) updateExisting(msg tea.Msg) tea.Cmd {
	f, cmd := m.existingForm.Update(msg)
	m.existingForm = f.(*huh.Form)
	if m.existingForm.State != huh.StateCompleted {
		return cmd
	}
	m.applyExistingChoice(*m.existingChoice)
	return m.gotoStep(stepGitLab)
}

// applyExistingChoice resets the answers to the start values plus the
// chosen runner (or none for a new runner).
func (m *model) applyExistingChoice(choice string) {
	if m.existingApplied && choice == m.existingAppliedChoice {
		return // back and forth keeps what the user typed since
	}
	m.existingApplied, m.existingAppliedChoice = true, choice
	a := m.o.startAnswers()
	if i, err := strconv.Atoi(choice); err == nil && i >= 0 && i < len(m.existing) {
		a = prefillFromExisting(a, m.existing[i])
		a.ApplyDefaults(m.o.Hostname)
	}
	m.answers = a
}
