# -*- coding: utf-8 -*-
# Shared code of the runnerup modules: run the runnerup binary, read its
# `-o json` output and turn it into Ansible results.
#
# Nothing here re-implements runnerup. Validation, live checks,
# registration, rendering, the safe writer and the redaction of secrets all
# happen in the binary; this file only builds its command line and maps its
# JSON, whose shape is runnerup's contract with automation (fields are only
# ever added).

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import os
import re
import tempfile

# The keys of `runnerup apply -o json` this collection reads, as paths
# ("checks[].id" is the id of each check). get_key() refuses any other, and
# the Go test internal/fleettest asserts that each one appears in real
# apply outputs, so a change of runnerup's JSON shape breaks a test rather
# than a fleet's playbooks.
APPLY_KEYS = (
    "dry_run",
    "changed",
    "config_toml",
    "config_toml.path",
    "config_toml.changed",
    "config_toml.created",
    "config_toml.backup",
    "config_toml.diff",
    "config_toml.before",
    "config_toml.after",
    "docker_config",
    "docker_config.path",
    "docker_config.changed",
    "docker_config.created",
    "docker_config.backup",
    "docker_config.diff",
    "docker_config.before",
    "docker_config.after",
    "system_id_file",
    "system_id_file.path",
    "system_id_file.changed",
    "system_id_file.created",
    "runner",
    "runner.name",
    "runner.action",
    "runner.system_id",
    "warnings",
    "warnings[].field",
    "warnings[].problem",
    "warnings[].fix",
    "warnings[].warning",
    "checks",
    "checks[].id",
    "checks[].status",
    "checks[].detail",
    "checks[].hint",
    "pruned",
    "pruned[].reason",
    "service",
    "service.restart_command",
    "next_steps",
    "service_action",
)

# The keys of runnerup's failure output (any command, `-o json`):
# {"ok": false, "error", "exit_code", "problems" | "check"}.
FAILURE_KEYS = (
    "ok",
    "error",
    "exit_code",
    "problems",
    "problems[].field",
    "problems[].problem",
    "problems[].fix",
    "check",
    "check.id",
    "check.problem",
    "check.hint",
    "checks",
)

# The keys of `runnerup probe -o json` and `runnerup check -o json`.
PROBE_KEYS = ("ok", "checks", "checks[].id", "checks[].status", "checks[].hint")
CHECK_KEYS = ("ok", "config", "findings", "findings[].id", "findings[].severity", "findings[].message", "checks",
              "checks[].id", "checks[].status", "checks[].finding")

# The files apply reports, in the order their diffs are shown.
FILE_KEYS = ("config_toml", "docker_config", "system_id_file")

# Answers keys that hold secrets. In answers_content they must be env: or
# file: references: module options are shown by -v and kept in facts.
SECRET_KEY = re.compile(r"(^|_)(token|password|secret)$")

# NAME=value list items (runner and service environment) whose value is a
# secret: the same rule, on the variable's name.
SECRET_VARIABLE = re.compile(r"^(?:docker_auth_config|(?:.*_)?(?:token|password|secret))$", re.IGNORECASE)

# The references a secret may be given as instead of its value.
REFERENCE_PREFIXES = ("env:", "file:")

# What the exit codes of runnerup mean (README, Exit codes).
EXIT_MEANING = {
    1: "internal error",
    2: "invalid input, nothing written",
    3: "a blocking check failed",
    4: "a write failed, previous files intact",
    130: "interrupted, nothing written",
}


class ContractError(Exception):
    """The module asked for a key it did not declare in its contract."""


def get_key(data, path, contract=APPLY_KEYS):
    """Returns data's value at path ("runner.action"), None when absent.

    Only declared paths may be read, so the declared contract is exactly
    what the module depends on."""
    if path not in contract:
        raise ContractError("key %s is not in the declared contract" % path)
    value = data
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _items(data, path, field, contract):
    """Yields field of every element of the list at path."""
    if "%s[].%s" % (path, field) not in contract:
        raise ContractError("key %s[].%s is not in the declared contract" % (path, field))
    for item in get_key(data, path, contract) or []:
        if isinstance(item, dict):
            yield item


# --- answers_content: a dict rendered to TOML -------------------------------

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_key(key):
    key = str(key)
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def _toml_value(value, where):
    # bool before int: bool is an int in Python.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        # JSON's escapes (\" \\ \b \f \n \r \t \u00XX) are all valid in
        # TOML basic strings.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v, "%s[%d]" % (where, i)) for i, v in enumerate(value)) + "]"
    raise ValueError("answers_content.%s: %s values cannot be written to TOML; use a string, number, "
                     "boolean, list or mapping" % (where, type(value).__name__))


