"""The ``perfrules`` command line (``shared/spec/cli.md``).

Commands parse their arguments, call the library and map outcomes to the exit codes
of the spec: 0 success, 1 a policy has errors, 2 the command line is wrong, 3 the
data is invalid.  Diagnostics and progress go to stderr, results to stdout.  Heavy
modules are imported inside the commands so that ``perfrules check`` starts fast.
"""

from __future__ import annotations

import json
import sys

import click

from perfrules import __version__

EXIT_OK, EXIT_POLICY, EXIT_USAGE, EXIT_DATA = 0, 1, 2, 3

# Policies are small, but a generated one may nest deeply; Python 3.11 frames are cheap.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))


class UsageProblem(click.ClickException):
    """A mistake on the command line: printed as ``perfrules: error: ...``, exit 2."""

    exit_code = EXIT_USAGE

    def show(self, file=None) -> None:
        from perfrules.values import one_line

        click.echo(f"perfrules: error: {one_line(self.format_message())}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="perfrules")
def main() -> None:
    """perfrules: performance-review policies as code."""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text diagnostics on stderr, or one JSON document on stdout")
def check(paths: tuple[str, ...], output_format: str) -> None:
    """Parse and check policy files (a folder means every *.perf in it)."""
    from perfrules.diagnostics import render_text, to_json
    from perfrules.workspace import PathProblem, load_policies

    try:
        policies = load_policies(list(paths))
    except PathProblem as problem:
        raise UsageProblem(str(problem)) from None
    if output_format == "json":
        document = {
            "files": [loaded.display for loaded in policies.files],
            "errors": policies.error_count,
            "warnings": policies.warning_count,
            "diagnostics": [to_json(item) for item in policies.diagnostics],
        }
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        for item in policies.diagnostics:
            click.echo(render_text(item, policies.source_text(item.file)), err=True)
            click.echo("", err=True)
        click.echo(_summary(len(policies.files), policies.error_count, policies.warning_count), err=True)
    sys.exit(EXIT_POLICY if policies.error_count else EXIT_OK)


def _summary(files: int, errors: int, warnings: int) -> str:
    def count(number: int, word: str) -> str:
        return f"{number} {word}{'' if number == 1 else 's'}"

    checked = f"checked {count(files, 'policy file')}"
    if not errors and not warnings:
        return f"{checked}: no problems"
    return f"{checked}: {count(errors, 'error')}, {count(warnings, 'warning')}"


def _checked_policies(path: str):
    """Load and check the policies; print their diagnostics; exit 1 on any error."""
    from perfrules.diagnostics import render_text
    from perfrules.workspace import PathProblem, load_policies

    try:
        policies = load_policies([path])
    except PathProblem as problem:
        raise UsageProblem(str(problem)) from None
    for item in policies.diagnostics:
        click.echo(render_text(item, policies.source_text(item.file)), err=True)
        click.echo("", err=True)
    if policies.error_count:
        click.echo(_summary(len(policies.files), policies.error_count, policies.warning_count)
                   + ": nothing was evaluated", err=True)
        sys.exit(EXIT_POLICY)
    warnings = [
        f"{item.file}:{item.span.line}:{item.span.column}: warning {item.code}: {item.message}"
        for item in policies.diagnostics
    ]
    return policies, warnings


def _evaluate(policies_path: str, data: str, period: str | None, encoding: str | None, sheet: str | None,
              header_row: int = 1, also: tuple[str, ...] = ()):
    """Evaluate, or print every data problem (and the lines ``also`` has, the notes' problems)
    and exit 3."""
    from pathlib import Path

    from perfrules.engine.run import EvaluationFailed, InvalidArgument, evaluate_files

    policies, warnings = _checked_policies(policies_path)
    try:
        evaluation = evaluate_files(policies.files, Path(data), data, period=period, encoding=encoding, sheet=sheet,
                                    header_row=header_row)
    except InvalidArgument as problem:
        raise UsageProblem(str(problem)) from None
    except EvaluationFailed as failure:
        _data_problems([problem.render() for problem in failure.problems] + list(also))
    for line in evaluation.warnings:
        click.echo(line, err=True)
    return evaluation, warnings + evaluation.warnings


def _data_problems(lines: list[str]) -> None:
    """Print the problems, one a line, and their count; exit 3."""
    for line in lines:
        click.echo(line, err=True)
    click.echo(f"{len(lines)} data problem{'s' if len(lines) != 1 else ''}: nothing was written", err=True)
    sys.exit(EXIT_DATA)


DATA_OPTIONS = [
    click.option("--period", help="the period to evaluate (2026-11, 2026-Q4, 2026); default: the latest in the data"),
    click.option("--encoding", help="the CSV encoding (utf-8 or gb18030); default: detected"),
    click.option("--sheet", help="the XLSX sheet; default: the first"),
    click.option("--header-row", type=click.IntRange(min=1), default=1, show_default=True,
                 help="the row of the headers in a CSV or XLSX file with title rows above them"),
]


def _data_options(function):
    for option in reversed(DATA_OPTIONS):
        function = option(function)
    return function


@main.command()
@click.argument("policies")
@click.argument("data")
@_data_options
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="write to this file (whole or not at all)")
@click.option("--format", "output_format", type=click.Choice(["json", "csv", "xlsx", "table"]),
              help="default: json, or the output file's extension")
