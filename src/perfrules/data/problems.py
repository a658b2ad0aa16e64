"""Why a data file cannot be read, and when its direct reading gives it back to the exact one.

The exceptions of reading data files, in a module of their own so that every module that
reads a file (:mod:`perfrules.data.reading`, :mod:`perfrules.data.encodings`, the XLSX and
JSON readers) raises the same ones: the command line turns a :class:`DataFileProblem` into
located messages (exit 3) and a :class:`DataArgumentProblem` into a usage error (exit 2).
"""

from __future__ import annotations


class DataFileProblem(Exception):
    """The file cannot be read (format, encoding, broken JSON, headers, rows of the wrong
    length): ``row`` when one row is at fault, ``also`` for the file's further problems."""

    def __init__(self, message: str, hint: str | None = None, row: int | None = None, also=(),
                 title: bool = False):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.row = row
        self.also = tuple(also)
        self.title = title  # the hint is about title rows (header_row_hint), and names --header-row

    @classmethod
    def of(cls, problems: list[DataFileProblem]) -> DataFileProblem:
        """One exception for several problems (the first, with the others in ``also``)."""
        first = problems[0]
        return cls(first.message, first.hint, first.row, problems[1:], first.title)

    def each(self) -> tuple[DataFileProblem, ...]:
        return (self, *self.also)

    def text(self) -> str:
        return self.message + (f" (hint: {self.hint})" if self.hint else "")


class ExactReadingNeeded(Exception):
    """The direct route (typed cells straight from the file) found something it does not
    explain: read the file again the exact way, which says everything that is wrong."""


class TextReadingNeeded(ExactReadingNeeded):
    """DuckDB's reader refused a cell of a column it was to type as a number (``92%``, ``10min``,
    ``n/a``, a cell of spaces): read the file directly again, every cell as text."""


class DataArgumentProblem(DataFileProblem):
    """The command line names a data file, an encoding or a sheet that is not there."""
