"""``perfrules test`` (language.md §15, cli.md): golden cases, the bundled tests, the schema, fuzzing.

Each folder of tests/cases/test holds a policy, its test files, ``args.txt`` (the arguments,
one per line) and the exact outcome: ``expected.txt`` (exit code, stdout, stderr) or, for a
JSON report, ``expected.json`` (validated against ``perfrules schema test``) and the exit
code in ``expected.txt``.  PERFRULES_UPDATE_GOLDEN=1 rewrites them; read the diff.
"""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CASES, POLICIES, POLICY_FILES, REPO, UPDATE_GOLDEN

TEST_CASES = sorted(path for path in (CASES / "test").iterdir() if path.is_dir())


def arguments(case) -> list[str]:
    return [line for line in (case / "args.txt").read_text(encoding="utf-8").splitlines() if line.strip()]


def outcome_text(result, with_stdout: bool = True) -> str:
    stdout = result.stdout if with_stdout else "(expected.json)\n"
    return f"exit {result.exit_code}\n--- stdout\n{stdout}--- stderr\n{result.stderr}"


@pytest.mark.parametrize("case", TEST_CASES, ids=[path.name for path in TEST_CASES])
def test_output_matches_golden(case, run_cli):
    result = run_cli(*arguments(case), cwd=case)
    is_json = "json" in arguments(case)
    if UPDATE_GOLDEN:
        (case / "expected.txt").write_text(outcome_text(result, not is_json), encoding="utf-8")
        if is_json:
            document = json.loads(result.stdout)
            (case / "expected.json").write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n",
                                                encoding="utf-8")
    assert outcome_text(result, not is_json) == (case / "expected.txt").read_text(encoding="utf-8")
    if is_json:
        document = json.loads(result.stdout)
        document["perfrules"] = "(version)"
        expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
        expected["perfrules"] = "(version)"
        assert document == expected


def test_json_report_follows_its_schema_and_the_spec_keys(run_cli):
    import jsonschema

    schema = json.loads(run_cli("schema", "test").stdout)
    case = CASES / "test" / "json-report"
    document = json.loads(run_cli(*arguments(case), cwd=case).stdout)
    jsonschema.validate(document, schema)
    assert {"perfrules", "passed", "failed", "tests", "coverage"} <= set(document)
    failure = document["tests"][0]["failures"][0]
    assert set(failure) == {"line", "expect", "actual", "decided_by"}
    assert set(document["coverage"][0]) >= {"policy", "file", "rules", "covered", "uncovered"}
    grade = next(item for item in document["tests"][0]["failures"] if item["expect"] == 'grade == "良好"')
    assert grade == {"line": 15, "expect": 'grade == "良好"', "actual": '"优秀"',
                     "decided_by": {"file": "policy.perf", "line": 51}}


def test_the_bundled_policies_are_tested_to_at_least_90_percent(run_cli):
    result = run_cli("test", "policies", "--min-coverage", "90", "--format", "json", cwd=REPO)
    assert result.exit_code == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert (document["passed"], document["failed"], document["errors"]) == (22, 0, 0)
    tested = {entry["file"]: (entry["rules"], entry["covered"]) for entry in document["coverage"]}
    assert tested == {"policies/after_sales_agent.perf": (26, 26),
                      "policies/customer_experience_en.perf": (25, 25),
                      "policies/supervisor.perf": (31, 30),
                      "policies/vip_supervisor.perf": (28, 27)}
    assert {path.name.removesuffix(".perf") + ".test.perf" for path in POLICY_FILES} == \
        {path.name for path in POLICIES.glob("*.test.perf")}


def test_the_spec_example_is_the_bundled_test_file():
    from test_spec_examples import BLOCKS

    from perfrules.layout.fmt import kind_of
    from perfrules.layout.printer import canonical_layout

    example = next(block for block in BLOCKS if block.startswith("# policies/after_sales_agent.test.perf"))
    bundled = (POLICIES / "after_sales_agent.test.perf").read_text(encoding="utf-8")
    kind = kind_of(POLICIES / "after_sales_agent.test.perf")  # the bundled file is in `perfrules fmt`'s layout
    assert bundled.startswith(canonical_layout(kind.parser(), example, kind.inline).rsplit("}", 1)[0])


