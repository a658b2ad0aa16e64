"""The policy-set pass: what only shows when several policies are checked together.

Each data row is evaluated by the one policy whose ``roles`` hold its role, so two
policies may not claim the same role (PR501); results are keyed by policy name, so
two policies may not share a name (PR502).
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
                diagnostics.append(Diagnostic(
                    "PR501",
                    f"role '{role.text}' is already evaluated by policy \"{owner.policy.name.value}\" "
                    f"({owner.file}:{owner_role.span.line})",
                    role.span,
                    "each role belongs to exactly one policy: remove it from one of them",
                    checked.file,
                ))
            else:
                role_owner[role.text] = (checked, role)
    return diagnostics
