package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/image"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/registry"
)

// Check ids of the compatibility checks.
const (
	// IDRunnerAPI compares the installed gitlab-runner's Docker client API
	// with the daemon's accepted range.
	IDRunnerAPI = "daemon.runner-api"
	// IDDindAPI compares docker:NN job images with the docker:MM-dind
	// services they talk to.
	IDDindAPI = "daemon.dind-api"
	// IDHelperImage names and probes the helper image the runner uses.
	IDHelperImage = "runner.helper-image"
	// CauseHelperImageMissing is its catalogue id when it cannot be had.
	CauseHelperImageMissing = "helper-image-missing"
)

// helperTimeout bounds the helper image check: it walks a registry chain
// (TLS, challenge, manifest, platform) of its own.
const helperTimeout = time.Minute

// compatChecks are the checks of the runner's Docker clients against the
// daemons they talk to.
func (s *session) compatChecks() []probe.Check {
	var checks []probe.Check
	if s.opts.Runner != nil {
		checks = append(checks,
			probe.Check{ID: IDRunnerAPI, Title: "GitLab Runner's Docker API against the daemon's", Needs: []string{IDVersion}, Run: s.checkRunnerAPI})
		specs := s.opts.Runner.Helpers
		if len(specs) == 0 {
			specs = []HelperSpec{{}}
		}
		for _, spec := range specs {
			title := "GitLab Runner's helper image"
			if len(specs) > 1 && len(spec.Runners) > 0 {
				title += " for " + runnersLabel(spec.Runners)
			}
			checks = append(checks, probe.Check{ID: HelperCheckID(spec, len(specs) == 1), Title: title, Needs: []string{IDPlatform, IDRegistries}, Timeout: helperTimeout,
				Run: func(ctx context.Context, deps probe.Deps) probe.Result { return s.checkHelperImage(ctx, deps, spec) }})
		}
	}
	if dindPairs(s.opts.Jobs) {
		checks = append(checks, probe.Check{ID: IDDindAPI, Title: "job images' Docker API against their docker:dind services", Run: s.checkDindAPI})
	}
	return checks
}

// JobOf splits the images of a plan that does not say which is a service:
// docker:*-dind images are taken as services, every other as a job image.
func JobOf(runner string, images []string) Job {
	j := Job{Runner: runner}
	for _, img := range images {
		if d, ok := ParseDockerImage(img); ok && d.DinD {
			j.Services = append(j.Services, img)
		} else {
			j.Images = append(j.Images, img)
		}
	}
	return j
}

// dindPairs reports whether some job has a docker client image and a
// docker:dind service.
func dindPairs(jobs []Job) bool {
	for _, j := range jobs {
		client, dind := false, false
		for _, img := range j.Images {
			_, ok := ParseDockerImage(img)
			client = client || ok
		}
		for _, svc := range j.Services {
			d, ok := ParseDockerImage(svc)
			dind = dind || ok && d.DinD
		}
		if client && dind {
			return true
		}
	}
	return false
}

