package diagnose

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/runnerup/runnerup/internal/imageref"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/credentials"
	"github.com/runnerup/runnerup/probe/daemon"
	"github.com/runnerup/runnerup/probe/registry"
)

// authSymptoms are the registry's answers that a credential problem
// upstream explains (pull-failures §D): the credential finding becomes the
// cause and the registry's answer its evidence.
var authSymptoms = []string{
	registry.CauseMissingCredentials, registry.CauseAuthRejected, registry.CauseTokenRejected, registry.CauseAccessDenied,
}

// finding is a cause in the making.
type finding struct {
	id       string
	summary  string // "" = the catalogue's
	evidence []string
	covers   []string // symptom ids folded into this one
	fc       fixContext
	registry bool // only matters when the runner pulls from the registry
	// stage overrides the catalogue's (for "unclassified", which has
	// none of its own) when staged.
	stage  Stage
	staged bool
}

func (f finding) chainStage() Stage {
	if f.staged {
		return f.stage
	}
	return entry(f.id).Stage
}

// stageOfCheck places a check without a cause id in the chain.
func stageOfCheck(id string) Stage {
	switch {
	case strings.HasPrefix(id, "daemon."):
		return StageDaemon
	case strings.HasSuffix(id, ".pull-policy"):
		return StagePolicy
	case strings.HasPrefix(id, "credentials.") || strings.HasPrefix(id, "helper."):
		return StageCredentials
	case strings.HasSuffix(id, ".tls"):
		return StageTransport
	case strings.HasSuffix(id, ".auth"):
		return StageAuth
	case strings.HasSuffix(id, ".manifest"):
		return StageManifest
	case strings.HasSuffix(id, ".platform"):
		return StagePlatform
	}
	return StageUnknown
}

func evidenceOf(r probe.Result) string {
	s := fmt.Sprintf("%s (%s): %s", r.ID, r.Status, r.Detail)
	return strings.TrimSuffix(s, ": ")
}

