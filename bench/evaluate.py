"""Benchmark of ``perfrules evaluate`` against honest peers, every figure in the same run.

Run from the repository root with the project's interpreter:

    .venv/bin/python bench/evaluate.py                  # 100,000 and 1,000,000 agents
    .venv/bin/python bench/evaluate.py --rows 20000     # a quick run
    .venv/bin/python bench/evaluate.py --profile        # also where perfrules spends its time
    .venv/bin/python bench/evaluate.py --source DIR     # perfrules of another commit, unpacked in DIR

For each size it generates agents for the spec's example policy
(``policies/after_sales_agent.perf``) as one CSV file: percents as fractions with four
decimals (``0.9235``, so that the analyst's query reads them as numbers), about 5% empty
csat cells and 8% csat samples below the policy's minimum of 10, counts, durations in
minutes, salaries.  Then, each in its own child process so that the peak memory
(``ru_maxrss`` of that child, from ``os.wait4``) is its own, interleaved ``--repeat`` times:

(a) ``python -m perfrules evaluate POLICY DATA.csv -o OUT.csv``: the real command line,
    end to end, writing every column;
(b) the same with ``--columns summary`` (agent_id, period, policy, score, grade, rank,
    rank_of, veto, bonus_total);
(c) the analyst's query of the performance issue, exactly as written there (five
    decision columns in DOUBLE arithmetic; only its two file names are replaced);
(d) the floor: DuckDB reading the same input as text and writing a CSV with perfrules'
    columns and about its bytes (each column is the input column of the nearest width,
    or perfrules' constant), computing nothing.

Then zen-engine (GoRules) evaluates the same KPIs, base score, adjustment, score, veto and
grade per row from a JDM graph, on rows already parsed into Python dicts (``--zen-rows``
of them), through its fastest route (one ``ZenDecisionContent`` built once and returned by
the loader, or held by ``create_decision``, or ``evaluate_batch``; the best is used) and
through the slow route (a loader that builds a new content on every call), labelled.
Then, once per size, the same command writing JSON and XLSX (``--formats``) for the peak
memory of each output format, and ``perfrules check`` on the example (start-up).

It prints one table with the ratios against the goals of the performance issue: at
1,000,000 agents the summary CSV within 1.5x the analyst's query (2x at 100,000), the full
CSV within 2x the floor, at least 12x zen's fastest rows/s, at most 1 GB of peak memory
in every format; and it checks that perfrules and the analyst's query agree on every
agent's score, grade, rank and bonus (the analyst's DOUBLE arithmetic may differ by a cent).
Exit code 0 unless a step fails (a missed goal is reported, not failed: timings depend on
the machine).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
POLICY = REPO / "policies" / "after_sales_agent.perf"  # the name the copy of the spec's example gets
SPEC = REPO / "tests" / "spec" / "language.md"  # the issue measures the spec's example (§2) as written
PERFRULES = [sys.executable, "-m", "perfrules"]  # with PYTHONPATH=<source>/src (main sets it)

GOAL_ROWS = 1_000_000
GOAL_ZEN_RATIO = 12.0  # full CSV rows/s ÷ zen's fastest rows/s, at least
GOAL_ANALYST_RATIO = 1.5  # `--columns summary` time ÷ the analyst's query time, at most (1,000,000 agents)
GOAL_ANALYST_RATIO_SMALL = 2.0  # the same at 100,000 agents (or fewer)
GOAL_FLOOR_RATIO = 2.0  # full CSV time ÷ the floor's time, at most
GOAL_PEAK_MB = 1024.0  # every output format
GOAL_CHECK_SECONDS = 0.3  # `perfrules check` on the example policy


# ---- data ---------------------------------------------------------------------------------------------


def generate_csv(path: str, rows: str) -> float:
    """Write ``rows`` agents of the example policy as CSV (with DuckDB); return seconds."""
    import duckdb

    start = time.perf_counter()

    def uniform(salt: int) -> str:  # a deterministic pseudo-random number in [0, 1)
        return f"((hash(i * 31 + {salt}) % 1000003) / 1000003.0)"

    def percent(low: float, high: float, salt: int) -> str:
        # written as fractions (0.9235): the analyst's query reads them as numbers
        value = f"round({low} + {uniform(salt)} * {high - low}, 2)"
        return f"printf('%.4f', {value} / 100)"

    query = f"""
        SELECT printf('A%07d', i) AS agent_id,
               printf('客服%d', i) AS name,
               printf('T%02d', i % 40) AS team,
               '2026-11' AS period,
               CASE WHEN {uniform(1)} < 0.8 THEN 'agent' ELSE 'senior_agent' END AS role,
               {percent(60, 100, 10)} AS reply_within_10min,
               CASE WHEN {uniform(20)} < 0.05 THEN NULL ELSE {percent(70, 100, 21)} END AS csat,
               CASE WHEN {uniform(30)} < 0.08 THEN CAST(floor({uniform(31)} * 10) AS INTEGER)
                    ELSE 10 + CAST(floor({uniform(32)} * 290) AS INTEGER) END AS csat_responses,
               {percent(75, 100, 40)} AS resolution_rate,
               printf('%.1f', 3 + {uniform(50)} * 12) AS aht,
               CAST(floor({uniform(60)} * 6) AS INTEGER) AS qa_commendations,
               CASE WHEN {uniform(70)} < 0.85 THEN 0 ELSE 1 + CAST(floor({uniform(71)} * 5) AS INTEGER) END
                   AS attitude_violations,
               CASE WHEN {uniform(80)} < 0.02 THEN 1 ELSE 0 END AS serious_complaints,
               CAST(4000 + 100 * floor({uniform(90)} * 80) AS INTEGER) AS base_salary
        FROM range({int(rows)}) AS t(i)
        ORDER BY i
    """
    connection = duckdb.connect()
    connection.execute(f"COPY ({query}) TO '{path}' (HEADER, DELIMITER ',')")
    connection.close()
    return time.perf_counter() - start


# ---- running a child and measuring it ----------------------------------------------------------------


def run_measured(command: list[str], cwd: Path = REPO) -> dict:
    """Run a child process; wall seconds, its own peak RSS (MB), stdout, stderr, exit code."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {
            "seconds": seconds,
            "peak_mb": usage.ru_maxrss / 1024,  # Linux: kilobytes
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "stdout": out.read().decode("utf-8", "replace"),
            "stderr": err.read().decode("utf-8", "replace"),
            "code": process.returncode,
        }


