package daemon

import (
	"context"
	"strings"

	"github.com/runnerup/runnerup/internal/secret"
	"github.com/runnerup/runnerup/probe"
)

// ProxySettings is daemon.proxy's Data: the proxy dockerd uses for
// registry traffic, credentials already redacted. The runner's own proxy
// reaches only containers and GitLab (pull-failures daemon-proxy-missing),
// so a later check compares the two.
type ProxySettings struct {
	HTTPProxy, HTTPSProxy, NoProxy string
}

// checkProxy reports the daemon's proxy. It passes either way: no proxy is
// right on most networks, and only a failing registry check can tell that
// one was needed.
func (s *session) checkProxy(ctx context.Context, _ probe.Deps) probe.Result {
	info, err := s.systemInfo(ctx)
	if err != nil {
		return apiFailure(err)
	}
	ps := ProxySettings{
		HTTPProxy:  secret.RedactURL(info.HTTPProxy),
		HTTPSProxy: secret.RedactURL(info.HTTPSProxy),
		NoProxy:    info.NoProxy,
	}
	r := probe.Passf("%s", describeProxy(ps))
	r.Data = ps
	return r
}

func describeProxy(ps ProxySettings) string {
	if ps.HTTPProxy == "" && ps.HTTPSProxy == "" {
		s := "no proxy: the daemon reaches registries directly"
		if ps.NoProxy != "" {
			s += " (NO_PROXY=" + ps.NoProxy + ")"
		}
		return s
	}
	var parts []string
	for _, kv := range [][2]string{{"HTTP_PROXY", ps.HTTPProxy}, {"HTTPS_PROXY", ps.HTTPSProxy}, {"NO_PROXY", ps.NoProxy}} {
		v := kv[1]
		if v == "" {
			v = "(unset)"
		}
		parts = append(parts, kv[0]+"="+v)
	}
	return "the daemon pulls through " + strings.Join(parts, " ")
}
