"""ClinicalTrials.gov JSON: the API v2 response and the website's "Download → JSON" file.

Two layouts exist and both are read:

    {"studies": [{"protocolSection": {...}, "derivedSection": {...}, "hasResults": false}, ...],
     "nextPageToken": "..."}                      # GET /api/v2/studies (one page)
    [{"protocolSection": {...}}, ...]              # website download: a bare list of studies

A single study object (GET /api/v2/studies/{nctId}) is accepted too. Each study becomes one record:
registry_id = identificationModule.nctId, title = briefTitle (officialTitle when there is none),
abstract = descriptionModule.briefSummary (else the detailed description, else a readable summary of
conditions, interventions and outcomes), year = the year it was first registered (first submitted/posted,
else the start date), keywords = conditions + keywords, authors = the overall officials (the investigators
responsible; a registration has no other authors). `raw` is the whole study flattened to dotted paths.

The file is walked study by study with `json.JSONDecoder.raw_decode`, which parses exactly as `json.loads`
does but also tells where each study starts, so every record carries its line and a syntax error its
line/column.

The registry helpers at the end (`readable_summary`, `registry_year`, `TRIAL_REGISTRATION`) are shared with
the ICTRP XML and the CSV importers, so that a trial reads the same whichever register file it came from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterable, Iterator
from typing import Any

from reviews.importers.base import ImportFormatError, ParsedRecord, clean_text, parse_year

name = "ctgov_json"
label = "ClinicalTrials.gov JSON"

TRIAL_REGISTRATION = "trial registration"
CTGOV_STUDY_URL = "https://clinicaltrials.gov/study/{}"

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def sniff(head: str, filename: str) -> int:
    start = head.lstrip()[:1]
    if start not in ("{", "["):
        return 0
    # protocolSection is the first key of every study in both layouts, so it is always within the head.
    if '"protocolSection"' in head and ('"identificationModule"' in head or '"nctId"' in head):
        return 95
    if start == "{" and '"studies"' in head and '"nctId"' in head:
        return 80
    return 0


def parse(text: str, *, filename: str = "") -> Iterator[ParsedRecord]:
    if _UNSTORABLE_HINT.search(text):
        text = _UNSTORABLE.sub(_storable, text)
    lines = _LineCounter(text)
    for index, (offset, study) in enumerate(_studies(text), start=1):
        line = lines.line_at(offset)
        if not isinstance(study, dict) or not isinstance(study.get("protocolSection"), dict):
            raise ImportFormatError(
                "this is not a ClinicalTrials.gov study (no protocolSection); is the file a ClinicalTrials.gov "
                "JSON download?",
                record=index,
                line=line,
            )
        record = _record(study)
        record.line = line
        yield record


# JSON can spell characters no database column stores: NUL (PostgreSQL refuses it in text and jsonb; decode()
# removes NUL bytes from files, not the escape) and a lone surrogate (half of a UTF-16 pair; it cannot be encoded
# as UTF-8 at all). Their escapes are rewritten before decoding: NUL dropped, a lone surrogate read as U+FFFD.
# Escaped backslashes are matched too, so that `\\u0000` (a backslash, then "u0000") stays as it is, and a
# surrogate pair (an emoji) is matched whole and kept.
_UNSTORABLE_HINT = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_UNSTORABLE = re.compile(
    r"\\(?:\\|u0000|u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|u[dD][89a-fA-F][0-9a-fA-F]{2})"
)


def _storable(match: re.Match[str]) -> str:
    escape = match.group(0)
    if escape == "\\u0000":
        return ""
    if len(escape) == 6 and escape[1] == "u":  # a lone surrogate
        return "\\ufffd"
    return escape  # an escaped backslash, or a whole surrogate pair


# --- walking the file -------------------------------------------------------------------------------------


def _studies(text: str) -> Iterator[tuple[int, Any]]:
    """(offset, study) for each study, in file order; JSON errors as ImportFormatError with line/column."""
    try:
        position = _skip(text, 0)
        if text.startswith("[", position):
            end = yield from _array(text, position)
        elif text.startswith("{", position):
            end = yield from _top_object(text, position)
        else:
            raise ImportFormatError(
                "this is not a ClinicalTrials.gov JSON download (it does not start with '{' or '[')", line=1
            )
        rest = _skip(text, end)
        if rest < len(text):
            raise json.JSONDecodeError("Extra data after the end of the JSON document", text, rest)
    except json.JSONDecodeError as exc:
        raise ImportFormatError(f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from exc
    except RecursionError as exc:  # absurdly deep nesting: not a download, and the parser cannot follow it
        raise ImportFormatError("invalid JSON: nested too deeply to be a ClinicalTrials.gov download") from exc


def _array(text: str, position: int) -> Generator[tuple[int, Any], None, int]:
    """Yield the elements of the array starting at `position` ('['); return the offset after it."""
    position = _skip(text, position + 1)
    if text.startswith("]", position):
        return position + 1
    while True:
        value, end = _DECODER.raw_decode(text, position)
        yield position, value
        position = _skip(text, end)
        if text.startswith(",", position):
            position = _skip(text, position + 1)
        elif text.startswith("]", position):
            return position + 1
        else:
            raise json.JSONDecodeError("Expecting ',' delimiter", text, position)


def _top_object(text: str, start: int) -> Generator[tuple[int, Any], None, int]:
    """The top-level object: its "studies" array (API v2 page), or the object itself if it is one study."""
    position = _skip(text, start + 1)
    found_studies = False
    members: dict[str, Any] = {}
    if text.startswith("}", position):
        position += 1
    else:
        while True:
            if not text.startswith('"', position):
                raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, position)
            key, position = _DECODER.raw_decode(text, position)
            position = _skip(text, position)
            if not text.startswith(":", position):
                raise json.JSONDecodeError("Expecting ':' delimiter", text, position)
            position = _skip(text, position + 1)
            if key == "studies" and text.startswith("[", position):
                found_studies = True
                position = yield from _array(text, position)
            else:
                members[key], position = _DECODER.raw_decode(text, position)
            position = _skip(text, position)
            if text.startswith(",", position):
                position = _skip(text, position + 1)
            elif text.startswith("}", position):
                position += 1
                break
            else:
                raise json.JSONDecodeError("Expecting ',' delimiter", text, position)
    if not found_studies:
        if "protocolSection" in members:  # GET /api/v2/studies/{nctId}: one study, not a page
            yield start, members
        else:
            keys = ", ".join(sorted(members)[:8]) or "none"
            raise ImportFormatError(
                'this JSON is not a ClinicalTrials.gov download: expected {"studies": [...]} or a list of '
                f"studies, found the keys {keys}",
                line=1,
            )
    return position


def _skip(text: str, position: int) -> int:
    match = _WS.match(text, position)
    return match.end() if match else position


class _LineCounter:
    """Line numbers for increasing offsets without rescanning the text from the start each time."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.offset = 0
        self.line = 1

    def line_at(self, offset: int) -> int:
        if offset < self.offset:  # not expected (studies come in order), but stay correct
            self.offset, self.line = 0, 1
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


