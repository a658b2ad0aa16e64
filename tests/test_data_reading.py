"""Reading CSV files whose encoding only shows late, and CSV structure errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from conftest import POLICIES

from perfrules.data.file_scan import count_lines, digits_joined, stream_digits_joined

HEADER = ("agent_id,name,period,role,reply_within_10min,csat,csat_responses,resolution_rate,aht,"
          "qa_commendations,attitude_violations,serious_complaints,base_salary\n")
ROW = "{id},{name},2026-11,agent,90%,90%,20,96%,8,0,0,0,8000\n"


def evaluate_text(run_cli, tmp_path, text: str, *options: str, name: str = "data.csv"):
    """``perfrules evaluate policies/after_sales_agent.perf NAME OPTIONS`` on a file holding ``text``."""
    (tmp_path / name).write_text(text, encoding="utf-8")
    return run_cli("evaluate", str(POLICIES / "after_sales_agent.perf"), name, *options, cwd=tmp_path)


def assert_problems(result, *lines: str) -> None:
    """Exit 3 with exactly these problem lines, then their count."""
    count = len(lines)
    assert result.exit_code == 3, result.stderr
    assert result.stderr == "".join(f"{line}\n" for line in lines) + (
        f"{count} data problem{'s' if count != 1 else ''}: nothing was written\n")


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


def test_every_row_with_too_many_or_too_few_cells_is_reported(run_cli, tmp_path):
    # An unquoted thousands separator (8,000) makes a cell too many; each bad row is a problem.
    text = (HEADER + ROW.format(id="A1", name="x") + ROW.format(id="A2", name="x").replace("8000", "8,000")
            + ROW.format(id="A3", name="x") + ROW.format(id="A4", name="x").replace(",8000", ""))
    result = evaluate_text(run_cli, tmp_path, text)
    assert_problems(
        result,
        'data.csv:3: the row has 14 cells, the header row 13 (hint: a cell that holds a comma must be quoted: "8,000")',
        "data.csv:5: the row has 12 cells, the header row 13 (hint: every row needs as many cells as the header row, "
        "empty or not)",
    )


def test_an_unclosed_quote_keeps_duckdbs_message(run_cli, tmp_path):
    text = HEADER + ROW.format(id="A1", name='"x')
    result = evaluate_text(run_cli, tmp_path, text)
    assert result.exit_code == 3
    assert result.stderr.startswith("data.csv: the CSV file cannot be read: ")
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 2


def test_an_unclosed_quote_says_what_duckdb_found_not_the_data(run_cli, tmp_path):
    text = HEADER + ROW.format(id="A1", name="x") + ROW.format(id="A2", name='"x' + "张" * 5000)
    result = evaluate_text(run_cli, tmp_path, text)
    assert result.exit_code == 3
    first = result.stderr.splitlines()[0]
    assert first.startswith("data.csv: the CSV file cannot be read: CSV Error on Line: 3: ") and "张" not in first, first


@pytest.mark.parametrize("size, line", [(3_000_000, 4), (40_000_000, 2)], ids=["3 MB", "40 MB"])
def test_a_line_longer_than_two_megabytes_is_refused_with_its_line(run_cli, tmp_path, size, line):
    # DuckDB refuses a line beyond its max_line_size with the line's number; a line beyond its
    # reading buffer stops its parallel reader without one: perfrules finds the line itself.
    rows = [ROW.format(id=f"A{index}", name="x") for index in range(1, 4)]
    rows[line - 2] = ROW.format(id="A9", name="x" * size)
    result = evaluate_text(run_cli, tmp_path, HEADER + "".join(rows))
    assert_problems(result, f"data.csv: the CSV file cannot be read: CSV Error on Line: {line}: the line is longer "
                            "than 2,000,000 bytes, the most a row may have")


def test_a_header_longer_than_pythons_csv_field_limit_is_refused_with_its_row(run_cli, tmp_path):
    result = evaluate_text(run_cli, tmp_path, HEADER.replace("base_salary", "名" * 200_000) + ROW.format(id="A1", name="x"))
    assert_problems(result, "data.csv:1: a cell is longer than 131,072 characters")


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
@pytest.mark.parametrize("first", ["\r\n", "\n"])
def test_mixed_crlf_and_lf_line_endings(run_cli, tmp_path, first, encoding):
    # A file edited on two systems: lines ending in CRLF and in LF. The last column is a
    # text column (name moved last), so a stray \r would show in the results.
    header = HEADER.replace("name,", "").replace("\n", ",name\n")
    rows = [ROW.format(id=f"A{index}", name="").replace(",2026", "2026", 1).replace("\n", f",张{index}\n")
            for index in range(1, 5)]
    lines = [header, *rows]
    mixed = "".join(line.replace("\n", first if index % 2 == 0 else ("\n" if first == "\r\n" else "\r\n"))
                    for index, line in enumerate(lines))
    assert "\r\n" in mixed and "\n" in mixed.replace("\r\n", "")
    (tmp_path / "data.csv").write_bytes(mixed.encode(encoding))
    (tmp_path / "lf.csv").write_bytes("".join(lines).encode("utf-8"))
    policy = str(POLICIES / "after_sales_agent.perf")
    result = run_cli("evaluate", policy, "data.csv", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    baseline = run_cli("evaluate", policy, "lf.csv", cwd=tmp_path)
    assert json.loads(result.stdout)["results"] == json.loads(baseline.stdout)["results"]
    assert [item["name"] for item in json.loads(result.stdout)["results"]][:1] == ["张1"]
    assert sorted(item["name"] for item in json.loads(result.stdout)["results"]) == ["张1", "张2", "张3", "张4"]


@pytest.mark.parametrize("separator, message", [
    (";", "data.csv:1: the file looks semicolon-separated: row 1 holds semicolons and no commas "
          "(hint: save it as comma-separated CSV (Excel: CSV UTF-8))"),
    ("\t", "data.csv:1: the file looks tab-separated: row 1 holds tabs and no commas "
           "(hint: name it .tsv, or save it as comma-separated CSV)"),
])
def test_a_csv_file_with_another_separator_gets_a_hint(run_cli, tmp_path, separator, message):
    # A European Excel writes `;` and decimal commas (92,5%): read as commas, 1,234 would be 1234.
    text = (HEADER + ROW.format(id="A1", name="x")).replace(",", separator)
    result = evaluate_text(run_cli, tmp_path, text)
    assert result.exit_code == 3
    assert result.stderr == f"{message}\n1 data problem: nothing was written\n"


TITLE = "2026年11月 售后客服绩效数据,,,,,,,,,,,,\n导出时间 2026-12-01,,,,,,,,,,,,\n"


def test_title_rows_above_the_headers_name_the_header_row(run_cli, tmp_path):
    result = evaluate_text(run_cli, tmp_path, TITLE + HEADER + ROW.format(id="A1", name="x"))
    assert result.exit_code == 3
    # One line, not one per column of the title row: the fix is --header-row.
    assert result.stderr == (
        "data.csv:1: column B (the 2nd) has no header (hint: the headers seem to be in row 3: pass --header-row 3)\n"
        "1 data problem: nothing was written\n"
    )


def test_header_row_option_reads_below_the_title_with_spreadsheet_row_numbers(run_cli, tmp_path):
    bad = ROW.format(id="A2", name="y").replace("90%,90%", "90%,9O%")
    good = TITLE + HEADER + ROW.format(id="A1", name="x")
    result = evaluate_text(run_cli, tmp_path, good + bad, "--header-row", "3")
    assert result.exit_code == 3
    assert result.stderr == "data.csv:5: column csat: '9O%' is not a percent\n1 data problem: nothing was written\n"
    result = evaluate_text(run_cli, tmp_path, good, "--header-row", "3")
    assert result.exit_code == 0, result.stderr
    assert [item["agent_id"] for item in json.loads(result.stdout)["results"]] == ["A1"]


def test_a_one_cell_title_without_headers_below_names_the_option(run_cli, tmp_path):
    hint = "row 1 looks like a title, not headers: pass --header-row N, N the row of the headers"
    text = "客服绩效\n" + HEADER.replace("agent_id", "工号") + ROW.format(id="A1", name="x")
    result = evaluate_text(run_cli, tmp_path, text)
    assert_problems(
        result,
        f"data.csv:1: the header row has 1 cell, but row 2 has 13 (hint: {hint})",
    )
    # With a header `工号` for agent_id the headers are not found; a title row of one word
    # and empty cells (as Excel writes it) gives "no header" problems with the same hint.
    text = "客服绩效" + "," * 12 + "\n" + HEADER.replace("agent_id", "工号") + ROW.format(id="A1", name="x")
    result = evaluate_text(run_cli, tmp_path, text)
    assert result.exit_code == 3
    assert result.stderr.splitlines()[0] == f"data.csv:1: column B (the 2nd) has no header (hint: {hint})"
    # A first row with a cell in every column, above the headers: the missing columns say where they are.
    text = ",".join(f"x{index}" for index in range(13)) + "\n" + HEADER + ROW.format(id="A1", name="x")
    result = evaluate_text(run_cli, tmp_path, text)
    assert result.exit_code == 3
    hint = "the headers seem to be in row 2: pass --header-row 2"
    assert result.stderr == (
        f"data.csv: missing column 'agent_id' (the data needs agent_id, period and role; {hint})\n"
        f"data.csv: missing column 'period' (the data needs agent_id, period and role; {hint})\n"
        f"data.csv: missing column 'role' (the data needs agent_id, period and role; {hint})\n"
        "3 data problems: nothing was written\n"
    )


def test_columns_without_a_header_or_with_the_same_one_are_named_by_letter(run_cli, tmp_path):
    text = "agent_id,period,,role,csat,csat\nA1,2026-11,早班,agent,90%,90%\n"
    result = evaluate_text(run_cli, tmp_path, text)
    assert_problems(
        result,
        "data.csv:1: column C (the 3rd) has no header (hint: give every column a header in row 1)",
        "data.csv:1: the header 'csat' appears twice (column E (the 5th) and F) "
        "(hint: every column needs its own header)",
    )


def test_a_column_without_header_nor_cells_is_left_alone(run_cli, tmp_path):
    # A comma at the end of every line (some exports write one): an extra column of nothing.
    text = (HEADER.replace("\n", ",\n") + ROW.format(id="A1", name="x").replace("\n", ",\n")
            + ROW.format(id="A2", name="x").replace("\n", ", \n"))
    result = evaluate_text(run_cli, tmp_path, text)
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["results"]) == 2
    result = evaluate_text(run_cli, tmp_path, text.replace("8000, \n", "8000,8000\n"))
    assert_problems(
        result,
        "data.csv:1: column N (the 14th) has no header (hint: give every column a header in row 1)",
    )


def test_header_row_is_only_for_csv_and_xlsx(run_cli, tmp_path):
    result = evaluate_text(run_cli, tmp_path, "[]", "--header-row", "2", name="data.json")
    assert result.exit_code == 2
    assert result.stderr == "perfrules: error: data.json: --header-row applies only to CSV and .xlsx files\n"


def _workbook(path: Path, rows) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)


XLSX_HEADERS = HEADER.strip().split(",")
XLSX_ROW = ["2026-11", "agent", 0.9, 0.9, 20, 0.96, 8, 0, 0, 0, 8000]


def test_xlsx_numeric_ids_and_teams_are_whole_numbers(run_cli, tmp_path):
    # 1001 typed into Excel is a number cell (a float to the reader): never 1001.0.
    _workbook(tmp_path / "data.xlsx", [XLSX_HEADERS + ["team"], [1001, "张三", *XLSX_ROW, 7],
                                       [1002.0, "李四", *XLSX_ROW, 12345678901234]])
    result = run_cli("evaluate", str(POLICIES / "after_sales_agent.perf"), "data.xlsx", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    found = sorted((item["agent_id"], item["team"]) for item in json.loads(result.stdout)["results"])
    assert found == [("1001", "7"), ("1002", "12345678901234")]


def test_xlsx_title_rows_and_header_row(run_cli, tmp_path):
    rows = [["2026年11月 售后客服绩效"], [], XLSX_HEADERS, ["A1", "张三", *XLSX_ROW], ["A2", "李四", *XLSX_ROW[:3], "9O%",
                                                                                   *XLSX_ROW[4:]]]
    _workbook(tmp_path / "data.xlsx", rows)
    result = run_cli("evaluate", str(POLICIES / "after_sales_agent.perf"), "data.xlsx", cwd=tmp_path)
    assert result.exit_code == 3
    assert result.stderr.splitlines()[0] == (
        "data.xlsx:1: column B (the 2nd) has no header (hint: the headers seem to be in row 3: pass --header-row 3)")
    result = run_cli("evaluate", str(POLICIES / "after_sales_agent.perf"), "data.xlsx", "--header-row", "3",
                     cwd=tmp_path)
    assert result.exit_code == 3
    assert result.stderr == "data.xlsx:5: column csat: '9O%' is not a percent\n1 data problem: nothing was written\n"


def test_empty_lines_count_as_rows_like_in_a_spreadsheet(run_cli, tmp_path):
    # DuckDB skips empty lines; a spreadsheet shows them as rows. Row 4 must be called row 4.
    bad = ROW.format(id="A2", name="y").replace("90%,90%", "90%,9O%")
    text = HEADER + ROW.format(id="A1", name="x") + "\n" + bad + "\n\n" + bad.replace("A2", "A3")
    result = evaluate_text(run_cli, tmp_path, text)
    assert_problems(
        result,
        "data.csv:4: column csat: '9O%' is not a percent",
        "data.csv:7: column csat: '9O%' is not a percent",
    )


def test_an_empty_header_row_points_to_the_headers(run_cli, tmp_path):
    # Rows 1 and 3 are empty lines, row 2 a title, the headers in row 4 and a quoted line
    # break in row 6: --header-row counts rows as the spreadsheet does.
    bad = ROW.format(id="A2", name='"a\nb"').replace("90%,90%", "90%,9O%")
    text = "\n客服绩效\n\n" + HEADER + "\n" + ROW.format(id="A1", name="x") + bad
    result = evaluate_text(run_cli, tmp_path, text)
    assert_problems(
        result,
        "data.csv:1: row 1 is empty, but it must name the columns "
        "(hint: the headers seem to be in row 4: pass --header-row 4)",
    )
    result = evaluate_text(run_cli, tmp_path, text, "--header-row", "4")
    assert result.exit_code == 3
    assert result.stderr == "data.csv:7: column csat: '9O%' is not a percent\n1 data problem: nothing was written\n"


def test_parquet_whole_numbers_in_float_columns_are_whole(run_cli, tmp_path):
    # pandas writes an id or team column holding a missing value as floats: 1001.0 must be 1001.
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {name: [value, value] for name, value in zip(XLSX_HEADERS[1:], ["x", *XLSX_ROW])}
    columns.update(agent_id=pa.array([1001.0, 1002.0]), team=pa.array([7.0, None]), csat=pa.array([0.9, 0.95]))
    pq.write_table(pa.table({name: pa.array(values) if isinstance(values, list) else values
                             for name, values in columns.items()}), tmp_path / "data.parquet")
    result = run_cli("evaluate", str(POLICIES / "after_sales_agent.perf"), "data.parquet", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    found = sorted((item["agent_id"], item["team"], item["kpis"][1]["value"])
                   for item in json.loads(result.stdout)["results"])
    assert found == [("1001", "7", 0.9), ("1002", None, 0.95)]


def test_a_period_number_that_may_be_january_or_october_is_refused(run_cli, tmp_path):
    # 2026.10 typed into a number cell is the number 2026.1, whose text reads as January: the
    # workbook cannot say which month was meant, so the row is refused, never guessed. The
    # number 2026.11, the number 2026.01 (typed with its zero) and the TEXT 2026.1 are one
    # month each (docs/evaluation.md 2.3).
    october, november = XLSX_ROW.copy(), XLSX_ROW.copy()
    october[0], november[0] = 2026.1, 2026.11
    _workbook(tmp_path / "data.xlsx", [XLSX_HEADERS, ["A1", "x", *november], ["A2", "y", *october],
                                       ["A3", "z", *october]])
    result = run_cli("evaluate", str(POLICIES / "after_sales_agent.perf"), "data.xlsx", cwd=tmp_path)
    problem = ("column period: the number 2026.1 can be 2026-01 or 2026-10 (a cell typed 2026.10 is stored as the "
               "number 2026.1) (hint: write the period as text, like 2026-10 or 2026-01)")
    assert result.exit_code == 3
    assert result.stderr == f"data.xlsx:3: {problem}\ndata.xlsx:4: {problem}\n2 data problems: nothing was written\n"
    january = XLSX_ROW.copy()
    january[0] = 2026.01
    text_january = XLSX_ROW.copy()
    text_january[0] = "2026.1"
    _workbook(tmp_path / "data.xlsx", [XLSX_HEADERS, ["A1", "x", *january], ["A2", "y", *text_january],
                                       ["A3", "z", *november]])
    result = run_cli("evaluate", str(POLICIES / "after_sales_agent.perf"), "data.xlsx", "--period", "2026-01",
                     cwd=tmp_path)
    assert result.exit_code == 0, result.stderr  # --period before an XLSX file's cells was exit 4 with DuckDB 2.0
    found = [(item["agent_id"], item["period"]) for item in json.loads(result.stdout)["results"]]
    assert sorted(found) == [("A1", "2026-01"), ("A2", "2026-01")]


def test_period_with_json_rows(run_cli, tmp_path):
    # DuckDB 2.0 refused to load the rows while the --period query's result was unread (exit 4).
    row = dict(zip(XLSX_HEADERS, ["A1", "x", *XLSX_ROW]))
    (tmp_path / "data.json").write_text(json.dumps([row, {**row, "agent_id": "A2", "period": "2026-10"}]),
                                        encoding="utf-8")
    result = run_cli("evaluate", str(POLICIES / "after_sales_agent.perf"), "data.json", "--period", "2026-10",
                     cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert [item["agent_id"] for item in json.loads(result.stdout)["results"]] == ["A2"]


def test_a_parquet_period_number_that_may_be_january_or_october_is_refused(run_cli, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {name: pa.array([value] * 3) for name, value in zip(XLSX_HEADERS[1:], ["x", *XLSX_ROW])}
    columns.update(agent_id=pa.array(["A1", "A2", "A3"]), period=pa.array([2026.11, 2026.1, 2026.01]))
    pq.write_table(pa.table(columns), tmp_path / "data.parquet")
    result = run_cli("evaluate", str(POLICIES / "after_sales_agent.perf"), "data.parquet", cwd=tmp_path)
    assert result.exit_code == 3
    assert result.stderr == (
        "data.parquet:3: column period: the number 2026.1 can be 2026-01 or 2026-10 (a cell typed 2026.10 is "
        "stored as the number 2026.1) (hint: write the period as text, like 2026-10 or 2026-01)\n"
        "1 data problem: nothing was written\n")


def test_a_period_number_is_refused_only_in_the_data_evaluated(run_cli, tmp_path):
    # Only the data's `period` column holds the period evaluated: a notes workbook's or a raw
    # export's column of that name is any column, read (or not) like before (review 9).
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "data.csv").write_text(HEADER + ROW.format(id="A1", name="x"), encoding="utf-8")
    _workbook(tmp_path / "notes.xlsx", [["agent_id", "kind", "text", "period"], ["A1", "action", "weekly review", 2026.1]])
    result = run_cli("report", str(POLICIES / "after_sales_agent.perf"), "data.csv", "-o", "packets",
                     "--notes", "notes.xlsx", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert sorted(path.name for path in (tmp_path / "packets" / "2026-11").iterdir()) == ["A1-x.pdf", "team-summary.pdf"]
    (tmp_path / "calls.perfm").write_text(
        'metrics "calls" {\n    period month\n    role "agent"\n    source calls "calls.FORMAT" {\n'
        '        column date: timestamp "YYYY-MM-DD"\n        agent server\n        period by date\n    }\n'
        '    metric calls_handled: count = count of calls\n}\n', encoding="utf-8")
    _workbook(tmp_path / "calls.xlsx", [["server", "date", "period"], ["S1", "2026-10-03", 2026.1],
                                        ["S1", "2026-10-04", 2026.2]])
    pq.write_table(pa.table({"server": ["S1", "S1"], "date": ["2026-10-03", "2026-10-04"], "period": [2026.1, 2026.2]}),
                   tmp_path / "calls.parquet")
    for kind in ("xlsx", "parquet"):
        text = (tmp_path / "calls.perfm").read_text(encoding="utf-8")
        (tmp_path / f"calls_{kind}.perfm").write_text(text.replace("FORMAT", kind), encoding="utf-8")
        result = run_cli("metrics", f"calls_{kind}.perfm", "--format", "csv", cwd=tmp_path)
        assert result.exit_code == 0, result.stderr
        assert result.stdout == "agent_id,period,role,name,team,supervisor,calls_handled\nS1,2026-10,agent,,,,2\n"


def test_did_you_mean_compares_names_as_people_see_them():
    from perfrules.diagnostics import did_you_mean

    assert did_you_mean("csat", ["ｃｓａｔ", "satisfaction"]) == "did you mean 'ｃｓａｔ'?"
    assert did_you_mean("csat", ["csat_responses", "C SAT"]) == "did you mean 'C SAT'?"
    assert did_you_mean("A001", ["a001 ", "A002"]) == "did you mean 'a001 '?"
    assert did_you_mean("a01", ["A001", "A051"]) is None  # as close to both: no guess
    assert did_you_mean("a01", ["A001", "A052"]) == "did you mean 'A001'?"
    assert did_you_mean("csat", ["aht"]) is None


def test_duckdbs_line_numbers_count_the_title_rows_left_out(run_cli, tmp_path):
    # --header-row 3 reads a copy from the header row on: DuckDB's line 3 is the file's line 6
    # (the title's quoted line break is a line of its own).
    text = '"2026年11月\n绩效",,,\n\n' + HEADER + ROW.format(id="A1", name="x") + ROW.format(id="A2", name='"x')
    result = evaluate_text(run_cli, tmp_path, text, "--header-row", "3")
    assert result.exit_code == 3
    assert result.stderr.startswith("data.csv: the CSV file cannot be read: CSV Error on Line: 6: ")


# ---- the direct route: typed cells straight from DuckDB's reader ------------------------------------


@pytest.mark.parametrize("name, text, options, direct", [
    ("plain.csv", HEADER + ROW.format(id="A1", name="x"), {}, True),
    ("bom.csv", "\ufeff" + HEADER + ROW.format(id="A1", name="x"), {}, True),
    ("given.csv", HEADER + ROW.format(id="A1", name="x"), {"encoding": "utf8"}, True),
    ("title.csv", "考核表\n" + HEADER + ROW.format(id="A1", name="x"), {"header_row": 2}, False),
    ("blank.csv", HEADER + "\n" + ROW.format(id="A1", name="x"), {}, False),
    ("gb.csv", HEADER + ROW.format(id="A1", name="张三"), {"encoding": "gb18030"}, True),  # from a UTF-8 copy
    ("unnamed.csv", HEADER.replace("\n", ",\n") + ROW.format(id="A1", name="x").replace("\n", ",\n"), {}, False),
])
def test_which_files_are_typed_straight_from_the_reader(tmp_path, name, text, options, direct):
    """Plain UTF-8 CSV goes the direct route; title rows, empty lines (which DuckDB skips and a
    spreadsheet counts: found as the rows are typed), other encodings and unnamed columns go the
    exact route."""
    from perfrules.data.problems import ExactReadingNeeded
    from perfrules.data.reading import read_table
    from perfrules.data.validate import prepare_rows
    from perfrules.engine.run import open_connection
    from perfrules.workspace import load_policies

    path = tmp_path / name
    path.write_bytes(text.encode(options.get("encoding", "utf-8").replace("utf8", "utf-8")))
    connection = open_connection()
    raw = read_table(connection, path, name, "raw_cells", direct=True, **options)
    policy = load_policies([str(POLICIES / "after_sales_agent.perf")]).evaluated[0].policy
    try:
        assert prepare_rows(connection, raw, [policy]) == []
        typed_directly = not raw.numbered
    except ExactReadingNeeded:
        typed_directly = False
    assert typed_directly is direct


def test_rows_read_directly_are_numbered_like_a_spreadsheet(tmp_path):
    """A name with a line break in its quoted cell is one row: numbers are records, not lines."""
    from perfrules.engine.run import evaluate_files
    from perfrules.workspace import load_policies

    rows = ROW.format(id="A1", name='"two\nlines"') + ROW.format(id="A2", name="x") + ROW.format(id="A3", name="y")
    (tmp_path / "data.csv").write_text(HEADER + rows, encoding="utf-8")
    policies = load_policies([str(POLICIES / "after_sales_agent.perf")]).evaluated
    evaluation = evaluate_files(policies, tmp_path / "data.csv", "data.csv", streamed=True)
    table = evaluation.runs[0].typed_table
    assert evaluation.connection.execute(f"SELECT _agent, _row FROM {table} ORDER BY _row").fetchall() == [
        ("A1", 2), ("A2", 3), ("A3", 4)]


def test_a_problem_found_directly_is_worded_by_the_exact_route(run_cli, tmp_path):
    """The direct route has no cell texts: the exact route reads again and says each problem."""
    rows = ROW.format(id="A1", name="x") + ROW.format(id="A2", name="y").replace("96%", "九成")
    assert_problems(evaluate_text(run_cli, tmp_path, HEADER + rows),
                    "data.csv:3: column resolution_rate: '九成' is not a percent")


def test_a_bad_cell_of_megabytes_is_quoted_by_its_start_and_length(run_cli, tmp_path):
    text = HEADER + ROW.format(id="A1", name="x").replace(",90%,20,", ",9O" + "x" * 1_500_000 + ",20,")
    result = evaluate_text(run_cli, tmp_path, text)
    assert_problems(result, "data.csv:2: column csat: '9O" + "x" * 98 + "… (1,500,002 characters)' is not a percent")


def test_a_utf8_file_with_a_row_in_gb18030_is_refused_not_garbled(run_cli, tmp_path):
    """Read whole as GB18030, the UTF-8 names would come out garbled (客服 as 瀹㈡湇) with exit 0."""
    rows = [ROW.format(id=f"A{index}", name=f"客服{index}") for index in range(30)]
    data = HEADER.encode() + b"".join(row.encode("gb18030" if index == 24 else "utf-8") for index, row in enumerate(rows))
    (tmp_path / "data.csv").write_bytes(data)
    result = run_cli("evaluate", str(POLICIES / "after_sales_agent.perf"), "data.csv", cwd=tmp_path)
    assert_problems(result, "data.csv:26: this row is not UTF-8, but the rows before it are: the file mixes two "
                            "encodings (hint: save the whole file again as 'CSV UTF-8', since a row pasted from another "
                            "file keeps its encoding; if the file is GB18030, pass --encoding gb18030)")


@pytest.mark.parametrize("bad", [b"\xff", b"\x81\x30"], ids=["not a lead byte", "half a character"])
@pytest.mark.parametrize("options", [(), ("--encoding", "gbk"), ("--format", "csv", "-o", "out.csv")],
                         ids=["detected", "given", "single pass"])
def test_a_byte_not_gb18030_late_in_a_gb18030_file_is_named_with_its_line(run_cli, tmp_path, bad, options):
    """The byte lies on line 4, past the start read to detect the encoding; its line was not said."""
    rows = [ROW.format(id=f"A{index}", name=name) for index, name in enumerate(["张三", "𠀀_1", "李四"])]
    data = (HEADER + "".join(rows)).encode("gb18030").replace("李四".encode("gb18030"), "李".encode("gb18030") + bad)
    (tmp_path / "data.csv").write_bytes(data)
    result = run_cli("evaluate", str(POLICIES / "after_sales_agent.perf"), "data.csv", *options, cwd=tmp_path)
    assert_problems(result, f"data.csv:4: the file is neither UTF-8 nor GB18030 (byte 0x{bad[0]:02x} on this line) "
                            "(hint: save it as 'CSV UTF-8', or pass --encoding)")
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "GB2312"])
def test_a_utf8_file_given_as_gbk_is_said_to_be_utf8(run_cli, tmp_path, encoding):
    """`𠀀` in UTF-8 (f0 a0 80 80) is no GB18030: the file was said to be neither UTF-8 nor GB18030."""
    text = HEADER + ROW.format(id="A1", name="张三") + ROW.format(id="A2", name="𠀀")
    result = evaluate_text(run_cli, tmp_path, text, "--encoding", encoding)
    assert_problems(result, "data.csv:3: the file is UTF-8, not GB18030 (byte 0x80 on this line is not GB18030) "
                            "(hint: leave out --encoding, or pass --encoding utf-8)")


def test_a_gb18030_file_of_many_chinese_names_is_read_as_gb18030(run_cli, tmp_path):
    """Some GB18030 lines are valid UTF-8 by chance: a GB18030 file is still told from a mixed one."""
    import random

    chance = random.Random(7)
    common = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤康易乔赖文"
    names = ["".join(chance.choice(common) for _ in range(chance.randint(1, 3))) for _ in range(3000)]
    text = HEADER + "".join(ROW.format(id=f"A{index}", name=name) for index, name in enumerate(names))
    (tmp_path / "data.csv").write_bytes(text.encode("gb18030"))
    result = run_cli("evaluate", str(POLICIES / "after_sales_agent.perf"), "data.csv", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    read = {item["agent_id"]: item["name"] for item in json.loads(result.stdout)["results"]}
    assert read == {f"A{index}": name for index, name in enumerate(names)}


@pytest.mark.parametrize("ending", ["\n\r", "\n\r" + ROW.format(id="A3", name="z")], ids=["at the end", "before a row"])
def test_a_carriage_return_on_its_own_is_named_with_its_line(run_cli, tmp_path, ending):
    """DuckDB's words for it name no line ("The CSV Parser state machine reached an invalid state")."""
    text = HEADER + ROW.format(id="A1", name="x") + ROW.format(id="A2", name="y").rstrip("\n") + ending
    result = evaluate_text(run_cli, tmp_path, text)
    assert_problems(result, "data.csv: the CSV file cannot be read: CSV Error on Line: 4: a carriage return (CR) "
                            "stands alone there, without the line feed that ends a line; save the file again as CSV, "
                            "or remove that character")


