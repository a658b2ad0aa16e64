"""Benchmark of ``perfrules evaluate``: CSV in, CSV out, against two peers in the same run.

Run from the repository root with the project's interpreter:

    .venv/bin/python bench/evaluate.py                  # 100,000 and 1,000,000 agents
    .venv/bin/python bench/evaluate.py --rows 20000     # a quick run
    .venv/bin/python bench/evaluate.py --profile        # also where perfrules spends its time
    .venv/bin/python bench/evaluate.py --source DIR     # perfrules of another commit, unpacked in DIR

For each size it generates agents for the spec's example policy
(``policies/after_sales_agent.perf``) as one CSV file: percents with two decimals (a tenth
of them written as fractions), about 5% empty csat cells and 8% csat samples below the
policy's minimum of 10, counts, durations in minutes, salaries.  Then, each in its own
child process so that the peak memory (``ru_maxrss`` of that child, from ``os.wait4``) is
its own:

(a) ``perfrules evaluate policies/after_sales_agent.perf DATA.csv -o OUT.csv``: the real
    command line, end to end (start-up, policy check, reading, validating, evaluating,
    writing);
(b) zen-engine (GoRules) evaluating the same KPIs, base score, adjustment, score, veto and
    grade per row from a JDM graph loaded through ``ZenDecisionContent`` and a loader,
    on rows already parsed into Python dicts (zen's time excludes reading the CSV), on a
    sample of ``--zen-rows`` rows; the fastest of three call routes is used;
(c) a hand-written DuckDB query of the same computation (KPI levels, points, base score,
    adjustment, score, veto, grade, rank, the top-30% bonus tier, the plan), CSV in and
    CSV out via ``COPY``, run as ``python -c`` the same way as (a).

Then, once per size, the same command writing JSON (streamed) and XLSX (``--formats``), for
the peak memory of each output format.

It prints a table (rows, seconds, rows/s, peak MB) and the ratios against the goals of the
performance issue: at 1,000,000 agents perfrules reaches at least 12x zen's rows/s, takes
at most 1.5x the hand-written query's time, and peaks under 4 GB.  It checks that
perfrules and the hand-written query agree on every agent's score, grade, rank and bonus.
When a goal is missed (or with ``--profile``) it times every stage and every SQL
statement of perfrules in-process on the largest file.  Exit code 0 unless a step fails
(a missed goal is reported, not failed: timings depend on the machine).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
POLICY = REPO / "policies" / "after_sales_agent.perf"
PERFRULES = Path(sys.executable).parent / "perfrules"

GOAL_ZEN_RATIO = 12.0  # perfrules rows/s ÷ zen rows/s, at least
GOAL_HANDWRITTEN_RATIO = 1.5  # perfrules time ÷ hand-written query time, at most
GOAL_PEAK_MB = 4096.0
GOAL_ROWS = 1_000_000


# ---- data ---------------------------------------------------------------------------------------------


def generate_csv(path: Path, rows: int) -> float:
    """Write ``rows`` agents of the example policy as CSV (with DuckDB); return seconds."""
    import duckdb

    start = time.perf_counter()

    def uniform(salt: int) -> str:  # a deterministic pseudo-random number in [0, 1)
        return f"((hash(i * 31 + {salt}) % 1000003) / 1000003.0)"

    def percent(low: float, high: float, salt: int) -> str:
        value = f"round({low} + {uniform(salt)} * {high - low}, 2)"
        # a tenth of the cells written as a fraction (0.9235), the rest as 92.35%
        return (f"CASE WHEN {uniform(salt + 1)} < 0.1 THEN CAST(round({value} / 100, 4) AS VARCHAR) "
                f"ELSE printf('%.2f%%', {value}) END")

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
        FROM range({rows}) AS t(i)
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


def checked(result: dict, what: str) -> dict:
    if result["code"] != 0:
        sys.stderr.write(result["stderr"][-4000:])
        raise SystemExit(f"{what} failed with exit code {result['code']}")
    return result


# ---- (c) the hand-written query ----------------------------------------------------------------------

HANDWRITTEN_SQL = r"""
CREATE MACRO pct(x) AS CASE
    WHEN x IS NULL OR trim(x) = '' THEN NULL
    WHEN ends_with(trim(x), '%') THEN CAST(rtrim(trim(x), '%') AS DECIMAL(18, 6)) * 0.01
    ELSE CAST(trim(x) AS DECIMAL(18, 6)) END;
