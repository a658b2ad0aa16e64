"""``perfrules explain``: every step of one agent's result, in words.

The explanation reads the same result row that ``evaluate`` reports (the columns of
the plan), never evaluates anything itself: each KPI's value and the rule line that
decided, exclusions and substitutions with their reason, every adjustment line, the
base score and score arithmetic, the rank, the veto, the grade rule and the bonus
arithmetic, the plans.  It speaks the policy's language (zh or en).
"""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

from perfrules import ast
from perfrules.engine.run import Evaluation, PolicyRun
from perfrules.results import fetch_rows, missing_reason, period_end
from perfrules.values import duration_text, metric_value_text, percent_text, plain, round_half_up

WORDS = {
    "zh": {
        "policy": "考核方案", "kpi": "指标", "weight": "权重", "line": "第 {n} 行", "points": "分",
        "missing": "缺失", "excluded": "不计入,其余指标的权重按比例放大",
        "substituted": "按 when missing 记为", "base": "基础分", "adjust": "加减分",
        "total": "合计", "limit": "上下限", "score": "得分", "score_limit": "总分上下限",
        "rank": "名次", "veto": "一票否决", "none": "无", "grade": "等级", "bonus": "奖金",
        "plans": "改进计划", "due": "截止", "position": "档内名次", "tier": "档内人数", "bonus_total": "奖金合计",
        "value": "数值", "nothing": "0(缺失按 0 计)",
    },
    "en": {
        "policy": "Policy", "kpi": "KPI", "weight": "weight", "line": "line {n}", "points": "points",
        "missing": "missing", "excluded": "left out; the other weights are scaled up",
        "substituted": "by `when missing` set to", "base": "Base score", "adjust": "Adjustment",
        "total": "total", "limit": "limit", "score": "Score", "score_limit": "score limit",
        "rank": "Rank", "veto": "Veto", "none": "none", "grade": "Grade", "bonus": "Bonus",
        "plans": "Improvement plans", "due": "due", "position": "position in the tier", "tier": "tier size",
        "bonus_total": "Bonus total",
        "value": "value", "nothing": "0 (missing counts as 0)",
    },
}


class AgentNotFound(Exception):
    """No evaluated row has this agent id."""


def explain_agent(evaluation: Evaluation, agent_id: str, language: str | None = None) -> str:
    for run in evaluation.runs:
        for row in fetch_rows(evaluation.connection, run):
            if row["_agent"] == agent_id:
                return Explainer(run, row, language or run.policy.language).text()
    raise AgentNotFound(agent_id)


def agent_ids(evaluation: Evaluation) -> list[str]:
    """Every agent evaluated, in the order of the results (for "did you mean")."""
    return [row["_agent"] for run in evaluation.runs for row in fetch_rows(evaluation.connection, run)]


