"""``perfrules report`` under hostile input and faults: file names that cannot collide, a packet
folder updated all or nothing, sandboxed templates, layout workers that honour CPU limits and die
with their parent, SIGTERM and ``kill -9`` leaving no staging folder behind.

The data is the spec's complete example (tests/cases/evaluate/spec-complete-example, six agents).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import CASES, POLICIES, REPO

import perfrules.report.render as render
from perfrules.report.render import MAX_NAME_BYTES, safe_file_name

GOOD = CASES / "evaluate" / "spec-complete-example"
TEMPLATES = REPO / "templates"
PERIOD = "2026-11"
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src")}


def with_agents(folder: Path, renames: dict[str, tuple[str, str]]) -> Path:
    """A copy of the example with some agents' (id, name) replaced."""
    shutil.copytree(GOOD, folder)
    rows = list(csv.reader(io.StringIO((GOOD / "data.csv").read_text(encoding="utf-8"))))
    for row in rows[1:]:
        if row[0] in renames:
            row[0], row[1] = renames[row[0]]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    (folder / "data.csv").write_text(buffer.getvalue(), encoding="utf-8")
    return folder


def contents(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_ino)
            for path in sorted(folder.rglob("*")) if path.is_file()}


def hidden(folder: Path) -> list[str]:
    return [str(path) for path in folder.rglob(".*")]


# ---- file names -------------------------------------------------------------------------------------


def test_names_that_sanitise_alike_stay_apart():
    names = {safe_file_name(text, ".pdf") for text in ("a/b", "a_b", "a:b", "a\\b", "a*b", "a\x1bb", "a\x85b")}
    assert len(names) == 7 and "a_b.pdf" in names
    assert safe_file_name("a/b", ".pdf") == safe_file_name("a/b", ".pdf")  # stable across runs
    assert all("/" not in name and "\x1b" not in name for name in names)


def test_long_names_are_cut_by_bytes_and_stay_apart():
    for unit in ("A", "张", "😀"):
        long = unit * 300
        first, second = safe_file_name(long + "1", ".pdf"), safe_file_name(long + "2", ".pdf")
        assert first != second
        assert len(first.encode()) <= MAX_NAME_BYTES and len(second.encode()) <= MAX_NAME_BYTES
        assert first.endswith(".pdf") and first.startswith(unit * 10)
    assert safe_file_name("张" * 80, ".pdf") == "张" * 80 + ".pdf"  # 240 + 4 bytes: fits, unchanged


def test_dots_and_empty_names():
    for text in ("", ".", "..", " . "):
        name = safe_file_name(text, ".pdf")
        assert name not in (".pdf", "..pdf", "...pdf") and not name.startswith(".")


def test_colliding_agents_get_separate_packets(run_cli, tmp_path):
    folder = with_agents(tmp_path / "data", {
        "A001": ("a/b", "张三"), "A002": ("a_b", "张三"), "A003": ("a:b", "张三"),
        "A004": ("team", "summary"), "A005": ("L" * 240 + "1", "钱七"), "A006": ("L" * 240 + "2", "钱七"),
    })
    out = tmp_path / "out"
    result = run_cli("report", "policy.perf", "data.csv", "-o", str(out), cwd=folder)
    assert result.exit_code == 0, result.output
    names = sorted(os.listdir(out / PERIOD))
    assert len(names) == 7, names
    assert "team-summary.pdf" in names and "a_b-张三.pdf" in names
    assert all(len(name.encode()) <= MAX_NAME_BYTES for name in names)
    from test_report import pdf_text

    assert "summary" not in pdf_text(out / PERIOD / "team-summary.pdf").split("\n")[0]
    assert "team" in pdf_text(out / PERIOD / next(n for n in names if n.startswith("team-summary~")))


