# -*- coding: utf-8 -*-
# Unit tests of module_utils/runnerup.py against outputs recorded from real
# runnerup runs (fixtures/, re-recorded by
# `go test ./internal/fleettest -run TestFleets/contract -update`).
#
# Run: PYTHONPATH=<collections dir> python3 -m unittest discover -s tests/unit
# (the Go test internal/fleettest does, with Debian's python3 and ansible).

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import stat
import tempfile
import unittest

try:
    import tomllib  # Python 3.11+
except ImportError:  # pragma: no cover
    tomllib = None

from ansible_collections.runnerup.gitlab_runner.plugins.module_utils import runnerup as r

FIXTURES = os.environ.get("RUNNERUP_FIXTURES") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def fixture(name):
    with open(os.path.join(FIXTURES, name + ".json")) as f:
        data = json.load(f)
    return data["rc"], data["output"]


class ApplyOutcomeTest(unittest.TestCase):
    def test_first_apply(self):
        rc, data = fixture("apply_first")
        out = r.apply_outcome(rc, data)
        self.assertNotIn("failed", out)
        self.assertTrue(out["changed"])
        self.assertFalse(out["dry_run"])
        self.assertEqual(out["runner"]["action"], "verified")
        self.assertTrue(out["runner"]["token"].startswith("glrt-…"))
        self.assertTrue(out["files"]["config_toml"]["created"])
        self.assertTrue(out["files"]["system_id_file"]["created"])
        self.assertTrue(out["files"]["docker_config"]["backup"], "an existing config.json is backed up")
        self.assertNotIn("diff", out, "diffs only in diff mode")
        self.assertTrue(all(isinstance(w, str) for w in out["warnings"]))
        self.assertIn("gitlab.url", " ".join(out["warnings"]))
        self.assertEqual(out["service_action"], "manual")

    def test_diff_mode_shows_the_redacted_files(self):
        rc, data = fixture("apply_dry_run_change")  # recorded with --diff-texts
        out = r.apply_outcome(rc, data, diff_mode=True)
        self.assertTrue(out["changed"])
        self.assertTrue(out["dry_run"])
        self.assertEqual(len(out["diff"]), 1, "only config.toml changes")
        diff = out["diff"][0]
        self.assertEqual(diff["before_header"], out["files"]["config_toml"]["path"])
        self.assertNotIn("prepared", diff, "before/after, not both forms (Ansible would print the change twice)")
        self.assertIn("concurrent = 2\n", diff["before"])
        self.assertIn("concurrent = 3\n", diff["after"])
        self.assertIn("FLEET_COLOUR=blue", diff["after"])
        self.assertNotIn("FLEET_COLOUR=blue", diff["before"])
        self.assertIn("glrt-…", diff["after"])

    def test_diff_mode_without_texts_shows_the_unified_diff(self):
        rc, data = fixture("apply_dry_run_change")
        for key in ("before", "after"):
            del data["config_toml"][key]  # a runnerup without --diff-texts
        diff = r.apply_outcome(rc, data, diff_mode=True)["diff"][0]
        self.assertIn("-concurrent = 2", diff["prepared"])
        self.assertIn("+concurrent = 3", diff["prepared"])

    def test_new_files_diff(self):
        rc, data = fixture("apply_dry_run_new")
        out = r.apply_outcome(rc, data, diff_mode=True)
        self.assertEqual([d["after_header"].rsplit("/", 1)[-1] for d in out["diff"]], ["config.toml", "config.json"])
        self.assertEqual(out["diff"][0]["before"], "", "a new config.toml")
        self.assertIn('"auth": "***', out["diff"][1]["after"])
        self.assertEqual(out["runner"]["action"], "verified")

    def test_service_action_and_restart_command(self):
        rc, data = fixture("apply_change_with_service")
        out = r.apply_outcome(rc, data)
        self.assertEqual(out["service_action"], "start")
        self.assertEqual(out["service"]["restart_command"], "docker restart gitlab-runner")
        self.assertTrue(out["files"]["config_toml"]["backup"])

    def test_unchanged(self):
        rc, data = fixture("apply_unchanged")
        out = r.apply_outcome(rc, data, diff_mode=True)
        self.assertFalse(out["changed"])
        self.assertEqual(out["diff"], [])
        self.assertEqual(out["next_steps"], [])
        self.assertEqual(out["service_action"], "none")

    def test_pruned(self):
        rc, data = fixture("apply_prune_stale")
        out = r.apply_outcome(rc, data)
        self.assertEqual([p["name"] for p in out["pruned"]], ["gone"])
        self.assertNotIn("GONEgoneGONEgone0000", json.dumps(out))

    def test_pruned_reasons(self):
        # --prune-empty and --prune-duplicates in one offline run: each
        # removed entry says which rule removed it.
        rc, data = fixture("apply_prune_empty")
        out = r.apply_outcome(rc, data)
        self.assertNotIn("failed", out)
        self.assertTrue(out["changed"])
        self.assertEqual(out["runner"]["action"], "kept")
        self.assertEqual([(p["name"], p["reason"]) for p in out["pruned"]],
                         [("empty", "empty-token"), ("contract-copy", "duplicate")])
        self.assertEqual(out["pruned"][1]["duplicate_of"]["name"], "contract")
        self.assertTrue(out["files"]["config_toml"]["backup"])
        self.assertNotIn("CONTRACTcontract0042", json.dumps(out))

    def test_failed_check(self):
        rc, data = fixture("apply_check_failed")
        out = r.apply_outcome(rc, data)
        self.assertTrue(out["failed"])
        self.assertFalse(out["changed"])
        self.assertEqual(out["rc"], 3)
        self.assertTrue(out["msg"].startswith("runnerup apply failed (exit 3: a blocking check failed): "
                                              "registry.registry.example.com:5000.auth: "), out["msg"])
        self.assertIn("(hint: correct or rotate the secret", out["msg"])
        self.assertEqual(out["check"]["id"], "registry.registry.example.com:5000.auth")
        self.assertTrue(out["checks"])

    def test_invalid_answers(self):
        rc, data = fixture("apply_invalid")
        out = r.apply_outcome(rc, data)
        self.assertTrue(out["failed"])
        self.assertEqual(out["msg"], 'runnerup apply failed (exit 2: invalid input, nothing written): runner.executor: '
                                     'unknown executor "dockr" (fix: did you mean "docker"?)')
        self.assertEqual(out["problems"][0]["field"], "runner.executor")

    def test_no_json(self):
        out = r.apply_outcome(1, None, "panic: boom\ngoroutine 1 [running]:\nmain.main()")
        self.assertTrue(out["failed"])
        self.assertIn("without JSON output", out["msg"])
        self.assertIn("panic: boom", out["msg"])

    def test_wait_contact_timeout_fails_after_writing(self):
        # apply --wait-contact exits 3 with the normal result when the
        # runner did not contact GitLab in time: changed and failed.
        _, data = fixture("apply_first")
        data = copy.deepcopy(data)
        data["checks"].append({"id": "gitlab.contact", "status": "fail", "detail": "no contact in 60s",
                               "hint": "start the service"})
        out = r.apply_outcome(3, data)
        self.assertTrue(out["failed"])
        self.assertTrue(out["changed"])
        self.assertIn("gitlab.contact: no contact in 60s (hint: start the service)", out["msg"])

    def test_reading_an_undeclared_key_is_refused(self):
        _, data = fixture("apply_first")
        with self.assertRaises(r.ContractError):
            r.get_key(data, "runner.undeclared")

    def test_every_declared_key_is_in_some_fixture(self):
        seen = set()

        def walk(prefix, value):
            if isinstance(value, dict):
                for k, v in value.items():
                    path = "%s.%s" % (prefix, k) if prefix else k
                    seen.add(path)
                    walk(path, v)
            elif isinstance(value, list):
                for v in value:
                    walk(prefix + "[]", v)

        for name in os.listdir(FIXTURES):
            walk("", fixture(name[:-len(".json")])[1])
        for key in r.APPLY_KEYS + r.FAILURE_KEYS + r.PROBE_KEYS + r.CHECK_KEYS:
            self.assertIn(key, seen)


