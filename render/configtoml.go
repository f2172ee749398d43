// Package render turns answers plus existing file bytes into new file bytes:
// GitLab Runner's config.toml, Docker's config.json, answers files and
// redacted diffs. Everything here is pure; the only I/O is in the writer.
package render

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/runnerup/runnerup/internal/envlist"
	"github.com/runnerup/runnerup/internal/runnerconf"
	"github.com/runnerup/runnerup/internal/tomlscan"
)

// ConfigEdit is what runnerup wants config.toml to say. For a runner
// already in the file, zero values (empty strings, nil pointers, nil
// slices) mean "leave as it is", so keys the edit does not set keep their
// bytes; a new runner gets exactly the keys set (the caller supplies the
// defaults a new runner needs).
type ConfigEdit struct {
	// Concurrent sets the global concurrent key when non-nil.
	Concurrent *int
	Runner     Runner
	// MatchToken, when set, finds the runner by url+token if no runner has
	// the name.
	MatchToken string
	// Target is the entry the edit applies to as the caller found it
	// (Config.Find); nil: ConfigTOML finds it.
	Target *Target
}

// Runner is the desired [[runners]] entry.
type Runner struct {
	Name string // the merge key
	URL  string
	// Credentials nil keeps id, token and token_* as they are on disk; a
	// new runner needs them.
	Credentials *Credentials
	TLSCAFile   string
	Executor    string
	Shell       string
	Limit       *int
	// Environment entries are merged by KEY: an entry replaces the one with
	// the same KEY, others stay.
	Environment []string
	Docker      *Docker
}

// Credentials are the registration fields the runner keeps per entry.
type Credentials struct {
	ID         int64
	Token      string
	ObtainedAt time.Time
	ExpiresAt  time.Time
}

// Docker is the desired [runners.docker] table. Empty strings and nil
// pointers and slices leave a key as it is; an empty non-nil slice sets the
// key to an empty list.
type Docker struct {
	Host       string
	Image      string
	Privileged *bool
	// Volumes nil keeps the existing list; EnsureVolumes are added to
	// whatever the list becomes when missing (the DinD certs volume).
	Volumes       []string
	EnsureVolumes []string
	PullPolicy    []string
	// Services nil keeps the existing services; non-nil sets exactly these.
	Services []Service
}

// empty reports whether the edit sets no key of [runners.docker].
func (d Docker) empty() bool {
	return d.Host == "" && d.Image == "" && d.Privileged == nil && d.Volumes == nil &&
		len(d.EnsureVolumes) == 0 && d.PullPolicy == nil && d.Services == nil
}

// Service is one [[runners.docker.services]] entry.
type Service = runnerconf.Service

// ConfigResult says what ConfigTOML did.
type ConfigResult struct {
	Data []byte
	// Index of the runner in [[runners]]; Appended when it is new.
	Index    int
	Appended bool
	// Existing is the entry as it was on disk (nil when appended).
	Existing *ExistingRunner
}

// ExistingRunner is what the file said about the matched runner before:
// its entry as internal/runnerconf decodes it, so that callers can tell
// what an edit leaves as it is (the executor, the image an answers file
// does not name).
type ExistingRunner = runnerconf.Runner

// ExistingDocker is the matched runner's [runners.docker] as it was.
type ExistingDocker = runnerconf.Docker

// StringOrList decodes a string or a list of strings, as GitLab Runner
// reads pull_policy.
type StringOrList = runnerconf.StringOrList

// ConfigTOMLError is a problem with the existing config.toml (exit code 2).
type ConfigTOMLError struct{ Err error }

func (e *ConfigTOMLError) Error() string { return "existing config.toml: " + e.Err.Error() }
func (e *ConfigTOMLError) Unwrap() error { return e.Err }

// Config is a config.toml as read, decoded once: apply finds its runner in
// it, prunes and renders from it without decoding or searching again.
type Config struct {
	Data []byte
	*runnerconf.File
}

