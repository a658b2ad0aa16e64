"""Where a policy's bytes come from: a file on disk, or a file of a git revision.

Every command that reads policies names them the same ways (cli.md): a ``.perf`` file, a
folder of them, or ``REV:PATH`` — the file or folder PATH as it is in git revision REV
(:mod:`perfrules.git_revision`).  This module turns those arguments into
:class:`PolicyOrigin` objects, and the rest of perfrules asks an origin, never a path:
its text (:meth:`PolicyOrigin.read`), the origin of a file it ``extends`` (resolved next
to it: on disk next to the file, in a revision in the same revision), its identity (one
file read once per run), and its receipt (sha256, commit and "dirty" of the result's
stamps: a file of a revision is that revision's commit, never dirty).  A path that exists
on disk as written is read from disk, whatever it looks like.  A path that names nothing
is a command-line mistake (:class:`PathProblem`, exit 2), not a policy diagnostic.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from perfrules.diagnostics import Diagnostic
from perfrules.provenance import Provenance, file_provenance, file_sha256
from perfrules.source import MAX_POLICY_BYTES, SourceFile, read_policy, read_source


class PathProblem(Exception):
    """A path given on the command line that names no policy file."""


class PolicyOrigin:
    """Where one policy file is read from (see the module docstring)."""

    display: str  # how diagnostics and stamps name the file

    @property
    def path(self) -> PurePosixPath | Path:  # the file on disk, or the path inside its revision
        raise NotImplementedError

    @property
    def identity(self) -> object:
        """Equal for two origins of the same file (a parent shared by several children)."""
        raise NotImplementedError

    def read(self) -> tuple[SourceFile | None, Diagnostic | None]:
        raise NotImplementedError

    def parent(self, written: str) -> PolicyOrigin:
        """The file that ``extends "written"`` names, relative to this one."""
        raise NotImplementedError

    def provenance(self, text: str) -> Provenance:
        """The receipt of the bytes that were evaluated (``text``: what was read, in case
        a file on disk went away since)."""
        raise NotImplementedError

    def sha256(self, text: str) -> str:
        """The sha256 alone of :meth:`provenance`, without looking at the repository's history."""
        raise NotImplementedError


@dataclass(frozen=True)
class DiskFile(PolicyOrigin):
    file: Path
    display: str

    @property
    def path(self) -> Path:
        return self.file

    @property
    def identity(self) -> object:
        try:
            return self.file.resolve()
        except (OSError, RuntimeError):  # a loop of symbolic links: the path as given
            return self.file.absolute()

    def read(self) -> tuple[SourceFile | None, Diagnostic | None]:
        return read_policy(self.file, self.display)

    def parent(self, written: str) -> DiskFile:
        display = os.path.normpath(os.path.join(os.path.dirname(self.display), written))
        return DiskFile(self.file.parent / written, display)

    def provenance(self, text: str) -> Provenance:
        return file_provenance(self.file, fallback=text.encode("utf-8"))

    def sha256(self, text: str) -> str:
        return file_sha256(self.file, fallback=text.encode("utf-8"))


@dataclass(frozen=True)
class RevisionFile(PolicyOrigin):
    revision: object = field(compare=False)  # git_revision.Revision
    file: PurePosixPath
    display: str  # REV:PATH, PATH from the repository's top folder

    @property
    def path(self) -> PurePosixPath:
        return self.file

    @property
    def identity(self) -> object:
        return ("git", self.revision.commit, self.file.as_posix())

    def read(self) -> tuple[SourceFile | None, Diagnostic | None]:
        return read_source(self._bytes, self.display)

    def _bytes(self) -> bytes:
        return self.revision.read(self.file, MAX_POLICY_BYTES)

    def parent(self, written: str) -> RevisionFile:
        joined = posixpath.normpath(posixpath.join(self.file.parent.as_posix(), written))
        return RevisionFile(self.revision, PurePosixPath(joined), f"{self.revision.text}:{joined}")

    def provenance(self, text: str) -> Provenance:
        return Provenance(self.sha256(text), self.revision.commit, False)

    def sha256(self, text: str) -> str:
        return hashlib.sha256(self._bytes()).hexdigest()


class ReadFrom:
    """For a file read from an ``origin``: its display name and path (on disk, or in its revision)."""

    origin: PolicyOrigin

    @property
    def display(self) -> str:
        return self.origin.display

    @property
    def path(self) -> Path | PurePosixPath:
        return self.origin.path


def policy_origins(arguments: list[str], cwd: Path | None = None) -> list[PolicyOrigin]:
    """Each argument as origins of policy files: a folder (on disk or in a revision) stands
    for its ``*.perf`` files; each file once, in the order given."""
    from perfrules.git_revision import looks_like_revision

    found: list[PolicyOrigin] = []
    for argument in arguments:
        path = Path(argument)
        try:
            on_disk = path.exists() or path.is_symlink()
        except OSError as error:  # a name too long for the file system, for one
            raise PathProblem(f"{argument}: cannot be read: {error.strerror or error}") from None
        if not on_disk and looks_like_revision(argument):
            found.extend(_revision_origins(argument, cwd))
        else:
            found.extend(DiskFile(file, display) for file, display in policy_paths([argument]))
    unique: dict[object, PolicyOrigin] = {}
    for origin in found:
        unique.setdefault(origin.identity, origin)
    return list(unique.values())


