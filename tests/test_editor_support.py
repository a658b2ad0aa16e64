"""Editor support (editors/vscode): the TextMate grammars (policies, and test files) know
exactly their language's keywords, and colour the repository's files the way the parser
reads them.

The keywords come from lark itself: every terminal of grammar/perfrules.lark (and of the
test files' grammar/tests.lark) that is a plain word.  A small emulation of TextMate's matching (at each position the pattern that
matches first wins, earlier patterns on ties) colours every line of the repository's
policies and of the fmt golden cases; each token the lexer finds must get the scope of its kind.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import CASES, POLICIES, REPO

from perfrules.layout.printer import lex
from perfrules.parser import policy_parser

VSCODE = REPO / "editors" / "vscode"
PACKAGE = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
CONFIGURATION = json.loads((VSCODE / "language-configuration.json").read_text(encoding="utf-8"))


def _load(name: str) -> dict:
    return json.loads((VSCODE / "syntaxes" / name).read_text(encoding="utf-8"))


GRAMMARS = {grammar["scopeName"]: _load(grammar["path"].rsplit("/", 1)[1]) for grammar in PACKAGE["contributes"]["grammars"]}
POLICY_SCOPE, TEST_SCOPE = "source.perfrules", "source.perfrules-test"


def keywords_of(parser) -> set[str]:
    """The words of a lark grammar: its terminals that are a plain word (``base_score`` too)."""
    return {terminal.pattern.value for terminal in parser.terminals
            if terminal.pattern.type == "str" and terminal.pattern.value.isidentifier()}


def patterns(scope: str) -> list[dict]:
    """A grammar's top-level patterns, includes resolved (``#name`` and ``source.x#name``), in
    the order TextMate tries them."""
    flat = []

    def add(pattern: dict, grammar: dict) -> None:
        if "include" in pattern:
            where, _, name = pattern["include"].partition("#")
            owner = GRAMMARS[where] if where else grammar
            add(owner["repository"][name], owner)
        elif "patterns" in pattern and "match" not in pattern and "begin" not in pattern:
            for inner in pattern["patterns"]:
                add(inner, grammar)
        else:
            flat.append(pattern)

    for pattern in GRAMMARS[scope]["patterns"]:
        add(pattern, GRAMMARS[scope])
    return flat


def grammar_keywords(scope: str) -> set[str]:
    words = set()
    for pattern in patterns(scope):
        if pattern.get("name", "").startswith("keyword") and re.fullmatch(r"\\b\(([a-z_|]+)\)\\b", pattern["match"]):
            words.update(pattern["match"][3:-3].split("|"))
    return words


def test_the_textmate_keywords_are_exactly_the_grammars_keywords():
    keywords = keywords_of(policy_parser())
    assert len(keywords) >= 55 and {"policy", "kpi", "else", "within", "strength"} <= keywords
    assert grammar_keywords(POLICY_SCOPE) == keywords


def _test_file_kind():
    from perfrules.layout.fmt import kind_of

    kind = kind_of(Path("x.test.perf"))
    if kind.name != "test file":
        pytest.skip("test files (grammar/tests.lark) come with `perfrules test`")
    return kind


def test_the_test_file_textmate_keywords_are_exactly_the_test_grammars_keywords():
    keywords = keywords_of(_test_file_kind().parser())
    assert {"tests", "given", "agent", "expect", "missing"} <= keywords
    assert grammar_keywords(TEST_SCOPE) == keywords


def _scopes(scope: str, line: str) -> list[tuple[int, int, str]]:
    """(start, end, scope) of what the grammar colours in one line, TextMate's way."""
    compiled = []
    for pattern in patterns(scope):
        if "begin" in pattern:  # the string: its begin to its end, escapes inside
            compiled.append((re.compile(r'"(?:[^"\\]|\\.)*(?:"|$)'), pattern["name"], None))
        else:
            name = pattern.get("name") or pattern["captures"]["1"]["name"]
            compiled.append((re.compile(pattern["match"]), name, 1 if "captures" in pattern else None))
    found, position = [], 0
    while position < len(line):
        best = None
        for regex, name, group in compiled:
            match = regex.search(line, position)
            if match and match.end() > match.start() and (best is None or match.start() < best[0].start()):
                best = (match, name, group)
        if best is None:
            break
        match, name, group = best
        found.append((match.start(group or 0), match.end(group or 0), name))
        position = match.end()
    return found


