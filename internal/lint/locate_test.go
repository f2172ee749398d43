package lint

import "testing"

// A byte order mark is not a column an editor shows: the first key is at
// 1:1 with or without it, as BurntSushi counts.
func TestLocateAfterByteOrderMark(t *testing.T) {
	pos := locate("\ufeffa = 1\n[\"t\\u0078\"]\n  b = { c = [1, 2] }\n")
	for p, want := range map[string]position{
		"a":         {1, 1},
		"tx":        {2, 1},
		"tx.b":      {3, 3},
		"tx.b.c":    {3, 9},
		"tx.b.c[1]": {3, 17},
	} {
		if got := pos[p]; got != want {
			t.Errorf("%s at %v, want %v", p, got, want)
		}
	}
}
