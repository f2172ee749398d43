package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/runnerup/runnerup/internal/fuzzbytes"
	"github.com/runnerup/runnerup/internal/tomlscan"
)

// genDoc is a config.toml built from fuzz bytes, with the byte range of
// every [[runners]] block known independently of the scanner under test.
type genDoc struct {
	text   string
	blocks [][2]int // [start, end) of each runner's block
	names  []string
}

// genConfig writes a config.toml GitLab Runner could load, in the many
// spellings hand-edited files use: indentation, quoting, comments and
// trailing comments, multi-line strings and arrays that contain
// "[[runners]]" or "name =", CRLF line ends, sub-tables in any order,
// dotted keys, and no trailing newline.
func genConfig(seed []byte) genDoc {
	s := fuzzbytes.New(seed)
	nl := "\n"
	if s.Pick(4) == 0 {
		nl = "\r\n"
	}
	var b strings.Builder
	w := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(strings.ReplaceAll(p, "\n", nl))
		}
	}
	if s.Flag() {
		w("# config.toml [[runners]] name = \"not-a-runner\"\n")
	}
	w(fmt.Sprintf("concurrent = %d\n", 1+s.Pick(8)))
	if s.Flag() {
		w("check_interval = 0\nlog_level = 'debug' # trailing\n")
	}
	if s.Flag() {
		w("\n[session_server]\n  listen_address = \"[::]:8093\"\n")
	}
	if s.Flag() {
		w("\n")
	}
	doc := genDoc{}
	n := 2 + s.Pick(4)
	for j := range n {
		indent := []string{"", "  ", "\t", "    "}[s.Pick(4)]
		sub := indent + []string{"  ", "\t", ""}[s.Pick(3)]
		name := fmt.Sprintf("runner-%d", j)
		if j > 0 && s.Pick(3) == 0 {
			w("\n# next runner\n")
		}
		start := b.Len()
		header := []string{"[[runners]]", "[[ runners ]]", "[[runners]] # managed", "[[\"runners\"]]"}[s.Pick(4)]
		w(indent, header, "\n")
		nameLine := []string{`name = "%s"`, `name = '%s'`, `"name" = "%s"`, `name="%s"   # the merge key`}[s.Pick(4)]
		w(sub, fmt.Sprintf(nameLine, name), "\n")
		w(sub, `url = "https://gitlab.example.com"`, "\n")
		w(sub, fmt.Sprintf("id = %d\n", 10+j))
		w(sub, fmt.Sprintf("token = \"glrt-TOKEN%04dTOKENTOKEN\"\n", j))
		w(sub, []string{`executor = "docker"`, `executor = 'docker'`, `executor = "shell"`}[s.Pick(3)], "\n")
		used := map[int]bool{}
		for range s.Pick(4) {
			k := s.Pick(8)
			if used[k] {
				continue
			}
			used[k] = true
			switch k {
			case 0:
				w(sub, "environment = [\"A=1\", # a comment\n", sub, "  \"B=[[runners]]\",\n", sub, "]\n")
			case 1:
				w(sub, "pre_build_script = \"\"\"\n[[runners]]\nname = \"fake\"\n\"\"\"\n")
			case 2:
				w(sub, "builds_dir = '/builds' # not managed\n")
			case 3:
				w(sub, "# [runners.docker]\n")
			case 4:
				w(sub, "limit = 3\n")
			case 5:
				w(sub, "cache.Type = \"s3\"\n") // dotted key: defines runners.cache
			case 6:
				w(sub, "clone_url = \"https://x.example/\" \n")
			case 7:
				w(sub, "request_concurrency = 2\n")
			}
		}
		hasCache := strings.Contains(b.String()[start:], "cache.Type")
		for range s.Pick(5) {
			switch s.Pick(6) {
			case 0:
				if !strings.Contains(b.String()[start:], "[runners.docker]") {
					w(sub, "[runners.docker]\n", sub, "  image = \"ruby:3.3\"\n", sub, "  privileged = false\n")
					if s.Flag() {
						w(sub, "  volumes = [\n", sub, "    \"/cache\",\n", sub, "  ]\n")
					}
					if s.Flag() {
						w(sub, "  shm_size = 0 # not managed\n")
					}
				}
			case 1:
				if strings.Contains(b.String()[start:], "[runners.docker]") {
					w(sub, "  [[runners.docker.services]]\n", sub, "    name = \"postgres:16\"\n", sub, "    alias = \"db\"\n")
				}
			case 2:
				if !hasCache && !strings.Contains(b.String()[start:], "[runners.cache]") {
					w(sub, "[runners.cache]\n", sub, "  Type = \"s3\"\n", sub, "  [runners.cache.s3]\n", sub, "    SecretKey = \"s3-secret\"\n")
				}
			case 3:
				if !strings.Contains(b.String()[start:], "[runners.custom_build_dir]") {
					w(sub, "[runners.custom_build_dir]\n")
				}
			case 4:
				if !strings.Contains(b.String()[start:], "[runners.feature_flags]") {
					w(sub, "[runners.feature_flags]\n", sub, "  FF_USE_FASTZIP = true\n")
				}
			case 5:
				w(sub, "# trailing comment of runner ", name, "\n")
			}
		}
		if j == n-1 && s.Pick(3) == 0 {
			// no newline at the end of the file
			text := strings.TrimRight(b.String(), "\r\n")
			b.Reset()
			b.WriteString(text)
		}
		doc.blocks = append(doc.blocks, [2]int{start, b.Len()})
		doc.names = append(doc.names, name)
		if j < n-1 && s.Flag() {
			w("\n")
			doc.blocks[j][1] = b.Len()
		}
	}
	doc.text = b.String()
	if s.Pick(5) == 0 {
		// An editor's byte order mark, which BurntSushi and so the runner
		// skip.
		doc.text = "\ufeff" + doc.text
		for i := range doc.blocks {
			doc.blocks[i][0] += 3
			doc.blocks[i][1] += 3
		}
	}
	return doc
}

