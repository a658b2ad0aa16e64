"""The parse pass of metric definitions: text to :class:`~.nodes.Definitions`.

The grammar is ``grammar/metrics.lark`` (it imports the policy grammar's literals and
names); lark parses it LALR(1) with positions, built in memory once per process (the
grammar is small: no table file, and no cache anywhere).  :func:`parse_definitions`
is the one boundary where lark's exceptions are caught; the policy parser's
:mod:`perfrules.syntax_errors` words them (a missing brace, full-width punctuation, a
misspelled keyword with "did you mean").
"""

from __future__ import annotations

from functools import lru_cache

from lark import Lark, Token, v_args
from lark.exceptions import LarkError, UnexpectedInput, VisitError

from perfrules import ast
from perfrules.diagnostics import Diagnostic, DiagnosticSink
from perfrules.metrics import nodes
from perfrules.parser import AstBuilder, report_deep_expressions, report_huge_numbers
from perfrules.parser_tables import OPTIONS
from perfrules.resources import resource_dir
from perfrules.source import FILE_START, SourceFile


@lru_cache(maxsize=1)
def definitions_parser() -> Lark:
    return Lark.open(str(resource_dir("grammar") / "metrics.lark"), cache=False, **OPTIONS)


@v_args(meta=True)
class DefinitionsBuilder(AstBuilder):
    """One method per rule or alias of grammar/metrics.lark; conditions and values are the
    policy language's expressions, built by the policy parser's own methods."""

    def start(self, meta, children):
        return children[0]

    def definitions(self, meta, children):
        title, *statements = children
        of = lambda kind: tuple(item for item in statements if isinstance(item, kind))  # noqa: E731
        period = next((item[1] for item in statements if isinstance(item, tuple) and item[0] == "period"), None)
        role = next((item[1] for item in statements if isinstance(item, tuple) and item[0] == "role"), None)
        rosters = of(nodes.Roster)
        return nodes.Definitions(self._text(title), period, role, of(nodes.Source), rosters[0] if rosters else None,
                                 of(nodes.MetricDefinition), tuple(statements), self.span(meta))

    def period(self, meta, children):
        return ("period", children[0], self.span(meta))

    def role(self, meta, children):
        return ("role", self._text(children[0]), self.span(meta))

    # ---- sources and the roster --------------------------------------------------------

    def source(self, meta, children):
        name, path, *lines = children
        columns = tuple(line for line in lines if isinstance(line, nodes.SourceColumn))
        settings = tuple(line for line in lines if isinstance(line, nodes.Setting))
        return nodes.Source(name, self._text(path), columns, settings, self.span(meta))

    def _setting(self, kind: str, value, meta) -> nodes.Setting:
        return nodes.Setting(kind, value, self.span(meta))

    def source_agent(self, meta, children):
        return self._setting("agent", children[0], meta)

    def source_period(self, meta, children):
        return self._setting("period", children[0], meta)

    def source_column(self, meta, children):
        name, column_type, *header = children
        return nodes.SourceColumn(name, column_type, self._text(header[0]) if header else None, self.span(meta))

    def column_type(self, meta, children):
        type_name, *rest = children
        unit = next((child for child in rest if isinstance(child, ast.Name)), None)
        text = next((self._text(child) for child in rest if isinstance(child, Token)), None)
        return nodes.ColumnType(type_name, unit, text, self.span(meta))

    def type_name(self, meta, children):
        return ast.Name(children[0].value, self.token_span(children[0]))

    def unit(self, meta, children):
        return ast.Name(children[-1].value, self.token_span(children[-1]))

    def source_where(self, meta, children):
        return self._setting("where", children[0], meta)

    def source_latest(self, meta, children):
        return self._setting("latest", tuple(children), meta)

    def source_unknown(self, meta, children):
        return self._setting("unknown", self._text(children[0]), meta)

    def source_encoding(self, meta, children):
        return self._setting("encoding", self._text(children[0]), meta)

    def source_sheet(self, meta, children):
        return self._setting("sheet", self._text(children[0]), meta)

    def roster(self, meta, children):
        path, *lines = children
        return nodes.Roster(self._text(path), tuple(lines), self.span(meta))

    def roster_agent(self, meta, children):
        return self._setting("agent", children[0], meta)

    def roster_role(self, meta, children):
        return self._setting("role", children[0], meta)

    def roster_field(self, meta, children):
        word, column = children
        return nodes.Setting(word.text, column, self.span(meta), word)

    def column(self, meta, children):
        child = children[0]
        if isinstance(child, ast.Name):
            return nodes.ColumnRef(child.text, child.span)
        text = self._text(child)
        return nodes.ColumnRef(text.value, text.span)

    # ---- metrics ------------------------------------------------------------------------

    def metric(self, meta, children):
        name, type_name, *rest = children
        unit = rest[0] if len(rest) == 2 else None
        return nodes.MetricDefinition(name, type_name, unit, rest[-1], self.span(meta))

    def _aggregate(self, function: str, value, rest, meta) -> nodes.Aggregate:
        source = next((child[1] for child in rest if child[0] == "of"), None)
        where = next((child[1] for child in rest if child[0] == "where"), None)
        return nodes.Aggregate(function, value, source, where, self.span(meta))

    def count_rows(self, meta, children):
        return self._aggregate("count", None, children, meta)

    def share_rows(self, meta, children):
        return self._aggregate("share", None, children, meta)

    def distinct_values(self, meta, children):
        return self._aggregate("distinct", children[0], children[1:], meta)

    def aggregate_values(self, meta, children):
        function, value, *rest = children
        return self._aggregate(function, value, rest, meta)

    def aggregate_function(self, meta, children):
        return children[0].value

    def of(self, meta, children):
        return ("of", children[0])

    def where(self, meta, children):
        return ("where", children[0])

    # ---- expressions: the policy parser's own methods (or_op, compare, number, name...), plus

    def is_unknown(self, meta, children):
        return nodes.IsKnown(children[0], False, self.span(meta))

    def is_known(self, meta, children):
        return nodes.IsKnown(children[0], True, self.span(meta))

    def true(self, meta, children):
        return nodes.BoolLiteral(True, self.span(meta))

    def false(self, meta, children):
        return nodes.BoolLiteral(False, self.span(meta))


