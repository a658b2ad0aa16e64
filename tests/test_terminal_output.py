"""Results printed on a terminal: no byte of a data cell acts on it.

A CSV keeps a cell's text as it is (a name holding ESC is that name), so ``evaluate --format csv``
and ``metrics`` without ``-o`` used to print an ESC sequence or a bidi override raw: on a
terminal, colours, an OSC 8 link, a cleared screen, a line that reads backwards.  On a terminal
they now show escaped (``\\x1b``), as messages show them; into a pipe or a file the bytes are
unchanged.  Each case runs perfrules in its own process with standard output on a pseudo-terminal.
"""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys

import pytest

from conftest import CASES, REPO

GOOD = CASES / "evaluate" / "spec-complete-example"
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src")}
HOSTILE = "\x1b]8;;https://evil.example\x07张三\x1b]8;;\x07\x1b[2J\u202e"


def on_terminal(*args: str, cwd) -> str:
    """Standard output of ``perfrules ARGS`` on a pseudo-terminal (no line ending translation)."""
    leader, follower = pty.openpty()
    import termios
    attributes = termios.tcgetattr(follower)
    attributes[1] &= ~termios.OPOST  # the terminal shows "\n" as it comes
    termios.tcsetattr(follower, termios.TCSANOW, attributes)
    process = subprocess.Popen([sys.executable, "-m", "perfrules", *args], cwd=cwd, env=ENV, stdout=follower,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=120)
    os.close(leader)
    assert process.returncode == 0, process.stderr.read()
    return b"".join(chunks).decode("utf-8")


@pytest.fixture
def hostile(tmp_path):
    folder = tmp_path / "case"
    shutil.copytree(GOOD, folder)
    data = folder / "data.csv"
    data.write_text(data.read_text(encoding="utf-8").replace("张三", HOSTILE), encoding="utf-8")
    return folder


def test_a_csv_on_a_terminal_shows_control_characters_escaped(hostile):
    shown = on_terminal("evaluate", "policy.perf", "data.csv", "--format", "csv", cwd=hostile)
    row = next(line for line in shown.splitlines() if line.startswith("A001,"))
    assert row.startswith("A001,\\x1b]8;;https://evil.example\\x07张三\\x1b]8;;\\x07\\x1b[2J\\u202e,agent,T1,")
    assert "\x1b" not in shown and "\u202e" not in shown and "\x07" not in shown


def test_a_csv_into_a_pipe_keeps_the_cell_as_it_is(hostile):
    piped = subprocess.run([sys.executable, "-m", "perfrules", "evaluate", "policy.perf", "data.csv", "--format", "csv"],
                           cwd=hostile, env=ENV, capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0, piped.stderr
    assert f"\nA001,{HOSTILE},agent,T1," in piped.stdout


def test_json_on_a_terminal_is_the_same_document(hostile):
    """JSON escapes control characters itself (``\\u001b``); the bidi override it leaves raw shows
    as ``\\u202e`` on a terminal, which is JSON's own escape of it: the same document."""
    import json

    shown = on_terminal("evaluate", "policy.perf", "data.csv", cwd=hostile)
    assert ('"name": "\\u001b]8;;https://evil.example\\u0007张三\\u001b]8;;\\u0007\\u001b[2J\\u202e",'
            in shown)
    piped = subprocess.run([sys.executable, "-m", "perfrules", "evaluate", "policy.perf", "data.csv"], cwd=hostile,
                           env=ENV, capture_output=True, text=True, timeout=120)
    assert "\u202e" in piped.stdout and json.loads(shown) == json.loads(piped.stdout)