// genEdit is the edit the fuzz input asks for, on runner target (an index
// into names, or len(names) for a new one).
func genEdit(s *fuzzbytes.Source, names []string, target int, image, value string) ConfigEdit {
	r := Runner{URL: "https://gitlab.example.com", Executor: "docker"}
	if target < len(names) {
		r.Name = names[target]
	} else {
		r.Name = "new-" + value
		r.Credentials = &Credentials{ID: 99, Token: "glrt-NEWNEWNEWNEWNEWNEW" + value, ObtainedAt: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	}
	if s.Flag() {
		r.Credentials = &Credentials{ID: 7, Token: "glrt-ROTATEDROTATED-" + value, ObtainedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
		if s.Flag() {
			r.Credentials.ExpiresAt = time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
		}
	}
	if s.Flag() {
		r.Environment = []string{"K=" + value, "A=2"}
	}
	if s.Flag() {
		l := s.Pick(5)
		r.Limit = &l
	}
	if s.Flag() {
		r.Shell = "bash"
	}
	d := &Docker{Image: image}
	switch s.Pick(3) {
	case 1:
		d.Privileged = new(false)
	case 2:
		d.Privileged = new(true)
	}
	if s.Flag() {
		d.Volumes = []string{"/cache", value}
	}
	if s.Flag() {
		d.EnsureVolumes = []string{"/certs/client"}
	}
	if s.Flag() {
		d.PullPolicy = []string{"if-not-present", value}
	}
	if s.Flag() {
		d.Services = []Service{{Name: "redis:7", Alias: value}}
		if s.Flag() {
			d.Services = append(d.Services, Service{Name: value, Command: []string{value}})
		}
	}
	r.Docker = d
	e := ConfigEdit{Runner: r}
	if s.Pick(3) == 0 {
		c := 1 + s.Pick(20)
		e.Concurrent = &c
	}
	return e
}

func decodeMap(t *testing.T, what string, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if _, err := toml.Decode(string(data), &m); err != nil {
		t.Fatalf("%s does not parse: %v\n%s", what, err, data)
	}
	return m
}

func runnersOf(m map[string]any) []map[string]any {
	rs, _ := m["runners"].([]map[string]any)
	return rs
}

// managedRunnerKeys and managedDockerKeys are what an edit may change in
// the target runner; everything else in it must stay.
var (
	managedRunnerKeys = []string{"name", "url", "id", "token", "token_obtained_at", "token_expires_at", "tls-ca-file", "executor", "shell", "limit", "environment", "docker"}
	managedDockerKeys = []string{"host", "image", "privileged", "volumes", "pull_policy", "services"}
)

// without drops keys in every spelling the runner decodes as them
// (BurntSushi matches struct fields case-insensitively).
func without(m map[string]any, keys []string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if !slices.ContainsFunc(keys, func(key string) bool { return strings.EqualFold(k, key) }) {
			out[k] = v
		}
	}
	return out
}

// field is m[key] as GitLab Runner reads it: every spelling that differs
// only in case is the same field, and all of them must hold one value
// (with two, which the runner keeps depends on map order). ok is false
// when they disagree.
func field(m map[string]any, key string) (v any, ok bool) {
	found := false
	for k, x := range m {
		if !strings.EqualFold(k, key) {
			continue
		}
		if found && !reflect.DeepEqual(x, v) {
			return nil, false
		}
		v, found = x, true
	}
	return v, true
}

// checkSplice holds ConfigTOML's promises for one edit of old: the output
// parses; the runners it was not asked to touch decode the same; the target
// says what the edit asked and keeps its other keys; globals other than
// concurrent are unchanged; applying the same edit again changes nothing.
func checkSplice(t *testing.T, old []byte, e ConfigEdit, res ConfigResult) map[string]any {
	t.Helper()
	before, after := decodeMap(t, "input", old), decodeMap(t, "output", res.Data)
	rb, ra := runnersOf(before), runnersOf(after)
	wantLen := len(rb)
	if res.Appended {
		wantLen++
	}
	if len(ra) != wantLen || res.Index < 0 || res.Index >= len(ra) {
		t.Fatalf("output has %d runners, want %d (index %d, appended %v)\n%s", len(ra), wantLen, res.Index, res.Appended, res.Data)
	}
	for i := range rb {
		if i != res.Index && !reflect.DeepEqual(rb[i], ra[i]) {
			t.Fatalf("runner %d changed though runner %d was edited:\nbefore %v\nafter  %v\n--- input\n%s\n--- output\n%s", i, res.Index, rb[i], ra[i], old, res.Data)
		}
	}
	newFile := len(bytes.TrimSpace(old)) == 0 // gets the globals register writes
	if !newFile && !reflect.DeepEqual(without(before, []string{"runners", "concurrent"}), without(after, []string{"runners", "concurrent"})) {
		t.Fatalf("global keys changed\n--- input\n%s\n--- output\n%s", old, res.Data)
	}
	// concurrent in any spelling the runner reads (ConCurrent = 2).
	cb, sameBefore := field(before, "concurrent")
	ca, sameAfter := field(after, "concurrent")
	if e.Concurrent != nil && (!sameAfter || ca != int64(*e.Concurrent)) {
		t.Fatalf("concurrent = %v, want %d\n--- output\n%s", ca, *e.Concurrent, res.Data)
	}
	if e.Concurrent == nil && sameBefore && !reflect.DeepEqual(cb, ca) && len(bytes.TrimSpace(old)) > 0 {
		t.Fatalf("concurrent changed without being asked")
	}
	got := ra[res.Index]
	get := func(m map[string]any, key string) any {
		v, ok := field(m, key)
		if !ok {
			t.Fatalf("target runner has spellings of %s with different values: %v\n--- output\n%s", key, m, res.Data)
		}
		return v
	}
	name, url, executor := get(got, "name"), get(got, "url"), get(got, "executor")
	if name != e.Runner.Name || executor != e.Runner.Executor || url != e.Runner.URL && !(res.Existing != nil && url == res.Existing.URL && SameGitLab(res.Existing.URL, e.Runner.URL)) {
		t.Fatalf("target runner = %v, want name %q url %q", got, e.Runner.Name, e.Runner.URL)
	}
	if s, _ := url.(string); strings.TrimSpace(s) != s {
		t.Fatalf("target url %q has surrounding spaces, which the runner does not trim", s)
	}
	if c := e.Runner.Credentials; c != nil && get(got, "token") != c.Token {
		t.Fatalf("token = %v, want %q", get(got, "token"), c.Token)
	}
	if d := e.Runner.Docker; d != nil && !d.empty() {
		dm, _ := get(got, "docker").(map[string]any)
		if dm == nil || (d.Image != "" && get(dm, "image") != d.Image) || (d.Privileged != nil && get(dm, "privileged") != *d.Privileged) {
			t.Fatalf("target docker = %v, want image %q privileged %v", dm, d.Image, d.Privileged)
		}
		if !res.Appended {
			var bd map[string]any
			if res.Existing != nil {
				bd, _ = rb[res.Index]["docker"].(map[string]any)
			}
			if bd != nil && !reflect.DeepEqual(without(bd, managedDockerKeys), without(dm, managedDockerKeys)) {
				t.Fatalf("unmanaged [runners.docker] keys changed:\nbefore %v\nafter  %v\n%s", bd, dm, res.Data)
			}
		}
	}
	if !res.Appended && !reflect.DeepEqual(without(rb[res.Index], managedRunnerKeys), without(got, managedRunnerKeys)) {
		t.Fatalf("unmanaged keys of the target changed:\nbefore %v\nafter  %v\n--- input\n%s\n--- output\n%s", rb[res.Index], got, old, res.Data)
	}
	// Re-applying is a no-op.
	e2 := e
	if res.Appended {
		// The runner exists now; a second apply finds it by name.
		e2.Runner.Credentials = e.Runner.Credentials
	}
	again, err := ConfigTOML(res.Data, e2)
	if err != nil {
		t.Fatalf("re-applying the edit to the output: %v\n%s", err, res.Data)
	}
	if !bytes.Equal(again.Data, res.Data) {
		t.Fatalf("re-applying the same edit changed the file again:\n--- first\n%s\n--- second\n%s", res.Data, again.Data)
	}
	return after
}

// FuzzConfigTOMLSplice: ConfigTOML on a generated config.toml with several
// runners changes only the target runner's block: every other runner's
// bytes are the same, the output parses, and the semantic checks of
// checkSplice hold. raw, when it is a config.toml with runners, is edited
// too and held to the semantic checks (its block ranges are not known
// without the scanner under test).
func FuzzConfigTOMLSplice(f *testing.F) {
	existing, _ := os.ReadFile("testdata/existing.toml")
	f.Add([]byte{}, uint8(0), "alpine:3.20", "v", "")
	f.Add([]byte{1, 1, 1, 3, 0, 2, 1, 7, 3, 4, 1, 5, 2, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, uint8(1), "registry.example.com:5000/ci/app:1", "x y\"z", "")
	f.Add([]byte{0, 0, 1, 0, 1, 2, 3, 3, 1, 1, 2, 2, 0, 5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0}, uint8(9), "", "[[runners]]", string(existing))
	f.Add([]byte{2, 1, 0, 1, 3, 1, 0, 1, 6, 0, 1, 2, 0, 1, 1, 0, 3, 2, 5, 5, 1, 1, 0, 1, 1}, uint8(2), "a'b", "\\", "concurrent = 1\n[[runners]]\nname = \"r\"\nurl = \"u\"\n[[runners]]\nname = \"s\"\n")
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"), uint8(3), "img\nnewline", "tab\there", "[[runners]]\n  name = \"a\"\n  url = \"https://x\"\n  [runners.docker]\n    image = 'x'\n[[runners]]\n  name = \"b\"\n")
	f.Add([]byte{3}, uint8(1), "alpine:3.21", "v", "runners = [{name = \"a\", url = \"u\"}]\n")
	f.Add([]byte{7}, uint8(0), "i", "v", "[[runners]]\n\"na\\u006de\" = \"a\"\nurl = \"https://x\"\n[runners.docker]\nvolumes = [ # c\n  \"/cache\",\n]\n")
	f.Fuzz(func(t *testing.T, seed []byte, target uint8, image, value, raw string) {
		func() { // generated document
			doc := genConfig(seed)
			old := []byte(doc.text)
			decodeMap(t, "generated config", old) // the generator's own bug otherwise
			idx := int(target) % (len(doc.names) + 1)
			e := genEdit(fuzzbytes.New(seed[len(seed)/2:]), doc.names, idx, image, value)
			res, err := ConfigTOML(old, e)
			if err != nil && (!utf8.ValidString(image) || !utf8.ValidString(value)) {
				// TOML cannot hold invalid UTF-8: refusing is right (a file
				// that does not parse would not be; checkSplice parses).
				return
			}
			if err != nil {
				t.Fatalf("ConfigTOML refused a valid config: %v\n%s", err, old)
			}
			checkSplice(t, old, e, res)
			out := string(res.Data)
			// Byte for byte: each other runner's block is in the output
			// unchanged; before the target, everything (except the globals
			// when concurrent is set) is unchanged; after it, everything.
			for i, bl := range doc.blocks {
				if i == idx {
					continue
				}
				if !strings.Contains(out, doc.text[bl[0]:bl[1]]) {
					t.Fatalf("runner %d's bytes changed:\n%q\n--- output\n%s", i, doc.text[bl[0]:bl[1]], out)
				}
			}
			if idx < len(doc.blocks) {
				end := doc.blocks[idx][1]
				if !strings.HasSuffix(out, doc.text[end:]) {
					t.Fatalf("bytes after the target runner changed:\n%q\n--- output\n%s", doc.text[end:], out)
				}
				pre := doc.text[:doc.blocks[idx][0]]
				if e.Concurrent != nil {
					// The globals may change; the runners before the target
					// may not.
					pre = doc.text[doc.blocks[0][0]:doc.blocks[idx][0]]
				}
				if !strings.Contains(out, pre) || (e.Concurrent == nil && !strings.HasPrefix(out, pre)) {
					t.Fatalf("bytes before the target runner changed\n--- output\n%s", out)
				}
			} else if e.Concurrent == nil && !strings.HasPrefix(out, doc.text) {
				t.Fatalf("appending changed existing bytes\n--- output\n%s", out)
			}
		}()
		if raw == "" {
			return
		}
		func() { // raw document
			var m map[string]any
			if _, err := toml.Decode(raw, &m); err != nil {
				return
			}
			rs := runnersOf(m)
			names := make([]string, 0, len(rs))
			for _, r := range rs {
				n, _ := r["name"].(string)
				names = append(names, n)
			}
			idx := int(target) % (len(names) + 1)
			e := genEdit(fuzzbytes.New(seed), names, idx, image, value)
			res, err := ConfigTOML([]byte(raw), e)
			if err != nil {
				// raw is valid TOML: the position scanner must follow it.
				// Refusing what BurntSushi (and so the runner) reads would
				// make apply exit 2 on a file the runner loads.
				var se *tomlscan.Error
				if errors.As(err, &se) {
					t.Fatalf("BurntSushi decodes config.toml, the scanner refuses it: %v\n%q", err, raw)
				}
				var ce *ConfigTOMLError
				if errors.As(err, &ce) || strings.Contains(err.Error(), "needs credentials") {
					return // a config runnerup cannot edit: named, nothing written
				}
				if strings.Contains(err.Error(), "does not parse") && (!utf8.ValidString(image) || !utf8.ValidString(value)) {
					return // TOML cannot hold invalid UTF-8
				}
				t.Fatalf("unexpected error kind: %v\n%q", err, raw)
			}
			checkSplice(t, []byte(raw), e, res)
		}()
	})
}

// FuzzDockerConfig: DockerConfig keeps every top-level key it does not
// manage with an equal JSON value, and every auths/credHelpers entry it was
// not asked to change; the output parses as a JSON object; the edited
// entries say what was asked; re-applying changes nothing.
func FuzzDockerConfig(f *testing.F) {
	for _, s := range []string{
		"", "{}", "null", "[]", `{"auths": null}`, `{"auths": []}`,
		`{"auths": {"ghcr.io": {"auth": "b2xkOm9sZA=="}, "registry.example.com:5000": {"username": "u", "password": "p", "identitytoken": "t"}}, "proxies": {"default": {"httpProxy": "http://proxy:3128"}}, "HttpHeaders": {"X-Meta": "keep"}, "credHelpers": {"registry.example.com:5000": "ecr-login"}, "plugins": {"x": {"y": [1, 2.50, 1e3, -0, true, null]}}, "credsStore": "desktop"}`,
		"{\"a\": 1, \"a\": 2}", `{"\u0061uths": {}}`, "{\"k\": \"\xff\"}", `{"auths": {"x": "not an object"}}`, "{} {}", `{"n": 123456789012345678901234567890}`,
	} {
		f.Add([]byte(s), "registry.example.com:5000", "ci", "hunter2-pass", "", "")
	}
	f.Add([]byte(`{"auths":{}}`), "https://index.docker.io/v1/", "u", "p:w", "", "")
	f.Add([]byte(`{"credHelpers":{"h":"x"}}`), "h", "", "", "ecr-login", "pass")
	f.Fuzz(func(t *testing.T, old []byte, key, user, password, helper, store string) {
		e := DockerConfigEdit{CredsStore: store}
		if key != "" {
			a := DockerAuth{Key: key}
			if helper != "" {
				a.Helper = helper
			} else {
				a.Username, a.Password = user, password
			}
			e.Auths = []DockerAuth{a}
		}
		out, err := DockerConfig(old, e)
		if err != nil {
			var de *DockerConfigError
			if !errors.As(err, &de) {
				t.Fatalf("error is not a DockerConfigError: %v", err)
			}
			for _, s := range []string{password} {
				if len(s) >= 6 && strings.Contains(err.Error(), s) {
					t.Fatalf("error shows the password: %v", err)
				}
			}
			return
		}
		var before, after map[string]any
		// Numbers stay as their text: 1E700 is valid JSON that float64 cannot
		// hold, and DockerConfig keeps it raw.
		unmarshal := func(b []byte, v any) error {
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.UseNumber()
			return dec.Decode(v)
		}
		if len(bytes.TrimSpace(old)) > 0 {
			if err := unmarshal(old, &before); err != nil {
				// DockerConfig accepted what encoding/json refuses: only
				// invalid UTF-8 may differ (kept raw, which Docker accepts too).
				if json.Valid(old) {
					t.Fatalf("json.Unmarshal failed on valid input: %v", err)
				}
				return
			}
		}
		if err := unmarshal(out, &after); err != nil || after == nil {
			t.Fatalf("output is not a JSON object: %v\n%s", err, out)
		}
		if before == nil {
			before = map[string]any{}
		}
		for k, v := range before {
			if k == "auths" || k == "credHelpers" || k == "credsStore" {
				continue
			}
			if !reflect.DeepEqual(after[k], v) {
				t.Fatalf("top-level key %q changed: %v → %v\n--- input\n%s\n--- output\n%s", k, v, after[k], old, out)
			}
		}
		for k := range after {
			if _, had := before[k]; !had && k != "auths" && k != "credHelpers" && k != "credsStore" {
				t.Fatalf("key %q appeared", k)
			}
		}
		if !utf8.ValidString(key) || !utf8.ValidString(helper) || !utf8.ValidString(store) || !utf8.ValidString(user) {
			// JSON strings are UTF-8: encoding/json spells invalid bytes as
			// U+FFFD; answers files (TOML) cannot carry them anyway.
			return
		}
		if store != "" && after["credsStore"] != store {
			t.Fatalf("credsStore = %v, want %q", after["credsStore"], store)
		} else if store == "" && !reflect.DeepEqual(before["credsStore"], after["credsStore"]) {
			t.Fatalf("credsStore changed")
		}
		// Entries of other registries stay.
		for _, section := range []string{"auths", "credHelpers"} {
			bs, _ := before[section].(map[string]any)
			as, _ := after[section].(map[string]any)
			for k, v := range bs {
				if k == key {
					continue
				}
				if !reflect.DeepEqual(as[k], v) {
					t.Fatalf("%s[%q] changed: %v → %v", section, k, v, as[k])
				}
			}
		}
		if key != "" {
			auths, _ := after["auths"].(map[string]any)
			helpers, _ := after["credHelpers"].(map[string]any)
			if helper != "" {
				if helpers[key] != helper {
					t.Fatalf("credHelpers[%q] = %v, want %q", key, helpers[key], helper)
				}
			} else {
				entry, _ := auths[key].(map[string]any)
				if entry == nil || entry["auth"] != EncodeAuth(user, password) {
					t.Fatalf("auths[%q] = %v, want auth of %q", key, auths[key], user)
				}
				for _, stale := range []string{"username", "password", "identitytoken", "registrytoken"} {
					if _, ok := entry[stale]; ok {
						t.Fatalf("auths[%q] keeps %q", key, stale)
					}
				}
				if _, ok := helpers[key]; ok {
					t.Fatalf("credHelpers[%q] would shadow the credentials just written", key)
				}
			}
		}
		again, err := DockerConfig(out, e)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("re-applying changed the file (%v):\n%s\n---\n%s", err, out, again)
		}
	})
}
