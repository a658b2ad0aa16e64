"""The receipt of a result (cli.md): each policy's ``sha256``, ``git_commit`` (the last commit
that touched the file), ``git_dirty``, ``extends``, and the data's ``data_sha256``; the
review packet's footer says when the policy has uncommitted changes (issue 8).

Repositories are built with the git command line in temporary folders, and every answer
is compared with ``git log -1 -- FILE``.  perfrules itself reads them without running
anything: a hostile ``.git/config`` (issue 9) proves it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pypdf
import pytest

from conftest import CASES
from perfrules.provenance import file_provenance

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="the tests build repositories with git")

GOOD = CASES / "evaluate" / "spec-complete-example"
# Overrides for the set-up commands only, so that the test's own git never runs what it plants.
SAFE = ["-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "log.showSignature=false",
        "-c", "commit.gpgSign=false", "-c", "user.name=Test", "-c", "user.email=test@example.com"]


def git(repo: Path, *args: str, safe: bool = True) -> str:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    environment.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    completed = subprocess.run(["git", *(SAFE if safe else []), *args], cwd=repo, env=environment,
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0 or not safe, completed.stderr  # planted programs may break git
    return completed.stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def last_commit(repo: Path, name: str) -> str | None:
    return git(repo, "log", "-1", "--format=%H", "--", name) or None


def state(path: Path) -> tuple[str | None, bool | None]:
    origin = file_provenance(path)
    assert origin.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    return origin.git_commit, origin.git_dirty


@pytest.fixture
def repo(tmp_path) -> Path:
    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    return folder


def test_the_last_commit_that_touched_the_file(repo):
    (repo / "policies").mkdir()
    policy = repo / "policies" / "a.perf"
    policy.write_text("one\n", encoding="utf-8")
    (repo / "other.txt").write_text("x\n", encoding="utf-8")
    first = commit(repo, "first")
    (repo / "other.txt").write_text("y\n", encoding="utf-8")
    commit(repo, "another file")
    assert state(policy) == (first, False) and last_commit(repo, "policies/a.perf") == first

    policy.write_text("two\n", encoding="utf-8")
    assert state(policy) == (first, True)             # changed on disk
    git(repo, "add", "policies/a.perf")
    assert state(policy) == (first, True)             # staged is still not committed
    second = commit(repo, "second")
    assert state(policy) == (second, False)

    policy.write_text("one\n", encoding="utf-8")      # back to the first content: a change all the same
    third = commit(repo, "back")
    assert state(policy) == (third, False) and last_commit(repo, "policies/a.perf") == third


def test_a_relative_path_from_another_folder(repo, monkeypatch):
    (repo / "p").mkdir()
    (repo / "p" / "a.perf").write_text("one\n", encoding="utf-8")
    first = commit(repo, "first")
    monkeypatch.chdir(repo / "p")
    assert state(Path("a.perf")) == (first, False)
    assert state(Path("..") / "p" / "a.perf") == (first, False)


def test_a_merge_follows_the_branch_that_changed_the_file(repo):
    policy = repo / "a.perf"
    policy.write_text("one\n", encoding="utf-8")
    commit(repo, "first")
    git(repo, "checkout", "-q", "-b", "side")
    policy.write_text("side\n", encoding="utf-8")
    side = commit(repo, "side")
    git(repo, "checkout", "-q", "main")
    (repo / "other.txt").write_text("x\n", encoding="utf-8")
    commit(repo, "main")
    git(repo, "merge", "-q", "--no-edit", "side")
    assert state(policy) == (side, False) and last_commit(repo, "a.perf") == side


def test_untracked_no_commit_and_outside(repo, tmp_path):
    new = repo / "new.perf"
    new.write_text("x\n", encoding="utf-8")
    assert state(new) == (None, True)                 # a repository without any commit yet
    (repo / "other.txt").write_text("x\n", encoding="utf-8")
    git(repo, "add", "other.txt")
    git(repo, "commit", "-q", "-m", "first")
    assert state(new) == (None, True)                 # untracked
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.perf").write_text("x\n", encoding="utf-8")
    assert state(outside / "a.perf") == (None, None)


def test_a_file_that_went_away_is_stamped_from_what_was_read(repo):
    origin = file_provenance(repo / "gone.perf", fallback=b"evaluated\n")
    assert (origin.sha256, origin.git_commit, origin.git_dirty) == (
        hashlib.sha256(b"evaluated\n").hexdigest(), None, True)


# ---- a hostile repository ----------------------------------------------------------------------


def plant_hostile_config(repo: Path, marker: Path) -> None:
    """Everything a cloned repository can configure to make git run a program."""
    hooks = repo / "hooks"
    hooks.mkdir()
    program = repo / "evil.sh"
    program.write_text(f"#!/bin/sh\necho \"$0 $*\" >> '{marker}'\n", encoding="utf-8")
    program.chmod(0o755)
    for hook in ("post-checkout", "post-index-change", "reference-transaction", "pre-commit", "post-commit"):
        (hooks / hook).symlink_to(program)
    (repo / ".gitattributes").write_text("* filter=evil diff=evil\n", encoding="utf-8")
    with open(repo / ".git" / "config", "a", encoding="utf-8") as config:
        config.write(f"""[core]