COPY (
WITH typed AS (
    SELECT agent_id, name, role, team, period,
           pct(reply_within_10min) AS reply,
           CASE WHEN TRY_CAST(csat_responses AS INTEGER) >= 10 THEN pct(csat) END AS csat,
           pct(resolution_rate) AS resolution,
           coalesce(TRY_CAST(qa_commendations AS INTEGER), 0) AS qa,
           coalesce(TRY_CAST(attitude_violations AS INTEGER), 0) AS violations,
           coalesce(TRY_CAST(serious_complaints AS INTEGER), 0) AS serious,
           CAST(replace(base_salary, ',', '') AS DECIMAL(18, 2)) AS base_salary
    FROM read_csv(?, header = true, all_varchar = true)
    WHERE role IN ('agent', 'senior_agent')
), levels AS (
    SELECT *,
           CASE WHEN reply >= 0.90 THEN 'excellent' WHEN reply >= 0.80 THEN 'pass' ELSE 'fail' END AS l_reply,
           CASE WHEN csat IS NULL THEN NULL WHEN csat >= 0.90 THEN 'excellent' WHEN csat >= 0.85 THEN 'pass'
                ELSE 'fail' END AS l_csat,
           CASE WHEN resolution >= 0.95 THEN 'excellent' WHEN resolution >= 0.90 THEN 'pass' ELSE 'fail' END AS l_resolution
    FROM typed
), points AS (
    SELECT *,
           CASE l_reply WHEN 'excellent' THEN 100 WHEN 'pass' THEN 80 ELSE 0 END AS p_reply,
           CASE l_csat WHEN 'excellent' THEN 100 WHEN 'pass' THEN 80 WHEN 'fail' THEN 0 END AS p_csat,
           CASE l_resolution WHEN 'excellent' THEN 100 WHEN 'pass' THEN 80 ELSE 0 END AS p_resolution,
           greatest(-20, least(10, 2 * qa - 5 * violations)) AS adjust
    FROM levels
), scored AS (
    SELECT *,
           -- weights in tenths: 3 + 4 + 3, csat left out when missing; scores are exact to 0.1 here
           CAST(round((p_reply * 3 + coalesce(p_csat * 4, 0) + p_resolution * 3)
                      / (6 + CASE WHEN p_csat IS NULL THEN 0 ELSE 4 END), 2) AS DECIMAL(18, 2)) AS base_score
    FROM points
), ranked AS (
    SELECT *, base_score + adjust AS score,
           rank() OVER (ORDER BY base_score + adjust DESC) AS rank,
           count(*) OVER () AS rank_of
    FROM scored
), graded AS (
    SELECT *,
           CASE WHEN serious > 0 THEN '重大投诉一票否决' END AS veto,
           CASE WHEN serious > 0 THEN '不合格' WHEN score >= 90 THEN '优秀' WHEN score >= 75 THEN '良好'
                WHEN score >= 60 THEN '合格' ELSE '不合格' END AS grade,
           CAST(ceil(rank_of * 0.3) AS BIGINT) AS tier
    FROM ranked
), bonus AS (
    -- top 30% => 10%..20% of base_salary, linear in the tier, in whole cents, half up:
    -- salary × (20 × (tier − 1) − 10 × (rank − 1)) / (100 × (tier − 1)), on integers
    SELECT *,
           CASE WHEN grade = '不合格' THEN CAST(0 AS DECIMAL(18, 2))
                WHEN rank <= tier AND tier <= 1 THEN CAST(round(base_salary * 0.20, 2) AS DECIMAL(18, 2))
                WHEN rank <= tier THEN CAST(
                    (2 * CAST(base_salary * 100 AS HUGEINT) * (20 * (tier - 1) - 10 * (rank - 1)) + 100 * (tier - 1))
                    // (200 * (tier - 1)) AS DECIMAL(18, 0)) / 100
                ELSE CAST(0 AS DECIMAL(18, 2)) END AS bonus
    FROM graded
)
SELECT agent_id, name, role, team, period, '售后客服月度考核' AS policy,
       CAST(reply AS DOUBLE) AS "kpi:响应时间:value", l_reply AS "kpi:响应时间:level",
       CAST(p_reply AS DECIMAL(18, 2)) AS "kpi:响应时间:points", 'scored' AS "kpi:响应时间:status",
       CAST(csat AS DOUBLE) AS "kpi:顾客满意度:value", l_csat AS "kpi:顾客满意度:level",
       CAST(p_csat AS DECIMAL(18, 2)) AS "kpi:顾客满意度:points",
       CASE WHEN csat IS NULL THEN 'excluded' ELSE 'scored' END AS "kpi:顾客满意度:status",
       CAST(resolution AS DOUBLE) AS "kpi:问题解决率:value", l_resolution AS "kpi:问题解决率:level",
       CAST(p_resolution AS DECIMAL(18, 2)) AS "kpi:问题解决率:points", 'scored' AS "kpi:问题解决率:status",
       base_score, CAST(adjust AS DECIMAL(18, 2)) AS "adjust:主管抽检:points", score, rank, rank_of, veto, grade,
       CAST(bonus AS DECIMAL(18, 2)) AS "bonus:月度绩效奖金:amount", CAST(bonus AS DECIMAL(38, 2)) AS bonus_total,
       CASE WHEN l_csat = 'fail' THEN '沟通提升计划' ELSE '' END AS plans,
       '__SHA256__' AS policy_sha256
FROM bonus
ORDER BY rank, agent_id
) TO '__OUT__' (HEADER, DELIMITER ',');
"""


def handwritten_child(data: str, out: str) -> None:
    import duckdb

    import hashlib

    connection = duckdb.connect()
    sha256 = hashlib.sha256(POLICY.read_bytes()).hexdigest()
    sql = HANDWRITTEN_SQL.replace("__OUT__", out.replace("'", "''")).replace("__SHA256__", sha256)
    statements = sql.split(";\nCOPY")
    connection.execute(statements[0])
    connection.execute("COPY" + statements[1], [data])
    connection.close()


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
    """Time zen on ``limit`` rows already in memory; print JSON with every route's figures."""
    import zen

    rows = read_zen_rows(data, limit)
    content = json.dumps(zen_graph(), ensure_ascii=False)
    engine = zen.ZenEngine({"loader": lambda key: zen.ZenDecisionContent(content)})
    decision = engine.create_decision(zen.ZenDecisionContent(content))
    engine.evaluate("review.json", rows[0])  # load and cache the graph
    decision.evaluate(rows[0])

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

    routes = {"engine.evaluate(key, dict) via loader": engine_evaluate,
              "decision.evaluate(dict) (create_decision)": decision_evaluate,
              "engine.evaluate_batch, 2000 a call": evaluate_batch}
    trial = rows[: min(len(rows), 10_000)]
    trials = {}
    for name, route in routes.items():
        route(trial[:500])  # warm
        start = time.perf_counter()
        route(trial)
        trials[name] = len(trial) / (time.perf_counter() - start)
    best = max(trials, key=trials.get)
    start = time.perf_counter()
    results = routes[best](rows)
    seconds = time.perf_counter() - start
    grades: dict[str, int] = {}
    for result in results:
        grades[result["grade"]] = grades.get(result["grade"], 0) + 1
    print(json.dumps({"rows": len(rows), "seconds": seconds, "route": best, "trials": trials, "grades": grades},
                     ensure_ascii=False))


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

    policies = stage("load and check the policy", load_policies, [str(POLICY)])
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
                       policies.files, Path(data), data)
    stage("write the CSV (write_csv: flat query + COPY)", outputs.write_csv, evaluation, Path(out))
    total = time.perf_counter() - start_all
    print(json.dumps({"total": total, "stages": stages, "statements": statements}, ensure_ascii=False))


