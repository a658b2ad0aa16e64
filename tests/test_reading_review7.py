"""Regressions found reviewing the direct CSV reading (session 7): a row lost without a word, and Ctrl-C.

DuckDB 2.0's CSV reader drops a last line longer than its 32 MB buffer without an error, on every
route (typed numbers or text): the agent on it is simply missing from the results.  The direct
route's new row count (lines against rows) sees it, but then reads the file as text, which has no
such count, and the exact route has none either.  A user must get the same refusal as for a 3 MB
line (docs/evaluation.md 4.4), never results without that agent.

Ctrl-C while DuckDB runs a query surfaces as ``RuntimeError: Query interrupted``, which cli.py
reports as a bug (exit 4), where docs/evaluation.md says exit 130, ``perfrules: interrupted``.
"""

from __future__ import annotations

import signal
from unittest import mock

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
