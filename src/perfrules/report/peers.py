"""What one agent's figures are compared with: the medians of their team and of everyone
evaluated by the policy, and the sample size below which a KPI's value says little.

A median is taken over at least :data:`MIN_GROUP` values (the agent's team when it has that
many, else everyone evaluated by the policy; fewer and there is no comparison worth printing).
A KPI whose metric declares a sample (``sample csat_responses at least 10``) is measured on a
*small sample* when the agent's count is below :data:`SMALL_SAMPLE_SHARE` of the median count
of everyone evaluated (under the declared minimum the value is missing anyway): its value is
shown with a mark and it is neither a strength nor a weakness.  The team summary states the
floor.  Teams with fewer than :data:`MIN_GROUP` agents have their averages flagged.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from decimal import Decimal

from perfrules.check.model import KpiModel, PolicyModel
from perfrules.result_model import AgentResult

MIN_GROUP = 5
SMALL_SAMPLE_SHARE = Decimal("0.25")


@dataclass(frozen=True)
class SampleFloor:
    """The sample count (``csat_responses``) under which a KPI's value is a small sample."""

    count: str  # the count metric's name
    median: Decimal
    floor: Decimal  # SMALL_SAMPLE_SHARE of the median

    def is_small(self, count: Decimal | None) -> bool:
        return count is not None and count < self.floor


class Peers:
    """The medians and sample floors of one policy run."""

    def __init__(self, model: PolicyModel, results: list[AgentResult]):
        self.model = model
        self._values: dict[tuple[str | None, int], list[Decimal]] = {}
        for result in results:
            for index, outcome in enumerate(result.kpis):
                if outcome.value is None:
                    continue
                self._values.setdefault((None, index), []).append(outcome.value)
                if result.team is not None:
                    self._values.setdefault((result.team, index), []).append(outcome.value)
        self._medians: dict[tuple[str | None, int], Decimal] = {}
        self.floors: dict[str, SampleFloor] = {}
        for kpi in model.kpis:
            sample = kpi.metric.sample if kpi.metric is not None else None
            if sample is None or sample[0] in self.floors:
                continue
            counts = [result.metrics.get(sample[0]) for result in results]
            present = [count for count in counts if count is not None]
            if len(present) >= MIN_GROUP:
                median = statistics.median(present)
                self.floors[sample[0]] = SampleFloor(sample[0], median, median * SMALL_SAMPLE_SHARE)

    def median(self, index: int, team: str | None) -> tuple[str, Decimal] | None:
        """("team" | "all", median) of KPI ``index``'s values, for an agent of ``team``."""
        for scope, key in (("team", team), ("all", None)):
            if scope == "team" and team is None:
                continue
            values = self._values.get((key, index), [])
            if len(values) >= MIN_GROUP:
                if (key, index) not in self._medians:  # once per team, not once per agent
                    self._medians[(key, index)] = statistics.median(values)
                return scope, self._medians[(key, index)]
        return None

    def sample_floor(self, kpi: KpiModel) -> SampleFloor | None:
        sample = kpi.metric.sample if kpi.metric is not None else None
        return self.floors.get(sample[0]) if sample else None

    def small_sample(self, kpi: KpiModel, counts: dict) -> SampleFloor | None:
        """The floor this agent's sample for ``kpi`` is under, or None."""
        floor = self.sample_floor(kpi)
        if floor is None:
            return None
        return floor if floor.is_small(counts.get(floor.count)) else None


def floor_text(floor: Decimal) -> str:
    """The smallest whole count that is not small: a floor of 2.5 surveys is "fewer than 3"."""
    return str(math.ceil(floor))
