package tui

import (
	"strings"

	"charm.land/huh/v2"

	"github.com/runnerup/runnerup/wizard"
)

// buildGitLabForm asks the GitLab step: URL and token, the token kind for
// an unprefixed token, the registration-only settings for a registration
// token, then (advanced) the runner name and CA file. The form writes into
// b.a, which it returns.
func buildGitLabForm(b formBuilder) (*huh.Form, *wizard.Answers) {
	st, _ := wizard.StepByID(wizard.StepGitLab)
	return newForm(b.groups(st.Fields, nil)...), b.a
}

// fieldNote is live feedback on the focused field: what kind of token was
// pasted, a URL that works but is risky.
func (m *model) fieldNote() string {
	a := m.answers
	switch m.focusKey() {
	case "gitlab.token", "gitlab.token_kind":
		if d := wizard.DescribeToken(a.GitLab.Token, a.GitLab.TokenKind); d != "" {
			return m.st.Emphasis.Render("→ ") + d
		}
	case "gitlab.url":
		if msg, fix, warn := wizard.CheckGitLabURL(a.GitLab.URL); warn {
			return m.st.Warn.Render("! ") + "GitLab URL " + msg + "; " + fix
		}
	}
	if n := m.registrySuggestionNote(m.focusKey()); n != "" {
		return n
	}
	if m.step == stepRegistries && strings.HasPrefix(m.focusKey(), "registries[") {
		for _, w := range m.regWarnings {
			if strings.HasPrefix(m.focusKey(), w.Field[:strings.Index(w.Field, "]")+1]) {
				return m.st.Warn.Render("! ") + w.Problem + "; " + w.Fix
			}
		}
	}
	return ""
}
