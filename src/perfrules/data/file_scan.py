"""What one pass over a data file's bytes says of it: its lines, its long lines, its sha256,
and whether an underscore joins two digits (which DuckDB reads as a number: `1_0` is 10).

DuckDB's CSV reader has silent failures (a last line over its 32 MB buffer dropped without
a word; no rows at all for a file with a 40 MB line when it types numbers), skips empty
lines that a spreadsheet counts, and names no line for a lone carriage return; so perfrules
counts a file's lines and looks for long lines itself, in the same read as the sha256 of the
receipt (:class:`FileScan`, in a thread while DuckDB reads), and finds the line of a long
line or a lone CR when DuckDB's message lacks it.  A GB18030 file's pass also writes the
UTF-8 copy DuckDB reads (:class:`Utf8Copy`).  :func:`file_state` says whether a file
changed between two moments of its reading.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path

from perfrules.data.encodings import copy_as_utf8

# The longest line DuckDB's reader takes (its max_line_size, set explicitly): a longer row is
# no review's data (a whole document pasted into a cell) and is refused with its line.
MAX_LINE_BYTES = 2_000_000


@dataclass(frozen=True)
class LineCount:
    """What one pass over a file's bytes says of its lines (:func:`count_lines`)."""

    lines: int  # the last one counts without its line break
    too_long: bool  # one is longer than MAX_LINE_BYTES (with its CR, if any)
    empty_at_end: int = 0  # empty lines after the last one that is not (an editor's extra line break)
    # An underscore between two digits somewhere (`1_000`): DuckDB's reader takes `1_0` as the
    # number 10 (so do its casts and Python's Decimal), where perfrules refuses the cell.
    digits_joined: bool = False

    def one_a_row(self, rows: int, header_row: int = 1) -> bool:
        """Whether DuckDB's ``rows`` below the header row are one a line: not when a line is empty
        (DuckDB skips it; a spreadsheet counts it) or a quoted cell holds a line break (a record
        of two lines), as either leaves fewer rows than lines.  Empty lines at the end are no
        such line: DuckDB skips them too, and no row after them has its number moved."""
        return rows == self.lines - header_row - self.empty_at_end


def count_lines(path: Path, digest=None) -> LineCount:
    """The file's lines (:class:`LineCounter`).  ``digest`` (a hashlib object), when given, is fed the file."""
    counter = LineCounter()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            if digest is not None:
                digest.update(chunk)
            counter.feed(chunk)
    return counter.result()


class LineCounter:
    """The lines of bytes fed a piece at a time, and whether one is too long for DuckDB's reader:
    DuckDB 2.0 drops a last line longer than its 32 MB buffer without a word, so perfrules
    looks for long lines itself.  It also says whether two digits are joined by an underscore
    anywhere (:func:`digits_joined`).

    A line longer than MAX_LINE_BYTES (2 MB) spans two 1 MB pieces at least: it is the run of
    bytes from a piece's last line break to a later piece's first one (or the file's end)."""

    def __init__(self) -> None:
        self._tail = b"\n"  # the file's start is the start of a line
        self._lines, self._too_long, self._run, self._joined = 0, False, 0, False

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._joined = self._joined or _digits_joined_after(self._tail, chunk)
        first = chunk.find(b"\n")
        if first < 0:
            self._run += len(chunk)
        else:
            self._too_long = self._too_long or self._run + first > MAX_LINE_BYTES
            self._run = len(chunk) - chunk.rfind(b"\n") - 1
        self._lines += chunk.count(b"\n")
        self._tail = chunk

    def result(self) -> LineCount:
        # The line breaks that end the file: the first ends its last line, each other an empty line
        # (counted in the last piece read only: more of them make the rows seem too few, which is safe).
        tail = self._tail
        ending = tail[len(tail.rstrip(b"\r\n")):]
        return LineCount(self._lines + (tail[-1:] != b"\n"), self._too_long or self._run > MAX_LINE_BYTES,
                         max(0, ending.count(b"\n") - 1), self._joined)


UNDERSCORE_DIGIT = re.compile(rb"_[0-9]")
DIGITS = frozenset(b"0123456789")
ALL_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")


def digits_joined(piece: bytes) -> bool:
    """Whether ``piece`` holds an underscore between two digits, which DuckDB's reading of a
    number skips (``1_0`` is 10, ``1e1_0`` is 1e10): the cells holding one are read as text.

    Fast for a file of a million agents (a role `senior_agent` on every row costs nothing): an
    underscore before a digit is looked for by its first byte; when many are found (ids like
    `CS_001`), the piece is searched once with every digit made a 0."""
    if b"_" not in piece:
        return False
    for count, found in enumerate(UNDERSCORE_DIGIT.finditer(piece, 1)):
        if count == 64:
            return b"0_0" in piece.translate(ALL_DIGITS_AS_ZERO)
        if piece[found.start() - 1] in DIGITS:
            return True
    return False


def _digits_joined_after(tail: bytes, chunk: bytes) -> bool:
    """Whether ``chunk``, read after ``tail``, holds an underscore between two digits (one
    that spans the two pieces too)."""
    return digits_joined(chunk) or digits_joined(tail[-2:] + chunk[:2])


