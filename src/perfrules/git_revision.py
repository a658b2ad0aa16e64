"""Reading files as they are in a git revision (``HEAD~1:policies/``), with dulwich.

cli.md: wherever a command takes POLICIES, ``REV:PATH`` names the file or folder PATH as
it is in revision REV of the repository that holds the current directory.  The
repository is read as plain data (objects and refs), never by running git and never by
reading its config for meaning: perfrules is run on other people's policy repositories,
whose config can make git run programs (see :mod:`perfrules.provenance`).  The revisions
people type are understood: a branch, a tag (annotated tags are peeled to their commit),
``HEAD``, a full or short (4+ hex digits) commit id, each followed by any number of
``~N``, ``^N``, ``~`` and ``^`` (dulwich resolves the name; the parent walk is here).
PATH is relative to the repository's top folder, as in git; ``./`` or ``../`` at its
start make it relative to the current directory instead.  Every failure is a
:class:`RevisionProblem` with one sentence (a command-line mistake, exit 2).
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# REV~N, REV^N, REV~ and REV^ (the suffixes git accepts after a revision name).
_SUFFIX = re.compile(r"(~|\^)(\d*)")
_NAME = re.compile(r"[^~^]+")
TREE_MODE, FILE_MODE, LINK_MODE = 0o040000, 0o100000, 0o120000


class RevisionProblem(Exception):
    """A revision or path that the repository does not hold (one sentence)."""


def looks_like_revision(argument: str) -> bool:
    """Whether an argument that is not on disk is written ``REV:PATH`` (a branch may hold a
    ``/``: ``feature/x:policies/``)."""
    revision, colon, _ = argument.partition(":")
    return bool(colon and revision and "\\" not in revision)


@dataclass(frozen=True)
class Revision:
    """One resolved revision of one repository: what the user typed and the commit it names."""

    repository: object  # dulwich Repo, kept open for the run
    text: str
    commit: str  # 40 hex digits
    tree: bytes
    root: Path  # the repository's top folder (for paths relative to the current directory)

    def path_in_tree(self, written: str, cwd: Path) -> PurePosixPath:
        """PATH of ``REV:PATH`` as a path from the repository's top folder."""
        path = written
        if written.startswith(("./", "../")) or written in (".", ".."):
            try:
                here = cwd.resolve().relative_to(self.root.resolve())
            except ValueError:
                raise RevisionProblem(f"the current folder is outside the repository at {self.root}") from None
            path = posixpath.join(here.as_posix(), written)
        normal = posixpath.normpath(path.strip("/") or ".")
        if normal == ".." or normal.startswith("../"):
            raise RevisionProblem(f"'{written}' is outside the repository")
        return PurePosixPath(normal) if normal != "." else PurePosixPath()

    def entry(self, path: PurePosixPath) -> tuple[int, bytes] | None:
        """(mode, object id) of a path in the revision's tree, or None; the top folder is the tree
        (a folder whose tree is missing or is no tree holds nothing)."""
        mode, object_id = TREE_MODE, self.tree
        for part in path.parts:
            if mode & 0o170000 != TREE_MODE:
                return None
            try:
                mode, object_id = self._tree(object_id, path)[os.fsencode(part)]
            except (KeyError, RevisionProblem):
                return None
        return mode, object_id

    def _stored(self, object_id: bytes, what: str, show: str):
        """The object ``object_id`` of the store; a RevisionProblem when the repository lacks it
        (a partial clone has trees without their files' contents; perfrules fetches nothing)."""
        try:
            return self.repository.object_store[object_id]
        except KeyError:
            raise RevisionProblem(
                f"{what} (object {object_id.decode()[:12]}) is not in the repository at {self.root} (a partial or "
                f"damaged clone) (hint: let git fetch it, for example with {show}, or name a revision whose "
                f"files are there)") from None

    def _tree(self, object_id: bytes, folder: PurePosixPath):
        from dulwich.objects import Tree

        shown = folder.as_posix() if folder.parts else "."
        tree = self._stored(object_id, f"the folder {shown}", f"git ls-tree {self.text} {shown}/")
        if not isinstance(tree, Tree):
            raise RevisionProblem(f"the folder {shown} of revision {self.text} is a {tree.type_name.decode()} "
                                  f"in the repository at {self.root}, not a tree (a damaged repository)")
        return tree

    def is_folder(self, path: PurePosixPath) -> bool:
        found = self.entry(path)
        return found is not None and found[0] & 0o170000 == TREE_MODE

    def files(self, folder: PurePosixPath, suffix: str) -> list[PurePosixPath]:
        """The files directly in ``folder`` whose names end in ``suffix``, sorted by name
        (RevisionProblem when the folder's tree is missing)."""
        return sorted(self._listed(folder, suffix, below=False))

    def files_below(self, folder: PurePosixPath, suffix: str) -> list[PurePosixPath]:
        """The files under ``folder``, in its subfolders too except hidden ones (``.git``,
        ``.venv``), whose names end in ``suffix``, in path order (as ``perfrules test`` on disk)."""
        return sorted(self._listed(folder, suffix, below=True))

    def _listed(self, folder: PurePosixPath, suffix: str, below: bool) -> list[PurePosixPath]:
        """One walk down from the folder's tree (never again from the top: a hostile folder may
        be thousands of levels deep), each subfolder's tree read once."""
        found = self.entry(folder)
        if found is None or found[0] & 0o170000 != TREE_MODE:
            return []
        listed, pending = [], [(folder, found[1])]
        while pending:
            path, tree_id = pending.pop()
            for item in self._tree(tree_id, path).iteritems():
                name = os.fsdecode(item.path)
                if item.mode & 0o170000 != TREE_MODE:
                    if item.path.endswith(suffix.encode()):
                        listed.append(path / name)
                elif below and not name.startswith("."):
                    pending.append((path / name, item.sha))
        return listed

    def not_a_file(self, path: PurePosixPath) -> str | None:
        """Why an entry of the revision that is no folder is not a file to read (a symbolic link,
        naming what it points to, or a submodule), or None for a regular file."""
        found = self.entry(path)
        if found is None or found[0] & 0o170000 in (FILE_MODE, TREE_MODE):
            return None
        if found[0] & 0o170000 == LINK_MODE:
            target = os.fsdecode(self.repository.object_store[found[1]].as_raw_string())
            pointed = (path.parent / target).as_posix()
            return (f"it is a symbolic link to '{target}' in revision {self.text}, not a policy file "
                    f"(hint: name the file it points to, {self.text}:{pointed})")
        return f"it is not a file in revision {self.text} (a submodule)"

    def read(self, path: PurePosixPath, limit: int) -> bytes:
        """The bytes of a file of the revision; OSError with a sentence when it cannot be read."""
        found = self.entry(path)
        if found is None:
            raise FileNotFoundError(f"not in revision {self.text} (commit {self.commit[:12]})")
        mode, object_id = found
        if mode & 0o170000 == TREE_MODE:
            raise IsADirectoryError(str(path))
        problem = self.not_a_file(path)
        if problem is not None:
            raise OSError(problem)
        try:
            blob = self._stored(object_id, "its content", f"git show {self.text}:{path.as_posix()}")
        except RevisionProblem as problem:
            raise OSError(str(problem)) from None
        data = blob.as_raw_string()
        if len(data) > limit:
            raise OSError(f"the file has {len(data):,} bytes; a policy file holds at most 10 MB")
        return data


