"""The semantic difference of two versions of a set of policies, in words.

``perfrules diff`` says what changed in the policy before it says whom the change
affects.  Two versions are compared as their checked models (``PolicyModel``, each policy
with what it inherits merged in), never as text: nodes compare by structure with spans
aside, so a new layout, moved comments or a reordered file are no change.  Policies are
matched by name; statements by what a child's statement would replace in inheritance
(:func:`perfrules.inheritance.statement_key`: the kind and name, or the kind for the
statements given once).  A changed statement is described field by field: a value
(``kpi "顾客满意度": weight 40% → 35%``, ``veto "重大投诉": condition `…` → `…```) or,
for a block's rules, lines, levels or actions, one entry per rule added, removed or
changed, in the order of the block (so a grade or bonus tier changed in place is one
change, and the rules after it are not).  Each entry carries the lines (and files) where
the old and the new version write it.  A field this module does not know yet is still
compared, and named by its field name: no difference is ever left out.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from difflib import SequenceMatcher

from perfrules import ast
from perfrules.check.model import PolicyModel
from perfrules.inheritance import statement_key
from perfrules.values import percent_text, plain

# How a statement is called in a change: its keyword (and name, when it has one).
KEYWORDS = {
    ast.Version: "version", ast.Roles: "roles", ast.Period: "period", ast.Language: "language",
    ast.Metric: "metric", ast.Let: "let", ast.Levels: "levels", ast.Kpi: "kpi", ast.Adjust: "adjust",
    ast.ScoreLimit: "score limit", ast.Veto: "veto", ast.Grade: "grade", ast.Bonus: "bonus", ast.Plan: "plan",
    ast.Swot: "swot", ast.Award: "award", ast.Target: "target",
}
# How one element of a block is called.
ELEMENTS = {
    ast.KpiRule: "rule", ast.GradeRule: "rule", ast.BonusRule: "rule", ast.Measure: "measure",
    ast.PointsLinear: "points", ast.PointsFormula: "points", ast.AdjustPer: "line", ast.AdjustWhen: "line",
    ast.Limit: "limit", ast.Level: "level", ast.Name: "role",
    ast.PlanAction: "action", ast.SwotItem: "item", ast.TargetLine: "goal",
}
# Fields that name the statement (its key) or only say where it is written.
NAMING_FIELDS = {"name", "title"}


@dataclass(frozen=True)
class PolicyChange:
    """One statement or rule added, removed or changed, in words, with where each version writes it."""

    policy: str
    change: str
    old_line: int | None
    new_line: int | None
    old_file: str | None
    new_file: str | None


class _Side:
    """One version of a policy: its model, to read a node's text and file."""

    def __init__(self, model: PolicyModel):
        self.model = model

    def text(self, node) -> str:
        """A node as written (a string in quotes, a name as is, anything else in backticks)."""
        if isinstance(node, ast.Text):
            return f'"{node.value}"'
        if isinstance(node, ast.Name):
            return node.text
        if getattr(node, "span", None) is None:  # a plain value inside a node of a newer grammar
            return plain(node) if isinstance(node, Decimal) else str(node)
        return f"`{self.model.written(node)}`"

    def one_line(self, statement) -> str:
        """``: `metric fcr: percent``` for a statement written on one line; blocks are named only."""
        return f": {self.text(statement)}" if statement.span.line == statement.span.end_line else ""

    def text_of(self, value) -> str:
        """A field's value: a node as written, a number, or (none)."""
        return "(none)" if value is None else self.text(value)

    def where(self, node) -> tuple[int | None, str | None]:
        span = getattr(node, "span", None)
        if span is None:
            return None, None
        return span.line, span.file or self.model.file


def policy_changes(old: list[PolicyModel], new: list[PolicyModel]) -> list[PolicyChange]:
    """Every change from the ``old`` policies to the ``new`` ones (matched by policy name)."""
    old_by_name = {model.name: model for model in old}
    new_names = {model.name for model in new}
    changes: list[PolicyChange] = []
    for model in new:
        if model.name in old_by_name:
            changes.extend(_Compare(_Side(old_by_name[model.name]), _Side(model)).statements())
        else:
            line, file = _Side(model).where(model.policy)
            changes.append(PolicyChange(model.name, f'policy "{model.name}" added', None, line, None, file))
    for model in old:
        if model.name not in new_names:
            line, file = _Side(model).where(model.policy)
            changes.append(PolicyChange(model.name, f'policy "{model.name}" removed', line, None, file, None))
    return changes


