"""Writing output on a shared server: where ``-o`` may write, and whole or not at all.

perfrules runs beside HR's salary data, so an output is never half-written and never
lands where it does damage.  :func:`output_path` decides what an ``-o`` argument may
name: a regular file (new or existing), written through a symbolic link to the file it
points at, never a folder, a device, a pipe or an input of the same run.
:func:`write_atomically` writes a temporary file beside the target, flushes it and
renames it over the target, keeping the old file's permission bits and owner (the disk work
of a large output overlaps the writing: its pages are sent to disk as they are written, and
on a local file system the old file's blocks are freed in a thread after the rename); the
temporary file is removed on any failure, on SIGTERM (:func:`terminate_cleanly`) and,
after a crash or ``kill -9``, by the next run that writes into that folder.
:func:`write_stdout` is the one way results reach standard output: a full disk, a closed
pipe or an I/O error there is an :class:`OutputProblem` (exit 2), never a success with
half the results.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

EXIT_TERMINATED = 128 + signal.SIGTERM  # 143, as a shell reports a process ended by SIGTERM
TEMPORARY_TAG = ".perfrules-"  # in the name of every temporary file or folder perfrules makes
_STALE = re.compile(r"^\..*\.perfrules-(\d+)-[^/]*$")


class OutputProblem(Exception):
    """An output that cannot or must not be written; the message is one line."""


# ---- where -o may write ---------------------------------------------------------------------------


def output_path(argument: str, inputs: Iterable[Path] = ()) -> Path:
    """The regular file that ``-o ARGUMENT`` writes (a symbolic link's final target).

    Refused: a name ending in ``/``, a folder, a device, a pipe or socket, anything in
    ``/dev`` or ``/proc`` (``/dev/stdout``: omit ``-o`` instead), a link loop, and the
    data or policy files of the same run (``inputs``).
    """
    if argument.endswith(("/", os.sep)) or argument in ("", ".", ".."):
        raise OutputProblem(f"-o {argument}: names a folder; give a file name, like {argument.rstrip('/') or '.'}/results.json")
    path = Path(argument)
    try:
        real = Path(os.path.realpath(path, strict=False))
        status = os.stat(real) if os.path.lexists(real) else None
    except OSError as error:  # a link loop, a name too long
        raise OutputProblem(f"-o {argument}: cannot be written: {error.strerror or error}") from None
    if _in_system_folder(path, real):
        raise OutputProblem(f"-o {argument}: perfrules writes regular files only; "
                            "omit -o to write the results to standard output")
    if status is not None:
        if stat.S_ISDIR(status.st_mode):
            raise OutputProblem(f"-o {argument}: is a folder; give a file name, like {argument}/results.json")
        if not stat.S_ISREG(status.st_mode):
            raise OutputProblem(f"-o {argument}: is not a regular file (a device, pipe or socket); perfrules "
                                "writes regular files only; omit -o to write the results to standard output")
        for given in inputs:
            try:
                same = os.path.samefile(real, given)
            except OSError:
                same = False
            if same:
                raise OutputProblem(f"-o {argument}: is an input of this run ({given}); "
                                    "write the results to another file")
    return real


def output_folder(argument: str) -> Path:
    """The folder that ``report -o ARGUMENT`` writes into: new, or an existing folder (a link
    to one is followed); never a file, device or pipe, nothing in ``/dev`` or ``/proc``."""
    path = Path(argument)
    real = Path(os.path.realpath(path))
    if _in_system_folder(path, real):
        raise OutputProblem(f"-o {argument}: report writes a folder of PDF files; give a folder name")
    try:
        status = os.stat(real) if os.path.lexists(real) else None
    except OSError as error:
        raise OutputProblem(f"-o {argument}: cannot be written: {error.strerror or error}") from None
    if status is not None and not stat.S_ISDIR(status.st_mode):
        raise OutputProblem(f"-o {argument}: is not a folder (a file, device or pipe); "
                            "report writes a folder of PDF files; give a folder name")
    return real


def _in_system_folder(path: Path, real: Path) -> bool:
    """In /dev or /proc, as given or after following links (``/dev/stdout``, ``/proc/self/fd/1``)."""
    return any(place.is_relative_to(system) for place in (path.absolute(), real) for system in ("/dev", "/proc"))


def input_files(*arguments: str | Path | None) -> list[Path]:
    """The files given as inputs (a folder stands for the files in it), to protect from ``-o``."""
    found: list[Path] = []
    for argument in arguments:
        if argument is None:
            continue
        path = Path(argument)
        try:
            if path.is_dir():
                found.extend(child for child in path.iterdir() if child.is_file())
                continue
        except OSError:
            pass
        found.append(path)
    return found


# ---- writing a file whole -----------------------------------------------------------------------


def remove_stale_temporaries(directory: Path) -> None:
    """Remove temporaries that a crashed or killed run left in ``directory`` (its process is gone)."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        match = _STALE.match(entry.name)
        if match is None or _alive(int(match.group(1))):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            elif entry.name.endswith(".tmp"):
                os.unlink(entry.path)
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, owned by someone else
        return True
    return True


def temporary_prefix(name: str) -> str:
    """The start of a temporary's name: hidden, tagged, with this process's id (see :func:`remove_stale_temporaries`)."""
    return f".{name[:100]}{TEMPORARY_TAG}{os.getpid()}-"


@contextmanager
def write_atomically(target: Path):
    """Yield a temporary path beside ``target``; rename it over ``target`` on success.

    ``target`` goes through :func:`output_path` (a link is written through, a folder or
    device is refused).  An existing file keeps its permission bits and, when perfrules
    may set it, its owner; a new file gets the usual ``0666 & ~umask``.
    """
    target = output_path(str(target))
    directory = target.parent
    if not directory.is_dir():
        raise FileNotFoundError(f"the folder {directory} does not exist")
    remove_stale_temporaries(directory)
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    with terminate_cleanly():
        temporary = handle = None
        try:
            with signals_held():  # a signal between creating the file and knowing its name would leak it
                handle, temporary = tempfile.mkstemp(prefix=temporary_prefix(target.name), suffix=".tmp",
                                                     dir=directory)
            with _written_back(handle):
                yield Path(temporary)
            with signals_held():  # the old file or the new one, whole, whenever SIGTERM comes
                handle, written = None, handle  # forgotten before it is closed: never closed twice
                os.close(written)
                _put_in_place(Path(temporary), target, old)
        except BaseException:
            with signals_held():  # a second SIGTERM does not stop the cleaning half-way
                if handle is not None:
                    os.close(handle)
                if temporary is not None and os.path.exists(temporary):
                    os.unlink(temporary)
            raise


def _put_in_place(temporary: Path, target: Path, old: os.stat_result | None) -> None:
    """Flush ``temporary``, give it the old file's mode and owner, rename it over ``target``."""
    with open(temporary, "rb+") as written:
        os.fsync(written.fileno())
    if old is not None:
        os.chmod(temporary, stat.S_IMODE(old.st_mode))
        try:
            os.chown(temporary, old.st_uid, old.st_gid)
        except OSError:  # not root: the file becomes the writer's, as any rewrite would
            pass
    else:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes files private; outputs are ordinary files
    replaced = _open_replaced(target, old) if old is not None else None
    try:
        os.replace(temporary, target)
        _sync_directory(target.parent)
    finally:
        if replaced is not None:
            _close_in_background(replaced)


def _open_replaced(target: Path, old: os.stat_result) -> int | None:
    """The file that ``target`` names, held across the rename over it: the old file's blocks
    are freed when its last descriptor closes (0.07 s for 300 MB on ext4), which then happens
    in a thread of its own (:func:`_close_in_background`), beside the rest of the run's end.

    Held by a path-only descriptor (``O_PATH``: no read permission needed, nothing of the file
    opened, not even a pipe or device put in its place), and only on a local file system
    (:data:`_ONE_STEP_RENAME`): NFS, AFS and libfuse (sshfs) move a file still open aside
    before a rename over it, so the output would be missing between two steps."""
    if not hasattr(os, "O_PATH") or _file_system(old.st_dev) not in _ONE_STEP_RENAME:
        return None
    try:
        return os.open(target, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None


# Where a rename over a file still open replaces it in one step, as over a closed one.
_ONE_STEP_RENAME = frozenset({"ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs", "zfs", "bcachefs", "tmpfs",
                              "overlay"})


def _file_system(device: int) -> str | None:
    """The type of the file system mounted from ``device`` (``ext4``, ``nfs4``, ``fuse.sshfs``),
    from the mount table; None when no mount has it (or there is no table: not Linux)."""
    wanted = f"{os.major(device)}:{os.minor(device)}"
    for line in _mount_table().splitlines():
        # ID PARENT MAJOR:MINOR ROOT MOUNT-POINT OPTIONS [OPTIONAL FIELDS...] - TYPE SOURCE OPTIONS
        fields = line.split()  # spaces in a mount point are written \040
        if len(fields) > 7 and fields[2] == wanted and "-" in fields[6:-1]:
            return fields[fields.index("-", 6) + 1]
    return None


def _mount_table() -> str:
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as table:
            return table.read()
    except OSError:
        return ""


def _close_in_background(descriptor: int) -> None:
    try:
        threading.Thread(target=os.close, args=(descriptor,), name="perfrules-retire", daemon=True).start()
    except RuntimeError:  # no thread to be had: closed here
        os.close(descriptor)


@contextmanager
def _written_back(handle: int):
    """While the caller writes the temporary file (by its name: DuckDB, openpyxl, ...), a thread
    asks the kernel every 0.1 s to start writing its pages to disk (``posix_fadvise`` DONTNEED
    starts the write-back of dirty pages and drops the clean ones), so that the fsync at the end
    finds little left: 0.13 s less for a CSV of 300 MB.  ``handle`` is the caller's to close
    (whatever stops the writing, also a signal before this begins)."""
    stop = threading.Event()
    advise = getattr(os, "posix_fadvise", None)

    def push() -> None:
        while not stop.wait(0.1):
            try:
                advise(handle, 0, 0, os.POSIX_FADV_DONTNEED)
            except OSError:
                return

    thread = threading.Thread(target=push, name="perfrules-writeback", daemon=True) if advise else None
    try:
        if thread is not None:
            try:
                thread.start()
            except RuntimeError:  # no thread to be had: the fsync writes it all, as it always may
                thread = None
        yield
    finally:
        stop.set()
        if thread is not None:
            with signals_held():  # SIGTERM waits for the thread's last advice, then the handle is closed
                thread.join()


def _sync_directory(directory: Path) -> None:
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def write_text(target: Path, text: str) -> None:
    write_chunks(target, [text])


def write_chunks(target: Path, chunks) -> None:
    """Write text given in pieces (a streamed document), whole or not at all."""
    with write_atomically(target) as temporary, open(temporary, "w", encoding="utf-8") as handle:
        for chunk in chunks:
            handle.write(chunk)


# ---- standard output ----------------------------------------------------------------------------------


def write_stdout(text: str) -> None:
    """Write ``text`` to standard output completely, or raise :class:`OutputProblem`.  On a
    terminal, control characters and bidi overrides (from data cells: a CSV keeps them as they
    are) are shown escaped (``\\x1b``), so that none of them acts on the terminal; a pipe or a
    file gets the bytes unchanged."""
    stream = sys.stdout
    if stream is None:  # the shell closed it (`perfrules ... >&-`): Python has no stream to write to
        raise OutputProblem("cannot write the results: standard output is closed (hint: send it to a file "
                            "with > FILE, or to nowhere with > /dev/null)")
    if _is_terminal(stream):  # a person reads it: a cell's ESC, CR or bidi override shows escaped, as in messages
        from perfrules.values import one_line

        text = one_line(text, keep="\n\t")
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:  # the reader stopped reading (`| head`): the command line exits 141 quietly
        _silence_stdout()
        raise
    except (OSError, ValueError) as error:  # ENOSPC, EIO; ValueError: stdout was closed
        _silence_stdout()
        reason = getattr(error, "strerror", None) or str(error)
        raise OutputProblem(f"cannot write the results to standard output: {reason}; "
                            "what was written is incomplete") from None


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, OSError, ValueError):
        return False


def _silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null, so that Python's flush at exit fails no more."""
    try:
        descriptor = sys.stdout.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, descriptor)
        os.close(null)
    except Exception:  # noqa: BLE001 - OSError, or no descriptor at all (a test runner's captured stream)
        pass


