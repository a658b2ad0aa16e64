"""The texts that are DuckDB ENUMs in an evaluation are written as the policy and the data say them.

KPI statuses and levels are ENUMs in the plan (engine/plan.py), the role is one in the single
pass (engine/single_pass.py) and each label is an ENUM constant in the CSV (``outputs.one_of``):
one small number a row instead of a string.  None of it may show: a level named like a status
(``excluded``, ``unmatched``), labels that need quoting or the formula guard, more levels than
an ENUM of one byte holds (256 and more), a KPI without levels beside one with them, ``when
missing LEVEL``, role cells with spaces around them, and hundreds of roles.  Each file is
evaluated to CSV with the single pass and without it (test_single_pass.evaluate_twice: the
same bytes), and the single pass must write it itself, never giving it back to the stored route.
"""

from __future__ import annotations

import csv
import io
import json

from test_fuzz_data import run_evaluate
from test_single_pass import evaluate_twice

NAMES_POLICY = r'''policy "等级 'q' \"names\"" {
    version "1"
    roles agent, 客服
    period month
    language en

    metric csat: percent "CSAT" higher is better
    metric reply: percent "Reply" higher is better

    levels {
        excluded "'引号'" = 20
        scored = 30
        unmatched "=SUM(A1)" = 40
        substituted "a \"b\" c" = 50
        优秀 "" = 100
        tab "\tTab" = 60
        dup1 "same" = 70
        dup2 "same" = 80
    }

    kpi "K1" weight 60% when missing excluded {
        csat >= 95% => 优秀
        csat >= 85% => dup2
        csat >= 75% => dup1
        csat >= 65% => tab
        csat >= 55% => substituted
        csat >= 45% => unmatched
        else => scored
    }
    kpi "K2" weight 40% when missing 50 {
        reply >= 90% => 100
        else => 10
    }

    grade {
        kpi "K1" is excluded => "E"
        kpi "K1" is unmatched => "=U"
        kpi "K1" is substituted => "S"
        else => "X"
    }
}
'''

NAMES_DATA = ["agent_id,role,period,csat,reply", "A1,agent,2026-11,0.96,0.95", "A2, 客服 ,2026-11,0.56,0.5",
              "A3,agent,2026-11,,0.95", "A4,agent,2026-11,0.46,0.95", "A5,客服,2026-11,0.66,0.95",
              "A6,agent,2026-11,0.8,", "A7,agent,2026-11,0.2,0.95"]

# What a reader of the CSV sees: agent, role, each KPI's level, level_label, status and status_label,
# score and grade, best first: K1 gives 60% of its level's points, K2 40% of 100 (reply >= 90%),
# of 10, or of 50 when reply is missing.
NAMES_SEEN = [
    ["A1", "agent", "优秀", "", "scored", "scored", "", "", "scored", "scored", "100.00", "X"],  # 60 + 40
    ["A5", "客服", "tab", "'\tTab", "scored", "scored", "", "", "scored", "scored", "76.00", "X"],  # 36 + 40
    ["A4", "agent", "unmatched", "'=SUM(A1)", "scored", "scored", "", "", "scored", "scored", "64.00", "'=U"],
    ["A6", "agent", "dup1", "same", "scored", "scored", "", "", "substituted", "substituted", "62.00", "X"],  # 42 + 20
    ["A7", "agent", "scored", "scored", "scored", "scored", "", "", "scored", "scored", "58.00", "X"],  # 18 + 40
    ["A3", "agent", "excluded", "'引号'", "substituted", "substituted", "", "", "scored", "scored", "52.00", "E"],
    ["A2", "客服", "substituted", 'a "b" c', "scored", "scored", "", "", "scored", "scored", "34.00", "S"],  # 30 + 4
]
SEEN_COLUMNS = ["agent_id", "role"] + [f"kpi:{kpi}:{what}" for kpi in ("K1", "K2")
                                       for what in ("level", "level_label", "status", "status_label")] + ["score", "grade"]


def _seen(stdout: str, columns: list[str]) -> list[list[str]]:
    rows = list(csv.DictReader(io.StringIO(stdout)))
    return [[row[column] for column in columns] for row in rows]


