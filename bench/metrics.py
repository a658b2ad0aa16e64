"""Benchmark of ``perfrules metrics``: 10,000,000 raw call rows, against hand-written DuckDB.

Run from the repository root with the project's interpreter:

    .venv/bin/python bench/metrics.py                 # 10,000,000 rows
    .venv/bin/python bench/metrics.py --rows 1000000  # fewer

It writes, in a private temporary folder, a CSV of raw calls shaped like the bank export
(``date, server, outcome, q_time, ser_time``; 200 agents over a month, 15% of the calls
not served) and the definitions of examples/metrics/bank_calls.perfm for it, then times,
in the same run and on the same file:

1. ``perfrules metrics calls.perfm -o snapshot.csv`` as a subprocess (wall time and peak
   resident memory of the child), and
2. a hand-written DuckDB query of the same four metrics (count, average ser_time, share of
   q_time <= 60, distinct dates; ``read_csv`` with typed columns, one GROUP BY), in a fresh
   subprocess as well,

each ``--repeat`` times (3), interleaved, and prints the best of each, their ratio and whether the snapshot equals the hand-written figures
(each value, to six decimals).  Goals (issue 12): ratio <= 1.5, peak memory <= 2 GB.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

DEFINITIONS = """metrics "bench" {
    period month
    role "agent"
    source calls "CALLS" {
        column date: timestamp "YYYY-MM-DD"
        column q_time: duration in s
        column ser_time: duration in s
        agent server
        period by date
        where outcome == "AGENT" and server != "NO_SERVER"
    }
    metric calls_handled: count = count of calls
    metric aht: duration in s = average ser_time of calls
    metric answered_within_60s: percent = share of calls where q_time <= 60s
    metric days_worked: count = distinct date of calls
}
"""

HAND_WRITTEN = """
import sys, duckdb
connection = duckdb.connect()
connection.execute("SET enable_progress_bar = false")
rows = connection.execute('''
    SELECT server, strftime(date, '%Y-%m') AS period, count(*) AS calls_handled,
           avg(ser_time) AS aht, avg(CASE WHEN q_time <= 60 THEN 1 ELSE 0 END) AS answered_within_60s,
           count(DISTINCT date) AS days_worked
    FROM read_csv(?, header = true, columns = {'date': 'DATE', 'server': 'VARCHAR', 'outcome': 'VARCHAR',
                                               'q_time': 'INTEGER', 'ser_time': 'INTEGER'})
    WHERE outcome = 'AGENT' AND server <> 'NO_SERVER'
    GROUP BY ALL ORDER BY period, server''', [sys.argv[1]]).fetchall()
for row in rows:
    print(*row, sep=',')
"""


def write_calls(path: Path, rows: int) -> None:
    generator = random.Random(12)
    agents = [f"AGENT{number:03d}" for number in range(200)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("date,server,outcome,q_time,ser_time\n")
        block = []
        for index in range(rows):
            day = 1 + index % 31
            served = generator.random() > 0.15
            server = generator.choice(agents) if served else "NO_SERVER"
            outcome = "AGENT" if served else generator.choice(("HANG", "PHANTOM"))
            block.append(f"2010-08-{day:02d},{server},{outcome},{generator.randint(0, 300)},"
                         f"{generator.randint(5, 900) if served else 0}\n")
            if len(block) == 100_000:
                handle.write("".join(block))
                block = []
        handle.write("".join(block))


def timed(command: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak resident memory (bytes) of the child itself, its standard output."""
    import os

    with tempfile.TemporaryFile("w+", encoding="utf-8") as out, tempfile.TemporaryFile("w+", encoding="utf-8") as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)  # reaps the child: its own rusage, not the largest child's
        elapsed = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            sys.exit(f"{' '.join(command)} failed:\n{err.read()}")
        return elapsed, usage.ru_maxrss * 1024, out.read()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, interleaved; the best is kept")
    parser.add_argument("--calls", type=Path, help="use (or, when absent, write and keep) this raw CSV")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="perfrules-bench-") as folder:
        calls = arguments.calls or Path(folder) / "calls.csv"
        if not calls.exists():
            start = time.perf_counter()
            write_calls(calls, arguments.rows)
            print(f"wrote {arguments.rows:,} rows ({calls.stat().st_size / 1e6:,.0f} MB) in "
                  f"{time.perf_counter() - start:.1f} s")
        else:
            print(f"reading {calls} ({calls.stat().st_size / 1e6:,.0f} MB)")
        (Path(folder) / "calls.perfm").write_text(DEFINITIONS.replace("CALLS", str(calls.resolve())),
                                                 encoding="utf-8")
        snapshot = Path(folder) / "snapshot.csv"
        hand_times, ours_times, ours_memory = [], [], 0
        for _ in range(arguments.repeat):  # interleaved, so that a busy moment of the machine hits both
            hand_time, _, hand_out = timed([sys.executable, "-c", HAND_WRITTEN, str(calls)])
            ours_time, memory, _ = timed([sys.executable, "-m", "perfrules", "metrics",
                                          str(Path(folder) / "calls.perfm"), "-o", str(snapshot)])
            hand_times.append(hand_time)
            ours_times.append(ours_time)
            ours_memory = max(ours_memory, memory)
        print("runs (s): hand-written " + ", ".join(f"{value:.2f}" for value in hand_times)
              + "; perfrules " + ", ".join(f"{value:.2f}" for value in ours_times))
        hand_time, ours_time = min(hand_times), min(ours_times)
        ours = {(row["agent_id"], row["period"]): row
                for row in csv.DictReader(io.StringIO(snapshot.read_text(encoding="utf-8")))}
        same = True
        for line in hand_out.splitlines():
            server, period, handled, aht, share, days = line.split(",")
            row = ours.get((server, period))
            six = Decimal("0.000001")
            same &= (row is not None and row["calls_handled"] == handled and row["days_worked"] == days
                     and Decimal(row["aht"].rstrip("s")).quantize(six) == Decimal(aht).quantize(six)
                     and Decimal(row["answered_within_60s"].rstrip("%")).quantize(Decimal("0.0001"))
                     == (Decimal(share) * 100).quantize(Decimal("0.0001")))
        same &= len(ours) == len(hand_out.splitlines())
        print(f"best of {arguments.repeat}:")
        print(f"hand-written DuckDB GROUP BY: {hand_time:6.2f} s")
        print(f"perfrules metrics:            {ours_time:6.2f} s  (peak memory {ours_memory / 2**20:,.0f} MiB)")
        print(f"ratio: {ours_time / hand_time:.2f}x (goal <= 1.5x); peak memory goal <= 2048 MiB")
        print(f"same values as the hand-written query: {'yes' if same else 'NO'}")
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
