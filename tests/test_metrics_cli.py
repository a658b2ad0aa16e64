"""`perfrules metrics` on the command line: overriding a source's path, periods, output formats,
gzipped sources with bad cells, the bounded list of problems, duplicate headers."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from openpyxl import load_workbook

DEFINITIONS = """metrics "calls" {
    period month
    role "agent"
    source calls "calls.csv" {
        column day: timestamp "YYYY-MM-DD"
        column talk: duration in s
        agent who
        period by day
    }
    metric calls: count = count
    metric aht: duration in min = average talk
}
"""


def write(folder, calls: str, name: str = "calls.csv"):
    (folder / "calls.perfm").write_text(DEFINITIONS.replace("calls.csv", name), encoding="utf-8")
    path = folder / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(calls.encode("utf-8")))
    else:
        path.write_text(calls, encoding="utf-8")


def test_source_path_from_the_command_line(tmp_path, run_cli):
    write(tmp_path, "who,day,talk\nA1,2026-11-02,60\n")
    (tmp_path / "december.csv").write_text("who,day,talk\nA1,2026-12-02,120\nA1,2026-12-03,240\n", encoding="utf-8")
    result = run_cli("metrics", "calls.perfm", "--source", "calls=december.csv", cwd=tmp_path)
    assert (result.exit_code, result.stdout) == (0, "agent_id,period,role,name,team,supervisor,calls,aht\n"
                                                    "A1,2026-12,agent,,,,2,3min\n")
    wrong = run_cli("metrics", "calls.perfm", "--source", "call=december.csv", cwd=tmp_path)
    assert (wrong.exit_code, wrong.stderr) == (2, "perfrules: error: --source call=...: calls.perfm has no source "
                                                  "'call' (its sources: calls)\n")


def test_period_of_another_kind_is_a_usage_error(tmp_path, run_cli):
    write(tmp_path, "who,day,talk\nA1,2026-11-02,60\n")
    result = run_cli("metrics", "calls.perfm", "--period", "2026-Q4", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (2, "perfrules: error: --period '2026-Q4' is not a month like "
                                                    "2026-11 (the definitions compute months)\n")


def test_xlsx_and_json_hold_the_same_cells(tmp_path, run_cli):
    write(tmp_path, "who,day,talk\n=cmd(),2026-11-02,90\n")
    assert run_cli("metrics", "calls.perfm", "-o", "snapshot.xlsx", cwd=tmp_path).exit_code == 0
    sheet = load_workbook(tmp_path / "snapshot.xlsx").active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows == [["agent_id", "period", "role", "name", "team", "supervisor", "calls", "aht"],
                    ["'=cmd()", "2026-11", "agent", None, None, None, "1", "1.5min"]]
    assert sheet["A2"].data_type == "s"  # text, never a formula


def test_bad_cells_of_a_gzipped_source_have_their_rows(tmp_path, run_cli):
    write(tmp_path, "who,day,talk\nA1,2026-11-02,60\nA1,2026-11-31,60\nA1,2026-11-03,soon\n", "calls.csv.gz")
    result = run_cli("metrics", "calls.perfm", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (3, "calls.csv.gz:3: column day: '2026-11-31' is not a timestamp like "
                                                    "YYYY-MM-DD\n"
                                                    "calls.csv.gz:4: column talk: 'soon' is not a duration\n"
                                                    "2 data problems: nothing was written\n")


def test_a_hundred_problems_then_a_count(tmp_path, run_cli):
    write(tmp_path, "who,day,talk\n" + "".join(f"A1,2026-11-02,x{row}\n" for row in range(150)))
    result = run_cli("metrics", "calls.perfm", cwd=tmp_path)
    lines = result.stderr.splitlines()
    assert result.exit_code == 3 and len(lines) == 102
    assert lines[0] == "calls.csv:2: column talk: 'x0' is not a duration"
    assert lines[99] == "calls.csv:101: column talk: 'x99' is not a duration"
    assert lines[100] == "calls.csv: and 50 more problems like these (150 in all)"


def test_a_used_header_given_twice(tmp_path, run_cli):
    write(tmp_path, "who,day,talk,talk\nA1,2026-11-02,60,70\n")
    result = run_cli("metrics", "calls.perfm", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (3, "calls.csv: has the column 'talk' 2 times (used by source calls); "
                                                    "give each column its own header\n"
                                                    "1 data problem: nothing was written\n")


def test_a_negative_duration_read_by_the_fast_path_is_reported(tmp_path, run_cli):
    # Every cell parses as a number, so DuckDB's reader types the column; the range is still checked.
    write(tmp_path, "who,day,talk\nA1,2026-11-02,-60\nA1,2026-11-03,30\n")
    result = run_cli("metrics", "calls.perfm", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (3, "calls.csv:2: column talk: '-60' is negative\n"
                                                    "1 data problem: nothing was written\n")


def test_mangled_definitions_never_crash(tmp_path, run_cli):
    """Definitions with words inserted, dropped or replaced at random (seeded): every run ends in
    a result or a located message (exit 0-3), never an internal error."""
    import random
    import shutil

    from conftest import CASES

    case = CASES / "metrics" / "latest-per-key"
    shutil.copy(case / "events.csv", tmp_path / "events.csv")
    words = (case / "defs.perfm").read_text(encoding="utf-8").split(" ")
    pieces = ["{", "}", "(", "where", "count", "share", "median", "of", "events", "opened", "-", "==", "60s", "90%",
              '"x"', "：", "latest per", "then", "is known", "true", "column", "timestamp", "agent", "period",
              "metric", "roster", "\n", "in", "min", "\x1b[31m", "999999999999999999"]
    generator = random.Random(12)
    for _ in range(40):
        mangled = list(words)
        for _ in range(generator.randint(1, 3)):
            place = generator.randrange(len(mangled))
            choice = generator.random()
            if choice < 0.4:
                mangled.insert(place, generator.choice(pieces))
            elif choice < 0.7:
                del mangled[place]
            else:
                mangled[place] = generator.choice(pieces)
        (tmp_path / "defs.perfm").write_text(" ".join(mangled), encoding="utf-8")
        result = run_cli("metrics", "defs.perfm", cwd=tmp_path)
        assert result.exit_code in (0, 1, 2, 3), " ".join(mangled) + "\n" + result.stderr
        assert "internal error" not in result.stderr


def test_an_xlsx_source(tmp_path, run_cli):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "通话"
    sheet.append(["who", "day", "talk"])
    sheet.append(["A1", "2026-11-02", 90])
    sheet.append(["A1", "2026-11-03", "00:01:30"])
    workbook.create_sheet("other").append(["nothing"])
    workbook.save(tmp_path / "calls.xlsx")
    (tmp_path / "calls.perfm").write_text(DEFINITIONS.replace('"calls.csv" {', '"calls.xlsx" {\n        sheet "通话"'),
                                          encoding="utf-8")
    result = run_cli("metrics", "calls.perfm", cwd=tmp_path)
    assert (result.exit_code, result.stdout) == (0, "agent_id,period,role,name,team,supervisor,calls,aht\n"
                                                    "A1,2026-11,agent,,,,2,1.5min\n")


def test_check_takes_definitions_beside_policies(run_cli):
    from conftest import CASES, REPO

    clean = run_cli("check", "bank_calls.perf", "bank_calls.perfm", "servicenow.perfm", cwd=REPO / "examples" / "metrics")
    assert (clean.exit_code, clean.stderr) == (0, "checked 3 policy files: no problems\n")
    mistakes = run_cli("check", "defs.perfm", "--format", "json", cwd=CASES / "metrics" / "diagnostics")
    assert mistakes.exit_code == 1
    import json

    document = json.loads(mistakes.stdout)
    assert (document["files"], document["errors"]) == (["defs.perfm"], 10)
    assert [item["code"] for item in document["diagnostics"]][:3] == ["PR802", "PR805", "PR802"]


def test_diagnostics_doc_shows_what_check_prints_for_definitions(tmp_path, run_cli):
    """docs/diagnostics.md shows PR801-PR805 on two definitions files: every output it shows is
    part of what `perfrules check calls.perfm events.perfm` prints."""
    import re

    from conftest import REPO

    text = (REPO / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    metrics_part = text[text.index("## PR801:"):]
    following = re.search(r"^## PR(?!80)", metrics_part, re.MULTILINE)
    metrics_part = metrics_part[:following.start()] if following else metrics_part
    blocks = re.findall(r"^```text\n(.*?)^```", metrics_part, re.MULTILINE | re.DOTALL)
    files = [block for block in blocks if block.startswith("metrics ")]
    outputs = [block for block in blocks if not block.startswith("metrics ")]
    for name, content in zip(("calls.perfm", "events.perfm"), files):
        (tmp_path / name).write_text(content, encoding="utf-8")
    printed = run_cli("check", "calls.perfm", "events.perfm", cwd=tmp_path).stderr
    assert len(outputs) == 5
    for shown in outputs:
        assert shown in printed, shown


def test_the_snapshot_never_overwrites_a_raw_export(tmp_path, run_cli):
    write(tmp_path, "who,day,talk\nA1,2026-11-02,60\n")
    result = run_cli("metrics", "calls.perfm", "-o", "calls.csv", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (2, "perfrules: error: -o calls.csv: is an input of this run "
                                                    "(calls.csv); write the results to another file\n")
    assert (tmp_path / "calls.csv").read_text(encoding="utf-8") == "who,day,talk\nA1,2026-11-02,60\n"


def test_a_gz_source_that_is_not_gzip_or_is_cut_short(tmp_path, run_cli):
    """A .csv.gz that is a plain CSV, or a gzip cut short, is a data problem (exit 3), not a bug."""
    write(tmp_path, "who,day,talk\nA1,2026-11-02,60\n", "calls.csv.gz")
    (tmp_path / "calls.csv.gz").write_bytes(b"who,day,talk\nA1,2026-11-02,60\n")
    result = run_cli("metrics", "calls.perfm", cwd=tmp_path)
    hint = "(hint: a file ending in .gz must be gzip-compressed whole; compress it again)\n"
    assert (result.exit_code, result.stderr) == (3, "calls.csv.gz: cannot be read: Not a gzipped file (b'wh') " + hint
                                                    + "1 data problem: nothing was written\n")
    (tmp_path / "calls.csv.gz").write_bytes(gzip.compress(b"who,day,talk\nA1,2026-11-02,60\n")[:30])
    result = run_cli("metrics", "calls.perfm", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (3, "calls.csv.gz: cannot be read: Compressed file ended before the "
                                                    "end-of-stream marker was reached " + hint
                                                    + "1 data problem: nothing was written\n")


def test_a_number_too_large_in_the_definitions_is_their_error(tmp_path, run_cli):
    """Caught where it is written (exit 1, PR014 as in a policy), not by DuckDB as unreadable sources (exit 3)."""
    write(tmp_path, "who,day,talk\nA1,2026-11-02,60\n")
    definitions = tmp_path / "calls.perfm"
    definitions.write_text(definitions.read_text(encoding="utf-8").replace(
        "= average talk", "= average talk where talk > 99999999999999999999999"), encoding="utf-8")
    result = run_cli("metrics", "calls.perfm", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (
        1, "calls.perfm:11:61: error PR014: 99999999999999999999999 is too large or too precise for perfrules\n"
           "    metric aht: duration in min = average talk where talk > 99999999999999999999999\n"
           "                                                            ^^^^^^^^^^^^^^^^^^^^^^^\n"
           "  hint: numbers go up to 999,999,999,999 with at most six decimals\n\n"
           "checked 1 definitions file: 1 error: nothing was computed\n")


def test_empty_definitions_say_how_definitions_start(tmp_path, run_cli):
    (tmp_path / "calls.perfm").write_text("", encoding="utf-8")
    result = run_cli("metrics", "calls.perfm", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (1, "calls.perfm:1:1: error PR001: the file is empty\n"
                                                    "  hint: metric definitions start with: metrics \"name\" {\n\n"
                                                    "checked 1 definitions file: 1 error: nothing was computed\n")


def test_a_timestamp_in_the_year_0_is_a_bad_cell(tmp_path, run_cli):
    """DuckDB reads 0000-01-01; the snapshot's period 0000-01 was then refused by evaluate. Both
    readings (the whole column typed by DuckDB's reader, or cell by cell) report the cell."""
    write(tmp_path, "who,day,talk\nA1,0000-01-01,60\n")
    result = run_cli("metrics", "calls.perfm", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (3, "calls.csv:2: column day: '0000-01-01' is not a timestamp like "
                                                    "YYYY-MM-DD\n1 data problem: nothing was written\n")
    write(tmp_path, "who,day,talk\nA1,0000-01-01,60\nA1,2026-11-02,1min\n")
    result = run_cli("metrics", "calls.perfm", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (3, "calls.csv:2: column day: '0000-01-01' is not a timestamp like "
                                                    "YYYY-MM-DD\n1 data problem: nothing was written\n")


def test_an_agent_without_a_role_is_a_data_problem(tmp_path, run_cli):
    """Definitions without `role "..."` take each role from the roster: an agent it does not list,
    or lists with an empty role, used to get a snapshot row with no role (exit 0)."""
    (tmp_path / "calls.perfm").write_text(DEFINITIONS.replace('    role "agent"\n', "").replace(
        "    metric calls:", '    roster "team.csv" {\n        agent 工号\n        role 岗位\n    }\n    metric calls:'),
        encoding="utf-8")
    (tmp_path / "calls.csv").write_text("who,day,talk\nA1,2026-11-02,60\nA2,2026-11-02,60\nA3,2026-11-02,60\n",
                                        encoding="utf-8")
    (tmp_path / "team.csv").write_text("工号,岗位\nA1,agent\nA2,\n", encoding="utf-8")
    result = run_cli("metrics", "calls.perfm", cwd=tmp_path)
    hint = ' cell is empty (hint: add it to the roster, or give the definitions a role for everyone: role "agent")\n'
    assert (result.exit_code, result.stderr) == (3, "team.csv: agent A2 has no role: the roster does not list it, "
                                                    "or its 岗位" + hint +
                                                    "team.csv: agent A3 has no role: the roster does not list it, "
                                                    "or its 岗位" + hint +
                                                    "2 data problems: nothing was written\n")


def test_a_timestamp_format_duckdb_refuses_is_located(tmp_path, run_cli):
    """`%s`, a lone `%` or an empty format reached DuckDB: 'the sources cannot be read' (exit 3)."""
    write(tmp_path, "who,day,talk\nA1,2026-11-02,60\n")
    definitions = tmp_path / "calls.perfm"
    text = definitions.read_text(encoding="utf-8")
    for written in ("%s", ""):
        definitions.write_text(text.replace('"YYYY-MM-DD"', f'"{written}"'), encoding="utf-8")
        result = run_cli("metrics", "calls.perfm", cwd=tmp_path)
        assert (result.exit_code, result.stderr) == (
            1, f"calls.perfm:5:31: error PR805: '{written}' is not a timestamp format\n"
               f"    column day: timestamp \"{written}\"\n"
               f"                          {'^' * (len(written) + 2)}\n"
               "  hint: use YYYY, M or MM, D or DD, then HH, MM, SS after a space: \"D/M/YYYY HH:MM\"\n\n"
               "checked 1 definitions file: 1 error: nothing was computed\n")


def test_a_period_without_rows_is_a_data_problem(tmp_path, run_cli):
    """As evaluate --period: it was an empty snapshot (the header alone) and exit 0."""
    write(tmp_path, "who,day,talk\nA1,2026-11-02,60\nA1,2026-12-02,60\n")
    result = run_cli("metrics", "calls.perfm", "--period", "2026-10", cwd=tmp_path)
    assert (result.exit_code, result.stdout, result.stderr) == (
        3, "", "calls.perfm: no rows for period 2026-10 (the raw exports give 2026-11, 2026-12)\n"
               "1 data problem: nothing was written\n")


def test_explain_and_diff_locate_a_data_problem_by_the_snapshots_row(run_cli):
    """As evaluate (golden case metrics/snapshot-row-of-a-data-problem): `defs.perfm:3` read as a
    line of the definitions; the problem is in row 3 of the snapshot they compute."""
    from conftest import CASES

    case = CASES / "metrics" / "snapshot-row-of-a-data-problem"
    line = 'defs.perfm: snapshot row 3: agent A2: KPI "aht" of policy "calls": the value 5.5min matches no rule\n'
    for args in (("explain", "policy.perf", "defs.perfm", "--agent", "A1"),
                 ("diff", "policy.perf", "policy.perf", "defs.perfm")):
        result = run_cli(*args, cwd=case)
        assert (result.exit_code, result.stdout) == (3, "")
        assert result.stderr.endswith("\n\n" + line + "1 data problem: nothing was written\n"), result.stderr


# A gzip member whose deflate data starts with a block of the reserved type 3: zlib's
# "invalid block type", a zlib.error (neither OSError nor EOFError).
DAMAGED_MEMBER = bytes.fromhex("1f8b08000000000000ff") + b"\x07"


@pytest.mark.parametrize("rows", [1, 300_000])
def test_a_gz_source_with_damaged_compressed_data(tmp_path, run_cli, rows):
    """Damaged compressed data at the start, or after the first 4 MB (past the look at the file's
    encoding, where the look for digits joined by an underscore meets it), is a data problem
    with the file's name, not an internal error (exit 4)."""
    write(tmp_path, "", "calls.csv.gz")
    body = "who,day,talk\n" + "A1,2026-11-02,60\n" * rows
    (tmp_path / "calls.csv.gz").write_bytes(gzip.compress(body.encode("utf-8")) + DAMAGED_MEMBER)
    result = run_cli("metrics", "calls.perfm", cwd=tmp_path)
    assert (result.exit_code, result.stdout) == (3, "")
    assert result.stderr == ("calls.csv.gz: cannot be read: Error -3 while decompressing data: invalid block type "
                             "(hint: a file ending in .gz must be gzip-compressed whole; compress it again)\n"
                             "1 data problem: nothing was written\n")


def test_copies_of_sources_lie_in_the_private_folder(tmp_path, run_cli):
    """A GB18030 source is read from a UTF-8 copy, which holds every cell: it lies in the process's
    private folder (removed at exit, and by a later run after a kill), not in a folder of its own
    in /tmp that a SIGTERM or kill -9 leaves there for good; and it is gone after the run."""
    from unittest import mock

    from perfrules import files
    from perfrules.metrics import sources

    (tmp_path / "calls.perfm").write_text(DEFINITIONS, encoding="utf-8")
    (tmp_path / "calls.csv").write_bytes("who,day,talk\n客服1,2026-11-02,60\n".encode("gb18030"))
    folders, copy = [], sources.plain_utf8_copy

    def spied(path, encoding, folder):
        folders.append(Path(folder))
        return copy(path, encoding, folder)

    with mock.patch.object(sources, "plain_utf8_copy", spied):
        result = run_cli("metrics", "calls.perfm", "-o", "snapshot.csv", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (0, "wrote snapshot.csv (1 agent row)\n")
    assert [folder.parent for folder in folders] == [files._private_root()]
    assert not folders[0].exists()
