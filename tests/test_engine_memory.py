"""Memory of an evaluation: DuckDB's memory limit, its private spill folder, the text cells
released once typed (docs/performance.md: a million agents under 1 GB in every format).

The spill folder holds salary data when DuckDB runs out of memory, so it must be private,
tagged with the process id, and gone when the process is (even after SIGKILL: the next run
removes it).  Results with DuckDB forced to spill must be the results without.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from conftest import CASES

from perfrules.engine import run
from perfrules.workspace import load_policies

GOOD = CASES / "evaluate" / "spec-complete-example"
SRC = Path(__file__).resolve().parent.parent / "src"


def _evaluate(streamed: bool = False):
    loaded = load_policies([str(GOOD / "policy.perf")])
    policies = loaded.files if hasattr(loaded, "files") else loaded
    return run.evaluate_files(policies, GOOD / "data.csv", "data.csv", streamed=streamed)


def test_the_text_cells_are_released_once_the_rows_are_typed():
    evaluation = _evaluate()
    names = {name for (name,) in evaluation.connection.execute(
        "SELECT table_name FROM duckdb_tables() UNION ALL SELECT view_name FROM duckdb_views() WHERE temporary").fetchall()}
    assert not {name for name in names if name.startswith("raw_cells")}
    assert {"rows", "result_0"} <= names
    ranked = evaluation.connection.execute("SELECT _agent FROM result_0 ORDER BY rank, _agent").fetchall()
    assert [agent for (agent,) in ranked] == ["A001", "A005", "A003", "A002", "A006", "A004"]


def test_duckdb_has_a_memory_limit_and_a_private_spill_folder():
    evaluation = _evaluate()
    limit, folder = evaluation.connection.execute(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory')").fetchone()
    assert limit in ("610.3 MiB", "640.0 MB")  # DuckDB shows 640MB in its own units
    # A CSV written by DuckDB holds nothing in Python: its evaluation may keep more in memory.
    streamed = _evaluate(streamed=True)
    assert streamed.connection.execute("SELECT current_setting('memory_limit')").fetchone() == ("732.4 MiB",)
    root = Path(folder).parent
    assert root.name.startswith(".duckdb.perfrules-" + str(os.getpid()) + "-")
    assert stat.S_IMODE(root.stat().st_mode) == 0o700


def test_json_rows_are_held_by_python_first_so_their_csv_keeps_the_lower_limit(tmp_path):
    import csv
    import json

    with (GOOD / "data.csv").open(encoding="utf-8-sig", newline="") as handle:
        (tmp_path / "data.json").write_text(json.dumps(list(csv.DictReader(handle)), ensure_ascii=False),
                                            encoding="utf-8")
    loaded = load_policies([str(GOOD / "policy.perf")])
    evaluation = run.evaluate_files(loaded.files, tmp_path / "data.json", "data.json", streamed=True)
    assert evaluation.connection.execute("SELECT current_setting('memory_limit')").fetchone() == ("610.3 MiB",)


SPILL = """
import sys
from perfrules.engine.run import open_connection
connection = open_connection()
connection.execute("SET memory_limit = '100MB'")
connection.execute("CREATE TEMP TABLE big AS SELECT i, repeat('x', 40) || i AS text FROM range(3000000) t(i)")
(count, total) = connection.execute("SELECT count(*), sum(length(text)) FROM big").fetchone()
folder = connection.execute("SELECT current_setting('temp_directory')").fetchone()[0]
import os
print(folder, count, total, os.path.isdir(folder))
"""


def _python(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(SRC), "TMPDIR": str(tmp_path)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=300)


def test_a_spilling_run_is_exact_and_leaves_nothing_behind(tmp_path):
    done = _python(SPILL, tmp_path)
    assert done.returncode == 0, done.stderr
    folder, count, total, existed = done.stdout.split()
    assert (count, total, existed) == ("3000000", str(40 * 3_000_000 + sum(len(str(i)) for i in range(3_000_000))), "True")  # it did spill, and lost nothing
    assert Path(folder).is_relative_to(tmp_path)
    assert list(tmp_path.iterdir()) == []  # removed at exit


def test_a_spill_folder_left_by_a_killed_run_is_removed_by_the_next(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = tmp_path / f".duckdb.perfrules-{dead.stdout.strip()}-abc"
    (left / "db1").mkdir(parents=True)
    (left / "db1" / "duckdb_temp_storage.tmp").write_bytes(b"salaries")
    other = tmp_path / "someone-elses-folder"
    other.mkdir()
    done = _python("from perfrules.engine.run import open_connection; open_connection()", tmp_path)
    assert done.returncode == 0, done.stderr
    assert not left.exists()
    assert list(tmp_path.iterdir()) == [other]


NO_TEMP_FOLDER = """
import tempfile
def refuse(*arguments, **keywords):
    raise PermissionError(13, "Permission denied")
tempfile.mkdtemp = refuse
from perfrules.engine.run import open_connection
connection = open_connection()
print(repr(connection.execute("SELECT current_setting('temp_directory')").fetchone()[0]))
"""


def test_without_a_temp_folder_nothing_is_spilled_into_the_current_folder(tmp_path):
    done = _python(NO_TEMP_FOLDER, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "''"  # not DuckDB's default, `.tmp` in the current folder
