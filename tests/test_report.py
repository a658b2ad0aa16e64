"""``perfrules report``: the PDFs are read back with pypdf and checked for what they say.

Most checks compare the text with whitespace removed (``compact``): table cells wrap
(``顾客满意\\n度``) and pypdf puts line breaks where the layout does, but the order of
the words within a packet is the order of the template.  Numbers are compared with
what ``perfrules evaluate`` gives for the same agent, formatted the way the packet
prints them (``94.00``, ``27 / 60``, ``2,100.00``).

Data sets are small and built in temporary folders; the full example (60 agents) is
rendered once for the whole module.
"""

from __future__ import annotations

import csv
import http.server
import json
import math
import os
import re
import shutil
import statistics
import sys
import threading
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pypdf
import pytest
from click.testing import CliRunner

from conftest import POLICIES, REPO

import perfrules.report.render as render

EXAMPLES = REPO / "examples"
TEMPLATES = REPO / "templates"
PERIOD = "2026-11"
UNSAFE = set('\\/:*?"<>|')
ZH_LABELS = ["绩效面谈资料", "关键指标", "考核标准", "加权得分", "优势", "风险", "改进计划", "面谈记录",
             "员工签名", "主管签名", "已计分", "不计入", "替代计分", "未触发一票否决", "主管备注"]
EN_LABELS = ["Performance review packet", "Key performance indicators", "Thresholds", "Weighted", "Strengths",
             "Weaknesses", "Opportunities", "Threats", "Improvement plan", "Feedback meeting", "Agreed actions",
             "Agent's signature", "Supervisor's signature", "Date"]
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


# ---- helpers ------------------------------------------------------------------------------------


def invoke(*args: str):
    """Like the ``run_cli`` fixture, for module-scoped fixtures (which cannot use it)."""
    from perfrules.cli import main

    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(str(path)).pages)


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def has(text: str, expected: str) -> bool:
    return compact(expected) in compact(text)


def assert_has(text: str, *expected: str) -> None:
    missing = [item for item in expected if not has(text, item)]
    assert not missing, f"not in the PDF text: {missing}\n--- text ---\n{text}"


def swot_boxes(text: str, language: str = "zh") -> dict[str, str]:
    """The compact text of each SWOT box, cut at the box headings in template order."""
    headings = (["SWOT分析", "优势", "不足", "机会", "风险", "改进计划"] if language == "zh"
                else ["SWOT", "Strengths", "Weaknesses", "Opportunities", "Threats", "Improvementplan"])
    flat = compact(text)
    start = flat.index(headings[0])
    places = []
    for heading in headings[1:]:
        start = flat.index(heading, start)
        places.append((start, start + len(heading)))
        start += len(heading)
    kinds = ["strength", "weakness", "opportunity", "threat"]
    boxes = {kind: flat[places[index][1]:places[index + 1][0]] for index, kind in enumerate(kinds)}
    # This period's facts (a red line hit, KPIs without data) stand above the boxes, in a place of their own.
    facts_heading = "本期情况" if language == "zh" else "Thisperiod"
    top = flat[flat.index(headings[0]):places[0][0]]
    boxes["fact"] = top[top.index(facts_heading) + len(facts_heading):] if facts_heading in top else ""
    return boxes