def test_a_name_of_twenty_thousand_characters_is_cut_on_the_page(tmp_path):
    # Laid out whole, this name filled forty pages and took WeasyPrint many minutes (a hang, to
    # the user); a page shows 60 characters of an id, name, team or supervisor, and a long word
    # wraps inside its table cell.  The file name still comes from the whole id and name.
    folder = with_agents(tmp_path / "data", {"A001": ("A001", "张" * 20_000), "A002": ("B" * 3_000, "李四")})
    rows = (folder / "data.csv").read_text(encoding="utf-8").replace(",T1,", "," + "T" * 5_000 + ",", 1)
    (folder / "data.csv").write_text(rows, encoding="utf-8")
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "perfrules", "report", "policy.perf", "data.csv", "-o", str(out)],
                            cwd=folder, env=ENV, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    from pypdf import PdfReader

    from test_report import compact, pdf_text

    packet = next((out / PERIOD).glob("A001-*.pdf"))
    assert compact("张" * 60 + "… (A001)") in compact(pdf_text(packet))
    assert compact("T" * 60 + "…") in compact(pdf_text(packet))
    summary = pdf_text(out / PERIOD / "team-summary.pdf")
    assert compact("(" + "B" * 60 + "…)") in compact(summary) and "张" * 61 not in compact(summary)
    plain = tmp_path / "plain"
    subprocess.run([sys.executable, "-m", "perfrules", "report", "policy.perf", "data.csv", "-o", str(plain)],
                   cwd=GOOD, env=ENV, capture_output=True, timeout=120, check=True)
    assert len(PdfReader(out / PERIOD / "team-summary.pdf").pages) == len(PdfReader(plain / PERIOD / "team-summary.pdf").pages)
    assert len(PdfReader(packet).pages) == len(PdfReader(plain / PERIOD / "A001-张三.pdf").pages)


# ---- all or nothing ----------------------------------------------------------------------------------


def test_a_failure_while_moving_into_place_rolls_back(run_cli, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert run_cli("report", "policy.perf", "data.csv", "-o", str(out), cwd=GOOD).exit_code == 0
    (out / PERIOD / "meeting-notes.txt").write_text("keep me", encoding="utf-8")
    (out / PERIOD / "A003-王五.pdf").unlink()  # this one is new in the next run
    before = contents(out)
    real_replace = os.replace
    moved = []

    def replace_then_fail(source, target, *args, **kwargs):
        if Path(target).parent == out / PERIOD and "/new/" in str(source):
            moved.append(target)
            if len(moved) == 4:
                raise OSError(28, "No space left on device")
        return real_replace(source, target, *args, **kwargs)

    monkeypatch.setattr(render.os, "replace", replace_then_fail)
    result = run_cli("report", "policy.perf", "data.csv", "-o", str(out), cwd=GOOD)
    assert result.exit_code == 2 and "No space left on device" in result.stderr and "nothing was changed" in result.stderr
    assert len(moved) == 4
    assert contents(out) == before  # the same files, the same inodes: the replaced ones are back
    assert hidden(out) == []


def test_a_link_in_the_way_is_refused_before_anything_moves(run_cli, tmp_path):
    out = tmp_path / "out"
    (out / PERIOD).mkdir(parents=True)
    (tmp_path / "elsewhere.pdf").write_bytes(b"not mine")
    os.symlink(tmp_path / "elsewhere.pdf", out / PERIOD / "A006-孙八.pdf")
    result = run_cli("report", "policy.perf", "data.csv", "-o", str(out), cwd=GOOD)
    assert result.exit_code == 2 and "not a regular file" in result.stderr
    assert sorted(os.listdir(out / PERIOD)) == ["A006-孙八.pdf"] and os.path.islink(out / PERIOD / "A006-孙八.pdf")
    assert (tmp_path / "elsewhere.pdf").read_bytes() == b"not mine"


# ---- templates ------------------------------------------------------------------------------------


@pytest.mark.parametrize("expression, words", [
    ("''.__class__.__mro__[1].__subclasses__()", ["agent.html:"]),
    ("packet.__class__.__init__.__globals__", ["agent.html:"]),
    ("lipsum.__globals__['os'].system('touch PWNED')", ["agent.html:"]),
    ("1 / 0", ["agent.html:", "ZeroDivisionError"]),
])
def test_templates_run_in_the_sandbox(run_cli, tmp_path, expression, words):
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    agent = templates / "agent.html"
    lines = agent.read_text(encoding="utf-8").splitlines()
    lines.insert(3, "{{ " + expression + " }}")
    agent.write_text("\n".join(lines), encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("report", "policy.perf", "data.csv", "-o", str(out), "--agent", "A001",
                     "--templates", str(templates), cwd=GOOD)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and "perfrules: error: template error at" in result.stderr
    assert f"agent.html:4" in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr
    assert not out.exists() and not (GOOD / "PWNED").exists() and not Path("PWNED").exists()


# ---- layout workers ---------------------------------------------------------------------------------


def test_workers_follow_the_cpu_affinity(monkeypatch):
    assert 1 <= render.available_cpus() <= len(os.sched_getaffinity(0))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3})
    assert render.available_cpus() == 1


