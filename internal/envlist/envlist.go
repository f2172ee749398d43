// Package envlist works on KEY=VALUE lists as both exec and GitLab Runner
// read them: a later assignment of a key wins.
package envlist

import (
	"slices"
	"strings"
)

// Value is the last value of key in env, and whether env assigns it.
func Value(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v, true
		}
	}
	return "", false
}

// Merge returns a copy of base with set applied in order: an assignment
// replaces the first entry of its key in place, a new key is appended.
// So each key set appears once, where it was first, with its last value
// (base's own repeats are left as they are). An entry without "=" counts
// as a key of its own.
func Merge(base []string, set ...string) []string {
	out := slices.Clone(base)
	for _, kv := range set {
		key, _, _ := strings.Cut(kv, "=")
		if i := slices.IndexFunc(out, func(o string) bool { k, _, _ := strings.Cut(o, "="); return k == key }); i >= 0 {
			out[i] = kv
		} else {
			out = append(out, kv)
		}
	}
	return out
}
