"""The ``perfrules`` command line (``shared/spec/cli.md``).

Commands parse their arguments, call the library and map outcomes to the exit codes
of the spec: 0 success, 1 a policy has errors, 2 the command line is wrong, 3 the
data is invalid, 4 a bug in perfrules (any unexpected exception: one line, the
traceback only with ``--debug``).  Ctrl-C exits 130 and a reader closing the pipe
(``| head``) 141, both without a traceback.  Diagnostics and progress go to stderr,
results to stdout.  The policies and data a command evaluates are loaded by
:mod:`perfrules.command_inputs`, whose refusals the group turns into 2, 1 and 3.  Heavy
modules are imported inside the commands so that ``perfrules check`` starts fast.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

import click

from perfrules import __version__
from perfrules import command_inputs as inputs

EXIT_OK, EXIT_POLICY, EXIT_USAGE, EXIT_DATA, EXIT_BUG = 0, 1, 2, 3, 4
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 130, 141  # 128 + SIGINT, 128 + SIGPIPE, as a shell reports them

# Policies are small, but a generated one may nest deeply; Python 3.11 frames are cheap.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))


class UsageProblem(click.ClickException):
    """A mistake on the command line: printed as ``perfrules: error: ...``, exit 2."""

    exit_code = EXIT_USAGE

    def show(self, file=None) -> None:
        from perfrules.values import one_line

        click.echo(f"perfrules: error: {one_line(self.format_message())}", err=True)


class Perfrules(click.Group):
    """The command group; it keeps every failure to one line and to the spec's exit codes.

    click's own usage errors and :mod:`perfrules.command_inputs`' refused arguments become
    ``perfrules: error: ...`` (exit 2), its policy errors exit 1 and its data problems 3; an
    unexpected exception anywhere in a command is a bug: exit 4 with one line naming it.
    """

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            with _usage_errors_on_one_line(), _help_written():
                return super().make_context(info_name, args, parent=parent, **extra)
        except KeyboardInterrupt:  # click itself would say "Aborted!" and exit 1
            _interrupted()

    def invoke(self, ctx: click.Context):
        from perfrules.files import terminate_cleanly

        try:  # SIGTERM at any moment unwinds to exit 143: every temporary is removed on the way
            with _usage_errors_on_one_line(), terminate_cleanly():
                return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException):
            raise
        except inputs.ArgumentProblem as problem:
            raise UsageProblem(str(problem)) from None
        except inputs.PolicyErrors as errors:  # their diagnostics are printed; the summary last
            click.echo(str(errors), err=True)
            sys.exit(EXIT_POLICY)
        except inputs.InvalidData as invalid:
            _data_problems(invalid.lines)
        except (KeyboardInterrupt, click.Abort):
            _interrupted()
        except BrokenPipeError:
            _silence_output()
            sys.exit(EXIT_BROKEN_PIPE)
        except Exception as error:  # noqa: BLE001 - the one place that turns a bug into exit 4
            from perfrules.files import query_interrupted, temporary_folder_full

            if query_interrupted(error):
                _interrupted()
            full = temporary_folder_full(error)
            if full is not None:  # DuckDB's words about its spill folder: the machine, not a bug
                click.echo(f"perfrules: error: {full}", err=True)
                sys.exit(EXIT_DATA)
            if ctx.params.get("debug"):
                traceback.print_exc()
            click.echo(f"perfrules: {bug_message(error)}", err=True)
            sys.exit(EXIT_BUG)


class _help_written:
    """While the arguments are parsed, the only output is ``--help`` or ``--version``: on a full
    disk that is exit 2 with one line, as for results (click would let the OSError out as a
    traceback and exit 1), and a closed pipe is exit 141 quietly."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, _traceback):
        if isinstance(error, BrokenPipeError):
            _silence_output()
            sys.exit(EXIT_BROKEN_PIPE)
        if isinstance(error, OSError):
            raise UsageProblem(f"cannot write to standard output: {error.strerror or error}") from None
        return False


