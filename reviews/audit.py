"""The audit trail (`reviews.models.AuditEvent`): every change to a decision, a resolution, an extraction value, a
risk-of-bias judgement, a certainty rating, a membership and a review's settings, with who, when, the old and the
new value.

Written from django-simple-history's `post_create_historical_record` signal, so every path that saves one of the
tracked models (services, the worker, the admin) is covered without the services knowing: one event per changed
field, diffed against the object's previous historical record (`diff_against`); fields that are bookkeeping
(timestamps, version counters, stored hashes) are not tracked. `bulk_create`/`bulk_update` write no history, so
they write no trail either: a service that bulk-writes a tracked model calls `record_bulk_created`.

What is tracked, how each kind of object finds its review and the name people know it by, lives in `TRACKED`."""

import contextlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import QuerySet
from django.db.models.signals import post_delete, pre_delete
from django.utils import timezone

from reviews.models import AuditEvent, Membership, Record, Review

Subject = AuditEvent.Subject
Action = AuditEvent.Action
LABEL_MAX = 500


@dataclass(frozen=True)
class Tracked:
    """How one model enters the trail: its kind (`subject`), the fields whose changes count, where its review and
    its label come from (`locate`: instance -> (review id, label), may query), whether its creation with nothing
    but default values counts (settings made on first use do not), and `only_when` (a resolution counts once
    resolved). A creation is recorded as the fields that differ from their defaults."""

    subject: str
    fields: tuple[str, ...]
    locate: Callable[[Any], tuple[int | None, str]]
    creation_counts: bool = True
    only_when: Callable[[dict[str, Any]], bool] | None = None
    # Who, when no user is known (a service called outside a request or a task that names no user): the row's
    # own record of its author (`reviewer`, `updated_by`, `resolved_by`), if it has one.
    actor_field: str = ""
    # Shown on creation even when at their default (a member's role, a rating's level).
    shown_on_create: tuple[str, ...] = ()


_state = threading.local()


def _marks(name: str) -> set[int | None]:
    found: set[int | None] | None = getattr(_state, name, None)
    if found is None:
        found = set()
        setattr(_state, name, found)
    return found


def _suspended() -> set[int | None]:
    return _marks("suspended")


def _deleting() -> set[int | None]:
    """Reviews being deleted (between their pre_delete and post_delete)."""
    return _marks("deleting")


@contextlib.contextmanager
def suspended(review_id: int | None = None) -> Iterator[None]:
    """No events are written inside (for `review_id`, or for every review when None). For writes that copy a
    trail rather than make changes: the JSON import recreates its source's trail (exports/review_load.py)."""
    marks = _suspended()
    added = review_id not in marks
    marks.add(review_id)
    try:
        yield
    finally:
        if added:
            marks.discard(review_id)


# --- where each kind of object belongs and what it is called ---------------------------------------------------


def _cached(instance: models.Model, name: str) -> Any | None:
    """A related object already loaded on the instance (no query), or None."""
    field = instance._meta.get_field(name)
    return field.get_cached_value(instance, None)  # type: ignore[union-attr]


def _record_title(record_id: int) -> str:
    return Record.objects.filter(pk=record_id).values_list("title", flat=True).first() or f"Record {record_id}"


def _username(user_id: int | None) -> str:
    if user_id is None:
        return ""
    return get_user_model()._default_manager.filter(pk=user_id).values_list("username", flat=True).first() or ""


def _stage_label(stage: str) -> str:
    from screening.models import Stage

    return str(Stage(stage).label) if stage in Stage.values else stage


def _decision(obj: Any) -> tuple[int | None, str]:
    record = _cached(obj, "record")
    title = record.title if record is not None else _record_title(obj.record_id)
    return obj.review_id, f"{title[:200]} ({_stage_label(obj.stage)}, {_username(obj.reviewer_id)})"


def _screening_outcome(obj: Any) -> tuple[int | None, str]:
    record = _cached(obj, "record")
    title = record.title if record is not None else _record_title(obj.record_id)
    return obj.review_id, f"{title[:200]} ({_stage_label(obj.stage)})"