# --- one study --------------------------------------------------------------------------------------------


def _record(study: dict[str, Any]) -> ParsedRecord:
    protocol = study["protocolSection"]
    ident = _module(protocol, "identificationModule")
    status = _module(protocol, "statusModule")
    description = _module(protocol, "descriptionModule")
    conditions_module = _module(protocol, "conditionsModule")
    design = _module(protocol, "designModule")
    arms = _module(protocol, "armsInterventionsModule")
    outcomes = _module(protocol, "outcomesModule")
    sponsors = _module(protocol, "sponsorCollaboratorsModule")
    contacts = _module(protocol, "contactsLocationsModule")

    record = ParsedRecord(publication_type=TRIAL_REGISTRATION, journal="ClinicalTrials.gov")
    nct_id = _text(ident.get("nctId"))
    record.registry_id = nct_id
    record.title = _text(ident.get("briefTitle")) or _text(ident.get("officialTitle"))
    if nct_id:
        record.url = CTGOV_STUDY_URL.format(nct_id)

    conditions = _texts(conditions_module.get("conditions"))
    interventions = [
        f"{_text(item.get('type'))}: {_text(item.get('name'))}".strip(": ")
        for item in _dicts(arms.get("interventions"))
    ]
    primary = [_text(item.get("measure")) for item in _dicts(outcomes.get("primaryOutcomes"))]
    record.abstract = (
        _text(description.get("briefSummary"))
        or _text(description.get("detailedDescription"))
        or readable_summary(
            [
                ("Official title", _text(ident.get("officialTitle"))),
                ("Conditions", "; ".join(conditions)),
                ("Interventions", "; ".join(i for i in interventions if i)),
                ("Primary outcomes", "; ".join(p for p in primary if p)),
                ("Study type", _text(design.get("studyType"))),
                ("Phases", ", ".join(_texts(design.get("phases")))),
                ("Status", _text(status.get("overallStatus"))),
            ]
        )
    )
    record.keywords = _unique(conditions + _texts(conditions_module.get("keywords")))
    record.authors = [_text(official.get("name")) for official in _dicts(contacts.get("overallOfficials"))]
    if not any(record.authors):
        responsible = sponsors.get("responsibleParty")
        if isinstance(responsible, dict):
            record.authors = [_text(responsible.get("investigatorFullName"))]

    first_posted = status.get("studyFirstPostDateStruct")
    start = status.get("startDateStruct")
    record.year = registry_year(
        _text(status.get("studyFirstSubmitDate")),
        _text(first_posted.get("date")) if isinstance(first_posted, dict) else "",
        _text(start.get("date")) if isinstance(start, dict) else "",
    )
    if record.year is None:
        record.warnings.append("no registration or start date")
    record.raw = flatten(study)
    return record


