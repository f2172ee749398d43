package lint

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/runnerup/runnerup/internal/envlist"
)

// Docker-in-Docker facts (docker-library/docker, dind/dockerd-entrypoint.sh
// and cli/docker-entrypoint.sh, versions 19.03 to 29): the dind image sets
// DOCKER_TLS_CERTDIR=/certs; with it non-empty dockerd listens on
// tcp://0.0.0.0:2376 with --tlsverify only, with it empty on 2375 in plain
// text only. Arguments starting with "-" (a service's command) are added
// to those defaults. GitLab Runner passes the job's variables, the
// [[runners]] environment included, to services too; a service's own
// environment comes last.

// dindTLS says whether the DinD daemon of service s uses TLS, the
// directory it writes the client certificates under ($DOCKER_TLS_CERTDIR,
// "/certs" by default; they land in its client/), and why. The service's
// environment comes after the runner's, and the last assignment wins.
func dindTLS(r *runnerCtx, s map[string]any) (on bool, certDir, why string) {
	on, certDir, why = true, "/certs", "DOCKER_TLS_CERTDIR=/certs, the dind image's default"
	for _, src := range []struct {
		m     map[string]any
		where string
	}{{r.m, "the [[runners]] environment"}, {s, "the service's environment"}} {
		env, _, _ := getStrings(src.m, "environment")
		v, ok := envlist.Value(env, "DOCKER_TLS_CERTDIR")
		if !ok {
			continue
		}
		if v = strings.TrimSpace(strings.Trim(v, `"'`)); v == "" {
			on, why = false, "DOCKER_TLS_CERTDIR is empty in "+src.where
		} else {
			on, certDir, why = true, strings.TrimRight(v, "/"), fmt.Sprintf("DOCKER_TLS_CERTDIR=%s in %s", v, src.where)
		}
	}
	return on, certDir, why
}

// serviceAliases are the host names a service is reached by: its alias
// list, else (also) the names GitLab Runner derives from the image
// (helpers/container/services/services.go: the path without tag and
// without the registry's port, "/" as "__" and as "-").
func serviceAliases(s map[string]any) []string {
	var out []string
	if a, ok := getString(s, "alias"); ok {
		out = append(out, strings.Fields(strings.ReplaceAll(strings.ToLower(a), ",", " "))...)
	}
	name, _ := getString(s, "name")
	ref := strings.ToLower(strings.TrimSpace(name))
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		ref = ref[:i]
	}
	if first, rest, ok := strings.Cut(ref, "/"); ok {
		first, _, _ = strings.Cut(first, ":")
		ref = first + "/" + rest
	}
	return append(out, strings.ReplaceAll(ref, "/", "__"), strings.ReplaceAll(ref, "/", "-"))
}

// envValueOf is the last KEY=value of key in a runner's environment and
// its index there (-1: absent).
func envValueOf(m map[string]any, key string) (string, int) {
	env, idx, _ := getStrings(m, "environment")
	val, n := envlist.Last(env, key)
	if n < 0 {
		return "", -1
	}
	return val, idx[n]
}

// dindPortRule: the job's DOCKER_HOST names a DinD service on the port the
// service does not listen on (2375 with TLS, 2376 without): every docker
// command in the job fails with "Cannot connect to the Docker daemon".
func (l *linter) dindPortRule(r *runnerCtx, services []map[string]any, dind []int) {
	host, at := envValueOf(r.m, "DOCKER_HOST")
	u, err := url.Parse(strings.TrimSpace(host))
	if at < 0 || err != nil || u.Scheme != "tcp" {
		return
	}
	target, port := strings.ToLower(u.Hostname()), u.Port()
	for _, i := range dind {
		if !slices.Contains(serviceAliases(services[i]), target) {
			continue
		}
		name, _ := getString(services[i], "name")
		tls, _, why := dindTLS(r, services[i])
		p := indexPath(r.key("environment"), at)
		f := Finding{ID: "docker.dind.tls-port-mismatch", Severity: Error, Path: p, Runner: r.name}
		switch {
		case tls && port == "2375":
			f.Message = fmt.Sprintf("DOCKER_HOST=%s talks plain HTTP to port 2375, but the %s service has TLS on (%s) and listens only on 2376: docker commands in jobs fail with \"Cannot connect to the Docker daemon at %s\"", host, name, why, host)
			f.Fix = fmt.Sprintf(`set DOCKER_HOST=tcp://%s:2376 with "/certs/client" in volumes (the docker image then sets DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH=/certs/client), or turn TLS off on both sides: DOCKER_TLS_CERTDIR= (empty) with DOCKER_HOST=tcp://%s:2375`, target, target)
		case !tls && port == "2376":
			f.Message = fmt.Sprintf("DOCKER_HOST=%s expects TLS on port 2376, but %s, so the %s service listens only on 2375 in plain text: docker commands in jobs fail with \"Cannot connect to the Docker daemon at %s\"", host, why, name, host)
			f.Fix = fmt.Sprintf(`set DOCKER_HOST=tcp://%s:2375, or turn TLS on (remove DOCKER_TLS_CERTDIR= so the default /certs applies, add "/certs/client" to volumes) and keep tcp://%s:2376`, target, target)
		default:
			return
		}
		l.add(f, p, r.key("environment"))
		return
	}
}

