"""Which encoding a CSV data file is in, and UTF-8 copies of the others for DuckDB's reader.

Excel on a Chinese Windows saves "CSV" in GB18030, "CSV UTF-8" in UTF-8 with a BOM; DuckDB
reads UTF-8 only.  A file is UTF-8 when its start decodes as UTF-8, else GB18030; a file
that mixes the two (a row pasted from another file) is refused rather than read with
garbled names; UTF-16 is refused with a hint.  Copies lie in perfrules' private temporary
folder (:func:`perfrules.files.private_file`): no other user reads them, and one left by a
killed run is removed by the next.  docs/evaluation.md 2.1 ("CSV encodings").
"""

from __future__ import annotations

import codecs
import io
import os
import re
import tempfile
from pathlib import Path

from perfrules.data.problems import DataFileProblem
from perfrules.files import private_file

ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8", "gb18030": "gb18030",
             "gbk": "gb18030", "gb2312": "gb18030"}


def detect_encoding(path: Path, limit: int | None = 1 << 22) -> str:
    """``utf-8`` (with or without BOM) when the file's start decodes as UTF-8, else ``gb18030``.

    Only the first ``limit`` bytes are read: DuckDB checks the rest while it reads the file,
    and a GB18030 file whose Chinese text comes later is retried as GB18030 then.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    read = 0
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
                read += len(chunk)
                if limit is not None and read >= limit:
                    return "utf-8"
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            if limit is not None and read + error.start >= limit - 4:
                return "utf-8"  # a character cut at the limit, not a wrong encoding
            return "gb18030"
    return "utf-8"


MIXED_SAMPLE = 10_000  # lines beyond ASCII looked at to tell a mixed file from a GB18030 one


def refuse_mixed_encodings(path: Path) -> None:
    """Raise when a file that is not all UTF-8 looks like UTF-8 text with rows in another
    encoding (a row pasted from a GB18030 file): read as GB18030, its UTF-8 Chinese would come
    out garbled, names and teams silently wrong.

    Of its first MIXED_SAMPLE lines beyond ASCII, three or more and twice as many as the others
    are valid UTF-8: a GB18030 file's lines are valid UTF-8 only by chance (about one line of
    Chinese names in 18), a UTF-8 file's all are, but for the pasted rows.  A file with fewer
    Chinese lines is read as GB18030, as before.  ``--encoding`` skips this."""
    valid, invalid, first_invalid = 0, 0, None
    lines = _lines_beyond_ascii(path)
    for number, text in lines:
        if text is not None:
            valid += 1
        else:
            invalid += 1
            first_invalid = first_invalid or number
        if valid + invalid >= MIXED_SAMPLE:
            break
    if valid and first_invalid is None:  # the sample is UTF-8: the break comes later
        first_invalid = next((number for number, text in lines if text is None), None)
    if valid >= 3 and valid >= 2 * invalid and first_invalid is not None:
        raise DataFileProblem(
            "this row is not UTF-8, but the rows before it are: the file mixes two encodings",
            "save the whole file again as 'CSV UTF-8', since a row pasted from another file keeps its "
            "encoding; if the file is GB18030, pass --encoding gb18030", row=first_invalid)


def utf8_given_as_gb18030(path: Path) -> str | None:
    """The warning for a file read as GB18030 because ``--encoding`` said so, whose first
    MIXED_SAMPLE lines beyond ASCII, three or more, are all valid UTF-8 (a GB18030 line of
    Chinese names is that by chance, about one in 18): its names would come out garbled
    (``张三`` as ``寮犱笁``), and the user is told how; else None.  A warning, not a refusal:
    ``--encoding`` is how a user overrides perfrules' guess."""
    example, count = None, 0
    for _, text in _lines_beyond_ascii(path):
        if text is None:
            return None
        count += 1
        example = example or next(iter(re.findall(r"[^\x00-\x7f]+", text)), None)
        if count >= MIXED_SAMPLE:
            break
    if count < 3 or example is None:
        return None
    garbled = example.encode("utf-8").decode("gb18030", errors="replace")
    return (f"the file reads as UTF-8 (its {count:,} lines beyond ASCII looked at all are), and read as GB18030 "
            f"'{example}' is '{garbled}': leave out --encoding, or pass --encoding utf-8")


