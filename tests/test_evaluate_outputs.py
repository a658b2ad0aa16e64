"""``perfrules evaluate`` output files: CSV and XLSX flattened one row per agent, the table for
people, JSON to a file, and atomic writing (a failed evaluation leaves an existing file alone
and creates none).

The numbers are those of tests/cases/evaluate/spec-complete-example, computed by hand in its
notes.md; the failing data is tests/cases/evaluate/bad-cells-all-reported.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from conftest import CASES

GOOD = CASES / "evaluate" / "spec-complete-example"
BAD = CASES / "evaluate" / "bad-cells-all-reported"

ORDER = ["A001", "A005", "A003", "A002", "A006", "A004"]
# agent: (score, grade, veto, bonus_total, adjustment block total), by hand (see notes.md).
HAND = {
    "A001": ("110.00", "优秀", "", "1600.00", "10.00"),
    "A005": ("99.00", "优秀", "", "750.00", "-1.00"),
    "A003": ("95.00", "不合格", "重大投诉一票否决", "0.00", "-5.00"),
    "A002": ("82.00", "良好", "", "0.00", "2.00"),
    "A006": ("48.00", "不合格", "", "0.00", "0.00"),
    "A004": ("-20.00", "不合格", "", "0.00", "-20.00"),
}


@pytest.fixture
def good(tmp_path) -> Path:
    folder = tmp_path / "good"
    shutil.copytree(GOOD, folder)
    return folder


@pytest.fixture
def bad(tmp_path) -> Path:
    folder = tmp_path / "bad"
    shutil.copytree(BAD, folder)
    return folder


def evaluate(run_cli, folder: Path, *args: str):
    data = "data.xlsx" if (folder / "data.xlsx").exists() else "data.csv"
    return run_cli("evaluate", "policy.perf", data, *args, cwd=folder)


# ---- CSV -----------------------------------------------------------------------------------------


def test_csv_file_has_one_flattened_row_per_agent(run_cli, good):
    result = evaluate(run_cli, good, "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == "wrote out.csv (1 policy)\n"
    rows = list(csv.DictReader(io.StringIO((good / "out.csv").read_text(encoding="utf-8"))))
    assert [row["agent_id"] for row in rows] == ORDER
    header = list(rows[0])
    for name in ("响应时间", "顾客满意度", "问题解决率"):
        for part in ("value", "level", "points", "status"):
            assert f"kpi:{name}:{part}" in header
    assert {"base_score", "score", "rank", "rank_of", "veto", "grade", "bonus_total"} <= set(header)
    for row in rows:
        score, grade, veto, bonus_total, block = HAND[row["agent_id"]]
        assert (row["score"], row["grade"], row["veto"], row["bonus_total"]) == (score, grade, veto, bonus_total)
        assert row["adjust:主管抽检:points"] == block
        assert row["policy"] == "售后客服月度考核"
    by_agent = {row["agent_id"]: row for row in rows}
    assert by_agent["A001"]["kpi:响应时间:points"] == "100.00"
    assert by_agent["A001"]["kpi:响应时间:level"] == "excellent"
    assert by_agent["A001"]["bonus:月度绩效奖金:amount"] == "1600.00"
    assert by_agent["A003"]["kpi:顾客满意度:status"] == "excluded"
    assert by_agent["A003"]["kpi:顾客满意度:points"] == ""
    assert by_agent["A003"]["base_score"] == "100.00"
    assert by_agent["A006"]["kpi:顾客满意度:value"] == "0.849"
    assert by_agent["A006"]["kpi:顾客满意度:level"] == "fail"
    assert by_agent["A006"]["plans"] == "沟通提升计划"
    assert by_agent["A005"]["rank"] == "2" and by_agent["A005"]["rank_of"] == "6"


def test_csv_on_stdout_is_the_file(run_cli, good):
    to_file = evaluate(run_cli, good, "-o", "out.csv")
    assert to_file.exit_code == 0
    on_stdout = evaluate(run_cli, good, "--format", "csv")
    assert on_stdout.exit_code == 0
    assert on_stdout.stdout == (good / "out.csv").read_text(encoding="utf-8")


# ---- XLSX ----------------------------------------------------------------------------------------


def test_xlsx_file_read_back_with_openpyxl(run_cli, good):
    from openpyxl import load_workbook

    result = evaluate(run_cli, good, "-o", "out.xlsx")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == "wrote out.xlsx (1 policy)\n"
    sheet = load_workbook(good / "out.xlsx", read_only=True).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    header, body = rows[0], rows[1:]
    csv_header = next(csv.reader(io.StringIO(evaluate(run_cli, good, "--format", "csv").stdout)))
    assert header == csv_header
    records = [dict(zip(header, row)) for row in body]
    assert [record["agent_id"] for record in records] == ORDER
    for record in records:
        score, grade, veto, bonus_total, block = HAND[record["agent_id"]]
        assert record["score"] == pytest.approx(float(score))
        assert record["grade"] == grade
        assert (record["veto"] or "") == veto
        assert record["bonus_total"] == pytest.approx(float(bonus_total))
        assert record["adjust:主管抽检:points"] == pytest.approx(float(block))
    first = records[0]
    assert first["name"] == "张三"
    assert first["kpi:响应时间:points"] == pytest.approx(100.0)
    assert first["kpi:响应时间:value"] == pytest.approx(0.92)
    assert first["rank"] == 1


def test_xlsx_needs_an_output_file(run_cli, good):
    result = evaluate(run_cli, good, "--format", "xlsx")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "-o" in result.stderr


# ---- table and JSON ------------------------------------------------------------------------------


def test_table_shows_names_scores_and_grades(run_cli, good):
    result = evaluate(run_cli, good, "--format", "table")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "售后客服月度考核" in text
    for name in ("张三", "李四", "王五", "赵六", "钱七", "孙八"):
        assert name in text
    for grade in ("优秀", "良好", "不合格"):
        assert grade in text
    for shown in ("110.00", "-20.00", "1600.00", "750.00", "重大投诉一票否决", "沟通提升计划"):
        assert shown in text
    lines = text.splitlines()
    position = {agent: next(i for i, line in enumerate(lines) if f" {agent} " in line) for agent in ORDER}
    assert sorted(ORDER, key=position.get) == ORDER


def test_json_file_is_what_stdout_prints(run_cli, good):
    on_stdout = evaluate(run_cli, good)
    to_file = evaluate(run_cli, good, "-o", "out.json")
    assert to_file.exit_code == 0, to_file.stderr
    assert to_file.stdout == ""
    assert to_file.stderr == "wrote out.json (1 policy)\n"
    assert json.loads((good / "out.json").read_text(encoding="utf-8")) == json.loads(on_stdout.stdout)


# ---- atomic writing ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["out.json", "out.csv", "out.xlsx"])
def test_failed_evaluation_creates_no_file(run_cli, bad, name):
    before = sorted(path.name for path in bad.iterdir())
    result = evaluate(run_cli, bad, "-o", name)
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr == (BAD / "expected_stderr.txt").read_text(encoding="utf-8")
    assert not (bad / name).exists()
    assert sorted(path.name for path in bad.iterdir()) == before  # no temporary file left behind


@pytest.mark.parametrize("name", ["out.json", "out.csv", "out.xlsx"])
def test_failed_evaluation_leaves_an_existing_file_unchanged(run_cli, bad, name):
    old = b"the results of last month\n"
    (bad / name).write_bytes(old)
    result = evaluate(run_cli, bad, "-o", name)
    assert result.exit_code == 3
    assert (bad / name).read_bytes() == old


def test_a_policy_error_leaves_an_existing_file_unchanged(run_cli, good):
    (good / "policy.perf").write_text(
        (GOOD / "policy.perf").read_text(encoding="utf-8").replace("csat >= 90% =>", "csat >= 90 =>"),
        encoding="utf-8",
    )
    (good / "out.json").write_text("old\n", encoding="utf-8")
    result = evaluate(run_cli, good, "-o", "out.json")
    assert result.exit_code == 1
    assert (good / "out.json").read_text(encoding="utf-8") == "old\n"


@pytest.mark.parametrize("name", ["out.json", "out.csv"])
def test_success_replaces_a_longer_old_file_whole(run_cli, good, name):
    (good / name).write_text("x" * 100_000, encoding="utf-8")
    result = evaluate(run_cli, good, "-o", name)
    assert result.exit_code == 0, result.stderr
    written = (good / name).read_text(encoding="utf-8")
    assert "x" * 10 not in written
    expected = evaluate(run_cli, good, "--format", name.rsplit(".", 1)[1]).stdout
    if name.endswith(".json"):
        assert json.loads(written) == json.loads(expected)
    else:
        assert written == expected


# ---- command-line mistakes ----------------------------------------------------------------------

XLSX = CASES / "evaluate" / "data-xlsx"


@pytest.mark.parametrize("arguments, message", [
    (["policy.perf", "nowhere.csv"], "nowhere.csv: no such file"),
    (["policy.perf", "no\nwhere.csv"], "no\\nwhere.csv: no such file"),  # one line, the break escaped
    (["policy.perf", "."], ".: this is a folder, not a data file"),
    (["policy.perf", "data.csv", "--encoding", "latin1"],
     "data.csv: unknown encoding 'latin1' (hint: use utf-8 or gb18030)"),
    (["policy.perf", "data.csv", "--period", "11/2026"],
     "--period '11/2026' is not a period like 2026-11, 2026-Q4 or 2026"),
    ([str(XLSX / "policy.perf"), str(XLSX / "data.xlsx"), "--sheet", "十二月"],
     f"{XLSX / 'data.xlsx'}: the workbook has no sheet '十二月' (hint: sheets: 绩效数据)"),
    ([str(XLSX / "policy.perf"), str(XLSX / "data.xlsx"), "--encoding", "utf-8"],
     f"{XLSX / 'data.xlsx'}: --encoding applies only to CSV files"),
    (["policy.perf", "data.csv", "--sheet", "绩效数据"], "data.csv: --sheet applies only to .xlsx files"),
    (["policy.perf", "/dev/null"], "/dev/null: this is not a regular file"),
    (["policy.perf", "x" * 300 + ".csv"], "x" * 300 + ".csv: cannot be read: File name too long"),
])
@pytest.mark.parametrize("command", ["evaluate", "explain", "report"])
def test_a_data_argument_naming_nothing_is_a_command_line_mistake(run_cli, good, arguments, message, command):
    """Exit 2 like a policy path that names nothing (cli.md: the command line itself is wrong)."""
    extra = {"evaluate": ["-o", "out.json"], "explain": ["--agent", "A001"], "report": ["-o", "packets"]}[command]
    result = run_cli(command, *arguments, *extra, cwd=good)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"perfrules: error: {message}\n")
    assert not (good / "out.json").exists() and not (good / "packets").exists()


def test_a_period_without_rows_is_a_data_problem(run_cli, good):
    result = evaluate(run_cli, good, "--period", "2025-01", "-o", "out.json")
    assert (result.exit_code, result.stderr) == (3, "data.csv: no rows for period 2025-01\n1 data problem: nothing was written\n")


def test_a_policy_path_too_long_is_a_command_line_mistake(run_cli, good):
    result = run_cli("check", "p" * 300 + ".perf", cwd=good)
    assert (result.exit_code, result.stderr) == (2, f"perfrules: error: {'p' * 300}.perf: cannot be read: File name too long\n")


# ---- for HR in a spreadsheet: labels, number formats, --columns ----------------------------------


def test_csv_has_level_and_status_labels_beside_the_codes(run_cli, good):
    rows = list(csv.DictReader(io.StringIO(evaluate(run_cli, good, "--format", "csv").stdout)))
    first = rows[0]
    assert (first["kpi:响应时间:level"], first["kpi:响应时间:level_label"]) == ("excellent", "优秀")
    assert (first["kpi:响应时间:status"], first["kpi:响应时间:status_label"]) == ("scored", "已计分")
    header = list(first)
    assert header.index("kpi:响应时间:level_label") == header.index("kpi:响应时间:level") + 1
    assert header.index("kpi:响应时间:status_label") == header.index("kpi:响应时间:status") + 1


def test_xlsx_formats_percents_money_and_durations_in_their_unit(run_cli, tmp_path):
    from openpyxl import load_workbook

    (tmp_path / "policy.perf").write_text(
        'policy "时长" {\n    version "1"\n    roles agent\n'
        '    metric aht: duration in min lower is better\n    metric fcr: percent higher is better\n'
        '    kpi "处理时长" weight 50% { aht <= 8min => 100  else => 0 }\n'
        '    kpi "一次解决率" weight 50% { fcr >= 80% => 100  else => 0 }\n'
        '    bonus "奖金" { score >= 50 => 1234.5  else => 0 }\n}\n', encoding="utf-8")
    (tmp_path / "data.csv").write_text("agent_id,period,role,aht,fcr\nA1,2026-11,agent,8.5,92.5%\n", encoding="utf-8")
    result = run_cli("evaluate", "policy.perf", "data.csv", "-o", "out.xlsx", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    sheet = load_workbook(tmp_path / "out.xlsx").worksheets[0]
    cells = dict(zip([cell.value for cell in sheet[1]], sheet[2]))
    shown = {header: (cells[header].value, cells[header].number_format) for header in (
        "kpi:处理时长:value", "kpi:一次解决率:value", "kpi:处理时长:points", "score", "bonus:奖金:amount", "bonus_total")}
    assert shown == {
        "kpi:处理时长:value": (8.5, '0.00" min"'),  # 510 s in the metric's unit
        "kpi:一次解决率:value": (0.925, "0.00%"),
        "kpi:处理时长:points": (0, "0.00"),
        "score": (50, "0.00"),
        "bonus:奖金:amount": (1234.5, "#,##0.00"),
        "bonus_total": (1234.5, "#,##0.00"),
    }


def test_columns_summary_keeps_the_spec_columns_in_order(run_cli, good):
    result = evaluate(run_cli, good, "--format", "csv", "--columns", "summary")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["agent_id", "period", "policy", "score", "grade", "rank", "rank_of", "veto", "bonus_total"]
    assert [row[0] for row in rows[1:]] == ORDER
    for row in rows[1:]:
        score, grade, veto, bonus_total, _ = HAND[row[0]]
        assert (row[3], row[4], row[7], row[8]) == (score, grade, veto, bonus_total)


def test_columns_summary_with_json_is_a_command_line_mistake(run_cli, good):
    result = evaluate(run_cli, good, "--columns", "summary")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == ("perfrules: error: --columns summary applies to CSV and XLSX, not to json "
                             "(hint: add --format csv)\n")


def test_csv_and_xlsx_flatten_targets_and_awards(run_cli, tmp_path):
    """Targets: status, its label and each goal's progress and status; awards: 1 held, 0 not
    (docs/evaluation.md §7). Numbers are those of the golden cases' hand-worked notes."""
    for case in ("targets-statuses-and-baselines", "awards-streaks-ties-within-team"):
        shutil.copytree(CASES / "evaluate" / case, tmp_path / case)
    targets = evaluate(run_cli, tmp_path / "targets-statuses-and-baselines", "--format", "csv")
    rows = {row["agent_id"]: row for row in csv.DictReader(io.StringIO(targets.stdout))}
    assert rows["S3"]["target:满意度提升:status"] == "at_risk"
    assert rows["S3"]["target:满意度提升:status_label"] == "有风险"
    assert rows["S3"]["target:满意度提升:csat:progress"] == "0.4000"
    assert rows["S1"]["target:逾期目标:status"] == "missed"
    assert rows["S1"]["target:逾期目标:csat:progress"] == "0.6667"
    assert rows["S1"]["target:逾期目标:csat#2:status"] == "achieved"
    assert rows["A1"]["target:满意度提升:status"] == ""  # for senior_agent only
    assert rows["A1"]["target:满意度提升:csat:progress"] == ""
    awards = evaluate(run_cli, tmp_path / "awards-streaks-ties-within-team", "--format", "csv")
    held = {row["agent_id"]: (row["award:金牌客服"], row["award:服务之星"], row["award:四连冠"])
            for row in csv.DictReader(io.StringIO(awards.stdout))}
    assert held == {"B1": ("1", "1", "0"), "B2": ("0", "1", "0"), "B3": ("0", "0", "0"), "B4": ("1", "0", "0"),
                    "B5": ("0", "0", "0"), "B6": ("0", "1", "0")}
    folder = tmp_path / "targets-statuses-and-baselines"
    assert evaluate(run_cli, folder, "-o", "out.xlsx").exit_code == 0
    from openpyxl import load_workbook

    sheet = load_workbook(folder / "out.xlsx").active
    header = [cell.value for cell in sheet[1]]
    column = header.index("target:满意度提升:csat:progress")
    values = {row[0].value: row[column] for row in sheet.iter_rows(min_row=2)}
    assert values["S3"].value == 0.4 and values["S3"].number_format == "0.00%"