// analyse turns the finished checks into the report: findings from every
// failed check, the credential explanation folded over the registry's
// answer, the pull policy deciding what is a cause and what latent.
func (d *diagnosis) analyse(results []probe.Result) *Report {
	byID := make(map[string]probe.Result, len(results))
	for _, r := range results {
		byID[r.ID] = r
	}
	rep := &Report{Image: d.opts.Image, Registry: d.im.host, Runner: d.runner.Name, Daemon: d.daemonHost(),
		Checks: results, CredentialSource: "none", Causes: []Cause{}}
	if rep.Registry == "" {
		rep.Registry = "(unparsable reference)"
	}
	base := d.baseFix(byID)

	var res *credentials.Resolution
	var credR probe.Result
	for _, r := range results {
		if strings.HasPrefix(r.ID, "credentials.") {
			credR = r
			if x, ok := r.Data.(credentials.Resolution); ok {
				res = &x
			}
			break
		}
	}
	if res != nil {
		d.red.addCredential(res.Credential.Username, res.Credential.Password, res.Credential.IdentityToken)
		rep.Credentials = d.credentialReport(*res, base.GitLab)
		if res.Found {
			rep.CredentialSource = res.Source
			base.User, base.Source = res.Credential.Username, res.Source
		}
	}

	if base.User == "" && base.Key != "" {
		base.User = d.rawUser(base.Key, base.Host)
	}
	var fs []finding
	fs = append(fs, d.daemonFindings(byID, base, rep)...)
	var pol *policyData
	if pr, ok := byID[PolicyCheckID(d.im.ref)]; ok {
		if pd, ok := pr.Data.(policyData); ok {
			pol = &pd
			p := pd.report
			rep.Policy = &p
			base.Policies = p.Effective
			if pd.cause != "" {
				fc := base
				fc.Hint = pr.Hint
				fs = append(fs, finding{id: pd.cause, evidence: []string{evidenceOf(pr)}, fc: fc, stage: StagePolicy, staged: true})
			}
		}
	}
	regFs := d.registryFindings(results, base, rep)
	credFs := d.credentialFindings(res, credR, byID, base)

	// Fold the registry's auth answer into the credential problem that
	// explains it; otherwise say which credential was sent.
	symptom := slices.IndexFunc(regFs, func(f finding) bool { return slices.Contains(authSymptoms, f.id) })
	authStatus := byID[registry.AuthID(d.im.host)].Status
	var kept []finding
	for _, f := range credFs {
		fatal := f.id == "credential-helper-path"
		if symptom >= 0 || fatal || (credR.Status == probe.Fail && authStatus != probe.Pass) {
			kept = append(kept, f)
			continue
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s (%s) does not stop this image: %s", f.id, entry(f.id).Summary, strings.Join(f.evidence, "; ")))
	}
	if symptom >= 0 {
		s := regFs[symptom]
		if len(kept) > 0 {
			kept[0].evidence = append(kept[0].evidence, s.evidence...)
			kept[0].covers = append(kept[0].covers, s.id)
			regFs = slices.Delete(regFs, symptom, symptom+1)
		} else {
			regFs[symptom].evidence = append(regFs[symptom].evidence, d.credentialEvidence(res, base.GitLab)...)
		}
	}
	if symptom >= 0 && len(kept) == 0 {
		if f, ok := d.tokenExpired(res, regFs[symptom], base); ok {
			kept = append(kept, f)
			regFs = slices.Delete(regFs, symptom, symptom+1)
		}
	}
	for i := range kept {
		kept[i].registry = true
	}
	if strings.Contains(d.im.repo, "gitlab-runner-helper") && len(regFs) > 0 {
		regFs = append([]finding{{id: "helper-image-missing", fc: base, registry: true, covers: []string{regFs[0].id},
			stage: regFs[0].chainStage(), staged: true,
			evidence: append([]string{"the image is GitLab Runner's helper image, which the runner loads from the gitlab-runner-helper-images bundle before it pulls"}, regFs[0].evidence...)}}, regFs...)
	}
	fs = append(fs, kept...)
	fs = append(fs, d.proxyMissing(regFs, base)...)
	fs = append(fs, regFs...)

	slices.SortStableFunc(fs, func(a, b finding) int { return int(a.chainStage()) - int(b.chainStage()) })
	fs = mergeSame(fs)
	fs = d.daemonSide(byID, base, rep, fs)

	// A policy that could not be evaluated (not allowed, unknown) has no
	// effective list: the registry findings stay causes.
	latent := pol != nil && (pol.report.UsesLocal || (len(pol.report.Effective) > 0 && !pol.report.Pulls))
	for _, f := range fs {
		c := f.cause()
		if latent && f.registry {
			rep.Latent = append(rep.Latent, c)
			continue
		}
		rep.Causes = append(rep.Causes, c)
	}
	if len(rep.Latent) > 0 {
		why := "the runner uses the daemon's local copy of " + d.im.ref
		if !pol.report.Pulls {
			why = "the runner never pulls (pull_policy never)"
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s, so these registry problems do not stop this job, but they would on a host without the image: %s",
			why, strings.Join(causeIDs(rep.Latent), ", ")))
	}
	d.addNotes(rep, byID)
	rep.OK = len(rep.Causes) == 0
	return rep
}

func causeIDs(cs []Cause) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

// mergeSame joins findings with the same id (two sources both dropped for
// a missing helper, say).
func mergeSame(fs []finding) []finding {
	var out []finding
	for _, f := range fs {
		if i := slices.IndexFunc(out, func(o finding) bool { return o.id == f.id && f.id != "unclassified" }); i >= 0 {
			for _, e := range f.evidence {
				if !slices.Contains(out[i].evidence, e) {
					out[i].evidence = append(out[i].evidence, e)
				}
			}
			out[i].covers = append(out[i].covers, f.covers...)
			out[i].registry = out[i].registry && f.registry
			continue
		}
		out = append(out, f)
	}
	return out
}

// cause renders a finding with the catalogue's summary and fix.
func (f finding) cause() Cause {
	e := entry(f.id)
	c := Cause{ID: e.ID, Summary: e.Summary, Evidence: f.evidence, From: FromLive, covers: f.covers}
	if f.summary != "" {
		c.Summary = f.summary
	}
	if e.ID == "unclassified" && f.id != "unclassified" {
		c.ID = f.id // a cause id from a check that the table does not list
	}
	for _, s := range e.Fix(f.fc) {
		if s != "" && !slices.Contains(c.Fix, s) {
			c.Fix = append(c.Fix, s)
		}
	}
	if c.Evidence == nil {
		c.Evidence = []string{}
	}
	if c.Fix == nil {
		c.Fix = []string{}
	}
	return c
}

