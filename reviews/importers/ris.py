"""RIS: the tagged format every database and reference manager exports (`TY  - JOUR` … `ER  - `).

Handles the variants seen in the wild: Ovid (a numbered "1." line before each record and "Link to …" lines
after it), Embase (BOM, A1 authors, the PubMed id in C5), Scopus (PubMed id in C2), Web of Science RIS,
ProQuest, Zotero, EndNote (continuation lines, and all authors on one `AU` line), Rayyan (keywords one per
continuation line), Cochrane CENTRAL (trial registry ids in accession/notes/URL fields), Dimensions, JSTOR
and APA PsycNet (`Provider:`/`Database:` header lines, `PMID  - ` tags).

The line splitter is written by hand rather than with rispy: rispy maps tags to names, keeps only the first
value of a repeated non-list tag, drops text between records without a word and does not report line numbers,
while Sieve needs every tag exactly as exported (`raw`), the line where each record starts and a line number
for every error. One regular expression splits a block of lines into (tag, value) pairs in C (`tag_lines`); the
Python loop only files each value under its tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import parse_qs, unquote, urlsplit

from reviews.importers.base import (
    DOI_RE,
    NO_PAGES,
    ImportFormatError,
    ParsedRecord,
    find_registry_id,
    normalize_doi,
    parse_year,
)

name = "ris"
label = "RIS"

_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_UPPER_DIGIT = _UPPER | frozenset("0123456789")
# Tag lines that miss the standard "XX  - " layout but are still clearly tags: "KW - x" (one space),
# "PMID  - 123" (APA PsycNet, colrev). Tried only on lines that fail the fast check, so it costs nothing on
# well-formed files, and only the RIS specification's tags count: a wrapped abstract line "UK - wide survey"
# must stay a continuation line.
_LOOSE_TAG_RE = re.compile(
    r"(A[1-4BDNUV]|BT|C[1-8ANPTY]|DA|DB|DO|DP|E[DPRT]|ID|IS|J[12AFO]|KW|L[1-4ABK]|LA|M[1-3]|N[12V]|OP|P[BPY]|"
    r"R[INP]|S[ENPT]|T[1-3AITY]|U[1-5R]|V[LO]|Y[12]|PMID|PMCID) {1,3}-(?: |$)"
)
# Lines that RIS exports put between records and that carry no data of a record.
_HEADER_PREFIXES = ("Provider:", "Database:", "Content:", "Record #", "Copyright", "Link to ")
_OVID_NUMBER_RE = re.compile(r"\d{1,7}\.?")

TITLE_TAGS = ("TI", "T1", "CT", "BT", "ST")
JOURNAL_TAGS = ("JF", "JO", "T2")  # full journal name first …
JOURNAL_ABBREVIATION_TAGS = ("JA", "J1", "J2")  # … abbreviations only when nothing else is there
YEAR_TAGS = ("PY", "Y1", "DA", "Y2")
URL_TAGS = ("UR", "L1", "L2", "L3", "L4", "LK", "Link to")
NOTE_TAGS = ("N1", "M3", "M1", "M2", "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "AN")
REGISTRY_TAGS = ("AN", "ID", "N1", "M1", "M2", "M3", "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8")
# Links are searched for a registry id only when they point at a registry (CENTRAL links registry records
# to ClinicalTrials.gov, the WHO ICTRP, …): a Scopus link is long and never holds one.
REGISTRY_URL_HINTS = ("trial", "isrctn", "anzctr", "chictr", "drks", "umin", "jrct", "irct", "ensaiosclinicos", "pactr")
PMID_TAGS = ("AN", "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "M1", "M2", "M3", "U1", "U2", "U3", "U4", "U5")
_TAG_SETS: dict[tuple[str, ...], frozenset[str]] = {
    tags: frozenset(tags) for tags in (URL_TAGS, NOTE_TAGS, REGISTRY_TAGS, PMID_TAGS)
}
_PREFIXED_PMID_RE = re.compile(r"\s*(?:PMID|PUBMED|PubMed ID)\s*[:\-]?\s*(\d{1,9})\b", re.IGNORECASE)
_SOURCE_PMID_TAGS = frozenset(("C2", "C5", "AN", "ID"))  # where a database's own export puts the PubMed id
_DOC_TYPE_RE = re.compile(r"[A-Za-z][A-Za-z ,&/-]{1,39}")

# The RIS specification's reference types, so that RIS records read like the other formats' types.
TYPE_LABELS = {
    "ABST": "Abstract",
    "ADVS": "Audiovisual Material",
    "BILL": "Bill",
    "BLOG": "Blog",
    "BOOK": "Book",
    "CASE": "Case",
    "CHAP": "Book Section",
    "CHART": "Chart",
    "CLSWK": "Classical Work",
    "COMP": "Computer Program",
    "CONF": "Conference Proceedings",
    "CPAPER": "Conference Paper",
    "CTLG": "Catalog",
    "DATA": "Dataset",
    "DBASE": "Online Database",
    "DICT": "Dictionary",
    "EBOOK": "Electronic Book",
    "ECHAP": "Electronic Book Section",
    "EDBOOK": "Edited Book",
    "EJOUR": "Electronic Article",
    "ELEC": "Web Page",
    "ENCYC": "Encyclopedia",
    "EQUA": "Equation",
    "FIGURE": "Figure",
    "GEN": "Generic",
    "GOVDOC": "Government Document",
    "GRANT": "Grant",
    "HEAR": "Hearing",
    "ICOMM": "Personal Communication",
    "INPR": "In Press",
    "JFULL": "Journal (full)",
    "JOUR": "Journal Article",
    "LEGAL": "Legal Rule or Regulation",
    "MANSCPT": "Manuscript",
    "MAP": "Map",
    "MGZN": "Magazine Article",
    "MPCT": "Motion Picture",
    "MULTI": "Online Multimedia",
    "MUSIC": "Music Score",
    "NEWS": "Newspaper Article",
    "PAMP": "Pamphlet",
    "PAT": "Patent",
    "PCOMM": "Personal Communication",
    "RPRT": "Report",
    "SER": "Serial Publication",
    "SLIDE": "Slide",
    "SOUND": "Sound Recording",
    "STAND": "Standard",
    "STAT": "Statute",
    "THES": "Thesis",
    "UNBILL": "Unenacted Bill",
    "UNPB": "Unpublished Work",
    "VIDEO": "Video Recording",
}


def sniff(head: str, filename: str) -> int:
    """RIS when a line starts with the `TY  - ` record tag and other lines are `XX  - ` tags."""
    tag_lines = 0
    has_type = False
    for line in head.split("\n", 400)[:400]:
        if _fast_tag(line):
            tag_lines += 1
            has_type = has_type or line.startswith("TY")
    if has_type and tag_lines >= 2:
        score = 80
    elif tag_lines >= 3 and "\nER  -" in head:
        score = 30  # tags without TY: let parse() say what is wrong rather than "format not recognised"
    else:
        return 0
    return score + 5 if filename.lower().endswith(".ris") else score


def _fast_tag(line: str) -> bool:
    return len(line) >= 5 and line[2:5] == "  -" and line[0] in _UPPER and line[1] in _UPPER_DIGIT


# Every line matches, once, in order (empty lines too, exactly as text.split("\\n") gives them): group 1 is the
# tag of a standard `XX  -` line, group 2 the rest of the line (the whole line when it has no such tag).
# Splitting lines and tags in one C-level findall per block is what makes parsing cheaper than rispy.load.
_LINE_RE = re.compile(r"^(?:([A-Z][A-Z0-9])  -)?(.*)$", re.MULTILINE)


def tag_lines(text: str, block: int = 1 << 20) -> Iterator[tuple[str, str]]:
    """(tag or "", rest of the line) for each line of `text`, a block at a time (see base.iter_lines)."""
    findall, start, size = _LINE_RE.findall, 0, len(text)
    while start <= size:
        end = text.find("\n", min(start + block, size))
        if end < 0:
            end = size
        yield from findall(text, start, end)
        start = end + 1


def parse(text: str, *, filename: str = "") -> Iterator[ParsedRecord]:
    loose_tag = _LOOSE_TAG_RE.match
    inside = False  # in a record (after its TY, before its ER)
    trailer = False  # right after an ER: Ovid writes a tag or two there (NL) that belong to the record
    raw: dict[str, list[str]] | None = None  # the open record's tags, or the last closed one
    start = 0  # line where that record starts
    notes: list[str] = []  # its warnings
    values: list[str] = []  # value list of the last tag, for continuation lines
    extra: list[str] | None = None  # continuation lines of the last value, joined when the next tag comes
    last_end = 0  # line of the last ER
    number = 0

    for tag, rest in tag_lines(text):
        number += 1
        if tag:
            if inside and raw is not None:
                # The hot path: a tag line inside a record.
                if extra is not None:
                    _join_continuation(values, extra)
                    extra = None
                if tag == "ER":
                    inside, trailer, last_end = False, True, number
                    continue
                if tag != "TY":
                    value = rest.strip()
                    found = raw.get(tag)
                    if found is None:
                        raw[tag] = values = [value]
                    else:
                        found.append(value)
                        values = found
                    continue
            value = rest.strip()
        elif inside:
            line = rest
            match = loose_tag(line)
            if match is None:
                # A continuation line of the last tag (EndNote notes, Rayyan keywords, Dimensions URLs, wrapped
                # abstracts); blank lines are kept only when more text follows them (see _join_continuation).
                if extra is None:
                    extra = []
                extra.append(line.strip())
                continue
            tag, value = match.group(1), line[match.end() :].strip()
            if extra is not None:
                _join_continuation(values, extra)
                extra = None
        else:
            line = rest
            stripped = line.strip()
            if not stripped:
                trailer = False
                continue
            if _OVID_NUMBER_RE.fullmatch(stripped):
                continue
            if stripped.startswith(_HEADER_PREFIXES):
                if stripped.startswith("Link to ") and raw is not None:
                    raw.setdefault("Link to", []).append(stripped[len("Link to ") :])
                continue
            match = loose_tag(line)
            if match is None:
                where = f"after the record that ends on line {last_end}" if last_end else "before the first record"
                raise ImportFormatError(
                    f"this line is not RIS ({where}; a record must start with 'TY  - '): {stripped[:80]!r}",
                    line=number,
                )
            tag, value = match.group(1), line[match.end() :].strip()

        # The less common tag lines: a loosely written tag, a TY, anything between records.
        if inside and raw is not None:
            if tag == "ER":
                inside, trailer, last_end = False, True, number
                continue
            if tag != "TY":
                raw.setdefault(tag, []).append(value)
                values = raw[tag]
                continue
            # The open record has no ER but is otherwise complete: keep it, say so, start the next one.
            notes.append(f"no 'ER  - ' end tag: the record was ended by the next 'TY  - ' on line {number}")
        elif tag != "TY":
            if trailer and raw is not None and tag != "ER":
                raw.setdefault(tag, []).append(value)
                continue
            where = f"after the record that ends on line {last_end}" if last_end else "before the first record"
            raise ImportFormatError(
                f"tag {tag!r} is outside any record ({where}); every record must start with 'TY  - '",
                line=number,
            )
        # TY: a new record starts.
        if raw is not None:
            yield build_record(raw, start, notes)
        raw = {"TY": [value]}
        values = raw["TY"]
        start = number
        notes = []
        inside, trailer = True, False

    if extra is not None:
        _join_continuation(values, extra)
    if raw is None:
        return
    if inside:
        # The file ends inside a record. Tolerable when the last line is complete and the record has data;
        # a file cut in the middle of a line (or right after TY) is a truncated download or copy.
        has_title = any(raw.get(tag) for tag in TITLE_TAGS)
        if not text.endswith("\n") or not (has_title or len(raw) >= 3):
            raise ImportFormatError(
                f"the file ends inside the record that starts on line {start}, which has no 'ER  - ' end tag: "
                "the export looks truncated",
                line=start,
            )
        notes.append("no 'ER  - ' end tag at the end of the file: check that the export is complete")
    yield build_record(raw, start, notes)


def _join_continuation(values: list[str], extra: list[str]) -> None:
    """Append continuation lines to the last value, one per line; blank lines at the end were only spacing."""
    while extra and not extra[-1]:
        extra.pop()
    if extra:
        values[-1] = "\n".join([values[-1], *extra]) if values[-1] else "\n".join(extra)


def build_record(raw: dict[str, list[str]], line: int, warnings: list[str] | None = None) -> ParsedRecord:
    """Map a record's tags to Sieve's fields (`raw` stays on the record as it is).

    Runs once per record on files of 100,000 records, hence the fast paths for the common shapes (one value,
    nothing to split) before the general code."""
    get = raw.get
    notes = warnings if warnings is not None else []
    title = _first(raw, TITLE_TAGS)

    abstracts = get("AB") or get("N2")
    abstract = (abstracts[0] if len(abstracts) == 1 else "\n".join(v for v in abstracts if v)) if abstracts else ""

    authors: list[str] = []
    primary, first_authors = get("AU"), get("A1")
    names = primary + first_authors if primary and first_authors else primary or first_authors
    if names:
        if any(_may_hold_list(v) for v in names):
            authors, note = split_authors(names)
            if note:
                notes.append(note)
        else:
            authors = names[:]  # a copy: raw keeps its own list

    year: int | None = None
    year_text = _first(raw, YEAR_TAGS)
    if year_text:
        year = year_from(year_text)
        if year is None:
            notes.append(f"unreadable year {year_text!r}")

    keywords: list[str] = []
    for value in get("KW") or ():
        if "\n" in value or ";" in value:
            keywords.extend(split_keywords(value))
        elif value:
            keywords.append(value)

    urls = get("UR")
    if urls and urls[0].startswith(("http://", "https://")) and not any(c in urls[0] for c in " \n;"):
        url = urls[0]
    else:
        url = first_url(_values(raw, URL_TAGS))

    return ParsedRecord(
        title=title,
        abstract=abstract,
        authors=authors,
        year=year,
        journal=_first(raw, JOURNAL_TAGS) or _first(raw, JOURNAL_ABBREVIATION_TAGS),
        volume=_first(raw, ("VL", "VO")),
        issue=_first(raw, ("IS", "CP")),
        pages=join_pages(_first(raw, ("SP",)), _first(raw, ("EP",))),
        doi=_doi(raw),
        pmid=_pmid(raw),
        registry_id=_registry_id(raw, title),
        keywords=keywords,
        url=url,
        language=_first(raw, ("LA",)),
        publication_type=_publication_type(raw),
        raw=raw,
        line=line,
        warnings=notes,
    )


def _registry_id(raw: dict[str, list[str]], title: str) -> str:
    found = _find_registry_id(_values(raw, REGISTRY_TAGS))
    if found:
        return found
    for value in _values(raw, URL_TAGS):
        lowered = value.lower()
        if any(hint in lowered for hint in REGISTRY_URL_HINTS):
            found = find_registry_id(value)
            if found:
                return found
    return _find_registry_id((title,))


# Every registry id has three digits in a row except Brazil's (RBR-6qvdftm): a cheap test that spares most
# values the registry pattern, which is slow to search (an alternation of twenty-odd prefixes).
_THREE_DIGITS = re.compile(r"\d\d\d").search


def _find_registry_id(values: Iterable[str]) -> str:
    return find_registry_id(*(v for v in values if _THREE_DIGITS(v) or "RBR-" in v))


def _values(raw: dict[str, list[str]], tags: tuple[str, ...]) -> list[str]:
    """The values of those of `tags` that the record has, in the order of `tags` (a C-level test first: most
    records have none of them, and this runs for every record)."""
    if raw.keys().isdisjoint(_TAG_SETS[tags]):
        return []
    return [value for tag in tags if tag in raw for value in raw[tag]]


def _may_hold_list(name: str) -> bool:
    """Cheap test before the author splitter: could this one value hold several names?"""
    return ";" in name or " and " in name or name.count(",") >= 2 or (name.count(".") >= 2 and name.count(" ") >= 3)


def _first(raw: dict[str, list[str]], tags: Iterable[str]) -> str:
    for tag in tags:
        for value in raw.get(tag) or ():
            if value:
                return value
    return ""


def join_pages(first: str, last: str) -> str:
    """`123` + `130` → `123-130`; a start page that already holds a range ("349-69") is kept as it is.
    Ovid's "No pagination specified" (`SP  - No`, `EP  - Specified`) and similar placeholders are no pages."""
    first, last = first.strip(), last.strip()
    if first and last and "-" not in first:
        pages = first if first == last else f"{first}-{last}"
    else:
        pages = first or last
    return "" if pages.lower() in NO_PAGES else pages


