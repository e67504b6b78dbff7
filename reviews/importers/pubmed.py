"""PubMed/MEDLINE (.nbib, "Save → PubMed format"): `PMID- 123`, `TI  - …`, continuation lines indented six spaces,
records separated by blank lines. ERIC's nbib export is the same layout without PMIDs (`OWN - ERIC`, `ISSN - `).

Tags are up to four characters, left-aligned and padded so that `- ` follows them (`PMID- `, `AU  - `); ERIC
adds a space before the dash of four-letter tags (`ISSN - `). `raw` keeps one value per tag line, with its
continuation lines joined by "\n" (the export's own line breaks); the mapped fields join them with spaces,
because MEDLINE wraps long values at about 80 characters without meaning anything by it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from reviews.importers.base import DOI_RE, ImportFormatError, ParsedRecord, find_registry_id, iter_lines, parse_year

name = "pubmed"
label = "PubMed/MEDLINE"

_TAG_RE = re.compile(r"([A-Z][A-Z0-9]{1,3}) {0,3}- ?")
# Tags only MEDLINE writes (RIS shares TI, AU, AB, …, so those prove nothing).
_MEDLINE_ONLY = re.compile(r"^(?:PMID|OWN |STAT|FAU |AID |LID |EDAT|MHDA|PHST|PST |JID |DCOM|OID |JT  |DP  )- ", re.M)
_EXTENSIONS = (".nbib", ".medline", ".pubmed")


def sniff(head: str, filename: str) -> int:
    """PubMed when a record has a `PMID- ` line; ERIC nbib when several MEDLINE-only tags appear."""
    if "\nTY  - " in head or head.startswith("TY  - "):
        return 0  # RIS that happens to carry MEDLINE-looking tags (EndNote writes "DP  - NLM")
    distinct = {match.group(0)[:4] for match in _MEDLINE_ONLY.finditer(head)}
    if "PMID" in distinct:
        score = 90
    elif len(distinct) >= 3:
        score = 60
    else:
        return 0
    return score + 5 if filename.lower().endswith(_EXTENSIONS) else score


def parse(text: str, *, filename: str = "") -> Iterator[ParsedRecord]:
    raw: dict[str, list[str]] | None = None
    start = 0
    last_tag = ""
    pieces: list[str] = []  # the current value's lines
    after_blank = True

    def close_value() -> None:
        if raw is not None and last_tag:
            raw.setdefault(last_tag, []).append("\n".join(pieces))

    for number, line in enumerate(iter_lines(text), 1):
        if not line.strip():
            after_blank = True
            continue
        if line[0] in " \t":
            if raw is None or not last_tag:
                raise ImportFormatError(
                    f"this indented line continues no tag (a MEDLINE record starts with a tag such as 'PMID- '): "
                    f"{line.strip()[:80]!r}",
                    line=number,
                )
            if after_blank:
                pieces.append("")  # a blank line inside a value: keep it in raw
            pieces.append(line.strip())
            after_blank = False
            continue
        match = _TAG_RE.match(line)
        if match is None:
            raise ImportFormatError(
                "this line is neither a MEDLINE tag ('TI  - …') nor a continuation indented with spaces: "
                f"{line.strip()[:80]!r}",
                line=number,
            )
        tag, value = match.group(1), line[match.end() :].strip()
        close_value()
        # A record starts at the first tag after a blank line, or at a second PMID (files pasted together).
        if raw is None or after_blank or (tag == "PMID" and "PMID" in raw):
            if raw is not None:
                yield build_record(raw, start)
            raw = {}
            start = number
        last_tag, pieces = tag, [value]
        after_blank = False

    close_value()
    if raw is not None:
        if "PMID" in raw and "SO" not in raw and not text.endswith("\n"):
            # PubMed writes SO last in every record, and ends the file with a newline.
            raise ImportFormatError(
                f"the record that starts on line {start} has no SO line and the file stops mid-line: "
                "the export looks truncated",
                line=start,
            )
        yield build_record(raw, start)


def build_record(raw: dict[str, list[str]], line: int) -> ParsedRecord:
    def first(*tags: str) -> str:
        for tag in tags:
            for value in raw.get(tag) or ():
                if value:
                    return _unwrap(value)
        return ""

    record = ParsedRecord(raw=raw, line=line)
    record.pmid = first("PMID")
    record.title = first("TI", "BTI", "TT")
    record.abstract = first("AB")
    authors = raw.get("FAU") or raw.get("AU") or raw.get("CN") or []
    record.authors = [_unwrap(author) for author in authors]
    dates = first("DP", "DEP", "EDAT")
    if dates:
        record.year = parse_year(dates)
        if record.year is None:
            record.warnings.append(f"unreadable publication date {dates!r}")
    record.journal = first("JT", "TA")
    record.volume = first("VI")
    record.issue = first("IP")
    record.pages = first("PG")
    record.doi = _doi(raw)
    record.keywords = [_unwrap(value) for tag in ("MH", "OT") for value in raw.get(tag) or () if value]
    record.language = first("LA")
    record.publication_type = "; ".join(_unwrap(value) for value in raw.get("PT") or () if value)
    # Registry numbers: "SI  - ClinicalTrials.gov/NCT01234567"; failing that, an ERIC id or a title that names one.
    record.registry_id = find_registry_id(*(raw.get("SI") or ()), *(raw.get("OID") or ()), record.title)
    record.url = next(
        (value for tag in ("LID", "AID") for value in raw.get(tag) or () if value.startswith(("http://", "https://"))),
        "",
    )
    return record


def _unwrap(value: str) -> str:
    return value.replace("\n", " ") if "\n" in value else value


def _doi(raw: dict[str, list[str]]) -> str:
    """`AID - 10.1016/… [doi]` (or LID); ERIC writes the DOI as a dx.doi.org link without the [doi] mark."""
    marked = [value for tag in ("AID", "LID", "SO") for value in raw.get(tag) or ()]
    for value in marked:
        if value.endswith("[doi]"):
            return value[: -len("[doi]")].strip()
    for value in marked:
        if "[pii]" not in value and DOI_RE.search(value):
            return value
    return ""