// checkDindAPI: a docker:NN job image's CLI against a docker:MM-dind
// service's minimum API. Docker 29 services refuse CLIs older than 25.
func (s *session) checkDindAPI(_ context.Context, _ probe.Deps) probe.Result {
	var bad, good []string
	var fixImage string
	for _, j := range s.opts.Jobs {
		for _, img := range j.Images {
			c, ok := ParseDockerImage(img)
			if !ok {
				continue
			}
			api, ok := c.ClientAPI()
			if !ok {
				continue
			}
			for _, svc := range j.Services {
				d, ok := ParseDockerImage(svc)
				if !ok || !d.DinD {
					continue
				}
				min := d.MinAPI()
				who := ""
				if j.Runner != "" {
					who = fmt.Sprintf(" (runner %q)", j.Runner)
				}
				if apiLess(api, min) {
					bad = append(bad, fmt.Sprintf("%s%s: its docker CLI (%s) speaks API up to %s, the %s service (%s) accepts %s and newer",
						c.Ref, who, c.Describe(), api, d.Ref, d.Describe(), min))
					if d.Latest {
						fixImage = "docker:29"
					} else {
						fixImage = fmt.Sprintf("docker:%d", d.Version.major)
					}
					continue
				}
				good = append(good, fmt.Sprintf("%s (API %s) with %s (minimum %s)", c.Ref, api, d.Ref, min))
			}
		}
	}
	if len(bad) == 0 {
		return probe.Passf("%s", strings.Join(good, "; "))
	}
	hint := fmt.Sprintf("use a job image as new as the service (image: %s, or any docker:25 or newer); or set DOCKER_API_VERSION=1.44 in the job's variables (its CLI then asks for 1.44 without negotiating); or start the service with the variable DOCKER_MIN_API_VERSION=1.24 (dockerd 29 accepts down to 1.24 then; deprecated)", fixImage)
	r := probe.Failf(hint, "%s: every docker command in the job fails with \"Error response from daemon: client version 1.NN is too old. Minimum supported API version is 1.44, please upgrade your client to a newer version\"", strings.Join(bad, "; "))
	r.Finding = CauseAPITooOld
	return r
}

