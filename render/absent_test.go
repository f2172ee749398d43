package render

import (
	"strings"
	"testing"
)

// dindBlock is a working Docker-in-Docker runner as GitLab's docs set it
// up: privileged, the /certs/client volume and DOCKER_TLS_CERTDIR.
const dindBlock = `concurrent = 2

[[runners]]
  name = "dind"
  url = "https://gitlab.example.com"
  id = 5
  token = "glrt-DINDDINDDINDDINDDIND"
  executor = "docker"
  environment = ["DOCKER_TLS_CERTDIR=/certs"]
  [runners.docker]
    image = "docker:27"
    privileged = true   # DinD needs it
    volumes = ["/cache", "/certs/client"]
    pull_policy = "if-not-present"
    [[runners.docker.services]]
      name = "docker:27-dind"
      alias = "docker"

[[runners]]
  name = "win"
  url = "https://gitlab.example.com"
  token = "glrt-WINWINWINWINWINWINWIN"
  executor = "docker-windows"
  [runners.docker]
    image = "mcr.microsoft.com/windows/servercore:ltsc2022"
    volumes = ['c:\cache']
`

// TestConfigTOMLAbsentKeysKeepTheirBytes: for a runner already in the
// file, keys the edit does not set keep their bytes (issue 13, defect 1:
// the edit wrote privileged = false over a working DinD runner).
func TestConfigTOMLAbsentKeysKeepTheirBytes(t *testing.T) {
	tests := []struct {
		name string
		edit Runner
		// replace maps old lines to new ones; nothing else may change.
		replace map[string]string
	}{
		{
			name:    "dind runner, only the image",
			edit:    Runner{Name: "dind", URL: "https://gitlab.example.com", Docker: &Docker{Image: "docker:28"}},
			replace: map[string]string{`    image = "docker:27"`: `    image = "docker:28"`},
		},
		{
			name: "dind runner, nothing but the merge key",
			edit: Runner{Name: "dind", URL: "https://gitlab.example.com", Docker: &Docker{}},
		},
		{
			name: "windows runner, no executor, no docker settings",
			edit: Runner{Name: "win", URL: "https://gitlab.example.com"},
		},
		{
			name:    "windows runner, only the pull policy",
			edit:    Runner{Name: "win", URL: "https://gitlab.example.com", Docker: &Docker{PullPolicy: []string{"always"}}},
			replace: map[string]string{`    volumes = ['c:\cache']`: "    volumes = ['c:\\cache']\n    pull_policy = [\"always\"]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ConfigTOML([]byte(dindBlock), ConfigEdit{Runner: tt.edit})
			if err != nil {
				t.Fatal(err)
			}
			want := dindBlock
			for old, new := range tt.replace {
				if !strings.Contains(want, old) {
					t.Fatalf("test case does not apply: %q", old)
				}
				want = strings.Replace(want, old, new, 1)
			}
			if string(res.Data) != want {
				t.Errorf("keys the edit did not set changed:\n%s", Diff("config.toml", []byte(want), res.Data, nil))
			}
		})
	}
}