def _whose(username: str | None, kind: str) -> str:
    return f"{username}'s {kind}" if username else "consensus"


def _extraction(extraction_id: int) -> tuple[int | None, str]:
    from extraction.models import Extraction

    found = (
        Extraction.objects.filter(pk=extraction_id)
        .values_list("review_id", "study__label", "reviewer__username")
        .first()
    )
    if found is None:
        return None, ""
    review_id, study, reviewer = found
    return review_id, f"{study} — {_whose(reviewer, 'extraction')}"


def _field_value(obj: Any) -> tuple[int | None, str]:
    from extraction.models import Arm, FormField

    review_id, where = _extraction(obj.extraction_id)
    field = _cached(obj, "field")
    label = (
        field.label
        if field is not None
        else FormField.objects.filter(pk=obj.field_id).values_list("label", flat=True).first()
    )
    if obj.arm_id:
        arm = Arm.objects.filter(pk=obj.arm_id).values_list("name", flat=True).first()
        label = f"{label} ({arm})"
    return review_id, f"{where}: {label}"


def _outcome_data(obj: Any) -> tuple[int | None, str]:
    from extraction.models import Comparison, Outcome

    review_id, where = _extraction(obj.extraction_id)
    comparison = Comparison.objects.filter(pk=obj.comparison_id).values_list("name", flat=True).first()
    outcome = Outcome.objects.filter(pk=obj.outcome_id).values_list("name", flat=True).first()
    subgroup = f" [{obj.subgroup}]" if obj.subgroup else ""
    return review_id, f"{where}: {comparison} › {outcome}{subgroup}"


def _study_label(study_id: int) -> str:
    from extraction.models import Study

    return Study.objects.filter(pk=study_id).values_list("label", flat=True).first() or f"Study {study_id}"


def _outcome_name(outcome_id: int | None) -> str:
    from extraction.models import Outcome

    if outcome_id is None:
        return ""
    return Outcome.objects.filter(pk=outcome_id).values_list("name", flat=True).first() or ""


def _extraction_discrepancy(obj: Any) -> tuple[int | None, str]:
    return obj.review_id, f"{_study_label(obj.study_id)}: {obj.label} (extraction)"


def _rob_discrepancy(obj: Any) -> tuple[int | None, str]:
    outcome = _outcome_name(obj.outcome_id)
    return (
        obj.review_id,
        f"{_study_label(obj.study_id)}{f' / {outcome}' if outcome else ''}: {obj.domain} (risk of bias)",
    )


def _assessment(assessment_id: int) -> tuple[int | None, str]:
    from grading.models import RobAssessment

    found = (
        RobAssessment.objects.filter(pk=assessment_id)
        .values_list("review_id", "study__label", "outcome__name", "assessor__username")
        .first()
    )
    if found is None:
        return None, ""
    review_id, study, outcome, assessor = found
    return review_id, f"{study}{f' / {outcome}' if outcome else ''} — {_whose(assessor, 'assessment')}"


def _rob_judgement(obj: Any) -> tuple[int | None, str]:
    review_id, where = _assessment(obj.assessment_id)
    return review_id, f"{where}: {obj.domain}"


def _rob_assessment(obj: Any) -> tuple[int | None, str]:
    review_id, where = _assessment(obj.pk)
    if review_id is None:  # deleted: what the instance still holds
        outcome = _outcome_name(obj.outcome_id)
        who = _whose(_username(obj.assessor_id), "assessment")
        return obj.review_id, f"{_study_label(obj.study_id)}{f' / {outcome}' if outcome else ''} — {who}: overall"
    return review_id, f"{where}: overall"


def _comparison_outcome(obj: Any) -> tuple[int | None, str]:
    from extraction.models import Comparison

    comparison = Comparison.objects.filter(pk=obj.comparison_id).values_list("name", flat=True).first()
    return obj.review_id, f"{comparison} › {_outcome_name(obj.outcome_id)}"


