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


class UsageProblem(click.ClickException):
    """A mistake on the command line: printed as ``perfrules: error: ...``, exit 2."""

    exit_code = EXIT_USAGE

    def show(self, file=None) -> None:
        click.echo(f"perfrules: error: {self.format_message()}", err=True)


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
