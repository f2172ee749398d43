package cli

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the command's standard streams; tests use buffers.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY, stdoutTTY bool
	color               bool
}

// System returns the process streams, with colour decided once by
// colorWanted from the environment.
func System() *IOStreams {
	outTTY := term.IsTerminal(int(os.Stdout.Fd()))
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		stdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		stdoutTTY: outTTY,
		color:     colorWanted(outTTY, os.Getenv),
	}
}

// colorWanted: NO_COLOR set to anything but "" turns colour off
// (no-color.org) and wins; CLICOLOR_FORCE set and not "0" turns it on even
// without a terminal (bixense.com/clicolors); otherwise colour goes to a
// terminal that is not TERM=dumb. --no-color overrides all of them.
func colorWanted(outTTY bool, getenv func(string) string) bool {
	if getenv("NO_COLOR") != "" {
		return false
	}
	if f := getenv("CLICOLOR_FORCE"); f != "" && f != "0" {
		return true
	}
	return outTTY && getenv("TERM") != "dumb"
}

// CanPrompt is true when both stdin and stdout are terminals.
func (s *IOStreams) CanPrompt() bool { return s.stdinTTY && s.stdoutTTY }

// ColorEnabled says whether to print ANSI colour.
func (s *IOStreams) ColorEnabled() bool { return s.color }

// SetColor turns colour off for --no-color.
func (s *IOStreams) SetColor(on bool) { s.color = on }