// checkRunnerAPI: the installed runner's Docker client against the
// daemon's API range.
func (s *session) checkRunnerAPI(ctx context.Context, deps probe.Deps) probe.Result {
	ri := s.runnerInfo(ctx)
	if !ri.Found {
		return probe.Skipf("%v", ri.Err)
	}
	if ri.Err != nil {
		return probe.Warnf("check that the runner binary runs for the service's user", "the runner's version could not be read: %v", ri.Err)
	}
	ra, ok := runnerAPI(ri.Version, s.opts.Runner.Environment)
	if !ok {
		return probe.Warnf("", "gitlab-runner %s (%s): version not understood", ri.Version, ri.Path)
	}
	vf, _ := probe.DataOf[VersionFacts](deps, IDVersion)
	runner := fmt.Sprintf("gitlab-runner %s (%s, found through %s)", ri.Version, ri.Path, ri.Where)
	speaks := fmt.Sprintf("speaks Docker API up to %s (%s)", ra.API, ra.Client)
	if ra.Fixed {
		speaks = fmt.Sprintf("always speaks Docker API %s (%s)", ra.API, ra.Client)
	}
	daemonRange := "accepts API " + orUnknown(vf.MinAPIVersion) + " to " + orUnknown(vf.APIVersion)
	if vf.MinAPIVersion == "" {
		daemonRange = "accepts API up to " + orUnknown(vf.APIVersion) + " (its minimum is not reported)"
	}
	engine := "Docker " + orUnknown(vf.Version)
	switch {
	case vf.MinAPIVersion != "" && apiLess(ra.API, vf.MinAPIVersion):
		fix := []string{"upgrade gitlab-runner to 17.5 or newer (its client speaks API 1.44 and negotiates)"}
		if !ra.Fixed || strings.Contains(ra.Client, "DOCKER_API_VERSION") {
			fix = append(fix, fmt.Sprintf("or set DOCKER_API_VERSION=%s in the service's environment (`systemctl edit gitlab-runner`: [Service] Environment=DOCKER_API_VERSION=%s, then restart it; the old client then sends %s without negotiating)", vf.MinAPIVersion, vf.MinAPIVersion, vf.MinAPIVersion))
		}
		fix = append(fix, "or let the daemon accept older clients: DOCKER_MIN_API_VERSION=1.24 in dockerd's environment or \"min-api-version\": \"1.24\" in /etc/docker/daemon.json, then restart docker (deprecated; Docker 29 only)")
		r := probe.Failf(strings.Join(fix, "; "),
			"%s %s; the daemon (%s) %s: every job fails with \"Error response from daemon: client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version\"",
			runner, speaks, engine, daemonRange, ra.API, vf.MinAPIVersion)
		r.Finding = CauseAPITooOld
		return r
	case ra.Fixed && vf.APIVersion != "" && apiLess(vf.APIVersion, ra.API):
		return probe.Failf("unset DOCKER_API_VERSION in the service's environment, or set it to the daemon's API version",
			"%s %s; the daemon (%s) %s: the daemon answers \"client version %s is too new. Maximum supported API version is %s\"", runner, speaks, engine, daemonRange, ra.API, vf.APIVersion)
	case ra.MinNegotiate != "" && vf.APIVersion != "" && apiLess(vf.APIVersion, ra.MinNegotiate):
		return probe.Failf("upgrade the Docker Engine to 19.03 or newer, or use gitlab-runner 19.1 or older with this daemon",
			"%s %s and refuses daemons below API %s; the daemon (%s) %s", runner, speaks, ra.MinNegotiate, engine, daemonRange)
	}
	return probe.Passf("%s %s; the daemon (%s) %s", runner, speaks, engine, daemonRange)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// HelperVerdict is runner.helper-image's Data.
type HelperVerdict struct {
	Ref           string `json:"ref"`
	RunnerVersion string `json:"runner_version"`
	// Override: [runners.docker] helper_image is set; the runner pulls it
	// like a job image.
	Override bool `json:"override,omitempty"`
	// From is how the runner gets it: "local" (in the daemon's store),
	// "bundle" (a prebuilt archive it loads), "registry", or "" when it
	// cannot.
	From string `json:"from"`
	// Bundle is the archive found, if any.
	Bundle string `json:"bundle,omitempty"`
	// Failure is the registry check's failure when From is "".
	Failure *registry.Failure `json:"-"`
}

// ImageInspector is the call that says whether an image is local;
// Engine satisfies it.
type ImageInspector interface {
	ImageInspect(ctx context.Context, ref string) (image.InspectResponse, error)
}

// runnersLabel is `runner "a"` or `runners "a", "b"`.
func runnersLabel(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	if len(q) == 1 {
		return "runner " + q[0]
	}
	return "runners " + strings.Join(q, ", ")
}

// checkHelperImage names the helper image the runner will use for the
// entries of spec and checks that it can have it, in the runner's order:
// the daemon's store, the bundled archive, then a pull
// (executors/docker/docker.go getHelperImage). The image follows the
// daemon's OS (helperimage.Get takes the daemon's OSType).
func (s *session) checkHelperImage(ctx context.Context, deps probe.Deps, spec HelperSpec) probe.Result {
	ri := s.runnerInfo(ctx)
	if !ri.Found {
		return probe.Skipf("%v", ri.Err)
	}
	if ri.Err != nil {
		return probe.Skipf("the helper image cannot be named: %v", ri.Err)
	}
	plat, _ := probe.DataOf[probe.Platform](deps, IDPlatform)
	for_ := ""
	if len(spec.Runners) > 0 {
		for_ = " for " + runnersLabel(spec.Runners)
	}
	if spec.Windows && plat.OS != "windows" {
		// The Windows tag needs the Windows daemon's kernel build.
		rev, _ := helperRevision(ri)
		who := strings.TrimPrefix(for_, " for ")
		if who == "" {
			who = "the runner"
		}
		return probe.Skipf("%s uses the docker-windows executor: its jobs run on a Windows daemon with a servercore helper image (ARCH-%s-servercoreVERSION, VERSION from that daemon's Windows build), and the daemon probed here runs %s; probe that runner's Windows host instead",
			who, orUnknown(rev), orUnknown(plat.OS))
	}
	info, err := s.systemInfo(ctx)
	if err != nil {
		return apiFailure(err)
	}
	v := HelperVerdict{Ref: spec.Image, RunnerVersion: ri.Version, Override: spec.Image != ""}
	var bundles []string
	switch {
	case v.Override:
	case plat.OS == "windows":
		tag, prebuilt, why := WindowsHelper(ri, info.Architecture, info.KernelVersion)
		if why != "" {
			return probe.Skipf("the Windows helper image of gitlab-runner %s%s cannot be named: %s", ri.Version, for_, why)
		}
		v.Ref, bundles = GitLabHelperImage+":"+tag, bundleFiles(prebuilt)
	default:
		tag, ok := HelperTag(ri, info.Architecture, spec.Flavor, spec.Shell)
		if !ok {
			return probe.Skipf("the helper image of gitlab-runner %s on %s cannot be named", ri.Version, info.Architecture)
		}
		v.Ref, bundles = GitLabHelperImage+":"+tag, helperBundleNames(info.Architecture, spec.Flavor, spec.Shell)
	}
	o := *s.opts.Runner
	who := fmt.Sprintf("gitlab-runner %s%s uses %s", ri.Version, for_, v.Ref)
	if v.Override {
		who = fmt.Sprintf("gitlab-runner %s%s uses %s ([runners.docker] helper_image; pulled like a job image)", ri.Version, for_, v.Ref)
	} else {
		api, _ := s.client()
		if in, ok := api.(ImageInspector); ok {
			if _, err := in.ImageInspect(ctx, v.Ref); err == nil {
				v.From = "local"
				r := probe.Passf("%s: it is in the daemon's store, so the runner uses it without pulling", who)
				r.Data = v
				return r
			} else if !cerrdefs.IsNotFound(err) && ctx.Err() != nil {
				// The deadline, not an answer: the other ways are not
				// worth trying without time left.
				return probe.Failf("", "%s: looking for it in the daemon's store: %v", who, err)
			}
		}
		dirs := o.BundleDirs
		if dirs == nil {
			dirs = bundleDirs(ri.Path)
		}
		for _, dir := range dirs {
			for _, name := range bundles {
				p := filepath.Clean(filepath.Join(dir, name))
				if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
					v.From, v.Bundle = "bundle", p
					r := probe.Passf("%s: not in the daemon's store yet; the runner loads it from %s (gitlab-runner-helper-images) before it would pull", who, p)
					r.Data = v
					return r
				}
			}
		}
		who += fmt.Sprintf(": not in the daemon's store and no bundled archive in %s, so the runner pulls it", strings.Join(dirs, ", "))
	}
	failed, detail := s.probeHelper(ctx, deps, v.Ref, plat)
	if failed == nil {
		v.From = "registry"
		r := probe.Passf("%s; %s", who, detail)
		r.Data = v
		return r
	}
	v.Failure = failed
	hint := "install the gitlab-runner-helper-images package (it bundles the helper images), mirror " + v.Ref + " and set [runners.docker] helper_image to the mirror, or allow the daemon to reach registry.gitlab.com"
	if v.Override {
		hint = "push " + v.Ref + " to that registry (or correct [runners.docker] helper_image)"
	}
	r := probe.Failf(hint, "%s; %s", who, detail)
	r.Finding = CauseHelperImageMissing
	r.Data = v
	return r
}