def year_from(value: str) -> int | None:
    year = parse_year(value)
    if year is None:
        compact = re.match(r"\s*(?:\D{0,20}?)((?:1[5-9]|20|21)\d\d)(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01])\b", value)
        if compact:  # "Start date: 20170812" (TRID)
            year = int(compact.group(1))
    return year


def split_keywords(value: str) -> list[str]:
    """One RIS keyword value may hold several: one per continuation line (Rayyan, EndNote) or `;`-separated."""
    return [part.strip() for piece in value.split("\n") for part in piece.split(";") if part.strip()]


def _doi(raw: dict[str, list[str]]) -> str:
    for value in raw.get("DO") or ():
        if normalize_doi(value):
            return value
    for value in _values(raw, URL_TAGS):
        for url in value.split():
            doi = doi_from_url(url)
            if doi:
                return doi
    for value in _values(raw, NOTE_TAGS):
        if DOI_RE.search(value):
            return value
    return ""


def doi_from_url(url: str) -> str:
    """The DOI in a resolver or publisher link (`doi.org/10…`, `…?doi=10…`, `/doi/abs/10…`); "" if none.

    URLs are read by structure, not searched for `10.`: a Scopus link's DOI is followed by `&partnerID=…`."""
    if "10." not in url or not url.lower().startswith(("http://", "https://")):
        return ""
    parts = urlsplit(url.rstrip(";,"))
    if parts.query:
        for key, found in parse_qs(parts.query).items():
            if key.lower() == "doi" and found and found[0].startswith("10."):
                return found[0]
    path = unquote(parts.path)
    if parts.netloc.lower().endswith("doi.org") and path.startswith("/10."):
        return path[1:]
    marker = path.find("/doi/")
    if marker >= 0:
        rest = path[marker + 5 :]
        for prefix in ("abs/", "full/", "pdf/", "epdf/", "pdfdirect/", "book/"):
            if rest.startswith(prefix):
                rest = rest[len(prefix) :]
                break
        if rest.startswith("10."):
            return rest
    return ""


