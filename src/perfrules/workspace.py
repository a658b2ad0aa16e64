"""Loading a set of policy files: paths to parsed, checked policies.

``perfrules check`` and every command that evaluates go through :func:`load_policies`:
it expands folders to their ``*.perf`` files (on disk, or in a git revision: :mod:`perfrules.origins`), reads and parses each, merges what each
inherits through ``extends`` (:mod:`perfrules.inheritance`), runs the checker on each
merged policy, then the checks across files, and returns everything with the
diagnostics sorted by file and position.  A policy without ``roles`` is a base: it is
checked, but only evaluated through the policies that extend it.  A path that does not exist is a
command-line mistake (:class:`PathProblem`, exit 2), not a policy diagnostic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from perfrules import ast
from perfrules.diagnostics import Diagnostic, Severity, sorted_unique
from perfrules.origins import (  # noqa: F401 - re-exported
    TEST_FILE_SUFFIX, PathProblem, PolicyOrigin, ReadFrom, is_test_file, policy_origins, policy_paths,
)
from perfrules.source import SourceFile

if TYPE_CHECKING:
    from perfrules.check.model import PolicyModel
    from perfrules.inheritance import PolicyFile


@dataclass
class LoadedPolicy(ReadFrom):
    """One policy file: its text (if readable), its AST with what it inherits merged in (if
    it parsed and merged), its checked model, and the files it inherits, nearest first."""

    origin: PolicyOrigin  # where its bytes come from: disk, or a git revision
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


def load_policies(arguments: list[str | PolicyOrigin]) -> PolicySet:
    from perfrules.check import CheckedPolicy, analyse_policy, check_policy_set
    from perfrules.inheritance import PolicyFiles, inherit

    result = PolicySet()
    files = PolicyFiles()
    diagnostics: list[Diagnostic] = []
    parsed: list[CheckedPolicy] = []
    for origin in policy_origins(arguments):
        own = files.load(origin)
        display = origin.display
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
        result.files.append(LoadedPolicy(origin, own.source, policy, model, parents))
    diagnostics.extend(files.diagnostics)
    diagnostics.extend(check_policy_set(parsed))
    result.diagnostics = sorted_unique(diagnostics)
    result.sources = files.texts
    return result