class PerfrulesCommand(click.Command):
    """Each command: its ``--help`` written as :class:`_help_written` says."""

    def make_context(self, info_name, args, parent=None, **extra):
        with _help_written():
            return super().make_context(info_name, args, parent=parent, **extra)


Perfrules.command_class = PerfrulesCommand


def _interrupted() -> None:
    if sys.stderr.isatty():
        click.echo("", err=True)  # past the terminal's ^C
    click.echo("perfrules: interrupted", err=True)
    sys.exit(EXIT_INTERRUPTED)


def _data_problems(lines: list[str]) -> None:
    """Print the problems, one a line, and their count; exit 3."""
    for line in lines:
        click.echo(line, err=True)
    click.echo(f"{len(lines)} data problem{'s' if len(lines) != 1 else ''}: nothing was written", err=True)
    sys.exit(EXIT_DATA)


def bug_message(error: BaseException) -> str:
    from perfrules.values import one_line

    detail = one_line(str(error))
    if isinstance(error, ImportError):  # not a bug in the code: an installation without a dependency
        cause = "perfrules is installed without a package it needs; reinstall it with pip"
    else:
        cause = "this is a bug in perfrules; run again with --debug for the traceback"
    return f"internal error: {type(error).__name__}{': ' + detail if detail else ''} ({cause})"


# ``perfrules`` alone prints the help (exit 2 since click 8.2, which names this error).
_HELP_FOR_NO_ARGUMENTS = getattr(click.exceptions, "NoArgsIsHelpError", ())


