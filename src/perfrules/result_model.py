"""The typed result: one pydantic model per agent, in exact decimals.

Every output derives from these models and none recomputes arithmetic: the JSON
document is their serialisation (``perfrules schema result`` prints its JSON
Schema), ``explain`` words them, the review packet lays them out.  Numbers are held
exactly as the engine computed them (``Decimal``); rounding happens only when a
model is written: scores, points and money to two decimals half up, percent values
as fractions, durations in seconds, counts as whole numbers (cli.md).  Fields that
only explain and the packet need (the rule that decided, effective weights, the
points each KPI contributes, tier positions) are part of the model but not of the
JSON document, so the document stays exactly as the spec lays it out.
"""

from __future__ import annotations

from decimal import Decimal
from collections.abc import Iterable, Iterator
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_serializer

from perfrules.values import round_half_up


def _two_places(value: Decimal | None) -> float | None:
    return None if value is None else float(round_half_up(value, 2))


def _exact(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


Rounded = Annotated[Decimal, PlainSerializer(_two_places, return_type=float)]
"""A score, points or an amount of money: exact in the model, two decimals in JSON."""
Fraction = Annotated[Decimal, PlainSerializer(_exact, return_type=float)]
"""A weight or share as a fraction (0.4 for 40%)."""


def metric_json(value: Any, kind: str | None) -> Any:
    """A measured value as the spec writes it: fraction, seconds, whole count, money, text."""
    if not isinstance(value, Decimal):
        return value
    if kind == "count":
        return int(value)
    if kind == "money":
        return _two_places(value)
    return float(value)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)


class KpiResult(_Model):
    name: str
    value: Annotated[Any, Field(description="the measured value: a fraction for percents, seconds for durations")]
    level: str | None
    points: Rounded | None
    weight: Fraction
    status: str = Field(description="scored, excluded, substituted")
    line: int = Field(description="the line of the rule that decided, else of the KPI")
    reason: str | None = Field(default=None, exclude_if=lambda reason: reason is None,
                               description="why the KPI was excluded or substituted (only then)")
    # Not in the JSON document: for explain and the packet.
    value_kind: str | None = Field(default=None, exclude=True)
    rule: int | None = Field(default=None, exclude=True, description="the ordinal of the deciding rule")
    weighted: Decimal | None = Field(default=None, exclude=True, description="points × the declared weight, exact")
    effective_weight: Decimal = Field(default=Decimal(0), exclude=True, description="the weight's share of the base score")
    contribution: Decimal | None = Field(default=None, exclude=True, description="points × effective weight, exact")
    contribution_shown: Decimal | None = Field(default=None, exclude=True,
                                               description="the contribution in two decimals, adding up to the base score shown")

    @field_serializer("value")
    def _value_in_units(self, value: Any) -> Any:
        """``value`` in the spec's units: a whole count, money in cents, a fraction, seconds."""
        return metric_json(value, self.value_kind)


class Adjustment(_Model):
    block: str
    label: str
    points: Rounded
    line: int


class VetoHit(_Model):
    name: str
    line: int


class BonusResult(_Model):
    name: str
    amount: Rounded | None
    line: int | None
    # For explain: the rule that decided and, for A%..B% tiers, the position and tier size.
    rule: int | None = Field(default=None, exclude=True)
    tier_position: int | None = Field(default=None, exclude=True)
    tier_group: int | None = Field(default=None, exclude=True)
    tier_size: int | None = Field(default=None, exclude=True, description="how many positions the tier holds")
    share: Decimal | None = Field(default=None, exclude=True, description="the share of `of` paid, exact")


class PlanAction(_Model):
    text: str
    due: str


class PlanDue(_Model):
    name: str
    actions: list[PlanAction]


def _four_places(value: Decimal | None) -> float | None:
    return None if value is None else float(round_half_up(value, 4))


Share = Annotated[Decimal, PlainSerializer(_four_places, return_type=float)]
"""Progress or time elapsed as a fraction with four decimals (cli.md)."""


class GoalResult(_Model):
    """One goal line of a SMART target (language.md §13), values in the result's units."""

    name: str = Field(description="the metric or let the goal is on")
    cmp: str
    goal: Any
    deadline: str | None = Field(description="YYYY-MM-DD")
    start: str | None = Field(description="the day the target was set (from DATE), YYYY-MM-DD, else null")
    baseline: Any
    value: Any
    progress: Share | None
    expected: Share | None
    status: str = Field(description="achieved, on_track, at_risk, not_met, missed or no_data")
    line: int
    # Not in the JSON document: for explain and the packet.
    value_kind: str | None = Field(default=None, exclude=True)
    met: bool | None = Field(default=None, exclude=True)
    baseline_given: bool = Field(default=False, exclude=True, description="the baseline came from `from VALUE`")
    file: str | None = Field(default=None, exclude=True, description="the inherited file the line is written in")

    @field_serializer("goal", "baseline", "value")
    def _in_units(self, value: Any) -> Any:
        return metric_json(value, self.value_kind)