\tfsmonitor = {program}
\thooksPath = {hooks}
\tpager = {program}
\tsshCommand = {program}
\talternateRefsCommand = {program}
[log]
\tshowSignature = true
[gpg]
\tprogram = {program}
[gpg "ssh"]
\tprogram = {program}
[filter "evil"]
\tclean = {program}
\tsmudge = {program}
\tprocess = {program}
[diff "evil"]
\ttextconv = {program}
[diff]
\texternal = {program}
""")


def signed_commit(repo: Path, message: str) -> str:
    """Commit, then replace the commit by the same one with a (fake) PGP signature."""
    plain = commit(repo, message)
    header = git(repo, "cat-file", "commit", plain).split("\n\n", 1)[0]
    signature = "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n =abcd\n -----END PGP SIGNATURE-----"
    body = f"{header}\n{signature}\n\n{message}\n"
    signed = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--stdin"], cwd=repo, input=body,
                            capture_output=True, text=True, check=True).stdout.strip()
    git(repo, "update-ref", "HEAD", signed)
    return signed


def test_a_hostile_repository_runs_nothing(repo, tmp_path, run_cli):
    for name in ("policy.perf", "data.csv"):
        shutil.copy(GOOD / name, repo / name)
    signed = signed_commit(repo, "policy")
    marker = tmp_path / "pwned"
    plant_hostile_config(repo, marker)
    (repo / "policy.perf").write_text((GOOD / "policy.perf").read_text(encoding="utf-8") + "# edited\n",
                                      encoding="utf-8")

    result = run_cli("evaluate", "policy.perf", "data.csv", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert not marker.exists(), marker.read_text()
    stamp = json.loads(result.stdout)["policies"][0]
    assert (stamp["git_commit"], stamp["git_dirty"]) == (signed, True)

    # The control: the planted program is live. What perfrules ran before (git log: gpg.program
    # for the signed commit) and git status (core.fsmonitor, the clean filter) run it.
    git(repo, "log", "-1", "--format=%H", "--", "policy.perf", safe=False)
    git(repo, "status", "--short", safe=False)
    assert marker.exists()


# ---- the result document and the packet --------------------------------------------------------


def test_the_result_carries_the_receipt(repo, run_cli):
    for name in ("policy.perf", "data.csv"):
        shutil.copy(GOOD / name, repo / name)
    first = commit(repo, "first")
    result = run_cli("evaluate", "policy.perf", "data.csv", cwd=repo)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert list(document) == ["perfrules", "period", "data_sha256", "policies", "results", "warnings"]
    assert document["data_sha256"] == hashlib.sha256((repo / "data.csv").read_bytes()).hexdigest()
    assert document["policies"] == [{
        "name": "售后客服月度考核", "version": "2026.11", "file": "policy.perf",
        "sha256": hashlib.sha256((repo / "policy.perf").read_bytes()).hexdigest(),
        "git_commit": first, "git_dirty": False, "extends": [],
    }]


@pytest.mark.parametrize("language, words", [("zh", "有未提交的修改"), ("en", "uncommitted changes")])
def test_the_packet_footer_says_uncommitted_changes(repo, run_cli, language, words):
    for name in ("policy.perf", "data.csv"):
        shutil.copy(GOOD / name, repo / name)
    first = commit(repo, "first")

    def footer(folder: str) -> str:
        result = run_cli("report", "policy.perf", "data.csv", "-o", folder, "--agent", "A001", "--lang", language,
                         cwd=repo)
        assert result.exit_code == 0, result.stderr
        (packet,) = (repo / folder).rglob("*.pdf")
        return pypdf.PdfReader(str(packet)).pages[0].extract_text()

    clean = footer("clean")
    assert first[:10] in clean and words not in clean
    with open(repo / "policy.perf", "a", encoding="utf-8") as policy:
        policy.write("# edited\n")
    dirty = footer("dirty")
    assert f"{first[:10]} ({words})" in dirty
