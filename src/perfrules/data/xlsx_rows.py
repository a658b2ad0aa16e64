"""XLSX data files as rows of text cells, like the cells of a CSV file.

The sheet (the first visible one, or ``--sheet``) is read with python-calamine after
:mod:`perfrules.data.workbook` has checked the workbook's safety; each cell is written as the
text a person would have typed (:func:`perfrules.data.reading.cell_text`).  Formula cells
without a saved value, error cells and merged cells are problems with their row, all of a
sheet at once.
"""

from __future__ import annotations

from pathlib import Path

from perfrules.data.problems import DataArgumentProblem, DataFileProblem
from perfrules.data.reading import (
    AMBIGUOUS_PERIOD_NUMBER,
    PREVIEW_ROWS,
    _check_header_row,
    _first_line,
    _trimmed,
    cell_text,
    describe_column,
    period_number_problem,
)

_NOT_OURS = (KeyboardInterrupt, SystemExit, GeneratorExit)  # SIGTERM's Terminated is a SystemExit


def xlsx_rows(path: Path, sheet: str | None, header_row: int = 1, periods: bool = False):
    """The headers, the rows below them and the preview of a sheet (the first visible one
    without ``sheet``); formula cells without a saved value, error cells and merged cells are
    problems with their row (:mod:`perfrules.data.workbook` checks the workbook's safety);
    ``periods``: a ``period`` number that may be January or October is one too (see read_table)."""
    from perfrules.data import workbook as checks

    try:
        from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum
    except ImportError:  # pragma: no cover - a dependency
        raise DataFileProblem("reading .xlsx needs python-calamine", "pip install python-calamine") from None
    checks.check_archive(path)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = workbook.sheet_names
        sheets = workbook.sheets_metadata
    except _NOT_OURS:
        raise
    except BaseException as error:  # a panic in calamine is a BaseException (pyo3's PanicException)
        raise DataFileProblem(f"the workbook cannot be read: {_first_line(str(error))}") from None
    if sheet is None:
        if not names:
            raise DataFileProblem("the workbook has no sheets")
        visible = [item.name for item in sheets
                   if item.visible == SheetVisibleEnum.Visible and item.typ == SheetTypeEnum.WorkSheet]
        if not visible:
            raise DataFileProblem("every sheet of the workbook is hidden",
                                  "pass --sheet NAME; sheets: " + ", ".join(names))
        sheet = visible[0]
    elif sheet not in names:
        raise DataArgumentProblem(f"the workbook has no sheet '{sheet}'", "sheets: " + ", ".join(names))
    try:
        part = checks.sheet_part(path, sheet)
    except Exception as error:  # a damaged workbook.xml or its relationships
        raise DataFileProblem(f"the workbook cannot be read: {_first_line(str(error))}") from None
    if part is None:
        raise DataFileProblem(f"the workbook cannot be read: the part of the sheet '{sheet}' is not in the file")
    bad_cells = checks.scan_sheet(path, part, sheet)
    try:
        loaded = workbook.get_sheet_by_name(sheet)
        rows = loaded.to_python(skip_empty_area=False)
        merged = loaded.merged_cell_ranges
    except _NOT_OURS:
        raise
    except BaseException as error:
        raise DataFileProblem(f"the workbook cannot be read: {_first_line(str(error))}") from None
    preview = _trimmed([[cell_text(cell) for cell in row] for row in rows[:header_row + PREVIEW_ROWS]])
    headers = list(preview[header_row - 1]) if len(preview) >= header_row else []
    problems = [DataFileProblem(f"{_column_name(headers, cell.column, cell.row == header_row)}: {cell.message}",
                                row=cell.row) for cell in bad_cells if cell.row >= header_row]
    problems += [DataFileProblem(message, row=row) for row, message in checks.merged_problems(merged, header_row)]
    if periods and "period" in headers:  # a number typed 2026.10 is kept as 2026.1
        column = headers.index("period")
        problems += [period_number_problem(text, index) for index, row in enumerate(rows[header_row:], header_row + 1)
                     if column < len(row) and isinstance(row[column], float)
                     and AMBIGUOUS_PERIOD_NUMBER.fullmatch(text := cell_text(row[column]))]
    if problems:
        raise DataFileProblem.of(sorted(problems, key=lambda problem: problem.row))
    if not rows:
        raise DataFileProblem(f"the sheet '{sheet}' is empty")
    if len(rows) < header_row:
        raise DataFileProblem(f"the sheet '{sheet}' has no row {header_row} (--header-row {header_row})")
    _check_header_row(headers, header_row, preview)
    body = []
    for index, row in enumerate(rows[header_row:], start=header_row + 1):
        cells = [cell_text(cell) for cell in row]
        if any(cell is not None for cell in cells):
            body.append((index, cells))
    return headers, body, preview


def _column_name(headers: list[str], index: int, header_row: bool) -> str:
    """``column csat``, or ``column D (the 4th)`` for a cell of the header row or without a header."""
    if not header_row and index < len(headers) and headers[index]:
        return f"column {headers[index]}"
    return describe_column(index)
