"""``REV:PATH`` wherever policies are read (cli.md "Policies from git").

A temporary repository with the git command line: commit 1 (tag ``v1``) has
``policies/agent.perf`` extending ``policies/base.perf``; commit 2 changes a weight in the
child and a threshold in the parent; the working tree changes the parent once more,
uncommitted.  Evaluating ``HEAD~1:policies/agent.perf`` must give exactly what commit 1's
files give when checked out (its parent read from the same revision, not from disk), with
stamps naming that revision's commit; every spelling of the revision gives the same; an
unknown revision or a path the revision lacks is exit 2 with one sentence; a path that
exists on disk as written is read from disk; nothing the repository configures is run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from test_provenance import commit, git, plant_hostile_config

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="the tests build repositories with git")

BASE = """# the parent: levels, grades and the bonus
policy "客服基础考核" {
    metric csat: percent
    metric resolution: percent
    levels {
        excellent "优秀" = 100
        pass "合格" = 80
        fail "不合格" = 0
    }
    kpi "顾客满意度" weight WEIGHT {
        csat >= THRESHOLD => excellent
        else => fail
    }
    kpi "问题解决率" weight REST {
        else => fail
    }
    grade {
        score >= 90 => "优秀"
        score >= 60 => "合格"
        else => "不合格"
    }
    bonus "月度奖金" {
        grade == "优秀" => 1000
        else => 0
    }
}
"""

AGENT = """policy "客服月度考核" extends "base.perf" {
    version "VERSION"
    roles agent
    kpi "问题解决率" weight REST {
        resolution >= 90% => excellent
        resolution >= 80% => pass
        else => fail
    }
}
"""

DATA = """agent_id,name,role,team,period,csat,resolution
A1,张三,agent,一组,2026-11,92%,85%
A2,李四,agent,一组,2026-11,88%,95%
A3,王五,agent,二组,2026-11,95%,70%
"""


def base_text(weight: int, threshold: str) -> str:
    return BASE.replace("WEIGHT", f"{weight}%").replace("REST", f"{100 - weight}%").replace("THRESHOLD", threshold)


def write_version(repo: Path, weight: int, threshold: str, version: str) -> None:
    """The parent holds satisfaction's weight and threshold; the child the other KPI's weight."""
    (repo / "policies" / "base.perf").write_text(base_text(weight, threshold), encoding="utf-8")
    (repo / "policies" / "agent.perf").write_text(
        AGENT.replace("VERSION", version).replace("REST", f"{100 - weight}%"), encoding="utf-8")


@pytest.fixture
def history(tmp_path) -> dict:
    repo = tmp_path / "repo"
    (repo / "policies").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "data.csv").write_text(DATA, encoding="utf-8")
    write_version(repo, 60, "90%", "2026.11")
    first = commit(repo, "first version")
    git(repo, "tag", "v1")
    checkout = tmp_path / "first"  # commit 1's files on disk, for the comparison
    shutil.copytree(repo / "policies", checkout)
    write_version(repo, 50, "93%", "2026.12")
    second = commit(repo, "second version")
    (repo / "policies" / "base.perf").write_text(base_text(50, "99%"), encoding="utf-8")  # uncommitted
    return {"repo": repo, "first": first, "second": second, "checkout": checkout}


def evaluate(run_cli, repo: Path, policies: str, *extra: str, cwd: Path | None = None):
    result = run_cli("evaluate", policies, str(repo / "data.csv"), *extra, cwd=cwd or repo)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def blob_sha256(repo: Path, revision: str, path: str) -> str:
    return hashlib.sha256(git(repo, "show", f"{revision}:{path}").encode("utf-8") + b"\n").hexdigest()


def test_a_revision_evaluates_as_its_checkout_with_its_parent_from_the_same_revision(history, run_cli):
    repo = history["repo"]
    from_git = evaluate(run_cli, repo, "HEAD~1:policies/agent.perf")
    from_checkout = evaluate(run_cli, repo, str(history["checkout"] / "agent.perf"))
    assert from_git["results"] == from_checkout["results"]
    # by hand (commit 1: 60%/40%, excellent satisfaction from 90%): A1 60 + 32 = 92 优秀 1000,
    # A2 0 + 40 = 40 不合格, A3 60 + 0 = 60 合格
    assert [(r["agent_id"], r["score"], r["grade"], r["bonus_total"]) for r in from_git["results"]] == [
        ("A1", 92.0, "优秀", 1000.0), ("A3", 60.0, "合格", 0.0), ("A2", 40.0, "不合格", 0.0)]
    assert from_git["policies"] == [{
        "name": "客服月度考核", "version": "2026.11", "file": "HEAD~1:policies/agent.perf",
        "sha256": blob_sha256(repo, history["first"], "policies/agent.perf"),
        "git_commit": history["first"], "git_dirty": False,
        "extends": [{"file": "HEAD~1:policies/base.perf",
                     "sha256": blob_sha256(repo, history["first"], "policies/base.perf"),
                     "git_commit": history["first"], "git_dirty": False}],
    }]


@pytest.mark.parametrize("spelling", ["HEAD^", "HEAD~", "HEAD~1", "HEAD^1", "HEAD~2^0~0", "main~1", "v1", "FIRST7",
                                      "FIRST", "HEAD~1:./policies/agent.perf", "feature/old"])
def test_every_spelling_of_the_revision_reads_the_same_file(history, run_cli, spelling):
    repo = history["repo"]
    git(repo, "branch", "feature/old", history["first"])  # a branch name with a slash
    spelling = spelling.replace("FIRST7", history["first"][:7]).replace("FIRST", history["first"])
    spelling = spelling.replace("HEAD~2^0~0", "HEAD~1^0~0")
    argument = spelling if ":" in spelling else f"{spelling}:policies/agent.perf"
    document = evaluate(run_cli, repo, argument)
    assert document["policies"][0]["git_commit"] == history["first"]
    assert document["policies"][0]["file"] == f"{argument.split(':')[0]}:policies/agent.perf"
    assert document["policies"][0]["version"] == "2026.11"


def test_a_folder_of_a_revision_and_a_path_relative_to_the_current_folder(history, run_cli):
    repo = history["repo"]
    folder = evaluate(run_cli, repo, "HEAD:policies/")
    assert [stamp["file"] for stamp in folder["policies"]] == ["HEAD:policies/agent.perf"]
    assert folder["policies"][0]["git_commit"] == history["second"]
    # HEAD's parent is the committed one (excellent from 93%), not the working tree's (99%)
    here = evaluate(run_cli, repo, "HEAD:./agent.perf", cwd=repo / "policies")
    assert here["results"] == folder["results"]
    on_disk = evaluate(run_cli, repo, "policies/agent.perf")
    assert on_disk["results"] != folder["results"]
    assert on_disk["policies"][0]["extends"][0]["git_dirty"] is True


def test_csv_stamps_the_revision_bytes(history, run_cli):
    repo = history["repo"]
    result = run_cli("evaluate", "HEAD~1:policies/agent.perf", "data.csv", "--format", "csv", cwd=repo)
    assert result.exit_code == 0, result.stderr
    rows = result.stdout.splitlines()
    assert rows[0].endswith(",policy_sha256,policy_extends_sha256")  # agent.perf extends base.perf
    parent = blob_sha256(repo, history["first"], "policies/base.perf")
    assert rows[1].endswith(f",{blob_sha256(repo, history['first'], 'policies/agent.perf')},HEAD~1:policies/base.perf {parent}")


@pytest.mark.parametrize("argument, message", [
    ("nope:policies/agent.perf",
     ("nope:policies/agent.perf: unknown revision 'nope' in the repository at {repo} "
      "(give a branch, a tag, a commit id, or HEAD~N)")),
    ("HEAD~2:policies/agent.perf", "HEAD~2:policies/agent.perf: unknown revision 'HEAD~2': commit {first12} has no parent"),
    ("HEAD^2:policies/agent.perf", "HEAD^2:policies/agent.perf: unknown revision 'HEAD^2': commit {second12} has one parent"),
    ("HEAD:policies/missing.perf", ("HEAD:policies/missing.perf: 'policies/missing.perf' is not in revision HEAD "
                                    "(commit {second12})")),
    ("v1:nothing/", "v1:nothing/: 'nothing' is not in revision v1 (commit {first12})"),
    ("HEAD:", "HEAD:: the folder holds no *.perf policy files in revision HEAD (commit {second12})"),
    ("HEAD:../outside.perf", "HEAD:../outside.perf: '../outside.perf' is outside the repository"),
    ("..:policies/agent.perf", ("..:policies/agent.perf: unknown revision '..' in the repository at {repo} "
                                "(give a branch, a tag, a commit id, or HEAD~N)")),
    ("policies/a:b.perf", "policies/a:b.perf: no such file or folder"),
])
def test_an_unknown_revision_or_path_is_a_command_line_mistake(history, run_cli, argument, message):
    repo = history["repo"]
    result = run_cli("evaluate", argument, "data.csv", cwd=repo)
    assert result.exit_code == 2
    expected = message.format(repo=repo, first12=history["first"][:12], second12=history["second"][:12])
    assert result.stderr == f"perfrules: error: {expected}\n"
    assert result.stdout == ""


def test_outside_a_repository(tmp_path, run_cli):
    (tmp_path / "data.csv").write_text(DATA, encoding="utf-8")
    result = run_cli("check", "HEAD:policies/agent.perf", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr == (f"perfrules: error: HEAD:policies/agent.perf: 'HEAD' names a git revision, "
                             f"but {tmp_path} is not in a git repository\n")


def test_a_path_that_exists_on_disk_as_written_is_read_from_disk(history, run_cli):
    repo = history["repo"]
    shutil.copy(history["checkout"] / "base.perf", repo / "base.perf")
    named = repo / "v1:agent.perf"  # a file whose name looks like REV:PATH
    named.write_text((history["checkout"] / "agent.perf").read_text(encoding="utf-8").replace("2026.11", "disk"),
                     encoding="utf-8")
    document = evaluate(run_cli, repo, "v1:agent.perf")
    assert document["policies"][0]["version"] == "disk"
    assert document["policies"][0]["file"] == "v1:agent.perf"
    assert document["policies"][0]["git_dirty"] is True  # not committed


def test_diagnostics_name_the_revision_and_the_line(history, run_cli):
    repo = history["repo"]
    agent = repo / "policies" / "agent.perf"
    good = agent.read_text(encoding="utf-8")
    agent.write_text(good.replace("weight 50%", "weight 5O%"), encoding="utf-8")  # a typo: O for 0
    commit(repo, "a typo")
    agent.write_text(good, encoding="utf-8")  # fixed on disk only
    result = run_cli("check", "HEAD:policies/agent.perf", cwd=repo)
    assert result.exit_code == 1
    assert result.stderr.startswith("HEAD:policies/agent.perf:4:24: error PR007: a weight must be a percentage"), result.stderr
    assert run_cli("check", "policies/agent.perf", cwd=repo).exit_code == 0

    agent.write_text(good.replace('extends "base.perf"', 'extends "gone.perf"'), encoding="utf-8")
    commit(repo, "a parent that is not there")
    result = run_cli("evaluate", "HEAD:policies/agent.perf", "data.csv", cwd=repo)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        'HEAD:policies/agent.perf:1:25: error PR602: cannot read "gone.perf", which this policy extends: '
        f"not in revision HEAD (commit {git(repo, 'rev-parse', 'HEAD')[:12]})\n"), result.stderr


def test_a_parent_outside_the_revision_folder_is_read_from_the_same_revision(history, run_cli):
    repo = history["repo"]
    (repo / "shared").mkdir()
    git(repo, "mv", "policies/base.perf", "shared/base.perf")
    agent = repo / "policies" / "agent.perf"
    agent.write_text(agent.read_text(encoding="utf-8").replace('"base.perf"', '"../shared/base.perf"'),
                     encoding="utf-8")
    commit(repo, "the parent moves")
    (repo / "shared" / "base.perf").unlink()  # gone from disk: only the revision has it
    document = evaluate(run_cli, repo, "HEAD:policies/agent.perf")
    assert document["policies"][0]["extends"][0]["file"] == "HEAD:shared/base.perf"


def test_a_hostile_repository_runs_nothing(history, run_cli, tmp_path):
    repo = history["repo"]
    marker = tmp_path / "pwned"
    plant_hostile_config(repo, marker)
    document = evaluate(run_cli, repo, "v1:policies/")
    assert document["policies"][0]["git_commit"] == history["first"]
    assert not marker.exists()


def test_diff_between_a_revision_and_the_working_tree(history, run_cli):
    """A weight change in the child and a threshold change in the parent, both shown where written."""
    repo = history["repo"]
    (repo / "policies" / "base.perf").write_text(base_text(50, "93%"), encoding="utf-8")  # as committed
    result = run_cli("diff", "v1:policies/", "HEAD:policies/", "data.csv", "--format", "json", cwd=repo)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    base = {"old_file": "v1:policies/base.perf", "new_file": "HEAD:policies/base.perf"}
    child = {"old_file": "v1:policies/agent.perf", "new_file": "HEAD:policies/agent.perf"}
    assert document["policy_changes"] == [  # in the merged policy's order; each where it is written
        {"policy": "客服月度考核", "change": 'kpi "顾客满意度": weight 60% → 50%', "old_line": 10, "new_line": 10, **base},
        {"policy": "客服月度考核", "change": 'kpi "顾客满意度": rule `csat >= 90% => excellent` → `csat >= 93% => excellent`',
         "old_line": 11, "new_line": 11, **base},
        {"policy": "客服月度考核", "change": 'kpi "问题解决率": weight 40% → 50%', "old_line": 4, "new_line": 4, **child},
        {"policy": "客服月度考核", "change": 'version "2026.11" → "2026.12"', "old_line": 2, "new_line": 2, **child},
    ]
    assert [stamp["git_commit"] for stamp in document["old"]["policies"]] == [history["first"]]
    assert [stamp["git_commit"] for stamp in document["new"]["policies"]] == [history["second"]]
    # by hand, new (50%/50%, excellent from 93%): A1 0 + 40 = 40 不合格; A2 0 + 50 = 50 不合格;
    # A3 50 + 0 = 50 不合格. Old: A1 92 优秀 1000, A3 60 合格, A2 40 不合格.
    assert [(agent["agent_id"], agent["old"]["grade"], agent["new"]["grade"], agent["old"]["bonus_total"],
             agent["new"]["bonus_total"]) for agent in document["agents"]] == [
        ("A1", "优秀", "不合格", 1000.0, 0.0), ("A3", "合格", "不合格", 0.0, 0.0), ("A2", "不合格", "不合格", 0.0, 0.0)]
    assert document["summary"]["bonus_delta"] == -1000.0


def test_an_ambiguous_short_commit_id(tmp_path, run_cli):
    """Two commits sharing four hex digits (a thousand commits make a pair near certain)."""
    from dulwich.objects import Commit, Tree
    from dulwich.repo import Repo

    repository = Repo.init(str(tmp_path))
    tree = Tree()
    repository.object_store.add_object(tree)
    seen: dict[str, str] = {}
    shared = None
    for number in range(3000):
        made = Commit()
        made.tree, made.message = tree.id, f"{number}\n".encode()
        made.author = made.committer = b"Test <test@example.com>"
        made.author_time = made.commit_time = 1_700_000_000
        made.author_timezone = made.commit_timezone = 0
        repository.object_store.add_object(made)
        prefix = made.id.decode()[:4]
        if prefix in seen:
            shared = prefix
            break
        seen[prefix] = made.id.decode()
    repository.close()
    assert shared is not None
    result = run_cli("check", f"{shared}:policies", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr == (f"perfrules: error: {shared}:policies: the short commit id '{shared}' is ambiguous "
                             f"in the repository at {tmp_path}; give more digits\n")


def test_explain_names_the_revision(history, run_cli):
    repo = history["repo"]
    result = run_cli("explain", "v1:policies/agent.perf", "data.csv", "--agent", "A1", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1] == "考核方案: 客服月度考核 2026.11 (v1:policies/agent.perf; 继承 v1:policies/base.perf)"


def test_test_files_in_a_revision_are_not_policies(history, run_cli):
    repo = history["repo"]
    (repo / "policies" / "agent.test.perf").write_text('tests for "agent.perf" {\n}\n', encoding="utf-8")
    commit(repo, "a test file")
    document = evaluate(run_cli, repo, "HEAD:policies/")
    assert [stamp["file"] for stamp in document["policies"]] == ["HEAD:policies/agent.perf"]
    result = run_cli("evaluate", "HEAD:policies/agent.test.perf", "data.csv", cwd=repo)
    assert result.exit_code == 2
    assert result.stderr == ("perfrules: error: HEAD:policies/agent.test.perf: this is a policy test file, not a "
                             "policy (hint: perfrules test HEAD:policies/agent.test.perf runs it)\n")


def test_a_symbolic_link_named_in_a_revision_is_a_command_line_mistake(history, run_cli):
    """Named on the command line, a link in the revision is no policy file (exit 2, like a test file),
    and the message names what it points to; every command that takes policies says the same."""
    repo = history["repo"]
    (repo / "link.perf").symlink_to("policies/agent.perf")
    commit(repo, "a link")
    expected = ("perfrules: error: HEAD:link.perf: it is a symbolic link to 'policies/agent.perf' in revision HEAD, "
                "not a policy file (hint: name the file it points to, HEAD:policies/agent.perf)\n")
    for command in (("check", "HEAD:link.perf"), ("evaluate", "HEAD:link.perf", "data.csv"),
                    ("diff", "HEAD:link.perf", "policies/agent.perf", "data.csv")):
        result = run_cli(*command, cwd=repo)
        assert (result.exit_code, result.stderr, result.stdout) == (2, expected, ""), command
    followed = run_cli("check", "HEAD:policies/agent.perf", cwd=repo)
    assert followed.exit_code == 0, followed.stderr
