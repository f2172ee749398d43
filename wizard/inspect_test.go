package wizard

import (
	"strings"
	"testing"
)

func TestCredentialScope(t *testing.T) {
	dac := func(v string) []string { return []string{"GIT_DEPTH=1", "DOCKER_AUTH_CONFIG=" + v} }
	tests := []struct {
		name    string
		runners []configRunner
		want    string // "" = no note
	}{
		{"one entry", []configRunner{{Name: "a", Environment: dac("x")}}, ""},
		{"same credentials", []configRunner{{Name: "a", Environment: dac("x")}, {Name: "b", Environment: dac("x")}}, ""},
		{"neither sets one", []configRunner{{Name: "a"}, {Name: "b", Environment: []string{"GIT_DEPTH=1"}}}, ""},
		{"one differs", []configRunner{{Name: "a", Environment: dac("x")}, {Name: "b", Environment: dac("x")}, {Name: "c", Environment: dac("y")}}, `runner "a"; runner(s) "c"`},
		{"the last assignment counts", []configRunner{{Name: "a", Environment: dac("x")}, {Name: "b", Environment: append(dac("y"), "DOCKER_AUTH_CONFIG=x")}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := credentialScope(tt.runners)
			if ok != (tt.want != "") || ok && !strings.Contains(r.Detail, tt.want) {
				t.Fatalf("credentialScope = %v %+v, want %q", ok, r, tt.want)
			}
			if ok && (r.ID != IDCredentialScope || strings.Contains(r.Detail, "DOCKER_AUTH_CONFIG=x")) {
				t.Errorf("note %+v", r)
			}
		})
	}
}