class _usage_errors_on_one_line:
    """click's usage errors (bad option, missing argument) as one line with a hint, exit 2."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, _traceback):
        if error is None or isinstance(error, (UsageProblem, _HELP_FOR_NO_ARGUMENTS)):
            return False
        if isinstance(error, click.UsageError):
            message = error.format_message().rstrip(".")
            if error.ctx is not None:
                message += f" (hint: see {error.ctx.command_path} --help)"
            raise UsageProblem(message) from None
        if isinstance(error, click.ClickException) and error.exit_code == EXIT_POLICY:
            raise UsageProblem(error.format_message()) from None  # exit 1 is for policy errors only
        return False


def _silence_output() -> None:
    """After a reader closed the pipe: send what is left to /dev/null, so that Python's
    final flush does not fail with a second error."""
    for stream in (sys.stdout, sys.stderr):
        try:
            descriptor = stream.fileno()
        except (AttributeError, OSError, ValueError):
            continue
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, descriptor)
        os.close(null)


@click.group("perfrules", cls=Perfrules, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="perfrules")
@click.option("--debug", is_flag=True, envvar="PERFRULES_DEBUG",
              help="on an internal error, print the traceback (also PERFRULES_DEBUG=1)")
def main(debug: bool) -> None:
    """perfrules: performance-review policies as code."""


def run() -> None:
    """The ``perfrules`` program (``python -m perfrules`` too): :func:`main`, then an exit without
    the interpreter's last garbage collection over every object the command made (the lark
    parser, the policy's nodes, DuckDB's module): 25 ms of every command.  Nothing of perfrules
    waits for it: files are closed and temporaries removed by then, and exit handlers still run.
    Not in :func:`main`, which tests call in their own process."""
    import gc

    from perfrules.files import stderr_that_cannot_fail

    stderr_that_cannot_fail()
    try:
        main(prog_name="perfrules")
    finally:
        gc.freeze()


@main.command()
@click.argument("folder")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="the language of the example policy, its tests and the README")
def init(folder: str, lang: str) -> None:
    """Start a policy repository: an example policy and its tests, example data, pre-commit and CI set-up."""
    from pathlib import Path

    from perfrules.init_repository import InitProblem, init_repository, summary
    from perfrules.values import one_line

    try:
        made = init_repository(Path(folder), lang, folder)
    except InitProblem as problem:
        raise UsageProblem(str(problem)) from None
    click.echo(one_line(summary(made, folder), keep="\n"), err=True)  # a folder name with escapes stays inert


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text diagnostics on stderr, or one JSON document on stdout")
def check(paths: tuple[str, ...], output_format: str) -> None:
    """Parse and check policy files (a folder means every *.perf in it; a *.test.perf named here is
    checked as a test file) and metric definitions (*.perfm)."""
    from perfrules.diagnostics import checked_summary, render_text, sorted_unique, to_json
    from perfrules.metrics import is_definitions
    from perfrules.origins import is_test_argument
    from perfrules.workspace import PathProblem, load_policies

    definitions = [path for path in paths if is_definitions(path)]  # metric definitions (*.perfm)
    try:
        others = [path for path in paths if not is_definitions(path)]
        policies = load_policies([path for path in others if not is_test_argument(path)])
        if any(is_test_argument(path) for path in others):  # DuckDB and pydantic only then
            from perfrules.policytest.session import add_checked_test_files

            add_checked_test_files(policies, [path for path in others if is_test_argument(path)])
    except PathProblem as problem:
        raise UsageProblem(str(problem)) from None
    for path in definitions:
        from perfrules.metrics.snapshot import load_definitions

        if not os.path.lexists(path):  # a folder or a pipe: load_definitions says what it is (PR010)
            raise UsageProblem(f"{path}: no such file")
        loaded = load_definitions(path)
        policies.diagnostics = sorted_unique(policies.diagnostics + loaded.diagnostics)
        policies.sources[path] = loaded.text
    files = [loaded.display for loaded in policies.files] + policies.test_files + definitions
    if output_format == "json":
        document = {
            "files": files,
            "errors": policies.error_count,
            "warnings": policies.warning_count,
            "diagnostics": [to_json(item) for item in policies.diagnostics],
        }
        _print_results(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    else:
        for item in policies.diagnostics:
            click.echo(render_text(item, policies.source_text(item.file)), err=True)
            click.echo("", err=True)
        click.echo(checked_summary(len(policies.files) + len(definitions), policies.error_count,
                                   policies.warning_count, len(policies.test_files)), err=True)
    sys.exit(EXIT_POLICY if policies.error_count else EXIT_OK)


def _print_results(text: str) -> None:
    """Results to stdout, whole: a full disk or a closed pipe is exit 2, never a silent half."""
    from perfrules.files import OutputProblem, write_stdout

    try:
        write_stdout(text)
    except OutputProblem as problem:
        raise UsageProblem(str(problem)) from None


SOURCE_OPTION = click.option("--source", "sources", multiple=True, metavar="NAME=PATH",
                             help="metric definitions (*.perfm): read source NAME (or the roster) from PATH "
                                  "instead of the path they give")
DATA_OPTIONS = [
    click.option("--period", help="the period to evaluate (2026-11, 2026-Q4, 2026); default: the latest in the data"),
    click.option("--encoding", help="the CSV encoding (utf-8 or gb18030); default: detected"),
    click.option("--sheet", help="the XLSX sheet; default: the first"),
    click.option("--header-row", type=click.IntRange(min=1), default=1, show_default=True,
                 help="the row of the headers in a CSV or XLSX file with title rows above them"),
    SOURCE_OPTION,
]


def _data_options(function):
    for option in reversed(DATA_OPTIONS):
        function = option(function)
    return function


def _data_options_without_period(function):
    for option in reversed(DATA_OPTIONS[1:]):
        function = option(function)
    return function


@main.command()
@click.argument("policies")
@click.argument("data")
@_data_options
@click.option("-o", "--output", help="write to this regular file (whole or not at all; a link is written through)")
@click.option("--format", "output_format", type=click.Choice(["json", "csv", "xlsx", "table"]),
              help="default: json, or the output file's extension")
@click.option("--columns", type=click.Choice(["all", "summary"]), default="all", show_default=True,
              help="CSV and XLSX: every column, or agent_id, period, policy, score, grade, rank, rank_of, veto, bonus_total")
def evaluate(policies: str, data: str, period, encoding, sheet, header_row, sources, output, output_format,
             columns) -> None:
    """Evaluate every data row with the policy whose roles hold the row's role."""
    inputs.start_scan(data, sources)  # first: it reads while the modules below load
    from pathlib import Path

    from perfrules import outputs
    from perfrules.files import OutputProblem, input_files, write_chunks, write_text

    if output is not None:  # what the path is first (a folder, a device, an input), then its extension
        inputs.output_not_over(output, input_files(policies, data))
    output_format = _output_format(output, output_format)
    if columns == "summary" and output_format not in ("csv", "xlsx"):
        raise UsageProblem(f"--columns summary applies to CSV and XLSX, not to {output_format} (hint: add --format csv)")
    from perfrules.engine.run import EvaluationFailed

    streamed = output_format == "csv"  # written once from the plan, checked as it goes
    evaluation, warnings = inputs.evaluate(policies, data, period, encoding, sheet, header_row, sources=sources,
                                           output=output, streamed=streamed)
    target = Path(output) if output else None
    text = chunks = None  # what goes to stdout; written files are never echoed
    try:
        if output_format == "csv":
            text = outputs.write_csv(evaluation, target, columns)
            inputs.print_warnings(evaluation)
        elif output_format == "xlsx":
            for line in outputs.write_xlsx(evaluation, target, columns):
                click.echo(line, err=True)
        elif output_format == "json":  # streamed: memory stays flat however many agents
            from perfrules.results import build_results, iter_results  # pydantic: not for CSV and XLSX

            chunks = build_results(evaluation, warnings, with_results=False).json_chunks(iter_results(evaluation))
            if target is not None:
                write_chunks(target, chunks)
                chunks = None
        else:
            from perfrules.results import build_results

            text = outputs.render_table(build_results(evaluation, warnings).to_json_data())
            if target is not None:
                write_text(target, text)
                text = None
    except EvaluationFailed as failure:  # a streamed result stopped at a problem of the data: nothing written
        _data_problems(inputs.rendered(failure.problems, data))
    except OutputProblem as problem:
        raise UsageProblem(str(problem)) from None
    except OSError as error:  # only files: stdout is written below, outside this handler
        raise UsageProblem(f"cannot write {output}: {error.strerror or error}") from None
    for chunk in chunks or ():
        _print_results(chunk)
    if text is not None:
        _print_results(text)
    if target is not None:
        count = sum(1 for _ in evaluation.runs)
        click.echo(f"wrote {output} ({count} polic{'y' if count == 1 else 'ies'})", err=True)


