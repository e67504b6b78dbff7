"""EndNote XML (File → Export → XML): `<xml><records><record>…</record></records></xml>`.

Each field's text sits in `<style>` elements (one per formatting run: "Effect of " + italic "E. coli"), so a
field's value is all the text inside it. `raw` maps each leaf element's path below <record> to its values
("titles/title", "contributors/authors/author", "urls/related-urls/url") and attributes to "path@name"
("ref-type@name"), in document order.

Parsed with defusedxml's expat parser, fed in chunks so that records come out while the file is read: entity
declarations (billion laughs, external entities that would read local files) are refused, and malformed XML
is reported with the parser's line number.
"""

from __future__ import annotations

from collections.abc import Iterator

from defusedxml.common import DefusedXmlException, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from reviews.importers.base import ImportFormatError, ParsedRecord, find_registry_id, parse_year
from reviews.importers.ris import doi_from_url, split_keywords
from reviews.importers.xml_safety import refuse_external_dtd

name = "endnote_xml"
label = "EndNote XML"

_CHUNK = 1 << 20
_MAX_DEPTH = 64
_PMID_SOURCES = ("pubmed", "medline", "nlm")


def sniff(head: str, filename: str) -> int:
    start = head.lstrip()[:4000]
    if "<xml>" in start and "<records>" in start:
        score = 95
    elif "<record>" in start and "<ref-type" in head:
        score = 70
    else:
        return 0
    return score + 5 if filename.lower().endswith(".xml") else score


class _Collector:
    """ElementTree parser target: gathers each <record>'s leaf values as the parser reports them."""

    def __init__(self) -> None:
        self.parser: DefusedXMLParser | None = None
        self.done: list[ParsedRecord] = []
        self.root = ""
        self.depth = 0
        self.path: list[str] = []  # elements open inside the current record (no <style>)
        self.text: list[list[str]] = []  # text gathered for each of them
        self.has_child: list[bool] = []
        self.raw: dict[str, list[str]] | None = None
        self.line = 0

    def line_number(self) -> int:
        expat = getattr(self.parser, "parser", None)
        return int(getattr(expat, "CurrentLineNumber", 0) or 0)

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.depth += 1
        if self.depth == 1:
            self.root = tag
            if tag != "xml":
                raise ImportFormatError(
                    f"this XML file is not an EndNote export: its root element is <{tag}>, expected <xml><records>",
                    line=self.line_number(),
                )
            return
        if self.raw is None:
            if tag == "record":
                self.raw = {}
                self.line = self.line_number()
            return
        if tag == "style":  # formatting run: its text belongs to the field around it
            return
        if len(self.path) >= _MAX_DEPTH:
            # Each element's path is joined from the elements around it: a hostile nesting a million deep would
            # take quadratic time (it hung the import). EndNote's deepest path is four elements.
            raise ImportFormatError(
                f"elements are nested more than {_MAX_DEPTH} deep inside a <record>; this is not an EndNote export",
                line=self.line_number(),
            )
        if self.has_child:
            self.has_child[-1] = True
        self.path.append(tag)
        self.text.append([])
        self.has_child.append(False)
        if attrib:
            where = "/".join(self.path)
            for key, value in attrib.items():
                self.raw.setdefault(f"{where}@{key}", []).append(value)

    def data(self, data: str) -> None:
        if self.text:
            self.text[-1].append(data)

    def end(self, tag: str) -> None:
        self.depth -= 1
        if self.raw is None or tag == "style":
            return
        if tag == "record" and not self.path:
            self.done.append(build_record(self.raw, self.line))
            self.raw = None
            return
        where = "/".join(self.path)
        text = "".join(self.text.pop())
        self.path.pop()
        if not self.has_child.pop():
            self.raw.setdefault(where, []).append(text)

    def close(self) -> None:
        return None


def parse(text: str, *, filename: str = "") -> Iterator[ParsedRecord]:
    collector = _Collector()
    parser = DefusedXMLParser(target=collector)
    refuse_external_dtd(parser)
    collector.parser = parser
    try:
        for offset in range(0, len(text), _CHUNK):
            parser.feed(text[offset : offset + _CHUNK])
            yield from collector.done
            collector.done.clear()
        parser.close()
    except (EntitiesForbidden, ExternalReferenceForbidden) as exc:
        raise ImportFormatError(
            f"XML entities are not allowed (the file declares the entity {getattr(exc, 'name', '') or '?'!r}); "
            "EndNote never writes them, and they can be used to read local files or exhaust memory",
            line=collector.line_number() or None,
        ) from exc
    except DefusedXmlException as exc:
        raise ImportFormatError(f"this XML uses a construct that is not allowed: {exc}") from exc
    except ParseError as exc:
        line, column = getattr(exc, "position", (None, None))
        message = str(exc).split(": line ")[0]
        raise ImportFormatError(f"the XML is malformed: {message} (column {column})", line=line) from exc
    yield from collector.done
    if collector.root != "xml":
        raise ImportFormatError("this XML file is not an EndNote export: it has no <xml><records> root", line=1)


def build_record(raw: dict[str, list[str]], line: int) -> ParsedRecord:
    def first(*paths: str) -> str:
        for path in paths:
            for value in raw.get(path) or ():
                if value.strip():
                    return value.strip()
        return ""

    record = ParsedRecord(raw=raw, line=line)
    record.title = first("titles/title")
    record.abstract = first("abstract")
    record.authors = list(raw.get("contributors/authors/author") or ())
    year_text = first("dates/year", "dates/pub-dates/date")
    if year_text:
        record.year = parse_year(year_text)
        if record.year is None:
            record.warnings.append(f"unreadable year {year_text!r}")
    record.journal = first("periodical/full-title", "titles/secondary-title", "alt-periodical/full-title")
    if not record.journal:
        record.journal = first("periodical/abbr-1", "titles/alt-title", "alt-periodical/abbr-1")
    record.volume = first("volume")
    record.issue = first("number", "issue")
    record.pages = first("pages")
    urls = [
        url
        for path in ("urls/related-urls/url", "urls/web-urls/url", "urls/pdf-urls/url")
        for url in raw.get(path) or ()
    ]
    record.doi = first("electronic-resource-num") or next((doi for url in urls if (doi := doi_from_url(url))), "")
    record.url = next((url.strip() for url in urls if url.strip()), "")
    record.keywords = [word for value in raw.get("keywords/keyword") or () for word in split_keywords(value)]
    record.language = first("language")
    record.publication_type = first("ref-type@name")
    accession = first("accession-num")
    source = f"{first('remote-database-name')} {first('remote-database-provider')}".lower()
    if accession.isdigit() and any(word in source for word in _PMID_SOURCES):
        record.pmid = accession
    elif accession.upper().startswith("PMID"):
        record.pmid = accession
    record.registry_id = find_registry_id(accession, first("notes"), record.title)
    return record
