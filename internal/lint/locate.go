package lint

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// position is a 1-based line and byte column in the source.
type position struct{ line, col int }

// locate finds where every key, table header and array element of a TOML
// document starts. BurntSushi/toml reports no positions for decoded keys, so
// this small scanner walks the text once. It is meant for documents that
// BurntSushi has already accepted; on anything else it still terminates and
// simply knows fewer positions.
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
	s := &locScanner{src: src, pos: map[string]position{}, arrays: map[string]int{}, headers: map[string]string{}}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			s.lineStarts = append(s.lineStarts, i+1)
		}
	}
	if strings.HasPrefix(src, "\ufeff") {
		s.i = len("\ufeff") // byte order mark
	}
	s.run()
	return s.pos, s.headers
}

type locScanner struct {
	src        string
	i          int
	lineStarts []int // offsets of the second and later lines
	pos        map[string]position
	arrays     map[string]int    // array-of-tables path -> index of its last element
	headers    map[string]string // table path -> the first header that opens it or a table under it
}

func (s *locScanner) position(off int) position {
	n := sort.SearchInts(s.lineStarts, off+1) // lines starting at or before off
	start := 0
	if n > 0 {
		start = s.lineStarts[n-1]
	}
	return position{line: n + 1, col: off - start + 1}
}

func (s *locScanner) set(path string, off int) {
	if _, ok := s.pos[path]; !ok {
		s.pos[path] = s.position(off)
	}
}

func (s *locScanner) eof() bool { return s.i >= len(s.src) }

func (s *locScanner) skipSpace() {
	for !s.eof() && (s.src[s.i] == ' ' || s.src[s.i] == '\t') {
		s.i++
	}
}

// skipBlank skips white space, newlines and comments.
func (s *locScanner) skipBlank() {
	for !s.eof() {
		switch s.src[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		case '#':
			s.skipLine()
		default:
			return
		}
	}
}

// skipLine moves past the next newline.
func (s *locScanner) skipLine() {
	for !s.eof() && s.src[s.i] != '\n' {
		s.i++
	}
	if !s.eof() {
		s.i++
	}
}

func (s *locScanner) run() {
	table := ""
	for {
		s.skipBlank()
		if s.eof() {
			return
		}
		start := s.i
		if s.src[s.i] == '[' {
			array := strings.HasPrefix(s.src[s.i:], "[[")
			if array {
				s.i += 2
			} else {
				s.i++
			}
			var via []string
			table, via = s.resolve(s.keyPath(), array)
			header := s.headerText(start, array)
			for _, p := range append(via, table) {
				s.set(p, start)
				if _, ok := s.headers[p]; !ok {
					s.headers[p] = header
				}
			}
			s.skipLine()
			continue
		}
		s.keyValue(table)
		s.skipLine()
	}
}

