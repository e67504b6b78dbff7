"""CSV and TSV exports: one record per row, columns recognised by their header (case-insensitive).

Layouts with their own column names:
* PubMed "Save → CSV": PMID, Title, Authors ("Lim SM, Shiau CWC"), Citation, Journal/Book, Publication Year, DOI;
  volume/issue/pages come from Citation ("Behav Ther. 2022 Mar;53(2):334-347. doi: ...").
* Embase CSV: Title, Author Names ("Liu R., Adler D.G."), Source ("Cancer (2004) 102:4 (253-258). Date of
  Publication: ..."), Abstract, keywords, Clinical Trial Numbers, Open URL Link (an OpenURL that holds the DOI).
* Covidence (Title, Authors "Smith, J.; Doe, A.", Published Year, Journal, Accession Number, Covidence #, ...),
  Rayyan (key, title, authors, journal, year, url, abstract, doi, keywords, ...), EndNote tab-delimited
  (Author, Title, Year, Secondary Title, ...), WoS tab-delimited (TI, AU, SO, PY, DI, ...), Scopus, IEEE,
  Springer, SyRF, and generic files (title/primary_title/TI, abstract/AB, authors/author, year, doi, ...).
* Trial registers, as registrations (publication_type "trial registration"): ClinicalTrials.gov CSV downloads
  (current site: "NCT Number", "Study Title", "Study URL", "Brief Summary", "Conditions", ...; old site: "NCT
  Number", "Title", ..., "URL") and the WHO ICTRP CSV export (TrialID, Public title, Scientific title, Date
  registration, web address/URL, Condition, Intervention, Primary outcome, ...), which is read exactly like
  ICTRP XML (see ictrp_xml.ictrp_record).

The delimiter (`,` `;` or tab) is the one that splits the header row into the most columns, the first data
row breaking ties; an Excel `sep=;` first line is honoured. `raw` is the whole row as {column: [value]} and
`line` the file line where the row starts (quoted cells may span lines).

Rows that do not fit the header:
* more cells than columns, the extra ones empty (a trailing delimiter): harmless, read as usual;
* more cells than columns with something in the extra ones: ImportFormatError at that line. A delimiter inside
  an unquoted cell shifts every later value into the wrong column (the authors into the year, ...), so the
  record would be silently wrong; the file must be exported again with quoting;
* fewer cells than columns: the missing ones are read as empty, with a warning on the record, since that is
  also what a row broken in two by a stray line break looks like;
* a quote that is never closed swallows every following row into one cell: ImportFormatError at the row.
"""

from __future__ import annotations

import ast
import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from urllib.parse import parse_qs, urlsplit

from reviews.importers.base import ImportFormatError, ParsedRecord, clean_text, find_registry_id, parse_year
from reviews.importers.ctgov_json import CTGOV_STUDY_URL, TRIAL_REGISTRATION, readable_summary, registry_year
from reviews.importers.ictrp_xml import ictrp_record, normalized_fields

name = "tabular"
label = "CSV/TSV"

_DELIMITERS = ("\t", ";", ",")  # ties on the header alone go to the rarer delimiter
_SEP_HINT = re.compile(r"^sep=(.)$")

