package registry

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/runnerup/runnerup/internal/fakeregistry"
	"github.com/runnerup/runnerup/probe"
)

func TestManifestHeadAndGetWithAcceptTypes(t *testing.T) {
	f := newFakeRegistry(t)
	f.PushImage("group/app", "1", linuxAMD64)
	var (
		mu     sync.Mutex
		accept []string
	)
	f.SetInject(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/manifests/") {
			mu.Lock()
			accept = append(accept, r.Method+" "+r.Header.Get("Accept"))
			mu.Unlock()
		}
		return false
	})
	ref := f.Host + "/group/app:1"
	res := imageRun(t, f, ref, Credential{}, Options{})
	r := want(t, res, ManifestID(ref), probe.Pass, "")
	m := r.Data.(Manifest)
	if m.Index || !strings.HasPrefix(m.Digest, "sha256:") || m.MediaType != "application/vnd.docker.distribution.manifest.v2+json" || m.ConfigDigest == "" {
		t.Errorf("manifest data = %+v", m)
	}
	// The GET goes out beside the HEAD, in no set order.
	slices.Sort(accept)
	if len(accept) != 2 || !strings.HasPrefix(accept[0], "GET ") || !strings.HasPrefix(accept[1], "HEAD ") {
		t.Fatalf("manifest requests = %q, want a HEAD and a GET", accept)
	}
	for _, mt := range []string{
		"application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
		"application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json",
	} {
		for _, a := range accept {
			if !strings.Contains(a, mt) {
				t.Errorf("%s lacks Accept %s", a, mt)
			}
		}
	}
}