FILE_FORMATS = ("json", "csv", "xlsx")


@main.command()
@click.argument("definitions")
@click.option("-o", "--output", help="write to this regular file (whole or not at all)")
@click.option("--format", "output_format", type=click.Choice(["csv", "json", "xlsx"]),
              help="default: the output file's extension, else csv")
@click.option("--period", help="only this period (2026-11, 2026-Q4, 2026); default: every period in the data")
@SOURCE_OPTION
def metrics(definitions: str, output, output_format, period, sources) -> None:
    """Compute the per-agent snapshot from raw exports with metric definitions (*.perfm)."""
    from pathlib import Path

    from perfrules.files import OutputProblem, input_files
    from perfrules.metrics.output import write_snapshot

    overrides = inputs.source_overrides(sources)
    if output is not None:
        inputs.output_not_over(output, input_files(definitions, *overrides.values()))
    chosen = _output_format(output, output_format) if (output or output_format) else "csv"
    snapshot = inputs.metrics_snapshot(definitions, period, overrides)
    if output is not None:  # never over a raw export the definitions read
        inputs.output_not_over(output, snapshot.read_files())
    try:
        text = write_snapshot(snapshot, Path(output) if output else None, chosen)
    except OutputProblem as problem:
        raise UsageProblem(str(problem)) from None
    except OSError as error:
        raise UsageProblem(f"cannot write {output}: {error.strerror or error}") from None
    if text is not None:
        _print_results(text)
    else:
        click.echo(f"wrote {output} ({len(snapshot.rows)} agent row{'s' if len(snapshot.rows) != 1 else ''})", err=True)


