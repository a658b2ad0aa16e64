"""`extends` and `remove` (spec §12) beyond the golden cases: where merged statements
stand, which file each node and diagnostic names, and bases on the command line."""

from __future__ import annotations

import json

from perfrules.ast import Span
from perfrules.parser import parse_policy
from perfrules.source import SourceFile
from perfrules.workspace import load_policies

PARENT = """policy "客服月度考核" {
    version "2026.11"
    roles agent
    metric csat: percent "顾客满意度" higher is better
    metric qa: number "质检分"
    kpi "甲" weight 50% { points qa }
    kpi "乙" weight 30% { points qa }
    kpi "丙" weight 20% { points qa }
    grade { score >= 60 => "合格"  else => "不合格" }
}
"""


def write(folder, **files):
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def test_a_span_names_its_file_without_taking_part_in_equality():
    one = Span(1, 2, 1, 5, 1, 4, "a.perf")
    assert one == Span(1, 2, 1, 5, 1, 4, "b.perf")
    assert one.through(Span(2, 1, 2, 3, 9, 11, "x.perf")).file == "a.perf"
    policy = parse_policy(SourceFile("dir/p.perf", PARENT)).policy
    assert {kpi.span.file for kpi in policy.kpis} == {"dir/p.perf"}
    assert policy.kpis[0].lines[0].expression.span.file == "dir/p.perf"
    assert policy == parse_policy(SourceFile("other.perf", PARENT)).policy


def test_replacements_keep_the_parents_place_and_additions_follow(tmp_path):
    write(tmp_path, **{"parent.perf": PARENT, "child.perf": """policy "资深" extends "parent.perf" {
    version "2026.11-s"
    roles senior_agent
    kpi "丁" weight 10% { points qa }
    kpi "乙" weight 20% { points qa * 0.5 }
    remove kpi "丙"
    kpi "戊" weight 20% { points qa }
    grade { score >= 70 => "合格"  else => "不合格" }
}
"""})
    loaded = load_policies([str(tmp_path / "child.perf")])
    assert loaded.diagnostics == []
    merged = loaded.files[0].policy
    assert [(kpi.name.value, kpi.span.file.rsplit("/", 1)[-1]) for kpi in merged.kpis] == [
        ("甲", "parent.perf"), ("乙", "child.perf"), ("丁", "child.perf"), ("戊", "child.perf")]
    assert merged.version == "2026.11-s" and [role.text for role in merged.roles] == ["senior_agent"]
    grade = merged.statements[[type(s).__name__ for s in merged.statements].index("Grade")]
    assert grade.span.file.endswith("child.perf")
    model = loaded.files[0].model
    assert model.written(merged.kpis[0].lines[0]) == "points qa"  # read from parent.perf's text
    assert model.written(merged.kpis[1].lines[0]) == "points qa * 0.5"


def test_a_parent_shared_by_two_children_is_read_once_and_reported_once(tmp_path):
    broken = PARENT.replace("csat: percent", "csat: precent")
    child = 'policy "NAME" extends "parent.perf" {\n    version "1"\n    roles ROLE\n}\n'
    write(tmp_path, **{"parent.perf": broken, "a.perf": child.replace("NAME", "a").replace("ROLE", "ra"),
                       "b.perf": child.replace("NAME", "b").replace("ROLE", "rb")})
    loaded = load_policies([str(tmp_path / "a.perf"), str(tmp_path / "b.perf")])
    assert [(item.code, item.file.rsplit("/", 1)[-1], item.span.line) for item in loaded.diagnostics] == [
        ("PR107", "parent.perf", 4)]
    assert "this line is inherited by" in loaded.diagnostics[0].hint


def test_check_json_names_the_parents_file(tmp_path, run_cli):
    write(tmp_path, **{"parent.perf": PARENT.replace('score >= 60 => "合格"', 'score >= 60 => 合格'),
                       "child.perf": 'policy "c" extends "parent.perf" { version "1" roles x }\n'})
    result = run_cli("check", "child.perf", "--format", "json", cwd=tmp_path)
    document = json.loads(result.stdout)
    assert document["files"] == ["child.perf"]
    assert {item["file"] for item in document["diagnostics"]} == {"parent.perf"}


