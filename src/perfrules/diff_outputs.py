"""Writing the diff document: a table for people, CSV and XLSX for spreadsheets.

Everything is laid out from the typed :class:`~perfrules.diff_model.DiffDocument`; nothing
is computed here but the per-agent bonus change (new − old, exact).  The table prints the
policy changes, the grade matrix (old grades down, new across), the bonus totals per team
and the movers (the 200 largest changes; the files hold them all), in English like
``evaluate --format table`` (the names, grades and changes stay as the policies write them).  CSV and XLSX hold one row per mover; XLSX adds
a ``summary`` sheet (the counts, bonus totals, teams, grade matrix and policy changes).
Text cells are hostile-safe as in :mod:`perfrules.outputs`: a leading ``=``, ``+``, ``-``,
``@``, tab or carriage return gets a ``'`` in CSV and XLSX; XLSX cells are strings, never formulas;
the table escapes control characters and prints markup literally.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from io import BytesIO, StringIO
from pathlib import Path

from perfrules.diff_model import DiffDocument, Outcome
from perfrules.files import write_atomically
from perfrules.outputs import FORMULA_STARTS, _xlsx_cell, cut_warnings
from perfrules.values import one_line

AGENT_COLUMNS = ("agent_id", "name", "team", "period", "old_score", "old_grade", "old_rank", "old_bonus_total",
                 "new_score", "new_grade", "new_rank", "new_bonus_total", "bonus_delta")
TABLE_AGENTS = 200  # the table shows the largest changes; the files hold every agent
MONEY = ("old_bonus_total", "new_bonus_total", "bonus_delta")
SCORES = ("old_score", "new_score")


def document_text(document: DiffDocument, output_format: str) -> str:
    """The document as JSON, CSV or the table (XLSX is written by :func:`write_xlsx`)."""
    if output_format == "json":
        return json.dumps(document.to_json_data(), ensure_ascii=False, indent=2) + "\n"
    if output_format == "csv":
        return render_csv(document)
    return render_table(document)


def agent_rows(document: DiffDocument, limit: int | None = None) -> list[tuple]:
    """One row per mover (the first ``limit``), in the document's order: text, whole numbers
    and exact decimals."""
    rows = []
    for agent in document.agents[:limit]:
        delta = _money(agent.new) - _money(agent.old)
        rows.append((agent.agent_id, agent.name, agent.team, agent.period, *_outcome_cells(agent.old),
                     *_outcome_cells(agent.new), delta))
    return rows


def _outcome_cells(outcome: Outcome | None) -> tuple:
    if outcome is None:
        return (None, None, None, None)
    return (outcome.score, outcome.grade, outcome.rank, outcome.bonus_total)


def _money(outcome: Outcome | None) -> Decimal:
    return outcome.bonus_total if outcome is not None else Decimal(0)


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return _unrunnable(str(value))


def _unrunnable(value):
    """A text a spreadsheet would take for a formula gets a ``'`` in front (as evaluate's CSV and XLSX)."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def render_csv(document: DiffDocument) -> str:
    buffer = StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(AGENT_COLUMNS)
    for row in agent_rows(document):
        writer.writerow([_csv_cell(value) for value in row])
    return buffer.getvalue()


