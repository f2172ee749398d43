package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// badEnv is one bad-input case's directory: an answers file, config.toml,
// the docker config directory.
type badEnv struct {
	t                            *testing.T
	dir, home, answers, cfg, dkr string
	env                          env
}

const badAnswers = `version = 1
[gitlab]
url = "https://gitlab.example.com"
token = "env:RUNNER_TOKEN"
name = "build-01"
[runner]
executor = "docker"
[docker]
image = "alpine:3.20"
`

const badRegistry = `
[[registries]]
host = "registry.example.com:5000"
username = "ci"
password = "env:REGISTRY_PASSWORD"
`

// goodConfig has build-01 with the test token: apply keeps it and makes
// no GitLab call.
const goodConfig = `concurrent = 1
[[runners]]
  name = "build-01"
  url = "https://gitlab.example.com"
  token = "` + testToken + `"
  executor = "docker"
  [runners.docker]
    image = "alpine:3.19"
`

func newBadEnv(t *testing.T) *badEnv {
	dir := t.TempDir()
	b := &badEnv{t: t, dir: dir, home: filepath.Join(dir, "home"),
		answers: filepath.Join(dir, "answers.toml"),
		cfg:     filepath.Join(dir, "etc", "config.toml"),
		dkr:     filepath.Join(dir, "home", ".docker"),
		env:     env{"RUNNER_TOKEN": testToken, "REGISTRY_PASSWORD": "pw-0123456789"},
	}
	writeFile(t, b.answers, badAnswers, 0o600)
	writeFile(t, b.cfg, goodConfig, 0o600)
	return b
}

func (b *badEnv) write(path, content string) {
	b.t.Helper()
	writeFile(b.t, path, content, 0o600)
}

func (b *badEnv) answersWith(edit func(string) string) {
	b.write(b.answers, edit(badAnswers))
}

func (b *badEnv) apply(extra ...string) []string {
	return append([]string{"apply", "--answers", b.answers, "--config", b.cfg, "--docker-config", b.dkr, "--skip-probes"}, extra...)
}

func (b *badEnv) mkfifo(path string) {
	b.t.Helper()
	_ = os.MkdirAll(filepath.Dir(path), 0o755)
	_ = os.Remove(path)
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		b.t.Fatal(err)
	}
}

func (b *badEnv) symlink(target, link string) {
	b.t.Helper()
	_ = os.MkdirAll(filepath.Dir(link), 0o755)
	_ = os.Remove(link)
	if err := os.Symlink(target, link); err != nil {
		b.t.Fatal(err)
	}
}

func (b *badEnv) big(path string, size int, line string) {
	b.t.Helper()
	var buf bytes.Buffer
	buf.WriteString("concurrent = 1\n")
	for buf.Len() < size {
		buf.WriteString(line)
	}
	b.write(path, buf.String())
}

// hardSnapshot records every entry under dir without reading anything
// that could block or never end: regular files by hash, links by target,
// others by type.
func hardSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return nil
		}
		switch {
		case fi.Mode().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				out[p] = "unreadable " + fi.Mode().String()
				return nil
			}
			h := sha256.New()
			_, _ = io.Copy(h, f)
			f.Close()
			out[p] = fi.Mode().String() + " " + hex.EncodeToString(h.Sum(nil))
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[p] = "-> " + target
		default:
			out[p] = fi.Mode().String()
		}
		return nil
	})
	return out
}

