"""Extraction writes: a reviewer's extraction of a study (values, outcome data, completion), the worker's
comparison of the reviewers' extractions (discrepancies, and the consensus of what they agree on), and the
editor's resolutions.

Every save names the extraction `version` it read and locks the extraction's row; a stale version is refused
with what changed since (never overwritten). Consensus values written by an editor (`updated_by` set) are
the editor's word: the worker fills and updates only the consensus values it wrote itself."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from core.exceptions import ServiceConflict
from core.tasks import send_on_commit
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
    Outcome,
    OutcomeData,
    Study,
)
from extraction.services.forms import current_form
from extraction.services.studies import settings_for
from reviews import audit
from reviews.models import Membership, Review, role_at_least
from reviews.selectors import review_get_for_user

AnyUser = User | AnonymousUser
Role = Membership.Role
INTEGER_DATA = {"events_1", "total_1", "events_2", "total_2"}
DATA_LABELS = {
    "events_1": "events (intervention)", "total_1": "participants (intervention)",
    "events_2": "events (control)", "total_2": "participants (control)",
    "mean_1": "mean (intervention)", "sd_1": "SD (intervention)",
    "mean_2": "mean (control)", "sd_2": "SD (control)",
    "estimate": "effect estimate", "se": "standard error",
    "arm_1": "arm of group 1 (intervention)", "arm_2": "arm of group 2 (control)",
}  # fmt: skip
ARMS = ("arm_1", "arm_2")


def compare_later(study_id: int, form_id: int) -> None:
    from extraction.tasks import compare_task

    send_on_commit(compare_task, study_id, form_id, fallback="inline")


def _study(review: Review, study_id: int | str) -> Study:
    try:
        return Study.objects.get(review=review, pk=int(study_id))
    except (Study.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such study in this review.") from exc


def _extraction_for_write(user: AnyUser, review_id: int, extraction_id: int | str) -> tuple[Review, Extraction]:
    """The extraction, locked, if the user may write it: their own, or the consensus for an editor or owner."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.REVIEWER)
    try:
        extraction = (
            Extraction.objects.select_for_update()
            .select_related("form", "study")
            .get(review=review, pk=int(extraction_id))
        )
    except (Extraction.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such extraction in this review.") from exc
    mine = extraction.reviewer_id == user.pk
    if not mine and not (extraction.is_consensus and role_at_least(review.my_role, Role.EDITOR)):
        # Another reviewer's extraction is not there for this user (404 under blinding, as in screening).
        raise Http404("No such extraction in this review.")
    return review, extraction


def _check_version(extraction: Extraction, version: int | None) -> None:
    if version is None or int(version) == extraction.version:
        return
    changed = [
        f"{v.field.label}{f' ({v.arm.name})' if v.arm else ''}: {V.display(v.field.type, v.value) or 'emptied'}"
        for v in FieldValue.objects.filter(extraction=extraction, changed_in__gt=int(version))
        .select_related("field", "arm")
        .order_by("field__section__position", "field__position")
    ]
    changed += [
        f"{row.comparison.name} / {row.outcome}{f' [{row.subgroup}]' if row.subgroup else ''}"
        for row in OutcomeData.objects.filter(extraction=extraction, changed_in__gt=int(version)).select_related(
            "comparison", "outcome"
        )
    ]
    what = "; ".join(changed[:10]) + (f"; and {len(changed) - 10} more" if len(changed) > 10 else "")
    raise ServiceConflict(
        f"This extraction was saved elsewhere since you opened it (your version {version}, now "
        f"{extraction.version}). Changed since: {what or 'its status'}. Reload the page to see the current "
        "values; your change was not saved."
    )


def _bump(extraction: Extraction) -> int:
    extraction.version += 1
    extraction.save(update_fields=["version", "updated_at"])
    return extraction.version


# --- starting an extraction ---------------------------------------------------------------------------------


@transaction.atomic
def extraction_start(
    *, user: AnyUser, review_id: int, study_id: int | str, reviewer_id: int | None = None
) -> Extraction:
    """The reviewer's extraction of a study with the review's published form, made if needed. An editor or owner
    may assign another member (`reviewer_id`). A study takes `extractors_per_study` extractors; the user's
    extraction on an older form version is returned as it is (move it with `extraction_upgrade`)."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.REVIEWER)
    study = Study.objects.select_for_update().filter(review=review, pk=_study(review, study_id).pk).get()
    reviewer: User = cast(User, user)
    if reviewer_id is not None and int(reviewer_id) != user.pk:
        if not role_at_least(review.my_role, Role.EDITOR):
            raise ValidationError({"reviewer": "Only an editor or owner assigns extractions to other members."})
        try:
            reviewer = Membership.objects.select_related("user").get(review=review, user_id=int(reviewer_id)).user
        except (Membership.DoesNotExist, ValueError, TypeError) as exc:
            raise ValidationError({"reviewer": "Not a member of this review."}) from exc
    form = current_form(review)
    existing = (
        Extraction.objects.filter(study=study, reviewer=reviewer, form__name=form.name)
        .order_by("-form__number")
        .first()
    )
    if existing is not None:
        return existing
    extractors = set(
        Extraction.objects.filter(study=study, reviewer__isnull=False, form__name=form.name).values_list(
            "reviewer_id", flat=True
        )
    )
    needed = settings_for(review).extractors_per_study
    if len(extractors) >= needed:
        raise ServiceConflict(
            f"“{study.label}” already has its {needed} extractor{'s' if needed > 1 else ''}; an editor can settle "
            "its consensus instead."
        )
    return Extraction.objects.create(review=review, study=study, form=form, reviewer=reviewer)


def consensus_for(study: Study, form: ExtractionForm) -> Extraction:
    consensus, _ = Extraction.objects.get_or_create(
        study=study, form=form, reviewer=None, defaults={"review_id": study.review_id}
    )
    return consensus


@transaction.atomic
def consensus_start(*, user: AnyUser, review_id: int, study_id: int | str) -> Extraction:
    """The study's consensus extraction with the published form (editor or owner)."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    return consensus_for(_study(review, study_id), current_form(review))


@transaction.atomic
def extraction_upgrade(*, user: AnyUser, review_id: int, extraction_id: int | str) -> Extraction:
    """Move an extraction to the published form version: a new extraction with every value whose field (by key)
    and arm still exist, and the outcome data. The old one stays, readable with its old form."""
    review, old = _extraction_for_write(user, review_id, extraction_id)
    form = current_form(review)
    if old.form_id == form.pk:
        return old
    if form.name != old.form.name:
        raise ServiceConflict("The published form is another form, not a new version of this one.")
    new, created = Extraction.objects.get_or_create(
        study=old.study, form=form, reviewer=old.reviewer, defaults={"review": review}
    )
    if not created:
        return new
    by_key = {f.key: f for f in FormField.objects.filter(form=form)}
    carried = [
        FieldValue(
            extraction=new,
            field=by_key[v.field.key],
            arm=v.arm if by_key[v.field.key].per_arm else None,
            value=v.value,
            updated_by=v.updated_by,
        )  # fmt: skip
        for v in FieldValue.objects.filter(extraction=old).select_related("field", "arm")
        if v.field.key in by_key and bool(v.arm_id) == by_key[v.field.key].per_arm
    ]
    FieldValue.objects.bulk_create(carried)
    rows = list(OutcomeData.objects.filter(extraction=old))
    for row in rows:
        row.pk = None
        row.extraction = new
    OutcomeData.objects.bulk_create(rows)
    # bulk_create writes no history, so the audit trail is told of the carried values here.
    audit.record_bulk_created([*carried, *rows], user=user)
    return new


# --- values --------------------------------------------------------------------------------------------------


def _parse_value_key(key: str) -> tuple[str, int | None]:
    """`participants_randomised@12` is the field `participants_randomised` for arm 12."""
    field_key, _, arm = key.partition("@")
    try:
        return field_key, int(arm) if arm else None
    except ValueError as exc:
        raise ValidationError({key: "Not a field of this form."}) from exc


@transaction.atomic
def extraction_save(
    *, user: AnyUser, review_id: int, extraction_id: int | str, version: int | None, values: dict[str, Any]
) -> Extraction:
    """Save values (`{field key: input}`, `{field key@arm id: input}` for per-arm fields). All or nothing: a value
    that does not fit its field is refused with a message under its key. An empty input removes the value."""
    review, extraction = _extraction_for_write(user, review_id, extraction_id)
    _check_version(extraction, version)
    fields = {f.key: f for f in FormField.objects.filter(form=extraction.form)}
    arms = {a.pk: a for a in Arm.objects.filter(study=extraction.study)}
    cleaned: list[tuple[FormField, Arm | None, Any]] = []
    errors: dict[str, str] = {}
    for key, raw in values.items():
        field_key, arm_id = _parse_value_key(key)
        field = fields.get(field_key)
        if field is None:
            errors[key] = "Not a field of this form."
            continue
        if field.per_arm != (arm_id is not None) or (arm_id is not None and arm_id not in arms):
            errors[key] = "Give this field per arm of the study." if field.per_arm else "This field is not per arm."
            continue
        try:
            cleaned.append((field, arms.get(arm_id) if arm_id else None, V.clean(field.type, raw, field.choices)))
        except ValueError as exc:
            errors[key] = str(exc)
    if errors:
        raise ValidationError(errors)
    if not cleaned:
        return extraction
    new_version = _bump(extraction)
    existing = {
        (v.field_id, v.arm_id): v
        for v in FieldValue.objects.filter(
            extraction=extraction, field_id__in=[f.pk for f, _, _ in cleaned]
        ).select_for_update()
    }
    writer = cast(User, user)
    for field, arm, value in cleaned:
        current = existing.get((field.pk, arm.pk if arm else None))
        # An emptied value stays as a row holding None, so that "changed since" and the history show it.
        if current is None:
            if value is not None:
                created = FieldValue(
                    extraction=extraction, field=field, arm=arm, value=value, changed_in=new_version, updated_by=writer
                )
                created._history_user = writer  # type: ignore[attr-defined]
                created.save()
        elif current.value != value:
            current.value, current.changed_in, current.updated_by = value, new_version, writer
            current._history_user = writer  # type: ignore[attr-defined]
            current.save()
    _after_save(extraction)
    return extraction


def _after_save(extraction: Extraction) -> None:
    if not extraction.is_consensus and extraction.status == Extraction.Status.COMPLETE:
        compare_later(extraction.study_id, extraction.form_id)


def _number(name: str, raw: Any) -> Decimal | int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise ValueError("Enter a number.")
    if name in INTEGER_DATA:
        value = V.clean(V.INTEGER, raw)
        return cast(int, value)
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise ValueError(f"“{raw}” is not a number.") from exc
    if not number.is_finite() or abs(number) >= Decimal(10) ** 12:
        raise ValueError(f"“{raw}” is not a usable number.")
    return number.quantize(Decimal("1e-8")) if number.as_tuple().exponent < -8 else number  # type: ignore[operator]


def _row_errors(outcome: Outcome, numbers: dict[str, Any]) -> dict[str, str]:
    errors = V.check_data_row(outcome.type, numbers)
    others = sorted(name for name in ALL_DATA_FIELDS if numbers.get(name) is not None) if numbers else []
    allowed = set(DATA_FIELDS[outcome.type])
    for name in others:
        if name not in allowed:
            errors.setdefault(
                name,
                f"“{outcome}” is {outcome.get_type_display().lower()}: give {', '.join(DATA_FIELDS[outcome.type])}.",
            )
    return errors


@dataclass
class DataRow:
    comparison: Comparison
    outcome: Outcome
    subgroup: str
    numbers: dict[str, Any]
    arm_1: Arm | None
    arm_2: Arm | None
    note: str | None
    given: frozenset[str]  # the keys the row named: an arm given empty is cleared, one not named is kept


def _ref(row: dict[str, Any], name: str, pool: dict[int, Any], what: str, errors: dict[str, str]) -> Any:
    raw = row.get(name)
    try:
        return pool[int(raw)]  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError):
        errors[name] = f"No {what} {raw!r} in this {'study' if what == 'arm' else 'review'}."
        return None


