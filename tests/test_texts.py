"""Every table of fixed strings has the same keys in Chinese and English, and each
placeholder of a sentence is the same in both (a missing translation is a test failure,
never an empty box in a PDF or a KeyError in explain)."""

from __future__ import annotations

import re

import pytest

from perfrules.texts import EXPLAIN_WORDS, REASONS, TEXTS

PLACEHOLDER = re.compile(r"\{(\w+)\}")


@pytest.mark.parametrize("table", [TEXTS, EXPLAIN_WORDS, REASONS], ids=["packets", "explain", "reasons"])
def test_both_languages_say_everything(table):
    assert sorted(table) == ["en", "zh"]
    assert set(table["zh"]) == set(table["en"])
    for key in table["zh"]:
        assert set(PLACEHOLDER.findall(table["zh"][key])) == set(PLACEHOLDER.findall(table["en"][key])), key
        assert table["zh"][key].strip() and table["en"][key].strip(), key
