"""Reading policy files: bytes to text, with a diagnostic instead of an exception.

A policy file is UTF-8 (a byte-order mark is accepted and dropped).  Anything else,
a missing file or a folder given as a file, becomes a PR010 diagnostic located at
the first offending byte, so that no read error ever reaches the user as a
traceback.  Only regular files are read: a FIFO, a device such as ``/dev/zero`` or a
socket (given, or found in a policy folder under a ``*.perf`` name) is refused without
waiting on it or reading forever, and so is a file over 10 MB.  Line breaks are made
``\\n`` whatever the editor wrote (``\\r\\n`` from Windows, a lone ``\\r`` from old Mac
editors), so that every line number is right.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from perfrules.ast import Span
from perfrules.diagnostics import Diagnostic


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A policy file's display path and its text."""

    path: str
    text: str


FILE_START = Span(1, 1, 1, 2, 0, 1)


def span_at_offset(text: str, offset: int, length: int = 1) -> Span:
    """The span of ``length`` characters at ``offset`` in ``text`` (clamped to a line)."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    line_start = text.rfind("\n", 0, offset) + 1
    column = offset - line_start + 1
    line_end = text.find("\n", offset)
    if line_end == -1:
        line_end = len(text)
    end = min(offset + max(length, 1), max(line_end, offset + 1))
    return Span(line, column, line, column + (end - offset), offset, end)


MAX_POLICY_BYTES = 10 * 1024 * 1024


def _read_regular_file(path: Path) -> bytes:
    """The bytes of a regular file; OSError with a sentence for anything else.

    Opened with O_NONBLOCK, so that a FIFO with no writer does not block the open.  A link is
    followed only to a file of its own kind, ``.perf`` or ``.perfm`` (metric definitions): a
    policy folder from someone else holding ``x.perf -> ~/.ssh/id_rsa`` must not get a line of
    that file printed in a syntax error.
    """
    from perfrules.metrics import is_definitions

    if os.path.islink(path):
        target = os.path.realpath(path)
        definitions = is_definitions(str(path))
        if not (is_definitions(target) if definitions else target.endswith(".perf")):
            kind = "metric definitions (*.perfm)" if definitions else "a policy (*.perf)"
            raise OSError(f"this is a link to a file that is not {kind}; perfrules does not follow it")
    handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(handle)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(path)
        if not stat.S_ISREG(info.st_mode):
            raise OSError("this is not a regular file (a pipe, device or socket); a policy is a text file")
        if info.st_size > MAX_POLICY_BYTES:
            raise OSError(f"the file has {info.st_size:,} bytes; a policy file holds at most 10 MB")
        os.set_blocking(handle, True)
        with os.fdopen(handle, "rb", closefd=False) as stream:
            data = stream.read(MAX_POLICY_BYTES + 1)
        if len(data) > MAX_POLICY_BYTES:  # it grew while read
            raise OSError("the file holds more than 10 MB; a policy file holds at most 10 MB")
        return data
    finally:
        os.close(handle)


def read_policy(path: Path, display: str) -> tuple[SourceFile | None, Diagnostic | None]:
    """Read one policy file; on failure return the PR010 diagnostic that explains it."""
    return read_source(lambda: _read_regular_file(path), display)


def read_source(read_bytes, display: str) -> tuple[SourceFile | None, Diagnostic | None]:
    """A policy's text from ``read_bytes()`` (a file on disk, a blob of a git revision), or the
    PR010 diagnostic that explains why it cannot be read.  ``read_bytes`` raises OSError; a
    FileNotFoundError without an errno carries its own sentence ("not in revision HEAD~1")."""
    try:
        data = read_bytes()
    except FileNotFoundError as error:
        said = "no such file" if error.errno is not None or not error.args else str(error)
        return None, Diagnostic("PR010", said, FILE_START, None, display)
    except IsADirectoryError:
        from perfrules.metrics import is_definitions

        kind = "metric definitions file" if is_definitions(display) else "policy file"
        return None, Diagnostic("PR010", f"this is a folder, not a {kind}", FILE_START, None, display)
    except OSError as error:
        return None, Diagnostic("PR010", f"cannot read the file: {error.strerror or error}", FILE_START, None, display)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        prefix = data[: error.start].decode("utf-8", errors="replace")
        span = span_at_offset(prefix + "?", len(prefix))
        return None, Diagnostic(
            "PR010",
            f"the file is not UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start})",
            span,
            "save the policy as UTF-8; in Excel or Notepad choose 'UTF-8' when saving",
            display,
        )
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        span = span_at_offset(text, text.index("\x00"))
        return None, Diagnostic("PR010", "the file holds a NUL byte: it is not a text file", span, None, display)
    return SourceFile(display, text), None

