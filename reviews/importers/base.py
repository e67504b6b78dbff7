"""What every importer produces and how it fails. Pure Python: no Django here.

An importer turns the text of an export into `ParsedRecord`s, one per record, in file order, each with the
line (or CSV row) where it starts and every tag/column exactly as exported (`raw`), so nothing a database
sent is lost. Problems with the file raise `ImportFormatError` with the line or record number; problems with
one record (no title, an unreadable year) are kept on the record as `warnings`, never dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

DOI_RE = re.compile(r"10\.\d{4,9}/\S+", re.IGNORECASE)
REGISTRY_ID_RE = re.compile(
    r"\b(NCT\d{8}|ISRCTN\d{8}|ACTRN\d{14}|ChiCTR[-\w]{6,20}|DRKS\d{8}|CTRI/\d{4}/\d{2,3}/\d{6}|"
    r"EUCTR\d{4}-\d{6}-\d{2}(?:-[A-Z]{2})?|\d{4}-\d{6}-\d{2}-\d{2}|JPRN-\w+|IRCT\w+|KCT\d{7}|"
    r"NTR\d{3,5}|NL\d{4,6}|PACTR\d{15}|RBR-\w+|SLCTR/\d{4}/\d{3}|TCTR\d{11}|PER-\d{3}-\d{2}|"
    r"CRD\d{11}|UMIN\d{9}|jRCT\w+|LBCTR\d{10}|ITMCTR\d+)\b"
)
YEAR_RE = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d|21\d\d)(?!\d)")


MAX_MESSAGE = 1000


class ImportFormatError(Exception):
    """The file cannot be imported. `message` says what, `line`/`record` say where (1-based), when known."""

    def __init__(self, message: str, *, line: int | None = None, record: int | None = None) -> None:
        if len(message) > MAX_MESSAGE:
            # A message quotes the offending text; hostile input can make that megabytes long, and the message
            # is stored on the import and shown on its page.
            message = message[: MAX_MESSAGE - 1] + "…"
        self.message = message
        self.line = line
        self.record = record
        super().__init__(self.describe())

    def describe(self) -> str:
        where = []
        if self.record is not None:
            where.append(f"record {self.record}")
        if self.line is not None:
            where.append(f"line {self.line}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


# Placeholders databases write where there are no pages (Ovid's "No pagination specified", a lone dash).
NO_PAGES = frozenset(("no-specified", "no pagination specified", "n/a", "n.p.", "-"))


@dataclass
class ParsedRecord:
    title: str = ""
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    registry_id: str = ""
    keywords: list[str] = field(default_factory=list)
    url: str = ""
    language: str = ""
    publication_type: str = ""
    # Every tag/column as exported, in order: tag -> list of values (lossless; repeated tags kept).
    raw: dict[str, list[str]] = field(default_factory=dict)
    line: int | None = None  # where the record starts in the file (1-based); CSV: the file line of the row
    warnings: list[str] = field(default_factory=list)

    def finish(self) -> ParsedRecord:
        """Normalize the identifiers and whitespace, and note what a reviewer must know (no title)."""
        self.title = clean_text(self.title)
        self.abstract = clean_text(self.abstract, keep_paragraphs=True)
        self.journal = clean_text(self.journal)
        self.authors = [a for a in (clean_text(a) for a in self.authors) if a]
        self.keywords = [k for k in (clean_text(k) for k in self.keywords) if k]
        self.doi = normalize_doi(self.doi)
        self.pmid = normalize_pmid(self.pmid)
        self.registry_id = self.registry_id.strip().upper() if self.registry_id else ""
        self.volume = clean_text(self.volume)
        self.issue = clean_text(self.issue)
        self.pages = clean_text(self.pages)
        if self.pages.lower() in NO_PAGES:  # every format alike (RIS's SP/EP join applies the same rule)
            self.pages = ""
        self.url = clean_text(self.url)
        self.language = clean_text(self.language)
        self.publication_type = clean_text(self.publication_type)
        if not self.title:
            self.warnings.append("no title")
        return self


class Importer(Protocol):
    """A format's module: `sniff` scores how sure it is (0 = not this format); `parse` yields records."""

    name: str
    label: str

    def sniff(self, head: str, filename: str) -> int: ...

    def parse(self, text: str, *, filename: str = "") -> Iterator[ParsedRecord]: ...


# ASCII whitespace other than the space: with no run of spaces either, an ASCII text is already clean.
_ASCII_WHITESPACE = ("\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f")


def clean_text(value: object, *, keep_paragraphs: bool = False) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if len(text) > 128 and _already_clean(text):
        # An abstract is cleaned once per record on files of 100,000: a few C-level scans that find nothing
        # cost a quarter of splitting it into words and joining them again.
        return text
    if not keep_paragraphs or "\n" not in text:
        # str.split() with no argument splits on all whitespace, NBSP included: one C-level pass.
        return " ".join(text.split())
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def _already_clean(text: str) -> bool:
    """ASCII, single spaces only, none at either end: `clean_text` would return it unchanged."""
    if not text.isascii() or "  " in text or text[0] == " " or text[-1] == " ":
        return False
    return not any(space in text for space in _ASCII_WHITESPACE)


def normalize_doi(value: str) -> str:
    """Lower case, no resolver prefix (`https://doi.org/`, `doi:`), no trailing punctuation; "" if no DOI."""
    if not value:
        return ""
    match = DOI_RE.search(value.strip())
    if not match:
        return ""
    doi = match.group(0).rstrip(".,;)]}>").lower()
    # The Cochrane Library gives each CENTRAL record a DOI of its own (10.1002/central/CN-01234567) in the link
    # it exports: that names the CENTRAL entry, not the article, and would keep a true duplicate apart.
    return "" if doi.startswith(CENTRAL_RECORD_DOI) else doi


CENTRAL_RECORD_DOI = "10.1002/central/"


def normalize_pmid(value: str) -> str:
    match = re.search(r"\d{1,9}", value or "")
    return match.group(0) if match else ""


def parse_year(value: str) -> int | None:
    match = YEAR_RE.search(value or "")
    return int(match.group(1)) if match else None


def find_registry_id(*values: str) -> str:
    for value in values:
        match = REGISTRY_ID_RE.search(value or "")
        if match:
            return match.group(1)
    return ""


def iter_lines(text: str, block: int = 1 << 20) -> Iterator[str]:
    """The lines of `text` exactly as `text.split("\\n")` gives them, a block at a time: a 200 MB export
    does not become one list of millions of strings at once (it doubled an import's peak memory)."""
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", min(start + block, size))
        if end < 0:
            yield from text[start:].split("\n")
            return
        yield from text[start:end].split("\n")
        start = end + 1
    yield ""  # the text was empty or ended with a newline
