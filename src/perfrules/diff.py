"""``perfrules diff``: the same data under two versions of the policies, and who changes.

HR try a policy change on last month's data before it ships (cli.md ``perfrules diff``).
The data is evaluated under the old and the new policies for each period asked (without
``--period``, each policy in the periods either version chose for it), each
through the one evaluation path of ``evaluate`` (:func:`perfrules.engine.run.evaluate_files`
and the typed results of :mod:`perfrules.results`): nothing is recomputed here.  The
agents' typed results (streamed; only the compared facts are kept, :class:`Seen`) are
matched by agent and period and compared as the result shows them (score and money in
two decimals, grade, rank): an agent is a mover when one of these differs, or when only
one version evaluates them.  The summary counts the changes, crosses old and new grades,
and adds the bonus totals exactly in cents, overall and per team; ``--team`` keeps one
team (the pilot group of a trial run) in both.  The policy changes come from
:mod:`perfrules.policy_diff`.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from perfrules import __version__
from perfrules.data.validate import DataProblem
from perfrules.diff_model import (
    AgentChange, DiffDocument, DiffSummary, Outcome, PolicyChangeEntry, PolicyVersion, TeamSummary,
)
from perfrules.engine.run import Evaluation, EvaluationFailed, NoRowsForPeriod, evaluate_files
from perfrules.policy_diff import policy_changes
from perfrules.result_model import AgentResult, PolicyStamp
from perfrules.results import build_results, iter_results
from perfrules.values import round_half_up
from perfrules.workspace import PolicySet

NO_GRADE = ""  # the grade matrix's key for "no grade" (cli.md's JSON has no null keys)


class UnknownTeam(Exception):
    """``--team`` names a team that no evaluated agent belongs to."""

    def __init__(self, team: str, known: list[str]):
        super().__init__(team)
        self.team, self.known = team, known

    def sentence(self, data_display: str, periods: list[str]) -> str:
        from perfrules.diagnostics import did_you_mean

        hint = did_you_mean(self.team, self.known) or f"the teams are: {', '.join(self.known) or '(none)'}"
        return f"--team {self.team}: no agent of that team in {data_display} for {', '.join(periods)} (hint: {hint})"


@dataclass(frozen=True)
class Seen:
    """What a diff keeps of one agent's typed result (a million agents stay small)."""

    agent_id: str
    name: str | None
    team: str | None
    period: str
    policy: str
    outcome: Outcome


def seen(result: AgentResult) -> Seen:
    """The facts the diff compares, as the result shows them: score and money in cents."""
    score = round_half_up(result.score) if result.score is not None else None
    outcome = Outcome(score=score, grade=result.grade, rank=result.rank, bonus_total=round_half_up(result.bonus_total))
    return Seen(result.agent_id, result.name, result.team, result.period, result.policy, outcome)


@dataclass
class Version:
    """One version of the policies: what the user named, the checked policies, their results."""

    argument: str
    policies: PolicySet
    stamps: list[PolicyStamp] = dataclasses.field(default_factory=list)
    results: list[Seen] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)


def evaluate_versions(old: Version, new: Version, data: Path, data_display: str, periods: list[str | None],
                      **options) -> tuple[list[str], str | None]:
    """Evaluate the data under both versions for each period; fill their results and stamps.

    Returns the periods evaluated and the data's sha256.  A data problem of either version
    raises :class:`EvaluationFailed` with the problems of both (a problem only one version
    has says which); :class:`~perfrules.engine.run.InvalidArgument` passes through.
    """
    failures: dict[str, list[DataProblem]] = {"old": [], "new": []}
    digest = None
    for version, side, other in ((old, "old", new), (new, "new", old)):
        # A row of a role only the other version covers is that version's alone (old or new null).
        tolerated = frozenset(role.text for loaded in other.policies.evaluated for role in loaded.policy.roles)
        for period in periods:
            digest = _evaluate(version, version.policies.evaluated, data, data_display, period, tolerated,
                               failures[side], options) or digest
    if periods == [None] and not any(failures.values()):
        _same_periods(old, new, data, data_display, failures, **options)
    evaluated = {result.period for version in (old, new) for result in version.results}
    if any(failures.values()):
        raise EvaluationFailed(_labelled(failures, old.argument, new.argument))
    return sorted(evaluated), digest  # as the results write them (--period 2026年11月 is 2026-11)