def _clean_rows(review: Review, study: Study, rows: Iterable[dict[str, Any]]) -> list[DataRow]:
    comparisons = {c.pk: c for c in Comparison.objects.filter(review=review)}
    outcomes = {o.pk: o for o in Outcome.objects.filter(review=review)}
    arms = {a.pk: a for a in Arm.objects.filter(study=study)}
    cleaned: list[DataRow] = []
    errors: dict[str, str] = {}
    seen: set[tuple[int, int, str]] = set()
    for index, row in enumerate(rows):
        where = f"rows[{index}]"
        row_errors: dict[str, str] = {}

        comparison = _ref(row, "comparison", comparisons, "comparison", row_errors)
        outcome = _ref(row, "outcome", outcomes, "outcome", row_errors)
        arm_1 = _ref(row, "arm_1", arms, "arm", row_errors) if row.get("arm_1") not in (None, "") else None
        arm_2 = _ref(row, "arm_2", arms, "arm", row_errors) if row.get("arm_2") not in (None, "") else None
        numbers: dict[str, Any] = {}
        for name in ALL_DATA_FIELDS:
            if name in row:
                try:
                    numbers[name] = _number(name, row[name])
                except ValueError as exc:
                    row_errors[name] = str(exc)
        unknown = sorted(
            set(row) - set(ALL_DATA_FIELDS) - {"comparison", "outcome", "subgroup", "arm_1", "arm_2", "note", "id"}
        )
        for name in unknown:
            row_errors[name] = "Not a field of outcome data."
        subgroup = str(row.get("subgroup") or "").strip()[:100]
        if outcome is not None:
            for name, message in _row_errors(outcome, numbers).items():
                row_errors.setdefault(name, message)
        if comparison is not None and outcome is not None:
            spot = (comparison.pk, outcome.pk, subgroup)
            if spot in seen:
                row_errors["subgroup"] = "This comparison and outcome are given twice; tell the rows apart by subgroup."
            seen.add(spot)
        if row_errors:
            errors |= {f"{where}.{name}": message for name, message in row_errors.items()}
            continue
        note = row.get("note")
        cleaned.append(
            DataRow(
                comparison, outcome, subgroup, numbers, arm_1, arm_2, None if note is None else str(note),
                frozenset(row),
            )
        )  # fmt: skip
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def outcome_data_save(
    *, user: AnyUser, review_id: int, extraction_id: int | str, version: int | None, rows: list[dict[str, Any]],
    replace: bool = False,
) -> Extraction:  # fmt: skip
    """Save outcome-data rows (`{comparison, outcome, subgroup?, events_1, …}`); numbers not named keep their
    value. `replace`: rows not given are removed (PUT). All or nothing, with messages per row and field."""
    review, extraction = _extraction_for_write(user, review_id, extraction_id)
    _check_version(extraction, version)
    cleaned = _clean_rows(review, extraction.study, rows)
    existing = {
        (r.comparison_id, r.outcome_id, r.subgroup): r
        for r in OutcomeData.objects.select_for_update().filter(extraction=extraction)
    }
    new_version = _bump(extraction)
    writer = cast(User, user)
    kept: set[int] = set()
    for index, data in enumerate(cleaned):
        current = existing.get((data.comparison.pk, data.outcome.pk, data.subgroup))
        if current is None:
            current = OutcomeData(
                extraction=extraction, comparison=data.comparison, outcome=data.outcome, subgroup=data.subgroup
            )
        before = _row_state(current)
        for name, number in data.numbers.items():
            setattr(current, name, number)
        if replace:
            for name in ALL_DATA_FIELDS:
                if name not in data.numbers:
                    setattr(current, name, None)
        for name in ("arm_1", "arm_2"):
            if name in data.given or replace:
                setattr(current, name, getattr(data, name))
        if data.note is not None:
            current.note = data.note
        merged = {name: getattr(current, name) for name in ALL_DATA_FIELDS}
        errors = V.check_data_row(data.outcome.type, merged)
        if errors:  # with the numbers it keeps, the row would not hold
            raise ValidationError({f"rows[{index}].{name}": message for name, message in errors.items()})
        if current.pk is None or _row_state(current) != before:
            current.changed_in, current.updated_by = new_version, writer
            current._history_user = writer  # type: ignore[attr-defined]
            current.save()
        kept.add(current.pk)
    if replace:
        for row in existing.values():
            if row.pk not in kept:
                row._history_user = writer  # type: ignore[attr-defined]
                row.delete()
    _after_save(extraction)
    return extraction


