package service

import (
	"path"
	"slices"
	"strings"
	"testing"
)

// The parsers read text a host's admin wrote (unit files, environment
// files, service command lines): the fuzz targets check that no input
// panics them and that what they return keeps its promises. Each parser
// has its own target for focused runs (go test -fuzz FuzzSplitWords);
// FuzzServiceParsers runs all four checks, so CI spends one target's time
// on them (scripts/fuzz).

// splitWordsSeeds are the table tests' systemd command lines and
// Environment= values, plus what systemctl show prints.
var splitWordsSeeds = []string{
	`/usr/bin/gitlab-runner "run" "--config" "/etc/gitlab-runner/config.toml"`,
	"  a\tb  ",
	`"HTTP_PROXY=http://u:p w@proxy:3128" NO_PROXY=a,b`,
	`'single "quoted"' mid"dle quo"te`,
	`""`,
	`a\ b c\"d \x41\101 "tab\there" 'e\sf'`,
	`unknown\q escape`,
	`open "quote`,
	`open 'quote`,
	`:/usr/bin/gitlab-runner run $ARGS`,
	`+@/usr/bin/gitlab-runner runner-argv0 run -c ${CFG}`,
	`/usr/bin/gitlab-runner run -n %N -c "%h/my config.toml" %i%% $$`,
	"{ path=/usr/bin/gitlab-runner ; argv[]=/usr/bin/gitlab-runner run --config /x ; ignore_errors=no ; pid=1 }",
	"trailing\\",
	`\x4`,
}

// envFileSeeds are the table test's environment file and small variants.
var envFileSeeds = []string{
	"# comment\n; also a comment\n\n" +
		"PLAIN=value  \n" +
		"  SPACED = spaced value\t\n" +
		"DOUBLE=\"http://u:p@proxy:3128\" \n" +
		"ESCAPES=\"a \\\"b\\\" \\$c \\n\"\n" +
		"SINGLE='literal \\n $x'\n" +
		"UNQUOTED=a\\ b\\#c\n" +
		"CONT=first\\\nsecond\n" +
		"EMPTY=\n" +
		"not an assignment\n" +
		"1BAD=x\n" +
		"PLAIN=later wins in the caller\r\n",
	"HTTPS_PROXY=http://proxy.example:3129\n",
	"A=\"unterminated\nB='x'y\"z\"\n",
	"K=trailing\\",
}

// runArgvSeeds are command lines, one word a line, from the table tests.
var runArgvSeeds = []string{
	"/usr/bin/gitlab-runner\nrun\n--config\n/etc/gitlab-runner/config.toml\n--working-directory\n/home/gitlab-runner\n--service\ngitlab-runner\n--user\ngitlab-runner\n--syslog",
	"gitlab-runner\nrun\n-c=/a.toml\n-d\n/w\n-u=ci\n-n\nsvc\n-config\n/b.toml",
	"/usr/bin/gitlab-runner\n--debug\n--log-level\ndebug\n--log-format=json\nrun\n--listen-address\n:9252\n-c\n/x.toml",
	"/usr/bin/dumb-init\n/entrypoint\nrun\n--user=gitlab-runner\n--working-directory=/home/gitlab-runner",
	"strace\n-o\n/tmp/gitlab-runner\n--\n/usr/bin/gitlab-runner\nrun\n-c\n/y.toml",
	"gitlab-runner\nrun\n--\n--config\n/ignored.toml",
	"gitlab-runner\nverify\nrun",
	`C:\GitLab-Runner\gitlab-runner.exe` + "\nrun\n--config\nconf\\c.toml\n-d\n" + `D:\ci\`,
	"",
}

// windowsCommandLineSeeds are the splitter's table tests and sc.exe output.
var windowsCommandLineSeeds = []string{
	`C:\GitLab-Runner\gitlab-runner.exe run --config C:\GitLab-Runner\config.toml --working-directory C:\GitLab-Runner --service gitlab-runner --syslog`,
	`"C:\Program Files\GitLab Runner\gitlab-runner.exe" run --config "C:\Program Files\GitLab Runner\config.toml"`,
	`x.exe -d "C:\My Runner\\" next`,
	`x.exe a\\\"b a\\b "a\"b" \\\\"c d"`,
	`x.exe "" mid"dle quo"te`,
	`x.exe "a""b c"`,
	`x.exe "open quote`,
	`"C:\dir\"run`,
	`C:\a"b c`,
	`""`,
	scQC("gitlab-runner", `"C:\GitLab Runner\gitlab-runner.exe" run -c=conf\r.toml -d D:\ci\`, `.\ci`),
	scQuery("gitlab-runner", "4  RUNNING"),
	`\\srv\share\..\x C:a\..\..\b //x/y/z`,
}

// fuzzStrings seeds f and fuzzes check.
func fuzzStrings(f *testing.F, seeds []string, check func(*testing.T, string)) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(check)
}

