"""What ``perfrules fmt`` prints and the exit code it ends with, kept out of the click command.

Files named on the command line are laid out and proven first (:func:`perfrules.layout.fmt.lay_out`),
then rewritten (or, with ``--check``/``--diff``, only reported); ``-`` is an editor's buffer:
standard input formatted to standard output, quiet on stderr unless the text has errors or,
with ``--check``, would change.  Both print through the two callables they are given (results
to stdout whole, lines to stderr), so that the command line keeps its one way of writing.
Exit codes are the command line's: 0, 1 (errors in a file, or ``--check`` and a change),
2 (a file that could not be written).
"""

from __future__ import annotations

from collections.abc import Callable

from perfrules.diagnostics import render_text
from perfrules.layout.fmt import (
    STDIN,
    FileLayout,
    lay_out,
    layout_stdin,
    summary,
    write_layout,
)
from perfrules.values import one_line

Print = Callable[[str], None]


def fmt_files(paths: list[str], check: bool, show_diff: bool, out: Print, err: Print) -> int:
    run = lay_out(paths)
    _diagnostics(run.with_errors, err)
    unwritten = []
    for item in run.changed:
        if show_diff:
            out(one_line(item.diff(), keep="\n\t"))
        if check or show_diff:
            if check:
                err(f"would reformat {one_line(item.display)}")
        elif (problem := write_layout(item)) is not None:
            unwritten.append(problem)
        else:
            err(f"reformatted {one_line(item.display)}")
    err(summary(run, check or show_diff))
    for problem in unwritten:
        err(f"perfrules: error: {one_line(problem)}")
    if unwritten:
        return 2
    return 1 if run.with_errors or (check and run.changed) else 0


def fmt_stdin(stream, check: bool, show_diff: bool, on_terminal: bool, out: Print, err: Print) -> int:
    """The layout of standard input on standard output: exact when piped (an editor replaces its
    buffer with it), control characters escaped on a terminal; nothing on stdout on errors."""
    item = layout_stdin(stream)
    if item.formatted is None:
        _diagnostics([item], err)
        return 1
    if show_diff and item.changed:
        out(one_line(item.diff(), keep="\n\t"))
    elif not (check or show_diff):
        text = item.formatted.decode("utf-8")
        out(one_line(text, keep="\n\t\r") if on_terminal else text)
    if check and item.changed:
        err(f"would reformat {STDIN}")
        return 1
    return 0


def _diagnostics(items: list[FileLayout], err: Print) -> None:
    for item in items:
        for diagnostic in item.diagnostics:
            err(render_text(diagnostic, item.text or None))
            err("")
