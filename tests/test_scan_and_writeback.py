"""Disk work moved off the critical path, and what it must not change.

- ``data.file_scan.start_scan``: a CSV file named as DATA is hashed and its lines counted while
  the policies load (one core busy), not while DuckDB types the rows on every core.  The early
  scan serves only when the file is still the one it began to read: a file rewritten meanwhile
  is scanned again, so the receipt's ``data_sha256`` is always of the bytes evaluated.
- ``files.write_atomically``: while an output is written, a thread starts the write-back of its
  pages (``posix_fadvise`` DONTNEED), so the fsync at the end finds little left; the old file an
  output replaces is closed (its blocks freed) in a thread of its own.  The file written is the
  same, the temporary is gone, no descriptor or thread is left.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import threading
import time
from pathlib import Path
from unittest import mock

import pytest
from click.testing import CliRunner

from conftest import CASES
from perfrules import command_inputs, files
from perfrules.cli import main
from perfrules.data import file_scan

GOOD = CASES / "evaluate" / "spec-complete-example"


@pytest.fixture
def good(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "good"
    shutil.copytree(GOOD, folder)
    monkeypatch.chdir(folder)
    return folder


def evaluate_json(*extra: str) -> dict:
    result = CliRunner().invoke(main, ["evaluate", "policy.perf", "data.csv", *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def scans_made(monkeypatch) -> list[Path]:
    made: list[Path] = []
    original = file_scan.FileScan.__init__

    def spied(self, path):
        made.append(path)
        original(self, path)

    monkeypatch.setattr(file_scan.FileScan, "__init__", spied)
    return made


def before_the_policies_load(monkeypatch, action) -> None:
    """Run ``action()`` when the command begins to load its policies (the early scan has begun)."""
    original = command_inputs.evaluable_policies

    def spied(*arguments):
        action()
        return original(*arguments)

    monkeypatch.setattr(command_inputs, "evaluable_policies", spied)


def with_a001_failing(data: Path) -> str:
    """The data file's text with A001's resolution rate 96% made 16% (excellent to fail): the
    same size, other bytes."""
    lines = data.read_text(encoding="utf-8").splitlines(keepends=True)
    changed = lines[1].replace(",96%,", ",16%,", 1)
    assert changed != lines[1] and len(changed) == len(lines[1])
    return "".join([lines[0], changed, *lines[2:]])


def test_the_scan_started_before_the_policies_load_is_the_one_used(good, monkeypatch):
    made = scans_made(monkeypatch)
    loaded_after: list[int] = []
    before_the_policies_load(monkeypatch, lambda: loaded_after.append(len(made)))  # scans begun by then
    document = evaluate_json()
    assert (loaded_after, made) == ([1], [Path("data.csv")])
    assert document["data_sha256"] == hashlib.sha256((good / "data.csv").read_bytes()).hexdigest()
    assert file_scan._STARTED == {}


def test_a_file_rewritten_while_the_policies_load_is_scanned_again(good, monkeypatch):
    """Same size, other bytes (an agent's score changed): the early scan read the old bytes."""
    data = good / "data.csv"
    before = evaluate_json()["results"]
    rewritten = with_a001_failing(data)

    def rewrite() -> None:
        time.sleep(0.05)  # the file's mtime moves on
        data.write_text(rewritten, encoding="utf-8")

    made = scans_made(monkeypatch)
    before_the_policies_load(monkeypatch, rewrite)
    document = evaluate_json()
    assert made == [Path("data.csv"), Path("data.csv")]
    assert document["data_sha256"] == hashlib.sha256(rewritten.encode("utf-8")).hexdigest()
    assert document["results"] != before


def test_a_scan_started_for_another_folder_s_file_of_that_name_is_not_taken(good, monkeypatch, tmp_path):
    """An earlier command of the same process (a test, a library user) started a scan of
    `data.csv` in another folder and never took it: this folder's `data.csv` is scanned afresh,
    still before the policies load."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "data.csv").write_bytes((good / "data.csv").read_bytes().replace(b"96%", b"16%"))
    monkeypatch.chdir(elsewhere)
    file_scan.start_scan(Path("data.csv"))
    monkeypatch.chdir(good)
    made = scans_made(monkeypatch)
    loaded_after: list[int] = []
    before_the_policies_load(monkeypatch, lambda: loaded_after.append(len(made)))
    document = evaluate_json()
    assert (loaded_after, made) == ([1], [Path("data.csv")])
    assert document["data_sha256"] == hashlib.sha256((good / "data.csv").read_bytes()).hexdigest()


def test_no_early_scan_for_what_the_direct_route_does_not_read(tmp_path):
    for name in ("data.xlsx", "data.json", "missing.csv"):
        file_scan.start_scan(tmp_path / name)
    (tmp_path / "data.xlsx").write_bytes(b"PK")
    file_scan.start_scan(tmp_path / "data.xlsx")
    assert file_scan._STARTED == {}


def open_descriptors() -> set[str]:
    found = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            found.add(os.readlink(f"/proc/self/fd/{name}"))
        except OSError:
            pass
    return found


def wait_for_threads(prefix: str) -> None:
    for thread in threading.enumerate():
        if thread.name.startswith(prefix):
            thread.join(5)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_an_output_written_over_an_old_one_leaves_nothing_open(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n" * 1000)
    before = open_descriptors()
    with files.write_atomically(target) as temporary:
        temporary.write_text("new\n")
    wait_for_threads("perfrules-retire")
    assert target.read_text() == "new\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.csv"]
    assert open_descriptors() <= before
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("perfrules-")]


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="posix_fadvise is Linux's")
def test_the_write_back_is_started_while_an_output_is_written(tmp_path):
    advised = []
    real = os.posix_fadvise

    def spied(handle, offset, length, advice):
        advised.append((os.readlink(f"/proc/self/fd/{handle}"), offset, length, advice))
        return real(handle, offset, length, advice)

    with mock.patch.object(os, "posix_fadvise", spied):
        with files.write_atomically(tmp_path / "out.csv") as temporary:
            temporary.write_text("a,b\n" * 100_000)
            time.sleep(0.35)  # DuckDB writing a large CSV
    assert len(advised) >= 2
    assert {entry[1:] for entry in advised} == {(0, 0, os.POSIX_FADV_DONTNEED)}
    assert {Path(entry[0]).name for entry in advised} == {temporary.name}
    assert (tmp_path / "out.csv").read_text() == "a,b\n" * 100_000


def test_the_private_folder_is_made_with_sigterm_held(monkeypatch):
    """Python's first look for the temp folder writes a probe file there and removes it; SIGTERM
    in between (the signal handler raises) left the probe behind, and one between making the
    private folder and registering its removal left the folder until a later run."""
    held = []
    real = files.tempfile.mkdtemp

    def spied(*arguments, **keywords):
        held.append(bool(files._held))
        return real(*arguments, **keywords)

    monkeypatch.setattr(files, "_spill_root", [])
    monkeypatch.setattr(files.tempfile, "mkdtemp", spied)
    root = files._private_root()
    try:
        assert held == [True] and root.name.startswith(f".duckdb.perfrules-{os.getpid()}-")
    finally:
        shutil.rmtree(root)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_a_failed_write_closes_and_removes_its_temporary(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    before = open_descriptors()
    with pytest.raises(RuntimeError):
        with files.write_atomically(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("the writer failed")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.csv"]
    assert target.read_text() == "old\n"
    assert open_descriptors() <= before
    assert not [thread for thread in threading.enumerate() if thread.name == "perfrules-writeback"]


# ---- found in review: the receipt, a thread that cannot start, descriptors on SIGTERM ----------------


def test_a_file_rewritten_in_place_with_its_mtime_put_back_is_scanned_again(good, monkeypatch):
    """Same size, same inode, the mtime set back (``touch -r``, ``cp -p``, a tool that keeps
    timestamps) while the policies load: only the ctime, which no one can set back, shows it.
    The early scan had read the old bytes; the receipt named them beside the new results."""
    data = good / "data.csv"
    rewritten = with_a001_failing(data).encode("utf-8")
    assert len(rewritten) == data.stat().st_size

    def rewrite_in_place() -> None:
        time.sleep(0.05)  # the early scan has read the file
        before = data.stat()
        with open(data, "r+b") as handle:
            handle.write(rewritten)
        os.utime(data, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert file_scan.file_state(data)[:4] == (before.st_dev, before.st_ino, before.st_size, before.st_mtime_ns)

    before_the_policies_load(monkeypatch, rewrite_in_place)
    document = evaluate_json()
    assert document["data_sha256"] == hashlib.sha256(rewritten).hexdigest()
    (first,) = [row for row in document["results"] if row["agent_id"] == "A001"]
    assert (first["grade"], first["score"]) == ("良好", 80.0)  # the rewritten bytes' results, as the receipt says


@pytest.mark.parametrize("case", ["spec-complete-example", "data-csv-gb18030"])
def test_a_scan_thread_that_cannot_start_is_read_in_place(tmp_path, monkeypatch, case):
    """No thread to be had (a process limit): the file is scanned where it stands, as the
    write-back goes without its thread.  The early scan made this exit 4 even for a GB18030
    file, whose copy is its scan and needs no thread."""
    shutil.copytree(CASES / "evaluate" / case, tmp_path / case)
    monkeypatch.chdir(tmp_path / case)
    start = threading.Thread.start

    def refused(thread):
        if thread.name == "perfrules-file-scan":
            raise RuntimeError("can't start new thread")
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", refused)
    document = evaluate_json()
    assert document["data_sha256"] == hashlib.sha256(Path("data.csv").read_bytes()).hexdigest()
    expected = json.loads(Path("expected.json").read_text(encoding="utf-8"))
    assert document["results"] == expected["results"]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_sigterm_while_the_temporary_is_made_leaves_no_descriptor(tmp_path, monkeypatch):
    """SIGTERM while mkstemp runs waits for it (the name must be known to remove the file), then
    stops the write: the file is removed, and its descriptor, kept open for the write-back, closed."""
    import signal

    target = tmp_path / "out.csv"
    target.write_text("old\n")
    made = files.tempfile.mkstemp

    def made_then_signalled(*arguments, **options):
        result = made(*arguments, **options)
        os.kill(os.getpid(), signal.SIGTERM)
        return result

    monkeypatch.setattr(files.tempfile, "mkstemp", made_then_signalled)
    before = open_descriptors()
    with pytest.raises(files.Terminated):
        with files.write_atomically(target) as temporary:
            temporary.write_text("new\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.csv"] and target.read_text() == "old\n"
    assert open_descriptors() <= before


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="posix_fadvise is Linux's")
def test_sigterm_while_the_write_back_thread_is_joined_leaves_no_descriptor(tmp_path, monkeypatch):
    """SIGTERM just as the write is done, while the main thread waits for the write-back thread's
    last advice: the join was cut short and the temporary's descriptor never closed."""
    import signal
    import sys

    target = tmp_path / "out.csv"
    target.write_text("old\n")
    written = threading.Event()
    main_thread = threading.main_thread()
    advise = os.posix_fadvise

    def signalled_during_the_join(*arguments):
        if written.is_set():
            deadline = time.monotonic() + 10
            while sys._current_frames()[main_thread.ident].f_code.co_name not in ("join", "_wait_for_tstate_lock"):
                assert time.monotonic() < deadline, "the main thread never waited for the write-back thread"
                time.sleep(0.001)
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
        return advise(*arguments)

    monkeypatch.setattr(os, "posix_fadvise", signalled_during_the_join)
    before = open_descriptors()
    with pytest.raises(files.Terminated):
        with files.write_atomically(target) as temporary:
            temporary.write_text("new\n")
            written.set()
            time.sleep(0.15)  # one advice (every 0.1 s) comes while the write is done
    wait_for_threads("perfrules-writeback")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.csv"] and target.read_text() == "old\n"
    assert open_descriptors() <= before


def mount_table_saying(monkeypatch, folder: Path, kind: str) -> None:
    """/proc/self/mountinfo as it reads where ``folder``'s file system is of type ``kind``."""
    device = folder.stat().st_dev
    line = (f"36 25 {os.major(device)}:{os.minor(device)} / {folder} rw,relatime shared:1 - {kind} "
            f"server:/export rw\n")
    monkeypatch.setattr(files, "_mount_table", lambda: line, raising=False)


def opened_by_name(monkeypatch) -> list[tuple[str, int]]:
    opened: list[tuple[str, int]] = []
    real = os.open

    def spied(path, flags, *arguments, **options):
        opened.append((str(path), flags))
        return real(path, flags, *arguments, **options)

    monkeypatch.setattr(os, "open", spied)
    return opened


@pytest.mark.parametrize("kind", ["nfs4", "nfs", "cifs", "smb3", "fuse.sshfs", "fuseblk", "afs", "9p", None])
def test_an_old_output_on_a_network_file_system_is_not_held_over_the_rename(tmp_path, monkeypatch, kind):
    """NFS (its "silly rename"), AFS and libfuse (sshfs, ntfs-3g: `.fuse_hidden…`) move a file
    still open aside before a rename over it: two steps, between which the output is missing
    for every reader, and a kill between them loses the old file (seen on a FUSE passthrough
    mount: `rename /out.csv -> /.fuse_hidden…`, then the temporary renamed in).  The old output
    is held only where the rename stays one step; an unknown file system (None) is not held."""
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    if kind is None:
        monkeypatch.setattr(files, "_mount_table", lambda: "", raising=False)
    else:
        mount_table_saying(monkeypatch, tmp_path, kind)
    opened = opened_by_name(monkeypatch)
    with files.write_atomically(target) as temporary:
        temporary.write_text("new\n")
    assert [path for path, _ in opened if path == str(target)] == []
    assert target.read_text() == "new\n" and sorted(path.name for path in tmp_path.iterdir()) == ["out.csv"]


@pytest.mark.parametrize("kind", ["ext4", "xfs", "btrfs", "tmpfs", "overlay"])
def test_an_old_output_on_a_local_file_system_is_held_and_freed_in_a_thread(tmp_path, monkeypatch, kind):
    """The speed idea where it is safe: the old file held by a path-only descriptor (no read
    permission needed, no open of what it is), closed in a thread after the rename."""
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    target.chmod(0o200)  # written, never read: still held
    mount_table_saying(monkeypatch, tmp_path, kind)
    opened = opened_by_name(monkeypatch)
    retired: list[int] = []
    monkeypatch.setattr(files, "_close_in_background", lambda descriptor: (retired.append(descriptor),
                                                                           os.close(descriptor)))
    with files.write_atomically(target) as temporary:
        temporary.write_text("new\n")
    held = [flags for path, flags in opened if path == str(target)]
    assert len(held) == 1 and held[0] & os.O_PATH and len(retired) == 1
    assert target.read_text() == "new\n" and stat.S_IMODE(target.stat().st_mode) == 0o200


@pytest.mark.parametrize(("table", "device", "kind"), [
    ("22 27 0:21 / /proc rw,relatime - proc proc rw\n"
     "29 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n", (254, 1), "ext4"),
    ("40 29 0:52 / /home/hr rw,relatime shared:7 master:3 - nfs4 srv:/hr rw,vers=4.2\n", (0, 52), "nfs4"),
    ("41 29 0:53 / /mnt/a\\040b rw - fuse.sshfs hr@srv:/ rw,user_id=0\n", (0, 53), "fuse.sshfs"),
    ("41 29 0:53 / /mnt/- rw - xfs /dev/sdb rw\n", (0, 53), "xfs"),  # a mount point named "-"
    ("29 1 254:1 / / rw - ext4 /dev/vda1 rw\n", (254, 2), None),
    ("", (8, 1), None),
])
def test_the_file_system_of_a_device_is_read_from_the_mount_table(monkeypatch, table, device, kind):
    monkeypatch.setattr(files, "_mount_table", lambda: table)
    assert files._file_system(os.makedev(*device)) == kind
