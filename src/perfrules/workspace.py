"""Loading a set of policy files: paths to parsed, checked policies.

``perfrules check`` and every command that evaluates go through :func:`load_policies`:
it expands folders to their ``*.perf`` files, reads and parses each, runs the checker
on each one that parsed, then the checks across files, and returns everything with
the diagnostics sorted by file and position.  A path that does not exist is a
command-line mistake (:class:`PathProblem`, exit 2), not a policy diagnostic.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from perfrules import ast
from perfrules.diagnostics import Diagnostic, Severity, sorted_unique
from perfrules.source import SourceFile, read_policy

if TYPE_CHECKING:
    from perfrules.check.model import PolicyModel


class PathProblem(Exception):
    """A path given on the command line that names no policy file."""


@dataclass
class LoadedPolicy:
    """One policy file: its text (if readable), its AST (if it parsed) and its checked model."""

    path: Path
    display: str
    source: SourceFile | None
    policy: ast.Policy | None
    model: PolicyModel | None = None


@dataclass
class PolicySet:
    """The policies of one command run and every diagnostic about them."""

    files: list[LoadedPolicy] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def error_count(self) -> int:
        return sum(1 for item in self.diagnostics if item.severity is Severity.ERROR)

    @property
    def warning_count(self) -> int:
        return sum(1 for item in self.diagnostics if item.severity is Severity.WARNING)

    def source_text(self, display: str) -> str | None:
        for loaded in self.files:
            if loaded.display == display and loaded.source is not None:
                return loaded.source.text
        return None


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
            files = sorted(path.glob("*.perf"))
            if not files:
                raise PathProblem(f"{argument}: the folder holds no *.perf policy files")
            found.extend((file, str(Path(argument) / file.name)) for file in files)
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
    from perfrules.parser import parse_policy

    result = PolicySet()
    diagnostics: list[Diagnostic] = []
    parsed: list[CheckedPolicy] = []
    for path, display in policy_paths(arguments):
        source, problem = read_policy(path, display)
        policy = model = None
        if problem is not None:
            diagnostics.append(problem)
        else:
            parse = parse_policy(source)
            diagnostics.extend(parse.diagnostics)
            policy = parse.policy
            if policy is not None:
                model, found = analyse_policy(policy, display, source.text)
                diagnostics.extend(found)
                parsed.append(CheckedPolicy(display, policy))
        result.files.append(LoadedPolicy(path, display, source, policy, model))
    diagnostics.extend(check_policy_set(parsed))
    result.diagnostics = sorted_unique(diagnostics)
    return result
