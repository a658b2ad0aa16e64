"""Running the tests of a checked test file: rows in memory, the real evaluation, comparisons.

Each ``test`` is one population: its agents' rows (``given``, then the agent's own values,
written as the text cells of a data file) are evaluated by
:func:`perfrules.engine.run.evaluate_rows`, the same validation, plan and DuckDB run as
``perfrules evaluate`` on a file holding those rows, and the typed results
(:mod:`perfrules.results`) are compared with the expectations.  Numbers compare exactly
after the rounding of the results (scores, points and money to 2 decimals, half up).  A
failure names the rule that decided a wrong number or grade, as explain does.  When the
evaluation refuses the rows (a missing value, an unmatched rule), ``expect ID error``
passes for each agent named in a problem; nothing else can be checked in that test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from perfrules import ast
from perfrules.check.model import PolicyModel
from perfrules.engine.run import EvaluationFailed, evaluate_rows
from perfrules.policytest import nodes
from perfrules.policytest.check import ROW_FIELDS, CheckedTests, is_fraction_of_percent, kpi_kind
from perfrules.policytest.coverage import covered_lines
from perfrules.result_model import AgentResult
from perfrules.results import iter_results
from perfrules.values import duration_text, percent_text, plain, quoted_cell, round_half_up
from perfrules.workspace import LoadedPolicy

KEY_COLUMNS = ["agent_id", "period", *ROW_FIELDS]


@dataclass(frozen=True)
class Rule:
    """Where the rule that decided is written, and its text."""

    file: str
    line: int
    text: str


@dataclass(frozen=True)
class Failure:
    line: int
    written: str  # the whole expectation as written (`expect A1 grade == "优秀"`)
    expect: str  # the expectation after its agent, as the JSON document quotes it
    actual: str
    decided_by: Rule | None = None


@dataclass
class Outcome:
    """One test's result: its failures, and the decision lines its agents exercised."""

    test: nodes.TestCase
    failures: list[Failure] = field(default_factory=list)
    covered: set = field(default_factory=set)

    @property
    def passed(self) -> bool:
        return not self.failures


def run_tests(checked: CheckedTests, loaded: LoadedPolicy, display: str, text: str) -> list[Outcome]:
    return [_Test(checked, loaded, display, text, test).run() for test in checked.file.tests]


