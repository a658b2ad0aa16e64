"""`perfrules fmt`: the canonical layout (golden cases in tests/cases/fmt), its proof on every
`.perf` file of the repository, and the command's exact outputs and exit codes.

Set PERFRULES_UPDATE_GOLDEN=1 to write each case's expected.perf from the current output;
read the diff before committing it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import CASES, POLICIES, REPO, UPDATE_GOLDEN

from perfrules.layout.fmt import kind_of, layout_file
from perfrules.layout.printer import canonical_layout, lex
from perfrules.parser import parse_policy, policy_parser
from perfrules.source import SourceFile

FMT_CASES = sorted(path for path in (CASES / "fmt").iterdir() if path.is_dir())


def tree(text: str):
    return parse_policy(SourceFile("x.perf", text)).policy


# ---- golden layouts -------------------------------------------------------------------------------


def case_files(case: Path) -> tuple[Path, Path]:
    """A case's input (``input.perf``, or ``input.test.perf`` for a test file) and expected file."""
    source = next(case.glob("input*.perf"))
    return source, case / source.name.replace("input", "expected", 1)


@pytest.mark.parametrize("case", FMT_CASES, ids=[path.name for path in FMT_CASES])
def test_layout_matches_golden(case, run_cli, tmp_path):
    source_file, expected_file = case_files(case)
    name = source_file.name
    source = source_file.read_bytes()
    (tmp_path / name).write_bytes(source)
    result = run_cli("fmt", name, cwd=tmp_path)
    written = (tmp_path / name).read_bytes()
    if UPDATE_GOLDEN:
        expected_file.write_bytes(written)
    expected = expected_file.read_bytes()
    assert written == expected
    assert result.exit_code == 0, result.stderr
    if source == expected:
        assert result.stderr == "1 file already formatted\n"
    else:
        assert result.stderr == f"reformatted {name}\n1 file of 1 reformatted\n"
    assert result.stdout == ""
    again = run_cli("fmt", "--check", name, cwd=tmp_path)
    assert (again.exit_code, again.stderr) == (0, "1 file already formatted\n")
    kind = kind_of(source_file)
    assert kind.parse(SourceFile(name, expected.decode()))[0] == kind.parse(SourceFile(name, source.decode()))[0] is not None


def test_the_golden_cases_change_what_they_say():
    changed = [case.name for case in FMT_CASES if len({path.read_bytes() for path in case_files(case)}) == 2]
    assert len(changed) == len(FMT_CASES) - 1, changed  # all but already-canonical
    comments = (CASES / "fmt" / "comments-everywhere" / "expected.perf").read_text(encoding="utf-8")
    assert "    }  # after the closing brace\n" in comments
    assert "    # a trailing comment in the middle of an expression\n    let gap = csat - 90%\n" in comments
    tests = (CASES / "fmt" / "test-file" / "expected.test.perf").read_text(encoding="utf-8")
    assert "        agent A1 { csat = 87%  qa_commendations = 2 }\n        agent A2 {}  # an agent" in tests
    assert "        agent A4 {\n            reply_within_10min = 85%\n" in tests  # 104 columns on one line


# ---- every file of the repository -----------------------------------------------------------------------


def _repository_files() -> list[Path]:
    return sorted(path for folder in ("policies", "examples", "tests", "docs") for path in (REPO / folder).rglob("*.perf"))


REPOSITORY_FILES = _repository_files()


def test_every_perf_file_of_the_repository_keeps_its_meaning_and_is_stable():
    """Every file that parses (policies, and test files with their own grammar): same tokens,
    same comments, same tree (spans aside), and a second fmt changes nothing.  Files with
    syntax errors are left as they are."""
    formatted = untouched = 0
    for path in REPOSITORY_FILES:
        item = layout_file(path, str(path.relative_to(REPO)))
        if item.formatted is None:
            assert any(diagnostic.severity.value == "error" for diagnostic in item.diagnostics), path
            untouched += 1
            continue
        formatted += 1
        kind, text = kind_of(path), item.formatted_text
        parser = kind.parser()
        assert kind.parse(SourceFile("x", text))[0] == kind.parse(SourceFile("x", item.text))[0] is not None, path
        assert [(t.type, t.value) for t in lex(parser, text).tokens] == [(t.type, t.value) for t in lex(parser, item.text).tokens]
        assert [c.text for c in lex(parser, text).comments] == [c.text.rstrip() for c in lex(parser, item.text).comments]
        assert canonical_layout(parser, text, kind.inline) == text, path
    assert formatted >= 200 and untouched >= 40, (formatted, untouched)


