package tui

import (
	"context"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/runnerup/runnerup/wizard"
)

// TestPickerLookupReadsNoFileInUpdate: the picker's lookup Cmd is built on
// the Update path, which must never block; a file: API token is read when
// the Cmd runs (in the background), not while it is built.
func TestPickerLookupReadsNoFileInUpdate(t *testing.T) {
	o, _ := createWorld(t, &fakeApply{})
	var reads []string
	o.readFile = func(path string) ([]byte, error) {
		reads = append(reads, path)
		return []byte(createAPIToken + "\n"), nil
	}
	m := newModel(context.Background(), o)
	m.answers.GitLab.URL = "https://gitlab.example.com"
	m.answers.GitLab.Create = &wizard.Create{APIToken: "file:/run/secrets/gitlab-api-token"}
	cmd := m.pickerLoadCmd(wizard.TargetProject, "", 1, 1)
	if len(reads) > 0 {
		t.Fatalf("building the lookup Cmd (on the Update path) read %v", reads)
	}
	var page pickerPageMsg
	for _, msg := range collectMsgs(t, cmd) {
		if p, ok := msg.(pickerPageMsg); ok {
			page = p
		}
	}
	if len(reads) != 1 {
		t.Errorf("the lookup read %v, want the API token's file once", reads)
	}
	if page.err != nil || len(page.res.Targets) == 0 {
		t.Errorf("the lookup with the token from the file found nothing: %+v", page)
	}
}

// collectMsgs runs cmd and the Cmds of the batches it returns (timers
// left out), giving every other message.
func collectMsgs(t *testing.T, cmd tea.Cmd) []tea.Msg {
	t.Helper()
	var out []tea.Msg
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil || isTimerCmd(c) {
			continue
		}
		switch msg := runCmd(t, c).(type) {
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case nil:
		default:
			out = append(out, msg)
		}
	}
	return out
}
