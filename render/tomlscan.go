package render

import (
	"strings"

	"github.com/runnerup/runnerup/internal/tomlscan"
)

// A section is a header (nil for the document's top) and what follows it up
// to the next header; render edits config.toml section by section, with
// the byte positions internal/tomlscan finds.
type section struct {
	header *tomlscan.Item
	items  []tomlscan.Item // keys and trivia
}

// scanDocument splits src into sections.
func scanDocument(src []byte) ([]section, error) {
	items, err := tomlscan.Scan(src)
	if err != nil {
		return nil, err
	}
	secs := []section{{}}
	for i := range items {
		if items[i].Kind == tomlscan.Header {
			secs = append(secs, section{header: &items[i]})
			continue
		}
		cur := &secs[len(secs)-1]
		cur.items = append(cur.items, items[i])
	}
	return secs, nil
}

func (s *section) path() []string {
	if s.header == nil {
		return nil
	}
	return s.header.Path
}

// lastKeyEnd is where a new key goes: after the last key of the section,
// else after its header; -1 for a top section without keys.
func (s *section) lastKeyEnd() int {
	for i := len(s.items) - 1; i >= 0; i-- {
		if s.items[i].Kind == tomlscan.KeyValue {
			return s.items[i].End
		}
	}
	if s.header != nil {
		return s.header.End
	}
	return -1
}

// contentEnd is after the last header or key of the section, so that
// trailing comments stay attached to whatever follows them.
func (s *section) contentEnd() int { return s.lastKeyEnd() }

// keys are the section's keys that GitLab Runner decodes as name: the
// exact spelling first, then those that differ only in case. BurntSushi
// matches struct fields case-insensitively, and with two spellings which
// one the runner keeps depends on map order, so an edit must set them all.
func (s *section) keys(name string) []*tomlscan.Item {
	var exact, folded []*tomlscan.Item
	for i := range s.items {
		it := &s.items[i]
		if it.Kind != tomlscan.KeyValue || len(it.Path) != 1 {
			continue
		}
		switch {
		case it.Path[0] == name:
			exact = append(exact, it)
		case strings.EqualFold(it.Path[0], name):
			folded = append(folded, it)
		}
	}
	return append(exact, folded...)
}

// keyUnder is the first key of the section that is name or starts with
// name (an inline table or dotted keys defining that table), in any case.
func (s *section) keyUnder(name string) *tomlscan.Item {
	for i := range s.items {
		it := &s.items[i]
		if it.Kind == tomlscan.KeyValue && strings.EqualFold(it.Path[0], name) {
			return it
		}
	}
	return nil
}

// keyIndent is the indentation to give a new key in this section.
func (s *section) keyIndent() string {
	for i := len(s.items) - 1; i >= 0; i-- {
		if s.items[i].Kind == tomlscan.KeyValue {
			return s.items[i].Indent
		}
	}
	if s.header != nil {
		return s.header.Indent + "  "
	}
	return ""
}
