"""RevMan 5 export: the review as a `.rm5` file (`COCHRANE_REVIEW` XML), for RevMan 5, GRADEpro and R's
`meta::read.rm5`.

The element nesting, names and attribute spellings follow a file written by RevMan 5 itself (recorded, without
its content, in `exports/tests/rm5_structure.py`), and the layout follows what `meta::read.rm5` needs: that
reader goes line by line (it greps `<COMPARISON`, `</NAME>`, `<DICH_DATA`, `/>` ...), so every element starts
on its own line, the header children of an outcome (NAME, GROUP_LABEL_1/2, GRAPH_LABEL_1/2, and for generic
inverse variance the EFFECT_MEASURE element) come before its data rows, and nothing else inside
ANALYSES_AND_DATA is written as an empty element.

What goes where:

* INCLUDED_STUDIES: every `Study`, named by its label (ID `STD-<label>` in RevMan's spelling), YEAR from the
  label's year or its primary report's, each report (`StudyReport` record) as a REFERENCE (primary first).
* CHARACTERISTICS_OF_INCLUDED_STUDIES: the study's consensus extraction (newest form version), each field as a
  paragraph "Label: value" under the section it belongs to: a section titled Methods, Participants,
  Interventions or Outcomes goes to CHAR_METHODS, CHAR_PARTICIPANTS, CHAR_INTERVENTIONS or CHAR_OUTCOMES, any
  other section (Notes included) to CHAR_NOTES under its title. The design and the arms (intervention, dose,
  route, randomised/completed) are written first under Methods and Interventions.
* EXCLUDED_STUDIES: records excluded at full text (the settled screening outcome), one per record, with the
  reason (CHAR_REASON_FOR_EXCLUSION).
* AWAITING_STUDIES (awaiting classification): records through title/abstract screening whose full text could not
  be retrieved, or whose full-text outcome is "maybe".
* ONGOING_STUDIES: records from a trial-register import that were included at full text but report no study:
  registry entries without results are what RevMan calls ongoing studies. Sieve has no study-status field, so a
  completed trial that nobody has extracted yet would land here too; move it in RevMan if so.
* QUALITY_ITEMS: the consensus risk of bias (assessor empty). RoB 1 study-level judgements fill RevMan's seven core
  items (RESULT YES = low risk, NO = high, UNKNOWN = unclear; the support text as DESCRIPTION); the three items
  RevMan assesses per outcome group (blinding, incomplete outcome data) get one entry per study without a group,
  i.e. for all outcomes. RoB 1 judgements made for one outcome become user-defined items named with the outcome.
  RevMan 5 does not know RoB 2 or ROBINS-I: their domains and overall judgement are written as user-defined
  study-level items ("RoB 2 D1: ..."; per-outcome assessments with the outcome in the name), low as YES,
  high/serious/critical as NO, anything else (some concerns, moderate, no information) as UNKNOWN with the original
  judgement spelled out at the start of the DESCRIPTION, since RevMan's three levels cannot hold it.
* ANALYSES_AND_DATA: one COMPARISON per comparison, one DICH_OUTCOME / CONT_OUTCOME / IV_OUTCOME per analysis (by
  the outcome's type), the consensus outcome data as DICH_DATA / CONT_DATA / IV_DATA rows, and as calculated data
  Sieve's own numbers from the analysis result (per-study effect, CI, SE, weight; pooled estimate, CI, Z, P,
  Chi², df, I², tau², the test for subgroup differences). Rows with a subgroup label go into *_SUBGROUP elements,
  one per label (rows without a label in one named "No subgroup"), as Sieve pools them. An analysis judged not
  to be pooled has TOTALS="NO" and no pooled numbers; a stale analysis (its data or settings changed and not yet
  recomputed) or one that could not be computed has its data rows but empty calculated values, as RevMan writes
  before it calculates. Ratios are on their natural scale with LOG_* as base-10 logarithms (RevMan's
  convention); SE is on the analysis scale (natural log for ratios).

What RevMan 5 cannot hold, and how it is written: random-effects estimators other than DerSimonian-Laird (REML,
Paule-Mandel, ML) and the Hartung-Knapp-Sidik-Jonkman interval are written as RANDOM="YES" with Sieve's numbers
(RevMan recomputes with DerSimonian-Laird if asked to); the method of each analysis, why one is not pooled and
Sieve's notes go into the Data synthesis section of the methods. A generic inverse variance outcome's measure is
free text in RevMan; it is written as "Difference" or "Ratio" (Sieve does not record which ratio), with LOG_DATA
telling meta whether EFFECT_SIZE is a ratio to take the log of. Certainty ratings and Summary of Findings tables
are not exported (GRADEpro builds them from this file).
"""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET  # noqa: S405 - writing only; tests parse with defusedxml
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils import timezone
from django.utils.text import slugify

from extraction import values as V
from extraction.models import Comparison, Extraction, FieldValue, Study, StudyReport
from grading import plots as rob_plots
from grading import selectors as rob_selectors
from grading import selectors_certainty
from grading.models import ROB1_DOMAINS, RobAssessment, Tool
from reviews.models import Import, Record, Review
from screening.models import Choice, FullText, Stage
from screening.models import Outcome as ScreeningOutcome
from synthesis import selectors as synthesis_selectors
from synthesis.models import Analysis
from synthesis.services import consensus_inputs

REVMAN_VERSION = "5"
REVMAN_SUB_VERSION = "5.3.5"
CONTENT_TYPE = "application/xml"
BLINDED = (
    "The RevMan 5 file holds the consensus extraction and risk of bias: while extraction or risk-of-bias "
    "assessment is blinded, it is for editors and owners."
)

