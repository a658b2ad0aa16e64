"""Policy tests (language.md §15, ``perfrules test``): test files, their checks, the runner.

A test file (``NAME.test.perf``) names the policy it tests and describes agents and what
must hold of their results.  :mod:`.parser` reads it with its own grammar
(``grammar/tests.lark``), :mod:`.check` checks it against the policy's checked model,
:mod:`.run` evaluates each test's agents through the real evaluation path and compares,
:mod:`.coverage` counts the policy's decision lines that some test exercised, and
:mod:`.report` lays the outcome out as text or as the JSON document of cli.md.
"""
