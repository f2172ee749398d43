package service

import (
	"slices"
	"testing"
)

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: `/usr/bin/gitlab-runner "run" "--config" "/etc/gitlab-runner/config.toml"`, want: []string{"/usr/bin/gitlab-runner", "run", "--config", "/etc/gitlab-runner/config.toml"}},
		{in: `  a	b  `, want: []string{"a", "b"}},
		{in: `"HTTP_PROXY=http://u:p w@proxy:3128" NO_PROXY=a,b`, want: []string{"HTTP_PROXY=http://u:p w@proxy:3128", "NO_PROXY=a,b"}},
		{in: `'single "quoted"' mid"dle quo"te`, want: []string{`single "quoted"`, "middle quote"}},
		{in: `""`, want: []string{""}},
		{in: `a\ b c\"d \x41\101 "tab\there" 'e\sf'`, want: []string{"a b", `c"d`, "AA", "tab\there", "e f"}},
		{in: `unknown\q escape`, want: []string{"unknownq", "escape"}},
		{in: `open "quote`, wantErr: `unbalanced " quote`},
		{in: `open 'quote`, wantErr: `unbalanced ' quote`},
	}
	for _, tt := range tests {
		got, err := splitWords(tt.in)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if gotErr != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("splitWords(%q) = %q, %q; want %q, %q", tt.in, got, gotErr, tt.want, tt.wantErr)
		}
	}
}

func TestExpandWords(t *testing.T) {
	env := map[string]string{"ARGS": "  -c /x.toml  --debug ", "DIR": "/srv/my runner", "EMPTY": ""}
	tests := []struct {
		in   []string
		want []string
	}{
		{[]string{"run", "$ARGS"}, []string{"run", "-c", "/x.toml", "--debug"}},
		{[]string{"--config", "${DIR}/config.toml"}, []string{"--config", "/srv/my runner/config.toml"}},
		{[]string{"$EMPTY", "$UNSET", "${UNSET}x"}, []string{"x"}},
		{[]string{"cost$$5", "$DIR/x", "${not-a-name}", "$"}, []string{"cost$5", "$DIR/x", "${not-a-name}", "$"}},
	}
	for _, tt := range tests {
		if got := expandWords(tt.in, env); !slices.Equal(got, tt.want) {
			t.Errorf("expandWords(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSpecifiers(t *testing.T) {
	sp := specifiers{unit: "gitlab-runner@ci.service", home: "/home/me", user: "me"}
	got := sp.expand("%n %N %p %i %I %h %u 100%% %z %")
	if want := "gitlab-runner@ci.service gitlab-runner@ci gitlab-runner ci ci /home/me me 100% %z %"; got != want {
		t.Errorf("expand = %q, want %q", got, want)
	}
}

func TestParseEnvFile(t *testing.T) {
	in := envFileSeeds[0] // the fuzz target starts from this file too
	want := []string{
		"PLAIN=value",
		"SPACED=spaced value",
		"DOUBLE=http://u:p@proxy:3128",
		`ESCAPES=a "b" $c \n`,
		`SINGLE=literal \n $x`,
		"UNQUOTED=a b#c",
		"CONT=firstsecond",
		"EMPTY=",
		"PLAIN=later wins in the caller",
	}
	if got := parseEnvFile([]byte(in)); !slices.Equal(got, want) {
		t.Errorf("parseEnvFile =\n%q\nwant\n%q", got, want)
	}
}