def _is_table_list(value):
    return isinstance(value, (list, tuple)) and len(value) > 0 and all(isinstance(v, dict) for v in value)


def _emit_table(lines, path, table, header):
    """Appends table's keys: scalars first, then sub-tables, then arrays of
    tables, as TOML requires. None values are left out: an absent key
    leaves that setting in config.toml as it is."""
    scalars, tables, table_lists = [], [], []
    for key, value in table.items():
        if value is None:
            continue
        if isinstance(value, dict):
            tables.append((key, value))
        elif _is_table_list(value):
            table_lists.append((key, value))
        else:
            scalars.append((key, value))
    where = ".".join(str(p) for p in path)
    if header:
        if lines:
            lines.append("")
        lines.append(header)
    for key, value in scalars:
        lines.append("%s = %s" % (_toml_key(key), _toml_value(value, "%s.%s" % (where, key) if where else key)))
    for key, value in tables:
        sub = path + [key]
        has_scalars = any(not isinstance(v, dict) and not _is_table_list(v) and v is not None for v in value.values())
        _emit_table(lines, sub, value, "[%s]" % ".".join(_toml_key(p) for p in sub) if has_scalars or not value else None)
    for key, value in table_lists:
        sub = path + [key]
        for item in value:
            _emit_table(lines, sub, item, "[[%s]]" % ".".join(_toml_key(p) for p in sub))


def to_toml(answers, name="answers_content"):
    """Renders an answers mapping as a TOML document."""
    if not isinstance(answers, dict):
        raise ValueError("%s must be a mapping (the answers file's tables as YAML), not %s"
                         % (name, type(answers).__name__))
    lines = []
    _emit_table(lines, [], answers, None)
    return "\n".join(lines) + "\n"


def literal_secrets(answers, path=""):
    """Lists the answers paths whose secret value is a literal rather than an
    env: or file: reference: a secret key's value, or a NAME=value list item
    (an environment entry) whose NAME is a secret's, as "path (NAME)". The
    values themselves are never part of the answer."""
    found = []
    if isinstance(answers, dict):
        for key, value in answers.items():
            where = "%s.%s" % (path, key) if path else str(key)
            if isinstance(value, str) and SECRET_KEY.search(str(key)):
                if value and not value.startswith(REFERENCE_PREFIXES):
                    found.append(where)
            else:
                found.extend(literal_secrets(value, where))
    elif isinstance(answers, (list, tuple)):
        for i, value in enumerate(answers):
            where = "%s[%d]" % (path, i)
            if isinstance(value, str):
                # A reference is a whole value (env:NAME holding NAME=value):
                # runnerup leaves NAME=env:X as it is, so that is refused too.
                name, sep, item = value.partition("=")
                if sep and item and not value.startswith(REFERENCE_PREFIXES) and SECRET_VARIABLE.match(name.strip()):
                    found.append("%s (%s)" % (where, name.strip()))
                continue
            found.extend(literal_secrets(value, where))
    return found


def write_answers(answers, tmpdir):
    """Writes answers_content to a 0600 file in tmpdir; returns its path."""
    problems = literal_secrets(answers)
    if problems:
        raise ValueError(
            "answers_content.%s holds a literal secret: module options show with -v and stay in registered "
            "results; write an env: reference (e.g. env:REGISTRY_PASSWORD; for a NAME=value list item the whole "
            "item, e.g. env:RUNNER_ENV_DOCKER_AUTH_CONFIG holding NAME=value) and pass the value in the "
            "environment option, which is no_log" % ", answers_content.".join(problems))
    text = to_toml(answers)
    # mkstemp creates the file 0600: nobody else reads it even briefly.
    fd, path = tempfile.mkstemp(prefix="runnerup-answers-", suffix=".toml", dir=tmpdir)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


@contextlib.contextmanager
def answers_file(module):
    """The answers file of this run: the answers option, or answers_content
    written to a 0600 file in the module's temporary directory and removed
    afterwards. None when neither is set."""
    content = module.params.get("answers_content")
    if content is None:
        yield module.params.get("answers")
        return
    try:
        path = write_answers(content, module.tmpdir)
    except ValueError as e:
        module.fail_json(msg=str(e))
    try:
        yield path
    finally:
        os.unlink(path)


# --- fresh_system_id ---------------------------------------------------------

# The systemid check's findings whose remedy is a fresh id (the id is
# another host's, baked into an image everyone shares, or unreadable).
FRESH_ID_FINDINGS = ("systemid.cloned", "systemid.shared", "systemid.invalid")