class TargetResult(_Model):
    name: str
    line: int
    status: str = Field(description="the worst status of its goals")
    goals: list[GoalResult]


class AwardPeriod(_Model):
    period: str
    state: str = Field(description="held, not_held, no_row, no_period or error")


class AwardResult(_Model):
    name: str
    line: int
    periods: int = Field(description="N of `for N periods` (1 without it)")
    # Not in the JSON document: which periods held, for explain and the packet.
    streak: list[AwardPeriod] = Field(default_factory=list, exclude=True, description="latest period first")
    held: bool = Field(default=True, exclude=True)


class AgentResult(_Model):
    agent_id: str
    name: str | None
    role: str | None
    team: str | None
    period: str
    policy: str
    kpis: list[KpiResult]
    base_score: Rounded | None
    adjustments: list[Adjustment]
    score: Rounded | None
    rank: int | None
    rank_of: int | None
    veto: VetoHit | None
    grade: str | None
    bonus: list[BonusResult]
    bonus_total: Rounded
    plans: list[PlanDue]
    targets: list[TargetResult] = Field(default_factory=list, description="the SMART targets that apply to the agent")
    awards: list[AwardResult] = Field(default_factory=list, description="the awards the agent holds")
    # Not in the JSON document: what explain and the packet read beside the result.
    supervisor: str | None = Field(default=None, exclude=True)
    metrics: dict[str, Any] = Field(default_factory=dict, exclude=True, description="each metric's value as evaluated")
    counted_weight: Decimal = Field(default=Decimal(0), exclude=True, description="the weights of the KPIs counted")
    raw_score: Decimal | None = Field(default=None, exclude=True, description="base score + adjustments, before a score limit")
    adjust_totals: list[Decimal | None] = Field(default_factory=list, exclude=True)
    adjust_lines: list[list[Decimal]] = Field(default_factory=list, exclude=True)
    grade_rule: int | None = Field(default=None, exclude=True)
    veto_rule: int | None = Field(default=None, exclude=True)
    swot_holds: list[bool] = Field(default_factory=list, exclude=True)
    rank_positions: list[tuple[int | None, int | None]] = Field(default_factory=list, exclude=True)
    award_streaks: list[AwardResult] = Field(default_factory=list, exclude=True,
                                             description="every award of the policy, held or not, with its streak")


class FileStamp(_Model):
    """The receipt of a policy file: what was read, and where git has it."""

    file: str
    sha256: str
    git_commit: str | None
    git_dirty: bool | None = None


class PolicyStamp(_Model):
    name: str
    version: str
    file: str
    sha256: str
    git_commit: str | None
    git_dirty: bool | None = None
    extends: list[FileStamp] = Field(default_factory=list, description="the inherited files, nearest parent first")


class ResultDocument(_Model):
    perfrules: str
    period: str | None
    data_sha256: str | None = None
    policies: list[PolicyStamp]
    results: list[AgentResult]
    warnings: list[str]

    def to_json_data(self) -> dict:
        """The document as cli.md lays it out (plain JSON values)."""
        return self.model_dump(mode="json")

    def json_chunks(self, results: Iterable[AgentResult] | None = None) -> Iterator[str]:
        """The JSON text of the document, one result at a time (``results``, when given, stream
        in place of ``self.results``), so that memory stays flat however many agents there are.

        The text around the results is the document's own serialisation with no results; a
        quote inside any string is escaped there, so ``"results": []`` occurs exactly once.
        """
        empty = self.model_copy(update={"results": []}).model_dump_json(indent=2)
        head, tail = empty.split('"results": []', 1)
        yield head + '"results": ['
        count = 0
        for result in self.results if results is None else results:
            yield ("," if count else "") + "\n    " + result.model_dump_json(indent=2).replace("\n", "\n    ")
            count += 1
        yield ("\n  ]" if count else "]") + tail + "\n"


def result_schema() -> dict:
    """The JSON Schema of the result document (``perfrules schema result``)."""
    schema = ResultDocument.model_json_schema(mode="serialization")
    schema["title"] = "perfrules result document"
    return schema
