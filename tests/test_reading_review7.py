"""Regressions found reviewing the direct CSV reading (session 7): a row lost without a word, and Ctrl-C.

DuckDB 2.0's CSV reader drops a last line longer than its 32 MB buffer without an error, on every
route (typed numbers or text): the agent on it is simply missing from the results.  The direct
route's new row count (lines against rows) sees it, but then reads the file as text, which has no
such count, and the exact route has none either.  A user must get the same refusal as for a 3 MB
line (docs/evaluation.md 4.4), never results without that agent.

The receipt's ``data_sha256`` is now read by a thread that starts before DuckDB reads the rows: a
file replaced in between (same number of lines) is evaluated as it is now, but the receipt names the
file as it was (f7002dc hashed the file after the view was made, before DuckDB read it, and agreed).

Ctrl-C while DuckDB runs a query surfaces as ``RuntimeError: Query interrupted``, which cli.py
reports as a bug (exit 4), where docs/evaluation.md says exit 130, ``perfrules: interrupted``.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
from unittest import mock

from perfrules.data import reading

from test_cli_errors import perfrules
from test_decimal_reader import plain_file, with_cell
from test_fuzz_data import AFTER_SALES, run_evaluate
from test_fuzz_routes import outcome

TOO_LONG = ("data.csv: the CSV file cannot be read: CSV Error on Line: {line}: the line is longer than "
            "2,000,000 bytes, the most a row may have\n1 data problem: nothing was written\n")


def test_a_40_mb_last_line_is_refused_not_dropped(tmp_path):
    """Row 31 (agent A029) holds a 40 MB name; a 3 MB one is refused with its line: so must this be."""
    data = ("\n".join(with_cell(plain_file(30), 31, "name", "x" * 40_000_000)) + "\n").encode()
    fast = outcome(run_evaluate(tmp_path, AFTER_SALES, "data.csv", data, "--format", "csv"))
    with mock.patch("perfrules.data.reading._direct_csv", return_value=None):
        exact = outcome(run_evaluate(tmp_path, AFTER_SALES, "data.csv", data, "--format", "csv"))
    for code, stdout, stderr in (fast, exact):
        assert (code, stderr) == (3, TOO_LONG.format(line=31)), f"{stdout.count(chr(10)) - 1} agents written"
        assert stdout == ""


def test_the_receipt_names_the_file_that_was_evaluated(tmp_path):
    """The file is replaced (base_salary 6000 -> 7000, same lines) after the direct route has set up
    its reading and before DuckDB reads it: the results use 7000, so must the receipt's sha256 (or
    the run must refuse a file that changed while it was read)."""
    original = ("\n".join(plain_file(30)) + "\n").encode()
    replaced = original.replace(b",6000\n", b",7000\n")
    direct_csv = reading._direct_csv

    def then_replace(*arguments, **keywords):
        raw = direct_csv(*arguments, **keywords)
        if raw is not None:
            raw.scan.result()  # the scan has read the file as it was
            (tmp_path / "new.csv").write_bytes(replaced)
            os.replace(tmp_path / "new.csv", tmp_path / "data.csv")
        return raw

    with mock.patch.object(reading, "_direct_csv", then_replace):
        result = run_evaluate(tmp_path, AFTER_SALES, "data.csv", original, "--format", "json")
    if result.exit_code == 3:
        return  # refused: fine
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["results"][0]["bonus_total"] == 1400.0  # 20 % of 7000: the replaced file was evaluated
    assert document["data_sha256"] == hashlib.sha256(replaced).hexdigest()


# A query that runs for minutes, started in prepare_rows on the evaluation's own connection; the
# process sends itself SIGINT (what Ctrl-C does) while DuckDB runs it.
INTERRUPT_IN_A_QUERY = """
import os, signal, threading, perfrules.data.validate as validate
prepare = validate.prepare_rows
def slow(connection, *a, **k):
    threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    connection.execute("SELECT sum(i * i % 7) FROM range(100000000000) t(i)").fetchall()
    return prepare(connection, *a, **k)
validate.prepare_rows = slow
import perfrules.engine.run as run
run.prepare_rows = slow
"""


def test_ctrl_c_while_duckdb_runs_a_query():
    process = perfrules("evaluate", "policy.perf", "data.csv", prelude=INTERRUPT_IN_A_QUERY,
                        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    stdout, stderr = process.communicate(timeout=120)
    assert (process.returncode, stdout, stderr) == (130, "", "perfrules: interrupted\n")


def test_a_file_changed_while_the_exact_route_reads_it_is_refused(tmp_path):
    """Read the exact way (a GB18030 file with a title row), the file is saved again between its
    reading and its sha256: the receipt could not name the bytes evaluated, so the run refuses, exit 3."""
    from perfrules.engine import run as engine

    original = ("考核表\n" + "\n".join(plain_file(30)) + "\n").encode("gb18030")
    hashed = engine.sha256_file

    def saved_again_then_hashed(path):
        path.write_bytes(original.replace(b",6000\n", b",7000\n"))
        return hashed(path)

    with mock.patch.object(engine, "sha256_file", saved_again_then_hashed):
        result = run_evaluate(tmp_path, AFTER_SALES, "data.csv", original, "--format", "csv", "--header-row", "2")
    assert (result.exit_code, result.stdout) == (3, "")
    assert result.stderr == ("data.csv: changed while it was being read; evaluate it again once it is saved\n"
                             "1 data problem: nothing was written\n")