// baseFix is the context every fix shares.
func (d *diagnosis) baseFix(byID map[string]probe.Result) fixContext {
	fc := fixContext{
		Image: d.opts.Image, Ref: d.im.ref, Host: d.im.host, Repo: d.im.repo,
		ConfigTOML: d.runner.ConfigPath, RunnerName: d.runner.Name, AuthConfigFrom: d.raw.authFrom,
		CertsDir: d.opts.CertsDir, DaemonHost: d.daemonHost(), GitLab: onGitLabRegistry(d.im.host, d.runner.URL),
	}
	if d.im.host != "" {
		fc.Key = imageref.AuthKey(d.im.host)
	}
	fc.ConfigJSON = d.opts.ConfigJSONPath
	if fc.ConfigJSON == "" && d.opts.HomeDir != "" {
		fc.ConfigJSON = d.opts.HomeDir + "/.docker/config.json"
	}
	switch {
	case d.opts.Platform != nil:
		fc.Platform = d.opts.Platform.String()
	default:
		if p, ok := byID[daemon.IDPlatform].Data.(probe.Platform); ok {
			fc.Platform = p.String()
		}
	}
	return fc
}

// daemonFindings: reaching the daemon, its permission and its disk.
func (d *diagnosis) daemonFindings(byID map[string]probe.Result, base fixContext, rep *Report) []finding {
	var out []finding
	reach := byID[daemon.IDReachable]
	host := d.daemonHost()
	if reach.Status == probe.Fail {
		perm := byID[daemon.IDPermission]
		f := finding{evidence: []string{evidenceOf(reach)}, fc: base}
		switch {
		case perm.Status == probe.Fail:
			f.id = "daemon-permission-denied"
			f.evidence = append(f.evidence, evidenceOf(perm))
			f.fc.Hint = perm.Hint
		case strings.HasPrefix(host, "tcp://docker:2375"):
			f.id = "dind-tls-mismatch"
		case strings.HasPrefix(host, "tcp://docker:") && strings.Contains(reach.Detail, "no such host"):
			f.id = "dind-host-unresolvable"
		default:
			f.id = "daemon-unreachable"
		}
		out = append(out, f)
	}
	for _, id := range []string{daemon.IDVersion, daemon.IDPlatform, daemon.IDRegistries, daemon.IDStorage, daemon.IDProxy} {
		r, ok := byID[id]
		if !ok || reach.Status != probe.Pass {
			continue
		}
		switch {
		case id == daemon.IDStorage && r.Status == probe.Fail:
			fc := base
			fc.Hint = r.Hint
			out = append(out, finding{id: "disk-full", evidence: []string{evidenceOf(r)}, fc: fc})
		case id == daemon.IDStorage && r.Status == probe.Warn:
			rep.Notes = append(rep.Notes, "daemon storage: "+r.Detail)
		case r.Status == probe.Fail:
			fc := base
			fc.Hint = r.Hint
			out = append(out, finding{id: "unclassified", summary: r.Title + ": " + r.Detail, evidence: []string{evidenceOf(r)}, fc: fc, stage: StageDaemon, staged: true})
		}
	}
	return out
}

// schema1Refused: Docker 26–28.1 refuses schema 1 by default, 28.2+ has
// no code for it; older daemons still pull it.
func (d *diagnosis) schema1Refused() bool {
	major, _, _ := strings.Cut(d.daemonVersion, ".")
	n, err := strconv.Atoi(major)
	return err == nil && n >= 26
}

// registryFindings: every failed registry or image check, by the cause
// id it recorded.
func (d *diagnosis) registryFindings(results []probe.Result, base fixContext, rep *Report) []finding {
	var out []finding
	for _, r := range results {
		if (!strings.HasPrefix(r.ID, "registry.") && !strings.HasPrefix(r.ID, "image.")) || r.ID == PolicyCheckID(d.im.ref) || r.ID == daemon.PullID(d.im.ref) {
			continue
		}
		cause := registry.Cause(r)
		switch r.Status {
		case probe.Fail:
		case probe.Warn:
			if cause == registry.CauseWrongSingleArch || (cause == registry.CauseSchema1 && d.schema1Refused()) {
				break
			}
			if cause != "" {
				rep.Notes = append(rep.Notes, fmt.Sprintf("%s: %s", r.ID, r.Detail))
			}
			continue
		default:
			continue
		}
		if cause == "" {
			cause = "unclassified"
		}
		fc := base
		fc.Hint = r.Hint
		f := finding{id: cause, evidence: []string{evidenceOf(r)}, fc: fc, registry: cause != registry.CauseInvalidReference}
		if fl, ok := r.Data.(registry.Failure); ok {
			f.fc.Suggestions = fl.Suggestions
		}
		if cause == "unclassified" {
			f.summary = r.Title + ": " + r.Detail
			f.stage, f.staged = stageOfCheck(r.ID), true
		}
		out = append(out, f)
	}
	return out
}

