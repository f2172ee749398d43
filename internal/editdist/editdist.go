// Package editdist measures how far apart two words are, for did-you-mean
// suggestions (unknown keys, executors, pull policies, image tags).
package editdist

import "strings"

// Levenshtein is the edit distance between a and b, counted in runes.
func Levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// Closest returns the candidate that word most likely misspells, or "" when
// none is near enough to be a plausible typo. A candidate that differs only
// in case, dashes, underscores or spaces wins (tls_ca_file → tls-ca-file,
// ipc_mode → ipcmode); otherwise the first at the smallest edit distance
// (case ignored; swapping two neighbours counts as one edit, "nmae" →
// "name") when that is within the word's allowance: 1 up to 4 runes (so
// "fish" does not suggest "bash"), 2 up to 8, 3 beyond.
func Closest(word string, candidates []string) string {
	nw := squash(word)
	for _, c := range candidates {
		if c != word && squash(c) == nw {
			return c
		}
	}
	limit := 3
	switch n := len([]rune(word)); {
	case n <= 4:
		limit = 1
	case n <= 8:
		limit = 2
	}
	best, bestD := "", 0
	lw := strings.ToLower(word)
	for _, c := range candidates {
		d := transposeDistance(lw, strings.ToLower(c))
		if d <= limit && (best == "" || d < bestD) {
			best, bestD = c, d
		}
	}
	return best
}

var squasher = strings.NewReplacer("-", "", "_", "", " ", "")

// squash folds case and drops the separators spellings disagree on.
func squash(s string) string { return squasher.Replace(strings.ToLower(s)) }

// transposeDistance is Levenshtein with a swap of two adjacent runes as one
// edit (optimal string alignment), the commonest typo.
func transposeDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