# RevMan 5.1+ core risk-of-bias items (Cochrane Handbook 5.1, table 8.5.a): (name, level, description).
ROB1_ITEMS = {
    "random_sequence": ("STUDY", "Selection bias (biased allocation to interventions) due to inadequate generation "
                        "of a randomised sequence."),
    "allocation_concealment": ("STUDY", "Selection bias (biased allocation to interventions) due to inadequate "
                               "concealment of allocations prior to assignment."),
    "blinding_participants": ("GROUP", "Performance bias due to knowledge of the allocated interventions by "
                              "participants and personnel during the study."),
    "blinding_outcome": ("GROUP", "Detection bias due to knowledge of the allocated interventions by outcome "
                         "assessors."),
    "incomplete_outcome": ("GROUP", "Attrition bias due to amount, nature or handling of incomplete outcome data."),
    "selective_reporting": ("STUDY", "Reporting bias due to selective outcome reporting."),
    "other": ("STUDY", "Bias due to problems not covered elsewhere in the table."),
}  # fmt: skip
RESULT = {"low": "YES", "high": "NO", "serious": "NO", "critical": "NO", "unclear": "UNKNOWN"}
JUDGEMENT_LABELS = {
    "low": "Low", "some_concerns": "Some concerns", "high": "High", "unclear": "Unclear", "moderate": "Moderate",
    "serious": "Serious", "critical": "Critical", "no_information": "No information",
}  # fmt: skip
TOOL_NAMES: dict[str, str] = {Tool.ROB2: "RoB 2", Tool.ROBINS: "ROBINS-I", Tool.ROB1: "RoB 1"}

CHAR_SECTIONS = {
    "methods": "CHAR_METHODS",
    "participants": "CHAR_PARTICIPANTS",
    "interventions": "CHAR_INTERVENTIONS",
    "outcomes": "CHAR_OUTCOMES",
}
CHAR_ORDER = ("CHAR_METHODS", "CHAR_PARTICIPANTS", "CHAR_INTERVENTIONS", "CHAR_OUTCOMES", "CHAR_NOTES")
NO_SUBGROUP = "No subgroup"

# Per outcome type: the outcome, subgroup and data element names.
TAGS = {
    "dichotomous": ("DICH_OUTCOME", "DICH_SUBGROUP", "DICH_DATA"),
    "continuous": ("CONT_OUTCOME", "CONT_SUBGROUP", "CONT_DATA"),
    "giv": ("IV_OUTCOME", "IV_SUBGROUP", "IV_DATA"),
}


def may_read(review: Review) -> bool:
    """Editors and owners; reviewers once neither extraction nor risk of bias is blinded (the file holds both
    consensuses). The same rule as certainty and the Summary of Findings."""
    return selectors_certainty.may_read(review)


# --- values as RevMan writes them ---------------------------------------------------------------------------------


