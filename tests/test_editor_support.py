"""Editor support (editors/vscode): the TextMate grammar knows exactly the language's keywords,
and colours the spec's example the way the parser reads it.

The keywords come from lark itself: every terminal of grammar/perfrules.lark that is a
plain word.  A small emulation of TextMate's matching (at each position the pattern that
matches first wins, earlier patterns on ties) colours every line of the repository's
policies and of the fmt golden cases; each token the lexer finds must get the scope of its kind.
"""

from __future__ import annotations

import json
import re

import pytest

from conftest import CASES, POLICIES, REPO
from perfrules.layout.printer import lex
from perfrules.parser import policy_parser

VSCODE = REPO / "editors" / "vscode"
GRAMMAR = json.loads((VSCODE / "syntaxes" / "perfrules.tmLanguage.json").read_text(encoding="utf-8"))
PACKAGE = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
CONFIGURATION = json.loads((VSCODE / "language-configuration.json").read_text(encoding="utf-8"))


def language_keywords() -> set[str]:
    return {terminal.pattern.value for terminal in policy_parser().terminals
            if terminal.pattern.type == "str" and terminal.pattern.value.isalpha()}


def patterns() -> list[dict]:
    """The grammar's top-level patterns, includes resolved, in the order TextMate tries them."""
    flat = []

    def add(pattern: dict) -> None:
        if "include" in pattern:
            add(GRAMMAR["repository"][pattern["include"].lstrip("#")])
        elif "patterns" in pattern and "match" not in pattern and "begin" not in pattern:
            for inner in pattern["patterns"]:
                add(inner)
        else:
            flat.append(pattern)

    for pattern in GRAMMAR["patterns"]:
        add(pattern)
    return flat


def grammar_keywords() -> set[str]:
    words = set()
    for pattern in patterns():
        if pattern.get("name", "").startswith("keyword") and re.fullmatch(r"\\b\(([a-z|]+)\)\\b", pattern["match"]):
            words.update(pattern["match"][3:-3].split("|"))
    return words


def test_the_textmate_keywords_are_exactly_the_grammars_keywords():
    keywords = language_keywords()
    assert len(keywords) >= 55 and {"policy", "kpi", "else", "within", "strength"} <= keywords
    assert grammar_keywords() == keywords


def _scopes(line: str) -> list[tuple[int, int, str]]:
    """(start, end, scope) of what the grammar colours in one line, TextMate's way."""
    compiled = []
    for pattern in patterns():
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


COLOURED = sorted(path for path in POLICIES.glob("*.perf") if not path.name.endswith(".test.perf")) + \
    sorted((CASES / "fmt").glob("*/expected.perf"))


@pytest.mark.parametrize("path", COLOURED, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_token_of_the_policies_gets_the_colour_of_its_kind(path):
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    keywords = language_keywords()
    lexed = lex(policy_parser(), text)
    checked = 0
    for token in lexed.tokens:
        scopes = _scopes(lines[token.line - 1])
        scope = next((name for start, end, name in scopes if start <= token.column - 1 < end), None)
        if token.value in keywords:
            assert scope is not None and scope.startswith("keyword"), (token, scope)
        elif token.type in ("NUMBER", "PERCENT", "DURATION", "DATE"):
            assert scope is not None and scope.startswith("constant.numeric"), (token, scope)
        elif token.type == "STRING":
            assert scope == "string.quoted.double.perfrules", (token, scope)
        elif token.type == "NAME":
            assert scope is None or scope.startswith(("storage.type", "support.function")), (token, scope)
        checked += 1
    for comment in lexed.comments:
        scopes = _scopes(lines[comment.line - 1])
        column = lines[comment.line - 1].index(comment.text)
        assert any(start == column and name.startswith("comment") for start, _, name in scopes), comment
    assert checked > 20


def test_the_extension_declares_perf_files_with_its_grammar_and_configuration():
    language, = PACKAGE["contributes"]["languages"]
    grammar, = PACKAGE["contributes"]["grammars"]
    assert language["extensions"] == [".perf"] and language["id"] == grammar["language"] == "perfrules"
    assert grammar["scopeName"] == GRAMMAR["scopeName"] == "source.perfrules"
    assert (VSCODE / grammar["path"]).is_file() and (VSCODE / language["configuration"]).is_file()
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
