package editdist

import "testing"

func TestLevenshtein(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"privilaged", "privileged", 1}, {"allways", "always", 1}, {"dokcer", "docker", 2}, {"", "abc", 3}, {"héllo", "hello", 1}} {
		if got := Levenshtein(tt.a, tt.b); got != tt.want {
			t.Errorf("Levenshtein(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	keys := []string{"privileged", "tls-ca-file", "ipcmode", "image", "volumes", "name", "host"}
	executors := []string{"shell", "ssh", "docker", "docker-windows", "docker+machine", "kubernetes"}
	for _, tt := range []struct {
		word  string
		cands []string
		want  string
	}{
		{"privilaged", keys, "privileged"},
		{"Privileged", keys, "privileged"},
		{"tls_ca_file", keys, "tls-ca-file"},
		{"ipc_mode", keys, "ipcmode"},
		{"imag", keys, "image"},
		{"volume", keys, "volumes"},
		{"nmae", keys, "name"},
		{"hsot", keys, "host"},
		{"hostname", keys, ""},
		{"x", keys, ""},
		{"dokcer", executors, "docker"},
		{"Docker_Windows", executors, "docker-windows"},
		{"sh", executors, "ssh"},
		{"kubernets", executors, "kubernetes"},
		{"podman", executors, ""},
		{"fish", []string{"bash", "sh", "pwsh", "powershell"}, ""},
	} {
		if got := Closest(tt.word, tt.cands); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}