# ---- verifying that the two CSV results agree -----------------------------------------------------------


def compare_outputs(perfrules_csv: Path, handwritten_csv: Path) -> dict:
    """Per column, how many agents differ between the two results (cells compared as text)."""
    import duckdb

    connection = duckdb.connect()
    read = "read_csv(?, header = true, all_varchar = true)"
    columns = [name for (name,) in connection.execute(
        f"SELECT column_name FROM (DESCRIBE SELECT * FROM {read})", [str(perfrules_csv)]).fetchall()]
    theirs = {name for (name,) in connection.execute(
        f"SELECT column_name FROM (DESCRIBE SELECT * FROM {read})", [str(handwritten_csv)]).fetchall()}
    shared = [name for name in columns if name in theirs and name != "agent_id"]
    counts = ", ".join(
        f'count(*) FILTER (WHERE p."{name}" IS DISTINCT FROM h."{name}")' for name in shared)
    row = connection.execute(
        f"SELECT (SELECT count(*) FROM {read}), (SELECT count(*) FROM {read}), count(*), {counts} "
        f"FROM {read} AS p JOIN {read} AS h USING (agent_id)",
        [str(perfrules_csv), str(handwritten_csv), str(perfrules_csv), str(handwritten_csv)]).fetchone()
    connection.close()
    identical = perfrules_csv.read_bytes() == handwritten_csv.read_bytes()
    return {"perfrules_rows": row[0], "handwritten_rows": row[1], "joined": row[2], "identical": identical,
            "missing_columns": [name for name in columns if name not in theirs],
            "differing": {name: count for name, count in zip(shared, row[3:]) if count}}


