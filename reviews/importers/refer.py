"""EndNote tagged / Refer (.enl export, "EndNote" output style to text): `%`-tags, records separated by blank lines.

    %0 Journal Article
    %T How Trust Leads to Commitment on Microsourcing Platforms
    %A Guo, Wenbo
    %D 2021
    %J MIS Quarterly

A line that does not start with a tag continues the value before it (EndNote writes several keywords under
one %K that way). `raw` keeps every tag as exported ("%T" → […]), continuation lines joined with "\n".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from reviews.importers.base import ImportFormatError, ParsedRecord, find_registry_id, iter_lines
from reviews.importers.ris import doi_from_url, first_url, join_pages, split_authors, split_keywords, year_from

name = "refer"
label = "EndNote tagged (Refer)"

_TAG_LINE = re.compile(r"^%[0-9A-Z@!#$&()*+^~|\[\]<>?] ", re.M)
_FREE_TEXT_TAGS = frozenset(("%X", "%Z", "%<", "%K"))  # values that may hold paragraphs (blank lines)
_PMID_SOURCES = ("pubmed", "medline", "nlm")


def sniff(head: str, filename: str) -> int:
    """Refer when most lines of the first records are `%X value` tags, including a title or type tag."""
    tags = _TAG_LINE.findall(head)
    if len(tags) < 3 or not any(tag in ("%T ", "%0 ", "%A ") for tag in tags):
        return 0
    first_line = next((line for line in head.split("\n") if line.strip()), "")
    if not _TAG_LINE.match(first_line):
        return 0
    score = 70
    return score + 5 if filename.lower().endswith(".enl") else score


def _is_tag(line: str) -> bool:
    return len(line) >= 2 and line[0] == "%" and line[1] != " " and (len(line) == 2 or line[2] == " ")


def parse(text: str, *, filename: str = "") -> Iterator[ParsedRecord]:
    raw: dict[str, list[str]] | None = None  # the record being read, or the last one (until the next begins)
    start = 0
    values: list[str] = []  # value list of the last tag
    pieces: list[str] = []  # lines of the last value (joined when the next tag comes: no quadratic concatenation)
    last_tag = ""
    blank = False  # a blank line came since the last line with text

    for number, line in enumerate(iter_lines(text), 1):
        if not line.strip():
            blank = True
            continue
        if _is_tag(line):
            if len(pieces) > 1:
                values[-1] = "\n".join(pieces)
            tag, value = line[:2], line[3:].strip()
            if raw is None or blank:
                if raw is not None:
                    yield build_record(raw, start)
                raw = {}
                start = number
            values = raw.setdefault(tag, [])
            values.append(value)
            pieces = [value]
            last_tag = tag
        elif raw is not None and (not blank or last_tag in _FREE_TEXT_TAGS):
            # A continuation line; after a blank line only in free text (an abstract's next paragraph).
            if blank:
                pieces.append("")
            pieces.append(line.strip())
        else:
            where = f"after the record that starts on line {start}" if raw is not None else "before the first record"
            raise ImportFormatError(
                f"this line is not EndNote tagged text ({where}; every line starts with a tag such as '%T '): "
                f"{line.strip()[:80]!r}",
                line=number,
            )
        blank = False
    if len(pieces) > 1:
        values[-1] = "\n".join(pieces)
    if raw is not None:
        yield build_record(raw, start)


def build_record(raw: dict[str, list[str]], line: int) -> ParsedRecord:
    def first(*tags: str) -> str:
        for tag in tags:
            for value in raw.get(tag) or ():
                if value:
                    return value
        return ""

    record = ParsedRecord(raw=raw, line=line)
    record.title = first("%T")
    record.abstract = "\n".join(raw.get("%X") or ())
    authors = [name for value in raw.get("%A") or () for name in value.split("\n")]
    if authors:
        record.authors, note = split_authors(authors)
        if note:
            record.warnings.append(note)
    date = first("%D", "%8")
    if date:
        record.year = year_from(date)
        if record.year is None:
            record.warnings.append(f"unreadable year {date!r}")
    record.publication_type = first("%0", "%9")
    # %J is the journal; EndNote's conference and AIS exports put the journal or proceedings in %B.
    record.journal = first("%J", "%B")
    record.volume = first("%V")
    record.issue = first("%N")
    record.pages = join_pages(first("%P"), "")
    urls = [value for value in raw.get("%U") or ()]
    record.doi = first("%R") or next((doi for url in urls for doi in [doi_from_url(url)] if doi), "")
    record.url = first_url(urls)
    record.keywords = [word for value in raw.get("%K") or () for word in split_keywords(value)]
    record.language = first("%G")
    accession = first("%M")
    source = f"{first('%~')} {first('%W')}".lower()
    if accession.strip().isdigit() and any(word in source for word in _PMID_SOURCES):
        record.pmid = accession.strip()
    elif accession.upper().startswith("PMID"):
        record.pmid = accession
    record.registry_id = find_registry_id(accession, *(raw.get("%Z") or ()), record.title)
    return record
