"""Supervisor notes (``--notes FILE``): YAML, or a table read by the data reader (CSV, XLSX,
JSON, JSON Lines, Parquet) with the same cell rules as the agents' data.

Each note is a row or an entry with ``agent_id``, ``kind`` and ``text``, and optionally
``kpi``.  Kinds strength, weakness, opportunity, threat (or 优势, 劣势/不足, 机会, 威胁/风险)
go into the SWOT; kind ``action`` (行动, 约定) is an action agreed at the last meeting, carried
into this period's meeting section, and its ``kpi`` (a KPI's name) says which KPI it was
meant to move, so the packet shows whether it did.  Every bad row is reported with its place
(``notes.csv:4:``; for YAML the line of the entry), and so is a note for an agent who is not
among those evaluated (:func:`unknown_agents`) or a KPI that agent's policy does not have
(:func:`unknown_kpis`); nothing is silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from perfrules.data.validate import DataProblem
from perfrules.diagnostics import did_you_mean

KIND_WORDS = {
    "strength": "strength", "strengths": "strength", "优势": "strength", "s": "strength",
    "weakness": "weakness", "weaknesses": "weakness", "劣势": "weakness", "不足": "weakness", "w": "weakness",
    "opportunity": "opportunity", "opportunities": "opportunity", "机会": "opportunity", "o": "opportunity",
    "threat": "threat", "threats": "threat", "威胁": "threat", "风险": "threat", "t": "threat",
    "action": "action", "actions": "action", "agreed action": "action", "行动": "action", "约定": "action",
    "约定行动": "action",
}
COLUMNS = ("agent_id", "kind", "text")
OPTIONAL = ("kpi",)  # the KPI an agreed action is about
KINDS_TEXT = "strength, weakness, opportunity, threat or action"


class NotesProblem(Exception):
    """The notes file cannot be read at all (broken, no agent_id column...)."""

    def __init__(self, problems: list[DataProblem]):
        super().__init__("; ".join(problem.render() for problem in problems))
        self.problems = problems


class NotesArgumentProblem(Exception):
    """``--notes`` names no file (a command-line mistake, like a data file that is not there)."""


@dataclass
class Note:
    row: int | None
    agent: str
    kind: str
    text: str
    kpi: str | None = None


@dataclass
class SupervisorNotes:
    """The notes that could be read, and the problems of the rows that could not."""

    display: str
    notes: list[Note] = field(default_factory=list)
    problems: list[DataProblem] = field(default_factory=list)

    def by_agent(self) -> dict[str, list[Note]]:
        """Notes by agent id, in file order."""
        found: dict[str, list[Note]] = {}
        for note in self.notes:
            found.setdefault(note.agent, []).append(note)
        return found

    def unknown_kpis(self, kpis_by_agent: dict[str, list[str]]) -> list[DataProblem]:
        """A problem for every agreed action whose ``kpi`` is not a KPI of its agent's policy
        (``kpis_by_agent``: the KPI names of each agent evaluated; unknown agents are reported
        by :meth:`unknown_agents`)."""
        problems = []
        for note in self.notes:
            names = kpis_by_agent.get(note.agent)
            if note.kpi is None or names is None or note.kpi in names:
                continue
            hint = did_you_mean(note.kpi, names)
            problems.append(DataProblem(self.display, f"kpi '{note.kpi}' is not a KPI of the policy evaluating "
                                        f"{note.agent} ({hint or 'KPIs: ' + ', '.join(names)})", note.row))
        return problems

    def unknown_agents(self, agents: set[str], data_display: str) -> list[DataProblem]:
        """A problem for every note whose agent is not among ``agents`` (those evaluated)."""
        return [
            DataProblem(self.display, f"agent_id '{note.agent}' is not in {data_display} for the period evaluated"
                        + (f" ({hint})" if (hint := did_you_mean(note.agent, agents)) else ""), note.row)
            for note in self.notes if note.agent not in agents
        ]


def read_notes(path: Path, display: str) -> SupervisorNotes:
    """Read the notes; raise NotesProblem when the file as a whole cannot be read."""
    result = SupervisorNotes(display)
    for row, agent, kind_text, text, kpi in _entries(path, display):
        agent, kind_text, text, kpi = (str(value).strip() if value is not None else ""
                                       for value in (agent, kind_text, text, kpi))
        kind = KIND_WORDS.get(kind_text.lower())
        if not agent:
            result.problems.append(DataProblem(display, "agent_id is empty", row))
        elif kind is None:
            hint = did_you_mean(kind_text, ["strength", "weakness", "opportunity", "threat", "action"])
            result.problems.append(DataProblem(
                display, f"kind '{kind_text}' is not {KINDS_TEXT}" + (f" ({hint})" if hint else ""), row))
        elif not text:
            result.problems.append(DataProblem(display, "text is empty", row))
        elif kpi and kind != "action":
            result.problems.append(DataProblem(
                display, f"kpi '{kpi}' is for agreed actions (kind action); a {kind} note names no KPI", row))
        else:
            result.notes.append(Note(row, agent, kind, text, kpi or None))
    return result


def _entries(path: Path, display: str):
    """(row, agent_id, kind, text, kpi) of every entry; rows as in data problems (None: unknown)."""
    if not path.is_file():
        raise NotesArgumentProblem(f"--notes {display}: " + ("no such file" if not path.exists() else "this is not a file"))
    if path.suffix.lower() in (".yaml", ".yml"):
        return _yaml_entries(path, display)
    return _table_entries(path, display)


def _yaml_entries(path: Path, display: str):
    import yaml

    try:
        text = path.read_text(encoding="utf-8-sig")
        # An alias (*name) repeats a value without writing it: nested ones grow exponentially
        # (a "billion laughs" file), and notes never need them. Refused before anything is built.
        alias = next((event for event in yaml.parse(text) if isinstance(event, yaml.AliasEvent)), None)
        if alias is not None:
            raise NotesProblem([DataProblem(display, "YAML aliases (*name) are not allowed in notes: write each value out",
                                            alias.start_mark.line + 1)])
        document = yaml.safe_load(text) or []
        nodes = getattr(yaml.compose(text), "value", None) or []
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise NotesProblem([DataProblem(display, f"cannot read the notes: {message}")]) from None
    if not isinstance(document, list) or not all(isinstance(item, dict) for item in document):
        raise NotesProblem([DataProblem(display, "the YAML file must be a list of entries with agent_id, kind and text")])
    nested = [(node.start_mark.line + 1, key) for node, item in zip(nodes, document) for key in COLUMNS + OPTIONAL
              if isinstance(item.get(key), (list, dict))]
    if nested:
        raise NotesProblem([DataProblem(display, f"{key} must be one value, not a list or a mapping", line)
                            for line, key in nested])
    from perfrules.data.reading import cell_text

    lines = [node.start_mark.line + 1 for node in nodes] if len(nodes) == len(document) else [None] * len(document)
    # The values as the data reader writes cells: an id 1001.0 is 1001, as in a workbook.
    return [(line, *(cell_text(item.get(key)) for key in COLUMNS + OPTIONAL)) for line, item in zip(lines, document)]


def _table_entries(path: Path, display: str):
    import duckdb

    from perfrules.data.cells import cleaned
    from perfrules.data.problems import DataFileProblem
    from perfrules.data.reading import ROW_COLUMN, read_table
    from perfrules.data.validate import file_problems

    connection = duckdb.connect()
    try:
        try:
            raw = read_table(connection, path, display, "notes")
        except DataFileProblem as problem:
            for each in problem.each():
                if each.title:  # --header-row is for the data file
                    each.hint = "the notes' first row must name agent_id, kind and text: delete the rows above it"
            raise NotesProblem(file_problems(display, problem)) from None
        missing = [name for name in COLUMNS if name not in raw.headers]
        if missing:
            raise NotesProblem([
                DataProblem(display, f"missing column '{name}' (notes need agent_id, kind and text"
                            + (f"; {hint})" if (hint := did_you_mean(name, raw.headers)) else ")"))
                for name in missing
            ])
        cells = [cleaned(raw.cell(name)) for name in COLUMNS]
        blank = " AND ".join(f"{cell} IS NULL" for cell in cells)  # a row of empty cells is no note
        optional = [cleaned(raw.cell(name)) if name in raw.headers else "NULL" for name in OPTIONAL]
        return connection.execute(
            f"SELECT {ROW_COLUMN}, {', '.join(cells + optional)} FROM {raw.table} WHERE NOT ({blank}) ORDER BY {ROW_COLUMN}"
        ).fetchall()
    finally:
        connection.close()
