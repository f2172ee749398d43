//go:build linux

package daemon

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/internal/testenv"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/registry"
)

// TestIntegrationRunnerChecks: a fake gitlab-runner 17.4 (a real
// --version text) against the real test dockerd (Debian's 20.10 accepts
// API 1.12 and up), and its helper image in the runner's order: the
// daemon's store, a bundled archive, then the registry, probed as any
// image.
func TestIntegrationRunnerChecks(t *testing.T) {
	testenv.Isolate(t)
	d := testenv.StartDockerd(t, testenv.DockerdOptions{})
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{})
	bin := fakeRunner(t, runnerVersionText)
	unameArch, _, err := d.Docker(t, "", "info", "--format", "{{.Architecture}}")
	if err != nil {
		t.Fatal(err)
	}
	tag, ok := HelperTag(RunnerInfo{Version: "17.4.0"}, strings.TrimSpace(unameArch), "", "")
	if !ok {
		t.Fatalf("no helper tag for %q", unameArch)
	}
	helper := GitLabHelperImage + ":" + tag
	mirrored := reg.PushImage(t, d, "gitlab-org/gitlab-runner/gitlab-runner-helper", tag)
	noBundle := []string{t.TempDir()}
	runner := func(o RunnerOptions) *RunnerOptions {
		o.Executable, o.Where = bin, "test unit"
		if o.BundleDirs == nil {
			o.BundleDirs = noBundle
		}
		return &o
	}

	t.Run("the runner's API against dockerd 20.10", func(t *testing.T) {
		res := runCompat(t, Options{Host: d.Host, Runner: runner(RunnerOptions{})})
		if r := res[IDRunnerAPI]; r.Status != probe.Pass || !strings.Contains(r.Detail, "up to 1.43") || !strings.Contains(r.Detail, "accepts API 1.12 to 1.41") {
			t.Errorf("%s = %s %q", IDRunnerAPI, r.Status, r.Detail)
		}
	})
	t.Run("air-gapped: not local, no bundle, registry.gitlab.com unreachable", func(t *testing.T) {
		res := runCompat(t, Options{Host: d.Host, Runner: runner(RunnerOptions{})})
		r := res[IDHelperImage]
		if r.Status != probe.Fail || r.Finding != CauseHelperImageMissing {
			t.Fatalf("%s = %s %q", IDHelperImage, r.Status, r.Detail)
		}
		for _, want := range []string{"gitlab-runner 17.4.0 uses " + helper, "not in the daemon's store and no bundled archive", "registry.registry.gitlab.com.tls failed"} {
			if !strings.Contains(r.Detail, want) {
				t.Errorf("detail lacks %q: %s", want, r.Detail)
			}
		}
		if !strings.Contains(r.Hint, "gitlab-runner-helper-images") || !strings.Contains(r.Hint, "helper_image") {
			t.Errorf("hint = %q", r.Hint)
		}
	})
	t.Run("bundled archive", func(t *testing.T) {
		dir := t.TempDir()
		name := helperBundleNames(strings.TrimSpace(unameArch), "", "")[1] // the .tar.xz export
		if err := os.WriteFile(filepath.Join(dir, name), []byte("archive"), 0o644); err != nil {
			t.Fatal(err)
		}
		res := runCompat(t, Options{Host: d.Host, Runner: runner(RunnerOptions{BundleDirs: []string{dir}})})
		if r := res[IDHelperImage]; r.Status != probe.Pass || !strings.Contains(r.Detail, filepath.Join(dir, name)) {
			t.Errorf("%s = %s %q", IDHelperImage, r.Status, r.Detail)
		}
	})
	t.Run("helper_image pointing at a mirror: probed like any image", func(t *testing.T) {
		direct := registry.Options{Transport: &http.Transport{}}
		res := runCompat(t, Options{Host: d.Host, Runner: runner(RunnerOptions{Helpers: []HelperSpec{{Image: mirrored}}, Registry: direct})})
		if r := res[IDHelperImage]; r.Status != probe.Pass || !strings.Contains(r.Detail, "the registry serves it") || !strings.Contains(r.Detail, "helper_image") {
			t.Errorf("%s = %s %q", IDHelperImage, r.Status, r.Detail)
		}
		missing := reg.Host + "/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v0.0.1"
		res = runCompat(t, Options{Host: d.Host, Runner: runner(RunnerOptions{Helpers: []HelperSpec{{Image: missing}}, Registry: direct})})
		r := res[IDHelperImage]
		if r.Status != probe.Fail || r.Finding != CauseHelperImageMissing || !strings.Contains(r.Detail, "manifest") {
			t.Errorf("%s = %s %q", IDHelperImage, r.Status, r.Detail)
		}
		if v, ok := r.Data.(HelperVerdict); !ok || v.Failure == nil || v.Failure.Cause != registry.CauseTagNotFound {
			t.Errorf("Data = %#v, want tag-not-found", r.Data)
		}
	})
	t.Run("in the daemon's store", func(t *testing.T) {
		d.ImportImage(t, helper)
		res := runCompat(t, Options{Host: d.Host, Runner: runner(RunnerOptions{})})
		if r := res[IDHelperImage]; r.Status != probe.Pass || !strings.Contains(r.Detail, "in the daemon's store") {
			t.Errorf("%s = %s %q", IDHelperImage, r.Status, r.Detail)
		}
	})
	t.Run("every entry's helper image, once each", func(t *testing.T) {
		missing := reg.Host + "/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v0.0.1"
		specs := HelperSpecs([]byte(`
[[runners]]
  name = "plain"
  executor = "docker"
  [runners.docker]
    image = "alpine"
[[runners]]
  name = "mirrored"
  executor = "docker"
  [runners.docker]
    helper_image = "` + mirrored + `"
[[runners]]
  name = "also-mirrored"
  executor = "docker"
  [runners.docker]
    helper_image = "` + mirrored + `"
[[runners]]
  name = "stale-mirror"
  executor = "docker"
  [runners.docker]
    helper_image = "` + missing + `"
`))
		res := runCompat(t, Options{Host: d.Host, Runner: runner(RunnerOptions{Helpers: specs, Registry: registry.Options{Transport: &http.Transport{}}})})
		for id, want := range map[string]struct {
			status probe.Status
			text   string
		}{
			IDHelperImage:                  {probe.Pass, "in the daemon's store"},
			IDHelperImage + "." + mirrored: {probe.Pass, `runners "mirrored", "also-mirrored" uses ` + mirrored},
			IDHelperImage + "." + missing:  {probe.Fail, `runner "stale-mirror" uses ` + missing},
		} {
			if r, ok := res[id]; !ok || r.Status != want.status || !strings.Contains(r.Detail, want.text) {
				t.Errorf("%s = %s %q; want %s with %q", id, r.Status, r.Detail, want.status, want.text)
			}
		}
		n := 0
		for id := range res {
			if strings.HasPrefix(id, IDHelperImage) {
				n++
			}
		}
		if n != 3 {
			t.Errorf("%d helper image checks, want 3 (one per distinct image)", n)
		}
	})
}
