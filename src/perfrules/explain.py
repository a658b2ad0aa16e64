"""``perfrules explain``: every step of one agent's result, in words.

The explanation words the typed result (:class:`~perfrules.result_model.AgentResult`)
with the checked policy model; it computes nothing itself: each KPI's value and the
rule that decided (shown as written, even when it shares its line), exclusions and
substitutions with their reason, every adjustment line, the base score and score
arithmetic, the rank, the veto, the grade rule and the bonus arithmetic, the plans.
It speaks the policy's language (zh or en).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from perfrules import ast
from perfrules.check.kinds import Kind
from perfrules.check.model import PolicyModel
from perfrules.engine.run import Evaluation
from perfrules.result_model import AgentResult
from perfrules.results import agent_result, missing_reason, result_rows
from perfrules.texts import EXPLAIN_WORDS
from perfrules.values import period_end, duration_text, metric_value_text, percent_text, plain, round_half_up



class AgentNotFound(Exception):
    """No evaluated row has this agent id."""


def explain_agent(evaluation: Evaluation, agent_id: str, language: str | None = None) -> str:
    for run in evaluation.runs:
        for row in result_rows(evaluation.connection, run):
            if row["_agent"] == agent_id:
                model = run.plan.model
                extends = tuple(parent.display for parent in run.loaded.parents)
                explainer = Explainer(model, agent_result(run, row), language or model.language, extends)
                snapshot = getattr(evaluation, "metrics_snapshot", None)  # metrics computed from raw exports
                if snapshot is not None:
                    from perfrules.metrics.snapshot import metric_origins

                    explainer.origins = metric_origins(snapshot, agent_id, run.period, explainer.language)
                return explainer.text()
    raise AgentNotFound(agent_id)


class Explainer:
    """Builds the explanation of one agent's typed result."""

    def __init__(self, model: PolicyModel, result: AgentResult, language: str, extends: tuple[str, ...] = ()):
        self.model = model
        self.extends = extends  # the inherited files, nearest parent first
        self.result = result
        self.language = "en" if language == "en" else "zh"
        self.words = EXPLAIN_WORDS[self.language]
        self.out: list[str] = []
        self.origins: dict[str, str] = {}  # metric → where it came from (metric definitions)

    def say(self, text: str = "", indent: int = 0) -> None:
        self.out.append("  " * indent + text)

    def where(self, node) -> str:
        """``第 12 行``, or ``policies/supervisor.perf 第 12 行`` for a line inherited through `extends`."""
        line = self.words["line"].format(n=node.span.line)
        inherited = self.model.where(node)
        return f"{inherited} {line}" if inherited else line

    def rule_text(self, node) -> str:
        """``第 12 行: csat >= 90% => excellent``: the rule as written, with its line."""
        return f"{self.where(node)}: {self.model.written(node)}"

    def level_text(self, level: str) -> str:
        declared = self.model.symbols.levels.get(level)
        return f"{level} ({declared.label.value})" if declared is not None and declared.label else level

    def value_text(self, name: str, value) -> str:
        if value is None:
            return self.words["missing"]
        if not isinstance(value, Decimal):
            return str(value)
        metric = self.model.metric(name)
        if metric is not None:
            return metric_value_text(value, metric.type.text, metric.unit)
        if self.model.kind(name) is Kind.DURATION:  # a let in seconds, said so
            return duration_text(value)
        return plain(value)

    def inputs(self, expression: ast.Expression) -> str:
        """``name = value`` of each metric an expression reads, directly or through lets."""
        return ", ".join(f"{name} = {self.value_text(name, self.result.metrics.get(name))}"
                         for name in self.model.metric_reads(expression))

    def text(self) -> str:
        result, words, model = self.result, self.words, self.model
        name = f"{result.name} ({result.agent_id})" if result.name else result.agent_id
        details = " · ".join(part for part in (result.role, result.team, result.period) if part)
        self.say(f"{name} · {details}")
        inherited = f"; {words['extends']} {', '.join(self.extends)}" if self.extends else ""
        self.say(f"{words['policy']}: {model.name} {model.policy.version} ({model.file}{inherited})")
        self.say()
        for kpi, kpi_result in zip(model.kpis, result.kpis):
            self.kpi(kpi, kpi_result)
        self.score()
        self.rank_veto_grade()
        self.bonus()
        self.plans()
        self.targets()
        self.awards()
        return "\n".join(self.out).rstrip("\n") + "\n"

    def kpi(self, kpi, outcome) -> None:
        words = self.words
        weight = percent_text(kpi.weight)
        self.say(f"{words['kpi']} {kpi.name} ({words['weight']} {weight})")
        for name in kpi.reads:
            if name in self.result.metrics:
                self.say(f"{name} = {self.value_text(name, self.result.metrics[name])}", 1)
                if name in self.origins:
                    self.say(f"← {self.origins[name]}", 2)
            elif isinstance(kpi.measure, ast.Reference) and kpi.measure.name == name:
                let = self.model.symbols.lets.get(name)
                value = self.value_text(name, outcome.value)
                if let is None:
                    self.say(f"{name} = {value}", 1)
                else:  # `→`: the value as computed, to six decimals (a quotient may be rounded)
                    inputs = self.inputs(let.expression)
                    self.say(f"{name} = {self.model.written(let.expression)}"
                             f"{f' ({inputs})' if inputs else ''} → {value}", 1)
        points = outcome.points
        if outcome.status == "scored":
            shown = _exact_then_rounded(points)
            level, rule = outcome.level, kpi.rule(outcome.rule).node
            result = f"{self.level_text(level)} → {shown} {words['points']}" if level else f"{shown} {words['points']}"
            if isinstance(rule, ast.PointsFormula) and points in (0, 100):  # perhaps clamped: say so
                result = f"{words['formula_clamp']} → {result}"
            self.say(f"{self.rule_text(rule)}  ⇒ {result}", 1)
        else:
            reason = missing_reason(self.model, kpi, self.result.metrics, self.language)
            if outcome.status == "excluded":
                self.say(f"{reason}: {words['excluded']}", 1)
            else:
                level = outcome.level
                shown = (f"{self.level_text(level)} ({plain(points)} {words['points']})" if level
                         else f"{plain(points)} {words['points']}")
                self.say(f"{reason}: {words['substituted']} {shown}", 1)
        if outcome.weighted is not None:  # the engine's product, to six decimals: `≈` where rounded
            sign = "=" if points * kpi.weight == outcome.weighted else "≈"
            self.say(f"{plain(points)} × {weight} {sign} {plain(outcome.weighted)}", 1)
        self.say()

    def score(self) -> None:
        result, words = self.result, self.words
        products = [kpi.weighted for kpi in result.kpis if kpi.weighted is not None]
        terms = " + ".join(plain(product) for product in products)
        total_weight = result.counted_weight
        base = result.base_score  # as the engine computed it, to six decimals
        exact = sum(products, Decimal(0)) == base * total_weight
        # `=` where the written arithmetic is exact; `≈` where the quotient was rounded to six decimals.
        shown = f"= {_exact_then_rounded(base)}" if exact else (
            f"≈ {_exact_then_rounded(base)}" if base != round_half_up(base) else f"≈ {plain(base)}")
        if total_weight == 1:
            self.say(f"{words['base']} = {terms} {shown}")
        else:
            self.say(f"{words['base']} = ({terms}) ÷ {percent_text(total_weight)} {shown}")
        for adjust, total, points_by_line in zip(self.model.adjusts, result.adjust_totals, result.adjust_lines):
            self.say(f"{words['adjust']} {adjust.node.name.value}:")
            raw = sum(points_by_line, Decimal(0))
            for line, points in zip(adjust.lines, points_by_line):
                values = self.inputs(line.per if isinstance(line, ast.AdjustPer) else line.condition)
                detail = f" ({values})" if values else ""
                self.say(f"{self.rule_text(line)}{detail}  ⇒ {_signed(points)}", 1)
            if adjust.limit is not None and total != raw:
                self.say(f"{words['total']} {_signed(raw)} → {words['limit']} {_signed(adjust.limit.low)} .. "
                         f"{_signed(adjust.limit.high)} → {_signed(total)}", 1)
            else:
                self.say(f"{words['total']} {_signed(total)}", 1)
        raw_score = result.raw_score
        if result.adjust_totals:
            arithmetic = " ".join([plain(base)] + [_signed(total) for total in result.adjust_totals])
            line = f"{words['score']} = {arithmetic} = {_exact_then_rounded(raw_score)}"
        else:
            line = f"{words['score']} = {words['base']} = {_exact_then_rounded(raw_score)}"
        limit = self.model.policy.first(ast.ScoreLimit)
        if limit is not None and not limit.limit.low <= raw_score <= limit.limit.high:
            line += (f" → {words['score_limit']} {plain(limit.limit.low)} .. {plain(limit.limit.high)}"
                     f" → {_exact_then_rounded(result.score)}")
        self.say(line)
        self.say()

    def rank_veto_grade(self) -> None:
        result, words, model = self.result, self.words, self.model
        self.say(f"{words['rank']}: {result.rank} / {result.rank_of}")
        if result.grade_rule:
            rule = model.grade_rules[result.grade_rule - 1].node
            self.say(f"{words['grade']}: {self.rule_text(rule)}  ⇒ {rule.grade.value}")
        elif not model.grade_rules:
            self.say(f"{words['grade']}: {words['none']}")
        if result.veto_rule is not None:
            veto = model.vetoes[result.veto_rule - 1].node
            values = self.inputs(veto.condition)
            detail = f" ({values})" if values else ""
            self.say(f"{words['veto']}: {self.rule_text(veto)}{detail}  ⇒ {words['grade']} {veto.grade.value}")
        else:
            self.say(f"{words['veto']}: {words['none']}")
        self.say()

    def bonus(self) -> None:
        words = self.words
        amounts = []
        for bonus, outcome in zip(self.model.bonuses, self.result.bonus):
            rule = bonus.rule(outcome.rule).node
            amounts.append(outcome.amount)
            self.say(f"{words['bonus']} {bonus.name}: {self.rule_text(rule)}  ⇒ {outcome.amount:.2f}")
            if isinstance(rule.amount, ast.AmountShareRange):
                self.tier(rule, outcome)
            elif isinstance(rule.amount, ast.AmountExpression) and (values := self.inputs(rule.amount.expression)):
                self.say(values, 1)
            if outcome.share is not None:
                of = rule.amount.of
                if isinstance(of, ast.Reference) and of.name in self.result.metrics:
                    value = self.result.metrics[of.name]
                    # A share that six decimals do not hold (16.6667% for 1/6) is written as its
                    # formula: 16.6667% × 100000.00 would be 16666.70, not the 16666.67 paid.
                    share = (percent_text(outcome.share) if round_half_up(outcome.share, 6) == outcome.share
                             else f"({self.share_formula(rule, outcome)})")
                    self.say(f"{share} × {of.name} {self.value_text(of.name, value)} = {outcome.amount:.2f}", 1)
        if len(amounts) > 1:
            self.say(f"{words['bonus_total']} = {' + '.join(f'{amount:.2f}' for amount in amounts)} = "
                     f"{self.result.bonus_total:.2f}")
        if amounts:
            self.say()

    def tier(self, rule: ast.BonusRule, outcome) -> None:
        """The tier arithmetic of ``A%..B%``."""
        words = self.words
        condition: ast.RankCondition = rule.condition
        low, high = rule.amount.low, rule.amount.high
        how = (f"ceil({percent_text(condition.amount)} × {outcome.tier_group})" if condition.is_percent
               else plain(condition.amount))
        self.say(f"{words['position']} {outcome.tier_position}, {words['tier']} {how} = {outcome.tier_size}", 1)
        if outcome.tier_size <= 1:
            self.say(f"{percent_text(high)}", 1)
        else:
            shown = round_half_up(outcome.share, 6)
            self.say(f"{self.share_formula(rule, outcome)} {'=' if shown == outcome.share else '≈'} "
                     f"{percent_text(shown)}", 1)

    @staticmethod
    def share_formula(rule: ast.BonusRule, outcome) -> str:
        """B − (B − A) × (position − 1) ÷ (tier − 1), as written with the agent's numbers."""
        high, low = percent_text(rule.amount.high), percent_text(rule.amount.low)
        return f"{high} − ({high} − {low}) × ({outcome.tier_position} − 1) ÷ ({outcome.tier_size} − 1)"

    def plans(self) -> None:
        if not self.result.plans:
            return
        self.say(f"{self.words['plans']}:")
        written = {plan.name.value: plan for plan in self.model.plans}
        for due in self.result.plans:
            plan = written[due.name]
            header = f"{self.where(plan)}: plan \"{plan.name.value}\" when {self.model.written(plan.condition)}"
            self.say(f"{due.name} ({header})", 1)
            for action in due.actions:
                self.say(f"- {action.text} ({self.words['due']} {action.due})", 2)

    def targets(self) -> None:
        """Each goal's arithmetic: baseline, value, progress = (v − b) / (g − b), expected = elapsed / total days."""
        if not self.result.targets:
            return
        words = self.words
        self.say(f"{words['targets']}:")
        written = {target.name.value: target for target in self.model.targets}
        for target_result in self.result.targets:
            target = written[target_result.name]
            roles = f"; {words['for_roles']} {', '.join(role.text for role in target.roles)}" if target.roles else ""
            self.say(f"{target_result.name} ({self.where(target)}{roles}): {words[target_result.status]} "
                     f"({words['worst']})", 1)
            for line, goal in zip(target.lines, target_result.goals):
                self.goal(line, goal)

    def goal(self, line: ast.TargetLine, goal) -> None:
        words, name = self.words, goal.name
        value, target = self.value_text(name, goal.value), self.value_text(name, goal.goal)
        self.say(self.rule_text(line), 2)
        if goal.baseline is None:
            baseline = words["no_baseline"]
        else:
            source = words["baseline_given"] if goal.baseline_given else words["baseline_row"].format(start=goal.start)
            baseline = f"{words['baseline']} {self.value_text(name, goal.baseline)} ({source})"
        self.say(f"{words['value']} {value}; {words['goal']} {target}; {baseline}", 3)
        if goal.progress is not None:
            if goal.met:
                progress = words["met_means_one"]
            elif _holds(goal.cmp, goal.baseline, goal.goal):
                progress = f"{plain(goal.progress)} ({words['baseline_met']})"
            else:
                progress = (f"({value} − {self.value_text(name, goal.baseline)}) / ({target} − "
                            f"{self.value_text(name, goal.baseline)}) {_share(goal.progress)}")
            self.say(f"{words['progress']} = {progress}", 3)
        if goal.expected is not None:
            start, deadline = date.fromisoformat(goal.start), date.fromisoformat(goal.deadline)
            end = period_end(self.result.period)
            days = words["days"].format(elapsed=(end - start).days, total=(deadline - start).days)
            self.say(f"{words['expected']} = {days} {_share(goal.expected)}", 3)
        why = {
            "no_data": words["why_no_data"],
            "achieved": words["why_achieved"].format(value=value, cmp=goal.cmp, goal=target),
            "missed": words["why_missed"].format(end=period_end(self.result.period).isoformat(), deadline=goal.deadline),
            "not_met": words["why_not_met"],
            "on_track": words["why_on_track"].format(progress=_fraction(goal.progress), expected=_fraction(goal.expected)),
            "at_risk": words["why_at_risk"].format(progress=_fraction(goal.progress), expected=_fraction(goal.expected)),
        }[goal.status]
        self.say(f"⇒ {words[goal.status]}: {why}", 3)

    def awards(self) -> None:
        """Each award: held or not, and which periods of its streak held."""
        if not self.result.award_streaks:
            return
        words = self.words
        self.say(f"{words['awards']}:")
        written = {award.title.value: award for award in self.model.awards}
        for award in self.result.award_streaks:
            node = written[award.name]
            state = words["award_held"] if award.held else words["award_not_held"]
            streak = f"; {words['periods'].format(n=award.periods)}" if award.periods > 1 else ""
            self.say(f"{award.name} ({self.rule_text(node)}{streak}): {state}", 1)
            self.say("; ".join(f"{step.period}: {words[step.state]}" for step in award.streak), 2)


def _fraction(value: Decimal | None) -> str:
    """A progress or share as the result writes it: four decimals (without trailing zeros)."""
    return "-" if value is None else plain(round_half_up(value, 4))


def _share(value: Decimal) -> str:
    """``= 0.4`` when four decimals are exact, else ``≈ 0.2667``."""
    rounded = round_half_up(value, 4)
    return f"= {plain(rounded)}" if rounded == value else f"≈ {plain(rounded)}"


def _holds(cmp: str, left: Decimal | None, right: Decimal | None) -> bool:
    """``left cmp right`` for a goal's operator (false when either is missing)."""
    if left is None or right is None:
        return False
    return {">=": left >= right, ">": left > right, "<=": left <= right, "<": left < right}.get(cmp, False)


def _signed(value) -> str:
    value = value or Decimal(0)
    return f"+{plain(value)}" if value >= 0 else plain(value)


def _exact_then_rounded(value: Decimal) -> str:
    """``90`` or ``85.714286 ≈ 85.71``: the exact value, and what reports show when it differs."""
    rounded = round_half_up(value)
    return plain(value) if rounded == value else f"{plain(value)} ≈ {plain(rounded)}"