// ParseConfig decodes config.toml bytes (nil: an absent file, no entries).
// A file GitLab Runner would read two runners lists from ([[Runners]]
// besides [[runners]]) is refused.
func ParseConfig(data []byte) (*Config, error) {
	f, err := runnerconf.Parse(data)
	if err != nil {
		return nil, &ConfigTOMLError{Err: tomlErr(err)}
	}
	if k := f.OtherRunnersKey; k != "" {
		return nil, &ConfigTOMLError{Err: fmt.Errorf("has a top-level %q besides \"runners\"; GitLab Runner reads both as its runners list: rename or merge them", k)}
	}
	return &Config{Data: data, File: f}, nil
}

// Target is the [[runners]] entry an edit applies to: its index and what
// it holds, or -1 and nil for a new entry.
type Target struct {
	Index    int
	Existing *ExistingRunner
}

// Found reports whether the target is an entry of the file.
func (t Target) Found() bool { return t.Existing != nil }

// Find locates the runner an edit targets (runnerconf's File.Find): the
// entry named name on the GitLab at url (several such: the one holding
// token), else the entry holding url and token.
func (c *Config) Find(name, url, token string) (Target, error) {
	i, r, err := c.File.Find(name, url, token)
	if err != nil {
		return Target{Index: -1}, &ConfigTOMLError{Err: err}
	}
	return Target{Index: i, Existing: r}, nil
}

// FindRunner locates the runner an edit targets in config.toml bytes:
// ParseConfig, then Config.Find. An entry with the name but another
// GitLab's url is not this runner (its token belongs to that GitLab;
// OtherGitLab lists them). url "" matches by name alone (diagnose
// --runner). It returns -1 when there is none.
func FindRunner(old []byte, name, url, token string) (int, *ExistingRunner, error) {
	c, err := ParseConfig(old)
	if err != nil {
		return -1, nil, err
	}
	t, err := c.Find(name, url, token)
	return t.Index, t.Existing, err
}

// OtherGitLab lists the entries named name whose url is another GitLab
// than url: not the answers' runner, but worth a word (a migration, or
// answers copied from another host).
func OtherGitLab(old []byte, name, url string) ([]ExistingRunner, error) {
	c, err := ParseConfig(old)
	if err != nil {
		return nil, err
	}
	return c.OtherGitLab(name, url), nil
}

// SameGitLab reports whether two GitLab urls name the same instance as the
// runner uses them: scheme and host compared case-insensitively, a
// default port equal to none, a trailing / or legacy /ci ignored.
func SameGitLab(a, b string) bool { return runnerconf.SameGitLab(a, b) }

func tomlErr(err error) error {
	// BurntSushi's own text names the line and the last key; only its
	// "toml: " prefix is noise here.
	return errors.New(strings.TrimPrefix(err.Error(), "toml: "))
}

// ConfigTOML returns old with the edit applied. Only the target runner's
// managed keys and the global keys the edit sets change; every other byte
// (comments, other runners, key order, unknown keys and tables) is kept.
func ConfigTOML(old []byte, e ConfigEdit) (ConfigResult, error) {
	c, err := ParseConfig(old)
	if err != nil {
		return ConfigResult{}, err
	}
	return c.Edit(e)
}

