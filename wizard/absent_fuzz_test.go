package wizard

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/runnerup/runnerup/internal/fuzzbytes"
	"github.com/runnerup/runnerup/internal/testenv"
)

// variedLine is one line of a generated config.toml with the runner it
// belongs to (-1: the globals) and the key it holds (runner keys as
// "executor", docker keys as "docker.image"; "" for lines no answer key
// may change).
type variedLine struct {
	text   string
	runner int
	key    string
}

// variedRunner is what the generator chose for one [[runners]] entry.
type variedRunner struct {
	name, url, token, executor string
	image                      bool // [runners.docker] has an image
}

type variedConfig struct {
	lines   []variedLine
	runners []variedRunner
}

func (c *variedConfig) text() string {
	var b strings.Builder
	for _, l := range c.lines {
		b.WriteString(l.text)
	}
	return b.String()
}

// genVariedConfig writes a config.toml GitLab Runner loads, the way people
// keep them by hand: several runners of different executors, comments and
// trailing comments, tabs or odd indentation, CRLF, string-or-list values,
// multi-line arrays, keys runnerup does not manage and sub-tables such as
// [runners.cache.s3] and [runners.kubernetes], and no trailing newline.
func genVariedConfig(s *fuzzbytes.Source) variedConfig {
	nl := "\n"
	if s.Pick(5) == 0 {
		nl = "\r\n"
	}
	var c variedConfig
	cur, curKey := -1, ""
	add := func(text string) {
		c.lines = append(c.lines, variedLine{text: text + nl, runner: cur, key: curKey})
	}
	if s.Flag() {
		add("# Managed partly by hand: keep these comments! [[runners]] name = \"x\"")
	}
	curKey = "concurrent"
	add(fuzzbytes.OneOf(s, "concurrent = 4", "concurrent=2   # raised during an incident", "concurrent = 10"))
	curKey = ""
	if s.Flag() {
		add("check_interval = 0")
		add("log_level = 'info' # trailing")
	}
	if s.Flag() {
		add("")
		add("[session_server]")
		add("  session_timeout = 1800")
	}
	n := 2 + s.Pick(3)
	for j := range n {
		cur, curKey = j, ""
		indent := fuzzbytes.OneOf(s, "", "  ", "\t", "    ")
		sub := indent + fuzzbytes.OneOf(s, "  ", "\t", "", " ")
		r := variedRunner{
			name:     fmt.Sprintf("runner-%d", j),
			url:      fuzzbytes.OneOf(s, "https://gitlab.example.com", "https://gitlab.example.com/"),
			token:    fmt.Sprintf("glrt-TOKEN%04dTOKENTOKEN", j),
			executor: fuzzbytes.OneOf(s, "docker", "docker", "shell", "docker-windows", "kubernetes"),
		}
		add("")
		if s.Pick(3) == 0 {
			add(indent + "# --- " + r.name + " ---")
		}
		add(indent + fuzzbytes.OneOf(s, "[[runners]]", "[[ runners ]]", "[[runners]] # managed"))
		curKey = "name"
		add(sub + fmt.Sprintf(fuzzbytes.OneOf(s, `name = "%s"`, `name = '%s'`, `"name" = "%s"`, `name="%s"   # the merge key`), r.name))
		curKey = "url"
		add(sub + fmt.Sprintf(fuzzbytes.OneOf(s, `url = "%s"`, `url = '%s'`), r.url))
		curKey = "id"
		if s.Flag() {
			add(sub + fmt.Sprintf("id = %d", 10+j))
		}
		curKey = "token"
		add(sub + fmt.Sprintf("token = %q", r.token))
		curKey = "executor"
		add(sub + fmt.Sprintf(fuzzbytes.OneOf(s, `executor = "%s"`, `executor = '%s'`, `executor="%s" # how jobs run`), r.executor))
		for range s.Pick(6) {
			switch s.Pick(9) {
			case 0:
				curKey = "shell"
				if !c.has(j, "shell") {
					add(sub + fuzzbytes.OneOf(s, `shell = "bash"`, `shell = "sh"`, `shell = 'pwsh'`))
				}
			case 1:
				curKey = "limit"
				if !c.has(j, "limit") {
					add(sub + fuzzbytes.OneOf(s, "limit = 3", "limit = 0 # no limit"))
				}
			case 2:
				curKey = "environment"
				if !c.has(j, "environment") {
					if s.Flag() {
						add(sub + `environment = ["GIT_DEPTH=10", "FOO=bar"]`)
					} else {
						add(sub + `environment = [ # kept as is`)
						add(sub + `  "DOCKER_TLS_CERTDIR=/certs",`)
						add(sub + `  "B=[[runners]]",`)
						add(sub + `]`)
					}
				}
			case 3:
				curKey = "tls-ca-file"
				if !c.has(j, "tls-ca-file") {
					add(sub + `tls-ca-file = "/etc/gitlab-runner/certs/gitlab.example.com.crt"`)
				}
			case 4:
				// Keys runnerup does not manage (tagged only to write each once).
				line := fuzzbytes.OneOf(s, "builds_dir = '/builds' # not managed", "request_concurrency = 2", "output_limit = 8192", `clone_url = "https://gitlab.example.com"`)
				curKey = "other:" + strings.Fields(line)[0]
				if !c.has(j, curKey) {
					add(sub + line)
				}
			case 5:
				curKey = "other:pre_build_script"
				if !c.has(j, curKey) {
					add(sub + `pre_build_script = """`)
					add(`[[runners]]`)
					add(`name = "fake"`)
					add(`"""`)
				}
			default:
				curKey = ""
				add(sub + "# a comment about " + r.name)
			}
		}
		for _, table := range []int{s.Pick(6), s.Pick(6), s.Pick(6)} {
			curKey = ""
			switch {
			case table == 0 && !c.has(j, "[cache]"):
				curKey = "[cache]"
				add(sub + "[runners.cache]")
				add(sub + `  Type = "s3"`)
				add(sub + "  Shared = true")
				add(sub + "  [runners.cache.s3]")
				add(sub + `    ServerAddress = "s3.example.com"`)
				add(sub + `    BucketName = "runner-cache"`)
			case table == 1 && !c.has(j, "[custom_build_dir]"):
				curKey = "[custom_build_dir]"
				add(sub + "[runners.custom_build_dir]")
			case table == 2 && !c.has(j, "[feature_flags]"):
				curKey = "[feature_flags]"
				add(sub + "[runners.feature_flags]")
				add(sub + "  FF_USE_FASTZIP = true")
			case table == 3 && r.executor == "kubernetes" && !c.has(j, "[kubernetes]"):
				curKey = "[kubernetes]"
				add(sub + "[runners.kubernetes]")
				add(sub + `  namespace = "ci"`)
				add(sub + `  image = """ubuntu:24.04"""`)
				add(sub + "  [runners.kubernetes.node_selector]")
				add(sub + `    "kubernetes.io/arch" = "amd64"`)
			case table >= 4 && r.executor != "kubernetes" && !c.has(j, "[docker]"):
				curKey = "[docker]"
				add(sub + fuzzbytes.OneOf(s, "[runners.docker]", "[ runners.docker ] # the job containers"))
				r.image = r.executor != "shell" || s.Flag()
				if r.image {
					curKey = "docker.image"
					if r.executor == "docker-windows" {
						add(sub + "  image = 'mcr.microsoft.com/windows/servercore:ltsc2022'")
					} else {
						add(sub + fuzzbytes.OneOf(s, `  image = "docker:27"`, `  image = 'alpine:3.19'`, `  image = "ruby:3.3" # default`))
					}
				}
				curKey = "docker.privileged"
				if s.Flag() {
					add(sub + fuzzbytes.OneOf(s, "  privileged = true   # DinD needs it", "  privileged = false"))
				}
				curKey = "docker.volumes"
				switch s.Pick(3) {
				case 0:
					if r.executor == "docker-windows" {
						add(sub + `  volumes = ['c:\cache']`)
					} else {
						add(sub + `  volumes = ["/cache", "/certs/client"]`)
					}
				case 1:
					add(sub + "  volumes = [")
					add(sub + `    "/cache", # shared`)
					add(sub + "  ]")
				}
				curKey = ""
				if s.Flag() {
					add(sub + "  shm_size = 0 # not managed")
				}
				curKey = "docker.pull_policy"
				if s.Flag() {
					add(sub + fuzzbytes.OneOf(s, `  pull_policy = "if-not-present"`, `  pull_policy = ["always", "if-not-present"]`))
				}
				curKey = "docker.host"
				if s.Flag() {
					add(sub + `  host = "unix:///var/run/docker.sock"`)
				}
				curKey = ""
				if s.Flag() {
					add(sub + "  tls_verify = false")
				}
				curKey = "docker.services"
				for range s.Pick(3) {
					add(sub + "  [[runners.docker.services]]")
					add(sub + fuzzbytes.OneOf(s, `    name = "postgres:16"`, `    name = "docker:27-dind"`))
					if s.Flag() {
						add(sub + `    alias = "db"`)
					}
				}
			}
		}
		if j < n-1 && s.Pick(4) == 0 {
			cur, curKey = j, ""
			add(indent + "# trailing comment of " + r.name)
		}
		c.runners = append(c.runners, r)
	}
	if s.Pick(3) == 0 {
		last := &c.lines[len(c.lines)-1]
		last.text = strings.TrimRight(last.text, "\r\n")
	}
	return c
}

