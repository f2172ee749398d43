package registry

import "testing"

// TestGGCRAcceptsRealmLegacyIPv4: go-containerregistry's realm guard reads
// the inet_aton spellings the Go dialer accepts ("10.1", "127.1", "0",
// "0x0a000001", "167772161"), so ggcrAcceptsRealm must too: for such a
// private realm it must say "refused", so the token request is made here
// (found by FuzzRegistryChallenge, realm "https://0"). A public address in
// the same spellings, and names that only look numeric, stay accepted.
func TestGGCRAcceptsRealmLegacyIPv4(t *testing.T) {
	for _, realm := range []string{"https://10.1/jwt/auth", "https://127.1/token", "https://0/t", "https://0x0a000001/t", "https://167772161/t", "https://012.0.0.1/t", "https://192.168.0x1.1/t"} {
		if ggcrAcceptsRealm(realm, "registry.example.com", false) {
			t.Errorf("%s: taken as accepted; go-containerregistry refuses it, so the probe would fail where dockerd succeeds", realm)
		}
	}
	for _, realm := range []string{"https://134744072/t" /* 8.8.8.8 */, "https://8.8.8.8/t", "https://gitlab.example.com/jwt/auth", "https://0x.example/t", "https://1.2.3.4.5/t", "https://256.1/t"} {
		if !ggcrAcceptsRealm(realm, "registry.example.com", false) {
			t.Errorf("%s: taken as refused", realm)
		}
	}
}