func TestManifestFailures(t *testing.T) {
	hubBody := `{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit"}]}`
	tests := []struct {
		name      string
		ref       string // repo:tag on the fake
		inject    func(w http.ResponseWriter, r *http.Request) bool
		status    probe.Status
		cause     string
		fragments []string
		check     func(t *testing.T, r probe.Result)
	}{
		{
			name: "rate limited", ref: "group/app:1",
			inject: func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.Contains(r.URL.Path, "/manifests/") {
					return false
				}
				w.Header().Set("Retry-After", "3600")
				w.Header().Set("Ratelimit-Limit", "100;w=21600")
				w.Header().Set("Ratelimit-Remaining", "0;w=21600")
				w.Header().Set("Docker-Ratelimit-Source", "192.0.2.7")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, hubBody)
				return true
			},
			status: probe.Fail, cause: CauseRateLimited,
			fragments: []string{"429 Too Many Requests", "Retry-After: 3600", "0;w=21600 remaining of 100;w=21600", "192.0.2.7", "pull-through"},
			check: func(t *testing.T, r probe.Result) {
				f := r.Data.(Failure)
				if f.RetryAfter != "3600" || f.RateLimit.Remaining != "0;w=21600" || f.Status != 429 {
					t.Errorf("failure = %+v", f)
				}
			},
		},
		{
			name: "rate-limit headers on success", ref: "group/app:1",
			inject: func(w http.ResponseWriter, r *http.Request) bool {
				if strings.Contains(r.URL.Path, "/manifests/") {
					w.Header().Set("Ratelimit-Limit", "100;w=21600")
					w.Header().Set("Ratelimit-Remaining", "76;w=21600")
				}
				return false
			},
			status: probe.Pass, fragments: []string{"76;w=21600 remaining of 100;w=21600"},
			check: func(t *testing.T, r probe.Result) {
				if m := r.Data.(Manifest); m.RateLimit.Limit != "100;w=21600" {
					t.Errorf("manifest rate limit = %+v", m.RateLimit)
				}
			},
		},
		{
			name: "service unavailable", ref: "group/app:1",
			inject: func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.Contains(r.URL.Path, "/manifests/") {
					return false
				}
				http.Error(w, "upstream down", http.StatusServiceUnavailable)
				return true
			},
			status: probe.Fail, cause: CauseServerError, fragments: []string{"503 Service Unavailable", "retry later"},
		},
		{
			name: "tag missing", ref: "group/app:1.2",
			status: probe.Fail, cause: CauseTagNotFound,
			fragments: []string{"manifest unknown", "group/app has no 1.2", "nearest: 1.0, 1.1, 1"},
			check: func(t *testing.T, r probe.Result) {
				if f := r.Data.(Failure); !reflect.DeepEqual(f.Suggestions, []string{"1.0", "1.1", "1"}) || f.Status != 404 {
					t.Errorf("failure = %+v", f)
				}
			},
		},
		{
			name: "digest missing", ref: "group/app@sha256:" + strings.Repeat("a", 64),
			status: probe.Fail, cause: CauseTagNotFound, fragments: []string{"has no sha256:aaaa"},
		},
		{
			name: "repository missing (NAME_UNKNOWN on the manifest)", ref: "nosuch/app:1",
			status: probe.Fail, cause: CauseRepoNotFound, fragments: []string{"name unknown", "repository nosuch/app not found"},
		},
		{
			// distribution 2.8 answers MANIFEST_UNKNOWN for a missing repo
			// too; only tags/list tells them apart.
			name: "repository missing (distribution style)", ref: "nosuch/app:1",
			inject: func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.Contains(r.URL.Path, "/manifests/") {
					return false
				}
				fakeregistry.WriteError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", "manifest unknown")
				return true
			},
			status: probe.Fail, cause: CauseRepoNotFound,
			fragments: []string{"manifest unknown: manifest unknown", "tags/list answered 404 Not Found: name unknown", "repository nosuch/app not found"},
			check: func(t *testing.T, r probe.Result) {
				if f := r.Data.(Failure); !reflect.DeepEqual(f.Codes, []string{"MANIFEST_UNKNOWN", "NAME_UNKNOWN"}) {
					t.Errorf("codes = %v", f.Codes)
				}
			},
		},
		{
			name: "HTML 404 on a manifest", ref: "group/app:1",
			inject: func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.Contains(r.URL.Path, "/manifests/") {
					return false
				}
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprint(w, "<html><body>404 page not found</body></html>")
				return true
			},
			status: probe.Fail, cause: CauseServerError, fragments: []string{"not a registry v2 API answer", "<html>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeRegistry(t)
			for _, tag := range []string{"1.0", "1.1", "2.0", "1"} {
				f.PushImage("group/app", tag, linuxAMD64)
			}
			f.SetInject(tt.inject)
			ref := f.Host + "/" + tt.ref
			res := imageRun(t, f, ref, Credential{}, Options{})
			r := want(t, res, ManifestID(ref), tt.status, tt.cause, tt.fragments...)
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestV2EndpointFailures(t *testing.T) {
	tests := []struct {
		name      string
		inject    func(w http.ResponseWriter, r *http.Request) bool
		cause     string
		fragments []string
	}{
		{"HTML 404 on /v2/", func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, "<html><body>404 page not found</body></html>")
			return true
		}, CauseServerError, []string{"404 Not Found (text/html; charset=utf-8 body", "not a registry v2 API answer", "GitLab's web UI"}},
		{"503 on /v2/", func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Retry-After", "120")
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return true
		}, CauseServerError, []string{"503 Service Unavailable", "Retry-After: 120"}},
		{"429 on /v2/", func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Retry-After", "30")
			fakeregistry.WriteError(w, http.StatusTooManyRequests, "TOOMANYREQUESTS", "slow down")
			return true
		}, CauseRateLimited, []string{"toomanyrequests: slow down", "Retry-After: 30"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeRegistry(t)
			f.SetInject(tt.inject)
			ref := f.Host + "/group/app:1"
			res := imageRun(t, f, ref, Credential{}, Options{})
			want(t, res, TLSID(f.Host), probe.Fail, tt.cause, tt.fragments...)
			want(t, res, AuthID(f.Host), probe.Skip, "")
			want(t, res, ManifestID(ref), probe.Skip, "")
		})
	}
}

