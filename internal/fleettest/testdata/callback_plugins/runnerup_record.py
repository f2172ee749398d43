# -*- coding: utf-8 -*-
# A test-only callback: writes every task result, handler start and the
# final stats as JSON lines to $RUNNERUP_RECORD, so the Go tests can assert
# on what ansible-playbook saw without parsing its screen output. It records
# results as the default callback receives them (no_log censoring and the
# modules' own masking already applied). ansible-core 2.14 ships no json
# callback (that one lives in ansible.posix).

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: runnerup_record
type: aggregate
short_description: Record task results as JSON lines (runnerup tests)
description:
  - Appends one JSON object per task result, handler start and play stats to the file named by RUNNERUP_RECORD.
requirements:
  - enable in callbacks_enabled
"""

import json
import os

from ansible.playbook.handler import Handler
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "runnerup_record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._path = os.environ.get("RUNNERUP_RECORD")

    def _write(self, event):
        if not self._path:
            return
        with open(self._path, "a") as f:
            f.write(json.dumps(event, default=str, sort_keys=True) + "\n")

    def _result(self, kind, result):
        task = result._task
        self._write({
            "event": kind,
            "host": result._host.get_name(),
            "task": task.get_name(),
            "action": task.action,
            "handler": isinstance(task, Handler),
            "result": result._result,
        })

    def v2_runner_on_ok(self, result):
        self._result("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result("failed", result)

    def v2_runner_on_skipped(self, result):
        self._result("skipped", result)

    def v2_runner_on_unreachable(self, result):
        self._result("unreachable", result)

    def v2_playbook_on_handler_task_start(self, task):
        self._write({"event": "handler_start", "task": task.get_name()})

    def v2_playbook_on_stats(self, stats):
        hosts = {}
        for host in sorted(stats.processed.keys()):
            hosts[host] = stats.summarize(host)
        self._write({"event": "stats", "hosts": hosts})