_ALWAYS = ("always", "true", "yes", "on", "1")
_NEVER = ("never", "false", "no", "off", "0", "")


def fresh_system_id_mode(value):
    """The fresh_system_id option as always, never or if-cloned (booleans
    and their YAML spellings are always and never)."""
    if value is None or isinstance(value, bool):
        return "always" if value else "never"
    word = str(value).strip().lower()
    if word in _ALWAYS:
        return "always"
    if word in _NEVER:
        return "never"
    if word == "if-cloned":
        return word
    raise ValueError("fresh_system_id: %r is not a mode; use always, never or if-cloned (write a fresh id only when "
                     "runnerup finds the current one cloned, shared or invalid)" % (value,))


def system_id_finding(check_data):
    """The finding of `runnerup check -o json`'s systemid check when it asks
    for a fresh id, else None."""
    if not isinstance(check_data, dict):
        return None
    for c in _items(check_data, "checks", "finding", CHECK_KEYS):
        if c.get("id") == "systemid" and c.get("finding") in FRESH_ID_FINDINGS:
            return c.get("finding")
    return None


# --- running runnerup -------------------------------------------------------

def find_binary(module, binary):
    """The runnerup executable: a path, or a name looked up on PATH."""
    if os.sep in binary:
        if not os.access(binary, os.X_OK):
            module.fail_json(msg="binary %s is not an executable file; install runnerup (the runner role does) or "
                                 "set binary to its path" % binary)
        return binary
    return module.get_bin_path(binary, required=True)


def path_flags(params):
    """--config, --docker-config and --timeout for the options that are set
    (a module without one of them simply has no such key)."""
    argv = []
    for flag, option in (("--config", "config"), ("--docker-config", "docker_config"), ("--timeout", "timeout")):
        if params.get(option):
            argv += [flag, params[option]]
    return argv


def secret_environment(module):
    """The environment option as strings, for env: references."""
    env = {}
    for key, value in (module.params.get("environment") or {}).items():
        if value is None:
            continue
        env[str(key)] = str(value)
    return env


def run_json(module, argv):
    """Runs runnerup with -o json and the environment option; returns (rc,
    data, stdout, stderr), data None when stdout is not JSON."""
    env = secret_environment(module)
    env["NO_COLOR"] = "1"
    rc, stdout, stderr = module.run_command(argv + ["-o", "json"], environ_update=env)
    try:
        data = json.loads(stdout)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        data = None
    return rc, data, stdout, stderr


def finish(module, result):
    """Ends the module with result: fail_json when it says failed."""
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


def failure_message(command, rc, data, stderr=""):
    """A one-line message for a failed run: the failed check's id, problem
    and hint, or every invalid field, and the exit code."""
    meaning = EXIT_MEANING.get(rc, "exit code %d" % rc)
    if data is None:
        tail = (stderr or "").strip().splitlines()[-3:]
        return "runnerup %s failed (exit %d: %s) without JSON output: %s" % (command, rc, meaning, " | ".join(tail))
    parts = []
    check = get_key(data, "check", FAILURE_KEYS)
    if isinstance(check, dict):
        text = "%s: %s" % (get_key(data, "check.id", FAILURE_KEYS), get_key(data, "check.problem", FAILURE_KEYS))
        hint = get_key(data, "check.hint", FAILURE_KEYS)
        if hint:
            text += " (hint: %s)" % hint
        parts.append(text)
    for p in _items(data, "problems", "field", FAILURE_KEYS):
        text = "%s: %s" % (p.get("field"), p.get("problem"))
        if p.get("fix"):
            text += " (fix: %s)" % p.get("fix")
        parts.append(text)
    if not parts:
        error = get_key(data, "error", FAILURE_KEYS)
        if error:
            parts.append(str(error))
    return "runnerup %s failed (exit %d: %s): %s" % (command, rc, meaning, "; ".join(parts))


def failed_checks(data, contract):
    """The checks with status fail, as 'id: detail (hint: …)' strings."""
    out = []
    for c in _items(data, "checks", "status", contract):
        if c.get("status") == "fail":
            text = "%s: %s" % (c.get("id"), c.get("detail"))
            if c.get("hint"):
                text += " (hint: %s)" % c.get("hint")
            out.append(text)
    return out


