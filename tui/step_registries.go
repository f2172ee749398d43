package tui

import (
	"fmt"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"github.com/runnerup/runnerup/internal/imageref"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/registry"
	"github.com/runnerup/runnerup/wizard"
)

// buildRegistriesForm asks, for every registry in b.a.Registries (see
// wizard.SyncRegistries), how pulls authenticate and (advanced) where the
// credentials go.
func buildRegistriesForm(b formBuilder, asked []int) (*huh.Form, *wizard.Answers) {
	a := b.a
	var groups []*huh.Group
	for n, i := range asked {
		host := a.Registries[i].Host
		groups = append(groups, b.groups(wizard.RegistryFields(i), func(first wizard.Field) string {
			return registryTitle(n, len(asked), host)
		})...)
	}
	return newForm(groups...), a
}

// askedRegistries are the indexes of a.Registries the registry step asks
// about (see askRegistry), with what the files and the checks say now.
func (m *model) askedRegistries(a *wizard.Answers) []int {
	return askedRegistries(a, m.files, m.probes.results)
}

// askedRegistries is (*model).askedRegistries for the given files and
// check results (the accessible UI asks before any check ran).
func askedRegistries(a *wizard.Answers, files filesNow, results []probe.Result) []int {
	var out []int
	for i, r := range a.Registries {
		if askRegistry(r, a, files, results) {
			out = append(out, i)
		}
	}
	return out
}

// askRegistry says whether the registry step asks how pulls from reg
// authenticate. Every registry is asked except Docker Hub while nothing
// calls for credentials there: it serves public images to anyone, so the
// usual service (postgres, redis) would cost an optional question. Docker
// Hub is asked when a method is already chosen for it, config.json has
// credentials for it, or a check about it failed for a reason a login
// fixes (a 401, access denied, the anonymous rate limit). The decision
// needs no network: a Docker Hub not checked yet, or not reachable, asks
// nothing.
func askRegistry(reg wizard.Registry, a *wizard.Answers, files filesNow, results []probe.Result) bool {
	if !imageref.IsDockerHub(reg.Host) || (reg.Method != wizard.MethodNone && reg.Method != "") {
		return true
	}
	key := wizard.RegistryKey(reg.Host)
	for _, h := range files.authHosts {
		if wizard.RegistryKey(h) == key {
			return true
		}
	}
	for h, helper := range files.credHelpers {
		if wizard.RegistryKey(h) == key && helper != "" {
			return true
		}
	}
	ids := []string{registry.AuthID(reg.Host)}
	for _, img := range a.Images() {
		if h, err := wizard.ImageRegistry(img); err == nil && wizard.RegistryKey(h) == key {
			ids = append(ids, registry.ManifestID(img))
		}
	}
	for _, r := range results {
		if !slices.Contains(ids, r.ID) || (r.Status != probe.Fail && r.Status != probe.Warn) {
			continue
		}
		switch registry.Cause(r) {
		case registry.CauseMissingCredentials, registry.CauseAuthRejected, registry.CauseTokenRejected,
			registry.CauseAccessDenied, registry.CauseRateLimited:
			return true
		}
	}
	return false
}

func registryTitle(i, n int, host string) string {
	t := fmt.Sprintf("Registry %d of %d: %s", i+1, n, host)
	if imageref.IsDockerHub(host) {
		t += " (Docker Hub; optional)"
	}
	return t
}

// updateRegWarnings keeps the registry warnings wizard validation gives
// (credsStore dropping the whole config.json, …). Validation here reads no
// files: the CA path is checked on review.
func (m *model) updateRegWarnings() {
	a := m.answers.Clone()
	a.GitLab.TLSCAFile = ""
	wizard.PruneHidden(a)
	m.regWarnings = nil
	for _, p := range a.Validate() {
		if p.Warning && strings.HasPrefix(p.Field, "registries[") {
			// Indexes refer to the pruned list; map them back by host.
			m.regWarnings = append(m.regWarnings, remapRegistryField(p, a, m.answers))
		}
	}
}