class FakeModule(object):
    """What build_argv reads of an AnsibleModule."""

    def __init__(self, check_mode=False, diff=False, **params):
        self.check_mode = check_mode
        self._diff = diff
        self.params = dict(config=None, docker_config=None, timeout=None, prune_stale=False, prune_duplicates=False,
                           prune_empty=False, recreate=False, replace_token=False, skip_probes=False, offline=False,
                           wait_contact=None)
        self.params.update(params)


class ApplyArgvTest(unittest.TestCase):
    def argv(self, fresh_id=False, **kwargs):
        from ansible_collections.runnerup.gitlab_runner.plugins.modules import runnerup_apply
        return runnerup_apply.build_argv(FakeModule(**kwargs), "/usr/bin/runnerup", "/tmp/a.toml", fresh_id)

    def test_defaults_add_no_flag(self):
        self.assertEqual(self.argv(), ["/usr/bin/runnerup", "apply", "--answers", "/tmp/a.toml"])

    def test_each_option_is_its_flag(self):
        for option, flag in (("prune_stale", "--prune-stale"), ("prune_duplicates", "--prune-duplicates"),
                             ("prune_empty", "--prune-empty"), ("recreate", "--recreate"),
                             ("replace_token", "--replace-token"), ("skip_probes", "--skip-probes"),
                             ("offline", "--offline")):
            argv = self.argv(**{option: True})
            self.assertEqual(argv[4:], [flag], option)

    def test_check_mode_is_a_dry_run_and_waits_for_nothing(self):
        argv = self.argv(check_mode=True, prune_empty=True, wait_contact="90s", config="/etc/gitlab-runner/config.toml")
        self.assertEqual(argv[4:], ["--config", "/etc/gitlab-runner/config.toml", "--prune-empty", "--dry-run"])

    def test_diff_mode_asks_for_the_texts(self):
        self.assertEqual(self.argv(diff=True)[4:], ["--diff-texts"])
        self.assertEqual(self.argv(check_mode=True, diff=True)[4:], ["--diff-texts", "--dry-run"])

    def test_wait_contact(self):
        self.assertEqual(self.argv(wait_contact="yes")[4:], ["--wait-contact"])
        self.assertEqual(self.argv(wait_contact="2m")[4:], ["--wait-contact=2m"])
        self.assertEqual(self.argv(wait_contact="no")[4:], [])