class _Test:
    def __init__(self, checked: CheckedTests, loaded: LoadedPolicy, display: str, text: str, test: nodes.TestCase):
        self.checked, self.loaded, self.display, self.text, self.test = checked, loaded, display, text, test
        self.model: PolicyModel = loaded.model
        self.outcome = Outcome(test)

    def run(self) -> Outcome:
        headers, rows, row_of = self._rows()
        try:
            evaluation = evaluate_rows([self.loaded], headers, rows, self.display, self.checked.period)
        except EvaluationFailed as failed:
            self._refused(failed.problems, row_of)
            return self.outcome
        try:
            results = {result.agent_id: result for result in iter_results(evaluation)
                       if result.period == self.checked.period}
        finally:
            evaluation.connection.close()
        for result in results.values():
            self.outcome.covered |= covered_lines(self.model, result)
        for expectation in self.test.expectations:
            result = results.get(expectation.agent.value)
            if result is None:  # the check makes sure every agent has a row in the period
                self._fail(expectation, "no result for this agent")
            else:
                self._expect(expectation, result)
        return self.outcome

    # ---- rows -------------------------------------------------------------------------------

    def _rows(self):
        metrics = list(self.model.metrics)
        headers = KEY_COLUMNS + [metric.column for metric in metrics]
        given = {assignment.name.text: assignment.value
                 for statement in self.checked.file.of_type(nodes.Given) for assignment in statement.assignments}
        rows, row_of = [], {}
        for number, row in enumerate(self.test.agents, start=1):
            values = {**given, **{assignment.name.text: assignment.value for assignment in row.assignments}}
            role = values.get("role")
            cells = [row.agent.value, self.checked.row_period(row),
                     _text(role) if role is not None else self.checked.role,
                     *(_text(values.get(name)) for name in ROW_FIELDS[1:])]
            cells += [cell_text(values.get(metric.name.text), metric) for metric in metrics]
            rows.append((number, cells))
            row_of[number] = row
        return headers, rows, row_of

    # ---- a refused evaluation ------------------------------------------------------------------

    def _refused(self, problems, row_of: dict[int, nodes.AgentRow]) -> None:
        failing: dict[str, list[str]] = {}
        general = []
        for problem in problems:
            row = row_of.get(problem.row)
            if row is None:
                general.append(problem.message)
            else:
                message = problem.message if problem.column is None else \
                    f"column {problem.column}: '{quoted_cell(problem.text)}' {problem.message}"
                failing.setdefault(row.agent.value, []).append(message)
        first = (general or [message for messages in failing.values() for message in messages])[0]
        named = {expectation.agent.value for expectation in self.test.expectations}
        for expectation in self.test.expectations:
            problem = failing.get(expectation.agent.value)
            if expectation.form == "error":
                if problem is None:
                    self._fail(expectation, "no problem for this agent")
            elif problem is not None:
                self._fail(expectation, f"evaluation problem: {problem[0]}")
            else:
                self._fail(expectation, f"not evaluated: the evaluation stopped ({first})")
        for row in self.test.agents:
            if row.agent.value not in named:
                for message in failing.pop(row.agent.value, []):
                    self.outcome.failures.append(Failure(row.span.line, f"agent {row.agent.value}", "no error",
                                                         message))
        for message in general:
            self.outcome.failures.append(Failure(self.test.span.line, "the test's rows", "no error", message))
        self.outcome.failures.sort(key=lambda failure: failure.line)

    # ---- expectations -------------------------------------------------------------------------

    def _fail(self, expectation: nodes.Expectation, actual: str, decided_by: Rule | None = None) -> None:
        body = " ".join(self.text[expectation.body.start:expectation.body.end].split())
        written = " ".join(self.text[expectation.span.start:expectation.span.end].split())
        self.outcome.failures.append(Failure(expectation.span.line, written, body, actual, decided_by))

    def _expect(self, expectation: nodes.Expectation, result: AgentResult) -> None:
        form, subject = expectation.form, expectation.subject
        name = subject.value if subject is not None else None
        if form == "compare":
            self._compare(expectation, result)
        elif form == "kpi_is":
            kpi = next(entry for entry in result.kpis if entry.name == name)
            wanted = expectation.value.text
            actual = kpi.status if kpi.status != "scored" else kpi.level
            if actual != wanted and not (kpi.status == "substituted" and kpi.level == wanted):
                shown = actual if actual is not None else f"points {plain(round_half_up(kpi.points))} (no level)"
                self._fail(expectation, shown, self._kpi_rule(kpi))
        elif form in ("plan", "no_plan"):
            holds = any(plan.name == name for plan in result.plans)
            if holds != (form == "plan"):
                plan = next(plan for plan in self.model.plans if plan.name.value == name)
                self._fail(expectation, f"{'' if holds else 'no '}plan \"{name}\"", self._rule(plan))
        elif form == "award":
            held = [award.name for award in getattr(result, "awards", None) or ()]
            if name not in held:
                self._fail(expectation, "awards: " + (", ".join(f'"{award}"' for award in held) or "none"))
        elif form == "target":
            statuses = {target.name: target.status for target in getattr(result, "targets", None) or ()}
            if statuses.get(name) != expectation.value.text:
                self._fail(expectation, statuses.get(name) or "the target does not apply to this agent")
        elif form == "error":
            self._fail(expectation, f"no problem: score {_number(result.score)}, grade {_quoted(result.grade)}")

    def _compare(self, expectation: nodes.Expectation, result: AgentResult) -> None:
        field = expectation.field
        actual, shown, decided_by = self._actual(field, result)
        if isinstance(expectation.value, ast.PercentLiteral) and isinstance(actual, Decimal):
            shown = percent_text(actual)  # a ratio (handled / received) expected as 92% is shown so
        expected = _expected_value(expectation.value)
        if not _holds(expectation.operator, actual, expected):
            self._fail(expectation, shown, decided_by)

    def _actual(self, field: nodes.Field, result: AgentResult) -> tuple[object, str, Rule | None]:
        """The field's value as compared, as shown, and the rule that decided it."""
        name = field.name
        subject = field.subject.value if field.subject is not None else None
        if name in ("score", "base_score", "bonus_total"):
            value = _rounded(getattr(result, name))
            decided = self._bonus_total_rule(result) if name == "bonus_total" else None
            return value, _number(value), decided
        if name == "rank":
            return result.rank, _number(result.rank), None
        if name == "grade":
            veto = self.model.vetoes[result.veto_rule - 1].node if result.veto_rule else None
            grade = self.model.grade_rules[result.grade_rule - 1].node if result.grade_rule else None
            return result.grade, _quoted(result.grade), self._rule(veto or grade)
        if name == "veto":
            name_of = result.veto.name if result.veto else None
            return name_of, _quoted(name_of) if name_of else "none", self._rule(
                self.model.vetoes[result.veto_rule - 1].node if result.veto_rule else None)
        if name == "bonus":
            bonus = next(entry for entry in result.bonus if entry.name == subject)
            value = _rounded(bonus.amount)
            return value, _number(value), self._bonus_rule(bonus)
        kpi = next(entry for entry in result.kpis if entry.name == subject)
        if name == "kpi points":
            value = _rounded(kpi.points)
            return value, _number(value), self._kpi_rule(kpi)
        measured = next(entry for entry in self.model.kpis if entry.name == subject)
        return kpi.value, value_text(kpi.value, kpi_kind(self.model, measured).value), self._kpi_rule(kpi)

    # ---- the rule that decided -----------------------------------------------------------------

    def _rule(self, node) -> Rule | None:
        if node is None:
            return None
        return Rule(node.span.file or self.model.file, node.span.line, rule_text(self.model, node))

    def _kpi_rule(self, kpi) -> Rule | None:
        model = next(entry for entry in self.model.kpis if entry.name == kpi.name)
        rule = model.rule(kpi.rule)
        return self._rule(rule.node if rule else model.node)

    def _bonus_rule(self, bonus) -> Rule | None:
        model = next(entry for entry in self.model.bonuses if entry.name == bonus.name)
        rule = model.rule(bonus.rule)
        return self._rule(rule.node) if rule else None

    def _bonus_total_rule(self, result: AgentResult) -> Rule | None:
        """The rule of the first bonus that paid something, else of the first bonus."""
        paying = [bonus for bonus in result.bonus if bonus.amount] or result.bonus[:1]
        return self._bonus_rule(paying[0]) if paying else None


