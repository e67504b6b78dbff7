"""Extraction reads, scoped to the asking member's role. Blinding lives here: while extraction is blinded, a
reviewer reads only their own extractions, never the consensus or the discrepancies (which show others'
values)."""

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from extraction import values as V
from extraction.models import (
    ALL_DATA_FIELDS,
    DATA_FIELDS,
    Arm,
    Comparison,
    Discrepancy,
    Extraction,
    ExtractionForm,
    FieldValue,
    FormField,
    FormSection,
    Outcome,
    OutcomeData,
    Study,
    StudyReport,
)
from extraction.services.studies import settings_for
from reviews.models import Membership, Review, role_at_least

AnyUser = User | AnonymousUser
Role = Membership.Role


def sees_all(review: Review) -> bool:
    """Whether the member (review.my_role) may see every extraction, the consensus and the discrepancies."""
    return role_at_least(review.my_role, Role.EDITOR) or not settings_for(review).blinded


def is_editor(review: Review) -> bool:
    return role_at_least(review.my_role, Role.EDITOR)


# --- studies -------------------------------------------------------------------------------------------------


def study_list(*, review: Review) -> QuerySet[Study]:
    """The review's studies with reports, arms and (reviewer) extractions prefetched, and their open
    discrepancy count: a constant number of queries for any number of studies."""
    return (
        Study.objects.filter(review=review)
        .select_related("created_by")
        .annotate(open_discrepancies=Count("discrepancies", filter=Q(discrepancies__status="open"), distinct=True))
        .prefetch_related(
            Prefetch("reports", queryset=StudyReport.objects.select_related("record__batch")),
            "arms",
            Prefetch(
                "extractions",
                queryset=Extraction.objects.filter(reviewer__isnull=False).select_related("reviewer", "form"),
                to_attr="reviewer_extractions",
            ),
        )
        .order_by("label", "id")
    )


