"""WHO ICTRP XML: the search portal's "Export results to XML" file, and the WHO trial registration data set
(TRDS) XML that registers exchange with ICTRP.

    <Trials_downloaded_from_ICTRP>                      the portal export: one flat <Trial> per trial
      <Trial><Internal_Number>..</Internal_Number><TrialID>ChiCTR2600012345</TrialID>
        <Public_title>..</Public_title><Scientific_title>..</Scientific_title>
        <Date_registration>2026-09-20</Date_registration><Date_registration3>20260920</Date_registration3>
        <Source_Register>ChiCTR</Source_Register><web_address>https://..</web_address>
        <Condition>..</Condition><Intervention>..</Intervention><Primary_outcome>..</Primary_outcome> ..</Trial>

    <trials><trial><main><trial_id>..</trial_id><public_title>..</public_title><url>..</url>..</main>
      <contacts><contact>..</contact></contacts><criteria>..</criteria>
      <health_condition_code><hc_code>..</hc_code></health_condition_code>
      <intervention_keyword><i_keyword>..</i_keyword></intervention_keyword>
      <primary_outcome><prim_outcome>..</prim_outcome></primary_outcome> ..</trial></trials>   (TRDS)

Every leaf element of a trial, nested or not, is kept in `raw` under its tag as written. Fields are looked up
by tag case-insensitively with `_` read as a space, which is also how the ICTRP CSV export names its columns
("Public title", "web address"), so `ictrp_record` serves both (the CSV importer calls it).

Parsing goes through defusedxml only: a document that declares entities (billion laughs, external entities)
is refused with an ImportFormatError, never expanded or fetched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from reviews.importers.base import ImportFormatError, ParsedRecord, clean_text, find_registry_id
from reviews.importers.ctgov_json import TRIAL_REGISTRATION, readable_summary, registry_year
from reviews.importers.xml_safety import refuse_external_dtd

name = "ictrp_xml"
label = "WHO ICTRP XML"

_PORTAL_ROOT = re.compile(r"<\s*Trials_downloaded_from_ICTRP\b", re.IGNORECASE)
_TRDS = re.compile(r"<\s*trials\b[^>]*>\s*<\s*trial\b[^>]*>\s*<\s*main\b", re.IGNORECASE)
_TRIAL_TAGS = {"trial"}
_BR = re.compile(r"<\s*br\s*/?\s*>", re.IGNORECASE)


def sniff(head: str, filename: str) -> int:
    if _PORTAL_ROOT.search(head):
        return 95
    if _TRDS.search(head) and re.search(r"<\s*trial_id\b", head, re.IGNORECASE):
        return 90
    return 0


def parse(text: str, *, filename: str = "") -> Iterator[ParsedRecord]:
    root, lines = _parse_xml(text)
    trials = [element for element in root.iter() if _local(element.tag).lower() in _TRIAL_TAGS]
    if not trials:
        raise ImportFormatError(
            f"no <Trial> elements found under <{_local(root.tag)}>; is this a WHO ICTRP XML export?", line=1
        )
    for trial in trials:
        raw: dict[str, list[str]] = {}
        for element in trial.iter():
            if element is not trial and len(element) == 0:
                raw.setdefault(_local(element.tag), []).append((element.text or "").strip())
        record = ictrp_record(normalized_fields(raw))
        record.raw = raw
        record.line = lines.get(id(trial))
        yield record


def normalized_fields(raw: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Tag or column name → values, keyed as ICTRP names fields in both exports: "public title"."""
    out: dict[str, list[str]] = {}
    for key, values in raw.items():
        out.setdefault(field_key(key), []).extend(values)
    return out


