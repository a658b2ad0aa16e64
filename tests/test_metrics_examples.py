"""The two example definitions on the real datasets give exactly the issue's values (issue 12).

The expected values are computed here with nothing but Python's csv and gzip modules, the
issue's rules applied by hand, independent of perfrules' query:
- bank calls: a call counts when outcome is AGENT and server is not NO_SERVER; agent =
  server; aht = mean ser_time; answered_within_60s = share of calls with q_time <= 60;
  days_worked = distinct dates.
- ServiceNow: one row per incident, its event with the highest sys_mod_count, ties to the
  latest sys_updated_at; skipped when that event's assigned_to or resolved_at is `?`;
  agent = assigned_to, period = month of resolved_at; sla_met = share made_sla true;
  reopened = share reopen_count > 0; median_resolution_time = median of resolved_at -
  opened_at (mean of the two middle values); reassignments = mean reassignment_count.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from statistics import median

from conftest import REPO

EXAMPLES = REPO / "examples" / "metrics"
DATA = REPO / "examples" / "data"


def snapshot(run_cli, name: str) -> dict[tuple[str, str], dict[str, str]]:
    result = run_cli("metrics", f"{name}.perfm", cwd=EXAMPLES)
    assert result.exit_code == 0, result.stderr
    return {(row["agent_id"], row["period"]): row for row in csv.DictReader(io.StringIO(result.stdout))}


def six(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def percent(numerator: int, denominator: int) -> str:
    fraction = six(Decimal(numerator) / Decimal(denominator))
    text = format((fraction * 100).normalize(), "f")
    return text + "%"


def seconds(value) -> str:
    return format(six(value).normalize(), "f") + "s"


def test_bank_calls_snapshot(run_cli):
    calls = defaultdict(list)
    with gzip.open(DATA / "callcenter-anonymous-bank-august.csv.gz", "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["outcome"] == "AGENT" and row["server"] != "NO_SERVER":
                calls[(row["server"], row["date"][:7])].append(row)
    shown = snapshot(run_cli, "bank_calls")
    assert set(shown) == set(calls) and len(calls) == 31
    for key, rows in calls.items():
        row = shown[key]
        assert row["role"] == "坐席"
        assert row["calls_handled"] == str(len(rows))
        assert row["aht"] == seconds(Decimal(sum(int(call["ser_time"]) for call in rows)) / len(rows))
        assert row["answered_within_60s"] == percent(sum(int(call["q_time"]) <= 60 for call in rows), len(rows))
        assert row["days_worked"] == str(len({call["date"] for call in rows}))
    # One agent worked by hand as a check of the check: AVI served 2,762 calls on 23 days.
    assert (shown[("AVI", "2010-08")]["calls_handled"], shown[("AVI", "2010-08")]["days_worked"]) == ("2762", "23")


def _stamp(text: str) -> datetime:
    return datetime.strptime(text, "%d/%m/%Y %H:%M")


def test_servicenow_snapshot(run_cli):
    last: dict[str, dict] = {}
    with gzip.open(DATA / "servicenow-incident-events-2016.csv.gz", "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            key = (int(row["sys_mod_count"]), _stamp(row["sys_updated_at"]))
            kept = last.get(row["number"])
            if kept is None or key > (int(kept["sys_mod_count"]), _stamp(kept["sys_updated_at"])):
                last[row["number"]] = row
    incidents = defaultdict(list)
    for row in last.values():
        if row["assigned_to"] == "?" or row["resolved_at"] == "?":
            continue
        incidents[(row["assigned_to"], _stamp(row["resolved_at"]).strftime("%Y-%m"))].append(row)
    shown = snapshot(run_cli, "servicenow")
    assert set(shown) == set(incidents)
    for key, rows in incidents.items():
        row = shown[key]
        count = len(rows)
        assert row["incidents_resolved"] == str(count), key
        assert row["sla_met"] == percent(sum(item["made_sla"] == "true" for item in rows), count), key
        assert row["reopened"] == percent(sum(int(item["reopen_count"]) > 0 for item in rows), count), key
        times = [(_stamp(item["resolved_at"]) - _stamp(item["opened_at"])).total_seconds() for item in rows]
        middle = Decimal(str(median(times)))
        hours = middle / 3600
        expected = (format(hours.normalize(), "f") + "h" if hours == hours.quantize(Decimal("0.01"))
                    else seconds(middle))
        assert row["median_resolution_time"] == expected, key
        average = six(Decimal(sum(int(item["reassignment_count"]) for item in rows)) / count)
        assert row["reassignments"] == format(average.normalize(), "f"), key


def test_raw_exports_to_results_in_one_command(run_cli):
    result = run_cli("evaluate", "bank_calls.perf", "bank_calls.perfm", "--format", "csv", "--columns", "summary",
                     cwd=EXAMPLES)
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 31 and {row["period"] for row in rows} == {"2010-08"}
    explained = run_cli("explain", "bank_calls.perf", "bank_calls.perfm", "--agent", "AVI", "--lang", "en",
                        cwd=EXAMPLES)
    assert explained.exit_code == 0, explained.stderr
    assert ("  aht = 126.981535s\n    ← average of ser_time over 2,762 calls of "
            "../data/callcenter-anonymous-bank-august.csv.gz where outcome == \"AGENT\" and server != \"NO_SERVER\"\n"
            ) in explained.stdout


def test_explain_says_where_an_incident_metric_came_from_in_chinese(run_cli):
    result = run_cli("explain", "servicenow.perf", "servicenow.perfm", "--period", "2016-04", "--agent", "Resolver 17",
                     cwd=EXAMPLES)
    assert result.exit_code == 0, result.stderr
    assert ("  sla_met = 72.4742%\n    ← 满足 made_sla 的占比:来自 ../data/servicenow-incident-events-2016.csv.gz 的 "
            "970 行 events,条件 assigned_to is known and resolved_at is known\n") in result.stdout
