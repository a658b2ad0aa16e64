"""What the package declares matches what it is: one version everywhere, every third-party
module that the code imports is a declared dependency, the licence and the type marker
ship (issue 8).  The wheel itself is built and installed in test_install.py."""

from __future__ import annotations

import ast
import json
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from conftest import CASES, REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_one_version_for_the_package_the_command_and_the_results(run_cli):
    from perfrules import __version__

    assert "version" in PYPROJECT["project"]["dynamic"] and "version" not in PYPROJECT["project"]
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "src/perfrules/__init__.py"
    shown = run_cli("--version")
    assert (shown.exit_code, shown.stdout) == (0, f"perfrules, version {__version__}\n")
    good = CASES / "evaluate" / "spec-complete-example"
    document = json.loads(run_cli("evaluate", "policy.perf", "data.csv", cwd=good).stdout)
    assert document["perfrules"] == __version__


def test_every_imported_package_is_declared():
    declared = {normalised(re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0])
                for requirement in PYPROJECT["project"]["dependencies"]}
    distributions = packages_distributions()
    imported = set()
    for path in (REPO / "src" / "perfrules").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = sorted(name for name in imported if name not in sys.stdlib_module_names and name != "perfrules")
    missing = [name for name in third_party
               if not {normalised(dist) for dist in distributions.get(name, [name])} & declared]
    assert missing == [], f"imported but not in pyproject's dependencies: {missing}"


def test_the_licence_and_the_type_marker_are_there():
    assert PYPROJECT["project"]["license"] == {"text": "Apache-2.0"}
    licence = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence
    assert (REPO / "src" / "perfrules" / "py.typed").is_file()


def test_every_resource_folder_ships_in_the_wheel():
    """The folders that resources.resource_dir finds in a checkout (grammar, report templates,
    the starter files of `perfrules init`) are copied into the package by the wheel build."""
    from perfrules.resources import resource_dir

    shipped = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert shipped == {"grammar": "perfrules/grammar", "templates": "perfrules/templates",
                       "starter": "perfrules/starter"}
    sdist = PYPROJECT["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]
    for folder in shipped:
        assert resource_dir(folder) == REPO / folder and folder in sdist
    # packaging tools drop hidden files: the starter names them dot-NAME
    assert not [path for path in (REPO / "starter").rglob(".*")]