def first_url(values: Iterable[str]) -> str:
    """The first web address in the values ("a; b", several per line, Ovid's run-together "Link to" lines)."""
    for value in values:
        # Ovid writes "the Ovid Full Text or citation: http://…AN=123Link to the External Link Resolver: http://…"
        for token in value.replace("Link to ", " ").replace(";", " ").split():
            if token.lower().startswith(("http://", "https://", "ftp://")):
                return token
    return ""


def _pmid(raw: dict[str, list[str]]) -> str:
    """The PubMed id where it is unmistakably one: a PMID tag, a "PMID: …"/"PUBMED-…" value, Scopus's C2,
    Embase's C5, or the accession number of a record that came from PubMed/MEDLINE."""
    get = raw.get
    for value in get("PMID") or ():
        digits = value.strip()
        if digits.isdigit():
            return digits
    for value in _values(raw, PMID_TAGS):
        if value[:1] in "Pp":
            match = _PREFIXED_PMID_RE.match(value)
            if match:
                return match.group(1)
    databases, providers = get("DB"), get("DP")
    if not (databases or providers) or raw.keys().isdisjoint(_SOURCE_PMID_TAGS):
        return ""
    source = " ".join((databases or []) + (providers or [])).lower()
    candidates: list[str] = []
    if "scopus" in source:
        candidates += get("C2") or []
    if "embase" in source:
        candidates += get("C5") or []
    if "pubmed" in source or "medline" in source or "nlm" in source.split():
        candidates += (get("AN") or []) + (get("ID") or [])
    for value in candidates:
        value = value.strip()
        if value.isdigit() and len(value) <= 9:
            return value
    return ""


