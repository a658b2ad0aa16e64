"""Where the files that ship beside the code live: the grammar and the templates.

In an installed wheel, ``grammar/`` and ``templates/`` are copied into the package
(``perfrules/grammar``, ``perfrules/templates``; see ``pyproject.toml``).  In a source
checkout (an editable install, or tests run from the tree) they are the top-level
folders of the repository.  This module is the one place that knows both.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT_DIR = _PACKAGE_DIR.parent.parent


def resource_dir(name: str) -> Path:
    """The folder ``name`` (``grammar`` or ``templates``), installed or in the checkout."""
    for candidate in (_PACKAGE_DIR / name, _CHECKOUT_DIR / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"perfrules is installed without its '{name}' folder; reinstall it with 'pip install .'"
    )


def grammar_path() -> Path:
    return resource_dir("grammar") / "perfrules.lark"
