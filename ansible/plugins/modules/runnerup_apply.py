#!/usr/bin/python
# -*- coding: utf-8 -*-

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: runnerup_apply
short_description: Set up a GitLab Runner with runnerup apply
description:
  - Runs C(runnerup apply --answers FILE -o json) on the host. runnerup validates the answers, runs its live checks
    (GitLab, the Docker daemon, each registry and image), verifies or registers the runner and merges the result into
    C(config.toml) and Docker's C(config.json) without touching any other byte.
  - This module only builds the command line and maps runnerup's JSON; it re-implements none of it.
  - Check mode runs C(runnerup apply --dry-run), which writes nothing and never registers; C(changed) then says
    whether apply would change a file.
  - Diff mode runs C(runnerup apply --diff-texts) and returns each changed file's C(before) and C(after) text, with
    tokens, passwords and auth values already redacted by runnerup (C(glrt-…abcd), C(***)).
  - C(changed) is apply's C(changed). A failed live check fails the task with the check's id, problem, hint and
    runnerup's exit code in C(msg); nothing is written then.
version_added: 1.0.0
author:
  - runnerup maintainers
extends_documentation_fragment:
  - runnerup.gitlab_runner.runnerup
  - runnerup.gitlab_runner.runnerup.answers
options:
  config:
    description:
      - The C(config.toml) to write. Default as runnerup decides - the file the gitlab-runner service found on the host
        reads, else GitLab Runner's default for the user (C(/etc/gitlab-runner/config.toml) for root).
    type: path
  docker_config:
    description:
      - Directory of the C(config.json) to write. Default C(~/.docker) of the user the runner runs as (GitLab Runner
        ignores C(DOCKER_CONFIG)).
    type: path
  prune_stale:
    description:
      - Remove C([[runners]]) entries whose token GitLab rejects (deleted runners); the previous file is kept as a backup.
      - Asks GitLab, so it cannot be combined with I(offline) or I(skip_probes).
    type: bool
    default: false
  prune_duplicates:
    description:
      - Remove later copies of a C([[runners]]) entry with the same C(url) and C(token) (C(--prune-duplicates)). GitLab
        Runner writes a rotated token into the first copy only, so the later ones go stale; the first stays, and the
        entry the answers target always stays. The previous file is kept as a backup.
      - Needs no GitLab, so it works with I(offline) and I(skip_probes).
    type: bool
    default: false
  prune_empty:
    description:
      - Remove C([[runners]]) entries without a token (C(--prune-empty)); GitLab Runner skips them, yet each takes its
        share of C(check_interval). The previous file is kept as a backup.
      - Needs no GitLab, so it works with I(offline) and I(skip_probes).
    type: bool
    default: false
  recreate:
    description:
      - For answers with C([gitlab.create]) - when GitLab rejects the token C(config.toml) holds for the runner (it was
        deleted in GitLab), create it again and replace that entry's id and token (C(--recreate)). Without it apply
        fails with the check that found the runner deleted, and writes nothing.
      - Needs C(GITLAB_TOKEN) in I(environment). In check mode the result's C(runner.action) is C(would-recreate).
    type: bool
    default: false
  fresh_system_id:
    description:
      - When to write a new random C(r_) system id beside C(config.toml) (C(--fresh-system-id)). GitLab tells the hosts
        of one runner apart by that id; hosts cloned from an image that held a C(.runner_system_id) all show up as one
        runner manager.
      - C(if-cloned) first runs C(runnerup check) (read-only) and writes a fresh id only when runnerup finds the current
        one derived from another host's machine id (C(systemid.cloned)), baked into a shared image (C(systemid.shared))
        or invalid (C(systemid.invalid)). The next run finds the fresh id and keeps it, so it is safe in every play.
        runnerup looks beside I(config) (else the answers' C(output.config_toml), else the file the service reads);
        without a C(config.toml) there, there is nothing to look at and no fresh id is written.
      - C(always) (or C(true)) writes a new id on every run and always reports C(changed) - each run adds a runner
        manager in GitLab, so use it once, by hand. C(never) (or C(false)) keeps the id.
    type: raw
    default: never
  wait_contact:
    description:
      - After writing, wait until the running runner has contacted GitLab, up to this duration (C(60s), C(2m)); C(true)
        means runnerup's default of 60s. Needs C(GITLAB_TOKEN) (read_api) in I(environment).
      - Fails the task, with the files written, when the runner did not contact GitLab in time. Ignored in check mode.
    type: str
  replace_token:
    description:
      - Write the answers' token even when C(config.toml) holds another one (by default the on-disk token, which the
        runner may have rotated, is kept).
    type: bool
    default: false
  skip_probes:
    description:
      - Write without the live checks of GitLab, the daemon and the registries (C(--skip-probes)); GitLab is still asked to verify, register or create the runner.
    type: bool
    default: false
  offline:
    description:
      - Contact nothing (C(--offline)) - no verify, registration, creation or live checks; only the checks of this host
        run. A runner already in C(config.toml) keeps its token; a new runner's authentication token is written
        unverified (a warning). A registration token or C([gitlab.create]) for a runner not yet in C(config.toml), and
        I(prune_stale) or I(wait_contact), fail the task (runnerup exit 2) with nothing written.
      - A networked Docker daemon (C(DOCKER_HOST=tcp://...)) is not asked for a gitlab-runner container either. With
        I(fresh_system_id=if-cloned) the read-only C(runnerup check) runs first as without I(offline) - it contacts no
        GitLab, but does ask the Docker daemon for the service.
    type: bool
    default: false
  environment:
    description:
      - Variables for runnerup's C(env:) references, e.g. C(RUNNER_TOKEN), C(REGISTRY_PASSWORD), C(GITLAB_TOKEN).
      - This option is C(no_log) - every value is masked wherever it appears in the result. Put only secrets here;
        set other variables (C(DOCKER_HOST), proxies) with the task's C(environment) keyword.
    type: dict
    default: {}
notes:
  - Supports check mode and diff mode.
  - Re-running with the same answers reports C(ok) and never registers a second runner.
seealso:
  - module: runnerup.gitlab_runner.runnerup_probe
  - module: runnerup.gitlab_runner.runnerup_check
"""

EXAMPLES = r"""
- name: Set up the runner and the registry credentials its jobs need
  runnerup.gitlab_runner.runnerup_apply:
    answers_content:
      version: 1
      gitlab:
        url: https://gitlab.example.com
        token: env:RUNNER_TOKEN
        name: "{{ inventory_hostname }}"
      runner:
        executor: docker
        concurrent: 4
      docker:
        image: registry.example.com:5000/ci/build:1
        dind: true
      registries:
        - host: registry.example.com:5000
          method: basic
          username: ci
          password: env:REGISTRY_PASSWORD
    environment:
      RUNNER_TOKEN: "{{ vault_runner_tokens[inventory_hostname] }}"
      REGISTRY_PASSWORD: "{{ vault_registry_password }}"
  register: runner

- name: Apply an answers file already on the host, into a chosen config.toml
  runnerup.gitlab_runner.runnerup_apply:
    answers: /etc/runnerup/runner.toml
    config: /srv/gitlab-runner/config.toml
    environment:
      RUNNER_TOKEN: "{{ vault_runner_token }}"
      GITLAB_TOKEN: "{{ vault_gitlab_api_token }}"
    wait_contact: 90s

- name: Remove entries without a token and stale copies of an entry, without contacting GitLab
  runnerup.gitlab_runner.runnerup_apply:
    answers: /etc/runnerup/runner.toml
    prune_empty: true
    prune_duplicates: true
    offline: true
    environment:
      RUNNER_TOKEN: "{{ vault_runner_token }}"
  register: cleaned

- name: Say which entries went and why
  ansible.builtin.debug:
    msg: "{{ cleaned.pruned | map(attribute='reason') | list }}"

- name: Create the runner again when it was deleted in GitLab ([gitlab.create] answers)
  runnerup.gitlab_runner.runnerup_apply:
    answers: /etc/runnerup/runner.toml
    recreate: true
    environment:
      GITLAB_TOKEN: "{{ vault_gitlab_api_token }}"

- name: Give a host cloned from an image its own system id, once
  runnerup.gitlab_runner.runnerup_apply:
    answers: /etc/runnerup/runner.toml
    fresh_system_id: if-cloned
    environment:
      RUNNER_TOKEN: "{{ vault_runner_token }}"

# A start must never restart: a restart aborts the jobs a running service
# has, and apply also says start when it cannot tell whether it runs.
- name: Start the service when apply says so (a no-op when it runs)
  ansible.builtin.service:
    name: "{{ runner.service.name | default('gitlab-runner', true) }}"
    state: started
  when: runner.service_action == 'start'

- name: Restart the service when apply says so (a new system id)
  ansible.builtin.command: "{{ runner.service.restart_command }}"
  when: runner.service_action == 'restart'
  changed_when: true
"""

RETURN = r"""
changed:
  description: Whether apply changed a file (in check mode - would change one).
  returned: always
  type: bool
dry_run:
  description: Whether this was a dry run (check mode).
  returned: success
  type: bool
runner:
  description: The runner entry - C(name), C(url), C(id), C(action) (verified, registered, kept, would-register, created,
    would-create, recreated, would-recreate, unverified), C(token)
    (redacted), C(appended), C(system_id).
  returned: success
  type: dict
  sample: {"name": "build-01", "url": "https://gitlab.example.com", "id": 42, "action": "verified",
           "token": "glrt-…abcd", "appended": true, "system_id": "s_0123456789ab"}
checks:
  description: Every live check, each C({id, title, status, detail, hint, duration_ms}); status is pass, warn, fail or skip.
  returned: success, and on a failed check
  type: list
  elements: dict
warnings:
  description: apply's warnings about the answers, as C(field - problem (fix)) strings (Ansible also prints them).
  returned: when there are any
  type: list
  elements: str
next_steps:
  description: What to do now for the gitlab-runner install found on the host.
  returned: success
  type: list
  elements: str
service_action:
  description: What next_steps ask of the service in one word - C(none), C(start), C(restart) or C(manual) (no service reads
    this file; install or re-point one). C(start) is also said when runnerup cannot tell whether the service runs -
    start it (a no-op when it runs), never restart it for a C(start), which would abort its running jobs. C(restart)
    means it runs with the old system id.
  returned: success
  type: str
  sample: start
service:
  description: The gitlab-runner service found - C(kind), C(name), C(config_path), C(user), C(state), C(running),
    C(restart_command), ... (its environment redacted).
  returned: when a service was found
  type: dict
fresh_system_id_reason:
  description: Why a fresh system id was written - the finding of C(runnerup check) (C(systemid.cloned),
    C(systemid.shared), C(systemid.invalid)) with C(if-cloned), C(always), or empty when none was.
  returned: success
  type: str
  sample: systemid.cloned
files:
  description: The files apply looked at - C(config_toml), C(docker_config), C(system_id_file), each C({path, changed,
    created, backup}).
  returned: success
  type: dict
pruned:
  description: Entries removed (in check mode - that would be) by I(prune_stale), I(prune_duplicates) and I(prune_empty) -
    C({name, url, token, reason}) with the token redacted; C(reason) is C(stale), C(duplicate) or C(empty-token), and a
    duplicate's C(duplicate_of) (C({name, entry})) names the entry kept.
  returned: success
  type: list
  elements: dict
  sample: [{"name": "build-01-copy", "url": "https://gitlab.example.com", "token": "glrt-…abcd", "reason": "duplicate",
            "duplicate_of": {"name": "build-01", "entry": 1}}]
check:
  description: The check that failed - C({id, problem, hint}).
  returned: when a live check failed
  type: dict
problems:
  description: Every invalid answer - C({field, problem, fix}).
  returned: when the answers are invalid
  type: list
  elements: dict
rc:
  description: runnerup's exit code (0 ok, 2 invalid input, 3 a check failed, 4 a write failed).
  returned: always
  type: int
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.runnerup.gitlab_runner.plugins.module_utils.runnerup import (
    answers_file,
    apply_outcome,
    find_binary,
    finish,
    fresh_system_id_mode,
    path_flags,
    run_json,
    system_id_finding,
)

TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("", "false", "no", "off", "0")


def build_argv(module, binary, answers_path, fresh_id):
    p = module.params
    argv = [binary, "apply", "--answers", answers_path] + path_flags(p)
    for flag, option in (("--prune-stale", "prune_stale"), ("--prune-duplicates", "prune_duplicates"),
                         ("--prune-empty", "prune_empty"), ("--recreate", "recreate"),
                         ("--replace-token", "replace_token"), ("--skip-probes", "skip_probes"),
                         ("--offline", "offline")):
        if p[option]:
            argv.append(flag)
    if fresh_id:
        argv.append("--fresh-system-id")
    if getattr(module, "_diff", False):
        # The redacted whole files, for Ansible's before/after diff.
        argv.append("--diff-texts")
    if module.check_mode:
        argv.append("--dry-run")
    else:
        wait = (p["wait_contact"] or "").strip()
        if wait.lower() in TRUE_WORDS:
            argv.append("--wait-contact")
        elif wait.lower() not in FALSE_WORDS:
            # The = is needed: --wait-contact takes an optional value.
            argv.append("--wait-contact=" + wait)
    return argv


def fresh_id_reason(module, binary):
    """Why this run writes a fresh system id ("" for no reason): always, or
    with if-cloned the systemid finding of a read-only `runnerup check`."""
    try:
        mode = fresh_system_id_mode(module.params["fresh_system_id"])
    except ValueError as e:
        module.fail_json(msg=str(e))
    if mode != "if-cloned":
        return "always" if mode == "always" else ""
    config = module.params["config"] or ((module.params["answers_content"] or {}).get("output") or {}).get("config_toml")
    argv = [binary, "check"]
    if config:
        argv += ["--config", config]
    if module.params["timeout"]:
        argv += ["--timeout", module.params["timeout"]]
    # check exits 3 for any finding on this host (a warning is enough):
    # only its systemid check matters here. No config.toml yet means no
    # check, and nothing to look at.
    _, data, _, _ = run_json(module, argv)
    return system_id_finding(data) or ""


def main():
    module = AnsibleModule(
        argument_spec=dict(
            answers=dict(type="path"),
            answers_content=dict(type="dict"),
            config=dict(type="path"),
            docker_config=dict(type="path"),
            binary=dict(type="str", default="runnerup"),
            prune_stale=dict(type="bool", default=False),
            prune_duplicates=dict(type="bool", default=False),
            prune_empty=dict(type="bool", default=False),
            recreate=dict(type="bool", default=False),
            fresh_system_id=dict(type="raw", default="never"),
            wait_contact=dict(type="str"),
            replace_token=dict(type="bool", default=False),
            skip_probes=dict(type="bool", default=False),
            offline=dict(type="bool", default=False),
            timeout=dict(type="str"),
            environment=dict(type="dict", default={}, no_log=True),
        ),
        mutually_exclusive=[("answers", "answers_content")],
        required_one_of=[("answers", "answers_content")],
        supports_check_mode=True,
    )
    binary = find_binary(module, module.params["binary"])
    reason = fresh_id_reason(module, binary)
    with answers_file(module) as answers:
        rc, data, _, stderr = run_json(module, build_argv(module, binary, answers, bool(reason)))
    result = apply_outcome(rc, data, stderr, diff_mode=module._diff)
    result["fresh_system_id_reason"] = reason
    finish(module, result)


if __name__ == "__main__":
    main()
