"""The checked policy model: what the checker learned, computed once and carried forward.

The checker's passes resolve names, infer every value's kind, find what each KPI
measures and which values it reads, and collect the rank conditions.  Rather than
each later layer (data validation, the engine, explain, the report, tests, diff)
collecting symbols and re-running the kind checker, the checker hands them one
:class:`PolicyModel` (as sqlglot hands on its annotated tree, OPA its compiler state).
Every decision line has a stable identity, :class:`Rule`: its ordinal in its block.
The engine names rules by that identity; the line is only where the rule is written,
so rules written several to a line, or a whole policy on one line, decide exactly as
the same policy written one rule per line.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from perfrules import ast
from perfrules.check.kinds import Kind
from perfrules.check.symbols import Symbols


@dataclass(frozen=True)
class Rule:
    """A decision line: ``ordinal`` (1-based, within its block) is its identity."""

    ordinal: int
    node: object  # ast.KpiRule | ast.PointsLinear | ast.PointsFormula | ast.GradeRule | ast.Veto | ast.BonusRule

    @property
    def line(self) -> int:
        return self.node.span.line


@dataclass(frozen=True)
class KpiModel:
    """One KPI: what it measures, what it reads, its decision lines."""

    index: int
    node: ast.Kpi
    measure: ast.Expression | None
    reads: tuple[str, ...]
    rules: tuple[Rule, ...]
    metric: ast.Metric | None  # the metric it measures, when the measure is a metric

    @property
    def name(self) -> str:
        return self.node.name.value

    @property
    def weight(self) -> Decimal:
        return self.node.weight

    @property
    def prefix(self) -> str:
        return f"k{self.index}"

    def rule(self, ordinal: int | None) -> Rule | None:
        return next((rule for rule in self.rules if rule.ordinal == ordinal), None)


@dataclass(frozen=True)
class AdjustModel:
    index: int
    node: ast.Adjust
    lines: tuple[ast.AdjustPer | ast.AdjustWhen, ...]
    limit: ast.Limit | None


@dataclass(frozen=True)
class BonusModel:
    index: int
    node: ast.Bonus
    rules: tuple[Rule, ...]

    @property
    def name(self) -> str:
        return self.node.name.value

    def rule(self, ordinal: int | None) -> Rule | None:
        return next((rule for rule in self.rules if rule.ordinal == ordinal), None)


@dataclass
class PolicyModel:
    """A policy as the checker understood it (see the module docstring)."""

    file: str
    policy: ast.Policy
    texts: dict[str, str]  # the source text of each file the policy is written in, by display path
    symbols: Symbols
    kinds: dict[str, Kind]  # every metric and let by name
    metrics: tuple[ast.Metric, ...]  # declaration order, first of each name: columns m0, m1...
    kpis: tuple[KpiModel, ...]
    adjusts: tuple[AdjustModel, ...]
    vetoes: tuple[Rule, ...]
    grade_rules: tuple[Rule, ...]
    bonuses: tuple[BonusModel, ...]
    plans: tuple[ast.Plan, ...]
    swot_items: tuple[ast.SwotItem, ...]
    rank_conditions: tuple[ast.RankCondition, ...]  # distinct by rank_key, in order of appearance
    targets: tuple[ast.Target, ...] = ()  # SMART targets (spec §13): columns tN_G_... of the plan
    awards: tuple[ast.Award, ...] = ()  # honorary titles (spec §14): columns wN_... of the plan

    @property
    def name(self) -> str:
        return self.policy.name.value

    @property
    def language(self) -> str:
        return self.policy.language

    def metric(self, name: str) -> ast.Metric | None:
        return self.symbols.metrics.get(name)

    def kind(self, name: str) -> Kind:
        return self.kinds.get(name, Kind.UNKNOWN)

    @property
    def text(self) -> str:
        """The policy's own file's text."""
        return self.texts.get(self.file, "")

    def where(self, node) -> str | None:
        """The file a node is written in, when it is not the policy's own (inherited)."""
        file = node.span.file
        return file if file and file != self.file else None

    def written(self, node) -> str:
        """A node's text as written in its file (one rule, even when it shares its line)."""
        text = self.texts.get(node.span.file or self.file, "")
        return " ".join(text[node.span.start:node.span.end].split())

    def metric_reads(self, expression: ast.Expression) -> list[str]:
        """The metrics an expression reads, directly or through lets, in order of reading."""
        names: list[str] = []
        pending, seen = [expression], set()
        while pending:
            for node in ast.walk(pending.pop(0)):
                if not isinstance(node, ast.Reference) or node.name in seen:
                    continue
                seen.add(node.name)
                if node.name in self.symbols.metrics:
                    names.append(node.name)
                elif node.name in self.symbols.lets:
                    pending.append(self.symbols.lets[node.name].expression)
        return names