// headerText is the header starting at start, as written: "[[a.b]]".
func (s *locScanner) headerText(start int, array bool) string {
	line := s.src[start:]
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
func (s *locScanner) resolve(segs []string, array bool) (cur string, via []string) {
	for k, seg := range segs {
		if k > 0 {
			via = append(via, cur)
		}
		cur = joinKey(cur, seg)
		if array && k == len(segs)-1 {
			n, ok := s.arrays[cur]
			if ok {
				n++
			}
			s.arrays[cur] = n
			cur = indexPath(cur, n)
		} else if n, ok := s.arrays[cur]; ok {
			cur = indexPath(cur, n)
		}
	}
	return cur, via
}

// keyPath reads a possibly dotted, possibly quoted key.
func (s *locScanner) keyPath() []string {
	var segs []string
	for {
		s.skipSpace()
		if s.eof() {
			return segs
		}
		start := s.i
		switch s.src[s.i] {
		case '"':
			s.basicString()
			seg := s.src[start:s.i]
			if u, err := strconv.Unquote(seg); err == nil {
				seg = u
			} else {
				seg = strings.Trim(seg, `"`)
			}
			segs = append(segs, seg)
		case '\'':
			s.literalString()
			segs = append(segs, strings.Trim(s.src[start:s.i], "'"))
		default:
			for !s.eof() && isBareKeyByte(s.src[s.i]) {
				s.i++
			}
			if s.i == start {
				return segs
			}
			segs = append(segs, s.src[start:s.i])
		}
		s.skipSpace()
		if s.eof() || s.src[s.i] != '.' {
			return segs
		}
		s.i++
	}
}

func isBareKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// keyValue reads `key = value` inside table base.
func (s *locScanner) keyValue(base string) {
	start := s.i
	segs := s.keyPath()
	if len(segs) == 0 {
		s.i = start + 1 // not a key: make progress
		return
	}
	path := base
	for _, seg := range segs {
		path = joinKey(path, seg)
		s.set(path, start)
	}
	s.skipSpace()
	if !s.eof() && s.src[s.i] == '=' {
		s.i++
	}
	s.skipSpace()
	s.value(path)
}

func (s *locScanner) value(path string) {
	if s.eof() {
		return
	}
	switch s.src[s.i] {
	case '"':
		if strings.HasPrefix(s.src[s.i:], `"""`) {
			s.multiline(`"""`, true)
		} else {
			s.basicString()
		}
	case '\'':
		if strings.HasPrefix(s.src[s.i:], `'''`) {
			s.multiline(`'''`, false)
		} else {
			s.literalString()
		}
	case '[':
		s.i++
		for n := 0; ; {
			s.skipBlank()
			if s.eof() {
				return
			}
			switch s.src[s.i] {
			case ']':
				s.i++
				return
			case ',':
				s.i++
				continue
			}
			el := indexPath(path, n)
			s.set(el, s.i)
			before := s.i
			s.value(el)
			if s.i == before {
				s.i++
			}
			n++
		}
	case '{':
		s.i++
		for {
			s.skipBlank()
			if s.eof() {
				return
			}
			switch s.src[s.i] {
			case '}':
				s.i++
				return
			case ',':
				s.i++
				continue
			}
			before := s.i
			s.keyValue(path)
			if s.i == before {
				s.i++
			}
		}
	default:
		// A bare scalar: number, boolean or date-time (which may contain a
		// space). It ends where the enclosing syntax continues.
		for !s.eof() && !strings.ContainsRune(",]}\n#", rune(s.src[s.i])) {
			s.i++
		}
	}
}

func (s *locScanner) basicString() {
	s.i++ // opening quote
	for !s.eof() {
		switch s.src[s.i] {
		case '\\':
			s.i += 2
			continue
		case '"':
			s.i++
			return
		case '\n':
			return
		}
		s.i++
	}
	s.i = min(s.i, len(s.src))
}

func (s *locScanner) literalString() {
	s.i++
	for !s.eof() {
		switch s.src[s.i] {
		case '\'':
			s.i++
			return
		case '\n':
			return
		}
		s.i++
	}
}

// multiline skips a multi-line string (triple quotes). Up to two quotes before the
// closing delimiter belong to the content.
func (s *locScanner) multiline(delim string, escapes bool) {
	s.i += 3
	for !s.eof() {
		if escapes && s.src[s.i] == '\\' {
			s.i += 2
			continue
		}
		if strings.HasPrefix(s.src[s.i:], delim) {
			s.i += 3
			for extra := 0; extra < 2 && !s.eof() && s.src[s.i] == delim[0]; extra++ {
				s.i++
			}
			return
		}
		s.i++
	}
	s.i = min(s.i, len(s.src))
}

// joinKey appends key to a canonical path, quoting keys that are not bare.
func joinKey(parent, key string) string {
	k := key
	if k == "" || strings.IndexFunc(k, func(r rune) bool { return r > 0x7f || !isBareKeyByte(byte(r)) }) >= 0 {
		k = strconv.Quote(key)
	}
	if parent == "" {
		return k
	}
	return parent + "." + k
}

func indexPath(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }
