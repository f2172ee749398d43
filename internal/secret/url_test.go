package secret

import (
	"net/url"
	"testing"
)

func TestRedactURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no credentials", "http://proxy.example.com:3128", "http://proxy.example.com:3128"},
		{"user and password", "http://alice:s3cret@proxy:3128", "http://alice:xxxxx@proxy:3128"},
		{"password with an escaped @", "http://alice:p%40ss@proxy:3128/", "http://alice:xxxxx@proxy:3128/"},
		{"a lone user name is often a token", "https://glpat-abcdefghijkl@gitlab.example.com/group/p.git", "https://xxxxx@gitlab.example.com/group/p.git"},
		{"empty password", "http://alice:@proxy:3128", "http://alice:xxxxx@proxy:3128"},
		{"query values", "https://gitlab.example.com/api/v4/runners?token=glrt-abc&x=1", "https://gitlab.example.com/api/v4/runners?token=xxxxx&x=xxxxx"},
		{"fragment dropped", "https://gitlab.example.com/x#access_token=abc", "https://gitlab.example.com/x"},
		// Proxy variables without a scheme, as Go's and curl's proxy
		// handling accept them.
		{"host:port", "proxy:3128", "proxy:3128"},
		{"no scheme with credentials", "alice:s3cret@proxy:3128", "alice:xxxxx@proxy:3128"},
		// Go splits the authority at its last @, as curl does.
		{"unescaped @ in the password", "http://alice:p@ss@proxy:3128", "http://alice:xxxxx@proxy:3128"},
		{"unescaped @ without a scheme", "alice:p@ss@proxy:3128/x", "alice:xxxxx@proxy:3128/x"},
		// Not a valid URL: everything before the last @ of the authority.
		{"invalid URL with credentials", "http://alice:s3cret@proxy:3128/%zz", "http://xxxxx@proxy:3128/%zz"},
		{"invalid port with credentials", "alice:s3cret@proxy:31z8", "xxxxx@proxy:31z8"},
		{"invalid URL without credentials", "http://proxy:3128/%zz", "http://proxy:3128/%zz"},
		{"docker's own mask", "http://xxxxx:xxxxx@proxy.example:3128", "http://xxxxx:xxxxx@proxy.example:3128"},
		{"@ in the path", "http://proxy.example/a@b", "http://proxy.example/a@b"},
		{"socks5 token as user", "socks5://token@proxy.example", "socks5://xxxxx@proxy.example"},
		{"ssh login name (a Docker host)", "ssh://ci@build.example.com:2222", "ssh://ci@build.example.com:2222"},
		{"ssh with a password", "ssh://ci:s3cret@build.example.com", "ssh://ci:xxxxx@build.example.com"},
		{"unix socket", "unix:///var/run/docker.sock", "unix:///var/run/docker.sock"},
		{"named pipe", "npipe:////./pipe/docker_engine", "npipe:////./pipe/docker_engine"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactURL(tt.in); got != tt.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if u, err := url.Parse(tt.in); err == nil && u.Host != "" {
				if got := RedactParsedURL(u); got != tt.want {
					t.Errorf("RedactParsedURL(%q) = %q, want %q", tt.in, got, tt.want)
				}
			}
		})
	}
	if got := RedactParsedURL(nil); got != "" {
		t.Errorf("RedactParsedURL(nil) = %q", got)
	}
}

func TestRedactURLsIn(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://a:pw@m1.example/v2 https://m2.example,https://tok@m3.example", "https://a:xxxxx@m1.example/v2 https://m2.example,https://xxxxx@m3.example"},
		{`  url = "http://u:pw@proxy:3128"`, `  url = "http://u:xxxxx@proxy:3128"`},
		{`"HTTPS_PROXY=http://u:pw@proxy:3128", 'x'`, `"HTTPS_PROXY=http://u:xxxxx@proxy:3128", 'x'`},
		{"no urls here: user:pw@host", "no urls here: user:pw@host"},
	}
	for _, tt := range tests {
		if got := RedactURLsIn(tt.in); got != tt.want {
			t.Errorf("RedactURLsIn(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