// dindInsecureRule: a registry the host's daemon treats as insecure
// (daemon.json insecure-registries) is not insecure to a DinD service's
// own daemon, which never reads the host's daemon.json. Jobs of this
// runner that pull, push or build with it through docker commands fail
// there. A note, since which registries jobs use is not in config.toml.
func (l *linter) dindInsecureRule(r *runnerCtx, services []map[string]any, dind []int) {
	if len(l.opts.InsecureRegistries) == 0 {
		return
	}
	used := l.runnerRegistries(r, services)
	insecure := slices.Clone(l.opts.InsecureRegistries)
	sort.Strings(insecure)
	first := dind[0]
	name, _ := getString(services[first], "name")
	at := joinKey(indexPath(r.dkey("services"), first), keyIn(services[first], "name"))
	for _, host := range insecure {
		h := strings.ToLower(host)
		if !used[h] || passesInsecure(services[first], h) {
			continue
		}
		l.add(Finding{ID: "docker.dind.insecure-registry", Severity: Info, Path: at, Runner: r.name,
			Message: fmt.Sprintf("the host's Docker daemon treats %s as insecure (daemon.json insecure-registries), but the %s service runs its own daemon, which does not read the host's daemon.json: docker pull, push and build in jobs of %s fail for %s (\"http: server gave HTTP response to HTTPS client\" or an x509 error)", host, name, r.label(), host),
			Fix:     fmt.Sprintf(`add command = ["--insecure-registry=%s"] to the [[runners.docker.services]] entry of %s (or in .gitlab-ci.yml: services: [{name: %s, command: ["--insecure-registry=%s"]}]); better, serve the registry over TLS`, host, name, name, host)}, at)
	}
}

// passesInsecure: the service's command already gives --insecure-registry
// for host.
func passesInsecure(s map[string]any, host string) bool {
	cmd, _, _ := getStrings(s, "command")
	for i, c := range cmd {
		c = strings.ToLower(c)
		if c == "--insecure-registry="+host || (c == "--insecure-registry" && i+1 < len(cmd) && strings.EqualFold(cmd[i+1], host)) {
			return true
		}
	}
	return false
}

// runnerRegistries are the registry hosts (lower case) a runner's config
// names: its image, its services, the keys of its DOCKER_AUTH_CONFIG.
func (l *linter) runnerRegistries(r *runnerCtx, services []map[string]any) map[string]bool {
	used := map[string]bool{}
	if img, ok := getString(r.docker, "image"); ok {
		used[imageRegistry(img)] = true
	}
	for _, s := range services {
		if n, ok := getString(s, "name"); ok {
			used[imageRegistry(n)] = true
		}
	}
	if v, at := envValueOf(r.m, "DOCKER_AUTH_CONFIG"); at >= 0 {
		var dac struct {
			Auths map[string]json.RawMessage `json:"auths"`
		}
		if json.Unmarshal([]byte(v), &dac) == nil {
			for k := range dac.Auths {
				used[authKeyHost(k)] = true
			}
		}
	}
	return used
}

var schemeRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*://`)

// authKeyHost is the host[:port] of a config.json key
// ("https://reg:5000/v1/" → "reg:5000").
func authKeyHost(k string) string {
	k = schemeRE.ReplaceAllString(strings.TrimSpace(k), "")
	k, _, _ = strings.Cut(k, "/")
	return strings.ToLower(k)
}

// imageRegistry is the registry host[:port] of an image reference, as
// Docker reads it: the first path segment when it has a "." or ":" or is
// localhost, else Docker Hub.
func imageRegistry(ref string) string {
	ref = strings.ToLower(strings.TrimSpace(ref))
	first, _, ok := strings.Cut(ref, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return first
	}
	return "docker.io"
}