def test_levels_named_like_statuses_and_labels_that_need_quoting(tmp_path):
    (tmp_path / "policy.perf").write_text(NAMES_POLICY, encoding="utf-8")
    (code, stdout, stderr), taken, redone = evaluate_twice(tmp_path, NAMES_DATA, policy=tmp_path / "policy.perf")
    assert (code, stderr, taken, redone) == (0, "", True, False)
    assert _seen(stdout, SEEN_COLUMNS) == NAMES_SEEN
    # The JSON says the levels and statuses as codes, as before.
    (tmp_path / "data.csv").unlink()
    result = run_evaluate(tmp_path, tmp_path / "policy.perf", "data.csv", "\n".join(NAMES_DATA).encode("utf-8"))
    kpis = {item["agent_id"]: [(kpi["level"], kpi["status"]) for kpi in item["kpis"]]
            for item in json.loads(result.stdout)["results"]}
    assert kpis["A3"] == [("excluded", "substituted"), (None, "scored")]
    assert kpis["A4"] == [("unmatched", "scored"), (None, "scored")]
    assert kpis["A6"] == [("dup1", "scored"), (None, "substituted")]


def test_more_levels_and_roles_than_a_byte_counts(tmp_path):
    roles = [f"r{number}" for number in range(300)]
    levels = "\n".join(f"        L{number} = {number % 101}" for number in range(300))
    rules = "\n".join(f"        calls >= {number} => L{number}" for number in range(299, 0, -1))
    (tmp_path / "policy.perf").write_text(f'''policy "many" {{
    version "1"
    roles {", ".join(roles)}
    period month
    metric calls: count "Calls"
    levels {{
{levels}
    }}
    kpi "K" weight 100% when missing L256 {{
{rules}
        else => L0
    }}
    grade {{
        kpi "K" is L299 => "top"
        kpi "K" is L256 => "missing calls"
        else => "other"
    }}
    bonus "b" {{
        kpi "K" is L257 => 257
        else => 0
    }}
}}
''', encoding="utf-8")
    lines = ["agent_id,role,period,calls", "A1,r0,2026-11,300", "A2, r5 ,2026-11,", "A3,r299,2026-11,257",
             "A4,r150 ,2026-11,5", "A5,r256,2026-11,0"]
    (code, stdout, stderr), taken, redone = evaluate_twice(tmp_path, lines, policy=tmp_path / "policy.perf")
    assert (code, stderr, taken, redone) == (0, "", True, False)
    columns = ["agent_id", "role", "kpi:K:level", "kpi:K:points", "kpi:K:status", "grade", "bonus_total"]
    assert _seen(stdout, columns) == [
        ["A1", "r0", "L299", "97.00", "scored", "top", "0.00"],  # 299 % 101 = 97 points
        ["A3", "r299", "L257", "55.00", "scored", "other", "257.00"],
        ["A2", "r5", "L256", "54.00", "substituted", "missing calls", "0.00"],
        ["A4", "r150", "L5", "5.00", "scored", "other", "0.00"],
        ["A5", "r256", "L0", "0.00", "scored", "other", "0.00"],
    ]


def test_the_sql_of_many_levels_grows_with_the_rules_not_with_rules_times_levels():
    """An ENUM type is written out whole wherever it is named: with ENUM constants a policy of 256
    levels and 100 KPIs of 20 level rules was 4.6 MB of SQL and 1.1 GB to plan (review 9). Past
    sql.ENUM_CONSTANTS_MOST members the constants are text, so the plan grows with its rules."""
    from perfrules.check import analyse_policy
    from perfrules.engine.plan import compile_plan
    from perfrules.parser import parse_policy
    from perfrules.source import SourceFile

    def plan_size(count: int) -> int:
        levels = "\n".join(f"        L{number} = {number % 101}" for number in range(count))
        rules = "\n".join(f"        calls >= {number} => L{number}" for number in range(20, 0, -1))
        kpis = "\n".join(f'    kpi "K{k}" weight 1% {{\n{rules}\n        else => L0\n    }}' for k in range(100))
        text = (f'policy "p" {{\n    version "1"\n    roles agent\n    metric calls: count\n'
                f'    levels {{\n{levels}\n    }}\n{kpis}\n}}\n')
        parsed = parse_policy(SourceFile("p.perf", text))
        model, problems = analyse_policy(parsed.policy, "p.perf", text)
        assert parsed.diagnostics == [] and [problem for problem in problems if problem.severity == "error"] == []
        return len(compile_plan(model).sql("typed_0", "2026-11"))

    assert plan_size(256) < 1.2 * plan_size(40)
    assert plan_size(256) < 1_000_000
