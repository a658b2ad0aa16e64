"""Supervisor notes for the SWOT section (``--notes FILE``): CSV, XLSX or YAML.

Each note is a row or an entry with ``agent_id``, ``kind`` (strength, weakness,
opportunity, threat, or 优势, 劣势/不足, 机会, 威胁/风险) and ``text``.  Every bad
row is reported with its place; nothing is silently dropped.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

KIND_WORDS = {
    "strength": "strength", "strengths": "strength", "优势": "strength", "s": "strength",
    "weakness": "weakness", "weaknesses": "weakness", "劣势": "weakness", "不足": "weakness", "w": "weakness",
    "opportunity": "opportunity", "opportunities": "opportunity", "机会": "opportunity", "o": "opportunity",
    "threat": "threat", "threats": "threat", "威胁": "threat", "风险": "threat", "t": "threat",
}


class NotesProblem(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def read_notes(path: Path, display: str) -> dict[str, list[tuple[str, str]]]:
    """Notes by agent id: [(kind, text)] in file order."""
    entries = list(_entries(path, display))
    notes: dict[str, list[tuple[str, str]]] = {}
    problems = []
    for place, entry in entries:
        agent = str(entry.get("agent_id") or "").strip()
        kind_text = str(entry.get("kind") or "").strip()
        text = str(entry.get("text") or "").strip()
        kind = KIND_WORDS.get(kind_text.lower())
        if not agent:
            problems.append(f"{display}:{place}: agent_id is empty")
        elif kind is None:
            problems.append(f"{display}:{place}: kind '{kind_text}' is not strength, weakness, opportunity or threat")
        elif not text:
            problems.append(f"{display}:{place}: text is empty")
        else:
            notes.setdefault(agent, []).append((kind, text))
    if problems:
        raise NotesProblem(problems)
    return notes


def _entries(path: Path, display: str):
    suffix = path.suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            import yaml

            document = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or []
            if not isinstance(document, list) or not all(isinstance(item, dict) for item in document):
                raise NotesProblem([f"{display}: the YAML file must be a list of entries with agent_id, kind and text"])
            yield from ((f"entry {index}", item) for index, item in enumerate(document, start=1))
        elif suffix in (".xlsx", ".xlsm"):
            from python_calamine import CalamineWorkbook

            rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
            yield from _table(rows, display)
        elif suffix in (".csv", ".txt"):
            data = path.read_bytes()
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = data.decode("gb18030")
            yield from _table(list(csv.reader(io.StringIO(text))), display)
        else:
            raise NotesProblem([f"{display}: notes are read from .csv, .xlsx or .yaml files"])
    except NotesProblem:
        raise
    except FileNotFoundError:
        raise NotesProblem([f"{display}: no such file"]) from None
    except Exception as error:  # a broken workbook, YAML syntax, undecodable bytes
        raise NotesProblem([f"{display}: cannot read the notes: {str(error).splitlines()[0] if str(error) else error}"]) from None


def _table(rows: list[list], display: str):
    if not rows:
        return
    headers = [str(cell).strip() for cell in rows[0]]
    missing = [name for name in ("agent_id", "kind", "text") if name not in headers]
    if missing:
        raise NotesProblem([f"{display}: missing column {', '.join(missing)} (notes need agent_id, kind and text)"])
    for number, row in enumerate(rows[1:], start=2):
        if any(str(cell).strip() for cell in row):
            yield (f"row {number}", dict(zip(headers, row)))
