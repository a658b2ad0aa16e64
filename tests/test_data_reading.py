"""Reading CSV files whose encoding only shows late, and CSV structure errors."""

from __future__ import annotations

import json

from conftest import POLICIES

HEADER = ("agent_id,name,period,role,reply_within_10min,csat,csat_responses,resolution_rate,aht,"
          "qa_commendations,attitude_violations,serious_complaints,base_salary\n")
ROW = "{id},{name},2026-11,agent,90%,90%,20,96%,8,0,0,0,8000\n"


def test_gb18030_whose_chinese_comes_after_the_first_megabytes(run_cli, tmp_path):
    # Encoding detection reads the file's start; DuckDB notices the rest and the file is re-read.
    rows = "".join(ROW.format(id=f"A{index}", name="x") for index in range(90_000))
    text = HEADER + rows + ROW.format(id="Z1", name="张三")
    (tmp_path / "data.csv").write_bytes(text.encode("gb18030"))
    assert (tmp_path / "data.csv").stat().st_size > 4 * 1024 * 1024
    result = run_cli("evaluate", str(POLICIES / "after_sales_agent.perf"), "data.csv", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    names = {item["agent_id"]: item["name"] for item in json.loads(result.stdout)["results"]}
    assert names["Z1"] == "张三" and len(names) == 90_001


def test_a_row_with_too_many_cells_names_its_line(run_cli, tmp_path):
    text = HEADER + ROW.format(id="A1", name="x") + ROW.format(id="A2", name="x").replace("\n", ",extra\n")
    (tmp_path / "data.csv").write_text(text, encoding="utf-8")
    result = run_cli("evaluate", str(POLICIES / "after_sales_agent.perf"), "data.csv", cwd=tmp_path)
    assert result.exit_code == 3
    assert result.stderr == (
        "data.csv: the CSV file cannot be read: CSV Error on Line: 3: Expected Number of Columns: 13 Found: 14\n"
        "1 data problem: nothing was written\n"
    )