def test_the_repositorys_policies_are_in_the_canonical_layout(run_cli):
    result = run_cli("fmt", "--check", str(POLICIES))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"{len(list(POLICIES.glob('*.perf')))} files already formatted\n"  # policies and their tests


# ---- the command ----------------------------------------------------------------------------------------

MESSY = 'policy "p" { version "1" roles agent\n    metric csat: percent\n kpi "k" weight 100% { csat >= 90% => 100  else => 0 } }\n'
CANONICAL = ('policy "p" {\n    version "1"\n    roles agent\n    metric csat: percent\n    kpi "k" weight 100% {\n'
             '        csat >= 90% => 100\n        else => 0\n    }\n}\n')
BROKEN = 'policy "p" {\n    version "1"\n    roles agent\n    kpi "k" weight 100% { csat >= 90% => }\n}\n'


@pytest.fixture
def folder(tmp_path) -> Path:
    (tmp_path / "good.perf").write_text(CANONICAL, encoding="utf-8")
    (tmp_path / "messy.perf").write_text(MESSY, encoding="utf-8")
    return tmp_path


def test_check_changes_nothing_and_names_the_files_that_would_change(run_cli, folder):
    result = run_cli("fmt", "--check", ".", cwd=folder)
    assert result.exit_code == 1
    assert result.stderr == ("would reformat messy.perf\n"
                             "1 file of 2 would be reformatted (hint: run perfrules fmt to rewrite them)\n")
    assert result.stdout == ""
    assert (folder / "messy.perf").read_text(encoding="utf-8") == MESSY


def test_fmt_rewrites_then_check_passes(run_cli, folder):
    result = run_cli("fmt", ".", cwd=folder)
    assert (result.exit_code, result.stderr) == (0, "reformatted messy.perf\n1 file of 2 reformatted\n")
    assert (folder / "messy.perf").read_text(encoding="utf-8") == CANONICAL
    again = run_cli("fmt", "--check", ".", cwd=folder)
    assert (again.exit_code, again.stderr) == (0, "2 files already formatted\n")


def test_diff_prints_a_unified_diff_and_changes_nothing(run_cli, folder):
    result = run_cli("fmt", "--diff", "messy.perf", cwd=folder)
    assert result.exit_code == 0
    assert result.stdout == (
        "--- messy.perf\n+++ messy.perf (formatted)\n@@ -1,3 +1,9 @@\n"
        '-policy "p" { version "1" roles agent\n'
        '+policy "p" {\n+    version "1"\n+    roles agent\n'
        "     metric csat: percent\n"
        '- kpi "k" weight 100% { csat >= 90% => 100  else => 0 } }\n'
        '+    kpi "k" weight 100% {\n+        csat >= 90% => 100\n+        else => 0\n+    }\n+}\n')
    assert result.stderr == "1 file of 1 would be reformatted (hint: run perfrules fmt to rewrite them)\n"
    assert (folder / "messy.perf").read_text(encoding="utf-8") == MESSY
    both = run_cli("fmt", "--check", "--diff", "messy.perf", "good.perf", cwd=folder)
    assert both.exit_code == 1 and both.stdout == result.stdout
    assert both.stderr.startswith("would reformat messy.perf\n")


def test_a_file_with_syntax_errors_is_left_untouched_with_its_diagnostics(run_cli, folder):
    (folder / "broken.perf").write_text(BROKEN, encoding="utf-8")
    result = run_cli("fmt", ".", cwd=folder)
    assert result.exit_code == 1
    assert result.stderr == (
        "broken.perf:4:42: error PR001: unexpected `}`: expected one of a name, a number, `+`, `-`\n"
        '    kpi "k" weight 100% { csat >= 90% => }\n'
        "                                         ^\n\n"
        "reformatted messy.perf\n"
        "1 file of 3 reformatted; 1 file left untouched: it has errors\n")
    assert (folder / "broken.perf").read_text(encoding="utf-8") == BROKEN
    assert (folder / "messy.perf").read_text(encoding="utf-8") == CANONICAL
    check = run_cli("fmt", "--check", "broken.perf", cwd=folder)
    assert (check.exit_code, check.stderr.splitlines()[-1]) == (1, "nothing formatted; 1 file left untouched: it has errors")


