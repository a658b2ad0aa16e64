"""The inheritance pass: a policy that ``extends`` another becomes one merged policy tree.

Spec §12.  ``policy "x" extends "file.perf"`` names a parent, relative to the file that
says it; a parent may extend another.  Only ``*.perf`` files are read as parents: a
policy from someone else's repository cannot make ``check`` show lines of
``/proc/self/environ`` or ``.env`` in a parse error.  This pass reads and parses each file once per
run (:class:`PolicyFiles`), follows the chain (a cycle or an unreadable parent is a
diagnostic at the ``extends`` string), and merges the statements from the farthest
ancestor down: a child's statement replaces the inherited statement of the same kind and
name (or of the same kind, for the statements given once) *at the inherited position*,
so that KPIs keep the parent's order; other child statements are added after the
inherited ones; ``remove KIND "name"`` drops an inherited statement.  The result is an
ordinary :class:`~perfrules.ast.Policy` whose nodes keep their own spans, and every span
names its file: the checker's passes check the merged policy as one, and each
diagnostic points at the file and line where the statement is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from perfrules import ast
from perfrules.diagnostics import Diagnostic, did_you_mean
from perfrules.origins import DiskFile, PolicyOrigin, ReadFrom
from perfrules.source import SourceFile

# Statements given once: a child's replaces the parent's (structure.SINGLE_STATEMENTS).
SINGLE = (ast.Version, ast.Roles, ast.Period, ast.Language, ast.Levels, ast.Grade, ast.ScoreLimit, ast.Swot)
# What `remove KIND "name"` can drop, by its keyword.
REMOVABLE = {
    "kpi": ast.Kpi, "adjust": ast.Adjust, "veto": ast.Veto, "bonus": ast.Bonus, "plan": ast.Plan,
    "target": ast.Target, "award": ast.Award,
}


@dataclass
class PolicyFile(ReadFrom):
    """One file read in this run: its text (if readable) and its own tree (if it parsed)."""

    origin: PolicyOrigin  # where its bytes come from: disk, or a git revision
    source: SourceFile | None
    policy: ast.Policy | None
    problem: Diagnostic | None = None  # why it could not be read


class PolicyFiles:
    """Every policy file of one run, read and parsed once: a parent shared by several
    children, or given on the command line too, is one file with one set of diagnostics."""

    def __init__(self) -> None:
        self._files: dict[object, PolicyFile] = {}
        self.diagnostics: list[Diagnostic] = []  # parse diagnostics of every file read

    def load(self, origin: PolicyOrigin | Path, display: str | None = None) -> PolicyFile:
        """The file of ``origin`` (a path on disk with its ``display`` is a :class:`DiskFile`)."""
        from perfrules.parser import parse_policy

        if not isinstance(origin, PolicyOrigin):
            origin = DiskFile(Path(origin), display if display is not None else str(origin))
        key = origin.identity
        if key not in self._files:
            source, problem = origin.read()
            policy = None
            if source is not None:
                parsed = parse_policy(source)
                self.diagnostics.extend(parsed.diagnostics)
                policy = parsed.policy
            self._files[key] = PolicyFile(origin, source, policy, problem)
        return self._files[key]

    @property
    def texts(self) -> dict[str, str]:
        """The text of every file read, by display path (for carets and rules as written)."""
        return {file.display: file.source.text for file in self._files.values() if file.source is not None}


@dataclass
class Inheritance:
    """A policy with what it inherits: the merged tree (None when it cannot be built), the
    inherited files nearest parent first, and the diagnostics of the chain and the merge."""

    policy: ast.Policy | None
    parents: list[PolicyFile] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def inherit(file: PolicyFile, files: PolicyFiles) -> Inheritance:
    """Follow ``file``'s ``extends`` chain and merge it (``file.policy`` must have parsed)."""
    result = Inheritance(None)
    chain = [file]
    while (extends := chain[-1].policy.extends) is not None:
        current = chain[-1]
        origin = current.origin.parent(extends.value)  # on disk next to it, or in the same revision
        seen = [item.origin.identity for item in chain]
        if origin.identity in seen:
            result.diagnostics.append(_cycle(file, chain[seen.index(origin.identity):]))
            return result
        if not extends.value.endswith(".perf"):  # never show lines of a file that is not a policy
            result.diagnostics.append(Diagnostic(
                "PR602", f"\"{extends.value}\" is not a policy file: `extends` names a .perf file", extends.span,
                'write the path of a policy file, for example extends "supervisor.perf"', extends.span.file))
            return result
        parent = files.load(origin)  # never a device or pipe
        reason = parent.problem.message.removeprefix("cannot read the file: ") if parent.problem else "cannot be read"
        if parent.source is None:
            hint = (parent.problem.hint if parent.problem and parent.problem.hint
                    else "the path is relative to this file's folder; check the file name")
            result.diagnostics.append(Diagnostic(
                "PR602", f"cannot read \"{extends.value}\", which this policy extends: {reason}", extends.span,
                hint, extends.span.file))
            return result
        if parent.policy is None:  # its syntax errors are reported in its own file
            return result
        chain.append(parent)
        result.parents.append(parent)
    for remove in chain[-1].policy.of_type(ast.Remove):
        result.diagnostics.append(Diagnostic(
            "PR604", f"`remove {remove.kind}` drops an inherited statement, but this policy extends no other",
            remove.span, 'add extends "file.perf" after the policy\'s name, or delete this line', remove.span.file))
    statements = [statement for statement in chain[-1].policy.statements if not isinstance(statement, ast.Remove)]
    for child in reversed(chain[:-1]):
        statements = merge(statements, child.policy, result.diagnostics)
    own = file.policy
    result.policy = ast.Policy(own.name, own.extends, tuple(statements), own.span)
    return result


