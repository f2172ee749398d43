package registry

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/runnerup/runnerup/probe"
)

func TestIDs(t *testing.T) {
	tests := []struct{ ref, manifest, tls string }{
		{"alpine", "image.alpine:latest.manifest", "registry.docker.io.tls"},
		{"docker.io/library/alpine:3.20", "image.alpine:3.20.manifest", "registry.docker.io.tls"},
		{"index.docker.io/user/app", "image.user/app:latest.manifest", "registry.docker.io.tls"},
		{"Registry.Test:5000/group/app:1", "image.registry.test:5000/group/app:1.manifest", "registry.registry.test:5000.tls"},
		{"localhost:5000/app@sha256:" + strings.Repeat("0", 64), "image.localhost:5000/app@sha256:" + strings.Repeat("0", 64) + ".manifest", "registry.localhost:5000.tls"},
	}
	for _, tt := range tests {
		im, err := parseImage(tt.ref)
		if err != nil {
			t.Fatalf("parseImage(%s): %v", tt.ref, err)
		}
		if got := ManifestID(tt.ref); got != tt.manifest {
			t.Errorf("ManifestID(%s) = %s, want %s", tt.ref, got, tt.manifest)
		}
		if got := TLSID(im.host); got != tt.tls {
			t.Errorf("TLSID(%s) = %s, want %s", im.host, got, tt.tls)
		}
	}
	if Endpoint("docker.io") != "registry-1.docker.io" || Endpoint("ghcr.io") != "ghcr.io" || NormalizeHost("Registry-1.Docker.IO") != "docker.io" {
		t.Errorf("Docker Hub endpoint/host normalisation wrong")
	}
	im, _ := parseImage("registry.test:5000/a/b:1@sha256:" + strings.Repeat("1", 64))
	if im.identifier() != "sha256:"+strings.Repeat("1", 64) || im.path != "a/b" {
		t.Errorf("digest wins over tag: %+v", im)
	}
}

func TestChecksGroupsHostsAndWiresNeeds(t *testing.T) {
	opts := withCreds(Options{})
	checks := Checks([]string{"registry.test:5000/a:1", "alpine", "registry.test:5000/b", "registry.test:5000/a:1", "BAD//ref"}, opts)
	var ids []string
	byID := map[string]probe.Check{}
	for _, c := range checks {
		ids = append(ids, c.ID)
		byID[c.ID] = c
	}
	wantIDs := []string{
		"registry.docker.io.tls", "registry.docker.io.auth",
		"registry.registry.test:5000.tls", "registry.registry.test:5000.auth",
		"image.registry.test:5000/a:1.manifest", "image.registry.test:5000/a:1.platform",
		"image.alpine:latest.manifest", "image.alpine:latest.platform",
		"image.registry.test:5000/b:latest.manifest", "image.registry.test:5000/b:latest.platform",
		"image.bad//ref.manifest",
	}
	if !reflect.DeepEqual(ids, wantIDs) {
		t.Fatalf("ids = %q\nwant  %q", ids, wantIDs)
	}
	// Needs, and NeedsEarly as "early:" entries.
	needs := map[string][]string{
		"registry.registry.test:5000.tls":            {},
		"registry.registry.test:5000.auth":           {"registry.registry.test:5000.tls", "credentials.registry.test:5000"},
		"image.registry.test:5000/a:1.manifest":      {"early:registry.registry.test:5000.auth"},
		"image.registry.test:5000/a:1.platform":      {"image.registry.test:5000/a:1.manifest", probe.IDDaemonPlatform},
		"image.alpine:latest.manifest":               {"early:registry.docker.io.auth"},
		"image.bad//ref.manifest":                    nil,
		"registry.docker.io.auth":                    {"registry.docker.io.tls", "credentials.docker.io"},
		"image.registry.test:5000/b:latest.manifest": {"early:registry.registry.test:5000.auth"},
	}
	if later := byID["registry.registry.test:5000.tls"].Later; !reflect.DeepEqual(later, []string{probe.IDDaemonRegistries}) {
		t.Errorf("tls check awaits %q later, want the daemon's registry settings", later)
	}
	for id, n := range needs {
		got := slices.Clone(byID[id].Needs)
		for _, e := range byID[id].NeedsEarly {
			got = append(got, "early:"+e)
		}
		if len(got) == 0 && len(n) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, n) {
			t.Errorf("%s needs %q, want %q", id, got, n)
		}
	}
	fixed := ImageChecks("alpine", Options{Platform: &probe.Platform{OS: "linux", Architecture: "arm64"}})
	if !reflect.DeepEqual(fixed[1].Needs, []string{"image.alpine:latest.manifest"}) {
		t.Errorf("a fixed platform still needs the daemon: %q", fixed[1].Needs)
	}
	if h := HostChecks("ghcr.io", nil, Options{Insecure: func(string) bool { return false }}); len(h[0].Needs) != 0 || len(h[1].Needs) != 1 {
		t.Errorf("with Options.Insecure and no credentials check: needs %q / %q", h[0].Needs, h[1].Needs)
	}
}

func TestInvalidReference(t *testing.T) {
	res := results(t, 0, ImageChecks("Group/App:1", Options{}))
	want(t, res, ManifestID("Group/App:1"), probe.Fail, CauseInvalidReference, "must be lowercase", "invalid reference format")
}

func TestCause(t *testing.T) {
	f := Failure{Cause: CauseTagNotFound}
	tests := []struct {
		r    probe.Result
		want string
	}{
		{probe.Result{Status: probe.Fail, Data: f}, CauseTagNotFound},
		{probe.Result{Status: probe.Warn, Data: &f}, CauseTagNotFound},
		{probe.Result{Status: probe.Pass, Data: f}, ""},
		{probe.Result{Status: probe.Fail, Data: "other"}, ""},
		{probe.Result{Status: probe.Fail}, ""},
		{probe.Result{Status: probe.Fail, Data: (*Failure)(nil)}, ""},
	}
	for _, tt := range tests {
		if got := Cause(tt.r); got != tt.want {
			t.Errorf("Cause(%+v) = %q, want %q", tt.r, got, tt.want)
		}
	}
}

// The secret scan itself must be able to fail: a result quoting a known
// secret, or an Authorization header, is reported.
func TestSecretScanCatchesLeaks(t *testing.T) {
	pw := randomSecret(t)
	for _, leak := range []probe.Result{
		{ID: "registry.x.auth", Detail: "rejected " + pw},
		{ID: "registry.x.auth", Hint: "Authorization: Basic Y2k6cHc="},
		{ID: "image.x.manifest", Data: Failure{Suggestions: []string{pw}}},
	} {
		ft := &fakeT{}
		assertNoSecrets(ft, []probe.Result{leak})
		if !ft.failed {
			t.Errorf("leak not reported: %+v", leak)
		}
	}
	if got := scrub(probe.Result{Detail: "x " + pw + " y", Hint: pw}, pw); strings.Contains(got.Detail+got.Hint, pw) {
		t.Errorf("scrub left the secret: %+v", got)
	}
}

// fakeT records Errorf calls for testing the test helpers.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Errorf(string, ...any) { f.failed = true }