def number(value: Any) -> str:
    """A number as an attribute: Python's shortest round-trip repr (RevMan writes Java doubles the same way), an
    empty string for a missing or non-finite value (RevMan's "not calculated")."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    x = float(value)
    return repr(x) if math.isfinite(x) else ""


def log10(value: Any) -> str:
    if value is None or not isinstance(value, int | float) or not value > 0 or not math.isfinite(value):
        return ""
    return repr(math.log10(value))


def study_id(label: str) -> str:
    """RevMan's study ID for a label: `STD-` and the label with spaces as hyphens and other characters outside
    letters, digits and hyphens as `_xHHHH_` (as RevMan writes "ISIS-2" as `STD-ISIS_x002d_2`)."""
    out = []
    for char in label.strip():
        if char == " ":
            out.append("-")
        elif char.isascii() and char.isalnum():
            out.append(char)
        else:
            out.append(f"_x{ord(char):04x}_")
    return "STD-" + ("".join(out) or "study")


def _year(study: Study, primary: Record | None) -> str:
    found = re.search(r"(?:19|20)\d\d", study.label)
    if found:
        return found.group(0)
    return str(primary.year) if primary is not None and primary.year else ""


# Characters XML 1.0 cannot hold (control characters other than tab and line breaks), e.g. in imported titles.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Elements RevMan writes on one line, which meta::read.rm5 finds by their closing tag on a line of its own.
_ONE_LINE = frozenset({"NAME", "TITLE", "GROUP_LABEL_1", "GROUP_LABEL_2", "GRAPH_LABEL_1", "GRAPH_LABEL_2"})


def xml_text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = " ".join(xml_text(text).split()) if tag in _ONE_LINE else xml_text(text)
    return element


def _paragraphs(parent: ET.Element, tag: str, lines: Iterable[str]) -> ET.Element:
    element = _sub(parent, tag)
    for line in lines:
        if line.strip():
            _sub(element, "P", line.strip())
    return element


# --- the document -------------------------------------------------------------------------------------------------


@dataclass
class _StudyRef:
    study: Study
    id: str
    primary: Record | None
    records: list[Record]


def rm5_document(*, review: Review, user: User | AnonymousUser) -> bytes:
    """The review as a RevMan 5 file (UTF-8 bytes). `review` comes from `review_get_for_user` (it carries
    `my_role`); PermissionDenied, with the reason, for a reviewer while extraction or risk of bias is blinded."""
    if not may_read(review):
        raise PermissionDenied(BLINDED)
    now = timezone.now().strftime("%Y-%m-%d %H:%M:%S %z")
    root = ET.Element(
        "COCHRANE_REVIEW",
        {
            "DESCRIPTION": "Exported from Sieve",
            "DOI": "",
            "GROUP_ID": "",
            "ID": f"SIEVE-{review.pk}",
            "MERGED_FROM": "",
            "MODIFIED": now,
            "MODIFIED_BY": getattr(user, "username", "") or "",
            "REVIEW_NO": "",
            "REVMAN_SUB_VERSION": REVMAN_SUB_VERSION,
            "REVMAN_VERSION": REVMAN_VERSION,
            "SPLIT_FROM": "",
            "STAGE": "R",
            "STATUS": "A",
            "TYPE": "INTERVENTION",
            "VERSION_NO": "0.1",
        },
    )
    studies = _studies(review)
    analyses = list(synthesis_selectors.analysis_list(review=review))
    _cover_sheet(root, review, now)
    _main_text(root, review, analyses)
    others = _other_records(review, taken={s.id for s in studies})
    _studies_and_references(root, studies, others)
    _characteristics(root, review, studies, others)
    _quality_items(root, review, {s.study.pk: s for s in studies})
    _sub(root, "SOF_TABLES")
    _sub(root, "ADDITIONAL_TABLES")
    _analyses(root, review, analyses, {s.study.label: s.id for s in studies})
    for tag in ("FIGURES", "FEEDBACK", "APPENDICES", "EXTENSIONS"):
        _sub(root, tag)
    ET.indent(root, space="")
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + body + "\n").encode("utf-8")


def filename(review: Review) -> str:
    return f"{slugify(review.title)[:80] or f'review-{review.pk}'}.rm5"


def rm5_response(*, review: Review, user: User | AnonymousUser) -> HttpResponse:
    """The RevMan 5 file as a download named after the review."""
    response = HttpResponse(rm5_document(review=review, user=user), content_type=f"{CONTENT_TYPE}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename(review)}"'
    return response


# --- cover sheet and text -----------------------------------------------------------------------------------------


def _cover_sheet(root: ET.Element, review: Review, now: str) -> None:
    cover = _sub(root, "COVER_SHEET", MODIFIED=now)
    _sub(cover, "TITLE", review.title or f"Review {review.pk}")
    dates = _sub(cover, "DATES")
    for tag in ("UP_TO_DATE", "LAST_SEARCH", "NEXT_STAGE"):
        _sub(_sub(dates, tag), "DATE", DAY="", MONTH="", YEAR="")
    for tag in ("PROTOCOL_PUBLISHED", "REVIEW_PUBLISHED", "LAST_CITATION_ISSUE"):
        _sub(dates, tag, ISSUE="", YEAR="")
    _sub(cover, "WHATS_NEW")
    _sub(cover, "HISTORY")
    support = _sub(cover, "SOURCES_OF_SUPPORT")
    _sub(support, "INTERNAL_SOURCES")
    _sub(support, "EXTERNAL_SOURCES")
    _sub(cover, "MESH_TERMS", VERIFIED="NO")
    _sub(cover, "KEYWORDS")


# RevMan's text sections, in its order (empty ones as RevMan writes them): tag -> children, "" for a leaf.
MAIN_TEXT: tuple[tuple[str, Any], ...] = (
    ("ABSTRACT", tuple((t, "") for t in (
        "ABS_BACKGROUND", "ABS_OBJECTIVES", "ABS_SEARCH_STRATEGY", "ABS_SELECTION_CRITERIA", "ABS_DATA_COLLECTION",
        "ABS_RESULTS", "ABS_CONCLUSIONS",
    ))),
    ("BODY", (
        ("BACKGROUND", (("CONDITION", ""), ("INTERVENTION", ""), ("THEORY", ""), ("IMPORTANCE", ""))),
        ("OBJECTIVES", ""),
        ("METHODS", (
            ("SELECTION_CRITERIA", (
                ("CRIT_STUDIES", ""), ("CRIT_PARTICIPANTS", ""), ("CRIT_INTERVENTIONS", ""),
                ("CRIT_OUTCOMES", (("CRIT_OUTCOMES_PRIMARY", ""), ("CRIT_OUTCOMES_SECONDARY", ""))),
            )),
            ("SEARCH_METHODS", (("ELECTRONIC_SEARCHES", ""), ("OTHER_SEARCHES", ""))),
            ("DATA_COLLECTION", tuple((t, "") for t in (
                "STUDY_SELECTION", "DATA_EXTRACTION", "QUALITY_ASSESSMENT", "EFFECT_MEASURES", "UNIT_OF_ANALYSIS",
                "MISSING_DATA", "HETEROGENEITY_ASSESSMENT", "BIAS_ASSESSMENT", "DATA_SYNTHESIS", "SUBGROUP_ANALYSIS",
                "SENSITIVITY_ANALYSIS",
            ))),
        )),
        ("RESULTS", (
            ("STUDY_DESCRIPTION", tuple((t, "") for t in (
                "SEARCH_RESULTS", "INCLUDED_STUDIES_DESCR", "EXCLUDED_STUDIES_DESCR"
            ))),
            ("STUDY_QUALITY", tuple((t, "") for t in (
                "ALLOCATION", "BLINDING", "EXCLUSIONS", "SELECTIVE_REPORTING", "OTHER_BIAS_SOURCES"
            ))),
            ("INTERVENTION_EFFECTS", ""),
        )),
        ("DISCUSSION", tuple((t, "") for t in (
            "SUMMARY_OF_RESULTS", "APPLICABILITY_OF_FINDINGS", "QUALITY_OF_EVIDENCE", "POTENTIAL_BIASES", "AGREEMENT"
        ))),
        ("CONCLUSIONS", (("IMPLICATIONS_PRACTICE", ""), ("IMPLICATIONS_RESEARCH", ""))),
    )),
    *((t, "") for t in ("ACKNOWLEDGEMENTS", "CONFLICT_OF_INTEREST", "CONTRIBUTIONS", "PRO_REV_DIFF", "PUBLIC_NOTES")),
)  # fmt: skip


def _skeleton(parent: ET.Element, spec: Any, texts: dict[str, list[str]]) -> None:
    for tag, children in spec:
        if children:
            _skeleton(_sub(parent, tag), children, texts)
        else:
            _paragraphs(parent, tag, texts.get(tag, []))


def _main_text(root: ET.Element, review: Review, analyses: list[Analysis]) -> None:
    """RevMan's text sections, empty but for the review's question (objectives, selection criteria) and, under
    Data synthesis, each analysis's method and why it is not pooled (RevMan keeps no such note on an analysis)."""
    synthesis = []
    for analysis in analyses:
        line = f"{analysis.comparison.name}, {analysis.outcome}: {_method_text(analysis)}"
        if not analysis.pooled:
            line += f"; not pooled: {analysis.not_pooled_reason.rstrip('. ')}"
        notes = [n for n in (analysis.result or {}).get("notes", []) if not n.startswith("Not pooled:")]
        synthesis.append(" ".join([line + ".", *notes]))
    texts = {
        "OBJECTIVES": [review.objectives],
        "CRIT_STUDIES": [review.eligibility_criteria],
        "CRIT_PARTICIPANTS": [review.population],
        "CRIT_INTERVENTIONS": [review.intervention, review.comparator],
        "CRIT_OUTCOMES_PRIMARY": [review.outcomes],
        "DATA_SYNTHESIS": synthesis,
    }
    _skeleton(_sub(root, "MAIN_TEXT"), MAIN_TEXT, texts)


