package wizard

import (
	"bytes"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/runnerup/runnerup/internal/lint"
	"github.com/runnerup/runnerup/render"
)

// [runner.extra] holds [[runners]] keys runnerup does not manage, in
// config.toml's spelling (feature_flags, [runners.cache.s3],
// [runners.docker] network_mode, …): register flags and --template-config
// land here, so nothing a command line or template says is dropped, and an
// answers file can say it too. The keys runnerup manages have their own
// answers fields; naming them here is an error that says which.
var managedExtra = map[string]string{
	"name": "gitlab.name", "url": "gitlab.url", "token": "gitlab.token", "id": "(written by runnerup)",
	"token_obtained_at": "(written by runnerup)", "token_expires_at": "(written by runnerup)",
	"tls-ca-file": "gitlab.tls_ca_file", "executor": "runner.executor", "shell": "runner.shell",
	"limit": "runner.limit", "environment": "runner.environment",
	"docker.host": "docker.host", "docker.image": "docker.image", "docker.privileged": "docker.privileged",
	"docker.volumes": "docker.volumes", "docker.pull_policy": "docker.pull_policy", "docker.services": "[[docker.services]]",
}

// secretExtraKeys are config.toml keys (any case) holding credentials, as
// internal/lint lists them.
var secretExtraKeys = map[string]bool{
	"token": true, "password": true, "secretkey": true, "accesskey": true,
	"sessiontoken": true, "accountkey": true, "privatekey": true,
	"bearer_token": true, "sentry_dsn": true,
}

// isSecretExtraKey: a credential under [runner.extra] (cache keys, …).
func isSecretExtraKey(path string) bool {
	return secretExtraKeys[strings.ToLower(path[strings.LastIndexByte(path, '.')+1:])]
}

// validateExtra checks [runner.extra] against GitLab Runner's own schema
// (the linter's): unknown keys with did-you-mean, wrong types, and keys
// that have an answers field of their own.
func validateExtra(extra map[string]any, executor string) []FieldError {
	if len(extra) == 0 {
		return nil
	}
	var out []FieldError
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		if field, ok := managedExtra[k]; ok {
			out = append(out, FieldError{Field: "runner.extra." + k, Problem: "is managed by runnerup", Fix: "use " + field + " instead"})
		}
	}
	if d, ok := extra["docker"].(map[string]any); ok {
		for _, k := range slices.Sorted(maps.Keys(d)) {
			if field, ok := managedExtra["docker."+k]; ok {
				out = append(out, FieldError{Field: "runner.extra.docker." + k, Problem: "is managed by runnerup", Fix: "use " + field + " instead"})
			}
		}
		if !UsesDocker(executor) {
			out = append(out, FieldError{Field: "runner.extra.docker", Warning: true,
				Problem: fmt.Sprintf("executor %q does not read [runners.docker]; it is written but unused", executor),
				Fix:     "remove it or choose a docker executor"})
		}
	}
	return append(out, lintRunnerKeys(extra, "runner.extra")...)
}

// lintRunnerKeys checks the keys of one [[runners]] entry against GitLab
// Runner's schema (the linter's): unknown keys with the linter's
// did-you-mean, and wrong types, each under prefix (runner.extra, or the
// template's name).
func lintRunnerKeys(keys map[string]any, prefix string) []FieldError {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(map[string]any{"runners": []map[string]any{keys}}); err != nil {
		return []FieldError{{Field: prefix, Problem: "cannot be written as TOML: " + err.Error()}}
	}
	var out []FieldError
	for _, f := range lint.Lint(buf.Bytes(), lint.Options{}) {
		if f.ID != "key.unknown" && f.ID != "key.type" {
			continue
		}
		problem := f.Message
		if f.ID == "key.unknown" {
			problem = "is not a key GitLab Runner knows (it would ignore it)"
		}
		path := strings.TrimPrefix(strings.TrimPrefix(f.Path, "runners[0]"), ".")
		out = append(out, FieldError{Field: joinField(prefix, path), Problem: problem, Fix: f.Fix})
	}
	return out
}

// cloneTree deep-copies a decoded TOML tree.
func cloneTree(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cloneTree(v)
	case []map[string]any:
		out := make([]map[string]any, len(v))
		for i, e := range v {
			out[i] = cloneTree(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneValue(e)
		}
		return out
	case []string:
		return slices.Clone(v)
	}
	return v
}