def _same_periods(old: Version, new: Version, data: Path, data_display: str,
                  failures: dict[str, list[DataProblem]], **options) -> None:
    """Without ``--period``, compare each policy in the same periods under both versions.

    Each policy evaluates the latest period of its own rows, and that period follows its
    roles: a role added whose rows are all of a later month moves the policy's period, and
    every agent of the other roles would look evaluated by one version only (a bonus
    dropped to nothing that no policy change drops).  A policy of both versions is
    therefore evaluated, in each version, also in the periods the other version chose for
    it; a period where it has no rows adds nothing.
    """
    chosen: list[dict[str, set[str]]] = [{}, {}]
    for index, version in enumerate((old, new)):
        for result in version.results:
            chosen[index].setdefault(result.policy, set()).add(result.period)
    roles = frozenset(role.text for version in (old, new) for loaded in version.policies.evaluated
                      for role in loaded.policy.roles)
    for index, (version, side) in enumerate(((old, "old"), (new, "new"))):
        own, other = chosen[index], chosen[1 - index]
        for loaded in version.policies.evaluated:
            name = loaded.policy.name.value
            for period in sorted(other.get(name, set()) - own.get(name, set())):
                _evaluate(version, [loaded], data, data_display, period, roles, failures[side],
                          options, no_rows_is_nothing=True)


def _evaluate(version: Version, policies: list, data: Path, data_display: str, period: str | None,
              tolerated: frozenset[str], problems: list[DataProblem], options: dict,
              no_rows_is_nothing: bool = False) -> str | None:
    """Evaluate ``policies`` of one version for one period into ``version``; return the data's
    sha256, or None and add to ``problems`` (a period without rows adds nothing when
    ``no_rows_is_nothing``)."""
    try:
        evaluation = evaluate_files(policies, data, data_display, period=period, tolerated_roles=tolerated,
                                    **options)
    except NoRowsForPeriod as failure:
        if not no_rows_is_nothing:
            problems.extend(failure.problems)
        return None
    except EvaluationFailed as failure:
        problems.extend(failure.problems)
        return None
    try:
        _collect(version, evaluation)
    finally:
        evaluation.connection.close()
    return evaluation.data_sha256


def _collect(version: Version, evaluation: Evaluation) -> None:
    for stamp in build_results(evaluation, with_results=False).policies:
        if stamp not in version.stamps:
            version.stamps.append(stamp)
    version.results.extend(seen(result) for result in iter_results(evaluation))  # streamed
    version.warnings.extend(line for line in evaluation.warnings if line not in version.warnings)


def _labelled(failures: dict[str, list[DataProblem]], old_argument: str, new_argument: str) -> list[DataProblem]:
    """Both versions' problems, once each; a problem only one version has names the version."""
    old_lines = {problem.render() for problem in failures.get("old", [])}
    new_lines = {problem.render() for problem in failures.get("new", [])}
    problems, seen = [], set()
    for side, argument, others in (("old", old_argument, new_lines), ("new", new_argument, old_lines)):
        for problem in failures.get(side, []):
            line = problem.render()
            if line in seen:
                continue
            seen.add(line)
            if line not in others:
                problem = dataclasses.replace(problem, message=f"{problem.message} (with the {side} policies, {argument})")
            problems.append(problem)
    return sorted(problems, key=DataProblem.sort_key)


def build_diff(old: Version, new: Version, periods: list[str], data_sha256: str | None, team: str | None = None,
               warnings: list[str] | None = None) -> DiffDocument:
    """The diff document of two evaluated versions (``team``: keep only that team)."""
    pairs = _pairs(old.results, new.results)
    if team is not None:
        known = sorted({result.team for pair in pairs.values() for result in pair if result and result.team})
        pairs = {key: pair for key, pair in pairs.items() if _team(pair) == team}
        if not pairs:
            raise UnknownTeam(team, known)
    old_models = [loaded.model for loaded in old.policies.evaluated]
    new_models = [loaded.model for loaded in new.policies.evaluated]
    changes = [PolicyChangeEntry(**dataclasses.asdict(change)) for change in policy_changes(old_models, new_models)]
    movers = [_agent_change(pair) for pair in pairs.values() if _differs(*pair)]
    movers.sort(key=lambda change: (-abs(_bonus(change.new) - _bonus(change.old)),
                                    -(_grade(change.old) != _grade(change.new)), change.agent_id, change.period))
    return DiffDocument(
        perfrules=__version__, periods=periods, data_sha256=data_sha256, team=team,
        old=PolicyVersion(policies=old.stamps), new=PolicyVersion(policies=new.stamps),
        policy_changes=changes, summary=_summary(list(pairs.values()), _grade_order(old_models, new_models)),
        agents=movers, warnings=list(warnings or []),
    )


