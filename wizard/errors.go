package wizard

import (
	"fmt"
	"strings"
)

// FieldError is one problem with one answer: the field path
// (`docker.services[1].name`), what is wrong, and how to fix it. Problem
// never holds a secret value.
type FieldError struct {
	Field   string `json:"field"`
	Problem string `json:"problem"`
	Fix     string `json:"fix,omitempty"`
	// Warning marks a finding that does not stop apply.
	Warning bool `json:"warning,omitempty"`
}

func (e FieldError) String() string {
	s := e.Field + ": " + e.Problem
	if e.Fix != "" {
		s += " (fix: " + e.Fix + ")"
	}
	return s
}

// ValidationError carries every blocking problem found at once, so a user
// fixes an answers file in one round instead of one error per run.
type ValidationError struct {
	Problems []FieldError
}

func (e *ValidationError) Error() string {
	lines := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		lines = append(lines, p.String())
	}
	noun := "problems"
	if len(lines) == 1 {
		noun = "problem"
	}
	return fmt.Sprintf("invalid answers (%d %s):\n  %s", len(lines), noun, strings.Join(lines, "\n  "))
}
