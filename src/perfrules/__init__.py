"""perfrules: customer-service performance-review policies as code.

Policies are plain-text files in a small language (``docs/language.md``); this
package parses and checks them (``perfrules check``), and applies them to agents'
metric snapshots.  The command line lives in :mod:`perfrules.cli`.
"""

# The one place the version is written: pyproject.toml reads it from here (hatch), the
# command line prints it (``perfrules --version``) and every result carries it.
__version__ = "0.1.0"
