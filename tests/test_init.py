"""``perfrules init DIR``: the exact files of a new policy repository in each language, a
policy that checks clean, data that evaluates to the hand-worked results below, a git
repository made without running git, and never an overwritten file (issue 11)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from dulwich.repo import Repo

from conftest import REPO, command_environment

FILES = {
    "zh": [".github/workflows/perfrules.yml", ".gitignore", ".pre-commit-config.yaml", "README.md",
           "data/last_month.csv", "policies/after_sales_agent.perf", "policies/after_sales_agent.test.perf",
           "requirements.txt"],
    "en": [".github/workflows/perfrules.yml", ".gitignore", ".pre-commit-config.yaml", "README.md",
           "data/last_month.csv", "policies/customer_experience.perf", "policies/customer_experience.test.perf",
           "requirements.txt"],
}

# Hand-worked.  zh: 30/40/30 weights of 100/80/0 points; top 30% of 10 is ceil(3) places,
# 20%..10% of base salary by place (A010 20% of 6600 = 1320, A001 15% of 9000 = 1350, A005
# and A006 tied at 3rd: 10% of 6200 and of 9500); A002 is 优秀 but 5th: 0.  A008 (94 points)
# has a serious complaint: vetoed to 不合格.  A004: 0 + 0 + 80×30% = 24, one attitude
# violation −5 → 19.  A005 has 7 survey answers (< 10): CSAT is left out, 100 + 2×2 = 104.
# en: 40/30/30 weights of 100/85/50/0; top 20% is 2 places, 15%..10% (CX06 15% of 6200 =
# 930, CX04 10% of 5750 = 575; CX04's 12 surveys < 20 leave CSAT out: 100 + 3 kudos = 103),
# then Outstanding 8% (CX01 8% of 4750 = 380), Strong 5% (CX02 300, CX07 270).  CX10: 34 +
# 15 + 25.5 + 2 kudos = 76.5 (Solid); CX09: 20 + 25.5 + 15 = 60.5 (< 65: Unsatisfactory).
RESULTS = {
    "zh": """\
A010,108.00,优秀,1,,1320.00
A001,106.00,优秀,2,,1350.00
A005,104.00,优秀,3,,620.00
A006,104.00,优秀,3,,950.00
A002,94.00,优秀,5,,0.00
A008,92.00,不合格,6,重大投诉一票否决,0.00
A007,90.00,优秀,7,,0.00
A003,80.00,良好,8,,0.00
A009,62.00,合格,9,,0.00
A004,19.00,不合格,10,,0.00
""",
    "en": """\
