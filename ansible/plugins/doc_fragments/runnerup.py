# -*- coding: utf-8 -*-
# Option documentation the runnerup modules share.

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # binary and timeout, in every module.
    DOCUMENTATION = r"""
options:
  binary:
    description:
      - The runnerup executable, a path or a name looked up on C(PATH).
    type: str
    default: runnerup
  timeout:
    description:
      - Deadline of each network call and live check, as a duration (C(10s)); default runnerup's.
    type: str
requirements:
  - the runnerup binary on the host (the C(runnerup.gitlab_runner.runner) role installs it)
"""

    # The answers, for apply and probe.
    ANSWERS = r"""
options:
  answers:
    description:
      - Path on the host of an answers file (TOML; see the runnerup README for every key).
      - Mutually exclusive with I(answers_content).
    type: path
  answers_content:
    description:
      - The answers as a mapping, written on the host to a C(0600) temporary TOML file for this run only.
      - Secrets (C(gitlab.token), C(registries[].password), any key ending in C(token), C(password) or C(secret), and
        C(NAME=value) list items such as C(runner.environment) entries whose NAME is C(DOCKER_AUTH_CONFIG) or ends in
        C(_TOKEN), C(_PASSWORD) or C(_SECRET)) must be C(env:NAME) or C(file:PATH) references; a literal secret fails
        the task, because module options are shown by C(-v) and kept in registered results. Put the values in
        I(environment).
      - A key set to C(null) is left out, which leaves that setting of an existing runner as it is.
      - C(file:) references must be absolute paths here.
    type: dict
"""