def _output_format(output: str | None, output_format: str | None) -> str:
    """The format of ``evaluate``: --format, else the extension of -o, else JSON.

    An extension other than .json, .csv or .xlsx needs --format; a known extension
    that contradicts --format is a mistake rather than a guess.
    """
    from pathlib import Path

    suffix = Path(output).suffix.lower() if output else ""
    known = suffix[1:] if suffix[1:] in FILE_FORMATS else None
    if output and output_format is None and known is None:
        kind = f"unknown output type '{suffix}'" if suffix else "the file name has no extension"
        raise UsageProblem(f"-o {output}: {kind}; use .json, .csv or .xlsx, or give --format")
    if output and output_format is not None and known is not None and known != output_format:
        raise UsageProblem(f"-o {output} is a {suffix} file but --format is {output_format}; "
                           f"name the file for its format, or leave out --format")
    if output_format == "xlsx" and not output:
        raise UsageProblem("--format xlsx needs -o FILE.xlsx")
    return output_format or known or "json"


@main.command()
@click.argument("document", type=click.Choice(["result", "diff", "test"]))
def schema(document: str) -> None:
    """Print the JSON Schema of a document perfrules writes (result, diff, test)."""
    if document == "test":
        from perfrules.policytest.report import test_schema as document_schema
    elif document == "diff":
        from perfrules.diff_model import diff_schema as document_schema
    else:
        from perfrules.result_model import result_schema as document_schema

    _print_results(json.dumps(document_schema(), ensure_ascii=False, indent=2) + "\n")


@main.command("test")
@click.argument("paths", nargs=-1)
@click.option("--coverage", "with_coverage", is_flag=True, help="list the decision lines no test exercised")
@click.option("--min-coverage", "minimum", metavar="P",
              help="fail when a policy's coverage is below P percent (90 or 90%); implies --coverage")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="the report as text, or one JSON document (perfrules schema test)")
def test_command(paths: tuple[str, ...], with_coverage: bool, minimum: str | None, output_format: str) -> None:
    """Run policy tests (*.test.perf); a folder means every test file under it, no PATH means '.';
    REV:PATH reads them, and the policies they test, from a git revision."""
    from perfrules.diagnostics import render_text
    from perfrules.policytest.report import below, build_document, minimum_coverage, render_text as report_text
    from perfrules.policytest.session import run_test_files
    from perfrules.workspace import PathProblem

    try:
        wanted = minimum_coverage(minimum)
        run = run_test_files(list(paths))
    except (PathProblem, ValueError) as problem:
        raise UsageProblem(str(problem)) from None
    for item in run.diagnostics:
        click.echo(render_text(item, run.sources.get(item.file)), err=True)
        click.echo("", err=True)
    document = build_document(run, with_coverage or wanted is not None)
    if output_format == "json":
        _print_results(document.model_dump_json(indent=2) + "\n")
    else:
        _print_results(report_text(document, wanted))
    failed = document.failed or document.errors or below(document, wanted)
    sys.exit(EXIT_POLICY if failed else EXIT_OK)


@main.command()
@click.argument("policies")
@click.argument("data")
@click.option("--agent", "agent_id", required=True, help="the agent_id to explain")
@_data_options
@click.option("--lang", type=click.Choice(["zh", "en"]), help="default: the policy's language")
def explain(policies: str, data: str, agent_id: str, period, encoding, sheet, header_row, sources, lang) -> None:
    """The step-by-step reasons for one agent's result, in words."""
    from perfrules.explain import AgentNotFound, explain_agent
    from perfrules.values import one_line

    evaluation, _ = inputs.evaluate(policies, data, period, encoding, sheet, header_row, sources=sources)
    try:
        text = one_line(explain_agent(evaluation, agent_id, lang), keep="\n")
    except AgentNotFound:
        raise _unknown_agents([agent_id], evaluation, data) from None
    _print_results(text)


