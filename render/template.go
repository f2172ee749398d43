package render

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// SetRunnerKeys writes keys into the [[runners]] entry at index: keys
// runnerup does not manage (from --template-config, register flags or
// [runner.extra]), in config.toml's own spelling. keys is a decoded TOML
// tree relative to the entry: a scalar or array sets that key, a nested map
// a sub-table ([runners.cache.s3]), a list of maps an array of tables.
// A key that already holds the same value keeps its bytes; a missing
// sub-table is added at the end of the entry; an array of tables replaces
// the entry's. Every other byte of doc stays.
func SetRunnerKeys(doc []byte, index int, keys map[string]any) ([]byte, error) {
	if len(keys) == 0 {
		return doc, nil
	}
	secs, err := scanDocument(doc)
	if err != nil {
		return nil, &ConfigTOMLError{Err: err}
	}
	blocks := runnerBlocks(secs)
	if index < 0 || index >= len(blocks) {
		return nil, fmt.Errorf("setting runner keys: no [[runners]] entry %d", index)
	}
	b := blocks[index]
	w := &treeWriter{ed: &editor{src: doc}, secs: secs, b: b, end: secs[b.last].lastKeyEnd(),
		indent: secs[b.first].header.Indent}
	if err := w.table([]string{"runners"}, keys); err != nil {
		return nil, err
	}
	out := w.ed.apply()
	if _, err := toml.Decode(string(out), new(map[string]any)); err != nil {
		return nil, &ConfigTOMLError{Err: fmt.Errorf("runner %d: cannot add its keys as tables (%v): the entry writes one of these tables inline or with dotted keys; write it as a [runners.…] table", index, tomlErr(err))}
	}
	return out, nil
}

type treeWriter struct {
	ed     *editor
	secs   []section
	b      block
	end    int // where new tables go: after the entry's last key
	indent string
}

// section finds the entry's table at path (the entry itself for
// ["runners"]); array says [[…]].
func (w *treeWriter) section(path []string, array bool) []*section {
	var out []*section
	for i := w.b.first; i <= w.b.last; i++ {
		if slices.Equal(w.secs[i].path(), path) && (i == w.b.first || w.secs[i].header.Array == array) {
			out = append(out, &w.secs[i])
		}
	}
	return out
}

func (w *treeWriter) table(path []string, m map[string]any) error {
	var scalars, tables, arrays []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		switch v := m[k].(type) {
		case map[string]any:
			tables = append(tables, k)
		default:
			if _, ok := TableList(v); ok {
				arrays = append(arrays, k)
			} else {
				scalars = append(scalars, k)
			}
		}
	}
	depth := len(path) - 1
	if secs := w.section(path, false); len(secs) > 0 {
		sec := secs[0]
		at := sec.lastKeyEnd()
		for _, k := range scalars {
			w.ed.setKey(sec, k, m[k], at, "")
		}
	} else if len(scalars) > 0 || len(tables) == 0 && len(arrays) == 0 {
		hdrIndent := w.indent + strings.Repeat("  ", depth)
		kvs := make([]keyValue, 0, len(scalars))
		for _, k := range scalars {
			kvs = append(kvs, keyValue{key: k, value: m[k]})
		}
		w.ed.insert(w.end, hdrIndent+"["+headerPath(path)+"]\n"+renderKeys(kvs, hdrIndent+"  "))
	}
	for _, k := range tables {
		if err := w.table(append(slices.Clone(path), k), m[k].(map[string]any)); err != nil {
			return err
		}
	}
	for _, k := range arrays {
		sub := append(slices.Clone(path), k)
		for _, sec := range w.section(sub, true) {
			w.ed.replace(sec.header.Start, sec.contentEnd(), "")
		}
		hdrIndent := w.indent + strings.Repeat("  ", depth+1)
		elems, _ := TableList(m[k])
		for _, elem := range elems {
			var kvs []keyValue
			for _, ek := range slices.Sorted(maps.Keys(elem)) {
				if _, nested := elem[ek].(map[string]any); nested {
					return fmt.Errorf("setting %s: nested tables inside an array of tables are not supported; write them in config.toml directly", headerPath(sub))
				}
				kvs = append(kvs, keyValue{key: ek, value: elem[ek]})
			}
			w.ed.insert(w.end, hdrIndent+"[["+headerPath(sub)+"]]\n"+renderKeys(kvs, hdrIndent+"  "))
		}
	}
	return nil
}

func headerPath(path []string) string {
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = quoteKey(p)
	}
	return strings.Join(parts, ".")
}

