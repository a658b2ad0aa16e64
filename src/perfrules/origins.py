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

    def exists(self) -> bool:
        """Whether the path names something (a file or a folder)."""
        raise NotImplementedError

    def is_folder(self) -> bool:
        raise NotImplementedError

    def neighbours(self, suffix: str) -> list[str]:
        """The names of the files beside this one ending in ``suffix`` (for "did you mean")."""
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

    def exists(self) -> bool:
        try:
            return self.file.exists()
        except OSError:  # a name too long for the file system names nothing
            return False

    def is_folder(self) -> bool:
        try:
            return self.file.is_dir()
        except OSError:
            return False

    def neighbours(self, suffix: str) -> list[str]:
        return [file.name for file in self.file.parent.glob(f"*{suffix}")]


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

    def exists(self) -> bool:
        return self.revision.entry(self.file) is not None

    def is_folder(self) -> bool:
        return self.revision.is_folder(self.file)

    def neighbours(self, suffix: str) -> list[str]:
        return [file.name for file in self.revision.files(self.file.parent, suffix)]


class ReadFrom:
    """For a file read from an ``origin``: its display name and path (on disk, or in its revision)."""

    origin: PolicyOrigin

    @property
    def display(self) -> str:
        return self.origin.display

    @property
    def path(self) -> Path | PurePosixPath:
        return self.origin.path


def policy_origins(arguments: list[str | PolicyOrigin], cwd: Path | None = None) -> list[PolicyOrigin]:
    """Each argument as origins of policy files: a folder (on disk or in a revision) stands
    for its ``*.perf`` files, an origin for itself; each file once, in the order given."""
    found: list[PolicyOrigin] = []
    for argument in arguments:
        if isinstance(argument, PolicyOrigin):
            found.append(argument)
        elif _names_revision(argument):
            found.extend(_revision_origins(argument, cwd))
        else:
            found.extend(DiskFile(file, display) for file, display in policy_paths([argument]))
    return _each_origin_once(found)


def _each_origin_once(found: list[PolicyOrigin]) -> list[PolicyOrigin]:
    unique: dict[object, PolicyOrigin] = {}
    for origin in found:
        unique.setdefault(origin.identity, origin)
    return list(unique.values())


def _names_revision(argument: str) -> bool:
    """``REV:PATH`` that is not a path on disk as written."""
    from perfrules.git_revision import looks_like_revision

    path = Path(argument)
    try:
        on_disk = path.exists() or path.is_symlink()
    except OSError as error:  # a name too long for the file system, for one
        raise PathProblem(f"{argument}: cannot be read: {error.strerror or error}") from None
    return not on_disk and looks_like_revision(argument)


def _revision_path(argument: str, cwd: Path | None):
    """``REV:PATH`` as (the revision, REV as written, PATH from the repository's top, where it
    is said in messages); an unknown revision or a path outside the repository is a PathProblem."""
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
    return revision, text, path, f"revision {text} (commit {revision.commit[:12]})"


def _revision_origins(argument: str, cwd: Path | None) -> list[RevisionFile]:
    def policy(path: PurePosixPath, argument: str) -> None:
        if is_test_file(path):
            raise _test_file_problem(argument)

    return _revision_files(argument, cwd, lambda revision, folder: [
        file for file in revision.files(folder, ".perf") if not is_test_file(file)],
        lambda where: f"the folder holds no *.perf policy files in {where}", policy)


def _revision_files(argument: str, cwd: Path | None, listed, none_found, check_file) -> list[RevisionFile]:
    """``REV:PATH`` as files of the revision: a folder's as ``listed(revision, folder)`` gives
    them (none: ``none_found(where)`` says what it lacks), or the file after ``check_file``."""
    from perfrules.git_revision import RevisionProblem

    revision, text, path, where = _revision_path(argument, cwd)
    if revision.is_folder(path):
        try:
            files = listed(revision, path)
        except RevisionProblem as problem:  # a subfolder's tree that is missing or damaged
            raise PathProblem(f"{argument}: {problem}") from None
        if not files:
            raise PathProblem(f"{argument}: {none_found(where)}")
    elif revision.entry(path) is None:
        raise PathProblem(f"{argument}: '{path.as_posix() or '.'}' is not in {where}")
    else:
        check_file(path, argument)
        problem = revision.not_a_file(path)
        if problem is not None:  # named on the command line: a command-line mistake, as on disk
            raise PathProblem(f"{argument}: {problem}")
        files = [path]
    return [RevisionFile(revision, file, f"{text}:{file.as_posix()}") for file in files]


TEST_FILE_SUFFIX = ".test.perf"


def is_test_file(path: Path | PurePosixPath) -> bool:
    """A policy test file (``NAME.test.perf``, language.md §15): never read as a policy."""
    return path.name.endswith(TEST_FILE_SUFFIX)


def is_test_argument(argument: str) -> bool:
    """A test file named on the command line (``check``): on disk, or ``REV:PATH``."""
    return is_test_file(Path(argument)) and not Path(argument).is_dir()


def _test_file_problem(argument: str) -> PathProblem:
    return PathProblem(f"{argument}: this is a policy test file, not a policy (hint: perfrules test {argument} runs it)")


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


def origins_under(arguments: list[str], suffix: str, none_found: str,
                  check_file=lambda path, argument: None, cwd: Path | None = None) -> list[PolicyOrigin]:
    """As :func:`files_under`, each argument also ``REV:PATH``: a file of a git revision, or a
    folder of it standing for every ``*SUFFIX`` file under it (hidden subfolders aside)."""
    found: list[PolicyOrigin] = []
    for argument in arguments:
        if _names_revision(argument):
            found += _revision_files(argument, cwd, lambda revision, folder: revision.files_below(folder, suffix),
                                     lambda where: f"in {where}, {none_found}", check_file)
        else:
            found += [DiskFile(file, display) for file, display in files_under([argument], suffix, none_found, check_file)]
    return _each_origin_once(found)


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
