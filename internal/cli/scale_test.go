package cli

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/runnerup/runnerup/internal/fakeregistry"
	"github.com/runnerup/runnerup/internal/gitlab/fakegitlab"
)

// probe --config of 50 runners whose jobs use 100 images on 3 registries,
// each image named by two runners: every image is probed once, and each
// registry sees at most --registry-concurrency requests at once over at
// most that many reused connections (plus the tls check's HTTPS attempt).
func TestProbeConfigScalesPerRegistry(t *testing.T) {
	const concurrency = 3
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock") // the daemon is not what this test is about
	gl := fakegitlab.New(t)
	basic, anonA, anonB := fakeregistry.New(t), fakeregistry.New(t), fakeregistry.New(t)
	basic.Basic("ci", "scale-pass-0123456789")
	fakes := []*fakeregistry.Registry{basic, anonA, anonB}
	var images []string
	perFake := map[*fakeregistry.Registry][]string{}
	for i := range 100 {
		f := fakes[i%3]
		repo, tag := fmt.Sprintf("group%d/app", i%7), fmt.Sprintf("%d", i)
		f.PushImage(repo, tag, v1.Platform{OS: "linux", Architecture: "amd64"})
		images = append(images, f.Host+"/"+repo+":"+tag)
		perFake[f] = append(perFake[f], repo+"/manifests/"+tag)
	}
	for _, f := range fakes {
		// Slow answers, so that each registry's requests overlap.
		f.SetInject(func(http.ResponseWriter, *http.Request) bool {
			time.Sleep(5 * time.Millisecond)
			return false
		})
	}
	dir := t.TempDir()
	var cfg strings.Builder
	cfg.WriteString("concurrent = 50\n")
	for r := range 50 {
		tok := fmt.Sprintf("glrt-SCALESCALESCALE%06d", r)
		gl.AddRunner(tok, int64(1000+r))
		// Runner r uses images 2r and 2r+1, and r's neighbours' too: every
		// image is named by two runners.
		own, next := images[2*r], images[(2*r+2)%100]
		fmt.Fprintf(&cfg, `
[[runners]]
  name = "r%d"
  url = %q
  token = %q
  executor = "docker"
  [runners.docker]
    image = %q
    [[runners.docker.services]]
      name = %q
    [[runners.docker.services]]
      name = %q
    [[runners.docker.services]]
      name = %q
`, r, gl.URL, tok, own, images[2*r+1], next, images[(2*r+3)%100])
	}
	config := filepath.Join(dir, "config.toml")
	writeFile(t, config, cfg.String(), 0o600)
	docker := filepath.Join(dir, "docker")
	auth := base64.StdEncoding.EncodeToString([]byte("ci:scale-pass-0123456789"))
	writeFile(t, filepath.Join(docker, "config.json"), `{"auths":{"`+basic.Host+`":{"auth":"`+auth+`"}}}`, 0o600)

	r := runCLI(t, filepath.Join(dir, "home"), env{}, "probe", "--config", config, "--docker-config", docker,
		"--registry-concurrency", fmt.Sprint(concurrency), "-o", "json")
	out := decodeOut(t, r)
	for _, img := range images {
		if c := out.check(t, "image."+img+".manifest"); c.Status != "pass" {
			t.Errorf("%s: %s %s", c.ID, c.Status, c.Detail)
		}
	}
	for i, f := range fakes {
		st := f.Stats()
		if st.MaxInFlight > concurrency {
			t.Errorf("registry %d: %d requests at once, want at most %d", i, st.MaxInFlight, concurrency)
		}
		if st.Connections > concurrency+1 {
			t.Errorf("registry %d: %d connections, want at most %d", i, st.Connections, concurrency+1)
		}
		seen := map[string]int{}
		for _, req := range f.Requests() {
			if strings.Contains(req, "/manifests/") {
				seen[req]++
			}
		}
		for _, m := range perFake[f] {
			for _, method := range []string{"HEAD", "GET"} {
				if n := seen[method+" /v2/"+m]; n != 1 {
					t.Errorf("registry %d: %s /v2/%s sent %d times, want once", i, method, m, n)
				}
			}
		}
		t.Logf("registry %d: %d images, %d requests, %d connections, at most %d at once", i, len(perFake[f]), len(f.Requests()), st.Connections, st.MaxInFlight)
	}
}