def test_no_path_means_the_current_folder_and_policy_commands_skip_test_files(run_cli):
    result = run_cli("test", cwd=POLICIES)
    assert result.exit_code == 0 and result.stdout.endswith("22 tests in 4 files: 22 passed, 0 failed\n")
    checked = run_cli("check", str(POLICIES))
    assert checked.stderr == "checked 4 policy files: no problems\n"
    refused = run_cli("evaluate", str(POLICIES / "supervisor.test.perf"), "data.csv")
    assert refused.exit_code == 2 and "is a policy test file" in refused.stderr


def test_check_checks_a_test_file_it_is_given_without_running_it(run_cli):
    """`perfrules check policies/*.perf` (a shell's glob) checks the tests too, as test files."""
    checked = run_cli("check", *[str(path) for path in sorted(POLICIES.glob("*.perf"))])
    assert (checked.exit_code, checked.stderr) == (0, "checked 4 policy files and 4 test files: no problems\n")
    case = CASES / "test" / "file-diagnostics"
    broken = run_cli("check", "policy.test.perf", cwd=case)
    tested = run_cli("test", "policy.test.perf", cwd=case)
    assert broken.exit_code == 1
    assert broken.stderr.endswith("checked 0 policy files and 1 test file: 25 errors, 1 warning\n")
    assert broken.stderr.rsplit("\n\n", 1)[0] == tested.stderr.rstrip("\n")


@pytest.mark.parametrize("args,message", [
    (["test", "policies/after_sales_agent.perf"], "a test file is named NAME.test.perf"),
    (["test", "nowhere"], "nowhere: no such file or folder"),
    (["test", "docs"], "the folder holds no *.test.perf test files"),
    (["test", "policies", "--min-coverage", "120"], "give a percentage from 0 to 100"),
    (["test", "policies", "--min-coverage", "x"], "give a percentage from 0 to 100"),
])
def test_command_line_mistakes_exit_2(run_cli, args, message):
    result = run_cli(*args, cwd=REPO)
    assert result.exit_code == 2 and message in result.stderr and result.stdout == ""


def test_award_and_target_expectations_name_the_policys_awards_and_targets(tmp_path, run_cli):
    """An expected award or target is checked against the policy's own (PR906, with its line)."""
    (tmp_path / "after_sales_agent.perf").write_bytes((POLICIES / "after_sales_agent.perf").read_bytes())
    text = SEED.replace("expect A1 grade == \"优秀\"", "expect A1 award \"银牌客服\"\n        expect A1 target \"x\" is on_track")
    (tmp_path / "t.test.perf").write_text(text, encoding="utf-8")
    result = run_cli("test", "t.test.perf", cwd=tmp_path)
    assert result.exit_code == 1
    assert 't.test.perf:22:25: error PR906: policy "售后客服月度考核" has no award "银牌客服"' in result.stderr
    assert 't.test.perf:23:26: error PR906: policy "售后客服月度考核" has no target "x"' in result.stderr


def test_without_period_the_current_one_and_hidden_folders_are_skipped(tmp_path):
    from datetime import date

    from perfrules.policytest.session import run_test_files

    (tmp_path / "supervisor.perf").write_bytes((POLICIES / "supervisor.perf").read_bytes())
    text = (POLICIES / "supervisor.test.perf").read_text(encoding="utf-8").replace("    period 2026-Q4\n", "")
    (tmp_path / "supervisor.test.perf").write_text(text, encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "broken.test.perf").write_text("not a test file", encoding="utf-8")
    run = run_test_files([str(tmp_path)], today=date(2027, 2, 3))
    assert run.files == [str(tmp_path / "supervisor.test.perf")] and run.diagnostics == []
    assert (run.passed, run.failed) == (6, 0)
    from perfrules.policytest.check import current_period

    assert [current_period(kind, date(2027, 2, 3)) for kind in ("month", "quarter", "year")] == \
        ["2027-02", "2027-Q1", "2027"]