class Explainer:
    """Builds the explanation of one result row."""

    def __init__(self, run: PolicyRun, row: dict, language: str):
        self.run = run
        self.plan = run.plan
        self.row = row
        self.language = "en" if language == "en" else "zh"
        self.words = WORDS[self.language]
        self.source_lines = run.loaded.source.text.splitlines()
        self.metrics = {metric.name.text: metric for metric in run.policy.metrics}
        self.out: list[str] = []

    def say(self, text: str = "", indent: int = 0) -> None:
        self.out.append("  " * indent + text)

    def line_text(self, number: int) -> str:
        return f"{self.words['line'].format(n=number)}: {self.source_lines[number - 1].strip()}"

    def level_text(self, level: str) -> str:
        declared = next((item for item in self.run.policy.levels if item.name.text == level), None)
        return f"{level} ({declared.label.value})" if declared is not None and declared.label else level

    def value_text(self, name: str, value) -> str:
        if value is None:
            return self.words["missing"]
        if not isinstance(value, Decimal):
            return str(value)
        metric = self.metrics.get(name)
        return metric_value_text(value, metric.type.text, metric.unit) if metric else plain(value)

    def inputs(self, expression: ast.Expression) -> str:
        """``name = value`` of each metric an expression reads, directly or through lets."""
        names, pending, seen = [], [expression], set()
        lets = {let.name.text: let for let in self.run.policy.of_type(ast.Let)}
        while pending:
            for node in ast.walk(pending.pop(0)):
                if not isinstance(node, ast.Reference) or node.name in seen:
                    continue
                seen.add(node.name)
                if node.name in self.plan.metric_columns:
                    names.append(node.name)
                elif node.name in lets:
                    pending.append(lets[node.name].expression)
        return ", ".join(f"{name} = {self.value_text(name, self.row[self.plan.metric_columns[name]])}" for name in names)

    def let_kind(self, name: str) -> str:
        """The kind the checker gives a let: percent, duration, count, number or money."""
        from perfrules.check.expressions import kpi_levels
        from perfrules.check.kinds import KindChecker
        from perfrules.check.symbols import collect_symbols
        from perfrules.diagnostics import DiagnosticSink

        sink = DiagnosticSink()
        policy = self.run.policy
        return KindChecker(collect_symbols(policy, sink), sink, kpi_levels(policy)).let_kind(name)[0].value

    def source_text(self, node) -> str:
        return self.run.loaded.source.text[node.span.start:node.span.end]

    def text(self) -> str:
        row, words, policy = self.row, self.words, self.run.policy
        name = f"{row['_name']} ({row['_agent']})" if row["_name"] else row["_agent"]
        details = " · ".join(part for part in (row["_role"], row["_team"], row["_period"]) if part)
        self.say(f"{name} · {details}")
        self.say(f"{words['policy']}: {policy.name.value} {policy.version} ({self.run.loaded.display})")
        self.say()
        for kpi in self.plan.kpis:
            self.kpi(kpi)
        self.score()
        self.rank_veto_grade()
        self.bonus()
        self.plans()
        return "\n".join(self.out).rstrip("\n") + "\n"

    def kpi(self, kpi) -> None:
        row, words = self.row, self.words
        prefix = kpi.prefix
        weight = percent_text(kpi.kpi.weight)
        self.say(f"{words['kpi']} {kpi.kpi.name.value} ({words['weight']} {weight})")
        for name in kpi.reads:
            column = self.plan.metric_columns.get(name)
            if column is not None:
                self.say(f"{name} = {self.value_text(name, row[column])}", 1)
            elif isinstance(kpi.measure, ast.Reference) and kpi.measure.name == name:
                let = next((let for let in self.run.policy.of_type(ast.Let) if let.name.text == name), None)
                value = self.value_text(name, row[f"{prefix}_value"])
                if let is not None and self.let_kind(name) == "duration":  # in seconds, said so
                    value = duration_text(row[f"{prefix}_value"]) if row[f"{prefix}_value"] is not None else value
                if let is None:
                    self.say(f"{name} = {value}", 1)
                else:  # `→`: the value as computed, to six decimals (a quotient may be rounded)
                    inputs = self.inputs(let.expression)
                    self.say(f"{name} = {self.source_text(let.expression)}"
                             f"{f' ({inputs})' if inputs else ''} → {value}", 1)
        status = row[f"{prefix}_status"]
        points = row[f"{prefix}_points"]
        if status == "scored":
            line = row[f"{prefix}_line"]
            level = row[f"{prefix}_level"]
            shown = _exact_then_rounded(points)
            outcome = f"{self.level_text(level)} → {shown} {words['points']}" if level else f"{shown} {words['points']}"
            self.say(f"{self.line_text(line)}  ⇒ {outcome}", 1)
        else:
            reason = missing_reason(self.run.policy, kpi, row, self.plan.metric_columns, self.language)
            if status == "excluded":
                self.say(f"{reason}: {words['excluded']}", 1)
            else:
                level = row[f"{prefix}_level"]
                shown = f"{self.level_text(level)} ({plain(points)} {words['points']})" if level else f"{plain(points)} {words['points']}"
                self.say(f"{reason}: {words['substituted']} {shown}", 1)
        if status != "excluded":
            self.say(f"{plain(points)} × {weight} = {plain(points * kpi.kpi.weight)}", 1)
        self.say()

    def score(self) -> None:
        row, words = self.row, self.words
        used = [kpi for kpi in self.plan.kpis if row[f"{kpi.prefix}_status"] != "excluded"]
        products = [row[f"{kpi.prefix}_points"] * kpi.kpi.weight for kpi in used]
        terms = " + ".join(plain(product) for product in products)
        total_weight = sum((kpi.kpi.weight for kpi in used), Decimal(0))
        exact = sum(products, Decimal(0)) / total_weight
        # `=` only where the written arithmetic is exact; `≈` for a quotient with more than six
        # decimals; then the two decimals that reports show.
        six = round_half_up(exact, 6)
        base = exact if exact == six or total_weight == 1 else six  # the base as written, used below
        result = f"= {_exact_then_rounded(exact)}" if exact == six or total_weight == 1 else (
            f"≈ {_exact_then_rounded(six)}" if six != round_half_up(exact) else f"≈ {plain(round_half_up(exact))}")
        if total_weight == 1:
            self.say(f"{words['base']} = {terms} {result}")
        else:
            self.say(f"{words['base']} = ({terms}) ÷ {percent_text(total_weight)} {result}")
        totals = []
        for adjust in self.plan.adjusts:
            self.say(f"{words['adjust']} {adjust.adjust.name.value}:")
            raw = Decimal(0)
            for index, line in enumerate(adjust.lines):
                points = row[f"a{adjust.index}_{index}"] or Decimal(0)
                raw += points
                values = self.inputs(line.per if isinstance(line, ast.AdjustPer) else line.condition)
                detail = f" ({values})" if values else ""
                self.say(f"{self.line_text(line.span.line)}{detail}  ⇒ {_signed(points)}", 1)
            total = row[f"a{adjust.index}_total"]
            if adjust.limit is not None and total != raw:
                self.say(f"{words['total']} {_signed(raw)} → {words['limit']} {_signed(adjust.limit.low)} .. "
                         f"{_signed(adjust.limit.high)} → {_signed(total)}", 1)
            else:
                self.say(f"{words['total']} {_signed(total)}", 1)
            totals.append(total)
        raw_score = base + sum(totals, Decimal(0))
        score = row["score"]
        if totals:
            arithmetic = " ".join([plain(base)] + [_signed(total) for total in totals])
            line = f"{words['score']} = {arithmetic} = {_exact_then_rounded(raw_score)}"
        else:
            line = f"{words['score']} = {words['base']} = {_exact_then_rounded(raw_score)}"
        limit = self.run.policy.first(ast.ScoreLimit)
        if limit is not None and not limit.limit.low <= raw_score <= limit.limit.high:
            line += (f" → {words['score_limit']} {plain(limit.limit.low)} .. {plain(limit.limit.high)}"
                     f" → {_exact_then_rounded(score)}")
        self.say(line)
        self.say()

    def rank_veto_grade(self) -> None:
        row, words = self.row, self.words
        self.say(f"{words['rank']}: {row['rank']} / {row['rank_of']}")
        grade_line = row["grade_line"]
        rule = next((rule for rule in self.plan.grade_rules if rule.span.line == grade_line), None)
        if rule is not None:
            self.say(f"{words['grade']}: {self.line_text(grade_line)}  ⇒ {rule.grade.value}")
        elif not self.plan.grade_rules:
            self.say(f"{words['grade']}: {words['none']}")
        veto_line = row["veto_line"]
        if veto_line is not None:
            veto = next(veto for veto in self.plan.vetoes if veto.span.line == veto_line)
            values = self.inputs(veto.condition)
            detail = f" ({values})" if values else ""
            self.say(f"{words['veto']}: {self.line_text(veto_line)}{detail}  ⇒ {words['grade']} {veto.grade.value}")
        else:
            self.say(f"{words['veto']}: {words['none']}")
        self.say()

    def bonus(self) -> None:
        row, words = self.row, self.words
        amounts = []
        for index, bonus in enumerate(self.plan.bonuses):
            line = row[f"b{index}_line"]
            amount = row[f"b{index}_amount"]
            amounts.append(amount)
            self.say(f"{words['bonus']} {bonus.name.value}: {self.line_text(line)}  ⇒ {amount:.2f}")
            rule = next(rule for rule in bonus.rules if rule.span.line == line)
            share = None
            if isinstance(rule.amount, ast.AmountShareRange):
                share = self.tier(rule)
            elif isinstance(rule.amount, ast.AmountShare):
                share = rule.amount.share
            elif isinstance(rule.amount, ast.AmountExpression) and (values := self.inputs(rule.amount.expression)):
                self.say(values, 1)
            if share is not None:
                of = rule.amount.of
                if isinstance(of, ast.Reference) and of.name in self.plan.metric_columns:
                    value = row[self.plan.metric_columns[of.name]]
                    self.say(f"{percent_text(round_half_up(share, 6))} × {of.name} {self.value_text(of.name, value)}"
                             f" = {amount:.2f}", 1)
        if len(amounts) > 1:
            self.say(f"{words['bonus_total']} = {' + '.join(f'{amount:.2f}' for amount in amounts)} = "
                     f"{sum(amounts, Decimal(0)):.2f}")
        if amounts:
            self.say()

    def tier(self, rule: ast.BonusRule) -> Decimal:
        """Print the tier arithmetic of ``A%..B%`` and return the share."""
        from perfrules.engine.expressions import rank_key

        words = self.words
        condition: ast.RankCondition = rule.condition
        plan = next(plan for plan in self.plan.ranks if rank_key(plan.condition) == rank_key(condition))
        position = self.row[f"r{plan.index}_position"]
        size = self.row[f"r{plan.index}_size"]
        tier = Decimal(math.ceil(condition.amount * size)) if condition.is_percent else condition.amount
        low, high = rule.amount.low, rule.amount.high
        how = f"ceil({percent_text(condition.amount)} × {size})" if condition.is_percent else plain(condition.amount)
        self.say(f"{words['position']} {position}, {words['tier']} {how} = {plain(tier)}", 1)
        if tier <= 1:
            share = high
            self.say(f"{percent_text(high)}", 1)
        else:
            share = high - (high - low) * (position - 1) / (tier - 1)
            self.say(f"{percent_text(high)} − ({percent_text(high)} − {percent_text(low)}) × ({position} − 1) ÷ "
                     f"({plain(tier)} − 1) = {percent_text(round_half_up(share, 6))}", 1)
        return share

    def plans(self) -> None:
        words = self.words
        due = [plan for index, plan in enumerate(self.plan.plans) if self.row[f"p{index}_due"]]
        if not due:
            return
        end = period_end(self.run.period)
        self.say(f"{words['plans']}:")
        for plan in due:
            self.say(f"{plan.name.value} ({self.line_text(plan.span.line).rstrip(' {')})", 1)
            for action in plan.actions:
                self.say(f"- {action.text.value} ({words['due']} {(end + timedelta(days=action.days)).isoformat()})", 2)


def _signed(value) -> str:
    value = value or Decimal(0)
    return f"+{plain(value)}" if value >= 0 else plain(value)


def _exact_then_rounded(value: Decimal) -> str:
    """``90`` or ``85.714286 ≈ 85.71``: the exact value, and what reports show when it differs."""
    rounded = round_half_up(value)
    return plain(value) if rounded == value else f"{plain(value)} ≈ {plain(rounded)}"

