"""The canonical layout of perfrules files (``perfrules fmt``): a printer driven by the
tokens and the parse tree (:mod:`perfrules.layout.printer`) and the command that checks,
shows or writes what it prints (:mod:`perfrules.layout.fmt`)."""
