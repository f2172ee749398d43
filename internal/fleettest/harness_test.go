package fleettest

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
	"github.com/runnerup/runnerup/internal/testenv"
)

// The -update flag rewrites ansible/tests/unit/fixtures from real runnerup
// output (registered unless another package already did, as in
// internal/golden).
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the recorded apply outputs under ansible/tests/unit/fixtures")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// commandTimeout bounds every external command a test runs (ansible is
// slow to start, but nothing here should take a minute).
const commandTimeout = 3 * time.Minute

// tools are the programs these tests drive, with the Debian package that
// provides each (scripts/test installs them).
var tools = map[string]string{
	"ansible-playbook":  "ansible-core",
	"ansible-inventory": "ansible-core",
	"ansible-galaxy":    "ansible-core",
	"ansible-doc":       "ansible-core",
	"ansible-lint":      "ansible-lint",
	"cloud-init":        "cloud-init",
	"python3":           "python3",
}

// python is the interpreter Debian's ansible and cloud-init run with (the
// PATH may hold another one without their modules).
const python = "/usr/bin/python3"

// fleet is the world every fleet test shares: one dockerd, one registry
// with htpasswd auth holding a job image and a service image, one fake
// GitLab, the runnerup binary (and a release-style archive of it served
// over HTTP), and the collection built and installed from ansible/.
type fleet struct {
	repo string // repository root
	work string // scratch directory for this test run

	bin        string // runnerup built from this tree
	archiveURL string // runnerup_<v>_linux_amd64.tar.gz over HTTP
	archiveSHA string // its sha256
	metadata   map[string]string
	metadataMu sync.Mutex
	httpURL    string // the download/metadata server

	collections string // ANSIBLE_COLLECTIONS_PATH
	collection  string // the installed collection's directory
	tarball     string // what ansible-galaxy collection build made

	d       *testenv.Dockerd
	reg     *testenv.Registry
	gl      *fakegitlab.Server
	image   string // the job image on reg
	service string // the service image on reg

	// outputs collects everything ansible and the recipe printed or
	// recorded, and secrets every secret the tests used, for the grep.
	outputsMu sync.Mutex
	outputs   map[string]string
	secrets   map[string]string
}

// secret registers a secret value the final grep looks for everywhere.
func (f *fleet) secret(name, value string) string {
	f.outputsMu.Lock()
	defer f.outputsMu.Unlock()
	f.secrets[name] = value
	return value
}

// leaks lists "where leaks what" for every registered secret found in a
// collected output.
func (f *fleet) leaks() []string {
	f.outputsMu.Lock()
	defer f.outputsMu.Unlock()
	var out []string
	for where, text := range f.outputs {
		for what, s := range f.secrets {
			if s != "" && strings.Contains(text, s) {
				out = append(out, where+" leaks the "+what)
			}
		}
	}
	sort.Strings(out)
	return out
}

// needTools skips (or fails under RUNNERUP_REQUIRE_INTEGRATION=1) when a
// program is missing, naming its Debian package.
func needTools(t *testing.T) {
	t.Helper()
	testenv.Need(t, true, "dockerd", "docker", "docker-registry", "htpasswd")
	var missing []string
	for name, pkg := range tools {
		if name == "python3" {
			if _, err := os.Stat(python); err != nil {
				missing = append(missing, python+" (Debian package python3)")
			}
			continue
		}
		if _, err := testenv.Lookup(name); err != nil {
			missing = append(missing, fmt.Sprintf("%s (Debian package %s)", name, pkg))
		}
	}
	if len(missing) == 0 {
		return
	}
	sort.Strings(missing)
	reason := "missing " + strings.Join(missing, ", ") + "; scripts/test installs them"
	if testenv.Required() {
		t.Fatalf("fleet tests cannot run: %s (%s=1 makes this a failure instead of a skip)", reason, testenv.EnvRequire)
	}
	t.Skipf("fleet tests skipped: %s (set %s=1 to make this a failure)", reason, testenv.EnvRequire)
}

func setUp(t *testing.T) *fleet {
	t.Helper()
	needTools(t)
	testenv.Isolate(t)
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	f := &fleet{repo: repo, work: t.TempDir(), outputs: map[string]string{}, secrets: map[string]string{}, metadata: map[string]string{}}

	f.bin = filepath.Join(f.work, "build", "runnerup")
	if out, err := testenv.GoBuild(repo, f.bin, "."); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f.serveDownloads(t)
	f.buildCollection(t)

	f.d = testenv.StartDockerd(t, testenv.DockerdOptions{})
	t.Setenv("DOCKER_HOST", f.d.Host)
	f.reg = testenv.StartRegistry(t, testenv.RegistryOptions{Auth: true})
	// The names the cloud-init example uses, so only the registry host
	// needs substituting there.
	f.image = f.reg.PushImage(t, f.d, "ci/build", "1")
	f.service = f.reg.PushImage(t, f.d, "ci/postgres", "16")
	f.secret("registry password", f.reg.Password)
	f.secret("registry auth value", f.reg.AuthConfigValue())
	f.gl = fakegitlab.New(t)
	return f
}

