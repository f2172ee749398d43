// Package fuzzbytes turns a fuzz target's []byte into a stream of choices,
// so that generators of test inputs (config.toml files, answers files)
// can be driven by the fuzzer and replayed from its corpus.
package fuzzbytes

// Source hands out choices from fuzz bytes, zero when they run out (so an
// empty seed always takes the first option).
type Source struct {
	b []byte
	i int
}

// New reads choices from b.
func New(b []byte) *Source { return &Source{b: b} }

// Next is the next byte, 0 past the end.
func (s *Source) Next() byte {
	if s.i >= len(s.b) {
		return 0
	}
	c := s.b[s.i]
	s.i++
	return c
}

// Pick is a choice among n (n > 0).
func (s *Source) Pick(n int) int { return int(s.Next()) % n }

// Flag is a yes/no choice.
func (s *Source) Flag() bool { return s.Next()&1 == 1 }

// OneOf picks one of options.
func OneOf[T any](s *Source, options ...T) T { return options[s.Pick(len(options))] }