// proxyMissing adds daemon-proxy-missing before a DNS or timeout failure
// when a proxy is set for the runner (or this shell) but dockerd has none.
func (d *diagnosis) proxyMissing(regFs []finding, base fixContext) []finding {
	if !d.proxy.Known || !d.proxy.none() {
		return nil
	}
	i := slices.IndexFunc(regFs, func(f finding) bool {
		return f.id == registry.CauseDNS || f.id == registry.CauseNetworkTimeout
	})
	if i < 0 {
		return nil
	}
	p := envProxy(d.runner.Environment, d.opts.LookupEnv)
	if p == "" {
		return nil
	}
	return []finding{{id: "daemon-proxy-missing", fc: base, registry: true, evidence: []string{
		fmt.Sprintf("a proxy is configured for the runner or this shell (%s), but GET /info shows dockerd has none: it reaches %s directly", p, base.Host),
		regFs[i].evidence[0],
	}}}
}

// ecrHost is Amazon ECR's registry host pattern (amazon-ecr-credential-
// helper ecr-login/api/client.go).
var ecrHost = regexp.MustCompile(`^\d{12}\.dkr[.-]ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`)

// tokenExpired: an ECR registry denying a static `auth` (a pasted
// `aws ecr get-login-password`, valid 12 h) rather than a helper's.
func (d *diagnosis) tokenExpired(res *credentials.Resolution, symptom finding, base fixContext) (finding, bool) {
	if res == nil || !res.Found || !ecrHost.MatchString(hostOnly(d.im.host)) || symptom.id == registry.CauseMissingCredentials {
		return finding{}, false
	}
	i := slices.IndexFunc(res.Sources, func(s credentials.SourceReport) bool { return s.Status == credentials.StatusUsed })
	raw := d.sourceRaw(i)
	if _, inline := raw.Auths[res.Key]; !inline || raw.CredHelpers[res.Key] != "" || raw.CredsStore != "" {
		return finding{}, false
	}
	fc := base
	fc.SourceName = res.Source
	return finding{id: "registry-token-expired", fc: fc, covers: []string{symptom.id}, evidence: append([]string{
		fmt.Sprintf("%s is an ECR registry and the runner sends a static auth from %s (key %q): ECR tokens expire after 12 hours", d.im.host, res.Source, res.Key),
	}, symptom.evidence...)}, true
}

// addNotes adds what the reader should know but is not a cause.
func (d *diagnosis) addNotes(rep *Report, byID map[string]probe.Result) {
	switch e := d.runner.Executor; {
	case e == "" || strings.HasPrefix(e, "docker"):
	default:
		rep.Notes = append(rep.Notes, fmt.Sprintf("runner %q uses the %s executor: this diagnosis follows the docker executor's pull (the kubernetes executor pulls through the kubelet, the shell executor pulls nothing)", d.runner.Name, e))
	}
	if v, ok := d.opts.LookupEnv("DOCKER_CONFIG"); ok && v != "" {
		rep.Notes = append(rep.Notes, fmt.Sprintf("DOCKER_CONFIG=%s is set here, but GitLab Runner ignores DOCKER_CONFIG: it reads $HOME/.docker/config.json of the user it runs as", v))
	}
	if !d.proxy.Known && byID[daemon.IDReachable].Status == probe.Pass {
		rep.Notes = append(rep.Notes, "the daemon's proxy settings could not be read: the registry was probed directly")
	}
	if h := d.daemonHost(); strings.HasPrefix(h, "tcp://") || strings.HasPrefix(h, "ssh://") {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the daemon at %s may be another machine: the registry probes ran from this host, whose DNS, routes and certs.d may differ from the daemon's", h))
	}
}
