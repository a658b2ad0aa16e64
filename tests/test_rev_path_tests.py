"""``perfrules test REV:PATH``: test files as they are in a git revision, and the policies they
test (and those extend) read from the same revision, as ``check``, ``evaluate`` and ``diff`` read
``REV:PATH`` (tests/test_rev_path.py, whose repository this extends).

The repository of ``history``: commit 1 (``v1``) and commit 2 hold ``policies/agent.perf``
extending ``policies/base.perf``; commit 3 (HEAD) adds the test files below; the working tree
raises the parent's excellent satisfaction from 93% to 99% and rewrites the test file's
expectations for it, uncommitted. By hand, A1 with satisfaction 95% and resolution 85%:

- HEAD (satisfaction 50% weight, excellent from 93%; resolution 50%, pass from 80%):
  95% → excellent 100 × 50% = 50, 85% → pass 80 × 50% = 40; score 90 → 优秀.
- working tree (excellent from 99%): 95% → fail 0, plus 40; score 40 → 不合格.

So the committed test passes only on HEAD's policy and the working tree's test only on the working
tree's: each run passing proves that the test file and its policy came from the same place.
A2 of ``more/senior.test.perf`` (satisfaction 80%, resolution 85%): 0 + 40 = 40 → 不合格 on HEAD.
"""

from __future__ import annotations

import shutil

import pytest
from test_provenance import commit, git
from test_rev_path import base_text, history  # noqa: F401 - the repository fixture

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="the tests build repositories with git")

TESTS = """tests for "agent.perf" {
    period 2026-11
    given {
        role = agent  resolution = 85%
    }
    test "满意度 95% 是优秀" {
        agent A1 { csat = 95% }
        expect A1 score == SCORE
        expect A1 grade == "GRADE"
    }
}
"""

SENIOR = """tests for "../agent.perf" {
    period 2026-11
    test "满意度 80% 不合格" {
        agent A2 { role = agent  csat = 80%  resolution = 85% }
        expect A2 score == 40
        expect A2 grade == "不合格"
    }
}
"""


@pytest.fixture
def tested(history):  # noqa: F811 - the fixture imported above
    repo = history["repo"]
    (repo / "policies" / "agent.test.perf").write_text(TESTS.replace("SCORE", "90").replace("GRADE", "优秀"),
                                                        encoding="utf-8")
    (repo / "policies" / "more").mkdir()
    (repo / "policies" / "more" / "senior.test.perf").write_text(SENIOR, encoding="utf-8")
    (repo / "policies" / ".drafts").mkdir()  # hidden: never looked into, as on disk
    (repo / "policies" / ".drafts" / "broken.test.perf").write_text("tests for {\n", encoding="utf-8")
    base = repo / "policies" / "base.perf"
    uncommitted = base.read_text(encoding="utf-8")
    base.write_text(base_text(50, "93%"), encoding="utf-8")  # as commit 2 has it
    history["third"] = commit(repo, "tests")
    # the working tree: the parent's threshold 99% (history's), the test file's expectations for it
    base.write_text(uncommitted, encoding="utf-8")
    (repo / "policies" / "agent.test.perf").write_text(TESTS.replace("SCORE", "40").replace("GRADE", "不合格"),
                                                        encoding="utf-8")
    return history


def passing(*tests: str) -> str:
    """What `perfrules test` prints when each test (one a file) passes."""
    count = len(tests)
    plural = "s" if count > 1 else ""
    return "".join(f"ok    {test}\n" for test in tests) + f"\n{count} test{plural} in {count} file{plural}: {count} passed, 0 failed\n"


def test_a_test_file_of_a_revision_tests_that_revisions_policy(tested, run_cli):
    repo = tested["repo"]
    result = run_cli("test", "HEAD:policies/agent.test.perf", cwd=repo)
    assert (result.exit_code, result.stderr, result.stdout) == (0, "", passing(
        "HEAD:policies/agent.test.perf:6  满意度 95% 是优秀"))
    on_disk = run_cli("test", "policies/agent.test.perf", cwd=repo)
    assert (on_disk.exit_code, on_disk.stdout) == (0, passing("policies/agent.test.perf:6  满意度 95% 是优秀"))


def test_a_folder_of_a_revision_means_every_test_file_under_it(tested, run_cli):
    repo = tested["repo"]
    result = run_cli("test", "HEAD:policies/", cwd=repo)
    assert (result.exit_code, result.stderr, result.stdout) == (0, "", passing(
        "HEAD:policies/agent.test.perf:6  满意度 95% 是优秀", "HEAD:policies/more/senior.test.perf:3  满意度 80% 不合格"))
    here = run_cli("test", "HEAD:./", cwd=repo / "policies")  # relative to the current folder, as git reads it
    assert here.stdout == result.stdout


