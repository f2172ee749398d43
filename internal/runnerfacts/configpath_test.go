package runnerfacts

import (
	"path/filepath"
	"testing"
)

func TestDefaultConfigFile(t *testing.T) {
	tests := []struct {
		name           string
		windows, root  bool
		home, startDir string
		want           string
	}{
		{"root", false, true, "/root", "/srv", "/etc/gitlab-runner/config.toml"},
		{"user", false, false, "/home/u", "/srv", "/home/u/.gitlab-runner/config.toml"},
		{"user without a home", false, false, "", "/srv", "/srv/config.toml"},
		{"no home, start directory unknown", false, false, "", "", "config.toml"},
		{"windows", true, true, `C:\Users\u`, "/gr", filepath.Join("/gr", "config.toml")},
		{"windows, start directory unknown", true, false, `C:\Users\u`, "", "config.toml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DefaultConfigFile(tt.windows, tt.root, tt.home, tt.startDir); got != tt.want {
				t.Errorf("DefaultConfigFile = %q, want %q", got, tt.want)
			}
		})
	}
}
