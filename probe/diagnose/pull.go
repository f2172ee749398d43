package diagnose

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/daemon"
	"github.com/runnerup/runnerup/probe/suite"
)

// ClassifyDaemonError reads a daemon's pull error as the job-log matcher
// reads a job log line (the runner prints the daemon's words into the
// log), so the daemon's own verdict gets a catalogue id: "" when none fits.
func ClassifyDaemonError(text string) string {
	lr := MatchLog(text)
	if len(lr.Matches) == 0 {
		return ""
	}
	return lr.Matches[0].ID
}

// EnablePull makes a plan's daemon pull every image itself with the
// runner's X-Registry-Auth (`probe … --pull`). It downloads layers and
// leaves the images in the daemon's store.
func EnablePull(p *suite.Plan) {
	p.Pull = &daemon.PullOptions{Classify: ClassifyDaemonError}
}

// Job-log lines that name the job image and its services
// (executors/docker/docker.go: "Using Docker executor with image X ...",
// "Starting service X:Y..." / older "Starting service X:Y ...").
var (
	logJobImageRE = regexp.MustCompile(`Using Docker executor with image (\S+) \.\.\.`)
	logServiceRE  = regexp.MustCompile(`Starting service (\S+?) ?\.\.\.`)
)

// jobFromLog reads the job image and services a job log names.
func jobFromLog(log string) (images, services []string) {
	for _, l := range strings.Split(log, "\n") {
		l = cleanLine(l)
		if m := logJobImageRE.FindStringSubmatch(l); m != nil && !slices.Contains(images, m[1]) {
			images = append(images, m[1])
		}
		if m := logServiceRE.FindStringSubmatch(l); m != nil && !slices.Contains(services, m[1]) {
			services = append(services, m[1])
		}
	}
	return images, services
}

// extendPlan adds what diagnose asks of the daemon beyond the pull chain:
// the daemon's own pull (--pull), the installed runner's Docker API and
// helper image, and docker:NN job images against docker:dind services
// (from the runner entry and the job log).
func (d *diagnosis) extendPlan(p *suite.Plan) {
	if d.opts.Pull {
		EnablePull(p)
		p.Pull.CertsDir = d.opts.CertsDir
		if d.opts.Platform != nil {
			p.Pull.Platform = d.opts.Platform.String()
		}
	}
	ro := daemon.RunnerOptions{}
	if d.opts.RunnerBinary != nil {
		ro = *d.opts.RunnerBinary
	}
	ro.Helpers = []daemon.HelperSpec{{Windows: d.runner.Executor == "docker-windows", Image: d.runner.HelperImage, Flavor: d.runner.HelperImageFlavor, Shell: d.runner.Shell}}
	ro.Registry = p.Registry
	ro.Registry.Platform = nil
	p.Runner = &ro

	job := daemon.Job{Runner: d.runner.Name, Services: d.runner.Services}
	job.Images = append(job.Images, d.opts.Image)
	if d.runner.Image != "" && d.runner.Image != d.opts.Image {
		job.Images = append(job.Images, d.runner.Image)
	}
	if d.opts.Log != nil {
		imgs, svcs := jobFromLog(*d.opts.Log)
		for _, i := range imgs {
			if !slices.Contains(job.Images, i) {
				job.Images = append(job.Images, i)
			}
		}
		for _, s := range svcs {
			if !slices.Contains(job.Services, s) {
				job.Services = append(job.Services, s)
			}
		}
	}
	p.Daemon.Jobs = []daemon.Job{job}
}

