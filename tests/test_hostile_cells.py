"""Hostile text in data and policies: formula injection in CSV and XLSX results, Rich markup
and terminal escape sequences in the table and in ``explain``, control characters in XLSX.

The data is the spec's complete example with names, teams and ids replaced by hostile text;
the numbers stay those of tests/cases/evaluate/spec-complete-example.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from conftest import CASES

GOOD = CASES / "evaluate" / "spec-complete-example"
ESC = "\x1b"
HOSTILE = {  # agent id -> (new id, name, team)
    "A001": ("=1+1", "=HYPERLINK(\"http://evil.example\",\"x\")", "+T1"),
    "A002": ("@SUM(A1)", "-2+3", "\tT1"),
    "A003": ("A003", "[/bold][red]红", "\r[link=a]"),
    "A004": ("A004", f"王五{ESC}[31m{ESC}]8;;http://evil.example{ESC}\\{ESC}[2J\x07\x9b", f"T{ESC}[1m2"),
}


@pytest.fixture
def hostile(tmp_path) -> Path:
    folder = tmp_path / "hostile"
    shutil.copytree(GOOD, folder)
    rows = list(csv.reader(io.StringIO((GOOD / "data.csv").read_text(encoding="utf-8"))))
    for row in rows[1:]:
        if row[0] in HOSTILE:
            row[0], row[1], row[3] = HOSTILE[row[0]]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    (folder / "data.csv").write_text(buffer.getvalue(), encoding="utf-8")
    return folder


def neutral(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def run(run_cli, folder: Path, *args: str):
    return run_cli("evaluate", "policy.perf", "data.csv", *args, cwd=folder)


def test_csv_text_cells_cannot_be_formulas(run_cli, hostile):
    result = run(run_cli, hostile, "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    rows = {row["name"]: row for row in csv.DictReader(io.StringIO((hostile / "out.csv").read_bytes().decode(),
                                                                   newline=""))}
    for agent, name, team in HOSTILE.values():
        row = rows[neutral(name)]
        assert (row["agent_id"], row["team"]) == (neutral(agent), neutral(team))
    for row in rows.values():
        for header, cell in row.items():
            assert cell[:1] not in ("=", "+", "@", "\t", "\r"), (header, cell)
            if cell.startswith("-"):  # only real numbers may start with a minus
                float(cell)
    assert rows["'-2+3"]["score"] == "82.00"
    assert any(row["adjust:主管抽检:points"] == "-20.00" for row in rows.values())  # negative numbers stay numbers


def test_policy_names_and_levels_are_neutralised_too(run_cli, hostile):
    policy = hostile / "policy.perf"
    text = policy.read_text(encoding="utf-8")
    policy.write_text(text.replace('policy "售后客服月度考核"', 'policy "=cmd|\' /C calc\'!A0"', 1)
                      .replace('"重大投诉一票否决"', '"@veto"'), encoding="utf-8")
    result = run(run_cli, hostile, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {row["policy"] for row in rows} == {"'=cmd|' /C calc'!A0"}
    assert "'@veto" in {row["veto"] for row in rows}


def test_xlsx_cells_are_strings_or_numbers_never_formulas(run_cli, hostile):
    from openpyxl import load_workbook

    result = run(run_cli, hostile, "-o", "out.xlsx")
    assert result.exit_code == 0, result.stderr
    sheet = load_workbook(hostile / "out.xlsx").worksheets[0]
    header = [cell.value for cell in sheet[1]]
    kinds = {cell.data_type for row in sheet.iter_rows() for cell in row}
    assert "f" not in kinds
    records = [dict(zip(header, (cell.value for cell in row))) for row in sheet.iter_rows(min_row=2)]
    names = {record["name"] for record in records}
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in names and "'-2+3" in names
    wang = next(record for record in records if record["name"].startswith("王五"))
    assert wang["name"] == "王五\\x1b[31m\\x1b]8;;http://evil.example\\x1b\\\\x1b[2J\\x07\x9b"  # escaped, not dropped
    assert wang["score"] == pytest.approx(-20.0) and isinstance(wang["score"], (int, float))


def test_table_prints_markup_and_escape_sequences_literally(run_cli, hostile):
    result = run(run_cli, hostile, "--format", "table")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert ESC not in text and "\x07" not in text and "\x9b" not in text
    assert "[/bold][red]红" in text and "[link=a]" in text
    assert "\\x1b[31m" in text


def test_explain_prints_escape_sequences_visibly(run_cli, hostile):
    for agent, expected in (("A004", "\\x1b[31m"), ("A003", "[/bold]")):
        result = run_cli("explain", "policy.perf", "data.csv", "--agent", agent, cwd=hostile)
        assert result.exit_code == 0, result.stderr
        assert ESC not in result.stdout and "\x07" not in result.stdout and "\x9b" not in result.stdout
        assert expected in result.stdout
        assert "\n" in result.stdout


# ---- SQL: policy and data text only ever reaches DuckDB as quoted literals --------------------------

SQL = "x'); COPY (SELECT 42) TO '{marker}' (HEADER); --\\\" \""


def test_policy_and_data_text_cannot_run_sql(run_cli, hostile, tmp_path):
    marker = tmp_path / "pwned.csv"
    text = SQL.format(marker=marker)
    policy = hostile / "policy.perf"
    source = policy.read_text(encoding="utf-8")
    for name in ('"售后客服月度考核"', '"响应时间"', '"主管抽检"', '"重大投诉一票否决"', '"月度绩效奖金"'):
        source = source.replace(name, '"' + text.replace("\\", "\\\\").replace('"', '\\"') + name.strip('"') + '"')
    source = source.replace('"顾客满意度" higher', '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '" higher')
    policy.write_text(source, encoding="utf-8")
    rows = (hostile / "data.csv").read_text(encoding="utf-8").replace("T1", '"' + text.replace('"', '""') + '"')
    (hostile / "data.csv").write_text(rows, encoding="utf-8")
    check = run_cli("check", "policy.perf", cwd=hostile)
    assert check.exit_code == 0, check.stderr
    for fmt in ("json", "csv", "table"):
        result = run(run_cli, hostile, "--format", fmt)
        assert result.exit_code == 0, result.stderr
    import json

    document = json.loads(run(run_cli, hostile).stdout)
    assert document["policies"][0]["name"] == text + "售后客服月度考核"
    assert text in {result["team"] for result in document["results"]}
    assert not marker.exists()


def test_check_shows_control_characters_of_a_policy_escaped_with_the_caret_in_place(run_cli, tmp_path):
    policy = tmp_path / "policy.perf"
    policy.write_text('policy "a\x1b[31m" {\n    version "1"\n    roles agent\n    metric m: number "\x1b[2J"\n'
                      '    kpi "k\x1b]8;;http://evil.example\x07" weight 100% { points m + "x\x9b" }\n}\n',
                      encoding="utf-8")
    result = run_cli("check", str(policy))
    assert result.exit_code == 1
    assert ESC not in result.stderr and "\x07" not in result.stderr and "\x9b" not in result.stderr
    lines = result.stderr.splitlines()
    source, caret = lines[1], lines[2]
    assert source == '    kpi "k\\x1b]8;;http://evil.example\\x07" weight 100% { points m + "x\\x9b" }'
    assert source[caret.index("^")] == "+"
