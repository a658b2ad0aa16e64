"""A full temporary folder while DuckDB moves data there (files.spill_folder): one sentence
naming the folder, exit 3, nothing written; never DuckDB's words, never exit 4.

DuckDB's texts below were recorded by hand on a 5 MB tmpfs (``mount -t tmpfs -o size=5m``
as TMPDIR, a sort of 3 million rows under a 60 MB memory limit): with little space free from
the start DuckDB caps its folder at that space and reports an out-of-memory error naming
``max_temp_directory_size``; when the disk fills while it writes (the cap lifted, or another
program filling the disk) it is an I/O error "No space left on device".  The tests inject these
errors where DuckDB raises them (the plan's run, and the CSV's COPY), so no disk is filled.
"""

from __future__ import annotations

import duckdb
import pytest

from conftest import POLICY_FILES
from perfrules import files

OFFLOAD = ("Out of Memory Error: failed to offload data block of size 256.0 KiB (4.2 MiB/4.5 MiB used).\n"
           "This limit was set by the 'max_temp_directory_size' setting.\n"
           "By default, this setting utilizes the available disk space on the drive where the 'temp_directory' "
           "is located.\nYou can adjust this setting, by using (for example) PRAGMA max_temp_directory_size='10GiB'")


def no_space(folder) -> str:
    return f'IO Error: Could not write file "{folder}/duckdb_temp_16631_0_storage_DEFAULT-0.tmp": No space left on device'


@pytest.fixture
def evaluation(tmp_path):
    from conftest import REPO

    (tmp_path / "policies").mkdir()
    for policy in POLICY_FILES:
        (tmp_path / "policies" / policy.name).write_bytes(policy.read_bytes())

    (tmp_path / "data.csv").write_bytes((REPO / "examples" / "agents.csv").read_bytes())
    return tmp_path


def fail_on(monkeypatch, statement_start: str, make_error):
    """DuckDB connections whose statement starting with ``statement_start`` raises ``make_error()``."""
    from perfrules.engine import run

    opened = run.open_connection

    class Connection:
        def __init__(self, real):
            self.real = real

        def execute(self, sql, *arguments):
            if sql.lstrip().startswith(statement_start):
                raise make_error()
            return self.real.execute(sql, *arguments)

        def __getattr__(self, name):
            return getattr(self.real, name)

    monkeypatch.setattr(run, "open_connection", lambda *arguments: Connection(opened(*arguments)))


def expected_message() -> str:
    files.spill_folder()
    folder = files._spill_root[0].parent
    return (f"perfrules: error: the temporary folder {folder} is full: evaluating this data needs room there for "
            f"what does not fit in memory (hint: free some space in {folder}, or set TMPDIR to a folder on a "
            f"larger disk)\n")


@pytest.mark.parametrize("kind", ["offload", "no space"])
def test_a_full_temporary_folder_while_evaluating(run_cli, evaluation, monkeypatch, kind):
    expected = expected_message()
    spill = files._spill_root[0]
    fail_on(monkeypatch, "CREATE OR REPLACE TEMP TABLE result_",
            lambda: duckdb.OutOfMemoryException(OFFLOAD) if kind == "offload" else duckdb.IOException(no_space(spill)))
    result = run_cli("evaluate", "policies", "data.csv", "-o", "out.json", cwd=evaluation)
    assert (result.exit_code, result.stderr) == (3, expected)
    assert not (evaluation / "out.json").exists()


def test_a_full_temporary_folder_while_writing_the_csv(run_cli, evaluation, monkeypatch):
    expected = expected_message()
    fail_on(monkeypatch, "COPY (", lambda: duckdb.OutOfMemoryException(OFFLOAD))
    result = run_cli("evaluate", "policies", "data.csv", "-o", "out.csv", cwd=evaluation)
    assert (result.exit_code, result.stderr) == (3, expected)
    assert sorted(path.name for path in evaluation.iterdir()) == ["data.csv", "policies"]


def test_a_full_disk_elsewhere_is_not_called_the_temporary_folder():
    files.spill_folder()
    assert files.temporary_folder_full(duckdb.IOException(no_space("/srv/out"))) is None
    assert files.temporary_folder_full(duckdb.IOException(no_space(files._spill_root[0] / "db3"))) is not None
    assert files.temporary_folder_full(ValueError("something else")) is None
