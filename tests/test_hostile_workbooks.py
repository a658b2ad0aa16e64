"""Workbooks that are not what they seem (docs/evaluation.md 2.1 and 3.1): formula cells
without a saved value and error cells, a hidden first sheet, merged cells, cells far away,
zip bombs and files that are no zip at all.  Each is refused with its place and exit 3, or
read as the user saw it, never as empty cells, never with a traceback or a native abort
(the far cells and bombs run in a child process, so that an abort would fail one test)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import POLICIES

import perfrules

POLICY = str(POLICIES / "after_sales_agent.perf")
HEADERS = ["agent_id", "name", "period", "role", "reply_within_10min", "csat", "csat_responses", "resolution_rate",
           "aht", "qa_commendations", "attitude_violations", "serious_complaints", "base_salary"]
ROW = ["2026-11", "agent", 0.9, 0.9, 20, 0.96, 8, 0, 0, 0, 8000]
FORMULA = "the cell is a formula with no saved value (open and save the file in Excel, or paste values)"
SHEET = "xl/worksheets/sheet1.xml"


def assert_problems(result, *lines: str) -> None:
    count = len(lines)
    assert result.exit_code == 3, result.stderr
    assert result.stderr == "".join(f"{line}\n" for line in lines) + (
        f"{count} data problem{'s' if count != 1 else ''}: nothing was written\n")


def workbook(path: Path, rows, build=None) -> None:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    if build:
        build(book)
    book.save(path)


def rewrite(path: Path, part: str, change) -> None:
    """Replace the member ``part`` of the zip at ``path`` by ``change(its bytes)``."""
    source = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info.filename)
            out.writestr(info.filename, change(data) if info.filename == part else data)


def run_child(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """``perfrules ARGS`` in a child process with 2 GB of data at most.

    RLIMIT_DATA, not RLIMIT_AS: pyarrow's mimalloc and glibc's per-thread arenas reserve about
    1 GB of address space they never touch, so an address-space cap of 2 GB failed at random
    (MemoryError) on a run that used 160 MB; the data limit counts writable private memory,
    not reserved address space, and a real blow-up past 2 GB still hits it."""
    env = dict(os.environ, PYTHONPATH=str(Path(perfrules.__file__).parents[1]))
    code = ("import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_DATA, (2 << 30, 2 << 30)); "
            "sys.argv = ['perfrules', *sys.argv[1:]]; runpy.run_module('perfrules', run_name='__main__')")
    return subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60, check=False)


@pytest.mark.parametrize("scan", ["quick", "exact"])
def test_formula_cells_without_a_saved_value_and_error_cells_are_problems(run_cli, tmp_path, scan):
    # openpyxl writes a formula without its result, as every program that never ran Excel does;
    # "#DIV/0!" and the like become error cells.  calamine reads both as empty cells, which a
    # `when missing` would score silently.
    rows = [HEADERS, ["A1", "张三", *ROW], ["A2", "李四", *ROW], ["A3", "王五", *ROW]]
    rows[1][5] = "=E2*1"
    rows[2][4] = "#DIV/0!"
    rows[3][5] = "#N/A"
    rows[3][8] = "=1/0"
    rows[3][12] = "#REF!"
    workbook(tmp_path / "data.xlsx", rows)
    if scan == "exact":  # a comment: not the plain XML the regular expressions read, so expat reads it
        rewrite(tmp_path / "data.xlsx", SHEET, lambda xml: xml.replace(b"<sheetData>", b"<sheetData><!-- x -->"))
    assert_problems(run_cli("evaluate", POLICY, "data.xlsx", cwd=tmp_path),
                    f"data.xlsx:2: column csat: {FORMULA}",
                    "data.xlsx:3: column reply_within_10min: the cell holds the error #DIV/0!",
                    "data.xlsx:4: column csat: the cell holds the error #N/A",
                    f"data.xlsx:4: column aht: {FORMULA}",
                    "data.xlsx:4: column base_salary: the cell holds the error #REF!")


def test_a_formula_with_a_saved_value_reads_its_value(run_cli, tmp_path):
    rows = [HEADERS, ["A1", "张三", *ROW]]
    rows[1][5] = "=0.44*2"
    workbook(tmp_path / "data.xlsx", rows)
    # What Excel writes when it saves: the formula and the value it shows.
    rewrite(tmp_path / "data.xlsx", SHEET, lambda xml: xml.replace(b"<f>0.44*2</f><v />", b"<f>0.44*2</f><v>0.88</v>"))
    result = run_cli("evaluate", POLICY, "data.xlsx", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    (item,) = json.loads(result.stdout)["results"]
    assert {kpi["name"]: kpi["value"] for kpi in item["kpis"]}["顾客满意度"] == 0.88


def test_a_hidden_first_sheet_is_passed_over(run_cli, tmp_path):
    def build(book):
        book.active.title = "lookup"
        book.active.sheet_state = "hidden"
        data = book.create_sheet("十一月")
        for row in ([*HEADERS], ["A1", "张三", *ROW]):
            data.append(row)
        book.active = 1

    workbook(tmp_path / "data.xlsx", [["code", "meaning"], [1, "x"]], build)
    result = run_cli("evaluate", POLICY, "data.xlsx", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    # --sheet still picks any sheet by its name, hidden or not.
    result = run_cli("evaluate", POLICY, "data.xlsx", "--sheet", "lookup", cwd=tmp_path)
    assert result.exit_code == 3
    assert result.stderr.startswith("data.xlsx: missing column 'agent_id'")


def test_a_workbook_whose_sheets_are_all_hidden_names_them(run_cli, tmp_path):
    workbook(tmp_path / "data.xlsx", [HEADERS, ["A1", "张三", *ROW]])
    rewrite(tmp_path / "data.xlsx", "xl/workbook.xml",
            lambda xml: xml.replace(b'state="visible"', b'state="hidden"'))
    assert_problems(run_cli("evaluate", POLICY, "data.xlsx", cwd=tmp_path),
                    "data.xlsx: every sheet of the workbook is hidden (hint: pass --sheet NAME; sheets: Sheet)")


def test_merged_cells_are_problems_but_a_merged_title_is_not(run_cli, tmp_path):
    rows = [["2026年11月 绩效"], HEADERS, ["A1", "张三", *ROW], ["A2", "李四", *ROW], ["A3", "王五", *ROW]]
    workbook(tmp_path / "data.xlsx", rows,
             lambda book: [book.active.merge_cells(cells) for cells in ("A1:M1", "B4:D4", "F5:F6")])
    assert_problems(run_cli("evaluate", POLICY, "data.xlsx", "--header-row", "2", cwd=tmp_path),
                    "data.xlsx:4: columns B:D are merged (unmerge them: each agent needs its own value)",
                    "data.xlsx:5: cells F5:F6 are merged (unmerge them: each agent needs its own value)")


def test_cells_far_away_are_refused_in_seconds_without_an_abort(tmp_path):
    # calamine makes a rectangle from A1 to the farthest cell: 550 GB for XFD1048576 (an abort).
    limits = ("at most 1,048,576 rows, 512 columns and 5,000,000 cells are read, counted from A1 "
              "(hint: delete the rows and columns beyond the data, or copy the data to a new sheet)")
    for far, shown in ((b'<c r="XFD1048576"><v>1</v></c>', "XFD1048576"), (b'<c r="ZZZZ99999999"><v>1</v></c>', "ZZZZ99999999"),
                       (b'<c r="XFD1048576"><f>1/0</f></c>', "XFD1048576"), (b'<c r="SS2"><v>1</v></c>', "SS2")):
        workbook(tmp_path / "data.xlsx", [HEADERS, ["A1", "张三", *ROW]])
        rewrite(tmp_path / "data.xlsx", SHEET,
                lambda xml, far=far: xml.replace(b"</row></sheetData>", b"</row><row>" + far + b"</row></sheetData>"))
        started = time.monotonic()
        result = run_child(tmp_path, "evaluate", POLICY, "data.xlsx")
        assert time.monotonic() - started < 20
        wanted = f"data.xlsx: the sheet 'Sheet' reaches cell {shown}: {limits}\n1 data problem: nothing was written\n"
        assert (result.returncode, result.stderr) == (3, wanted), far


def test_a_million_empty_rows_and_a_far_dimension_are_read(run_cli, tmp_path):
    workbook(tmp_path / "data.xlsx", [HEADERS, ["A1", "张三", *ROW]])
    empty = b"".join(b'<row r="%d"/>' % number for number in range(3, 1_000_000))
    rewrite(tmp_path / "data.xlsx", SHEET, lambda xml: xml.replace(b"</row></sheetData>", b"</row>" + empty + b"</sheetData>")
            .replace(b'<dimension ref="A1:M2"', b'<dimension ref="A1:XFD1048576"'))
    started = time.monotonic()
    result = run_child(tmp_path, "evaluate", POLICY, "data.xlsx")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 20


def test_zip_bombs_and_lying_headers_are_refused_before_calamine(tmp_path):
    data = tmp_path / "data.xlsx"
    workbook(data, [HEADERS, ["A1", "张三", *ROW]])
    clean = data.read_bytes()
    # A part that inflates a thousand times (20 MB of zeros in 20 kB).
    with zipfile.ZipFile(data, "a", zipfile.ZIP_DEFLATED) as out:
        out.writestr("xl/media/image1.bin", bytes(20 << 20))
    member = zipfile.ZipFile(data).getinfo("xl/media/image1.bin")
    result = run_child(tmp_path, "evaluate", POLICY, "data.xlsx")
    wanted = (f"data.xlsx: the workbook cannot be read: its part 'xl/media/image1.bin' inflates "
              f"{member.file_size // member.compress_size:,} times (at most 100)\n1 data problem: nothing was written\n")
    assert (result.returncode, result.stderr) == (3, wanted)
    # Headers claiming 4 GiB, and headers claiming less than the part really inflates to.
    for claimed, message in ((3 << 30, "the workbook inflates to 3 GiB (at most 1 GiB)"),
                             (100, f"the workbook cannot be read: its part '{SHEET}' inflates to more than its header says")):
        data.write_bytes(_claim_size(clean, SHEET, claimed))
        result = run_child(tmp_path, "evaluate", POLICY, "data.xlsx")
        assert (result.returncode, result.stderr) == (3, f"data.xlsx: {message}\n1 data problem: nothing was written\n")


def _claim_size(archive: bytes, name: str, size: int) -> bytes:
    """The zip with the uncompressed size of ``name`` in its central directory set to ``size``
    (less than 4 GiB)."""
    import struct

    data = bytearray(archive)
    position = data.find(b"PK\x01\x02")
    while position >= 0:
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        if data[position + 46:position + 46 + name_length] == name.encode():
            struct.pack_into("<I", data, position + 24, size)
        position = data.find(b"PK\x01\x02", position + 4)
    return bytes(data)


def test_a_part_twice_is_refused(tmp_path):
    # Python's zipfile reads the last copy, another reader may read the first: the checks
    # would look at one sheet and calamine read the other (with a cell at XFD1048576).
    data = tmp_path / "data.xlsx"
    workbook(data, [HEADERS, ["A1", "张三", *ROW]])
    with zipfile.ZipFile(data, "a") as archive:
        archive.writestr(SHEET.upper().replace("XL/", "xl/"), b"<worksheet/>")
    result = run_child(tmp_path, "evaluate", POLICY, "data.xlsx")
    wanted = ("data.xlsx: the workbook cannot be read: it holds the part 'xl/WORKSHEETS/SHEET1.XML' twice\n"
              "1 data problem: nothing was written\n")
    assert (result.returncode, result.stderr) == (3, wanted)


def test_a_file_that_is_not_a_zip_is_a_clean_problem(run_cli, tmp_path):
    (tmp_path / "data.xlsx").write_text("agent_id,period\nA1,2026-11\n", encoding="utf-8")
    assert_problems(run_cli("evaluate", POLICY, "data.xlsx", cwd=tmp_path),
                    "data.xlsx: the workbook cannot be read: it is not an .xlsx file (not a zip archive)")


def test_notes_read_through_the_same_checks(run_cli, tmp_path):
    from perfrules.report.notes import NotesProblem, read_notes

    workbook(tmp_path / "notes.xlsx", [["agent_id", "kind", "text"], ["A1", "strength", "#VALUE!"]])
    try:
        read_notes(tmp_path / "notes.xlsx", "notes.xlsx")
    except NotesProblem as problem:
        assert [each.render() for each in problem.problems] == [
            "notes.xlsx:2: column text: the cell holds the error #VALUE!"]
    else:
        raise AssertionError("an error cell in the notes was read")