def evaluate(policies: str, data: str, period, encoding, sheet, header_row, output, output_format) -> None:
    """Evaluate every data row with the policy whose roles hold the row's role."""
    from pathlib import Path

    from perfrules import outputs
    from perfrules.results import build_results

    if output_format is None:
        suffix = Path(output).suffix.lower().lstrip(".") if output else ""
        output_format = suffix if suffix in ("json", "csv", "xlsx") else "json"
    if output_format == "xlsx" and not output:
        raise UsageProblem("--format xlsx needs -o FILE.xlsx")
    evaluation, warnings = _evaluate(policies, data, period, encoding, sheet, header_row)
    target = Path(output) if output else None
    try:
        if output_format == "csv":
            text = outputs.write_csv(evaluation, target)
            if text is not None:
                click.echo(text, nl=False)
        elif output_format == "xlsx":
            outputs.write_xlsx(evaluation, target)
        else:
            document = build_results(evaluation, warnings)
            text = outputs.json_text(document) if output_format == "json" else outputs.render_table(document)
            if target is None:
                click.echo(text, nl=False)
            else:
                outputs.write_text(target, text)
    except OSError as error:
        raise UsageProblem(f"cannot write {output}: {error.strerror or error}") from None
    if target is not None:
        count = sum(1 for _ in evaluation.runs)
        click.echo(f"wrote {output} ({count} polic{'y' if count == 1 else 'ies'})", err=True)


@main.command()
@click.argument("policies")
@click.argument("data")
@click.option("--agent", "agent_id", required=True, help="the agent_id to explain")
@_data_options
@click.option("--lang", type=click.Choice(["zh", "en"]), help="default: the policy's language")
def explain(policies: str, data: str, agent_id: str, period, encoding, sheet, header_row, lang) -> None:
    """The step-by-step reasons for one agent's result, in words."""
    from perfrules.explain import AgentNotFound, explain_agent

    evaluation, _ = _evaluate(policies, data, period, encoding, sheet, header_row)
    try:
        click.echo(explain_agent(evaluation, agent_id, lang), nl=False)
    except AgentNotFound:
        periods = ", ".join(sorted({run.period for run in evaluation.runs})) or "none"
        raise UsageProblem(f"no agent '{agent_id}' in {data} for the period evaluated ({periods})") from None


@main.command()
@click.argument("policies")
@click.argument("data")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="the folder for the PDFs")
@_data_options
@click.option("--agent", "agents", multiple=True, help="only this agent (repeat for several)")
@click.option("--notes", type=click.Path(dir_okay=False), help="supervisor notes: CSV, XLSX or YAML with agent_id, kind, text")
@click.option("--lang", type=click.Choice(["zh", "en"]), help="default: each policy's language")
@click.option("--templates", type=click.Path(file_okay=False), help="a folder with agent.html and team.html of your own")
def report(policies: str, data: str, output: str, period, encoding, sheet, header_row, agents, notes, lang,
           templates) -> None:
    """PDF review packets, one per agent, plus a team summary."""
    from pathlib import Path

    from perfrules.data.validate import DataProblem
    from perfrules.report.model import build_report
    from perfrules.report.notes import NotesArgumentProblem, NotesProblem, read_notes
    from perfrules.report.render import ReportProblem, write_report

    if templates and not Path(templates).is_dir():
        raise UsageProblem(f"--templates {templates}: no such folder")
    # The notes' problems are reported with the data's (all in one run); a note for an agent
    # who is not evaluated can only be found after the evaluation, before any PDF is written.
    supervisor_notes, note_problems = None, []
    if notes:
        try:
            supervisor_notes = read_notes(Path(notes), notes)
            note_problems = supervisor_notes.problems
        except NotesArgumentProblem as problem:
            raise UsageProblem(str(problem)) from None
        except NotesProblem as problem:
            note_problems = problem.problems
    evaluation, _ = _evaluate(policies, data, period, encoding, sheet, header_row,
                              also=tuple(problem.render() for problem in note_problems))
    if supervisor_notes is not None:
        note_problems = note_problems + supervisor_notes.unknown_agents(evaluation.agent_ids(), data)
    if note_problems:
        _data_problems([problem.render() for problem in sorted(note_problems, key=DataProblem.sort_key)])
    wanted = set(agents) if agents else None
    built = build_report(evaluation, lang, wanted, supervisor_notes.by_agent() if supervisor_notes else {})
    if wanted:
        unknown = sorted(wanted - {packet.agent_id for packet in built.packets})
        if unknown:
            raise UsageProblem(f"no agent {', '.join(unknown)} in {data} for the period evaluated")
    try:
        written, _ = write_report(built, Path(output), Path(templates) if templates else None,
                                  progress=sys.stderr.isatty())
    except ReportProblem as problem:
        raise UsageProblem(str(problem)) from None
    click.echo(f"wrote {len(written)} PDF files to {output}", err=True)