def _publication_type(raw: dict[str, list[str]]) -> str:
    # M3 holds the database's own document type ("Article", "Review", "Trial registry record") in Scopus,
    # Embase and CENTRAL, which says more than TY; Ovid and APA put classification codes there instead.
    for value in raw.get("M3") or ():
        if _DOC_TYPE_RE.fullmatch(value.strip()):
            return value.strip()
    code = _first(raw, ("TY",)).strip()
    return TYPE_LABELS.get(code.upper(), code)


# ---------------------------------------------------------------------------------------------- authors

# An initial: "J", "J.", "JR", "J.-P.", "A.H." (with the comma that may follow it in a list).
_INITIALS_RE = re.compile(r"(?:[A-Z]\.?-?){1,4},?|(?:[A-Z]\.){1,4}[A-Z]?,?")
# "… B. T. Call L. M. …": an initial followed by a capitalised word, the mark of names run together.
_RUN_ON_HINT_RE = re.compile(r"[A-Z]\.,? ?[A-Z][a-z\u00c0-\u024f]")
_GLUED_INITIAL_RE = re.compile(r"(?<=[A-Z]\.)(?=[A-Z][a-z\u00c0-\u024f])")  # "T.DiNunno" → "T. DiNunno"


def split_authors(values: list[str]) -> tuple[list[str], str]:
    """Authors one per value, splitting values that hold a whole list (EndNote RIS writes every author on one
    `AU` line: "Golde T. E., DeKosky S. T., Galasko D." or "Smith, J.; Jones, K."). Returns the names and a
    note for the record's warnings when a value had to be split."""
    names: list[str] = []
    split_any = False
    for value in values:
        parts = _split_one(value)
        split_any = split_any or len(parts) > 1
        names.extend(parts)
    note = f"the authors were exported as one list and split into {len(names)} names: check them" if split_any else ""
    return names, note


