package tomlscan

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

func TestScanItems(t *testing.T) {
	src := "\ufeffa = 1 # c\r\n\n[[ \"run\\u006Eers\" ]] # h\n  name = 'x'\n  env = [\"A\", # c\n    {k.j = 2},\n  ]\n"
	items, err := Scan([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		kind   Kind
		text   string // src[Start:End]
		path   string
		indent string
		value  string
	}
	wants := []want{
		{KeyValue, "a = 1 # c\r\n", "a", "", "1"},
		{Trivia, "\n", "", "", ""},
		{Header, "[[ \"run\\u006Eers\" ]] # h\n", "runners", "", ""},
		{KeyValue, "  name = 'x'\n", "name", "  ", "'x'"},
		{KeyValue, "  env = [\"A\", # c\n    {k.j = 2},\n  ]\n", "env", "  ", "[\"A\", # c\n    {k.j = 2},\n  ]"},
	}
	if len(items) != len(wants) {
		t.Fatalf("%d items, want %d: %+v", len(items), len(wants), items)
	}
	for i, w := range wants {
		it := items[i]
		got := want{it.Kind, src[it.Start:it.End], strings.Join(it.Path, "."), it.Indent, src[it.Value.Start:it.Value.End]}
		if got != w {
			t.Errorf("item %d = %+v, want %+v", i, got, w)
		}
	}
	if items[0].Start != 3 {
		t.Errorf("first item starts at %d, want 3 (after the byte order mark)", items[0].Start)
	}
	env := items[4].Value
	if len(env.Elems) != 2 || src[env.Elems[0].Start:env.Elems[0].End] != `"A"` {
		t.Fatalf("env elements = %+v", env.Elems)
	}
	inline := env.Elems[1]
	if len(inline.Fields) != 1 || !slices.Equal(inline.Fields[0].Path, []string{"k", "j"}) || src[inline.Fields[0].At:inline.Fields[0].At+3] != "k.j" {
		t.Errorf("inline table fields = %+v", inline.Fields)
	}
}

func TestBodyStart(t *testing.T) {
	for src, want := range map[string]int{"": 0, "a = 1": 0, "\ufeffa": 3, "\xff\xfea": 2, "\xfe\xffa": 2, "\xef\xbb": 0} {
		if got := BodyStart([]byte(src)); got != want {
			t.Errorf("BodyStart(%q) = %d, want %d", src, got, want)
		}
	}
}

func TestScanErrors(t *testing.T) {
	for src, msg := range map[string]string{
		"= 1\n":         "line 1: expected a key",
		"a = \"x\n":     "line 1: unterminated string",
		"\n[a\n":        `line 2: unexpected '\n' in key`,
		"a = [1, 2\n":   "unterminated [",
		"[[a]\n":        "expected ]]",
		"a = '''x\n":    "unterminated multi-line string",
		"\"\\q\" = 1\n": `key \q: invalid escape \q`,
	} {
		items, err := Scan([]byte(src))
		var se *Error
		if !errors.As(err, &se) || !strings.Contains(err.Error(), msg) {
			t.Errorf("Scan(%q) = %v, want an *Error with %q", src, err, msg)
		}
		_ = items
	}
}

// scannedKeys lists the keys the scan found the way BurntSushi's
// MetaData.Keys does: headers, keys under their table, keys of inline
// tables (also inside arrays, without an index).
func scannedKeys(items []Item) []string {
	var out []string
	var table []string
	var fields func(prefix []string, v Value)
	fields = func(prefix []string, v Value) {
		for _, f := range v.Fields {
			p := append(slices.Clone(prefix), f.Path...)
			out = append(out, toml.Key(p).String())
			fields(p, f.Value)
		}
		for _, el := range v.Elems {
			fields(prefix, el)
		}
	}
	for _, it := range items {
		switch it.Kind {
		case Header:
			table = it.Path
			out = append(out, toml.Key(table).String())
		case KeyValue:
			p := append(slices.Clone(table), it.Path...)
			out = append(out, toml.Key(p).String())
			fields(p, it.Value)
		}
	}
	return out
}

// valueAt decodes a value's bytes on their own.
func valueAt(t *testing.T, src string, v Value) any {
	t.Helper()
	var m map[string]any
	if _, err := toml.Decode("v = "+src[v.Start:v.End], &m); err != nil {
		t.Fatalf("value bytes %q do not decode on their own: %v\n--- document\n%q", src[v.Start:v.End], err, src)
	}
	return m["v"]
}

// lookup walks the decoded document along a header path, taking the last
// element of every array of tables on the way (the one a header in document
// order adds to), then along a key path.
func lookup(doc map[string]any, table, key []string) (any, bool) {
	var cur any = doc
	for i, seg := range append(slices.Clone(table), key...) {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[seg]
		if !ok {
			return nil, false
		}
		if arr, isArr := cur.([]map[string]any); isArr && i < len(table) && len(arr) > 0 {
			cur = arr[len(arr)-1]
		}
	}
	return cur, true
}

// checkValues holds that every value's bytes decode to what BurntSushi
// decodes at that place in the whole document, and likewise for every
// array element and inline-table key. Documents are checked growing, header
// by header, so "the last element" of an array of tables is the current one.
func checkValues(t *testing.T, src string, items []Item) {
	t.Helper()
	var fields func(want any, v Value)
	fields = func(want any, v Value) {
		if got := valueAt(t, src, v); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("value bytes %q decode to %v, the document has %v there\n--- document\n%q", src[v.Start:v.End], got, want, src)
		}
		switch w := want.(type) {
		case []any:
			for i, el := range v.Elems {
				fields(w[i], el)
			}
		case []map[string]any:
			for i, el := range v.Elems {
				fields(w[i], el)
			}
		case map[string]any:
			for _, f := range v.Fields {
				inner, ok := lookup(w, nil, f.Path)
				if !ok {
					t.Fatalf("inline key %v not in %v", f.Path, w)
				}
				fields(inner, f.Value)
			}
		}
	}
	var table []string
	for i, it := range items {
		switch it.Kind {
		case Header:
			table = it.Path
		case KeyValue:
			// Decode the document up to the end of the next header-less
			// run, so arrays of tables end at the current element.
			end := len(src)
			for _, next := range items[i+1:] {
				if next.Kind == Header {
					end = next.Start
					break
				}
			}
			var doc map[string]any
			if _, err := toml.Decode(src[:end], &doc); err != nil {
				return // a later header completes a table this part leaves open
			}
			want, ok := lookup(doc, table, it.Path)
			if !ok {
				t.Fatalf("key %v under %v not in the decoded document\n%q", it.Path, table, src)
			}
			fields(want, it.Value)
		}
	}
}