def _method_text(analysis: Analysis) -> str:
    parts = [Analysis.Measure(analysis.effect_measure).label, Analysis.Model(analysis.model).label.lower()]
    parts.append(Analysis.Method(analysis.method).label)
    if analysis.hksj:
        parts.append("Hartung-Knapp-Sidik-Jonkman confidence interval")
    return ", ".join(parts) + " (computed by Sieve)"


# --- studies ------------------------------------------------------------------------------------------------------


def _studies(review: Review) -> list[_StudyRef]:
    studies = (
        Study.objects.filter(review=review)
        .prefetch_related("arms", Prefetch("reports", queryset=StudyReport.objects.select_related("record")))
        .order_by("label", "id")
    )
    found: list[_StudyRef] = []
    taken: set[str] = set()
    for study in studies:
        reports = list(study.reports.all())
        records = [r.record for r in sorted(reports, key=lambda r: (not r.primary, r.pk))]
        ident = study_id(study.label)
        while ident in taken:  # labels are unique, their spellings almost always: keep IDs unique anyway
            ident += "a"
        taken.add(ident)
        found.append(_StudyRef(study, ident, records[0] if records else None, records))
    return found


@dataclass
class _OtherRecords:
    """Records that report no included study, by where RevMan lists them, with their RevMan IDs and notes."""

    excluded: list[tuple[Record, str]]  # (record, reason)
    awaiting: list[tuple[Record, str]]  # (record, why it awaits classification)
    ongoing: list[Record]
    ids: dict[int, str]


def _other_records(review: Review, *, taken: set[str]) -> _OtherRecords:
    """Excluded at full text (with the reason), awaiting classification (full text not retrieved, or full-text
    outcome "maybe") and ongoing (trial-register records included at full text that report no study); a record
    that reports a study is never among them. See the module docstring."""
    full_text = {
        o.record_id: o
        for o in ScreeningOutcome.objects.filter(review=review, stage=Stage.FULL_TEXT).exclude(decision="")
    }
    passed = set(
        ScreeningOutcome.objects.filter(
            review=review, stage=Stage.TITLE_ABSTRACT, decision__in=[Choice.INCLUDE, Choice.MAYBE]
        ).values_list("record_id", flat=True)
    )
    not_retrieved = set(FullText.objects.filter(review=review, not_retrieved=True).values_list("record_id", flat=True))
    reporting = set(StudyReport.objects.filter(review=review).values_list("record_id", flat=True))
    wanted = (set(full_text) | (passed & not_retrieved)) - reporting
    found = _OtherRecords([], [], [], {})
    for record in Record.objects.filter(review=review, pk__in=wanted).select_related("batch").order_by("id"):
        outcome = full_text.get(record.pk)
        decision = outcome.decision if outcome is not None else None
        if decision == Choice.EXCLUDE:
            found.excluded.append((record, outcome.reason if outcome is not None else ""))
        elif decision == Choice.INCLUDE and record.batch.source_kind == Import.SourceKind.REGISTER:
            found.ongoing.append(record)
        elif decision is None:
            found.awaiting.append((record, "Full text not retrieved."))
        elif decision == Choice.MAYBE:
            found.awaiting.append((record, "Full-text screening undecided (maybe)."))
    for record in [r for r, _ in found.excluded] + [r for r, _ in found.awaiting] + found.ongoing:
        ident = study_id(_record_name(record))
        while ident in taken:
            ident += "a"
        taken.add(ident)
        found.ids[record.pk] = ident
    return found


def _record_name(record: Record) -> str:
    authors = record.authors or []
    first = str(authors[0]).split(",")[0].strip() if authors else ""
    name = " ".join(x for x in (first, str(record.year or "")) if x)
    return name or record.registry_id or f"Record {record.pk}"


def _reference(parent: ET.Element, record: Record, primary: bool) -> None:
    kind = "OTHER" if record.batch.source_kind == Import.SourceKind.REGISTER else "JOURNAL_ARTICLE"
    reference = _sub(parent, "REFERENCE", PRIMARY="YES" if primary else "NO", TYPE=kind)
    for tag, value in (
        ("AU", ", ".join(str(a) for a in record.authors or [])),
        ("TI", record.title),
        ("SO", record.journal),
        ("YR", str(record.year or "")),
        ("VL", record.volume),
        ("NO", record.issue),
        ("PG", record.pages),
    ):
        if value:
            _sub(reference, tag, value)
    identifiers = _sub(reference, "IDENTIFIERS")
    for kind_, value in (("DOI", record.doi), ("PUBMED", record.pmid), ("OTHER", record.registry_id)):
        if value:
            _sub(identifiers, "IDENTIFIER", TYPE=kind_, VALUE=value)


