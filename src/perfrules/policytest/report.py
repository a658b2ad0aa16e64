"""The outcome of ``perfrules test``: the JSON document of cli.md and the text HR reads.

:class:`TestDocument` is the typed document (``perfrules schema test`` prints its JSON
Schema); the text report is laid out from the same document, so that both say the same.
Text is in English like every message of the command line; test names, grades and rule
texts appear as written, in whatever language they are.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from pydantic import BaseModel, ConfigDict, Field

from perfrules import __version__
from perfrules.policytest.run import rule_text
from perfrules.policytest.session import TestRun


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class DecidedBy(_Model):
    file: str
    line: int
    text: str = Field(exclude=True, description="the rule as written (text report)")


class FailureEntry(_Model):
    line: int
    expect: str = Field(description="the expectation after its agent, as written")
    actual: str = Field(description="the actual value, written as in a test file")
    decided_by: DecidedBy | None = Field(description="the rule that decided a wrong number or grade")
    written: str = Field(exclude=True, description="the whole expectation as written (text report)")


class TestEntry(_Model):
    file: str
    line: int
    name: str
    status: str = Field(description="pass or fail")
    failures: list[FailureEntry]


class UncoveredLine(_Model):
    file: str = Field(description="the file the line is written in (a parent's, for an inherited line)")
    line: int
    text: str


class CoverageEntry(_Model):
    policy: str
    file: str
    rules: int = Field(description="decision lines of the policy")
    covered: int
    uncovered: list[UncoveredLine]

    @property
    def percent(self) -> Decimal:
        return Decimal(100) if not self.rules else Decimal(self.covered * 100) / self.rules


class Diagnostic(_Model):
    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    severity: str
    code: str
    message: str
    hint: str | None


class TestDocument(_Model):
    perfrules: str
    files: list[str] = Field(description="the test files read")
    passed: int
    failed: int
    errors: int = Field(description="errors in test files and in the policies they test")
    tests: list[TestEntry]
    coverage: list[CoverageEntry] | None = Field(description="with --coverage or --min-coverage")
    diagnostics: list[Diagnostic] = Field(description="problems of the test files and of the policies they test")


def build_document(run: TestRun, with_coverage: bool) -> TestDocument:
    from perfrules.diagnostics import to_json

    tests = []
    for file, outcome in run.outcomes:
        failures = [FailureEntry(line=failure.line, expect=failure.expect, actual=failure.actual, written=failure.written,
                                 decided_by=DecidedBy(**vars(failure.decided_by)) if failure.decided_by else None)
                    for failure in outcome.failures]
        tests.append(TestEntry(file=file, line=outcome.test.span.line, name=outcome.test.name.value,
                               status="pass" if outcome.passed else "fail", failures=failures))
    coverage = None
    if with_coverage:
        coverage = []
        for display, entry in sorted(run.coverage.items()):
            model = entry.loaded.model
            coverage.append(CoverageEntry(
                policy=model.name, file=display, rules=len(entry.lines), covered=len(entry.lines) - len(entry.uncovered),
                uncovered=[UncoveredLine(file=line.node.span.file or display, line=line.line,
                                         text=rule_text(model, line.node)) for line in entry.uncovered]))
    return TestDocument(perfrules=__version__, files=run.files, passed=run.passed, failed=run.failed, errors=run.error_count,
                        tests=tests, coverage=coverage,
                        diagnostics=[Diagnostic(**to_json(item)) for item in run.diagnostics])


def minimum_coverage(text: str | None) -> Decimal | None:
    """``--min-coverage 90`` or ``90%``: a percentage from 0 to 100; ValueError with a sentence."""
    if text is None:
        return None
    try:  # Decimal reads `9_0` as 90: no underscore is taken
        value = None if "_" in text else Decimal(text.strip().removesuffix("%"))
    except ArithmeticError:
        value = None
    if value is None or not value.is_finite() or not 0 <= value <= 100:
        raise ValueError(f"--min-coverage {text}: give a percentage from 0 to 100, such as 90")
    return value


def below(document: TestDocument, minimum: Decimal | None) -> list[CoverageEntry]:
    """The policies whose coverage is below ``minimum`` percent."""
    if minimum is None or document.coverage is None:
        return []
    return [entry for entry in document.coverage if entry.percent < minimum]


def percent_shown(value: Decimal) -> str:
    """One decimal, rounded down: 89.96% shows 89.9%, never a 90% that fails --min-coverage 90."""
    shown = value.quantize(Decimal("0.1"), rounding=ROUND_FLOOR)
    return f"{shown.normalize():f}%" if shown == shown.to_integral_value() else f"{shown}%"


def render_text(document: TestDocument, minimum: Decimal | None) -> str:
    from perfrules.values import one_line

    lines = []
    for test in document.tests:
        lines.append(f"{'ok  ' if test.status == 'pass' else 'FAIL'}  {test.file}:{test.line}  {test.name}")
        for failure in test.failures:
            lines.append(f"        {test.file}:{failure.line}: {failure.written}")
            lines.append(f"          actual:     {failure.actual}")
            if failure.decided_by is not None:
                rule = failure.decided_by
                lines.append(f"          decided by: {rule.file}:{rule.line}: {rule.text}")
    if document.coverage:
        lines.append("")
        lines.append("coverage (decision lines that decided or applied for at least one agent):")
        for entry in document.coverage:
            lines.append(f"  {entry.file} ({entry.policy}): {entry.covered} of {entry.rules} lines, "
                         f"{percent_shown(entry.percent)}")
            for line in entry.uncovered:
                lines.append(f"    not covered: {line.file}:{line.line}: {line.text}")
    lines.append("")
    lines.append(summary(document))
    for entry in below(document, minimum):
        lines.append(f"coverage of {entry.file} is {percent_shown(entry.percent)}, below --min-coverage "
                     f"{percent_shown(minimum)}")
    return one_line("\n".join(lines), keep="\n") + "\n"


def summary(document: TestDocument) -> str:
    count = len(document.tests)
    files = len(document.files)
    text = f"{count} test{'s' if count != 1 else ''} in {files} file{'s' if files != 1 else ''}: " \
           f"{document.passed} passed, {document.failed} failed"
    if document.errors:
        text += f"; {document.errors} error{'s' if document.errors != 1 else ''} in test or policy files"
    return text


def test_schema() -> dict:
    """The JSON Schema of the ``perfrules test --format json`` document."""
    schema = TestDocument.model_json_schema(mode="serialization")
    schema["title"] = "perfrules test document"
    return schema