# Normalized header names (lower case, `_` as space, single spaces), most specific first.
_TITLE = (
    "title", "article title", "document title", "primary title", "item title", "ti", "t1", "titles",
    "original title",
)  # fmt: skip
_ABSTRACT = ("abstract", "ab", "abstract note", "n2", "original abstract", "description")
_AUTHORS = (
    "authors", "author", "author names", "author full names", "author(s)", "au", "a1", "af", "first authors",
    "first author", "creators",
)  # fmt: skip
_YEAR = (
    "year", "publication year", "published year", "pub year", "year published", "py", "y1",
    "publication date", "date published", "date",
)  # fmt: skip
_JOURNAL = (
    "journal", "journal/book", "source title", "publication title", "secondary title", "journal title",
    "journal name", "publicationname", "publication name", "publication", "jo", "jf", "t2", "so", "booktitle",
)  # fmt: skip
_VOLUME = ("volume", "journal volume", "vl", "vol")
_ISSUE = ("issue", "number", "journal issue", "is")
_PAGES = ("pages", "page", "pagination", "page range")  # not PG: Web of Science's page *count*
_PAGE_START = ("start page", "page start", "first page", "bp")
_PAGE_END = ("end page", "page end", "last page", "ep")
_DOI = ("doi", "do", "di", "item doi")
_PMID = ("pmid", "pubmed id", "pubmedid", "medline pmid", "pm", "pubmed")
_KEYWORDS = ("keywords", "keyword", "author keywords", "kw", "de", "index keywords")
_URL = ("url", "link", "open url link", "ur", "l1", "item url")
_LANGUAGE = ("language", "language of original document", "la", "lang")
_TYPE = (
    "publication type", "document type", "type of reference", "reference type", "entrytype", "type", "content type",
    "ty", "dt",
)  # fmt: skip
_TRIAL_NUMBERS = ("clinical trial numbers", "clinical trial number", "trial registration", "trial registry number")

_PUBMED_CITATION = re.compile(
    r";\s*(?P<volume>[^():;.\s]+)?\s*(?:\((?P<issue>[^)]*)\))?\s*:\s*(?P<pages>[A-Za-z]?\d[^.;\s]*)"
)
_EMBASE_SOURCE = re.compile(
    r"^(?P<journal>.+?)\s+\((?P<year>\d{4})\)\s*(?P<volume>[^\s:(]+)?(?::(?P<issue>[^\s(]+))?\s*"
    r"(?:\((?P<pages>[^)]*)\))?"
)
_DASHES = re.compile(r"--+|[\u2010-\u2015-]")
_QUOTED = r"""(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
_LIST_LITERAL = re.compile(rf"\[\s*(?:{_QUOTED}\s*(?:,\s*{_QUOTED}\s*)*,?\s*)?\]")


def sniff(head: str, filename: str) -> int:
    try:
        _offset, _delimiter, header = _header(head)
    except (csv.Error, StopIteration):
        return 0
    if len(header) < 2:
        return 0
    keys = {_key(column) for column in header}
    # Low on purpose: a tagged format that recognises the file (RIS, MEDLINE, ...) must win over "it has commas".
    if _registry(keys):
        return 40
    return 30 if keys.intersection(_TITLE) else 0


def parse(text: str, *, filename: str = "") -> Iterator[ParsedRecord]:
    try:
        offset, delimiter, header = _header(text)
    except StopIteration:
        raise ImportFormatError("the file has no header row") from None
    except csv.Error as exc:
        raise ImportFormatError(f"the header row could not be read: {exc}", line=1) from exc
    body = text.split("\n", offset)[offset] if offset else text
    _check_quotes(body, delimiter, offset)
    reader = csv.reader(io.StringIO(body), delimiter=delimiter)
    previous = 0
    try:
        # The header as the reader sees it (a quoted column name may hold a line break; `header` is one line).
        layout = _Layout(next(reader, header))
        build = _builder(layout)
        previous = reader.line_num
        for row in reader:
            line = offset + previous + 1
            previous = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            yield _row_record(layout, build, row, line)
    except csv.Error as exc:
        raise ImportFormatError(_csv_problem(exc), line=offset + previous + 1) from exc


# --- the header and the shape of the file -----------------------------------------------------------------


def _header(text: str) -> tuple[int, str, list[str]]:
    """(lines before the header row, delimiter, header cells). Raises StopIteration for a blank file."""
    lines = text[:200_000].split("\n")  # enough for the header and a data row
    offset = next(i for i, line in enumerate(lines) if line.strip())
    hint = _SEP_HINT.match(lines[offset].strip())
    if hint:  # Excel's "sep=;" line names the delimiter and is not the header
        offset = next(i for i in range(offset + 1, len(lines)) if lines[i].strip())
        return offset, hint.group(1), _split(lines[offset], hint.group(1))
    data_row = next((line for line in lines[offset + 1 :] if line.strip()), "")

    def score(delimiter: str) -> tuple[int, bool]:
        width = len(_split(lines[offset], delimiter))
        return width, len(_split(data_row, delimiter)) == width

    delimiter = max(_DELIMITERS, key=score)
    return offset, delimiter, _split(lines[offset], delimiter)


def _split(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _key(column: str) -> str:
    return " ".join(column.replace("\ufeff", "").replace("_", " ").strip().strip('"').lower().split())


def _check_quotes(body: str, delimiter: str, offset: int) -> None:
    """A quote that is never closed makes the rest of the file one cell: find it before reading rows.

    Only the strict reader notices (at the end of the file); it also objects to harmless oddities such as
    `"a" ,b`, which the lenient reader used for the rows accepts, so only an unclosed quote is an error here."""
    reader = csv.reader(io.StringIO(body), delimiter=delimiter, strict=True)
    previous = 0
    try:
        for _row in reader:
            previous = reader.line_num
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise ImportFormatError(
                'a quote (") opened in the row starting here is never closed, so every row after it would be '
                "read as part of one cell; fix the quote or export the file again",
                line=offset + previous + 1,
            ) from exc


def _csv_problem(exc: csv.Error) -> str:
    message = str(exc)
    if "field larger than field limit" in message:
        return (
            f"a cell is longer than {csv.field_size_limit():,} characters, which usually means an opening quote "
            '(") was never closed; check the quotes in the row starting here'
        )
    return f"the row starting here could not be read as CSV: {message}"


# --- rows to records --------------------------------------------------------------------------------------


class _Layout:
    """The header, with lookups from field aliases to the columns that carry them."""

    def __init__(self, header: Sequence[str]) -> None:
        self.columns = [column.replace("\ufeff", "").strip() for column in header]
        self.keys = [_key(column) for column in self.columns]
        self.key_set = set(self.keys)
        self._indexes: dict[tuple[str, ...], list[int]] = {}

    def indexes(self, aliases: tuple[str, ...]) -> list[int]:
        """The columns for these aliases, in the aliases' order of preference (computed once per header)."""
        found = self._indexes.get(aliases)
        if found is None:
            found = self._indexes[aliases] = [i for a in aliases for i, key in enumerate(self.keys) if key == a]
        return found

    def has(self, aliases: tuple[str, ...]) -> bool:
        return bool(self.key_set.intersection(aliases))