def test_the_revision_runs_its_tests_against_its_policy_where_the_disk_fails(tested, run_cli):
    """The committed test file against the working tree's policy fails: the run read both from HEAD."""
    repo = tested["repo"]
    git(repo, "stash", "push", "-q", "--", "policies/agent.test.perf")  # HEAD's test on disk, the 99% parent kept
    result = run_cli("test", "policies/agent.test.perf", cwd=repo)
    assert result.exit_code == 1
    assert result.stdout.startswith("FAIL  policies/agent.test.perf:6  满意度 95% 是优秀\n"
                                    "        policies/agent.test.perf:8: expect A1 score == 90\n"
                                    "          actual:     40\n"), result.stdout
    assert run_cli("test", "HEAD:policies/agent.test.perf", cwd=repo).exit_code == 0


def test_coverage_names_the_revisions_lines(tested, run_cli):
    """A1 decides base.perf:11 (95% >= 93%), agent.perf:6 (85% pass), base.perf:18 (90 is 优秀) and
    base.perf:23 (the bonus of 优秀): 4 of the 10 decision lines (base.perf:15 is replaced by the child's KPI)."""
    repo = tested["repo"]
    result = run_cli("test", "HEAD:policies/agent.test.perf", "--coverage", cwd=repo)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == ("ok    HEAD:policies/agent.test.perf:6  满意度 95% 是优秀\n"
                             "\n"
                             "coverage (decision lines that decided or applied for at least one agent):\n"
                             "  HEAD:policies/agent.perf (客服月度考核): 4 of 10 lines, 40%\n"
                             "    not covered: HEAD:policies/agent.perf:5: resolution >= 90% => excellent\n"
                             "    not covered: HEAD:policies/agent.perf:7: else => fail\n"
                             "    not covered: HEAD:policies/base.perf:12: else => fail\n"
                             '    not covered: HEAD:policies/base.perf:19: score >= 60 => "合格"\n'
                             '    not covered: HEAD:policies/base.perf:20: else => "不合格"\n'
                             "    not covered: HEAD:policies/base.perf:24: else => 0\n"
                             "\n"
                             "1 test in 1 file: 1 passed, 0 failed\n")


def test_a_policy_a_test_names_is_looked_for_in_the_same_revision(tested, run_cli):
    repo = tested["repo"]
    (repo / "policies" / "typo.test.perf").write_text(SENIOR.replace("../agent.perf", "agnet.perf"), encoding="utf-8")
    commit(repo, "a test of a misspelled policy")
    (repo / "policies" / "agnet.perf").write_text("on disk, not in the revision\n", encoding="utf-8")
    result = run_cli("test", "HEAD:policies/typo.test.perf", cwd=repo)
    assert (result.exit_code, result.stdout) == (1, "\n0 tests in 1 file: 0 passed, 0 failed; 1 error in test or "
                                                    "policy files\n")
    assert result.stderr == ("HEAD:policies/typo.test.perf:1:11: error PR901: no policy file HEAD:policies/agnet.perf\n"
                             '    tests for "agnet.perf" {\n'
                             "              ^^^^^^^^^^^^\n"
                             '  hint: did you mean "agent.perf"?\n\n')


@pytest.mark.parametrize("argument, message", [
    ("HEAD~1:policies/agent.test.perf",
     "HEAD~1:policies/agent.test.perf: 'policies/agent.test.perf' is not in revision HEAD~1 (commit {second12})"),
    ("HEAD:policies/agent.perf",
     "HEAD:policies/agent.perf: a test file is named NAME.test.perf (hint: perfrules check checks a policy)"),
    ("HEAD~1:policies/",
     "HEAD~1:policies/: in revision HEAD~1 (commit {second12}), the folder holds no *.test.perf test files "
     "(hint: a policy's tests go in NAME.test.perf)"),
    ("nope:policies/",
     "nope:policies/: unknown revision 'nope' in the repository at {repo} (give a branch, a tag, a commit id, "
     "or HEAD~N)"),
])
def test_an_unknown_revision_or_path_is_a_command_line_mistake(tested, run_cli, argument, message):
    repo = tested["repo"]
    result = run_cli("test", argument, cwd=repo)
    expected = message.format(repo=repo, second12=tested["second"][:12])
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"perfrules: error: {expected}\n")


def test_check_takes_a_test_file_of_a_revision(tested, run_cli):
    repo = tested["repo"]
    result = run_cli("check", "HEAD:policies/agent.test.perf", cwd=repo)
    assert (result.exit_code, result.stderr) == (0, "checked 0 policy files and 1 test file: no problems\n")
    evaluated = run_cli("evaluate", "HEAD:policies/agent.test.perf", "data.csv", cwd=repo)
    assert (evaluated.exit_code, evaluated.stderr) == (
        2, "perfrules: error: HEAD:policies/agent.test.perf: this is a policy test file, not a policy "
           "(hint: perfrules test HEAD:policies/agent.test.perf runs it)\n")