def apply_outcome(rc, data, stderr="", diff_mode=False):
    """Maps one `runnerup apply -o json` run to the module's result.

    Returns a dict with failed and msg set on failure. changed comes from
    apply's changed (what was written, or with --dry-run what would be);
    with diff_mode the result's diff holds, for each changed file, the
    redacted before and after texts (apply --diff-texts) or else apply's
    redacted unified diff as prepared."""
    if data is None or get_key(data, "ok", FAILURE_KEYS) is False:
        result = {"failed": True, "changed": False, "rc": rc, "msg": failure_message("apply", rc, data, stderr)}
        if data is not None:
            for key in ("check", "problems", "checks"):
                value = get_key(data, key, FAILURE_KEYS)
                if value is not None:
                    result[key] = value
        return result

    result = {
        "changed": bool(get_key(data, "changed")),
        "dry_run": bool(get_key(data, "dry_run")),
        "rc": rc,
        "runner": get_key(data, "runner") or {},
        "checks": get_key(data, "checks") or [],
        # Ansible shows a result's warnings (strings) as [WARNING] lines.
        "warnings": answer_warnings(data),
        "next_steps": get_key(data, "next_steps") or [],
        "service": get_key(data, "service"),
        "service_action": get_key(data, "service_action") or "none",
        "pruned": pruned_entries(data),
    }
    files = {}
    diffs = []
    for key in FILE_KEYS:
        change = get_key(data, key)
        if not isinstance(change, dict):
            continue
        files[key] = dict((field, get_key(data, "%s.%s" % (key, field)))
                          for field in ("path", "changed", "created", "backup")
                          if "%s.%s" % (key, field) in APPLY_KEYS)
        diff = get_key(data, key + ".diff") if key + ".diff" in APPLY_KEYS else None
        if diff:
            path = get_key(data, key + ".path")
            entry = {"before_header": path, "after_header": path}
            before, after = get_key(data, key + ".before"), get_key(data, key + ".after")
            if isinstance(before, str) and isinstance(after, str):
                # apply --diff-texts: the whole files, redacted by runnerup;
                # Ansible diffs them itself and shows them side by side.
                entry["before"], entry["after"] = before, after
            else:
                entry["prepared"] = diff
            diffs.append(entry)
    result["files"] = files
    if diff_mode:
        result["diff"] = diffs
    if rc != 0:
        # apply --wait-contact exits 3 after writing when the runner did
        # not contact GitLab in time: the files changed, the task failed.
        failed = failed_checks(data, APPLY_KEYS)
        result["failed"] = True
        result["msg"] = "runnerup apply exited %d (%s): %s" % (
            rc, EXIT_MEANING.get(rc, "exit code %d" % rc), "; ".join(failed) or "see checks")
    return result


def pruned_entries(data):
    """The entries apply removed, each {name, url, token (redacted), reason}
    with reason stale, duplicate or empty-token (which prune rule)."""
    return [dict(p) for p in _items(data, "pruned", "reason", APPLY_KEYS)]


def answer_warnings(data):
    """apply's warnings about the answers, as 'field: problem (fix)'."""
    out = []
    for w in _items(data, "warnings", "warning", APPLY_KEYS):
        if w.get("warning"):
            text = "%s: %s" % (w.get("field"), w.get("problem"))
            if w.get("fix"):
                text += " (%s)" % w.get("fix")
            out.append(text)
    return out


def readonly_outcome(command, rc, data, stderr, contract, fail_on_problems):
    """Maps `runnerup probe|check -o json` to a result: changed is always
    false; failed when runnerup could not run, or when it found problems
    (exit 3) and fail_on_problems is set."""
    if data is None or (get_key(data, "ok", FAILURE_KEYS) is False and get_key(data, "exit_code", FAILURE_KEYS)):
        return {"failed": True, "changed": False, "rc": rc, "msg": failure_message(command, rc, data, stderr)}
    result = {"changed": False, "rc": rc, "ok": bool(get_key(data, "ok", contract)),
              "checks": get_key(data, "checks", contract) or []}
    if command == "check":
        result["config"] = get_key(data, "config", contract)
        result["findings"] = get_key(data, "findings", contract) or []
    problems = failed_checks(data, contract)
    if command == "check":
        for f in _items(data, "findings", "severity", contract):
            if f.get("severity") != "info":
                problems.append("%s: %s" % (f.get("id"), f.get("message")))
        for c in _items(data, "checks", "status", contract):
            if c.get("status") == "warn":
                problems.append("%s: warn" % c.get("id"))
    result["problems"] = problems
    if not result["ok"]:
        result["msg"] = "runnerup %s found problems (exit %d): %s" % (command, rc, "; ".join(problems) or "see checks")
        if fail_on_problems:
            result["failed"] = True
    elif rc != 0:
        result["failed"] = True
        result["msg"] = "runnerup %s exited %d (%s)" % (command, rc, EXIT_MEANING.get(rc, "exit code %d" % rc))
    return result
