"""Differential fuzzing of evaluate's two fast routes against the routes they stand in for.

Two shortcuts make ``perfrules evaluate`` fast at a million agents (docs/performance.md):

- **direct reading**: a plain UTF-8 CSV file is typed straight from DuckDB's reader, and read
  again the exact way as soon as anything looks wrong (``perfrules.data.reading._direct_csv``);
- **streamed CSV**: to CSV, a policy is written straight from its plan (with its targets'
  and awards' columns joined from a narrow table), stopped by a guard at a row with a
  problem (``perfrules.engine.run._policy_runs``).

A GB18030 file takes both, read from a UTF-8 copy (``perfrules.data.file_scan.Utf8Copy``;
the single pass of ``perfrules.engine.single_pass`` when written as CSV): ``gb18030_files``
draws such files, with Chinese names, four-byte characters, digits joined by an underscore
and late bytes that are not GB18030.

Each must be invisible: on the random tables of ``test_fuzz_data`` (valid and invalid cells,
duplicates, roles, periods, every file format and encoding), the exit code, stdout and
stderr of ``perfrules evaluate`` are the same with the shortcut as without it, to the byte.
"""

from __future__ import annotations

import csv
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

import pytest
from conftest import CASES
from test_fuzz_data import (AFTER_SALES, AFTER_SALES_COLUMNS, AFTER_SALES_ROLES, BOTH_COLUMNS, BOTH_KINDS,
                            FUZZ_SETTINGS, QUARTER_ROLES, YEAR_ROLES, examples, file_formats, run_evaluate, tables,
                            workdir, write_table)

__all__ = ["workdir"]  # the module-scoped fixture, imported for pytest

# The spec's example: the bundled policy's metrics without its targets and awards.
SPEC_EXAMPLE = CASES / "evaluate" / "spec-complete-example" / "policy.perf"


@pytest.fixture(scope="module")
def streamable(workdir):
    """A folder like test_fuzz_data's three policies, with the spec's example for the monthly one."""
    folder = workdir / "streamable"
    folder.mkdir(exist_ok=True)
    for policy in (workdir / "both").iterdir():
        text = SPEC_EXAMPLE.read_bytes() if policy.name == AFTER_SALES.name else policy.read_bytes()
        (folder / policy.name).write_bytes(text)
    return folder


def outcome(result) -> tuple:
    return result.exit_code, result.stdout, result.stderr


def both_ways(folder, policy, columns, table, how, *options: str) -> None:
    """Run with every shortcut, then without the direct reading and without streaming."""
    _, rows = table
    name, data = write_table([column for column, _ in columns], [[pair[0] for pair in row] for row in rows], how)
    same_both_ways(folder, policy, name, data, how, *options)


def same_both_ways(folder, policy, name: str, data: bytes, how, *options: str) -> tuple:
    """The file ``name`` holding ``data``, run with every shortcut and without them: the outcome."""
    from perfrules.engine import run as engine

    fast = outcome(run_evaluate(folder, policy, name, data, *options))
    stored = engine.evaluate_files
    with mock.patch("perfrules.data.reading._direct_csv", return_value=None), \
            mock.patch.object(engine, "evaluate_files",
                              lambda *args, streamed=False, **keywords: stored(*args, **keywords)):
        exact = outcome(run_evaluate(folder, policy, name, data, *options))
    assert fast == exact, f"{name} ({how}):\n{data[:2000]!r}"
    return fast


@settings(max_examples=examples(30), **FUZZ_SETTINGS)
@given(table=tables(AFTER_SALES_COLUMNS, AFTER_SALES_ROLES), how=file_formats())
def test_direct_reading_is_the_exact_reading(workdir, table, how):
    both_ways(workdir, AFTER_SALES, AFTER_SALES_COLUMNS, table, how)


@st.composite
def tables_with_blanks(draw):
    """Valid tables in which some rows lack a metric a KPI needs: a KPI without `when missing`
    then has no value, the problem the streamed writer's guard stops at."""
    clean, rows = draw(tables(AFTER_SALES_COLUMNS, AFTER_SALES_ROLES, allow_empty=False, modes=("clean",)))
    metrics = [index for index, (_, kind) in enumerate(AFTER_SALES_COLUMNS)
               if kind in ("percent", "count", "duration", "money")]
    for row in rows:
        if draw(st.integers(0, 2)) == 0:
            row[draw(st.sampled_from(metrics))] = ("", None)
    return clean, rows


@settings(max_examples=examples(30), **FUZZ_SETTINGS)
@given(table=st.one_of(tables(AFTER_SALES_COLUMNS, AFTER_SALES_ROLES), tables_with_blanks()), how=file_formats())
def test_streamed_csv_is_the_stored_csv(workdir, table, how):
    both_ways(workdir, SPEC_EXAMPLE, AFTER_SALES_COLUMNS, table, how, "--format", "csv")