// probeHelper runs the registry and image checks for ref, as for any
// image, anonymously, with the daemon's insecure registries and platform.
// It returns the first failure (nil: all passed) and a summary.
func (s *session) probeHelper(ctx context.Context, deps probe.Deps, ref string, plat probe.Platform) (*registry.Failure, string) {
	regs, _ := probe.DataOf[probe.DaemonRegistries](deps, IDRegistries)
	ropts := s.opts.Runner.Registry
	ropts.CredentialsCheck, ropts.CredentialFrom = nil, nil
	ropts.Insecure = func(host string) bool {
		insecure, _ := registry.InsecureFor(ctx, regs, host)
		return insecure
	}
	if plat.OS != "" {
		p := plat
		ropts.Platform = &p
	}
	timeout := helperTimeout / 5
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl) / 4
	}
	results, err := probe.Run(ctx, registry.Checks([]string{ref}, ropts), probe.Options{Timeout: timeout})
	if err != nil {
		return &registry.Failure{Ref: ref}, "probing it was interrupted: " + err.Error()
	}
	for _, r := range results {
		if r.Status != probe.Fail {
			continue
		}
		f := registry.Failure{Ref: ref}
		if x, ok := r.Data.(registry.Failure); ok {
			f = x
		}
		return &f, fmt.Sprintf("%s failed: %s", r.ID, r.Detail)
	}
	return nil, fmt.Sprintf("the registry serves it (%d checks passed)", len(results))
}