def open_revision(text: str, cwd: Path | None = None) -> Revision:
    """The revision ``text`` of the repository holding ``cwd`` (default: the current directory)."""
    from dulwich import errors
    from dulwich.repo import Repo

    cwd = cwd or Path.cwd()
    try:
        repository = Repo.discover(str(cwd))
    except errors.NotGitRepository:
        raise RevisionProblem(f"'{text}' names a git revision, but {cwd} is not in a git repository") from None
    except Exception as error:  # noqa: BLE001 - a repository dulwich cannot read: say so, never a traceback
        raise RevisionProblem(f"the git repository holding {cwd} cannot be read: {error}") from None
    root = Path(repository.path)
    try:
        commit = _resolve(repository, text)
    except RevisionProblem:
        raise
    except Exception as error:  # noqa: BLE001 - damaged objects or refs
        raise RevisionProblem(f"unknown revision '{text}' in the repository at {root}: {error}") from None
    return Revision(repository, text, commit.id.decode("ascii"), commit.tree, root)


def _resolve(repository, text: str):
    """The commit that ``text`` names (NAME followed by ~N / ^N suffixes)."""
    name = _NAME.match(text)
    if name is None:
        raise _unknown(repository, text)
    commit = _named_commit(repository, name.group(0), text)
    position = name.end()
    while position < len(text):
        suffix = _SUFFIX.match(text, position)
        if suffix is None:
            raise _unknown(repository, text)
        operator, number = suffix.group(1), int(suffix.group(2) or 1)
        position = suffix.end()
        if operator == "~":
            for _ in range(number):
                commit = _parent(repository, commit, 1, text)
        elif number:  # ^0 is the commit itself
            commit = _parent(repository, commit, number, text)
    return commit


def _named_commit(repository, name: str, text: str):
    from dulwich.objects import Commit, Tag
    from dulwich.objectspec import parse_commit
    from dulwich.refs import check_ref_format

    hexadecimal = re.fullmatch(r"[0-9a-fA-F]{4,40}", name) is not None
    if not hexadecimal and name not in ("HEAD", "@") and not check_ref_format(b"refs/heads/" + name.encode("utf-8")):
        raise _unknown(repository, text)  # never a file path: refs are looked up by name only
    try:
        found = parse_commit(repository, b"HEAD" if name == "@" else name.encode("utf-8"))
    except KeyError:
        raise _unknown(repository, text) from None
    except Exception as error:  # dulwich's AmbiguousShortId is no ValueError
        if type(error).__name__ == "AmbiguousShortId" or "ambiguous" in str(error).lower():
            raise RevisionProblem(f"the short commit id '{name}' is ambiguous in the repository at "
                                  f"{repository.path}; give more digits") from None
        if isinstance(error, ValueError):
            raise RevisionProblem(f"'{name}' does not name a commit ({error})") from None
        raise
    while isinstance(found, Tag):  # an annotated tag (older dulwich does not peel it)
        found = repository.object_store[found.object[1]]
    if not isinstance(found, Commit):
        raise RevisionProblem(f"'{name}' names a {found.type_name.decode()}, not a commit")
    return found


def _parent(repository, commit, number: int, text: str):
    parents = commit.parents
    if number > len(parents):
        has = {0: "no parent", 1: "one parent"}.get(len(parents), f"{len(parents)} parents")
        raise RevisionProblem(f"unknown revision '{text}': commit {commit.id.decode()[:12]} has {has}")
    try:
        return repository.object_store[parents[number - 1]]
    except KeyError:
        raise RevisionProblem(f"unknown revision '{text}': the history stops at commit {commit.id.decode()[:12]} "
                              f"(a shallow clone)") from None


def _unknown(repository, text: str) -> RevisionProblem:
    return RevisionProblem(f"unknown revision '{text}' in the repository at {repository.path} "
                           f"(give a branch, a tag, a commit id, or HEAD~N)")
