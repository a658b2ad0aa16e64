"""``perfrules fmt``: which files, whether their layout is canonical, and rewriting them safely.

The layout itself is :mod:`perfrules.layout.printer`'s; this module decides what to do
with it.  A file is formatted only when it parses without errors (else it is left
untouched and its located diagnostics are printed, exit 1).  Before anything is written or
reported, the printed text is proven to mean what the file meant: the same tokens, the
same comments, the same syntax tree (spans aside), and printing it again changes nothing;
a printer bug is an internal error (exit 4), never a rewritten policy.  Files are written
whole or not at all (:func:`perfrules.files.write_atomically`), in UTF-8, keeping a
byte-order mark and Windows line endings (``\\r\\n`` throughout) when the file had them,
so that an editor or git's ``autocrlf`` does not fight ``fmt --check``.

Each kind of source file is a :class:`SourceKind`: its parser and the function that
builds the tree compared before and after.  Policy files are one; the test files of
language.md §15 (``*.test.perf``) become another by adding their kind to :data:`KINDS`.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lark import Lark

from perfrules.diagnostics import Diagnostic, Severity
from perfrules.layout.printer import canonical_layout, lex
from perfrules.origins import PathProblem, files_under
from perfrules.source import MAX_POLICY_BYTES, SourceFile, read_policy, read_source

BOM = b"\xef\xbb\xbf"
SUFFIX = ".perf"


class PrinterBug(Exception):
    """The printed layout would change the file's meaning or is not stable: a bug, exit 4."""


@dataclass(frozen=True)
class SourceKind:
    """A kind of perfrules source file: how to parse it, and the tree that must not change."""

    name: str
    suffix: str
    parser: Callable[[], Lark]
    parse: Callable[[SourceFile], tuple[object | None, list[Diagnostic]]]
    inline: frozenset[str] = frozenset()  # rules whose short blocks stay on one line


def _parse_policy(source: SourceFile) -> tuple[object | None, list[Diagnostic]]:
    from perfrules.parser import parse_policy

    result = parse_policy(source)
    return result.policy, result.diagnostics


def _policy_parser() -> Lark:
    from perfrules.parser import policy_parser

    return policy_parser()


POLICY = SourceKind("policy", SUFFIX, _policy_parser, _parse_policy)


def _test_file_kind() -> SourceKind | None:
    """The test files of language.md §15 (``*.test.perf``, their own grammar), when this
    perfrules has them (:mod:`perfrules.policytest`).  An agent's values stay on its line
    (``agent A1 { csat = 80%  aht = 6min }``) when they fit; ``given`` is one value a line."""
    if importlib.util.find_spec("perfrules.policytest") is None:
        return None

    def parser() -> Lark:
        from perfrules.policytest.parser import tests_parser

        return tests_parser()

    def parse(source: SourceFile) -> tuple[object | None, list[Diagnostic]]:
        from perfrules.policytest.parser import parse_tests

        result = parse_tests(source)
        return result.policy, result.diagnostics

    return SourceKind("test file", ".test" + SUFFIX, parser, parse, frozenset({"agent"}))


# Most specific suffix first: test files before policies.
KINDS: list[SourceKind] = [kind for kind in (_test_file_kind(), POLICY) if kind is not None]


def kind_of(path: Path) -> SourceKind:
    for kind in KINDS:
        if path.name.endswith(kind.suffix):
            return kind
    return POLICY  # a file named on the command line is read as a policy whatever its name


# ---- one file -----------------------------------------------------------------------------------------


@dataclass
class FileLayout:
    """One file: its bytes, and the bytes of its canonical layout (``None`` when it has errors)."""

    path: Path | None  # None: standard input
    display: str
    original: bytes = b""
    text: str = ""  # as the parser reads it (line breaks `\n`, no byte-order mark)
    formatted_text: str | None = None
    formatted: bytes | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.formatted is not None and self.formatted != self.original

    def diff(self) -> str:
        """A unified diff from the file to its canonical layout (in ``\\n`` lines)."""
        lines = difflib.unified_diff(self.text.splitlines(keepends=True), (self.formatted_text or "").splitlines(keepends=True),
                                     self.display, f"{self.display} (formatted)")
        text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
        return text or f"--- {self.display}\n+++ {self.display} (formatted)\n@@ line endings become \\n @@\n"


def layout_file(path: Path, display: str) -> FileLayout:
    """Read, parse and lay out one file; never raises for what the file holds."""
    return _laid_out(FileLayout(path, display), read_policy(path, display), lambda: _raw_bytes(path),
                     lambda _: kind_of(path))


STDIN = "<stdin>"  # how `perfrules fmt -` names what it reads, in diagnostics and diffs
_TEST_FILE_START = re.compile(r"(?:\s|#[^\n]*)*tests\b")


def layout_stdin(stream) -> FileLayout:
    """What ``perfrules fmt -`` reads (an editor's buffer): a test file when its first word
    is ``tests`` (language.md §15), else a policy; at most 10 MB, as a file."""
    data = stream.read(MAX_POLICY_BYTES + 1)

    def read() -> bytes:
        if len(data) > MAX_POLICY_BYTES:
            raise OSError("standard input holds more than 10 MB; a policy file holds at most 10 MB")
        return data

    def kind(source: SourceFile) -> SourceKind:
        tested = [kind for kind in KINDS if kind is not POLICY]
        return tested[0] if tested and _TEST_FILE_START.match(source.text) else POLICY

    return _laid_out(FileLayout(None, STDIN), read_source(read, STDIN), lambda: data, kind)


