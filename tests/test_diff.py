"""``perfrules diff`` beyond its golden cases (tests/test_diff_cases.py): layout and comments
are never changes, for every clean policy of the repository; the CSV and XLSX outputs, exact
and hostile-safe; the exit codes of evaluate; ``perfrules schema diff``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import CASES
from openpyxl import load_workbook
from test_layout_independence import CLEAN, blocks_on_one_line, whole_file_on_one_line

from perfrules.policy_diff import policy_changes
from perfrules.workspace import load_policies

CASE = CASES / "diff" / "weight-and-threshold"


def commented(text: str) -> str:
    """Each block on one line, a comment after every line and a blank line between statements."""
    return "# a comment above\n" + "".join(f"{line}   # note {number}\n\n"
                                          for number, line in enumerate(blocks_on_one_line(text).splitlines()))


def models(path: Path) -> list:
    loaded = load_policies([str(path)])
    assert loaded.error_count == 0, loaded.diagnostics
    return [file.model for file in loaded.files if file.model is not None]


@pytest.mark.parametrize("layout", [blocks_on_one_line, whole_file_on_one_line, commented])
def test_layout_and_comments_are_no_change_for_every_clean_policy(tmp_path, layout):
    assert len(CLEAN) >= 90
    for number, (name, path, _) in enumerate(CLEAN):
        folder = tmp_path / str(number)
        folder.mkdir()
        for sibling in path.parent.glob("*.perf"):  # the parents it extends
            shutil.copy(sibling, folder / sibling.name)
        (folder / path.name).write_text(layout(path.read_text(encoding="utf-8")), encoding="utf-8")
        assert policy_changes(models(path), models(folder / path.name)) == [], name


def test_a_real_change_is_found_after_a_new_layout(tmp_path):
    text = (CASE / "new.perf").read_text(encoding="utf-8")
    (tmp_path / "new.perf").write_text(whole_file_on_one_line(text), encoding="utf-8")
    changes = policy_changes(models(CASE / "old.perf"), models(tmp_path / "new.perf"))
    assert [(change.change, change.old_line, change.new_line) for change in changes] == [
        ('version "2026.11" → "2026.12"', 3, 1),
        ('kpi "顾客满意度": weight 60% → 50%', 17, 1),
        ('kpi "顾客满意度": rule `csat >= 90% => excellent` → `csat >= 92% => excellent`', 18, 1),
        ('kpi "问题解决率": weight 40% → 50%', 22, 1),
    ]


def run_diff(run_cli, *extra: str, cwd: Path = CASE):
    return run_cli("diff", "old.perf", "new.perf", "data.csv", *extra, cwd=cwd)


def test_csv_holds_the_movers_flattened(run_cli):
    result = run_diff(run_cli, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "agent_id,name,team,period,old_score,old_grade,old_rank,old_bonus_total,"
        "new_score,new_grade,new_rank,new_bonus_total,bonus_delta\n"
        "B4,周九,售后二组,2026-11,92.00,优秀,2,1000.00,80.00,良好,5,300.00,-700.00\n"
        "A3,王五,售后一组,2026-11,88.00,良好,5,266.67,90.00,优秀,1,888.89,622.22\n"
        "A1,张三,售后一组,2026-11,92.00,优秀,2,1000.00,90.00,优秀,1,1000.00,0.00\n"
        "A2,李四,售后一组,2026-11,100.00,优秀,1,900.00,90.00,优秀,1,900.00,0.00\n"
        "B1,赵六,售后二组,2026-11,60.00,待改进,6,0.00,40.00,待改进,6,0.00,0.00\n"
        "B2,钱七,售后二组,2026-11,32.00,待改进,7,0.00,40.00,待改进,6,0.00,0.00\n"
        "B3,孙八,售后二组,2026-11,92.00,优秀,2,950.00,90.00,优秀,1,950.00,0.00\n"
    )


def test_xlsx_has_the_agents_and_a_summary_sheet(run_cli, tmp_path):
    target = tmp_path / "diff.xlsx"
    result = run_diff(run_cli, "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"wrote {target} (7 agents change)\n"
    workbook = load_workbook(target)
    assert workbook.sheetnames == ["agents", "summary"]
    agents = [[cell.value for cell in row] for row in workbook["agents"].iter_rows()]
    assert agents[1] == ["B4", "周九", "售后二组", "2026-11", 92, "优秀", 2, 1000, 80, "良好", 5, 300, -700]
    assert workbook["agents"]["H2"].number_format == "#,##0.00"
    summary = {row[0]: row[1:] for row in ([cell.value for cell in row] for row in workbook["summary"].iter_rows())
               if row and row[0] is not None}
    assert summary["bonus_total_old"][0] == 4116.67 and summary["bonus_delta"][0] == -77.78
    assert summary["售后二组"][:7] == [4, 1, 3, 1, 1950, 1250, -700]
    assert summary["old grade \\ new grade"][:3] == ["优秀", "良好", "待改进"]
    assert summary["优秀"][:3] == [3, 1, 0]


def test_hostile_names_stay_text(run_cli, tmp_path):
    for name in ("old.perf", "new.perf"):
        shutil.copy(CASE / name, tmp_path / name)
    data = (CASE / "data.csv").read_text(encoding="utf-8")
    data = data.replace("周九", '"=HYPERLINK(""http://x"",""y"")"').replace("王五", "[bold]\x1b[31mred")
    (tmp_path / "data.csv").write_text(data, encoding="utf-8")
    csv_text = run_diff(run_cli, "--format", "csv", cwd=tmp_path).stdout
    assert "\nB4,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"," in csv_text
    table = run_diff(run_cli, "--format", "table", cwd=tmp_path)
    assert table.exit_code == 0 and "\x1b" not in table.stdout and "[bold]\\x1b[31mred" in table.stdout
    target = tmp_path / "diff.xlsx"
    assert run_diff(run_cli, "-o", str(target), cwd=tmp_path).exit_code == 0
    cell = load_workbook(target)["agents"]["B2"]
    assert cell.value == "'=HYPERLINK(\"http://x\",\"y\")" and cell.data_type == "s"  # as evaluate's XLSX


def test_a_policy_name_that_looks_like_a_formula_gets_a_quote_in_the_summary_sheet(run_cli, tmp_path):
    """The summary sheet's policy column held '=cmd|...' as it was written (evaluate's XLSX quotes it)."""
    for name in ("old.perf", "new.perf"):
        text = (CASE / name).read_text(encoding="utf-8").replace('policy "售后客服月度考核"', 'policy "=cmd|x"')
        (tmp_path / name).write_text(text, encoding="utf-8")
    shutil.copy(CASE / "data.csv", tmp_path / "data.csv")
    target = tmp_path / "diff.xlsx"
    assert run_diff(run_cli, "-o", str(target), cwd=tmp_path).exit_code == 0
    policies = [row[0] for row in load_workbook(target)["summary"].iter_rows(values_only=True)
                if row and row[0] and "cmd" in str(row[0])]
    assert policies and set(policies) == {"'=cmd|x"}


def test_a_policy_error_in_either_version_is_exit_1_and_both_are_shown(run_cli, tmp_path):
    shutil.copy(CASE / "data.csv", tmp_path / "data.csv")
    text = (CASE / "old.perf").read_text(encoding="utf-8")
    (tmp_path / "old.perf").write_text(text.replace("weight 40%", "weight 30%"), encoding="utf-8")
    (tmp_path / "new.perf").write_text(text.replace('roles agent', 'roles agent\n    metric csat: count'),
                                       encoding="utf-8")
    result = run_diff(run_cli, cwd=tmp_path)
    assert result.exit_code == 1 and result.stdout == ""
    assert "old.perf:22:24: error PR401" in result.stderr and "new.perf:" in result.stderr
    assert result.stderr.rstrip().endswith("checked 1 policy file: 1 error, 0 warnings: nothing was evaluated")


def test_data_problems_are_exit_3_and_say_which_version_has_them(run_cli, tmp_path):
    shutil.copy(CASE / "old.perf", tmp_path / "old.perf")
    shutil.copy(CASE / "data.csv", tmp_path / "data.csv")
    text = (CASE / "new.perf").read_text(encoding="utf-8")
    (tmp_path / "new.perf").write_text(text.replace("        else => fail\n    }\n    kpi", "    }\n    kpi", 1),
                                       encoding="utf-8")  # no `else`: B2's 75% matches no rule of the new version
    result = run_diff(run_cli, cwd=tmp_path)
    assert result.exit_code == 3 and result.stdout == ""
    assert result.stderr.endswith(
        '\ndata.csv:6: agent B2: KPI "顾客满意度" of policy "售后客服月度考核": the value 75% matches no rule '
        "(with the new policies, new.perf)\n"
        "1 data problem: nothing was written\n"), result.stderr

    # a bad cell is a problem of both versions: said once, for both
    data = (CASE / "data.csv").read_text(encoding="utf-8").replace(",91%,95%,", ",9l%,95%,")
    (tmp_path / "data.csv").write_text(data, encoding="utf-8")
    result = run_diff(run_cli, cwd=tmp_path)
    assert result.exit_code == 3 and result.stdout == ""
    assert result.stderr.endswith("\ndata.csv:3: column csat: '9l%' is not a percent\n"
                                  "1 data problem: nothing was written\n"), result.stderr


@pytest.mark.parametrize("arguments, message", [
    (["--team", "x"], "--team x: no agent of that team in data.csv for 2026-11 (hint: the teams are: 售后一组, 售后二组)"),
    (["--period", "2026-13"], "--period '2026-13' is not a period like 2026-11, 2026-Q4 or 2026"),
    (["--format", "xlsx"], "--format xlsx needs -o FILE.xlsx"),
    (["-o", "diff.txt"], "-o diff.txt: unknown output type '.txt'; use .json, .csv or .xlsx, or give --format"),
])
def test_command_line_mistakes_are_exit_2(run_cli, arguments, message):
    result = run_diff(run_cli, *arguments)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"perfrules: error: {message}"


def test_json_to_a_file_is_the_stdout_document(run_cli, tmp_path):
    target = tmp_path / "diff.json"
    assert run_diff(run_cli, "-o", str(target)).exit_code == 0
    assert json.loads(target.read_text(encoding="utf-8")) == json.loads(run_diff(run_cli, "--format", "json").stdout)


def test_schema_diff_describes_the_document(run_cli):
    shown = run_cli("schema", "diff")
    assert shown.exit_code == 0
    schema = json.loads(shown.stdout)
    assert schema["title"] == "perfrules diff document"
    assert schema["required"] == ["perfrules", "periods", "data_sha256", "old", "new", "policy_changes", "summary",
                                  "agents"]
    assert set(schema["$defs"]["DiffSummary"]["properties"]) == {
        "agents", "grade_changed", "rank_changed", "bonus_changed", "grades", "bonus_total_old", "bonus_total_new",
        "bonus_delta", "teams"}
    assert schema["$defs"]["Outcome"]["properties"]["bonus_total"] == {"title": "Bonus Total", "type": "number"}


def test_the_document_validates_against_its_schema(run_cli):
    import jsonschema

    schema = json.loads(run_cli("schema", "diff").stdout)
    for case in sorted((CASES / "diff").iterdir()):
        arguments = ["old.perf" if (case / "old.perf").exists() else "old",
                     "new.perf" if (case / "new.perf").exists() else "new"]
        result = run_cli("diff", *arguments, "data.csv", "--format", "json", cwd=case)
        assert result.exit_code == 0, result.stderr
        jsonschema.validate(json.loads(result.stdout), schema)


def test_the_words_of_statements_given_once_and_of_kpi_parts(tmp_path):
    old = """policy "p" {
    version "1"
    roles agent
    period month
    metric csat: percent
    metric aht: duration in min
    levels { good = 100  fair = 60  bad = 0 }
    kpi "k" weight 100% when missing fair {
        measure csat
        csat >= 90% => good
        else => bad
    }
    score limit 0 to 100
    swot {
        strength "好" when kpi "k" is good
    }
}
"""
    new = (old.replace("period month", "period quarter\n    language en").replace("in min", "in s")
           .replace("when missing fair", "when missing 50").replace("measure csat", "measure csat * 1")
           .replace("0 to 100", "0 to 110").replace('"好"', '"很好"'))
    (tmp_path / "old.perf").write_text(old, encoding="utf-8")
    (tmp_path / "new.perf").write_text(new, encoding="utf-8")
    changes = policy_changes(models(tmp_path / "old.perf"), models(tmp_path / "new.perf"))
    assert [(change.change, change.old_line, change.new_line) for change in changes] == [
        ("period month → quarter", 4, 4),
        ("language added: `language en`", None, 5),
        ("metric aht: unit `in min` → `in s`", 6, 7),
        ('kpi "k": `when missing fair` → `when missing 50`', 8, 9),
        ('kpi "k": `measure csat` → `measure csat * 1`', 9, 10),
        ("score limit: `score limit 0 to 100` → `score limit 0 to 110`", 13, 14),
        ('swot: item `strength "好" when kpi "k" is good` → `strength "很好" when kpi "k" is good`', 15, 16),
    ]


def test_the_table_lists_the_largest_changes_and_says_how_many_more(monkeypatch, run_cli):
    from perfrules import diff_outputs

    monkeypatch.setattr(diff_outputs, "TABLE_AGENTS", 2)
    table = run_diff(run_cli).stdout
    assert "│ B4 " in table and "│ A3 " in table and "│ A1 " not in table
    assert table.endswith("… and 5 more agents who change, in the order above: --format csv, json or xlsx lists them "
                          "all\n")
    assert "Agents who change (7)" in table


def test_the_words_of_targets_and_awards(tmp_path):
    from conftest import POLICIES

    old = (POLICIES / "after_sales_agent.perf").read_text(encoding="utf-8")
    new = (old.replace("csat >= 94% by 2026-12-31", "csat >= 95% by 2026-12-31")
           .replace('target "资深客服季度提升" for senior_agent', 'target "资深客服季度提升" for senior_agent, agent')
           .replace("top 10% for 3 periods", "top 10%")
           .replace("top 1 by csat within team", "top 2 by csat within team"))
    (tmp_path / "new.perf").write_text(new, encoding="utf-8")
    changes = policy_changes(models(POLICIES / "after_sales_agent.perf"), models(tmp_path / "new.perf"))
    assert [(change.change, change.old_line, change.new_line) for change in changes] == [
        ('target "资深客服季度提升": role agent added', 70, 70),
        (('target "资深客服季度提升": goal `csat >= 94% by 2026-12-31 from 2026-10-01` → '
          '`csat >= 95% by 2026-12-31 from 2026-10-01`'), 71, 71),
        ('award "金牌客服": periods 3 → (none)', 77, 77),
        ('award "服务之星": condition `top 1 by csat within team` → `top 2 by csat within team`', 78, 78),
    ]


def test_data_may_be_metric_definitions(run_cli, tmp_path):
    """DATA may be a .perfm, as for evaluate (docs/metrics.md): the diff of its snapshot, computed
    from the raw rows (A1: csat (94% + 86%) / 2 = 90%, excellent from 90% in the old policy, pass
    from 92% in the new one; resolution (80% + 90%) / 2 = 85%, pass in both: score 60% × 100 +
    40% × 80 = 92 → 50% × 80 + 50% × 80 = 80; grade 优秀 → 良好; bonus 10% → 3% of 10,000).
    It used to be refused (exit 3: the format of 'calls.perfm' cannot be told)."""
    for name in ("old.perf", "new.perf"):
        shutil.copy(CASE / name, tmp_path / name)
    (tmp_path / "calls.csv").write_text("who,day,csat,resolution,salary\nA1,2026-11-02,94%,80%,10000\n"
                                        "A1,2026-11-03,86%,90%,10000\n", encoding="utf-8")
    (tmp_path / "calls.perfm").write_text("""metrics "calls" {
    period month
    role "agent"
    source calls "calls.csv" {
        column day: timestamp "YYYY-MM-DD"
        column csat: percent
        column resolution: percent
        column salary: money
        agent who
        period by day
    }
    metric csat: percent = average csat
    metric resolution: percent = average resolution
    metric base_salary: money = max salary
}
""", encoding="utf-8")
    result = run_cli("diff", "old.perf", "new.perf", "calls.perfm", "--format", "csv", cwd=tmp_path)
    assert (result.exit_code, result.stdout) == (0, (
        "agent_id,name,team,period,old_score,old_grade,old_rank,old_bonus_total,"
        "new_score,new_grade,new_rank,new_bonus_total,bonus_delta\n"
        "A1,,,2026-11,92.00,优秀,1,1000.00,80.00,良好,1,300.00,-700.00\n")), result.stderr


def test_a_name_longer_than_an_xlsx_cell_is_cut_with_a_warning(run_cli, tmp_path):
    for name in ("old.perf", "new.perf"):
        shutil.copy(CASE / name, tmp_path / name)
    (tmp_path / "data.csv").write_text((CASE / "data.csv").read_text(encoding="utf-8").replace("周九", "周" * 40_000),
                                       encoding="utf-8")
    target = tmp_path / "diff.xlsx"
    result = run_diff(run_cli, "-o", str(target), cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    rows = list(load_workbook(target)["agents"].iter_rows(values_only=True))
    (number, name), = [(number, row[1]) for number, row in enumerate(rows, start=1) if row[1] and "周周" in row[1]]
    assert (len(name), name[-2:]) == (32_767, "周…")
    assert (f"{target}: sheet agents, row {number}, column name: 40,000 characters, more than the 32,767 an XLSX "
            "cell holds: cut there, ending in '…' (the CSV and JSON keep the whole text)\n") in result.stderr