def test_the_test_grammar_ships_beside_the_policy_grammar():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]["grammar"] == "perfrules/grammar"
    from perfrules.policytest.parser import tests_grammar_path

    assert tests_grammar_path() == REPO / "grammar" / "tests.lark"


def test_test_keywords_stay_names_in_policies(tmp_path, run_cli):
    """`agent`, `given`, `expect`... are keywords only in test files: a policy may use them as names,
    and a test file may set a metric whose name is one of its keywords."""
    text = (POLICIES / "after_sales_agent.perf").read_text(encoding="utf-8")
    text = text.replace("qa_commendations", "expect")
    (tmp_path / "p.perf").write_text(text, encoding="utf-8")
    (tmp_path / "p.test.perf").write_text(
        'tests for "p.perf" {\n period 2026-11\n given { role = agent reply_within_10min = 95% csat = 92%\n'
        ' csat_responses = 20 resolution_rate = 96% aht = 6min attitude_violations = 0 serious_complaints = 0\n'
        ' base_salary = 6000 }\n test "t" { agent A1 { expect = 2 } expect A1 score == 104 }\n}\n', encoding="utf-8")
    result = run_cli("test", str(tmp_path / "p.test.perf"))
    assert (result.exit_code, result.stderr) == (0, ""), result.stdout + result.stderr


# ---- fuzzing: a mutated test file gives located diagnostics or test results, never a crash ----------

SEED = (POLICIES / "after_sales_agent.test.perf").read_text(encoding="utf-8")
PIECES = ["{", "}", "=", "==", ">=", "expect", "agent", "given", "missing", "no", "plan", "kpi", "is", '"',
          "95%", "6min", "-3", "2026-10", "in", "A9", "none", "error", "\n", "，", "score", "#", "\\", "1e9", "999999999999999"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.randoms(use_true_random=False), st.integers(min_value=1, max_value=4))
def test_mutated_test_files_never_crash(tmp_path_factory, run_cli, rnd: random.Random, edits: int):
    text = SEED
    for _ in range(edits):
        position = rnd.randrange(len(text) + 1)
        if rnd.random() < 0.5:
            text = text[:position] + rnd.choice(PIECES) + " " + text[position:]
        else:
            text = text[:position] + text[position + rnd.randrange(1, 20):]
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "after_sales_agent.perf").write_bytes((POLICIES / "after_sales_agent.perf").read_bytes())
    (folder / "t.test.perf").write_text(text, encoding="utf-8")
    result = run_cli("test", "t.test.perf", cwd=folder)
    assert result.exit_code in (0, 1), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    for line in result.stderr.splitlines():
        if " error PR" in line or " warning PR" in line:
            assert line.startswith(("t.test.perf:", "after_sales_agent.perf:")), line


def test_terminal_escapes_in_a_test_file_reach_no_terminal(tmp_path, run_cli):
    (tmp_path / "after_sales_agent.perf").write_bytes((POLICIES / "after_sales_agent.perf").read_bytes())
    seed = SEED.replace('test "正好 90 分是优秀"', 'test "\x1b]8;;http://x\x07优秀\x1b[31m"')
    seed = seed.replace('expect A1 score == 90', 'expect A1 score == 91')
    (tmp_path / "t.test.perf").write_text(seed, encoding="utf-8")
    result = run_cli("test", "t.test.perf", cwd=tmp_path)
    assert result.exit_code == 1
    assert "\x1b" not in result.stdout + result.stderr and "\x07" not in result.stdout
    assert 'FAIL  t.test.perf:18  \\x1b]8;;http://x\\x07优秀\\x1b[31m' in result.stdout
    assert "t.test.perf:21: expect A1 score == 91\n          actual:     90\n" in result.stdout