// walkTree calls fn for every string value of a tree, in key order, and
// stores back what fn leaves.
func walkTree(m map[string]any, path string, fn func(string, *string)) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		p := joinField(path, k)
		switch v := m[k].(type) {
		case string:
			s := v
			fn(p, &s)
			m[k] = s
		case map[string]any:
			walkTree(v, p, fn)
		case []map[string]any:
			for i, e := range v {
				walkTree(e, fmt.Sprintf("%s[%d]", p, i), fn)
			}
		case []any:
			for i, e := range v {
				switch ev := e.(type) {
				case string:
					s := ev
					fn(fmt.Sprintf("%s[%d]", p, i), &s)
					v[i] = s
				case map[string]any:
					walkTree(ev, fmt.Sprintf("%s[%d]", p, i), fn)
				}
			}
		}
	}
}

// mergeTree sets every key of src into dst where dst has none (template
// semantics: what is already there wins); nested tables merge key by key.
func mergeTree(dst, src map[string]any) {
	for k, sv := range src {
		dv, ok := dst[k]
		if !ok {
			dst[k] = cloneValue(sv)
			continue
		}
		dm, dIsMap := dv.(map[string]any)
		sm, sIsMap := sv.(map[string]any)
		if dIsMap && sIsMap {
			mergeTree(dm, sm)
		}
	}
}

// setTreeValue sets a dotted path ("docker.network_mode") in a tree.
func setTreeValue(m map[string]any, path []string, v any) {
	for _, p := range path[:len(path)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[p] = sub
		}
		m = sub
	}
	m[path[len(path)-1]] = v
}

// getTreeValue reads a dotted path of a tree.
func getTreeValue(m map[string]any, path []string) (any, bool) {
	for _, p := range path[:len(path)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			return nil, false
		}
		m = sub
	}
	v, ok := m[path[len(path)-1]]
	return v, ok
}

// renderExtra writes [runner.extra] into the runner's block of rendered.
func renderExtra(rendered render.ConfigResult, a *Answers) (render.ConfigResult, error) {
	if len(a.Runner.Extra) == 0 {
		return rendered, nil
	}
	extra := cloneTree(a.Runner.Extra)
	data := rendered.Data
	if len(a.Runner.template) > 0 {
		// The template's own tables first, as written; SetRunnerKeys then
		// sets only what the command line changed or added.
		var sp render.TemplateSplice
		data, sp = render.SpliceTemplate(data, rendered.Index, a.Runner.template, extra)
		if tmpl, _, err := render.TemplateRunner(a.Runner.template); err == nil {
			subtractSpliced(extra, tmpl, sp)
		}
	}
	data, err := render.SetRunnerKeys(data, rendered.Index, extra)
	if err != nil {
		return rendered, &InputError{Err: err}
	}
	rendered.Data = data
	return rendered, nil
}

// subtractSpliced removes from extra what SpliceTemplate wrote as it is:
// the keys of each copied table whose value extra keeps, and copied arrays
// of tables extra keeps whole. What the command line changed or added
// stays, for SetRunnerKeys to set in place.
func subtractSpliced(extra, tmpl map[string]any, sp render.TemplateSplice) {
	for _, path := range sp.Tables {
		tv, ok := getTreeValue(tmpl, path)
		if !ok {
			continue
		}
		ev, ok := getTreeValue(extra, path)
		if !ok {
			continue
		}
		if sp.Arrays[strings.Join(path, ".")] {
			if sameTOMLValue(ev, tv) {
				deleteTreeValue(extra, path)
			}
			continue
		}
		em, eok := ev.(map[string]any)
		tm, tok := tv.(map[string]any)
		if !eok || !tok {
			continue
		}
		for k, v := range tm {
			if _, table := v.(map[string]any); table {
				continue // a sub-table: its own section
			}
			if list, ok := render.TableList(v); ok && len(list) > 0 {
				continue // an array of tables: its own sections
			}
			if sameTOMLValue(em[k], v) {
				delete(em, k)
			}
		}
	}
	pruneEmptyTables(extra)
}

// sameTOMLValue compares decoded TOML values across the shapes flags and
// the decoder give them ([]string or []any, int or int64).
func sameTOMLValue(a, b any) bool { return reflect.DeepEqual(normalTOML(a), normalTOML(b)) }

func normalTOML(v any) any {
	switch v := v.(type) {
	case int:
		return int64(v)
	case []string:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = e
		}
		return out
	case []int64:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = e
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normalTOML(e)
		}
		return out
	case []map[string]any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normalTOML(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = normalTOML(e)
		}
		return out
	}
	return v
}

// deleteTreeValue removes path from a tree.
func deleteTreeValue(m map[string]any, path []string) {
	for _, p := range path[:len(path)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			return
		}
		m = sub
	}
	delete(m, path[len(path)-1])
}

// pruneEmptyTables drops tables left empty (their header is written
// already).
func pruneEmptyTables(m map[string]any) {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			pruneEmptyTables(sub)
			if len(sub) == 0 {
				delete(m, k)
			}
		}
	}
}
