"""Study writes: studies from included records or by hand, their reports, arms; review-wide outcomes and
comparisons; the review's extraction settings. Editors and owners make these; reviewers extract into them."""

import re
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import Http404

from core.exceptions import ServiceConflict
from extraction.models import Arm, Comparison, ExtractionSettings, Outcome, Study, StudyReport
from reviews.models import Import, Membership, Record, Review
from reviews.selectors import review_get_for_user

AnyUser = User | AnonymousUser
Role = Membership.Role
STUDY_FIELDS = ("label", "design", "notes")
ARM_FIELDS = ("name", "intervention", "dose", "route", "randomised", "completed", "position")
OUTCOME_FIELDS = ("name", "type", "direction", "unit", "timepoint", "position")
COMPARISON_FIELDS = ("name", "intervention", "control", "position")
SETTINGS_FIELDS = ("extractors_per_study", "blinded")


def settings_for(review: Review) -> ExtractionSettings:
    found, _ = ExtractionSettings.objects.get_or_create(review=review)
    return found


def _check_version(kind: str, version: int | None, current: int) -> None:
    if version is not None and int(version) != current:
        raise ServiceConflict(
            f"Someone else changed this {kind} since you opened it (your version {version}, now {current}). "
            "Reload it and make your change again."
        )


def _apply(obj: Any, fields: dict[str, Any], allowed: tuple[str, ...], kind: str) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValidationError({name: f"Not a field of a {kind}." for name in unknown})
    for name, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(obj, name, value)


def _save(obj: Any, message_on_clash: dict[str, str]) -> None:
    """Validate (field messages) and save; a unique clash becomes a message at the clashing field."""
    try:
        obj.full_clean(validate_constraints=False)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from exc
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise ValidationError(message_on_clash) from exc


@transaction.atomic
def settings_update(*, user: AnyUser, review_id: int, version: int | None, **fields: Any) -> ExtractionSettings:
    """How the review extracts (owner). A stale `version` is refused."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.OWNER)
    settings_for(review)
    current = ExtractionSettings.objects.select_for_update().get(review=review)
    _check_version("setting", version, current.version)
    _apply(current, fields, SETTINGS_FIELDS, "extraction setting")
    current.version += 1
    _save(current, {})
    from extraction.services.extracting import compare_later

    for study_id, form_id in review.extractions.filter(reviewer__isnull=True).values_list("study_id", "form_id"):
        compare_later(study_id, form_id)
    return current


# --- studies ------------------------------------------------------------------------------------------------


def _study(review: Review, study_id: int | str, lock: bool = False) -> Study:
    studies = Study.objects.filter(review=review)
    if lock:
        studies = studies.select_for_update()
    try:
        return studies.get(pk=int(study_id))
    except (Study.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such study in this review.") from exc


def _record(review: Review, record_id: int | str) -> Record:
    try:
        return Record.objects.filter(
            review=review, batch__status=Import.Status.SUCCEEDED, duplicate_of__isnull=True
        ).get(pk=int(record_id))
    except (Record.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such record in this review (a duplicate is linked through its primary record).") from exc


def _surname(name: str) -> str:
    """`Hardy, Janet` and `Yang CY` (MEDLINE) give the first part; `Janet Hardy` the last word."""
    name = re.sub(r"\s+", " ", name).strip()
    if "," in name:
        surname = name.split(",")[0]
    else:
        words = name.split(" ")
        while len(words) > 1 and re.fullmatch(r"(?:[A-Z]\.?-?){1,3}", words[-1]):
            words.pop()  # trailing initials: the surname came first
        surname = " ".join(words) if len(words) < len(name.split(" ")) else words[-1]
    surname = surname.strip()
    return surname.title() if surname.isupper() else surname


def suggested_label(record: Record, taken: set[str]) -> str:
    """`Surname Year` from the first author, as Cochrane study IDs are written; `a`, `b`… added on a clash."""
    surname = _surname(str(record.authors[0])) if record.authors else ""
    base = " ".join(part for part in (surname or f"Record {record.pk}", str(record.year or "")) if part)
    label, suffix = base, ord("a")
    while label.casefold() in taken:
        label = f"{base}{chr(suffix)}"
        suffix += 1
    return label[:100]


def _taken_labels(review: Review) -> set[str]:
    return {label.casefold() for label in Study.objects.filter(review=review).values_list("label", flat=True)}


@transaction.atomic
def study_create(
    *, user: AnyUser, review_id: int, label: str = "", design: str = Study.Design.PARALLEL, notes: str = "",
    record_ids: list[int] | None = None,
) -> Study:  # fmt: skip
    """A study, by hand or from records (the first becomes its primary report); the label defaults to the first
    record's `Surname Year`. A record already reporting another study is moved here (its history keeps where
    it was)."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    records = [_record(review, rid) for rid in (record_ids or [])]
    label = (label or "").strip()
    if not label:
        if not records:
            raise ValidationError({"label": "Give the study ID, e.g. “Hardy 2012”."})
        label = suggested_label(records[0], _taken_labels(review))
    study = Study(review=review, label=label, design=design, notes=notes, created_by=cast(User, user))
    _save(study, {"label": f"This review already has a study “{label}”."})
    for record in records:
        _attach(review, study, record)
    return study


