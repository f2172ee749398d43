package render

import (
	"errors"
	"fmt"
	"slices"

	"github.com/BurntSushi/toml"

	"github.com/runnerup/runnerup/internal/tomlscan"
)

// RemoveRunners returns old without the [[runners]] entries at indexes
// (0-based, in file order): each entry's header, keys and runners.*
// sub-tables. Every other byte stays. Comment lines after an entry's last
// key are kept, because in a hand-kept file they usually introduce what
// follows; a blank line left doubled by the removal is dropped.
func RemoveRunners(old []byte, indexes []int) ([]byte, error) {
	if len(indexes) == 0 {
		return old, nil
	}
	c, err := ParseConfig(old)
	if err != nil {
		return nil, err
	}
	out, err := c.Remove(indexes)
	if err != nil {
		return nil, err
	}
	return out.Data, nil
}

// Remove is RemoveRunners on a config as read: the file without the
// entries at indexes, and its entries without them (renumbered), so the
// result is edited without decoding it again.
func (c *Config) Remove(indexes []int) (*Config, error) {
	if len(indexes) == 0 {
		return c, nil
	}
	old := c.Data
	secs, err := scanDocument(old)
	if err != nil {
		return nil, &ConfigTOMLError{Err: err}
	}
	blocks := runnerBlocks(secs)
	if len(blocks) != len(c.Runners) {
		return nil, &ConfigTOMLError{Err: errors.New("runners are not all written as [[runners]] tables (an inline array?); runnerup edits only [[runners]] tables")}
	}
	idx := slices.Clone(indexes)
	slices.Sort(idx)
	idx = slices.Compact(idx)
	ed := &editor{src: old}
	for _, i := range idx {
		if i < 0 || i >= len(blocks) {
			return nil, fmt.Errorf("no runner entry #%d: config.toml has %d", i+1, len(blocks))
		}
		b := blocks[i]
		start := secs[b.first].header.Start
		end := secs[b.last].header.End
		for _, it := range secs[b.last].items {
			if it.Kind != tomlscan.Trivia {
				end = it.End
			}
		}
		if blankLineAt(old, end) && (start == tomlscan.BodyStart(old) || blankLineBefore(old, start)) {
			end = skipLine(old, end)
		}
		ed.replace(start, end, "")
	}
	out := ed.apply()
	// The result is checked, not trusted: it must parse, with exactly the
	// other entries left.
	var after struct {
		Runners []map[string]any `toml:"runners"`
	}
	if _, err := toml.Decode(string(out), &after); err != nil || len(after.Runners) != len(c.Runners)-len(idx) {
		return nil, fmt.Errorf("internal error: removing runners left a config.toml that does not parse as expected (%v); nothing was written", err)
	}
	f := *c.File
	f.Runners = make([]ExistingRunner, 0, len(c.Runners)-len(idx))
	for _, r := range c.Runners {
		if !slices.Contains(idx, r.Index) {
			r.Index = len(f.Runners)
			f.Runners = append(f.Runners, r)
		}
	}
	return &Config{Data: out, File: &f}, nil
}

func blankLineAt(src []byte, pos int) bool {
	for ; pos < len(src); pos++ {
		switch src[pos] {
		case ' ', '\t', '\r':
		case '\n':
			return true
		default:
			return false
		}
	}
	return false
}

func blankLineBefore(src []byte, pos int) bool {
	// pos starts a line; the line before it is blank when it holds only
	// whitespace.
	if pos < 2 {
		return pos == 1
	}
	i := pos - 2
	for ; i >= 0 && src[i] != '\n'; i-- {
		if src[i] != ' ' && src[i] != '\t' && src[i] != '\r' {
			return false
		}
	}
	return true
}

func skipLine(src []byte, pos int) int {
	for pos < len(src) && src[pos] != '\n' {
		pos++
	}
	if pos < len(src) {
		pos++
	}
	return pos
}