func remapRegistryField(p wizard.FieldError, pruned, full *wizard.Answers) wizard.FieldError {
	var i int
	if _, err := fmt.Sscanf(p.Field, "registries[%d]", &i); err != nil || i >= len(pruned.Registries) {
		return p
	}
	host := pruned.Registries[i].Host
	for j, r := range full.Registries {
		if r.Host == host {
			p.Field = fmt.Sprintf("registries[%d]%s", j, p.Field[strings.Index(p.Field, "]")+1:])
			break
		}
	}
	return p
}

// regSuggestion is the method pre-selected for a registry, and why.
type regSuggestion struct {
	method, why string
}

// suggestRegistryMethods pre-selects how each registry authenticates when
// the user has not chosen yet (method none, no earlier suggestion), from
// what is known about it: a credHelpers entry for the host in config.json
// means that helper; a registry whose 401 challenge found no credentials
// (its auth check's cause) needs a username and password. The reason is
// shown next to the method.
func (m *model) suggestRegistryMethods() {
	if m.regSuggested == nil {
		m.regSuggested = map[string]regSuggestion{}
	}
	for i := range m.answers.Registries {
		r := &m.answers.Registries[i]
		key := wizard.RegistryKey(r.Host)
		if _, done := m.regSuggested[key]; done || (r.Method != wizard.MethodNone && r.Method != "") {
			continue
		}
		for k, helper := range m.files.credHelpers {
			if wizard.RegistryKey(k) == key && helper != "" {
				r.Method, r.Helper = wizard.MethodCredHelper, helper
				m.regSuggested[key] = regSuggestion{r.Method, fmt.Sprintf("config.json has credHelpers[%q] = %q", k, helper)}
			}
		}
		if r.Method != wizard.MethodNone {
			continue
		}
		for _, res := range m.probes.results {
			if res.ID == registry.AuthID(r.Host) && registry.Cause(res) == registry.CauseMissingCredentials {
				status := 401
				if f, ok := res.Data.(registry.Failure); ok && f.Status != 0 {
					status = f.Status
				}
				r.Method = wizard.MethodBasic
				m.regSuggested[key] = regSuggestion{r.Method, fmt.Sprintf("%s answered %d to GET /v2/: it asks for a login, and none is set (%s)", r.Host, status, res.ID)}
			}
		}
	}
}

// registrySuggestionNote is the note on a focused method field whose value
// was pre-selected.
func (m *model) registrySuggestionNote(focus string) string {
	var i int
	if _, err := fmt.Sscanf(focus, "registries[%d].method", &i); err != nil || i >= len(m.answers.Registries) {
		return ""
	}
	r := m.answers.Registries[i]
	s, ok := m.regSuggested[wizard.RegistryKey(r.Host)]
	if !ok || s.method != r.Method {
		return ""
	}
	return strings.Join(markLinesList(m.st.Emphasis.Render("→ "), s.method+" pre-selected: "+s.why, m.innerWidth()), "\n")
}

// suggestWhileAsked applies a suggestion that became possible while the
// registry step is open (its check finished after the user got there),
// provided the method in focus is still the untouched "none": the form is
// rebuilt with the suggestion, on the same registry.
func (m *model) suggestWhileAsked() tea.Cmd {
	var i int
	if m.step != stepRegistries || m.form == nil {
		return nil
	}
	if _, err := fmt.Sscanf(m.focusKey(), "registries[%d].method", &i); err != nil || i >= len(m.answers.Registries) {
		return nil
	}
	before := m.answers.Registries[i].Method
	m.suggestRegistryMethods()
	if m.answers.Registries[i].Method == before {
		return nil
	}
	m.form, _ = buildRegistriesForm(m.builder(), m.askedRegistries(m.answers))
	cmds := []tea.Cmd{m.form.Init()}
	for n := 0; n < 64 && m.focusKey() != fmt.Sprintf("registries[%d].method", i); n++ {
		before := m.form.GetFocusedField()
		cmds = append(cmds, m.form.NextGroup())
		if m.form.GetFocusedField() == before {
			break
		}
	}
	m.resize()
	return tea.Batch(append(cmds, m.refreshMarksCmd())...)
}