class _StderrThatCannotFail:
    """Standard error whose writes never raise (see :func:`stderr_that_cannot_fail`)."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError:
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError:
            pass

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def stderr_that_cannot_fail() -> None:
    """Diagnostics that standard error cannot take (``2>> cron.log`` on a full disk) are lost,
    as nothing can say so; the command still ends with its own exit code (its results are
    written as ever), never the interpreter's 1 ("a policy has errors") from a failed write."""
    if sys.stderr is not None and not isinstance(sys.stderr, _StderrThatCannotFail):
        sys.stderr = _StderrThatCannotFail(sys.stderr)


# ---- a private folder for DuckDB to spill to, and for copies of data files -------------------------


_spill_root: list[Path] = []
_spill_numbers = itertools.count(1)


def _private_root() -> Path | None:
    """This process's private (0700) folder in the temp folder, tagged with the process id:
    removed when the process ends (also on Ctrl-C, and on SIGTERM, which the command line turns
    into ``SystemExit``: :func:`terminate_cleanly`), and by a later run
    (:func:`remove_stale_temporaries`) after a SIGKILL; None when no temp folder can be made."""
    if not _spill_root:
        import atexit

        # SIGTERM waits: Python's first look for the temp folder writes and removes a probe file
        # there, and a signal between making the folder and registering its removal would leave them.
        with signals_held():
            try:
                directory = Path(tempfile.gettempdir())
                remove_stale_temporaries(directory)
                root = Path(tempfile.mkdtemp(prefix=temporary_prefix("duckdb"), dir=directory))
            except OSError:
                return None
            atexit.register(shutil.rmtree, root, ignore_errors=True)
            _spill_root.append(root)
    return _spill_root[0]


