package envlist

import (
	"slices"
	"testing"
)

func TestValue(t *testing.T) {
	env := []string{"PATH=/bin", "HOME=/root", "PATH=/usr/bin", "EMPTY=", "PATHX=no"}
	for _, tt := range []struct {
		key, want string
		ok        bool
	}{
		{"PATH", "/usr/bin", true},
		{"HOME", "/root", true},
		{"EMPTY", "", true},
		{"PAT", "", false},
		{"MISSING", "", false},
	} {
		if got, ok := Value(env, tt.key); got != tt.want || ok != tt.ok {
			t.Errorf("Value(%s) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.ok)
		}
		if got, i := Last(env, tt.key); got != tt.want || (i >= 0) != tt.ok || i >= 0 && env[i] != tt.key+"="+got {
			t.Errorf("Last(%s) = %q, %d", tt.key, got, i)
		}
	}
}

func TestMerge(t *testing.T) {
	base := []string{"A=1", "B=2"}
	got := Merge(base, "C=3", "A=4", "B=", "C=5")
	if want := []string{"A=4", "B=", "C=5"}; !slices.Equal(got, want) {
		t.Errorf("Merge = %q, want %q", got, want)
	}
	if !slices.Equal(base, []string{"A=1", "B=2"}) {
		t.Errorf("Merge changed its base: %q", base)
	}
	if got := Merge(nil, "X=1", "Y=2", "X=3"); !slices.Equal(got, []string{"X=3", "Y=2"}) {
		t.Errorf("Merge(nil, …) = %q: each key once, first place, last value", got)
	}
	if got := Merge(nil); got != nil {
		t.Errorf("Merge(nil) = %#v, want nil", got)
	}
}