@settings(max_examples=examples(20), **FUZZ_SETTINGS)
@given(table=tables(BOTH_COLUMNS, AFTER_SALES_ROLES + QUARTER_ROLES + YEAR_ROLES, kinds=BOTH_KINDS),
       how=file_formats())
def test_streamed_csv_of_three_policies_is_the_stored_csv(workdir, streamable, table, how):
    both_ways(workdir, streamable, BOTH_COLUMNS, table, how, "--format", "csv")


@settings(max_examples=examples(30), **FUZZ_SETTINGS)
@given(table=st.one_of(tables(AFTER_SALES_COLUMNS, AFTER_SALES_ROLES), tables_with_blanks()), how=file_formats(),
       columns=st.sampled_from(["all", "summary"]))
def test_streamed_csv_with_targets_and_awards_is_the_stored_csv(workdir, table, how, columns):
    """The bundled policy: targets with baselines of earlier periods, an award over three periods
    and one within team; the summary reads the plan alone."""
    both_ways(workdir, AFTER_SALES, AFTER_SALES_COLUMNS, table, how, "--format", "csv", "--columns", columns)


@settings(max_examples=examples(20), **FUZZ_SETTINGS)
@given(table=tables(BOTH_COLUMNS, AFTER_SALES_ROLES + QUARTER_ROLES + YEAR_ROLES, kinds=BOTH_KINDS),
       how=file_formats())
def test_streamed_csv_of_three_policies_with_targets_and_awards_is_the_stored_csv(workdir, table, how):
    both_ways(workdir, workdir / "both", BOTH_COLUMNS, table, how, "--format", "csv")


# ---- GB18030 files (read from a UTF-8 copy) and digits joined by an underscore ---------------

CHINESE = ["张三", "李四", "售后一组", "𠀀", "𠀀_1", "王🙂", "组_2", "㐀", "\U0002a6d6", "〇"]
JOINED = {"percent": ["9_2%", "0.9_5", "1_00%"], "count": ["1_0", "2_5"], "duration": ["00:0_8:30", "1_0min", "8_5"],
          "money": ["8_000", "¥8_000", "8_000.00"]}
BAD_BYTES = [b"\xff", b"\x80", b"\x81", b"\x81\x30", b"\x95\x32\x82"]


@st.composite
def gb18030_files(draw, policy_columns=AFTER_SALES_COLUMNS):
    """(name, bytes, how) of a CSV file of a valid table, mostly in GB18030 (BOM-less, CRLF or LF):
    Chinese names and teams, characters GB18030 writes in four bytes (their second and fourth
    bytes digits: `𠀀_1` is the bytes `...6_1`), an underscore joining digits in a text or number
    cell, and sometimes a byte that is not GB18030 late in the file."""
    _, rows = draw(tables(policy_columns, AFTER_SALES_ROLES, allow_empty=False, modes=("clean",)))
    names = [column for column, _ in policy_columns]
    texts = [[pair[0] for pair in row] for row in rows]
    for row in texts:
        for column in ("name", "team"):
            if draw(st.booleans()):
                row[names.index(column)] = draw(st.sampled_from(CHINESE))
    if draw(st.integers(0, 2)) == 0:  # one number cell with digits joined
        row = draw(st.sampled_from(texts))
        index = draw(st.sampled_from([i for i, (_, kind) in enumerate(policy_columns) if kind in JOINED]))
        row[index] = draw(st.sampled_from(JOINED[policy_columns[index][1]]))
    how = {"format": "csv", "quoting": draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
           "newline": draw(st.sampled_from(["\r\n", "\n"])),
           "encoding": draw(st.sampled_from(["gb18030", "gb18030", "gb18030", "utf-8", "utf-8-sig"])),
           "final newline": draw(st.booleans())}
    name, data = write_table(names, texts, how)
    if draw(st.integers(0, 3)) == 0:
        at = int(draw(st.floats(min_value=0.5, max_value=1)) * len(data))
        data = data[:at] + draw(st.sampled_from(BAD_BYTES)) + data[at:]
    return name, data, how


gb18030_options = st.sampled_from([(), (), ("--encoding", "gb18030"), ("--encoding", "gbk"), ("--period", "2026-11")])


@settings(max_examples=examples(15), **FUZZ_SETTINGS)
@given(file=gb18030_files(), options=gb18030_options)
def test_direct_reading_of_gb18030_is_the_exact_reading(workdir, file, options):
    code, _, stderr = same_both_ways(workdir, AFTER_SALES, *file, *options)
    assert code in (0, 3) and "Traceback" not in stderr, stderr


@settings(max_examples=examples(15), **FUZZ_SETTINGS)
@given(file=gb18030_files(), options=gb18030_options)
def test_single_pass_of_gb18030_is_the_stored_csv(workdir, file, options):
    code, _, stderr = same_both_ways(workdir, SPEC_EXAMPLE, *file, "--format", "csv", *options)
    assert code in (0, 3) and "Traceback" not in stderr, stderr
