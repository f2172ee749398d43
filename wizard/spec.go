package wizard

import (
	"slices"

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

// runnerEnvironment is what the answers put in [[runners]] environment
// under executor: the user's entries, DinD wiring and DOCKER_AUTH_CONFIG
// for registries whose target is the runner environment.
func (a *Answers) runnerEnvironment(executor string) ([]string, error) {
	env := slices.Clone(a.Runner.Environment)
	if a.Docker.IsDinD() && UsesDocker(executor) {
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
// registration fields to write (nil keeps those on disk); existing is the
// runner as config.toml has it (nil: a new runner). For an existing runner
// only the keys the answers set are in the edit, under the executor that
// holds after apply (the answers', else the one on disk); a new runner
// gets register's defaults: executor docker, pwsh for docker-windows,
// privileged = false and the /cache volume.
func (a *Answers) ConfigEdit(creds *render.Credentials, existing *render.ExistingRunner) (render.ConfigEdit, error) {
	isNew := existing == nil
	executor := a.executorFor(existing)
	env, err := a.runnerEnvironment(executor)
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
	if isNew {
		n := Answers{Runner: Runner{Executor: executor, Shell: r.Shell}}
		n.applyNewRunnerDefaults()
		r.Executor, r.Shell = n.Runner.Executor, n.Runner.Shell
	}
	if UsesDocker(executor) {
		d := a.Docker
		vols := slices.Clone(d.Volumes)
		if vols == nil && isNew {
			vols = defaultVolumes(executor)
		}
		privileged := cloneBool(d.Privileged)
		switch {
		case d.IsDinD():
			privileged = new(true)
		case privileged == nil && isNew:
			privileged = new(false)
		}
		rd := &render.Docker{
			Host:       d.Host,
			Image:      d.Image,
			Privileged: privileged,
			Volumes:    vols,
			PullPolicy: slices.Clone(d.PullPolicy),
		}
		if d.IsDinD() {
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

// ForRunner is the answers as they hold for the runner after apply, for
// the checks (which image to probe, which executor, privileged or not):
// keys the answers leave out are the runner's on disk (existing), or the
// new-runner defaults when existing is nil. Rendering uses the answers
// themselves, so that absent keys keep their bytes.
func (a *Answers) ForRunner(existing *render.ExistingRunner) *Answers {
	c := a.Clone()
	if existing == nil {
		c.applyNewRunnerDefaults()
		return c
	}
	if c.Runner.Executor == "" {
		c.Runner.Executor = existing.Executor
	}
	if c.Runner.Shell == "" {
		c.Runner.Shell = existing.Shell
	}
	if c.GitLab.TLSCAFile == "" {
		c.GitLab.TLSCAFile = existing.TLSCAFile
	}
	d := existing.Docker
	if d == nil {
		return c
	}
	if c.Docker.Image == "" {
		c.Docker.Image = d.Image
	}
	if c.Docker.Host == "" {
		c.Docker.Host = d.Host
	}
	if c.Docker.Privileged == nil {
		c.Docker.Privileged = new(d.Privileged)
	}
	if c.Docker.Volumes == nil {
		c.Docker.Volumes = slices.Clone(d.Volumes)
	}
	if c.Docker.PullPolicy == nil {
		c.Docker.PullPolicy = slices.Clone(StringOrList(d.PullPolicy))
	}
	if c.Docker.Services == nil && d.Services != nil {
		c.Docker.Services = make([]Service, 0, len(d.Services))
		for _, s := range d.Services {
			c.Docker.Services = append(c.Docker.Services, Service{
				Name: s.Name, Alias: s.Alias, Command: slices.Clone(s.Command), Entrypoint: slices.Clone(s.Entrypoint), Environment: slices.Clone(s.Environment),
			})
		}
	}
	return c
}
