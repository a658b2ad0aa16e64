"""Metric definitions: raw exports (calls, incident events) to the per-agent snapshot.

A definitions file (``*.perfm``, docs/metrics.md) names its sources, how a row finds
its agent and period, and each metric as a typed aggregate.  The passes mirror the
policy compiler's: :mod:`.parse` (grammar/metrics.lark) → :mod:`.check` (names, kinds,
settings, all diagnostics at once) → :mod:`.compile` (one DuckDB query, built as a
small SQL tree, :mod:`.sql`) → :mod:`.snapshot` (read the sources, run the query,
report every bad raw cell with file, row and column).
"""

DEFINITIONS_SUFFIX = ".perfm"


def is_definitions(path: str) -> bool:
    """Whether a DATA argument names metric definitions rather than a snapshot file."""
    return str(path).lower().endswith(DEFINITIONS_SUFFIX)