def _revision_origins(argument: str, cwd: Path | None) -> list[RevisionFile]:
    from perfrules.git_revision import RevisionProblem, open_revision

    text, _, written = argument.partition(":")
    try:
        revision = open_revision(text, cwd)
    except RevisionProblem as problem:
        if "/" in text:  # rather a missing file with a colon in its path than a branch like feature/x
            raise PathProblem(f"{argument}: no such file or folder") from None
        raise PathProblem(f"{argument}: {problem}") from None
    try:
        path = revision.path_in_tree(written, cwd or Path.cwd())
    except RevisionProblem as problem:
        raise PathProblem(f"{argument}: {problem}") from None
    where = f"revision {text} (commit {revision.commit[:12]})"
    if revision.is_folder(path):
        files = [file for file in revision.files(path, ".perf") if not is_test_file(file)]
        if not files:
            raise PathProblem(f"{argument}: the folder holds no *.perf policy files in {where}")
        return [RevisionFile(revision, file, f"{text}:{file.as_posix()}") for file in files]
    if revision.entry(path) is None:
        shown = path.as_posix() or "."
        raise PathProblem(f"{argument}: '{shown}' is not in {where}")
    if is_test_file(path):
        raise _test_file_problem(argument, in_revision=True)
    problem = revision.not_a_file(path)
    if problem is not None:  # named on the command line: a command-line mistake, as on disk
        raise PathProblem(f"{argument}: {problem}")
    return [RevisionFile(revision, path, f"{text}:{path.as_posix()}")]


TEST_FILE_SUFFIX = ".test.perf"


def is_test_file(path: Path | PurePosixPath) -> bool:
    """A policy test file (``NAME.test.perf``, language.md §15): never read as a policy."""
    return path.name.endswith(TEST_FILE_SUFFIX)


def _test_file_problem(argument: str, in_revision: bool = False) -> PathProblem:
    hint = "perfrules test runs test files on disk" if in_revision else f"perfrules test {argument} runs it"
    return PathProblem(f"{argument}: this is a policy test file, not a policy (hint: {hint})")


def policy_paths(arguments: list[str]) -> list[tuple[Path, str]]:
    """Each argument as (path, display name) on disk; a folder stands for its ``*.perf`` files."""
    found: list[tuple[Path, str]] = []
    for argument in arguments:
        path = Path(argument)
        try:
            path.exists()
        except OSError as error:  # a name too long for the file system, for one
            raise PathProblem(f"{argument}: cannot be read: {error.strerror or error}") from None
        if path.is_dir():
            files = sorted(file for file in path.glob("*.perf") if not is_test_file(file))  # tests: `perfrules test`
            if not files:
                raise PathProblem(f"{argument}: the folder holds no *.perf policy files")
            found.extend((file, str(Path(argument) / file.name)) for file in files)
        elif is_test_file(path):
            raise _test_file_problem(argument)
        elif path.exists():
            found.append((path, argument))
        else:
            raise PathProblem(f"{argument}: no such file or folder")
    return each_once(found)


def each_once(found: list[tuple[Path, str]]) -> list[tuple[Path, str]]:
    """(path, display) pairs without a second name for the same file (links resolved)."""
    unique: dict[Path, tuple[Path, str]] = {}
    for path, display in found:
        unique.setdefault(Path(os.path.realpath(path)), (path, display))  # a link loop resolves without raising
    return list(unique.values())


def files_under(arguments: list[str], suffix: str, none_found: str,
                check_file=lambda path, argument: None) -> list[tuple[Path, str]]:
    """Each argument as (path, display) on disk; a folder stands for every ``*SUFFIX`` file
    under it, in its subfolders too except hidden ones (``.git``, ``.venv``), in path order;
    a file named on the command line goes through ``check_file``, which may refuse it with
    a :class:`PathProblem`; each file once.  ``none_found`` says what an empty folder lacks.
    ``perfrules test`` and ``perfrules fmt`` name their files this way."""
    found: list[tuple[Path, str]] = []
    for argument in arguments:
        path = Path(argument)
        try:
            is_folder, exists = path.is_dir(), path.exists()
        except OSError as error:  # a name too long for the file system, for one
            raise PathProblem(f"{argument}: cannot be read: {error.strerror or error}") from None
        if is_folder:
            files = []
            for folder, subfolders, names in os.walk(path):
                subfolders[:] = [name for name in subfolders if not name.startswith(".")]
                files.extend(Path(folder) / name for name in names if name.endswith(suffix))
            if not files:
                raise PathProblem(f"{argument}: {none_found}")
            found += [(file, os.path.normpath(os.path.join(argument, file.relative_to(path)))) for file in sorted(files)]
        elif not exists:
            raise PathProblem(f"{argument}: no such file or folder")
        else:
            check_file(path, argument)
            found.append((path, argument))
    return each_once(found)
