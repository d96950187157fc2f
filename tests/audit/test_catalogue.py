"""Every event Warden writes is named through the catalogue (``audit.actions``), never by a string.

The source of Warden's packages is read (not imported), so a ``record("x.y", ...)`` added anywhere,
or an f-string such as ``f"{kind}.purged"``, fails here before an auditor's filter misses it.
"""

import ast
from pathlib import Path

from audit import actions

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("accounts", "audit", "config", "experiments", "notifications", "registry")
# The audit log's writer and the helpers that hand their first argument straight to it.
WRITERS = {"record", "_record", "_audit"}


def _source_files():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _called_name(call: ast.Call) -> str:
    function = call.func
    return function.id if isinstance(function, ast.Name) else function.attr if isinstance(function, ast.Attribute) else ""


def _is_text(node) -> bool:
    """A literal, an f-string or text glued together: a name the catalogue does not hold."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _is_text(node.left) or _is_text(node.right)
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"


def _catalogue_names(tree) -> list[tuple[int, str]]:
    """``actions.NAME`` references of a module, with their lines."""
    return [
        (node.lineno, node.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "actions"
    ]


def _writes(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called_name(node) in WRITERS and node.args:
            yield node


def test_the_scan_reads_the_writers():
    """The scan finds the known writers, so an empty result below means something."""
    found = {path.relative_to(ROOT).as_posix() for path in _source_files() if any(_writes(ast.parse(path.read_text())))}
    assert {"experiments/purge.py", "audit/governance.py", "accounts/sso/mappings.py", "notifications/webhooks/services.py"} <= found
    assert len(found) >= 15


def test_no_event_is_named_by_a_string():
    offenders = []
    for path in _source_files():
        for call in _writes(ast.parse(path.read_text())):
            if _is_text(call.args[0]):
                offenders.append(f"{path.relative_to(ROOT)}:{call.lineno}: {ast.unparse(call.args[0])}")
    assert not offenders, "name the action through audit.actions: " + "; ".join(offenders)


def test_every_catalogue_name_used_exists():
    missing = []
    for path in _source_files():
        tree = ast.parse(path.read_text())
        if not any(isinstance(node, ast.ImportFrom) and node.module == "audit" and any(a.name == "actions" for a in node.names)
                   for node in ast.walk(tree)):
            continue
        missing += [f"{path.relative_to(ROOT)}:{line}: actions.{name}" for line, name in _catalogue_names(tree) if not hasattr(actions, name)]
    assert not missing


def test_the_detector_catches_literals_and_f_strings():
    calls = [ast.parse(text).body[0].value for text in (
        'record("webhook.created", actor=None)', 'record(f"{kind}.purged")', 'record("run." + verb)',
        'record("{}.purged".format(kind))', "record(actions.RUN_PURGED)", "record(_BATCH_PURGED[kind])", "record(action)",
    )]
    assert [_is_text(call.args[0]) for call in calls] == [True, True, True, True, False, False, False]
