"""The policy-set pass: what only shows when several policies are checked together.

Each data row is evaluated by the one policy whose ``roles`` hold its role, so two
policies may not claim the same role (PR501); results are keyed by policy name, so
two policies may not share a name (PR502).  Bases (policies without roles) evaluate
nothing and are not given here; a role inherited through ``extends`` is claimed by the
child too, and is reported in the file where it is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from perfrules import ast
from perfrules.diagnostics import Diagnostic


@dataclass(frozen=True, slots=True)
class CheckedPolicy:
    """A parsed policy and the file it came from."""

    file: str
    policy: ast.Policy


def check_policy_set(policies: list[CheckedPolicy]) -> list[Diagnostic]:
    diagnostics = []
    role_owner: dict[str, tuple[CheckedPolicy, ast.Name]] = {}
    name_owner: dict[str, CheckedPolicy] = {}
    for checked in policies:
        policy = checked.policy
        name = policy.name.value
        if name in name_owner:
            first = name_owner[name]
            diagnostics.append(Diagnostic(
                "PR502",
                f"the policy name \"{name}\" is already used by {first.file}:{first.policy.name.span.line}",
                policy.name.span,
                "give each policy its own name; results are labelled with it",
                checked.file,
            ))
        else:
            name_owner[name] = checked
        seen_here: set[str] = set()
        for role in policy.roles:
            if role.text in seen_here:
                continue
            seen_here.add(role.text)
            if role.text in role_owner:
                owner, owner_role = role_owner[role.text]
                diagnostics.append(_claimed_twice(checked, role, owner, owner_role))
            else:
                role_owner[role.text] = (checked, role)
    return diagnostics


def _claimed_twice(checked: CheckedPolicy, role: ast.Name, owner: CheckedPolicy, owner_role: ast.Name) -> Diagnostic:
    """PR501 on the role's second claim; a role inherited through `extends` is reported on
    the `extends` of the policy that inherits it, where the fix is written."""
    claimed_by = (f"is already evaluated by policy \"{owner.policy.name.value}\" "
                  f"({owner_role.span.file or owner.file}:{owner_role.span.line})")
    inherited_from = role.span.file
    if inherited_from and inherited_from != checked.file and checked.policy.extends is not None:
        return Diagnostic("PR501", f"role '{role.text}', inherited from {inherited_from}:{role.span.line}, {claimed_by}",
                          checked.policy.extends.span, "give this policy its own `roles` line", checked.file)
    return Diagnostic("PR501", f"role '{role.text}' {claimed_by}", role.span,
                      "each role belongs to exactly one policy: remove it from one of them", checked.file)