def test_evaluating_only_a_base_is_a_command_line_mistake(tmp_path, run_cli):
    base = PARENT.replace("    roles agent\n", "")
    write(tmp_path, **{"base.perf": base})
    (tmp_path / "data.csv").write_text("agent_id,role,period,qa\nA1,agent,2026-11,80\n", encoding="utf-8")
    assert run_cli("check", "base.perf", cwd=tmp_path).exit_code == 0
    result = run_cli("evaluate", "base.perf", "data.csv", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr == ("perfrules: error: base.perf: only base policies (without `roles`), which evaluate "
                             "nothing on their own; evaluate a policy that extends them\n")


def test_extends_reads_only_policy_files(tmp_path, run_cli):
    """A policy from another repository cannot show lines of a secret in a parse error."""
    write(tmp_path, **{".env": "TOKEN=s3cr3t\n", "child.perf": 'policy "c" extends ".env" { version "1" roles x }\n'})
    result = run_cli("check", "child.perf", cwd=tmp_path)
    assert result.exit_code == 1
    assert "s3cr3t" not in result.stderr
    assert result.stderr.startswith('child.perf:1:20: error PR602: ".env" is not a policy file: `extends` names a .perf file')


def test_csv_rows_name_the_inherited_files_and_their_sha256(tmp_path, run_cli):
    """The CSV carries the chain a result was made with: its own file, then each inherited one
    (nearest first) with its sha256, so a row pasted into a spreadsheet still identifies it."""
    import csv
    import hashlib

    base = PARENT.replace("    roles agent\n", "").replace('"客服月度考核"', '"=基础考核"')
    child = 'policy "子考核" extends "base.perf" {\n    version "2026.12"\n    roles agent\n}\n'
    write(tmp_path, **{"base.perf": base, "child.perf": child, "other.perf": PARENT.replace("roles agent", "roles lead")})
    (tmp_path / "data.csv").write_text("agent_id,role,period,qa,csat\nA1,agent,2026-11,80,\nL1,lead,2026-11,70,\n",
                                       encoding="utf-8")
    (tmp_path / "one.csv").write_text("agent_id,role,period,qa,csat\nA1,agent,2026-11,80,\n", encoding="utf-8")
    result = run_cli("evaluate", "child.perf", "one.csv", "--format", "csv", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    [row] = list(csv.DictReader(result.stdout.splitlines()))
    digest = hashlib.sha256((tmp_path / "base.perf").read_bytes()).hexdigest()
    assert row["policy_sha256"] == hashlib.sha256((tmp_path / "child.perf").read_bytes()).hexdigest()
    assert row["policy_extends_sha256"] == f"base.perf {digest}"
    (tmp_path / "both").mkdir()
    for name in ("base.perf", "child.perf", "other.perf"):
        (tmp_path / "both" / name).write_bytes((tmp_path / name).read_bytes())
    result = run_cli("evaluate", "both", "data.csv", "--format", "csv", cwd=tmp_path)
    rows = {row["agent_id"]: row for row in csv.DictReader(result.stdout.splitlines())}
    assert rows["A1"]["policy_extends_sha256"] == f"both/base.perf {digest}"
    assert rows["L1"]["policy_extends_sha256"] == ""  # a policy that inherits nothing


def test_a_link_is_followed_only_to_a_policy_file(tmp_path, run_cli):
    """A folder of policies from someone else cannot make perfrules print a line of another file."""
    (tmp_path / "secret.txt").write_text("TOKEN=s3cr3t\n", encoding="utf-8")
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "x.perf").symlink_to(tmp_path / "secret.txt")
    result = run_cli("check", "policies", cwd=tmp_path)
    assert result.exit_code == 1 and "s3cr3t" not in result.stderr
    assert result.stderr.startswith("policies/x.perf:1:1: error PR010: cannot read the file: this is a link to a file "
                                    "that is not a policy (*.perf); perfrules does not follow it")
    (tmp_path / "policies" / "x.perf").unlink()
    write(tmp_path, **{"real.perf": PARENT})
    (tmp_path / "policies" / "x.perf").symlink_to(tmp_path / "real.perf")  # a link to a policy is fine
    assert run_cli("check", "policies", cwd=tmp_path).exit_code == 0