def rule_text(model: PolicyModel, node) -> str:
    """A decision line as written; a plan or a KPI by its first line (``plan "name" when COND``)."""
    if isinstance(node, ast.Plan):
        return f'plan "{node.name.value}" when {model.written(node.condition)}'
    if isinstance(node, ast.Kpi):  # a KPI left out or substituted: its first line
        return model.written(node).split(" {", 1)[0]
    return model.written(node)


def cell_text(value: nodes.Value | None, metric: ast.Metric) -> str | None:
    """A test's value as the data cell that means exactly it (``95%``, ``360s``, ``6000``)."""
    if value is None or isinstance(value, nodes.Missing):
        return None
    if metric.type.text == "percent" and is_fraction_of_percent(value):
        return percent_text(value.value)
    return _text(value)


def _text(value: nodes.Value | None) -> str | None:
    match value:
        case None | nodes.Missing():
            return None
        case ast.DurationLiteral():
            return f"{plain(value.seconds)}s"
        case ast.NumberLiteral():
            return plain(value.value)
        case ast.PercentLiteral():
            return percent_text(value.value)
        case ast.StringLiteral():
            return value.value
        case ast.Name():
            return value.text
        case ast.DateLiteral():
            return value.value.isoformat()
    raise AssertionError(f"a test value the check let through: {value!r}")


def _expected_value(value: nodes.Value):
    match value:
        case nodes.Missing():
            return None
        case ast.Name(text="none"):
            return None
        case ast.PercentLiteral() | ast.NumberLiteral():
            return value.value
        case ast.DurationLiteral():
            return value.seconds
        case ast.StringLiteral():
            return value.value
    return value


def _holds(operator: str, actual, expected) -> bool:
    if actual is None or expected is None:
        equal = actual is None and expected is None
        return equal if operator == "==" else (not equal) if operator == "!=" else False
    if isinstance(actual, str) != isinstance(expected, str):
        return operator == "!="
    return {"==": actual == expected, "!=": actual != expected, ">=": actual >= expected, "<=": actual <= expected,
            ">": actual > expected, "<": actual < expected}[operator]


def _rounded(value: Decimal | None) -> Decimal | None:
    return None if value is None else round_half_up(value)


def _number(value) -> str:
    return "missing" if value is None else plain(Decimal(value))


def _quoted(text: str | None) -> str:
    return "missing" if text is None else f'"{text}"'


def value_text(value, kind: str | None) -> str:
    """A KPI's measured value written as in a test file (``92%``, ``6min``, ``3``)."""
    if value is None:
        return "missing"
    if not isinstance(value, Decimal):
        return _quoted(str(value))
    if kind == "percent":
        return percent_text(value)
    if kind == "duration":
        return duration_text(value)
    return plain(value)
