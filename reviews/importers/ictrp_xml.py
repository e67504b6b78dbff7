"""Placeholder until the ictrp_xml importer lands: recognises nothing."""

from collections.abc import Iterator

from reviews.importers.base import ParsedRecord

name = "ictrp_xml"
label = "ictrp_xml"


def sniff(head: str, filename: str) -> int:
    return 0


def parse(text: str, *, filename: str = "") -> Iterator[ParsedRecord]:
    return iter(())
