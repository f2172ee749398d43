// Package envlist works on KEY=VALUE lists as both exec and GitLab Runner
// read them: a later assignment of a key wins.
package envlist

import (
	"slices"
	"strings"
)

// Value is the last value of key in env, and whether env assigns it.
func Value(env []string, key string) (string, bool) {
	v, i := Last(env, key)
	return v, i >= 0
}

// Last is the last value of key in env and its index there (-1: env does
// not assign key).
func Last(env []string, key string) (string, int) {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v, i
		}
	}
	return "", -1
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