def _row_state(row: OutcomeData) -> tuple:
    return (*(getattr(row, name) for name in ALL_DATA_FIELDS), row.arm_1_id, row.arm_2_id, row.note)


@transaction.atomic
def extraction_set_status(
    *, user: AnyUser, review_id: int, extraction_id: int | str, version: int | None, status: str
) -> Extraction:
    """Mark an extraction complete (every required field filled, per arm for per-arm fields) or reopen it."""
    review, extraction = _extraction_for_write(user, review_id, extraction_id)
    _check_version(extraction, version)
    if status not in Extraction.Status.values:
        raise ValidationError({"status": f"Choose one of {', '.join(Extraction.Status.values)}."})
    if status == Extraction.Status.COMPLETE:
        missing = missing_required(extraction)
        if missing:
            raise ValidationError({"status": f"Fill the required fields first: {'; '.join(missing)}."})
    extraction.status = status
    extraction.version += 1
    extraction.save(update_fields=["status", "version", "updated_at"])
    if not extraction.is_consensus:
        compare_later(extraction.study_id, extraction.form_id)
    return extraction


def missing_required(extraction: Extraction) -> list[str]:
    arms = list(Arm.objects.filter(study_id=extraction.study_id))
    filled = set(
        FieldValue.objects.filter(extraction=extraction, value__isnull=False).values_list("field_id", "arm_id")
    )
    missing = []
    for field in FormField.objects.filter(form_id=extraction.form_id, required=True).order_by(
        "section__position", "position"
    ):
        if field.per_arm:
            if not arms:
                missing.append(f"{field.label} (the study has no arms yet)")
            missing += [f"{field.label} ({arm.name})" for arm in arms if (field.pk, arm.pk) not in filled]
        elif (field.pk, None) not in filled:
            missing.append(field.label)
    return missing


