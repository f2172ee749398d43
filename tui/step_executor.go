package tui

import (
	"charm.land/huh/v2"

	"github.com/runnerup/runnerup/wizard"
)

// buildExecutorForm asks the executor step: executor, shell for the shell
// executor, the job image for docker executors, then (advanced) the other
// docker settings and concurrency.
func buildExecutorForm(b formBuilder) (*huh.Form, *wizard.Answers) {
	st, _ := wizard.StepByID(wizard.StepExecutor)
	return newForm(b.groups(st.Fields, nil)...), b.a
}
