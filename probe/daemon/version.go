package daemon

import (
	"context"
	"errors"
	"fmt"
	"github.com/moby/moby/api/types/system"
	"strings"

	"github.com/moby/moby/client/pkg/versions"

	"github.com/runnerup/runnerup/probe"
)

// oldestAPI is the oldest Engine API runnerup calls current: Docker 20.10.
// Anything older is years out of support; it still works for pulls, so
// the check warns instead of failing.
const oldestAPI = "1.41"

func (s *session) checkVersion(ctx context.Context, _ probe.Deps) probe.Result {
	v, err := s.serverVersion(ctx)
	if err != nil {
		return apiFailure(err)
	}
	detail := describeVersion(v)
	facts := VersionFacts{Version: v.Version, APIVersion: v.APIVersion, MinAPIVersion: v.MinAPIVersion}
	var r probe.Result
	if v.APIVersion != "" && versions.LessThan(v.APIVersion, oldestAPI) {
		r = probe.Warnf("upgrade the Docker Engine to 20.10 (API "+oldestAPI+") or newer: older daemons no longer get fixes",
			"%s is older than Docker 20.10 (API %s)", detail, oldestAPI)
	} else {
		r = probe.Passf("%s", detail)
	}
	r.Data = facts
	return r
}

// VersionFacts is daemon.version's Data: the Engine release and the API
// range it accepts (MinAPIVersion from /version; "" when the daemon does
// not report it).
type VersionFacts struct {
	Version       string `json:"version"`
	APIVersion    string `json:"api_version"`
	MinAPIVersion string `json:"min_api_version,omitempty"`
}

// describeVersion says "Docker 20.10.24 (API 1.41)"; an engine that names
// itself otherwise (Podman's compat API) keeps its own name.
func describeVersion(v system.VersionResponse) string {
	name := "Docker"
	if p := v.Platform.Name; p != "" && !strings.HasPrefix(p, "Docker") {
		name = p
	}
	ver := v.Version
	if ver == "" {
		ver = "(version unknown)"
	}
	api := v.APIVersion
	if api == "" {
		api = "unknown"
	}
	if v.MinAPIVersion != "" {
		// Docker 29 refuses clients below 1.44: the range decides which
		// runners and docker CLIs can talk to it.
		api += ", minimum " + v.MinAPIVersion
	}
	return fmt.Sprintf("%s %s (API %s)", name, ver, api)
}

// apiFailure is the result for a daemon that answered /_ping but not a
// later request: an unhealthy daemon or something between that filters.
func apiFailure(err error) probe.Result {
	if errors.Is(err, context.DeadlineExceeded) {
		// probe.Run adds the "raise --timeout" hint.
		return probe.Failf("", "%v", err)
	}
	return probe.Failf("the daemon answered /_ping but not this request: check its health (`systemctl status docker`, `journalctl -u docker`) and anything proxying the Docker API",
		"%v", err)
}
