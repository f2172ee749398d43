package diagnose

import (
	"strings"
	"testing"
)

// TestMatchLogStripsTerminalEscapes: a job log is untrusted text (a job
// prints whatever it likes), and the lines MatchLog keeps are printed to
// the user's terminal. cleanLine removes CSI colour codes in one pass, so
// a nested one survives ("\x1b[\x1b[AA" leaves "\x1b[A", cursor up), and
// OSC sequences (window title, hyperlinks) are not removed at all.
// Found by FuzzLogMatch; no line MatchLog keeps may carry an ESC.
func TestMatchLogStripsTerminalEscapes(t *testing.T) {
	var bad []string
	for _, log := range []string{
		"ERROR: Job failed: failed to pull image \"a\" with specified policies [always]: \x1b[\x1b[2J2J denied",
		"ERROR: Job failed: failed to pull image \"a\" with specified policies [always]: \x1b]0;owned\x07 denied",
		"ERROR: Job failed: failed to pull image \"a\" with specified policies [always]: \x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",
	} {
		for _, l := range MatchLog(log).Lines {
			if strings.ContainsRune(l, '\x1b') {
				bad = append(bad, l)
			}
		}
	}
	if len(bad) > 0 {
		t.Errorf("terminal escapes from the job log survive into the lines printed: %q", bad)
	}
}