def test_a_let_measured_kpi_value_is_shown_in_its_kind(tmp_path, run_cli):
    (tmp_path / "supervisor.perf").write_bytes((POLICIES / "supervisor.perf").read_bytes())
    text = (POLICIES / "supervisor.test.perf").read_text(encoding="utf-8")
    (tmp_path / "t.test.perf").write_text(text.replace('value == 92%', 'value == 93%'), encoding="utf-8")
    result = run_cli("test", "t.test.perf", cwd=tmp_path)
    assert result.exit_code == 1
    assert 'expect S1 kpi "投诉处理率" value == 93%\n          actual:     92%\n' in result.stdout


def test_a_test_file_naming_a_folder_is_refused(run_cli, tmp_path):
    """`tests for "team.perf"` where team.perf is a folder of policies used to test its first policy."""
    (tmp_path / "team.perf").mkdir()
    (tmp_path / "team.perf" / "a.perf").write_text((POLICIES / "supervisor.perf").read_text(encoding="utf-8"),
                                                    encoding="utf-8")
    (tmp_path / "x.test.perf").write_text('tests for "team.perf" {\n    period 2026-Q4\n'
                                          '    test "t" {\n        agent A1 { }\n        expect A1 error\n    }\n}\n',
                                          encoding="utf-8")
    result = run_cli("test", "x.test.perf", cwd=tmp_path)
    assert (result.exit_code, result.stdout, result.stderr) == (
        1, "\n0 tests in 1 file: 0 passed, 0 failed; 1 error in test or policy files\n",
        'x.test.perf:1:11: error PR901: team.perf is a folder, not a policy file\n'
        '    tests for "team.perf" {\n'
        '              ^^^^^^^^^^^\n'
        '  hint: name one policy of it: tests for "team.perf/policy.perf"\n\n')


def test_a_policy_name_too_long_for_the_file_system_is_no_policy_file(run_cli, tmp_path):
    """`tests for "aaa….perf"` with a name over the file system's 255 bytes raised OSError (exit 4)."""
    name = "a" * 300 + ".perf"
    (tmp_path / "x.test.perf").write_text(f'tests for "{name}" {{\n    test "t" {{\n        agent A1 {{ }}\n'
                                          '        expect A1 error\n    }\n}\n', encoding="utf-8")
    result = run_cli("test", "x.test.perf", cwd=tmp_path)
    assert (result.exit_code, result.stdout) == (
        1, "\n0 tests in 1 file: 0 passed, 0 failed; 1 error in test or policy files\n")
    assert result.stderr.startswith(f"x.test.perf:1:11: error PR901: no policy file {name}\n"), result.stderr
    assert result.stderr.endswith("  hint: the path is relative to the test file\n\n"), result.stderr


def test_a_level_named_like_a_kpi_state_makes_the_expectation_an_error(tmp_path, run_cli):
    """`is excluded` against a policy with a level named `excluded`: it would hold for the KPI left
    out and for the one scored at that level (a test passing for the wrong reason): PR907."""
    (tmp_path / "levels.perf").write_text(
        'policy "状态级别" {\n    version "1"\n    roles agent\n    period month\n'
        '    metric csat: percent "顾客满意度" higher is better\n'
        '    levels {\n        good "好" = 100\n        excluded "不达标" = 0\n    }\n'
        '    kpi "顾客满意度" weight 100% {\n        csat >= 90% => good\n        else => excluded\n    }\n}\n',
        encoding="utf-8")
    (tmp_path / "levels.test.perf").write_text(
        'tests for "levels.perf" {\n    period 2026-11\n    given { role = agent  csat = 80% }\n'
        '    test "不达标" {\n        agent A1 { }\n        expect A1 kpi "顾客满意度" is excluded\n    }\n}\n',
        encoding="utf-8")
    result = run_cli("test", "levels.test.perf", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr == (
        "levels.test.perf:6:34: error PR907: 'excluded' is a level of policy \"状态级别\" and a state of a KPI: "
        "the expectation would say two things\n"
        "    expect A1 kpi \"顾客满意度\" is excluded\n"
        "                                  ^^^^^^^^\n"
        "  hint: rename the level in the policy (its results, too, show 'excluded' as a level beside the state "
        "'excluded')\n\n")
    assert result.stdout == "\n0 tests in 1 file: 0 passed, 0 failed; 1 error in test or policy files\n"