# --- comparing extractions (the worker) -------------------------------------------------------------------------


@dataclass
class Spot:
    """One place the extractions of a study are compared at, with each extraction's value there."""

    key: str
    label: str
    type: str
    values: dict[int, Any]  # extraction id -> stored value
    field: FormField | None = None
    arm: Arm | None = None
    data: tuple[int, int, str, str] | None = None  # comparison, outcome, subgroup, number name


def spots(extractions: list[Extraction], form: ExtractionForm, arms: dict[int, Arm]) -> dict[str, Spot]:
    """Every field (and arm) and outcome-data number where any of these extractions has a value."""
    fields = {f.pk: f for f in FormField.objects.filter(form=form).select_related("section")}
    found: dict[str, Spot] = {}
    ids = [e.pk for e in extractions]
    for v in FieldValue.objects.filter(extraction_id__in=ids):
        field = fields.get(v.field_id)
        if field is None or v.value is None:
            continue
        arm = arms.get(v.arm_id) if v.arm_id else None
        key = f"field:{field.key}" + (f":{arm.pk}" if arm else "")
        spot = found.get(key) or Spot(
            key,
            f"{field.section.title} › {field.label}" + (f" ({arm.name})" if arm else ""),
            field.type,
            {},
            field,
            arm,
        )
        spot.values[v.extraction_id] = v.value
        found[key] = spot
    for row in OutcomeData.objects.filter(extraction_id__in=ids).select_related("comparison", "outcome"):
        label = f"{row.comparison.name} › {row.outcome}" + (f" [{row.subgroup}]" if row.subgroup else "")
        given: list[tuple[str, Any, str]] = [
            (name, getattr(row, name), V.INTEGER if name in INTEGER_DATA else V.DECIMAL)
            for name in DATA_FIELDS[row.outcome.type]
        ]
        # The arms a row compares are compared too, by name (both extractors see the study's arms).
        given += [(name, arms[getattr(row, f"{name}_id")].name, V.TEXT) for name in ARMS if getattr(row, f"{name}_id")]
        for name, value, kind in given:
            if value is None:
                continue
            key = f"data:{row.comparison_id}:{row.outcome_id}:{row.subgroup}:{name}"
            spot = found.get(key) or Spot(
                key,
                f"{label}: {DATA_LABELS[name]}",
                kind,
                {},
                data=(row.comparison_id, row.outcome_id, row.subgroup, name),
            )
            spot.values[row.extraction_id] = str(value) if isinstance(value, Decimal) else value
            found[key] = spot
    return found


