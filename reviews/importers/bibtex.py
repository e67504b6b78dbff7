"""BibTeX (.bib, or BibTeX saved as .txt), read with bibtexparser 2.x.

    @article{grames2019automated,
      title={An automated approach to identifying search terms ...},
      author={Grames, Eliza M and Stillman, Andrew N and Tingley, Morgan W},
      journal={Methods in Ecology and Evolution}, volume={10}, number={10}, pages={1645--1654}, year={2019}}

bibtexparser splits the file into blocks (with their start lines), resolves @string macros and removes the
enclosing braces/quotes; `raw` holds every field of an entry like that (field names as written, repeated
fields kept), plus ENTRYTYPE and ID (the citation key). LaTeX markup (`{\\"u}`, `\\&`, `{COVID}`) is decoded
only in what people read (title, abstract, names, journal, keywords), with bibtexparser's
LatexDecodingMiddleware; URLs, DOIs and page ranges are taken as written, since LaTeX would read the `%` of an
encoded URL as a comment.

Blocks bibtexparser could not parse, and what Sieve does with them:
* a duplicate citation key or a field given twice (DuplicateBlockKeyBlock, DuplicateFieldKeyBlock): the entry
  itself is fine, so it is imported with a warning (databases reuse keys such as `Li2020` for different papers);
* a syntactically broken entry (ParsingFailedBlock: unbalanced braces or quotes, a truncated file): its
  `field = value` lines are read one by one, as nearly every database writes one field per line, and the
  record is imported with a warning saying so (EBSCO, for one, exports scraped keywords with stray braces).
  Dropping it would lose a record without anyone noticing. If not even one field line can be found, the file
  is refused with an ImportFormatError at the entry's line;
* a broken @comment or @preamble holds no reference and is ignored.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator

import bibtexparser
from bibtexparser.exceptions import BlockAbortedException, ParsingException
from bibtexparser.library import Library
from bibtexparser.middlewares import LatexDecodingMiddleware, RemoveEnclosingMiddleware
from bibtexparser.middlewares.names import split_multiple_persons_names
from bibtexparser.model import (
    Block,
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    Field,
    MiddlewareErrorBlock,
    ParsingFailedBlock,
)

from reviews.importers.base import ImportFormatError, ParsedRecord, clean_text, parse_year

name = "bibtex"
label = "BibTeX"

_BLOCK_START = re.compile(r"^[ \t]*@[ \t]*([A-Za-z][\w-]*)[ \t]*[{(]", re.MULTILINE)
_ENTRY_HEADER = re.compile(r"\s*@\s*([A-Za-z][\w-]*)\s*[{(]\s*([^,\s]*)\s*,?(.*)$")
_FIELD_LINE = re.compile(r"^\s*([A-Za-z][\w:.+-]*)\s*=\s*(.*)$")
_NOT_REFERENCES = {"comment", "string", "preamble"}
MAX_BLOCKS = 250_000
_UNESCAPED_SPECIALS = re.compile(r"(?<!\\)([%&])")
_LATEX_MARKUP = re.compile(r"[\\{}$~]|--|``|''")  # what LaTeX decoding would change
_DASHES = re.compile(r"--+|[\u2010-\u2015-]")
_TEXT_FIELDS = ("title", "abstract", "journal", "journaltitle", "booktitle", "keywords", "keyword", "language")
_DECODER = LatexDecodingMiddleware(allow_inplace_modification=True)
_REMOVE_ENCLOSING = RemoveEnclosingMiddleware(allow_inplace_modification=True)
# bibtexparser logs a warning for every block it cannot parse. Sieve reports each such entry on its record
# instead; and a hostile file of a million broken blocks would write a million lines to the worker's log.
logging.getLogger("bibtexparser.splitter").setLevel(logging.ERROR)


def sniff(head: str, filename: str) -> int:
    types = [match.group(1).lower() for match in _BLOCK_START.finditer(head)]
    if not any(entry_type not in _NOT_REFERENCES for entry_type in types):
        return 0
    # Confident when BibTeX is all there is before the first block (blank lines, % comments, @comment).
    first = next((ln.strip() for ln in head.splitlines() if ln.strip() and not ln.lstrip().startswith("%")), "")
    score = 85 if first.startswith("@") else 55
    if filename.lower().endswith((".bib", ".bibtex")):
        score += 10
    return score


def parse(text: str, *, filename: str = "") -> Iterator[ParsedRecord]:
    blocks = text.count("@")
    if blocks > MAX_BLOCKS:
        # bibtexparser holds every block of the file in memory at once, ~2 KB each: a file of a million tiny (or
        # broken) entries, well within the upload limit, took gigabytes and minutes. No database exports that
        # many references to one BibTeX file.
        raise ImportFormatError(
            f"this file has {blocks:,} '@' signs, each the start of a BibTeX block to read; Sieve reads at most "
            f"{MAX_BLOCKS:,} from one BibTeX file: split the export into smaller files, or export it as RIS"
        )
    try:
        library = bibtexparser.parse_string(text)
    except ParsingException as exc:  # the splitter gave up on the whole file (rare: its own state went wrong)
        raise ImportFormatError(f"the BibTeX file could not be read: {exc}") from exc
    strings = {key.lower(): str(string.value) for key, string in library.strings_dict.items()}
    lines = text.split("\n")
    for block in library.blocks:
        warnings: list[str] = []
        entry: Entry | None
        if isinstance(block, DuplicateBlockKeyBlock):
            entry = _as_parsed(block.ignore_error_block, strings)
            first_line = _line(block.previous_block.start_line)
            warnings.append(f"citation key {block.key!r} is also used by the entry at line {first_line}")
        elif isinstance(block, DuplicateFieldKeyBlock):
            entry = _as_parsed(block.ignore_error_block, strings)
            repeated = ", ".join(sorted(block.duplicate_keys))
            warnings.append(f"field(s) {repeated} given more than once; the first value is used")
        elif isinstance(block, MiddlewareErrorBlock):  # not expected with the default stack; keep the entry
            entry = _as_parsed(block.ignore_error_block, strings)
            warnings.append(f"BibTeX markup could not be fully resolved: {clean_text(block.error)}")
        elif isinstance(block, ParsingFailedBlock):
            entry = _recover(block, lines, strings)
            warnings.append(
                "this entry is not valid BibTeX (unbalanced braces or quotes); its fields were read line by "
                "line, check them against the file"
            )
        elif isinstance(block, Entry):
            entry = block
        else:  # @string, @preamble, @comment and the text between entries
            continue
        if entry is not None:
            record = _record(entry)
            record.warnings.extend(warnings)
            yield record


def _line(start_line: int | None) -> int | None:
    return None if start_line is None else start_line + 1  # bibtexparser counts lines from 0


def _as_parsed(block: Block | None, strings: dict[str, str]) -> Entry | None:
    """Do for an entry from a failed block what the parse stack does for good ones (it skips failed blocks):
    resolve @string macros, then remove the enclosing braces or quotes."""
    if not isinstance(block, Entry):
        return None
    for field in block.fields:
        value = field.value
        if isinstance(value, str) and not value.startswith(("{", '"')) and value.lower() in strings:
            field.value = strings[value.lower()]
    _REMOVE_ENCLOSING.transform_entry(block, Library())
    return block


def _recover(block: ParsingFailedBlock, lines: list[str], strings: dict[str, str]) -> Entry | None:
    """A broken entry read line by line: each `field = value` line starts a field, other lines continue it.
    The entry runs from its first line to the line before the next block (or the end of the file)."""
    start = block.start_line or 0
    header = _ENTRY_HEADER.match(lines[start]) if start < len(lines) else None
    block_type = header.group(1).lower() if header else ""
    if block_type in ("comment", "preamble"):
        return None
    fields: list[Field] = []
    if header and block_type not in _NOT_REFERENCES:
        end = next((i for i in range(start + 1, len(lines)) if _BLOCK_START.match(lines[i])), len(lines))
        for line in [header.group(3), *lines[start + 1 : end]]:
            field_line = _FIELD_LINE.match(line)
            if field_line:
                fields.append(Field(field_line.group(1), field_line.group(2).strip(), start_line=start))
            elif fields and line.strip() not in ("}", ")", ""):
                fields[-1].value = f"{fields[-1].value}\n{line.strip()}"
    if not fields:
        what = f"the @{block_type} entry" if block_type else "a BibTeX block"
        if header and header.group(2):
            what += f" {header.group(2)[:60]!r}"
        error = block.error
        reason = error.abort_reason if isinstance(error, BlockAbortedException) else str(error)
        raise ImportFormatError(
            f"{what} could not be read ({clean_text(reason) or 'it is not valid BibTeX'}); check its braces and "
            "quotes, or export the file again",
            line=_line(block.start_line),
        )
    for field in fields:
        value = str(field.value).rstrip()
        if value.endswith(",") or (value.endswith(("}", ")")) and value.count("{") < value.count("}")):
            value = value[:-1].rstrip()  # the separating comma, or the brace that closes the entry itself
        field.value = value
    key = header.group(2) if header else ""
    return _as_parsed(Entry(block_type, key, fields, start_line=start), strings)


def _record(entry: Entry) -> ParsedRecord:
    raw: dict[str, list[str]] = {"ENTRYTYPE": [entry.entry_type], "ID": [entry.key]}
    first: dict[str, str] = {}
    for field in entry.fields:
        value = _as_text(field.value)
        raw.setdefault(field.key, []).append(value)
        first.setdefault(field.key.lower(), value)

    # Split before decoding: `{Barnes and Noble}` is one (corporate) author only while its braces are there.
    authors = [author for author in split_multiple_persons_names(first.get("author", "")) if author.strip()]
    decoded, failed = _latex_to_text({key: first[key] for key in _TEXT_FIELDS if key in first}, authors)

    record = ParsedRecord(raw=raw, line=_line(entry.start_line), publication_type=entry.entry_type)
    record.title = decoded.get("title", "")
    record.abstract = decoded.get("abstract", "")
    record.authors = [decoded[f"author {i}"] for i in range(len(authors))]
    record.journal = decoded.get("journal") or decoded.get("journaltitle") or decoded.get("booktitle", "")
    record.language = decoded.get("language", "")
    keywords = decoded.get("keywords") or decoded.get("keyword", "")
    record.keywords = [k.strip() for k in re.split(";" if ";" in keywords else ",", keywords) if k.strip()]
    record.volume = first.get("volume", "")
    record.issue = first.get("number") or first.get("issue", "")
    record.pages = _page_range(first.get("pages", ""))
    record.doi = first.get("doi", "").replace("\\_", "_")
    record.url = first.get("url", "")
    record.pmid = first.get("pmid") or first.get("pubmed") or _pmid_from_eprint(first)

    year = first.get("year") or first.get("date", "")
    record.year = parse_year(year)
    if year.strip() and record.year is None:
        record.warnings.append(f"unreadable year {year.strip()!r}")
    if failed:
        record.warnings.append("some LaTeX markup could not be decoded and is kept as written")
    return record


def _page_range(pages: str) -> str:
    """ "123--130", "123–130" and "1 - 10" as "123-130" and "1-10" (split, not one regex: that is quadratic
    on long runs of spaces)."""
    return "-".join(part.strip() for part in _DASHES.split(pages.strip()))


def _as_text(value: object) -> str:
    if isinstance(value, list):  # only if a name-splitting middleware ran; keep BibTeX's own joining
        return " and ".join(str(item) for item in value)
    return str(value)


def _pmid_from_eprint(fields: dict[str, str]) -> str:
    """biblatex writes a PubMed ID as `eprint = {12345678}, eprinttype = {pubmed}`; an arXiv eprint is not one."""
    eprint = fields.get("eprint", "").strip()
    kind = (fields.get("eprinttype") or fields.get("archiveprefix", "")).lower()
    if kind in ("pubmed", "pmid") or (not kind and eprint.isdigit() and len(eprint) <= 9):
        return eprint
    return ""


def _latex_to_text(fields: dict[str, str], authors: list[str]) -> tuple[dict[str, str], bool]:
    """Decode LaTeX in the given fields and author names: (decoded values, whether any of it failed)."""
    values = dict(fields)
    values.update((f"author {i}", author) for i, author in enumerate(authors))
    # Exports put HTML entities in values (WoS: `title&apos;s`).
    decoded = {key: html.unescape(value) for key, value in values.items()}
    # Only values with markup go through the decoder: it is slow (most of the time of a large import), and plain
    # text is already what it would return.
    marked = [key for key, value in decoded.items() if _LATEX_MARKUP.search(value)]
    if not marked:
        return decoded, False
    # A bare % (95% CI) or & (Smith & Wesson) is text in BibTeX but a comment (dropping the rest of the line)
    # or an alignment tab to LaTeX: escape them first.
    scratch = Entry("misc", "scratch", [Field(key, _UNESCAPED_SPECIALS.sub(r"\\\1", decoded[key])) for key in marked])
    result = _DECODER.transform_entry(scratch, Library())
    decoded.update((field.key, str(field.value)) for field in scratch.fields)
    return decoded, isinstance(result, MiddlewareErrorBlock)
