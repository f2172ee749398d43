package cli

import (
	"errors"
	"io"

	"github.com/runnerup/runnerup/wizard"
)

// printPreparedRegisterCommands prints the `gitlab-runner register`
// equivalent of prepared answers (apply --print-register-command). It
// contacts nothing and writes no file; secrets appear only as shell
// variables, and those the answers file reads with env:NAME keep that NAME.
func printPreparedRegisterCommands(w io.Writer, p *wizard.Prepared) error {
	if p == nil {
		return errors.New("no answers")
	}
	exp, err := p.RegisterCommands()
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, exp.Script())
	return err
}