func diffSnapshots(before, after map[string]string) []string {
	var diffs []string
	for k, v := range after {
		if before[k] != v {
			diffs = append(diffs, k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			diffs = append(diffs, k+" (removed)")
		}
	}
	sort.Strings(diffs)
	return diffs
}

// openForAll makes dir and its parents up to the temp root traversable,
// and the binary runnable, for a case run as another user.
func openForAll(t *testing.T, dir string) {
	t.Helper()
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// binDirForAll is a directory every user can reach, outside the case's
// own directory (whose snapshot must not change).
func binDirForAll(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	openForAll(t, d)
	return d
}

// runAs runs the real binary as uid/gid 65534 (nobody) with a deadline.
func runAs(t *testing.T, b *badEnv, args []string) result {
	t.Helper()
	bin := filepath.Join(binDirForAll(t), "runnerup")
	data, err := os.ReadFile(runnerupBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"HOME=" + b.home, "RUNNER_TOKEN=" + testToken, "REGISTRY_PASSWORD=pw-0123456789", "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(20*time.Second, func() { _ = cmd.Process.Kill() })
	err = cmd.Wait()
	timer.Stop()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// runWithDeadline is runCLI that fails instead of hanging.
func runWithDeadline(t *testing.T, b *badEnv, args []string) result {
	t.Helper()
	done := make(chan result, 1)
	go func() { done <- runCLI(t, b.home, b.env, args...) }()
	select {
	case r := <-done:
		return r
	case <-time.After(30 * time.Second):
		t.Fatalf("runnerup %s hangs", strings.Join(args, " "))
		return result{}
	}
}

// TestBadInputCorpus: flags, existing config.toml and config.json, GitLab
// URLs and image references that runnerup must refuse: each case gets its
// documented exit code and a message that says what is wrong, and nothing
// on disk changes. (TestApplyBadInput covers the answers file's fields.)
func TestBadInputCorpus(t *testing.T) {
	type badCase struct {
		name   string
		setup  func(b *badEnv) []string // returns the arguments
		code   int
		want   []string // fragments of stderr (or stdout with -o json)
		asUser bool     // run the real binary as nobody
	}
	url := func(u string) func(b *badEnv) []string {
		return func(b *badEnv) []string {
			b.answersWith(func(s string) string {
				return strings.Replace(s, `url = "https://gitlab.example.com"`, "url = "+tomlString(u), 1)
			})
			return b.apply()
		}
	}
	image := func(ref string) func(b *badEnv) []string {
		return func(b *badEnv) []string {
			b.answersWith(func(s string) string {
				return strings.Replace(s, `image = "alpine:3.20"`, "image = "+tomlString(ref), 1)
			})
			return b.apply()
		}
	}
	config := func(content string) func(b *badEnv) []string {
		return func(b *badEnv) []string { b.write(b.cfg, content); return b.apply() }
	}
	dockerJSON := func(content string) func(b *badEnv) []string {
		return func(b *badEnv) []string {
			b.write(b.answers, badAnswers+badRegistry)
			b.write(filepath.Join(b.dkr, "config.json"), content)
			return b.apply()
		}
	}
	args := func(a ...string) func(b *badEnv) []string {
		return func(b *badEnv) []string {
			out := make([]string, len(a))
			for i, s := range a {
				out[i] = strings.NewReplacer("ANSWERS", b.answers, "CONFIG", b.cfg, "DIR", b.dir).Replace(s)
			}
			return out
		}
	}
	const existing = "existing config.toml"
	cases := []badCase{
		// flags
		{name: "flags/apply without --answers", setup: args("apply"), code: 2, want: []string{"--answers FILE is required"}},
		{name: "flags/apply -o yaml", setup: args("apply", "--answers", "ANSWERS", "-o", "yaml"), code: 2, want: []string{`--output must be text or json, not "yaml"`}},
		{name: "flags/apply --timeout 0s", setup: args("apply", "--answers", "ANSWERS", "--timeout", "0s"), code: 2, want: []string{"--timeout must be positive"}},
		{name: "flags/apply --timeout -1s", setup: args("apply", "--answers", "ANSWERS", "--timeout=-1s"), code: 2, want: []string{"--timeout must be positive"}},
		{name: "flags/apply --timeout abc", setup: args("apply", "--answers", "ANSWERS", "--timeout", "abc"), code: 2, want: []string{`invalid argument "abc" for "--timeout"`}},
		{name: "flags/apply extra argument", setup: args("apply", "--answers", "ANSWERS", "extra"), code: 2, want: []string{`unknown command "extra"`}},
		{name: "flags/apply unknown flag", setup: args("apply", "--answers", "ANSWERS", "--frobnicate"), code: 2, want: []string{"unknown flag: --frobnicate"}},
		{name: "flags/apply --answers missing file", setup: args("apply", "--answers", "DIR/nope.toml"), code: 2, want: []string{"answers file", "no such file or directory"}},
		{name: "flags/apply --answers directory", setup: args("apply", "--answers", "DIR"), code: 2, want: []string{"answers file", "is a directory"}},
		{name: "flags/apply --docker-config is a file", setup: func(b *badEnv) []string {
			b.write(b.answers, badAnswers+badRegistry)
			b.write(filepath.Join(b.dir, "notadir"), "x")
			return []string{"apply", "--answers", b.answers, "--config", b.cfg, "--docker-config", filepath.Join(b.dir, "notadir"), "--skip-probes"}
		}, code: 2, want: []string{"--docker-config takes the directory that holds config.json", "notadir is a file"}},
		{name: "flags/probe --answers and --image", setup: args("probe", "--answers", "ANSWERS", "--image", "alpine"), code: 2, want: []string{"give one of --answers FILE, --image REF, or --config PATH"}},
		{name: "flags/probe neither", setup: args("probe"), code: 2, want: []string{"give one of --answers FILE, --image REF, or --config PATH"}},
		{name: "flags/probe -o xml", setup: args("probe", "--image", "alpine", "-o", "xml"), code: 2, want: []string{`--output must be text or json, not "xml"`}},
		{name: "flags/probe --timeout 0", setup: args("probe", "--image", "alpine", "--timeout", "0s"), code: 2, want: []string{"--timeout must be positive"}},
		{name: "flags/probe --registry-concurrency 0", setup: args("probe", "--image", "alpine", "--registry-concurrency", "0"), code: 2, want: []string{"--registry-concurrency must be at least 1, not 0"}},
		{name: "flags/probe --image empty", setup: args("probe", "--image", ""), code: 2, want: []string{"--image", "is empty"}},
		{name: "flags/probe --image upper case", setup: args("probe", "--image", "MyGroup/App:1"), code: 2, want: []string{"--image", "must be lower-case"}},
		{name: "flags/probe --image with scheme", setup: args("probe", "--image", "https://r.example/app:1"), code: 2, want: []string{"--image", "has a URL scheme"}},
		{name: "flags/check -o yaml", setup: args("check", "--config", "CONFIG", "-o", "yaml"), code: 2, want: []string{`--output must be text or json, not "yaml"`}},
		{name: "flags/check missing config", setup: args("check", "--config", "DIR/none/config.toml"), code: 2, want: []string{"does not exist (named by --config)"}},
		{name: "flags/check extra argument", setup: args("check", "extra"), code: 2, want: []string{`unknown command "extra"`}},
		{name: "flags/diagnose no image", setup: args("diagnose"), code: 2, want: []string{"give the IMAGE to diagnose"}},
		{name: "flags/diagnose two images", setup: args("diagnose", "a", "b"), code: 2, want: []string{"diagnose takes one image, got 2 arguments"}},
		{name: "flags/diagnose bad platform", setup: args("diagnose", "alpine", "--platform", "linux"), code: 2, want: []string{`--platform "linux": want os/arch`}},
		{name: "flags/diagnose --timeout 0", setup: args("diagnose", "alpine", "--timeout", "0s"), code: 2, want: []string{"--timeout must be positive"}},
		{name: "flags/version extra flag", setup: args("version", "--bogus"), code: 2, want: []string{"unknown flag: --bogus"}},
		{name: "flags/global unknown flag", setup: args("--bogus", "version"), code: 2, want: []string{"unknown flag: --bogus"}},

		// existing config.toml
		{name: "config.toml/unterminated table", setup: config("concurrent = 1\n[[runners]\n"), code: 2, want: []string{existing, "line 3: expected end of table array name"}},
		{name: "config.toml/duplicate key", setup: config(strings.Replace(goodConfig, "  executor", "  executor = \"shell\"\n  executor", 1)), code: 2, want: []string{existing, "executor", "already been defined"}},
		{name: "config.toml/invalid UTF-8", setup: config("concurrent = 1\n# caf\xe9\n"), code: 2, want: []string{existing, "UTF-8"}},
		{name: "config.toml/binary", setup: config("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00>\x00"), code: 2, want: []string{existing}},
		{name: "config.toml/NUL bytes", setup: config(strings.Repeat("\x00", 4096)), code: 2, want: []string{existing}},
		{name: "config.toml/huge 20 MB", setup: func(b *badEnv) []string {
			b.big(b.cfg, 20<<20, "# "+strings.Repeat("x", 97)+"\n")
			return b.apply()
		}, code: 2, want: []string{"config.toml: is 20.0 MB", "is this the right file?"}},
		{name: "config.toml/FIFO", setup: func(b *badEnv) []string { b.mkfifo(b.cfg); return b.apply() }, code: 2, want: []string{"config.toml: is not a regular file (a FIFO)"}},
		{name: "config.toml/directory", setup: func(b *badEnv) []string {
			_ = os.Remove(b.cfg)
			_ = os.MkdirAll(b.cfg, 0o700)
			return b.apply()
		}, code: 2, want: []string{"config.toml: is a directory"}},
		{name: "config.toml/dev zero", setup: func(b *badEnv) []string {
			return []string{"apply", "--answers", b.answers, "--config", "/dev/zero", "--docker-config", b.dkr, "--skip-probes"}
		}, code: 2, want: []string{"/dev/zero: is not a regular file (a character device)"}},
		{name: "config.toml/symlink to malformed", setup: func(b *badEnv) []string {
			target := filepath.Join(b.dir, "real", "config.toml")
			b.write(target, "[[runners]\n")
			b.symlink(target, b.cfg)
			return b.apply()
		}, code: 2, want: []string{existing}},
		{name: "config.toml/symlink loop", setup: func(b *badEnv) []string {
			_ = os.Remove(b.cfg)
			b.symlink(b.cfg+".2", b.cfg)
			b.symlink(b.cfg, b.cfg+".2")
			return b.apply()
		}, code: 2, want: []string{"too many levels of symbolic links"}},
		{name: "config.toml/inline runners array", setup: config("concurrent = 1\nrunners = [{name = \"build-01\", url = \"https://gitlab.example.com\", token = \"" + testToken + "\"}]\n"), code: 2, want: []string{"not all written as [[runners]] tables"}},
		{name: "config.toml/two runners with the name", setup: config(strings.ReplaceAll(goodConfig+strings.TrimPrefix(goodConfig, "concurrent = 1\n"), "https://gitlab.example.com", "https://other.example.com")), code: 2, want: []string{`2 runners are named "build-01"`}},
		{name: "config.toml/two runners with the name and url", setup: config(strings.Replace(goodConfig, testToken, "glrt-FIRSTFIRSTFIRSTFIRST", 1) + strings.Replace(strings.TrimPrefix(goodConfig, "concurrent = 1\n"), testToken, "glrt-SECONDSECONDSECOND2", 1)), code: 2, want: []string{`2 runners are named "build-01" with url https://gitlab.example.com`}},
		{name: "config.toml/runners is a string", setup: config("runners = \"x\"\n"), code: 2, want: []string{existing, "runners"}},
		{name: "config.toml/name is a number", setup: config("[[runners]]\n  name = 5\n"), code: 2, want: []string{existing, "name"}},
		{name: "config.toml/token_obtained_at is a string", setup: config(strings.Replace(goodConfig, "  executor", "  token_obtained_at = \"yesterday\"\n  executor", 1)), code: 2, want: []string{existing, "token_obtained_at"}},
		{name: "config.toml/volumes is a string", setup: config(goodConfig + "    volumes = \"/cache\"\n"), code: 2, want: []string{existing, "volumes"}},
		{name: "config.toml/services is a table", setup: config(goodConfig + "    [runners.docker.services]\n      name = \"x\"\n"), code: 2, want: []string{existing, "services"}},
		{name: "config.toml/owned by another user", asUser: true, setup: func(b *badEnv) []string {
			openForAll(b.t, b.dir)
			_ = os.Chmod(b.answers, 0o644)
			_ = os.Chmod(filepath.Dir(b.cfg), 0o755) // readable dir, unreadable file (root 0600)
			return b.apply()
		}, code: 2, want: []string{"config.toml: permission denied"}},
		{name: "config.toml/read-only directory", asUser: true, setup: func(b *badEnv) []string {
			openForAll(b.t, b.dir)
			_ = os.Chmod(b.answers, 0o644)
			for _, p := range []string{b.cfg, filepath.Dir(b.cfg)} {
				if err := os.Chown(p, 65534, 65534); err != nil {
					b.t.Fatal(err)
				}
			}
			_ = os.Chmod(filepath.Dir(b.cfg), 0o555)
			b.t.Cleanup(func() { _ = os.Chmod(filepath.Dir(b.cfg), 0o755) })
			b.answersWith(func(s string) string { return strings.Replace(s, "alpine:3.20", "alpine:3.21", 1) })
			return b.apply()
		}, code: 4, want: []string{"error: lock ", ".lock: permission denied"}},

		// existing config.json
		{name: "config.json/truncated", setup: dockerJSON(`{"auths": `), code: 2, want: []string{"config.json", "invalid JSON near line 1"}},
		{name: "config.json/null", setup: dockerJSON("null"), code: 2, want: []string{"config.json", "is not a JSON object (starts with null)"}},
		{name: "config.json/array", setup: dockerJSON("[]"), code: 2, want: []string{"config.json", `is not a JSON object (starts with "[")`}},
		{name: "config.json/string", setup: dockerJSON(`"auths"`), code: 2, want: []string{"config.json", "is not a JSON object"}},
		{name: "config.json/number", setup: dockerJSON("42"), code: 2, want: []string{"config.json", "is not a JSON object"}},
		{name: "config.json/two objects", setup: dockerJSON("{} {}"), code: 2, want: []string{"config.json", "has data after the closing }"}},
		{name: "config.json/auths is an array", setup: dockerJSON(`{"auths": []}`), code: 2, want: []string{"config.json", `"auths" is not a JSON object`}},
		{name: "config.json/auth entry is a string", setup: dockerJSON(`{"auths": {"registry.example.com:5000": "x"}}`), code: 2, want: []string{"config.json", `auths["registry.example.com:5000"]`}},
		{name: "config.json/credHelpers is a string", setup: dockerJSON(`{"credHelpers": "ecr-login"}`), code: 2, want: []string{"config.json", `"credHelpers" is not a JSON object`}},
		{name: "config.json/BOM", setup: dockerJSON("\xef\xbb\xbf{}"), code: 2, want: []string{"config.json", "invalid JSON"}},
		{name: "config.json/comment", setup: dockerJSON("{\n// comment\n}"), code: 2, want: []string{"config.json", "invalid JSON near line 2"}},
		{name: "config.json/FIFO", setup: func(b *badEnv) []string {
			b.write(b.answers, badAnswers+badRegistry)
			b.mkfifo(filepath.Join(b.dkr, "config.json"))
			return b.apply()
		}, code: 2, want: []string{"config.json: is not a regular file (a FIFO)"}},
		{name: "config.json/directory", setup: func(b *badEnv) []string {
			b.write(b.answers, badAnswers+badRegistry)
			_ = os.MkdirAll(filepath.Join(b.dkr, "config.json"), 0o700)
			return b.apply()
		}, code: 2, want: []string{"config.json: is a directory"}},
		{name: "config.json/huge 20 MB", setup: func(b *badEnv) []string {
			b.write(b.answers, badAnswers+badRegistry)
			b.write(filepath.Join(b.dkr, "config.json"), `{"x": "`+strings.Repeat("a", 20<<20)+`"}`)
			return b.apply()
		}, code: 2, want: []string{"config.json: is 20.0 MB"}},
		{name: "config.json/owned by another user", asUser: true, setup: func(b *badEnv) []string {
			b.write(b.answers, badAnswers+badRegistry)
			b.write(filepath.Join(b.dkr, "config.json"), "{}")
			openForAll(b.t, b.dkr)
			_ = os.Chmod(b.answers, 0o644)
			if err := os.Chown(b.cfg, 65534, 65534); err != nil {
				b.t.Fatal(err)
			}
			_ = os.Chmod(filepath.Dir(b.cfg), 0o755)
			return b.apply()
		}, code: 2, want: []string{"config.json: permission denied"}},

		// GitLab URLs
		{name: "url/port out of range", setup: url("https://gitlab.example.com:99999"), code: 2, want: []string{"gitlab.url", "port"}},
		{name: "url/port not a number", setup: url("https://gitlab.example.com:port"), code: 2, want: []string{"gitlab.url", "cannot be parsed", "invalid port"}},
		{name: "url/unclosed IPv6", setup: url("https://[::1"), code: 2, want: []string{"gitlab.url", "cannot be parsed"}},
		{name: "url/fragment", setup: url("https://gitlab.example.com/#top"), code: 2, want: []string{"gitlab.url", "has a query or fragment"}},
		{name: "url/opaque", setup: url("https:gitlab.example.com"), code: 2, want: []string{"gitlab.url", "has no host"}},
		{name: "url/runners page", setup: url("https://gitlab.example.com/group/-/runners"), code: 2, want: []string{"gitlab.url", "base URL"}},
		{name: "url/leading space", setup: url(" https://gitlab.example.com"), code: 2, want: []string{"gitlab.url", "cannot be parsed"}},
		{name: "url/newline", setup: url("https://gitlab.example.com\n"), code: 2, want: []string{"gitlab.url", "cannot be parsed"}},
		{name: "url/javascript", setup: url("javascript:alert(1)"), code: 2, want: []string{"gitlab.url", `scheme "javascript"`}},
		{name: "url/user only", setup: url("https://user@gitlab.example.com"), code: 2, want: []string{"gitlab.url", "user info"}},
		{name: "url/scheme-relative", setup: url("//gitlab.example.com"), code: 2, want: []string{"gitlab.url", "has no scheme"}},
		{name: "url/ssh clone URL", setup: url("git@gitlab.example.com:group/project.git"), code: 2, want: []string{"gitlab.url"}},

		// image references
		{name: "image/empty tag", setup: image("alpine:"), code: 2, want: []string{"docker.image", "not a valid image reference"}},
		{name: "image/short digest", setup: image("alpine@sha256:abc"), code: 2, want: []string{"docker.image", "not a valid image reference"}},
		{name: "image/leading dash", setup: image("-alpine"), code: 2, want: []string{"docker.image", "not a valid image reference"}},
		{name: "image/bad tag character", setup: image("alpine:3.20!"), code: 2, want: []string{"docker.image", "not a valid image reference"}},
		{name: "image/too long", setup: image(strings.Repeat("a", 300)), code: 2, want: []string{"docker.image", "255 characters"}},
		{name: "image/trailing slash", setup: image("docker.io/library/"), code: 2, want: []string{"docker.image", "not a valid image reference"}},
		{name: "image/empty digest", setup: image("registry.example.com/app:1.0@sha256:"), code: 2, want: []string{"docker.image", "not a valid image reference"}},
		{name: "image/tab", setup: image("alpine\t3"), code: 2, want: []string{"docker.image", "white space"}},
		{name: "image/service trailing space", setup: func(b *badEnv) []string {
			b.write(b.answers, badAnswers+"[[docker.services]]\nname = \"postgres:16 \"\n")
			return b.apply()
		}, code: 2, want: []string{"docker.services[0].name", "white space"}},
		{name: "image/oci scheme", setup: image("oci://registry.example.com/app:1"), code: 2, want: []string{"docker.image", "URL scheme"}},
	}
	if len(cases) < 60 {
		t.Fatalf("only %d cases", len(cases))
	}
	counts := map[string]int{}
	for _, c := range cases {
		counts[strings.SplitN(c.name, "/", 2)[0]]++
		t.Run(c.name, func(t *testing.T) {
			b := newBadEnv(t)
			argv := c.setup(b)
			before := hardSnapshot(t, b.dir)
			var r result
			if c.asUser {
				if os.Geteuid() != 0 {
					t.Skip("needs root to run as another user")
				}
				r = runAs(t, b, argv)
			} else {
				r = runWithDeadline(t, b, argv)
			}
			if r.code != c.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, c.code, r.stdout, r.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if diffs := diffSnapshots(before, hardSnapshot(t, b.dir)); len(diffs) > 0 {
				t.Errorf("files changed by a refused run: %v", diffs)
			}
			assertNoSecrets(t, "output", r.stdout+r.stderr, testToken, "pw-0123456789")
		})
	}
	t.Logf("bad-input corpus: %d cases %v", len(cases), counts)
}

func tomlString(s string) string { return fmt.Sprintf("%q", s) }