// serveDownloads makes a release-style archive of the binary (as
// goreleaser's tar.gz: runnerup at the top, mode 0755) and serves it, and
// the instance metadata of the cloud-init test, over loopback HTTP.
func (f *fleet) serveDownloads(t *testing.T) {
	t.Helper()
	bin, err := os.ReadFile(f.bin)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, file := range []struct {
		name string
		mode int64
		data []byte
	}{{"README.md", 0o644, []byte("runnerup\n")}, {"runnerup", 0o755, bin}} {
		if err := tw.WriteHeader(&tar.Header{Name: file.name, Mode: file.mode, Size: int64(len(file.data)), ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(file.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	archive := buf.Bytes()
	sum := sha256.Sum256(archive)
	f.archiveSHA = hex.EncodeToString(sum[:])

	const archiveName = "runnerup_1.0.0_linux_amd64.tar.gz"
	mux := http.NewServeMux()
	mux.HandleFunc("GET /releases/"+archiveName, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/gzip")
		_, _ = w.Write(archive)
	})
	// GCE-style metadata: a value per key, only with the flavour header.
	mux.HandleFunc("GET /metadata/{key}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Metadata-Flavor") != "Google" {
			http.Error(w, "missing Metadata-Flavor header", http.StatusForbidden)
			return
		}
		f.metadataMu.Lock()
		v, ok := f.metadata[r.PathValue("key")]
		f.metadataMu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(v))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f.httpURL = srv.URL
	f.archiveURL = srv.URL + "/releases/" + archiveName
}

// buildCollection runs `ansible-galaxy collection build` on ansible/ and
// installs the tarball offline into a private collections path.
func (f *fleet) buildCollection(t *testing.T) {
	t.Helper()
	out := filepath.Join(f.work, "galaxy")
	res := f.run(t, "", nil, "ansible-galaxy", "collection", "build", filepath.Join(f.repo, "ansible"), "--output-path", out)
	if res.code != 0 {
		t.Fatalf("ansible-galaxy collection build: exit %d\n%s", res.code, res.out)
	}
	matches, _ := filepath.Glob(filepath.Join(out, "runnerup-gitlab_runner-*.tar.gz"))
	if len(matches) != 1 {
		t.Fatalf("ansible-galaxy collection build made %v, want one runnerup-gitlab_runner-*.tar.gz\n%s", matches, res.out)
	}
	f.tarball = matches[0]
	f.collections = filepath.Join(f.work, "collections")
	res = f.run(t, "", nil, "ansible-galaxy", "collection", "install", "--offline", "-p", f.collections, f.tarball)
	if res.code != 0 {
		t.Fatalf("ansible-galaxy collection install: exit %d\n%s", res.code, res.out)
	}
	f.collection = filepath.Join(f.collections, "ansible_collections", "runnerup", "gitlab_runner")
	if _, err := os.Stat(filepath.Join(f.collection, "plugins", "modules", "runnerup_apply.py")); err != nil {
		t.Fatalf("collection not installed where expected: %v\n%s", err, res.out)
	}
}

// cmdResult is one external command's combined output and exit code.
type cmdResult struct {
	out  string
	code int
}

// run runs a program (looked up as testenv does) in dir with the ansible
// settings of these tests added to the environment.
func (f *fleet) run(t *testing.T, dir string, env []string, name string, args ...string) cmdResult {
	t.Helper()
	bin := name
	if !strings.ContainsRune(name, '/') {
		p, err := testenv.Lookup(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		bin = p
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	if dir == "" {
		cmd.Dir = f.work
	}
	cmd.Env = append(append(os.Environ(), f.ansibleEnv()...), env...)
	out, err := cmd.CombinedOutput()
	code := 0
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s %s: timed out after %v\n%s", name, strings.Join(args, " "), commandTimeout, out)
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", name, err)
	}
	return cmdResult{out: string(out), code: code}
}

// ansibleEnv points ansible at the installed collection and the recording
// callback, and keeps its state under the test's HOME.
func (f *fleet) ansibleEnv() []string {
	cb, _ := filepath.Abs("testdata/callback_plugins")
	home := os.Getenv("HOME")
	return []string{
		"ANSIBLE_COLLECTIONS_PATH=" + f.collections,
		"ANSIBLE_CALLBACK_PLUGINS=" + cb,
		"ANSIBLE_CALLBACKS_ENABLED=runnerup_record",
		"ANSIBLE_NOCOLOR=1",
		"ANSIBLE_RETRY_FILES_ENABLED=0",
		"ANSIBLE_LOCAL_TEMP=" + filepath.Join(home, ".ansible", "tmp"),
		"ANSIBLE_REMOTE_TEMP=" + filepath.Join(home, ".ansible", "remote-tmp"),
		"ANSIBLE_GALAXY_DISABLE_GPG_VERIFY=1",
		"ANSIBLE_DEPRECATION_WARNINGS=0",
		"PYTHONDONTWRITEBYTECODE=1",
	}
}

// event is one line the runnerup_record callback wrote.
type event struct {
	Event   string                    `json:"event"`
	Host    string                    `json:"host"`
	Task    string                    `json:"task"`
	Action  string                    `json:"action"`
	Handler bool                      `json:"handler"`
	Result  map[string]any            `json:"result"`
	Hosts   map[string]map[string]int `json:"hosts"`
}

// play is one ansible-playbook run: its screen output, exit code and what
// the callback recorded.
type play struct {
	name   string
	out    string
	code   int
	events []event
	record string // the raw JSON lines
}

// playbook runs ansible-playbook in dir (which holds inventory.ini) and
// keeps its output for the secrets grep.
func (f *fleet) playbook(t *testing.T, dir, name, playbook string, args ...string) play {
	t.Helper()
	record := filepath.Join(dir, name+".record.jsonl")
	_ = os.Remove(record)
	argv := append([]string{"-i", filepath.Join(dir, "inventory.ini"), playbook}, args...)
	res := f.run(t, dir, []string{"RUNNERUP_RECORD=" + record}, "ansible-playbook", argv...)
	p := play{name: name, out: res.out, code: res.code}
	data, err := os.ReadFile(record)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	p.record = string(data)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s: callback line is not JSON: %v\n%s", name, err, sc.Text())
		}
		p.events = append(p.events, e)
	}
	f.outputsMu.Lock()
	f.outputs[name+" (ansible-playbook output)"] = p.out
	f.outputs[name+" (recorded results)"] = p.record
	f.outputsMu.Unlock()
	return p
}

// task returns the last result recorded for the named task.
func (p play) task(t *testing.T, name string) event {
	t.Helper()
	for i := len(p.events) - 1; i >= 0; i-- {
		if e := p.events[i]; taskNamed(e.Task, name) && e.Event != "handler_start" {
			return e
		}
	}
	var names []string
	for _, e := range p.events {
		names = append(names, e.Event+":"+e.Task)
	}
	t.Fatalf("%s: no result for task %q; recorded %v\noutput:\n%s", p.name, name, names, p.out)
	return event{}
}

// taskNamed matches a task name with or without the "role : " prefix
// ansible gives tasks of a role.
func taskNamed(got, want string) bool {
	return got == want || strings.HasSuffix(got, " : "+want)
}

// handlerRan reports whether the named handler started.
func (p play) handlerRan(name string) bool {
	for _, e := range p.events {
		if e.Event == "handler_start" && taskNamed(e.Task, name) {
			return true
		}
	}
	return false
}

// stats returns the recap counters of host.
func (p play) stats(t *testing.T, host string) map[string]int {
	t.Helper()
	for _, e := range p.events {
		if e.Event == "stats" {
			if s, ok := e.Hosts[host]; ok {
				return s
			}
		}
	}
	t.Fatalf("%s: no stats for %s\noutput:\n%s", p.name, host, p.out)
	return nil
}

// str digs a string out of a decoded JSON value by keys.
func str(v any, keys ...string) string {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

// writeJSON writes v as JSON (ansible reads extra vars from it).
func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(data), 0o600)
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// snapshot lists every file under dir with its mode and bytes.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[p] = info.Mode().String() + "\n" + string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// assertUnchanged fails when any file under the snapshot's tree differs.
func assertUnchanged(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	var diffs []string
	for k, v := range after {
		if b, ok := before[k]; !ok {
			diffs = append(diffs, k+" (created)")
		} else if b != v {
			diffs = append(diffs, k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			diffs = append(diffs, k+" (removed)")
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%s changed files: %v", what, diffs)
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s has mode %v, want %v", path, got, want)
	}
}

// countRequests counts the fake GitLab's requests with method and path.
func (f *fleet) countRequests(method, path string) int {
	n := 0
	for _, r := range f.gl.Requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

// inventory writes an inventory of one local host with Debian's python
// (ansible's modules need its ansible package, not the one on PATH).
func inventory(t *testing.T, dir, host string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "inventory.ini"),
		"[runners]\n"+host+" ansible_connection=local ansible_python_interpreter="+python+"\n", 0o644)
}
