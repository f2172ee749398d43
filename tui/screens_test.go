package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/runnerup/runnerup/internal/gitlab"
	"github.com/runnerup/runnerup/internal/golden"
	"github.com/runnerup/runnerup/internal/secret"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/registry"
	"github.com/runnerup/runnerup/wizard"
)

// screenProbe answers like a real run of the goal walk: GitLab and the
// daemon pass, the registry asks for Basic credentials until a method is
// chosen, and GitLab's TLS is a warning.
type screenProbe struct{}

func (screenProbe) probe(_ context.Context, a *wizard.Answers, onResult func(probe.Result)) ([]probe.Result, error) {
	var rs []probe.Result
	add := func(r probe.Result) { rs = append(rs, r) }
	if a.GitLab.URL != "" {
		add(probe.Result{ID: probe.IDGitLabDNS, Title: "GitLab host name resolves", Status: probe.Pass, Detail: "gitlab.example.com → 192.0.2.10"})
		add(probe.Result{ID: probe.IDGitLabTCP, Title: "GitLab port is reachable", Status: probe.Pass, Detail: "connected to 192.0.2.10:443"})
		add(probe.Result{ID: probe.IDGitLabTLS, Title: "GitLab TLS certificate", Status: probe.Warn, Detail: "expires in 9 days", Hint: "renew the certificate"})
	}
	if a.GitLab.Create != nil && a.GitLab.Create.APIToken != "" {
		add(probe.Result{ID: wizard.IDAPIToken, Title: "API token for runner creation", Status: probe.Pass,
			Detail: "@alice can create runners · scopes create_runner, read_api",
			Data:   wizard.APITokenInfo{UserKnown: true, User: gitlab.User{Username: "alice"}, Scopes: []string{"create_runner", "read_api"}, CanCreate: true, CanList: true}})
	}
	if a.GitLab.Token != "" {
		add(probe.Result{ID: probe.IDGitLabToken, Title: "Runner token", Status: probe.Pass, Detail: secret.Token(a.GitLab.Token) + " is valid (runner #42)"})
	}
	if a.Docker.Image != "" {
		add(probe.Result{ID: "daemon.reachable", Title: "Docker daemon reachable", Status: probe.Pass, Detail: "unix:///var/run/docker.sock answers"})
		add(probe.Result{ID: registry.ManifestID(a.Docker.Image), Title: "image " + a.Docker.Image + ": manifest", Status: probe.Pass, Detail: "linux/amd64 present"})
		host, _ := wizard.ImageRegistry(a.Docker.Image)
		basic := false
		for _, r := range a.Registries {
			basic = basic || (wizard.RegistryKey(r.Host) == wizard.RegistryKey(host) && r.Method == wizard.MethodBasic)
		}
		auth := probe.Result{ID: registry.AuthID(host), Title: "registry " + host + ": credentials", Status: probe.Pass,
			Detail: `credentials accepted: GET /v2/ with Basic realm "registry" → 200`}
		if !basic {
			auth.Status, auth.Data = probe.Fail, registry.Failure{Cause: registry.CauseMissingCredentials, Host: host, Status: 401}
			auth.Detail = fmt.Sprintf(`GET /v2/ answered 401 Basic realm "registry" and no credentials were resolved for %q`, host)
		}
		add(auth)
	}
	for _, r := range rs {
		onResult(r)
	}
	return rs, nil
}

// TestStepScreensGolden keeps every step of the goal walk at 80×24 without
// colour as golden files, so a layout change is a visible diff in review:
// go test ./tui/ -run TestStepScreensGolden -update rewrites them.
func TestStepScreensGolden(t *testing.T) {
	fa := &fakeApply{}
	o := testOptions(t, fa)
	o.ConfigPath = "/etc/gitlab-runner/config.toml"
	o.DockerConfigDir = "/root/.docker"
	o.Paths.Home = "/root"
	o.NoColor = true
	o.Probe = screenProbe{}.probe
	d := newDriver(t, o)
	shot := func(name string) { t.Helper(); d.shot("TestStepScreensGolden", name) }
	// The debounced re-probe is a timer the driver drops: run it now, as
	// the tick would.
	probeNow := func() { d.run(d.m.startProbeCmd()) }

	d.wantFocus("gitlab.url")
	shot("01-gitlab-url")
	d.typ("https://gitlab.example.com")
	d.keys("enter", "enter")
	d.typ(scToken)
	probeNow()
	shot("02-gitlab-token")
	d.keys("ctrl+o", "enter")
	d.wantFocus("gitlab.name")
	shot("03-gitlab-advanced")
	d.keys("ctrl+o") // hidden again: the runner name and CA file stay as they are
	d.wantFocus("gitlab.token")
	d.keys("enter")
	d.wantFocus("runner.executor")
	shot("04-executor")
	d.keys("enter")
	d.wantFocus("docker.image")
	shot("05-executor-image")
	d.typ(scImage)
	probeNow()
	d.keys("ctrl+o", "enter")
	d.wantFocus("docker.privileged")
	shot("06-executor-advanced")
	d.keys("ctrl+o")
	d.keys("enter")
	d.wantStep(stepServices)
	shot("07-services")
	d.keys("a")
	d.typ(scService)
	d.keys("enter")
	d.wantFocus("docker.services[0].alias")
	shot("08-service-form")
	d.typ("db")
	d.keys("enter")
	probeNow()
	shot("09-services-list")
	d.keys("enter")
	d.wantFocus("registries[0].method")
	shot("10-registries")
	d.keys("enter")
	d.typ(scUser)
	d.keys("enter")
	d.wantFocus("registries[0].password")
	d.typ(scPassword)
	probeNow()
	shot("11-registries-credentials")
	d.keys("enter")
	d.wantStep(stepReview) // Docker Hub, for postgres:16, is not asked

	shot("12-review")
	d.keys("end")
	shot("13-review-end")
	d.keys("w")
	d.wantFocus("save")
	shot("14-write-save")
	d.keys("enter")
	d.wantStep(stepDone)
	shot("15-done")
	golden.Assert(t, "testdata/TestStepScreensGolden/16-after-exit.golden", []byte(ansi.Strip(d.m.finalText())))
}

// shot compares the screen with testdata/<test>/<name>.golden, after
// checking that no line is wider than the 80 columns it is drawn at.
func (d *driver) shot(test, name string) string {
	d.t.Helper()
	v := d.view()
	for i, l := range strings.Split(v, "\n") {
		if w := ansi.StringWidth(l); w > 80 {
			d.t.Errorf("%s: line %d is %d wide", name, i, w)
		}
	}
	golden.Assert(d.t, "testdata/"+test+"/"+name+".golden", []byte(v+"\n"))
	return v
}
