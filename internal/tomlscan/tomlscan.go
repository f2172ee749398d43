// Package tomlscan finds where things are in a TOML document: each table
// header, each key = value line, the bytes of each value, and inside arrays
// and inline tables the start of every element and key. BurntSushi/toml
// decodes values but reports no positions; render needs them to change one
// runner's keys and leave every other byte alone, and the linter needs them
// to give each finding a line and column. One scanner serves both so that
// they can never disagree about a document.
//
// The scanner is meant for documents BurntSushi has accepted: it checks
// structure, not TOML's value grammar. Its promise (held by its fuzz test)
// is that every document BurntSushi decodes scans, and that the keys it
// finds are the keys BurntSushi reports, in the same order.
package tomlscan

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind says what a line (or run of lines) of the document holds.
type Kind int

const (
	Trivia   Kind = iota // blank or comment-only line
	Header               // [table] or [[array.of.tables]]
	KeyValue             // key = value, possibly spanning lines
)

// Item is one header, one key = value, or one trivia line.
type Item struct {
	Kind Kind
	// Start and End span whole lines: the start of the first and the byte
	// after the line break of the last (or the end of the document).
	Start, End int
	Indent     string   // blanks before the header or key
	Path       []string // the header's or key's segments, unescaped
	Array      bool     // [[...]]
	Value      Value    // for KeyValue
}

// At is the offset of the header's '[' or of the key's first byte.
func (it Item) At() int { return it.Start + len(it.Indent) }

// Value is where a value's bytes are, and for arrays and inline tables
// where their parts are.
type Value struct {
	Start, End int
	Elems      []Value // an array's elements, in order
	Fields     []Field // an inline table's keys, in order
}

// Field is one key = value inside an inline table.
type Field struct {
	Path  []string
	At    int // the key's first byte
	Value Value
}

// Error is a document the scanner could not follow.
type Error struct {
	Line int // 1-based
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("scanning TOML at line %d: %s", e.Line, e.Msg) }

// BodyStart is where the document proper starts: after a byte order mark,
// which BurntSushi (and so GitLab Runner) skips. It skips the UTF-16 marks
// too, as BurntSushi does.
func BodyStart(src []byte) int {
	switch {
	case bytes.HasPrefix(src, []byte("\xef\xbb\xbf")):
		return 3
	case bytes.HasPrefix(src, []byte("\xff\xfe")), bytes.HasPrefix(src, []byte("\xfe\xff")):
		return 2
	}
	return 0
}

// Scan splits src into items, in document order. On an error it returns
// the items scanned before it, so callers that only want positions (the
// linter) can use what is known.
func Scan(src []byte) ([]Item, error) {
	s := &scanner{src: src, pos: BodyStart(src)}
	var items []Item
	for s.pos < len(src) {
		it, err := s.line()
		if err != nil {
			return items, err
		}
		items = append(items, it)
	}
	return items, nil
}

type scanner struct {
	src []byte
	pos int
}

func (s *scanner) errorf(format string, args ...any) error {
	line := 1 + bytes.Count(s.src[:min(s.pos, len(s.src))], []byte("\n"))
	return &Error{Line: line, Msg: fmt.Sprintf(format, args...)}
}

func (s *scanner) peek(off int) byte {
	if s.pos+off < len(s.src) {
		return s.src[s.pos+off]
	}
	return 0
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.src) && (s.src[s.pos] == ' ' || s.src[s.pos] == '\t') {
		s.pos++
	}
}

// toLineEnd moves past the rest of the line, including its line break.
func (s *scanner) toLineEnd() {
	if i := bytes.IndexByte(s.src[s.pos:], '\n'); i >= 0 {
		s.pos += i + 1
	} else {
		s.pos = len(s.src)
	}
}

func (s *scanner) line() (Item, error) {
	start := s.pos
	s.skipSpace()
	it := Item{Start: start, Indent: string(s.src[start:s.pos])}
	switch c := s.peek(0); {
	case s.pos >= len(s.src) || c == '\n' || c == '\r' || c == '#':
		s.toLineEnd()
		it.Kind = Trivia
	case c == '[':
		it.Kind = Header
		s.pos++
		if s.peek(0) == '[' {
			it.Array = true
			s.pos++
		}
		path, err := s.keyPath(']')
		if err != nil {
			return it, err
		}
		it.Path = path
		s.pos++ // ]
		if it.Array {
			if s.peek(0) != ']' {
				return it, s.errorf("expected ]]")
			}
			s.pos++
		}
		s.toLineEnd()
	default:
		it.Kind = KeyValue
		path, err := s.keyPath('=')
		if err != nil {
			return it, err
		}
		it.Path = path
		s.pos++ // =
		s.skipSpace()
		v, err := s.value()
		if err != nil {
			return it, err
		}
		it.Value = v
		s.toLineEnd()
	}
	it.End = s.pos
	return it, nil
}