def spill_folder() -> Path | None:
    """A new, not yet existing folder (in :func:`_private_root`) for one DuckDB database to move
    data to when its memory is full; None when no temp folder can be made (then nothing is
    moved to disk).  DuckDB creates the folder only when it needs it; each database gets its own."""
    root = _private_root()
    return None if root is None else root / f"db{next(_spill_numbers)}"


def private_file(suffix: str) -> Path | None:
    """A new empty file in :func:`_private_root` (a copy of a data file holds salaries: no other
    user may read it, and none is left behind for long); None when there is no such folder."""
    root = _private_root()
    if root is None:
        return None
    try:
        handle, name = tempfile.mkstemp(suffix=suffix, dir=root)
    except OSError:
        return None
    os.close(handle)
    return Path(name)


def private_folder() -> Path:
    """A new empty folder in :func:`_private_root` for copies of data files (as
    :func:`private_file`), else a private one in the temp folder; OSError when none can be made."""
    root = _private_root()
    return Path(tempfile.mkdtemp(prefix="perfrules-", dir=root))


@contextmanager
def private_workspace():
    """A :func:`private_folder` for the files of one step (a metrics snapshot, a CSV bound for
    standard output), removed when the step ends; after ``kill -9``, with the private root by
    the next run.  (A ``tempfile.TemporaryDirectory`` in /tmp would stay there for good.)"""
    folder = private_folder()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def temporary_folder_full(error: BaseException) -> str | None:
    """One sentence when ``error`` is DuckDB finding the temporary folder full while it moves
    data there (the spill folder above), else None.

    DuckDB says so in two ways (texts recorded in tests/test_temporary_folder_full.py): when
    the folder had too little free space from the start, an out-of-memory error naming
    ``max_temp_directory_size`` (it caps the folder at the space free when it starts); when
    the disk fills while it writes, an I/O error "No space left on device".
    """
    text = str(error)
    if not ("max_temp_directory_size" in text or "No space left on device" in text):
        return None
    if not _spill_root or ("max_temp_directory_size" not in text and str(_spill_root[0]) not in text):
        return None  # not the spill folder: an output file's disk, reported where it is written
    folder = _spill_root[0].parent
    return (f"the temporary folder {folder} is full: evaluating this data needs room there for what does not fit "
            f"in memory (hint: free some space in {folder}, or set TMPDIR to a folder on a larger disk)")


