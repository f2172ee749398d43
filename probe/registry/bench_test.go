package registry

import (
	"context"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/runnerup/runnerup/internal/fakeregistry"
	"github.com/runnerup/runnerup/internal/testenv"
	"github.com/runnerup/runnerup/probe"
)

// BenchmarkImageProbe measures one image's four checks (tls, auth,
// manifest, platform) against the real loopback docker-registry with basic
// auth: the figure to set beside `skopeo inspect` and `crane manifest` on
// the same registry (bench/).
func BenchmarkImageProbe(b *testing.B) {
	reg := testenv.StartRegistry(b, testenv.RegistryOptions{Auth: true})
	ref := reg.Host + "/bench/app:1"
	tag, err := name.NewTag(ref)
	if err != nil {
		b.Fatal(err)
	}
	if err := remote.Write(tag, fakeregistry.PlatformImage(b, linuxAMD64), remote.WithAuth(&authn.Basic{Username: reg.Username, Password: reg.Password})); err != nil {
		b.Fatalf("push %s: %v", ref, err)
	}
	creds := credChecks(map[string]Credential{reg.Host: {Username: reg.Username, Password: reg.Password, Source: "bench"}})
	facts := daemonChecks(amd64, probe.DaemonRegistries{InsecureCIDRs: []string{"127.0.0.0/8"}})
	opts := withCreds(Options{})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		checks := append(append(Checks([]string{ref}, opts), creds...), facts...)
		res, err := probe.Run(context.Background(), checks, probe.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if !probe.OK(res) {
			b.Fatalf("probe failed: %+v", probe.Failed(res))
		}
	}
}
