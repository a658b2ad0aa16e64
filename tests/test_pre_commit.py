"""The pre-commit hooks: the project's ``.pre-commit-hooks.yaml`` and the
``.pre-commit-config.yaml`` that ``perfrules init`` writes pass pre-commit's own
validators, say the same thing, and the real ``pre-commit`` runs them on an initialised
repository: a clean policy passes, a broken one stops the commit with its diagnostic.
The generated hooks are ``repo: local`` calling the ``perfrules`` on PATH, so no network
is needed; a wrapper on PATH runs the perfrules under test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO, command_environment

MANIFEST = REPO / ".pre-commit-hooks.yaml"
HOOKS = ["perfrules-check", "perfrules-fmt", "perfrules-test"]


def pre_commit(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def policy_repository(run_cli, tmp_path):
    """An initialised repository (zh) with everything staged, and the environment to run pre-commit in."""
    assert run_cli("init", "方案", cwd=tmp_path).exit_code == 0
    folder = tmp_path / "方案"
    env = command_environment(tmp_path)
    subprocess.run(["git", "add", "-A"], cwd=folder, env=env, check=True)
    return folder, env


def hook_line(output: str, name: str) -> str:
    """``perfrules check....Passed`` → ``perfrules check Passed``."""
    for line in output.splitlines():
        if line.startswith(name + "."):
            return f"{name} {line.rstrip('.').rsplit('.', 1)[-1].strip()}"
    raise AssertionError(f"no line for {name} in:\n{output}")


def test_the_manifest_is_valid_for_pre_commit():
    validated = pre_commit("validate-manifest", str(MANIFEST), cwd=REPO)
    assert (validated.returncode, validated.stdout, validated.stderr) == (0, "", "")
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert [hook["id"] for hook in manifest] == HOOKS
    assert {hook["language"] for hook in manifest} == {"python"}
    assert {hook["files"] for hook in manifest} == {r"\.perf$"}
    assert {hook["id"]: hook.get("pass_filenames", True) for hook in manifest} == {
        "perfrules-check": True, "perfrules-fmt": True, "perfrules-test": False}


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_generated_config_is_valid_and_has_the_manifests_hooks(run_cli, tmp_path, language):
    assert run_cli("init", "r", "--lang", language, cwd=tmp_path).exit_code == 0
    config = tmp_path / "r" / ".pre-commit-config.yaml"
    validated = pre_commit("validate-config", str(config), cwd=tmp_path / "r")
    assert (validated.returncode, validated.stdout, validated.stderr) == (0, "", "")
    (local,) = yaml.safe_load(config.read_text(encoding="utf-8"))["repos"]
    assert local["repo"] == "local"
    manifest = {hook["id"]: hook for hook in yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))}
    for hook in local["hooks"]:
        published = manifest[hook["id"]]
        assert (hook["name"], hook["files"], hook["language"]) == (published["name"], published["files"], "system")
        assert hook["entry"].startswith(published["entry"])
    # the repository's layout is known here: check every policy together, run every test
    assert [(hook["id"], hook["entry"], hook.get("pass_filenames", True)) for hook in local["hooks"]] == [
        ("perfrules-check", "perfrules check policies/", False), ("perfrules-fmt", "perfrules fmt", True),
        ("perfrules-test", "perfrules test", False)]


def test_pre_commit_runs_the_check_hook_on_an_initialised_repository(policy_repository):
    folder, env = policy_repository
    clean = pre_commit("run", "perfrules-check", "--all-files", cwd=folder, env=env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert hook_line(clean.stdout, "perfrules check") == "perfrules check Passed"

    # the published hook, run as a local one: it is given the policy files, not the test files
    hooks = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    for hook in hooks:
        hook["language"] = "system"
    config = folder.parent / "published-hooks.yaml"
    config.write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": hooks}]}), encoding="utf-8")
    published = pre_commit("run", "-c", str(config), "perfrules-check", "--all-files", "--verbose", cwd=folder, env=env)
    assert published.returncode == 0, published.stdout + published.stderr
    assert published.stdout.endswith("\n\nchecked 1 policy file: no problems\n\n")

    policy = folder / "policies" / "after_sales_agent.perf"
    policy.write_text(policy.read_text(encoding="utf-8").replace("csat >= 90% =>", "csat >= 90 =>"), encoding="utf-8")
    subprocess.run(["git", "add", "-A"], cwd=folder, env=env, check=True)
    broken = pre_commit("run", "perfrules-check", "--all-files", cwd=folder, env=env)
    assert broken.returncode == 1
    assert broken.stdout == (
        "perfrules check..........................................................Failed\n"
        "- hook id: perfrules-check\n"
        "- exit code: 1\n"
        "\n"
        "policies/after_sales_agent.perf:35:17: error PR201: percent metric 'csat' compared with the plain number 90\n"
        "    csat >= 90 => excellent\n"
        "            ^^\n"
        "  hint: did you mean 90%?\n"
        "\n"
        "checked 1 policy file: 1 error, 0 warnings\n"
        "\n")

def test_pre_commit_runs_every_hook_on_an_initialised_repository(policy_repository):
    folder, env = policy_repository
    ran = pre_commit("run", "--all-files", cwd=folder, env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert [hook_line(ran.stdout, f"perfrules {name}") for name in ("check", "fmt", "test")] == [
        "perfrules check Passed", "perfrules fmt Passed", "perfrules test Passed"]


def test_pre_commit_runs_the_test_hook_on_an_initialised_repository(policy_repository):
    folder, env = policy_repository
    passing = pre_commit("run", "perfrules-test", "--all-files", cwd=folder, env=env)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert hook_line(passing.stdout, "perfrules test") == "perfrules test Passed"

    tests = folder / "policies" / "after_sales_agent.test.perf"
    tests.write_text(tests.read_text(encoding="utf-8").replace("expect A1 score == 88", "expect A1 score == 89"),
                     encoding="utf-8")
    subprocess.run(["git", "add", "-A"], cwd=folder, env=env, check=True)
    failing = pre_commit("run", "perfrules-test", "--all-files", cwd=folder, env=env)
    assert failing.returncode == 1
    assert hook_line(failing.stdout, "perfrules test") == "perfrules test Failed"
    assert ("FAIL  policies/after_sales_agent.test.perf:30  75 分到 90 分之间是良好\n"
            "        policies/after_sales_agent.test.perf:33: expect A1 score == 89\n"
            "          actual:     88\n") in failing.stdout
    assert failing.stdout.endswith("9 tests in 1 file: 8 passed, 1 failed\n\n")
