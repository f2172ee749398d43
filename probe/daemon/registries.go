package daemon

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/moby/moby/api/types/registry"

	"github.com/runnerup/runnerup/probe"
)

// checkRegistries reports how the daemon treats registries. It only
// informs (pass): whether an insecure entry is a problem depends on the
// images, which the registry checks judge with this check's Data.
func (s *session) checkRegistries(ctx context.Context, _ probe.Deps) probe.Result {
	info, err := s.systemInfo(ctx)
	if err != nil {
		return apiFailure(err)
	}
	regs := registriesOf(info.RegistryConfig)
	r := probe.Passf("%s", describeRegistries(regs, info.RegistryConfig == nil))
	r.Data = regs
	return r
}

// loopbackCIDRs are insecure to every dockerd whatever /info says (::1 since
// Docker 28); used only when a daemon reports no registry configuration.
var loopbackCIDRs = []string{"127.0.0.0/8"}

// registriesOf copies the daemon's registry configuration. Insecure
// registries given as host[:port] appear in IndexConfigs with Secure false;
// those given as CIDRs in InsecureRegistryCIDRs.
func registriesOf(c *registry.ServiceConfig) probe.DaemonRegistries {
	regs := probe.DaemonRegistries{Secure: map[string]bool{}}
	if c == nil {
		regs.InsecureCIDRs = append([]string(nil), loopbackCIDRs...)
		return regs
	}
	for _, n := range c.InsecureRegistryCIDRs {
		if n.IsValid() {
			regs.InsecureCIDRs = append(regs.InsecureCIDRs, n.String())
		}
	}
	for name, idx := range c.IndexConfigs {
		if idx != nil {
			regs.Secure[name] = idx.Secure
		}
	}
	regs.Mirrors = append(regs.Mirrors, c.Mirrors...)
	return regs
}

// describeRegistries is the detail: insecure ranges and registries, then
// mirrors, sorted so the text is stable.
func describeRegistries(regs probe.DaemonRegistries, unknown bool) string {
	var insecure []string
	for name, secure := range regs.Secure {
		if !secure {
			insecure = append(insecure, name)
		}
	}
	sort.Strings(insecure)
	parts := []string{"insecure ranges: " + listOrNone(regs.InsecureCIDRs)}
	parts = append(parts, "insecure registries: "+listOrNone(insecure))
	parts = append(parts, "mirrors: "+listOrNone(regs.Mirrors))
	s := strings.Join(parts, "; ")
	if unknown {
		s = fmt.Sprintf("the daemon reported no registry configuration, assuming dockerd's defaults; %s", s)
	}
	return s
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}
