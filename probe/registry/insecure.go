package registry

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/runnerup/runnerup/probe"
)

// alwaysInsecure is the range dockerd treats as insecure whatever its
// configuration says (moby registry/config.go).
const alwaysInsecure = "127.0.0.0/8"

// lookupIP resolves a host name as the daemon's isCIDRMatch does; a
// variable so a test can fail it.
var lookupIP = func(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// InsecureFor decides, as dockerd's isSecureIndex does, whether the daemon
// treats host (host[:port] as in the image) as an insecure registry, and
// why: an IndexConfigs entry (insecure-registries) wins; otherwise the host
// is insecure when it, or any address it resolves to, lies in an insecure
// CIDR. A name that does not resolve is secure.
func InsecureFor(ctx context.Context, regs probe.DaemonRegistries, host string) (bool, string) {
	for name, secure := range regs.Secure {
		if strings.EqualFold(name, host) {
			if secure {
				return false, fmt.Sprintf("the daemon lists %s as a secure registry", host)
			}
			return true, fmt.Sprintf("%s is in the daemon's insecure-registries", host)
		}
	}
	cidrs := append([]string{alwaysInsecure}, regs.InsecureCIDRs...)
	hostname := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		hostname = h
	}
	hostname = strings.Trim(hostname, "[]")
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(hostname); err == nil {
		addrs = []netip.Addr{a}
	} else if found, err := lookupIP(ctx, hostname); err == nil {
		addrs = found
	}
	for _, a := range addrs {
		a = a.Unmap()
		for _, c := range cidrs {
			p, err := netip.ParsePrefix(c)
			if err != nil || !p.Contains(a) {
				continue
			}
			if a.String() == hostname {
				return true, fmt.Sprintf("%s is in the daemon's insecure range %s", hostname, c)
			}
			return true, fmt.Sprintf("%s resolves to %s, in the daemon's insecure range %s", hostname, a, c)
		}
	}
	return false, ""
}

// insecureUpFront reports whether the daemon treats host as insecure
// whatever its settings say, known without asking it or the DNS:
// Options.Insecure's answer when set, else an address in 127.0.0.0/8.
func (o Options) insecureUpFront(host string) bool {
	if o.Insecure != nil {
		return o.Insecure(host)
	}
	hostname := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		hostname = h
	}
	a, err := netip.ParseAddr(strings.Trim(hostname, "[]"))
	return err == nil && netip.MustParsePrefix(alwaysInsecure).Contains(a.Unmap())
}

// insecure answers for the tls check: from Options.Insecure when set, else
// from the daemon.registries result (RunAfterFailure: without it only
// 127.0.0.0/8 is assumed, and note says so).
func (o Options) insecure(ctx context.Context, deps probe.Deps, host string) (insecure bool, why, note string) {
	if o.Insecure != nil {
		if o.Insecure(host) {
			return true, "the daemon treats " + host + " as insecure", ""
		}
		return false, "", ""
	}
	dep, have := deps[probe.IDDaemonRegistries]
	if !have {
		// Loopback is insecure on every daemon: no need to wait for its
		// settings to know that.
		if ok, why := InsecureFor(ctx, probe.DaemonRegistries{}, host); ok {
			return true, why, ""
		}
		dep, _ = probe.Await(ctx, probe.IDDaemonRegistries)
	}
	regs, ok := dep.Data.(probe.DaemonRegistries)
	if !ok || dep.Status == probe.Fail {
		note = "daemon registry settings unknown (" + probe.IDDaemonRegistries + " did not pass): assumed only " + alwaysInsecure + " is insecure"
		regs = probe.DaemonRegistries{}
	}
	insecure, why = InsecureFor(ctx, regs, host)
	return insecure, why, note
}