class ReadonlyOutcomeTest(unittest.TestCase):
    def test_probe_ok(self):
        rc, data = fixture("probe_ok")
        out = r.readonly_outcome("probe", rc, data, "", r.PROBE_KEYS, True)
        self.assertNotIn("failed", out)
        self.assertFalse(out["changed"])
        self.assertTrue(out["ok"])
        self.assertEqual(out["problems"], [])

    def test_check_findings(self):
        rc, data = fixture("check_findings")
        out = r.readonly_outcome("check", rc, data, "", r.CHECK_KEYS, True)
        self.assertTrue(out["failed"])
        self.assertFalse(out["changed"])
        self.assertIn("runner.executor.invalid: unknown executor", out["msg"])
        relaxed = r.readonly_outcome("check", rc, data, "", r.CHECK_KEYS, False)
        self.assertNotIn("failed", relaxed)
        self.assertFalse(relaxed["ok"])
        self.assertTrue(relaxed["findings"])

    def test_probe_failure_json(self):
        _, data = fixture("apply_invalid")
        out = r.readonly_outcome("probe", 2, data, "", r.PROBE_KEYS, False)
        self.assertTrue(out["failed"], "bad input fails even without fail_on_problems")
        self.assertIn("exit 2", out["msg"])


class AnswersTest(unittest.TestCase):
    answers = {
        "version": 1,
        "gitlab": {"url": "https://gitlab.example.com", "token": "env:RUNNER_TOKEN", "name": "build \"01\"",
                   "tags": ["a", "b"], "tls_ca_file": None, "locked": False},
        "runner": {"executor": "docker", "concurrent": 4, "environment": ["A=1", "B=x\ny\\z"]},
        "docker": {"image": "alpine:3.20", "dind": True,
                   "services": [{"name": "postgres:16", "alias": "db"}, {"name": "redis:7", "command": ["--save", ""]}]},
        "registries": [{"host": "registry.example.com:5000", "password": "file:/run/secrets/reg", "username": "ci"}],
        "output": {"config_toml": "/etc/gitlab-runner/config.toml"},
        "ünïcode key": "värde\u0007",
    }

    @unittest.skipIf(tomllib is None, "tomllib needs Python 3.11")
    def test_round_trip(self):
        text = r.to_toml(self.answers)
        parsed = tomllib.loads(text)
        want = copy.deepcopy(self.answers)
        del want["gitlab"]["tls_ca_file"]  # None: left out
        self.assertEqual(parsed, want)
        self.assertNotIn("tls_ca_file", text)

    def test_tables_come_after_keys(self):
        text = r.to_toml({"version": 1, "docker": {"image": "x", "services": [{"name": "a"}]}})
        self.assertEqual(text, 'version = 1\n\n[docker]\nimage = "x"\n\n[[docker.services]]\nname = "a"\n')

    def test_unsupported_value(self):
        with self.assertRaisesRegex(ValueError, r"answers_content\.runner\.concurrent: set values"):
            r.to_toml({"runner": {"concurrent": {1, 2}}})

    def test_literal_secrets(self):
        self.assertEqual(r.literal_secrets(self.answers), [])
        bad = copy.deepcopy(self.answers)
        bad["gitlab"]["token"] = "glrt-literal"
        bad["registries"][0]["password"] = "hunter2"
        bad["gitlab"]["create"] = {"api_token": "glpat-x"}
        self.assertEqual(sorted(r.literal_secrets(bad)),
                         ["gitlab.create.api_token", "gitlab.token", "registries[0].password"])

    def test_literal_secrets_in_list_values(self):
        ok = copy.deepcopy(self.answers)
        # runnerup resolves a reference only as a whole value: the item
        # env:DAC_ENTRY holds "DOCKER_AUTH_CONFIG={...}" in the variable.
        ok["runner"]["environment"] = ["GIT_DEPTH=1", "env:DB_PASSWORD_ENTRY", "file:/run/secrets/dac-entry",
                                       "TOKEN_URL=https://x", "PASSWORD_HINT=ask", "NOVALUE", "EMPTY_TOKEN="]
        self.assertEqual(r.literal_secrets(ok), [])
        bad = copy.deepcopy(self.answers)
        bad["runner"]["environment"] = ["GIT_DEPTH=1", 'DOCKER_AUTH_CONFIG={"auths": {}}', "CI_DEPLOY_TOKEN=abc",
                                        "db_password=hunter2", "APP_SECRET=s3cr3t", "SECRET=x", "DB_PASSWORD=env:DB_PASSWORD"]
        bad["docker"]["services"][0]["environment"] = ["POSTGRES_PASSWORD=postgres"]
        self.assertEqual(r.literal_secrets(bad), [
            "runner.environment[1] (DOCKER_AUTH_CONFIG)", "runner.environment[2] (CI_DEPLOY_TOKEN)",
            "runner.environment[3] (db_password)", "runner.environment[4] (APP_SECRET)", "runner.environment[5] (SECRET)",
            "runner.environment[6] (DB_PASSWORD)", "docker.services[0].environment[0] (POSTGRES_PASSWORD)"])
        tmp = tempfile.mkdtemp()
        with self.assertRaisesRegex(ValueError, r"answers_content\.runner\.environment\[1\] \(DOCKER_AUTH_CONFIG\)") as cm:
            r.write_answers(bad, tmp)
        for value in ("abc", "hunter2", "s3cr3t", '"auths"', "postgres"):
            self.assertNotIn("=" + value, str(cm.exception))
        self.assertEqual(os.listdir(tmp), [])

    def test_write_answers_is_private_and_refuses_literals(self):
        tmp = tempfile.mkdtemp()
        path = r.write_answers(self.answers, tmp)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        bad = copy.deepcopy(self.answers)
        bad["gitlab"]["token"] = "glrt-literal"
        with self.assertRaisesRegex(ValueError, "answers_content.gitlab.token holds a literal secret") as cm:
            r.write_answers(bad, tmp)
        self.assertNotIn("glrt-literal", str(cm.exception))
        self.assertEqual(os.listdir(tmp), [os.path.basename(path)])


class FreshSystemIDTest(unittest.TestCase):
    def test_modes(self):
        for value, want in ((True, "always"), ("yes", "always"), ("always", "always"), (False, "never"), (None, "never"),
                            ("", "never"), ("no", "never"), ("if-cloned", "if-cloned"), ("IF-CLONED", "if-cloned")):
            self.assertEqual(r.fresh_system_id_mode(value), want, value)
        with self.assertRaisesRegex(ValueError, "fresh_system_id: .*sometimes.*always, never or if-cloned"):
            r.fresh_system_id_mode("sometimes")

    def test_finding_of_a_cloned_id(self):
        rc, data = fixture("check_cloned_id")
        self.assertEqual(rc, 3)
        self.assertEqual(r.system_id_finding(data), "systemid.cloned")

    def test_no_finding_for_this_hosts_id(self):
        _, data = fixture("check_findings")
        self.assertIsNone(r.system_id_finding(data), "a pass of the systemid check is no reason for a fresh id")
        self.assertIsNone(r.system_id_finding(None))


if __name__ == "__main__":
    unittest.main()
