package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/cli"
)

// gendocs runs the generator as `go run ./internal/cmd/gendocs` would.
func gendocs(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// unroff drops roff escapes that split words ("\-" for "-", font changes),
// so the page text can be searched.
func unroff(s string) string {
	return strings.NewReplacer(`\-`, "-", `\fB`, "", `\fR`, "", `\fI`, "", `\(cq`, "'", `\&`, "").Replace(s)
}

func TestManPages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "man")
	t.Setenv("SOURCE_DATE_EPOCH", "1795435200") // 2026-11-23
	stdout, stderr, code := gendocs(t, "--dir", dir)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	top, err := os.ReadFile(filepath.Join(dir, "runnerup.1"))
	if err != nil {
		t.Fatalf("top page: %v (stdout %q)", err, stdout)
	}
	page := unroff(string(top))
	for _, want := range []string{
		`.TH "RUNNERUP" "1" "Nov 2026" "runnerup" "runnerup manual"`,
		"Exit codes:",
		"130  interrupted; nothing written",
		"4    a write failed; previous files intact",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("runnerup.1 lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "Auto generated") {
		t.Errorf("runnerup.1 has cobra's dated history line:\n%s", page)
	}

	// Every visible subcommand is named in the top page and has its own page.
	var d cli.Deps
	d.IO = &cli.IOStreams{Out: io.Discard, ErrOut: io.Discard, In: strings.NewReader("")}
	root := cli.NewRootCmd(&d)
	root.InitDefaultCompletionCmd()
	subs := 0
	for _, c := range root.Commands() {
		if !c.IsAvailableCommand() {
			continue
		}
		subs++
		if !strings.Contains(page, "runnerup-"+c.Name()+"(1)") {
			t.Errorf("runnerup.1 does not mention subcommand %q", c.Name())
		}
		if _, err := os.Stat(filepath.Join(dir, "runnerup-"+c.Name()+".1")); err != nil {
			t.Errorf("no page for %q: %v", c.Name(), err)
		}
	}
	for _, name := range []string{"apply", "version", "completion"} {
		if !strings.Contains(page, "runnerup-"+name+"(1)") {
			t.Errorf("runnerup.1 does not mention %q", name)
		}
	}
	if subs < 3 {
		t.Errorf("only %d subcommands found", subs)
	}
	if _, _, err := root.Find([]string{"man"}); err == nil {
		if c, _, _ := root.Find([]string{"man"}); c != root {
			t.Errorf("runnerup still has a man command; pages come from gendocs")
		}
	}
	apply, err := os.ReadFile(filepath.Join(dir, "runnerup-apply.1"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(unroff(string(apply)), "--answers") {
		t.Errorf("runnerup-apply.1 does not document --answers")
	}
	// No leftovers (the temporary directory) beside the pages.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".1") {
			t.Errorf("unexpected entry %q in %s", e.Name(), dir)
		}
	}
}

func TestManPagesGzipReproducible(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1795435200")
	var pages [2][]byte
	for i := range pages {
		dir := t.TempDir()
		if _, stderr, code := gendocs(t, "--dir", dir, "--gzip"); code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "runnerup.1")); err == nil {
			t.Errorf("--gzip left an uncompressed runnerup.1")
		}
		data, err := os.ReadFile(filepath.Join(dir, "runnerup.1.gz"))
		if err != nil {
			t.Fatal(err)
		}
		pages[i] = data
	}
	if !bytes.Equal(pages[0], pages[1]) {
		t.Errorf("two runs gave different runnerup.1.gz")
	}
	zr, err := gzip.NewReader(bytes.NewReader(pages[0]))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(unroff(string(text)), "Exit codes:") {
		t.Errorf("runnerup.1.gz does not hold the page:\n%s", text)
	}
}

func TestManRequiresDir(t *testing.T) {
	_, stderr, code := gendocs(t)
	if code != cli.ExitInput {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, cli.ExitInput, stderr)
	}
}
