"""The check stage: named passes over a parsed policy, every problem collected.

``analyse_policy`` runs the passes in order (structure, names, ``let`` cycles,
nesting depth, expressions, scoring, signs) on one policy; each pass reports into the same sink, so one
run lists every problem of a file.  What the passes learn is kept in the checked
:class:`~perfrules.check.model.PolicyModel` that every later layer reads.  ``check_policy_set`` adds what only shows
across files.  Passes never raise for a bad policy: a mistake is a diagnostic.
"""

from __future__ import annotations

from collections.abc import Mapping

from perfrules import ast
from perfrules.check.cycles import check_let_cycles
from perfrules.check.depth import check_depth
from perfrules.check.expressions import check_expressions
from perfrules.check.model import PolicyModel, build_model
from perfrules.check.policyset import CheckedPolicy, check_policy_set
from perfrules.check.scoring import check_scoring
from perfrules.check.signs import check_signs
from perfrules.check.structure import check_structure
from perfrules.check.symbols import Symbols, collect_symbols
from perfrules.check.targets import check_relevance
from perfrules.diagnostics import Diagnostic, DiagnosticSink

__all__ = ["CheckedPolicy", "PolicyModel", "Symbols", "analyse_policy", "check_policy", "check_policy_set"]


def analyse_policy(policy: ast.Policy, file: str, text: str,
                   inherited: Mapping[str, str] | None = None) -> tuple[PolicyModel | None, list[Diagnostic]]:
    """Run the passes; return the checked model (None when a pass could not finish) and the diagnostics.

    ``inherited`` holds the text of each file the policy inherits statements from, by
    display path.  A diagnostic is located in the file its span names; one inside an
    inherited file says which policy inherits the line.
    """
    sink = DiagnosticSink()
    model = None
    try:
        check_structure(policy, sink)
        symbols = collect_symbols(policy, sink)
        check_let_cycles(symbols, sink)
        check_depth(policy, symbols, sink)
        kinds = check_expressions(policy, symbols, sink)
        check_scoring(policy, symbols, sink)
        check_signs(policy, symbols, sink)
        check_relevance(policy, symbols, sink)
        model = build_model(file, {**(inherited or {}), file: text}, policy, symbols, kinds)
    except RecursionError:  # a chain of lets too long for the passes: PR116 has said so, else say it here
        if not any(item.code == "PR116" for item in sink.items):
            sink.report("PR116", "this policy is nested too deeply to check (a chain of hundreds of `let` values)",
                        policy.name.span, "shorten the chain of definitions")
    return model, [_located(item, file) for item in sink.items]


def _located(item: Diagnostic, file: str) -> Diagnostic:
    where = item.file or file
    hint = item.hint
    if where != file:
        note = f"this line is inherited by {file}"
        hint = f"{hint} ({note})" if hint else note
    return Diagnostic(item.code, item.message, item.span, hint, where)


def check_policy(policy: ast.Policy, file: str) -> list[Diagnostic]:
    """The diagnostics of one policy (see :func:`analyse_policy` for the model too)."""
    return analyse_policy(policy, file, "")[1]