func FuzzSplitWords(f *testing.F)   { fuzzStrings(f, splitWordsSeeds, checkSplitWords) }
func FuzzParseEnvFile(f *testing.F) { fuzzStrings(f, envFileSeeds, checkEnvFile) }
func FuzzParseRunArgv(f *testing.F) { fuzzStrings(f, runArgvSeeds, checkRunArgv) }
func FuzzWindowsCommandLine(f *testing.F) {
	fuzzStrings(f, windowsCommandLineSeeds, checkWindowsCommandLine)
}

// serviceParserChecks are the four checks FuzzServiceParsers picks from.
var serviceParserChecks = []func(*testing.T, string){checkSplitWords, checkEnvFile, checkRunArgv, checkWindowsCommandLine}

// FuzzServiceParsers is the four targets in one, for CI's time budget:
// which (mod 4) picks the check, so the fuzzer can mutate inputs of one
// parser and carry them over to another.
func FuzzServiceParsers(f *testing.F) {
	for i, seeds := range [][]string{splitWordsSeeds, envFileSeeds, runArgvSeeds, windowsCommandLineSeeds} {
		for _, s := range seeds {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, s string) {
		serviceParserChecks[int(which)%len(serviceParserChecks)](t, s)
	})
}

// quoteSystemd quotes a word for splitWords: double quotes, with
// backslash and double quote escaped.
func quoteSystemd(w string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(w) + `"`
}

// checkSplitWords: splitWords fails only on an open quote, with a message
// that does not carry the text; its words, quoted again and joined, split
// back to the same words; ExecStart and unit-file parsing of the text do
// not panic, and systemctl's argv has no whitespace in a word.
func checkSplitWords(t *testing.T, s string) {
	words, err := splitWords(s)
	if err != nil {
		if msg := err.Error(); msg != `unbalanced " quote` && msg != `unbalanced ' quote` {
			t.Fatalf("splitWords(%q) error %q", s, msg)
		}
	} else {
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = quoteSystemd(w)
		}
		again, err := splitWords(strings.Join(quoted, " "))
		if err != nil || !slices.Equal(again, words) {
			t.Fatalf("splitWords(%q) = %q; quoted again %q splits to %q, %v", s, words, strings.Join(quoted, " "), again, err)
		}
		expandWords(words, map[string]string{"ARGS": s, "CFG": "/y.toml"})
	}

	var notes []string
	commandWords(s, specifiers{unit: "gitlab-runner@x.service", home: "/root", user: "root"}, map[string]string{"ARGS": s}, &notes)
	for _, w := range execStartArgv(s) {
		if w == "" || strings.ContainsAny(w, " \t\n\r") {
			t.Fatalf("execStartArgv(%q) has word %q", s, w)
		}
	}
	var us unitSettings
	us.parseUnit("fuzz.service", []byte("[Service]\nExecStart="+s+"\nEnvironment="+s+"\n"))
}

// quoteEnvFile writes a value an environment file reads back as is:
// double-quoted, with \ " $ ` escaped.
func quoteEnvFile(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`, "`", "\\`").Replace(v) + `"`
}

// checkEnvFile: every assignment parseEnvFile returns is KEY=VALUE with a
// valid variable name (so no '=' or whitespace in the key), and written
// back double-quoted they parse to the same assignments. No value holds a
// newline: lines are split first.
func checkEnvFile(t *testing.T, s string) {
	env := parseEnvFile([]byte(s))
	var b strings.Builder
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !isEnvName(k) || strings.ContainsAny(k, "= \t\r\n") {
			t.Fatalf("parseEnvFile(%q) returned %q", s, kv)
		}
		if strings.Contains(v, "\n") {
			t.Fatalf("parseEnvFile(%q) returned a value with a newline: %q", s, kv)
		}
		b.WriteString(k + "=" + quoteEnvFile(v) + "\n")
	}
	if again := parseEnvFile([]byte(b.String())); !slices.Equal(again, env) {
		t.Fatalf("parseEnvFile(%q) = %q; written back as %q it reads %q", s, env, b.String(), again)
	}
}

