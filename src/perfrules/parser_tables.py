"""The policy parser's LALR tables, shipped inside the package instead of cached in /tmp.

Building the parser from ``grammar/perfrules.lark`` takes about half a second, so lark
can cache its tables, but its cache is a pickle at a predictable name in the shared temp
folder, loaded by whoever runs perfrules next: anyone on the server could plant one and
run code as the HR user.  Instead the tables are generated once (``python -m
perfrules.parser_tables``) into ``parser_tables.pickle`` beside this module, a file of
the installed package that only its owner can change.  Its first line names the SHA-256
of the grammar and the lark version it was made from; when either differs (a grammar
edited in a checkout, another lark release), perfrules builds the parser from the
grammar in memory and reads or writes no cache anywhere.  ``tests/test_parser_tables.py``
keeps the shipped file in step with the grammar.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import lark
from lark import Lark

from perfrules.resources import grammar_path

TABLES = Path(__file__).resolve().parent / "parser_tables.pickle"
OPTIONS = dict(parser="lalr", lexer="basic", propagate_positions=True, maybe_placeholders=False)


def stamp() -> bytes:
    """The first line of the tables file for the grammar and lark of this installation."""
    digest = hashlib.sha256(grammar_path().read_bytes()).hexdigest()
    return f"perfrules-parser-tables grammar-sha256={digest} lark={lark.__version__}\n".encode()


def build_parser() -> Lark:
    """The parser built from the grammar, no cache read or written."""
    return Lark.open(str(grammar_path()), cache=False, **OPTIONS)


def load_parser() -> Lark:
    """The shipped tables when they match the grammar and lark; else a parser built now."""
    try:
        data = TABLES.read_bytes()
    except OSError:
        return build_parser()
    first, _, tables = data.partition(b"\n")
    if first + b"\n" != stamp():
        return build_parser()
    return Lark.load(io.BytesIO(tables))


def write_tables(path: Path = TABLES) -> None:
    buffer = io.BytesIO()
    build_parser().save(buffer)
    path.write_bytes(stamp() + buffer.getvalue())


if __name__ == "__main__":
    write_tables()
    print(f"wrote {TABLES}")
