"""Properties of the canonical layout on generated policies (hypothesis).

Two generators: the repository's policies and test files and the fmt golden cases with their tokens
re-joined by random white space (spaces, tabs, line breaks, blank lines) and random
comments between tokens; and small policies around random expressions and conditions
(signs, parentheses, calls, `not`, `and`/`or`, rank conditions), written with random
spacing.  For each: fmt(x) parses to the tree of x (spans aside), keeps the tokens and
the comments in order, fmt(fmt(x)) == fmt(x), and, without comments or blank lines, the
result does not depend on the input's layout at all.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import CASES, POLICIES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fuzz import EDGE_CASES, edited_policies

from perfrules.cli import main
from perfrules.layout.fmt import POLICY, SourceKind, kind_of
from perfrules.layout.printer import canonical_layout, lex
from perfrules.parser import parse_policy, policy_parser
from perfrules.source import SourceFile

SETTINGS = {"deadline": None, "database": None, "suppress_health_check": [HealthCheck.too_slow]}
PARSER = policy_parser()
SEEDS = sorted({path.read_text(encoding="utf-8") for path in POLICIES.glob("*.perf") if not path.name.endswith(".test.perf")}
               | {path.read_text(encoding="utf-8") for path in (CASES / "fmt").glob("*/expected.perf")})
GLUABLE = set("()*/+-,")  # tokens that need no white space beside them


def tree(text: str):
    return parse_policy(SourceFile("x.perf", text)).policy


def assert_layout_properties(text: str, kind: SourceKind = POLICY) -> str:
    parser = kind.parser()
    original = kind.parse(SourceFile("x.perf", text))[0]
    assert original is not None, text
    formatted = canonical_layout(parser, text, kind.inline)
    assert kind.parse(SourceFile("x.perf", formatted))[0] == original, f"{text}\n----\n{formatted}"
    before, after = lex(parser, text), lex(parser, formatted)
    assert [(t.type, t.value) for t in after.tokens] == [(t.type, t.value) for t in before.tokens]
    assert [c.text for c in after.comments] == [c.text for c in before.comments]
    assert canonical_layout(parser, formatted, kind.inline) == formatted, f"{text}\n----\n{formatted}"
    return formatted


comment_texts = st.text(alphabet=st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)), max_size=12)
plain_space = st.sampled_from([" ", "  ", "\t", "\n", "\n    ", "\n\t\t", " \n  "])


@st.composite
def joined(draw, tokens: list[str], comments: bool, blank_lines: bool) -> str:
    """``tokens`` with random white space (and comments) between them."""
    spaces = plain_space
    if blank_lines:
        spaces = st.one_of(plain_space, st.sampled_from(["\n\n", "\n\n\n    ", "\n \n"]))
    out = []
    for index, token in enumerate(tokens):
        out.append(token)
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if comments and draw(st.integers(0, 9)) == 0:
            out.append(draw(st.sampled_from(["", " ", "   "])) + "#" + draw(comment_texts) + "\n")
        elif following is not None and (token in GLUABLE or following in GLUABLE) and draw(st.booleans()):
            continue
        out.append(draw(spaces))
    return "".join(out)


def token_texts(text: str) -> list[str]:
    return [token.value for token in lex(PARSER, text).tokens]


@settings(max_examples=60, **SETTINGS)
@given(data=st.data())
def test_relaid_policies_keep_their_meaning_and_format_stably(data):
    seed = data.draw(st.sampled_from(SEEDS))
    text = data.draw(joined(token_texts(seed), comments=True, blank_lines=True))
    assert_layout_properties(text)


TEST_KIND = kind_of(POLICIES / "after_sales_agent.test.perf")
TEST_SEEDS = sorted({path.read_text(encoding="utf-8") for path in POLICIES.glob("*.test.perf")}
                    | {path.read_text(encoding="utf-8") for path in (CASES / "fmt").glob("*/expected.test.perf")})


@settings(max_examples=40, **SETTINGS)
@given(data=st.data())
def test_relaid_test_files_keep_their_meaning_and_format_stably(data):
    assert TEST_KIND.name == "test file" and len(TEST_SEEDS) >= 5
    seed = data.draw(st.sampled_from(TEST_SEEDS))
    tokens = [token.value for token in lex(TEST_KIND.parser(), seed).tokens]
    assert_layout_properties(data.draw(joined(tokens, comments=True, blank_lines=True)), TEST_KIND)


@settings(max_examples=40, **SETTINGS)
@given(data=st.data())
def test_without_comments_or_blank_lines_the_layout_does_not_depend_on_the_input(data):
    seed = data.draw(st.sampled_from(SEEDS))
    tokens = token_texts(seed)
    text = data.draw(joined(tokens, comments=False, blank_lines=False))
    assert assert_layout_properties(text) == canonical_layout(PARSER, " ".join(tokens))


# ---- generated expressions ---------------------------------------------------------------------------

NAMES = ["csat", "aht", "n", "满意度", "_x1"]
ATOMS = ["1", "0.50", "007", "95%", "12.5%", "10min", "1.5h", "2026-12-31", '"优秀"', "score", "rank", "grade"] + NAMES


def values(depth: int) -> st.SearchStrategy[list[str]]:
    atom = st.sampled_from(ATOMS).map(lambda token: [token])
    if depth <= 0:
        return atom
    inner = values(depth - 1)
    return st.one_of(
        atom,
        st.tuples(st.sampled_from(["-", "+"]), inner).map(lambda t: [t[0], *t[1]]),
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(lambda t: [*t[0], t[1], *t[2]]),
        inner.map(lambda v: ["(", *v, ")"]),
        st.tuples(st.sampled_from(["max", "min", "round", "coalesce"]), st.lists(inner, min_size=1, max_size=3)).map(
            lambda t: [t[0], "(", *[token for index, v in enumerate(t[1]) for token in ([","] if index else []) + v], ")"]),
    )


def conditions(depth: int) -> st.SearchStrategy[list[str]]:
    compare = st.tuples(values(2), st.sampled_from([">=", "<=", "==", "!=", ">", "<"]), values(2)).map(
        lambda t: [*t[0], t[1], *t[2]])
    rank = st.tuples(st.sampled_from(["top", "bottom"]), st.sampled_from(["10%", "3"]),
                     st.sampled_from([[], ["by", "csat"], ["within", "team"], ["by", "n", "within", "team"]])).map(
        lambda t: [t[0], t[1], *t[2]])
    leaf = st.one_of(compare, rank, st.just(["kpi", '"k"', "is", "pass"]))
    if depth <= 0:
        return leaf
    inner = conditions(depth - 1)
    return st.one_of(
        leaf,
        inner.map(lambda c: ["not", *c]),
        inner.map(lambda c: ["(", *c, ")"]),
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: [*t[0], t[1], *t[2]]),
    )


@st.composite
def expression_policies(draw) -> str:
    tokens = ['policy', '"p"', '{', 'version', '"1"', 'roles', 'agent', 'let', 'v', '=', *draw(values(3)),
              'kpi', '"k"', 'weight', '100%', '{', *draw(conditions(2)), '=>', draw(st.sampled_from(["pass", "-5", "+80", "100"])),
              'else', '=>', '0', '}', 'bonus', '"b"', '{', *draw(conditions(1)), '=>', *draw(values(2)), '}', '}']
    return draw(joined(tokens, comments=draw(st.booleans()), blank_lines=draw(st.booleans())))


@settings(max_examples=150, **SETTINGS)
@given(text=expression_policies())
def test_generated_expressions_keep_their_meaning_and_format_stably(text):
    formatted = assert_layout_properties(text)
    for line in formatted.splitlines():
        code = line.split("#", 1)[0] if '"' not in line else line
        assert "  " not in code.strip() or "#" in line, line  # one space between tokens
        assert "( " not in code and " )" not in code and " ," not in code, line


# ---- whatever the input: exit 0 or 1, never a traceback, never a broken file ------------------------


@settings(max_examples=120, **SETTINGS)
@given(data=st.data())
def test_fmt_on_random_edits_of_policies_never_crashes_and_never_writes_a_broken_file(tmp_path_factory, data):
    text = data.draw(edited_policies())
    path = tmp_path_factory.mktemp("fmt") / "policy.perf"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    before = path.read_bytes()
    result = CliRunner().invoke(main, ["fmt", str(path)], catch_exceptions=True)
    assert result.exit_code in (0, 1), (result.exit_code, result.stderr[-2000:], text[:2000])
    assert "Traceback" not in result.stderr
    after = path.read_bytes()
    if result.exit_code == 1:
        assert after == before and ": error PR" in result.stderr
    else:  # the same tokens (so the same tree; comparing trees hundreds of levels deep would recurse)
        assert token_texts(after.decode("utf-8")) == token_texts(before.decode("utf-8"))


@pytest.mark.parametrize("text", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_fmt_on_the_edge_cases_fuzzing_found(tmp_path, text):
    """600 nested calls, `not`s or signs, 29-digit numbers: laid out, or refused with located
    errors, never an internal error."""
    path = tmp_path / "policy.perf"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["fmt", str(path)], catch_exceptions=True)
    assert result.exit_code in (0, 1) and "internal error" not in result.stderr, result.stderr[-2000:]
    if result.exit_code == 0:
        assert tree(path.read_text(encoding="utf-8")) == tree(text) is not None
