"""The checker's analysis is the only analysis (docs/architecture.md): outside
perfrules/check/, no module collects symbols again or re-runs the kind checker; they read
the checked PolicyModel."""

from __future__ import annotations

import re

from conftest import REPO

SOURCE = REPO / "src" / "perfrules"
PASSES = re.compile(r"\b(collect_symbols|KindChecker|check_expressions|measured_value)\b")


def test_no_module_outside_the_checker_re_runs_its_passes():
    offenders = []
    for path in sorted(SOURCE.rglob("*.py")):
        if path.parent.name == "check":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if PASSES.search(line):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert offenders == []