// Edit returns the file with the edit applied, as ConfigTOML does. The
// edit's Target, when set, is the entry as the caller found it in c (no
// search); without it the runner is looked up (Config.Find).
func (c *Config) Edit(e ConfigEdit) (ConfigResult, error) {
	t := e.Target
	if t == nil {
		found, err := c.Find(e.Runner.Name, e.Runner.URL, e.MatchToken)
		if err != nil {
			return ConfigResult{}, err
		}
		t = &found
	}
	old := c.Data
	idx, existing := t.Index, t.Existing
	secs, err := scanDocument(old)
	if err != nil {
		return ConfigResult{}, &ConfigTOMLError{Err: err}
	}
	blocks := runnerBlocks(secs)
	if len(blocks) != len(c.Runners) {
		return ConfigResult{}, &ConfigTOMLError{Err: errors.New("runners are not all written as [[runners]] tables (an inline array?); runnerup edits only [[runners]] tables")}
	}
	if len(secs) > 0 && secs[0].header == nil {
		// runners = [] at the top (zero runners, so the count above
		// agrees): a [[runners]] table added after it would define the
		// key twice.
		if it := secs[0].keyUnder("runners"); it != nil {
			line := 1 + bytes.Count(old[:it.At()], []byte("\n"))
			return ConfigResult{}, &ConfigTOMLError{Err: fmt.Errorf("runners are written as an inline array, %s = … (line %d); runnerup edits only [[runners]] tables: write each runner as a [[runners]] table (GitLab Runner reads both forms the same)", strings.Join(it.Path, "."), line)}
		}
	}
	if idx >= len(blocks) {
		return ConfigResult{}, fmt.Errorf("internal error: the edit targets entry #%d, but config.toml has %d", idx+1, len(blocks))
	}

	ed := &editor{src: old}
	if len(bytes.TrimSpace(old)) == 0 {
		// A brand-new file starts with the globals register writes.
		concurrent := 1
		if e.Concurrent != nil {
			concurrent = *e.Concurrent
		}
		ed.insert(0, fmt.Sprintf("concurrent = %d\ncheck_interval = 0\n\n", concurrent))
	} else if e.Concurrent != nil {
		ed.setKey(&secs[0], "concurrent", int64(*e.Concurrent), topInsertPoint(old, secs), "")
	}
	res := ConfigResult{Index: idx, Existing: existing}
	if idx < 0 {
		if e.Runner.Credentials == nil {
			return ConfigResult{}, errors.New("a new runner needs credentials")
		}
		res.Index, res.Appended = len(blocks), true
		ed.insert(len(old), appendSeparator(old)+newRunnerBlock(e.Runner))
	} else {
		if err := ed.editRunner(secs, blocks[idx], e.Runner, existing); err != nil {
			return ConfigResult{}, err
		}
	}
	out := ed.apply()
	if _, err := toml.Decode(string(out), new(map[string]any)); err != nil {
		return ConfigResult{}, fmt.Errorf("internal error: rendered config.toml does not parse (%v); nothing was written", tomlErr(err))
	}
	res.Data = out
	return res, nil
}

// topInsertPoint is where a new global key goes: after the last top-level
// key, else at the start of the document (after a byte order mark).
func topInsertPoint(src []byte, secs []section) int {
	top := &secs[0]
	for i := len(top.items) - 1; i >= 0; i-- {
		if top.items[i].Kind == tomlscan.KeyValue {
			return top.items[i].End
		}
	}
	return tomlscan.BodyStart(src)
}

// runnerBlocks groups sections into [[runners]] entries: the header and the
// runners.* sub-tables that follow it.
type block struct{ first, last int } // section indexes, inclusive

func runnerBlocks(secs []section) []block {
	var out []block
	for i := range secs {
		p := secs[i].path()
		switch {
		case len(p) == 1 && strings.EqualFold(p[0], "runners") && secs[i].header.Array:
			out = append(out, block{first: i, last: i})
		case len(p) > 1 && strings.EqualFold(p[0], "runners") && len(out) > 0 && out[len(out)-1].last == i-1:
			out[len(out)-1].last = i
		}
	}
	return out
}

func appendSeparator(old []byte) string {
	switch {
	case len(bytes.TrimSpace(old)) == 0:
		return ""
	case !bytes.HasSuffix(old, []byte("\n")):
		return "\n\n"
	case bytes.HasSuffix(old, []byte("\n\n")):
		return ""
	default:
		return "\n"
	}
}

type edit struct {
	start, end int
	text       string
	seq        int
}

type editor struct {
	src   []byte
	edits []edit
	// eofBreak records that a line break was added for a file whose last
	// line has none, so that several insertions there add only one.
	eofBreak bool
}

func (ed *editor) replace(start, end int, text string) {
	ed.edits = append(ed.edits, edit{start: start, end: end, text: text, seq: len(ed.edits)})
}

