"""One ``perfrules test`` run: find the test files, load the policies they test, check, run, count.

Each test file is read like a policy, from disk or from a git revision (``REV:PATH``,
:mod:`perfrules.origins`), parsed with its own grammar and checked against the checked model
of the policy it names (next to it: in the same revision for a test file of one), which is loaded,
merged and checked exactly as ``perfrules check`` would (its diagnostics are reported as
its own, and a policy with errors runs no test).  A folder stands for every
``*.test.perf`` under it (hidden folders such as ``.git`` aside).  Coverage is gathered per
policy over every test of every file that tests it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePath

from perfrules.diagnostics import Diagnostic, Severity, did_you_mean, sorted_unique
from perfrules.origins import PolicyOrigin, origins_under
from perfrules.policytest import nodes
from perfrules.policytest.check import check_tests
from perfrules.policytest.coverage import DecisionLine, decision_lines
from perfrules.policytest.parser import parse_tests
from perfrules.policytest.run import Outcome, run_tests
from perfrules.workspace import (
    TEST_FILE_SUFFIX,
    LoadedPolicy,
    PathProblem,
    PolicySet,
    is_test_file,
    load_policies,
)


@dataclass
class PolicyCoverage:
    """A tested policy's decision lines and the keys of those some test covered."""

    loaded: LoadedPolicy
    lines: list[DecisionLine]
    covered: set = field(default_factory=set)

    @property
    def uncovered(self) -> list[DecisionLine]:
        return sorted((line for line in self.lines if line.key not in self.covered),
                      key=lambda line: (line.node.span.file or self.loaded.display, line.node.span.start))


@dataclass
class TestRun:
    files: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    outcomes: list[tuple[str, Outcome]] = field(default_factory=list)  # (test file, outcome), in file order
    coverage: dict[str, PolicyCoverage] = field(default_factory=dict)  # by the policy's display path

    @property
    def error_count(self) -> int:
        return sum(1 for item in self.diagnostics if item.severity is Severity.ERROR)

    @property
    def passed(self) -> int:
        return sum(1 for _, outcome in self.outcomes if outcome.passed)

    @property
    def failed(self) -> int:
        return len(self.outcomes) - self.passed


def test_file_origins(arguments: list[str]) -> list[PolicyOrigin]:
    """Each argument (a file, a folder or ``REV:PATH``) as where its test files are read from;
    a folder stands for every ``*.test.perf`` under it."""
    def named(path: PurePath, argument: str) -> None:
        if not is_test_file(path):
            raise PathProblem(f"{argument}: a test file is named NAME{TEST_FILE_SUFFIX} (hint: perfrules check "
                              f"checks a policy)")

    return origins_under(arguments or ["."], TEST_FILE_SUFFIX, f"the folder holds no *{TEST_FILE_SUFFIX} test files "
                         f"(hint: a policy's tests go in NAME{TEST_FILE_SUFFIX})", named)


def add_checked_test_files(policies, paths: list[str]) -> None:
    """Check the test files named (with the policies they test, not run) into ``policies``
    (a :class:`perfrules.workspace.LoadedPolicies`)."""
    tests = run_test_files(paths, execute=False)
    policies.test_files = tests.files
    policies.diagnostics = sorted_unique(policies.diagnostics + tests.diagnostics)
    policies.sources.update(tests.sources)


def run_test_files(arguments: list[str], today: date | None = None, execute: bool = True) -> TestRun:
    """Read, check and (unless ``execute`` is False: ``perfrules check``) run the test files."""
    run = TestRun()
    policies: dict[object, tuple[PolicySet | None, str]] = {}  # by identity: the set, or why it cannot be used
    diagnostics: list[Diagnostic] = []
    for origin in test_file_origins(arguments):
        display = origin.display
        run.files.append(display)
        source, problem = origin.read()
        if problem is not None:
            diagnostics.append(problem)
            continue
        run.sources[display] = source.text
        parsed = parse_tests(source)
        diagnostics += parsed.diagnostics
        if parsed.policy is None:
            continue
        loaded, found = _policy_under_test(parsed.policy, origin, policies, run)
        diagnostics += found
        if loaded is None:
            continue
        checked = check_tests(parsed.policy, loaded.model, today or date.today())
        diagnostics += [Diagnostic(item.code, item.message, item.span, item.hint, display)
                        for item in checked.diagnostics]
        if not execute or any(item.is_error for item in (*parsed.diagnostics, *checked.diagnostics)):
            continue
        coverage = run.coverage.setdefault(loaded.display, PolicyCoverage(loaded, decision_lines(loaded.model)))
        for outcome in run_tests(checked, loaded, display, source.text):
            run.outcomes.append((display, outcome))
            coverage.covered |= outcome.covered
    run.diagnostics = sorted_unique(diagnostics)
    return run


def _policy_under_test(tests: nodes.TestFile, origin: PolicyOrigin, policies: dict,
                       run: TestRun) -> tuple[LoadedPolicy | None, list[Diagnostic]]:
    """The checked policy a test file names, read next to it (in the same revision for a test
    file of one); else the PR901 that says why it cannot be used (the policy's own diagnostics
    are reported once, with the first file that tests it)."""
    name = tests.policy.value
    where = tests.policy.span

    def unusable(message: str, hint: str | None = None) -> list[Diagnostic]:
        return [Diagnostic("PR901", message, where, hint, origin.display)]

    if not name.endswith(".perf") or name.endswith(TEST_FILE_SUFFIX):
        return None, unusable(f"\"{name}\" is not a policy file", 'name the policy this file tests: tests for "policy.perf"')
    policy = origin.parent(name)
    if policy.is_folder():  # load_policies would take the folder's first policy
        return None, unusable(f"{policy.display} is a folder, not a policy file",
                              f'name one policy of it: tests for "{name}/policy.perf"')
    key = policy.identity
    new = key not in policies
    if new:
        try:
            policies[key] = (load_policies([policy]), "") if policy.exists() else (None, f"no policy file {policy.display}")
        except PathProblem:
            policies[key] = (None, f"no policy file {policy.display}")
    policy_set, missing = policies[key]
    if policy_set is None:
        siblings = [file for file in policy.neighbours(".perf") if not file.endswith(TEST_FILE_SUFFIX)]
        return None, unusable(missing, did_you_mean(name, siblings, quote='"') or "the path is relative to the test file")
    found = policy_set.diagnostics if new else []
    if new:
        run.sources.update(policy_set.sources)
    loaded = policy_set.files[0]
    if policy_set.error_count or loaded.model is None:
        count = policy_set.error_count
        return None, found + unusable(f"{loaded.display} has {count} error{'s' if count != 1 else ''}, so its tests "
                                      f"cannot run", f"run perfrules check {loaded.display}")
    if loaded.policy.is_base:
        return None, found + unusable(f"{loaded.display} is a base policy (it has no `roles`), which evaluates no one",
                                      "test a policy that extends it")
    return loaded, found