def query_interrupted(error: BaseException) -> bool:
    """Whether DuckDB stopped a query for Ctrl-C: it turns the KeyboardInterrupt into a
    ``RuntimeError: Query interrupted`` (or, from ``interrupt()``, an InterruptException).
    Never a problem of the data: whoever catches DuckDB's errors to say what is wrong with a
    file lets it through, and cli.py exits 130."""
    import sys

    duckdb = sys.modules.get("duckdb")
    if duckdb is not None and isinstance(error, getattr(duckdb, "InterruptException", ())):
        return True
    return isinstance(error, RuntimeError) and str(error).startswith("Query interrupted")


# ---- SIGTERM ---------------------------------------------------------------------------------------


class Terminated(SystemExit):
    """Raised in the main thread by SIGTERM during a command: unwinds (cleaning up) to exit 143."""


@contextmanager
def terminate_cleanly():
    """While inside, SIGTERM (and SIGHUP) raise :class:`Terminated`, so every ``finally`` and
    ``except BaseException`` removes its temporaries before the process exits with 143."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    received: list[int] = []

    def on_signal(number, frame):
        if not received:
            os.write(2, f"perfrules: stopped by {signal.Signals(number).name}; nothing was left half-written\n".encode())
        received.append(number)
        if _held:
            _pending.append(number)
            return
        raise Terminated(EXIT_TERMINATED)

    previous = {number: signal.signal(number, on_signal) for number in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    except BaseException:
        if received:  # DuckDB turns the signal into "Query interrupted"; it is still SIGTERM
            raise Terminated(EXIT_TERMINATED) from None
        raise
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def signals_held():
    """Inside :func:`terminate_cleanly`: SIGTERM and SIGHUP wait until the block is done (a
    rollback that must not stop half-way), then end the run.  (A thread signal mask would
    not do: DuckDB's threads would take the signal instead.)"""
    _held.append(True)
    try:
        yield
    finally:
        _held.pop()
        if _pending and not _held:
            _pending.clear()
            raise Terminated(EXIT_TERMINATED) from None


_held: list[bool] = []
_pending: list[int] = []
