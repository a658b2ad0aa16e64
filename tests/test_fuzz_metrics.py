"""Fuzzing the entry points added with metric definitions, revisions and policy tests: raw
export cells under a definitions file (plain and gzipped, whole or cut short), definitions
text with words spliced in, and ``REV:PATH`` arguments.

Whatever they hold, `perfrules metrics` ends with exit 0, 1 or 3 and `perfrules check REV:PATH`
with 0, 1 or 2: one message per problem, never an internal error (exit 4), never a raw
terminal escape on stderr.  Knobs as in test_fuzz_data.py: PERFRULES_FUZZ_SCALE multiplies the
examples.
"""

from __future__ import annotations

import gzip
import os

from conftest import REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SCALE = float(os.environ.get("PERFRULES_FUZZ_SCALE", "1"))
SETTINGS = dict(deadline=None, database=None, derandomize=os.environ.get("PERFRULES_FUZZ_RANDOM") != "1",
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

DEFINITIONS = """metrics "calls" {
    period month
    role "agent"
    source calls "calls.csv" {
        unknown "?"
        column day: timestamp "YYYY-MM-DD"
        column talk: duration in s
        column ok: bool
        agent who
        period by day
        where ok
    }
    metric calls: count = count
    metric aht: duration in min = average talk
    metric solved: percent = share where talk <= 60s
}
"""

CELL = st.one_of(
    st.sampled_from(["A1", "A2", "", " ", "?", "2026-11-02", "0000-01-01", "2026-02-30", "9999-12-31", "99999-01-01",
                     "60", "-1", "1e400", "99999999999999999999", "1:02:03", "10min", "true", "是", "否", "yes",
                     "=1+1", "\x1b[31m", "<script>", '"', ",", "\n", "\r\n", "\x00", "\ufeff", "张三", "\ud7ff"]),
    st.text(max_size=6),
)


def assert_clean(result, allowed: tuple[int, ...]) -> None:
    assert result.exit_code in allowed, (result.exit_code, result.stderr)
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert "\x1b" not in result.stderr, result.stderr


@settings(max_examples=int(30 * SCALE), **SETTINGS)
@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=5), min_size=0, max_size=4),
       packing=st.sampled_from(["plain", "gzip", "gzip cut short", "plain named .gz"]))
def test_any_raw_export_is_a_snapshot_or_data_problems(run_cli, tmp_path_factory, rows, packing):
    folder = tmp_path_factory.mktemp("raw")
    text = "who,day,talk,ok\n" + "".join(",".join(row) + "\n" for row in rows)
    name = "calls.csv" if packing == "plain" else "calls.csv.gz"
    (folder / "calls.perfm").write_text(DEFINITIONS.replace("calls.csv", name), encoding="utf-8")
    data = text.encode("utf-8", "surrogatepass")
    if packing == "gzip":
        data = gzip.compress(data)
    elif packing == "gzip cut short":
        data = gzip.compress(data)[:-5]
    (folder / name).write_bytes(data)
    assert_clean(run_cli("metrics", "calls.perfm", cwd=folder), (0, 3))


WORDS = ["metric", "source", "column", "where", "agent", "period", "by", "latest", "per", "then", "roster",
         "average", "share", "count", "of", "{", "}", ":", "=", "(", ")", "and", "or", "not", "is", "known",
         '"x"', "calls", "talk", "day", "60s", "90%", "2026-11-02", "999999999999999", "\x1b", "测试", "\ufeff"]


@settings(max_examples=int(30 * SCALE), **SETTINGS)
@given(edits=st.lists(st.tuples(st.integers(min_value=0, max_value=len(DEFINITIONS)), st.sampled_from(WORDS)),
                      min_size=1, max_size=3))
def test_definitions_with_words_spliced_in_never_crash(run_cli, tmp_path_factory, edits):
    folder = tmp_path_factory.mktemp("defs")
    text = DEFINITIONS
    for position, word in sorted(edits, reverse=True):
        text = text[:position] + " " + word + " " + text[position:]
    (folder / "calls.perfm").write_text(text, encoding="utf-8")
    (folder / "calls.csv").write_text("who,day,talk,ok\nA1,2026-11-02,60,yes\n", encoding="utf-8")
    assert_clean(run_cli("metrics", "calls.perfm", cwd=folder), (0, 1, 3))


REVISION = st.sampled_from(["HEAD", "HEAD~1", "HEAD~99999", "", "..", "main", "HEAD^", "HEAD@{1}", "0" * 40, "deadbeef",
                            "-x", "HEAD:", "v9.9", "\x1b[31m", "头"])
PATH = st.one_of(st.sampled_from(["policies/", "policies/supervisor.perf", "policies/../..", "/etc/passwd", "",
                                  ".", "policies/supervisor.test.perf", "grammar/", ":", "policies//", "\x00"]),
                 st.text(max_size=6))


@settings(max_examples=int(30 * SCALE), **SETTINGS)
@given(revision=REVISION, path=PATH)
def test_any_rev_path_is_read_or_a_command_line_mistake(run_cli, revision, path):
    assert_clean(run_cli("check", f"{revision}:{path}", cwd=REPO), (0, 1, 2))