// daemonSide adds the daemon-side findings to the chain: a Docker client
// below the daemon's minimum API, a helper image the runner cannot have,
// and the daemon's own pull, whose answer wins over runnerup's HTTP probe.
func (d *diagnosis) daemonSide(byID map[string]probe.Result, base fixContext, rep *Report, fs []finding) []finding {
	var extra []finding
	for _, id := range []string{daemon.IDRunnerAPI, daemon.IDDindAPI} {
		r, ok := byID[id]
		if !ok || r.Status != probe.Fail {
			continue
		}
		fc := base
		fc.Hint = r.Hint
		f := finding{id: r.Finding, evidence: []string{evidenceOf(r)}, fc: fc}
		if f.id == "" {
			f.id, f.summary, f.stage, f.staged = "unclassified", r.Title+": "+r.Detail, StageDaemon, true
		}
		extra = append(extra, f)
	}
	if r, ok := byID[daemon.IDHelperImage]; ok && r.Status == probe.Fail {
		fc := base
		fc.Hint = r.Hint
		// The runner needs its helper whatever the job image's pull
		// policy: listed before the job image's own problems.
		extra = append(extra, finding{id: daemon.CauseHelperImageMissing, evidence: []string{evidenceOf(r)}, fc: fc, stage: StagePolicy, staged: true})
	}
	if len(extra) > 0 {
		fs = append(fs, extra...)
		slices.SortStableFunc(fs, func(a, b finding) int { return int(a.chainStage()) - int(b.chainStage()) })
		fs = mergeSame(fs)
	}

	pr, ok := byID[daemon.PullID(d.opts.Image)]
	v, isVerdict := pr.Data.(daemon.PullVerdict)
	if !ok || !isVerdict {
		if ok && pr.Status == probe.Fail {
			// The pull could not finish (deadline): say so, decide nothing.
			rep.Notes = append(rep.Notes, "the daemon's own pull did not finish: "+pr.Detail)
		}
		return fs
	}
	v.DaemonError, v.Difference = d.red.s(v.DaemonError), d.red.s(v.Difference)
	rep.Pull = &v
	if v.Pulled {
		// The daemon's answer wins: what only the HTTP probe saw does not
		// stop the pull.
		kept := fs[:0:0]
		for _, f := range fs {
			if !f.registry {
				kept = append(kept, f)
				continue
			}
			rep.Notes = append(rep.Notes, fmt.Sprintf("runnerup's HTTP probe found %s (%s), but the daemon pulled the image and its answer wins: %s",
				f.id, strings.Join(f.evidence, "; "), v.Difference))
		}
		return kept
	}
	cause := v.Cause
	if cause == "" {
		cause = "unclassified"
	}
	evidence := []string{fmt.Sprintf("the daemon itself refused the pull (%s): %s", pr.ID, v.DaemonError),
		"runnerup's HTTP probe " + v.HTTP}
	if !v.Agree {
		evidence = append(evidence, "the daemon's answer wins; the difference: "+v.Difference)
	}
	i := slices.IndexFunc(fs, func(f finding) bool { return f.id == cause || slices.Contains(f.covers, cause) })
	var f finding
	if i >= 0 {
		f = fs[i]
		f.evidence = append(evidence, f.evidence...)
		fs = slices.Delete(fs, i, i+1)
	} else {
		f = finding{id: cause, evidence: evidence, fc: base, registry: true}
		if cause == "unclassified" {
			f.summary = "the daemon refused the pull: " + v.DaemonError
			f.stage, f.staged = StageUnknown, true
		}
	}
	// First: the daemon's verdict is the one the job meets.
	return append([]finding{f}, fs...)
}

func fixAPITooOld(fc fixContext) []string {
	return withHint(fc,
		"upgrade the Docker client that is too old: gitlab-runner 17.5 or newer (its client speaks API 1.44), or a job image docker:25 or newer (the docker CLI 25.0 speaks 1.44) next to a docker:29-dind service",
		"or pin the client's API version: DOCKER_API_VERSION=1.44 in the job's variables (docker CLI) or in the gitlab-runner service's environment (runner 14.10 or newer)",
		"or let the daemon accept older clients (Docker 29, deprecated): DOCKER_MIN_API_VERSION=1.24 in dockerd's environment or the dind service's variables, or \"min-api-version\": \"1.24\" in /etc/docker/daemon.json")
}
