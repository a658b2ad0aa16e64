"""Differential fuzzing of evaluate's two fast routes against the routes they stand in for.

Two shortcuts make ``perfrules evaluate`` fast at a million agents (docs/performance.md):

- **direct reading**: a plain UTF-8 CSV file is typed straight from DuckDB's reader, and read
  again the exact way as soon as anything looks wrong (``perfrules.data.reading._direct_csv``);
- **streamed CSV**: to CSV, a policy without targets or awards is written straight from its
  plan, stopped by a guard at a row with a problem (``perfrules.engine.run._policy_runs``).

Each must be invisible: on the random tables of ``test_fuzz_data`` (valid and invalid cells,
duplicates, roles, periods, every file format and encoding), the exit code, stdout and
stderr of ``perfrules evaluate`` are the same with the shortcut as without it, to the byte.
"""

from __future__ import annotations

from unittest import mock

from hypothesis import given, settings

from test_fuzz_data import (AFTER_SALES, AFTER_SALES_COLUMNS, AFTER_SALES_ROLES, BOTH_COLUMNS, BOTH_KINDS,
                            FUZZ_SETTINGS, QUARTER_ROLES, YEAR_ROLES, examples, file_formats, run_evaluate, tables,
                            workdir, write_table)

__all__ = ["workdir"]  # the module-scoped fixture, imported for pytest


def outcome(result) -> tuple:
    return result.exit_code, result.stdout, result.stderr


def both_ways(folder, policy, columns, table, how, *options: str) -> None:
    """Run with every shortcut, then without the direct reading and without streaming."""
    from perfrules.engine import run as engine

    _, rows = table
    name, data = write_table([column for column, _ in columns], [[pair[0] for pair in row] for row in rows], how)
    fast = outcome(run_evaluate(folder, policy, name, data, *options))
    stored = engine.evaluate_files
    with mock.patch("perfrules.data.reading._direct_csv", return_value=None), \
            mock.patch.object(engine, "evaluate_files",
                              lambda *args, streamed=False, **keywords: stored(*args, **keywords)):
        exact = outcome(run_evaluate(folder, policy, name, data, *options))
    assert fast == exact, f"{name} ({how}):\n{data[:2000]!r}"


@settings(max_examples=examples(30), **FUZZ_SETTINGS)
@given(table=tables(AFTER_SALES_COLUMNS, AFTER_SALES_ROLES), how=file_formats())
def test_direct_reading_is_the_exact_reading(workdir, table, how):
    both_ways(workdir, AFTER_SALES, AFTER_SALES_COLUMNS, table, how)


@settings(max_examples=examples(30), **FUZZ_SETTINGS)
@given(table=tables(AFTER_SALES_COLUMNS, AFTER_SALES_ROLES), how=file_formats())
def test_streamed_csv_is_the_stored_csv(workdir, table, how):
    both_ways(workdir, AFTER_SALES, AFTER_SALES_COLUMNS, table, how, "--format", "csv")


@settings(max_examples=examples(20), **FUZZ_SETTINGS)
@given(table=tables(BOTH_COLUMNS, AFTER_SALES_ROLES + QUARTER_ROLES + YEAR_ROLES, kinds=BOTH_KINDS),
       how=file_formats())
def test_streamed_csv_of_three_policies_is_the_stored_csv(workdir, table, how):
    both_ways(workdir, workdir / "both", BOTH_COLUMNS, table, how, "--format", "csv")
