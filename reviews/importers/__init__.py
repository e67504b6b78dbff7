"""Bibliographic and trial-register imports: detect the format from the content, decode, parse.

    records = parse_file(data, filename="medline.ris")          # list of ParsedRecord, or ImportFormatError
    fmt = detect_format(text, filename)                          # "ris", "pubmed", ... or ImportFormatError

Each format is a module in this package with `name`, `label`, `sniff(head, filename) -> int` and
`parse(text, filename=) -> Iterator[ParsedRecord]`; FORMATS lists them. Pure Python, no Django.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from types import ModuleType

from charset_normalizer import from_bytes

from reviews.importers import bibtex, ctgov_json, endnote_xml, ictrp_xml, pubmed, refer, ris, tabular, wos
from reviews.importers.base import ImportFormatError, ParsedRecord

__all__ = ["FORMATS", "ImportFormatError", "ParsedRecord", "decode", "detect_format", "iter_records", "parse_file"]

# Order matters only for ties in sniff scores: the more specific format first.
FORMATS: dict[str, ModuleType] = {
    module.name: module for module in (endnote_xml, ictrp_xml, ctgov_json, wos, pubmed, ris, refer, bibtex, tabular)
}

_BINARY_SIGNATURES = {
    b"%PDF-": "a PDF document",
    b"PK\x03\x04": "a zip archive (or a Word/Excel file)",
    b"\x1f\x8b": "a gzip-compressed file (unpack it first)",
    b"\xd0\xcf\x11\xe0": "an old Microsoft Office document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"SQLite format 3": "an SQLite database",
}


def decode(data: bytes) -> str:
    """The file's text. UTF-8 (with or without BOM) and UTF-16 with a BOM are taken as they are; anything
    else (Latin-1, Windows-1252, GBK, …) is detected by charset-normalizer. Binary files are refused."""
    if not data or not data.strip():
        raise ImportFormatError("the file is empty")
    for signature, what in _BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise ImportFormatError(f"this is {what}, not a bibliographic export")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ImportFormatError(f"the file says it is UTF-16 but byte {exc.start} is not") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Judge from the start and from around the first non-UTF-8 byte, which may lie far into a large file.
        sample = data if len(data) <= 2_000_000 else data[:1_000_000] + data[max(exc.start - 1000, 0) :][:1_000_000]
        results = from_bytes(sample)
        guess = results.best()
        # Too little text for a language check (coherence 0): a Korean guess may be GBK (CNKI, Wanfang, SinoMed).
        if guess is not None and guess.encoding in ("cp949", "euc_kr", "johab") and guess.coherence == 0:
            guess = next((r for r in results if r.encoding == "gb18030" and r.chaos <= guess.chaos + 0.1), guess)
        if guess is None or guess.encoding in ("utf_8", "utf_8_sig") or _looks_binary(data):
            line = data.count(b"\n", 0, exc.start) + 1
            raise ImportFormatError(
                f"the file is not text in any encoding Sieve recognises (byte 0x{data[exc.start]:02x} is not "
                "UTF-8); export it again as UTF-8 text",
                line=line,
            ) from exc
        try:
            text = data.decode(guess.encoding, errors="strict")
        except UnicodeDecodeError as mixed:
            raise ImportFormatError(
                f"the file mixes encodings: byte 0x{data[mixed.start]:02x} is not {guess.encoding}; "
                "export it again as UTF-8",
                line=data.count(b"\n", 0, mixed.start) + 1,
            ) from mixed
    if "\x00" in text[:10_000] or _looks_binary(data):
        raise ImportFormatError("this is a binary file, not a bibliographic export")
    if "\x00" in text:  # a stray NUL later in a text export: no database column can store it
        text = text.replace("\x00", "")
    if "\r" in text:  # each replace copies the whole text: only when needed (large files)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return controls > max(8, len(sample) // 100)


def detect_format(text: str, filename: str = "") -> str:
    head = text[:20_000]
    scores = [(module.sniff(head, filename), order, name) for order, (name, module) in enumerate(FORMATS.items())]
    best, _order, name = max(scores, key=lambda s: (s[0], -s[1]))
    if best <= 0:
        first_line = next((line for line in text.splitlines() if line.strip()), "")[:80]
        raise ImportFormatError(
            "Sieve does not recognise this file's format (expected RIS, PubMed/MEDLINE, Web of Science, "
            f"EndNote XML or tagged, BibTeX, CSV/TSV, ClinicalTrials.gov or WHO ICTRP); it starts with {first_line!r}",
            line=1,
        )
    return name


def iter_records(data: bytes, *, filename: str = "", format: str | None = None) -> tuple[str, Iterator[ParsedRecord]]:
    """(format, records as they are parsed). Errors surface while iterating, with line numbers."""
    text = decode(data)
    if format:
        if format not in FORMATS:
            raise ImportFormatError(f"unknown format {format!r}; choose one of {', '.join(sorted(FORMATS))}")
        name = format
    else:
        name = detect_format(text, filename)
    return name, _checked(FORMATS[name].parse(text, filename=filename), name)


def _checked(records: Iterator[ParsedRecord], name: str) -> Iterator[ParsedRecord]:
    count = 0
    try:
        for record in records:
            count += 1
            yield record.finish()
    except ImportFormatError:
        raise
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, UnicodeError, RecursionError) as exc:
        # A parser that trips over malformed input must still say where; anything else is a bug and propagates.
        raise ImportFormatError(
            f"the {FORMATS[name].label} file could not be read after record {count}: {exc}", record=count + 1
        ) from exc
    if count == 0:
        raise ImportFormatError(f"no records found in this {FORMATS[name].label} file")


def parse_file(data: bytes, *, filename: str = "", format: str | None = None) -> tuple[str, list[ParsedRecord]]:
    name, records = iter_records(data, filename=filename, format=format)
    return name, list(records)