def rank_key(condition: ast.RankCondition) -> tuple:
    """What makes two rank conditions share their positions: direction, by, team (by structure)."""
    return (condition.direction, condition.by, condition.within_team)


def build_model(file: str, texts: dict[str, str], policy: ast.Policy, symbols: Symbols, kinds: dict[str, Kind]) -> PolicyModel:
    """The model of a policy whose passes ran (sound only when they found no error)."""
    from perfrules.check.scoring import measured_value

    metrics: dict[str, ast.Metric] = {}
    for metric in policy.metrics:
        metrics.setdefault(metric.name.text, metric)
    kpis = []
    for index, kpi in enumerate(policy.kpis):
        measure, reads = measured_value(kpi, symbols)
        decision_lines = [line for line in kpi.lines if not isinstance(line, ast.Measure)]
        measured = symbols.metrics.get(measure.name) if isinstance(measure, ast.Reference) else None
        kpis.append(KpiModel(index, kpi, measure, tuple(reads),
                             tuple(Rule(ordinal, line) for ordinal, line in enumerate(decision_lines, 1)), measured))
    adjusts = tuple(
        AdjustModel(index, adjust, tuple(line for line in adjust.lines if not isinstance(line, ast.Limit)),
                    next((line for line in adjust.lines if isinstance(line, ast.Limit)), None))
        for index, adjust in enumerate(policy.of_type(ast.Adjust))
    )
    grade_rules = [rule for grade in policy.of_type(ast.Grade) for rule in grade.rules]
    bonuses = tuple(BonusModel(index, bonus, tuple(Rule(ordinal, rule) for ordinal, rule in enumerate(bonus.rules, 1)))
                    for index, bonus in enumerate(policy.of_type(ast.Bonus)))
    return PolicyModel(
        file=file, policy=policy, texts=texts, symbols=symbols, kinds=kinds,
        metrics=tuple(metrics.values()), kpis=tuple(kpis), adjusts=adjusts,
        vetoes=tuple(Rule(ordinal, veto) for ordinal, veto in enumerate(policy.of_type(ast.Veto), 1)),
        grade_rules=tuple(Rule(ordinal, rule) for ordinal, rule in enumerate(grade_rules, 1)),
        bonuses=bonuses, plans=tuple(policy.of_type(ast.Plan)),
        swot_items=tuple(item for swot in policy.of_type(ast.Swot) for item in swot.items),
        rank_conditions=_rank_conditions(policy),
        targets=tuple(policy.of_type(ast.Target)), awards=tuple(policy.of_type(ast.Award)),
    )


def _rank_conditions(policy: ast.Policy) -> tuple[ast.RankCondition, ...]:
    found: dict[tuple, ast.RankCondition] = {}
    for statement in policy.statements:
        for expression in _conditions(statement):
            for node in ast.walk(expression):
                if isinstance(node, ast.RankCondition):
                    found.setdefault(rank_key(node), node)
    return tuple(found.values())


def _conditions(statement: ast.Statement):
    match statement:
        case ast.Veto(condition=condition) | ast.Plan(condition=condition) | ast.Award(condition=condition):
            yield condition
        case ast.Grade(rules=rules) | ast.Bonus(rules=rules):
            yield from (rule.condition for rule in rules if rule.condition is not None)
        case ast.Swot(items=items):
            yield from (item.condition for item in items)
