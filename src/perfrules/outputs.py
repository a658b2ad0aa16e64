"""Writing results: JSON, CSV, XLSX and a readable table, each file whole or not at all.

Every file goes through :func:`perfrules.files.write_atomically`: written to a temporary
file in the target folder, flushed to disk, then renamed over the target, so a reader
never sees half a file and a failure leaves the old file (or none).  CSV is written by DuckDB
straight from the result tables (fast for a million agents); XLSX and the table are
built from the same flattened rows.

CSV and XLSX are opened by spreadsheet programs, so every text cell that begins with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` (OWASP's
advice against formula injection: an agent named ``=HYPERLINK(...)`` stays text);
numbers stay numbers.  XLSX cells are written as strings or numbers, never formulas,
and control characters XML cannot hold are written as their escape (``\\x1b``).
The table escapes control characters and prints Rich markup literally.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from perfrules.engine.plan import KPI_STATUSES
from perfrules.engine.run import OUTCOME_GUARD, Evaluation, PolicyRun, outcome_guard
from perfrules.engine.sql import ENUM_CONSTANTS_MOST, enum_type, identifier, known_text, text_literal
from perfrules.engine.standing import TARGET_STATUSES
from perfrules.files import private_workspace, terminate_cleanly, write_atomically, write_text
from perfrules.values import SECONDS_PER_UNIT, one_line, shortened

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(sql: str) -> str:
    """SQL for a text cell that a spreadsheet cannot take for a formula (a ``'`` before
    a leading ``=``, ``+``, ``-``, ``@``, tab or carriage return)."""
    # By the first character's code point: a third of the cost of comparing texts.
    starts = ", ".join(str(ord(start)) for start in FORMULA_STARTS)
    quote = text_literal("'")
    return f"(CASE WHEN ascii({sql}) IN ({starts}) THEN {quote} || {sql} ELSE {sql} END)"


SUMMARY_COLUMNS = ("agent_id", "period", "policy", "score", "grade", "rank", "rank_of", "veto", "bonus_total")


def flat_columns(run: PolicyRun, which: str = "all", digits: dict[str, int] | None = None) -> list[tuple[str, str]]:
    """(header, SQL) pairs of one policy's flattened result: one row per agent.

    ``which="summary"`` keeps the :data:`SUMMARY_COLUMNS` (cli.md ``--columns summary``).
    Beside each KPI's level and status codes stand their labels as the policy's language
    says them (``优秀``, ``已计分``), for HR reading the file in a spreadsheet.  ``digits``:
    the digits before the point of the result's DECIMAL columns (:func:`decimal_digits`),
    for numbers of two decimals computed and written as 64-bit decimals where they fit.
    """
    columns = _all_columns(run, digits or {})
    if which == "summary":
        by_header = dict(columns)
        return [(header, by_header[header]) for header in SUMMARY_COLUMNS]
    return columns


def _all_columns(run: PolicyRun, digits: dict[str, int]) -> list[tuple[str, str]]:
    from perfrules.texts import texts

    model = run.plan.model
    words = texts(model.language)
    labels = {level.name.text: level.label.value if level.label is not None else level.name.text
              for level in model.policy.levels}
    status_labels = {status: words[status] for status in ("scored", "excluded", "substituted")}
    grades = [rule.node.grade.value for rule in (*model.grade_rules, *model.vetoes)]
    columns = [
        ("agent_id", formula_safe("_agent")), ("name", formula_safe("_name")),
        ("role", one_of("_role", {role.text: role.text for role in model.policy.roles})),
        ("team", formula_safe("_team")), ("period", one_of("_period", {run.period: run.period})),
        ("policy", constant(run.policy.name.value)),
    ]
    for kpi in model.kpis:
        name = kpi.name
        prefix = kpi.prefix
        columns += [
            (f"kpi:{name}:value", f"CAST({prefix}_value AS DOUBLE)"),
            (f"kpi:{name}:level", one_of(f"{prefix}_level", {level: level for level in labels})),
            (f"kpi:{name}:level_label", one_of(f"{prefix}_level", labels)),
            (f"kpi:{name}:points", two_decimals(f"{prefix}_points", digits)),
            (f"kpi:{name}:status", one_of(f"{prefix}_status", {status: status for status in KPI_STATUSES})),
            (f"kpi:{name}:status_label", one_of(f"{prefix}_status", {"missing": None, "unmatched": None, **status_labels})),
        ]
    columns.append(("base_score", two_decimals("base_score", digits)))
    for adjust in model.adjusts:
        columns.append((f"adjust:{adjust.node.name.value}:points", two_decimals(f"a{adjust.index}_total", digits)))
    columns += [("score", two_decimals("score", digits)), ("rank", "rank"), ("rank_of", "rank_of")]
    veto_names = " ".join(f"WHEN {veto.ordinal} THEN {text_literal(veto.node.name.value)}" for veto in model.vetoes)
    veto = (one_of(f"CASE veto_rule {veto_names} END", {veto.node.name.value: veto.node.name.value for veto in model.vetoes})
            if model.vetoes else "CAST(NULL AS VARCHAR)")
    columns.append(("veto", veto))
    columns.append(("grade", one_of("grade", {grade: grade for grade in grades})))
    amounts = [f"b{index}_amount" for index in range(len(model.bonuses))]
    for bonus, amount in zip(model.bonuses, amounts):  # rounded to cents by the plan
        narrow = digits.get(amount, WIDE) <= NARROW
        columns.append((f"bonus:{bonus.name}:amount", f"CAST({amount} AS DECIMAL(18, 2))" if narrow else amount))
    total = " + ".join(f"coalesce({amount}, 0)" for amount in amounts) or "0"
    # A sum of N amounts has at most len(str(N)) digits more than the widest.
    widest = max((digits.get(amount, WIDE) for amount in amounts), default=0) + len(str(len(amounts)))
    columns.append(("bonus_total", f"CAST({total} AS DECIMAL({18 if widest <= NARROW else 38}, 2))"))
    columns.append(("plans", _plans_column(model.plans)))
    columns += _standing_columns(model, words)
    columns.append(("policy_sha256", constant(_sha(run.loaded))))
    if run.loaded.parents:  # the inherited files, nearest parent first: "file sha256; file sha256"
        columns.append(("policy_extends_sha256",
                        constant("; ".join(f"{parent.display} {_sha(parent)}" for parent in run.loaded.parents))))
    return columns


# How many plans the `plans` column spells out as every combination (2^N texts) in advance.
MOST_PLANS_SPELLED_OUT = 6


def _plans_column(plans) -> str:
    """The names of the plans due, joined by `; ` (empty when none is due)."""
    if not plans:
        return "''"
    names = [plan.name.value for plan in plans]
    due = ", ".join(f"CASE WHEN p{index}_due THEN {text_literal(name)} END" for index, name in enumerate(names))
    joined = f"concat_ws('; ', {due})"
    if len(names) > MOST_PLANS_SPELLED_OUT:
        return formula_safe(joined)
    combinations = ["; ".join(name for bit, name in enumerate(names) if chosen >> bit & 1)
                    for chosen in range(1 << len(names))]
    return one_of(joined, {text: text for text in combinations})


def formula_safe_text(text: str) -> str:
    """What a spreadsheet cell shows for ``text`` (:func:`formula_safe`, in Python)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def one_of(sql: str, shown: dict[str, str | None]) -> str:
    """A text column whose values are known from the policy (levels, statuses, grades, its name):
    each value of ``sql`` written as ``shown`` says (made formula-safe here; None: an empty cell).

    The column is a DuckDB ENUM of those texts: the CSV's ORDER BY then carries a small
    number per row instead of a string (a third of the sort's work at a million agents), and
    the file holds the text itself.  A value ``shown`` does not list fails the cast loudly
    (an internal error), never a blank or a wrong label.
    """
    texts = {value: formula_safe_text(text) if text is not None else None for value, text in shown.items()}
    members = list(dict.fromkeys(text for text in texts.values() if text is not None))
    if not members:
        return f"CAST({sql} AS VARCHAR)"
    kind = enum_type(members)
    if all(text == value for value, text in texts.items()):
        return f"CAST({sql} AS {kind})"  # nothing to do when sql is an ENUM of these texts already
    # Each value's text as a constant of the ENUM: no text is looked up row by row (for a long
    # list the constants are text, and the column is cast once).
    whens = " ".join(f"WHEN {text_literal(value)} THEN {known_text(text, members) if text is not None else 'NULL'}"
                     for value, text in texts.items())
    relabelled = f"CASE {sql} {whens} ELSE CAST({sql} AS {kind}) END"
    return relabelled if len(members) <= ENUM_CONSTANTS_MOST else f"CAST({relabelled} AS {kind})"


def constant(text: str) -> str:
    """The same text on every row (the policy's name, its sha256), as a one-member ENUM."""
    return one_of(text_literal(text), {text: text})


def goal_headers(target) -> list[str]:
    """The name of each goal line in column headers: its metric, ``csat#2`` for a second line on it."""
    seen: dict[str, int] = {}
    headers = []
    for line in target.lines:
        seen[line.metric.text] = seen.get(line.metric.text, 0) + 1
        headers.append(line.metric.text if seen[line.metric.text] == 1 else f"{line.metric.text}#{seen[line.metric.text]}")
    return headers


def _standing_columns(model, words: dict[str, str]) -> list[tuple[str, str]]:
    """``target:NAME:status`` (+ label), ``target:NAME:GOAL:progress`` and ``:status`` per goal line,
    ``award:NAME`` (1 held, 0 not): see docs/evaluation.md."""
    labels = " ".join(f"WHEN {text_literal(status)} THEN {text_literal(words[status])}" for status in TARGET_STATUSES)
    columns = []
    for index, target in enumerate(model.targets):
        name = target.name.value
        columns += [(f"target:{name}:status", f"t{index}_status"),
                    (f"target:{name}:status_label", f"CASE t{index}_status {labels} END")]
        for number, goal in enumerate(goal_headers(target)):
            applies = f"t{index}_status IS NOT NULL"
            columns += [(f"target:{name}:{goal}:progress", f"CASE WHEN {applies} THEN round(t{index}_{number}_progress, 4) END"),
                        (f"target:{name}:{goal}:status", f"CASE WHEN {applies} THEN t{index}_{number}_status END")]
    for index, award in enumerate(model.awards):
        columns.append((f"award:{award.title.value}", f"CASE WHEN w{index}_held THEN 1 ELSE 0 END"))
    return columns