// insert adds text at a line start. At the end of a file whose last line
// has no line break, the first insertion there supplies one.
func (ed *editor) insert(at int, text string) {
	if at == len(ed.src) && at > 0 && ed.src[at-1] != '\n' && !ed.eofBreak {
		if !strings.HasPrefix(text, "\n") {
			text = "\n" + text
		}
		ed.eofBreak = true
	}
	ed.replace(at, at, text)
}

func (ed *editor) apply() []byte {
	sort.SliceStable(ed.edits, func(i, j int) bool {
		if ed.edits[i].start != ed.edits[j].start {
			return ed.edits[i].start < ed.edits[j].start
		}
		return ed.edits[i].seq < ed.edits[j].seq
	})
	var out bytes.Buffer
	pos := 0
	for _, e := range ed.edits {
		if e.start > pos {
			out.Write(ed.src[pos:e.start])
		}
		out.WriteString(e.text)
		pos = max(pos, e.end)
	}
	out.Write(ed.src[pos:])
	return out.Bytes()
}

// setKey makes key = value hold in section s. An existing value that
// already means the same is left byte for byte; a missing key is inserted
// at `at` with the section's indentation (or indent when given).
func (ed *editor) setKey(s *section, key string, value any, at int, indent string) {
	enc := encodeValue(value)
	if its := s.keys(key); len(its) > 0 {
		// Every spelling the runner reads as key (Name, nAme, …).
		for _, it := range its {
			old := string(ed.src[it.Value.Start:it.Value.End])
			if canonicalValue(old) != enc {
				ed.replace(it.Value.Start, it.Value.End, enc)
			}
		}
		return
	}
	if indent == "" {
		indent = s.keyIndent()
	}
	ed.insert(at, indent+quoteKey(key)+" = "+enc+"\n")
}

// notATable refuses an edit of settings written as an inline table or
// dotted keys: adding the table runnerup writes would define them twice.
func (ed *editor) notATable(it *tomlscan.Item, runner, what, table string) error {
	line := 1 + bytes.Count(ed.src[:it.At()], []byte("\n"))
	return &ConfigTOMLError{Err: fmt.Errorf("runner %q writes its %s as %s = … (line %d); runnerup edits them only as %s tables: move them there (GitLab Runner reads both forms the same)", runner, what, strings.Join(it.Path, "."), line, table)}
}

func (ed *editor) deleteKey(s *section, key string) {
	for _, it := range s.keys(key) {
		ed.replace(it.Start, it.End, "")
	}
}

func (ed *editor) editRunner(secs []section, b block, r Runner, existing *ExistingRunner) error {
	root := &secs[b.first]
	at := root.lastKeyEnd()
	for _, kv := range runnerKeys(r, existing) {
		if kv.delete {
			ed.deleteKey(root, kv.key)
			continue
		}
		ed.setKey(root, kv.key, kv.value, at, "")
	}
	if r.Docker == nil || r.Docker.empty() {
		return nil
	}
	if it := root.keyUnder("docker"); it != nil {
		return ed.notATable(it, r.Name, "docker settings", "[runners.docker]")
	}
	var dockerSec *section
	var services []*section
	for i := b.first + 1; i <= b.last; i++ {
		p := secs[i].path()
		switch {
		// Table names in any case, as the runner decodes them.
		case slices.EqualFunc(p, []string{"runners", "docker"}, strings.EqualFold) && !secs[i].header.Array && dockerSec == nil:
			dockerSec = &secs[i]
		case slices.EqualFunc(p, []string{"runners", "docker", "services"}, strings.EqualFold) && secs[i].header.Array:
			services = append(services, &secs[i])
		}
	}
	var existingDocker struct {
		volumes  []string
		services []Service
	}
	if existing != nil && existing.Docker != nil {
		existingDocker.volumes = existing.Docker.Volumes
		existingDocker.services = existing.Docker.Services
	}
	kvs := dockerKeys(*r.Docker, existingDocker.volumes)
	indent := root.keyIndent()
	if dockerSec == nil {
		// No [runners.docker] yet: add it after the runner's own keys, so
		// it lands before any other sub-table of the entry.
		text := indent + "[runners.docker]\n" + renderKeys(kvs, indent+"  ")
		if r.Docker.Services != nil && !slices.EqualFunc(r.Docker.Services, existingDocker.services, serviceEqual) {
			// Services written without a [runners.docker] header are
			// replaced too, or they would survive next to the new ones.
			for _, sv := range services {
				ed.replace(sv.header.Start, sv.contentEnd(), "")
			}
			text += renderServices(r.Docker.Services, indent+"  ")
		}
		ed.insert(at, text)
		return nil
	}
	dat := dockerSec.lastKeyEnd()
	for _, kv := range kvs {
		ed.setKey(dockerSec, kv.key, kv.value, dat, "")
	}
	if r.Docker.Services == nil || slices.EqualFunc(r.Docker.Services, existingDocker.services, serviceEqual) {
		return nil
	}
	if it := dockerSec.keyUnder("services"); it != nil {
		return ed.notATable(it, r.Name, "services", "[[runners.docker.services]]")
	}
	svcIndent := dockerSec.header.Indent + "  "
	insertAt := dat
	if len(services) > 0 {
		svcIndent = services[0].header.Indent
		insertAt = services[0].header.Start
		for _, s := range services {
			ed.replace(s.header.Start, s.contentEnd(), "")
		}
	}
	ed.insert(insertAt, renderServices(r.Docker.Services, svcIndent))
	return nil
}

