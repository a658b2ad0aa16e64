"""A non-editable install works from any folder: the grammar ships inside the wheel.

Builds a wheel, installs it into a fresh virtual environment (dependencies come from
the package index or pip's cache), then runs ``perfrules check`` from a folder
outside the checkout.  Slow (tens of seconds), so it runs once per suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile

import pytest

from conftest import POLICIES, POLICY_FILES, REPO

pytestmark = pytest.mark.slow


def run(*command, cwd=None):
    # Without PYTHONPATH: the installed wheel is under test, not a checkout on the path.
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run([str(part) for part in command], cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=900)


def test_wheel_installs_and_checks_from_another_folder(tmp_path):
    wheels = tmp_path / "wheels"
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", wheels, REPO)
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("perfrules-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "perfrules/grammar/perfrules.lark" in names
    assert "perfrules/py.typed" in names
    assert any(".dist-info/" in name and name.endswith("/LICENSE") for name in names)

    environment = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(environment)
    python = environment / "bin" / "python"
    installed = run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel)
    assert installed.returncode == 0, installed.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    checked = run(environment / "bin" / "perfrules", "check", POLICIES, cwd=elsewhere)
    assert checked.returncode == 0, checked.stderr
    count = len(POLICY_FILES)
    assert checked.stderr == f"checked {count} policy files: no problems\n"

    location = run(python, "-c", "import perfrules.resources as r; print(r.grammar_path())", cwd=elsewhere)
    assert location.stdout.strip().startswith(str(environment))

    # one version: the wheel's metadata, the package and the command line
    from perfrules import __version__

    metadata = run(python, "-c", "import importlib.metadata as m, perfrules; print(m.version('perfrules'), perfrules.__version__)")
    assert metadata.stdout.split() == [__version__, __version__]
    shown = run(environment / "bin" / "perfrules", "--version", cwd=elsewhere)
    assert shown.stdout == f"perfrules, version {__version__}\n"