def test_the_achievability_warning_needs_someone_the_target_applies_to(tmp_path, run_cli):
    """The bundled policy's target is for senior agents: data with agents only says nothing about
    it; a senior agent who falls short of 97% gets the warning with the best value seen."""
    from conftest import POLICIES

    header = ("agent_id,role,team,period,reply_within_10min,csat,csat_responses,resolution_rate,aht,"
              "qa_commendations,attitude_violations,serious_complaints,base_salary\n")
    (tmp_path / "agents.csv").write_text(header + "A1,agent,T,2026-11,95%,92%,20,96%,6min,0,0,0,6000\n",
                                         encoding="utf-8")
    result = run_cli("evaluate", str(POLICIES / "after_sales_agent.perf"), "agents.csv", cwd=tmp_path)
    assert result.exit_code == 0 and result.stderr == ""
    (tmp_path / "seniors.csv").write_text(header + "S1,senior_agent,T,2026-11,95%,95%,20,96%,6min,0,0,0,6000\n",
                                          encoding="utf-8")
    result = run_cli("evaluate", str(POLICIES / "after_sales_agent.perf"), "seniors.csv", cwd=tmp_path)
    assert result.exit_code == 0
    assert result.stderr == ('target "资深客服季度提升" of policy "售后客服月度考核": no agent of its roles reached '
                             "resolution_rate >= 97% in any period of the data; the best value seen is 96% "
                             "(is the goal achievable?)\n")