def _studies_and_references(root: ET.Element, studies: list[_StudyRef], others: _OtherRecords) -> None:
    refs = _sub(root, "STUDIES_AND_REFERENCES")
    container = _sub(refs, "STUDIES")
    included = _sub(container, "INCLUDED_STUDIES")
    for ref in studies:
        study = _sub(
            included, "STUDY", DATA_SOURCE="PUB", ID=ref.id, NAME=ref.study.label, YEAR=_year(ref.study, ref.primary)
        )
        for i, record in enumerate(ref.records):
            _reference(study, record, primary=i == 0)
        _sub(study, "IDENTIFIERS")
    for tag, records in (
        ("EXCLUDED_STUDIES", [r for r, _ in others.excluded]),
        ("AWAITING_STUDIES", [r for r, _ in others.awaiting]),
        ("ONGOING_STUDIES", others.ongoing),
    ):
        element = _sub(container, tag)
        for record in records:
            study = _sub(
                element, "STUDY", DATA_SOURCE="PUB", ID=others.ids[record.pk], NAME=_record_name(record),
                YEAR=str(record.year or ""),
            )  # fmt: skip
            _reference(study, record, primary=True)
            _sub(study, "IDENTIFIERS")
    other = _sub(refs, "OTHER_REFERENCES")
    for tag in ("ADDITIONAL_REFERENCES", "OTHER_VERSIONS_REFERENCES", "PENDING_REFERENCES"):
        _sub(other, tag)


# --- characteristics ----------------------------------------------------------------------------------------------


def _consensus_values(review: Review) -> dict[int, list[FieldValue]]:
    """Per study, the values of its consensus extraction with the newest form version."""
    chosen: dict[int, Extraction] = {}
    for extraction in Extraction.objects.filter(review=review, reviewer__isnull=True).order_by("form__number", "id"):
        chosen[extraction.study_id] = extraction
    by_extraction: dict[int, list[FieldValue]] = {}
    for value in (
        FieldValue.objects.filter(extraction_id__in=[e.pk for e in chosen.values()])
        .select_related("field__section", "arm")
        .order_by("field__section__position", "field__position", "field_id", "arm__position", "arm_id")
    ):
        by_extraction.setdefault(value.extraction_id, []).append(value)
    return {study_id: by_extraction.get(e.pk, []) for study_id, e in chosen.items()}


def _characteristics(root: ET.Element, review: Review, studies: list[_StudyRef], others: _OtherRecords) -> None:
    chars = _sub(root, "CHARACTERISTICS_OF_STUDIES")
    included = _sub(
        chars, "CHARACTERISTICS_OF_INCLUDED_STUDIES", SORT_BY="STUDY", USER_DEF_1_ENABLED="NO",
        USER_DEF_2_ENABLED="NO", USER_DEF_3_ENABLED="NO",
    )  # fmt: skip
    values = _consensus_values(review)
    for ref in studies:
        lines: dict[str, list[str]] = {tag: [] for tag in CHAR_ORDER}
        lines["CHAR_METHODS"].append(f"Design: {Study.Design(ref.study.design).label}")
        for arm in ref.study.arms.all():
            detail = ", ".join(x for x in (arm.intervention, arm.dose, arm.route) if x)
            counts = ", ".join(
                f"{n} {what}" for n, what in ((arm.randomised, "randomised"), (arm.completed, "completed")) if n
            )
            lines["CHAR_INTERVENTIONS"].append(
                f"{arm.name}: {detail}" + (f" ({counts})" if counts else "") if detail or counts else arm.name
            )
        for value in values.get(ref.study.pk, []):
            text = V.display(value.field.type, value.value)
            if not text:
                continue
            section = value.field.section.title
            tag = CHAR_SECTIONS.get(section.strip().lower(), "CHAR_NOTES")
            label = value.field.label + (f" ({value.arm.name})" if value.arm else "")
            if tag == "CHAR_NOTES" and section.strip().lower() != "notes":
                label = f"{section}: {label}"
            unit = f" {value.field.unit}" if value.field.unit and value.field.type in (V.INTEGER, V.DECIMAL) else ""
            lines[tag].append(f"{label}: {text}{unit}")
        if ref.study.notes:
            lines["CHAR_NOTES"].append(ref.study.notes)
        char = _sub(included, "INCLUDED_CHAR", STUDY_ID=ref.id)
        for tag in CHAR_ORDER:
            _paragraphs(char, tag, lines[tag])
    _sub(included, "FOOTNOTES")

    element = _sub(chars, "CHARACTERISTICS_OF_EXCLUDED_STUDIES", SORT_BY="STUDY")
    for record, reason in others.excluded:
        char = _sub(element, "EXCLUDED_CHAR", STUDY_ID=others.ids[record.pk])
        _paragraphs(char, "CHAR_REASON_FOR_EXCLUSION", [reason or "Excluded at full text (no reason recorded)."])
    _sub(element, "FOOTNOTES")
    user_defs = {"USER_DEF_1_ENABLED": "NO", "USER_DEF_2_ENABLED": "NO", "USER_DEF_3_ENABLED": "NO"}
    element = _sub(chars, "CHARACTERISTICS_OF_AWAITING_STUDIES", SORT_BY="STUDY", **user_defs)
    for record, note in others.awaiting:
        char = _sub(element, "AWAITING_CHAR", STUDY_ID=others.ids[record.pk])
        for tag in ("CHAR_METHODS", "CHAR_PARTICIPANTS", "CHAR_INTERVENTIONS", "CHAR_OUTCOMES"):
            _sub(char, tag)
        _paragraphs(char, "CHAR_NOTES", [note])
    _sub(element, "FOOTNOTES")
    element = _sub(chars, "CHARACTERISTICS_OF_ONGOING_STUDIES", SORT_BY="STUDY", **user_defs)
    for record in others.ongoing:
        char = _sub(element, "ONGOING_CHAR", STUDY_ID=others.ids[record.pk])
        _paragraphs(char, "CHAR_STUDY_NAME", [record.title])
        for tag in ("CHAR_METHODS", "CHAR_PARTICIPANTS", "CHAR_INTERVENTIONS", "CHAR_OUTCOMES"):
            _sub(char, tag)
        _sub(char, "CHAR_STARTING_DATE")
        _sub(char, "CHAR_CONTACT_INFORMATION")
        _paragraphs(char, "CHAR_NOTES", [f"Trial register record {record.registry_id}".strip()])
    _sub(element, "FOOTNOTES")