def stream_digits_joined(handle) -> bool:
    """Whether the bytes of the binary file ``handle`` join two digits with an underscore
    anywhere (:func:`digits_joined`): a file that needs its number columns read as text."""
    tail = b""
    while chunk := handle.read(1 << 20):
        if _digits_joined_after(tail, chunk):
            return True
        tail = chunk
    return False


class FileScan:
    """A data file's lines (:class:`LineCount`) and sha256, read in a thread of their own.

    The direct route needs both, and reading a file of a million agents for them takes 0.1 s;
    started before DuckDB types the rows, the thread reads while DuckDB works (hashlib and the
    file reads release the GIL, and DuckDB holds none), and :meth:`result` waits for it."""

    def __init__(self, path: Path):
        self._path = path
        self._result: tuple[LineCount, str] | None = None
        self._error: OSError | None = None
        self._state = file_state(path)  # None: gone already, which the scan's own error says
        self._thread = threading.Thread(target=self._scan, args=(path,), name="perfrules-file-scan", daemon=True)
        try:
            self._thread.start()
        except RuntimeError:  # no thread to be had (a process limit): read here, as the thread would
            self._thread = None
            self._scan(path)

    def _scan(self, path: Path) -> None:
        digest = hashlib.sha256()
        try:
            self._result = (count_lines(path, digest), digest.hexdigest())
        except OSError as error:
            self._error = error

    def result(self) -> tuple[LineCount, str]:
        """(its lines, sha256); raises the OSError that stopped the reading."""
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def changed(self) -> bool:
        """Whether the file is no longer the one scanned (replaced, written to): then the rows
        DuckDB read and the sha256 of the receipt may not be of the same bytes."""
        return self._state is None or file_state(self._path) != self._state


_STARTED: dict[Path, FileScan] = {}  # by absolute path: scans started before the file is read (start_scan)


def start_scan(path: Path) -> None:
    """Start the scan of a data file that the direct route may read, as soon as its name is
    known: the scan then reads while Python loads and checks the policies (one core busy),
    not while DuckDB types the rows on every core.  :func:`scan_of` takes it; one started for
    another file (an earlier command of the same process) and never taken is dropped."""
    key = path.absolute()
    if key in _STARTED and not _STARTED[key].changed():
        return
    _STARTED.clear()
    if path.suffix.lower() in (".csv", ".tsv", ".txt"):
        try:
            if path.is_file():
                _STARTED[key] = FileScan(path)
        except OSError:
            pass  # whoever reads it says why


def scan_of(path: Path) -> FileScan:
    """The scan of ``path``: the one :func:`start_scan` started, when the file is still the
    one it began to read, else a new one."""
    started = _STARTED.pop(path.absolute(), None)
    return started if started is not None and not started.changed() else FileScan(path)


class Utf8Copy(FileScan):
    """A UTF-8 copy of a CSV file in GB18030 (Chinese Excel's "CSV"), for DuckDB's reader, which
    reads UTF-8 only: one pass over the file writes the copy and is its scan, with the lines of
    the copy (the rows DuckDB reads are the copy's) and the sha256 of the file itself (the
    receipt's).  :meth:`changed` looks at the file itself.  The copy lies in a private folder
    (:func:`perfrules.files.private_file`) and is removed when this scan goes, or with that
    folder at the latest.  A byte that is not GB18030 raises UnicodeDecodeError."""

    def __init__(self, path: Path, encoding: str, copy: Path):
        self._path, self.copy = path, copy
        self._thread, self._error = None, None
        self._state = file_state(path)
        removal = weakref.finalize(self, _remove, copy)
        try:
            self._result = _transcode(path, encoding, copy)
        except BaseException:
            removal()
            raise


def _transcode(path: Path, encoding: str, copy: Path) -> tuple[LineCount, str]:
    digest, counter = hashlib.sha256(), LineCounter()
    with path.open("rb") as source, copy.open("wb") as out:
        copy_as_utf8(source, encoding, out, read=digest.update, written=counter.feed)
    return counter.result(), digest.hexdigest()


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def file_state(path: Path) -> tuple[int, int, int, int, int] | None:
    """What changes when a file is replaced or written to: its device, inode, size, mtime and
    ctime, which no one can set back (a file rewritten in place with its mtime put back, by
    ``touch -r`` or ``cp -p``, keeps the rest); None when it cannot be read: whoever reads it
    says why."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns


def lone_carriage_return(source: Path | None) -> int | None:
    """The line of the file's first CR that no LF follows (None: none, or no file)."""
    if source is None:
        return None
    line, carried = 1, b""
    with source.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            joined = carried + chunk
            end = len(joined) - 1 if joined.endswith(b"\r") else len(joined)  # its LF may come next
            found = LONE_CR.search(joined, 0, end)
            if found:
                return line + joined.count(b"\n", 0, found.start())
            line += joined.count(b"\n", 0, end)
            carried = joined[end:]
    return line if carried else None


LONE_CR = re.compile(rb"\r(?!\n)")


def first_long_line(source: Path | None) -> int | None:
    """The number of the file's first line longer than MAX_LINE_BYTES (None: none, or no file)."""
    if source is None:
        return None
    with source.open("rb") as handle:
        for number, line in enumerate(handle, start=1):  # a long line is read whole: it was already refused
            if len(line.rstrip(b"\r\n")) > MAX_LINE_BYTES:
                return number
    return None
