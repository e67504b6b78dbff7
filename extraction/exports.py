"""Extraction CSV exports, as rows (lists of cells) for `core.csv_safe.csv_lines`, which makes them formula-safe.

Three kinds:

- `consensus`: one row per study, its consensus extraction (what analyses read; empty cells where there is none
  yet).
- `raw`: one row per reviewer and study, each reviewer's own extraction, with `reviewer`, `status`, `version`
  (the extraction's save counter) and `form_version`.
- `outcome_data`: long format, one row per study × comparison × outcome × subgroup and extraction: the consensus
  rows (`reviewer` empty) then each reviewer's (`reviewer` = username).

Columns of `consensus` and `raw`, in this order:
`study_id, study, design, report_ids` (record ids, the primary first, `;`-separated), `primary_report_id,
primary_report_title, primary_report_year, arm_count, arm_1_name … arm_N_name` (the study's arms in their
order; N is the largest number of arms of any study of the review, at least 2), for `raw` then
`reviewer, status, version, form_version`, then one column per form field, named by its stable `key`, in the
form's order: a per-arm field takes N columns `key[arm 1]` … `key[arm N]`, whose arm is the one named in
`arm_k_name` of that row. Fields are those of the published form (its versions' fields that the current version
dropped come last, so older extractions lose nothing). Values: integers and decimals as numbers (decimals as
typed: `0.50`), yes/no as `yes`/`no`, multiple choices joined with `; `, dates as YYYY-MM-DD, text as given.
The extraction of a study is the one with the newest version of the form.

Columns of `outcome_data`: `study_id, study, reviewer, comparison_id, comparison, intervention, control,
outcome_id, outcome, outcome_type, direction, unit, timepoint, subgroup, arm_1, arm_2` (arm names),
`events_1, total_1, events_2, total_2, mean_1, sd_1, mean_2, sd_2, estimate, se, note` (group 1 is the
comparison's intervention; only the numbers of the outcome's type are filled).

Who gets what follows the selectors' blinding: an editor or owner, or anyone once extraction is not blinded,
gets every row; a reviewer while blinded gets only their own `raw` and `outcome_data` rows, and no consensus
(PermissionDenied)."""

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import StreamingHttpResponse

from core.csv_safe import csv_lines
from extraction import selectors
from extraction import values as V
from extraction.models import (
    ALL_DATA_FIELDS,
    Extraction,
    ExtractionForm,
    FieldValue,
    FormField,
    OutcomeData,
    Study,
    StudyReport,
)
from extraction.services.forms import current_form
from reviews.models import Review

KINDS = ("consensus", "raw", "outcome_data")
MIN_ARMS = 2
STUDY_COLUMNS = [
    "study_id", "study", "design", "report_ids", "primary_report_id", "primary_report_title", "primary_report_year",
    "arm_count",
]  # fmt: skip
RAW_COLUMNS = ["reviewer", "status", "version", "form_version"]
OUTCOME_DATA_COLUMNS = [
    "study_id", "study", "reviewer", "comparison_id", "comparison", "intervention", "control", "outcome_id",
    "outcome", "outcome_type", "direction", "unit", "timepoint", "subgroup", "arm_1", "arm_2", *ALL_DATA_FIELDS,
    "note",
]  # fmt: skip


@dataclass(frozen=True)
class Column:
    """A form field as export columns (one, or one per arm position)."""

    key: str
    type: str
    per_arm: bool


def export_rows(*, review: Review, user: User | AnonymousUser, kind: str) -> Iterator[list[Any]]:
    """The header and rows of an export the member may have; PermissionDenied for the consensus while blinded.
    Checked now; the rows are read as they are consumed."""
    if kind not in KINDS:
        raise ValueError(f"No extraction export “{kind}”; use {', '.join(KINDS)}.")
    if kind == "consensus" and not selectors.sees_all(review):
        raise PermissionDenied("While extraction is blinded, only editors and owners export the consensus.")
    visible = selectors.extraction_list(review=review, user=user)
    if kind == "consensus":
        return _extraction_rows(review, visible.filter(reviewer__isnull=True), raw=False)
    if kind == "raw":
        return _extraction_rows(review, visible.filter(reviewer__isnull=False), raw=True)
    return _outcome_data_rows(review, visible)