def _membership(obj: Any) -> tuple[int | None, str]:
    user = _cached(obj, "user")
    return obj.review_id, user.get_username() if user is not None else _username(obj.user_id)


def _settings(name: str) -> Callable[[Any], tuple[int | None, str]]:
    return lambda obj: (obj.review_id, name)


def _review(obj: Any) -> tuple[int | None, str]:
    return obj.pk, obj.title[:200]


def _resolved(values: dict[str, Any]) -> bool:
    return values.get("status") == "resolved"


REVIEW_FIELDS = (
    "title", "objectives", "population", "intervention", "comparator", "outcomes", "eligibility_criteria",
)  # fmt: skip


def _tracked() -> dict[type[models.Model], Tracked]:
    from extraction import models as X
    from grading import models as G
    from screening import models as S
    from synthesis.models import Analysis

    return {
        S.Decision: Tracked(Subject.DECISION, ("decision", "reason", "note"), _decision, actor_field="reviewer"),
        # The editor's resolution of a conflict; outcomes settled by agreement follow from the decisions.
        S.Outcome: Tracked(
            Subject.RESOLUTION,
            ("status", "decision", "reason"),
            _screening_outcome,
            only_when=_resolved,
            actor_field="resolved_by",
        ),
        X.Discrepancy: Tracked(
            Subject.RESOLUTION,
            ("status", "resolution"),
            _extraction_discrepancy,
            only_when=_resolved,
            actor_field="resolved_by",
        ),
        G.RobDiscrepancy: Tracked(
            Subject.RESOLUTION,
            ("status", "resolution", "note"),
            _rob_discrepancy,
            only_when=_resolved,
            actor_field="resolved_by",
        ),
        X.FieldValue: Tracked(Subject.EXTRACTION_VALUE, ("value",), _field_value, actor_field="updated_by"),
        X.OutcomeData: Tracked(
            Subject.EXTRACTION_VALUE, ("subgroup", *X.ALL_DATA_FIELDS, "note"), _outcome_data, actor_field="updated_by"
        ),
        G.RobJudgement: Tracked(
            Subject.ROB_JUDGEMENT,
            ("judgement", "override_reason", "support", "answers"),
            _rob_judgement,
            actor_field="updated_by",
            shown_on_create=("judgement",),
        ),
        G.RobAssessment: Tracked(
            Subject.ROB_JUDGEMENT,
            ("overall", "overall_override_reason", "status"),
            _rob_assessment,
            actor_field="overall_by",
        ),
        G.CertaintyRating: Tracked(
            Subject.CERTAINTY,
            (
                "start",
                *G.CERTAINTY_DOMAINS,
                "explanations",
                "importance",
                "imprecision_threshold",
                "assumed_risk",
                "comments",
                "level",
                "status",
            ),
            _comparison_outcome,
            actor_field="updated_by",
            shown_on_create=("level",),
        ),  # fmt: skip
        Membership: Tracked(Subject.MEMBERSHIP, ("role",), _membership, shown_on_create=("role",)),
        Review: Tracked(Subject.SETTING, REVIEW_FIELDS, _review),
        S.ScreeningSettings: Tracked(
            Subject.SETTING,
            ("reviewers_needed", "blinded", "include_terms", "exclude_terms", "exclusion_reasons", "priority"),
            _settings("Screening settings"),
            creation_counts=False,
        ),
        X.ExtractionSettings: Tracked(
            Subject.SETTING,
            ("extractors_per_study", "blinded"),
            _settings("Extraction settings"),
            creation_counts=False,
        ),
        G.RobSettings: Tracked(
            Subject.SETTING,
            ("tool", "assessors_per_study", "blinded"),
            _settings("Risk-of-bias settings"),
            creation_counts=False,
        ),
        Analysis: Tracked(
            Subject.ANALYSIS_SETTING,
            ("effect_measure", "model", "method", "hksj", "giv_ratio", "pooled", "not_pooled_reason"),
            _comparison_outcome,
            creation_counts=False,
            actor_field="updated_by",
        ),
    }