// checkRunArgv: for a command line (one word a line), every value
// parseRunArgv returns is a word or the part of a word after '=', and the
// resolved config path is absolute and clean; values put into a runner
// command line, in both flag forms, come back unchanged.
func checkRunArgv(t *testing.T, s string) {
	argv := strings.Split(s, "\n")
	ra, ok := parseRunArgv(argv)
	if ok {
		for _, v := range []string{ra.config, ra.workDir, ra.buildUser, ra.service} {
			if v != "" && !slices.ContainsFunc(argv, func(w string) bool { return w == v || strings.HasSuffix(w, "="+v) }) {
				t.Fatalf("parseRunArgv(%q) = %+v: %q is in no word", argv, ra, v)
			}
		}
		rf := resolveRunnerFiles(ra, map[string]string{"CONFIG_FILE": argv[0]}, "/srv", false, "/home/u")
		if rf.configPath != "" && (!path.IsAbs(rf.configPath) || path.Clean(rf.configPath) != rf.configPath) {
			t.Fatalf("resolveRunnerFiles(%+v) config path %q", ra, rf.configPath)
		}
		wf := resolveWindowsRunnerFiles(ra, `C:\Windows\System32`)
		if !winIsAbs(wf.configPath) || wf.workDir != "" && !winIsAbs(wf.workDir) {
			t.Fatalf("resolveWindowsRunnerFiles(%+v) = %+v: not absolute", ra, wf)
		}
	} else if ra != (runArgs{}) {
		t.Fatalf("parseRunArgv(%q) = %+v, false", argv, ra)
	}

	vals := append(slices.Clone(argv), "", "", "", "")[:4]
	want := runArgs{config: vals[0], workDir: vals[1], buildUser: vals[2], service: vals[3]}
	for _, cmd := range [][]string{
		{"/usr/bin/gitlab-runner", "--debug", "run", "--config", vals[0], "-d", vals[1], "--user", vals[2], "-n", vals[3], "--syslog"},
		{`C:\GitLab-Runner\gitlab-runner.exe`, "run", "-c=" + vals[0], "--working-directory=" + vals[1], "-u=" + vals[2], "--service=" + vals[3]},
	} {
		if got, ok := parseRunArgv(cmd); !ok || got != want {
			t.Fatalf("parseRunArgv(%q) = %+v, %v; want %+v", cmd, got, ok, want)
		}
	}
}

// escapeWindowsArg quotes a word as Go's syscall.EscapeArg does on
// Windows (x/sys mgr.CreateService registers service arguments with it).
func escapeWindowsArg(s string) string {
	if s == "" {
		return `""`
	}
	if !strings.ContainsAny(s, "\"\\ \t") {
		return s
	}
	hasSpace := strings.ContainsAny(s, " \t")
	var b strings.Builder
	if hasSpace {
		b.WriteByte('"')
	}
	slashes := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			slashes++
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes+1))
			slashes = 0
		default:
			slashes = 0
		}
		b.WriteByte(s[i])
	}
	if hasSpace {
		b.WriteString(strings.Repeat(`\`, slashes))
		b.WriteByte('"')
	}
	return b.String()
}

// quoteWindowsProgram quotes a program name for splitWindowsCommandLine,
// which takes it up to the closing quote or, unquoted, to whitespace:
// quotes are needed for whitespace or an empty name and can be used
// when it has no double quote (the splitter never returns one that has
// both).
func quoteWindowsProgram(p string) string {
	if !strings.Contains(p, `"`) && (p == "" || strings.ContainsAny(p, " \t")) {
		return `"` + p + `"`
	}
	return p
}

// checkWindowsCommandLine: the split words, quoted again (the program
// name as CreateProcess reads it, the rest with EscapeArg), split back to
// the same words; words given one a line survive EscapeArg and a split;
// the Windows path helpers keep absolute paths absolute and cleaning is
// idempotent; sc.exe output parsing does not panic.
func checkWindowsCommandLine(t *testing.T, s string) {
	words := splitWindowsCommandLine(s)
	if len(words) > 0 {
		quoted := []string{quoteWindowsProgram(words[0])}
		for _, w := range words[1:] {
			quoted = append(quoted, escapeWindowsArg(w))
		}
		line := strings.Join(quoted, " ")
		if again := splitWindowsCommandLine(line); !slices.Equal(again, words) {
			t.Fatalf("splitWindowsCommandLine(%q) = %q; quoted again %q splits to %q", s, words, line, again)
		}
	}

	args := strings.Split(s, "\n")
	line := `"C:\Program Files\GitLab Runner\gitlab-runner.exe"`
	for _, a := range args {
		line += " " + escapeWindowsArg(a)
	}
	want := append([]string{`C:\Program Files\GitLab Runner\gitlab-runner.exe`}, args...)
	if got := splitWindowsCommandLine(line); !slices.Equal(got, want) {
		t.Fatalf("words %q escaped as %q split to %q", args, line, got)
	}

	for _, w := range append(words, s) {
		c := winClean(w)
		if winClean(c) != c {
			t.Fatalf("winClean(%q) = %q, cleaned again %q", w, c, winClean(c))
		}
		if winIsAbs(w) != winIsAbs(c) {
			t.Fatalf("winIsAbs(%q) = %v but winIsAbs(winClean) = %v (%q)", w, winIsAbs(w), winIsAbs(c), c)
		}
		if j := winJoin(`C:\GitLab-Runner`, w); !winIsAbs(j) || winClean(j) != j {
			t.Fatalf("winJoin(C:\\GitLab-Runner, %q) = %q", w, j)
		}
	}
	fields := parseSCFields([]byte(s))
	windowsState(fields["STATE"])
	splitWindowsCommandLine(fields["BINARY_PATH_NAME"])
}