def field_key(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").replace("_", " ").lower().split())


def ictrp_record(fields: Mapping[str, Sequence[str]]) -> ParsedRecord:
    """One trial from ICTRP fields (see `normalized_fields`), for the XML and the CSV export alike."""

    def first(*names: str) -> str:
        for field_name in names:
            for value in fields.get(field_name, ()):
                if clean_text(value):
                    return _plain(value)
        return ""

    def every(*names: str) -> list[str]:
        return [_plain(value) for field_name in names for value in fields.get(field_name, ()) if clean_text(value)]

    record = ParsedRecord(publication_type=TRIAL_REGISTRATION)
    trial_id = clean_text(first("trialid", "trial id"))
    record.registry_id = find_registry_id(trial_id) or trial_id
    record.title = first("public title", "scientific title")
    scientific = first("scientific title")
    conditions = every("condition", "hc freetext", "hc keyword", "hc code")
    interventions = every("intervention", "i freetext", "i keyword", "i code")
    record.abstract = readable_summary(
        [
            ("Scientific title", scientific if clean_text(scientific) != clean_text(record.title) else ""),
            ("Condition", "; ".join(conditions)),
            ("Intervention", "; ".join(interventions)),
            ("Primary outcome", "; ".join(every("primary outcome", "prim outcome"))),
            ("Secondary outcome", "; ".join(every("secondary outcome", "sec outcome"))),
            ("Study type", first("study type")),
            ("Study design", first("study design")),
            ("Phase", first("phase")),
            ("Target size", first("target size")),
            ("Countries", "; ".join(every("countries", "country2"))),
            ("Recruitment status", first("recruitment status")),
            ("Primary sponsor", first("primary sponsor")),
        ]
    )
    record.keywords = [part for value in conditions for part in _split_list(value)]
    record.year = registry_year(
        first("date registration3"),
        first("date registration"),
        first("date enrollement", "date enrolment", "date enrollment"),
    )
    if record.year is None:
        record.warnings.append("no registration or enrolment date")
    record.url = clean_text(first("web address", "url"))
    record.journal = first("source register", "reg name") or "WHO ICTRP"
    if not record.registry_id:
        record.warnings.append("no trial ID")
    return record


def _plain(value: str) -> str:
    """ICTRP text keeps the registers' HTML line breaks (`<br>`, escaped in the XML) and CRs: make them lines."""
    return _BR.sub("\n", value).replace("\r", "\n").strip()


def _split_list(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;\n]", value) if part.strip()]


# --- safe XML with line numbers ---------------------------------------------------------------------------


def _local(tag: object) -> str:
    text = tag if isinstance(tag, str) else ""
    return text.rsplit("}", 1)[-1]


class _LineRecordingBuilder:
    """A TreeBuilder target that notes the line where each <Trial> starts (ElementTree itself keeps none)."""

    def __init__(self) -> None:
        self.builder = TreeBuilder()
        self.lines: dict[int, int] = {}
        self.current_line: Callable[[], int] = lambda: 0

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        element = self.builder.start(tag, attrs)
        if _local(tag).lower() in _TRIAL_TAGS:
            self.lines[id(element)] = self.current_line()
        return element

    def end(self, tag: str) -> Element:
        return self.builder.end(tag)

    def data(self, data: str) -> None:
        self.builder.data(data)

    def close(self) -> Element:
        return self.builder.close()


def _parse_xml(text: str) -> tuple[Element, dict[int, int]]:
    target = _LineRecordingBuilder()
    # Entities (internal or external) are refused outright: an export never needs them, and expanding them is
    # how XML bombs and external-entity reads work. A DOCTYPE without entity declarations is harmless.
    parser: Any = DefusedXMLParser(target=target, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    refuse_external_dtd(parser)
    target.current_line = lambda: int(parser.parser.CurrentLineNumber)
    try:
        parser.feed(text)
        root = parser.close()
    except DefusedXmlException as exc:
        raise ImportFormatError(
            f"the XML declares entities or external references ({exc}); entities are not allowed in an import"
        ) from exc
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise ImportFormatError(f"malformed XML: {exc}", line=line) from exc
    if not isinstance(root, Element):
        raise ImportFormatError("the XML document is empty")
    return root, target.lines
