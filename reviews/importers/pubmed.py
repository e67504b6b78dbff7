"""Placeholder until the pubmed importer lands: recognises nothing."""

from collections.abc import Iterator

from reviews.importers.base import ParsedRecord

name = "pubmed"
label = "pubmed"


def sniff(head: str, filename: str) -> int:
    return 0


def parse(text: str, *, filename: str = "") -> Iterator[ParsedRecord]:
    return iter(())
