"""The interval sets behind the coverage warnings (PR402, PR403, PR404)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from perfrules.check.coverage import Interval, Subject, ValueSet, describe

PERCENT = Subject("csat", ValueSet.of([Interval(D(0), True, D(1), True)], False), "percent", "higher")
COUNT = Subject("complaints", ValueSet.of([Interval(D(0), True, None, False)], True), "number", "lower")
SCORE = Subject("score", ValueSet.of([Interval(None, False, None, False)], False), "number", None)


def at_least(value, subject=PERCENT):
    return ValueSet.of([Interval(D(value), True, None, False)], subject.domain.integral).intersect(subject.domain)


def below(value, subject=PERCENT):
    return ValueSet.of([Interval(None, False, D(value), False)], subject.domain.integral).intersect(subject.domain)


def test_complement_within_a_percent_domain():
    assert describe(at_least("0.9").complement(PERCENT.domain), PERCENT) == "below 90%"
    assert describe(below("0.9").complement(PERCENT.domain), PERCENT) == "90% or more"


def test_union_of_adjacent_ranges_covers_the_domain():
    covered = at_least("0.9").union(below("0.9"))
    assert covered.complement(PERCENT.domain).is_empty()


def test_gap_between_two_ranges():
    matched = at_least("0.95").union(below("0.9"))
    assert describe(matched.complement(PERCENT.domain), PERCENT) == "from 90% to below 95%"


def test_open_and_closed_bounds_are_exact():
    strictly_above = ValueSet.of([Interval(D("0.9"), False, None, False)], False).intersect(PERCENT.domain)
    assert describe(strictly_above.complement(PERCENT.domain), PERCENT) == "at most 90%"
    point = at_least("0.9").minus(strictly_above, PERCENT.domain)
    assert describe(point, PERCENT) == "exactly 90%"


def test_whole_numbers_have_no_gap_between_neighbours():
    # complaints <= 2 and complaints >= 3 cover every count: nothing lies between 2 and 3.
    at_most_two = ValueSet.of([Interval(None, False, D(2), True)], True).intersect(COUNT.domain)
    three_or_more = at_least(3, COUNT)
    assert at_most_two.union(three_or_more).complement(COUNT.domain).is_empty()
    # complaints > 2 is the same set as complaints >= 3
    above_two = ValueSet.of([Interval(D(2), False, None, False)], True).intersect(COUNT.domain)
    assert above_two == three_or_more


def test_describe_with_operators():
    assert describe(at_least("0.95"), PERCENT, as_operators=True) == ">= 95%"
    assert describe(below(60, SCORE), SCORE, as_operators=True) == "< 60"
    assert describe(below(60, SCORE), SCORE) == "below 60"


def test_covers_and_order():
    assert at_least("0.9").covers(at_least("0.95"), PERCENT.domain)
    assert not at_least("0.95").covers(at_least("0.9"), PERCENT.domain)
    assert below("0.9").entirely_below(at_least("0.9"))
    assert not at_least("0.5").entirely_below(at_least("0.9"))


@pytest.mark.parametrize(
    "rules, expected",
    [
        (["csat >= 90% => a", "csat >= 80% => b"], ["PR402 csat below 80% matches no rule"]),
        (["csat >= 80% => b", "csat >= 90% => a", "else => c"], ["PR403 line 6 can never match: line 5 already matches every value >= 90%"]),
        (["csat < 80% => a", "csat >= 80% => b"], ["PR404"]),
        (["csat >= 90% and csat < 95% => b", "csat >= 95% => a", "csat < 90% => c"], []),
        (["not csat >= 90% => c", "else => a"], []),
        (["csat == 100% => a", "csat != 100% => b"], []),
    ],
)
def test_rule_blocks(tmp_path, rules, expected):
    from perfrules.workspace import load_policies

    body = "\n".join(rules)
    text = (
        'policy "p" { version "1" roles agent\n'
        " metric csat: percent higher is better\n"
        " levels { a = 100 b = 80 c = 0 }\n"
        f' kpi "k" weight 100% {{\n{body}\n}} }}\n'
    )
    # the rules start on line 5
    path = tmp_path / "p.perf"
    path.write_text(text, encoding="utf-8")
    found = load_policies([str(path)]).diagnostics
    rendered = [f"{d.code} {d.message}" for d in found]
    assert len(rendered) == len(expected), rendered
    for line, wanted in zip(rendered, expected):
        assert line.startswith(wanted), rendered