CX06,104.00,Outstanding,1,,930.00
CX04,103.00,Outstanding,2,,575.00
CX01,102.00,Outstanding,3,,380.00
CX08,101.00,Unsatisfactory,4,Two upheld escalations,0.00
CX02,86.00,Strong,5,,300.00
CX07,85.00,Strong,6,,270.00
CX10,76.50,Solid,7,,0.00
CX09,60.50,Unsatisfactory,8,,0.00
CX03,50.00,Unsatisfactory,9,,0.00
CX05,0.00,Unsatisfactory,10,,0.00
""",
}


def written_files(folder: Path) -> list[str]:
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*")
                  if path.is_file() and ".git" not in path.relative_to(folder).parts[:1])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def expected_summary(shown: str, language: str, git_line: str) -> str:
    return "\n".join([f"wrote 8 files to {shown}:", *(f"  {name}" for name in FILES[language]), git_line,
                      f"next: cd {shown}, read README.md, then: git add -A && git commit -m \"first version of the policies\"",
                      ""])


@pytest.mark.parametrize("language", ["zh", "en"])
def test_init_writes_a_policy_repository_whose_policy_checks_clean_and_whose_data_evaluates(run_cli, tmp_path,
                                                                                            language):
    made = run_cli("init", "绩效方案", "--lang", language, cwd=tmp_path)
    assert (made.exit_code, made.stdout) == (0, "")
    assert made.stderr == expected_summary("绩效方案", language,
                                           "made 绩效方案 a git repository (nothing is committed yet)")
    folder = tmp_path / "绩效方案"
    assert written_files(folder) == FILES[language]
    with Repo(str(folder)) as repository:  # a repository without a commit, and without hooks to run
        assert repository.refs.as_dict() == {}
        assert not any(os.access(hook, os.X_OK) for hook in (folder / ".git" / "hooks").glob("*"))

    checked = run_cli("check", "policies/", cwd=folder)
    assert (checked.exit_code, checked.stderr) == (0, "checked 1 policy file: no problems\n")
    evaluated = run_cli("evaluate", "policies/", "data/last_month.csv", "--format", "csv", "--columns", "summary",
                        cwd=folder)
    assert evaluated.exit_code == 0, evaluated.stderr
    rows = list(csv.DictReader(io.StringIO(evaluated.stdout)))
    shown = "".join(",".join(row[key] for key in ("agent_id", "score", "grade", "rank", "veto", "bonus_total")) + "\n"
                    for row in rows)
    assert shown == RESULTS[language]
    assert {row["period"] for row in rows} == {"2026-11"}


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_starter_is_the_one_shipped_and_its_requirements_pin_this_version(run_cli, tmp_path, language):
    from perfrules import __version__

    run_cli("init", "r", "--lang", language, cwd=tmp_path)
    requirements = (tmp_path / "r" / "requirements.txt").read_text(encoding="utf-8")
    assert requirements.splitlines()[-1] == f"perfrules=={__version__}"
    policy = next(name for name in FILES[language] if name.endswith(".perf") and not name.endswith(".test.perf"))
    assert (tmp_path / "r" / policy).read_bytes() == (REPO / "starter" / language / policy).read_bytes()
    data = (tmp_path / "r" / "data" / "last_month.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel opens the Chinese names as Chinese


def test_init_refuses_to_overwrite_and_names_every_file_it_would_overwrite(run_cli, tmp_path):
    assert run_cli("init", "方案", cwd=tmp_path).exit_code == 0
    before = snapshot(tmp_path / "方案")
    again = run_cli("init", "方案", "--lang", "en", cwd=tmp_path)
    assert again.exit_code == 2
    assert again.stderr == ("perfrules: error: 方案: would overwrite .github/workflows/perfrules.yml, .gitignore, "
                            ".pre-commit-config.yaml, README.md, data/last_month.csv, requirements.txt; nothing was "
                            "written (hint: give the name of a new or empty folder)\n")
    assert snapshot(tmp_path / "方案") == before


def test_one_existing_file_is_named_and_nothing_is_written(run_cli, tmp_path):
    folder = tmp_path / "方案"
    (folder / "policies").mkdir(parents=True)
    (folder / "policies" / "after_sales_agent.perf").write_text("# 我们自己的方案\n", encoding="utf-8")
    refused = run_cli("init", "方案", cwd=tmp_path)
    assert refused.exit_code == 2
    assert refused.stderr == ("perfrules: error: 方案: would overwrite policies/after_sales_agent.perf; nothing was "
                              "written (hint: give the name of a new or empty folder)\n")
    assert snapshot(folder) == {"policies/after_sales_agent.perf": "# 我们自己的方案\n".encode()}
    assert sorted(os.listdir(tmp_path)) == ["方案"]  # no staging folder left behind


def test_a_folder_that_is_not_empty_is_refused(run_cli, tmp_path):
    (tmp_path / "方案").mkdir()
    (tmp_path / "方案" / "笔记.txt").write_text("x", encoding="utf-8")
    refused = run_cli("init", "方案", cwd=tmp_path)
    assert refused.exit_code == 2
    assert refused.stderr == ("perfrules: error: 方案: the folder is not empty; nothing was written "
                              "(hint: perfrules init starts a repository in a new or empty folder)\n")
    assert snapshot(tmp_path / "方案") == {"笔记.txt": b"x"}


def test_dir_that_is_a_file_is_refused(run_cli, tmp_path):
    (tmp_path / "方案.txt").write_text("不是文件夹", encoding="utf-8")
    refused = run_cli("init", "方案.txt", cwd=tmp_path)
    assert refused.exit_code == 2
    assert refused.stderr == "perfrules: error: 方案.txt: is a file, not a folder; give the name of a new or empty folder\n"
    assert (tmp_path / "方案.txt").read_text(encoding="utf-8") == "不是文件夹"
    assert sorted(os.listdir(tmp_path)) == ["方案.txt"]


def test_an_empty_folder_and_missing_parents_are_fine(run_cli, tmp_path):
    (tmp_path / "空").mkdir()
    assert run_cli("init", "空", cwd=tmp_path).exit_code == 0
    assert written_files(tmp_path / "空") == FILES["zh"]
    assert (tmp_path / "空" / ".git").is_dir()
    nested = run_cli("init", "人事部/二〇二六/方案", "--lang", "en", cwd=tmp_path)
    assert nested.exit_code == 0, nested.stderr
    assert written_files(tmp_path / "人事部" / "二〇二六" / "方案") == FILES["en"]


def test_a_folder_holding_only_git_keeps_its_repository(run_cli, tmp_path):
    folder = tmp_path / "方案"
    Repo.init(str(folder), mkdir=True).close()
    head = (folder / ".git" / "HEAD").read_bytes()
    made = run_cli("init", "方案", cwd=tmp_path)
    assert made.exit_code == 0
    assert made.stderr == expected_summary("方案", "zh", "方案 already is a git repository; nothing was committed")
    assert (folder / ".git" / "HEAD").read_bytes() == head
    assert written_files(folder) == FILES["zh"]


def test_inside_a_repository_no_repository_is_made(run_cli, tmp_path):
    Repo.init(str(tmp_path)).close()
    made = run_cli("init", "方案", cwd=tmp_path)
    assert made.exit_code == 0
    assert made.stderr == expected_summary(
        "方案", "zh", f"方案 is inside a git repository ({tmp_path}), so no new one was made; .pre-commit-config.yaml "
                      "and .github/workflows/ take effect only at a repository's root")
    assert not (tmp_path / "方案" / ".git").exists()


def failing_after(real, calls: int, error: OSError):
    """``real``, except that the call after the first ``calls`` ones raises ``error``."""
    done = []

    def call(*args):
        if len(done) == calls:
            raise error
        done.append(args)
        return real(*args)

    return call, done


def test_a_failure_while_writing_leaves_nothing(run_cli, tmp_path, monkeypatch):
    full_disk, written = failing_after(Path.write_bytes, 3, OSError(28, "No space left on device"))
    monkeypatch.setattr(Path, "write_bytes", full_disk)
    failed = run_cli("init", "方案", cwd=tmp_path)
    assert failed.exit_code == 2
    assert failed.stderr == "perfrules: error: 方案: cannot be written: No space left on device; nothing was written\n"
    assert len(written) == 3 and os.listdir(tmp_path) == []
    monkeypatch.undo()

    (tmp_path / "空").mkdir()
    broken_rename, renamed = failing_after(os.rename, 2, OSError(5, "Input/output error"))
    monkeypatch.setattr(os, "rename", broken_rename)
    failed = run_cli("init", "空", cwd=tmp_path)
    assert failed.exit_code == 2
    assert failed.stderr == "perfrules: error: 空: cannot be written: Input/output error; nothing was written\n"
    assert len(renamed) == 2 and os.listdir(tmp_path / "空") == []


def test_the_languages_differ_in_words_only():
    """The pre-commit set-up and the CI workflow of both languages run the same commands."""
    def commands(language: str):
        hooks = yaml.safe_load((REPO / "starter" / language / "dot-pre-commit-config.yaml").read_text(encoding="utf-8"))
        workflow = yaml.safe_load((REPO / "starter" / language / "dot-github" / "workflows" / "perfrules.yml")
                                  .read_text(encoding="utf-8"))
        steps = [{key: ([line for line in value.splitlines() if "echo" not in line] if key == "run" else value)
                  for key, value in step.items() if key != "name"} for step in workflow["jobs"]["policies"]["steps"]]
        return hooks, steps

    assert commands("zh") == commands("en")
    runs = [line.strip() for step in commands("zh")[1] for line in step.get("run", [])]
    for command in ("perfrules check policies/", "perfrules fmt --check policies/", "perfrules test",
                    'perfrules diff "$previous:policies/" policies/ data/last_month.csv'):
        assert command in runs, command



def ci_steps(folder: Path) -> list[tuple[str, str]]:
    """(name, shell script) of each run step of the generated CI workflow, but the install."""
    workflow = yaml.safe_load((folder / ".github" / "workflows" / "perfrules.yml").read_text(encoding="utf-8"))
    return [(step["name"], step["run"]) for step in workflow["jobs"]["policies"]["steps"]
            if "run" in step and not step["run"].startswith("pip install")]


def run_ci(folder: Path, env: dict[str, str]) -> list[tuple[str, int, str]]:
    ran = []
    for name, script in ci_steps(folder):
        done = subprocess.run(["bash", "-e", "-c", script], cwd=folder, env=env, capture_output=True, text=True,
                              timeout=300, check=False)
        ran.append((name, done.returncode, done.stdout + done.stderr))
    return ran


def git(folder: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run(["git", *args], cwd=folder, env=env, check=True, capture_output=True)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_generated_tests_pass_and_cover_every_decision_line(run_cli, tmp_path, language):
    run_cli("init", "r", "--lang", language, cwd=tmp_path)
    tested = run_cli("test", "--coverage", "--min-coverage", "90", "--format", "json", cwd=tmp_path / "r")
    assert tested.exit_code == 0, tested.stdout + tested.stderr
    document = json.loads(tested.stdout)
    assert (document["passed"], document["failed"]) == (9, 0)
    (coverage,) = document["coverage"]
    assert (coverage["rules"], coverage["covered"], coverage["uncovered"]) == ({"zh": 21, "en": 25}[language],) * 2 + ([],)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_generated_policy_and_tests_are_laid_out(run_cli, tmp_path, language):
    run_cli("init", "r", "--lang", language, cwd=tmp_path)
    laid_out = run_cli("fmt", "--check", "policies/", cwd=tmp_path / "r")
    assert laid_out.exit_code == 0, laid_out.stdout + laid_out.stderr


@pytest.fixture
def first_commit(run_cli, tmp_path):
    """An initialised repository (zh) with its files committed, and the shell environment for it."""
    assert run_cli("init", "方案", cwd=tmp_path).exit_code == 0
    folder = tmp_path / "方案"
    env = command_environment(tmp_path)
    git(folder, env, "add", "-A")
    git(folder, env, "commit", "-q", "-m", "初版")
    return folder, env


def test_the_ci_steps_that_need_no_earlier_version_pass_on_the_first_commit(first_commit):
    folder, env = first_commit
    ran = {name: (code, output) for name, code, output in run_ci(folder, env)}
    assert list(ran) == ["检查方案", "检查格式", "运行测试", "与上一个标签比较"]
    assert ran["检查方案"] == (0, "checked 1 policy file: no problems\n")
    assert ran["与上一个标签比较"] == (0, "还没有更早的标签,不比较\n")


def test_the_ci_steps_pass_and_compare_with_the_previous_tag(first_commit):
    folder, env = first_commit
    git(folder, env, "tag", "v2026.11")
    policy = folder / "policies" / "after_sales_agent.perf"
    policy.write_text(policy.read_text(encoding="utf-8").replace('kpi "顾客满意度" weight 40%', 'kpi "顾客满意度" weight 35%')
                      .replace('kpi "响应时间" weight 30%', 'kpi "响应时间" weight 35%'), encoding="utf-8")
    test_file = folder / "policies" / "after_sales_agent.test.perf"
    tests = test_file.read_text(encoding="utf-8")  # the new weights move two examples (docs/workflow.md, 4.)
    for old, new in (("score == 88", "score == 87"), ("resolution_rate = 93% }", "resolution_rate = 96% }"),
                     ("score == 64", "score == 65")):
        assert tests.count(old) == 1
        tests = tests.replace(old, new)
    test_file.write_text(tests, encoding="utf-8")
    git(folder, env, "commit", "-q", "-a", "-m", "权重各 35%")
    ran = {name: (code, output) for name, code, output in run_ci(folder, env)}
    assert ran["检查方案"] == (0, "checked 1 policy file: no problems\n")
    assert ran["运行测试"][0] == 0 and ran["运行测试"][1].endswith("9 tests in 1 file: 9 passed, 0 failed\n")
    code, compared = ran["与上一个标签比较"]
    assert code == 0, compared
    assert "│ 售后客服月度考核 │ kpi \"响应时间\": weight 30% → 35%   │       28 │       28 │" in compared
    assert "│ A007  │ 赵敏 │ 售后二组 │ 2026-11 │ 90.00 → 89.00 │ 优秀 → 良好 │    7 │  0.00 │  0.00 │" in compared
    assert ran["检查格式"][0] == 0, ran["检查格式"][1]


def test_the_current_folder_and_a_hostile_name(run_cli, tmp_path):
    (tmp_path / "空").mkdir()
    made = run_cli("init", ".", cwd=tmp_path / "空")
    assert made.exit_code == 0
    assert made.stderr.splitlines()[-1] == 'next: read README.md, then: git add -A && git commit -m "first version of the policies"'
    assert written_files(tmp_path / "空") == FILES["zh"]
    hostile = run_cli("init", "x\x1b[2Jy", cwd=tmp_path)
    assert hostile.exit_code == 0 and "\x1b" not in hostile.stderr
    assert hostile.stderr.splitlines()[0] == "wrote 8 files to x\\x1b[2Jy:"
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    refused = run_cli("init", "link", cwd=tmp_path)
    assert (refused.exit_code, refused.stderr) == (2, "perfrules: error: link: is a link to nothing, a device or a pipe, "
                                                      "not a folder; give the name of a new or empty folder\n")
