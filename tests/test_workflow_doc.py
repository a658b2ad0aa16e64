"""docs/workflow.md shows real output: every ``$ command`` of its ``console`` blocks is run, in
order, in a fresh folder (git with a fixed author and dates, so that commit ids are the
same every time), and what it prints (stdout and stderr, as a terminal shows them) must be
the text below it.  Every perfrules command the page names exists in ``perfrules --help``.

An output written before its command worked is marked ``(output to be refreshed once …)``:
it is accepted while a perfrules command it names is missing from this build, or while the
command line is refused (exit 2, as for a ``REV:PATH`` not yet understood); as soon as the
command works the test fails until the real output replaces the mark.  Set
PERFRULES_UPDATE_GOLDEN=1 to write the outputs into the page; read the diff.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


from conftest import REPO, UPDATE_GOLDEN, command_environment

PAGE = REPO / "docs" / "workflow.md"
PENDING = re.compile(r"^\(output to be refreshed once (?P<needs>[^)]*)\)$")
COMMAND_NAMED = re.compile(r"(?:`|^\$ |^ *)perfrules (?P<name>[a-z]+)\b", re.M)  # in code, or a command line
HELP_COMMAND = re.compile(r"^  (?P<name>[a-z]+)  ", re.M)


@dataclass
class Step:
    command: str
    output: list[str]
    line: int  # of the command, in the page (0-based)


def console_steps(lines: list[str]) -> list[Step]:
    steps: list[Step] = []
    inside = False
    for number, line in enumerate(lines):
        if line.startswith("```"):
            inside = line.strip() == "```console" if not inside else False
            continue
        if not inside:
            continue
        if line.startswith("$ "):
            steps.append(Step(line[2:], [], number))
        else:
            steps[-1].output.append(line)
    return steps


def run_step(step: Step, cwd: Path, env: dict[str, str], place: Path) -> tuple[int, list[str], Path]:
    """Run one command in bash from ``cwd``; its exit code, output lines and the folder it ends in."""
    script = f"{step.command}\nstatus=$?\npwd > '{place}'\nexit $status\n"
    done = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=300)
    text = done.stdout.decode("utf-8")
    lines = text.splitlines()
    return done.returncode, lines, Path(place.read_text(encoding="utf-8").strip())


def missing_commands(needs: str) -> list[str]:
    from perfrules.cli import main

    return [name for name in re.findall(r"\b[a-z]+\b", needs.split("perfrules", 1)[-1])
            if name in ("fmt", "test", "diff") and name not in main.commands]


def test_every_command_of_the_page_prints_what_the_page_shows(tmp_path):
    lines = PAGE.read_text(encoding="utf-8").splitlines()
    steps = console_steps(lines)
    assert len(steps) >= 20
    env = command_environment(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    cwd, place = work, tmp_path / "cwd"
    differences, rewritten = [], {}
    for step in steps:
        code, printed, cwd = run_step(step, cwd, env, place)
        shown = "\n".join(step.output)
        pending = PENDING.match(shown)
        if pending and (missing_commands(pending["needs"]) or code == 2):
            continue  # not built yet: the mark stays
        if UPDATE_GOLDEN:
            rewritten[step.line] = printed
        elif printed != step.output:
            differences.append(f"docs/workflow.md:{step.line + 1}: $ {step.command}\n  shows: {step.output}\n"
                               f"  prints (exit {code}): {printed}")
    if UPDATE_GOLDEN:
        for step in reversed(steps):
            if step.line in rewritten:
                lines[step.line + 1:step.line + 1 + len(step.output)] = rewritten[step.line]
        PAGE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert differences == [], ("the page shows other output than the commands print (refresh with "
                               "PERFRULES_UPDATE_GOLDEN=1 and read the diff):\n" + "\n".join(differences))


def listed_commands() -> set[str]:
    from perfrules.cli import main

    listed = set(HELP_COMMAND.findall(subprocess.run(
        [sys.executable, "-m", "perfrules", "--help"], capture_output=True, text=True, check=True,
        env=dict(os.environ, PYTHONPATH=str(REPO / "src"))).stdout))
    assert listed == set(main.commands)
    return listed


def test_every_perfrules_command_the_page_names_is_in_the_help():
    page = PAGE.read_text(encoding="utf-8")
    named = set(COMMAND_NAMED.findall(page))
    pending = {name for line in page.splitlines() if (mark := PENDING.match(line))
               for name in missing_commands(mark["needs"])}
    assert named - listed_commands() == pending
    assert {"init", "check", "evaluate"} <= named


def test_every_perfrules_command_of_the_starter_readmes_is_in_the_help():
    for language in ("zh", "en"):
        named = set(COMMAND_NAMED.findall((REPO / "starter" / language / "README.md").read_text(encoding="utf-8")))
        assert {"check", "evaluate", "report", "fmt", "test", "diff"} <= named
        assert named - listed_commands() == set(missing_commands("perfrules fmt test diff"))


def test_the_marks_name_what_they_wait_for():
    for step in console_steps(PAGE.read_text(encoding="utf-8").splitlines()):
        shown = "\n".join(step.output)
        if "refreshed" in shown:
            assert PENDING.match(shown), f"docs/workflow.md:{step.line + 1}: a mark is the whole output"
