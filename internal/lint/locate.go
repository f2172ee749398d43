package lint

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/runnerup/runnerup/internal/tomlscan"
)

// position is a 1-based line and byte column in the source.
type position struct{ line, col int }

// locate finds where every key, table header and array element of a TOML
// document starts. BurntSushi/toml reports no positions for decoded keys;
// internal/tomlscan, the scanner render edits config.toml with, finds
// them. It is meant for documents BurntSushi has already accepted; on
// anything else it knows the positions before the first line it cannot
// follow.
//
// Paths are canonical (see joinKey): runners[1].docker.services[0].name.
// Arrays of tables and array elements carry their index; the element of an
// array of tables maps to the position of its [[header]].
func locate(src string) map[string]position {
	pos, _ := locateAll(src)
	return pos
}

// locateAll is locate plus, for every table a header opens (and each table
// on the header's way to it), the header as written: "runner" and
// "runner.kubernetes" → "[[runner.kubernetes.volumes.pvc]]".
func locateAll(src string) (map[string]position, map[string]string) {
	l := &locator{pos: map[string]position{}, arrays: map[string]int{}, headers: map[string]string{}, bodyStart: tomlscan.BodyStart([]byte(src))}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			l.lineStarts = append(l.lineStarts, i+1)
		}
	}
	items, _ := tomlscan.Scan([]byte(src)) // on an error: what came before it
	table := ""
	for _, it := range items {
		switch it.Kind {
		case tomlscan.Header:
			var via []string
			table, via = l.resolve(it.Path, it.Array)
			header := headerText(src[it.At():it.End], it.Array)
			for _, p := range append(via, table) {
				l.set(p, it.At())
				if _, ok := l.headers[p]; !ok {
					l.headers[p] = header
				}
			}
		case tomlscan.KeyValue:
			l.keyValue(table, it.Path, it.At(), it.Value)
		}
	}
	return l.pos, l.headers
}

type locator struct {
	lineStarts []int // offsets of the second and later lines
	bodyStart  int   // after a byte order mark, which editors do not show as a column
	pos        map[string]position
	arrays     map[string]int    // array-of-tables path -> index of its last element
	headers    map[string]string // table path -> the first header that opens it or a table under it
}

func (l *locator) position(off int) position {
	n := sort.SearchInts(l.lineStarts, off+1) // lines starting at or before off
	start := l.bodyStart
	if n > 0 {
		start = l.lineStarts[n-1]
	}
	return position{line: n + 1, col: off - start + 1}
}

func (l *locator) set(path string, off int) {
	if _, ok := l.pos[path]; !ok {
		l.pos[path] = l.position(off)
	}
}

// headerText is a header line's header as written: "[[a.b]]".
func headerText(line string, array bool) string {
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	closing := "]"
	if array {
		closing = "]]"
	}
	if i := strings.LastIndex(line, closing); i >= 0 {
		line = line[:i+len(closing)]
	}
	return strings.TrimSpace(line)
}

// resolve turns a header's key path into a canonical path, giving every
// array of tables on the way the index of its current element; via are
// the tables on the way.
func (l *locator) resolve(segs []string, array bool) (cur string, via []string) {
	for k, seg := range segs {
		if k > 0 {
			via = append(via, cur)
		}
		cur = joinKey(cur, seg)
		if array && k == len(segs)-1 {
			n, ok := l.arrays[cur]
			if ok {
				n++
			}
			l.arrays[cur] = n
			cur = indexPath(cur, n)
		} else if n, ok := l.arrays[cur]; ok {
			cur = indexPath(cur, n)
		}
	}
	return cur, via
}

// keyValue records a (possibly dotted) key at its start, every prefix of
// it too, and what its value holds.
func (l *locator) keyValue(base string, segs []string, at int, v tomlscan.Value) {
	path := base
	for _, seg := range segs {
		path = joinKey(path, seg)
		l.set(path, at)
	}
	l.value(path, v)
}

func (l *locator) value(path string, v tomlscan.Value) {
	for i, el := range v.Elems {
		p := indexPath(path, i)
		l.set(p, el.Start)
		l.value(p, el)
	}
	for _, f := range v.Fields {
		l.keyValue(path, f.Path, f.At, f.Value)
	}
}

// joinKey appends key to a canonical path, quoting keys that are not bare.
func joinKey(parent, key string) string {
	k := key
	if !tomlscan.IsBareKey(k) {
		k = strconv.Quote(key)
	}
	if parent == "" {
		return k
	}
	return parent + "." + k
}

func indexPath(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }
