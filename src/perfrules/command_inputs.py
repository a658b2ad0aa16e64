"""The policies and the data a command evaluates, loaded the one way every command loads them.

``evaluate``, ``explain``, ``report``, ``diff`` and ``metrics`` take the same steps before
their own work: load and check the policies (a file, a folder or ``REV:PATH``) and print
their diagnostics, refuse base policies that evaluate nothing, turn DATA into the file to
read (the data file itself, or the snapshot its metric definitions compute from the raw
exports, ``--source`` overriding their paths, ``-o`` never over an input), evaluate it and
print the data's warnings.  They live here once, so that cli.py keeps only the commands,
the exit codes and the error boundary: this module knows no exit code; it raises
:class:`ArgumentProblem`, :class:`PolicyErrors` or :class:`InvalidData` and cli.py's
boundary prints them and exits 2, 1 or 3.  Heavy modules (DuckDB, the engine) are imported
inside the functions, so that ``perfrules check`` starts fast.
"""

from __future__ import annotations

import contextlib

import click


class ArgumentProblem(Exception):
    """A command-line argument the command cannot use (cli.py: ``perfrules: error: ...``, exit 2)."""


class PolicyErrors(Exception):
    """The policies (or metric definitions) have errors, printed; the message is the summary
    line that says nothing was done (cli.py prints it, exit 1)."""


class InvalidData(Exception):
    """Every problem of the data, a line each (cli.py prints them and their count, exit 3)."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


def evaluate(policies_path: str, data: str, period: str | None, encoding: str | None, sheet: str | None,
             header_row: int = 1, also: tuple[str, ...] = (), sources: tuple[str, ...] = (),
             output: str | None = None, streamed: bool = False):
    """Evaluate, or raise :class:`InvalidData` with every data problem (and the lines ``also``
    has, the notes' problems).  DATA may be metric definitions (docs/metrics.md, :func:`data_file`).
    ``streamed`` (evaluate to CSV): the data's warnings are the caller's to print, once written."""
    start_scan(data, sources)
    ((policies, warnings),) = evaluable_policies(policies_path)
    with data_file(data, encoding, sheet, header_row, sources, output) as (path, snapshot, reading):
        # A snapshot's file is gone once written: not for the single pass, which reads its file
        # as the CSV is written (engine/single_pass.py).
        evaluation = _evaluate_file(policies, path, data, period, also, streamed=streamed,
                                    single_pass=snapshot is None, **reading)
    if snapshot is not None:
        evaluation.metrics_snapshot = snapshot  # explain says where each metric came from
    return evaluation, warnings + evaluation.warnings


def start_scan(data: str, sources: tuple[str, ...] = ()) -> None:
    """Begin hashing a data file the direct route reads while the rest of the command starts
    (modules load, policies are checked): :func:`perfrules.data.file_scan.start_scan`."""
    if not sources:
        from pathlib import Path

        from perfrules.data.file_scan import start_scan as start

        start(Path(data))


def evaluable_policies(*arguments: str) -> list:
    """(policies, warnings) of each argument, loaded, checked and their diagnostics printed
    (each once: ``diff`` may name the same file twice); :class:`PolicyErrors` when one of them
    has errors, :class:`ArgumentProblem` when one holds only base policies."""
    printed: set[str] = set()
    loaded = [_loaded_policies(argument, printed) for argument in arguments]
    for policies, _ in loaded:
        if policies.error_count:
            from perfrules.diagnostics import checked_summary

            raise PolicyErrors(checked_summary(len(policies.files), policies.error_count, policies.warning_count)
                               + ": nothing was evaluated")
    for argument, (policies, _) in zip(arguments, loaded):
        if not policies.evaluated:
            raise ArgumentProblem(f"{argument}: only base policies (without `roles`), which evaluate nothing "
                                  f"on their own; evaluate a policy that extends them")
    return loaded


def _loaded_policies(path: str, printed: set[str]):
    """Load and check the policies (a file, a folder or REV:PATH) and print their diagnostics;
    ``printed``: the diagnostics printed before (diff's other version), not printed again."""
    from perfrules.diagnostics import render_text
    from perfrules.workspace import PathProblem, load_policies

    try:
        policies = load_policies([path])
    except PathProblem as problem:
        raise ArgumentProblem(str(problem)) from None
    for item in policies.diagnostics:
        text = render_text(item, policies.source_text(item.file))
        if text not in printed:
            printed.add(text)
            click.echo(text, err=True)
            click.echo("", err=True)
    warnings = [
        f"{item.file}:{item.span.line}:{item.span.column}: warning {item.code}: {item.message}"
        for item in policies.diagnostics
    ]
    return policies, warnings


@contextlib.contextmanager
def data_file(data: str, encoding: str | None, sheet: str | None, header_row: int, sources: tuple[str, ...] = (),
              output: str | None = None):
    """DATA as (the file to evaluate, the snapshot or None, its reading options): the file itself,
    or the snapshot of metric definitions (their sources overridden by ``--source``), computed
    from the raw exports, in a private CSV removed afterwards; ``-o output`` never over a raw export."""
    from pathlib import Path

    from perfrules.metrics import is_definitions

    if not is_definitions(data):
        if sources:
            raise ArgumentProblem(f"--source {sources[0]}: DATA {data} is a data file; --source applies to "
                                  f"metric definitions (*.perfm) given as DATA")
        yield Path(data), None, {"encoding": encoding, "sheet": sheet, "header_row": header_row}
        return
    if encoding or sheet or header_row != 1:
        raise ArgumentProblem(f"{data}: --encoding, --sheet and --header-row apply to a data file; "
                              f"metric definitions say them per source")
    from perfrules.metrics.output import csv_text

    snapshot = metrics_snapshot(data, None, source_overrides(sources))
    if output is not None:
        output_not_over(output, snapshot.read_files())
    from perfrules.files import private_workspace

    with private_workspace() as folder:  # the snapshot holds salaries: private, never left in /tmp for good
        path = folder / "snapshot.csv"
        path.write_text(csv_text(snapshot, safe=False), encoding="utf-8")
        yield path, snapshot, {}


def _evaluate_file(policies, path, display: str, period, also, streamed: bool = False, single_pass: bool = True,
                   **reading):
    from perfrules.engine.run import EvaluationFailed, InvalidArgument, evaluate_files

    try:
        evaluation = evaluate_files(policies.evaluated, path, display, period=period, streamed=streamed,
                                    single_pass=single_pass, **reading)
    except InvalidArgument as problem:
        raise ArgumentProblem(str(problem)) from None
    except EvaluationFailed as failure:
        raise InvalidData(rendered(failure.problems, display) + list(also)) from None
    if not streamed:
        print_warnings(evaluation)
    return evaluation


def print_warnings(evaluation) -> None:
    for line in evaluation.warnings:
        click.echo(line, err=True)


def rendered(problems, data: str) -> list[str]:
    """The evaluation's data problems, a line each; in the snapshot of metric definitions, by its row."""
    from perfrules.metrics import is_definitions

    if is_definitions(data):
        from perfrules.metrics.snapshot import located_in_snapshot

        problems = [located_in_snapshot(problem, data) for problem in problems]
    return [problem.render() for problem in problems]


def metrics_snapshot(definitions: str, period: str | None, sources: dict[str, str]):
    """The snapshot of metric definitions; their diagnostics are :class:`PolicyErrors`, problems
    of the raw data :class:`InvalidData`."""
    from pathlib import Path

    from perfrules.diagnostics import render_text
    from perfrules.engine.run import open_connection
    from perfrules.data.validate import normalised_period
    from perfrules.metrics.snapshot import SnapshotFailed, build_snapshot, load_definitions
    from perfrules.values import PERIOD_EXAMPLES, period_kind

    if not Path(definitions).exists():
        raise ArgumentProblem(f"{definitions}: no such file")
    loaded = load_definitions(definitions, sources)
    for item in loaded.diagnostics:
        click.echo(render_text(item, loaded.text), err=True)
        click.echo("", err=True)
    if loaded.error_count:
        errors = loaded.error_count
        raise PolicyErrors(f"checked 1 definitions file: {errors} error{'s' if errors != 1 else ''}: "
                           f"nothing was computed")
    model = loaded.model
    unknown = sorted(set(sources) - {source.name for source in model.sources} - ({"roster"} if model.roster else set()))
    if unknown:
        raise ArgumentProblem(f"--source {unknown[0]}=...: {definitions} has no source '{unknown[0]}' "
                              f"(its sources: {', '.join(source.name for source in model.sources)})")
    wanted = None
    if period is not None:
        wanted = normalised_period(open_connection(), period)
        if wanted is None or period_kind(wanted) != model.period:
            raise ArgumentProblem(f"--period '{period}' is not a {model.period} like "
                                  f"{PERIOD_EXAMPLES[model.period]} (the definitions compute {model.period}s)")
    try:
        return build_snapshot(model, wanted)
    except SnapshotFailed as failure:
        raise InvalidData([problem.render() for problem in failure.problems]) from None


def source_overrides(sources: tuple[str, ...]) -> dict[str, str]:
    """``--source NAME=PATH`` (repeated) as {NAME: PATH}; the names are checked against the
    definitions by :func:`metrics_snapshot`."""
    overrides = {}
    for given in sources:
        name, equals, path = given.partition("=")
        if not equals or not name or not path:
            raise ArgumentProblem(f"--source {given}: write NAME=PATH, for example --source calls=august.csv")
        if name in overrides:  # never the last one silently: which file holds the month is the user's to say
            raise ArgumentProblem(f"--source {given}: source {name} is given twice (also --source "
                                  f"{name}={overrides[name]}); give each source once")
        overrides[name] = path
    return overrides


def output_not_over(output: str, inputs) -> None:
    """``-o output`` is a regular file and none of the run's ``inputs`` (:class:`ArgumentProblem` otherwise)."""
    from perfrules.files import OutputProblem, output_path

    try:
        output_path(output, inputs)
    except OutputProblem as problem:
        raise ArgumentProblem(str(problem)) from None
