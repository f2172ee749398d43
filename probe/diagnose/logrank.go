package diagnose

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// LogRunner is what a job log says about the runner that wrote it.
type LogRunner struct {
	Version  string `json:"version,omitempty"`
	Name     string `json:"name,omitempty"`
	SystemID string `json:"system_id,omitempty"`
	Executor string `json:"executor,omitempty"`
}

var (
	runningWithRE = regexp.MustCompile(`^Running with gitlab-(?:ci-multi-)?runner (\S+)`)
	// "on NAME SHORT-TOKEN, system ID: s_…" (the name may hold spaces).
	runnerOnRE = regexp.MustCompile(`^on (.+?) ([^\s,]+)(?:, system ID: (\S+))?$`)
	executorRE = regexp.MustCompile(`^(?:Preparing the "([^"]+)" executor|Using (\S+) executor)`)
	pullingRE  = regexp.MustCompile(`^Pulling docker image (\S+) \.\.\.`)
	// Registries whose credentials come from a cloud helper: ECR (any
	// account and region as the log writes them, also a CI variable or a
	// placeholder; FIPS; China), GCR, Artifact Registry, ACR.
	cloudRegistryRE = regexp.MustCompile(`\.dkr\.ecr(?:-fips)?\.\S+?\.amazonaws\.com|(?:^|[/."])(?:[a-z]+\.)?gcr\.io|-docker\.pkg\.dev|\.azurecr\.io`)
)

// managerExecutors run jobs on machines they create: the manager (the
// host running gitlab-runner) resolves credentials and runs helpers, the
// machines' daemons pull.
var managerExecutors = []string{"docker+machine", "docker-autoscaler", "docker-ssh+machine"}

// logFacts reads the runner's own header lines and pull lines.
type logFacts struct {
	runner LogRunner
	pulls  map[string]int // image → line of its "Pulling docker image"
}

func readFacts(lines []logLine) logFacts {
	f := logFacts{pulls: map[string]int{}}
	for _, l := range lines {
		t := l.text
		if m := runningWithRE.FindStringSubmatch(t); m != nil && f.runner.Version == "" {
			f.runner.Version = m[1]
		}
		if m := runnerOnRE.FindStringSubmatch(t); m != nil && f.runner.Name == "" && f.runner.Version != "" {
			f.runner.Name, f.runner.SystemID = m[1], m[3]
		}
		if m := executorRE.FindStringSubmatch(t); m != nil && f.runner.Executor == "" {
			f.runner.Executor = strings.ToLower(m[1] + m[2])
		}
		if m := pullingRE.FindStringSubmatch(t); m != nil {
			if _, ok := f.pulls[m[1]]; !ok {
				f.pulls[m[1]] = l.no
			}
		}
	}
	return f
}

func (f logFacts) onManager() bool { return slices.Contains(managerExecutors, f.runner.Executor) }

// logCause is a cause read from the log alone.
type logCause struct {
	id       string
	match    LogMatch
	evidence []string // beyond the line itself
	helper   string   // a credential helper the line names
	manager  bool     // the helper runs on a docker+machine/autoscaler manager
}

// rankLog orders the causes a log names: the pull chain's order of its
// matches, corrected by what the lines around them show.
//   - "Error: No such image" is a pull_policy never symptom, unless the
//     runner pulled that image first: then the pull failed and an older
//     runner only reported the missing image afterwards (tag-not-found).
//   - A credential helper failing on a docker+machine/autoscaler manager
//     comes first: the manager, not the machines, must have it.
func rankLog(lr LogReport) []logCause {
	var out []logCause
	for _, m := range lr.Matches {
		c := logCause{id: m.ID, match: m}
		if m.Note != "" {
			c.evidence = append(c.evidence, m.Note)
		}
		if h := helperNameRE.FindStringSubmatch(m.Line); h != nil {
			c.helper = strings.TrimSuffix(h[1], `"`)
		}
		switch {
		case m.ID == "policy-never-absent" && !strings.Contains(m.Line, "never"):
			if img, no, ok := lr.pulledBefore(m); ok {
				c.id = "tag-not-found"
				c.evidence = append(c.evidence, fmt.Sprintf("the runner pulled %s (line %d: Pulling docker image) and then found no such image: a runner of this age reports a failed pull this way, without the registry's answer; the image or tag is not in the registry, or the registry refused it", img, no))
			}
		case (m.ID == "credstore-helper-missing" || m.ID == "credhelper-failed") && lr.facts.onManager():
			c.manager = true
			c.evidence = append(c.evidence, fmt.Sprintf("the runner uses the %s executor: the manager (the host running gitlab-runner) resolves credentials and runs docker-credential-%s, not the machines that run the jobs", lr.facts.runner.Executor, orDefault(c.helper, "NAME")))
		case m.ID == "auth-missing-credentials" && lr.facts.onManager() && cloudRegistryRE.MatchString(m.Line):
			c.evidence = append(c.evidence, fmt.Sprintf("the runner uses the %s executor: a cloud registry's helper (ecr-login, gcr, acr-env) named in DOCKER_AUTH_CONFIG must be installed on the manager, where gitlab-runner runs", lr.facts.runner.Executor))
		}
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(a, b logCause) int {
		if d := boolRank(a.managerHelper()) - boolRank(b.managerHelper()); d != 0 {
			return d
		}
		return int(entry(a.id).Stage) - int(entry(b.id).Stage)
	})
	// Two lines can come to the same cause (a rewritten one and its own).
	seen := map[string]bool{}
	return slices.DeleteFunc(out, func(c logCause) bool {
		dup := seen[c.id]
		seen[c.id] = true
		return dup
	})
}

// managerHelper: a helper missing on a docker+machine/autoscaler manager.
func (c logCause) managerHelper() bool { return c.manager && c.id == "credstore-helper-missing" }

// JobImage is the image the log is about: the one a "failed to pull
// image" line names, else the only one the runner was pulling.
func (lr LogReport) JobImage() string {
	if lr.Image != "" || len(lr.facts.pulls) != 1 {
		return lr.Image
	}
	for img := range lr.facts.pulls {
		return img
	}
	return ""
}

// pulledBefore finds the "Pulling docker image" line of the image a "No
// such image" line names (any pull line when it names none), before it.
func (lr LogReport) pulledBefore(m LogMatch) (string, int, bool) {
	for img, no := range lr.facts.pulls {
		if no < m.LineNo && strings.Contains(m.Line, img) {
			return img, no, true
		}
	}
	return "", 0, false
}