def _split_one(value: str) -> list[str]:
    value = value.strip()
    if not value:
        return []
    if ";" in value:  # no name contains a semicolon
        return [part.strip() for part in value.split(";") if part.strip()]
    if " and " in value:
        parts = [part.strip() for part in re.split(r",? and ", value) if part.strip()]
        # Only "Surname, Given" names: "Centers for Disease Control and Prevention" is one author.
        if len(parts) > 1 and all("," in part for part in parts):
            return parts
    if value.count(",") >= 2:
        parts = [part.strip() for part in value.split(",") if part.strip()]
        initials = [bool(_INITIALS_RE.fullmatch(part.replace(" ", ""))) for part in parts]
        if len(parts) % 2 == 0 and all(initials[1::2]) and not any(initials[0::2]):
            # "Smith, J., Jones, K.": surname, initials pairs
            return [f"{parts[i]}, {parts[i + 1]}" for i in range(0, len(parts), 2)]
        if not any(initials) and all(_looks_like_name(part) for part in parts):
            # "Golde T. E., DeKosky S. T., Galasko D." / "GotzJurgen, MatamalesMiriam"; but not
            # "Department of Medicine, University of Utah, Salt Lake City" (a corporate author)
            return parts
    if _RUN_ON_HINT_RE.search(value):
        return _split_run_on(value)
    return [value]


