package service

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/runnerup/runnerup/internal/secret"
)

// Summary is one line for humans, e.g. "systemd unit gitlab-runner.service
// (active) runs as root, reads /etc/gitlab-runner/config.toml" or "Windows
// service gitlab-runner (running) runs as LocalSystem, reads
// C:\GitLab-Runner\config.toml". It never includes the environment, which
// may hold credentials.
func (i Install) Summary() string {
	var what string
	switch {
	case i.Kind == Systemd && i.UserService:
		what = "systemd user unit"
	case i.Kind == Systemd:
		what = "systemd unit"
	case i.Kind == Launchd && i.UserService:
		what = "launchd agent"
	case i.Kind == Launchd:
		what = "launchd daemon"
	case i.Kind == Windows:
		what = "Windows service"
	default:
		what = string(i.Kind)
	}
	state := i.State
	if state == "" {
		state = "unknown"
	}
	s := fmt.Sprintf("%s %s (%s) runs as %s", what, i.Name, state, i.User)
	switch {
	case i.ConfigPath == "":
		return s + ", config.toml location unknown"
	case i.ConfigPathFromDefault:
		return s + ", reads " + i.ConfigPath + " (the runner's default)"
	}
	return s + ", reads " + i.ConfigPath
}

// RedactedEnvironment returns env for display: the value of a key that
// names a credential (secret.IsSecretName: DEPLOY_KEY, REGISTRY_PASS, …) becomes
// "***", and URLs in other values are shown as secret.RedactURL does
// (http://user:xxxxx@proxy:3128). Proxy variables are also read without a
// scheme (user:pass@proxy:3128), as Go's and curl's proxy handling accept
// them. env itself is not changed.
func RedactedEnvironment(env []string) []string {
	if env == nil {
		return nil
	}
	out := make([]string, len(env))
	for i, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		switch {
		case !ok:
			out[i] = kv
		case secret.IsSecretName(k):
			out[i] = k + "=***"
		case strings.HasSuffix(strings.ToUpper(k), "_PROXY") && !strings.Contains(v, "://"):
			out[i] = k + "=" + secret.RedactURL(v)
		default:
			out[i] = k + "=" + secret.RedactURLsIn(v)
		}
	}
	return out
}

// MarshalJSON writes the install with its environment redacted: -o json
// output must not carry the proxy passwords and tokens a unit sets.
func (i Install) MarshalJSON() ([]byte, error) {
	type plain Install // no methods: no recursion
	p := plain(i)
	p.Environment = RedactedEnvironment(i.Environment)
	return json.Marshal(p)
}