@transaction.atomic
def studies_create_from_included(*, user: AnyUser, review_id: int) -> list[Study]:
    """One study for each record included at full text that reports no study yet (editor)."""
    from screening.models import Choice, Stage
    from screening.models import Outcome as ScreeningOutcome

    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    record_ids = (
        ScreeningOutcome.objects.filter(
            review=review, stage=Stage.FULL_TEXT, decision=Choice.INCLUDE, record__study_report__isnull=True
        )
        .order_by("record_id")
        .values_list("record_id", flat=True)
    )
    return [
        study_create(user=user, review_id=review.pk, record_ids=[record_id], design=Study.Design.PARALLEL)
        for record_id in record_ids
    ]


@transaction.atomic
def study_update(*, user: AnyUser, review_id: int, study_id: int | str, version: int | None, **fields: Any) -> Study:
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    study = _study(review, study_id, lock=True)
    _check_version("study", version, study.version)
    _apply(study, fields, STUDY_FIELDS, "study")
    study.version += 1
    _save(study, {"label": f"This review already has a study “{study.label}”."})
    return study


@transaction.atomic
def study_delete(*, user: AnyUser, review_id: int, study_id: int | str) -> None:
    """Delete a study that nobody has extracted yet (its reports become unlinked records again)."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    study = _study(review, study_id, lock=True)
    if study.extractions.filter(reviewer__isnull=False).exists():
        raise ServiceConflict(f"“{study.label}” has extractions; move its reports to another study instead.")
    study.delete()


def _attach(review: Review, study: Study, record: Record) -> StudyReport:
    report = StudyReport.objects.select_for_update().filter(record=record).first()
    old_study_id = report.study_id if report else None
    if report is None:
        report = StudyReport(review=review, study=study, record=record)
    elif old_study_id == study.pk:
        return report
    report.study = study
    has_primary = StudyReport.objects.filter(study=study, primary=True).exists()
    report.primary = not has_primary  # a wish for primary on a study that has one: report_set_primary
    report.save()
    if old_study_id is not None:
        _ensure_primary(old_study_id)
    return report


def _ensure_primary(study_id: int) -> None:
    reports = StudyReport.objects.filter(study_id=study_id)
    if not reports.filter(primary=True).exists():
        first = reports.order_by("id").first()
        if first is not None:
            first.primary = True
            first.save(update_fields=["primary"])


@transaction.atomic
def report_add(
    *, user: AnyUser, review_id: int, study_id: int | str, record_id: int | str, primary: bool = False
) -> StudyReport:
    """Link a record to a study as one of its reports (moving it from another study, history kept)."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    study = _study(review, study_id, lock=True)
    report = _attach(review, study, _record(review, record_id))
    if primary and not report.primary:
        report = report_set_primary(user=user, review_id=review.pk, study_id=study.pk, record_id=report.record_id)
    return report


