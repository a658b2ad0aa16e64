"""Checking a test file against the checked model of the policy it tests.

Like a policy, a test file is checked before anything runs, and every problem is a
located diagnostic (PR9xx, docs/diagnostics.md): names that are not the policy's
metrics (with "did you mean"), values of the wrong kind or outside what the metric
allows (checked the way the policy's own literals are: ``90`` beside a percent is a
mistake, ``0.9`` is 90%), agents, KPIs, bonuses, plans, awards, targets, levels, grades
and vetoes that the policy or the test does not have, things given twice, periods of the
wrong kind.  What the check settles (each row's period, the role given by default) is
kept in :class:`CheckedTests` for the runner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from perfrules import ast
from perfrules.check.kinds import Kind
from perfrules.check.model import PolicyModel
from perfrules.diagnostics import Diagnostic, DiagnosticSink, did_you_mean
from perfrules.engine.standing import TARGET_STATUSES
from perfrules.policytest import nodes
from perfrules.values import PERIOD_EXAMPLES, period_kind, plain

ROW_FIELDS = ("role", "team", "name", "supervisor")  # besides the metrics, what an agent's row may set
NUMBER_FIELDS = ("score", "base_score", "bonus_total", "bonus", "kpi points")
TEXT_FIELDS = ("grade", "veto")
KPI_STATES = ("excluded", "substituted")
EQUALITY = ("==", "!=")
METRIC_KINDS = {"percent": Kind.PERCENT, "duration": Kind.DURATION, "count": Kind.COUNT, "number": Kind.NUMBER,
                "money": Kind.MONEY, "text": Kind.TEXT, "bool": Kind.BOOL}
BOOL_WORDS = ("true", "false", "yes", "no")


@dataclass
class CheckedTests:
    """A test file that checked clean enough to run: its period and the default role."""

    file: nodes.TestFile
    period: str
    role: str | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def row_period(self, row: nodes.AgentRow) -> str:
        return normal_period(row.period.text) if row.period else self.period


def normal_period(text: str) -> str:
    """``2026-1`` as ``2026-01``, ``2026-q4`` as ``2026-Q4``; a year as it is."""
    if "-" not in text:
        return text
    year, part = text.split("-", 1)
    return f"{year}-{part.upper()}" if part[:1] in "qQ" else f"{year}-{int(part):02d}"


def current_period(kind: str, today: date) -> str:
    if kind == "quarter":
        return f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    if kind == "year":
        return str(today.year)
    return f"{today.year}-{today.month:02d}"


def check_tests(tests: nodes.TestFile, model: PolicyModel, today: date) -> CheckedTests:
    sink = DiagnosticSink()
    checker = _Checker(tests, model, sink)
    period = checker.period(today)
    checked = CheckedTests(tests, period, model.policy.roles[0].text if model.policy.roles else None)
    checker.run(checked)
    checked.diagnostics = sink.items
    return checked


class _Checker:
    def __init__(self, tests: nodes.TestFile, model: PolicyModel, sink: DiagnosticSink):
        self.tests, self.model, self.sink = tests, model, sink
        self.kind_of_period = model.policy.period

    # ---- the file's statements ------------------------------------------------------

    def period(self, today: date) -> str:
        statements = self.tests.of_type(nodes.TestPeriod)
        self._once(statements, "`period`")
        if not statements:
            return current_period(self.kind_of_period, today)
        return self._period(statements[0].value) or current_period(self.kind_of_period, today)

    def _once(self, statements: list, what: str) -> None:
        for statement in statements[1:]:
            self.sink.report("PR908", f"{what} is given twice in this file (first on line {statements[0].span.line})",
                             statement.span, "keep one")

    def _period(self, written: nodes.PeriodText) -> str | None:
        text = written.text
        kind = period_kind(text)
        example = PERIOD_EXAMPLES[self.kind_of_period]
        if kind == "month" and not 1 <= int(text.split("-", 1)[1]) <= 12:
            self.sink.report("PR909", f"{text} is not a month", written.span, f"write a period like {example}")
            return None
        if not "0001" <= text[:4] <= "9989" or kind == "year" and len(text) != 4:
            self.sink.report("PR909", f"{text} is not a period", written.span, f"write a period like {example}")
            return None
        if kind != self.kind_of_period:
            self.sink.report("PR909", f"the policy reviews {self.kind_of_period}s, but {text} is a {kind}",
                             written.span, f"write a period like {example}")
            return None
        return normal_period(text)

    def run(self, checked: CheckedTests) -> None:
        givens = self.tests.of_type(nodes.Given)
        self._once(givens, "`given`")
        for given in givens:
            self._assignments(given.assignments)
        names: dict[str, nodes.TestCase] = {}
        for test in self.tests.tests:
            first = names.setdefault(test.name.value, test)
            if first is not test:
                self.sink.report("PR908", f"two tests are named \"{test.name.value}\" (first on line {first.span.line})",
                                 test.name.span, "give each test its own name")
            self._test(test, checked)

    # ---- values -------------------------------------------------------------------------

    def _assignments(self, assignments: tuple[nodes.Assignment, ...]) -> None:
        seen: dict[str, nodes.Assignment] = {}
        for assignment in assignments:
            name = assignment.name.text
            first = seen.setdefault(name, assignment)
            if first is not assignment:
                self.sink.report("PR908", f"{name} is given twice in this block (first on line {first.span.line})",
                                 assignment.span, "keep one value")
            self._assignment(assignment)

    def _assignment(self, assignment: nodes.Assignment) -> None:
        name, value = assignment.name.text, assignment.value
        if name in ROW_FIELDS:
            self._row_field(name, value)
            return
        metric = self.model.metric(name)
        if metric is None:
            if name in ("agent_id", "period"):
                hint = "an agent's id is written after `agent`, an earlier period as `agent ID in 2026-10 { ... }`"
            else:
                hint = did_you_mean(name, [*self.model.symbols.metrics, *ROW_FIELDS])
                if hint is None and name in self.model.symbols.lets:
                    hint = f"{name} is a `let` of the policy: it is worked out from the metrics; set those instead"
            self.sink.report("PR902", f"'{name}' is not a metric of policy \"{self.model.name}\"", assignment.name.span,
                             hint)
            return
        if not isinstance(value, nodes.Missing):
            self.value(value, METRIC_KINDS.get(metric.type.text, Kind.UNKNOWN), f"metric {name}", metric.unit)

    def _row_field(self, name: str, value: nodes.Value) -> None:
        if name == "role":
            if not isinstance(value, (ast.Name, ast.StringLiteral)):
                self.sink.report("PR903", "a role is a name, such as one of the policy's `roles`", value.span,
                                 "write role = " + " or ".join(role.text for role in self.model.policy.roles[:2]))
                return
            role = value.text if isinstance(value, ast.Name) else value.value
            roles = [role.text for role in self.model.policy.roles]
            if role not in roles:
                self.sink.report("PR906", f"'{role}' is not one of the roles of policy \"{self.model.name}\" "
                                          f"({', '.join(roles)})", value.span, did_you_mean(role, roles))
        elif not isinstance(value, (ast.Name, ast.StringLiteral, nodes.Missing)):
            self.sink.report("PR903", f"{name} is a text", value.span, "write it in quotes, for example team = \"售后一组\"")

    def value(self, value: nodes.Value, kind: Kind, what: str, unit: str | None = None) -> None:
        """Report a value that is not of ``kind`` (or outside what a ``what`` allows)."""
        if kind is Kind.UNKNOWN or isinstance(value, nodes.Missing):
            return
        match value:
            case ast.PercentLiteral() if kind is Kind.PERCENT:
                if not 0 <= value.value <= 1:
                    self._outside(value, f"{what} is a percentage between 0% and 100%, not {value.text}")
            case ast.NumberLiteral() if kind is Kind.PERCENT:
                if not 0 <= value.value <= 1:
                    self._wrong(value, f"{what} is a percentage, not the plain number {value.text}",
                                f"did you mean {value.text}%?" if value.value > 1 else None)
            case ast.DurationLiteral() if kind is Kind.DURATION:
                pass
            case ast.NumberLiteral() if kind is Kind.DURATION:
                self._wrong(value, f"{what} is a duration, not the plain number {value.text}",
                            f"write a unit: {value.text}{unit or 'min'}")
            case ast.NumberLiteral() if kind is Kind.COUNT:
                if value.value < 0 or value.value != value.value.to_integral_value():
                    self._outside(value, f"{what} is a count (a whole number, at least 0), not {value.text}")
            case ast.NumberLiteral() if kind is Kind.MONEY:
                if value.value < 0:
                    self._outside(value, f"{what} is an amount of money (at least 0), not {value.text}")
            case ast.NumberLiteral() if kind is Kind.NUMBER:
                pass
            case ast.StringLiteral() | ast.Name() if kind is Kind.TEXT:
                pass
            case ast.Name() if kind is Kind.BOOL and value.text in BOOL_WORDS:
                pass
            case _:
                self._wrong(value, f"{what} is {_a(kind)}, not {_written(value)}", _hint_for(kind))

    def _wrong(self, value, message: str, hint: str | None) -> None:
        self.sink.report("PR903", message, value.span, hint)

    def _outside(self, value, message: str) -> None:
        self.sink.report("PR904", message, value.span)

    # ---- tests -------------------------------------------------------------------------------

    def _test(self, test: nodes.TestCase, checked: CheckedTests) -> None:
        rows: dict[tuple[str, str], nodes.AgentRow] = {}
        for row in test.agents:
            period = checked.period
            if row.period is not None:
                period = self._period(row.period)
                if period is not None and period >= checked.period:
                    self.sink.report("PR909", f"a row `in {row.period.text}` must be for a period before the "
                                              f"test's ({checked.period})", row.period.span,
                                     "rows of the tested period are written without `in`")
                    self._assignments(row.assignments)
                    continue  # not a row of any period: no second error for it as a duplicate
            first = rows.setdefault((row.agent.value, period), row)
            if first is not row:
                self.sink.report("PR908", f"agent {row.agent.value} has two rows for {period} in this test "
                                          f"(first on line {first.span.line})", row.agent.span,
                                 "set all of the agent's values in one block")
            self._assignments(row.assignments)
        agents = [agent for agent, period in rows if period == checked.period]
        if not test.expectations:
            self.sink.report("PR910", f"test \"{test.name.value}\" expects nothing, so it cannot fail", test.name.span,
                             "add an `expect` line")
        for expectation in test.expectations:
            if expectation.agent.value not in agents:
                earlier = any(agent == expectation.agent.value for agent, _ in rows)
                hint = (f"agent {expectation.agent.value} has rows only in earlier periods; add `agent "
                        f"{expectation.agent.value} {{ }}` for {checked.period}") if earlier else did_you_mean(
                    expectation.agent.value, agents)
                self.sink.report("PR905", f"no agent {expectation.agent.value} in test \"{test.name.value}\"",
                                 expectation.agent.span, hint or "declare it with `agent ID { ... }` in this test")
            self._expectation(expectation)

    def _expectation(self, expectation: nodes.Expectation) -> None:
        form = expectation.form
        if form == "compare":
            self._compare(expectation)
        elif form == "kpi_is":
            kpi = self._known(expectation.subject, "KPI", [kpi.name for kpi in self.model.kpis])
            levels = [*self.model.symbols.levels, *KPI_STATES]
            level = expectation.value
            if kpi is not None and level.text not in levels:
                self.sink.report("PR906", f"'{level.text}' is not a level of policy \"{self.model.name}\", nor "
                                          f"excluded or substituted", level.span, did_you_mean(level.text, levels))
            elif kpi is not None and level.text in KPI_STATES and level.text in self.model.symbols.levels:
                # `is excluded` would hold for the KPI left out and for the one scored at that level
                self.sink.report("PR907", f"'{level.text}' is a level of policy \"{self.model.name}\" and a state of "
                                          f"a KPI: the expectation would say two things", level.span,
                                 f"rename the level in the policy (its results, too, show '{level.text}' as a "
                                 f"level beside the state '{level.text}')")
        elif form in ("plan", "no_plan"):
            self._known(expectation.subject, "plan", [plan.name.value for plan in self.model.plans])
        elif form in ("award", "target"):
            self._award_or_target(expectation)

    def _award_or_target(self, expectation: nodes.Expectation) -> None:
        form = expectation.form
        statements = self.model.policy.of_type(ast.Award if form == "award" else ast.Target)
        names = [(statement.title if form == "award" else statement.name).value for statement in statements]
        self._known(expectation.subject, form, names)
        if form == "target" and expectation.value.text not in TARGET_STATUSES:
            status = expectation.value
            self.sink.report("PR906", f"'{status.text}' is not a target status ({', '.join(TARGET_STATUSES)})",
                             status.span, did_you_mean(status.text, TARGET_STATUSES))

    def _known(self, subject: ast.Text, what: str, names: list[str]) -> str | None:
        if subject.value in names:
            return subject.value
        self.sink.report("PR906", f"policy \"{self.model.name}\" has no {what} \"{subject.value}\"", subject.span,
                         did_you_mean(subject.value, names, quote='"'))
        return None

    def _compare(self, expectation: nodes.Expectation) -> None:
        field, value, operator = expectation.field, expectation.value, expectation.operator
        name = field.name
        if isinstance(value, nodes.Missing) or (name == "veto" and isinstance(value, ast.Name)
                                                   and value.text == "none"):
            if operator not in EQUALITY:
                self.sink.report("PR911", f"`{_written(value)}` is compared with == or !=, not {operator}",
                                 expectation.body)
            return
        if name in TEXT_FIELDS:
            self._text_field(expectation)
        elif name == "rank":
            if not isinstance(value, ast.NumberLiteral) or value.value < 1 \
                    or value.value != value.value.to_integral_value():
                self._wrong(value, f"a rank is a whole number from 1, not {_written(value)}", None)
        elif name == "kpi value":
            kpi = self._kpi_of(field)
            kind = kpi_kind(self.model, kpi) if kpi is not None else Kind.UNKNOWN
            if kind is Kind.NUMBER and isinstance(value, ast.PercentLiteral):
                return  # a ratio worked out by a `let` (handled / received) compares with 92% as in the policy
            if kpi is not None:
                self.value(value, kind, f"the value of KPI \"{kpi.name}\"", kpi.metric.unit if kpi.metric else None)
        else:
            if name == "bonus":
                self._known(field.subject, "bonus", [bonus.name for bonus in self.model.bonuses])
            elif name == "kpi points":
                self._kpi_of(field)
            self._number(value, name)

    def _text_field(self, expectation: nodes.Expectation) -> None:
        field, value = expectation.field, expectation.value
        if expectation.operator not in EQUALITY:
            self.sink.report("PR911", f"{field.name} is a name and is compared with == or !=, not "
                                      f"{expectation.operator}", expectation.body)
            return
        if not isinstance(value, ast.StringLiteral):
            hint = 'write it in quotes, or `none` for no veto' if field.name == "veto" else "write it in quotes"
            self._wrong(value, f"a {field.name} is a quoted name, not {_written(value)}", hint)
            return
        if field.name == "grade":
            grades = list(self.model.symbols.grades)
            if value.value not in grades:
                self.sink.report("PR906", f"policy \"{self.model.name}\" gives no grade \"{value.value}\"", value.span,
                                 did_you_mean(value.value, grades, quote='"'))
        else:
            self._known(ast.Text(value.value, value.span), "veto",
                        [veto.node.name.value for veto in self.model.vetoes])

    def _number(self, value: nodes.Value, name: str) -> None:
        if not isinstance(value, ast.NumberLiteral):
            what = "an amount of money" if "bonus" in name else "a number of points"
            self._wrong(value, f"{name} is {what}, not {_written(value)}", "write a plain number, such as 90")
        elif -value.value.as_tuple().exponent > 2:
            self._wrong(value, f"{name} is compared after rounding to 2 decimals, so {value.text} can never match",
                        f"write {plain(round(value.value, 2))}")

    def _kpi_of(self, field: nodes.Field):
        name = self._known(field.subject, "KPI", [kpi.name for kpi in self.model.kpis])
        return next((kpi for kpi in self.model.kpis if kpi.name == name), None)



def kpi_kind(model: PolicyModel, kpi) -> Kind:
    """The kind of the value a KPI measures (its metric's, or its `let`'s)."""
    if kpi.metric is not None:
        return METRIC_KINDS.get(kpi.metric.type.text, Kind.UNKNOWN)
    if isinstance(kpi.measure, ast.Reference):
        return model.kind(kpi.measure.name)
    return Kind.UNKNOWN


def _a(kind: Kind) -> str:
    return {Kind.PERCENT: "a percentage", Kind.DURATION: "a duration", Kind.COUNT: "a count", Kind.NUMBER: "a number",
            Kind.MONEY: "an amount of money", Kind.TEXT: "a text", Kind.BOOL: "true or false"}.get(kind, kind.value)


def _hint_for(kind: Kind) -> str | None:
    return {Kind.PERCENT: "write a percentage like 92%", Kind.DURATION: "write a duration like 6min",
            Kind.COUNT: "write a whole number like 3", Kind.NUMBER: "write a plain number like 4.5",
            Kind.MONEY: "write an amount like 6000", Kind.TEXT: 'write it in quotes, like "售后一组"',
            Kind.BOOL: "write true or false"}.get(kind)


def _written(value: nodes.Value) -> str:
    match value:
        case ast.NumberLiteral() | ast.PercentLiteral() | ast.DurationLiteral():
            return value.text
        case ast.StringLiteral():
            return f'the text "{value.value}"'
        case ast.DateLiteral():
            return f"the date {value.value.isoformat()}"
        case ast.Name():
            return f"'{value.text}'"
        case nodes.Missing():
            return "missing"
    return "this value"


def is_fraction_of_percent(value: nodes.Value) -> bool:
    """A bare number between 0 and 1 written for a percent is that fraction (as in a policy)."""
    return isinstance(value, ast.NumberLiteral) and Decimal(0) <= value.value <= 1
