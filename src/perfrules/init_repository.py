"""``perfrules init DIR``: a new policy repository for HR, from the starter files shipped with perfrules.

HR who keep policies in git need a layout that the commands, the pre-commit hooks and CI
agree on; ``init`` writes one (docs/workflow.md walks through it).  The starter files are
plain files in ``starter/`` (``perfrules/starter`` in the wheel): ``common/`` for every
language and one folder per language.  A path part written ``dot-NAME`` becomes ``.NAME``
(hidden files are easily lost by packaging tools), a file ending ``.j2`` is rendered with
Jinja (only the perfrules version goes in) and written without that ending, every other
file is copied byte for byte.  DIR must be new, empty, or hold nothing but ``.git``; an
existing file is never overwritten.  Everything is checked first, then written into a
staging folder and moved into place, so a failure leaves nothing behind.  A DIR outside any
git repository becomes one, made with dulwich: no git program runs and no hook is
installed; inside a repository nothing is initialised.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from perfrules.files import remove_stale_temporaries, signals_held, temporary_prefix, terminate_cleanly
from perfrules.resources import resource_dir

LANGUAGES = ("zh", "en")
RENDERED_SUFFIX = ".j2"
HIDDEN_PREFIX = "dot-"


class InitProblem(Exception):
    """DIR cannot become a policy repository (it is a file, not empty, or not writable); one line."""


@dataclass(frozen=True)
class Initialised:
    """What ``init`` did: the files written (relative, ``/``-separated) and the git state of DIR."""

    folder: Path
    files: list[str]
    git: str  # "made": a new repository; "existing": DIR held .git; "inside": DIR is in the repository at enclosing
    enclosing: Path | None = None


def starter_files(language: str) -> dict[str, bytes]:
    """Every file of a new repository in ``language``: relative path → bytes, sorted by path."""
    from jinja2 import Environment, StrictUndefined

    from perfrules import __version__

    starter = resource_dir("starter")
    environment = Environment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
    files: dict[str, bytes] = {}
    for root in (starter / "common", starter / language):
        for source in sorted(path for path in root.rglob("*") if path.is_file()):
            parts = [("." + part[len(HIDDEN_PREFIX):]) if part.startswith(HIDDEN_PREFIX) else part
                     for part in source.relative_to(root).parts]
            content = source.read_bytes()
            if parts[-1].endswith(RENDERED_SUFFIX):
                parts[-1] = parts[-1][:-len(RENDERED_SUFFIX)]
                content = environment.from_string(content.decode("utf-8")).render(version=__version__).encode("utf-8")
            files["/".join(parts)] = content
    return dict(sorted(files.items()))


def init_repository(folder: Path, language: str, shown: str | None = None) -> Initialised:
    """Write a new policy repository into ``folder`` (``shown``: its name in messages)."""
    shown = shown or str(folder)
    files = starter_files(language)
    existed = _check_target(folder, shown, files)
    git, enclosing = _git_state(folder)
    parent = folder if existed else folder.parent
    made_parents = _make_parents(parent, shown)
    try:
        _write(files, folder, parent, existed, initialise=git == "made")
    except OSError as error:
        for made in reversed(made_parents):
            try:
                made.rmdir()
            except OSError:
                pass
        raise InitProblem(f"{shown}: cannot be written: {error.strerror or error}; nothing was written") from None
    return Initialised(folder, list(files), git, enclosing)


def _check_target(folder: Path, shown: str, files: dict[str, bytes]) -> bool:
    """Whether ``folder`` exists; an :class:`InitProblem` when it cannot take a new repository."""
    if not os.path.lexists(folder):
        return False
    if not folder.is_dir():
        kind = "a file" if folder.is_file() else "a link to nothing, a device or a pipe"
        raise InitProblem(f"{shown}: is {kind}, not a folder; give the name of a new or empty folder")
    try:
        entries = [entry for entry in os.listdir(folder) if entry != ".git"]
    except OSError as error:
        raise InitProblem(f"{shown}: cannot be read: {error.strerror or error}") from None
    if entries:
        clashes = [relative for relative in files if os.path.lexists(folder / relative)]
        if clashes:
            raise InitProblem(f"{shown}: would overwrite {', '.join(clashes)}; nothing was written "
                              "(hint: give the name of a new or empty folder)")
        raise InitProblem(f"{shown}: the folder is not empty; nothing was written "
                          "(hint: perfrules init starts a repository in a new or empty folder)")
    return True


def _git_state(folder: Path) -> tuple[str, Path | None]:
    """("existing", None) when ``folder`` holds .git, ("inside", root) when a repository
    above it holds it, else ("made", None): ``folder`` will become a repository."""
    from dulwich.errors import NotGitRepository
    from dulwich.repo import Repo

    if os.path.lexists(folder / ".git"):
        return "existing", None
    nearest = folder.absolute()
    while not nearest.exists() and nearest != nearest.parent:
        nearest = nearest.parent
    try:
        with Repo.discover(str(nearest)) as repository:
            return "inside", Path(repository.path)
    except NotGitRepository:
        return "made", None
    except Exception:  # noqa: BLE001 - a repository dulwich cannot read is still a repository: make none
        return "inside", None


def _make_parents(parent: Path, shown: str) -> list[Path]:
    """Make the missing folders above DIR (as ``git init a/b/c`` does); the ones made, outermost first."""
    missing = []
    place = parent.absolute()
    while not os.path.lexists(place):
        missing.append(place)
        place = place.parent
    missing.reverse()
    for index, folder in enumerate(missing):
        try:
            folder.mkdir()
        except OSError as error:
            for made in reversed(missing[:index]):
                made.rmdir()
            raise InitProblem(f"{shown}: cannot make the folder {folder}: {error.strerror or error}") from None
    return missing


def _write(files: dict[str, bytes], folder: Path, parent: Path, existed: bool, initialise: bool) -> None:
    """Write every file into a staging folder in ``parent``, then move it into place whole."""
    remove_stale_temporaries(parent)
    with terminate_cleanly():
        staging = None
        try:
            with signals_held():  # a signal between making the staging folder and knowing its name would leak it
                staging = Path(tempfile.mkdtemp(prefix=temporary_prefix(folder.name or "init"), dir=parent))
            for relative, content in files.items():
                target = staging / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            if initialise:
                from dulwich.repo import Repo

                Repo.init(str(staging)).close()
            with signals_held():
                if existed:
                    _move_entries(staging, folder)
                else:
                    umask = os.umask(0)
                    os.umask(umask)
                    os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes a private folder; DIR is an ordinary one
                    os.rename(staging, folder)
                    staging = None
        finally:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)


def _move_entries(staging: Path, folder: Path) -> None:
    """Move the staging folder's entries into the existing ``folder``; all or none of them."""
    moved: list[Path] = []
    try:
        for entry in sorted(os.listdir(staging)):
            target = folder / entry
            if os.path.lexists(target):  # appeared since the check: never overwrite
                raise FileExistsError(0, f"{entry} appeared while perfrules was writing")
            os.rename(staging / entry, target)
            moved.append(target)
    except BaseException:
        for target in reversed(moved):
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
        raise


def summary(made: Initialised, shown: str) -> str:
    """What ``init`` tells the person who ran it (stderr): the files, git, what to do next."""
    lines = [f"wrote {len(made.files)} files to {shown}:"]
    lines += [f"  {relative}" for relative in made.files]
    if made.git == "made":
        lines.append(f"made {shown} a git repository (nothing is committed yet)")
    elif made.git == "existing":
        lines.append(f"{shown} already is a git repository; nothing was committed")
    else:
        where = f" ({made.enclosing})" if made.enclosing else ""
        lines.append(f"{shown} is inside a git repository{where}, so no new one was made; "
                     ".pre-commit-config.yaml and .github/workflows/ take effect only at a repository's root")
    enter = "" if made.folder.absolute() == Path.cwd() else f"cd {shown}, "
    lines.append(f"next: {enter}read README.md, then: git add -A && git commit -m \"first version of the policies\"")
    return "\n".join(lines)
