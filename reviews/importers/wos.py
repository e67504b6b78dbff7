"""Web of Science tagged plain text / .ciw (also Zoological Record and other Clarivate databases):

    FN Clarivate Analytics Web of Science
    VR 1.0
    PT J
    AU Parkes-Loach, PS
       Majeed, AP
    TI Interactions stabilizing the structure of the core light-harvesting
       complex (LHl) of photosynthetic bacteria
    ER

    EF

Two-character tags, a space, the value; continuation lines indented three spaces. For list tags (AU, AF, CR,
C1, …) each continuation line is another item; for text (TI, AB, SO, DE) it is the same sentence wrapped. `raw`
keeps one value per tag with its lines joined by "\n", exactly as exported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from reviews.importers.base import ImportFormatError, ParsedRecord, find_registry_id, parse_year
from reviews.importers.ris import join_pages

name = "wos"
label = "Web of Science"

_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_UPPER_DIGIT = _UPPER | frozenset("0123456789")
_TAGGED_LINE = re.compile(r"^[A-Z][A-Z0-9] \S", re.M)
_EMAIL_IN_NAME = re.compile(r"\s*\([^()]*@[^()]*\)")  # Zoological Record: "Stillman, Andrew N. (a.s@uconn.edu)"
# Tags whose continuation lines are separate items rather than wrapped text.
PUBLICATION_TYPES = {"J": "Journal", "B": "Book", "S": "Series", "P": "Patent", "C": "Conference"}  # PT codes


def sniff(head: str, filename: str) -> int:
    """The `FN …`/`VR 1.0` header, or failing that `PT`/`ER` records in the two-character tag layout."""
    start = head.lstrip()[:300]
    if start.startswith("FN ") and "\nVR " in start:
        score = 95
    elif re.search(r"^PT [A-Z]\s*$", head, re.M) and re.search(r"^ER\s*$", head, re.M):
        score = 60 if len(_TAGGED_LINE.findall(head)) >= 5 else 0
    else:
        score = 0
    if score and filename.lower().endswith(".ciw"):
        score += 5
    return score


def parse(text: str, *, filename: str = "") -> Iterator[ParsedRecord]:
    upper, upper_digit = _UPPER, _UPPER_DIGIT
    raw: dict[str, list[str]] | None = None
    start = 0
    tag = ""
    lines_of_value: list[str] = []
    ended = False  # EF seen

    def close_value() -> None:
        if raw is not None and tag:
            raw.setdefault(tag, []).append("\n".join(lines_of_value))

    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        if ended:
            raise ImportFormatError(f"text after the EF end-of-file tag: {line.strip()[:80]!r}", line=number)
        if line[0] in " \t":
            if raw is None or not tag:
                raise ImportFormatError(
                    f"this indented line continues no tag (outside any record): {line.strip()[:80]!r}", line=number
                )
            lines_of_value.append(line.strip())
            continue
        if not (line[0] in upper and len(line) >= 2 and line[1] in upper_digit and (len(line) == 2 or line[2] == " ")):
            raise ImportFormatError(
                "this line is not Web of Science tagged text (a two-character tag, a space and the value, or a "
                f"continuation indented with spaces): {line.strip()[:80]!r}",
                line=number,
            )
        new_tag, value = line[:2], line[3:].strip()
        close_value()
        tag = ""
        if raw is None:
            if new_tag in ("FN", "VR"):
                continue  # file header
            if new_tag == "EF":
                ended = True
                continue
            if new_tag == "ER":
                raise ImportFormatError("ER end tag without a record before it", line=number)
            raw = {}
            start = number
        elif new_tag == "ER":
            yield build_record(raw, start)
            raw = None
            continue
        elif new_tag in ("EF", "FN") or (new_tag == "PT" and "PT" in raw):
            raise ImportFormatError(
                f"the record that starts on line {start} has no ER end tag ({new_tag} on line {number} comes first)",
                line=start,
            )
        tag, lines_of_value = new_tag, [value]

    close_value()
    if raw is not None:
        # A missing last ER: tolerable when the file ends with a complete line and the record has a title.
        if not text.endswith("\n") or "TI" not in raw:
            raise ImportFormatError(
                f"the file ends inside the record that starts on line {start}, which has no ER end tag: "
                "the export looks truncated",
                line=start,
            )
        record = build_record(raw, start)
        record.warnings.append("no ER end tag at the end of the file: check that the export is complete")
        yield record


def build_record(raw: dict[str, list[str]], line: int) -> ParsedRecord:
    def text(*tags: str) -> str:
        for tag in tags:
            for value in raw.get(tag) or ():
                if value:
                    return value.replace("\n", " ")
        return ""

    def items(tag: str) -> list[str]:
        return [item for value in raw.get(tag) or () for item in value.split("\n") if item.strip()]

    record = ParsedRecord(raw=raw, line=line)
    record.title = text("TI")
    record.abstract = text("AB")
    record.authors = [_EMAIL_IN_NAME.sub("", author) for author in items("AF") or items("AU") or items("CA")]
    year_text = text("PY") or text("PD") or text("EA")
    if year_text:
        record.year = parse_year(year_text)
        if record.year is None:
            record.warnings.append(f"unreadable year {year_text!r}")
    record.journal = text("SO", "SE", "JI", "J9")
    record.volume = text("VL")
    record.issue = text("IS")
    record.pages = join_pages(text("BP"), text("EP"))
    record.doi = text("DI", "D2")
    record.pmid = text("PM")
    record.keywords = [word.strip() for tag in ("DE", "ID") for word in text(tag).split(";") if word.strip()]
    record.language = text("LA")
    record.publication_type = text("DT") or PUBLICATION_TYPES.get(text("PT"), text("PT"))
    record.url = text("UR")
    record.registry_id = find_registry_id(text("UT"), text("AN"), record.title)
    return record