_Builder = Callable[[Sequence[str]], ParsedRecord]


def _builder(layout: _Layout) -> _Builder:
    registry = _registry(layout.key_set)
    if registry == "ctgov":
        return lambda cells: _ctgov_row(layout, cells)
    if registry == "ictrp":
        return lambda cells: ictrp_record(normalized_fields(_raw(layout, cells)))
    if not layout.has(_TITLE):
        found = ", ".join(repr(column) for column in layout.columns[:30] if column)
        raise ImportFormatError(
            "no title column found, so this does not look like a bibliographic export (expected a column such "
            f"as Title, primary_title or TI); the columns are: {found or 'none'}",
            line=1,
        )
    return lambda cells: _bibliographic_row(layout, cells)


def _registry(keys: set[str]) -> str:
    if "nct number" in keys and keys.intersection({"study title", "title"}):
        return "ctgov"
    if keys.intersection({"trialid", "trial id"}) and keys.intersection({"public title", "scientific title"}):
        return "ictrp"
    return ""


def _row_record(layout: _Layout, build: _Builder, row: list[str], line: int) -> ParsedRecord:
    width = len(layout.columns)
    if len(row) > width and any(cell.strip() for cell in row[width:]):
        raise ImportFormatError(
            f"this row has {len(row)} cells but the header has {width} columns, so its values would land in the "
            "wrong columns (probably a delimiter inside an unquoted cell); export the file again with quoted cells",
            line=line,
        )
    cells = row[:width] + [""] * (width - len(row))
    record = build(cells)
    record.raw = _raw(layout, cells)
    record.line = line
    if len(row) < width:
        record.warnings.append(f"this row has only {len(row)} of the {width} columns; the rest were read as empty")
    return record