def assert_coloured_by_kind(scope: str, parser, text: str) -> int:
    lines = text.split("\n")
    keywords = keywords_of(parser)
    lexed = lex(parser, text)
    for token in lexed.tokens:
        scopes = _scopes(scope, lines[token.line - 1])
        found = next((name for start, end, name in scopes if start <= token.column - 1 < end), None)
        if token.value in keywords:
            assert found is not None and found.startswith("keyword"), (token, found)
        elif token.type in ("NUMBER", "PERCENT", "DURATION", "DATE", "PERIOD"):
            assert found is not None and found.startswith("constant.numeric"), (token, found)
        elif token.type == "STRING":
            assert found == "string.quoted.double.perfrules", (token, found)
        elif token.type == "NAME":
            assert found is None or found.startswith(("storage.type", "support.function")), (token, found)
    for comment in lexed.comments:
        scopes = _scopes(scope, lines[comment.line - 1])
        column = lines[comment.line - 1].index(comment.text)
        assert any(start == column and name.startswith("comment") for start, _, name in scopes), comment
    return len(lexed.tokens)


COLOURED = sorted(path for path in POLICIES.glob("*.perf") if not path.name.endswith(".test.perf")) + \
    sorted((CASES / "fmt").glob("*/expected.perf"))


@pytest.mark.parametrize("path", COLOURED, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_token_of_the_policies_gets_the_colour_of_its_kind(path):
    assert assert_coloured_by_kind(POLICY_SCOPE, policy_parser(), path.read_text(encoding="utf-8")) > 20


def test_every_token_of_the_test_files_gets_the_colour_of_its_kind():
    parser = _test_file_kind().parser()
    files = sorted(POLICIES.glob("*.test.perf"))
    assert files
    for path in files:
        assert assert_coloured_by_kind(TEST_SCOPE, parser, path.read_text(encoding="utf-8")) > 20, path


def test_the_extension_declares_perf_files_with_its_grammar_and_configuration():
    language, tests = PACKAGE["contributes"]["languages"]
    grammar, tests_grammar = PACKAGE["contributes"]["grammars"]
    assert language["extensions"] == [".perf"] and language["id"] == grammar["language"] == "perfrules"
    assert tests["filenamePatterns"] == ["*.test.perf"] and tests["id"] == tests_grammar["language"] == "perfrules-test"
    assert (grammar["scopeName"], tests_grammar["scopeName"]) == (POLICY_SCOPE, TEST_SCOPE)
    for item in (language, tests):
        assert (VSCODE / item["configuration"]).is_file()
    assert CONFIGURATION["comments"] == {"lineComment": "#"}
    assert ["{", "}"] in CONFIGURATION["brackets"] and ["(", ")"] in CONFIGURATION["brackets"]
    assert {"open": "\"", "close": "\"", "notIn": ["string", "comment"]} in CONFIGURATION["autoClosingPairs"]
    assert PACKAGE["contributes"]["configurationDefaults"]["[perfrules]"]["editor.tabSize"] == 4


def test_indentation_grows_after_an_opening_brace_and_not_after_one_in_a_string_or_comment():
    increase = re.compile(CONFIGURATION["indentationRules"]["increaseIndentPattern"])
    assert increase.search('    kpi "顾客满意度" weight 40% {')
    assert increase.search('    kpi "a{b" weight 40% {  # comment')
    assert not increase.search('    version "{"')
    assert not increase.search("    roles agent  # {")
