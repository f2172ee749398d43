// Package fleettest holds the end-to-end tests of the fleet integrations:
// the Ansible collection under ansible/ (runnerup.gitlab_runner: modules
// runnerup_apply, runnerup_probe, runnerup_check and the runner role) and
// the cloud-init recipe under examples/cloud-init/.
//
// The tests drive the real engines (Debian's ansible-core with
// `connection: local`, ansible-galaxy, ansible-doc, ansible-lint, cloud-init's
// schema validator and its own write_files/runcmd code) against a private
// dockerd, an auth-protected docker-registry and the real docker CLI; only
// GitLab is faked (internal/gitlab/fakegitlab). They also pin the JSON
// contract between `runnerup apply -o json` and the Python module. There is
// no non-test code here.
package fleettest
