"""Writing a snapshot: CSV, JSON or XLSX, whole or not at all, safe for spreadsheets.

Every format holds the same cells: ``agent_id, period, role, name, team, supervisor``
and one column per metric, written so that perfrules reads them back exactly whatever
the policy's unit: counts and numbers plain (``42``, ``3.5``), percents with ``%``
(``92.5%``), durations with their unit (``4min``, or seconds ``245.5s`` when the
definitions' unit is not exact).  Text cells that a spreadsheet would take for a
formula get a leading ``'`` (as :mod:`perfrules.outputs` does for results).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from perfrules.files import write_atomically, write_text
from perfrules.metrics.snapshot import Snapshot
from perfrules.outputs import FORMULA_STARTS, _xlsx_cell
from perfrules.values import metric_value_text, one_line, percent_text, plain

FIXED = ("agent_id", "period", "role", "name", "team", "supervisor")


def headers(snapshot: Snapshot) -> list[str]:
    return list(FIXED) + [metric.name for metric in snapshot.metrics]


def value_text(value, metric) -> str | None:
    if value is None:
        return None
    if metric.type == "percent":
        return percent_text(value)
    if metric.type == "duration":
        return metric_value_text(value, "duration", metric.unit)
    return plain(value)


def _safe(text: str | None) -> str | None:
    if text is None:
        return None
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cells(snapshot: Snapshot, safe: bool = True) -> list[list[str | None]]:
    """The rows as text cells (None: empty); ``safe``: formula-safe for spreadsheets (not for the
    private snapshot perfrules itself evaluates, whose ids must stay as they are)."""
    rows = []
    for row in snapshot.rows:
        fixed = [row.agent_id, row.period, row.role, row.name, row.team, row.supervisor]
        rows.append([_safe(cell) if safe else cell for cell in fixed]
                    + [value_text(value, metric) for value, metric in zip(row.values, snapshot.metrics)])
    return rows


def csv_text(snapshot: Snapshot, safe: bool = True) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers(snapshot))
    for row in cells(snapshot, safe):
        writer.writerow(["" if cell is None else cell for cell in row])
    return buffer.getvalue()


def json_text(snapshot: Snapshot) -> str:
    names = headers(snapshot)
    document = [dict(zip(names, row)) for row in cells(snapshot)]
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def write_snapshot(snapshot: Snapshot, target: Path | None, output_format: str) -> str | None:
    """Write to ``target`` (whole or not at all), or return the text for standard output."""
    if output_format == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("snapshot")
        sheet.append([_xlsx_cell(sheet, one_line(header)) for header in headers(snapshot)])
        for row in cells(snapshot):
            sheet.append([_xlsx_cell(sheet, cell) for cell in row])
        buffer = io.BytesIO()
        workbook.save(buffer)
        with write_atomically(target) as temporary:
            temporary.write_bytes(buffer.getvalue())
        return None
    text = csv_text(snapshot) if output_format == "csv" else json_text(snapshot)
    if target is None:
        return text
    write_text(target, text)
    return None