def _unknown_agents(unknown: list[str], evaluation, data: str) -> UsageProblem:
    """``no agent 'sharon' in data.csv for period 2026-11 (hint: did you mean 'SHARON'?)``."""
    from perfrules.diagnostics import did_you_mean
    known = evaluation.agent_ids()
    hints = [(name, did_you_mean(name, known)) for name in unknown]
    hints = [(name, hint) for name, hint in hints if hint]
    periods = sorted({run.period for run in evaluation.runs})
    where = f"for period{'s' if len(periods) > 1 else ''} {', '.join(periods)}" if periods else "(no period was evaluated)"
    names = ", ".join(f"'{name}'" for name in unknown)
    message = f"no agent{'s' if len(unknown) > 1 else ''} {names} in {data} {where}"
    if len(unknown) == 1 and hints:
        message += f" (hint: {hints[0][1]})"
    elif hints:
        message += " (hint: " + "; ".join(f"for '{name}', {hint}" for name, hint in hints) + ")"
    return UsageProblem(message)


@main.command()
@click.argument("policies")
@click.argument("data")
@click.option("-o", "--output", required=True, help="the folder for the PDFs (made if it does not exist)")
@_data_options
@click.option("--agent", "agents", multiple=True, help="only this agent (repeat for several)")
@click.option("--notes", type=click.Path(dir_okay=False), help="supervisor notes and agreed actions: CSV, XLSX or YAML with agent_id, kind, text[, kpi]")
@click.option("--lang", type=click.Choice(["zh", "en"]), help="default: each policy's language")
@click.option("--templates", type=click.Path(file_okay=False), help="a folder with agent.html and team.html of your own")
def report(policies: str, data: str, output: str, period, encoding, sheet, header_row, sources, agents, notes,
           lang, templates) -> None:
    """PDF review packets, one per agent, plus a team summary."""
    from pathlib import Path

    from perfrules.data.validate import DataProblem
    from perfrules.files import OutputProblem, output_folder
    from perfrules.report.model import build_report, kpi_names_by_agent
    from perfrules.report.notes import NotesArgumentProblem, NotesProblem, read_notes
    from perfrules.report.render import ReportProblem, write_report

    try:
        output_folder(output)
    except OutputProblem as problem:
        raise UsageProblem(str(problem)) from None
    if notes and Path(notes).exists() and not Path(notes).is_file():  # a FIFO would block the read forever
        raise UsageProblem(f"--notes {notes}: this is not a regular file (a pipe, device or socket)")
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
    evaluation, _ = inputs.evaluate(policies, data, period, encoding, sheet, header_row,
                                    also=tuple(problem.render() for problem in note_problems), sources=sources)
    if supervisor_notes is not None:
        note_problems = note_problems + supervisor_notes.unknown_agents(evaluation.agent_ids(), data) \
            + supervisor_notes.unknown_kpis(kpi_names_by_agent(evaluation))
    if note_problems:
        _data_problems([problem.render() for problem in sorted(note_problems, key=DataProblem.sort_key)])
    wanted = set(agents) if agents else None
    built = build_report(evaluation, lang, wanted, supervisor_notes.by_agent() if supervisor_notes else {})
    if wanted:
        unknown = sorted(wanted - {packet.agent_id for packet in built.packets})
        if unknown:
            raise _unknown_agents(unknown, evaluation, data)
    try:
        written, _ = write_report(built, Path(output), Path(templates) if templates else None,
                                  progress=sys.stderr.isatty())
    except ReportProblem as problem:
        raise UsageProblem(str(problem)) from None
    click.echo(f"wrote {len(written)} PDF file{'s' if len(written) != 1 else ''} to {output}", err=True)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--check", is_flag=True, help="change nothing; exit 1 when a file (or standard input) would change, naming it")
