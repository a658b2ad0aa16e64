"""The parser tables shipped in the package (perfrules.parser_tables): they match the grammar,
parse like a parser built from it, and no parser cache is read from or written to a shared folder.

After editing grammar/perfrules.lark, regenerate them: ``python -m perfrules.parser_tables``.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

from conftest import CASES, POLICIES, REPO

from perfrules import parser_tables


def test_shipped_tables_are_made_from_this_grammar_and_lark():
    first = parser_tables.TABLES.read_bytes().partition(b"\n")[0] + b"\n"
    assert first == parser_tables.stamp(), "the grammar changed: run python -m perfrules.parser_tables"


def test_shipped_tables_parse_like_the_grammar():
    shipped, built = parser_tables.load_parser(), parser_tables.build_parser()
    assert shipped.source_path == "<deserialized>"  # really the shipped file, not a fallback
    files = sorted(POLICIES.glob("*.perf")) + sorted(CASES.glob("**/*.perf"))
    assert len(files) > 20
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            expected = built.parse(text)
        except Exception as error:  # noqa: BLE001 - a bad policy must fail the same way
            try:
                shipped.parse(text)
            except Exception as again:  # noqa: BLE001
                assert type(again) is type(error), path
                continue
            raise AssertionError(f"{path}: only the built parser fails")
        assert _flat(shipped.parse(text)) == _flat(expected), path


def _flat(tree) -> list:
    """The tree as a list of (rule, children's rules and tokens), walked without recursion:
    the PR116 cases nest 10,000 levels deep, beyond what `==` on lark trees can compare."""
    from lark import Tree

    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        found.append((node.data, tuple(child.data if isinstance(child, Tree) else (child.type, str(child))
                                       for child in node.children)))
        stack.extend(child for child in reversed(node.children) if isinstance(child, Tree))
    return found


def test_an_edited_grammar_falls_back_to_building(monkeypatch, tmp_path):
    edited = tmp_path / "perfrules.lark"
    edited.write_text((REPO / "grammar" / "perfrules.lark").read_text(encoding="utf-8") + "\n// edited\n",
                      encoding="utf-8")
    monkeypatch.setattr(parser_tables, "grammar_path", lambda: edited)
    assert parser_tables.load_parser().source_path != "<deserialized>"


class _Planted:
    """Unpickling this runs code: what an attacker would plant as lark's cache in /tmp."""

    def __reduce__(self):
        return (os.system, (f"touch {os.environ['PLANTED_MARKER']}",))


def test_no_parser_cache_is_read_or_written_in_the_temp_folder(tmp_path):
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    marker = tmp_path / "code-ran"
    os.environ["PLANTED_MARKER"] = str(marker)
    try:
        payload = pickle.dumps(_Planted())
    finally:
        del os.environ["PLANTED_MARKER"]
    for name in (".lark_cache_root_x_3_11.tmp", ".lark_cache_grammar_root_x_3_11.tmp"):
        (shared / name).write_bytes(payload)
    before = sorted(os.listdir(shared))
    env = {**os.environ, "TMPDIR": str(shared), "PYTHONPATH": str(REPO / "src")}
    result = subprocess.run([sys.executable, "-m", "perfrules", "check", str(POLICIES)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    assert sorted(os.listdir(shared)) == before  # nothing new written there either