@pytest.mark.parametrize("piece, joined", [
    (b"A1,senior_agent,T1,6000\n", False),  # underscores beside letters
    (b"reply_within_10min\n", False),
    (b"A1,agent,6_000\n", True),
    (b"A1,agent,1e1_0\n", True),
    (b"_1,1_\n", False),
    (b"CS_001," * 100 + b"CS_001\n", False),  # many an underscore before a digit: the one search
    (b"CS_001," * 100 + b"7_5\n", True),
])
def test_digits_joined_by_an_underscore(piece, joined):
    assert digits_joined(piece) is joined


@pytest.mark.parametrize("at", [(1 << 20) - 2, (1 << 20) - 1, 1 << 20])
def test_digits_joined_across_the_pieces_a_file_is_read_in(tmp_path, at):
    """The scan reads 1 MB pieces: `4_2` split by a piece's end is found."""
    data = bytearray(b"x" * (at + 10))
    data[at - 1:at + 2] = b"4_2"
    (tmp_path / "data.csv").write_bytes(bytes(data))
    assert count_lines(tmp_path / "data.csv").digits_joined
    assert stream_digits_joined(io.BytesIO(bytes(data)))  # the scan of a metrics source
    data[at - 1:at + 2] = b"4_x"
    (tmp_path / "data.csv").write_bytes(bytes(data))
    assert not count_lines(tmp_path / "data.csv").digits_joined
    assert not stream_digits_joined(io.BytesIO(bytes(data)))


