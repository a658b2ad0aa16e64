"""Fuzz tests: whatever the input, ``perfrules check`` answers with diagnostics and exit
code 1 (or 0 when the input happens to be valid), never with a Python traceback.

Three generators feed the command line, run in-process with click's CliRunner:

- random bytes (and random text, with or without a byte-order mark) as a ``.perf`` file;
- random sequences of the language's tokens joined with random whitespace, sometimes
  wrapped in ``policy "..." { ... }`` so that the parser gets past the header;
- random edits of the valid policies in ``policies/*.perf``: lines deleted, duplicated,
  swapped or borrowed from another policy, characters and tokens deleted, inserted or
  replaced (full-width punctuation, quotes, braces, non-ASCII text...), numbers replaced
  by edge values (29 digits and more), long chains and deep nesting (``not not ... x``).

Each run must end with exit code 0 or 1, no exception, no traceback, and on exit 1 at
least one located ``file:line:col: error PRnnn:`` line on stderr.

Deterministic tests also delete every single character of the example policy in turn,
and replay the edge cases that fuzzing found (``EDGE_CASES``).

Hypothesis runs with random seeds (no ``derandomize``) and no example database, so each
run explores new inputs; the whole file takes about 30 s on 2 cores.  Set
``PERFRULES_FUZZ_SCALE=10`` for a ten times longer run.  A failure prints the offending
input (as a diff from the policy it was edited from): add it to ``EDGE_CASES`` or turn it
into a golden case under ``tests/cases/check``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import POLICIES, POLICY_FILES
from perfrules.cli import main

ERROR_LINE = re.compile(r":\d+:\d+: error PR\d{3}: ", re.MULTILINE)

POLICY_TEXTS = {path.name: path.read_text(encoding="utf-8") for path in POLICY_FILES}
EXAMPLE = POLICIES / "after_sales_agent.perf"

# PERFRULES_FUZZ_SCALE=10 runs ten times as many examples (a longer, nightly-style run).
SCALE = float(os.environ.get("PERFRULES_FUZZ_SCALE", "1"))
FUZZ_SETTINGS = dict(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def examples(count: int) -> int:
    return max(1, int(count * SCALE))


# ---- running the command -----------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_file(tmp_path_factory) -> Path:
    """One policy file that every example overwrites (module-scoped for hypothesis), beside
    copies of policies/*.perf, so that an edit of a policy that `extends` finds its parent."""
    folder = tmp_path_factory.mktemp("fuzz")
    for policy in POLICY_FILES:
        (folder / policy.name).write_bytes(policy.read_bytes())
    return folder / "fuzz.perf"


def assert_check_survives(path: Path, data: bytes):
    """Write ``data`` to ``path``, run ``perfrules check path`` and judge the outcome."""
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["check", str(path)], catch_exceptions=True)
    context = f"{describe_input(data)}\nstderr:\n{result.stderr[-3000:]}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        trace = "".join(traceback.format_exception(*result.exc_info))
        pytest.fail(f"perfrules check raised {result.exception!r}\n{context}\n{trace}")
    assert result.exit_code in (0, 1), f"exit code {result.exit_code}\n{context}"
    assert "Traceback" not in result.output, context
    assert "Traceback" not in result.stderr, context
    if result.exit_code == 1:
        assert ERROR_LINE.search(result.stderr), f"exit 1 without a located error\n{context}"
    return result


def describe_input(data: bytes) -> str:
    """The failing input, as a diff from the nearest valid policy when it is an edit of one."""
    import difflib

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return f"input bytes ({len(data)}): {data[:4000]!r}"
    best = None
    for name, seed in POLICY_TEXTS.items():
        diff = list(difflib.unified_diff(seed.splitlines(), text.splitlines(), f"policies/{name}", "input", lineterm="", n=1))
        if best is None or len(diff) < len(best):
            best = diff
    if best is not None and sum(map(len, best)) < len(text) // 2:
        return "input: this edit of a valid policy\n" + "\n".join(best)[:4000]
    return f"input text ({len(text)} characters): {text[:4000]!r}"


def check_text(path: Path, text: str):
    return assert_check_survives(path, text.encode("utf-8", errors="surrogatepass"))


# ---- (a) random bytes ------------------------------------------------------------------

random_files = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=300).map(lambda text: text.encode("utf-8", errors="surrogatepass")),
    st.text(max_size=300).map(lambda text: b"\xef\xbb\xbf" + text.encode("utf-8", errors="surrogatepass")),
    # a valid policy with random bytes spliced in somewhere
    st.tuples(
        st.sampled_from(sorted(POLICY_TEXTS.values())),
        st.binary(min_size=1, max_size=8),
        st.floats(min_value=0, max_value=1),
    ).map(lambda t: _splice_bytes(t[0].encode("utf-8"), t[1], t[2])),
)


def _splice_bytes(data: bytes, insert: bytes, where: float) -> bytes:
    at = int(where * len(data))
    return data[:at] + insert + data[at:]


@settings(max_examples=examples(300), **FUZZ_SETTINGS)
@given(data=random_files)
def test_random_bytes(fuzz_file, data):
    assert_check_survives(fuzz_file, data)


# ---- (b) random token sequences ----------------------------------------------------------

KEYWORDS = (
    "policy extends version roles period language metric in higher lower is better column "
    "sample at least let levels kpi weight when missing exclude measure else points linear "
    "from to adjust per limit score veto grade bonus of plan within days swot strength "
    "weakness opportunity threat award for periods target by or and not rank top bottom team "
    "remove month quarter year zh en percent duration count number money text bool min max abs "
    "round clamp coalesce min h s"
).split()

PUNCTUATION = (
    "=> = >= <= == != > < + - * / { } ( ) , : .. % # \" \\ . ; ！ ： （ ） ， ％ ＞ ≥ ≤ ＝ “ ” 。 ｛ ｝ 、"
).split()

NAMES = [
    "csat", "aht", "reply_within_10min", "resolution_rate", "base_salary", "excellent", "pass",
    "fail", "_x", "x1", "解决率", "投诉处理率", "优秀", "达标", "Ünïcödé", "agent", "senior_agent",
]

names = st.one_of(
    st.sampled_from(NAMES),
    st.from_regex(r"[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]{0,10}", fullmatch=True),
)
numbers = st.one_of(
    st.integers(min_value=0, max_value=10**12).map(str),
    st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(["0", "00", "0.0", "100", "1e5", "9" * 40, "1.", ".5", "007", "3.14159265358979323846"]),
)
percents = st.one_of(
    numbers.map(lambda n: n + "%"),
    st.sampled_from(["95%", "12.5%", "0%", "100%", "100.0001%", "95 %", "95％", "%"]),
)
durations = st.one_of(
    st.tuples(numbers, st.sampled_from(["s", "min", "h", "d", "mins", "ms", "m", "hr", "分钟"])).map("".join),
    st.sampled_from(["10min", "1.5h", "30s", "2d", "0s", "24h"]),
)
strings = st.one_of(
    st.text(alphabet=st.characters(blacklist_characters='"\\\n', blacklist_categories=("Cs",)), max_size=12).map(
        lambda text: f'"{text}"'
    ),
    st.sampled_from(['"优秀"', '"a\\"b"', '"\\\\"', '"\\n\\t"', '"\\q"', '"unclosed', '""', '"\\"', "“中文引号”"]),
)
dates = st.one_of(
    st.dates().map(lambda day: day.isoformat()),
    st.sampled_from(["2026-12-31", "2026-13-01", "2026-02-30", "0000-00-00", "9999-99-99", "2026-1-1"]),
)
comments = st.text(max_size=10).map(lambda text: "# " + text.replace("\n", " ").replace("\r", " ") + "\n")

tokens = st.one_of(
    st.sampled_from(KEYWORDS),
    st.sampled_from(PUNCTUATION),
    names,
    numbers,
    percents,
    durations,
    strings,
    dates,
    comments,
)
whitespace = st.sampled_from([" ", " ", " ", "\n", "\n    ", "\t", "", "\r\n", "\u3000", "  \n\n"])


@st.composite
def token_programs(draw) -> str:
    parts = draw(st.lists(st.tuples(tokens, whitespace), max_size=60))
    body = "".join(token + space for token, space in parts)
    wrapper = draw(st.sampled_from(["none", "policy", "policy-open", "kpi"]))
    if wrapper == "policy":
        return 'policy "p" {\n    version "1"\n    roles agent\n' + body + "\n}\n"
    if wrapper == "policy-open":
        return 'policy "p" {\n' + body
    if wrapper == "kpi":
        return (
            'policy "p" {\n    version "1"\n    roles agent\n    metric m: percent higher is better\n'
            '    kpi "k" weight 100% {\n        ' + body + "\n    }\n}\n"
        )
    return body


@settings(max_examples=examples(600), **FUZZ_SETTINGS)
@given(text=token_programs())
def test_random_token_sequences(fuzz_file, text):
    check_text(fuzz_file, text)


# ---- (c) random edits of the valid policies ----------------------------------------------

TOKEN_PATTERN = re.compile(
    r'"(?:[^"\\\n]|\\.)*"|\d{4}-\d{2}-\d{2}|\d+(?:\.\d+)?(?:%|min|s|h|d)?|[^\W\d]\w*|=>|>=|<=|==|!=|\.\.|#[^\n]*|\S'
)

NUMBER_PATTERN = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?![\d-])")

TRICKY_CHARS = (
    "：（），、。；“”‘’％＞＜＝｛｝＋－＊／＃！【】\u3000≥≤≠"  # full-width, typed with a Chinese IME
    '"\'{}()[]<>=+-*/%#:,.;\\_@$&|^~`?!'  # ASCII punctuation
    "0123456789aZ_é中文优秀\u00a0\u200b\ufeff\t\r\n "  # digits, letters, odd spaces
)

