"""Fuzzing the two inputs of `report` besides policy and data: supervisor notes and custom
templates (issue: the fuzzers cover XLSX, notes and templates).

Whatever the notes file holds (CSV or YAML, broken quoting, extra cells, unknown kinds and
ids, control characters, aliases) and whatever a template holds (broken Jinja, attribute
access to internals, filters, loops), `perfrules report` ends with exit 0, 2 or 3, one line
per problem, never a traceback, and nothing outside its output folder is touched.
Knobs as in test_fuzz_data.py: PERFRULES_FUZZ_SCALE multiplies the examples.
"""

from __future__ import annotations

import os
import shutil

from conftest import CASES, REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

GOOD = CASES / "evaluate" / "spec-complete-example"
TEMPLATES = REPO / "templates"
SCALE = float(os.environ.get("PERFRULES_FUZZ_SCALE", "1"))
SETTINGS = dict(deadline=None, database=None, derandomize=os.environ.get("PERFRULES_FUZZ_RANDOM") != "1",
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

CELL = st.one_of(
    st.sampled_from(["A001", "A002", "a001", "Ａ００１", "A999", "", " ", "strength", "weakness", "机会", "风险",
                     "strenght", "text", "好", '"', '""', ",", "\n", "\r", "=1+1", "\x1b[31m", "*a", "&a [1]", "{x: 1}",
                     "- a", ":", "#", "1001.0", "\ud7ff"]),
    st.text(max_size=8),
)


def assert_clean(result, allowed: tuple[int, ...]) -> None:
    assert result.exit_code in allowed, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    for line in result.stderr.splitlines():
        assert line.strip(), result.stderr  # one line per problem: no blank or continuation lines


@settings(max_examples=max(1, int(12 * SCALE)), **SETTINGS)
@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=5), min_size=0, max_size=5),
       yaml_file=st.booleans())
def test_any_notes_file_is_reported_or_used(run_cli, tmp_path_factory, rows, yaml_file):
    folder = tmp_path_factory.mktemp("notes")
    if yaml_file:
        text = "\n".join("- {" + ", ".join(f"{key}: {value}" for key, value in zip(("agent_id", "kind", "text"), row))
                         + "}" for row in rows)
        notes = folder / "notes.yaml"
    else:
        text = "agent_id,kind,text\n" + "\n".join(",".join(row) for row in rows)
        notes = folder / "notes.csv"
    notes.write_bytes(text.encode("utf-8", "surrogatepass"))
    out = folder / "out"
    result = run_cli("report", str(GOOD / "policy.perf"), str(GOOD / "data.csv"), "-o", str(out), "--agent", "A001",
                     "--notes", str(notes))
    assert_clean(result, (0, 2, 3))
    if result.exit_code != 0:
        assert not out.exists()


SNIPPET = st.lists(st.sampled_from([
    "{{", "}}", "{%", "%}", "{#", "#}", "packet", "t", ".", "__class__", "__mro__", "__subclasses__", "()", "[0]",
    "|", "safe", "e", "join", "length", "attr('__globals__')", "for", "in", "endfor", "if", "endif", "x", "1", "/",
    "0", "'s'", "lipsum", "range(9)", "cycler", "namespace", "include", "'../../etc/passwd'", "import", "os",
    "set", "=", "~", "*", "9", "(", ")", ",", " ",
]), min_size=1, max_size=14).map("".join)


@settings(max_examples=max(1, int(12 * SCALE)), **SETTINGS)
@given(snippet=SNIPPET)
def test_any_template_renders_or_is_a_located_error(run_cli, tmp_path_factory, snippet):
    folder = tmp_path_factory.mktemp("templates")
    templates = folder / "templates"
    shutil.copytree(TEMPLATES, templates)
    agent = templates / "agent.html"
    lines = agent.read_text(encoding="utf-8").splitlines()
    lines.insert(3, snippet)
    agent.write_text("\n".join(lines), encoding="utf-8")
    out = folder / "out"
    result = run_cli("report", str(GOOD / "policy.perf"), str(GOOD / "data.csv"), "-o", str(out), "--agent", "A001",
                     "--templates", str(templates))
    assert_clean(result, (0, 2))
    if result.exit_code == 2:
        assert result.stderr.count("\n") == 1 and not out.exists()
        if "template error" in result.stderr:
            assert "agent.html:" in result.stderr or "team.html:" in result.stderr, result.stderr
    assert not (folder / "PWNED").exists()


def test_found_by_fuzzing_an_unclosed_comment_names_its_template(run_cli, tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    agent = templates / "agent.html"
    lines = agent.read_text(encoding="utf-8").splitlines()
    lines.insert(3, "{#")
    agent.write_text("\n".join(lines), encoding="utf-8")
    result = run_cli("report", str(GOOD / "policy.perf"), str(GOOD / "data.csv"), "-o", str(tmp_path / "out"),
                     "--agent", "A001", "--templates", str(templates))
    assert result.exit_code == 2
    assert result.stderr == (f"perfrules: error: template error at {templates / 'agent.html'}:4: "
                             "TemplateSyntaxError: Missing end of comment tag\n")