@click.option("--diff", "show_diff", is_flag=True, help="change nothing; print what would change as a unified diff")
def fmt(paths: tuple[str, ...], check: bool, show_diff: bool) -> None:
    """Rewrite policy and test files in the one canonical layout (a folder: every *.perf under it;
    -: standard input to standard output)."""
    from perfrules.layout.command import fmt_files, fmt_stdin
    from perfrules.workspace import PathProblem

    def err(line: str) -> None:
        click.echo(line, err=True)

    try:
        if paths != ("-",):
            sys.exit(fmt_files(list(paths), check, show_diff, _print_results, err))
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:
            raise UsageProblem("-: there is no standard input; pipe the text in: perfrules fmt - < policy.perf")
        sys.exit(fmt_stdin(stream, check, show_diff, _on_terminal(), _print_results, err))
    except PathProblem as problem:
        raise UsageProblem(str(problem)) from None


def _on_terminal() -> bool:
    return sys.stdout is not None and sys.stdout.isatty()  # None: closed, and written to as such


@main.command("diff")
@click.argument("old")
@click.argument("new")
@click.argument("data")
@click.option("--period", "periods", multiple=True,
              help="a period to compare (repeat for several); default: the latest in the data")
@_data_options_without_period
@click.option("--team", help="only this team's agents, in the list and the summary (a pilot group)")
@click.option("-o", "--output", help="write to this regular file (whole or not at all)")
@click.option("--format", "output_format", type=click.Choice(["table", "json", "csv", "xlsx"]),
              help="default: table, or the output file's extension")
def diff_command(old: str, new: str, data: str, periods, encoding, sheet, header_row, sources, team, output,
                 output_format) -> None:
    """Evaluate the same data under two versions of the policies (files, folders or REV:PATH):
    what changed in the policy, and who changes grade, rank or bonus."""
    from pathlib import Path

    from perfrules.diff import UnknownTeam, Version, build_diff, evaluate_versions
    from perfrules.diff_outputs import document_text, write_xlsx
    from perfrules.engine.run import EvaluationFailed, InvalidArgument
    from perfrules.files import OutputProblem, input_files, write_text

    if output is not None:
        inputs.output_not_over(output, input_files(old, new, data))
    output_format = "table" if output_format is None and output is None else _output_format(output, output_format)
    (old_policies, old_warnings), (new_policies, new_warnings) = inputs.evaluable_policies(old, new)
    versions = Version(old, old_policies), Version(new, new_policies)
    try:
        with inputs.data_file(data, encoding, sheet, header_row, sources, output) as (path, _, reading):
            evaluated, digest = evaluate_versions(*versions, path, data, list(dict.fromkeys(periods)) or [None],
                                                  **reading)
    except InvalidArgument as problem:
        raise UsageProblem(str(problem)) from None
    except EvaluationFailed as failure:
        _data_problems(inputs.rendered(failure.problems, data))
    warnings = list(dict.fromkeys(old_warnings + new_warnings + versions[0].warnings + versions[1].warnings))
    for line in dict.fromkeys(versions[0].warnings + versions[1].warnings):
        click.echo(line, err=True)
    try:
        document = build_diff(*versions, evaluated, digest, team, warnings)
    except UnknownTeam as unknown:
        raise UsageProblem(unknown.sentence(data, evaluated)) from None
    target = Path(output) if output else None
    text = None if output_format == "xlsx" else document_text(document, output_format)
    try:
        if output_format == "xlsx":
            for line in write_xlsx(document, target):
                click.echo(line, err=True)
        elif target is not None:
            write_text(target, text)
    except OutputProblem as problem:
        raise UsageProblem(str(problem)) from None
    except OSError as error:
        raise UsageProblem(f"cannot write {output}: {error.strerror or error}") from None
    if target is None:
        _print_results(text)
    else:
        click.echo(f"wrote {output} ({len(document.agents)} agents change)", err=True)