// has reports whether runner j already has a line with key.
func (c *variedConfig) has(j int, key string) bool {
	return slices.ContainsFunc(c.lines, func(l variedLine) bool { return l.runner == j && l.key == key })
}

// answerKey is one key an answers file may set, the config.toml keys of
// the runner it may change, and how it is spelled in the answers.
type answerKey struct {
	name    string
	changes []string
	text    func(s *fuzzbytes.Source, caFile string) string
}

var answerKeys = []answerKey{
	{"runner.executor", []string{"executor"}, func(s *fuzzbytes.Source, _ string) string {
		return "[runner]\nexecutor = " + fuzzbytes.OneOf(s, `"docker"`, `"shell"`, `"docker-windows"`, `"kubernetes"`) + "\n"
	}},
	{"runner.shell", []string{"shell"}, func(s *fuzzbytes.Source, _ string) string {
		return "[runner]\nshell = " + fuzzbytes.OneOf(s, `"bash"`, `"sh"`, `"pwsh"`) + "\n"
	}},
	{"runner.limit", []string{"limit"}, func(s *fuzzbytes.Source, _ string) string { return fmt.Sprintf("[runner]\nlimit = %d\n", s.Pick(4)) }},
	{"runner.environment", []string{"environment"}, func(s *fuzzbytes.Source, _ string) string {
		return "[runner]\nenvironment = " + fuzzbytes.OneOf(s, `["FOO=baz"]`, `["NEW=1", "GIT_DEPTH=3"]`, `[]`) + "\n"
	}},
	{"runner.concurrent", nil, func(s *fuzzbytes.Source, _ string) string {
		return fmt.Sprintf("[runner]\nconcurrent = %d\n", 1+s.Pick(8))
	}},
	{"gitlab.tls_ca_file", []string{"tls-ca-file"}, func(_ *fuzzbytes.Source, ca string) string { return fmt.Sprintf("[gitlab]\ntls_ca_file = %q\n", ca) }},
	{"docker.image", []string{"docker.image"}, func(s *fuzzbytes.Source, _ string) string {
		return "[docker]\nimage = " + fuzzbytes.OneOf(s, `"docker:28"`, `"alpine:3.21"`, `"registry.example.com:5000/ci/build:1"`) + "\n"
	}},
	{"docker.privileged", []string{"docker.privileged"}, func(s *fuzzbytes.Source, _ string) string {
		return "[docker]\nprivileged = " + fuzzbytes.OneOf(s, "true", "false") + "\n"
	}},
	{"docker.dind", []string{"docker.privileged", "docker.volumes", "environment"}, func(s *fuzzbytes.Source, _ string) string {
		return "[docker]\ndind = " + fuzzbytes.OneOf(s, "true", "false") + "\n"
	}},
	{"docker.volumes", []string{"docker.volumes"}, func(s *fuzzbytes.Source, _ string) string {
		return "[docker]\nvolumes = " + fuzzbytes.OneOf(s, `["/cache"]`, `["/cache", "/srv/data:/data:ro"]`, `[]`) + "\n"
	}},
	{"docker.pull_policy", []string{"docker.pull_policy"}, func(s *fuzzbytes.Source, _ string) string {
		return "[docker]\npull_policy = " + fuzzbytes.OneOf(s, `"always"`, `["if-not-present", "always"]`, `[]`) + "\n"
	}},
	{"docker.host", []string{"docker.host"}, func(s *fuzzbytes.Source, _ string) string {
		return "[docker]\nhost = " + fuzzbytes.OneOf(s, `"unix:///var/run/docker.sock"`, `"tcp://docker:2376"`) + "\n"
	}},
	{"docker.services", []string{"docker.services"}, func(s *fuzzbytes.Source, _ string) string {
		if s.Flag() {
			return "[docker]\nservices = []\n"
		}
		return "[[docker.services]]\nname = \"postgres:16\"\nalias = \"db\"\n"
	}},
}