def _sha(loaded) -> str:
    """A policy file's sha256 (a LoadedPolicy or an inherited PolicyFile), as its stamp in the
    JSON says it (without reading git)."""
    return loaded.origin.sha256(loaded.source.text)


# A DECIMAL with at most NARROW digits before the point, rounded to two decimals, fits DECIMAL(18, 2).
NARROW = 16
WIDE = 36  # what a DECIMAL(38, 2) may hold: the digits of a column whose type is not known


def decimal_digits(connection, table: str) -> dict[str, int]:
    """The digits before the point of each DECIMAL column of ``table`` (a table or view), as
    DuckDB typed it when it was made (no query is planned again)."""
    import re

    found = {}
    for name, kind in connection.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?",
                                         [table]).fetchall():
        if (match := re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", kind)) is not None:
            found[name] = int(match[1]) - int(match[2])
    return found


def two_decimals(column: str, digits: dict[str, int]) -> str:
    """``round(column, 2)``, as a DECIMAL(18, 2) where the column's type allows it (a score is a
    DECIMAL(20, 6): 128-bit decimals round and write at three times the cost of 64-bit ones).
    A value below 10^12 is rounded as a DECIMAL(18, 6), a larger one by the cast, which rounds
    half away from zero like ``round``; both are exact."""
    wide = digits.get(column, WIDE)
    if wide <= 12 or wide > NARROW:  # a DECIMAL(18, 6) already, or one that may not fit 64 bits
        return f"round({column}, 2)"
    return (f"CASE WHEN abs({column}) < 1000000000000 THEN round(CAST({column} AS DECIMAL(18, 6)), 2) "
            f"ELSE CAST({column} AS DECIMAL(18, 2)) END")


def flat_query(evaluation: Evaluation, which: str = "all") -> str:
    def source(run: PolicyRun) -> str:  # the summary has no column of targets or awards
        return run.plan_results if which == "summary" else run.table

    if len(evaluation.runs) == 1:
        (run,) = evaluation.runs
        return f"SELECT {_selects(run, which, evaluation)} FROM {source(run)} ORDER BY rank NULLS LAST, _agent"
    # Sorted by the agent's id as read, like the JSON results, not by the cell written (an id
    # made formula-safe, '=X, would otherwise sort before 5).
    parts = []
    for order, run in enumerate(evaluation.runs):
        selects = _selects(run, which, evaluation)
        parts.append(f"SELECT {order} AS __policy, rank AS __rank, _agent AS __agent, {selects} FROM {source(run)}")
    union = " UNION ALL BY NAME ".join(f"({part})" for part in parts)
    return (f"SELECT * EXCLUDE (__policy, __rank, __agent) FROM ({union}) "
            f"ORDER BY __policy, __rank NULLS LAST, __agent")


def _selects(run: PolicyRun, which: str, evaluation: Evaluation) -> str:
    """The flattened columns of ``run``; a streamed run's rank stops the query at a row with a problem."""
    columns = flat_columns(run, which, decimal_digits(evaluation.connection, run.plan_results))
    if not run.checked:
        guarded = (f"CASE WHEN {outcome_guard(run)} THEN CAST(error({text_literal(OUTCOME_GUARD)}) AS BIGINT) "
                   f"ELSE rank END")
        columns = [(header, guarded if header == "rank" else sql) for header, sql in columns]
    return ", ".join(f"{sql} AS {identifier(header)}" for header, sql in columns)


def write_csv(evaluation: Evaluation, target: Path | None, which: str = "all") -> str | None:
    """Write the flattened results as CSV to ``target``, or return the text."""
    if not evaluation.runs:
        header = "agent_id,period,policy\n" if which == "summary" else "agent_id,name,role,team,period,policy\n"
        if target is None:
            return header
        write_text(target, header)
        return None
    if target is None:
        with terminate_cleanly(), private_workspace() as folder:  # removed on SIGTERM; after kill -9 by the next run
            path = folder / "results.csv"
            _copy(evaluation, which, path)
            return path.read_text(encoding="utf-8")
    with write_atomically(target) as temporary:
        _copy(evaluation, which, temporary)
    return None


def _copy(evaluation: Evaluation, which: str, path: Path) -> None:
    """DuckDB's COPY of the flattened results to ``path`` (write_atomically's private temporary:
    DuckDB's own `tmp_` file beside it, readable by all and unknown to the cleanup of a killed
    run's temporaries, is not wanted); its I/O errors (a full disk) become OSError like Python's own.  What the single pass wrote is written again the stored way
    when its query stopped or its rows do not add up (engine/single_pass.py)."""
    import duckdb

    from perfrules.files import query_interrupted, temporary_folder_full

    while True:
        query = flat_query(evaluation, which)
        try:
            (written,) = evaluation.connection.execute(
                f"COPY ({query}) TO {text_literal(str(path))} (HEADER, DELIMITER ',', USE_TMP_FILE false)").fetchone()
        except duckdb.Error as error:
            if temporary_folder_full(error) or query_interrupted(error):
                raise  # the machine or Ctrl-C, not the data: said by the command line's one boundary
            if (failed := _write_failure(error)) is not None:
                raise failed from None  # the output's disk, not the data
            if evaluation.single_pass is not None:  # EvaluationFailed: the data's problems, every one
                evaluation.redo_stored(isinstance(error, duckdb.ConversionException) and "CSV Error" in str(error))
                continue
            evaluation.check_streamed()  # EvaluationFailed: a problem of the data stopped the writing
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise OSError(f"DuckDB could not write the CSV file: {reason}") from None
        if evaluation.written(written):
            return
        evaluation.redo_stored(evaluation.single_pass.misread_by_reader())


def _write_failure(error: Exception) -> OSError | None:
    """DuckDB failing to write the output file (a full disk, an I/O error) as Python's own
    OSError (``No space left on device``), or None for any other failure.  DuckDB names the
    temporary file and gives the errno in a JSON text: the user is told of their file's disk."""
    import errno
    import os
    import re

    text = str(error)
    if "Could not write file" not in text:
        return None
    found = re.search(r'"errno":"(\d+)"', text)
    number = int(found[1]) if found else errno.EIO
    return OSError(number, os.strerror(number))


def flat_rows(evaluation: Evaluation, which: str = "all", batch: int = 4096) -> tuple[list[str], Iterator[tuple]]:
    """The headers, and the flattened rows a batch at a time (memory stays flat)."""
    # A streamed run could stop part-way through the rows: only write_csv takes one (whole or nothing).
    assert all(run.checked for run in evaluation.runs), "flat_rows of a streamed evaluation"
    if not evaluation.runs:
        return [], iter(())
    cursor = evaluation.connection.execute(flat_query(evaluation, which))
    headers = [description[0] for description in cursor.description]

    def rows() -> Iterator[tuple]:
        while chunk := cursor.fetchmany(batch):
            yield from chunk

    return headers, rows()


def write_xlsx(evaluation: Evaluation, target: Path, which: str = "all") -> list[str]:
    """Write the flattened results as XLSX; return a warning for each text cut to fit a cell."""
    headers, rows = flat_rows(evaluation, which)
    formats = xlsx_formats(evaluation)
    columns = [formats.get(header, (None, None)) for header in headers]
    cut: list[tuple[str, int]] = []
    with write_atomically(target) as temporary:
        failure = _quietly(_write_workbook, temporary, headers, rows, columns, cut)
        if failure is not None:
            raise failure
    return cut_warnings(target, cut)


def _write_workbook(path: Path, headers: list[str], rows: Iterator[tuple], columns: list,
                    cut: list[tuple[str, int]]) -> None:
    """The workbook saved straight to ``path`` (a million rows make a few hundred MB: not in memory)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("results")
    sheet.append([_xlsx_cell(sheet, header) for header in headers])
    for number, row in enumerate(rows, start=2):
        sheet.append([_xlsx_cell(sheet, value, *column, cut=cut, place=f"row {number}, column {header}")
                      for header, value, column in zip(headers, row, columns)])
    workbook.save(path)


# The most characters an XLSX cell holds (Excel's limit); a longer text is cut, with a warning.
XLSX_CELL_MOST = 32_767
MOST_CUT_WARNINGS = 10


def cut_warnings(target: Path, cut: list[tuple[str, int]]) -> list[str]:
    """One line per text cut to fit its cell (the first MOST_CUT_WARNINGS, then how many more),
    each kept on one line (a column's name comes from the policy)."""
    lines = [f"{target}: {place}: {length:,} characters, more than the {XLSX_CELL_MOST:,} an XLSX cell holds: "
             f"cut there, ending in '…' (the CSV and JSON keep the whole text)"
             for place, length in cut[:MOST_CUT_WARNINGS]]
    if len(cut) > MOST_CUT_WARNINGS:
        lines.append(f"{target}: {len(cut) - MOST_CUT_WARNINGS:,} more texts were cut to fit their cells")
    return [one_line(line) for line in lines]


def _quietly(write, *arguments) -> OSError | None:
    """Run ``write``; return its OSError (a full disk), detached from its traceback.

    When the disk fills mid-save, openpyxl's half-closed writers complain on stderr as they
    are collected; the OSError is the one message, so the workbook is collected here, while
    that noise is dropped.
    """
    import gc
    import sys

    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        write(*arguments)
        return None
    except OSError as error:
        return OSError(error.errno, error.strerror)
    finally:
        gc.collect()
        sys.unraisablehook = hook


def xlsx_formats(evaluation: Evaluation) -> dict[str, tuple[Decimal | None, str]]:
    """How XLSX shows each numeric column: (seconds per unit to divide by, number format).

    Percent values are fractions formatted as percents (0.925 shows 92.50%); durations are
    given in their metric's unit (`aht: duration in min`: 510 s is 8.5 and shows 8.50 min);
    money, scores and points with two decimals.
    """
    formats: dict[str, tuple[Decimal | None, str]] = {
        "base_score": (None, "0.00"), "score": (None, "0.00"), "bonus_total": (None, "#,##0.00")}
    for run in evaluation.runs:
        model = run.plan.model
        for kpi in model.kpis:
            formats[f"kpi:{kpi.name}:points"] = (None, "0.00")
            kind = kpi.metric.type.text if kpi.metric is not None else None
            if kind == "percent":
                formats[f"kpi:{kpi.name}:value"] = (None, "0.00%")
            elif kind == "duration":
                unit = kpi.metric.unit or "s"
                formats[f"kpi:{kpi.name}:value"] = (Decimal(SECONDS_PER_UNIT[unit]), f'0.00" {unit}"')
            elif kind == "money":
                formats[f"kpi:{kpi.name}:value"] = (None, "#,##0.00")
        for adjust in model.adjusts:
            formats[f"adjust:{adjust.node.name.value}:points"] = (None, "0.00")
        for bonus in model.bonuses:
            formats[f"bonus:{bonus.name}:amount"] = (None, "#,##0.00")
        for target in model.targets:
            for goal in goal_headers(target):
                formats[f"target:{target.name.value}:{goal}:progress"] = (None, "0.00%")
    return formats


def _xlsx_cell(sheet, value, scale: Decimal | None = None, number_format: str | None = None,
               cut: list[tuple[str, int]] | None = None, place: str = ""):
    """A string cell (never a formula; control characters escaped; cut to XLSX_CELL_MOST characters,
    noted in ``cut`` as (place, length)) or a number (with its format)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) and number_format is not None:
        number = Decimal(str(value)) / scale if scale is not None else value
        cell = WriteOnlyCell(sheet, float(number))
        cell.number_format = number_format
        return cell
    if hasattr(value, "as_tuple"):
        return float(value)
    if not isinstance(value, str):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub(lambda match: one_line(match.group(0)), value)
    if len(text) > XLSX_CELL_MOST:  # openpyxl would cut it silently
        if cut is not None:
            cut.append((place, len(text)))
        text = shortened(text, XLSX_CELL_MOST - 1)
    cell = WriteOnlyCell(sheet, text)
    cell.data_type = "s"
    return cell


def render_table(document: dict) -> str:
    """A readable table per policy (rich), for people at a terminal."""
    from io import StringIO

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    def shown(text: str) -> Text:  # literally: no Rich markup, no terminal escape sequences
        return Text(one_line(text))

    buffer = StringIO()
    console = Console(file=buffer, width=120, force_terminal=False, color_system=None)
    by_policy: dict[str, list[dict]] = {}
    for result in document["results"]:
        by_policy.setdefault(result["policy"], []).append(result)
    for policy in document["policies"]:
        rows = by_policy.get(policy["name"], [])
        table = Table(title=shown(f"{policy['name']} ({policy['version']}) · {rows[0]['period'] if rows else ''}"))
        for header, justify in (("rank", "right"), ("agent", "left"), ("name", "left"), ("team", "left"),
                                ("score", "right"), ("grade", "left"), ("veto", "left"), ("bonus", "right"),
                                ("plans", "left")):
            table.add_column(header, justify=justify)
        for result in rows:
            table.add_row(*map(shown, (
                f"{result['rank']} / {result['rank_of']}" if result["rank"] is not None else "-",
                result["agent_id"], result["name"] or "", result["team"] or "",
                f"{result['score']:.2f}" if result["score"] is not None else "-",
                result["grade"] or "", result["veto"]["name"] if result["veto"] else "",
                f"{result['bonus_total']:.2f}", ", ".join(plan["name"] for plan in result["plans"]),
            )))
        console.print(table)
    return buffer.getvalue()