func TestIndexPlatforms(t *testing.T) {
	f := newFakeRegistry(t)
	f.PushIndex("multi/app", "1",
		v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"},
		v1.Platform{OS: "linux", Architecture: "s390x"},
		v1.Platform{OS: "unknown", Architecture: "unknown"}, // a BuildKit attestation entry
	)
	f.PushIndex("multi/both", "1", linuxAMD64, v1.Platform{OS: "linux", Architecture: "arm", Variant: "v6"})

	t.Run("daemon platform missing", func(t *testing.T) {
		ref := f.Host + "/multi/app:1"
		res := imageRun(t, f, ref, Credential{}, Options{})
		m := want(t, res, ManifestID(ref), probe.Pass, "", "index of linux/arm64/v8, linux/s390x").Data.(Manifest)
		if !m.Index || len(m.Platforms) != 3 || m.MediaType != "application/vnd.oci.image.index.v1+json" {
			t.Errorf("manifest = %+v", m)
		}
		r := want(t, res, PlatformID(ref), probe.Fail, CausePlatformMissing,
			"no matching manifest for linux/amd64 in the manifest list entries", "linux/arm64/v8, linux/s390x", "buildx")
		if fl := r.Data.(Failure); !reflect.DeepEqual(fl.Suggestions, []string{"linux/arm64/v8", "linux/s390x"}) {
			t.Errorf("suggestions = %v", fl.Suggestions)
		}
		if strings.Contains(r.Detail, "unknown") {
			t.Errorf("attestation entry listed: %s", r.Detail)
		}
	})
	t.Run("daemon platform present", func(t *testing.T) {
		ref := f.Host + "/multi/both:1"
		res := imageRun(t, f, ref, Credential{}, Options{})
		want(t, res, PlatformID(ref), probe.Pass, "", "the daemon is linux/amd64: linux/amd64 → sha256:")
	})
	t.Run("fixed platform with arm variant fallback", func(t *testing.T) {
		ref := f.Host + "/multi/both:1"
		res := imageRun(t, f, ref, Credential{}, Options{Platform: &probe.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}})
		want(t, res, PlatformID(ref), probe.Pass, "", "the requested platform is linux/arm/v7: linux/arm/v6")
	})
	// Indexes the daemon pulls from although they lack its exact platform
	// (containerd's platforms.Only): never platform-missing.
	f.PushIndex("multi/i386", "1", v1.Platform{OS: "linux", Architecture: "386"})
	f.PushIndex("multi/armv7", "1", v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, v1.Platform{OS: "linux", Architecture: "s390x"})
	t.Run("amd64 daemon pulls a 386-only index", func(t *testing.T) {
		ref := f.Host + "/multi/i386:1"
		res := imageRun(t, f, ref, Credential{}, Options{})
		want(t, res, PlatformID(ref), probe.Pass, "", "the daemon is linux/amd64: linux/386 → sha256:")
	})
	t.Run("arm64 daemon pulls an arm/v7 index", func(t *testing.T) {
		ref := f.Host + "/multi/armv7:1"
		res := imageRun(t, f, ref, Credential{}, Options{Platform: &probe.Platform{OS: "linux", Architecture: "arm64"}})
		want(t, res, PlatformID(ref), probe.Pass, "", "the requested platform is linux/arm64/v8: linux/arm/v7 → sha256:")
	})
	// Entries without a platform field (hand-made or old manifest-tool
	// indexes): the daemon pulls the first of them when no entry names
	// its platform.
	f.PushIndex("multi/noplatform", "1", v1.Platform{}, v1.Platform{OS: "linux", Architecture: "s390x"})
	t.Run("entry without a platform", func(t *testing.T) {
		ref := f.Host + "/multi/noplatform:1"
		res := imageRun(t, f, ref, Credential{}, Options{})
		want(t, res, ManifestID(ref), probe.Pass, "", "index of (no platform), linux/s390x")
		want(t, res, PlatformID(ref), probe.Pass, "", "the daemon is linux/amd64: (no platform) → sha256:")
	})
	t.Run("fixed platform missing", func(t *testing.T) {
		ref := f.Host + "/multi/app:1"
		res := imageRun(t, f, ref, Credential{}, Options{Platform: &probe.Platform{OS: "linux", Architecture: "ppc64le"}})
		want(t, res, PlatformID(ref), probe.Fail, CausePlatformMissing, "no matching manifest for linux/ppc64le")
	})
}

func TestSingleArchPlatform(t *testing.T) {
	f := newFakeRegistry(t)
	f.PushImage("arm/app", "1", v1.Platform{OS: "linux", Architecture: "arm64"})
	ref := f.Host + "/arm/app:1"

	res := imageRun(t, f, ref, Credential{}, Options{})
	r := want(t, res, PlatformID(ref), probe.Warn, CauseWrongSingleArch,
		"single-platform linux/arm64 image but the daemon is linux/amd64", "exec format error")
	if fl := r.Data.(Failure); !reflect.DeepEqual(fl.Suggestions, []string{"linux/arm64"}) {
		t.Errorf("failure = %+v", fl)
	}
	arm := probe.Platform{OS: "linux", Architecture: "aarch64"}
	res = imageRun(t, f, ref, Credential{}, Options{Platform: &arm})
	want(t, res, PlatformID(ref), probe.Pass, "", "single-platform linux/arm64 image")
}

