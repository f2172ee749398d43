#!/usr/bin/python
# -*- coding: utf-8 -*-

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: runnerup_probe
short_description: Check that a runner's jobs can pull their images, writing nothing
description:
  - Runs C(runnerup probe -o json) on the host, read-only, and returns its checks. C(changed) is always false.
  - With I(answers) or I(answers_content) it runs every live check C(runnerup apply) would run, seeing C(config.toml)
    and C(config.json) as apply would leave them. With I(images) it checks just the Docker daemon and those images with
    the host's current Docker credentials. With only I(config) it probes the runners already in that C(config.toml) -
    every entry's token (stale entries), their images, the daemon, the service.
  - Use it to gate a fleet on "jobs can pull their images" before or after changing anything.
version_added: 1.0.0
author:
  - runnerup maintainers
extends_documentation_fragment:
  - runnerup.gitlab_runner.runnerup
  - runnerup.gitlab_runner.runnerup.answers
options:
  images:
    description:
      - Image references to check with the current Docker config of the user (no GitLab, no answers).
    type: list
    elements: str
  config:
    description:
      - The C(config.toml) to see (with answers) or to probe (alone). Default - the one the gitlab-runner service reads.
    type: path
  docker_config:
    description:
      - Directory of the C(config.json) to read. Default C(~/.docker) of the user.
    type: path
  fail_on_problems:
    description:
      - Fail the task when a check fails. With C(false) the task reports C(ok=false) and the failed checks in C(problems),
        so a play can collect them across the fleet.
    type: bool
    default: true
  environment:
    description:
      - Variables for the answers' C(env:) references (C(RUNNER_TOKEN), C(REGISTRY_PASSWORD)). C(no_log) - every value is
        masked wherever it appears in the result; put only secrets here.
    type: dict
    default: {}
notes:
  - Read-only; supports check mode (it runs the same read-only checks).
seealso:
  - module: runnerup.gitlab_runner.runnerup_apply
  - module: runnerup.gitlab_runner.runnerup_check
"""

EXAMPLES = r"""
- name: Jobs on every runner can pull the images they use
  runnerup.gitlab_runner.runnerup_probe:
    config: /etc/gitlab-runner/config.toml
  register: pulls

- name: Collect, do not stop, on hosts whose images do not pull
  runnerup.gitlab_runner.runnerup_probe:
    images:
      - registry.example.com:5000/ci/build:1
    fail_on_problems: false
  register: pulls

- name: Report the hosts whose jobs would fail to pull
  ansible.builtin.debug:
    msg: "{{ pulls.problems }}"
  when: not pulls.ok
"""

RETURN = r"""
changed:
  description: Always false.
  returned: always
  type: bool
ok:
  description: Whether every check passed or only warned.
  returned: success
  type: bool
checks:
  description: Every check, each C({id, title, status, detail, hint, duration_ms}).
  returned: success
  type: list
  elements: dict
problems:
  description: The failed checks as C(id - detail (hint)) strings.
  returned: success
  type: list
  elements: str
rc:
  description: runnerup's exit code (0 ok, 2 invalid input, 3 a check failed).
  returned: always
  type: int
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.runnerup.gitlab_runner.plugins.module_utils.runnerup import (
    PROBE_KEYS,
    answers_file,
    find_binary,
    finish,
    path_flags,
    readonly_outcome,
    run_json,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            answers=dict(type="path"),
            answers_content=dict(type="dict"),
            images=dict(type="list", elements="str"),
            config=dict(type="path"),
            docker_config=dict(type="path"),
            binary=dict(type="str", default="runnerup"),
            timeout=dict(type="str"),
            fail_on_problems=dict(type="bool", default=True),
            environment=dict(type="dict", default={}, no_log=True),
        ),
        mutually_exclusive=[("answers", "answers_content", "images")],
        required_one_of=[("answers", "answers_content", "images", "config")],
        supports_check_mode=True,
    )
    p = module.params
    binary = find_binary(module, p["binary"])
    argv = [binary, "probe"]
    for image in p["images"] or []:
        argv += ["--image", image]
    argv += path_flags(p)
    with answers_file(module) as answers:
        if answers:
            argv += ["--answers", answers]
        rc, data, _, stderr = run_json(module, argv)
    result = readonly_outcome("probe", rc, data, stderr, PROBE_KEYS, p["fail_on_problems"])
    finish(module, result)


if __name__ == "__main__":
    main()
