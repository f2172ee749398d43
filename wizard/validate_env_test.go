package wizard

import (
	"strings"
	"testing"
)

// TestMalformedEnvironmentEntryNotQuoted: an environment entry without "="
// is often a secret pasted on its own; the problem names the entry by its
// field and never quotes any of its text.
func TestMalformedEnvironmentEntryNotQuoted(t *testing.T) {
	const pasted = "glrt-t1_PastedTokenABCDEFGHIJKLMN"
	a := &Answers{Version: 1, Runner: Runner{Executor: "shell", Environment: []string{"A=1", pasted}}}
	var found bool
	for _, p := range a.Validate() {
		if p.Field != "runner.environment[1]" {
			continue
		}
		found = true
		text := p.Problem + " " + p.Fix
		// No run of 4 characters of the value after its public prefix.
		secretPart := strings.TrimPrefix(pasted, "glrt-t1_")
		for i := 0; i+4 <= len(secretPart); i++ {
			if strings.Contains(text, secretPart[i:i+4]) {
				t.Fatalf("the problem quotes %q of the pasted value: %s", secretPart[i:i+4], text)
			}
		}
		if !strings.Contains(p.Problem, "KEY=VALUE") {
			t.Errorf("problem does not say what is wrong: %s", text)
		}
	}
	if !found {
		t.Fatal("no problem for runner.environment[1]")
	}
}