def _looks_like_name(part: str) -> bool:
    tokens = part.split()
    return len(tokens) == 1 or (len(tokens) <= 5 and any(_INITIALS_RE.fullmatch(t) for t in tokens[1:]))


def _split_run_on(value: str) -> list[str]:
    """ "Lamb B. T. Call L. M. Slunt H. H." (surnames each followed by their initials, no separators) → names.
    A single name ("Basinska, Malgorzata A.", "Lamb B. T.") comes back unchanged."""
    groups: list[tuple[list[str], list[str]]] = []  # (surname words, initials)
    words: list[str] = []
    initials: list[str] = []
    for token in _GLUED_INITIAL_RE.sub(" ", value).split():
        if _INITIALS_RE.fullmatch(token):
            initials.append(token.rstrip(","))
        else:
            if initials:
                groups.append((words, initials))
                words, initials = [], []
            words.append(token.rstrip(","))
        if token.endswith(","):
            groups.append((words, initials))
            words, initials = [], []
    if words or initials:
        groups.append((words, initials))
    if sum(1 for w, i in groups if w and i) < 2:
        return [value]
    # Groups of bare initials are the cut-off end of a neighbouring name ("L., Buchanan A. H. …"): left out of
    # the list (they stay in `raw`); a lone surname ("Wagner, Lamb B. T. …") is kept as a name.
    return [" ".join(w + i) for w, i in groups if w]