def compare(*, study_id: int, form_id: int) -> dict[str, int]:
    """Compare the complete reviewer extractions of a study with a form, once it has as many as the review needs:
    flag each spot where they differ (a discrepancy, reopened if the values changed since it was resolved), drop
    open ones that now agree, and put every agreed value into the consensus (where the editor has not written).
    Idempotent: the worker may run it any number of times."""
    with transaction.atomic():
        try:
            study = Study.objects.select_for_update().select_related("review").get(pk=study_id)
            form = ExtractionForm.objects.get(pk=form_id, review_id=study.review_id)
        except (Study.DoesNotExist, ExtractionForm.DoesNotExist):
            return {"gone": 1}
        needed = settings_for(study.review).extractors_per_study
        extractions = list(
            Extraction.objects.filter(
                study=study, form=form, reviewer__isnull=False, status=Extraction.Status.COMPLETE
            ).select_related("reviewer")
        )
        if len(extractions) < needed:
            return {"waiting": needed - len(extractions)}
        arms = {a.pk: a for a in Arm.objects.filter(study=study)}
        found = spots(extractions, form, arms)
        names = {e.pk: cast(User, e.reviewer).username for e in extractions}
        consensus = consensus_for(study, form)
        open_before = {d.key: d for d in Discrepancy.objects.filter(study=study, form=form)}
        agreed: dict[str, Spot] = {}
        flagged = 0
        for key, spot in found.items():
            row = [spot.values.get(e.pk) for e in extractions]
            if V.same(spot.type, row):
                agreed[key] = spot
                continue
            flagged += 1
            by_name = {names[e.pk]: spot.values.get(e.pk) for e in extractions}
            current = open_before.get(key)
            if current is None:
                Discrepancy.objects.create(
                    review=study.review, study=study, form=form, key=key, label=spot.label[:500], values=by_name
                )
            elif current.values != by_name:
                current.values, current.label = by_name, spot.label[:500]
                current.status, current.resolution, current.resolved_by, current.resolved_at = "open", None, None, None
                current.save()
        stale = [d.pk for key, d in open_before.items() if key not in found or key in agreed]
        Discrepancy.objects.filter(pk__in=stale, status=Discrepancy.Status.OPEN).delete()
        _write_agreed(consensus, agreed, extractions)
        return {"flagged": flagged, "agreed": len(agreed)}


