"""docs/diagnostics.md documents every code of perfrules.diagnostics.CODES, and its examples work.

Each code has exactly one section headed ``## PRnnn: <title>`` with the title of
CODES.  In a section with ```perf blocks, the first block (Bad) must produce a
diagnostic with that code, and the second (Good) must produce no diagnostic with that
code and no error at all.  Codes that one file cannot show (an unreadable file, two
policies that clash) are described with ```text blocks instead; for the two-policy
codes, the policies shown are checked together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from conftest import REPO
from perfrules.diagnostics import CODES, render_text
from perfrules.workspace import load_policies

DOC = REPO / "docs" / "diagnostics.md"

# Codes whose situation cannot be written as one policy text: shown with ```text blocks.
NOT_ONE_FILE = {"PR010", "PR501", "PR502", "PR601", "PR602", "PR603"}
# A test of a policy other than the example (a level named `excluded`): tests/test_policy_tests.py.
NOT_ONE_FILE |= {"PR907"}
# An expression hundreds of levels deep: shown abridged (tests/cases/check/pr116-* hold whole files).
NOT_ONE_FILE |= {"PR116"}
# Codes of metric definitions (*.perfm, not policies): shown with ```text blocks, their outputs
# checked by tests/test_metrics_cli.py.
NOT_ONE_FILE |= {"PR801", "PR802", "PR803", "PR804", "PR805"}
# Codes about policy test files: their examples are ```perf-test blocks, run as policy.test.perf
# beside a copy of policies/after_sales_agent.perf.
TEST_FILE_CODES = {code for code in CODES if code.startswith("PR9")}

HEADING = re.compile(r"^## (PR\d{3}): (.*?)\s*$")
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


@dataclass
class Section:
    code: str
    title: str
    line: int
    body: str = ""
    blocks: list[tuple[str, str]] = field(default_factory=list)

    def blocks_of(self, info: str) -> list[str]:
        return [text for kind, text in self.blocks if kind == info]


def read_sections() -> list[Section]:
    assert DOC.is_file(), f"{DOC.relative_to(REPO)} is missing"
    sections: list[Section] = []
    body: list[str] = []
    in_fence = False
    for number, line in enumerate(DOC.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("```"):
            in_fence = not in_fence
        match = None if in_fence else HEADING.match(line)
        if match or (not in_fence and line.startswith("## ") and sections):
            if sections:
                sections[-1].body = "\n".join(body) + "\n"
            body = []
            if match:
                sections.append(Section(match.group(1), match.group(2), number))
            continue
        body.append(line)
    if sections:
        sections[-1].body = "\n".join(body) + "\n"
    for section in sections:
        section.blocks = [(info.strip(), text) for info, text in FENCE.findall(section.body)]
    return sections


@pytest.fixture(scope="module")
def sections() -> list[Section]:
    return read_sections()


def section_for(code: str, sections: list[Section]) -> Section:
    found = [section for section in sections if section.code == code]
    title = CODES[code].title
    assert found, f"docs/diagnostics.md has no section for {code}: add '## {code}: {title}'"
    lines = ", ".join(str(section.line) for section in found)
    assert len(found) == 1, f"docs/diagnostics.md has {len(found)} sections for {code} (lines {lines}); keep one"
    return found[0]


def check(text: str, folder, code: str = ""):
    """Check ``text`` as ``folder/policy.perf`` (a test file's as ``folder/policy.test.perf``, run);
    returns the file as displayed and the diagnostics."""
    folder.mkdir(parents=True, exist_ok=True)
    if code in TEST_FILE_CODES:
        from conftest import POLICIES
        from perfrules.policytest.session import run_test_files

        (folder / "after_sales_agent.perf").write_bytes((POLICIES / "after_sales_agent.perf").read_bytes())
        path = folder / "policy.test.perf"
        path.write_text(text, encoding="utf-8")
        return str(path), run_test_files([str(path)]).diagnostics
    path = folder / "policy.perf"
    path.write_text(text, encoding="utf-8")
    return str(path), load_policies([str(path)]).diagnostics


def shown(diagnostics, texts: dict[str, str]) -> str:
    if not diagnostics:
        return "(no diagnostics)"
    return "\n".join(render_text(item, texts.get(item.file)) for item in diagnostics)


@pytest.mark.parametrize("code", list(CODES))
def test_code_has_one_section_with_its_title(code, sections):
    section = section_for(code, sections)
    assert section.title == CODES[code].title, (
        f"{code}: the heading on line {section.line} says '{section.title}', "
        f"but CODES says '{CODES[code].title}'"
    )


def test_sections_are_known_codes_in_code_order(sections):
    unknown = [f"{section.code} (line {section.line})" for section in sections if section.code not in CODES]
    assert not unknown, f"docs/diagnostics.md documents codes that CODES does not have: {', '.join(unknown)}"
    order = list(CODES)
    documented = [section.code for section in sections]
    assert documented == sorted(documented, key=order.index), "sections of docs/diagnostics.md are not in code order"


@pytest.mark.parametrize("code", list(CODES))
def test_examples_of_code(code, sections, tmp_path):
    section = section_for(code, sections)
    examples = section.blocks_of("perf-test" if code in TEST_FILE_CODES else "perf")
    if code in NOT_ONE_FILE and not examples:
        assert section.blocks_of("text"), f"{code}: describe the situation with ```text blocks"
        return
    assert len(examples) >= 2, f"{code}: the section needs a ```perf Bad example and a ```perf Good example"
    bad, good = examples[0], examples[1]

    bad_file, bad_diagnostics = check(bad, tmp_path / "bad", code)
    assert any(item.code == code for item in bad_diagnostics), (
        f"{code}: the Bad example of docs/diagnostics.md does not produce {code}; it gives:\n"
        + shown(bad_diagnostics, {bad_file: bad})
    )

    good_file, good_diagnostics = check(good, tmp_path / "good", code)
    wrong = [item for item in good_diagnostics if item.code == code or item.is_error]
    assert not wrong, (
        f"{code}: the Good example of docs/diagnostics.md still has problems:\n"
        + shown(wrong, {good_file: good})
    )


@pytest.mark.parametrize("code", sorted(code for code in NOT_ONE_FILE if code.startswith("PR5")))
def test_policies_shown_together_produce_code(code, sections, tmp_path):
    """PR501/PR502 show two policy files as ```text blocks: checked together they give the code."""
    section = section_for(code, sections)
    policies = [text for text in section.blocks_of("text") if text.lstrip().startswith("policy ")]
    assert len(policies) >= 2, f"{code}: show both policy files as ```text blocks"
    paths = []
    for index, text in enumerate(policies):
        path = tmp_path / f"policy{index + 1}.perf"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    diagnostics = load_policies(paths).diagnostics
    texts = dict(zip(paths, policies))
    assert any(item.code == code for item in diagnostics), (
        f"{code}: the policies shown in docs/diagnostics.md, checked together, do not produce {code}:\n"
        + shown(diagnostics, texts)
    )


def _bad_example_outputs(tmp_path, run_cli):
    """(start, end, shown, actual) for the output block after each section's Bad example."""
    text = DOC.read_text(encoding="utf-8")
    found = []
    headings = [match for match in re.finditer(r"^## (PR\d{3}): ", text, re.MULTILINE)]
    for index, heading in enumerate(headings):
        code = heading.group(1)
        end_of_section = headings[index + 1].start() if index + 1 < len(headings) else len(text)
        section = text[heading.start():end_of_section]
        block = "perf-test" if code in TEST_FILE_CODES else "perf"
        bad = re.search(rf"^```{block}\n(.*?)^```\s*$", section, re.MULTILINE | re.DOTALL)
        if code in NOT_ONE_FILE or bad is None:
            continue
        shown = re.compile(r"^```text\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL).search(section, bad.end())
        assert shown is not None, f"{code}: show the output of the Bad example in a ```text block"
        folder = tmp_path / code
        folder.mkdir()
        if code in TEST_FILE_CODES:
            check(bad.group(1), folder, code)
            actual = run_cli("test", "policy.test.perf", cwd=folder).stderr
        else:
            (folder / "policy.perf").write_text(bad.group(1), encoding="utf-8")
            actual = run_cli("check", "policy.perf", cwd=folder).stderr
        base = heading.start()
        found.append((base + shown.start(1), base + shown.end(1), shown.group(1), actual, code))
    return text, found


def test_bad_example_outputs_are_what_perfrules_prints(tmp_path, run_cli):
    """The ```text block after each Bad example is the exact output (refresh with PERFRULES_UPDATE_GOLDEN=1)."""
    from conftest import UPDATE_GOLDEN

    text, found = _bad_example_outputs(tmp_path, run_cli)
    if UPDATE_GOLDEN:
        for start, end, _, actual, _ in sorted(found, reverse=True):
            text = text[:start] + actual + text[end:]
        DOC.write_text(text, encoding="utf-8")
        return
    stale = [code for _, _, shown, actual, code in found if shown != actual]
    assert not stale, f"docs/diagnostics.md shows outdated output for {', '.join(stale)}"