type keyValue struct {
	key    string
	value  any
	delete bool
}

func runnerKeys(r Runner, existing *ExistingRunner) []keyValue {
	url := r.URL
	if existing != nil && SameGitLab(existing.URL, url) && strings.TrimSpace(existing.URL) == existing.URL {
		// The same GitLab, as FindRunner sees it: keep the file's spelling
		// (not surrounding spaces: the runner does not trim them, and its
		// API calls fail on the URL).
		url = existing.URL
	}
	kvs := []keyValue{{key: "name", value: r.Name}, {key: "url", value: url}}
	if c := r.Credentials; c != nil {
		if c.ID != 0 {
			kvs = append(kvs, keyValue{key: "id", value: c.ID})
		}
		kvs = append(kvs, keyValue{key: "token", value: c.Token})
		// token_expires_at only together with token_obtained_at, or the
		// runner computes a rotation time in the past and rotates at once.
		if !c.ObtainedAt.IsZero() {
			kvs = append(kvs, keyValue{key: "token_obtained_at", value: c.ObtainedAt.UTC().Truncate(time.Second)})
			if !c.ExpiresAt.IsZero() {
				kvs = append(kvs, keyValue{key: "token_expires_at", value: c.ExpiresAt.UTC().Truncate(time.Second)})
			} else {
				kvs = append(kvs, keyValue{key: "token_expires_at", delete: true})
			}
		} else {
			kvs = append(kvs, keyValue{key: "token_obtained_at", delete: true}, keyValue{key: "token_expires_at", delete: true})
		}
	}
	if r.TLSCAFile != "" {
		kvs = append(kvs, keyValue{key: "tls-ca-file", value: r.TLSCAFile})
	}
	if r.Executor != "" {
		kvs = append(kvs, keyValue{key: "executor", value: r.Executor})
	}
	if r.Shell != "" {
		kvs = append(kvs, keyValue{key: "shell", value: r.Shell})
	}
	if r.Limit != nil {
		kvs = append(kvs, keyValue{key: "limit", value: int64(*r.Limit)})
	}
	if len(r.Environment) > 0 {
		var old []string
		if existing != nil {
			old = existing.Environment
		}
		kvs = append(kvs, keyValue{key: "environment", value: MergeEnvironment(old, r.Environment)})
	}
	return kvs
}

// MergeEnvironment replaces entries of old whose KEY is set in set, keeps
// the others in place, and appends new KEYs in order (envlist.Merge); an
// empty result is an empty list, not nil.
func MergeEnvironment(old, set []string) []string {
	if out := envlist.Merge(old, set...); out != nil {
		return out
	}
	return []string{}
}

