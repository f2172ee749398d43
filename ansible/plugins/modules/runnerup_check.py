#!/usr/bin/python
# -*- coding: utf-8 -*-

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: runnerup_check
short_description: Lint a GitLab Runner config.toml and the host around it, writing nothing
description:
  - Runs C(runnerup check -o json) on the host, read-only. C(changed) is always false.
  - Finds TOML errors with line and column, unknown keys, invalid values, duplicate runners and tokens, Docker-in-Docker
    wiring and file modes; and on the host the service and the files it really reads, the system id (cloned or shared),
    proxies and token expiry. With I(online) it also asks GitLab whether each entry's token is still valid.
version_added: 1.0.0
author:
  - runnerup maintainers
extends_documentation_fragment:
  - runnerup.gitlab_runner.runnerup
options:
  config:
    description:
      - The C(config.toml) to check. Default - the one the gitlab-runner service found on the host reads.
    type: path
  online:
    description:
      - Also verify each runner's token with GitLab (finds stale entries). Mutually exclusive with I(lint_only).
    type: bool
    default: false
  lint_only:
    description:
      - Lint just the file, without the checks of this host (for a C(config.toml) kept in a repository).
    type: bool
    default: false
  fail_on_problems:
    description:
      - Fail the task on findings (errors or warnings) or failed or warning checks, as C(runnerup check) exits 3 for them.
        With C(false) the task reports C(ok=false) and the findings in C(problems).
    type: bool
    default: true
  environment:
    description:
      - Extra variables for runnerup (C(no_log)). Put only secrets here.
    type: dict
    default: {}
notes:
  - Read-only; supports check mode.
seealso:
  - module: runnerup.gitlab_runner.runnerup_apply
  - module: runnerup.gitlab_runner.runnerup_probe
"""

EXAMPLES = r"""
- name: config.toml is clean and no entry is stale
  runnerup.gitlab_runner.runnerup_check:
    config: /etc/gitlab-runner/config.toml
    online: true

- name: Lint the config.toml kept in the repository
  runnerup.gitlab_runner.runnerup_check:
    config: "{{ playbook_dir }}/files/config.toml"
    lint_only: true
  delegate_to: localhost
"""

RETURN = r"""
changed:
  description: Always false.
  returned: always
  type: bool
ok:
  description: Whether the file and the host are clean (no errors or warnings).
  returned: success
  type: bool
config:
  description: The config.toml checked.
  returned: success
  type: str
findings:
  description: Lint findings, each C({id, severity, line, column, path, runner, message, fix}).
  returned: success
  type: list
  elements: dict
checks:
  description: Host checks, each C({id, title, status, detail, hint, finding}).
  returned: success
  type: list
  elements: dict
problems:
  description: The findings and failed or warning checks as one-line strings.
  returned: success
  type: list
  elements: str
rc:
  description: runnerup's exit code (0 clean, 2 unreadable, 3 findings).
  returned: always
  type: int
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.runnerup.gitlab_runner.plugins.module_utils.runnerup import (
    CHECK_KEYS,
    find_binary,
    finish,
    path_flags,
    readonly_outcome,
    run_json,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            config=dict(type="path"),
            online=dict(type="bool", default=False),
            lint_only=dict(type="bool", default=False),
            binary=dict(type="str", default="runnerup"),
            timeout=dict(type="str"),
            fail_on_problems=dict(type="bool", default=True),
            environment=dict(type="dict", default={}, no_log=True),
        ),
        mutually_exclusive=[("online", "lint_only")],
        supports_check_mode=True,
    )
    p = module.params
    argv = [find_binary(module, p["binary"]), "check"] + path_flags(p)
    if p["online"]:
        argv.append("--online")
    if p["lint_only"]:
        argv.append("--lint-only")
    rc, data, _, stderr = run_json(module, argv)
    result = readonly_outcome("check", rc, data, stderr, CHECK_KEYS, p["fail_on_problems"])
    finish(module, result)


if __name__ == "__main__":
    main()