tricky_chars = st.one_of(st.sampled_from(TRICKY_CHARS), st.characters(blacklist_categories=("Cs",)))
inserted_tokens = st.one_of(tokens, st.sampled_from(["{", "}", "(", ")", '"', "=>", "else", "100%", "50%", "-"]))

# Numbers at the edges of exact decimals: zero, many digits, more digits than a 28-digit context.
EDGE_NUMBERS = [
    "0", "0.0", "1", "99.999", "100", "101", "1000000", "0.000000000000000000000000000001",
    "12345678901234567890123456", "1" + "0" * 27, "1" + "0" * 28, "9" * 40, "3.33333333333333333333333333333333",
]
edge_numbers = st.one_of(st.sampled_from(EDGE_NUMBERS), numbers)
# Long chains and deep nesting: `not not ... x`, `- - ... x`, `1 + 1 + ... x`, `max(max(...`.
REPEATABLE = ["not ", "-", "- ", "+", "(", "1 + ", "p * ", "max(", "not (", "2 * "]


@st.composite
def edited_policies(draw) -> str:
    text = draw(st.sampled_from(sorted(POLICY_TEXTS.values())))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        text = _edit(draw, text)
    return text


def _edit(draw, text: str) -> str:
    kind = draw(
        st.sampled_from(
            [
                "delete-line", "duplicate-line", "swap-lines", "borrow-line",
                "delete-char", "insert-char", "replace-char",
                "delete-token", "insert-token", "replace-token", "duplicate-token",
                "replace-number", "repeat-prefix", "repeat-prefix", "wrap-token",
            ]
        )
    )
    if kind.endswith("line") or kind.endswith("lines"):
        lines = text.splitlines(keepends=True)
        if not lines:
            return text
        i = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        if kind == "delete-line":
            del lines[i]
        elif kind == "duplicate-line":
            lines.insert(i, lines[i])
        elif kind == "swap-lines":
            j = draw(st.integers(min_value=0, max_value=len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        else:  # a line from any of the policies, put anywhere in this one
            donor = draw(st.sampled_from(sorted(POLICY_TEXTS.values()))).splitlines(keepends=True)
            lines.insert(i, draw(st.sampled_from(donor)))
        return "".join(lines)
    if kind.endswith("char"):
        if not text:
            return draw(tricky_chars)
        at = draw(st.integers(min_value=0, max_value=len(text) - 1))
        if kind == "delete-char":
            return text[:at] + text[at + 1 :]
        if kind == "insert-char":
            return text[:at] + draw(tricky_chars) + text[at:]
        return text[:at] + draw(tricky_chars) + text[at + 1 :]
    if kind == "replace-number":
        numbers_here = [match.span(1) for match in NUMBER_PATTERN.finditer(text)]
        if not numbers_here:
            return text
        start, end = draw(st.sampled_from(numbers_here))
        return text[:start] + draw(edge_numbers) + text[end:]
    spans = [match.span() for match in TOKEN_PATTERN.finditer(text)]
    if not spans:
        return text
    if kind == "repeat-prefix":  # mostly before the first token of a line: a rule's condition
        line_starts = [span for span in spans if text[: span[0]].rstrip(" \t").endswith("\n")]
        start, _ = draw(st.sampled_from(line_starts or spans) | st.sampled_from(spans))
        count = draw(st.sampled_from([1, 2, 10, 100, 600, 1200, 1200]))
        return text[:start] + draw(st.sampled_from(REPEATABLE)) * count + text[start:]
    if kind == "wrap-token":  # a token inside many brackets: ((x)), abs(abs(x)), max(max(x, 1), 1)
        start, end = draw(st.sampled_from(spans))
        opening, closing = draw(st.sampled_from([("(", ")"), ("abs(", ")"), ("max(", ", 1)"), ("-(", ")")]))
        count = draw(st.sampled_from([1, 2, 10, 100, 600, 1200]))
        return text[:start] + opening * count + text[start:end] + closing * count + text[end:]
    start, end = draw(st.sampled_from(spans))
    if kind == "delete-token":
        return text[:start] + text[end:]
    if kind == "insert-token":
        space = draw(st.sampled_from([" ", "", "\n"]))
        return text[:start] + draw(inserted_tokens) + space + text[start:]
    if kind == "duplicate-token":
        return text[:end] + " " + text[start:end] + text[end:]
    return text[:start] + draw(inserted_tokens) + text[end:]


@settings(max_examples=examples(900), **FUZZ_SETTINGS)
@given(text=edited_policies())
def test_random_edits_of_valid_policies(fuzz_file, text):
    check_text(fuzz_file, text)


# ---- deterministic: every single-character deletion of the example -----------------------


def test_every_single_character_deletion_of_the_example(tmp_path):
    text = EXAMPLE.read_text(encoding="utf-8")
    path = tmp_path / "deleted.perf"
    step = max(1, len(text) // 2500)  # every position while the example stays small (~13 s)
    for at in range(0, len(text), step):
        check_text(path, text[:at] + text[at + 1 :])


def test_the_valid_policies_check_clean(fuzz_file):
    """The seeds of the edits above are themselves valid: exit 0."""
    for name, text in POLICY_TEXTS.items():
        fuzz_file.write_text(text, encoding="utf-8")
        result = CliRunner().invoke(main, ["check", str(fuzz_file)], catch_exceptions=True)
        assert result.exit_code == 0, f"{name}\n{result.stderr}"



# ---- edge cases the fuzzers found: each must give diagnostics, never a traceback ---------

BIG = "1" + "0" * 28  # one digit more than Python's default 28-digit decimal context


def _policy(body: str, extra: str = "") -> str:
    return (
        'policy "p" {\n    version "1"\n    roles agent\n'
        "    metric m: percent higher is better\n    metric d: duration lower is better\n    metric c: count\n"
        + extra + body + "}\n"
    )


def _kpi(rules: str, weight: str = "100%", missing: str = "") -> str:
    return f'    kpi "k" weight {weight}{missing} {{\n{rules}    }}\n'


SIMPLE_RULES = "        c >= 1 => 100\n        else => 0\n"
EDGE_CASES = {
    "600 nested not": _policy(_kpi("        " + "not " * 600 + SIMPLE_RULES.lstrip())),
    "600 unary minus": _policy(_kpi("        " + "-" * 600 + SIMPLE_RULES.lstrip())),
    "600-term sum": _policy(_kpi("        " + "c + " * 600 + SIMPLE_RULES.lstrip())),
    "600 and-ed conditions": _policy(_kpi("        " + "c >= 1 and " * 600 + SIMPLE_RULES.lstrip())),
    "600 nested max()": _policy(_kpi("        " + "max(" * 600 + "c" + ", 1)" * 600 + " >= 1 => 100\n        else => 0\n")),
    "chain of 400 lets": _policy(
        _kpi("        a0 >= 1 => 100\n        else => 0\n"),
        "".join(f"    let a{i} = a{i + 1}\n" for i in range(400)) + "    let a400 = c\n",
    ),
    "cycle of 400 lets": _policy(
        _kpi("        a0 >= 1 => 100\n        else => 0\n"),
        "".join(f"    let a{i} = a{i + 1}\n" for i in range(400)) + "    let a400 = a0\n",
    ),
    "29-digit weight": _policy(_kpi(SIMPLE_RULES, weight=BIG + "%")),
    "29-digit level points": _policy(_kpi(SIMPLE_RULES), f"    levels {{\n        best = {BIG}\n    }}\n"),
    "29-digit missing points": _policy(_kpi(SIMPLE_RULES, missing=f" when missing {BIG}")),
    "29-digit rule points": _policy(_kpi(f"        c >= 1 => {BIG}\n        else => 0\n")),
    "percent compared with a 29-digit number": _policy(_kpi(f"        m >= {BIG} => 100\n        else => 0\n")),
    "duration compared with a 29-digit number": _policy(_kpi(f"        d <= {BIG} => 100\n        else => 0\n")),
    "adjust limit 29 digits to 0": _policy(_kpi(SIMPLE_RULES) + f'    adjust "a" {{\n        +1 per c "x"\n        limit {BIG} to 0\n    }}\n'),
    "score limit 29 digits to 0": _policy(_kpi(SIMPLE_RULES) + f"    score limit {BIG} to 0\n"),
    "rule after a 29-digit threshold": _policy(_kpi(f"        c >= 1 => 100\n        c >= {BIG} => 50\n        else => 0\n")),
    "bonus range from a 29-digit percent": EXAMPLE.read_text(encoding="utf-8").replace("10%..20%", f"{BIG}%..20%"),
}


@pytest.mark.parametrize("text", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_edge_cases_found_by_fuzzing(fuzz_file, text):
    result = check_text(fuzz_file, text)
    # a crash caught at the parser's boundary is still a crash to the author
    assert "internal error" not in result.stderr, result.stderr[-2000:]


# ---- targets and awards: generated statements are checked, and evaluated when clean --------

GOAL_VALUES = st.one_of(numbers, percents, durations, st.sampled_from(["m", "d", "c", "x", "-5", "score", "top 1"]))
AWARD_CONDITIONS = st.sampled_from([
    "c >= 1", "top 10%", "top 1 by m within team", 'grade == "优秀"', "score", "kpi \"k\" is best", "m >= 90% and top 50%",
    "bottom 2", "rank <= 3", "d",
])
FUZZ_DATA = "agent_id,role,team,period,m,d,c\n" + "".join(
    f"A{agent},{'agent' if agent % 2 else 'senior_agent'},T{agent % 2},{period},{80 + agent}%,{300 + 30 * agent},{agent % 3}\n"
    for period in ("2026-08", "2026-09", "2026-11") for agent in range(1, 6) if not (agent == 3 and period == "2026-09")
)


@st.composite
def target_and_award_statements(draw) -> str:
    statements = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        if draw(st.booleans()):
            roles = draw(st.lists(st.sampled_from(["agent", "senior_agent", "agnet"]), max_size=2))
            head = f"    target {draw(strings)}" + (f" for {', '.join(roles)}" if roles else "") + " {\n"
            goals = []
            for _ in range(draw(st.integers(min_value=0, max_value=3))):
                start = draw(st.one_of(st.just(""), dates.map(" from ".__add__), GOAL_VALUES.map(" from ".__add__)))
                goals.append(f"        {draw(st.sampled_from(['m', 'd', 'c', 'x']))} "
                             f"{draw(st.sampled_from(['>=', '>', '<=', '<', '==']))} {draw(GOAL_VALUES)} "
                             f"by {draw(dates)}{start}\n")
            statements.append(head + "".join(goals) + "    }\n")
        else:
            periods = draw(st.one_of(st.just(""), numbers.map(lambda n: f" for {n} periods")))
            statements.append(f"    award {draw(strings)} when {draw(AWARD_CONDITIONS)}{periods}\n")
    grade = '    grade {\n        score >= 90 => "优秀"\n        else => "合格"\n    }\n'
    levels = "    levels {\n        best = 100\n        worst = 0\n    }\n"
    rules = "        c >= 1 => best\n        else => worst\n"
    return _policy(_kpi(rules) + grade + "".join(statements), levels).replace("roles agent", "roles agent, senior_agent")


@settings(max_examples=examples(150), **FUZZ_SETTINGS)
@given(text=target_and_award_statements())
def test_generated_targets_and_awards(fuzz_file, text):
    result = check_text(fuzz_file, text)
    if result.exit_code != 0:
        return
    data = fuzz_file.with_name("fuzz_data.csv")
    data.write_text(FUZZ_DATA, encoding="utf-8")
    evaluated = CliRunner().invoke(main, ["evaluate", str(fuzz_file), str(data)], catch_exceptions=True)
    context = f"input text: {text!r}\nstderr:\n{evaluated.stderr[-3000:]}"
    if evaluated.exception is not None and not isinstance(evaluated.exception, SystemExit):
        pytest.fail(f"perfrules evaluate raised {evaluated.exception!r}\n{context}")
    assert evaluated.exit_code in (0, 3), f"exit code {evaluated.exit_code}\n{context}"
    if evaluated.exit_code == 0:
        document = json.loads(evaluated.stdout)
        for result in document["results"]:
            for target in result["targets"]:
                assert target["status"] in ("achieved", "on_track", "at_risk", "not_met", "missed", "no_data")
                for goal in target["goals"]:
                    assert goal["progress"] is None or 0 <= goal["progress"] <= 1, context
                    assert goal["expected"] is None or 0 <= goal["expected"] <= 1, context