def test_one_allowed_core_lays_out_in_process(run_cli, tmp_path, monkeypatch):
    monkeypatch.setattr(render, "available_cpus", lambda: 1)

    def no_pool(*args, **kwargs):
        raise AssertionError("a worker pool was started with one core allowed")

    monkeypatch.setattr(render, "ProcessPoolExecutor", no_pool)
    result = run_cli("report", "policy.perf", "data.csv", "-o", str(tmp_path / "out"), cwd=GOOD)
    assert result.exit_code == 0, result.output
    assert len(os.listdir(tmp_path / "out" / PERIOD)) == 7


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def start_big_report(out: Path) -> tuple[subprocess.Popen, list[int]]:
    """The 60-agent example, until its layout workers are busy in the staging folder."""
    process = subprocess.Popen([sys.executable, "-m", "perfrules", "report", str(POLICIES),
                                str(REPO / "examples" / "agents.csv"), "-o", str(out)],
                               env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        staged = list(out.glob(".*/new/*/*.pdf")) if out.exists() else []
        if staged:
            return process, [pid for pid in children_of(process.pid) if not gone(pid)]
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    pytest.fail(f"the report never started writing: {process.communicate()}")


def wait_until_gone(pids: list[int], seconds: float = 20) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not all(gone(pid) for pid in pids):
        time.sleep(0.1)
    return [pid for pid in pids if not gone(pid)]


def test_sigterm_during_report_leaves_nothing(tmp_path):
    out = tmp_path / "new" / "out"
    process, workers = start_big_report(out)
    assert workers, "no layout workers seen"
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    assert "Traceback" not in stderr and "SIGTERM" in stderr
    assert not out.exists(), sorted(str(path) for path in out.rglob("*"))
    assert wait_until_gone(workers) == []


def test_sigterm_during_report_into_an_existing_folder_keeps_it(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("keep me")
    process, _ = start_big_report(out)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode == 143
    assert sorted(os.listdir(out)) == ["keep.txt"]


def test_killed_report_workers_die_and_the_next_run_cleans_up(tmp_path, run_cli):
    out = tmp_path / "out"
    process, workers = start_big_report(out)
    process.kill()
    process.communicate(timeout=60)
    assert workers and wait_until_gone(workers) == []
    assert hidden(out), "kill -9 left no staging folder: nothing to test"
    result = run_cli("report", "policy.perf", "data.csv", "-o", str(out), "--agent", "A001", cwd=GOOD)
    assert result.exit_code == 0, result.output
    assert hidden(out) == []


@pytest.mark.parametrize("kind", ["link", "fifo"])
def test_templates_include_no_link_outside_and_no_fifo(run_cli, tmp_path, kind):
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    (tmp_path / "salaries.html").write_text("SECRET-SALARIES", encoding="utf-8")
    if kind == "link":
        os.symlink(tmp_path / "salaries.html", templates / "extra.html")
    else:
        os.mkfifo(templates / "extra.html")
    agent = templates / "agent.html"
    agent.write_text(agent.read_text(encoding="utf-8").replace("<h1>", "{% include 'extra.html' %}<h1>", 1),
                     encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("report", "policy.perf", "data.csv", "-o", str(out), "--agent", "A001",
                     "--templates", str(templates), cwd=GOOD)
    assert result.exit_code == 2 and "extra.html" in result.stderr and "TemplateNotFound" in result.stderr
    assert not out.exists()


def test_yaml_notes_cannot_construct_python_objects(run_cli, tmp_path):
    marker = tmp_path / "pwned"
    notes = tmp_path / "notes.yaml"
    notes.write_text(f'- !!python/object/apply:os.system ["touch {marker}"]\n', encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("report", "policy.perf", "data.csv", "-o", str(out), "--notes", str(notes), cwd=GOOD)
    assert result.exit_code == 3 and "notes.yaml" in result.stderr
    assert not marker.exists() and not out.exists()


def test_notes_with_markup_print_literally(run_cli, tmp_path):
    notes = tmp_path / "notes.csv"
    notes.write_text('agent_id,kind,text\nA001,strength,"<img src=file:///etc/passwd>{{ 7*7 }}<b>x</b>"\n',
                     encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("report", "policy.perf", "data.csv", "-o", str(out), "--notes", str(notes), "--agent", "A001",
                     cwd=GOOD)
    assert result.exit_code == 0, result.output
    from test_report import compact, pdf_text

    text = compact(pdf_text(out / PERIOD / "A001-张三.pdf"))
    assert "<b>x</b>" in text and "{{7*7}}" in text and "root:" not in text


def test_a_note_of_twenty_thousand_characters_runs_on_over_the_pages_whole(tmp_path):
    # In the two-by-two grid a note this long took WeasyPrint many minutes (2,000 characters:
    # 12 s), and a grid's box cannot continue on the next page: the boxes stack instead.
    notes = tmp_path / "notes.csv"
    notes.write_text("agent_id,kind,text\nA001,strength,【始】" + "沟通很好。" * 4_000 + "【完】\n", encoding="utf-8")
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "perfrules", "report", "policy.perf", "data.csv", "-o", str(out),
                             "--notes", str(notes), "--agent", "A001"],
                            cwd=GOOD, env=ENV, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    from test_report import compact, pdf_text

    text = compact(pdf_text(out / PERIOD / "A001-张三.pdf"))
    assert "【始】沟通很好。" in text and "沟通很好。【完】" in text and text.count("沟通很好。") >= 3_990


def test_report_on_a_full_disk_is_exit_2_and_leaves_the_folder_as_it_was(tmp_path):
    from test_hostile_writes import assert_one_line_error, fill, perfrules, small_tmpfs

    with small_tmpfs(tmp_path / "disk", "256k") as mount:
        (mount / "out" / PERIOD).mkdir(parents=True)
        (mount / "out" / PERIOD / "A001-张三.pdf").write_bytes(b"last month's packet")
        fill(mount / "filler")
        before = contents(mount / "out")
        result = perfrules("report", "policy.perf", "data.csv", "-o", str(mount / "out"), cwd=GOOD)
        assert_one_line_error(result, "No space left on device")
        assert contents(mount / "out") == before and hidden(mount) == []
        fresh = perfrules("report", "policy.perf", "data.csv", "-o", str(mount / "new"), cwd=GOOD)
        assert_one_line_error(fresh, "No space left on device")
        assert not (mount / "new").exists()


@pytest.mark.parametrize("output", ["/dev/null", "/proc/self", "afile", "pipe"])
def test_report_output_must_be_a_folder(run_cli, tmp_path, output):
    (tmp_path / "afile").write_text("mine")
    os.mkfifo(tmp_path / "pipe")
    result = run_cli("report", str(GOOD / "policy.perf"), str(GOOD / "data.csv"), "-o", output, cwd=tmp_path)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"perfrules: error: -o {output}: ") and "folder" in result.stderr
    assert (tmp_path / "afile").read_text() == "mine" and sorted(os.listdir(tmp_path)) == ["afile", "pipe"]


def test_sigterm_during_the_rollback_waits_until_it_is_done(run_cli, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert run_cli("report", "policy.perf", "data.csv", "-o", str(out), cwd=GOOD).exit_code == 0
    before = contents(out)
    real_replace = os.replace
    moved = []

    def replace_then_fail(source, target, *args, **kwargs):
        if "/new/" in str(source) and Path(target).parent == out / PERIOD:
            moved.append(target)
            if len(moved) == 3:
                raise OSError(5, "Input/output error")
        if "/old/" in str(source):
            os.kill(os.getpid(), signal.SIGTERM)  # in the middle of putting the old files back
        return real_replace(source, target, *args, **kwargs)

    monkeypatch.setattr(render.os, "replace", replace_then_fail)
    result = run_cli("report", "policy.perf", "data.csv", "-o", str(out), cwd=GOOD)
    assert result.exit_code == 143
    assert contents(out) == before and hidden(out) == []


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_notes_that_are_not_a_regular_file_are_refused_without_hanging(tmp_path, kind):
    from test_hostile_writes import assert_one_line_error, perfrules

    notes = tmp_path / "notes.csv"
    if kind == "fifo":
        os.mkfifo(notes)
    else:
        os.symlink("/dev/zero", notes)
    result = perfrules("report", "policy.perf", "data.csv", "-o", str(tmp_path / "out"), "--notes", str(notes),
                       cwd=GOOD, timeout=60)
    assert_one_line_error(result, "--notes", "not a regular file")
    assert not (tmp_path / "out").exists()
