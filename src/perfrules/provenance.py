"""Where a file came from: its sha256 and, in git, the last commit that touched it and
whether the bytes on disk are that commit's.

Results decide pay, so each one carries a receipt (cli.md: ``sha256``, ``git_commit``,
``git_dirty``, ``data_sha256``).  The repository is read as plain data with dulwich, never
by running git: a cloned repository's own config can make git run programs
(``core.fsmonitor``, ``gpg.program`` with ``log.showSignature``, filter drivers, hooks),
and perfrules is run on other people's policy repositories.  Nothing configured there is
read for its meaning, only objects and refs.  "Dirty" compares bytes: the file on disk
against the blob of HEAD, without line-ending or filter conversions, because the receipt
vouches for the exact bytes that were evaluated.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Provenance:
    sha256: str
    git_commit: str | None  # the last commit that gave the file its content in HEAD; None when not in HEAD
    git_dirty: bool | None  # the bytes differ from HEAD's, or the file is not committed; None outside git


def file_provenance(path: Path, fallback: bytes | None = None) -> Provenance:
    """The receipt of ``path``; ``fallback``: the bytes to stamp if the file cannot be read any more."""
    data = _file_bytes(path, fallback)
    commit, dirty = git_state(path, data)
    return Provenance(hashlib.sha256(data).hexdigest(), commit, dirty)


def file_sha256(path: Path, fallback: bytes | None = None) -> str:
    """The sha256 alone of :func:`file_provenance` (no repository is read)."""
    return hashlib.sha256(_file_bytes(path, fallback)).hexdigest()


def _file_bytes(path: Path, fallback: bytes | None) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        if fallback is None:
            raise
        return fallback


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes, read in pieces (data files can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for piece in iter(lambda: handle.read(1 << 20), b""):
            digest.update(piece)
    return digest.hexdigest()


def git_state(path: Path, data: bytes) -> tuple[str | None, bool | None]:
    """(last commit touching ``path`` in HEAD, whether ``data`` differs from it).

    (None, None) outside a git repository (or in one that cannot be read); (None, True)
    for a file that HEAD does not hold (untracked, new, or no commit yet).
    """
    from dulwich import errors
    from dulwich.repo import Repo

    location = path.parent.resolve() / path.name
    try:
        repository = Repo.discover(str(location.parent))
    except errors.NotGitRepository:
        return None, None
    except Exception:  # noqa: BLE001 - a repository format dulwich does not know: no claim either way
        return None, None
    unreadable = (OSError, ValueError, KeyError, errors.ChecksumMismatch, errors.WrongObjectException,
                  errors.FileFormatException, errors.ApplyDeltaError, errors.ObjectMissing)
    try:
        with repository:
            return _state_in(repository, location, data)
    except unreadable:  # a damaged repository: no claim either way
        return None, None


def _state_in(repository, location: Path, data: bytes) -> tuple[str | None, bool | None]:
    if repository.bare:
        return None, None
    try:
        relative = location.relative_to(Path(repository.path).resolve())
    except ValueError:
        return None, None
    parts = tuple(os.fsencode(part) for part in relative.parts)
    if not parts or parts[0] == b".git":
        return None, None
    store = repository.object_store
    try:
        head = store[repository.head()]
    except KeyError:  # no commit yet
        return None, True
    lookup = _EntryLookup(store, parts)
    entry = lookup(head.tree)
    if entry is None:
        return None, True
    commit = _last_change(store, head, entry, lookup)
    mode, blob = entry
    dirty = (mode & 0o170000) != 0o100000 or store[blob].as_raw_string() != data
    return commit.id.decode("ascii"), dirty


class _EntryLookup:
    """(mode, blob id) of one path in a tree, or None; subtrees shared by commits are read once."""

    def __init__(self, store, parts: tuple[bytes, ...]):
        self.store = store
        self.parts = parts
        self.seen: dict[tuple[bytes, int], tuple[int, bytes] | None] = {}

    def __call__(self, tree_id: bytes, depth: int = 0) -> tuple[int, bytes] | None:
        key = (tree_id, depth)
        if key not in self.seen:
            try:
                mode, object_id = self.store[tree_id][self.parts[depth]]
            except KeyError:
                found = None
            else:
                if depth + 1 == len(self.parts):
                    found = (mode, object_id)
                elif mode & 0o170000 == 0o040000:
                    found = self(object_id, depth + 1)
                else:
                    found = None
            self.seen[key] = found
        return self.seen[key]


def _last_change(store, commit, entry, lookup):
    """The commit that gave the path this entry: go to the first parent holding the same
    entry until none does (the history simplification of ``git log -1 -- PATH``)."""
    while True:
        for parent_id in commit.parents:
            try:
                parent = store[parent_id]
            except KeyError:  # beyond the history of a shallow clone
                continue
            if lookup(parent.tree) == entry:
                commit = parent
                break
        else:
            return commit
