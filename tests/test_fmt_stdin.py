"""`perfrules fmt -`: a policy or test file read from standard input and its canonical layout
written to standard output, as editors run formatters (`ruff format -`, `black -`): every golden
layout of tests/cases/fmt through the pipe, `--check` and `--diff`, errors located as
`<stdin>:LINE:COL` with nothing on stdout, line endings and byte-order mark kept."""

from __future__ import annotations

import pytest
from conftest import CASES
from test_fmt import BROKEN, CANONICAL, FMT_CASES, MESSY, case_files


@pytest.mark.parametrize("case", FMT_CASES, ids=[path.name for path in FMT_CASES])
def test_every_golden_layout_through_the_pipe(case, run_cli):
    """A test file (the test-file case) is told by its first word, `tests`: its agents stay on one line."""
    source, expected = case_files(case)
    result = run_cli("fmt", "-", input=source.read_bytes())
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout_bytes == expected.read_bytes()


def test_a_canonical_policy_comes_back_unchanged(run_cli):
    result = run_cli("fmt", "-", input=CANONICAL.encode())
    assert (result.exit_code, result.stdout, result.stderr) == (0, CANONICAL, "")


def test_check_prints_nothing_and_exits_1_when_the_layout_would_change(run_cli):
    changed = run_cli("fmt", "--check", "-", input=MESSY.encode())
    assert (changed.exit_code, changed.stdout, changed.stderr) == (1, "", "would reformat <stdin>\n")
    canonical = run_cli("fmt", "--check", "-", input=CANONICAL.encode())
    assert (canonical.exit_code, canonical.stdout, canonical.stderr) == (0, "", "")


def test_diff_names_the_standard_input(run_cli):
    result = run_cli("fmt", "--diff", "-", input=MESSY.encode())
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "--- <stdin>\n+++ <stdin> (formatted)\n@@ -1,3 +1,9 @@\n"
        '-policy "p" { version "1" roles agent\n'
        '+policy "p" {\n+    version "1"\n+    roles agent\n'
        "     metric csat: percent\n"
        '- kpi "k" weight 100% { csat >= 90% => 100  else => 0 } }\n'
        '+    kpi "k" weight 100% {\n+        csat >= 90% => 100\n+        else => 0\n+    }\n+}\n')
    both = run_cli("fmt", "--check", "--diff", "-", input=MESSY.encode())
    assert (both.exit_code, both.stdout, both.stderr) == (1, result.stdout, "would reformat <stdin>\n")


def test_a_syntax_error_is_located_in_stdin_and_nothing_is_written(run_cli):
    result = run_cli("fmt", "-", input=BROKEN.encode())
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "<stdin>:4:42: error PR001: unexpected `}`: expected one of a name, a number, `+`, `-`\n"
        '    kpi "k" weight 100% { csat >= 90% => }\n'
        "                                         ^\n\n")


def test_a_test_file_with_an_error_is_parsed_as_a_test_file(run_cli):
    result = run_cli("fmt", "-", input='# tests of p\ntests for "p.perf" {\n    test "x" { agent A1 { csat = } }\n}\n')
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "<stdin>:3:34: error PR001: unexpected `}`: expected a value\n"
        '    test "x" { agent A1 { csat = } }\n'
        "                                 ^\n"
        '  hint: write a value as in a policy: 95%, 6min, 6000, "text", or missing\n\n')


def test_windows_line_endings_and_a_byte_order_mark_are_kept(run_cli):
    result = run_cli("fmt", "-", input=b"\xef\xbb\xbf" + MESSY.replace("\n", "\r\n").encode())
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == b"\xef\xbb\xbf" + CANONICAL.replace("\n", "\r\n").encode()


def test_not_utf8_or_too_large_is_a_located_error(run_cli):
    not_utf8 = run_cli("fmt", "-", input=CANONICAL.replace('"p"', '"考核"').encode("gb18030"))
    assert (not_utf8.exit_code, not_utf8.stdout) == (1, "")
    assert not_utf8.stderr.startswith("<stdin>:1:9: error PR010: the file is not UTF-8 (byte 0xbf at offset 8)\n")
    huge = run_cli("fmt", "-", input=CANONICAL.encode() + b"#" * (10 * 1024 * 1024))
    assert (huge.exit_code, huge.stdout) == (1, "")
    assert huge.stderr == ("<stdin>:1:1: error PR010: cannot read the file: standard input holds more than 10 MB; "
                           "a policy file holds at most 10 MB\n\n")


def test_standard_input_is_formatted_on_its_own(run_cli, tmp_path):
    (tmp_path / "good.perf").write_text(CANONICAL, encoding="utf-8")
    result = run_cli("fmt", "-", "good.perf", cwd=tmp_path, input=MESSY.encode())
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "perfrules: error: -: standard input is formatted on its own (perfrules fmt -); give the files to "
               "another perfrules fmt\n")


def test_terminal_escapes_do_not_reach_a_terminal(run_cli, monkeypatch):
    """Piped, the text is exact (an editor replaces its buffer with it); shown on a terminal, a
    control character in a string is escaped, as in every other output."""
    import perfrules.cli

    hostile = MESSY.replace('"p"', '"\x1b]8;;http://x\x07red"')
    piped = run_cli("fmt", "-", input=hostile.encode())
    assert piped.stdout == CANONICAL.replace('"p"', '"\x1b]8;;http://x\x07red"')
    monkeypatch.setattr(perfrules.cli, "_on_terminal", lambda: True)
    shown = run_cli("fmt", "-", input=hostile.encode())
    assert shown.stdout == CANONICAL.replace('"p"', '"\\x1b]8;;http://x\\x07red"')


def test_the_fmt_cases_hold_a_test_file():
    assert (CASES / "fmt" / "test-file" / "input.test.perf").is_file()
