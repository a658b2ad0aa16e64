"""perfrules: customer-service performance-review policies as code.

Policies are plain-text files in a small language (``docs/language.md``); this
package parses and checks them (``perfrules check``), and applies them to agents'
metric snapshots.  The command line lives in :mod:`perfrules.cli`.
"""

__version__ = "0.1.0"