func dockerKeys(d Docker, existingVolumes []string) []keyValue {
	var kvs []keyValue
	if d.Host != "" {
		kvs = append(kvs, keyValue{key: "host", value: d.Host})
	}
	if d.Image != "" {
		kvs = append(kvs, keyValue{key: "image", value: d.Image})
	}
	if d.Privileged != nil {
		kvs = append(kvs, keyValue{key: "privileged", value: *d.Privileged})
	}
	vols := d.Volumes
	if vols == nil {
		vols = existingVolumes
	}
	vols = slices.Clone(vols)
	for _, v := range d.EnsureVolumes {
		if !slices.Contains(vols, v) {
			vols = append(vols, v)
		}
	}
	if d.Volumes != nil || len(vols) != len(existingVolumes) {
		if vols == nil {
			vols = []string{}
		}
		kvs = append(kvs, keyValue{key: "volumes", value: vols})
	}
	if d.PullPolicy != nil {
		kvs = append(kvs, keyValue{key: "pull_policy", value: d.PullPolicy})
	}
	return kvs
}

func serviceEqual(a, b Service) bool {
	return a.Name == b.Name && a.Alias == b.Alias && slices.Equal(a.Command, b.Command) &&
		slices.Equal(a.Entrypoint, b.Entrypoint) && slices.Equal(a.Environment, b.Environment)
}

// newRunnerBlock renders a whole [[runners]] entry in the runner's own
// layout (two-space indentation per level).
func newRunnerBlock(r Runner) string {
	var b strings.Builder
	b.WriteString("[[runners]]\n")
	b.WriteString(renderKeys(runnerKeys(r, nil), "  "))
	if r.Docker != nil {
		b.WriteString("  [runners.docker]\n")
		b.WriteString(renderKeys(dockerKeys(*r.Docker, nil), "    "))
		b.WriteString(renderServices(r.Docker.Services, "    "))
	}
	return b.String()
}

func renderKeys(kvs []keyValue, indent string) string {
	var b strings.Builder
	for _, kv := range kvs {
		if kv.delete {
			continue
		}
		b.WriteString(indent + quoteKey(kv.key) + " = " + encodeValue(kv.value) + "\n")
	}
	return b.String()
}

func renderServices(svcs []Service, indent string) string {
	var b strings.Builder
	for _, s := range svcs {
		b.WriteString(indent + "[[runners.docker.services]]\n")
		kvs := []keyValue{{key: "name", value: s.Name}}
		if s.Alias != "" {
			kvs = append(kvs, keyValue{key: "alias", value: s.Alias})
		}
		if len(s.Command) > 0 {
			kvs = append(kvs, keyValue{key: "command", value: s.Command})
		}
		if len(s.Entrypoint) > 0 {
			kvs = append(kvs, keyValue{key: "entrypoint", value: s.Entrypoint})
		}
		if len(s.Environment) > 0 {
			kvs = append(kvs, keyValue{key: "environment", value: s.Environment})
		}
		b.WriteString(renderKeys(kvs, indent+"  "))
	}
	return b.String()
}

// encodeValue renders one TOML value with BurntSushi's encoder, so quoting
// and escaping are always valid TOML.
func encodeValue(v any) string {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(map[string]any{"v": v}); err != nil {
		panic(fmt.Sprintf("render: encoding %T: %v", v, err)) // only our own types reach here
	}
	s := strings.TrimSuffix(buf.String(), "\n")
	return strings.TrimPrefix(s, "v = ")
}

// canonicalValue re-encodes an existing value so that equal values compare
// equal whatever their original spelling; unparsable text never matches.
func canonicalValue(text string) string {
	var m map[string]any
	if _, err := toml.Decode("v = "+text, &m); err != nil {
		return "\x00invalid"
	}
	v := m["v"]
	if arr, ok := v.([]any); ok {
		strs := make([]string, 0, len(arr))
		for _, e := range arr {
			s, ok := e.(string)
			if !ok {
				return encodeValue(v)
			}
			strs = append(strs, s)
		}
		return encodeValue(strs)
	}
	return encodeValue(v)
}

func quoteKey(k string) string {
	if !tomlscan.IsBareKey(k) {
		return fmt.Sprintf("%q", k)
	}
	return k
}
