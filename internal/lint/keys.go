package lint

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/runnerup/runnerup/internal/editdist"
	"github.com/runnerup/runnerup/internal/secret"
)

// shape is what a key accepts (see schemaText).
type shape string

const (
	shString     shape = "string"
	shBool       shape = "bool"
	shInt        shape = "int"
	shFloat      shape = "float"
	shDuration   shape = "duration"
	shTime       shape = "time"
	shStrings    shape = "strings"
	shFloats     shape = "floats"
	shInts       shape = "ints"
	shPullPolicy shape = "pullpolicy"
	shTable      shape = "table"
	shTables     shape = "tables"
	shAny        shape = "any"
	// map:T shapes keep their prefix.
	mapPrefix = "map:"
)

// schema maps a table path ("", "runners", "runners.docker", ...) to its
// keys and their shapes.
var schema = parseSchema(schemaText)

func parseSchema(text string) map[string]map[string]shape {
	out := map[string]map[string]shape{}
	var cur map[string]shape
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "["):
			cur = map[string]shape{}
			out[strings.Trim(line, "[]")] = cur
		default:
			k, v, _ := strings.Cut(line, " ")
			cur[k] = shape(v)
		}
	}
	return out
}

func schemaJoin(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// lookupKey finds key among a table's keys as BurntSushi does: the exact
// name, else a case-insensitive match.
func lookupKey(fields map[string]shape, key string) (name string, sh shape, ok bool) {
	if sh, ok := fields[key]; ok {
		return key, sh, true
	}
	for _, n := range sortedKeys(fields) {
		if strings.EqualFold(n, key) {
			return n, fields[n], true
		}
	}
	return "", "", false
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// tableLabel is how a table is written in config.toml.
func tableLabel(schemaPath string) string {
	switch schemaPath {
	case "":
		return "the top level (above the first [[runners]])"
	case "runners", "runners.docker.services", "runners.autoscaler.policy", "runners.machine.autoscaling",
		"runners.monitoring.job_queuing_durations":
		return "[[" + schemaPath + "]]"
	}
	return "[" + schemaPath + "]"
}

// walkTable checks the keys of one decoded table against the schema.
func (l *linter) walkTable(schemaPath, canon string, m map[string]any, runner string) {
	fields, known := schema[schemaPath]
	if !known {
		return
	}
	spellings := map[string][]string{} // schema name -> keys written for it
	for _, k := range sortedKeys(m) {
		v := m[k]
		p := joinKey(canon, k)
		name, sh, ok := lookupKey(fields, k)
		if ok {
			spellings[name] = append(spellings[name], k)
		}
		if !ok {
			if schemaPath == "runners.docker" && k == "platform" {
				continue // docker.platform.ignored
			}
			l.unknownKey(schemaPath, canon, k, p, runner, v)
			continue
		}
		if name != k {
			l.add(Finding{ID: "key.case", Severity: Info, Path: p, Runner: runner,
				Message: fmt.Sprintf("%q is written %q; the runner matches keys case-insensitively, but rewrites it as %q when it saves the file", name, k, name),
				Fix:     fmt.Sprintf("write %q", name)}, p)
		}
		l.checkShape(sh, schemaJoin(schemaPath, name), p, name, v, runner)
	}
	for _, name := range sortedKeys(spellings) {
		if keys := spellings[name]; len(keys) > 1 {
			l.caseDuplicate(canon, name, keys, m, runner)
		}
	}
}

// caseDuplicate: two keys of one table that the runner decodes into the
// same field (BurntSushi matches case-insensitively). Which one it keeps
// follows Go's map order, so it can change from one load to the next:
// an error when their values differ.
func (l *linter) caseDuplicate(canon, name string, keys []string, m map[string]any, runner string) {
	sev, why := Warning, "they hold the same value today"
	for _, k := range keys[1:] {
		if !reflect.DeepEqual(m[k], m[keys[0]]) {
			sev, why = Error, "their values differ, so the runner's setting can change from one reload to the next"
			break
		}
	}
	quoted := make([]string, len(keys))
	for i, k := range keys {
		quoted[i] = fmt.Sprintf("%q", k)
	}
	paths := make([]string, len(keys))
	for i, k := range keys {
		paths[i] = joinKey(canon, k)
	}
	l.add(Finding{ID: "key.case-duplicate", Severity: sev, Path: paths[len(paths)-1], Runner: runner,
		Message: fmt.Sprintf("%q is written %d times (%s): the runner reads them as one key and keeps one of them at random; %s", name, len(keys), strings.Join(quoted, ", "), why),
		Fix:     fmt.Sprintf("keep one %q line and delete the others", name)}, paths[len(paths)-1])
}

func (l *linter) unknownKey(schemaPath, canon, key, p, runner string, v any) {
	if header, ok := l.headers[p]; ok && isTable(v) {
		l.unknownTable(schemaPath, key, p, runner, header)
		return
	}
	f := Finding{ID: "key.unknown", Severity: Warning, Path: p, Runner: runner,
		Message: fmt.Sprintf("unknown key %q in %s: the runner ignores it", key, tableLabel(schemaPath))}
	fields := schema[schemaPath]
	if s := editdist.Closest(key, sortedKeys(fields)); s != "" {
		f.Fix = fmt.Sprintf("did you mean %q?", s)
	} else if other, ok := elsewhere(schemaPath, key); ok {
		f.Fix = fmt.Sprintf("%q is a key of %s; move it there", key, tableLabel(other))
	}
	l.add(f, p, canon)
}

func isTable(v any) bool {
	switch v.(type) {
	case map[string]any, []map[string]any:
		return true
	}
	return false
}

// unknownTable reports a table opened by a header (header, as written)
// whose key at schemaPath the runner does not know: one finding at the
// header's line for the whole table, and the header it probably meant.
func (l *linter) unknownTable(schemaPath, key, p, runner, header string) {
	where := tableLabel(schemaPath) + " has"
	if schemaPath == "" {
		where = "the top level has"
	}
	f := Finding{ID: "key.unknown", Severity: Warning, Path: p, Runner: runner,
		Message: fmt.Sprintf("unknown table %s: %s no key %q, so the runner ignores this table and everything in it", header, where, key)}
	i := strings.Count(stripIndexes(p), ".")
	if s := editdist.Closest(key, sortedKeys(schema[schemaPath])); s != "" {
		f.Fix = fmt.Sprintf("did you mean %q?", s)
		if fixed, ok := fixHeader(header, i, s); ok {
			f.Fix = "did you mean " + fixed + "?"
		}
	} else if fixed, ok := joinHeader(header, i); ok {
		f.Fix = "did you mean " + fixed + "?" // [runners.kubernetes.dns.config] for dns_config
	}
	l.add(f, p)
}

// joinHeader joins segments i and i+1 of a written header with "_", when
// the result is a table GitLab Runner knows.
func joinHeader(header string, i int) (string, bool) {
	open, close, segs := splitHeader(header)
	if i+1 >= len(segs) {
		return "", false
	}
	joined := append(append(slices.Clone(segs[:i]), segs[i]+"_"+segs[i+1]), segs[i+2:]...)
	fixed := strings.Join(joined, ".")
	if _, ok := schema[fixed]; !ok {
		return "", false
	}
	return open + fixed + close, true
}

var indexRE = regexp.MustCompile(`\[\d+\]`)

func stripIndexes(p string) string { return indexRE.ReplaceAllString(p, "") }

// splitHeader takes a written header apart: "[[a. b]]" → "[[", "]]", [a b].
func splitHeader(header string) (open, close string, segs []string) {
	open, close = "[", "]"
	if strings.HasPrefix(header, "[[") {
		open, close = "[[", "]]"
	}
	segs = strings.Split(strings.TrimSuffix(strings.TrimPrefix(header, open), close), ".")
	for j := range segs {
		segs[j] = strings.TrimSpace(segs[j])
	}
	return open, close, segs
}

// fixHeader replaces segment i of a written header with name, when the
// result is a table GitLab Runner knows.
func fixHeader(header string, i int, name string) (string, bool) {
	open, close, segs := splitHeader(header)
	if i >= len(segs) {
		return "", false
	}
	segs[i] = name
	fixed := strings.Join(segs, ".")
	if _, ok := schema[fixed]; !ok {
		return "", false
	}
	return open + fixed + close, true
}

// elsewhere finds a neighbouring table (parent, child, or the top level)
// where key is a known key: the usual result of writing a key under the
// wrong header.
func elsewhere(schemaPath, key string) (string, bool) {
	var cands []string
	if i := strings.LastIndexByte(schemaPath, '.'); i >= 0 {
		cands = append(cands, schemaPath[:i])
	} else if schemaPath != "" {
		cands = append(cands, "")
	}
	for _, k := range sortedKeys(schema[schemaPath]) {
		if sh := schema[schemaPath][k]; sh == shTable || sh == shTables {
			cands = append(cands, schemaJoin(schemaPath, k))
		}
	}
	if schemaPath != "" {
		cands = append(cands, "")
	}
	for _, c := range cands {
		if fields, ok := schema[c]; ok {
			if _, ok := fields[key]; ok {
				return c, true
			}
		}
	}
	return "", false
}

// tomlType names the TOML type of a decoded value.
func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date-time"
	case []map[string]any:
		return "an array of tables"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("a %T", v)
}

var shapeNames = map[shape]string{
	shString: "a string", shBool: "a boolean (true or false)", shInt: "an integer", shFloat: "a number",
	shDuration: `a duration string such as "15m" or an integer`, shTime: "a date-time such as 2025-01-02T03:04:05Z",
	shStrings: "an array of strings", shFloats: "an array of numbers", shInts: "an array of integers",
	shPullPolicy: "a string or an array of strings", shTable: "a table", shTables: "an array of tables",
}

func shapeName(sh shape) string {
	if n, ok := shapeNames[sh]; ok {
		return n
	}
	if strings.HasPrefix(string(sh), mapPrefix) {
		return "a table"
	}
	return string(sh)
}

// typeError reports a value the runner cannot decode: it refuses the file.
func (l *linter) typeError(sh shape, p, name string, v any, runner, fix string) {
	l.add(Finding{ID: "key.type", Severity: Error, Path: p, Runner: runner,
		Message: fmt.Sprintf("%s must be %s, not %s: the runner refuses to load the file", name, shapeName(sh), tomlType(v)),
		Fix:     fix}, p)
}

// checkShape checks v against sh and descends into tables.
func (l *linter) checkShape(sh shape, schemaPath, p, name string, v any, runner string) {
	switch sh {
	case shAny:
		return
	case shString:
		if _, ok := v.(string); !ok {
			fix := ""
			if _, isArr := v.([]any); !isArr && !secret.IsSecretName(name) {
				if _, isTable := v.(map[string]any); !isTable {
					fix = "put the value in double quotes"
				}
			}
			l.typeError(sh, p, name, v, runner, fix)
		}
	case shBool:
		if _, ok := v.(bool); !ok {
			fix := ""
			if s, ok := v.(string); ok {
				switch strings.ToLower(strings.TrimSpace(s)) {
				case "true", "yes", "on", "1", "y":
					fix = fmt.Sprintf("write %s = true, without quotes", name)
				case "false", "no", "off", "0", "n":
					fix = fmt.Sprintf("write %s = false, without quotes", name)
				}
			}
			l.typeError(sh, p, name, v, runner, fix)
		}
	case shInt:
		switch x := v.(type) {
		case int64:
		case string:
			fix := ""
			if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil && !secret.IsSecretName(name) {
				fix = fmt.Sprintf("write %s = %d, without quotes", name, n)
			}
			l.typeError(sh, p, name, v, runner, fix)
		case float64:
			l.typeError(sh, p, name, v, runner, "write a whole number without a decimal point")
		default:
			l.typeError(sh, p, name, v, runner, "")
		}
	case shFloat:
		switch v.(type) {
		case int64, float64:
		default:
			l.typeError(sh, p, name, v, runner, "")
		}
	case shDuration:
		switch x := v.(type) {
		case int64:
		case string:
			if _, err := time.ParseDuration(x); err != nil {
				l.add(Finding{ID: "key.type", Severity: Error, Path: p, Runner: runner,
					Message: fmt.Sprintf("%s is not a valid duration: the runner refuses to load the file", name),
					Fix:     `use a Go duration such as "90s", "15m" or "1h30m"`}, p)
			}
		default:
			l.typeError(sh, p, name, v, runner, `use a duration string such as "15m"`)
		}
	case shTime:
		switch x := v.(type) {
		case time.Time:
		case string:
			if _, err := time.Parse(time.RFC3339, x); err != nil {
				l.add(Finding{ID: "key.type", Severity: Error, Path: p, Runner: runner,
					Message: fmt.Sprintf("%s is not an RFC 3339 date-time: the runner refuses to load the file", name),
					Fix:     "write it unquoted, e.g. 2025-01-02T03:04:05Z, or delete it"}, p)
			}
		default:
			l.typeError(sh, p, name, v, runner, "write a date-time such as 2025-01-02T03:04:05Z, or delete it")
		}
	case shStrings, shFloats, shInts:
		arr, ok := v.([]any)
		if !ok {
			fix := ""
			if sh == shStrings {
				if _, isStr := v.(string); isStr {
					fix = fmt.Sprintf(`make it an array: %s = ["..."]`, name)
				}
			}
			l.typeError(sh, p, name, v, runner, fix)
			return
		}
		elem := map[shape]shape{shStrings: shString, shFloats: shFloat, shInts: shInt}[sh]
		for i, x := range arr {
			l.checkElem(elem, indexPath(p, i), name, x, runner)
		}
	case shPullPolicy:
		switch x := v.(type) {
		case string:
		case []any:
			for i, e := range x {
				l.checkElem(shString, indexPath(p, i), name, e, runner)
			}
		default:
			l.typeError(sh, p, name, v, runner, `e.g. pull_policy = ["always", "if-not-present"]`)
		}
	case shTable:
		m, ok := v.(map[string]any)
		if !ok {
			fix := ""
			if _, arr := v.([]map[string]any); arr {
				fix = fmt.Sprintf("write the header as [%s], not [[%s]]", schemaPath, schemaPath)
			}
			l.typeError(sh, p, name, v, runner, fix)
			return
		}
		l.walkTable(schemaPath, p, m, runner)
	case shTables:
		var elems []map[string]any
		switch x := v.(type) {
		case []map[string]any:
			elems = x
		case []any:
			for i, e := range x {
				m, ok := e.(map[string]any)
				if !ok {
					l.add(Finding{ID: "key.type", Severity: Error, Path: indexPath(p, i), Runner: runner,
						Message: fmt.Sprintf("each element of %s must be a table, not %s: the runner refuses to load the file", name, tomlType(e)),
						Fix:     fmt.Sprintf("write each one as a [[%s]] table", schemaPath)}, indexPath(p, i), p)
					continue
				}
				elems = append(elems, m)
			}
			if len(elems) != len(x) {
				return
			}
		default:
			fix := ""
			if _, tbl := v.(map[string]any); tbl {
				fix = fmt.Sprintf("write the header as [[%s]] (an array of tables), not [%s]", schemaPath, schemaPath)
			}
			l.typeError(sh, p, name, v, runner, fix)
			return
		}
		for i, m := range elems {
			r := runner
			if schemaPath == "runners" {
				r, _ = getString(m, "name")
			}
			l.walkTable(schemaPath, indexPath(p, i), m, r)
		}
	default:
		if elem, ok := strings.CutPrefix(string(sh), mapPrefix); ok {
			m, isMap := v.(map[string]any)
			if !isMap {
				// BurntSushi/toml silently skips a non-table value for a
				// map field: the runner loads, without these settings.
				l.add(Finding{ID: "key.type", Severity: Warning, Path: p, Runner: runner,
					Message: fmt.Sprintf("%s must be a table, not %s: the runner ignores it", name, tomlType(v)),
					Fix:     fmt.Sprintf("write it as a table: [%s] with one key = value per line, or %s = { key = \"value\" }", schemaPath, name)}, p)
				return
			}
			if elem == string(shAny) {
				return
			}
			for _, k := range sortedKeys(m) {
				l.checkShape(shape(elem), schemaJoin(schemaPath, "*"), joinKey(p, k), k, m[k], runner)
			}
		}
	}
}

func (l *linter) checkElem(sh shape, p, name string, v any, runner string) {
	ok := false
	switch sh {
	case shString:
		_, ok = v.(string)
	case shInt:
		_, ok = v.(int64)
	case shFloat:
		switch v.(type) {
		case int64, float64:
			ok = true
		}
	}
	if !ok {
		l.add(Finding{ID: "key.type", Severity: Error, Path: p, Runner: runner,
			Message: fmt.Sprintf("every element of %s must be %s, not %s: the runner refuses to load the file", name, shapeName(sh), tomlType(v)),
			Fix:     ""}, p)
	}
}