// redefines reports whether the document gives one key two values (a value
// and then keys under it, or two values), which TOML forbids but BurntSushi
// lets through in some spellings ("0.0 = 1" then "0 = 0"): what it decodes
// there is then not any one value's bytes, so values are not compared.
func redefines(items []Item) bool {
	arrays := map[string]int{}
	var table string
	var seen []string
	var add func(prefix string, path []string, v Value)
	add = func(prefix string, path []string, v Value) {
		p := prefix
		for _, seg := range path {
			p += "\x00" + seg
		}
		seen = append(seen, p)
		for _, f := range v.Fields {
			add(p, f.Path, f.Value)
		}
	}
	for _, it := range items {
		switch it.Kind {
		case Header:
			cur := ""
			for k, seg := range it.Path {
				cur += "\x00" + seg
				if it.Array && k == len(it.Path)-1 {
					arrays[cur]++
					cur += fmt.Sprintf("[%d]", arrays[cur])
				} else if n, ok := arrays[cur]; ok {
					cur += fmt.Sprintf("[%d]", n)
				}
			}
			table = cur
		case KeyValue:
			add(table, it.Path, it.Value)
		}
	}
	for i, a := range seen {
		for _, b := range seen[i+1:] {
			if a == b || strings.HasPrefix(b, a+"\x00") || strings.HasPrefix(a, b+"\x00") {
				return true
			}
		}
	}
	return false
}

// FuzzScan: on every document BurntSushi decodes, Scan succeeds, finds the
// keys BurntSushi reports in the same order, and each value's bytes decode
// to the value BurntSushi found there. On any input it terminates without
// panicking.
func FuzzScan(f *testing.F) {
	for _, seed := range []string{
		"",
		"\ufeffconcurrent = 1\n[[runners]]\nname = \"a\"\n",
		"\xff\xfea = 1\n",
		"a = 1\r\n[t]\r\nb = 'x' # c\r\n",
		"a.b.c = 1\nx = {y = 1, z.w = [1,{q=2}]}\n[[t]]\nk=1\n[[t]]\n[t.s]\nm=2\n[[t.arr]]\n",
		"a = {\n b = 1, # c\n c = [\n 1,\n ],\n}\n",
		"\"\\x41\\e\" = 1\n'lit' = 2\n\"\" = 3\n",
		"s = \"\"\"\n[[runners]]\nname = \"fake\"\\\n  x\"\"\"\"\"\nl = '''a''''\n",
		"d = 1979-05-27 07:32:00 # date with a space\nt = 07:32\nf = [inf, -nan, +1_000, 0x1F, 1e3]\n",
		"[ a . \"b\" . 'c' ]\n[[x.y]]\n",
		"a=\"#x\"#c\n[t]\t # c\n1234 = true\ntrue = false\n- = 1979-05-27T00:32:00.999999-07:00\n",
		"a = [[1, 2], [\"x\", [{b = {c = 1}}]], {}, []]\ne = {}\n\tm = \"\"\"a\\   \n  b\"\"\"\nl = 'say \"hi\"'\n",
		"x = { a = 1, b = { c = 'd' } }\r\n[[x2]]\r\n[[x2]]\r\nk = [ \r\n 'v', \r\n]\r\n",
	} {
		f.Add(seed)
	}
	for _, p := range []string{"../../render/testdata/existing.toml", "../../examples/runner.toml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		items, err := Scan([]byte(src))
		var md toml.MetaData
		var doc map[string]any
		md, derr := toml.Decode(src, &doc)
		if derr != nil {
			return // positions are promised only for valid TOML
		}
		if err != nil {
			t.Fatalf("BurntSushi decodes the document, the scanner refuses it: %v\n%q", err, src)
		}
		var want []string
		for _, k := range md.Keys() {
			want = append(want, k.String())
		}
		if got := scannedKeys(items); !slices.Equal(got, want) {
			t.Fatalf("keys found:\n%q\nBurntSushi's:\n%q\n--- document\n%q", got, want, src)
		}
		if !redefines(items) {
			checkValues(t, src, items)
		}
	})
}