def _write_agreed(consensus: Extraction, agreed: dict[str, Spot], extractions: list[Extraction]) -> None:
    """Agreed values into the consensus; worker-written values no longer agreed upon are removed (an open
    discrepancy has no consensus value until the editor gives one)."""
    first = extractions[0].pk
    changed = False
    worker_values = {
        (v.field.key, v.arm_id): v for v in FieldValue.objects.filter(extraction=consensus).select_related("field")
    }
    editor_rows = {
        (r.comparison_id, r.outcome_id, r.subgroup): r for r in OutcomeData.objects.filter(extraction=consensus)
    }
    wanted_fields: set[tuple[str, int | None]] = set()
    arm_ids = {name: pk for pk, name in Arm.objects.filter(study_id=consensus.study_id).values_list("pk", "name")}
    version = consensus.version + 1
    for spot in agreed.values():
        value = spot.values.get(first)
        if spot.field is not None:
            spot_key = (spot.field.key, spot.arm.pk if spot.arm else None)
            wanted_fields.add(spot_key)
            current = worker_values.get(spot_key)
            if current is None:
                consensus_field = FormField.objects.get(form_id=consensus.form_id, key=spot.field.key)
                FieldValue.objects.create(
                    extraction=consensus, field=consensus_field, arm=spot.arm, value=value, changed_in=version
                )
                changed = True
            elif current.updated_by_id is None and current.value != value:
                current.value, current.changed_in = value, version
                current.save()
                changed = True
        elif spot.data is not None:
            comparison_id, outcome_id, subgroup, name = spot.data
            row = editor_rows.get((comparison_id, outcome_id, subgroup))
            if row is None:
                row = OutcomeData(
                    extraction=consensus, comparison_id=comparison_id, outcome_id=outcome_id, subgroup=subgroup
                )
                editor_rows[(comparison_id, outcome_id, subgroup)] = row
            if name in ARMS:
                attribute, wanted = f"{name}_id", arm_ids.get(str(value))
            else:
                attribute, wanted = name, _as_number(name, value)
            if row.updated_by_id is None or getattr(row, attribute) is None:
                if getattr(row, attribute) != wanted:
                    setattr(row, attribute, wanted)
                    row.changed_in = version
                    row._dirty = True  # type: ignore[attr-defined]
    for key, current in worker_values.items():
        if current.updated_by_id is None and key not in wanted_fields:
            current.delete()
            changed = True
    for row in editor_rows.values():
        if getattr(row, "_dirty", False):
            merged = {name: getattr(row, name) for name in ALL_DATA_FIELDS}
            if not V.check_data_row(row.outcome.type if row.outcome_id else "", merged):
                row.save()
                changed = True
    if changed:
        consensus.version = version
        consensus.save(update_fields=["version", "updated_at"])


