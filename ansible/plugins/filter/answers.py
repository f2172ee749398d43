# -*- coding: utf-8 -*-
# The answers_toml filter: role variables -> a runnerup answers file.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: answers_toml
short_description: Render runnerup answers (a mapping) as an answers file (TOML)
description:
  - Renders a mapping of runnerup answers as TOML, the format of C(runnerup apply --answers FILE).
  - Fails when a secret (C(gitlab.token), C(registries[].password), any key ending in C(token), C(password) or C(secret),
    and a C(NAME=value) list item such as an C(environment) entry whose NAME is C(DOCKER_AUTH_CONFIG) or ends in
    C(_TOKEN), C(_PASSWORD) or C(_SECRET)) is a literal instead of an C(env:) or C(file:) reference, so the file never
    holds a secret in clear.
  - C(null) values are left out (an absent key leaves that setting of an existing runner as it is).
version_added: 1.0.0
author:
  - runnerup maintainers
options:
  _input:
    description: The answers.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Keep the answers on the host
  ansible.builtin.copy:
    content: "{{ runnerup_answers | runnerup.gitlab_runner.answers_toml }}"
    dest: /etc/runnerup/runner.toml
    mode: "0600"
"""

RETURN = r"""
_value:
  description: The TOML document.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.runnerup.gitlab_runner.plugins.module_utils.runnerup import literal_secrets, to_toml


def answers_toml(answers):
    problems = literal_secrets(answers)
    if problems:
        raise AnsibleFilterError(
            "answers_toml: %s holds a literal secret; write an env: reference (e.g. env:RUNNER_TOKEN) and pass the "
            "value through runnerup_secrets" % ", ".join(problems))
    try:
        return to_toml(answers, name="the input")
    except ValueError as e:
        raise AnsibleFilterError("answers_toml: %s" % e)


class FilterModule(object):
    def filters(self):
        return {"answers_toml": answers_toml}
