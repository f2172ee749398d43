// Package runnerfacts holds the value sets GitLab Runner accepts that both
// the answers (wizard) and the config.toml linter (internal/lint) check
// against, so that lint can be used by wizard without an import cycle.
package runnerfacts

// Executors are exactly the names GitLab Runner 19.x accepts
// (docs/gitlab-runner.md §1.5).
var Executors = []string{"shell", "ssh", "parallels", "virtualbox", "docker", "docker-windows",
	"docker+machine", "docker-autoscaler", "instance", "kubernetes", "custom"}

// Shells the runner registers (cmd is gone).
var Shells = []string{"bash", "sh", "pwsh", "powershell"}

// PullPolicies are the only values the runner accepts at job time.
var PullPolicies = []string{"always", "if-not-present", "never"}

// UsesDocker reports whether the executor runs jobs in Docker containers
// configured by [runners.docker].
func UsesDocker(executor string) bool {
	switch executor {
	case "docker", "docker-windows", "docker+machine", "docker-autoscaler":
		return true
	}
	return false
}
