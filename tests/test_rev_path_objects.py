"""``REV:PATH`` in repositories whose objects are not all there or not what their tree says.

A partial clone (``git clone --filter=blob:none``) holds the trees of a revision but not the
files' contents; a damaged repository may lose a folder's tree; a hostile one may hold a
folder thousands of levels deep.  perfrules reads the repository as plain data and fetches
nothing (:mod:`perfrules.git_revision`), so a missing object is said in one sentence with a
hint (a policy file that cannot be read is PR010, a folder that cannot be listed a
command-line mistake), never an internal error; and listing a deep folder costs time in
proportion to its size, not to the square of its depth.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

POLICY = """policy "p" {
    version "1"
    roles agent
    metric csat: percent
    kpi "k" weight 100% {
        csat >= 90% => 100
        else => 0
    }
    grade {
        else => "A"
    }
}
"""

TESTS = """tests for "p.perf" {
}
"""


def build(root: Path, depth: int = 0, damaged: bool = False) -> dict[str, str]:
    """A repository with one commit: policies/p.perf, and policies/p.test.perf ``depth`` folders
    down (deep/d/d/...); returns the object ids; with ``damaged``, the tree of ``policies``
    says ``bad`` is a folder while it is a file."""
    from dulwich.objects import Blob, Commit, Tree
    from dulwich.repo import Repo

    repository = Repo.init(str(root))
    store = repository.object_store
    policy, tests = Blob.from_string(POLICY.encode()), Blob.from_string(TESTS.encode())
    store.add_object(policy)
    store.add_object(tests)
    folder = Tree()
    folder.add(b"p.perf", 0o100644, policy.id)
    if damaged:
        folder.add(b"bad", 0o040000, policy.id)
    store.add_object(folder)
    deep = Tree()
    deep.add(b"p.test.perf", 0o100644, tests.id)
    store.add_object(deep)
    for _ in range(depth):
        outer = Tree()
        outer.add(b"d", 0o040000, deep.id)
        store.add_object(outer)
        deep = outer
    top = Tree()
    top.add(b"policies", 0o040000, folder.id)
    top.add(b"deep", 0o040000, deep.id)
    store.add_object(top)
    commit = Commit()
    commit.tree, commit.message = top.id, b"one\n"
    commit.author = commit.committer = b"Test <test@example.com>"
    commit.author_time = commit.commit_time = 1_700_000_000
    commit.author_timezone = commit.commit_timezone = 0
    store.add_object(commit)
    repository.refs[b"refs/heads/main"] = commit.id
    repository.refs.set_symbolic_ref(b"HEAD", b"refs/heads/main")
    repository.close()
    return {"policy": policy.id.decode(), "folder": folder.id.decode()}


def remove_object(root: Path, object_id: str) -> None:
    (root / ".git" / "objects" / object_id[:2] / object_id[2:]).unlink()


def test_a_file_whose_content_is_missing_is_pr010_with_a_hint(tmp_path, run_cli):
    ids = build(tmp_path)
    remove_object(tmp_path, ids["policy"])
    expected = (f"HEAD:policies/p.perf:1:1: error PR010: cannot read the file: its content (object "
                f"{ids['policy'][:12]}) is not in the repository at {tmp_path} (a partial or damaged clone) "
                f"(hint: let git fetch it, for example with git show HEAD:policies/p.perf, or name a revision "
                f"whose files are there)\n\nchecked 1 policy file: 1 error, 0 warnings\n")
    for argument in ("HEAD:policies/p.perf", "HEAD:policies"):
        result = run_cli("check", argument, cwd=tmp_path)
        assert (result.exit_code, result.stderr) == (1, expected), argument
    result = run_cli("evaluate", "HEAD:policies", "data.csv", cwd=tmp_path)
    assert result.exit_code == 1, result.stderr
    assert "PR010: cannot read the file: its content" in result.stderr


def test_a_folder_whose_tree_is_missing_is_a_command_line_mistake(tmp_path, run_cli):
    ids = build(tmp_path)
    remove_object(tmp_path, ids["folder"])
    for command in (("test", "HEAD:"), ("check", "HEAD:policies"), ("test", "HEAD:policies")):
        result = run_cli(*command, cwd=tmp_path)
        assert (result.exit_code, result.stdout) == (2, ""), (command, result.stderr)
        assert result.stderr == (
            f"perfrules: error: {command[1]}: the folder policies (object {ids['folder'][:12]}) is not in the "
            f"repository at {tmp_path} (a partial or damaged clone) (hint: let git fetch it, for example with "
            f"git ls-tree HEAD policies/, or name a revision whose files are there)\n"), command


def test_a_tree_entry_that_lies_about_its_kind_is_no_internal_error(tmp_path, run_cli):
    build(tmp_path, damaged=True)
    for command in (("check", "HEAD:policies"), ("check", "HEAD:policies/bad/x.perf"), ("test", "HEAD:")):
        result = run_cli(*command, cwd=tmp_path)
        assert result.exit_code in (0, 1, 2), (command, result.stderr)
        assert "internal error" not in result.stderr, command


def test_a_folder_two_thousand_levels_deep_is_listed_in_seconds(tmp_path, run_cli):
    build(tmp_path, depth=2000)
    started = time.monotonic()
    result = run_cli("test", "HEAD:deep", cwd=tmp_path)
    assert time.monotonic() - started < 20
    assert result.exit_code == 1  # its test names a policy that is not beside it
    assert result.stderr.startswith("HEAD:deep/" + "d/" * 2000 + "p.test.perf:1:11: error PR901: no policy file")
