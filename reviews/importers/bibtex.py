"""Placeholder until the bibtex importer lands: recognises nothing."""

from collections.abc import Iterator

from reviews.importers.base import ParsedRecord

name = "bibtex"
label = "bibtex"


def sniff(head: str, filename: str) -> int:
    return 0


def parse(text: str, *, filename: str = "") -> Iterator[ParsedRecord]:
    return iter(())
