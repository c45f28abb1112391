"""What the package says it needs is what it needs: every third-party module it imports is a
declared dependency, and the supported Python range (requires-python) is the one README states,
the classifiers list and CI (.ci/run) tests at both ends."""

from __future__ import annotations

import ast
import re
import sys
import tomllib

from conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
IMPORT_NAMES = {"pyyaml": "yaml"}   # distributions whose module has another name


def declared_modules() -> set[str]:
    deps = PYPROJECT["dependencies"] + [d for extra in PYPROJECT["optional-dependencies"].values() for d in extra]
    names = {re.match(r"[A-Za-z0-9_.-]+", d).group(0).lower() for d in deps}
    return {IMPORT_NAMES.get(n, n.replace("-", "_")) for n in names}


def _optional(tree) -> set[int]:
    """ids of the nodes inside `try: … except ImportError:` (imports allowed to fail)."""
    return {id(inner) for node in ast.walk(tree) if isinstance(node, ast.Try)
            and any("ImportError" in ast.dump(h.type) for h in node.handlers if h.type is not None)
            for part in (node.body, *(h.body for h in node.handlers)) for stmt in part for inner in ast.walk(stmt)}


def imported_modules() -> set[str]:
    """The top-level modules forecast_cli imports unconditionally."""
    found = set()
    for path in (REPO / "forecast_cli").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        optional = _optional(tree)
        for node in ast.walk(tree):
            if id(node) in optional:
                continue
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def test_every_third_party_import_is_a_declared_dependency():
    third_party = {m for m in imported_modules() if m not in sys.stdlib_module_names and m != "forecast_cli"}
    assert third_party - declared_modules() == set()


def lowest() -> tuple[int, int]:
    match = re.fullmatch(r">=\s*3\.(\d+)", PYPROJECT["requires-python"].strip())
    assert match, PYPROJECT["requires-python"]
    return 3, int(match.group(1))


def test_this_python_is_supported():
    assert sys.version_info[:2] >= lowest()


def test_readme_states_the_supported_range_ci_tests():
    low = "%d.%d" % lowest()
    newest = re.search(r"^NEWEST=(3\.\d+)$", (REPO / ".ci" / "run").read_text(encoding="utf-8"), re.M).group(1)
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert f"Python {low} or newer (CI tests {low} and {newest})" in readme
    classifiers = set(PYPROJECT["classifiers"])
    assert {f"Programming Language :: Python :: {v}" for v in (low, newest)} <= classifiers
    older = "3.%d" % (lowest()[1] - 1)
    assert f"Programming Language :: Python :: {older}" not in classifiers


def test_ci_runs_readme_quickstart_test_command_verbatim():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    command = 'python3 -m venv .venv && . .venv/bin/activate && pip install ".[test]" && pytest'
    assert command in readme
    assert f"({command})" in (REPO / ".ci" / "run").read_text(encoding="utf-8")
