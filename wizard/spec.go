package wizard

import (
	"github.com/runnerup/runnerup/internal/imageref"
	"github.com/runnerup/runnerup/render"
)

// DinD wiring (GitLab's "Docker-in-Docker with TLS" set-up): the job and
// the docker:dind service share the client certificates through
// /certs/client, and DOCKER_TLS_CERTDIR tells dind where to create them.
const (
	dindCertsVolume = "/certs/client"
	dindCertDirEnv  = "DOCKER_TLS_CERTDIR=/certs"
)

// defaultVolumes is what register gives a new docker runner.
func defaultVolumes(executor string) []string {
	if executor == "docker-windows" {
		return []string{`c:\cache`}
	}
	return []string{"/cache"}
}

// DockerConfigEdit is the config.json change the answers ask for: the
// registries whose target is config.json.
func (a *Answers) DockerConfigEdit() render.DockerConfigEdit {
	return a.dockerEdit(TargetDockerConfig)
}

func (a *Answers) dockerEdit(target string) render.DockerConfigEdit {
	var e render.DockerConfigEdit
	for _, r := range a.Registries {
		if r.Target != target {
			continue
		}
		key := imageref.RegistryKey(r.Host)
		switch r.Method {
		case MethodBasic:
			e.Auths = append(e.Auths, render.DockerAuth{Key: key, Username: r.Username, Password: r.Password})
		case MethodCredHelper:
			e.Auths = append(e.Auths, render.DockerAuth{Key: key, Helper: r.Helper})
		case MethodCredsStore:
			e.CredsStore = r.Helper
		}
	}
	return e
}

// WritesDockerConfig reports whether the answers change config.json.
func (a *Answers) WritesDockerConfig() bool {
	e := a.DockerConfigEdit()
	return len(e.Auths) > 0 || e.CredsStore != ""
}

// runnerEnvironment is what the answers put in [[runners]] environment:
// the user's entries, DinD wiring and DOCKER_AUTH_CONFIG for registries
// whose target is the runner environment.
func (a *Answers) runnerEnvironment() ([]string, error) {
	env := cloneStrings(a.Runner.Environment)
	if a.Docker.DinD && UsesDocker(a.Runner.Executor) {
		env = append(env, dindCertDirEnv)
	}
	if e := a.dockerEdit(TargetRunnerEnv); len(e.Auths) > 0 || e.CredsStore != "" {
		value, err := render.DockerAuthConfig(e)
		if err != nil {
			return nil, err
		}
		env = append(env, "DOCKER_AUTH_CONFIG="+value)
	}
	return env, nil
}

// ConfigEdit is the config.toml change the answers ask for. creds are the
// registration fields to write (nil keeps those on disk); isNew says the
// runner is not in the file yet, which decides the /cache default.
func (a *Answers) ConfigEdit(creds *render.Credentials, isNew bool) (render.ConfigEdit, error) {
	env, err := a.runnerEnvironment()
	if err != nil {
		return render.ConfigEdit{}, err
	}
	r := render.Runner{
		Name:        a.GitLab.Name,
		URL:         a.GitLab.URL,
		Credentials: creds,
		TLSCAFile:   a.GitLab.TLSCAFile,
		Executor:    a.Runner.Executor,
		Shell:       a.Runner.Shell,
		Limit:       a.Runner.Limit,
		Environment: env,
	}
	if UsesDocker(a.Runner.Executor) {
		d := a.Docker
		vols := cloneStrings(d.Volumes)
		if vols == nil && isNew {
			vols = defaultVolumes(a.Runner.Executor)
		}
		rd := &render.Docker{
			Host:       d.Host,
			Image:      d.Image,
			Privileged: d.Privileged || d.DinD,
			Volumes:    vols,
			PullPolicy: cloneStrings(d.PullPolicy),
		}
		if d.DinD {
			rd.EnsureVolumes = []string{dindCertsVolume}
		}
		if d.Services != nil {
			rd.Services = make([]render.Service, 0, len(d.Services))
			for _, s := range d.Services {
				rd.Services = append(rd.Services, render.Service{
					Name: s.Name, Alias: s.Alias, Command: s.Command, Entrypoint: s.Entrypoint, Environment: s.Environment,
				})
			}
		}
		r.Docker = rd
	}
	e := render.ConfigEdit{Concurrent: a.Runner.Concurrent, Runner: r}
	if kind, _ := ClassifyToken(a.GitLab.Token, a.GitLab.TokenKind); kind == TokenAuthentication {
		e.MatchToken = a.GitLab.Token
	}
	return e, nil
}