def _raw(layout: _Layout, cells: Sequence[str]) -> dict[str, list[str]]:
    raw: dict[str, list[str]] = {}
    for i, (column, value) in enumerate(zip(layout.columns, cells, strict=True)):
        raw.setdefault(column or f"column {i + 1}", []).append(value)
    return raw


def _getter(layout: _Layout, cells: Sequence[str]) -> Callable[[tuple[str, ...]], str]:
    def get(aliases: tuple[str, ...]) -> str:
        for i in layout.indexes(aliases):
            if cells[i].strip():
                return cells[i].strip()
        return ""

    return get


def _bibliographic_row(layout: _Layout, cells: Sequence[str]) -> ParsedRecord:
    get = _getter(layout, cells)
    record = ParsedRecord()
    record.title = get(_TITLE)
    record.abstract = get(_ABSTRACT)
    record.authors = split_authors(get(_AUTHORS))
    record.journal = get(_JOURNAL)
    record.volume = get(_VOLUME)
    record.issue = get(_ISSUE)
    pages = get(_PAGES)
    # RIS-named columns use SP for the start page; Web of Science (which has BP for that) uses SP for sponsors.
    start = get(_PAGE_START) or ("" if layout.has(("bp",)) else get(("sp",)))
    if not pages and start:
        pages = "-".join(part for part in (start, get(_PAGE_END)) if part)
    record.pages = _page_range(pages)
    record.doi = get(_DOI)
    record.pmid = get(_PMID)
    record.keywords = split_list(get(_KEYWORDS))
    record.url = get(_URL)
    record.language = get(_LANGUAGE)
    record.publication_type = get(_TYPE)
    record.registry_id = find_registry_id(get(_TRIAL_NUMBERS))
    year_text = get(_YEAR)

    citation = get(("citation",))  # PubMed: "Behav Ther. 2022 Mar;53(2):334-347. doi: ..."
    match = _PUBMED_CITATION.search(citation) if citation else None
    if match:
        record.volume = record.volume or (match.group("volume") or "")
        record.issue = record.issue or (match.group("issue") or "")
        record.pages = record.pages or match.group("pages")
    source = get(("source",))  # Embase: "Cancer (2004) 102:4 (253-258). Date of Publication: 25 Aug 2004"
    match = _EMBASE_SOURCE.match(source[:500]) if source else None  # bounded: the pattern backtracks
    if match:
        record.journal = record.journal or match.group("journal")
        record.volume = record.volume or (match.group("volume") or "")
        record.issue = record.issue or (match.group("issue") or "")
        record.pages = record.pages or _page_range(match.group("pages") or "")
        year_text = year_text or match.group("year")
    if not record.doi or not record.pmid:
        ids = _openurl_ids([cells[i] for i in layout.indexes(_URL)])
        record.doi = record.doi or ids.get("doi", "")
        record.pmid = record.pmid or ids.get("pmid", "")

    record.year = parse_year(year_text)
    if year_text and record.year is None:
        record.warnings.append(f"unreadable year {year_text!r}")
    return record


def _ctgov_row(layout: _Layout, cells: Sequence[str]) -> ParsedRecord:
    """A ClinicalTrials.gov CSV row (current site, or the old site's columns where they differ)."""
    get = _getter(layout, cells)
    nct = get(("nct number",))
    record = ParsedRecord(publication_type=TRIAL_REGISTRATION, journal="ClinicalTrials.gov")
    record.registry_id = find_registry_id(nct) or nct
    record.title = get(("study title", "title"))
    record.url = get(("study url", "url")) or (CTGOV_STUDY_URL.format(nct) if nct else "")
    conditions = [part.strip() for part in get(("conditions",)).split("|") if part.strip()]
    record.keywords = conditions
    record.abstract = get(("brief summary",)) or readable_summary(
        [
            ("Conditions", "; ".join(conditions)),
            ("Interventions", get(("interventions",)).replace("|", "; ")),
            ("Primary outcomes", get(("primary outcome measures", "outcome measures")).replace("|", "; ")),
            ("Study type", get(("study type",))),
            ("Phases", get(("phases",)).replace("|", ", ")),
            ("Status", get(("study status", "status"))),
        ]
    )
    record.year = registry_year(get(("first posted",)), get(("start date",)))
    if record.year is None:
        record.warnings.append("no registration or start date")
    return record