def in_child(function: str, *args) -> object:
    """Run one of this script's functions in a child and return its JSON answer.

    The parent stays small on purpose: on Linux a child's ``ru_maxrss`` starts from its
    parent's peak at the fork, so a parent that had DuckDB generate a million rows would
    lend its peak to every measured child.
    """
    answer = subprocess.run([sys.executable, __file__, "_call", function, json.dumps([str(arg) for arg in args])],
                            capture_output=True, text=True)
    if answer.returncode != 0:
        sys.stderr.write(answer.stderr[-4000:])
        raise SystemExit(f"{function} failed with exit code {answer.returncode}")
    return json.loads(answer.stdout.strip().splitlines()[-1])


def checked(result: dict, what: str) -> dict:
    if result["code"] != 0:
        sys.stderr.write(result["stderr"][-4000:])
        raise SystemExit(f"{what} failed with exit code {result['code']}")
    return result


# ---- the peers: the analyst's query (as the issue writes it) and the floor -----------------------------

# Exactly as written in the performance issue; only the two file names are replaced.
ANALYST_SQL = """COPY (WITH d AS (SELECT * FROM read_csv('data.csv', header=true)),
k AS (SELECT *, CASE WHEN reply_within_10min >= 0.9 THEN 100 WHEN reply_within_10min >= 0.8 THEN 80 ELSE 0 END p1,
  CASE WHEN csat IS NULL OR csat_responses < 10 THEN NULL WHEN csat >= 0.9 THEN 100 WHEN csat >= 0.85 THEN 80 ELSE 0 END p2,
  CASE WHEN resolution_rate >= 0.95 THEN 100 WHEN resolution_rate >= 0.9 THEN 80 ELSE 0 END p3 FROM d),
s AS (SELECT *, (0.3*p1 + coalesce(0.4*p2, 0) + 0.3*p3) / (0.6 + CASE WHEN p2 IS NULL THEN 0 ELSE 0.4 END)
  + greatest(-20, least(10, 2*qa_commendations - 5*attitude_violations)) AS score FROM k),
g AS (SELECT *, CASE WHEN serious_complaints > 0 THEN '不合格' WHEN score >= 90 THEN '优秀' WHEN score >= 75 THEN '良好'
  WHEN score >= 60 THEN '合格' ELSE '不合格' END AS grade, rank() OVER (ORDER BY score DESC) AS rk, count(*) OVER () AS n FROM s)
SELECT agent_id, round(score, 2) AS score, grade, rk AS rank, CASE WHEN grade = '不合格' THEN 0 WHEN rk <= ceil(0.3*n)
  THEN round(base_salary * (0.20 - 0.10 * (rk-1) / greatest(ceil(0.3*n)-1, 1)), 2) ELSE 0 END AS bonus
FROM g ORDER BY rk, agent_id) TO 'hand.csv' (HEADER)"""


def sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def analyst_child(data: str, out: str) -> None:
    """The analyst's query, CSV in and CSV out, in a fresh DuckDB (as a child process)."""
    import duckdb

    sql = ANALYST_SQL.replace("'data.csv'", sql_text(data)).replace("'hand.csv'", sql_text(out))
    duckdb.connect().execute(sql)


