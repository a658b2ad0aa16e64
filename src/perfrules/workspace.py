"""Loading a set of policy files: paths to parsed, checked policies.

``perfrules check`` and every command that evaluates go through :func:`load_policies`:
it expands folders to their ``*.perf`` files, reads and parses each, merges what each
inherits through ``extends`` (:mod:`perfrules.inheritance`), runs the checker on each
merged policy, then the checks across files, and returns everything with the
diagnostics sorted by file and position.  A policy without ``roles`` is a base: it is
checked, but only evaluated through the policies that extend it.  A path that does not exist is a
command-line mistake (:class:`PathProblem`, exit 2), not a policy diagnostic.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from perfrules import ast
from perfrules.diagnostics import Diagnostic, Severity, sorted_unique
from perfrules.source import SourceFile

if TYPE_CHECKING:
    from perfrules.check.model import PolicyModel
    from perfrules.inheritance import PolicyFile


class PathProblem(Exception):
    """A path given on the command line that names no policy file."""


@dataclass
class LoadedPolicy:
    """One policy file: its text (if readable), its AST with what it inherits merged in (if
    it parsed and merged), its checked model, and the files it inherits, nearest first."""

    path: Path
    display: str
    source: SourceFile | None
    policy: ast.Policy | None
    model: PolicyModel | None = None
    parents: list[PolicyFile] = field(default_factory=list)


@dataclass
class PolicySet:
    """The policies of one command run and every diagnostic about them."""

    files: list[LoadedPolicy] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # every file read (parents too), by display
    test_files: list[str] = field(default_factory=list)  # test files `check` was given (perfrules.policytest)

    @property
    def evaluated(self) -> list[LoadedPolicy]:
        """The policies that evaluate data rows: all but the bases (policies without roles)."""
        return [loaded for loaded in self.files if loaded.policy is not None and not loaded.policy.is_base]

    @property
    def error_count(self) -> int:
        return sum(1 for item in self.diagnostics if item.severity is Severity.ERROR)

    @property
    def warning_count(self) -> int:
        return sum(1 for item in self.diagnostics if item.severity is Severity.WARNING)

    def source_text(self, display: str) -> str | None:
        return self.sources.get(display)


TEST_FILE_SUFFIX = ".test.perf"


def is_test_file(path: Path) -> bool:
    """A policy test file (``NAME.test.perf``, language.md §15): never read as a policy."""
    return path.name.endswith(TEST_FILE_SUFFIX)


def policy_paths(arguments: list[str]) -> list[tuple[Path, str]]:
    """Each argument as (path, display name); a folder stands for its ``*.perf`` files."""
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
            raise PathProblem(f"{argument}: this is a policy test file, not a policy (hint: perfrules test {argument} runs it)")
        elif path.exists():
            found.append((path, argument))
        else:
            raise PathProblem(f"{argument}: no such file or folder")
    unique: dict[Path, tuple[Path, str]] = {}
    for path, display in found:
        unique.setdefault(Path(os.path.realpath(path)), (path, display))  # a link loop resolves without raising
    return list(unique.values())


def load_policies(arguments: list[str]) -> PolicySet:
    from perfrules.check import CheckedPolicy, analyse_policy, check_policy_set
    from perfrules.inheritance import PolicyFiles, inherit

    result = PolicySet()
    files = PolicyFiles()
    diagnostics: list[Diagnostic] = []
    parsed: list[CheckedPolicy] = []
    for path, display in policy_paths(arguments):
        own = files.load(path, display)
        policy = model = None
        parents = []
        if own.problem is not None:
            diagnostics.append(own.problem)
        elif own.policy is not None:
            inheritance = inherit(own, files)
            diagnostics.extend(inheritance.diagnostics)
            policy, parents = inheritance.policy, inheritance.parents
            if policy is not None:
                model, found = analyse_policy(policy, display, own.source.text,
                                              {parent.display: parent.source.text for parent in parents})
                diagnostics.extend(found)
                if not policy.is_base:  # a base has no rows of its own: no role or name to claim
                    parsed.append(CheckedPolicy(display, policy))
        result.files.append(LoadedPolicy(path, display, own.source, policy, model, parents))
    diagnostics.extend(files.diagnostics)
    diagnostics.extend(check_policy_set(parsed))
    result.diagnostics = sorted_unique(diagnostics)
    result.sources = files.texts
    return result