def parse_definitions(source: SourceFile) -> tuple[nodes.Definitions | None, list[Diagnostic]]:
    """The definitions, or None and the syntax diagnostics; lark's exceptions stop here."""
    from perfrules.syntax_errors import SyntaxContext, brace_problem, explain

    parser = definitions_parser()
    sink = DiagnosticSink()
    syntax: list[Diagnostic] = []
    definitions = None
    try:
        tree = parser.parse(source.text)
        if not report_deep_expressions(tree, sink, has_lets=False):  # PR116, as in a policy: before anything recurses
            definitions = DefinitionsBuilder(sink, source.path).transform(tree)
            report_huge_numbers(parser, source.text, sink)
    except UnexpectedInput as error:
        context = SyntaxContext(source.text, parser)
        diagnostic = explain(error, context).diagnostic
        if not context.tokens:  # the policy's words would say "a policy starts with"
            diagnostic = Diagnostic("PR001", "the file is empty", diagnostic.span,
                                    'metric definitions start with: metrics "name" {')
        syntax.append(diagnostic)
        braces = brace_problem(context)
        if braces is not None:
            syntax = [item for item in syntax if item.span.start < braces.span.start] + [braces]
    except RecursionError:
        sink.report("PR001", "these definitions are nested too deeply to read", FILE_START)
    except VisitError as error:  # a builder bug: located, never a traceback
        sink.report("PR001", f"internal error while reading the definitions: {error.orig_exc!r}", FILE_START)
    except LarkError as error:
        sink.report("PR001", f"cannot parse these definitions: {error}", FILE_START)
    diagnostics = [Diagnostic(item.code, item.message, item.span, item.hint, source.path)
                   for item in sink.items + syntax]
    return (None if diagnostics and any(item.is_error for item in diagnostics) else definitions), diagnostics