def _laid_out(result: FileLayout, read: tuple[SourceFile | None, Diagnostic | None], original: Callable[[], bytes],
              kind_for: Callable[[SourceFile], SourceKind]) -> FileLayout:
    source, problem = read
    if problem is not None:
        result.diagnostics = [problem]
        return result
    result.text = source.text
    result.original = original()
    kind = kind_for(source)
    tree, diagnostics = kind.parse(source)
    result.diagnostics = diagnostics
    if tree is None or any(item.severity is Severity.ERROR for item in diagnostics):
        return result
    result.formatted_text = canonical_layout(kind.parser(), source.text, kind.inline)
    _prove_same_meaning(kind, source, tree, result.formatted_text)
    result.formatted = _encoded(result.formatted_text, result.original)
    return result


def _raw_bytes(path: Path) -> bytes:
    with open(path, "rb") as handle:  # a regular file under 10 MB: read_policy said so
        return handle.read()


def _encoded(text: str, original: bytes) -> bytes:
    """The text as the file will hold it: UTF-8, with the original's byte-order mark and
    its ``\\r\\n`` line endings when every line break of the original was one."""
    crlf = b"\r\n" in original and original.count(b"\r\n") == original.count(b"\n")
    data = text.replace("\n", "\r\n" if crlf else "\n").encode("utf-8")
    return BOM + data if original.startswith(BOM) else data


def _prove_same_meaning(kind: SourceKind, source: SourceFile, tree: object, formatted: str) -> None:
    parser = kind.parser()
    before, after = lex(parser, source.text), lex(parser, formatted)
    problem = None
    if [(token.type, token.value) for token in before.tokens] != [(token.type, token.value) for token in after.tokens]:
        problem = "the tokens changed"
    elif [comment.text for comment in before.comments] != [comment.text for comment in after.comments]:
        problem = "the comments changed"
    elif not _same_tree(kind.parse(SourceFile(source.path, formatted))[0], tree):
        problem = "the syntax tree changed"
    elif canonical_layout(parser, formatted, kind.inline) != formatted:
        problem = "formatting twice gives another layout"
    if problem is not None:
        raise PrinterBug(f"{source.path}: the canonical layout was refused because {problem}; the file is unchanged")


def _same_tree(first: object | None, second: object) -> bool:
    try:
        return first == second
    except RecursionError:  # hundreds of nested calls: too deep to compare recursively; both
        return first is not None  # parsed from the same tokens (checked first), so the trees are the same


# ---- the files of a run -----------------------------------------------------------------------------------


def fmt_paths(arguments: list[str]) -> list[tuple[Path, str]]:
    """Each argument as (path, display); a folder stands for every ``*.perf`` file under it
    (policies and test files), outside hidden folders (``.git``, ``.venv``), in path order."""
    if "-" in arguments:
        raise PathProblem("-: standard input is formatted on its own (perfrules fmt -); give the files to another "
                          "perfrules fmt")
    return files_under(arguments, SUFFIX, f"the folder holds no *{SUFFIX} files", _not_definitions)


def _not_definitions(path: Path, argument: str) -> None:
    """A file named on the command line is read as a policy whatever its name, but metric
    definitions are not policies: reading one as a policy said "expected `policy`"."""
    from perfrules.metrics import is_definitions

    if is_definitions(path.name):
        raise PathProblem(f"{argument}: metric definitions (*.perfm) have no canonical layout; perfrules fmt lays "
                          f"out policies and their tests (*.perf) (hint: perfrules check {argument} checks it)")


@dataclass
class FmtRun:
    files: list[FileLayout]

    @property
    def changed(self) -> list[FileLayout]:
        return [item for item in self.files if item.changed]

    @property
    def with_errors(self) -> list[FileLayout]:
        return [item for item in self.files if item.formatted is None]


def lay_out(arguments: list[str]) -> FmtRun:
    """Every file of the run laid out and proven, before any is written."""
    return FmtRun([layout_file(path, display) for path, display in fmt_paths(arguments)])


def write_layout(item: FileLayout) -> str | None:
    """Replace the file by its canonical layout, whole or not at all; the reason it could
    not be written, or ``None``."""
    from perfrules.files import OutputProblem, write_atomically

    try:
        with write_atomically(item.path) as temporary:
            temporary.write_bytes(item.formatted)
    except OutputProblem as problem:
        return str(problem)
    except OSError as error:
        return f"cannot write {item.display}: {error.strerror or error}"
    return None


def summary(run: FmtRun, check: bool) -> str:
    """The last line of ``fmt``: how many files changed (or would), and how many could not be read."""
    def files(count: int) -> str:
        return f"{count} file{'' if count == 1 else 's'}"

    total, changed, broken = len(run.files), len(run.changed), len(run.with_errors)
    if changed:
        verb = "would be reformatted" if check else "reformatted"
        text = f"{files(changed)} of {total} {verb}"
    else:
        text = f"{files(total - broken)} already formatted" if total > broken else "nothing formatted"
    if broken:
        text += f"; {files(broken)} left untouched: {'it has' if broken == 1 else 'they have'} errors"
    if changed and check:
        text += " (hint: run perfrules fmt to rewrite them)"
    return text
