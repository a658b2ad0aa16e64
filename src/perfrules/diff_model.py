"""The typed document of ``perfrules diff``: pydantic models, exact decimals.

Like the result document (:mod:`perfrules.result_model`), the diff document is built once
and every output derives from it: its JSON is the models' serialisation (``perfrules
schema diff`` prints the JSON Schema), the table, CSV and XLSX lay it out.  Keys are those
of cli.md; ``old_file``/``new_file`` of a policy change, the teams' ``rank_changed``,
``bonus_changed`` and ``bonus_delta``, ``team`` and ``warnings`` are additions.  Money
is summed exactly, from each agent's bonus total in cents (as the result shows it), so
the totals of the teams add up to the total, and old + delta is new.
"""

from __future__ import annotations

from pydantic import Field

from perfrules.result_model import PolicyStamp, Rounded, _Model


class PolicyChangeEntry(_Model):
    policy: str
    change: str = Field(description="what changed, in words")
    old_line: int | None
    new_line: int | None
    old_file: str | None = Field(description="the file the old version writes it in (a parent, for inherited statements)")
    new_file: str | None


class Outcome(_Model):
    """What one version of the policies gives an agent."""

    score: Rounded | None
    grade: str | None
    rank: int | None
    bonus_total: Rounded


class AgentChange(_Model):
    agent_id: str
    name: str | None
    team: str | None
    period: str
    old: Outcome | None = Field(description="null when the old policies do not evaluate the agent")
    new: Outcome | None = Field(description="null when the new policies do not evaluate the agent")


class TeamSummary(_Model):
    team: str | None
    agents: int
    grade_changed: int
    rank_changed: int
    bonus_changed: int
    bonus_total_old: Rounded
    bonus_total_new: Rounded
    bonus_delta: Rounded


class DiffSummary(_Model):
    agents: int = Field(description="agents compared (one per agent and period)")
    grade_changed: int
    rank_changed: int
    bonus_changed: int
    grades: dict[str, dict[str, int]] = Field(
        description='old grade → new grade → agents; "" stands for no grade (not evaluated by that version, '
                    "or its policy gives none)")
    bonus_total_old: Rounded
    bonus_total_new: Rounded
    bonus_delta: Rounded
    teams: list[TeamSummary]


class PolicyVersion(_Model):
    policies: list[PolicyStamp]


class DiffDocument(_Model):
    perfrules: str
    periods: list[str]
    data_sha256: str | None
    team: str | None = Field(default=None, description="the team of --team, else null")
    old: PolicyVersion
    new: PolicyVersion
    policy_changes: list[PolicyChangeEntry]
    summary: DiffSummary
    agents: list[AgentChange]
    warnings: list[str] = Field(default_factory=list)

    def to_json_data(self) -> dict:
        return self.model_dump(mode="json")


def diff_schema() -> dict:
    """The JSON Schema of the diff document (``perfrules schema diff``)."""
    schema = DiffDocument.model_json_schema(mode="serialization")
    schema["title"] = "perfrules diff document"
    return schema