# ---- the report ------------------------------------------------------------------------------------------


def machine() -> str:
    import duckdb

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
        import zen  # noqa: F401
        from importlib.metadata import version

        zen_version = version("zen-engine")
    except Exception:  # pragma: no cover - zen is optional for the rest of the report
        zen_version = "not installed"
    return (f"nproc {os.cpu_count()} ({cpu}), memory {memory}, {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}, duckdb {duckdb.__version__}, zen-engine {zen_version}, "
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
    return (f"   {name:<20} {run['seconds']:7.2f} s wall (median of {spread}), {run['cpu_seconds']:6.2f} s CPU, "
            f"peak {run['peak_mb']:7.1f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, action="append",
                        help="agents to generate (repeatable; default 100000 and 1000000)")
    parser.add_argument("--zen-rows", type=int, default=100_000, help="rows of the zen sample (default 100000)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of perfrules and of the hand-written query, interleaved; the median is reported "
                             "(default 3)")
    parser.add_argument("--workdir", type=Path, help="where to write the CSV files (default: a temporary folder)")
    parser.add_argument("--source", type=Path,
                        help="run perfrules from this source tree (PYTHONPATH=SOURCE/src), for example "
                             "`mkdir DIR && git archive COMMIT src grammar | tar -x -C DIR`")
    parser.add_argument("--profile", action="store_true", help="profile perfrules even when every goal is met")
    parser.add_argument("--formats", default="json,xlsx",
                        help="other output formats to time once per size, with their peak memory "
                             "(comma-separated from json, xlsx; empty for none; default json,xlsx)")
    args = parser.parse_args(argv)
    formats = [name for name in args.formats.split(",") if name]
    sizes = args.rows or [100_000, 1_000_000]
    if args.source is not None:
        os.environ["PYTHONPATH"] = str((args.source / "src").resolve())

    print("== machine")
    print("   " + machine())
    print("   (figures are noisy when other jobs share the machine; the ratios are measured in the same run)")
    version = subprocess.run(["git", "log", "-1", "--format=%h %s"], cwd=REPO, capture_output=True, text=True).stdout
    dirty = subprocess.run(["git", "status", "--porcelain", "src"], cwd=REPO, capture_output=True, text=True).stdout
    if args.source is None:
        print(f"   perfrules: src/ of the repository at {version.strip()}"
              + (" (src/ has uncommitted changes)" if dirty.strip() else ""))
    else:
        print(f"   perfrules: from {args.source} (PYTHONPATH), not the repository's src/")
    folder_context = tempfile.TemporaryDirectory(prefix="perfrules-bench-") if args.workdir is None else None
    folder = Path(folder_context.name) if folder_context else args.workdir
    folder.mkdir(parents=True, exist_ok=True)
    report = []
    try:
        for rows in sizes:
            data = folder / f"agents_{rows}.csv"
            generated = generate_csv(data, rows)
            size_mb = data.stat().st_size / 1e6
            print(f"\n== {rows:,} agents: {data.name}, {size_mb:.1f} MB, generated in {generated:.1f} s")
            perf_out, hand_out = folder / f"perfrules_{rows}.csv", folder / f"handwritten_{rows}.csv"
            command = [str(PERFRULES), "evaluate", str(POLICY.relative_to(REPO)), str(data), "-o", str(perf_out)]
            print("   $ " + " ".join(command))
            perf_runs, hand_runs = [], []
            for _ in range(max(1, args.repeat)):  # interleaved, so that a busy spell hits both
                perf_runs.append(checked(run_measured(command), "perfrules evaluate"))
                hand_runs.append(checked(run_measured(
                    [sys.executable, __file__, "_handwritten", str(data), str(hand_out)]), "hand-written query"))
            perfrules, handwritten = median_run(perf_runs), median_run(hand_runs)
            print(describe("perfrules evaluate", perfrules))
            print(describe("hand-written query", handwritten))
            sample = min(rows, args.zen_rows)
            zen_run = checked(run_measured([sys.executable, __file__, "_zen", str(data), str(sample)]), "zen-engine")
            zen_figures = json.loads(zen_run["stdout"].strip().splitlines()[-1])
            zen_rate = zen_figures["rows"] / zen_figures["seconds"]
            print(f"   zen-engine           {zen_figures['seconds']:7.2f} s for {zen_figures['rows']:,} rows in memory "
                  f"({zen_rate:,.0f} rows/s, route: {zen_figures['route']}), process peak {zen_run['peak_mb']:.1f} MB")
            print("     routes tried on 10,000 rows: " + ", ".join(
                f"{name}: {rate:,.0f} rows/s" for name, rate in zen_figures["trials"].items()))
            agreement = compare_outputs(perf_out, hand_out)
            if agreement["identical"]:
                verdict = "the two CSV files are byte-identical"
            elif not agreement["differing"] and agreement["joined"] == rows == agreement["perfrules_rows"]:
                verdict = "every shared column agrees for every agent"
            else:
                verdict = (f"DIFFERENT: agents per column {agreement['differing']}; rows {agreement['perfrules_rows']:,} "
                           f"vs {agreement['handwritten_rows']:,}")
            print(f"   perfrules vs hand-written output: {verdict}")
            by_format = {"csv": perfrules}
            for name in formats:  # the same evaluation written as JSON (streamed) and XLSX, once each
                other = [str(PERFRULES), "evaluate", str(POLICY.relative_to(REPO)), str(data),
                         "-o", str(folder / f"perfrules_{rows}.{name}")]
                by_format[name] = median_run([checked(run_measured(other), f"perfrules evaluate -o .{name}")])
                print(describe(f"perfrules -o .{name}", by_format[name]))
            report.append({"rows": rows, "perfrules": perfrules, "handwritten": handwritten, "zen": zen_figures,
                           "zen_process": zen_run, "zen_rate": zen_rate, "data": data, "out": perf_out,
                           "formats": by_format})

        print("\n== results")
        lines = [["agents", "engine", "seconds", "rows/s", "peak MB", "perfrules/zen rows/s", "perfrules/hand time"]]
        for item in report:
            rows = item["rows"]
            perf_rate = rows / item["perfrules"]["seconds"]
            lines.append([f"{rows:,}", "perfrules evaluate (CSV→CSV)", f"{item['perfrules']['seconds']:.2f}",
                          f"{perf_rate:,.0f}", f"{item['perfrules']['peak_mb']:.0f}",
                          f"{perf_rate / item['zen_rate']:.1f}x",
                          f"{item['perfrules']['seconds'] / item['handwritten']['seconds']:.2f}x"])
            lines.append([f"{rows:,}", "hand-written DuckDB (CSV→CSV)", f"{item['handwritten']['seconds']:.2f}",
                          f"{rows / item['handwritten']['seconds']:,.0f}", f"{item['handwritten']['peak_mb']:.0f}", "", ""])
            lines.append([f"{item['zen']['rows']:,}", "zen-engine (in memory, sample)", f"{item['zen']['seconds']:.2f}",
                          f"{item['zen_rate']:,.0f}", f"{item['zen_process']['peak_mb']:.0f}", "", ""])
        print(table(lines))
        print("\n== peak memory per output format (goal: at most 1 GB in every format at 1,000,000 agents)")
        lines = [["agents", "format", "seconds", "peak MB"]]
        for item in report:
            for name, run in item["formats"].items():
                lines.append([f"{item['rows']:,}", name, f"{run['seconds']:.2f}", f"{run['peak_mb']:.0f}"])
        print(table(lines))

        largest = max(report, key=lambda item: item["rows"])
        perf_rate = largest["rows"] / largest["perfrules"]["seconds"]
        goals = [
            (f"perfrules rows/s >= {GOAL_ZEN_RATIO:.0f}x zen's", perf_rate / largest["zen_rate"] >= GOAL_ZEN_RATIO,
             f"{perf_rate / largest['zen_rate']:.1f}x"),
            (f"perfrules time <= {GOAL_HANDWRITTEN_RATIO}x the hand-written query's",
             largest["perfrules"]["seconds"] / largest["handwritten"]["seconds"] <= GOAL_HANDWRITTEN_RATIO,
             f"{largest['perfrules']['seconds'] / largest['handwritten']['seconds']:.2f}x"),
            (f"peak memory < {GOAL_PEAK_MB / 1024:.0f} GB", largest["perfrules"]["peak_mb"] < GOAL_PEAK_MB,
             f"{largest['perfrules']['peak_mb']:.0f} MB"),
        ]
        scale = "" if largest["rows"] >= GOAL_ROWS else f" (goals are for {GOAL_ROWS:,} agents; this run's largest is {largest['rows']:,})"
        print(f"\n== goals at {largest['rows']:,} agents{scale}")
        for name, met, figure in goals:
            print(f"   {'met   ' if met else 'MISSED'}  {name}: {figure}")
        if args.profile or not all(met for _, met, _ in goals):
            profiled = checked(run_measured([sys.executable, __file__, "_profile", str(largest["data"]),
                                             str(folder / "profile_out.csv")]), "profile")
            print_profile(json.loads(profiled["stdout"].strip().splitlines()[-1]), largest["rows"])
    finally:
        if folder_context is not None:
            folder_context.cleanup()
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_handwritten":
        handwritten_child(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "_zen":
        zen_child(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "_profile":
        profile_child(sys.argv[2], sys.argv[3])
    else:
        sys.exit(main())