def _lines_beyond_ascii(path: Path):
    """(line number, its text, or None when it is not UTF-8) for each line of the file with a
    byte beyond ASCII."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.isascii():
                continue
            try:
                yield number, line.decode("utf-8")
            except UnicodeDecodeError:
                yield number, None


def check_utf8(path: Path) -> None:
    with path.open("rb") as handle:
        head = handle.read(3)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise DataFileProblem("the file is UTF-16", "save it from Excel as 'CSV UTF-8' or as CSV (GB18030)")


def copy_as_utf8(source, encoding: str, out, newlines: bool = False, read=None, written=None) -> None:
    """Copy the binary handle ``source``, in ``encoding``, to the binary handle ``out`` in UTF-8, a
    megabyte at a time: the one loop of every UTF-8 copy (:func:`transcode_to_utf8`, a metrics
    source's, the single pass's :class:`perfrules.data.file_scan.Utf8Copy`).  ``newlines``: every
    line ending (CRLF, CR) written as LF.  ``read`` is given each piece read, ``written`` each piece
    written (a digest, a line counter).  A byte ``encoding`` does not decode raises UnicodeDecodeError."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    if newlines:
        decoder = io.IncrementalNewlineDecoder(decoder, translate=True)
    while True:
        chunk = source.read(1 << 20)
        if read is not None:
            read(chunk)
        text = decoder.decode(chunk, final=not chunk).encode("utf-8")
        if written is not None:
            written(text)
        out.write(text)
        if not chunk:
            return


def transcode_to_utf8(path: Path, encoding: str, newlines: bool = False) -> str:
    """A UTF-8 copy of the file (``newlines``: with every line ending written as LF)."""
    handle, name = new_copy()
    try:
        with os.fdopen(handle, "wb") as out, path.open("rb") as source:
            copy_as_utf8(source, encoding, out, newlines)
    except UnicodeDecodeError:
        os.unlink(name)
        raise undecodable(lambda: path.open("rb"), encoding, "save it as 'CSV UTF-8', or pass --encoding",
                          "leave out --encoding, or pass --encoding utf-8") from None
    return name


def undecodable(opened, encoding: str, hint: str, utf8_hint: str) -> DataFileProblem:
    """The problem of a file that ``encoding`` does not decode, at the line of its first such byte
    (``opened()``: the file's bytes, a binary handle).  A file that is UTF-8 throughout was given
    another encoding (``--encoding gbk``): it says so, with ``utf8_hint``, not that the file is
    neither UTF-8 nor GB18030."""
    with opened() as handle:
        byte, line = _first_undecodable(handle, encoding)
    if encoding != "utf-8":
        with opened() as handle:
            if _first_undecodable(handle, "utf-8") is None:
                return DataFileProblem(f"the file is UTF-8, not {encoding.upper()} (byte 0x{byte:02x} on this line "
                                       f"is not {encoding.upper()})", utf8_hint, row=line)
    what = "UTF-8" if encoding == "utf-8" else f"neither UTF-8 nor {encoding.upper()}"
    return DataFileProblem(f"the file is {what} (byte 0x{byte:02x} on this line)", hint, row=line)


def _first_undecodable(handle, encoding: str) -> tuple[int, int] | None:
    """(the byte, its line) of the first byte of the binary ``handle`` that ``encoding`` does not
    decode, or None.  A line break is never part of a UTF-8 or GB18030 character, so the lines are
    the line breaks before the byte."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    line = 1
    while True:
        chunk = handle.read(1 << 20)
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as error:  # its object: the chunk, maybe after a character's first bytes
            return error.object[error.start], line + error.object.count(b"\n", 0, error.start)
        if not chunk:
            return None
        line += chunk.count(b"\n")


def new_copy() -> tuple[int, str]:
    """A descriptor open for writing and the name of a new file for a copy of a data file: in
    perfrules' private temporary folder (:func:`perfrules.files.private_file`: no other user
    reads it, and a later run removes one a killed run left), else in the temp folder."""
    made = private_file(".csv")
    if made is None:
        return tempfile.mkstemp(suffix=".csv", prefix="perfrules-")
    return os.open(made, os.O_WRONLY | os.O_TRUNC), str(made)