def test_a_file_that_is_not_utf8_is_reported_and_left_untouched(run_cli, tmp_path):
    data = CANONICAL.replace('"p"', '"考核"').encode("gb18030")
    (tmp_path / "gbk.perf").write_bytes(data)
    result = run_cli("fmt", "gbk.perf", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith("gbk.perf:1:9: error PR010: the file is not UTF-8 (byte 0xbf at offset 8)\n")
    assert (tmp_path / "gbk.perf").read_bytes() == data


def test_windows_line_endings_and_a_byte_order_mark_are_kept(run_cli, tmp_path):
    (tmp_path / "crlf.perf").write_bytes(b"\xef\xbb\xbf" + MESSY.replace("\n", "\r\n").encode())
    (tmp_path / "mixed.perf").write_bytes(CANONICAL.replace("\n", "\r\n", 1).encode())
    result = run_cli("fmt", ".", cwd=tmp_path)
    assert result.exit_code == 0
    assert (tmp_path / "crlf.perf").read_bytes() == b"\xef\xbb\xbf" + CANONICAL.replace("\n", "\r\n").encode()
    assert (tmp_path / "mixed.perf").read_bytes() == CANONICAL.encode()  # mixed endings become \n
    assert run_cli("fmt", "--check", ".", cwd=tmp_path).exit_code == 0


def test_a_folder_means_every_perf_file_under_it_outside_hidden_folders(run_cli, tmp_path):
    for name in ("a/one.perf", "a/b/two.perf", ".git/three.perf", "notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(MESSY, encoding="utf-8")
    result = run_cli("fmt", "--check", ".", cwd=tmp_path)
    assert result.stderr == ("would reformat a/b/two.perf\nwould reformat a/one.perf\n"
                             "2 files of 2 would be reformatted (hint: run perfrules fmt to rewrite them)\n")


@pytest.mark.parametrize("arguments,message", [
    (["nowhere.perf"], "perfrules: error: nowhere.perf: no such file or folder\n"),
    (["empty"], "perfrules: error: empty: the folder holds no *.perf files\n"),
])
def test_paths_that_name_nothing_are_command_line_mistakes(run_cli, tmp_path, arguments, message):
    (tmp_path / "empty").mkdir()
    result = run_cli("fmt", *arguments, cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (2, message)


def test_terminal_escapes_in_a_policy_do_not_reach_the_terminal_through_the_diff(run_cli, tmp_path):
    (tmp_path / "esc.perf").write_text(MESSY.replace('"p"', '"\x1b[31mred"'), encoding="utf-8")
    result = run_cli("fmt", "--diff", "esc.perf", cwd=tmp_path)
    assert "\x1b" not in result.stdout and '"\\x1b[31mred"' in result.stdout


def test_a_printer_that_would_change_the_meaning_is_an_internal_error_and_writes_nothing(run_cli, folder, monkeypatch):
    from perfrules.layout import fmt

    monkeypatch.setattr(fmt, "canonical_layout", lambda parser, text, inline: text.replace(">= 90%", ">= 80%"))
    result = run_cli("fmt", ".", cwd=folder)
    assert result.exit_code == 4
    assert result.stderr == ("perfrules: internal error: PrinterBug: good.perf: the canonical layout was refused "
                             "because the tokens changed; the file is unchanged (this is a bug in perfrules; "
                             "run again with --debug for the traceback)\n")
    assert (folder / "messy.perf").read_text(encoding="utf-8") == MESSY


def test_the_layout_rewriters_of_the_layout_test_all_give_the_same_canonical_text():
    """A policy on one line, block by block or as written: one canonical layout."""
    from test_layout_independence import blocks_on_one_line, whole_file_on_one_line

    parser = policy_parser()
    text = (POLICIES / "supervisor.perf").read_text(encoding="utf-8")
    without_comments_or_blanks = canonical_layout(parser, whole_file_on_one_line(text))
    assert canonical_layout(parser, blocks_on_one_line(text)) == without_comments_or_blanks
    expected = "\n".join(line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")) + "\n"
    assert without_comments_or_blanks == expected


def test_the_examples_of_the_fmt_and_language_docs_are_in_the_canonical_layout():
    import re

    parser = policy_parser()
    for doc in ("fmt.md", "language.md"):
        blocks = re.findall(r"```perf\n(.*?)```", (REPO / "docs" / doc).read_text(encoding="utf-8"), re.DOTALL)
        policies = [block for block in blocks if block.lstrip().startswith(("policy", "#")) and tree(block) is not None]
        assert policies, doc
        for block in policies:
            assert canonical_layout(parser, block) == block


def test_fmt_in_a_copy_of_the_repository_policies_changes_nothing(run_cli, tmp_path):
    shutil.copytree(POLICIES, tmp_path / "policies")
    result = run_cli("fmt", "policies", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (0, f"{len(list(POLICIES.glob('*.perf')))} files already formatted\n")


# ---- another grammar: the printer knows no statement by name -------------------------------------------

TOY_GRAMMAR = r"""
start: suite
suite: "suite" STRING "{" (setting | case)* "}"
setting: NAME "=" value
case: "case" STRING "{" (row | check)* "}"
row: "row" NAME "{" setting* "}"
check: "check" NAME NAME (">=" | "<=") value
?value: NUMBER | STRING | NAME
%import common.CNAME -> NAME
%import common.ESCAPED_STRING -> STRING
%import common (NUMBER, WS)
COMMENT: /#[^\n]*/
%ignore WS
%ignore COMMENT
"""


def test_a_grammar_of_another_shape_is_laid_out_by_the_same_rules_with_inline_blocks():
    """Like the test files of language.md §15: `row` blocks stay on one line when they hold
    no comment and fit in 100 columns, their items two spaces apart."""
    from lark import Lark

    parser = Lark(TOY_GRAMMAR, parser="lalr", lexer="basic", propagate_positions=True, maybe_placeholders=False)
    text = ('suite "s" { base = 1 other="x"\n case "c" { row A { x = 1 y = 2 } row B {}\n'
            ' row C { # why\n x = 3 }\n row D { ' + " ".join(f"value{i} = {i}" for i in range(12)) + ' }\n'
            ' check A x >= 1 } }\n')
    assert canonical_layout(parser, text, frozenset({"row"})) == (
        'suite "s" {\n'
        "    base = 1\n"
        '    other = "x"\n'
        '    case "c" {\n'
        "        row A { x = 1  y = 2 }\n"
        "        row B {}\n"
        "        row C {  # why\n"
        "            x = 3\n"
        "        }\n"
        "        row D {\n" + "".join(f"            value{i} = {i}\n" for i in range(12)) +
        "        }\n"
        "        check A x >= 1\n"
        "    }\n"
        "}\n")
    formatted = canonical_layout(parser, text, frozenset({"row"}))
    assert canonical_layout(parser, formatted, frozenset({"row"})) == formatted
    assert "row A {\n            x = 1\n            y = 2\n        }" in canonical_layout(parser, text)


def test_a_test_file_with_syntax_errors_is_left_untouched_with_its_own_diagnostics(run_cli, tmp_path):
    broken = 'tests for "p.perf" {\n    test "x" { agent A1 { csat = } }\n}\n'
    (tmp_path / "b.test.perf").write_text(broken, encoding="utf-8")
    result = run_cli("fmt", "b.test.perf", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr == (
        "b.test.perf:2:34: error PR001: unexpected `}`: expected a value\n"
        '    test "x" { agent A1 { csat = } }\n'
        "                                 ^\n"
        '  hint: write a value as in a policy: 95%, 6min, 6000, "text", or missing\n\n'
        "nothing formatted; 1 file left untouched: it has errors\n")
    assert (tmp_path / "b.test.perf").read_text(encoding="utf-8") == broken


def test_metric_definitions_named_to_fmt_are_a_command_line_mistake(run_cli, tmp_path):
    """fmt lays out policies and tests; a *.perfm named on the command line is not read as a
    policy (which said "expected `policy`, found 'metrics'"), and nothing is written."""
    definitions = REPO / "examples" / "metrics" / "servicenow.perfm"
    (tmp_path / "calls.perfm").write_bytes(definitions.read_bytes())
    (tmp_path / "CALLS.PERFM").write_bytes(definitions.read_bytes())
    upper = run_cli("fmt", "CALLS.PERFM", cwd=tmp_path)
    assert (upper.exit_code, upper.stderr) == (2, "perfrules: error: CALLS.PERFM: metric definitions (*.perfm) have "
                                                  "no canonical layout; perfrules fmt lays out policies and their tests "
                                                  "(*.perf) (hint: perfrules check CALLS.PERFM checks it)\n")
    for options in ((), ("--check",), ("--diff",)):
        result = run_cli("fmt", *options, "calls.perfm", cwd=tmp_path)
        assert (result.exit_code, result.stdout) == (2, ""), options
        assert result.stderr == ("perfrules: error: calls.perfm: metric definitions (*.perfm) have no canonical "
                                 "layout; perfrules fmt lays out policies and their tests (*.perf) (hint: perfrules "
                                 "check calls.perfm checks it)\n")
    assert (tmp_path / "calls.perfm").read_bytes() == definitions.read_bytes()