# --- risk of bias -------------------------------------------------------------------------------------------------


def _domain_name(tool: str, domain: str) -> str:
    if domain == "overall":
        return "Overall"
    if domain == "DS":
        return "DS: Bias arising from period and carryover effects"
    names = rob_plots.DOMAINS.get(tool, ())
    found = re.fullmatch(r"D(\d)", domain)
    index = int(found.group(1)) if found else 0
    return f"{domain}: {names[index - 1]}" if 0 < index <= len(names) else domain


def _quality_items(root: ET.Element, review: Review, studies: dict[int, _StudyRef]) -> None:
    """RoB 1 (study level) into RevMan's core items; everything else as user-defined items (module docstring)."""
    items = _sub(root, "QUALITY_ITEMS")
    tool = rob_selectors.settings_for(review).tool
    consensus = list(
        RobAssessment.objects.filter(review=review, assessor__isnull=True)
        .select_related("outcome")
        .prefetch_related("judgements")
        .order_by("outcome__position", "outcome_id", "study__label", "study_id")
    )
    # (outcome or None, tool, domain) -> [(study ref, judgement, support)]
    entries: dict[tuple[Any, str, str], list[tuple[_StudyRef, str, str]]] = {}
    for assessment in consensus:
        ref = studies.get(assessment.study_id)
        if ref is None:
            continue
        for judgement in assessment.judgements.all():
            if judgement.judgement:
                key = (assessment.outcome, assessment.tool, judgement.domain)
                entries.setdefault(key, []).append((ref, judgement.judgement, judgement.support))
        if assessment.overall and assessment.tool != Tool.ROB1:
            key = (assessment.outcome, assessment.tool, "overall")
            entries.setdefault(key, []).append((ref, assessment.overall, assessment.overall_override_reason))
    number_ = 0
    if tool == Tool.ROB1:  # RevMan's core items, present even while empty, as RevMan writes them
        for domain in ROB1_DOMAINS:
            number_ += 1
            level, description = ROB1_ITEMS[domain]
            item = _sub(items, "QUALITY_ITEM", CORE_ITEM="YES", ID=f"QIT-{number_:02d}", LEVEL=level, NO=str(number_))
            _sub(item, "NAME", rob_plots.DOMAINS["rob1"][ROB1_DOMAINS.index(domain)])
            _paragraphs(item, "DESCRIPTION", [description])
            _quality_data(item, entries.pop((None, Tool.ROB1, domain), []), spell_out=False)

    def order(key: tuple[Any, str, str]) -> tuple[int, int, str, int, str]:
        outcome, item_tool, domain = key
        where = (outcome.position, outcome.pk) if outcome is not None else (-1, 0)
        known = ROB1_DOMAINS if item_tool == Tool.ROB1 else ()
        return (*where, item_tool, known.index(domain) if domain in known else 0 if domain != "overall" else 1, domain)

    for key in sorted(entries, key=order):
        outcome, item_tool, domain = key
        number_ += 1
        if item_tool == Tool.ROB1:  # an outcome's RoB 1 judgements: RevMan's core items hold the study-level ones
            name = rob_plots.DOMAINS["rob1"][ROB1_DOMAINS.index(domain)] if domain in ROB1_DOMAINS else domain
            note = "Exported from Sieve: RoB 1 judgements made for one outcome."
        else:
            name = f"{TOOL_NAMES.get(item_tool, item_tool)} {_domain_name(item_tool, domain)}"
            note = (
                f"Exported from Sieve: {TOOL_NAMES.get(item_tool, item_tool)} is not a RevMan 5 tool. Low risk is "
                "written as YES, high (serious, critical) as NO, every other judgement as UNKNOWN with the judgement "
                "named at the start of its description."
            )
        if outcome is not None:
            name += f" ({outcome})"
        item = _sub(items, "QUALITY_ITEM", CORE_ITEM="NO", ID=f"QIT-{number_:02d}", LEVEL="STUDY", NO=str(number_))
        _sub(item, "NAME", name)
        _paragraphs(item, "DESCRIPTION", [note])
        _quality_data(item, entries[key], spell_out=item_tool != Tool.ROB1)


def _quality_data(item: ET.Element, rows: list[tuple[_StudyRef, str, str]], *, spell_out: bool) -> None:
    data = _sub(item, "QUALITY_ITEM_DATA")
    for ref, judgement, support in sorted(rows, key=lambda r: r[0].study.label):
        entry = _sub(data, "QUALITY_ITEM_DATA_ENTRY", RESULT=RESULT.get(judgement, "UNKNOWN"), STUDY_ID=ref.id)
        text = support or ""
        if spell_out:
            text = f"{JUDGEMENT_LABELS.get(judgement, judgement)}. {text}".strip()
        _paragraphs(entry, "DESCRIPTION", [text])


# --- analyses -----------------------------------------------------------------------------------------------------