def floor_columns(perfrules_csv: str, data: str) -> list[tuple[str, str]]:
    """(output header, SQL over the input) for the floor: perfrules' columns, no computation.

    A column that is one value in perfrules' output (the policy's name, its sha256) is that
    value as a constant; any other column is the input column whose cells are closest in
    width, so that the floor writes about the same bytes as perfrules without computing.
    """
    import duckdb

    connection = duckdb.connect()
    sample = 20_000

    def widths(path: str) -> dict[str, tuple[float, int, str | None]]:
        read = f"(SELECT * FROM read_csv({sql_text(str(path))}, header = true, all_varchar = true) LIMIT {sample})"
        names = [name for (name,) in connection.execute(f"SELECT column_name FROM (DESCRIBE SELECT * FROM {read})").fetchall()]
        figures = {}
        for name in names:
            quoted = '"' + name.replace('"', '""') + '"'
            figures[name] = connection.execute(
                f"SELECT avg(length(coalesce({quoted}, ''))), count(DISTINCT {quoted}), any_value({quoted}) FROM {read}").fetchone()
        return figures

    inputs = widths(data)
    columns = []
    for name, (width, distinct, value) in widths(perfrules_csv).items():
        if distinct == 1:
            columns.append((name, sql_text(value)))
        else:
            source = min(inputs, key=lambda column: abs(inputs[column][0] - width))
            columns.append((name, '"' + source.replace('"', '""') + '"'))
    connection.close()
    return columns


def floor_child(data: str, out: str, columns_json: str) -> None:
    """Read the input as text and write perfrules' columns as CSV: the floor (computes nothing)."""
    import duckdb

    columns = json.loads(Path(columns_json).read_text(encoding="utf-8"))
    selects = ", ".join(f'{sql} AS "{name}"' for name, sql in columns)
    duckdb.connect().execute(
        f"COPY (SELECT {selects} FROM read_csv({sql_text(data)}, header = true, all_varchar = true)) "
        f"TO {sql_text(out)} (HEADER, DELIMITER ',')")


# ---- (b) zen-engine ------------------------------------------------------------------------------------


def zen_graph() -> dict:
    """The example policy's per-row part as a JDM graph, on values already parsed.

    Inputs: ``reply``, ``csat``, ``resolution`` (fractions, null when empty),
    ``csat_responses``, ``qa``, ``violations``, ``serious`` (numbers, null when empty).
    """

    def node(node_id, node_type, content=None):
        item = {"id": node_id, "type": node_type, "name": node_id, "position": {"x": 0, "y": 0}}
        if content is not None:
            item["content"] = content
        return item

    def kpi(node_id, field, excellent, passing, missing_rule=False):
        rules = []
        if missing_rule:
            rules.append({"_id": f"{node_id}m", "v": "$ == null", "level": "null", "points": "null", "status": '"excluded"'})
        rules += [
            {"_id": f"{node_id}e", "v": f">= {excellent}", "level": '"excellent"', "points": "100", "status": '"scored"'},
            {"_id": f"{node_id}p", "v": f">= {passing}", "level": '"pass"', "points": "80", "status": '"scored"'},
            {"_id": f"{node_id}f", "v": "", "level": '"fail"', "points": "0", "status": '"scored"'},
        ]
        return node(node_id, "decisionTableNode", {
            "hitPolicy": "first", "passThrough": True,
            "inputs": [{"id": "v", "name": field, "type": "expression", "field": field}],
            "outputs": [{"id": key, "name": key, "type": "expression", "field": f"{node_id}.{key}"}
                        for key in ("level", "points", "status")],
            "rules": rules,
        })

    scored = 'k1.status == "scored"'
    weighted = f"(k0.points * 0.3 + ({scored} ? k1.points * 0.4 : 0) + k2.points * 0.3)"
    weights = f"(0.3 + ({scored} ? 0.4 : 0) + 0.3)"
    adjust = "max([-20, min([10, (qa == null ? 0 : qa) * 2 - (violations == null ? 0 : violations) * 5])])"
    nodes = [
        node("request", "inputNode"),
        node("sample", "expressionNode", {"passThrough": True, "expressions": [
            {"id": "s", "key": "csat_value",
             "value": "(csat_responses == null or csat_responses < 10) ? null : csat"}]}),
        kpi("k0", "reply", "0.9", "0.8"),
        kpi("k1", "csat_value", "0.9", "0.85", missing_rule=True),
        kpi("k2", "resolution", "0.95", "0.9"),
        node("score", "expressionNode", {"passThrough": True, "expressions": [
            {"id": "b", "key": "base_score", "value": f"{weighted} / {weights}"},
            {"id": "a", "key": "adjust", "value": adjust},
            {"id": "t", "key": "score", "value": f"{weighted} / {weights} + {adjust}"}]}),
        node("grade", "decisionTableNode", {
            "hitPolicy": "first", "passThrough": True,
            "inputs": [{"id": "serious", "name": "serious", "type": "expression", "field": "serious"},
                       {"id": "score", "name": "score", "type": "expression", "field": "score"}],
            "outputs": [{"id": "grade", "name": "grade", "type": "expression", "field": "grade"},
                        {"id": "veto", "name": "veto", "type": "expression", "field": "veto"}],
            "rules": [
                {"_id": "g0", "serious": "$ != null and $ > 0", "score": "", "grade": '"不合格"', "veto": '"重大投诉一票否决"'},
                {"_id": "g1", "serious": "", "score": ">= 90", "grade": '"优秀"', "veto": "null"},
                {"_id": "g2", "serious": "", "score": ">= 75", "grade": '"良好"', "veto": "null"},
                {"_id": "g3", "serious": "", "score": ">= 60", "grade": '"合格"', "veto": "null"},
                {"_id": "g4", "serious": "", "score": "", "grade": '"不合格"', "veto": "null"},
            ]}),
        node("response", "outputNode"),
    ]
    order = [item["id"] for item in nodes]
    edges = [{"id": f"e{index}", "type": "edge", "sourceId": a, "targetId": b}
             for index, (a, b) in enumerate(zip(order, order[1:]))]
    return {"contentType": "application/vnd.gorules.decision", "nodes": nodes, "edges": edges}


