package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSplitWindowsCommandLine(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		// What kardianos/service registers (x/sys mgr.CreateService quotes
		// each word with syscall.EscapeArg: only when it needs it).
		{`C:\GitLab-Runner\gitlab-runner.exe run --config C:\GitLab-Runner\config.toml --working-directory C:\GitLab-Runner --service gitlab-runner --syslog`,
			[]string{`C:\GitLab-Runner\gitlab-runner.exe`, "run", "--config", `C:\GitLab-Runner\config.toml`, "--working-directory", `C:\GitLab-Runner`, "--service", "gitlab-runner", "--syslog"}},
		{`"C:\Program Files\GitLab Runner\gitlab-runner.exe" run --config "C:\Program Files\GitLab Runner\config.toml"`,
			[]string{`C:\Program Files\GitLab Runner\gitlab-runner.exe`, "run", "--config", `C:\Program Files\GitLab Runner\config.toml`}},
		// EscapeArg doubles the backslashes before a closing quote.
		{`x.exe -d "C:\My Runner\\" next`, []string{"x.exe", "-d", `C:\My Runner\`, "next"}},
		{`x.exe a\\\"b a\\b "a\"b" \\\\"c d"`, []string{"x.exe", `a\"b`, `a\\b`, `a"b`, `\\c d`}},
		{`x.exe "" mid"dle quo"te`, []string{"x.exe", "", "middle quote"}},
		// Inside quotes "" is a quote and ends the quoting (Go's rule).
		{`x.exe "a""b c"`, []string{"x.exe", `a"b`, "c"}},
		{"  \tx.exe\ta\t\tb  ", []string{"x.exe", "a", "b"}},
		{`x.exe "open quote`, []string{"x.exe", "open quote"}},
		{`x.exe trailing\\`, []string{"x.exe", `trailing\\`}},
		// The program name has no escapes: a quote ends it, a backslash
		// before the quote is a path separator.
		{`"C:\dir\"run`, []string{`C:\dir\`, "run"}},
		{`"C:\no end`, []string{`C:\no end`}},
		{`C:\a"b c`, []string{`C:\a"b`, "c"}},
		{`""`, []string{""}},
		{"", nil},
		{"   ", nil},
	}
	for _, tt := range tests {
		if got := splitWindowsCommandLine(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitWindowsCommandLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWindowsPaths(t *testing.T) {
	for p, want := range map[string]bool{
		`C:\x`: true, `c:/x`: true, `C:\`: true, `\\server\share\x`: true, `//server/share`: true, `\\?\C:\x`: true,
		`C:`: false, `C:x`: false, `\x`: false, `x\y`: false, "": false, `/x`: false,
	} {
		if got := winIsAbs(p); got != want {
			t.Errorf("winIsAbs(%q) = %v, want %v", p, got, want)
		}
	}
	cleans := map[string]string{
		`C:\a\.\b\..\c\`:    `C:\a\c`,
		`C:/a//b`:           `C:\a\b`,
		`C:\..\..\x`:        `C:\x`,
		`C:\`:               `C:\`,
		`\\srv\share\a\..\`: `\\srv\share\`,
		`a\..\..\b`:         `..\b`,
		`.`:                 `.`,
		``:                  `.`,
		`C:a\..`:            `C:`,
		`.\C:\x`:            `.\C:\x`,
		`a\..\C:x`:          `.\C:x`,
	}
	for p, want := range cleans {
		if got := winClean(p); got != want {
			t.Errorf("winClean(%q) = %q, want %q", p, got, want)
		}
	}
	joins := []struct{ dir, p, want string }{
		{`C:\GitLab-Runner`, `config.toml`, `C:\GitLab-Runner\config.toml`},
		{`C:\GitLab-Runner`, `..\other\c.toml`, `C:\other\c.toml`},
		{`C:\GitLab-Runner`, `D:\abs.toml`, `D:\abs.toml`},
		{`C:\GitLab-Runner`, `\rooted.toml`, `C:\rooted.toml`},
		{`\\srv\share\dir`, `\rooted.toml`, `\\srv\share\rooted.toml`},
		{`C:\GitLab-Runner`, `c:rel.toml`, `C:\GitLab-Runner\rel.toml`},
		{`C:\GitLab-Runner`, `D:rel.toml`, `D:\rel.toml`},
		{`C:\GitLab-Runner`, `\\srv\share\c.toml`, `\\srv\share\c.toml`},
		{``, `rel.toml`, ``},
		{``, `C:/abs.toml`, `C:\abs.toml`},
	}
	for _, tt := range joins {
		if got := winJoin(tt.dir, tt.p); got != tt.want {
			t.Errorf("winJoin(%q, %q) = %q, want %q", tt.dir, tt.p, got, tt.want)
		}
	}
}

func TestIsRunnerBinary(t *testing.T) {
	for w, want := range map[string]bool{
		"/usr/bin/gitlab-runner": true, "gitlab-runner": true, "gitlab-ci-multi-runner": true,
		`C:\GitLab-Runner\gitlab-runner.exe`: true, `C:\GitLab-Runner\GitLab-Runner.EXE`: true, "C:/x/gitlab-runner.exe": true,
		`C:\GitLab-Runner\gitlab-runner-helper.exe`: false, "/usr/bin/gitlab-runner.sh": false, `C:\gitlab-runner\nssm.exe`: false,
		".exe": false, "": false,
	} {
		if got := isRunnerBinary(w); got != want {
			t.Errorf("isRunnerBinary(%q) = %v, want %v", w, got, want)
		}
	}
}

// scQC is `sc.exe qc` output for a service, with Windows line ends.
func scQC(name, binPath, startName string) string {
	return crlf(`[SC] QueryServiceConfig SUCCESS

SERVICE_NAME: ` + name + `
        TYPE               : 10  WIN32_OWN_PROCESS
        START_TYPE         : 2   AUTO_START
        ERROR_CONTROL      : 1   NORMAL
        BINARY_PATH_NAME   : ` + binPath + `
        LOAD_ORDER_GROUP   :
        TAG                : 0
        DISPLAY_NAME       : ` + name + `
        DEPENDENCIES       : Tcpip
                           : Dnscache
        SERVICE_START_NAME : ` + startName + `
`)
}

// scQuery is `sc.exe query` output with the given STATE value.
func scQuery(name, state string) string {
	return crlf(`
SERVICE_NAME: ` + name + `
        TYPE               : 10  WIN32_OWN_PROCESS
        STATE              : ` + state + `
                                (STOPPABLE, NOT_PAUSABLE, ACCEPTS_SHUTDOWN)
        WIN32_EXIT_CODE    : 0  (0x0)
        SERVICE_EXIT_CODE  : 0  (0x0)
        CHECKPOINT         : 0x0
        WAIT_HINT          : 0x0
`)
}

const scMissing = "[SC] OpenService FAILED 1060:\r\n\r\nThe specified service does not exist as an installed service.\r\n\r\n"

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// scReply is what the fake sc.exe prints and exits with for one verb.
type scReply struct {
	out  string
	code int
}

// fakeSC puts an sc.exe script first on PATH (and nothing else there) that
// appends its arguments (one per line, then "--") to the returned file and
// answers each verb ("qc", "query") as replies say; an unknown verb fails
// like sc.exe does for a service that does not exist.
func fakeSC(t *testing.T, replies map[string]scReply) (argsFile string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake sc.exe is a shell script")
	}
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	var script strings.Builder
	fmt.Fprintf(&script, "#!/bin/sh\nprintf '%%s\\n' \"$@\" -- >> '%s'\ncase \"$1\" in\n", argsFile)
	for verb, r := range replies {
		out := filepath.Join(dir, verb+".out")
		if err := os.WriteFile(out, []byte(r.out), 0o644); err != nil {
			t.Fatal(err)
		}
		// sh cuts an exit status to 8 bits (1060 becomes 36), as any
		// non-Windows caller of a Windows exit code sees it.
		// PATH holds only dir: cat is named by its path.
		fmt.Fprintf(&script, "%s) /bin/cat '%s'; exit %d;;\n", verb, out, r.code)
	}
	fmt.Fprintf(&script, "*) printf '%%s' '%s'; exit 1060;;\nesac\n", scMissing)
	if err := os.WriteFile(filepath.Join(dir, "sc.exe"), []byte(script.String()), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	return argsFile
}

// windowsOptions read Windows services through sc.exe found in PATH, with
// a fake account database.
func windowsOptions() Options {
	return Options{
		GOOS:       "windows",
		Systemctl:  "-",
		LookupHome: homes(map[string]string{"ci": `C:\Users\ci`}),
		HomeDir:    `C:\Users\me`,
		UserName:   "me",
	}
}

const systemProfile = `C:\Windows\System32\config\systemprofile`

func TestDetectWindows(t *testing.T) {
	qcArgs := func(name string) string { return "qc\n" + name + "\n8192\n--\n" }
	queryArgs := func(name string) string { return "query\n" + name + "\n--\n" }
	tests := []struct {
		name     string
		replies  map[string]scReply
		edit     func(*Options)
		want     []Install
		wantErr  string
		wantArgs string
	}{
		{
			name: "running, installed under Program Files: quoted paths with spaces",
			replies: map[string]scReply{
				"qc": {out: scQC("gitlab-runner",
					`"C:\Program Files\GitLab Runner\gitlab-runner.exe" run --config "C:\Program Files\GitLab Runner\config.toml" --working-directory "C:\Program Files\GitLab Runner" --service gitlab-runner --syslog`,
					"LocalSystem")},
				"query": {out: scQuery("gitlab-runner", "4  RUNNING")},
			},
			want: []Install{{
				Kind: Windows, Name: "gitlab-runner",
				Source:           []string{"sc.exe qc gitlab-runner", "sc.exe query gitlab-runner"},
				ConfigPath:       `C:\Program Files\GitLab Runner\config.toml`,
				WorkingDirectory: `C:\Program Files\GitLab Runner`,
				User:             "LocalSystem", Home: systemProfile, DockerConfigPath: systemProfile + `\.docker\config.json`,
				State: "running", Running: true, RestartCommand: "Restart-Service gitlab-runner",
				Notes: []string{windowsEnvNote},
			}},
			wantArgs: qcArgs("gitlab-runner") + queryArgs("gitlab-runner"),
		},
		{
			name: "stopped, installed with --user .\\ci: the account's profile",
			replies: map[string]scReply{
				"qc":    {out: scQC("gitlab-runner", `C:\GitLab-Runner\gitlab-runner.exe run --config C:\GitLab-Runner\config.toml --working-directory C:\GitLab-Runner --service gitlab-runner --syslog`, `.\ci`)},
				"query": {out: scQuery("gitlab-runner", "1  STOPPED")},
			},
			edit: func(o *Options) { o.Units = []string{"gitlab-runner.service"} },
			want: []Install{{
				Kind: Windows, Name: "gitlab-runner",
				Source:     []string{"sc.exe qc gitlab-runner", "sc.exe query gitlab-runner"},
				ConfigPath: `C:\GitLab-Runner\config.toml`, WorkingDirectory: `C:\GitLab-Runner`,
				User: `.\ci`, Home: `C:\Users\ci`, DockerConfigPath: `C:\Users\ci\.docker\config.json`,
				State: "stopped", RestartCommand: "Restart-Service gitlab-runner",
				Notes: []string{windowsEnvNote},
			}},
			wantArgs: qcArgs("gitlab-runner") + queryArgs("gitlab-runner"),
		},
		{
			name: "relative --config is opened in --working-directory; a domain account with no known profile",
			replies: map[string]scReply{
				"qc":    {out: scQC("Runner Two", `"C:\GitLab Runner\gitlab-runner.exe" --debug run -c=conf\runner.toml -d D:\ci\ --service "Runner Two"`, `CORP\builder`)},
				"query": {out: scQuery("Runner Two", "2  START_PENDING")},
			},
			edit: func(o *Options) { o.Units = []string{"Runner Two", "runner two"} },
			want: []Install{{
				Kind: Windows, Name: "Runner Two",
				Source:     []string{"sc.exe qc Runner Two", "sc.exe query Runner Two"},
				ConfigPath: `D:\ci\conf\runner.toml`, WorkingDirectory: `D:\ci`,
				User:  `CORP\builder`,
				State: "start-pending", RestartCommand: "Restart-Service 'Runner Two'",
				Notes: []string{`home of CORP\builder unknown: user: unknown user CORP\builder`, windowsEnvNote},
			}},
			wantArgs: qcArgs("Runner Two") + queryArgs("Runner Two"),
		},
		{
			name: "no --config: config.toml in the directory services start in, not the working directory",
			replies: map[string]scReply{
				"qc":    {out: scQC("gitlab-runner", `C:\GitLab-Runner\gitlab-runner.exe run --working-directory C:\GitLab-Runner`, "LocalSystem")},
				"query": {out: scQuery("gitlab-runner", "4  RUNNING")},
			},
			want: []Install{{
				Kind: Windows, Name: "gitlab-runner",
				Source:     []string{"sc.exe qc gitlab-runner", "sc.exe query gitlab-runner"},
				ConfigPath: `C:\Windows\System32\config.toml`, ConfigPathFromDefault: true, WorkingDirectory: `C:\GitLab-Runner`,
				User: "LocalSystem", Home: systemProfile, DockerConfigPath: systemProfile + `\.docker\config.json`,
				State: "running", Running: true, RestartCommand: "Restart-Service gitlab-runner",
				Notes: []string{"no --config: the runner's default, config.toml in the directory the service starts in; a CONFIG_FILE set in the service's registry Environment would win and is not read", windowsEnvNote},
			}},
			wantArgs: qcArgs("gitlab-runner") + queryArgs("gitlab-runner"),
		},
		{
			name: "a wrapper (NSSM) runs the service: location unknown; sc.exe query refused",
			replies: map[string]scReply{
				"qc":    {out: scQC("gitlab-runner", `C:\nssm\nssm.exe`, `NT AUTHORITY\NetworkService`)},
				"query": {out: "[SC] OpenService FAILED 5:\r\n\r\nAccess is denied.\r\n\r\n", code: 5},
			},
			want: []Install{{
				Kind: Windows, Name: "gitlab-runner",
				Source: []string{"sc.exe qc gitlab-runner"},
				User:   `NT AUTHORITY\NetworkService`, Home: `C:\Windows\ServiceProfiles\NetworkService`,
				DockerConfigPath: `C:\Windows\ServiceProfiles\NetworkService\.docker\config.json`,
				State:            "unknown", RestartCommand: "Restart-Service gitlab-runner",
				Notes: []string{
					"sc.exe query gitlab-runner failed ([SC] OpenService FAILED 5: Access is denied.): state unknown",
					"the service's command line does not run `gitlab-runner run`: config.toml location unknown",
					windowsEnvNote,
				},
			}},
			wantArgs: qcArgs("gitlab-runner") + queryArgs("gitlab-runner"),
		},
		{
			name: "no LookupHome on a non-Windows host: no profile guessed from this host's accounts",
			replies: map[string]scReply{
				"qc":    {out: scQC("gitlab-runner", `C:\GitLab-Runner\gitlab-runner.exe run -c C:\GitLab-Runner\config.toml`, `.\root`)},
				"query": {out: scQuery("gitlab-runner", "7  PAUSED")},
			},
			edit: func(o *Options) { o.LookupHome = nil },
			want: []Install{{
				Kind: Windows, Name: "gitlab-runner",
				Source:     []string{"sc.exe qc gitlab-runner", "sc.exe query gitlab-runner"},
				ConfigPath: `C:\GitLab-Runner\config.toml`,
				User:       `.\root`,
				State:      "paused", RestartCommand: "Restart-Service gitlab-runner",
				Notes: []string{`home of .\root unknown: the Windows account database is not on this ` + runtime.GOOS + ` host`, windowsEnvNote},
			}},
			wantArgs: qcArgs("gitlab-runner") + queryArgs("gitlab-runner"),
		},
		{
			name:     "service missing (1060): no install, no error, no query",
			replies:  map[string]scReply{"qc": {out: scMissing, code: 1060}},
			wantArgs: qcArgs("gitlab-runner"),
		},
		{
			name:     "sc.exe qc refused: an error, no install",
			replies:  map[string]scReply{"qc": {out: "[SC] OpenService FAILED 5:\r\n\r\nAccess is denied.\r\n", code: 5}},
			wantErr:  "sc.exe qc gitlab-runner failed ([SC] OpenService FAILED 5: Access is denied.)",
			wantArgs: qcArgs("gitlab-runner"),
		},
		{
			name:     `SC "-": sc.exe is not run`,
			replies:  map[string]scReply{"qc": {out: scQC("gitlab-runner", `gitlab-runner.exe run`, "LocalSystem")}},
			edit:     func(o *Options) { o.SC = "-" },
			wantArgs: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			argsFile := fakeSC(t, tt.replies)
			o := windowsOptions()
			if tt.edit != nil {
				tt.edit(&o)
			}
			got, err := Detect(context.Background(), o)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr {
				t.Errorf("Detect error = %q, want %q", gotErr, tt.wantErr)
			}
			checkInstalls(t, got, tt.want)
			for _, in := range got {
				if s := in.Summary(); !strings.HasPrefix(s, "Windows service "+in.Name+" ") {
					t.Errorf("Summary() = %q", s)
				}
			}
			b, err := os.ReadFile(argsFile)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			if string(b) != tt.wantArgs {
				t.Errorf("sc.exe arguments:\n%s\nwant:\n%s", b, tt.wantArgs)
			}
		})
	}
}

func TestDetectWindowsWithoutSC(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("sc.exe is in System32")
	}
	t.Setenv("PATH", t.TempDir())
	got, err := Detect(context.Background(), windowsOptions())
	if err != nil || len(got) != 0 {
		t.Errorf("Detect = %+v, %v; want nothing, no error", got, err)
	}
}

func TestDetectWindowsDeadline(t *testing.T) {
	fakeSC(t, map[string]scReply{"qc": {}})
	// Replace the fake with one that hangs.
	dir := strings.Split(os.Getenv("PATH"), string(os.PathListSeparator))[0]
	if err := os.WriteFile(filepath.Join(dir, "sc.exe"), []byte("#!/bin/sh\nexec /bin/sleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	got, err := Detect(ctx, windowsOptions())
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("Detect took %v: the deadline did not stop sc.exe", elapsed)
	}
	if !errors.Is(err, context.DeadlineExceeded) || err.Error() != "sc.exe qc gitlab-runner: context deadline exceeded" {
		t.Errorf("Detect error = %v, want sc.exe qc gitlab-runner: context deadline exceeded", err)
	}
	if len(got) != 0 {
		t.Errorf("Detect = %+v, want nothing", got)
	}
}

func TestIsServiceMissing(t *testing.T) {
	if !isServiceMissing(1060, nil) {
		t.Error("exit code 1060 is a missing service")
	}
	if !isServiceMissing(36, []byte(scMissing)) {
		t.Error(`"FAILED 1060" is a missing service`)
	}
	if isServiceMissing(5, []byte("[SC] OpenService FAILED 5:\r\n\r\nAccess is denied.")) {
		t.Error("access denied is not a missing service")
	}
}

func TestWindowsState(t *testing.T) {
	for v, want := range map[string]string{
		"4  RUNNING": "running", "1  STOPPED": "stopped", "3  STOP_PENDING": "stop-pending", "9  NEW": "", "": "",
	} {
		if got := windowsState(v); got != want {
			t.Errorf("windowsState(%q) = %q, want %q", v, got, want)
		}
	}
}