TRACKED: dict[type[models.Model], Tracked] = {}


# --- values as text ----------------------------------------------------------------------------------------------


def as_text(value: Any) -> str:
    """A column's value as the trail shows it: empty for nothing, yes/no, exact decimals, JSON for lists/dicts."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value.normalize())
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def _default(model: type[models.Model], name: str) -> Any:
    field = model._meta.get_field(name)
    return field.get_default() if field.has_default() else None  # type: ignore[union-attr]


# --- writing --------------------------------------------------------------------------------------------------


def _previous(history_instance: Any) -> Any | None:
    """The object's historical record before this one (by history id: times can tie)."""
    return (
        type(history_instance)
        ._default_manager.filter(id=history_instance.id, history_id__lt=history_instance.history_id)
        .order_by("-history_id")
        .first()
    )


def events_for(
    *,
    spec: Tracked,
    model: type[models.Model],
    instance: Any,
    history_type: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
) -> list[tuple[str, str, str, str]]:
    """(action, field, old text, new text) for one historical record; old/new: the tracked fields' values."""
    action: str
    if history_type == "+":
        action = Action.CREATED
        before = {name: _default(model, name) for name in spec.fields}
        after = new or {}
    elif history_type == "-":
        action, before, after = Action.DELETED, old or new or {}, {}
    else:
        action, before, after = Action.CHANGED, old or {}, new or {}
    if spec.only_when is not None and not (spec.only_when(before) or spec.only_when(after)):
        return []
    found: list[tuple[str, str, str, str]] = []
    for name in spec.fields:
        was, now = as_text(before.get(name)), as_text(after.get(name))
        if was != now or (action == Action.CREATED and name in spec.shown_on_create):
            found.append((action, name, "" if action == Action.CREATED else was, now))
    if not found and action == Action.CREATED and spec.creation_counts:
        found.append((action, "", "", ""))
    return found


def _row_author(spec: Tracked, instance: Any) -> Any | None:
    if not spec.actor_field or getattr(instance, f"{spec.actor_field}_id", None) is None:
        return None
    return getattr(instance, spec.actor_field)


def _write(
    *,
    model: type[models.Model],
    spec: Tracked,
    instance: Any,
    history_instance: Any,
    history_user: Any,
) -> None:
    history_type = history_instance.history_type
    new = {name: getattr(history_instance, name) for name in spec.fields}
    if history_type == "~":
        previous = _previous(history_instance)
        if previous is None:
            old = None
        else:
            delta = history_instance.diff_against(previous, included_fields=spec.fields)
            if not delta.changes:
                return  # only bookkeeping changed (a timestamp, a version)
            old = {name: getattr(previous, name) for name in spec.fields}
    else:
        old = new if history_type == "-" else None
    changes: list[tuple[str, str, str, str]]
    if model is Review and history_type in "+-":
        # A review's creation or deletion is one event, not one per field.
        title = as_text(instance.title)
        changes = [(Action.CREATED, "", "", title)] if history_type == "+" else [(Action.DELETED, "", title, "")]
        subject: str = Subject.REVIEW
    else:
        changes = events_for(spec=spec, model=model, instance=instance, history_type=history_type, old=old, new=new)
        subject = spec.subject
    if not changes:
        return
    review_id, label = spec.locate(instance)
    if review_id is None or (model is not Review and review_id in _deleting()):
        return
    actor = history_user if getattr(history_user, "pk", None) else _row_author(spec, instance)
    AuditEvent.objects.bulk_create(
        _events(review_id, label, instance, subject, changes, at=history_instance.history_date, actor=actor)
    )


