"""SMART targets and awards in the review packets and the team summary, read back from the PDFs.

A small data set with hand-worked numbers (the evaluated period is 2026-11, which ends on
2026-11-30; targets set on 2026-10-01, so the baseline is the 2026-09 row):

- 季度提升, for senior agents: csat >= 90% and aht <= 8min by 2026-12-31. Time elapsed:
  2026-10-01 to 2026-11-30 is 60 of the 91 days to 2026-12-31, 0.6593, printed 66%.
  - S1 张伟: csat 80% → 86%, progress (86 − 80) / (90 − 80) = 0.6 (60%) < 0.6593: at_risk;
    aht 10 → 7.5 min meets ≤ 8: achieved. The target: at_risk.
  - S2 王芳: csat 84% → 88%, 4 / 6 = 0.6667 (67%) ≥ 0.6593: on_track; aht 9 → 8.3 min,
    (8.3 − 9) / (8 − 9) = 0.7 (70%): on_track. The target: on_track.
  - S3 李娜 joined in 2026-10 (no baseline): csat 89% not met, progress unknown: not_met;
    aht missing: no_data. The target: not_met (worse than no_data).
  - S4 <i>赵敏</i>: csat 95%, aht 6 min every month: achieved, achieved.
- 十一月<冲刺>, for senior agents: csat >= each agent's csat_goal by 2026-11-30: S1 86% < 88%
  on the deadline: missed (progress (86 − 80) / (88 − 80) = 75%, all the time elapsed: 100%);
  S2 88% ≥ 87%, S3 89% ≥ 85%, S4 95% ≥ 94%: achieved.
- A1 刘洋 (agent) has no target. Awards: 金牌客服 (grade 优秀 for 3 periods) is held by S4
  only (A1 was 不合格 in 2026-09, S1 and S2 were 良好); 服务之星 (top 1 by csat) by A1
  (97%).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from test_report import assert_has, compact, has, invoke, pdf_text

PERIOD = "2026-11"

POLICY = """\
policy "目标与荣誉测试" {
    version "1.0"
    roles agent, senior_agent
    period month
    language zh

    metric csat: percent "顾客满意度" higher is better
    metric aht: duration in min "平均处理时长" lower is better
    metric csat_goal: percent "个人满意度目标"

    levels {
        excellent "优秀" = 100
        pass "合格" = 80
        fail "不合格" = 0
    }

    kpi "满意度" weight 50% {
        csat >= 90% => excellent
        csat >= 80% => pass
        else => fail
    }
    kpi "处理时长" weight 50% when missing exclude {
        aht <= 8min => excellent
        aht <= 10min => pass
        else => fail
    }

    grade {
        score >= 90 => "优秀"
        score >= 75 => "良好"
        else => "不合格"
    }

    target "季度提升" for senior_agent {
        csat >= 90% by 2026-12-31 from 2026-10-01
        aht <= 8min by 2026-12-31 from 2026-10-01
    }
    target "十一月<冲刺>" for senior_agent {
        csat >= csat_goal by 2026-11-30 from 2026-10-01
    }

    award "金牌客服" when grade == "优秀" for 3 periods
    award "服务之星" when top 1 by csat
}
"""

HEADERS = ["agent_id", "name", "role", "team", "supervisor", "period", "csat", "aht", "csat_goal"]
# agent_id, name, role, team, (csat, aht) for 2026-09, 2026-10, 2026-11 (None: no row), csat_goal
AGENTS = [
    ("S1", "张伟", "senior_agent", "一组", [("80%", "10"), ("83%", "9"), ("86%", "7.5")], "88%"),
    ("S2", "王芳", "senior_agent", "一组", [("84%", "9"), ("86%", "8.8"), ("88%", "8.3")], "87%"),
    ("S3", "李娜", "senior_agent", "二组", [None, ("85%", "9"), ("89%", "")], "85%"),
    ("S4", "<i>赵敏</i>", "senior_agent", "二组", [("95%", "6"), ("95%", "6"), ("95%", "6")], "94%"),
    ("A1", "刘洋", "agent", "二组", [("70%", "9"), ("96%", "9"), ("97%", "9")], ""),
]
PERIODS = ["2026-09", "2026-10", "2026-11"]


def write_data(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    policy = folder / "policy.perf"
    policy.write_text(POLICY, encoding="utf-8")
    data = folder / "data.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for month, period in enumerate(PERIODS):
            for agent_id, name, role, team, values, goal in AGENTS:
                if values[month] is not None:
                    writer.writerow([agent_id, name, role, team, "周主管", period, *values[month], goal])
    return policy, data


def render(folder: Path, *options: str) -> dict[str, str]:
    """Every PDF of one render, as text by file stem (``S1``, ``team-summary``) and by page."""
    policy, data = write_data(folder)
    out = folder / "out"
    result = invoke("report", policy, data, "-o", out, *options)
    assert result.exit_code == 0, result.output
    import pypdf

    found = {}
    for path in (out / PERIOD).glob("*.pdf"):
        stem = "team-summary" if path.name.startswith("team-summary") else path.name.split("-", 1)[0]
        found[stem] = pdf_text(path)
        found[stem + ":1"] = pypdf.PdfReader(str(path)).pages[0].extract_text()
    return found


@pytest.fixture(scope="module")
def zh(tmp_path_factory):
    return render(tmp_path_factory.mktemp("standing-zh"))


@pytest.fixture(scope="module")
def en(tmp_path_factory):
    return render(tmp_path_factory.mktemp("standing-en"), "--lang", "en")


def section(text: str, start: str, end: str) -> str:
    """The compact text from the heading ``start`` to the next ``end``."""
    flat = compact(text)
    begin = flat.index(compact(start))
    return flat[begin:flat.index(compact(end), begin)]


def row(text: str, *cells: str) -> bool:
    """Whether ``cells`` stand in this order on one line, separated by whitespace only."""
    pattern = r"\s+".join(re.escape(cell) for cell in cells)
    return re.search(pattern, text) is not None


# ---- the agent's packet -------------------------------------------------------------------------------


def test_senior_agent_packet_shows_each_goal_with_baseline_value_progress_status_and_deadline(zh):
    targets = section(zh["S1"], "SMART 目标", "面谈记录")
    assert targets.startswith(compact("SMART 目标 季度提升 有风险 指标 目标值 基线 实际值 进度 状态 截止日期"))
    assert compact("顾客满意度 ≥ 90% 80% 86% 完成 60% / 应完成 66% 有风险 2026-12-31 自 2026-10-01") in targets
    assert compact("平均处理时长 ≤ 8 分钟 10 分钟 7.5 分钟 完成 100% / 应完成 66% 已达成 2026-12-31 自 2026-10-01") \
        in targets
    assert compact("十一月<冲刺> 已逾期未达成") in targets
    assert compact("顾客满意度 ≥ 88% 80% 86% 完成 75% / 应完成 100% 已逾期未达成 2026-11-30 自 2026-10-01") in targets
    assert compact("进度条:从基线到目标已完成的比例;竖线:按已过时间应完成的比例") in targets


def test_each_status_is_worded(zh):
    assert_has(zh["S2"], "季度提升 按计划推进",
               "顾客满意度 ≥ 90% 84% 88% 完成 67% / 应完成 66% 按计划推进",
               "平均处理时长 ≤ 8 分钟 9 分钟 8.3 分钟 完成 70% / 应完成 66% 按计划推进",
               "十一月<冲刺> 已达成", "顾客满意度 ≥ 87% 84% 88% 完成 100% / 应完成 100% 已达成")
    # No baseline (S3 joined after the target was set): not judged, only the time elapsed is shown.
    assert_has(zh["S3"], "季度提升 未达成", "顾客满意度 ≥ 90% — 89% 应完成 66% 未达成",
               "平均处理时长 ≤ 8 分钟 — — 应完成 66% 无数据")
    assert_has(zh["S4"], "季度提升 已达成", "顾客满意度 ≥ 90% 95% 95% 完成 100% / 应完成 66% 已达成")


def test_targets_follow_the_improvement_plans(zh):
    flat = compact(zh["S1"])
    assert flat.index("改进计划") < flat.index("SMART目标") < flat.index("面谈记录")


def test_agent_without_targets_has_no_targets_section(zh):
    text = zh["A1"]
    for absent in ("SMART 目标", "截止日期", "进度条", "季度提升"):
        assert not has(text, absent), absent


def test_award_holder_first_page_shows_the_award_and_its_streak(zh):
    first = zh["S4:1"]
    assert_has(first, "荣誉 金牌客服 连续 3 期")
    flat = compact(first)
    assert flat.index("奖金") < flat.index("金牌客服") < flat.index("关键指标")  # under the score, before the KPIs
    assert_has(zh["A1:1"], "荣誉 服务之星")
    assert not has(zh["A1:1"], "连续")  # an award of one period has no streak to speak of
    for agent in ("S1", "S2", "S3"):
        assert not has(zh[agent], "金牌客服") and not has(zh[agent], "服务之星"), agent


def test_markup_in_names_prints_literally(zh):
    assert_has(zh["S4"], "<i>赵敏</i>", "十一月<冲刺> 已达成")
    assert_has(zh["team-summary"], "<i>赵敏</i> (S4) · 二组", "十一月<冲刺>")


# ---- the team summary ---------------------------------------------------------------------------------


def test_team_summary_counts_agents_per_status_of_each_target_and_goal(zh):
    text = zh["team-summary"]
    assert_has(text, "目标完成情况(人数) SMART 目标 已达成 按计划推进 有风险 已逾期未达成 未达成 无数据 人")
    assert row(text, "季度提升", "1", "1", "1", "0", "1", "0", "4"), text
    assert row(text, "顾客满意度", "≥", "90%", "1", "1", "1", "0", "1", "0", "4"), text
    assert row(text, "平均处理时长", "≤", "8", "分钟", "2", "1", "0", "0", "0", "1", "4"), text
    assert row(text, "十一月<冲刺>", "3", "0", "0", "1", "0", "0", "4"), text
    assert row(text, "顾客满意度", "≥", "各人目标", "3", "0", "0", "1", "0", "0", "4"), text  # a goal per agent


def test_team_summary_honours_list_the_holders_of_each_award(zh):
    honours = section(zh["team-summary"], "荣誉榜", "排行榜")
    assert honours.startswith(compact("荣誉榜 荣誉称号 获得者 金牌客服 连续 3 期 <i>赵敏</i> (S4) · 二组 "
                                      "服务之星 刘洋 (A1) · 二组"))
    assert not any(agent in honours for agent in ("(S1)", "(S2)", "(S3)"))


# ---- in English ---------------------------------------------------------------------------------------


def test_english_packet(en):
    assert_has(en["S1"], "SMART targets", "季度提升 at risk",
               "Measure Goal Baseline Value Progress Status Deadline",
               "顾客满意度 ≥ 90% 80% 86% 60% done / 66% expected at risk 2026-12-31 from 2026-10-01",
               "平均处理时长 ≤ 8 min 10 min 7.5 min 100% done / 66% expected achieved",
               "十一月<冲刺> missed",
               "Bar: the share of the way from baseline to goal done; mark: the share of the time elapsed")
    assert_has(en["S3"], "顾客满意度 ≥ 90% — 89% 66% expected not met", "no data")
    assert_has(en["S4:1"], "Awards 金牌客服 3 periods in a row")


def test_english_team_summary(en):
    text = en["team-summary"]
    assert_has(text, "Targets: agents per status", "achieved on track at risk missed not met no data agents",
               "Honours Award Holders 金牌客服 3 periods in a row <i>赵敏</i> (S4)")
    assert row(text, "季度提升", "1", "1", "1", "0", "1", "0", "4"), text
    assert_has(text, "each agent's goal")


# ---- percents that tell the truth ---------------------------------------------------------------------


@pytest.mark.parametrize(("progress", "expected", "shown"), [
    ("0.6", "0.659341", ("60%", "66%")),  # whole percents where they are true
    ("0.6667", "0.6593", ("67%", "66%")),
    ("0.659", "0.6593", ("65.9%", "65.93%")),  # at risk by a hair: never 66% / 66%
    ("0.999", "1", ("99.9%", "100%")),  # short of the goal never reads 100%
    ("0.004", "0.5", ("0.4%", "50%")),  # a start never reads 0%
    ("0.5", "0.5", ("50%", "50%")),
    ("1", None, ("100%", None)),
    (None, "0.6593", (None, "66%")),
])
def test_progress_and_time_elapsed_percents(progress, expected, shown):
    from decimal import Decimal

    from perfrules.report.standing import _percents

    assert _percents(*(None if share is None else Decimal(share) for share in (progress, expected))) == shown
