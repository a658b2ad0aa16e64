"""JSON and JSON Lines data files as rows of text cells, like the cells of a CSV file.

A JSON file holds a list of objects, a JSON Lines file one object a line; the keys of all
the objects, in the order first seen, are the headers, and each value is written as the
text a spreadsheet cell would hold (:func:`perfrules.data.reading.cell_text`; fractions
are read as exact decimals, never floats).  Broken JSON, numbers beyond what can be read
and deep nesting are one DataFileProblem each, with the line.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from perfrules.data.problems import DataFileProblem
from perfrules.data.reading import cell_text, without_surrogates


class KeyTwice(Exception):
    """An object names a key twice: JSON readers keep one of the two values (Python the last),
    so a cell would silently be one of two (a CSV header written twice is refused likewise)."""

    def __init__(self, key: str):
        super().__init__(key)
        self.message = f"an object holds the key '{without_surrogates(key)}' twice"


def _object(pairs: list) -> dict:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        raise KeyTwice(next(key for key, _ in pairs if key in seen or seen.add(key)))
    return found


def _loads(text: str):
    return json.loads(text, parse_float=Decimal, object_pairs_hook=_object)


def json_rows(path: Path):
    try:
        document = _loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise DataFileProblem("the JSON file is not UTF-8") from None
    except KeyTwice as twice:
        raise DataFileProblem(twice.message, "give every key of an object its own name") from None
    except json.JSONDecodeError as error:
        raise DataFileProblem(f"broken JSON at line {error.lineno}, column {error.colno}: {error.msg}") from None
    except (ValueError, ArithmeticError, RecursionError) as error:  # thousands of digits, 1e99999999999999999999, deep nesting
        raise DataFileProblem(f"the JSON file cannot be read: {_json_limit(error)}") from None
    if not isinstance(document, list) or not all(isinstance(item, dict) for item in document):
        raise DataFileProblem("the JSON file must hold a list of objects, one per agent and period")
    return _objects_to_rows(document, start=1)


def jsonl_rows(path: Path):
    objects = []
    numbers = []
    problems = []
    with path.open("r", encoding="utf-8-sig") as handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    item = _loads(line)
                except KeyTwice as twice:
                    problems.append(f"line {number}: {twice.message}")
                    continue
                except json.JSONDecodeError as error:
                    problems.append(f"line {number}: {error.msg}")
                    continue
                except (ValueError, ArithmeticError, RecursionError) as error:
                    problems.append(f"line {number}: {_json_limit(error)}")
                    continue
                if not isinstance(item, dict):
                    problems.append(f"line {number}: not an object")
                    continue
                objects.append(item)
                numbers.append(number)
        except UnicodeDecodeError:
            raise DataFileProblem("the JSON Lines file is not UTF-8") from None
    if problems:
        raise DataFileProblem("broken JSON Lines: " + "; ".join(problems))
    headers, rows = _objects_to_rows(objects, start=1)
    return headers, [(numbers[index], cells) for index, (_, cells) in enumerate(rows)]


def _json_limit(error: Exception) -> str:
    if isinstance(error, RecursionError):
        return "it is nested too deeply"
    if isinstance(error, ArithmeticError):
        return "a number's exponent is too large"
    return "a number has too many digits"


def _objects_to_rows(objects: list[dict], start: int):
    headers: list[str] = []
    seen: set[str] = set()
    for item in objects:
        for key in item:
            if key not in seen:
                seen.add(key)
                headers.append(key)
    names = [without_surrogates(header) for header in headers]
    rows = []
    for index, item in enumerate(objects, start=start):
        cells = []
        for key in headers:
            value = item.get(key)
            if isinstance(value, (dict, list)):
                value = json.dumps(value, ensure_ascii=False, default=float)  # fractions are Decimals
            cells.append(cell_text(value))
        rows.append((index, cells))
    return names, rows