func TestPlatformMatching(t *testing.T) {
	p := func(s string) probe.Platform {
		if s == "none" {
			return probe.Platform{} // an index entry without a platform
		}
		s, exact := strings.CutSuffix(s, "!")
		parts := strings.Split(s, "/")
		out := probe.Platform{OS: parts[0], Architecture: parts[1], ExactIndexMatch: exact}
		if len(parts) > 2 {
			out.Variant = parts[2]
		}
		return out
	}
	tests := []struct {
		want    string
		entries []string
		match   int // -1: none
	}{
		{"linux/amd64", []string{"linux/arm64", "linux/amd64"}, 1},
		{"linux/amd64", []string{"unknown/unknown", "linux/arm64"}, -1},
		{"linux/arm64", []string{"linux/arm64/v8"}, 0},
		{"linux/arm64/v8", []string{"linux/arm64"}, 0},
		{"linux/aarch64", []string{"linux/arm64/v8"}, 0},
		// containerd's platforms.Only, which the daemon pulls with: amd64
		// runs 386, arm64 runs arm/v8…v5, newest variant first.
		{"linux/amd64", []string{"linux/386"}, 0},
		{"linux/amd64", []string{"linux/386", "linux/amd64"}, 1},
		{"linux/amd64/v3", []string{"linux/amd64/v2"}, 0},
		{"linux/arm64", []string{"linux/arm/v7"}, 0},
		{"linux/arm64", []string{"linux/arm/v5", "linux/arm/v7"}, 1},
		{"linux/arm64/v8.2", []string{"linux/arm64"}, 0},
		{"linux/386", []string{"linux/amd64"}, -1},
		{"linux/amd64", []string{"linux/unknown"}, -1},
		// Docker 20.10 (exact: "!" here): NewMatcher, plus any arm entry
		// for an arm daemon when nothing matched.
		{"linux/amd64!", []string{"linux/386"}, -1},
		{"linux/amd64!", []string{"linux/386", "linux/x86_64"}, 1},
		{"linux/arm64!", []string{"linux/arm/v7"}, -1},
		{"linux/arm64!", []string{"linux/arm64/v8"}, 0},
		{"linux/arm/v7!", []string{"linux/arm/v6", "linux/arm/v7"}, 1},
		{"linux/arm/v6!", []string{"linux/arm64", "linux/arm/v7"}, 1},
		{"linux/arm/v8", []string{"linux/arm/v5", "linux/arm/v7"}, 1},
		{"linux/arm", []string{"linux/arm/v6", "linux/arm/v7"}, 1}, // arm means v7
		{"linux/arm/v6", []string{"linux/arm/v7"}, -1},
		{"linux/arm/v6", []string{"linux/arm/v5"}, 0},
		{"linux/x86_64", []string{"linux/amd64"}, 0},
		{"windows/amd64", []string{"linux/amd64"}, -1},
		// An entry without a platform: Docker ≥ 23 (moby's filterManifests,
		// containerd's images.Manifest) takes it as a match, sorted after
		// every entry that names one; Docker 20.10 never takes it.
		{"linux/amd64", []string{"none"}, 0},
		{"linux/amd64", []string{"linux/arm64", "none"}, 1},
		{"linux/amd64", []string{"none", "linux/amd64"}, 1},
		{"linux/amd64", []string{"none", "linux/386"}, 1},
		{"linux/amd64", []string{"unknown/unknown", "none"}, 1},
		{"linux/amd64!", []string{"none"}, -1},
		{"linux/arm/v7!", []string{"none"}, -1},
	}
	for _, tt := range tests {
		var entries []probe.Platform
		for _, e := range tt.entries {
			entries = append(entries, p(e))
		}
		i, ok := matchPlatform(p(tt.want), entries)
		if got := map[bool]int{true: i, false: -1}[ok]; got != tt.match {
			t.Errorf("matchPlatform(%s, %v) = %d, want %d", tt.want, tt.entries, got, tt.match)
		}
	}
}

func TestNearestTags(t *testing.T) {
	got := nearestTags("3.2O", []string{"latest", "3.20", "3.19", "edge", "3.2"}, 3)
	if !reflect.DeepEqual(got, []string{"3.2", "3.20", "3.19"}) {
		t.Errorf("nearestTags = %v", got)
	}
}