def _fraction(text: str):
    text = (text or "").strip()
    if not text:
        return None
    return float(text[:-1]) / 100 if text.endswith("%") else float(text)


def _number(text: str):
    text = (text or "").strip()
    return int(text) if text else None


def read_zen_rows(data: str, limit: int) -> list[dict]:
    import csv

    rows = []
    with open(data, encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle):
            rows.append({
                "reply": _fraction(record["reply_within_10min"]),
                "csat": _fraction(record["csat"]),
                "csat_responses": _number(record["csat_responses"]),
                "resolution": _fraction(record["resolution_rate"]),
                "qa": _number(record["qa_commendations"]),
                "violations": _number(record["attitude_violations"]),
                "serious": _number(record["serious_complaints"]),
            })
            if len(rows) >= limit:
                break
    return rows


def zen_child(data: str, limit: int) -> None:
    """Time zen on ``limit`` rows already in memory; print JSON with every route's figures.

    The fast routes share one ``ZenDecisionContent`` built once (the loader returns it, or
    ``create_decision`` holds it); the slow route is the loader building a new content on
    every call, as a naive integration does (parsing the JDM graph each time).
    """
    import zen

    rows = read_zen_rows(data, limit)
    text = json.dumps(zen_graph(), ensure_ascii=False)
    prebuilt = zen.ZenDecisionContent(text)
    engine = zen.ZenEngine({"loader": lambda key: prebuilt})
    slow_engine = zen.ZenEngine({"loader": lambda key: zen.ZenDecisionContent(text)})
    decision = engine.create_decision(prebuilt)

    def engine_evaluate(batch):
        return [engine.evaluate("review.json", row)["result"] for row in batch]

    def decision_evaluate(batch):
        return [decision.evaluate(row)["result"] for row in batch]

    def evaluate_batch(batch, chunk=2000):
        results = []
        for start in range(0, len(batch), chunk):
            answers = engine.evaluate_batch([{"key": "review.json", "context": row} for row in batch[start:start + chunk]])
            results.extend(answer["data"]["result"] for answer in answers)
        return results

    def slow_evaluate(batch):
        return [slow_engine.evaluate("review.json", row)["result"] for row in batch]

    fast_routes = {"engine.evaluate, loader returns one prebuilt content": engine_evaluate,
                   "decision.evaluate (create_decision, prebuilt content)": decision_evaluate,
                   "engine.evaluate_batch, 2000 a call, prebuilt content": evaluate_batch}
    trial = rows[: min(len(rows), 10_000)]
    trials = {}
    for name, route in fast_routes.items():
        route(trial[:500])  # warm
        start = time.perf_counter()
        route(trial)
        trials[name] = len(trial) / (time.perf_counter() - start)
    best = max(trials, key=trials.get)
    start, cpu = time.perf_counter(), time.process_time()
    results = fast_routes[best](rows)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    slow_rows = rows[: min(len(rows), 10_000)]
    slow_evaluate(slow_rows[:200])
    start, cpu = time.perf_counter(), time.process_time()
    slow_evaluate(slow_rows)
    slow_seconds, slow_cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    grades: dict[str, int] = {}
    for result in results:
        grades[result["grade"]] = grades.get(result["grade"], 0) + 1
    print(json.dumps({"rows": len(rows), "seconds": seconds, "route": best, "trials": trials, "grades": grades,
                      "cpu_seconds": cpu_seconds, "slow_rows": len(slow_rows), "slow_seconds": slow_seconds,
                      "slow_cpu_seconds": slow_cpu_seconds}, ensure_ascii=False))


# ---- profiling perfrules in-process ---------------------------------------------------------------------


class TimedConnection:
    """A DuckDB connection that records the time of every ``execute``."""

    def __init__(self, connection, log: list):
        self._connection = connection
        self._log = log

    def execute(self, sql, *args, **kwargs):
        start = time.perf_counter()
        result = self._connection.execute(sql, *args, **kwargs)
        self._log.append((" ".join(str(sql).split())[:110], time.perf_counter() - start))
        return result

    def __getattr__(self, name):
        return getattr(self._connection, name)