def csv_response(*, review: Review, user: User | AnonymousUser, kind: str) -> StreamingHttpResponse:
    """The export streamed as a CSV download (UTF-8 with a BOM, formula-safe cells)."""
    response = StreamingHttpResponse(
        csv_lines(export_rows(review=review, user=user, kind=kind)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="review-{review.pk}-extraction-{kind}.csv"'
    return response


# --- reading ----------------------------------------------------------------------------------------------------


def _studies(review: Review) -> list[Study]:
    return list(
        Study.objects.filter(review=review)
        .prefetch_related("arms", Prefetch("reports", queryset=StudyReport.objects.select_related("record")))
        .order_by("label", "id")
    )


def _newest(extractions: Any, form: ExtractionForm) -> dict[tuple[int, int | None], Extraction]:
    """Per study and reviewer (None: consensus), the extraction with the newest version of the published form."""
    chosen: dict[tuple[int, int | None], Extraction] = {}
    for extraction in extractions.filter(form__name=form.name).order_by("form__number", "id"):
        chosen[(extraction.study_id, extraction.reviewer_id)] = extraction
    return chosen


def _columns(review: Review, form: ExtractionForm) -> list[Column]:
    """The published form's fields in order, then those only older versions of it had."""
    fields = sorted(
        FormField.objects.filter(form__review=review, form__name=form.name)
        .exclude(form__status=ExtractionForm.Status.DRAFT)
        .select_related("form", "section"),
        key=lambda f: (f.form_id != form.pk, -f.form.number, f.section.position, f.position, f.pk),
    )
    columns: dict[str, Column] = {}
    for field in fields:
        columns.setdefault(field.key, Column(field.key, field.type, field.per_arm))
    return list(columns.values())


def _values(extractions: list[Extraction]) -> dict[int, dict[tuple[str, int | None], Any]]:
    found: dict[int, dict[tuple[str, int | None], Any]] = {}
    for v in FieldValue.objects.filter(extraction_id__in=[e.pk for e in extractions]).select_related("field"):
        found.setdefault(v.extraction_id, {})[(v.field.key, v.arm_id)] = v.value
    return found


# --- cells ------------------------------------------------------------------------------------------------------


def _cell(field_type: str, value: Any) -> Any:
    """A stored value as a cell: numbers as numbers (csv_safe leaves them unprefixed), the rest as text."""
    if value is None:
        return None
    if field_type in (V.INTEGER, V.DECIMAL) and not isinstance(value, bool):
        try:
            return value if isinstance(value, int) else Decimal(str(value))
        except InvalidOperation:
            return str(value)
    if field_type == V.YES_NO:
        return "yes" if value else "no"
    if field_type == V.MULTIPLE_CHOICE and isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return Decimal(format(value.normalize(), "f"))
    return value


def _study_cells(study: Study, arm_slots: int) -> list[Any]:
    reports = list(study.reports.all())
    primary = next((r for r in reports if r.primary), reports[0] if reports else None)
    arms = list(study.arms.all())
    names = [arm.name for arm in arms] + [None] * (arm_slots - len(arms))
    return [
        study.pk, study.label, study.design, ";".join(str(r.record_id) for r in reports) or None,
        primary.record_id if primary else None, primary.record.title if primary else None,
        primary.record.year if primary else None, len(arms), *names,
    ]  # fmt: skip


# --- the exports --------------------------------------------------------------------------------------------------


def _extraction_rows(review: Review, extractions: Any, *, raw: bool) -> Iterator[list[Any]]:
    form = current_form(review)
    columns = _columns(review, form)
    studies = _studies(review)
    slots = max([MIN_ARMS, *(len(s.arms.all()) for s in studies)])
    chosen = _newest(extractions.select_related("reviewer", "form"), form)
    values = _values(list(chosen.values()))
    field_header = [
        name
        for column in columns
        for name in ([f"{column.key}[arm {k}]" for k in range(1, slots + 1)] if column.per_arm else [column.key])
    ]
    yield [
        *STUDY_COLUMNS,
        *(f"arm_{k}_name" for k in range(1, slots + 1)),
        *(RAW_COLUMNS if raw else []),
        *field_header,
    ]
    for study in studies:
        study_cells = _study_cells(study, slots)
        arm_ids: list[int | None] = [arm.pk for arm in study.arms.all()]
        arm_ids += [None] * (slots - len(arm_ids))
        mine = sorted(
            (e for (study_id, reviewer_id), e in chosen.items() if study_id == study.pk and reviewer_id is not None),
            key=lambda e: e.reviewer.username if e.reviewer else "",
        )
        for extraction in mine if raw else [chosen.get((study.pk, None))]:
            stored = values.get(extraction.pk, {}) if extraction else {}
            cells: list[Any] = []
            for column in columns:
                if column.per_arm:
                    cells += [
                        _cell(column.type, stored.get((column.key, arm_id))) if arm_id else None for arm_id in arm_ids
                    ]
                else:
                    cells.append(_cell(column.type, stored.get((column.key, None))))
            extra = []
            if raw and extraction is not None:
                reviewer = extraction.reviewer.username if extraction.reviewer else None
                extra = [reviewer, extraction.status, extraction.version, extraction.form.number]
            yield [*study_cells, *extra, *cells]


def _outcome_data_rows(review: Review, extractions: Any) -> Iterator[list[Any]]:
    form = current_form(review)
    chosen = sorted(
        _newest(extractions.select_related("reviewer", "study"), form).values(),
        key=lambda e: (e.study.label, e.study_id, e.reviewer is not None, e.reviewer.username if e.reviewer else ""),
    )
    rows: dict[int, list[OutcomeData]] = {}
    for row in OutcomeData.objects.filter(extraction_id__in=[e.pk for e in chosen]).select_related(
        "comparison", "outcome", "arm_1", "arm_2"
    ):
        rows.setdefault(row.extraction_id, []).append(row)
    yield OUTCOME_DATA_COLUMNS
    for extraction in chosen:
        study = extraction.study
        for row in rows.get(extraction.pk, []):
            comparison, outcome = row.comparison, row.outcome
            yield [
                study.pk, study.label, extraction.reviewer.username if extraction.reviewer else None,
                comparison.pk, comparison.name, comparison.intervention, comparison.control,
                outcome.pk, outcome.name, outcome.type, outcome.direction, outcome.unit, outcome.timepoint,
                row.subgroup, row.arm_1.name if row.arm_1 else None, row.arm_2.name if row.arm_2 else None,
                *(_number(getattr(row, name)) for name in ALL_DATA_FIELDS), row.note,
            ]  # fmt: skip
