package fleet

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpproxy"

	"github.com/runnerup/runnerup/internal/secret"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/daemon"
	"github.com/runnerup/runnerup/probe/service"
)

// The runner service talks to GitLab with its own environment (systemd
// Environment=, the container's env), not the shell's; the Docker daemon
// pulls images with its own. runnerup's probes run from the shell, so a
// proxy set only there makes them pass where the service fails
// (gitlab-runner#4921, #3660).
func proxyCheck(o Options) probe.Check {
	c := probe.Check{ID: IDProxy, Title: "Proxy paths (shell, service, Docker daemon)"}
	if o.DaemonProxy {
		c.Later = []string{daemon.IDProxy}
	}
	c.Run = func(ctx context.Context, _ probe.Deps) probe.Result {
		shell := envProxy(o.ShellEnv)
		var parts []string
		parts = append(parts, "shell: "+shell.describe())
		primary, haveService := service.Primary(o.Installs)
		var svc proxyEnv
		switch {
		case haveService && primary.Kind == service.Windows:
			// Its environment lives in the registry, which sc.exe does
			// not show: nothing to compare.
			parts = append(parts, primary.Name+": environment not readable here (Windows service)")
			haveService = false
		case haveService:
			svc = envProxy(lookupIn(primary.Environment))
			parts = append(parts, primary.Name+": "+svc.describe())
		}
		var dmn proxyEnv
		haveDaemon := false
		if o.DaemonProxy {
			if r, ok := probe.Await(ctx, daemon.IDProxy); ok {
				if ps, ok := r.Data.(daemon.ProxySettings); ok {
					dmn = proxyEnv{cfg: httpproxy.Config{HTTPProxy: ps.HTTPProxy, HTTPSProxy: ps.HTTPSProxy, NoProxy: ps.NoProxy}}
					haveDaemon = true
					parts = append(parts, "Docker daemon: "+dmn.describe())
				}
			}
		}
		var warnings, hints, findings []string
		if o.GitLabURL != "" {
			shellRoute := shell.route(o.GitLabURL)
			line := fmt.Sprintf("%s: shell %s", hostOf(o.GitLabURL), shellRoute)
			if haveService {
				svcRoute := svc.route(o.GitLabURL)
				line += fmt.Sprintf(", service %s", svcRoute)
				if svcRoute != shellRoute {
					warnings = append(warnings, fmt.Sprintf("runnerup reached GitLab %s from this shell, but %s goes %s: a passing GitLab check does not prove the service can connect", shellRoute, primary.Name, svcRoute))
					hints = append(hints, serviceProxyHint(primary))
					findings = append(findings, FindingProxyGitLabDiffers)
				}
			}
			parts = append(parts, line)
		}
		if haveDaemon {
			for _, h := range o.RegistryHosts {
				u := "https://" + h + "/v2/"
				route := dmn.route(u)
				parts = append(parts, fmt.Sprintf("%s: daemon %s", h, route))
				switch shellRoute := shell.route(u); {
				case route != "direct" && internalHost(h):
					warnings = append(warnings, fmt.Sprintf("the Docker daemon pulls from %s %s, but %s looks internal and a proxy usually cannot reach it", h, route, h))
					hints = append(hints, fmt.Sprintf("add %s to the Docker daemon's NO_PROXY (a drop-in for docker.service with Environment=NO_PROXY=…, or \"proxies\" in /etc/docker/daemon.json), then restart docker", hostOnly(h)))
					findings = append(findings, FindingProxyRegistryViaProxy)
				case route != shellRoute:
					// runnerup's registry checks use this shell's proxy;
					// the pull that matters is the daemon's.
					warnings = append(warnings, fmt.Sprintf("runnerup's registry checks reached %s %s from this shell, but the Docker daemon pulls %s: a registry check that passes here does not prove the daemon can pull", h, shellRoute, route))
					hints = append(hints, "give the daemon and this shell the same proxy settings (docker.service drop-in or \"proxies\" in /etc/docker/daemon.json), or run runnerup with the daemon's HTTPS_PROXY/NO_PROXY")
					findings = append(findings, FindingProxyRegistryDiffers)
				}
			}
		}
		detail := strings.Join(parts, "; ")
		if len(warnings) == 0 {
			return probe.Passf("%s", detail)
		}
		r := probe.Warnf(strings.Join(dedupe(hints), "; "), "%s (%s)", strings.Join(warnings, "; "), detail)
		r.Finding = findings[0]
		return r
	}
	return c
}

func serviceProxyHint(in service.Install) string {
	switch in.Kind {
	case service.Systemd:
		return fmt.Sprintf("give the service the proxy this network needs: `sudo systemctl edit %s` with [Service] Environment=\"HTTPS_PROXY=…\" \"NO_PROXY=…\", then restart it", in.Name)
	case service.Container:
		return fmt.Sprintf("recreate container %s with -e HTTPS_PROXY=… -e NO_PROXY=…", in.Name)
	}
	return "set HTTPS_PROXY/NO_PROXY in the service's environment"
}

// proxyEnv is one process's proxy settings, read as Go programs (the
// runner, dockerd, runnerup) read them.
type proxyEnv struct{ cfg httpproxy.Config }

func envProxy(lookup func(string) (string, bool)) proxyEnv {
	get := func(names ...string) string {
		for _, n := range names {
			if v, ok := lookup(n); ok && v != "" {
				return v
			}
		}
		return ""
	}
	return proxyEnv{cfg: httpproxy.Config{
		HTTPProxy:  get("HTTP_PROXY", "http_proxy"),
		HTTPSProxy: get("HTTPS_PROXY", "https_proxy"),
		NoProxy:    get("NO_PROXY", "no_proxy"),
	}}
}

func lookupIn(env []string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		for i := len(env) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(env[i], name+"="); ok {
				return v, true
			}
		}
		return "", false
	}
}

// route is "direct" or "via <proxy>" (userinfo hidden) for a URL.
func (p proxyEnv) route(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "direct"
	}
	pu, err := p.cfg.ProxyFunc()(u)
	if err != nil || pu == nil {
		return "direct"
	}
	return "via " + secret.RedactParsedURL(pu)
}

func (p proxyEnv) describe() string {
	var kv []string
	for _, e := range []struct{ k, v string }{{"HTTP_PROXY", p.cfg.HTTPProxy}, {"HTTPS_PROXY", p.cfg.HTTPSProxy}, {"NO_PROXY", p.cfg.NoProxy}} {
		if e.v != "" {
			v := e.v
			if e.k != "NO_PROXY" {
				if u, err := url.Parse(v); err == nil && u.Host != "" {
					v = secret.RedactParsedURL(u)
				} else {
					v = "***"
				}
			}
			kv = append(kv, e.k+"="+v)
		}
	}
	if len(kv) == 0 {
		return "no proxy"
	}
	return strings.Join(kv, " ")
}

// internalHost says a registry host is probably reachable only inside
// the network: a private or link-local IP, a single-label name, or a
// suffix reserved for private use.
func internalHost(hostport string) bool {
	h := hostOnly(hostport)
	if ip := net.ParseIP(h); ip != nil {
		return ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLoopback()
	}
	if !strings.Contains(h, ".") {
		return true
	}
	for _, s := range []string{".local", ".internal", ".lan", ".corp", ".home.arpa", ".intranet", ".localdomain", ".svc", ".cluster.local"} {
		if strings.HasSuffix(h, s) {
			return true
		}
	}
	return false
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return strings.Trim(h, "[]")
	}
	return strings.Trim(hostport, "[]")
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return raw
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