def _module(protocol: dict[str, Any], key: str) -> dict[str, Any]:
    value = protocol.get(key)
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    """A JSON scalar as text; anything else (a list, an object, null where a string belongs) as ""."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value).strip()
    return ""


def _texts(value: object) -> list[str]:
    if isinstance(value, list):
        return [text for text in (_text(item) for item in value) if text]
    text = _text(value)
    return [text] if text else []


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(value, None)
    return list(seen)


def flatten(value: object, path: str = "") -> dict[str, list[str]]:
    """A JSON document as {dotted.path: [values]}: lists of scalars keep every value under one path, lists of
    objects are indexed (`primaryOutcomes[0].measure`) so each object's fields stay together."""
    out: dict[str, list[str]] = {}
    stack: list[tuple[str, object]] = [(path, value)]
    # Iterative and in document order (the stack is filled reversed), so deep documents cannot recurse.
    while stack:
        where, item = stack.pop()
        if isinstance(item, dict):
            stack.extend((f"{where}.{key}" if where else str(key), child) for key, child in reversed(item.items()))
        elif isinstance(item, list):
            if all(not isinstance(child, dict | list) for child in item):
                out.setdefault(where, []).extend(_text(child) for child in item)
            else:
                stack.extend((f"{where}[{i}]", child) for i, child in reversed(list(enumerate(item))))
        else:
            out.setdefault(where, []).append(_text(item))
    return out


# --- shared by the registry importers ---------------------------------------------------------------------

_YYYYMMDD = re.compile(r"(\d{4})(\d{2})(\d{2})")


def registry_year(*values: str) -> int | None:
    """The year of the first date that has one. Registers write dates as 2021-03-15, 15/03/2021, March 2021
    and (ICTRP's Date_registration3) 20210315, which the generic year pattern cannot see inside the digits."""
    for value in values:
        value = (value or "").strip()
        compact = _YYYYMMDD.fullmatch(value)
        year = parse_year(compact.group(1)) if compact else parse_year(value)
        if year is not None:
            return year
    return None


def readable_summary(parts: Iterable[tuple[str, str]]) -> str:
    """ "Label: value" lines for what a register says about a trial, for screening when it has no summary."""
    lines = []
    for label, value in parts:
        # One line per part: a value's own line breaks (ICTRP's <br> lists) become "; ".
        text = "; ".join(clean_text(line) for line in value.split("\n") if clean_text(line))
        if text:
            lines.append(f"{label}: {text}")
    return "\n".join(lines)
