"""Output that cannot be written whole, and what ``-o`` may name (perfrules.files).

Standard output on a full disk (a private ``/dev/full``-like node made with mknod), a closed
pipe, ``-o`` into a full file system (a 64 KiB tmpfs), SIGTERM while writing; then ``-o``
naming devices, pipes, links, folders and the inputs of the run.  Every failure is exit 2 with
one line on stderr, no traceback and no temporary file left behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import CASES, REPO

GOOD = CASES / "evaluate" / "spec-complete-example"
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src")}


@pytest.fixture
def good(tmp_path) -> Path:
    folder = tmp_path / "good"
    shutil.copytree(GOOD, folder)
    return folder


def perfrules(*args: str, cwd: Path, stdout=subprocess.PIPE, timeout: float = 120) -> subprocess.CompletedProcess:
    """A separate process with a timeout: a hang fails the test instead of stalling the suite."""
    return subprocess.run([sys.executable, "-m", "perfrules", *args], cwd=cwd, env=ENV, stdout=stdout,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, timeout=timeout)


def assert_one_line_error(result, *words: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("perfrules: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


@pytest.fixture
def full_device(tmp_path) -> Path:
    """A private character device like /dev/full (1, 7): every write fails with ENOSPC."""
    node = tmp_path / "full"
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    except PermissionError:
        pytest.skip("making a device node is not permitted here (needs root / CAP_MKNOD)")
    return node


@contextmanager
def small_tmpfs(mount: Path, size: str):
    """A tmpfs of ``size`` mounted on the new folder ``mount``, unmounted afterwards; the test is
    skipped, saying why, where mounting is not permitted."""
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


@pytest.fixture
def full_disk(tmp_path) -> Path:
    """A 64 KiB tmpfs filled to the last byte."""
    with small_tmpfs(tmp_path / "full-disk", "64k") as mount:
        fill(mount / "filler")
        yield mount


def fill(path: Path) -> None:
    """Append to ``path`` until its file system is full."""
    with open(path, "ab", buffering=0) as filler:
        try:
            while True:
                filler.write(b"x" * 512)
        except OSError:
            pass


STDOUT_RUNS = {
    "json": ["evaluate", "policy.perf", "data.csv"],
    "csv": ["evaluate", "policy.perf", "data.csv", "--format", "csv"],
    "table": ["evaluate", "policy.perf", "data.csv", "--format", "table"],
    "check-json": ["check", "policy.perf", "--format", "json"],
    "explain": ["explain", "policy.perf", "data.csv", "--agent", "A001"],
}


@pytest.mark.parametrize("name", sorted(STDOUT_RUNS))
def test_stdout_on_a_full_disk_is_exit_2(good, full_device, name):
    with open(full_device, "w") as stdout:
        result = perfrules(*STDOUT_RUNS[name], cwd=good, stdout=stdout)
    assert_one_line_error(result, "standard output", "No space left on device")


def test_stdout_redirected_to_a_file_on_a_full_disk(good, full_disk):
    with open(full_disk / "results.json", "w") as stdout:
        result = perfrules(*STDOUT_RUNS["check-json"], cwd=good, stdout=stdout)
    assert_one_line_error(result, "No space left on device")


@pytest.mark.parametrize("name", ["json", "csv"])
def test_stdout_into_a_closed_pipe_is_exit_141_quietly(good, name):
    """The reader stopped reading (`| head`): not exit 0 (the output is not whole), and, as
    other command-line tools do, 128 + SIGPIPE without a word (the reader chose to stop)."""
    read, write = os.pipe()
    os.close(read)
    try:
        result = perfrules(*STDOUT_RUNS[name], cwd=good, stdout=write)
    finally:
        os.close(write)
    assert (result.returncode, result.stderr) == (141, "")


@pytest.mark.parametrize("name", ["out.json", "out.csv", "out.xlsx", "out.txt"])
def test_output_file_on_a_full_disk_is_exit_2_and_leaves_nothing(good, full_disk, name):
    extra = ["--format", "table"] if name == "out.txt" else []
    result = perfrules("evaluate", "policy.perf", "data.csv", "-o", str(full_disk / name), *extra, cwd=good)
    assert_one_line_error(result, "cannot write")
    assert sorted(os.listdir(full_disk)) == ["filler"]


def test_output_file_on_a_full_disk_keeps_the_old_file(good, full_disk):
    os.truncate(full_disk / "filler", os.path.getsize(full_disk / "filler") - 4096)
    (full_disk / "out.json").write_text("old\n")
    fill(full_disk / "filler")
    result = perfrules("evaluate", "policy.perf", "data.csv", "-o", str(full_disk / "out.json"), cwd=good)
    assert_one_line_error(result, "No space left on device")
    assert (full_disk / "out.json").read_text() == "old\n"
    assert sorted(os.listdir(full_disk)) == ["filler", "out.json"]


def test_sigterm_while_writing_removes_the_temporary_file(tmp_path):
    from perfrules.files import EXIT_TERMINATED, Terminated, write_atomically

    target = tmp_path / "out.json"
    target.write_text("old\n")
    with pytest.raises(Terminated) as stopped:
        with write_atomically(target) as temporary:
            temporary.write_text("half")
            os.kill(os.getpid(), signal.SIGTERM)
    assert stopped.value.code == EXIT_TERMINATED == 143
    assert sorted(os.listdir(tmp_path)) == ["out.json"] and target.read_text() == "old\n"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler is put back


def test_a_later_run_removes_temporaries_of_a_killed_run(run_cli, good):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = good / f".out.json.perfrules-{dead.pid}-abc.tmp"
    stale.write_text("left by kill -9")
    alive = good / f".out.json.perfrules-{os.getpid()}-abc.tmp"  # a run still going: left alone
    alive.write_text("in progress")
    result = run_cli("evaluate", "policy.perf", "data.csv", "-o", "out.json", cwd=good)
    assert result.exit_code == 0, result.stderr
    assert not stale.exists() and alive.exists()


def test_a_csv_killed_while_duckdb_writes_it_leaves_only_what_the_next_run_removes(tmp_path):
    """DuckDB's COPY wrote to a `tmp_…` file of its own (mode 0644) beside perfrules' private
    temporary and renamed it at the end: `kill -9` in between left a file no later run knew.
    It now writes perfrules' temporary itself (hidden, tagged with the process id)."""
    from test_decimal_reader import plain_file

    from conftest import POLICIES

    (tmp_path / "data.csv").write_text("\n".join(plain_file(300_000)) + "\n", encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "perfrules", "evaluate", str(POLICIES / "after_sales_agent.perf"),
                                "data.csv", "-o", "out.csv"], cwd=tmp_path, env=ENV, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        while process.poll() is None and not any(path.stat().st_size for path in tmp_path.iterdir()
                                                 if path.name != "data.csv"):
            time.sleep(0.002)  # until the CSV's first bytes are written
    finally:
        process.kill()
        process.wait()
    left = sorted(path.name for path in tmp_path.iterdir() if path.name != "data.csv")
    assert left and all(name.startswith(f".out.csv.perfrules-{process.pid}-") for name in left), left
    (tmp_path / "small.csv").write_text("\n".join(plain_file(3)) + "\n", encoding="utf-8")
    again = perfrules("evaluate", str(POLICIES / "after_sales_agent.perf"), "small.csv", "-o", "out.csv", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data.csv", "out.csv", "small.csv"]


def test_a_csv_for_standard_output_killed_midway_leaves_only_what_the_next_run_removes(tmp_path):
    """A CSV bound for standard output is written by DuckDB to a file first: it lay in a
    `tempfile.TemporaryDirectory` in the temp folder (salaries and bonuses), which `kill -9` left
    there for good.  It now lies in the process's private folder, which the next run removes."""
    from test_decimal_reader import plain_file

    from conftest import POLICIES

    temporary = tmp_path / "tmp"
    temporary.mkdir()
    (tmp_path / "data.csv").write_text("\n".join(plain_file(300_000)) + "\n", encoding="utf-8")
    environment = {**ENV, "TMPDIR": str(temporary)}
    process = subprocess.Popen([sys.executable, "-m", "perfrules", "evaluate", str(POLICIES / "after_sales_agent.perf"),
                                "data.csv", "--format", "csv"], cwd=tmp_path, env=environment,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while process.poll() is None and not any(path.name == "results.csv" and path.stat().st_size
                                                 for path in temporary.rglob("*")):
            time.sleep(0.002)  # until DuckDB has written the CSV's first bytes
    finally:
        process.kill()
        process.wait()
    left = [path.relative_to(temporary).parts for path in temporary.rglob("results.csv")]
    assert len(left) == 1 and left[0][0].startswith(f".duckdb.perfrules-{process.pid}-"), left
    (tmp_path / "small.csv").write_text("\n".join(plain_file(3)) + "\n", encoding="utf-8")
    again = subprocess.run([sys.executable, "-m", "perfrules", "evaluate", str(POLICIES / "after_sales_agent.perf"),
                            "small.csv", "--format", "csv"], cwd=tmp_path, env=environment, capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 0 and again.stdout.count("\n") == 4, again.stderr
    assert list(temporary.iterdir()) == []


def test_a_metrics_snapshot_lies_in_the_private_folder(tmp_path, monkeypatch):
    """The snapshot computed from raw exports (salaries) is written where ``kill -9`` cannot leave
    it for good: in the process's private folder, removed when the evaluation is done."""
    from perfrules import command_inputs, files

    seen = []
    original = command_inputs._evaluate_file

    def spied(policies, path, *arguments, **keywords):
        seen.append((path, path.read_text(encoding="utf-8").splitlines()[0]))
        return original(policies, path, *arguments, **keywords)

    monkeypatch.setattr(command_inputs, "_evaluate_file", spied)
    monkeypatch.chdir(REPO / "examples" / "metrics")
    command_inputs.evaluate("bank_calls.perf", "bank_calls.perfm", None, None, None)
    ((path, header),) = seen
    assert path.parent.parent == files._private_root() and path.name == "snapshot.csv"
    assert header.startswith("agent_id,") and not path.parent.exists()


def test_sigterm_while_a_file_is_read_removes_its_copy(tmp_path):
    """SIGTERM before any output is written (here while a GB18030 file is copied to UTF-8 for
    DuckDB) unwinds like SIGTERM while writing: exit 143, the private temporary folder and the
    copy in it removed. It used to kill the process where it stood, the copy left until a later run."""
    from test_decimal_reader import plain_file

    from conftest import POLICIES

    temporary = tmp_path / "tmp"
    temporary.mkdir()
    (tmp_path / "data.csv").write_bytes(("\n".join(plain_file(300_000)) + "\n").encode("gb18030"))
    process = subprocess.Popen([sys.executable, "-m", "perfrules", "evaluate", str(POLICIES / "after_sales_agent.perf"),
                                "data.csv", "-o", "out.csv"], cwd=tmp_path, env={**ENV, "TMPDIR": str(temporary)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        while process.poll() is None and not any(path.is_file() for path in temporary.glob(".duckdb.perfrules-*/*.csv")):
            time.sleep(0.002)  # until the copy is begun (not Python's probe of the temp folder, there for a moment)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert (process.returncode, stderr) == (143, "perfrules: stopped by SIGTERM; nothing was left half-written\n")
    assert list(temporary.iterdir()) == [] and sorted(path.name for path in tmp_path.iterdir()) == ["data.csv", "tmp"]


# ---- what -o may name ----------------------------------------------------------------------------


def evaluate_to(run_cli, folder: Path, output: str):
    return run_cli("evaluate", "policy.perf", "data.csv", "-o", output, cwd=folder)


def assert_refused(result, *words: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert result.stdout == "" and result.stderr.count("\n") == 1 and "perfrules: error: -o" in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


@pytest.mark.parametrize("output", ["/dev/null", "/dev/stdout", "/proc/self/fd/1", "/dev/zero"])
def test_devices_and_stdout_paths_are_refused(run_cli, good, output):
    assert_refused(evaluate_to(run_cli, good, output), "omit -o")


def test_private_device_node_and_fifo_are_refused(run_cli, good, full_device):
    os.mkfifo(good / "pipe.json")
    for output in (str(full_device), "pipe.json"):
        assert_refused(evaluate_to(run_cli, good, output), "not a regular file")
    assert stat.S_ISFIFO(os.lstat(good / "pipe.json").st_mode) and stat.S_ISCHR(os.lstat(full_device).st_mode)


def test_a_symlink_is_written_through(run_cli, good):
    (good / "real").mkdir()
    (good / "real" / "results.json").write_text("old\n")
    os.symlink("real/results.json", good / "link.json")
    result = evaluate_to(run_cli, good, "link.json")
    assert result.exit_code == 0, result.stderr
    assert os.path.islink(good / "link.json")
    assert '"results"' in (good / "real" / "results.json").read_text()
    assert sorted(os.listdir(good / "real")) == ["results.json"]


def test_a_dangling_symlink_creates_its_target_and_a_loop_is_refused(run_cli, good):
    os.symlink("made.json", good / "dangling.json")
    assert evaluate_to(run_cli, good, "dangling.json").exit_code == 0
    assert os.path.islink(good / "dangling.json") and (good / "made.json").is_file()
    os.symlink("loop-b.json", good / "loop-a.json")
    os.symlink("loop-a.json", good / "loop-b.json")
    assert_refused(evaluate_to(run_cli, good, "loop-a.json"))


def test_an_existing_file_keeps_its_permission_bits(run_cli, good):
    for mode in (0o600, 0o640):
        (good / "out.csv").write_text("old\n")
        os.chmod(good / "out.csv", mode)
        assert evaluate_to(run_cli, good, "out.csv").exit_code == 0
        assert stat.S_IMODE(os.stat(good / "out.csv").st_mode) == mode
    os.chown(good / "out.csv", 12345, 12345)
    assert evaluate_to(run_cli, good, "out.csv").exit_code == 0
    assert (os.stat(good / "out.csv").st_uid, os.stat(good / "out.csv").st_gid) == (12345, 12345)


@pytest.mark.parametrize("output", ["data.csv", "policy.perf", "./data.csv", "data-link.csv"])
def test_writing_over_an_input_is_refused(run_cli, good, output):
    os.symlink("data.csv", good / "data-link.csv")
    before = {name: (good / name).read_bytes() for name in ("data.csv", "policy.perf")}
    assert_refused(evaluate_to(run_cli, good, output), "an input of this run")
    assert {name: (good / name).read_bytes() for name in before} == before


def test_writing_over_a_policy_in_a_policy_folder_is_refused(run_cli, good):
    (good / "policies").mkdir()
    shutil.move(good / "policy.perf", good / "policies" / "policy.perf")
    result = run_cli("evaluate", "policies", "data.csv", "-o", "policies/policy.perf", cwd=good)
    assert_refused(result, "an input of this run")


@pytest.mark.parametrize("output", ["outdir/", "existing", "existing/", "."])
def test_a_folder_is_never_replaced_by_a_file(run_cli, good, output):
    (good / "existing").mkdir()
    assert_refused(evaluate_to(run_cli, good, output), "folder")
    assert not (good / "outdir").exists() and (good / "existing").is_dir()


def test_an_io_error_on_stdout_is_an_output_problem(monkeypatch):
    from perfrules.files import OutputProblem, write_stdout

    class Failing:
        def write(self, text):
            raise OSError(5, "Input/output error")

        def flush(self):
            pass

    monkeypatch.setattr(sys, "stdout", Failing())
    with pytest.raises(OutputProblem, match="cannot write the results to standard output: Input/output error"):
        write_stdout("results")


def test_sigterm_during_a_large_csv_output_leaves_nothing(tmp_path):
    """600,000 agents: DuckDB's COPY writes the temporary file for seconds; SIGTERM then."""
    import csv
    import glob
    import time

    rows = list(csv.reader((GOOD / "data.csv").read_text(encoding="utf-8").splitlines()))
    with open(tmp_path / "data.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(rows[0])
        for number in range(600_000):
            row = list(rows[1 + number % 6])
            row[0] = f"X{number:07d}"
            writer.writerow(row)
    shutil.copy(GOOD / "policy.perf", tmp_path)
    (tmp_path / "out.csv").write_text("last month\n")
    process = subprocess.Popen([sys.executable, "-m", "perfrules", "evaluate", "policy.perf", "data.csv", "-o", "out.csv"],
                               cwd=tmp_path, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not glob.glob(str(tmp_path / ".out.csv.perfrules-*")):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"no temporary file was seen: {process.communicate()}")
        time.sleep(0.005)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    assert "stopped by SIGTERM" in stderr and "Traceback" not in stderr
    assert sorted(os.listdir(tmp_path)) == ["data.csv", "out.csv", "policy.perf"]
    assert (tmp_path / "out.csv").read_text() == "last month\n"