def _analyses(root: ET.Element, review: Review, analyses: list[Analysis], ids: dict[str, str]) -> None:
    container = _sub(root, "ANALYSES_AND_DATA", CALCULATED_DATA="YES")
    inputs = consensus_inputs(review_id=review.pk, analyses=analyses)
    by_comparison: dict[int, list[Analysis]] = {}
    for analysis in analyses:
        by_comparison.setdefault(analysis.comparison_id, []).append(analysis)
    comparisons = Comparison.objects.filter(review=review).order_by("position", "id")
    comparison_no = 0
    order = itertools.count(1)  # RevMan numbers the data rows through the whole review
    for comparison in comparisons:
        if comparison.pk not in by_comparison:
            continue
        comparison_no += 1
        element = _sub(container, "COMPARISON", ID=f"CMP-{comparison_no:03d}", NO=str(comparison_no))
        _sub(element, "NAME", comparison.name)
        for outcome_no, analysis in enumerate(by_comparison[comparison.pk], start=1):
            studies = inputs.get((analysis.comparison_id, analysis.outcome_id), [])
            ident = f"CMP-{comparison_no:03d}.{outcome_no:02d}"
            _outcome(element, analysis, studies, ids, ident, outcome_no, order)


def _current_result(analysis: Analysis) -> dict[str, Any] | None:
    """The stored result when it is current (a stale one is never written as calculated data)."""
    if analysis.status != Analysis.Status.CURRENT or not analysis.result:
        return None
    return analysis.result


def _outcome(
    parent: ET.Element,
    analysis: Analysis,
    studies: list[Any],
    ids: dict[str, str],
    ident: str,
    no: int,
    order: itertools.count[int],
) -> None:
    outcome_type = analysis.outcome.type
    outcome_tag, subgroup_tag, data_tag = TAGS[outcome_type]
    result = _current_result(analysis)
    ratio = analysis.is_ratio
    rows = {(r["label"], r["subgroup"]): r for r in (result or {}).get("per_study", [])}
    pooled = bool(result and analysis.pooled and result.get("estimate") is not None)
    subgrouped = any(s.subgroup for s in studies)

    attrs: dict[str, str] = {}
    if pooled and result is not None:
        attrs |= _pooled(result, ratio, outcome_type)
    else:
        attrs |= dict.fromkeys(("CHI2", "CI_END", "CI_START", "EFFECT_SIZE", "I2", "P_CHI2", "P_Z", "TAU2", "Z"), "")
        attrs["WEIGHT"] = ""
    estimable = [s for s in studies if _row_estimable(rows.get((s.label, s.subgroup)))]
    attrs["DF"] = (
        str(result["df"]) if pooled and result and result.get("df") is not None else str(max(len(estimable) - 1, 0))
    )
    attrs |= {"CI_STUDY": "95", "CI_TOTAL": "95", "ESTIMABLE": "YES" if pooled else "NO", "ID": ident, "NO": str(no)}
    attrs["RANDOM"] = "YES" if analysis.model == Analysis.Model.RANDOM else "NO"
    attrs["SCALE"] = _scale(result, ratio)
    attrs |= {"SORT_BY": "STUDY", "STUDIES": str(len(studies)), "SUBGROUPS": "YES" if subgrouped else "NO"}
    test = (result or {}).get("subgroup_test") if pooled else None
    attrs |= {
        "Q": number(test["q"]) if test else "",
        "P_Q": number(test["p"]) if test else "",
        "I2_Q": number(test["i2"]) if test else "",
        "SUBGROUP_TEST": "YES" if subgrouped and pooled else "NO",
        "TOTALS": "YES" if analysis.pooled else "NO",
    }
    attrs["TOTAL_1"] = number(sum(s.total_1 for s in studies if s.total_1 is not None))
    attrs["TOTAL_2"] = number(sum(s.total_2 for s in studies if s.total_2 is not None))
    if outcome_type == "dichotomous":
        attrs["EVENTS_1"] = number(sum(s.events_1 for s in studies if s.events_1 is not None))
        attrs["EVENTS_2"] = number(sum(s.events_2 for s in studies if s.events_2 is not None))
        attrs["EFFECT_MEASURE"] = "PETO_OR" if analysis.method == Analysis.Method.PETO else analysis.effect_measure
        attrs["METHOD"] = analysis.method if analysis.model == Analysis.Model.FIXED else "IV"
        attrs["SWAP_EVENTS"] = "NO"
    elif outcome_type == "continuous":
        attrs["EFFECT_MEASURE"] = analysis.effect_measure
        attrs["UNITS"] = analysis.outcome.unit
    else:
        attrs["LOG_DATA"] = "YES" if ratio else "NO"
        attrs["METHOD"] = "IV"
    element = _sub(parent, outcome_tag, **dict(sorted(attrs.items())))
    _sub(element, "NAME", str(analysis.outcome))
    comparison = analysis.comparison
    _sub(element, "GROUP_LABEL_1", comparison.intervention or "Intervention")
    _sub(element, "GROUP_LABEL_2", comparison.control or "Control")
    favours = [f"Favours {comparison.intervention or 'intervention'}", f"Favours {comparison.control or 'control'}"]
    if analysis.outcome.direction == "higher_is_better":
        favours.reverse()
    _sub(element, "GRAPH_LABEL_1", favours[0])
    _sub(element, "GRAPH_LABEL_2", favours[1])
    if outcome_type == "giv":
        _sub(element, "EFFECT_MEASURE", "Ratio" if ratio else "Difference")

    def write_rows(parent_: ET.Element, members: list[Any]) -> None:
        for study in members:
            row = rows.get((study.label, study.subgroup))
            _sub(parent_, data_tag, **_data_attrs(study, row, ids, next(order), analysis, ratio, outcome_type))

    if not subgrouped:
        write_rows(element, studies)
        return
    names: list[str] = []
    for study in studies:
        if study.subgroup not in names:
            names.append(study.subgroup)
    entries = {e["name"]: e for e in (result or {}).get("subgroups", [])} if pooled else {}
    for group_no, name in enumerate(names, start=1):
        members = [s for s in studies if s.subgroup == name]
        entry = entries.get(name)
        group_attrs = {"ID": f"{ident}.{group_no:02d}", "NO": str(group_no), "STUDIES": str(len(members))}
        group_attrs["TOTAL_1"] = number(sum(s.total_1 for s in members if s.total_1 is not None))
        group_attrs["TOTAL_2"] = number(sum(s.total_2 for s in members if s.total_2 is not None))
        if outcome_type == "dichotomous":
            group_attrs["EVENTS_1"] = number(sum(s.events_1 for s in members if s.events_1 is not None))
            group_attrs["EVENTS_2"] = number(sum(s.events_2 for s in members if s.events_2 is not None))
        if entry is not None and entry.get("estimate") is not None:
            weights = [rows[(s.label, s.subgroup)].get("weight") for s in members if (s.label, s.subgroup) in rows]
            group_attrs |= {
                "EFFECT_SIZE": number(entry["estimate"]), "CI_START": number(entry["ci_low"]),
                "CI_END": number(entry["ci_high"]), "CHI2": number(entry.get("q")), "DF": number(entry.get("df")),
                "I2": number(entry.get("i2")), "P_CHI2": number(entry.get("p_heterogeneity")),
                "TAU2": number(entry.get("tau2")), "ESTIMABLE": "YES",
                "WEIGHT": number(sum(w for w in weights if w is not None)),
            }  # fmt: skip
            if ratio:
                group_attrs |= {
                    "LOG_EFFECT_SIZE": log10(entry["estimate"]), "LOG_CI_START": log10(entry["ci_low"]),
                    "LOG_CI_END": log10(entry["ci_high"]),
                }  # fmt: skip
        else:
            group_attrs |= dict.fromkeys(("EFFECT_SIZE", "CI_START", "CI_END", "CHI2", "I2", "P_CHI2", "TAU2"), "")
            group_attrs |= {"ESTIMABLE": "NO", "WEIGHT": "", "DF": str(max(len(members) - 1, 0))}
        group = _sub(element, subgroup_tag, **dict(sorted(group_attrs.items())))
        _sub(group, "NAME", name or NO_SUBGROUP)
        write_rows(group, members)