def percent(value) -> str:
    """0.905 -> 90.5%, 0.93 -> 93%: a percent as the packets print it (at most 2 decimals)."""
    number = (Decimal(str(value)) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
    return f"{number:f}%"


def percent_cell(text: str) -> str:
    """'88.0%' in a data file -> '88%'."""
    return percent(Decimal(text.rstrip("%")) / 100)


def money(value) -> str:
    return f"{value:,.2f}"


def snapshot(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file and folder under ``folder``: content, mtime and inode."""
    found = {}
    for path in sorted(folder.rglob("*")):
        info = path.stat()
        found[str(path.relative_to(folder))] = (path.read_bytes() if path.is_file() else b"<dir>",
                                                 info.st_mtime_ns, info.st_ino)
    return found


def leftovers(folder: Path) -> list[str]:
    """Staging or previous-version folders a render may leave behind."""
    return [path.name for path in folder.iterdir() if path.name.startswith(".")] if folder.exists() else []


def evaluate_json(policy: Path, data: Path) -> dict:
    result = invoke("evaluate", policy, data)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def by_agent(document: dict) -> dict[str, dict]:
    return {result["agent_id"]: result for result in document["results"]}


def kpi_thresholds(policy_text: str, kpi_name: str) -> list[str]:
    """The rule lines of a KPI as written in the policy (the packet's appendix shows them)."""
    block = policy_text.split(f'kpi "{kpi_name}"', 1)[1].split("}", 1)[0]
    return [line.strip() for line in block.splitlines() if "=>" in line]


SMALL_MEASURES = {"响应时间": "10分钟内回复占比", "处理时长": "平均处理时长"}  # metric labels that differ from the KPI's name
SYMBOLS = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}


def kpi_standard(policy_text: str, kpi_name: str, labels: dict[str, str]) -> str:
    """The KPI table's 考核标准 cell, worked out by hand from simple rule lines:
    ``csat >= 90% => excellent`` reads ``≥ 90% 为优秀``, ``aht <= 6min`` ``≤ 6 分钟``,
    ``else => fail`` ``其余为不合格``."""
    words = []
    for line in kpi_thresholds(policy_text, kpi_name):
        condition, outcome = (part.strip() for part in line.split("=>"))
        label = labels.get(outcome, outcome)
        if condition == "else":
            words.append(f"其余为{label}")
            continue
        _, operator, value = condition.split(" ", 2)
        value = re.sub(r"^(\d+(?:\.\d+)?)min$", r"\1 分钟", value)
        words.append(f"{SYMBOLS[operator]} {value} 为{label}")
    return " ".join(words)


# ---- data sets ------------------------------------------------------------------------------------

SMALL_POLICY = """\
policy "测试客服考核" {
    version "7.3"
    roles agent
    period month
    language zh

    metric reply_within_10min: percent "10分钟内回复占比" higher is better
    metric csat: percent "顾客满意度" higher is better sample csat_responses at least 10
    metric csat_responses: count "满意度回访样本数"
    metric aht: duration in min "平均处理时长" lower is better
    metric complaints: count "投诉次数"
    metric base_salary: money "月基本工资"

    levels {
        excellent "优秀" = 100
        pass "合格" = 80
        fail "不合格" = 0
    }

    kpi "响应时间" weight 40% {
        reply_within_10min >= 90% => excellent
        reply_within_10min >= 80% => pass
        else => fail
    }
    kpi "顾客满意度" weight 30% when missing 60 {
        csat >= 90% => excellent
        csat >= 85% => pass
        else => fail
    }
    kpi "处理时长" weight 30% when missing exclude {
        aht <= 6min => excellent
        aht <= 10min => pass
        else => fail
    }

    veto "投诉红线" when complaints > 1 => "不合格"

    grade {
        score >= 90 => "优秀"
        score >= 75 => "良好"
        score >= 60 => "合格"
        else => "不合格"
    }

    bonus "月度奖金" {
        grade == "不合格" => 0
        top 30% => 10% of base_salary
        else => 0
    }

    plan "响应提升计划" when kpi "响应时间" is fail {
        "参加响应时效培训" within 14 days
        "每日复盘超时工单" within 30 days
    }

    swot {
        opportunity "可担任新人带教" when grade == "优秀"
        threat "投诉次数偏多" when complaints >= 1
    }
}
"""

SMALL_HEADERS = ["agent_id", "name", "role", "team", "supervisor", "period", "reply_within_10min", "csat",
                 "csat_responses", "aht", "complaints", "base_salary"]
# agent_id, name, team, reply_within_10min for 2026-09/10/11, csat, csat_responses, aht (min), complaints in 2026-11
SMALL_AGENTS = [
    ("A001", "张三", "一组", ["80.0%", "85.0%", "88.8%"], "95.0%", 20, "7.5", 0, "10,000"),
    ("A002", '李四/组长:*?"', "一组", ["91.0%", "92.0%", "93.0%"], "91.0%", 20, "9.0", 0, "8,000"),
    ("A003", "<b>x</b>", "一组", ["86.0%", "85.0%", "86.0%"], "88.0%", 20, "9.5", 0, "8,000"),
    ("A004", "王五", "二组", ["85.0%", "78.0%", "70.0%"], "", 6, "11.0", 1, "8,000"),
    ("A005", "赵六", "二组", ["95.0%", "95.0%", "96.0%"], "92.0%", 20, "7.0", 2, "9,000"),
    ("A006", "钱七", "二组", ["90.0%", "91.0%", "92.0%"], "90.5%", 20, "", 0, "9,500"),
    ("A007", "孙八", "一组", ["84.0%", "84.0%", "83.0%"], "86.0%", 20, "8.5", 0, "7,000"),
    ("A008", "周九", "二组", ["88.0%", "87.0%", "87.5%"], "87.0%", 20, "9.8", 0, "7,500"),
]
PERIODS = ["2026-09", "2026-10", "2026-11"]


def write_small(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    policy = folder / "policy.perf"
    policy.write_text(SMALL_POLICY, encoding="utf-8")
    data = folder / "data.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SMALL_HEADERS)
        for month, period in enumerate(PERIODS):
            for agent_id, name, team, replies, csat, responses, aht, complaints, salary in SMALL_AGENTS:
                writer.writerow([agent_id, name, "agent", team, "周主管" if team == "一组" else "吴主管", period,
                                 replies[month], csat, responses, aht, complaints if period == PERIOD else 0, salary])
    return policy, data


CX_HEADERS = ["agent_id", "name", "role", "team", "supervisor", "period", "csat_score", "csat_surveys", "nps",
              "resolution_rate", "upheld_escalations", "kudos", "base_salary"]
# agent_id, name, team, csat_score, csat_surveys, nps for 2026-09/10/11, resolution_rate, escalations in 2026-11
CX_AGENTS = [
    ("CX01", "Alice Martin", "EMEA", "4.90", 30, [58, 58, 58], "0.975", 0),
    ("CX02", "Bruno Silva", "EMEA", "4.60", 30, [55, 45, 35], "0.960", 1),
    ("CX03", "Chloé Dubois", "APAC", "4.75", 25, [65, 65, 65], "0.980", 2),
    ("CX04", "Daniel Kim", "APAC", "4.70", 12, [52, 52, 52], "0.955", 0),
    ("CX05", "Emma Novak", "EMEA", "4.50", 25, [50, 50, 50], "0.950", 0),
    ("CX06", "Farid Haddad", "APAC", "4.40", 22, [40, 40, 40], "0.920", 0),
]


def write_cx(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "cx.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CX_HEADERS)
        for month, period in enumerate(PERIODS):
            for agent_id, name, team, csat, surveys, nps, resolution, escalations in CX_AGENTS:
                writer.writerow([agent_id, name, "cx_specialist", team, "Sam Lee", period, csat, surveys, nps[month],
                                 resolution, escalations if period == PERIOD else 0, 1, 5000])
    return data


# ---- isolation ----------------------------------------------------------------------------------


def _free_garbage() -> None:
    """Free what earlier tests left (a failed run's traceback holds its DuckDB connection).

    The report forks its layout workers; a worker whose garbage collector frees an inherited DuckDB
    connection crashes (see test_layout_workers_survive_garbage_from_earlier_evaluations), which
    would make unrelated tests fail.  pytest keeps the last failure in ``sys.last_traceback`` and
    lets go of it only when the next test is called, after its fixtures: drop it here.
    """
    import gc

    for name in ("last_type", "last_value", "last_traceback", "last_exc"):
        if hasattr(sys, name):
            delattr(sys, name)
    gc.collect()


@pytest.fixture(autouse=True)
def _collect_garbage():
    _free_garbage()
    yield
    _free_garbage()


# ---- module-wide renders ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The full example (60 agents) rendered once, and its evaluation."""
    out = tmp_path_factory.mktemp("example") / "out"
    data = EXAMPLES / "agents.csv"
    result = invoke("report", POLICIES, data, "-o", out)
    assert result.exit_code == 0, result.output
    document = evaluate_json(POLICIES, data)
    # The after-sales agents' document; the VIP supervisors (2026-Q4) have their own test.
    after_sales = document["policies"][0]
    assert after_sales["file"].endswith("after_sales_agent.perf")
    results = [result for result in document["results"] if result["policy"] == after_sales["name"]]
    return out, {**document, "policies": [after_sales], "results": results}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The small Chinese data set, every packet rendered with notes from a CSV file."""
    folder = tmp_path_factory.mktemp("small")
    policy, data = write_small(folder)
    notes = folder / "notes.csv"
    # two SWOT notes and two actions agreed at the last meeting (kind action / 约定), one about a KPI
    notes.write_text("agent_id,kind,text,kpi\nA001,strength,客户多次来信表扬,\nA004,机会,可参加夜班轮岗,\n"
                     "A004,action,每天复盘超时工单,响应时间\nA001,约定,参加一次案例分享,\n", encoding="utf-8")
    out = folder / "out"
    result = invoke("report", policy, data, "-o", out, "--notes", notes)
    assert result.exit_code == 0, result.output
    return {"policy": policy, "data": data, "out": out, "results": by_agent(evaluate_json(policy, data))}


def small_packet(small, agent_id: str) -> str:
    (path,) = (small["out"] / PERIOD).glob(f"{agent_id}-*.pdf")
    return pdf_text(path)


@pytest.fixture(scope="module")
def cx(tmp_path_factory):
    """The English policy with small data, every packet rendered."""
    folder = tmp_path_factory.mktemp("cx")
    data = write_cx(folder)
    policy = POLICIES / "customer_experience_en.perf"
    out = folder / "out"
    result = invoke("report", policy, data, "-o", out)
    assert result.exit_code == 0, result.output
    return {"out": out, "results": by_agent(evaluate_json(policy, data))}


# ---- the full example ---------------------------------------------------------------------------


def test_example_writes_one_packet_per_agent_and_a_summary(example):
    out, document = example
    # two policies have rows (the VIP supervisors' in 2026-Q4): each summary is named for its policy
    expected = {f"{result['agent_id']}-{result['name']}.pdf" for result in document["results"]} | {EXAMPLE_SUMMARY}
    assert len(expected) == 61
    assert sorted(path.name for path in out.iterdir()) == [PERIOD, VIP_QUARTER]
    assert {path.name for path in (out / PERIOD).iterdir()} == expected
    assert (out / PERIOD / "A001-任军.pdf").is_file()


VIP_QUARTER = "2026-Q4"
EXAMPLE_SUMMARY = "team-summary-售后客服月度考核.pdf"


def test_example_vip_supervisors_are_reviewed_with_what_they_inherit(example):
    """policies/vip_supervisor.perf extends supervisor.perf: the packet's footer says so and
    its KPI table shows the inherited KPIs' thresholds as written in the parent."""
    out, _ = example
    names = {"V01": "顾晓宁", "V02": "沈嘉言", "V03": "钱思远"}
    assert {path.name for path in (out / VIP_QUARTER).iterdir()} == (
        {f"{agent}-{name}.pdf" for agent, name in names.items()} | {"team-summary-VIP 客服管理员季度考核.pdf"})
    text = pdf_text(out / VIP_QUARTER / "V02-沈嘉言.pdf")
    assert_has(text, "考核方案 VIP 客服管理员季度考核 (版本 2026.Q4-vip)", "继承 supervisor.perf")
    parent = (POLICIES / "supervisor.perf").read_text(encoding="utf-8")
    child = (POLICIES / "vip_supervisor.perf").read_text(encoding="utf-8")
    assert_has(text, " ".join(kpi_thresholds(parent, "培训完成率")))
    assert_has(text, "scheduling_accuracy >= 95% => 达标 else => 不达标")
    assert 'remove kpi "员工流失率"' in child
    assert_has(text, "团队客户满意度", "排班准确率")


def test_example_packets_are_a4_with_two_to_four_pages(example):
    out, _ = example
    for path in sorted((out / PERIOD).glob("A*.pdf")):
        pages = pypdf.PdfReader(str(path)).pages
        assert 2 <= len(pages) <= 4, (path.name, len(pages))
        for page in pages:
            width, height = float(page.mediabox.width), float(page.mediabox.height)
            assert abs(width - 595.28) < 1 and abs(height - 841.89) < 1, (path.name, width, height)


@pytest.mark.parametrize("agent_id", ["A001", "A003", "A006", "A047"])
def test_example_packet_matches_evaluate(example, agent_id):
    out, document = example
    result = by_agent(document)[agent_id]
    policy = document["policies"][0]
    policy_text = (REPO / policy["file"]).read_text(encoding="utf-8")
    text = pdf_text(out / PERIOD / f"{agent_id}-{result['name']}.pdf")

    # who: the Chinese name is extracted as Chinese, not as boxes or (cid:...) codes
    assert result["name"] in text and f"({agent_id})" in text
    assert "绩效面谈资料" in text
    # the role's code (senior_agent) is no word for the people in the meeting: only the appendix has it
    assert_has(text, f"团队 {result['team']}", f"考核周期 {PERIOD}",
               f"考核方案 {policy['name']} (版本 {policy['version']})", policy["sha256"][:12])
    first_page = pypdf.PdfReader(str(out / PERIOD / f"{agent_id}-{result['name']}.pdf")).pages[0].extract_text()
    assert result["role"] not in first_page and "=>" not in first_page
    assert_has(text, f"附录:考核规则原文 方案文件 {policy['file']} · 岗位代码 {result['role']}")
    if policy["git_commit"]:
        assert policy["git_commit"][:10] in text

    # score, grade, rank, bonus exactly as evaluate gives them, in their boxes
    # a vetoed agent's first page says why the rank and the bonus do not count
    rank_note, bonus_note = ("一票否决,名次不计 ", "一票否决,无奖金") if result["veto"] else ("", "")
    assert_has(text, f"得分 {result['score']:.2f} 等级 {result['grade']} 名次 {result['rank']} / {result['rank_of']} "
                     f"{rank_note}奖金 {money(result['bonus_total'])} {bonus_note}")
    if not result["veto"]:
        assert "名次不计" not in text

    # the KPI table: value with unit, the standard in words, level, points, weight, weighted, status, reason
    # When a KPI is excluded the others' weights are scaled up: declared → effective weight, and
    # the weighted column holds what each KPI adds to the base score, adding up to it.
    labels = {"excellent": "优秀", "pass": "合格", "fail": "不合格"}
    with (EXAMPLES / "agents.csv").open(encoding="utf-8-sig") as handle:
        responses = next(row["csat_responses"] for row in csv.DictReader(handle)
                         if (row["agent_id"], row["period"]) == (agent_id, PERIOD))
    counted = sum(Decimal(str(kpi["weight"])) for kpi in result["kpis"] if kpi["status"] != "excluded")
    weighted_total = Decimal(0)
    for kpi in result["kpis"]:
        thresholds = kpi_standard(policy_text, kpi["name"], labels)
        measures = " 10分钟内回复占比" if kpi["name"] == "响应时间" else ""  # the metric's label, when it says more
        # the rules as written are in the appendix
        assert_has(text, f"{kpi['name']} " + " ".join(kpi_thresholds(policy_text, kpi["name"])))
        # the sample size stands under the value of a KPI whose metric declares one (csat_responses)
        sample = f" 样本 {responses}" if kpi["name"] == "顾客满意度" else ""
        if kpi["status"] == "excluded":
            row = f"{kpi['name']}{measures} —{sample} {thresholds} — — {kpi['weight'] * 100:g}% — 不计入 {kpi['reason']}"
        else:
            weight = Decimal(str(kpi["weight"]))
            effective = (weight / counted * 100).quantize(Decimal("0.01"))
            declared = f"{(weight * 100).normalize():f}%"
            shown = declared if counted == 1 else f"{declared} → {effective.normalize():f}%"
            weighted = re.search(rf"{re.escape(compact(shown))}(-?\d+\.\d\d)已计分",
                                 compact(text)[compact(text).index(compact(thresholds)):])
            assert weighted, f"{kpi['name']}: no weighted points after {shown}"
            weighted_total += Decimal(weighted.group(1))
            assert abs(Decimal(weighted.group(1)) - Decimal(str(kpi["points"])) * weight / counted) <= Decimal("0.01")
            row = (f"{kpi['name']}{measures} {percent(kpi['value'])}{sample} {thresholds} {labels[kpi['level']]} {kpi['points']:.2f} "
                   f"{shown} {weighted.group(1)} 已计分")
        assert_has(text, row)
    assert_has(text, f"基础分 {result['base_score']:.2f}")
    assert weighted_total == Decimal(f"{result['base_score']:.2f}"), "the weighted points do not add up to the base score"

    # adjustments, veto, bonus lines
    for item in result["adjustments"]:
        assert_has(text, f"{item['block']} {item['label']} {item['points']:+.2f}")
    if result["veto"]:
        assert_has(text, f"一票否决: {result['veto']['name']} → {result['grade']}")
    else:
        assert_has(text, "未触发一票否决")
    for bonus in result["bonus"]:
        assert_has(text, f"奖金 · {bonus['name']} {money(bonus['amount'])}")

    # trend chart over the three months
    assert_has(text, "趋势", "近 3 个周期的得分与各指标")
    for period in PERIODS:
        assert period in text

    # plans with due dates, the meeting section with its signature lines
    if result["plans"]:
        for plan in result["plans"]:
            assert_has(text, plan["name"], "行动 截止日期")
            for action in plan["actions"]:
                assert_has(text, f"{action['text']} {action['due']}")
    else:
        assert_has(text, "本期无改进计划")
    assert_has(text, "面谈记录", "双方确认的行动", "员工签名 主管签名 日期")


def test_example_derived_swot(example):
    out, document = example
    results = by_agent(document)
    rows = {}
    with (EXAMPLES / "agents.csv").open(encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            rows[(row["agent_id"], row["period"])] = row

    def team_median(agent_id: str, kpi_name: str) -> str:
        """The median of the KPI's values in the agent's team, as evaluate gives them."""
        team = results[agent_id]["team"]
        values = [Decimal(str(kpi["value"])) for result in results.values() if result["team"] == team
                  for kpi in result["kpis"] if kpi["name"] == kpi_name and kpi["value"] is not None]
        return percent(statistics.median(values))

    # A001: csat excluded (too few surveys); resolution rate a little under 95%
    text = pdf_text(out / PERIOD / "A001-任军.pdf")
    boxes = swot_boxes(text)
    reason = next(kpi["reason"] for kpi in results["A001"]["kpis"] if kpi["name"] == "顾客满意度")
    assert has(boxes["fact"], f"顾客满意度数据不足,本期不计分:{reason}")
    assert not has(boxes["weakness"], "数据不足")
    resolution = rows[("A001", PERIOD)]["resolution_rate"]
    gap = Decimal("95") - Decimal(resolution.rstrip("%"))
    assert has(boxes["opportunity"], f"问题解决率 {percent_cell(resolution)}(合格),再提升 {gap:f} 个百分点即可达到优秀(95%)")
    reply = rows[("A001", PERIOD)]["reply_within_10min"]
    assert team_median("A001", "响应时间") == "89.3%"  # (89.1% + 89.5%) / 2: the middle two of the team's 20 values
    assert has(boxes["strength"], f"响应时间 {percent_cell(reply)}(优秀),高于团队中位数 89.3%")

    # A006: satisfaction falls three months in a row; it is at the lowest level
    text = pdf_text(out / PERIOD / "A006-许刚.pdf")
    boxes = swot_boxes(text)
    values = " → ".join(percent_cell(rows[("A006", period)]["csat"]) for period in PERIODS)
    csat = percent_cell(rows[("A006", PERIOD)]["csat"])
    assert has(boxes["threat"], f"顾客满意度 {csat}(不合格),连续三个月下降({values})")
    assert has(boxes["weakness"], f"顾客满意度 {csat}(不合格),低于团队中位数 {team_median('A006', '顾客满意度')}")

    # A006's resolution rate is 0.6 points above the 合格 line: a level that may be lost next month
    resolution = rows[("A006", PERIOD)]["resolution_rate"]
    margin = Decimal(resolution.rstrip("%")) - Decimal("90")
    assert margin == Decimal("0.6")
    assert has(boxes["threat"], f"问题解决率 {percent_cell(resolution)}(合格),再下降 {margin:f} 个百分点将跌出合格(90%)")

    # A047: the serious complaint is a veto: a fact of the period, never in the 风险 box; the
    # first page says the rank and the bonus do not count
    path = out / PERIOD / "A047-孙军.pdf"
    boxes = swot_boxes(pdf_text(path))
    assert has(boxes["fact"], "触发一票否决:重大投诉一票否决")
    assert not has(boxes["threat"], "一票否决")
    first_page = pypdf.PdfReader(str(path)).pages[0].extract_text()
    assert_has(first_page, f"名次 {results['A047']['rank']} / {results['A047']['rank_of']} 一票否决,名次不计",
               "奖金 0.00 一票否决,无奖金")


def test_example_team_summary(example):
    out, document = example
    results = document["results"]
    text = pdf_text(out / PERIOD / EXAMPLE_SUMMARY)
    flat = compact(text)
    policy = document["policies"][0]
    assert_has(text, "团队绩效汇总", f"{policy['name']} (版本 {policy['version']})", f"考核周期 {PERIOD}",
               f"{len(results)} 人")

    vetoes = [result for result in results if result["veto"]]
    planned = [result for result in results if result["plans"]]
    total = sum(result["bonus_total"] for result in results)
    assert_has(text, f"奖金合计 {money(total)} 一票否决 {len(vetoes)} 需要改进计划的员工 {len(planned)}")
    assert vetoes and planned
    for result in vetoes:
        assert_has(text, f"{result['name']} ({result['agent_id']}) {result['veto']['name']}")
    for result in planned:
        assert_has(text, f"{result['name']} ({result['agent_id']}) " + ", ".join(plan["name"] for plan in result["plans"]))

    # the leaderboard: every agent, in rank order, with score, grade and bonus
    board = flat[flat.index("排行榜"):]
    places = []
    for result in sorted(results, key=lambda item: (item["rank"], item["agent_id"])):
        line = compact(f"{result['rank']} {result['name']} ({result['agent_id']}) {result['team']} "
                       f"{result['score']:.2f} {result['grade']} {money(result['bonus_total'])}")
        assert line in board, line
        places.append(board.index(line))
    assert places == sorted(places)

    # the grade distribution chart: the count of each grade
    bars = "".join(f"{sum(1 for result in results if result['grade'] == grade)}{grade}"
                   for grade in ("优秀", "良好", "合格", "不合格"))
    assert "等级分布" in flat and bars in flat, bars

    # KPI averages by team: the mean reply rate of each team, from the data, with the one decimal
    # the data's values carry (86.5%)
    assert_has(text, "各团队指标平均值")
    with (EXAMPLES / "agents.csv").open(encoding="utf-8-sig") as handle:
        rows = [row for row in csv.DictReader(handle) if row["period"] == PERIOD]
    for team in {row["team"] for row in rows} | {None}:
        members = [row for row in rows if team is None or row["team"] == team]
        mean = sum(Decimal(row["reply_within_10min"].rstrip("%")) for row in members) / len(members) / 100
        shown = (mean * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        volume = sum(int(row["csat_responses"]) for row in members)  # the surveys behind csat: the volume
        assert_has(text, f"{team or '全部'} {len(members)} {volume} {shown}%")
    # the sample floor the packets use, stated: a quarter of everyone's median survey count
    median = statistics.median(Decimal(row["csat_responses"]) for row in rows)
    floor = math.ceil(median / 4)
    assert_has(text, "满意度回访样本数合计",
               f"满意度回访样本数低于全员中位数 {median.normalize():f} 的 25%(少于 {floor})为样本少")


# ---- the small Chinese data set -----------------------------------------------------------------


def test_file_names_and_unsafe_characters(small):
    names = sorted(path.name for path in (small["out"] / PERIOD).iterdir())
    assert "A001-张三.pdf" in names and "team-summary.pdf" in names
    assert len(names) == len(SMALL_AGENTS) + 1
    assert sorted(path.name for path in small["out"].iterdir()) == [PERIOD]  # no staging folder left
    for agent_id in ("A002", "A003"):
        (name,) = [name for name in names if name.startswith(f"{agent_id}-")]
        assert not UNSAFE & set(name[:-4]), name
    (a002,) = [name for name in names if name.startswith("A002-")]
    assert "李四" in a002 and "组长" in a002


def test_autoescaping_prints_markup_literally(small):
    packet = small_packet(small, "A003")
    assert "<b>x</b> (A003)" in packet
    assert_has(pdf_text(small["out"] / PERIOD / "team-summary.pdf"), "<b>x</b> (A003)")


def test_small_packet_numbers_and_units(small):
    result = small["results"]["A001"]
    text = small_packet(small, "A001")
    assert "张三" in text and "(A001)" in text
    assert_has(text, f"考核方案 测试客服考核 (版本 7.3)", f"考核周期 {PERIOD}",
               f"得分 {result['score']:.2f} 等级 {result['grade']} 名次 {result['rank']} / {result['rank_of']} "
               f"奖金 {money(result['bonus_total'])}")
    # a duration KPI prints its unit
    assert_has(text, "处理时长 平均处理时长 7.5 分钟 ≤ 6 分钟 为优秀 ≤ 10 分钟 为合格 其余为不合格 合格 80.00 30% 24.00 已计分")
    assert_has(small_packet(small, "A002"), "处理时长 9 分钟")


def test_substituted_and_excluded_kpis_show_their_reason(small):
    substituted = next(kpi for kpi in small["results"]["A004"]["kpis"] if kpi["name"] == "顾客满意度")
    assert substituted["status"] == "substituted" and substituted["reason"]
    text = small_packet(small, "A004")
    assert_has(text, "顾客满意度 — 样本 6 ≥ 90% 为优秀 ≥ 85% 为合格 其余为不合格 — 60.00 30% 18.00 "
                     f"替代计分 {substituted['reason']}")
    assert has(swot_boxes(text)["fact"], f"顾客满意度数据不足,按替代分计分:{substituted['reason']}")

    excluded = next(kpi for kpi in small["results"]["A006"]["kpis"] if kpi["name"] == "处理时长")
    assert excluded["status"] == "excluded" and excluded["reason"]
    text = small_packet(small, "A006")
    assert_has(text, f"处理时长 平均处理时长 — ≤ 6 分钟 为优秀 ≤ 10 分钟 为合格 其余为不合格 — — 30% — 不计入 "
                     f"{excluded['reason']}")
    assert has(swot_boxes(text)["fact"], f"处理时长数据不足,本期不计分:{excluded['reason']}")


@pytest.mark.parametrize("agent_id", ["A004", "A006"])
def test_weighted_points_add_up_to_the_base_score(small, agent_id):
    """A004's 顾客满意度 is substituted (60 points, its weight counts); A006's 处理时长 is excluded
    (the others' weights are scaled up: 40% → 57.14%, 30% → 42.86%).  The packet's weighted
    column, read back from the PDF, adds up to the base score it prints."""
    result = small["results"][agent_id]
    flat = compact(small_packet(small, agent_id))
    counted = sum(Decimal(str(kpi["weight"])) for kpi in result["kpis"] if kpi["status"] != "excluded")
    printed = []
    for kpi in result["kpis"]:
        if kpi["status"] == "excluded":
            assert compact(f"{kpi['name']} {SMALL_MEASURES.get(kpi['name'], '')} — ") in flat
            continue
        weight = Decimal(str(kpi["weight"]))
        declared = f"{(weight * 100).normalize():f}%"
        effective = f"{(weight / counted * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP).normalize():f}%"
        shown = declared if counted == 1 else f"{declared}→{effective}"
        status = "已计分" if kpi["status"] == "scored" else "替代计分"
        found = re.search(rf"{kpi['points']:.2f}{re.escape(shown)}(\d+\.\d\d){status}", flat)
        assert found, f"{kpi['name']}: {kpi['points']:.2f} {shown} ... {status}"
        exact = Decimal(str(kpi["points"])) * weight / counted
        assert abs(Decimal(found.group(1)) - exact) < Decimal("0.01")
        printed.append(Decimal(found.group(1)))
    assert compact(f"基础分 {result['base_score']:.2f}") in flat
    assert sum(printed) == Decimal(f"{result['base_score']:.2f}")
    if agent_id == "A006":
        assert "40%→57.14%" in flat and "30%→42.86%" in flat


def test_derived_swot_lines(small):
    """Each line names the agent's figure and the comparison.  Both teams have 4 agents, fewer
    than 5, so the median is everyone's (全员): csat 86, 87, 88, 90.5, 91, 92, 95 (A004 has too
    few surveys) → 90.5%; handling time 7, 7.5, 8.5, 9, 9.5, 9.8, 11 min → 9 min; reply rate
    70, 83, 86, 87.5, 88.8, 92, 93, 96 → (87.5 + 88.8) / 2 = 88.15%."""
    boxes = swot_boxes(small_packet(small, "A001"))
    assert has(boxes["strength"], "顾客满意度 95%(优秀),高于全员中位数 90.5%")                 # best level
    assert has(boxes["strength"], "处理时长 7.5 分钟(合格),位于全员前 20%,低于全员中位数 9 分钟")  # 2nd of 7
    assert has(boxes["opportunity"], "响应时间 88.8%(合格),再提升 1.2 个百分点即可达到优秀(90%)")  # against 90%
    assert has(boxes["opportunity"], "响应时间 88.8%(合格),连续三个月提升(80% → 85% → 88.8%)")
    assert boxes["weakness"] == "无" and boxes["threat"] == "无"

    boxes = swot_boxes(small_packet(small, "A004"))
    assert has(boxes["weakness"], "响应时间 70%(不合格),低于全员中位数 88.15%")              # lowest level
    assert has(boxes["threat"], "响应时间 70%(不合格),连续三个月下降(85% → 78% → 70%)")
    assert has(boxes["threat"], "距离一票否决「投诉红线」只差一次")                # one incident away (1, limit > 1)

    boxes = swot_boxes(small_packet(small, "A005"))
    # a red line hit is a fact of the period, not a threat (what may happen next)
    assert has(boxes["fact"], "触发一票否决:投诉红线")
    assert not has(boxes["threat"], "触发一票否决")

    boxes = swot_boxes(small_packet(small, "A007"))
    assert has(boxes["weakness"], "响应时间 83%(合格),位于全员后 20%,低于全员中位数 88.15%")  # 7th of 8


def test_derived_swot_duration_change_is_written_in_chinese(small):
    # 11 min against `aht <= 10min => pass`: the sentence should say 1 分钟, as the KPI table does
    boxes = swot_boxes(small_packet(small, "A004"))
    assert has(boxes["opportunity"], "处理时长 11 分钟(不合格),再缩短 1 分钟即可达到合格(10 分钟)"), boxes["opportunity"]


def test_policy_swot_notes_and_csv_notes(small):
    boxes = swot_boxes(small_packet(small, "A002"))
    assert has(boxes["opportunity"], "可担任新人带教")               # swot{} note: grade == "优秀"
    boxes = swot_boxes(small_packet(small, "A004"))
    assert has(boxes["threat"], "投诉次数偏多")                      # swot{} note: complaints >= 1
    assert has(boxes["opportunity"], "主管备注:可参加夜班轮岗")     # --notes CSV, kind 机会
    assert "可担任新人带教" not in boxes["opportunity"]
    boxes = swot_boxes(small_packet(small, "A001"))
    assert has(boxes["strength"], "主管备注:客户多次来信表扬")     # --notes CSV, kind strength


def test_agreed_actions_are_carried_into_the_next_packet(small):
    """--notes kind action: what was agreed at the last meeting stands in the meeting section;
    with a kpi, the packet says how that KPI moved from last period to this one."""
    text = small_packet(small, "A004")
    # A004's reply rate went 78% (2026-10) → 70% (2026-11): worse
    assert_has(text, "面谈记录 上期约定的行动 每天复盘超时工单 响应时间:上期 78% → 本期 70%,有退步 双方确认的行动")
    assert "每天复盘超时工单" not in "".join(swot_boxes(text).values())  # an action is no SWOT note
    text = small_packet(small, "A001")
    assert_has(text, "上期约定的行动 参加一次案例分享 双方确认的行动")
    assert "上期约定的行动" not in small_packet(small, "A002")


def test_agreed_actions_in_english_say_how_the_kpi_moved(small, run_cli, tmp_path):
    notes = tmp_path / "notes.yaml"
    notes.write_text("- agent_id: A001\n  kind: action\n  text: Coach two colleagues\n  kpi: 响应时间\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("report", str(small["policy"]), str(small["data"]), "-o", str(out), "--agent", "A001",
                     "--notes", str(notes), "--lang", "en")
    assert result.exit_code == 0, result.output
    assert result.stderr == f"wrote 1 PDF file to {out}\n"  # one agent: no team summary
    # 85% in 2026-10 → 88.8% in 2026-11
    assert_has(pdf_text(out / PERIOD / "A001-张三.pdf"),
               "Agreed last time Coach two colleagues 响应时间: 85% last period → 88.8% this period, better")


def test_notes_naming_an_unknown_kpi_or_a_kpi_on_a_swot_note_are_reported(small, run_cli, tmp_path):
    notes = tmp_path / "notes.csv"
    notes.write_text("agent_id,kind,text,kpi\nA001,action,复盘,响应时长\nA002,strength,好,响应时间\n"
                     "A003,action,复盘,\u001b[31m红\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("report", str(small["policy"]), str(small["data"]), "-o", str(out), "--notes", str(notes))
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    assert lines[0] == f"{notes}:2: kpi '响应时长' is not a KPI of the policy evaluating A001 (did you mean '响应时间'?)"
    assert lines[1] == (f"{notes}:3: kpi '响应时间' is for agreed actions (kind action); a strength note names no KPI")
    assert lines[2].startswith(f"{notes}:4: kpi '") and "\x1b" not in result.stderr  # no terminal escape gets through
    assert "KPIs: 响应时间, 顾客满意度, 处理时长" in lines[2]
    assert lines[3] == "3 data problems: nothing was written"
    assert not out.exists()


def test_notes_from_yaml(small, run_cli, tmp_path):
    notes = tmp_path / "notes.yaml"
    notes.write_text("- agent_id: A004\n  kind: threat\n  text: 下月排班紧张\n"
                     "- agent_id: A004\n  kind: 不足\n  text: 周末积压较多\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("report", str(small["policy"]), str(small["data"]), "-o", str(out), "--agent", "A004",
                     "--notes", str(notes))
    assert result.exit_code == 0, result.output
    boxes = swot_boxes(pdf_text(out / PERIOD / "A004-王五.pdf"))
    assert has(boxes["threat"], "主管备注:下月排班紧张")
    assert has(boxes["weakness"], "主管备注:周末积压较多")


def test_plan_actions_with_due_dates(small):
    plans = small["results"]["A004"]["plans"]
    assert [action["due"] for action in plans[0]["actions"]] == ["2026-12-14", "2026-12-30"]
    text = small_packet(small, "A004")
    # the plan says what "done" means for A004: 响应时间 is 70% (不合格), the next level 合格 starts
    # at 80%, by the plan's last due date
    assert_has(text, "改进计划 响应提升计划 目标:响应时间 70% → 80%(合格),2026-12-30 前 "
                     "行动 截止日期 参加响应时效培训 2026-12-14 每日复盘超时工单 2026-12-30")
    assert_has(text, "面谈记录", "双方确认的行动", "员工签名 主管签名 日期")
    assert_has(small_packet(small, "A001"), "本期无改进计划")


def test_small_team_summary(small):
    results = sorted(small["results"].values(), key=lambda item: (item["rank"], item["agent_id"]))
    text = pdf_text(small["out"] / PERIOD / "team-summary.pdf")
    total = sum(result["bonus_total"] for result in results)
    assert money(total) == "1,750.00"
    assert_has(text, f"奖金合计 {money(total)} 一票否决 1 需要改进计划的员工 1")
    assert_has(text, "一票否决 赵六 (A005) 投诉红线", "需要改进计划的员工 王五 (A004) 响应提升计划")
    board = compact(text)[compact(text).index("排行榜"):]
    places = [board.index(compact(f"{r['rank']} {r['name']} ({r['agent_id']}) {r['team']} {r['score']:.2f} "
                                  f"{r['grade']} {money(r['bonus_total'])}")) for r in results]
    assert places == sorted(places)
    # KPI averages, with as many decimals as the column's values show (one here):
    # 一组 reply (88.8 + 93 + 86 + 83) / 4 = 87.7%, csat (95 + 91 + 88 + 86) / 4 = 90.0%,
    # aht (7.5 + 9 + 9.5 + 8.5) / 4 = 8.625 → 8.6 分钟; 全部 reply 696.3 / 8 = 87.0375 → 87.0%.
    # The volume behind csat (surveys): 一组 4 × 20 = 80, 全部 7 × 20 + 6 = 146.  Teams of 4 are
    # flagged (*): their averages are only indicative.
    assert_has(text, "满意度回访样本数合计", "一组 * 4 80 87.7% 90.0% 8.6 分钟", "全部 8 146 87.0%",
               "标 * 的团队不足 5 人,平均值仅供参考",
               # the small-sample floor: a quarter of the median count (20) is 5
               "满意度回访样本数低于全员中位数 20 的 25%(少于 5)为样本少")


def test_team_summary_with_many_long_team_names_keeps_every_cell(tmp_path):
    """Twelve teams with 30-character names and agents with very long names: every team's
    row, its count and its averages are in the PDF (nothing runs off the page), and the page
    stays A4 portrait."""
    policy, data = write_small(tmp_path)
    rows = list(csv.reader(data.open(encoding="utf-8")))
    teams = [f"华东大区上海浦东新区售后服务中心第{number}组夜班" for number in range(1, 13)]
    long_name = "阿卜杜热依木·买买提艾力·阿不都克热木·玉素甫江"
    extra = []
    for number, team in enumerate(teams):
        for row in rows[1:]:
            if row[0] in ("A001", "A002"):
                extra.append([f"T{number:02d}{row[0]}", long_name, *row[2:3], team, *row[4:]])
    with data.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([rows[0], *extra])
    out = tmp_path / "out"
    result = invoke("report", policy, data, "-o", out)
    assert result.exit_code == 0, result.output
    summary = out / PERIOD / "team-summary.pdf"
    text = compact(pdf_text(summary))
    for team in teams:
        # two agents per team (flagged *: fewer than 5), 20 surveys each; reply (88.8 + 93.0) / 2 = 90.9%
        assert compact(f"{team} * 2 40 90.9%") in text, team
    assert compact(f"全部 {len(teams) * 2} {len(teams) * 40} 90.9%") in text
    assert text.count(compact(long_name)) >= len(teams) * 2
    for page in pypdf.PdfReader(str(summary)).pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)


def test_averages_read_like_the_values():
    from perfrules.report.model import average_text
    from perfrules.parser import parse_policy
    from perfrules.source import SourceFile

    text = ('policy "p" {\n version "1"\n roles agent\n metric calls: count\n metric csat: percent\n'
            ' metric aht: duration in min\n kpi "k" weight 100% { points calls }\n}\n')
    metrics = {metric.name.text: metric for metric in parse_policy(SourceFile("p.perf", text)).policy.metrics}
    assert average_text(metrics["calls"], [Decimal(1), Decimal(0), Decimal(1)], 1, "zh") == "0.7"
    assert average_text(metrics["csat"], [Decimal("0.95"), Decimal("0.9")], 1, "zh") == "92.5%"
    assert average_text(metrics["csat"], [Decimal("0.95"), Decimal("0.91")], 0, "zh") == "93%"
    assert average_text(metrics["aht"], [Decimal(400), Decimal(500)], 1, "en") == "7.5 min"
    assert average_text(metrics["aht"], [], 1, "zh") == "—"


# ---- English ------------------------------------------------------------------------------------


def test_english_policy_packet(cx):
    results = cx["results"]
    text = pdf_text(cx["out"] / PERIOD / "CX01-Alice Martin.pdf")
    result = results["CX01"]
    assert not CJK.search(text), CJK.findall(text)  # every fixed string in English
    assert_has(text, *EN_LABELS)
    assert_has(text, "Agent Alice Martin (CX01) Period 2026-11", "Team EMEA",
               "Policy Customer Experience Scorecard (version 2026.11)",
               f"Score {result['score']:.2f} Grade {result['grade']} Rank {result['rank']} / {result['rank_of']} "
               f"Bonus {money(result['bonus_total'])}")
    assert_has(text, "Resolution rate 97.5% ≥ 97%: Exceeds target ≥ 95%: Meets target")
    assert_has(text, "Appendix: the policy's rules as written", "Resolution rate resolution_rate >= 97% => exceeds")
    boxes = swot_boxes(text, "en")
    # csat 4.9 against everyone's median (teams of 3): 4.40, 4.50, 4.60, 4.75, 4.90 (CX04 has too few surveys)
    assert has(boxes["strength"], "Customer satisfaction 4.9 (Exceeds target), above the overall median of 4.6")
    assert has(boxes["threat"], "Resolution rate 97.5% (Exceeds target), 0.5 percentage points lower loses Exceeds target (97%)")
    assert has(boxes["strength"], "Customers consistently rate the service highly")   # the policy's swot{} note
    assert has(boxes["opportunity"], "Net Promoter Score 58 (Meets target), 2 more reaches Exceeds target (60)")
    assert_has(text, "No improvement plan this period")

    text = pdf_text(cx["out"] / PERIOD / "CX02-Bruno Silva.pdf")
    assert not CJK.search(text), CJK.findall(text)
    boxes = swot_boxes(text, "en")
    assert has(boxes["threat"], "Net Promoter Score 35 (Below target), down three months in a row (55 → 45 → 35)")
    assert has(boxes["threat"], 'One more incident triggers the red line "Two upheld escalations"')
    assert has(boxes["threat"], "One more upheld escalation triggers the red line")   # swot{} note
    assert_has(text, "Improvement plan NPS recovery plan Target: Net Promoter Score 35 → 50 (Meets target) by 2026-12-30 Action Due",
               "Shadow a top-NPS colleague for two shifts 2026-12-14",
               "Review ten detractor comments with the team lead 2026-12-30")

    text = pdf_text(cx["out"] / PERIOD / "CX03-Chloé Dubois.pdf")
    assert "Chloé Dubois" in text
    assert_has(text, "Red line (veto): Two upheld escalations → Unsatisfactory")
    assert has(swot_boxes(text, "en")["fact"], "Red line hit: Two upheld escalations")
    assert not has(swot_boxes(text, "en")["threat"], "Red line hit")

    text = pdf_text(cx["out"] / PERIOD / "CX04-Daniel Kim.pdf")
    reason = next(kpi["reason"] for kpi in results["CX04"]["kpis"] if kpi["status"] == "excluded")
    assert_has(text, f"excluded {reason}")
    assert has(swot_boxes(text, "en")["fact"], f"Customer satisfaction had too little data and was left out: {reason}")


def test_english_team_summary(cx):
    results = sorted(cx["results"].values(), key=lambda item: (item["rank"], item["agent_id"]))
    text = pdf_text(cx["out"] / PERIOD / "team-summary.pdf")
    assert not CJK.search(text), CJK.findall(text)
    total = sum(result["bonus_total"] for result in results)
    assert_has(text, "Team performance summary", "Grade distribution", "KPI averages by team", "Leaderboard",
               f"Bonus total {money(total)} Red lines hit 1 Agents with improvement plans "
               f"{sum(1 for result in results if result['plans'])}",
               "Chloé Dubois (CX03) Two upheld escalations", "Bruno Silva (CX02) NPS recovery plan")
    for result in results:
        assert_has(text, f"{result['name']} ({result['agent_id']}) {result['team']} {result['score']:.2f} "
                         f"{result['grade']} {money(result['bonus_total'])}")


@pytest.fixture(scope="module")
def small_en(small, tmp_path_factory):
    """The small Chinese data set with ``--lang en`` (A004's packet and the team summary)."""
    out = tmp_path_factory.mktemp("small-en") / "out"
    result = invoke("report", small["policy"], small["data"], "-o", out, "--lang", "en")
    assert result.exit_code == 0, result.output
    return {"packet": pdf_text(out / PERIOD / "A004-王五.pdf"), "summary": pdf_text(out / PERIOD / "team-summary.pdf")}


def test_lang_en_on_a_chinese_policy(small_en):
    text = small_en["packet"]
    assert_has(text, *EN_LABELS)
    assert_has(text, "Status", "substituted", "No adjustments this period", "No red line was hit",
               "处理时长 11 min", "Improvement plan 响应提升计划 Target: 响应时间 70% → 80% (合格) by 2026-12-30 Action Due 参加响应时效培训 2026-12-14")
    for label in ZH_LABELS:
        assert label not in text, label
    boxes = swot_boxes(text, "en")
    assert has(boxes["threat"], "响应时间 70% (不合格), down three months in a row (85% → 78% → 70%)")
    assert has(boxes["threat"], 'One more incident triggers the red line "投诉红线"')
    summary = small_en["summary"]
    assert_has(summary, "Team performance summary", "Leaderboard", "Bonus total 1,750.00")
    assert "团队绩效汇总" not in summary and "排行榜" not in summary


def test_lang_en_translates_the_missing_data_reason(small_en):
    # The reason is a fixed sentence of perfrules ("csat 的样本数 ... 少于 10"), not policy text.
    text = small_en["packet"]
    assert "样本数" not in text and "少于" not in text
    assert_has(text, "csat: the sample csat_responses is 6, below 10")


def test_english_close_to_next_level_for_a_duration_reads_well(small_en):
    opportunity = swot_boxes(small_en["packet"], "en")["opportunity"]
    assert "处理时长" in opportunity
    assert "fastermore" not in opportunity, opportunity  # "1min faster more reaches 合格"


# ---- --agent, atomic writes and failures --------------------------------------------------------


@pytest.fixture(scope="module")
def agent_rerun(small, tmp_path_factory):
    """A folder with every packet of the small set and two other files; then ``--agent A004`` into it."""
    out = tmp_path_factory.mktemp("agent") / "out"
    shutil.copytree(small["out"], out)
    (out / PERIOD / "meeting-notes.txt").write_text("keep me", encoding="utf-8")
    (out / "readme.txt").write_text("keep me too", encoding="utf-8")
    before = snapshot(out)
    result = invoke("report", small["policy"], small["data"], "-o", out, "--agent", "A004")
    assert result.exit_code == 0, result.output
    return {"out": out, "before": before, "after": snapshot(out), "stderr": result.stderr}


def test_agent_option_renders_only_that_packet(agent_rerun):
    before, after, out = agent_rerun["before"], agent_rerun["after"], agent_rerun["out"]
    assert set(after) == set(before)
    rendered = f"{PERIOD}/A004-王五.pdf"
    assert after[rendered][1:] != before[rendered][1:]  # written anew
    assert "王五" in pdf_text(out / rendered)
    for name in before:
        if name not in (rendered, PERIOD, f"{PERIOD}/team-summary.pdf"):
            assert after[name] == before[name], name
    assert leftovers(out) == []


def test_agent_option_leaves_the_team_summary_alone(agent_rerun):
    # "--agent renders only those packets and leaves other files in the folder alone"
    name = f"{PERIOD}/team-summary.pdf"
    assert agent_rerun["after"][name] == agent_rerun["before"][name], "team-summary.pdf was rewritten"
    assert "wrote 1 PDF file" in agent_rerun["stderr"], agent_rerun["stderr"]


def test_agent_option_with_an_unknown_agent(small, run_cli, tmp_path):
    result = run_cli("report", str(small["policy"]), str(small["data"]), "-o", str(tmp_path / "out"), "--agent", "A999")
    assert result.exit_code == 2
    assert "A999" in result.stderr
    assert not (tmp_path / "out").exists()


def broken_templates(folder: Path) -> Path:
    shutil.copytree(TEMPLATES, folder)
    agent = folder / "agent.html"
    agent.write_text(agent.read_text(encoding="utf-8").replace("<h1>", "{% if packet.name %}<h1>", 1), encoding="utf-8")
    return folder


def test_template_syntax_error_leaves_the_output_unchanged(small, run_cli, tmp_path):
    templates = broken_templates(tmp_path / "templates")
    out = tmp_path / "out"
    shutil.copytree(small["out"], out)
    before = snapshot(out)
    result = run_cli("report", str(small["policy"]), str(small["data"]), "-o", str(out), "--templates", str(templates))
    assert result.exit_code == 2
    assert "agent.html" in result.stderr and "template" in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(out) == before
    assert leftovers(out) == []

    fresh = tmp_path / "fresh"
    result = run_cli("report", str(small["policy"]), str(small["data"]), "-o", str(fresh), "--templates", str(templates))
    assert result.exit_code == 2
    assert not fresh.exists()


_REAL_LAYOUT = render._layout


def _layout_failing(job):
    """Stands in for render._layout: A001's packet is written, then the disk is full."""
    if "A001-" not in job[1]:
        raise OSError(28, "No space left on device")
    return _REAL_LAYOUT(job)


@pytest.fixture(scope="module")
def layout_failures(small, tmp_path_factory):
    """A full render whose layout fails, into a folder with an earlier render and into a new folder."""
    from perfrules.cli import main

    folder = tmp_path_factory.mktemp("failure")
    existing = folder / "out"
    shutil.copytree(small["out"], existing)
    (existing / PERIOD / "meeting-notes.txt").write_text("keep me", encoding="utf-8")
    before = snapshot(existing)
    fresh = folder / "new" / "out"
    results = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(render, "_layout", _layout_failing)
        for name, out in (("existing", existing), ("fresh", fresh)):
            _free_garbage()
            results[name] = CliRunner().invoke(main, ["report", str(small["policy"]), str(small["data"]), "-o", str(out)])
    return {"existing": existing, "before": before, "fresh": fresh, "results": results}


def test_layout_failure_leaves_the_output_unchanged(layout_failures):
    existing = layout_failures["existing"]
    assert layout_failures["results"]["existing"].exit_code != 0
    assert snapshot(existing) == layout_failures["before"]
    assert leftovers(existing) == []


def test_layout_failure_is_reported_without_a_traceback(layout_failures):
    result = layout_failures["results"]["existing"]
    assert not isinstance(result.exception, OSError), f"uncaught {result.exception!r}"
    assert result.exit_code == 2
    assert "No space left on device" in result.stderr


def test_layout_failure_leaves_no_new_output_folder(layout_failures):
    fresh = layout_failures["fresh"]
    assert layout_failures["results"]["fresh"].exit_code != 0
    assert not fresh.exists(), f"left behind: {sorted(path.name for path in fresh.iterdir())}"


def test_layout_workers_survive_garbage_from_earlier_evaluations(small, run_cli, tmp_path):
    """A long-lived process (tests, a service) may hold unreachable DuckDB objects when it forks the
    layout workers; a worker's garbage collector must not free them (DuckDB is not fork-safe)."""
    import gc

    import duckdb

    class Holder:
        pass

    holder = Holder()
    holder.cycle = holder
    holder.connection = duckdb.connect()
    holder.connection.execute("SELECT sum(range) FROM range(100000)").fetchall()
    gc.collect()  # the holder moves to the oldest generation ...
    del holder    # ... and becomes garbage that only a full collection frees
    result = run_cli("report", str(small["policy"]), str(small["data"]), "-o", str(tmp_path / "out"),
                     "--agent", "A001")
    assert result.exit_code == 0
    assert (tmp_path / "out" / PERIOD / "A001-张三.pdf").is_file()


# ---- template folders and the URL fetcher -------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802
        _Recorder.requests.append(self.path)
        body = b'body::before { content: "LEAKED-HTTP"; }'
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_url_fetcher_loads_only_files_in_the_template_folder(small, run_cli, tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Recorder.requests = []
    local = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        outside = tmp_path / "outside.css"
        outside.write_text('body::before { content: "LEAKED-OUTSIDE"; }', encoding="utf-8")
        templates = tmp_path / "templates"
        shutil.copytree(TEMPLATES, templates)
        (templates / "inside.css").write_text('body::after { content: "INSIDE-OK"; }', encoding="utf-8")
        (templates / "imports.css").write_text(f'@import url("{outside.as_uri()}"); @import url("{local}/i.css");\n'
                                               'p.marker::before { content: "IMPORT-INSIDE"; }', encoding="utf-8")
        os.symlink(outside, templates / "link.css")
        links = "\n".join(f'<link rel="stylesheet" href="{href}">' for href in [
            "file:///etc/passwd", "http://127.0.0.1:1/x.css", f"{local}/x.css", "../outside.css", outside.as_uri(),
            "link.css", "inside.css", "imports.css"])
        images = "".join(f'<img src="{src}">' for src in [
            "file:///etc/passwd", "http://127.0.0.1:1/x.png", f"{local}/x.png", "../../../../../../etc/passwd"])
        agent = templates / "agent.html"
        html = agent.read_text(encoding="utf-8")
        html = html.replace('<link rel="stylesheet" href="report.css">', '<link rel="stylesheet" href="report.css">\n' + links)
        html = html.replace("<h1>", f'<p class="marker">P</p>{images}<h1>', 1)
        agent.write_text(html, encoding="utf-8")

        out = tmp_path / "out"
        result = run_cli("report", str(small["policy"]), str(small["data"]), "-o", str(out), "--agent", "A001",
                         "--templates", str(templates))
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0, result.output
    text = pdf_text(out / PERIOD / "A001-张三.pdf")
    assert "张三" in text and "绩效面谈资料" in text
    assert "INSIDE-OK" in text and "IMPORT-INSIDE" in text  # files in the template folder do load
    assert "LEAKED" not in text
    passwd = [line for line in Path("/etc/passwd").read_text().splitlines() if line][:3]
    assert not any(compact(line)[:20] in compact(text) for line in passwd)
    assert "root:" not in text
    assert _Recorder.requests == []


def test_templates_folder_without_agent_html(small, run_cli, tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    shutil.copy(TEMPLATES / "team.html", templates)
    shutil.copy(TEMPLATES / "report.css", templates)
    result = run_cli("report", str(small["policy"]), str(small["data"]), "-o", str(tmp_path / "out"),
                     "--templates", str(templates))
    assert result.exit_code == 2
    assert "agent.html" in result.stderr and "perfrules: error:" in result.stderr
    assert not (tmp_path / "out").exists()

    result = run_cli("report", str(small["policy"]), str(small["data"]), "-o", str(tmp_path / "out"),
                     "--templates", str(tmp_path / "nowhere"))
    assert result.exit_code == 2
    assert "nowhere" in result.stderr


def test_templates_cannot_include_files_outside_their_folder(small, run_cli, tmp_path):
    (tmp_path / "secret.html").write_text("SECRET-OUTSIDE", encoding="utf-8")
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    agent = templates / "agent.html"
    agent.write_text(agent.read_text(encoding="utf-8").replace("<h1>", "{% include '../secret.html' %}<h1>", 1),
                     encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("report", str(small["policy"]), str(small["data"]), "-o", str(out), "--agent", "A001",
                     "--templates", str(templates))
    if result.exit_code == 0:
        assert "SECRET-OUTSIDE" not in pdf_text(out / PERIOD / "A001-张三.pdf")
    else:
        assert result.exit_code == 2 and "secret.html" in result.stderr


# ---- fonts and notes ------------------------------------------------------------------------------


def test_missing_cjk_font_gives_a_clear_message(small, run_cli, monkeypatch, tmp_path):
    monkeypatch.setattr(render, "cjk_font_installed", lambda: False)
    out = tmp_path / "out"
    result = run_cli("report", str(small["policy"]), str(small["data"]), "-o", str(out), "--agent", "A001")
    assert result.exit_code == 2
    message = result.stderr
    assert "perfrules: error:" in message and "font" in message and "Chinese" in message
    assert "fonts-noto-cjk" in message
    assert "Traceback" not in result.output
    assert not out.exists()


def test_english_report_needs_no_cjk_font(run_cli, monkeypatch, tmp_path):
    monkeypatch.setattr(render, "cjk_font_installed", lambda: False)
    data = write_cx(tmp_path)
    out = tmp_path / "out"
    result = run_cli("report", str(POLICIES / "customer_experience_en.perf"), str(data), "-o", str(out),
                     "--agent", "CX05")
    assert result.exit_code == 0, result.output
    assert "Emma Novak" in pdf_text(out / PERIOD / "CX05-Emma Novak.pdf")


def test_notes_with_a_bad_kind_are_reported_with_their_row(small, run_cli, tmp_path):
    notes = tmp_path / "notes.csv"
    notes.write_text("agent_id,kind,text\nA001,strength,好\nA002,strenght,坏\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("report", str(small["policy"]), str(small["data"]), "-o", str(out), "--notes", str(notes))
    assert result.exit_code == 3
    assert result.stderr == (f"{notes}:3: kind 'strenght' is not strength, weakness, opportunity, threat or action "
                             "(did you mean 'strength'?)\n1 data problem: nothing was written\n")
    assert not out.exists()

    notes = tmp_path / "notes.yaml"
    notes.write_text("- {agent_id: A001, kind: strength, text: 好}\n# 二组\n- agent_id: A002\n  kind: luck\n  text: 坏\n",
                     encoding="utf-8")
    result = run_cli("report", str(small["policy"]), str(small["data"]), "-o", str(out), "--notes", str(notes))
    assert result.exit_code == 3
    assert result.stderr == (f"{notes}:3: kind 'luck' is not strength, weakness, opportunity, threat or action\n"
                             "1 data problem: nothing was written\n")  # line 3 of the file, where the entry starts


def test_notes_for_agents_not_evaluated_are_problems_and_nothing_is_written(small, run_cli, tmp_path):
    # A999 is nobody; a01 and Ａ００２ are A001 and A002 mistyped; A008 is evaluated. All bad rows are reported.
    notes = tmp_path / "notes.csv"
    notes.write_text("agent_id,kind,text\nA008,strength,好\nA999,机会,x\n\"a01\",threat,y\nＡ００２,优势,z\n",
                     encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("report", str(small["policy"]), str(small["data"]), "-o", str(out), "--notes", "notes.csv",
                     cwd=tmp_path)
    assert result.exit_code == 3
    data = small["data"]
    assert result.stderr == (
        f"notes.csv:3: agent_id 'A999' is not in {data} for the period evaluated\n"
        f"notes.csv:4: agent_id 'a01' is not in {data} for the period evaluated (did you mean 'A001'?)\n"
        f"notes.csv:5: agent_id 'Ａ００２' is not in {data} for the period evaluated (did you mean 'A002'?)\n"
        "3 data problems: nothing was written\n"
    )
    assert not out.exists()


def test_notes_rows_with_too_many_cells_are_problems_with_their_row(small, run_cli, tmp_path):
    notes = tmp_path / "notes.csv"
    notes.write_text("agent_id,kind,text\nA001,strength,好,很好\nA002,strength,好\nA003,threat,a,b\n",
                     encoding="utf-8")
    result = run_cli("report", str(small["policy"]), str(small["data"]), "-o", str(tmp_path / "out"),
                     "--notes", "notes.csv", cwd=tmp_path)
    assert result.exit_code == 3
    hint = '(hint: a cell that holds a comma must be quoted: "8,000")'
    assert result.stderr == (f"notes.csv:2: the row has 4 cells, the header row 3 {hint}\n"
                             f"notes.csv:4: the row has 4 cells, the header row 3 {hint}\n"
                             "2 data problems: nothing was written\n")


def test_notes_problems_come_with_the_data_problems(small, run_cli, tmp_path):
    data = tmp_path / "data.csv"
    data.write_text(small["data"].read_text(encoding="utf-8").replace("95.0%", "9O%", 1), encoding="utf-8")
    notes = tmp_path / "notes.csv"
    notes.write_text("agent_id,kinds,text\nA001,strength,好\n", encoding="utf-8")
    result = run_cli("report", str(small["policy"]), "data.csv", "-o", str(tmp_path / "out"), "--notes", "notes.csv",
                     cwd=tmp_path)
    assert result.exit_code == 3
    assert result.stderr == ("data.csv:2: column csat: '9O%' is not a percent\n"
                             "notes.csv: missing column 'kind' (notes need agent_id, kind and text; "
                             "did you mean 'kinds'?)\n"
                             "2 data problems: nothing was written\n")


def test_notes_file_that_is_not_there_is_a_command_line_mistake(small, run_cli, tmp_path):
    result = run_cli("report", str(small["policy"]), str(small["data"]), "-o", str(tmp_path / "out"),
                     "--notes", "nowhere.csv", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr == "perfrules: error: --notes nowhere.csv: no such file\n"


def test_xlsx_notes_and_data_with_numeric_ids(run_cli, tmp_path):
    # 1001 typed into Excel is a number: the notes' 1001 was read as '1001.0' and matched no
    # agent, so the note vanished. Both files now go through the one data reader.
    from openpyxl import Workbook

    policy, data = write_small(tmp_path)
    workbook = Workbook()
    rows = list(csv.reader(data.open(encoding="utf-8")))
    workbook.active.append(rows[0])
    for row in rows[1:]:
        workbook.active.append([int(row[0][1:]) + 1000, *row[1:]])
    workbook.save(tmp_path / "data.xlsx")
    notes = Workbook()
    notes.active.append(["agent_id", "kind", "text"])
    notes.active.append([1001, "strength", "客户多次来信表扬"])
    notes.active.append([1001.0, "机会", "可带新人"])
    notes.save(tmp_path / "notes.xlsx")
    out = tmp_path / "out"
    result = run_cli("report", str(policy), "data.xlsx", "-o", str(out), "--agent", "1001", "--notes", "notes.xlsx",
                     cwd=tmp_path)
    assert result.exit_code == 0, result.output
    boxes = swot_boxes(pdf_text(out / PERIOD / "1001-张三.pdf"))
    assert has(boxes["strength"], "主管备注:客户多次来信表扬")
    assert has(boxes["opportunity"], "主管备注:可带新人")


def test_yaml_note_ids_are_written_like_data_cells(small, run_cli, tmp_path):
    # A YAML number 1001.0 is the id 1001, as an XLSX number cell is (never '1001.0').
    (tmp_path / "notes.yaml").write_text("- {agent_id: 1001.0, kind: strength, text: 好}\n", encoding="utf-8")
    result = run_cli("report", str(small["policy"]), str(small["data"]), "-o", str(tmp_path / "out"),
                     "--notes", "notes.yaml", cwd=tmp_path)
    assert result.exit_code == 3
    assert result.stderr == (f"notes.yaml:1: agent_id '1001' is not in {small['data']} for the period evaluated "
                             "(did you mean 'A001'?)\n"
                             "1 data problem: nothing was written\n")


def test_yaml_alias_bombs_in_notes_are_refused_at_once(small, run_cli, tmp_path):
    """Nine levels of nested aliases would be 9^8 strings ("billion laughs"): refused before
    anything is built, at the first alias, in well under a second."""
    lines = ['- {agent_id: A001, kind: strength, text: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]}']
    for level in range(1, 9):
        lines.append(f"- {{agent_id: A001, kind: strength, text: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]}}")
    (tmp_path / "notes.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = time.perf_counter()
    result = run_cli("report", str(small["policy"]), str(small["data"]), "-o", str(tmp_path / "out"),
                     "--notes", "notes.yaml", cwd=tmp_path)
    assert time.perf_counter() - started < 20
    assert (result.exit_code, result.stderr) == (3, "notes.yaml:2: YAML aliases (*name) are not allowed in notes: "
                                                    "write each value out\n1 data problem: nothing was written\n")
    assert not (tmp_path / "out").exists()


def test_yaml_note_values_are_single_values(small, run_cli, tmp_path):
    (tmp_path / "notes.yaml").write_text("- {agent_id: A001, kind: strength, text: 好}\n"
                                         "- {agent_id: A002, kind: threat, text: [a, b]}\n", encoding="utf-8")
    result = run_cli("report", str(small["policy"]), str(small["data"]), "-o", str(tmp_path / "out"),
                     "--notes", "notes.yaml", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (3, "notes.yaml:2: text must be one value, not a list or a mapping\n"
                                                    "1 data problem: nothing was written\n")


def test_notes_with_a_title_row_are_told_to_lose_it(small, run_cli, tmp_path):
    # --header-row is for the data file: the notes' hint does not send the user there.
    from openpyxl import Workbook

    workbook = Workbook()
    for row in (["主管备注 2026年11月"], ["agent_id", "kind", "text"], ["A001", "strength", "好"]):
        workbook.active.append(row)
    workbook.save(tmp_path / "notes.xlsx")
    result = run_cli("report", str(small["policy"]), str(small["data"]), "-o", str(tmp_path / "out"),
                     "--notes", "notes.xlsx", cwd=tmp_path)
    assert result.exit_code == 3
    assert result.stderr == ("notes.xlsx:1: column B (the 2nd) has no header (hint: the notes' first row must name "
                             "agent_id, kind and text: delete the rows above it)\n"
                             "1 data problem: nothing was written\n")


def test_top_of_a_pass_fail_scale_is_no_strength():
    """Passing a KPI whose rules give only pass or fail is no distinction; the best of three
    levels is (issue: every KPI at its best level read 'X 达到最高等级')."""
    from perfrules.check import analyse_policy
    from perfrules.parser import parse_policy
    from perfrules.report.swot import KpiFacts, derive_swot, thresholds_for
    from perfrules.source import SourceFile

    text = ('policy "p" {\n version "1"\n roles agent\n metric csat: percent higher is better\n'
            ' metric fcr: percent higher is better\n levels { excellent "优秀" = 100  pass "合格" = 80  fail "不合格" = 0 }\n'
            ' kpi "满意度" weight 50% { csat >= 90% => excellent  csat >= 80% => pass  else => fail }\n'
            ' kpi "解决率" weight 50% { fcr >= 90% => pass  else => fail }\n}\n')
    policy = parse_policy(SourceFile("p.perf", text)).policy
    model, problems = analyse_policy(policy, "p.perf", text)
    assert problems == []
    facts = [KpiFacts("满意度", "scored", Decimal(100), 1, "优秀", Decimal("0.95"), None, [], None, shown="95%"),
             KpiFacts("解决率", "scored", Decimal(80), 1, "合格", Decimal("0.95"), None, [], None, shown="95%")]
    found = derive_swot("zh", facts, thresholds_for(model), [("红线", True, False)])
    assert found["strength"] == ["满意度 95%(优秀),达到最高等级"]
    assert found["fact"] == ["触发一票否决:红线"] and found["threat"] == []


SWOT_POLICY = ('policy "p" {\n version "1"\n roles agent\n metric csat: percent higher is better\n'
               ' levels { excellent "优秀" = 100  pass "合格" = 80  fail "不合格" = 0 }\n'
               ' kpi "顾客满意度" weight 100% { csat >= 90% => excellent  csat >= 85% => pass  else => fail }\n}\n')


def swot_for(facts, language="zh", period="month"):
    from perfrules.check import analyse_policy
    from perfrules.parser import parse_policy
    from perfrules.report.swot import derive_swot, thresholds_for
    from perfrules.source import SourceFile

    policy = parse_policy(SourceFile("p.perf", SWOT_POLICY)).policy
    model, problems = analyse_policy(policy, "p.perf", SWOT_POLICY)
    assert problems == []
    return derive_swot(language, facts, thresholds_for(model), [], period)


def test_swot_sentence_names_the_figure_the_team_median_and_the_trend():
    """The issue's sentence: csat 93.9% at the best level, the team's median 90.1%, three
    months up (88% → 91% → 93.9%)."""
    from perfrules.report.swot import KpiFacts, Median

    history = [Decimal("0.88"), Decimal("0.91"), Decimal("0.939")]
    facts = [KpiFacts("顾客满意度", "scored", Decimal(100), 1, "优秀", Decimal("0.939"), None, history, None,
                      shown="93.9%", median=Median("team", Decimal("0.901"), "90.1%"))]
    found = swot_for(facts)
    assert found["strength"] == ["顾客满意度 93.9%(优秀),高于团队中位数 90.1%,连续三个月提升"]
    assert found["opportunity"] == [] and found["threat"] == []  # the rise is said once, with the strength
    english = swot_for(facts, "en", "quarter")
    assert english["strength"] == ["顾客满意度 93.9% (优秀), above the team median of 90.1%, up three quarters in a row"]


def test_swot_threat_is_a_level_about_to_be_lost_and_a_small_sample_is_no_strength():
    from perfrules.report.swot import KpiFacts, Median

    # 90.5% is 0.5 points above the 优秀 line (90%): it may be lost next month
    edge = KpiFacts("顾客满意度", "scored", Decimal(100), 1, "优秀", Decimal("0.905"), None, [], None, shown="90.5%",
                    median=Median("all", Decimal("0.88"), "88%"))
    found = swot_for([edge])
    assert found["threat"] == ["顾客满意度 90.5%(优秀),再下降 0.5 个百分点将跌出优秀(90%)"]
    assert found["strength"] == ["顾客满意度 90.5%(优秀),高于全员中位数 88%"]
    # the same figure from a handful of surveys: neither a strength nor a weakness
    edge.low_sample = True
    found = swot_for([edge])
    assert found["strength"] == [] and found["weakness"] == []
    lowest = KpiFacts("顾客满意度", "scored", Decimal(0), 3, "不合格", Decimal("0.5"), None, [], None, shown="50%",
                      low_sample=True)
    assert swot_for([lowest])["weakness"] == []


def test_trend_chart_of_a_lower_is_better_metric_draws_better_upwards():
    """Handling time 9 → 8 → 7 minutes is getting better: the line rises, and the title says why."""
    import re as regex

    from perfrules.report.charts import line_chart

    def heights(svg: str) -> list[float]:
        return [float(y) for y in regex.findall(r"<circle cx='[\d.]+' cy='([\d.]+)'", str(svg))]

    periods = ["2026-09", "2026-10", "2026-11"]
    lower = line_chart("处理时长", periods, [9.0, 8.0, 7.0], ["9", "8", "7"], lower_is_better=True,
                       note="越低越好,图中向上为好")
    cy = heights(lower)
    assert cy[0] > cy[1] > cy[2]  # SVG y grows downwards: the 7-minute point is the highest
    assert "越低越好,图中向上为好" in str(lower)
    higher = heights(line_chart("满意度", periods, [0.80, 0.85, 0.90], ["80%", "85%", "90%"]))
    assert higher[0] > higher[1] > higher[2]  # a rising csat rises too


VOLUME_POLICY = """\
policy "接待量测试" {
    version "1"
    roles agent
    period month
    language zh
    metric reply: percent "及时回复率" higher is better sample contacts at least 1
    metric contacts: count "接待量"
    levels { excellent "优秀" = 100  pass "合格" = 80  fail "不合格" = 0 }
    kpi "响应" weight 100% {
        reply >= 90% => excellent
        reply >= 80% => pass
        else => fail
    }
}
"""


def test_a_low_volume_agent_is_marked_and_not_praised(run_cli, tmp_path):
    """L01 answered 1 contact all month, 100% on time: at the best level and first of six, but
    the median volume is 40 and 1 is under a quarter of it (10), so the KPI is marked
    样本少 and is no strength; L04 (92% of 40 contacts) is one."""
    policy = tmp_path / "volume.perf"
    policy.write_text(VOLUME_POLICY, encoding="utf-8")
    data = tmp_path / "data.csv"
    rows = [("L01", "100%", 1), ("L02", "85%", 40), ("L03", "88%", 40), ("L04", "92%", 40), ("L05", "80%", 38),
            ("L06", "70%", 42)]
    data.write_text("agent_id,name,role,team,period,reply,contacts\n" + "".join(
        f"{agent},名{agent},agent,一组,{PERIOD},{reply},{contacts}\n" for agent, reply, contacts in rows), encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("report", str(policy), str(data), "-o", str(out))
    assert result.exit_code == 0, result.output
    text = pdf_text(out / PERIOD / "L01-名L01.pdf")
    assert_has(text, "响应 及时回复率 100% 样本 1 样本少(全员中位数 40) ≥ 90% 为优秀")
    boxes = swot_boxes(text)
    assert boxes["strength"] == "无", boxes["strength"]
    assert_has(swot_boxes(pdf_text(out / PERIOD / "L04-名L04.pdf"))["strength"],
               "响应 92%(优秀),高于团队中位数 86.5%")  # the team's six: 70, 80, 85, 88, 92, 100 → (85 + 88) / 2
    summary = pdf_text(out / PERIOD / "team-summary.pdf")
    assert_has(summary, "接待量合计", "一组 6 201", "接待量低于全员中位数 40 的 25%(少于 10)为样本少")


def test_trend_chart_draws_the_thresholds_and_marks_the_period_under_review():
    """The level lines of the KPI (90% 优秀, 80% 合格) are dashed lines at their heights, with
    their labels; the last period, the one under review, is in bold."""
    import re as regex

    from perfrules.report.charts import line_chart

    svg = str(line_chart("满意度", ["2026-09", "2026-10", "2026-11"], [0.80, 0.85, 0.92], ["80%", "85%", "92%"],
                         thresholds=((0.9, "优秀"), (0.8, "合格"))))
    dashed = [float(y) for y in regex.findall(r"<line x1='[\d.]+' y1='([\d.]+)' x2='[\d.]+' y2='[\d.]+' "
                                               r"stroke='#b45309' stroke-width='0.8' stroke-dasharray", svg)]
    points = [float(y) for y in regex.findall(r"<circle cx='[\d.]+' cy='([\d.]+)'", svg)]
    assert len(dashed) == 2 and dashed[1] == points[0]  # 合格 at 80%, the height of the first point
    assert points[2] < dashed[0] < points[1]            # 92% above the 优秀 line, 85% below it
    assert ">优秀</text>" in svg and ">合格</text>" in svg
    assert regex.search(r"font-weight='bold' fill='#3c4452'>2026-11</text>", svg)
    assert not regex.search(r"font-weight='bold' fill='#3c4452'>2026-10</text>", svg)


def test_a_packet_says_why_its_parts_do_not_add_up_to_the_score(tmp_path):
    """A person adds the base score and the adjustments shown and compares with the score shown.
    Each is rounded on its own (evaluation.md §6.23), and a score limit cuts the sum: the packet
    then says so under the adjustments, with the sum the person gets. Agents of the case
    adjust-limit-entry-in-shown-cents: A2 80.00 + 0.13 + 0.13 = 80.26 beside 80.25; A3 89.75 +
    0.13 = 89.88 beside 89.87; A1 (80.00 + 0.25 + 0.25 − 0.12) and A4 add up."""
    case = REPO / "tests" / "cases" / "evaluate" / "adjust-limit-entry-in-shown-cents"
    shutil.copy(case / "data.csv", tmp_path / "data.csv")
    text = (case / "policy.perf").read_text(encoding="utf-8")
    (tmp_path / "policy.perf").write_text(text, encoding="utf-8")
    limited = tmp_path / "limited"
    limited.mkdir()
    (limited / "policy.perf").write_text(text.replace('    grade {', '    score limit 0 to 80.3\n\n    grade {'),
                                         encoding="utf-8")
    assert invoke("report", tmp_path / "policy.perf", tmp_path / "data.csv", "-o", tmp_path / "out").exit_code == 0
    assert invoke("report", limited / "policy.perf", tmp_path / "data.csv", "-o", limited / "out").exit_code == 0
    note = "以上各项按两位小数显示,相加为 {};总分 {} 由未经四舍五入的数值算出"
    packets = {agent: pdf_text(tmp_path / "out" / "2026-11" / f"{agent}-{agent}.pdf") for agent in ("A1", "A2", "A3", "A4")}
    assert_has(packets["A2"], note.format("80.26", "80.25"))
    assert_has(packets["A3"], note.format("89.88", "89.87"))
    assert not any(has(packets[agent], "以上各项按两位小数显示") for agent in ("A1", "A4"))
    # With `score limit 0 to 80.3`: A1's 80.375 is cut to 80.30; A3's 89.87 too.
    assert_has(pdf_text(limited / "out" / "2026-11" / "A1-A1.pdf"), "基础分加减分合计 80.38,按总分上下限计为 80.30")
    assert_has(pdf_text(limited / "out" / "2026-11" / "A3-A3.pdf"), "基础分加减分合计 89.87,按总分上下限计为 80.30")