@pytest.mark.parametrize("folder_of_two", [False, True], ids=["one policy", "two policies"])
def test_csv_and_xlsx_rows_are_in_the_json_order_when_an_id_is_made_formula_safe(run_cli, good, folder_of_two):
    # Three agents with the same values tie on rank 1; the JSON orders them by id as read
    # ("5" < "=X" < "A1"); the CSV cell of "=X" is "'=X", which would sort first if the CSV
    # were ordered by the cell written.
    rows = list(csv.reader(io.StringIO((good / "data.csv").read_text(encoding="utf-8"))))
    header, first = rows[0], rows[1]
    tied = [[agent, *first[1:]] for agent in ("A1", "=X", "5")]
    with (good / "data.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *tied])
    policy = "policy.perf"
    if folder_of_two:  # a second policy ahead of it, for another role: the union's order
        (good / "policies").mkdir()
        shutil.move(good / "policy.perf", good / "policies" / "b.perf")
        other = (good / "policies" / "b.perf").read_text(encoding="utf-8")
        (good / "policies" / "a.perf").write_text(other.replace("roles agent, senior_agent", "roles lead")
                                                  .replace("售后客服月度考核", "组长考核"), encoding="utf-8")
        policy = "policies"
    document = json.loads(run_cli("evaluate", policy, "data.csv", cwd=good).stdout)
    assert [result["agent_id"] for result in document["results"]] == ["5", "=X", "A1"]
    written = run_cli("evaluate", policy, "data.csv", "--format", "csv", "--columns", "summary", cwd=good)
    assert written.exit_code == 0, written.stderr
    assert [line.split(",")[0] for line in written.stdout.splitlines()] == ["agent_id", "5", "'=X", "A1"]
    from openpyxl import load_workbook

    assert run_cli("evaluate", policy, "data.csv", "-o", "out.xlsx", cwd=good).exit_code == 0
    sheet = load_workbook(good / "out.xlsx", read_only=True).worksheets[0]
    assert [row[0] for row in sheet.iter_rows(values_only=True)] == ["agent_id", "5", "'=X", "A1"]


def test_a_text_longer_than_an_xlsx_cell_is_cut_there_with_a_warning(run_cli, good):
    from openpyxl import load_workbook

    text = (good / "data.csv").read_text(encoding="utf-8")
    (good / "data.csv").write_text(text.replace("张三", "张" * 40_000).replace(",T1,", "," + "T" * 40_001 + ",", 1),
                                   encoding="utf-8")
    result = evaluate(run_cli, good, "-o", "out.xlsx")
    assert result.exit_code == 0, result.stderr
    cut = "characters, more than the 32,767 an XLSX cell holds: cut there, ending in '…' (the CSV and JSON keep the whole text)"
    assert result.stderr == (f"out.xlsx: row 2, column name: 40,000 {cut}\n"
                             f"out.xlsx: row 2, column team: 40,001 {cut}\n"
                             "wrote out.xlsx (1 policy)\n")
    row = next(load_workbook(good / "out.xlsx", read_only=True).worksheets[0].iter_rows(min_row=2, values_only=True))
    assert (len(row[1]), row[1][-2:]) == (32_767, "张…")
    assert len(evaluate(run_cli, good, "--format", "csv").stdout.splitlines()[1]) > 80_000  # the CSV keeps them whole