def _cycle(file: PolicyFile, cycle: list[PolicyFile]) -> Diagnostic:
    names = " → ".join(item.display for item in [*cycle, cycle[0]])
    if cycle[0] is file:
        message = f"`extends` forms a cycle: {names}"
    else:
        message = f"the policies this one extends form a cycle: {names}"
    span = file.policy.extends.span
    return Diagnostic("PR601", message, span,
                      "a policy cannot inherit from itself, even through others: remove one of these `extends`",
                      span.file)


def statement_key(statement: ast.Statement) -> tuple | None:
    """What a child's statement replaces: the same kind and name, or the same kind for the
    statements given once; None for `remove`."""
    if isinstance(statement, SINGLE):
        return (type(statement),)
    match statement:
        case ast.Metric(name=name) | ast.Let(name=name):
            return (type(statement), name.text)
        case ast.Award(title=title):
            return (ast.Award, title.value)
        case ast.Kpi(name=name) | ast.Adjust(name=name) | ast.Veto(name=name) | ast.Bonus(name=name) | ast.Plan(
            name=name
        ) | ast.Target(name=name):
            return (type(statement), name.value)
    return None


def merge(inherited: list[ast.Statement], child: ast.Policy, diagnostics: list[Diagnostic]) -> list[ast.Statement]:
    """The inherited statements with the child's removals, replacements and additions.

    A replacing statement stands where the inherited one stood; added statements (and
    the child's `remove` lines, which later passes ignore) follow the inherited ones in
    the child's order.
    """
    statements = list(inherited)
    for remove in child.of_type(ast.Remove):
        key = (REMOVABLE[remove.kind], remove.name.value)
        index = next((index for index, statement in enumerate(statements) if statement_key(statement) == key), None)
        if index is None:
            diagnostics.append(_not_inherited(remove, statements))
        else:
            del statements[index]
    positions: dict[tuple, int] = {}
    for index, statement in enumerate(statements):
        key = statement_key(statement)
        if key is not None:
            positions.setdefault(key, index)
    added = []
    for statement in child.statements:
        key = statement_key(statement)
        if key in positions:
            statements[positions.pop(key)] = statement
        else:
            added.append(statement)
    return statements + added


def _not_inherited(remove: ast.Remove, statements: list[ast.Statement]) -> Diagnostic:
    kind = REMOVABLE[remove.kind]
    names = [key[1] for statement in statements if (key := statement_key(statement)) and key[0] is kind]
    hint = did_you_mean(remove.name.value, names, quote='"')
    if hint is None:
        listed = ", ".join(f'"{name}"' for name in names)
        hint = f"the inherited {remove.kind}s are: {listed}" if names else f"no {remove.kind} is inherited"
    return Diagnostic("PR603", f'there is no inherited {remove.kind} "{remove.name.value}" to remove',
                      remove.name.span, hint, remove.span.file)