// genAnswers writes an answers file for runner target (len(runners): a new
// one) that sets the keys of mask, and returns the keys it set.
func genAnswers(s *fuzzbytes.Source, c variedConfig, target int, mask uint16, caFile string) (string, []answerKey) {
	name, url, token := "new-runner", "https://gitlab.example.com", "glrt-FRESHFRESHFRESHFRESH"
	if target < len(c.runners) {
		r := c.runners[target]
		name, url, token = r.name, r.url, r.token
	}
	tables := map[string][]string{}
	var order []string
	var set []answerKey
	var services string
	for i, k := range answerKeys {
		if mask&(1<<i) == 0 {
			continue
		}
		set = append(set, k)
		text := k.text(s, caFile)
		if strings.HasPrefix(text, "[[") {
			services = text
			continue
		}
		table, line, _ := strings.Cut(text, "\n")
		if _, ok := tables[table]; !ok {
			order = append(order, table)
		}
		tables[table] = append(tables[table], line)
	}
	if target < len(c.runners) && s.Flag() {
		// The same GitLab spelled with or without the trailing slash: the
		// runner's url line keeps its bytes.
		if u, ok := strings.CutSuffix(url, "/"); ok {
			url = u
		} else {
			url += "/"
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "version = 1\n[gitlab]\nurl = %q\ntoken = %q\nname = %q\n", url, token, name)
	for _, l := range tables["[gitlab]"] {
		b.WriteString(l + "\n")
	}
	for _, table := range order {
		if table == "[gitlab]" {
			continue
		}
		b.WriteString(table + "\n" + strings.Join(tables[table], "\n") + "\n")
	}
	if services != "" {
		if _, ok := tables["[docker]"]; !ok {
			b.WriteString("[docker]\n")
		}
		b.WriteString(services)
	}
	return b.String(), set
}

// FuzzAbsentKeysUntouched (issue 13, defect 1): apply with answers that
// set a random subset of the managed keys, on a varied hand-kept
// config.toml, changes nothing outside that subset. Every line of the file
// that holds no key the answers set is in the output byte for byte and in
// order; decoded, every key outside the subset (other runners, globals,
// the target's other keys, [runners.docker]'s other keys) is equal; the
// keys in the subset say what the answers asked; and GitLab Runner's own
// loader (runner-oracle -strict) loads the result.
func FuzzAbsentKeysUntouched(f *testing.F) {
	f.Add([]byte{}, uint16(1<<6), uint8(0))                                               // the image only
	f.Add([]byte{0, 1, 1, 0, 2, 0, 1, 0, 0, 5, 5, 5, 1, 1, 1, 1, 1}, uint16(0), uint8(1)) // nothing but the merge key
	f.Add([]byte{3, 0, 1, 2, 0, 1, 0, 2, 0, 3, 4, 4, 4, 1, 0, 1, 1, 1, 0, 1, 1, 1}, uint16(1<<8|1<<6), uint8(0))
	f.Add([]byte{1, 1, 1, 1, 3, 2, 1, 0, 2, 1, 3, 2, 5, 3, 4, 0, 1, 0, 1, 1, 0, 1, 1, 2, 1}, uint16(0x1fff), uint8(2))
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11"), uint16(1<<1|1<<2|1<<3), uint8(3))
	f.Add([]byte{4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4}, uint16(1<<4|1<<9|1<<10|1<<11|1<<12), uint8(9))
	emptyLists := append(make([]byte, 36), 2, 2)                  // the generated config, then [] for the lists
	f.Add(emptyLists, uint16(1<<6|1<<9), uint8(2))                // a new runner with volumes = []
	f.Add(emptyLists, uint16(1<<9|1<<10), uint8(0))               // pull_policy = [] on a runner on disk
	f.Add(append(make([]byte, 36), 1, 1), uint16(1<<2), uint8(0)) // a limit, the url's trailing slash toggled
	f.Fuzz(func(t *testing.T, seed []byte, mask uint16, target uint8) {
		s := fuzzbytes.New(seed)
		c := genVariedConfig(s)
		old := c.text()
		var before map[string]any
		if _, err := toml.Decode(old, &before); err != nil {
			t.Fatalf("the generator wrote TOML that does not parse: %v\n%s", err, old)
		}
		idx := int(target) % (len(c.runners) + 1)
		dir := t.TempDir()
		caFile := filepath.Join(dir, "ca.pem")
		if err := os.WriteFile(caFile, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		answers, set := genAnswers(s, c, idx, mask&(1<<len(answerKeys)-1), caFile)
		out, _, err := applyText(t, old, answers)
		newRunner := idx == len(c.runners)
		executor := "docker" // a new runner's default
		if !newRunner {
			executor = c.runners[idx].executor
		}
		changes := map[string]bool{}
		sets := map[string]bool{}
		for _, k := range set {
			sets[k.name] = true
		}
		switched := false
		if sets["runner.executor"] {
			asked := strings.Trim(strings.TrimPrefix(lineOf(answers, "executor = "), "executor = "), `"`)
			switched, executor = asked != executor, asked
		}
		if err != nil {
			// The refusals allowed: a new docker runner, or one switched
			// to docker, with no image in the answers nor on disk; and
			// pull_policy = [] (the runner's default, always).
			var ve *ValidationError
			allowed := func(p FieldError) bool {
				return p.Field == "docker.image" && (newRunner || switched) ||
					p.Field == "docker.pull_policy" && strings.Contains(answers, "pull_policy = []")
			}
			if errors.As(err, &ve) && !slices.ContainsFunc(ve.Problems, func(p FieldError) bool { return !allowed(p) }) {
				return
			}
			t.Fatalf("apply refused: %v\n--- answers\n%s\n--- config.toml\n%s", err, answers, old)
		}
		if strings.Contains(answers, "pull_policy = []") && UsesDocker(executor) {
			t.Fatalf("pull_policy = [] applied%s", "\n--- answers\n"+answers)
		}
		for _, k := range set {
			if strings.HasPrefix(k.name, "docker.") && !UsesDocker(executor) {
				continue // ignored, with a warning
			}
			if k.name == "docker.dind" && !strings.Contains(answers, "dind = true") {
				continue // dind = false adds nothing and removes nothing
			}
			for _, ch := range k.changes {
				changes[ch] = true
			}
		}
		explain := func() string {
			return fmt.Sprintf("\n--- answers\n%s--- config.toml\n%s\n--- output\n%s", answers, old, out)
		}

		// Bytes: each line holding no key the answers set is in the output,
		// in order.
		outLines := strings.SplitAfter(string(out), "\n")
		pos := 0
		for _, l := range c.lines {
			if l.runner == idx && changes[l.key] || l.runner == -1 && l.key == "concurrent" && sets["runner.concurrent"] {
				continue
			}
			found := false
			for pos < len(outLines) {
				o := outLines[pos]
				pos++
				if o == l.text || !strings.HasSuffix(l.text, "\n") && strings.TrimRight(o, "\r\n") == l.text {
					found = true
					break
				}
			}
			if !found {
				t.Fatalf("line %q (runner %d, key %q) is not in the output in its place%s", l.text, l.runner, l.key, explain())
			}
		}

		// Values: decoded, only the keys the answers set differ.
		var after map[string]any
		if _, err := toml.Decode(string(out), &after); err != nil {
			t.Fatalf("output does not parse: %v%s", err, explain())
		}
		if !reflect.DeepEqual(withoutKeys(before, "runners", "concurrent"), withoutKeys(after, "runners", "concurrent")) {
			t.Fatalf("global keys changed%s", explain())
		}
		if !sets["runner.concurrent"] && !reflect.DeepEqual(before["concurrent"], after["concurrent"]) {
			t.Fatalf("concurrent changed though the answers do not set it%s", explain())
		}
		rb, _ := before["runners"].([]map[string]any)
		ra, _ := after["runners"].([]map[string]any)
		if want := len(rb) + map[bool]int{true: 1}[newRunner]; len(ra) != want {
			t.Fatalf("%d runners, want %d%s", len(ra), want, explain())
		}
		for i := range rb {
			if i != idx && !reflect.DeepEqual(rb[i], ra[i]) {
				t.Fatalf("runner %d changed though runner %d was the target%s", i, idx, explain())
			}
		}
		got := ra[idx]
		if !newRunner {
			var runnerKeys, dockerKeys []string
			for ch := range changes {
				if k, ok := strings.CutPrefix(ch, "docker."); ok {
					dockerKeys = append(dockerKeys, k)
				} else {
					runnerKeys = append(runnerKeys, ch)
				}
			}
			if !reflect.DeepEqual(withoutKeys(rb[idx], append(runnerKeys, "docker")...), withoutKeys(got, append(runnerKeys, "docker")...)) {
				t.Fatalf("keys of the target runner the answers do not set changed%s", explain())
			}
			bd, _ := rb[idx]["docker"].(map[string]any)
			ad, _ := got["docker"].(map[string]any)
			if len(dockerKeys) == 0 && !reflect.DeepEqual(bd, ad) {
				t.Fatalf("[runners.docker] changed though the answers set none of its keys%s", explain())
			}
			if len(dockerKeys) > 0 && !reflect.DeepEqual(withoutKeys(bd, dockerKeys...), withoutKeys(ad, dockerKeys...)) {
				t.Fatalf("keys of [runners.docker] the answers do not set changed%s", explain())
			}
		}
		checkAskedValues(t, answers, sets, executor, got, explain)
		testenv.CheckRunnerConfig(t, out)
	})
}

// checkAskedValues: the keys the answers set say what they asked.
func checkAskedValues(t *testing.T, answers string, sets map[string]bool, executor string, got map[string]any, explain func() string) {
	t.Helper()
	a, _, err := Parse([]byte(answers))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := got["docker"].(map[string]any)
	want := func(ok bool, what string) {
		if !ok {
			t.Fatalf("%s is not what the answers asked%s", what, explain())
		}
	}
	if sets["runner.executor"] {
		want(got["executor"] == a.Runner.Executor, "executor")
	}
	if sets["runner.shell"] {
		want(got["shell"] == a.Runner.Shell, "shell")
	}
	if sets["runner.limit"] {
		want(got["limit"] == int64(*a.Runner.Limit), "limit")
	}
	env := stringList(got["environment"])
	for _, e := range a.Runner.Environment {
		want(slices.Contains(env, e), "environment")
	}
	if sets["gitlab.tls_ca_file"] {
		want(got["tls-ca-file"] == a.GitLab.TLSCAFile, "tls-ca-file")
	}
	if !UsesDocker(executor) {
		return
	}
	dind := strings.Contains(answers, "dind = true")
	if dind {
		want(d["privileged"] == true, "privileged (dind)")
		want(slices.Contains(stringList(d["volumes"]), "/certs/client"), "volumes (dind)")
		want(slices.Contains(env, "DOCKER_TLS_CERTDIR=/certs"), "environment (dind)")
	}
	if sets["docker.image"] {
		want(d["image"] == a.Docker.Image, "docker.image")
	}
	if sets["docker.privileged"] && !dind {
		want(d["privileged"] == strings.Contains(answers, "privileged = true"), "docker.privileged")
	}
	// slices.Equal takes a missing key (nil) for an empty list: an asked
	// key must also be there.
	present := func(key string) bool { _, ok := d[key]; return ok }
	if sets["docker.volumes"] {
		v := slices.Clone([]string(a.Docker.Volumes))
		if dind && !slices.Contains(v, "/certs/client") {
			v = append(v, "/certs/client")
		}
		want(present("volumes") && slices.Equal(stringList(d["volumes"]), v), "docker.volumes")
	}
	if sets["docker.pull_policy"] {
		want(present("pull_policy") && slices.Equal(stringList(d["pull_policy"]), a.Docker.PullPolicy), "docker.pull_policy")
	}
	if sets["docker.host"] {
		want(d["host"] == a.Docker.Host, "docker.host")
	}
	if sets["docker.services"] {
		svcs, _ := d["services"].([]map[string]any)
		want(len(svcs) == len(a.Docker.Services), "docker.services")
	}
}

// stringList reads a string or a list of strings (pull_policy's forms).
func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			s, _ := e.(string)
			out = append(out, s)
		}
		if out == nil {
			out = []string{}
		}
		return out
	}
	return nil
}

func withoutKeys(m map[string]any, keys ...string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if !slices.Contains(keys, k) {
			out[k] = v
		}
	}
	return out
}

// lineOf is the first line of text that starts with prefix.
func lineOf(text, prefix string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