DURATIONS_POLICY = Path(__file__).parent / "cases" / "evaluate" / "data-parquet-duration-columns" / "policy.perf"


def _durations_parquet(path: Path, names: list[str]) -> None:
    """Three key columns and three Arrow duration columns (seconds) named ``names``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_arrays(
        [pa.array(["D1", "D2"]), pa.array(["agent", "agent"]), pa.array(["2026-11", "2026-11"]),
         *(pa.array(values, pa.duration("s")) for values in ([390, 720], [45, 90], [1, 2]))],
        names=["agent_id", "role", "period", *names]), path)


def test_parquet_duration_columns_are_clocks_whatever_the_names(run_cli, tmp_path):
    """DuckDB renames a name written twice in other letter case (`HOLD` is `HOLD_1` to it): the
    durations were found by name, none matched, and every duration was its count: 390 s `in min`
    was 390 minutes (exit 0).  They are found by position."""
    _durations_parquet(tmp_path / "data.parquet", ["aht", "hold", "HOLD"])
    result = run_cli("evaluate", str(DURATIONS_POLICY), "data.parquet", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    found = sorted((item["agent_id"], [kpi["value"] for kpi in item["kpis"]])
                   for item in json.loads(result.stdout)["results"])
    assert found == [("D1", [390.0, 45.0]), ("D2", [720.0, 90.0])]


def test_a_parquet_column_name_written_twice_is_refused_as_in_a_csv_file(run_cli, tmp_path):
    """DuckDB reads `hold`, `hold` as `hold`, `hold_1`: the second was silently left out (and the
    durations read as counts); like a CSV header written twice, it is a problem."""
    _durations_parquet(tmp_path / "data.parquet", ["aht", "hold", "hold"])
    result = run_cli("evaluate", str(DURATIONS_POLICY), "data.parquet", cwd=tmp_path)
    assert (result.exit_code, result.stdout) == (3, "")
    assert result.stderr == ("data.parquet: the header 'hold' appears twice (column E (the 5th) and F) (hint: every "
                             "column needs its own header)\n1 data problem: nothing was written\n")


@pytest.mark.parametrize("options", [(), ("--header-row", "2")])  # the direct reading, the exact one
def test_a_utf8_file_read_as_gbk_because_told_so_warns(run_cli, tmp_path, options):
    """`--encoding gbk` forces GB18030, and a UTF-8 file's names come out garbled (张三 as 寮犱笁):
    a warning says so when its lines beyond ASCII all read as UTF-8; a GB18030 file gets none."""
    title = "Review 2026-11\n" if options else ""
    text = title + HEADER + "".join(ROW.format(id=f"A{number}", name=name) for number, name in
                                    enumerate(["张三", "李四", "王五"]))
    result = evaluate_text(run_cli, tmp_path, text, "--encoding", "gbk", "-o", "out.csv", *options)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ("data.csv: warning: the file reads as UTF-8 (its 3 lines beyond ASCII looked at all "
                             "are), and read as GB18030 '张三' is '寮犱笁': leave out --encoding, or pass "
                             "--encoding utf-8\nwrote out.csv (1 policy)\n")
    (tmp_path / "data.csv").write_bytes(text.encode("gb18030"))
    again = run_cli("evaluate", str(POLICIES / "after_sales_agent.perf"), "data.csv", "--encoding", "gbk",
                    "-o", "out.csv", *options, cwd=tmp_path)
    assert (again.exit_code, again.stderr) == (0, "wrote out.csv (1 policy)\n")
    assert "A0,张三," in (tmp_path / "out.csv").read_text(encoding="utf-8")