def study_get(*, review: Review, study_id: int | str) -> Study:
    try:
        return study_list(review=review).get(pk=int(study_id))
    except (Study.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such study in this review.") from exc


def included_records_without_study(*, review: Review) -> QuerySet:
    """Records included at full text that report no study yet (to make studies from)."""
    from reviews.models import Record
    from screening.models import Choice, Stage
    from screening.models import Outcome as ScreeningOutcome

    included = ScreeningOutcome.objects.filter(review=review, stage=Stage.FULL_TEXT, decision=Choice.INCLUDE).values(
        "record_id"
    )
    return Record.objects.filter(pk__in=included, study_report__isnull=True).select_related("batch").order_by("id")


def outcome_list(*, review: Review) -> QuerySet[Outcome]:
    return Outcome.objects.filter(review=review).order_by("position", "id")


def comparison_list(*, review: Review) -> QuerySet[Comparison]:
    return Comparison.objects.filter(review=review).order_by("position", "id")


def outcome_get(*, review: Review, outcome_id: int | str) -> Outcome:
    try:
        return outcome_list(review=review).get(pk=int(outcome_id))
    except (Outcome.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such outcome in this review.") from exc


def comparison_get(*, review: Review, comparison_id: int | str) -> Comparison:
    try:
        return comparison_list(review=review).get(pk=int(comparison_id))
    except (Comparison.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such comparison in this review.") from exc


# --- forms ---------------------------------------------------------------------------------------------------


def form_list(*, review: Review) -> QuerySet[ExtractionForm]:
    return (
        ExtractionForm.objects.filter(review=review)
        .annotate(field_count=Count("fields", distinct=True), extraction_count=Count("extractions", distinct=True))
        .order_by("name", "-number")
    )


def form_get(*, review: Review, form_id: int | str) -> ExtractionForm:
    try:
        return (
            ExtractionForm.objects.filter(review=review)
            .select_related("based_on")
            .prefetch_related(
                Prefetch("sections", queryset=FormSection.objects.order_by("position", "id")),
                Prefetch("fields", queryset=FormField.objects.order_by("position", "id")),
            )
            .get(pk=int(form_id))
        )
    except (ExtractionForm.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such extraction form in this review.") from exc


@dataclass
class SectionView:
    section: FormSection
    fields: list[FormField] = dc_field(default_factory=list)


def form_sections(form: ExtractionForm) -> list[SectionView]:
    """The form's sections with their fields in order (from form_get's prefetch: no further query)."""
    by_section: dict[int, SectionView] = {s.pk: SectionView(s) for s in form.sections.all()}
    for f in form.fields.all():
        by_section[f.section_id].fields.append(f)
    return list(by_section.values())


# --- extractions ---------------------------------------------------------------------------------------------


def extraction_list(*, review: Review, user: AnyUser, study: Study | None = None) -> QuerySet[Extraction]:
    """Extractions the member may read: their own while blinded, all (and the consensus) otherwise."""
    found = Extraction.objects.filter(review=review).select_related("reviewer", "form", "study")
    if study is not None:
        found = found.filter(study=study)
    if not sees_all(review):
        found = found.filter(reviewer=user) if user.is_authenticated else found.none()
    return found.order_by("study__label", "form__number", "reviewer__username", "id")


def extraction_get(*, review: Review, user: AnyUser, extraction_id: int | str) -> Extraction:
    try:
        return extraction_list(review=review, user=user).get(pk=int(extraction_id))
    except (Extraction.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such extraction in this review.") from exc


@dataclass
class FieldRow:
    """One field of the extraction page: its value, or its value per arm (arm, value, display) for per-arm ones."""

    field: FormField
    value: Any = None
    per_arm: list[tuple[Arm, Any]] = dc_field(default_factory=list)

    @property
    def display(self) -> str:
        return V.display(self.field.type, self.value)


@dataclass
class DataCell:
    comparison: Comparison
    outcome: Outcome
    rows: list[OutcomeData]
    names: tuple[str, ...]


@dataclass
class ExtractionPage:
    extraction: Extraction
    study: Study
    form: ExtractionForm
    arms: list[Arm]
    sections: list[tuple[FormSection, list[FieldRow]]]
    data: list[DataCell]
    open_keys: set[str]

    @property
    def filled(self) -> int:
        return sum(
            1 for _, rows in self.sections for row in rows if row.value is not None or any(v for _, v in row.per_arm)
        )

    @property
    def field_count(self) -> int:
        return sum(len(rows) for _, rows in self.sections)


def extraction_page(*, review: Review, extraction: Extraction) -> ExtractionPage:
    """Everything the extraction page shows, in a fixed number of queries whatever the form's size: sections,
    fields, values, arms, comparisons, outcomes, outcome data, open discrepancy keys."""
    study, form = extraction.study, extraction.form
    arms = list(Arm.objects.filter(study=study).order_by("position", "id"))
    values: dict[tuple[int, int | None], Any] = {
        (v.field_id, v.arm_id): v.value for v in FieldValue.objects.filter(extraction=extraction)
    }
    sections: dict[int, tuple[FormSection, list[FieldRow]]] = {
        s.pk: (s, []) for s in FormSection.objects.filter(form=form).order_by("position", "id")
    }
    for f in FormField.objects.filter(form=form).order_by("position", "id"):
        row = FieldRow(f, values.get((f.pk, None)))
        if f.per_arm:
            row.per_arm = [(arm, values.get((f.pk, arm.pk))) for arm in arms]
        sections[f.section_id][1].append(row)
    rows_by_cell: dict[tuple[int, int], list[OutcomeData]] = {}
    for data in OutcomeData.objects.filter(extraction=extraction).order_by("subgroup", "id"):
        rows_by_cell.setdefault((data.comparison_id, data.outcome_id), []).append(data)
    outcomes = list(outcome_list(review=review))
    cells = [
        DataCell(c, o, rows_by_cell.get((c.pk, o.pk), []), DATA_FIELDS[o.type])
        for c in comparison_list(review=review)
        for o in outcomes
    ]
    open_keys = (
        set(
            Discrepancy.objects.filter(study=study, form=form, status=Discrepancy.Status.OPEN).values_list(
                "key", flat=True
            )
        )
        if extraction.is_consensus
        else set()
    )
    return ExtractionPage(extraction, study, form, arms, list(sections.values()), cells, open_keys)


def discrepancy_list(*, review: Review, study: Study | None = None, status: str | None = None) -> QuerySet[Discrepancy]:
    """The review's discrepancies (editor and owner only; the caller has checked the role)."""
    found = (
        Discrepancy.objects.filter(review=review)
        .select_related("study", "form", "resolved_by")
        .prefetch_related("study__arms")
    )
    if study is not None:
        found = found.filter(study=study)
    if status:
        found = found.filter(status=status)
    return found.order_by("status", "study__label", "id")


def discrepancy_get(*, review: Review, discrepancy_id: int | str) -> Discrepancy:
    try:
        return discrepancy_list(review=review).get(pk=int(discrepancy_id))
    except (Discrepancy.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such discrepancy in this review.") from exc


@dataclass
class Change:
    """One change of one value in an extraction: who, when, what it was and what it became."""

    when: Any
    who: str
    what: str
    old: str
    new: str


def value_history(*, extraction: Extraction, limit: int = 500) -> list[Change]:
    """Every change of the extraction's values and outcome data, newest first (from the history tables; the
    caller has checked that the member may read this extraction)."""
    fields = {f.pk: f for f in FormField.objects.filter(form_id=extraction.form_id)}
    arms = {a.pk: a.name for a in Arm.objects.filter(study_id=extraction.study_id)}
    changes: list[Change] = []
    before: dict[tuple, Any] = {}
    for h in (
        FieldValue.history.filter(extraction_id=extraction.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    ):
        f = fields.get(h.field_id)
        if f is None:
            continue
        spot = (h.field_id, h.arm_id)
        new = None if h.history_type == "-" else h.value
        old = before.get(spot)
        before[spot] = new
        if old != new:
            label = f.label + (f" ({arms.get(h.arm_id, 'removed arm')})" if h.arm_id else "")
            who = h.history_user.username if h.history_user else "the worker (agreed values)"
            changes.append(Change(h.history_date, who, label, V.display(f.type, old), V.display(f.type, new)))
    outcomes = {o.pk: str(o) for o in Outcome.objects.filter(review_id=extraction.review_id)}
    comparisons = {c.pk: c.name for c in Comparison.objects.filter(review_id=extraction.review_id)}
    rows: dict[int, dict[str, Any]] = {}
    for h in (
        OutcomeData.history.filter(extraction_id=extraction.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    ):
        previous = rows.get(h.id, {})
        current = {} if h.history_type == "-" else {n: getattr(h, n) for n in ALL_DATA_FIELDS}
        rows[h.id] = current
        where = f"{comparisons.get(h.comparison_id, '?')} › {outcomes.get(h.outcome_id, '?')}"
        where += f" [{h.subgroup}]" if h.subgroup else ""
        who = h.history_user.username if h.history_user else "the worker (agreed values)"
        for name in ALL_DATA_FIELDS:
            old, new = previous.get(name), current.get(name)
            if old != new:
                changes.append(
                    Change(h.history_date, who, f"{where}: {name}", "" if old is None else str(old),
                           "" if new is None else str(new))
                )  # fmt: skip
    changes.sort(key=lambda c: c.when, reverse=True)
    return changes[:limit]


def form_order(form: ExtractionForm) -> list[dict[str, Any]]:
    """The form's current order of sections and their fields, in the shape `form_reorder` takes (what a move of
    one section or field starts from)."""
    return [{"id": v.section.pk, "fields": [f.pk for f in v.fields]} for v in form_sections(form)]