// keyPath reads a dotted key up to (not past) the terminator.
func (s *scanner) keyPath(term byte) ([]string, error) {
	var parts []string
	for {
		s.skipSpace()
		var part string
		switch s.peek(0) {
		case '"', '\'':
			quote := s.peek(0)
			raw, err := s.oneLineString()
			if err != nil {
				return nil, err
			}
			part = raw
			if quote == '"' {
				if part, err = unescape(raw); err != nil {
					return nil, s.errorf("key %s: %v", raw, err)
				}
			}
		default:
			begin := s.pos
			for s.pos < len(s.src) && isBareKeyChar(s.src[s.pos]) {
				s.pos++
			}
			if s.pos == begin {
				return nil, s.errorf("expected a key")
			}
			part = string(s.src[begin:s.pos])
		}
		parts = append(parts, part)
		s.skipSpace()
		switch s.peek(0) {
		case '.':
			s.pos++
		case term:
			return parts, nil
		default:
			return nil, s.errorf("unexpected %q in key", s.peek(0))
		}
	}
}

func isBareKeyChar(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// oneLineString reads a one-line "..." or '...' (the quote at s.pos) and
// returns its text between the quotes, escapes as written; only "..."
// has escapes.
func (s *scanner) oneLineString() (string, error) {
	quote := s.src[s.pos]
	s.pos++
	begin := s.pos
	for s.pos < len(s.src) {
		switch c := s.src[s.pos]; {
		case c == '\\' && quote == '"':
			s.pos += 2
			continue
		case c == quote:
			str := string(s.src[begin:s.pos])
			s.pos++
			return str, nil
		case c == '\n':
			return "", s.errorf("unterminated string")
		}
		s.pos++
	}
	return "", s.errorf("unterminated string")
}

func (s *scanner) multiline(quote byte) error {
	s.pos += 3
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		if c == '\\' && quote == '"' {
			s.pos += 2
			continue
		}
		if c == quote && s.peek(1) == quote && s.peek(2) == quote {
			s.pos += 3
			// The whole run of quotes closes the string: TOML allows two
			// more (""""" is `""` then the delimiter), and BurntSushi, the
			// runner's decoder, takes any longer run the same way.
			for s.peek(0) == quote {
				s.pos++
			}
			return nil
		}
		s.pos++
	}
	return s.errorf("unterminated multi-line string")
}

// value moves past one value: a string, an array or inline table (which may
// span lines and hold comments), or a bare scalar.
func (s *scanner) value() (Value, error) {
	v := Value{Start: s.pos}
	var err error
	switch s.peek(0) {
	case '"', '\'':
		if q := s.peek(0); s.peek(1) == q && s.peek(2) == q {
			err = s.multiline(q)
		} else {
			_, err = s.oneLineString()
		}
	case '[', '{':
		err = s.container(&v)
	default:
		for s.pos < len(s.src) {
			c := s.src[s.pos]
			if c == '\n' || c == '\r' || c == '#' || c == ',' || c == ']' || c == '}' {
				break
			}
			s.pos++
		}
		// Dates may contain a space ("1979-05-27 07:32:00"); trailing
		// blanks are not part of the value.
		for s.pos > v.Start && (s.src[s.pos-1] == ' ' || s.src[s.pos-1] == '\t') {
			s.pos--
		}
		if s.pos == v.Start {
			err = s.errorf("expected a value")
		}
	}
	v.End = s.pos
	return v, err
}

// container reads an array or inline table into v, recording where each
// element or key starts.
func (s *scanner) container(v *Value) error {
	open := s.src[s.pos]
	closer := byte(']')
	if open == '{' {
		closer = '}'
	}
	s.pos++
	for s.pos < len(s.src) {
		switch c := s.src[s.pos]; c {
		case ' ', '\t', '\r', '\n', ',':
			s.pos++
		case '#':
			s.toLineEnd()
		case closer:
			s.pos++
			return nil
		default:
			if open == '[' {
				el, err := s.value()
				if err != nil {
					return err
				}
				v.Elems = append(v.Elems, el)
				continue
			}
			f := Field{At: s.pos}
			path, err := s.keyPath('=')
			if err != nil {
				return err
			}
			f.Path = path
			s.pos++ // =
			s.skipSpace()
			if f.Value, err = s.value(); err != nil {
				return err
			}
			v.Fields = append(v.Fields, f)
		}
	}
	return s.errorf("unterminated %c", open)
}

// unescape turns the text of a one-line basic string into its value, with
// the escapes BurntSushi accepts (TOML 1.1: \e and \xHH besides 1.0's).
func unescape(raw string) (string, error) {
	if !strings.Contains(raw, `\`) {
		return raw, nil
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(raw) {
			return "", fmt.Errorf("escape at the end")
		}
		i++
		if r, ok := simpleEscapes[raw[i]]; ok {
			b.WriteByte(r)
			continue
		}
		n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[raw[i]]
		if n == 0 || i+n >= len(raw) {
			return "", fmt.Errorf("invalid escape \\%c", raw[i])
		}
		code, err := strconv.ParseUint(raw[i+1:i+1+n], 16, 32)
		if err != nil || !utf8.ValidRune(rune(code)) {
			return "", fmt.Errorf("invalid escape \\%s", raw[i:i+1+n])
		}
		b.WriteRune(rune(code))
		i += n
	}
	return b.String(), nil
}

var simpleEscapes = map[byte]byte{'b': '\b', 't': '\t', 'n': '\n', 'f': '\f', 'r': '\r', 'e': 0x1b, '"': '"', '\\': '\\'}

// IsBareKey reports whether k can be written without quotes.
func IsBareKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if !isBareKeyChar(k[i]) {
			return false
		}
	}
	return k != ""
}