def _events(
    review_id: int,
    label: str,
    instance: models.Model,
    subject: str,
    changes: list[tuple[str, str, str, str]],
    *,
    at: Any,
    actor: Any | None,
) -> list[AuditEvent]:
    """The rows of one object's changes (action, field, old, new), as the history signal and bulk writes record them."""
    return [
        AuditEvent(
            review_id=review_id,
            at=at,
            actor=actor,
            actor_name=actor.get_username() if actor is not None else "",
            action=action,
            subject=subject,
            object_type=instance._meta.label_lower,
            object_id=instance.pk,
            label=label[:LABEL_MAX],
            field=field,
            old_value=was,
            new_value=now,
        )
        for action, field, was, now in changes
    ]


def on_historical_record(sender: Any, instance: Any, history_instance: Any, history_user: Any = None, **_: Any) -> None:
    """post_create_historical_record: the trail's events for a tracked model's new historical record."""
    model = type(instance)
    spec = TRACKED.get(model)
    if spec is None:
        return
    marks = _suspended()
    if marks and (None in marks or getattr(instance, "review_id", instance.pk) in marks):
        return
    deleting = _deleting()
    if deleting and model is not Review and getattr(instance, "review_id", None) in deleting:
        return  # part of a review's deletion: no query for its label
    _write(model=model, spec=spec, instance=instance, history_instance=history_instance, history_user=history_user)


def on_review_pre_delete(sender: Any, instance: Review, **_: Any) -> None:
    """Deleting a review deletes all it holds: one `review deleted` event (from the review's own historical
    record), not one per decision and value of the cascade. Django sends pre_delete for every object of the
    cascade before it deletes any of them, so the mark is set before the first child's historical record."""
    _deleting().add(instance.pk)


def on_review_post_delete(sender: Any, instance: Review, **_: Any) -> None:
    _deleting().discard(instance.pk)


def record_bulk_created(objects: Iterable[models.Model], *, user: Any = None) -> None:
    """Events for objects a service created with bulk_create (which writes no history): as their creation, in one
    insert."""
    at = timezone.now()
    rows: list[AuditEvent] = []
    for obj in objects:
        spec = TRACKED.get(type(obj))
        if spec is None:
            continue
        new = {name: getattr(obj, name) for name in spec.fields}
        changes = events_for(spec=spec, model=type(obj), instance=obj, history_type="+", old=None, new=new)
        if not changes:
            continue
        review_id, label = spec.locate(obj)
        if review_id is not None:
            rows += _events(review_id, label, obj, spec.subject, changes, at=at, actor=user or None)
    AuditEvent.objects.bulk_create(rows)


def connect() -> None:
    """Wire the trail to the history (reviews.apps.ReviewsConfig.ready)."""
    from simple_history.signals import post_create_historical_record

    TRACKED.update(_tracked())
    post_create_historical_record.connect(on_historical_record, dispatch_uid="reviews.audit")
    pre_delete.connect(on_review_pre_delete, sender=Review, dispatch_uid="reviews.audit.pre_delete")
    post_delete.connect(on_review_post_delete, sender=Review, dispatch_uid="reviews.audit.post_delete")


# --- reading ----------------------------------------------------------------------------------------------------

SYSTEM = "system"


def event_list(*, review: Review, who: str = "", subject: str = "") -> QuerySet[AuditEvent]:
    """The review's trail, newest first, optionally one actor's (`who`: a username, or "system") or one kind's.
    Caller: an owner (the views check it; the trail shows every reviewer's decisions, so never a blinded one)."""
    events = AuditEvent.objects.filter(review=review)
    if who:
        events = events.filter(actor_name="" if who == SYSTEM else who)
    if subject:
        events = events.filter(subject=subject)
    return events.order_by("-at", "-id")


def actor_names(*, review: Review) -> list[str]:
    """Everyone who appears in the review's trail (members past and present), "system" for the worker."""
    # order_by(): without it the model's ordering joins the DISTINCT and every event comes back.
    names = AuditEvent.objects.filter(review=review).order_by().values_list("actor_name", flat=True).distinct()
    return sorted({name or SYSTEM for name in names}, key=lambda n: (n == SYSTEM, n.lower()))