Pair = tuple[Seen | None, Seen | None]


def _pairs(old: list[Seen], new: list[Seen]) -> dict[tuple[str, str], Pair]:
    """Each agent and period with its old and new result (None where a version has none)."""
    pairs: dict[tuple[str, str], list] = {}
    for index, results in enumerate((old, new)):
        for result in results:
            pairs.setdefault((result.agent_id, result.period), [None, None])[index] = result
    return {key: (pair[0], pair[1]) for key, pair in sorted(pairs.items())}


def _team(pair: Pair) -> str | None:
    return (pair[1] or pair[0]).team


def _outcome(result: Seen | None) -> Outcome | None:
    return result.outcome if result is not None else None


def _agent_change(pair: Pair) -> AgentChange:
    shown = pair[1] or pair[0]
    return AgentChange(agent_id=shown.agent_id, name=shown.name, team=shown.team, period=shown.period,
                       old=_outcome(pair[0]), new=_outcome(pair[1]))


def _differs(old: Seen | None, new: Seen | None) -> bool:
    return _outcome(old) != _outcome(new)


def _bonus(outcome: Outcome | None) -> Decimal:
    return outcome.bonus_total if outcome is not None else Decimal(0)


def _grade(outcome: Outcome | None) -> str:
    return outcome.grade if outcome is not None and outcome.grade is not None else NO_GRADE


def _rank(outcome: Outcome | None) -> int | None:
    return outcome.rank if outcome is not None else None


def _summary(pairs: list[Pair], grade_order: list[str]) -> DiffSummary:
    overall = _counts([(_outcome(old), _outcome(new)) for old, new in pairs])
    by_team: dict[str | None, list[tuple[Outcome | None, Outcome | None]]] = {}
    for pair in pairs:
        by_team.setdefault(_team(pair), []).append((_outcome(pair[0]), _outcome(pair[1])))
    teams = [TeamSummary(team=team, **_counts(outcomes))
             for team, outcomes in sorted(by_team.items(), key=lambda item: (item[0] is None, item[0] or ""))]
    matrix = Counter((_grade(_outcome(old)), _grade(_outcome(new))) for old, new in pairs)
    grades: dict[str, dict[str, int]] = {}
    order = {grade: index for index, grade in enumerate(grade_order)}

    def rank_of(grade: str) -> tuple:
        return (grade == NO_GRADE, order.get(grade, len(order)), grade)

    for (old_grade, new_grade), count in sorted(matrix.items(), key=lambda item: (rank_of(item[0][0]), rank_of(item[0][1]))):
        grades.setdefault(old_grade, {})[new_grade] = count
    return DiffSummary(grades=grades, teams=teams, **overall)


def _counts(outcomes: list[tuple[Outcome | None, Outcome | None]]) -> dict:
    old_total = sum((_bonus(old) for old, _ in outcomes), Decimal(0))
    new_total = sum((_bonus(new) for _, new in outcomes), Decimal(0))
    return {
        "agents": len(outcomes),
        "grade_changed": sum(1 for old, new in outcomes if _grade(old) != _grade(new)),
        "rank_changed": sum(1 for old, new in outcomes if _rank(old) != _rank(new)),
        "bonus_changed": sum(1 for old, new in outcomes if _bonus(old) != _bonus(new)),  # no result pays nothing
        "bonus_total_old": old_total, "bonus_total_new": new_total, "bonus_delta": new_total - old_total,
    }


def _grade_order(*model_lists) -> list[str]:
    """Grades in the order the policies give them (new first): the matrix reads best to worst."""
    order: list[str] = []
    for models in reversed(model_lists):
        for model in models:
            for rule in model.grade_rules:
                if rule.node.grade.value not in order:
                    order.append(rule.node.grade.value)
            for veto in model.vetoes:
                if veto.node.grade.value not in order:
                    order.append(veto.node.grade.value)
    return order
