package tui

import (
	"strings"

	"charm.land/huh/v2"

	"github.com/runnerup/runnerup/probe"
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

// urlWarning is the note on a GitLab URL that works but should not be
// used as it is (plain http).
func urlWarning(msg, fix string) string { return "GitLab URL " + msg + "; " + fix }

// noteCheck names the check whose warning the focused field's note
// repeats (plain http: gitlab.tls), with the note's words for it.
func (m *model) noteCheck() (id, text string) {
	if m.focusKey() != "gitlab.url" {
		return "", ""
	}
	u := m.answers.GitLab.URL
	if msg, fix, warn := wizard.CheckGitLabURL(u); warn && strings.HasPrefix(strings.ToLower(u), "http:") {
		return probe.IDGitLabTLS, urlWarning(msg, fix)
	}
	return "", ""
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
			return m.st.Warn.Render("! ") + urlWarning(msg, fix)
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