// TableList reads a decoded TOML array of tables. ok is false for any
// other value: a list of plain values (cap_add = ["NET_ADMIN"]), a list
// mixing tables and values, or an empty []any, which may be either.
func TableList(v any) (list []map[string]any, ok bool) {
	switch v := v.(type) {
	case []map[string]any:
		return v, true
	case []any:
		if len(v) == 0 {
			return nil, false
		}
		out := make([]map[string]any, 0, len(v))
		for _, e := range v {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, false
			}
			out = append(out, m)
		}
		return out, true
	}
	return nil, false
}

// ErrNotOneRunner: a --template-config must hold exactly one [[runners]].
var ErrNotOneRunner = errors.New("a template must contain exactly one [[runners]] entry")

// TemplateRunner decodes a --template-config file as GitLab Runner does
// (configTemplate.MergeTo): exactly one [[runners]] entry, global keys
// ignored. It returns the entry as a decoded tree, in config.toml
// spelling, and the keys outside [[runners]] (concurrent, check_interval,
// [session_server], …), sorted, which the runner ignores in a template.
func TemplateRunner(data []byte) (entry map[string]any, globals []string, err error) {
	var doc map[string]any
	if _, err := toml.Decode(string(data), &doc); err != nil {
		return nil, nil, tomlErr(err)
	}
	var runners []map[string]any
	switch v := doc["runners"].(type) {
	case []map[string]any:
		runners = v
	case []any:
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				runners = append(runners, m)
			}
		}
	}
	if len(runners) != 1 {
		return nil, nil, fmt.Errorf("%w, it has %d", ErrNotOneRunner, len(runners))
	}
	for _, k := range slices.Sorted(maps.Keys(doc)) {
		if k != "runners" {
			globals = append(globals, k)
		}
	}
	return runners[0], globals, nil
}

// TemplateSplice says what SpliceTemplate copied.
type TemplateSplice struct {
	// Tables are the paths below the entry of the tables and arrays of
	// tables copied (["cache"], ["cache", "s3"], …); Arrays marks the
	// arrays of tables among them.
	Tables [][]string
	Arrays map[string]bool // by strings.Join(path, ".")
}

// SpliceTemplate copies the tables runnerup does not manage from a
// --template-config file into the [[runners]] entry at index, byte for
// byte: their headers, keys in their order, comments (a comment block
// just above a table goes with it) and indentation. [runners.docker] and
// its services are rendered from the answers instead, and a table the
// entry already has is left to SetRunnerKeys, as is one keys (the tree
// SetRunnerKeys will write) does not hold (a table the executor does not
// use, dropped). The result must decode; when it would not, doc comes back
// unchanged with an empty splice (the keys are then written by
// SetRunnerKeys alone).
func SpliceTemplate(doc []byte, index int, template []byte, keys map[string]any) ([]byte, TemplateSplice) {
	none := TemplateSplice{Arrays: map[string]bool{}}
	tsecs, err := scanDocument(template)
	if err != nil {
		return doc, none
	}
	tblocks := runnerBlocks(tsecs)
	secs, err := scanDocument(doc)
	if err != nil || len(tblocks) != 1 {
		return doc, none
	}
	blocks := runnerBlocks(secs)
	if index < 0 || index >= len(blocks) {
		return doc, none
	}
	b, tb := blocks[index], tblocks[0]
	have := map[string]bool{}
	for i := b.first + 1; i <= b.last; i++ {
		have[strings.Join(secs[i].path()[1:], ".")] = true
	}
	var chunks strings.Builder
	out := TemplateSplice{Arrays: map[string]bool{}}
	for i := tb.first + 1; i <= tb.last; i++ {
		sec := &tsecs[i]
		rel := sec.path()[1:]
		key := strings.Join(rel, ".")
		if rel[0] == "docker" && (len(rel) == 1 || rel[1] == "services") || have[key] || !hasPath(keys, rel) {
			continue
		}
		// From the end of the previous section's keys: the comment
		// block above the header comes along.
		start := tsecs[i-1].contentEnd()
		chunk := string(template[start:sec.contentEnd()])
		if !strings.HasSuffix(chunk, "\n") {
			chunk += "\n"
		}
		chunks.WriteString(chunk)
		out.Tables = append(out.Tables, rel)
		if sec.header.Array {
			out.Arrays[key] = true
		}
	}
	if len(out.Tables) == 0 {
		return doc, none
	}
	ed := &editor{src: doc}
	ed.insert(secs[b.last].lastKeyEnd(), chunks.String())
	spliced := ed.apply()
	if _, err := toml.Decode(string(spliced), new(map[string]any)); err != nil {
		return doc, none
	}
	return spliced, out
}

// hasPath reports whether tree holds a value at path.
func hasPath(tree map[string]any, path []string) bool {
	var cur any = tree
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[p]; !ok {
			return false
		}
	}
	return true
}