def _as_number(name: str, value: Any) -> Any:
    if value is None:
        return None
    return int(value) if name in INTEGER_DATA else Decimal(str(value))


# --- resolving discrepancies (editor) -------------------------------------------------------------------------


@transaction.atomic
def discrepancy_resolve(
    *, user: AnyUser, review_id: int, discrepancy_id: int | str, take: str | None = None, value: Any = None
) -> Discrepancy:
    """Settle a discrepancy with one reviewer's value (`take`: their username) or a new `value`; the consensus
    gets it. An already resolved discrepancy may be resolved again (the history keeps both)."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    try:
        discrepancy = (
            Discrepancy.objects.select_for_update()
            .select_related("study", "form")
            .get(review=review, pk=int(discrepancy_id))
        )
    except (Discrepancy.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such discrepancy in this review.") from exc
    if take:
        if take not in discrepancy.values:
            raise ValidationError({"take": f"Take the value of one of {', '.join(sorted(discrepancy.values))}."})
        chosen = discrepancy.values[take]
    else:
        chosen = value
    consensus = Extraction.objects.select_for_update().get(pk=consensus_for(discrepancy.study, discrepancy.form).pk)
    kind, _, rest = discrepancy.key.partition(":")
    if kind == "field":
        field_key, _, arm = rest.partition(":")
        suffix = f"@{arm}" if arm else ""
        extraction_save(
            user=user, review_id=review.pk, extraction_id=consensus.pk, version=None,
            values={f"{field_key}{suffix}": chosen},
        )  # fmt: skip
        stored = (
            FieldValue.objects.filter(extraction=consensus, field__key=field_key, arm_id__isnull=not arm)
            .filter(**({"arm_id": int(arm)} if arm else {}))
            .first()
        )
        resolution = stored.value if stored else None
    else:
        comparison_id, outcome_id, tail = rest.split(":", 2)
        subgroup, name = tail.rsplit(":", 1)  # a subgroup may hold a colon; the number's name does not
        if name in ARMS and chosen not in (None, ""):
            arms = dict(Arm.objects.filter(study=discrepancy.study).values_list("name", "pk"))
            if chosen not in arms:
                raise ValidationError({"value": f"No arm “{chosen}” in this study: choose one of {'; '.join(arms)}."})
            chosen_id: Any = arms[chosen]
        else:
            chosen_id = chosen
        try:
            outcome_data_save(
                user=user, review_id=review.pk, extraction_id=consensus.pk, version=None,
                rows=[{"comparison": comparison_id, "outcome": outcome_id, "subgroup": subgroup, name: chosen_id}],
            )  # fmt: skip
        except ValidationError as exc:
            raise ValidationError({"value": _flat_messages(exc)}) from exc
        resolution = chosen
    discrepancy.status = Discrepancy.Status.RESOLVED
    discrepancy.resolution = resolution
    discrepancy.resolved_by = cast(User, user)
    discrepancy.resolved_at = timezone.now()
    discrepancy.save()
    return discrepancy


def _flat_messages(exc: ValidationError) -> str:
    messages: list[str] = []

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            for sub in item.values():
                walk(sub)
        elif isinstance(item, list):
            for sub in item:
                walk(sub)
        else:
            messages.append(str(item))

    walk(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    return " ".join(messages)


def open_discrepancy_count(review: Review, study: Study | None = None) -> int:
    found = Discrepancy.objects.filter(review=review, status=Discrepancy.Status.OPEN)
    return (found.filter(study=study) if study else found).count()