@transaction.atomic
def report_set_primary(*, user: AnyUser, review_id: int, study_id: int | str, record_id: int | str) -> StudyReport:
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    study = _study(review, study_id, lock=True)
    try:
        report = StudyReport.objects.get(study=study, record_id=int(record_id))
    except (StudyReport.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("That record is not a report of this study.") from exc
    for other in StudyReport.objects.filter(study=study, primary=True).exclude(pk=report.pk):
        other.primary = False
        other.save(update_fields=["primary"])
    report.primary = True
    report.save(update_fields=["primary"])
    return report


@transaction.atomic
def report_remove(*, user: AnyUser, review_id: int, study_id: int | str, record_id: int | str) -> None:
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    study = _study(review, study_id, lock=True)
    deleted, _ = StudyReport.objects.filter(study=study, record_id=int(record_id)).delete()
    if not deleted:
        raise Http404("That record is not a report of this study.")
    _ensure_primary(study.pk)


# --- arms ---------------------------------------------------------------------------------------------------


def _arm(study: Study, arm_id: int | str) -> Arm:
    try:
        return Arm.objects.get(study=study, pk=int(arm_id))
    except (Arm.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such arm in this study.") from exc


def _check_arm(arm: Arm) -> None:
    if arm.randomised is not None and arm.completed is not None and arm.completed > arm.randomised:
        raise ValidationError(
            {"completed": f"More completed ({arm.completed}) than randomised ({arm.randomised}) in “{arm.name}”."}
        )


@transaction.atomic
def arm_create(*, user: AnyUser, review_id: int, study_id: int | str, **fields: Any) -> Arm:
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    study = _study(review, study_id, lock=True)
    arm = Arm(study=study, position=(study.arms.aggregate(m=Max("position"))["m"] or 0) + 1)
    _apply(arm, fields, ARM_FIELDS, "study arm")
    _check_arm(arm)
    _save(arm, {"name": f"This study already has an arm “{arm.name}”."})
    return arm


@transaction.atomic
def arm_update(*, user: AnyUser, review_id: int, study_id: int | str, arm_id: int | str, **fields: Any) -> Arm:
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    study = _study(review, study_id, lock=True)
    arm = _arm(study, arm_id)
    _apply(arm, fields, ARM_FIELDS, "study arm")
    _check_arm(arm)
    _save(arm, {"name": f"This study already has an arm “{arm.name}”."})
    return arm


@transaction.atomic
def arm_delete(*, user: AnyUser, review_id: int, study_id: int | str, arm_id: int | str) -> None:
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    study = _study(review, study_id, lock=True)
    _arm(study, arm_id).delete()


# --- outcomes and comparisons -------------------------------------------------------------------------------


def _get(model: type[Any], review: Review, pk: int | str, what: str, lock: bool = True) -> Any:
    found = model.objects.filter(review=review)
    try:
        return (found.select_for_update() if lock else found).get(pk=int(pk))
    except (model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(f"No such {what} in this review.") from exc


def _next_position(review: Review, model: type[Any]) -> int:
    return (model.objects.filter(review=review).aggregate(m=Max("position"))["m"] or 0) + 1


def _clash(item: Outcome | Comparison) -> dict[str, str]:
    what = "outcome" if isinstance(item, Outcome) else "comparison"
    return {"name": f"This review already has the {what} “{item}”."}


def _delete_unless_used(item: Outcome | Comparison) -> None:
    if item.data.exists():
        raise ServiceConflict(f"“{item}” has data in studies; it cannot be deleted.")
    item.delete()


@transaction.atomic
def outcome_create(*, user: AnyUser, review_id: int, **fields: Any) -> Outcome:
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    outcome = Outcome(review=review, position=_next_position(review, Outcome))
    _apply(outcome, fields, OUTCOME_FIELDS, "outcome")
    _save(outcome, _clash(outcome))
    return outcome


@transaction.atomic
def outcome_update(
    *, user: AnyUser, review_id: int, outcome_id: int | str, version: int | None, **fields: Any
) -> Outcome:
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    outcome: Outcome = _get(Outcome, review, outcome_id, "outcome")
    _check_version("outcome", version, outcome.version)
    if "type" in fields and fields["type"] != outcome.type and outcome.data.exists():
        raise ServiceConflict(f"“{outcome}” already has data of type {outcome.type}; its type can no longer change.")
    _apply(outcome, fields, OUTCOME_FIELDS, "outcome")
    outcome.version += 1
    _save(outcome, _clash(outcome))
    return outcome


@transaction.atomic
def outcome_delete(*, user: AnyUser, review_id: int, outcome_id: int | str) -> None:
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    _delete_unless_used(_get(Outcome, review, outcome_id, "outcome"))


@transaction.atomic
def comparison_create(*, user: AnyUser, review_id: int, **fields: Any) -> Comparison:
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    comparison = Comparison(review=review, position=_next_position(review, Comparison))
    _apply(comparison, fields, COMPARISON_FIELDS, "comparison")
    _save(comparison, _clash(comparison))
    return comparison


@transaction.atomic
def comparison_update(
    *, user: AnyUser, review_id: int, comparison_id: int | str, version: int | None, **fields: Any
) -> Comparison:
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    comparison: Comparison = _get(Comparison, review, comparison_id, "comparison")
    _check_version("comparison", version, comparison.version)
    _apply(comparison, fields, COMPARISON_FIELDS, "comparison")
    comparison.version += 1
    _save(comparison, _clash(comparison))
    return comparison


@transaction.atomic
def comparison_delete(*, user: AnyUser, review_id: int, comparison_id: int | str) -> None:
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    _delete_unless_used(_get(Comparison, review, comparison_id, "comparison"))