def _pooled(result: dict[str, Any], ratio: bool, outcome_type: str) -> dict[str, str]:
    weights = [r.get("weight") for r in result.get("per_study", []) if r.get("weight") is not None]
    z = result.get("z")
    attrs = {
        "EFFECT_SIZE": number(result["estimate"]),
        "CI_START": number(result.get("ci_low")),
        "CI_END": number(result.get("ci_high")),
        "Z": number(abs(z)) if z is not None else "",
        "P_Z": number(result.get("p")),
        "CHI2": number(result.get("q")),
        "P_CHI2": number(result.get("p_heterogeneity")),
        "I2": number(result.get("i2")),
        "TAU2": number(result.get("tau2")),
        "WEIGHT": number(sum(weights)) if weights else "",
    }
    if ratio and outcome_type != "continuous":
        attrs |= {
            "LOG_EFFECT_SIZE": log10(result["estimate"]),
            "LOG_CI_START": log10(result.get("ci_low")),
            "LOG_CI_END": log10(result.get("ci_high")),
        }
    return attrs


def _row_estimable(row: dict[str, Any] | None) -> bool:
    return row is not None and row.get("effect") is not None and not row.get("excluded")


def _scale(result: dict[str, Any] | None, ratio: bool) -> str:
    """The forest plot's axis limit RevMan shows (its default for ratios is 100): for differences the power of
    ten above the widest interval."""
    if ratio or not result:
        return "100.0"
    ends = [abs(r[k]) for r in result.get("per_study", []) for k in ("ci_low", "ci_high") if r.get(k) is not None]
    widest = max(ends, default=0.0)
    return repr(float(10 ** math.ceil(math.log10(widest)))) if widest > 0 else "100.0"


def _data_attrs(
    study: Any,
    row: dict[str, Any] | None,
    ids: dict[str, str],
    order: int,
    analysis: Analysis,
    ratio: bool,
    outcome_type: str,
) -> dict[str, str]:
    """A study row: its consensus numbers and, when the analysis is current, Sieve's calculated values."""
    estimable = _row_estimable(row)
    calc = row if estimable and row is not None else {}
    attrs = {
        "STUDY_ID": ids.get(study.label, study_id(study.label)),
        "ORDER": str(order),
        "ESTIMABLE": "YES" if estimable else "NO",
        "EFFECT_SIZE": number(calc.get("effect")),
        "CI_START": number(calc.get("ci_low")),
        "CI_END": number(calc.get("ci_high")),
        "SE": number(calc.get("se")),
        "WEIGHT": number(calc.get("weight")),
        "TOTAL_1": number(study.total_1),
        "TOTAL_2": number(study.total_2),
    }
    if outcome_type == "dichotomous":
        attrs |= {"EVENTS_1": number(study.events_1), "EVENTS_2": number(study.events_2)}
        se, yi = calc.get("se"), calc.get("yi")
        if analysis.method == Analysis.Method.PETO and se and yi is not None:
            attrs |= {"O_E": number(yi / se**2), "VAR": number(1 / se**2)}
        else:
            attrs |= {"O_E": "0.0", "VAR": number(se**2) if se else ""}
    elif outcome_type == "continuous":
        attrs |= {
            "MEAN_1": number(study.mean_1), "SD_1": number(study.sd_1),
            "MEAN_2": number(study.mean_2), "SD_2": number(study.sd_2),
        }  # fmt: skip
    elif study.estimate is not None:  # generic inverse variance: the entered estimate is the data itself
        natural = math.exp(study.estimate) if ratio and study.estimate < 709.0 else study.estimate
        attrs |= {"EFFECT_SIZE": number(natural), "SE": number(study.se)}
    if ratio and outcome_type != "continuous":
        attrs |= {
            "LOG_EFFECT_SIZE": log10(calc.get("effect")),
            "LOG_CI_START": log10(calc.get("ci_low")),
            "LOG_CI_END": log10(calc.get("ci_high")),
        }
    return dict(sorted(attrs.items()))
