"""Placeholder until the endnote_xml importer lands: recognises nothing."""

from collections.abc import Iterator

from reviews.importers.base import ParsedRecord

name = "endnote_xml"
label = "endnote_xml"


def sniff(head: str, filename: str) -> int:
    return 0


def parse(text: str, *, filename: str = "") -> Iterator[ParsedRecord]:
    return iter(())