def _openurl_ids(urls: Sequence[str]) -> dict[str, str]:
    """DOI/PMID from an OpenURL link (Embase's "Open URL Link": ...?sid=EMBASE&id=doi:10.1002%2Fcncr.20369)."""
    ids: dict[str, str] = {}
    for url in urls:
        if "id=" not in url:
            continue
        try:
            query = parse_qs(urlsplit(url.strip()).query)
        except ValueError:  # not a URL after all
            continue
        for value in query.get("id", []) + query.get("rft_id", []):
            kind, _, identifier = value.partition(":")
            if kind.lower() in ("doi", "pmid") and identifier:
                ids.setdefault(kind.lower(), identifier)
    return ids


# --- splitting multi-valued cells --------------------------------------------------------------------------


def split_authors(value: str) -> list[str]:
    """Authors as the export lists them, in order, each as written.

    `;` separates when present (Covidence, WoS, Scopus), then ` and ` (BibTeX style) and `//` (EndNote).
    Otherwise `,` separates (PubMed "Lim SM, Shiau CWC", Embase "Liu R., Adler D.G.", IEEE "Joseph Rottman,
    Erran Carmel"), except that "Smith, John" pairs (a one-word surname, then the given names) stay together.
    """
    value = value.strip()
    if not value:
        return []
    listed = _list_literal(value)
    if listed is not None:
        return listed
    for separator in (";", " and ", "//"):
        if separator in value:
            return [part.strip() for part in value.split(separator) if part.strip()]
    parts = [part.strip() for part in value.split(",") if part.strip()]
    surnames_first = len(parts) % 2 == 0 and all(" " not in part for part in parts[0::2])
    if len(parts) > 1 and surnames_first:
        return [f"{parts[i]}, {parts[i + 1]}" for i in range(0, len(parts), 2)]
    return parts


def split_list(value: str) -> list[str]:
    """Keywords and the like: `;` separates when present, else `,` (Embase, ACM), else `|`; never inside
    parentheses, as in Embase's "colonic duplication cyst (diagnosis, surgery)"."""
    listed = _list_literal(value.strip())
    if listed is not None:
        return listed
    for separator in (";", ",", "|"):
        if separator in value:
            parts = _split_outside_parentheses(value, separator) if "(" in value else value.split(separator)
            return [text for text in map(clean_text, parts) if text]
    return [clean_text(value)] if clean_text(value) else []


def _page_range(pages: str) -> str:
    """ "123--130", "123–130" and "1 - 10" as "123-130" and "1-10" (split, not one regex: that is quadratic
    on long runs of spaces)."""
    return "-".join(part.strip() for part in _DASHES.split(pages.strip()))


def _split_outside_parentheses(value: str, separator: str) -> list[str]:
    parts: list[str] = []
    depth = start = 0
    for i, char in enumerate(value):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif char == separator and depth == 0:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return parts


def _list_literal(value: str) -> list[str] | None:
    """A cell holding a Python/JSON list of strings, as files written from pandas (ASReview) do:
    "['Marx, Karl', 'Lindgren, Astrid']". Only a flat list of quoted strings is evaluated (literal_eval
    runs no code, and the pattern keeps it away from anything nested)."""
    if not (value.startswith("[") and _LIST_LITERAL.fullmatch(value)):
        return None
    try:
        items = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return None
    return [clean_text(item) for item in items if clean_text(item)] if isinstance(items, list) else None
