"""`perfrules check` on the command line: paths, exit codes, JSON, checks across files."""

from __future__ import annotations

import json

from conftest import POLICIES

AGENT = (POLICIES / "after_sales_agent.perf").read_text(encoding="utf-8")


def test_clean_folder_exits_zero(run_cli):
    result = run_cli("check", str(POLICIES))
    assert result.exit_code == 0
    assert result.stderr == "checked 4 policy files: no problems\n"
    assert result.stdout == ""


def test_missing_path_is_a_command_line_error(run_cli, tmp_path):
    result = run_cli("check", "nowhere.perf", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr == "perfrules: error: nowhere.perf: no such file or folder\n"


def test_folder_without_policies_is_a_command_line_error(run_cli, tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_cli("check", "empty", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr == "perfrules: error: empty: the folder holds no *.perf policy files\n"


def test_no_path_at_all_is_a_usage_error(run_cli):
    result = run_cli("check")
    assert result.exit_code == 2
    assert "Missing argument 'PATHS...'" in result.stderr


def test_json_format(run_cli, tmp_path):
    (tmp_path / "a.perf").write_text(AGENT.replace("weight 40%", "weight 30%"), encoding="utf-8")
    result = run_cli("check", "--format", "json", "a.perf", cwd=tmp_path)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    line = AGENT.splitlines().index('    kpi "问题解决率" weight 30% {') + 1
    assert document == {
        "files": ["a.perf"],
        "errors": 1,
        "warnings": 0,
        "diagnostics": [
            {
                "file": "a.perf",
                "line": line,
                "column": 24,
                "end_line": line,
                "end_column": 27,
                "severity": "error",
                "code": "PR401",
                "message": "the KPI weights add up to 90%, not 100% (30% + 30% + 30%)",
                "hint": "raise the weights by 10% in total",
            }
        ],
    }


def test_two_policies_claiming_one_role(run_cli, tmp_path):
    (tmp_path / "a.perf").write_text(AGENT, encoding="utf-8")
    second = AGENT.replace("售后客服月度考核", "售后客服季度考核").replace("roles agent, senior_agent", "roles trainee, senior_agent")
    (tmp_path / "b.perf").write_text(second, encoding="utf-8")
    result = run_cli("check", ".", cwd=tmp_path)
    assert result.exit_code == 1
    line = AGENT.splitlines().index("    roles agent, senior_agent") + 1
    assert result.stderr == (
        f"b.perf:{line}:20: error PR501: role 'senior_agent' is already evaluated by policy "
        f"\"售后客服月度考核\" (a.perf:{line})\n"
        "    roles trainee, senior_agent\n"
        "                   ^^^^^^^^^^^^\n"
        "  hint: each role belongs to exactly one policy: remove it from one of them\n"
        "\n"
        "checked 2 policy files: 1 error, 0 warnings\n"
    )


def test_two_policies_with_one_name(run_cli, tmp_path):
    (tmp_path / "a.perf").write_text(AGENT, encoding="utf-8")
    (tmp_path / "b.perf").write_text(AGENT.replace("roles agent, senior_agent", "roles trainee"), encoding="utf-8")
    result = run_cli("check", "a.perf", "b.perf", cwd=tmp_path)
    assert result.exit_code == 1
    line = AGENT.splitlines().index('policy "售后客服月度考核" {') + 1
    assert result.stderr.splitlines()[0] == (
        f'b.perf:{line}:8: error PR502: the policy name "售后客服月度考核" is already used by a.perf:{line}'
    )


def test_same_file_twice_is_checked_once(run_cli):
    path = str(POLICIES / "after_sales_agent.perf")
    result = run_cli("check", path, path)
    assert result.exit_code == 0
    assert result.stderr == "checked 1 policy file: no problems\n"


def test_warnings_alone_exit_zero(run_cli, tmp_path):
    text = AGENT.replace("        else => fail\n    }\n    kpi \"顾客满意度\"", "    }\n    kpi \"顾客满意度\"", 1)
    (tmp_path / "w.perf").write_text(text, encoding="utf-8")
    result = run_cli("check", "w.perf", cwd=tmp_path)
    assert result.exit_code == 0
    assert "warning PR402: reply_within_10min below 80% matches no rule" in result.stderr
    assert result.stderr.endswith("checked 1 policy file: 0 errors, 1 warning\n")


def test_gb18030_policy_file_is_reported_not_crashed(run_cli, tmp_path):
    (tmp_path / "gbk.perf").write_bytes(AGENT.encode("gb18030"))
    result = run_cli("check", "gbk.perf", cwd=tmp_path)
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith("gbk.perf:") and "error PR010: the file is not UTF-8" in first
    assert "hint: save the policy as UTF-8" in result.stderr


def test_utf8_bom_is_accepted(run_cli, tmp_path):
    (tmp_path / "bom.perf").write_bytes(b"\xef\xbb\xbf" + AGENT.encode("utf-8"))
    result = run_cli("check", "bom.perf", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr


def test_check_of_a_policy_loads_neither_duckdb_nor_pydantic():
    """`check` runs in editors and pre-commit hooks on every save: start-up must stay light
    (docs/performance.md, under 0.3 s). DuckDB, pydantic and the metrics compiler are for
    evaluation, test files and *.perfm only."""
    import subprocess
    import sys

    code = ("import sys\nfrom perfrules.cli import main\ntry:\n    main(['check', sys.argv[1]])\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(name for name in ('duckdb', 'pydantic', 'perfrules.metrics.snapshot', 'jinja2') "
            "if name in sys.modules))")
    found = subprocess.run([sys.executable, "-c", code, str(POLICIES / "after_sales_agent.perf")],
                           capture_output=True, text=True, check=True)
    assert found.stdout.strip().splitlines()[-1] == "[]", found.stdout + found.stderr