class _Compare:
    """The changes between one policy's two versions."""

    def __init__(self, old: _Side, new: _Side):
        self.old, self.new = old, new
        self.policy = new.model.name
        self.found: list[PolicyChange] = []

    def add(self, change: str, old_node=None, new_node=None) -> None:
        old_line, old_file = self.old.where(old_node) if old_node is not None else (None, None)
        new_line, new_file = self.new.where(new_node) if new_node is not None else (None, None)
        self.found.append(PolicyChange(self.policy, change, old_line, new_line, old_file, new_file))

    def statements(self) -> list[PolicyChange]:
        old = _keyed(self.old.model.policy.statements)
        new = _keyed(self.new.model.policy.statements)
        for key, statement in new.items():
            if key not in old:
                self.add(f"{_title(statement)} added{self.new.one_line(statement)}", new_node=statement)
            elif old[key] != statement:
                self.statement(old[key], statement)
        for key, statement in old.items():
            if key not in new:
                self.add(f"{_title(statement)} removed{self.old.one_line(statement)}", old_node=statement)
        return self.found

    def statement(self, old: ast.Statement, new: ast.Statement) -> None:
        title = _title(new)
        for field in dataclasses.fields(new):
            if not field.compare or field.name in NAMING_FIELDS:
                continue
            before, after = getattr(old, field.name), getattr(new, field.name)
            if before == after:
                continue
            if isinstance(after, tuple) or isinstance(before, tuple):
                self.elements(title, before or (), after or (), old, new)
            else:
                self.value(title, field.name, before, after, old, new)

    def value(self, title: str, field: str, before, after, old_statement, new_statement) -> None:
        if field == "weight":  # a KPI's weight, written as a percent
            shown = f"{percent_text(before)} → {percent_text(after)}"
            self.add(f"{title}: weight {shown}", _At(old_statement.weight_span), _At(new_statement.weight_span))
            return
        old_node = before if getattr(before, "span", None) is not None else old_statement
        new_node = after if getattr(after, "span", None) is not None else new_statement
        if before is None and new_node is after:  # an optional part only the new version writes
            self.add(f"{title}: {self.new.text_of(after)} added", old_statement, new_node)
        elif after is None and old_node is before:
            self.add(f"{title}: {self.old.text_of(before)} removed", old_node, new_statement)
        elif field == "value":  # version, period, language: the statement is its value
            self.add(f"{title} {self.old.text_of(before)} → {self.new.text_of(after)}", old_node, new_node)
        else:
            shown_before, shown_after = self.old.text_of(before), self.new.text_of(after)
            self.add(f"{title}: {_called(field.replace('_', ' '), shown_before)}{shown_before} → {shown_after}",
                     old_node, new_node)

    def elements(self, title: str, before: tuple, after: tuple, old_statement, new_statement) -> None:
        """One change per element added, removed or changed, matched in order."""
        matcher = SequenceMatcher(None, before, after, autojunk=False)
        for operation, old_start, old_end, new_start, new_end in matcher.get_opcodes():
            if operation == "equal":
                continue
            olds, news = before[old_start:old_end], after[new_start:new_end]
            paired = min(len(olds), len(news))
            for old, new in zip(olds[:paired], news[:paired]):
                shown = self.old.text(old)
                self.add(f"{title}: {_called(_element(old), shown)}{shown} → {self.new.text(new)}", old, new)
            for old in olds[paired:]:
                shown = self.old.text(old)
                self.add(f"{title}: {_called(_element(old), shown)}{shown} removed", old, _At(new_statement.span))
            for new in news[paired:]:
                shown = self.new.text(new)
                self.add(f"{title}: {_called(_element(new), shown)}{shown} added", _At(old_statement.span), new)


@dataclass(frozen=True)
class _At:
    """A place without a node of its own (a weight's span, the block an element left)."""

    span: ast.Span


def _keyed(statements) -> dict[tuple, ast.Statement]:
    """Statements by their key (a second statement of the same key, which the checker
    reports, is kept apart by its count)."""
    keyed: dict[tuple, ast.Statement] = {}
    for statement in statements:
        key = statement_key(statement)
        if key is None:  # `remove`: what it removed is missing from the merged policy already
            continue
        count = 0
        while (key, count) in keyed:
            count += 1
        keyed[(key, count)] = statement
    return keyed


def _title(statement) -> str:
    keyword = KEYWORDS.get(type(statement), type(statement).__name__.lower())
    name = getattr(statement, "name", None) or getattr(statement, "title", None)
    if isinstance(name, ast.Text):
        return f'{keyword} "{name.value}"'
    if isinstance(name, ast.Name):
        return f"{keyword} {name.text}"
    return keyword


def _called(word: str, shown: str) -> str:
    """``word `` before a value, unless the value as written says it (`when missing fair`, `limit 0 to 6`)."""
    return "" if word in shown.strip("`").split() else f"{word} "


def _element(node) -> str:
    if isinstance(node, ast.MetricOption):  # label, unit, column, sample, direction
        return node.kind
    return ELEMENTS.get(type(node), type(node).__name__.lower())