def profile_child(data: str, out: str) -> None:
    """Evaluate like ``perfrules evaluate DATA -o OUT.csv``, timing each stage and statement."""
    stages: list[tuple[str, float]] = []
    statements: list[tuple[str, float]] = []

    def stage(name, function, *args, **kwargs):
        start = time.perf_counter()
        value = function(*args, **kwargs)
        stages.append((name, time.perf_counter() - start))
        return value

    start_all = time.perf_counter()
    stage("import perfrules (cli, engine, outputs)", lambda: __import__("perfrules.outputs"))
    from perfrules import outputs
    from perfrules.data import reading, validate
    from perfrules.engine import run
    from perfrules.workspace import load_policies

    policies = stage("load and check the policy", load_policies, [str(Path(data).parent / POLICY.name)])
    real_open = run.open_connection
    run.open_connection = lambda: TimedConnection(real_open(), statements)
    # Time the big steps of evaluate_files by wrapping the functions it calls.
    wrapped = {}
    # The engine changes often: functions that no longer exist are skipped, and the
    # statement log below does not depend on any of them.
    for module, name, label in ((run, "read_table", "read the CSV (read_table)"),
                                (reading, "detect_encoding", "  read: detect the encoding (Python)"),
                                (reading, "_check_utf8", "  read: check for UTF-16 (Python)"),
                                (reading, "_csv_headers", "  read: headers (Python csv)"),
                                (run, "prepare_rows", "keys and typed cells of every row, all checks (prepare_rows)"),
                                (validate, "_row_problems", "  validate: ids, periods, roles"),
                                (validate, "_duplicates", "  validate: duplicate rows"),
                                (run, "compile_plan", "compile the plan (Python)"),
                                (run, "_outcome_problems", "outcome checks (_outcome_problems)")):
        original = getattr(module, name, None)
        if original is None:
            continue
        wrapped[(module, name)] = original

        def timed(*args, __original=original, __label=label, **kwargs):
            begin = time.perf_counter()
            try:
                return __original(*args, **kwargs)
            finally:
                stages.append((__label, time.perf_counter() - begin))

        setattr(module, name, timed)
    evaluation = stage("evaluate_files (all of the above and the plan query)", run.evaluate_files,
                       policies.evaluated, Path(data), data)
    stage("write the CSV (write_csv: flat query + COPY)", outputs.write_csv, evaluation, Path(out))
    total = time.perf_counter() - start_all
    print(json.dumps({"total": total, "stages": stages, "statements": statements}, ensure_ascii=False))


# ---- verifying that perfrules and the analyst's query agree ---------------------------------------------


def compare_with_analyst(summary_csv: str, analyst_csv: str) -> dict:
    """How many agents' grade, rank and bonus differ, and scores more than 0.005 apart.

    The analyst computes in DOUBLE and rounds the bonus with the tier's share already
    rounded, perfrules exactly: a few cents and a tie or two may differ; the figures say how many.
    """
    import duckdb

    connection = duckdb.connect()
    row = connection.execute(
        "SELECT count(*), count(*) FILTER (WHERE abs(CAST(p.score AS DOUBLE) - CAST(h.score AS DOUBLE)) > 0.005), "
        "count(*) FILTER (WHERE p.grade IS DISTINCT FROM h.grade), "
        "count(*) FILTER (WHERE CAST(p.rank AS BIGINT) IS DISTINCT FROM CAST(h.rank AS BIGINT)), "
        "count(*) FILTER (WHERE abs(CAST(p.bonus_total AS DOUBLE) - CAST(h.bonus AS DOUBLE)) > 0.005) "
        "FROM read_csv(?, header = true, all_varchar = true) AS p "
        "JOIN read_csv(?, header = true, all_varchar = true) AS h USING (agent_id)",
        [str(summary_csv), str(analyst_csv)]).fetchone()
    connection.close()
    return dict(zip(("joined", "score", "grade", "rank", "bonus"), row))


# ---- the report ------------------------------------------------------------------------------------------


def machine() -> str:
    from importlib.metadata import PackageNotFoundError, version

    memory = "?"
    try:
        with open("/proc/meminfo") as handle:
            total_kb = int(handle.readline().split()[1])
        memory = f"{total_kb / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        zen_version = version("zen-engine")
    except PackageNotFoundError:
        zen_version = "not installed"
    return (f"nproc {os.cpu_count()} ({cpu}), memory {memory}, {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}, duckdb {version('duckdb')}, zen-engine {zen_version}, "
            f"load average {os.getloadavg()[0]:.2f}")


