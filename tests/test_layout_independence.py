"""Layout never changes a result: rules several to a line, or a whole policy on one line,
decide exactly as the same policy written one rule per line (issue: the engine once named
rules by their line, so `{ csat >= 90% => 100  else => 0 }` gave every agent the else).

Every policy of the repository that checks clean (policies/, the golden check, evaluate and
explain cases) is rewritten from its tokens (comments dropped, strings and numbers as
written) twice: each block on one line, and the whole file on one line.  Both must check
clean, parse to the same tree (spans aside), and, where the case has data, give the same
results: every number, level, grade, rank and bonus; only the `line` fields move.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CASES, POLICIES, POLICY_FILES

from perfrules.parser import parse_policy, policy_parser
from perfrules.source import SourceFile
from perfrules.workspace import load_policies


def _tokens(text: str):
    return list(policy_parser().lex(text))


def blocks_on_one_line(text: str) -> str:
    """Statements of the policy one per line, each block's content on its statement's line."""
    out: list[str] = []
    depth = 0
    previous = None
    for token in _tokens(text):
        if previous is not None:
            starts_statement = depth == 1 and token.line != previous.line and token.type != "_RBRACE"
            out.append("\n    " if starts_statement else ("\n" if token.type == "_RBRACE" and depth == 1 else " "))
        out.append(token.value)
        if token.type == "_LBRACE":
            depth += 1
        elif token.type == "_RBRACE":
            depth -= 1
        previous = token
    return "".join(out) + "\n"


def whole_file_on_one_line(text: str) -> str:
    return " ".join(token.value for token in _tokens(text)) + "\n"


def _clean_policies() -> list[tuple[str, Path, Path | None]]:
    """(id, policy file, data file or None) of every policy in the repository that checks clean."""
    found = [(f"policies/{path.name}", path, None) for path in POLICY_FILES]
    for group in ("check", "evaluate", "explain"):
        for case in sorted((CASES / group).iterdir()):
            for policy in sorted(case.glob("*.perf")):
                data = next((case / name for name in ("data.csv", "data.json", "data.jsonl", "data.xlsx", "data.parquet")
                             if (case / name).is_file()), None)
                found.append((f"{group}/{case.name}/{policy.name}", policy, data))
    clean = []
    for name, path, data in found:
        loaded = load_policies([str(path)])
        if loaded.error_count == 0 and loaded.files[0].policy is not None:
            clean.append((name, path, data))
    return clean


CLEAN = _clean_policies()
LAYOUTS = {"blocks-on-one-line": blocks_on_one_line, "file-on-one-line": whole_file_on_one_line}


def test_there_are_many_policies_to_rewrite():
    assert len(CLEAN) >= 90, len(CLEAN)
    assert any(name.startswith("policies/") for name, _, _ in CLEAN)


def test_the_rewriters_really_change_the_layout():
    text = (POLICIES / "after_sales_agent.perf").read_text(encoding="utf-8")
    blocks = blocks_on_one_line(text)
    assert 'kpi "顾客满意度"' in blocks and "csat >= 90% => excellent csat >= 85% => pass" in blocks
    assert whole_file_on_one_line(text).count("\n") == 1


def _strip_lines(value):
    """The result document without what layout moves: lines, and the policies' stamps."""
    if isinstance(value, dict):
        return {key: _strip_lines(item) for key, item in value.items() if key not in ("line", "policies", "data_sha256")}
    if isinstance(value, list):
        return [_strip_lines(item) for item in value]
    if isinstance(value, str) and ": warning PR" in value:  # a checker warning, without its place
        return value[value.index(": warning PR"):]
    return value


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name,path,data", CLEAN, ids=[name for name, _, _ in CLEAN])
def test_layout_does_not_change_the_tree_or_the_results(tmp_path, run_cli, name, path, data, layout):
    text = path.read_text(encoding="utf-8")
    rewritten = LAYOUTS[layout](text)
    for sibling in path.parent.glob("*.perf"):  # what it `extends`, as written
        (tmp_path / sibling.name).write_bytes(sibling.read_bytes())
    copy = tmp_path / path.name
    copy.write_text(rewritten, encoding="utf-8")

    checked = run_cli("check", str(copy))
    assert checked.exit_code == 0, f"{name} as {layout}:\n{checked.stderr}\n{rewritten}"
    original = parse_policy(SourceFile(str(path), text)).policy
    assert parse_policy(SourceFile(str(copy), rewritten)).policy == original

    if data is None:
        return
    args = [line for line in (path.parent / "args.txt").read_text(encoding="utf-8").split()
            if line.startswith("--period")] if (path.parent / "args.txt").is_file() else []
    before = run_cli("evaluate", str(path), str(data), *args)
    after = run_cli("evaluate", str(copy), str(data), *args)
    assert after.exit_code == before.exit_code, after.stderr
    if before.exit_code == 0:
        assert _strip_lines(json.loads(after.stdout)) == _strip_lines(json.loads(before.stdout))


def test_one_line_rules_decide_like_one_rule_per_line(tmp_path, run_cli):
    """The issue's own example: a 95% agent scored 0 and both agents were 优秀."""
    policy = tmp_path / "one.perf"
    policy.write_text('policy "t" {\n    version "1"\n    roles agent\n    metric csat: percent\n'
                      '    kpi "满意度" weight 100% { csat >= 90% => 100  else => 0 }\n'
                      '    grade { score >= 90 => "优秀"  else => "不合格" }\n'
                      '    bonus "奖金" { grade == "优秀" => 500  else => 0 }\n}\n', encoding="utf-8")
    data = tmp_path / "data.csv"
    data.write_text("agent_id,period,role,csat\nA1,2026-11,agent,95%\nA2,2026-11,agent,80%\n", encoding="utf-8")
    result = run_cli("evaluate", str(policy), str(data))
    assert result.exit_code == 0, result.stderr
    by_agent = {item["agent_id"]: item for item in json.loads(result.stdout)["results"]}
    assert [(by_agent[a]["score"], by_agent[a]["grade"], by_agent[a]["bonus_total"]) for a in ("A1", "A2")] == [
        (100.0, "优秀", 500.0), (0.0, "不合格", 0.0)]
    explained = run_cli("explain", str(policy), str(data), "--agent", "A2")
    assert "第 5 行: else => 0  ⇒ 0 分" in explained.stdout
    assert '等级: 第 6 行: else => "不合格"  ⇒ 不合格' in explained.stdout