def write_xlsx(document: DiffDocument, target: Path) -> list[str]:
    """Write the diff as XLSX; return a warning for each text cut to fit a cell."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    agents = workbook.create_sheet("agents")
    agents.append([_xlsx_cell(agents, header) for header in AGENT_COLUMNS])
    formats = {column: "#,##0.00" if column in MONEY else "0.00" for column in (*MONEY, *SCORES)}
    cut: list[tuple[str, int]] = []
    for number, row in enumerate(agent_rows(document), start=2):
        agents.append([_xlsx_cell(agents, _unrunnable(value), None, formats.get(column), cut,
                                  f"sheet agents, row {number}, column {column}")
                       for column, value in zip(AGENT_COLUMNS, row)])
    summary = workbook.create_sheet("summary")
    for row in summary_rows(document):
        summary.append([_xlsx_cell(summary, _unrunnable(value), None, "#,##0.00" if isinstance(value, Decimal) else None)
                        for value in row])
    buffer = BytesIO()  # built in memory: openpyxl leaves noise on stderr when the disk fills mid-save
    workbook.save(buffer)
    with write_atomically(target) as temporary:
        temporary.write_bytes(buffer.getvalue())
    return cut_warnings(target, cut)


def summary_rows(document: DiffDocument) -> list[tuple]:
    """The summary sheet: counts and totals, then the teams, the grade matrix, the policy changes."""
    summary = document.summary
    rows: list[tuple] = [
        ("periods", ", ".join(document.periods)), ("team", document.team or "(all)"),
        ("agents", summary.agents), ("grade_changed", summary.grade_changed),
        ("rank_changed", summary.rank_changed), ("bonus_changed", summary.bonus_changed),
        ("bonus_total_old", summary.bonus_total_old), ("bonus_total_new", summary.bonus_total_new),
        ("bonus_delta", summary.bonus_delta), (),
        ("team", "agents", "grade_changed", "rank_changed", "bonus_changed", "bonus_total_old", "bonus_total_new",
         "bonus_delta"),
    ]
    for team in summary.teams:
        rows.append((team.team or "(no team)", team.agents, team.grade_changed, team.rank_changed, team.bonus_changed,
                     team.bonus_total_old, team.bonus_total_new, team.bonus_delta))
    columns = _matrix_columns(document)
    rows += [(), ("old grade \\ new grade", *map(_grade_text, columns))]
    for old_grade, counts in summary.grades.items():
        rows.append((_grade_text(old_grade), *(counts.get(grade, 0) for grade in columns)))
    rows += [(), ("policy", "change", "old_line", "new_line", "old_file", "new_file")]
    for change in document.policy_changes:
        rows.append((change.policy, change.change, change.old_line, change.new_line, change.old_file, change.new_file))
    return rows


def _matrix_columns(document: DiffDocument) -> list[str]:
    columns: list[str] = []
    for counts in document.summary.grades.values():
        for grade in counts:
            if grade not in columns:
                columns.append(grade)
    order = list(document.summary.grades)
    return sorted(columns, key=lambda grade: (grade == "", order.index(grade) if grade in order else len(order)))


def _grade_text(grade: str) -> str:
    return grade if grade else "(none)"


def render_table(document: DiffDocument) -> str:
    """Policy changes, grade matrix, bonus totals and movers (rich tables, 120 columns)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    def shown(value) -> Text:  # literally: no Rich markup, no terminal escape sequences
        if value is None:
            return Text("-")
        if isinstance(value, Decimal):
            return Text(f"{value:,.2f}")
        return Text(one_line(str(value)))

    buffer = StringIO()
    console = Console(file=buffer, width=120, force_terminal=False, color_system=None)
    scope = f" · team {document.team}" if document.team else ""
    console.print(shown(f"perfrules diff · {', '.join(document.periods)}{scope}"))

    if document.policy_changes:
        changes = Table(title=shown(f"Policy changes ({len(document.policy_changes)})"))
        for header, justify in (("policy", "left"), ("change", "left"), ("old line", "right"), ("new line", "right")):
            changes.add_column(header, justify=justify)
        for change in document.policy_changes:
            changes.add_row(*map(shown, (change.policy, change.change, change.old_line, change.new_line)))
        console.print(changes)
    else:
        console.print(shown("No policy changes: the two versions mean the same (layout and comments aside)."))

    summary = document.summary
    columns = _matrix_columns(document)
    matrix = Table(title=shown("Grades: old ↓ new →"))
    matrix.add_column("old \\ new")
    for grade in columns:
        matrix.add_column(shown(_grade_text(grade)), justify="right")
    for old_grade, counts in summary.grades.items():
        matrix.add_row(shown(_grade_text(old_grade)), *(shown(counts.get(grade, "")) for grade in columns))
    console.print(matrix)

    totals = Table(title=shown("Changes and bonus totals by team"))
    for header, justify in (("team", "left"), ("agents", "right"), ("grade changed", "right"),
                            ("rank changed", "right"), ("bonus changed", "right"), ("bonus old", "right"),
                            ("bonus new", "right"), ("delta", "right")):
        totals.add_column(header, justify=justify)
    for team in summary.teams:
        totals.add_row(*map(shown, (team.team or "(no team)", team.agents, team.grade_changed, team.rank_changed,
                                    team.bonus_changed, team.bonus_total_old, team.bonus_total_new, team.bonus_delta)))
    totals.add_row(*map(shown, ("all", summary.agents, summary.grade_changed, summary.rank_changed,
                                summary.bonus_changed, summary.bonus_total_old, summary.bonus_total_new,
                                summary.bonus_delta)))
    console.print(totals)

    if not document.agents:
        console.print(shown("No agent changes score, grade, rank or bonus."))
        return buffer.getvalue()
    shown_agents = document.agents[:TABLE_AGENTS]
    movers = Table(title=shown(f"Agents who change ({len(document.agents)})"))
    for header, justify in (("agent", "left"), ("name", "left"), ("team", "left"), ("period", "left"),
                            ("score", "right"), ("grade", "left"), ("rank", "right"), ("bonus", "right"),
                            ("delta", "right")):
        movers.add_column(header, justify=justify)
    for agent, row in zip(shown_agents, agent_rows(document, TABLE_AGENTS)):
        old, new = agent.old, agent.new
        movers.add_row(*map(shown, (
            agent.agent_id, agent.name, agent.team, agent.period,
            _arrow(old and old.score, new and new.score, old, new), _arrow(old and old.grade, new and new.grade, old, new),
            _arrow(old and old.rank, new and new.rank, old, new),
            _arrow(old and old.bonus_total, new and new.bonus_total, old, new), row[-1],
        )))
    console.print(movers)
    if len(document.agents) > len(shown_agents):
        rest = len(document.agents) - len(shown_agents)
        console.print(shown(f"… and {rest:,} more agents who change, in the order above: "
                            f"--format csv, json or xlsx lists them all"))
    return buffer.getvalue()


def _arrow(before, after, old: Outcome | None, new: Outcome | None) -> str:
    """``88.00 → 91.20``; one value when it did not change; ``-`` for a version without a result."""
    def text(value, outcome) -> str:
        if outcome is None or value is None:
            return "-"
        return f"{value:,.2f}" if isinstance(value, Decimal) else str(value)

    if old is not None and new is not None and before == after:
        return text(after, new)
    return f"{text(before, old)} → {text(after, new)}"