def table(rows: list[list[str]]) -> str:
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
    lines = []
    for number, row in enumerate(rows):
        lines.append("  ".join(cell.rjust(width) if index else cell.ljust(width)
                               for index, (cell, width) in enumerate(zip(row, widths))))
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def print_profile(profile: dict, rows: int) -> None:
    total = profile["total"]
    print(f"\n== where perfrules spends its time ({rows:,} agents, in-process, total {total:.2f} s)")
    for name, seconds in profile["stages"]:
        print(f"   {seconds:7.2f} s  {seconds / total:5.1%}  {name}")
    print("   slowest SQL statements:")
    ordered = sorted(profile["statements"], key=lambda item: -item[1])
    for sql, seconds in ordered[:12]:
        print(f"   {seconds:7.2f} s  {seconds / total:5.1%}  {sql}")
    rest = sum(seconds for _, seconds in ordered[12:])
    print(f"   {rest:7.2f} s  {rest / total:5.1%}  the other {max(0, len(ordered) - 12)} statements")
    in_sql = sum(seconds for _, seconds in ordered)
    print(f"   {total - in_sql:7.2f} s  {(total - in_sql) / total:5.1%}  outside DuckDB (Python: imports, policy, "
          f"encoding check, building results)")


def median_run(runs: list[dict]) -> dict:
    ordered = sorted(runs, key=lambda run: run["seconds"])
    middle = dict(ordered[len(ordered) // 2])
    middle["all_seconds"] = [run["seconds"] for run in runs]
    middle["peak_mb"] = max(run["peak_mb"] for run in runs)
    return middle


def describe(name: str, run: dict) -> str:
    spread = ", ".join(f"{seconds:.2f}" for seconds in run["all_seconds"])
    return (f"   {name:<42} {run['seconds']:7.2f} s wall (median of {spread}), {run['cpu_seconds']:6.2f} s CPU, "
            f"peak {run['peak_mb']:7.1f} MB")


def ratio_row(rows: int, name: str, run: dict, peer: str = "", ratio: tuple[float, float] | None = None,
              goal: str = "", met: bool | None = None, count: int | None = None) -> list[str]:
    """One line of the table; ``ratio`` is (by wall time, by CPU time): on a machine whose cores
    other jobs hold, the CPU ratio is the steadier of the two."""
    count = rows if count is None else count
    verdict = "" if met is None else ("met" if met else "MISSED")
    return [f"{count:,}", name, f"{run['seconds']:.2f}", f"{run['cpu_seconds']:.2f}", f"{count / run['seconds']:,.0f}",
            f"{run['peak_mb']:.0f}", f"{ratio[0]:.2f}x ({ratio[1]:.2f}x CPU) {peer}" if ratio is not None else "",
            f"{goal} {verdict}".strip()]


def spec_example() -> str:
    """The policy of language.md §2 (the first code block after its heading)."""
    after = SPEC.read_text(encoding="utf-8").split("## 2. A complete example", 1)[1]
    return after.split("```", 2)[1].lstrip("\n")


def ratio(run: dict, peer: dict) -> tuple[float, float]:
    return run["seconds"] / peer["seconds"], run["cpu_seconds"] / peer["cpu_seconds"]


def measure_size(rows: int, folder: Path, args, formats: list[str]) -> dict:
    """Every figure of one size, in one run: perfrules and its peers interleaved."""
    data = folder / f"agents_{rows}.csv"
    generated = in_child("generate_csv", data, rows)
    print(f"\n== {rows:,} agents: {data.name}, {data.stat().st_size / 1e6:.1f} MB, generated in {generated:.1f} s")
    policy = str(folder / POLICY.name)  # copied at the start: edits during the run do not leak in
    outs = {name: folder / f"{name}_{rows}.csv" for name in ("full", "summary", "analyst", "floor")}
    floor_spec = folder / f"floor_{rows}.json"
    commands = {
        "full": PERFRULES + ["evaluate", policy, str(data), "-o", str(outs["full"])],
        "summary": PERFRULES + ["evaluate", policy, str(data), "--columns", "summary", "-o", str(outs["summary"])],
        "analyst": [sys.executable, __file__, "_analyst", str(data), str(outs["analyst"])],
        "floor": [sys.executable, __file__, "_floor", str(data), str(outs["floor"]), str(floor_spec)],
    }
    for name in ("full", "summary"):
        print("   $ python " + " ".join(commands[name][1:]))
    runs: dict[str, list[dict]] = {name: [] for name in commands}
    for repeat in range(max(1, args.repeat)):  # interleaved, so that a busy spell hits every program
        for name, command in commands.items():
            runs[name].append(checked(run_measured(command), name))
            if name == "full" and repeat == 0:  # the floor writes perfrules' columns
                floor_spec.write_text(json.dumps(in_child("floor_columns", outs["full"], data), ensure_ascii=False),
                                      encoding="utf-8")
    medians = {name: median_run(items) for name, items in runs.items()}
    labels = {"full": "perfrules evaluate, CSV (all columns)", "summary": "perfrules --columns summary, CSV",
              "analyst": "the analyst's query (DuckDB)", "floor": "floor: DuckDB read + write, same columns"}
    for name, label in labels.items():
        print(describe(label, medians[name]))
    sizes = {name: outs[name].stat().st_size / 1e6 for name in outs}
    print("   output sizes: " + ", ".join(f"{name} {megabytes:.0f} MB" for name, megabytes in sizes.items()))
    agreement = in_child("compare_with_analyst", outs["summary"], outs["analyst"])
    print(f"   perfrules (summary) vs the analyst's query, {agreement['joined']:,} agents joined: agents differing in "
          f"score (> 0.005) {agreement['score']:,}, grade {agreement['grade']:,}, rank {agreement['rank']:,}, "
          f"bonus (> 0.005) {agreement['bonus']:,}")
    sample = min(rows, args.zen_rows)
    zen_run = checked(run_measured([sys.executable, __file__, "_zen", str(data), str(sample)]), "zen-engine")
    zen = json.loads(zen_run["stdout"].strip().splitlines()[-1])
    print(f"   zen-engine, fastest route: {zen['rows'] / zen['seconds']:,.0f} rows/s ({zen['route']}); "
          f"slow route (new content per call): {zen['slow_rows'] / zen['slow_seconds']:,.0f} rows/s")
    print("     fast routes tried on 10,000 rows: " + ", ".join(
        f"{name}: {rate:,.0f} rows/s" for name, rate in zen["trials"].items()))
    by_format = {"csv": medians["full"], "csv --columns summary": medians["summary"]}
    for name in formats:  # once each: the time of JSON and XLSX is long, their peak memory is the point
        target = folder / f"perfrules_{rows}.{name}"
        by_format[name] = median_run([checked(run_measured(PERFRULES + ["evaluate", policy, str(data), "-o", str(target)]),
                                              f"perfrules evaluate -o .{name}")])
        print(describe(f"perfrules -o .{name}", by_format[name]))
        target.unlink()
    for path in outs.values():
        path.unlink()
    return {"rows": rows, "runs": medians, "zen": zen, "zen_process": zen_run, "formats": by_format,
            "agreement": agreement, "sizes": sizes, "data": data}


def check_startup(policy: Path, repeat: int = 5) -> dict:
    return median_run([checked(run_measured(PERFRULES + ["check", str(policy)]), "perfrules check")
                       for _ in range(repeat)])


def report_table(report: list[dict], check: dict) -> tuple[list[list[str]], list[bool]]:
    lines = [["agents", "program", "seconds", "CPU s", "rows/s", "peak MB", "ratio (wall, CPU)", "goal (by wall time)"]]
    verdicts = []
    for item in report:
        rows, runs, zen = item["rows"], item["runs"], item["zen"]
        big = rows >= GOAL_ROWS
        full_rate = rows / runs["full"]["seconds"]
        to_floor = ratio(runs["full"], runs["floor"])
        to_analyst = ratio(runs["summary"], runs["analyst"])
        analyst_goal = GOAL_ANALYST_RATIO if big else GOAL_ANALYST_RATIO_SMALL
        zen_fast = {"seconds": zen["seconds"], "cpu_seconds": zen["cpu_seconds"], "peak_mb": item["zen_process"]["peak_mb"]}
        zen_slow = {"seconds": zen["slow_seconds"], "cpu_seconds": zen["slow_cpu_seconds"],
                    "peak_mb": item["zen_process"]["peak_mb"]}
        # rows/s of perfrules ÷ rows/s of zen, by wall and by CPU time
        to_zen = (full_rate / (zen["rows"] / zen["seconds"]),
                  (rows / runs["full"]["cpu_seconds"]) / (zen["rows"] / zen["cpu_seconds"]))
        to_slow = (full_rate / (zen["slow_rows"] / zen["slow_seconds"]),
                   (rows / runs["full"]["cpu_seconds"]) / (zen["slow_rows"] / zen["slow_cpu_seconds"]))
        goals = {"floor": to_floor[0] <= GOAL_FLOOR_RATIO, "analyst": to_analyst[0] <= analyst_goal,
                 "zen": to_zen[0] >= GOAL_ZEN_RATIO}
        lines.append(ratio_row(rows, "perfrules evaluate, CSV, all columns", runs["full"], "the floor", to_floor,
                               f"<= {GOAL_FLOOR_RATIO:g}x", goals["floor"] if big else None))
        lines.append(ratio_row(rows, "perfrules --columns summary, CSV", runs["summary"], "the analyst", to_analyst,
                               f"<= {analyst_goal:g}x", goals["analyst"] if rows >= 100_000 else None))
        lines.append(ratio_row(rows, "the analyst's query (DuckDB, as written)", runs["analyst"]))
        bytes_ratio = item["sizes"]["floor"] / item["sizes"]["full"]
        lines.append(ratio_row(rows, "floor: DuckDB reads, writes the same columns", runs["floor"]) [:-2]
                     + [f"{bytes_ratio:.2f}x perfrules' bytes", ""])
        lines.append(ratio_row(rows, "zen-engine, fastest route (prebuilt content)", zen_fast,
                               "perfrules CSV rows/s ÷ zen's", to_zen, f">= {GOAL_ZEN_RATIO:g}x",
                               goals["zen"] if big else None, count=zen["rows"]))
        lines.append(ratio_row(rows, "zen-engine, slow route (new content per call)", zen_slow,
                               "perfrules CSV rows/s ÷ zen's", to_slow, count=zen["slow_rows"]))
        for name, run in item["formats"].items():
            met = run["peak_mb"] <= GOAL_PEAK_MB
            lines.append(ratio_row(rows, f"peak memory: perfrules -o {name}" if name != "csv --columns summary"
                                   else "peak memory: perfrules --columns summary", run, goal=f"<= {GOAL_PEAK_MB:.0f} MB",
                                   met=met if big else None))
            if big:
                verdicts.append(met)
        if big:
            verdicts.extend(goals.values())
        elif rows == 100_000:
            verdicts.append(goals["analyst"])
    check_met = check["seconds"] < GOAL_CHECK_SECONDS
    verdicts.append(check_met)
    lines.append(["", "perfrules check (example policy)", f"{check['seconds']:.2f}", f"{check['cpu_seconds']:.2f}", "",
                  f"{check['peak_mb']:.0f}", "",
                  f"< {GOAL_CHECK_SECONDS} s {'met' if check_met else 'MISSED'}"])
    return lines, verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, action="append",
                        help="agents to generate (repeatable; default 100000 and 1000000)")
    parser.add_argument("--zen-rows", type=int, default=20_000, help="rows of the zen sample (default 20000)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of perfrules (full and summary), the analyst's query and the floor, interleaved; "
                             "the median is reported (default 3)")
    parser.add_argument("--workdir", type=Path, help="where to write the CSV files (default: a temporary folder)")
    parser.add_argument("--source", type=Path, default=REPO,
                        help="run perfrules from this source tree (PYTHONPATH=SOURCE/src; default this repository), "
                             "for example `mkdir DIR && git archive COMMIT src grammar | tar -x -C DIR`")
    parser.add_argument("--profile", action="store_true", help="also time perfrules' stages on the largest file")
    parser.add_argument("--formats", default="json,xlsx",
                        help="other output formats to run once per size, for their peak memory "
                             "(comma-separated from json, xlsx; empty for none; default json,xlsx)")
    args = parser.parse_args(argv)
    formats = [name for name in args.formats.split(",") if name]
    sizes = args.rows or [100_000, 1_000_000]
    os.environ["PYTHONPATH"] = str((args.source / "src").resolve())
    # Run from bytecode, as an installed perfrules does (pip compiles it at install), like the
    # peers' duckdb: with PYTHONDONTWRITEBYTECODE set (this machine sets it) every run would
    # compile every module of the source tree again (0.06-0.1 s a run; docs/performance.md).
    compileall.compile_dir(str(args.source / "src" / "perfrules"), quiet=1)

    print("== machine")
    print("   " + machine())
    print("   (figures are noisy when other jobs share the machine; the ratios are measured in the same run)")
    print("   $ python " + " ".join(sys.argv))
    version = subprocess.run(["git", "log", "-1", "--format=%h %s"], cwd=args.source, capture_output=True, text=True).stdout
    dirty = subprocess.run(["git", "status", "--porcelain", "src"], cwd=args.source, capture_output=True, text=True).stdout
    print(f"   perfrules: {args.source / 'src'} at {version.strip() or '?'}"
          + (" (src/ has uncommitted changes)" if dirty.strip() else ""))
    folder_context = tempfile.TemporaryDirectory(prefix="perfrules-bench-") if args.workdir is None else None
    folder = Path(folder_context.name) if folder_context else args.workdir
    folder.mkdir(parents=True, exist_ok=True)
    # The spec's example as written: the bundled policy adds SMART targets and awards, which the
    # peers do not compute.
    (folder / POLICY.name).write_text(spec_example(), encoding="utf-8")
    try:
        report = [measure_size(rows, folder, args, formats) for rows in sizes]
        check = check_startup(folder / POLICY.name)
        lines, verdicts = report_table(report, check)
        print(f"\n== results (medians of {args.repeat}; load average now {os.getloadavg()[0]:.2f})")
        print(table(lines))
        print(f"\n== goals: {sum(verdicts)} of {len(verdicts)} met (goals at {GOAL_ROWS:,} agents, the analyst's at "
              f"100,000 too, and the check start-up)")
        if args.profile:
            largest = max(report, key=lambda item: item["rows"])
            profiled = checked(run_measured([sys.executable, __file__, "_profile", str(largest["data"]),
                                             str(folder / "profile_out.csv")]), "profile")
            print_profile(json.loads(profiled["stdout"].strip().splitlines()[-1]), largest["rows"])
    finally:
        if folder_context is not None:
            folder_context.cleanup()
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_call":
        print(json.dumps(globals()[sys.argv[2]](*json.loads(sys.argv[3])), ensure_ascii=False))
    elif len(sys.argv) > 1 and sys.argv[1] == "_analyst":
        analyst_child(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "_floor":
        floor_child(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) > 1 and sys.argv[1] == "_zen":
        zen_child(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "_profile":
        profile_child(sys.argv[2], sys.argv[3])
    else:
        sys.exit(main())
