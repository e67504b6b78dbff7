"""Screening writes: decisions, their outcome per record and stage, the editor's resolutions, settings.

Every write on a record's screening locks that record's row first (FOR NO KEY UPDATE), so that decisions,
the outcome evaluation and a resolution on one record happen one after the other: one decision per
reviewer (also a database constraint), a conflict flagged once, and a settled outcome never changed by a
late decision."""

from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from core.exceptions import ServiceConflict
from core.tasks import send_on_commit
from core.uploads import pdf_problem, upload_name
from reviews.models import Import, Membership, Record, Review
from reviews.selectors import review_get_for_user
from screening import priority_service
from screening.models import (
    AgreementSummary,
    Choice,
    Decision,
    FullText,
    Outcome,
    PriorityModel,
    ScreeningSettings,
    Stage,
)

AnyUser = User | AnonymousUser
Role = Membership.Role
SETTINGS_FIELDS = ("reviewers_needed", "blinded", "include_terms", "exclude_terms", "exclusion_reasons", "priority")


def settings_for(review: Review) -> ScreeningSettings:
    found, _ = ScreeningSettings.objects.get_or_create(review=review)
    return found


@transaction.atomic
def settings_update(*, user: AnyUser, review_id: int, version: int | None, **fields: Any) -> ScreeningSettings:
    """Change how the review screens (owner). A stale `version` is refused rather than overwriting."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.OWNER)
    settings_for(review)
    current = ScreeningSettings.objects.select_for_update().get(review=review)
    if version is not None and version != current.version:
        raise ServiceConflict(
            f"Someone else saved the screening settings since you opened them (version {version}, now "
            f"{current.version}). Reload them and make your change again."
        )
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError({name: "Not a screening setting." for name in sorted(unknown)})
    if "exclusion_reasons" in fields:
        reasons = fields["exclusion_reasons"]
        if isinstance(reasons, str):
            reasons = reasons.split("\n")
        cleaned = [str(r).strip()[:200] for r in reasons if str(r).strip()]
        if not cleaned:
            raise ValidationError({"exclusion_reasons": "Give at least one reason for excluding a full text."})
        fields["exclusion_reasons"] = list(dict.fromkeys(cleaned))
    for name, value in fields.items():
        setattr(current, name, value)
    current.version += 1
    current.full_clean()
    current.save()
    return current


def _stage(stage: str) -> str:
    if stage not in Stage.values:
        raise Http404(f"No screening stage “{stage}”; use {' or '.join(Stage.values)}.")
    return stage


def _locked_record(review: Review, record_id: int | str) -> Record:
    try:
        return (
            Record.objects.select_for_update(no_key=True)
            .filter(review=review, batch__status=Import.Status.SUCCEEDED, duplicate_of__isnull=True)
            .get(pk=int(record_id))
        )
    except (Record.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such record to screen in this review (a duplicate is screened through its primary).") from exc


def _check_eligible(record: Record, stage: str) -> None:
    """A record reaches full text when its title/abstract outcome is include or maybe."""
    if stage == Stage.FULL_TEXT:
        earlier = Outcome.objects.filter(record=record, stage=Stage.TITLE_ABSTRACT).first()
        if earlier is None or not earlier.final or earlier.decision == Choice.EXCLUDE:
            raise ServiceConflict("This record is not at the full-text stage: it has no include or maybe outcome yet.")


def _check_open(record: Record, stage: str) -> None:
    outcome = Outcome.objects.filter(record=record, stage=stage).first()
    if outcome is not None and outcome.final:
        # No word of what the outcome is: under blinding, a reviewer's errors must not tell others' decisions.
        raise ServiceConflict(
            f"This record's {Stage(stage).label.lower()} outcome is settled; decisions on it can no longer change."
        )


def _clean_decision(review: Review, stage: str, decision: str, reason: str) -> str:
    if decision not in Choice.values:
        raise ValidationError({"decision": f"Choose one of {', '.join(Choice.values)}."})
    reason = (reason or "").strip()
    if stage == Stage.FULL_TEXT and decision == Choice.EXCLUDE:
        reasons = settings_for(review).exclusion_reasons
        if not reason:
            raise ValidationError({"reason": "Give the reason for excluding this full text."})
        if reason not in reasons:
            raise ValidationError({"reason": f"“{reason}” is not one of this review's reasons: {'; '.join(reasons)}."})
    if decision != Choice.EXCLUDE:
        reason = ""
    return reason[:200]


def _evaluate_later(record_id: int, stage: str) -> None:
    from screening.tasks import outcome_evaluate_task

    # The decision is saved whatever the broker does: while it is down the outcomes sweep settles the record.
    send_on_commit(outcome_evaluate_task, record_id, stage, fallback="sweep")


@transaction.atomic
def decision_create(
    *, user: AnyUser, review_id: int, record_id: int | str, stage: str, decision: str, reason: str = "", note: str = ""
) -> Decision:
    """A reviewer's decision on a record at a stage. A second one by the same reviewer is refused (change the
    first instead); so is any once the record's outcome is settled."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.REVIEWER)
    stage = _stage(stage)
    record = _locked_record(review, record_id)
    reason = _clean_decision(review, stage, decision, reason)
    _check_eligible(record, stage)
    _check_open(record, stage)
    try:
        # No savepoint: writers hold the record's lock, so the constraint fires only if that is bypassed, and then
        # the refusal rolls the whole transaction back.
        made = Decision.objects.create(
            review=review, record=record, stage=stage, reviewer=cast(User, user), decision=decision, reason=reason,
            note=note,
        )  # fmt: skip
    except IntegrityError as exc:
        raise ServiceConflict("You have already decided on this record at this stage; change that decision.") from exc
    _evaluate_later(record.pk, stage)
    return made


def _own_decision(review: Review, user: AnyUser, decision_id: int | str) -> Decision:
    try:
        found = Decision.objects.get(pk=int(decision_id), review=review)
    except (Decision.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such decision in this review.") from exc
    if found.reviewer_id != user.pk:
        raise Http404("No such decision of yours in this review.")
    return found


@transaction.atomic
def decision_update(
    *,
    user: AnyUser,
    review_id: int,
    decision_id: int | str,
    decision: str | None = None,
    reason: str | None = None,
    note: str | None = None,
) -> Decision:
    """A reviewer changes their own decision, until the record's outcome at that stage is settled."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.REVIEWER)
    found = _own_decision(review, user, decision_id)
    record = _locked_record(review, found.record_id)
    found.refresh_from_db()
    _check_open(record, found.stage)
    new_decision = found.decision if decision is None else decision
    found.reason = _clean_decision(review, found.stage, new_decision, found.reason if reason is None else reason)
    found.decision = new_decision
    if note is not None:
        found.note = note
    found.save()
    _evaluate_later(record.pk, found.stage)
    return found


@transaction.atomic
def decision_undo(*, user: AnyUser, review_id: int, decision_id: int | str) -> int:
    """A reviewer takes their decision back (the `u` key), until the outcome is settled. History keeps it."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.REVIEWER)
    found = _own_decision(review, user, decision_id)
    record = _locked_record(review, found.record_id)
    _check_open(record, found.stage)
    record_id, stage = found.record_id, found.stage
    found.delete()
    _evaluate_later(record.pk, stage)
    return record_id


def judge(stage: str, decisions: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The agreed (decision, reason) of a record's decisions at a stage, or None for a conflict.

    Title/abstract: include or maybe against exclude is a conflict; otherwise all exclude is exclude, and
    include/maybe is include when anyone said include, else maybe (both go on to full text).
    Full text: it must be include or exclude: maybe, include against exclude, and excludes for different
    reasons are conflicts."""
    choices = {d for d, _ in decisions}
    if stage == Stage.TITLE_ABSTRACT:
        if Choice.EXCLUDE in choices:
            return (Choice.EXCLUDE, "") if choices == {Choice.EXCLUDE} else None
        return (Choice.INCLUDE, "") if Choice.INCLUDE in choices else (Choice.MAYBE, "")
    if choices == {Choice.INCLUDE}:
        return Choice.INCLUDE, ""
    reasons = {r for _, r in decisions}
    if choices == {Choice.EXCLUDE} and len(reasons) == 1:
        return Choice.EXCLUDE, reasons.pop()
    return None


@transaction.atomic
def outcome_evaluate(*, record_id: int, stage: str) -> Outcome | None:
    """Settle a record's outcome at a stage from its decisions, or flag a conflict (once). Idempotent: run by the
    worker after each decision and by the periodic sweep. A settled or resolved outcome is never changed."""
    try:
        record = Record.objects.select_for_update(no_key=True).select_related("review").get(pk=record_id)
    except Record.DoesNotExist:
        return None
    outcome = Outcome.objects.filter(record=record, stage=stage).first()
    if outcome is not None and outcome.final:
        return outcome
    decisions = list(Decision.objects.filter(record=record, stage=stage).values_list("decision", "reason"))
    needed = settings_for(record.review).reviewers_needed
    if len(decisions) < needed:
        if outcome is not None:  # a decision was taken back: no longer a conflict to resolve
            outcome.delete()
        return None
    verdict = judge(stage, decisions)
    _agreement_changed(record.review_id)
    if verdict is None:
        if outcome is None:
            outcome = Outcome.objects.create(
                review=record.review, record=record, stage=stage, status=Outcome.Status.CONFLICT,
                conflict_found_at=timezone.now(),
            )  # fmt: skip
        return outcome
    decision, reason = verdict
    if outcome is None:
        outcome = Outcome(review=record.review, record=record, stage=stage)
    outcome.status, outcome.decision, outcome.reason = Outcome.Status.SETTLED, decision, reason
    outcome.save()
    if stage == Stage.TITLE_ABSTRACT:
        priority_service.changed(record.review_id)
    return outcome


def mark_stale(model: type[AgreementSummary] | type[PriorityModel], review_id: int, task: Any) -> None:
    """Mark a review's worker-computed summary stale and enqueue its recomputation, once for a burst of
    decisions: only the call that turns it stale (or creates it) enqueues."""
    turned = model.objects.filter(review_id=review_id, stale=False).update(stale=True)
    created = False
    if not turned:
        _, created = model.objects.get_or_create(review_id=review_id)
    if turned or created:
        # Computed from the decisions alone: while the broker is down, here (agreement, the priority model's fit).
        send_on_commit(task, review_id, fallback="inline")


def _agreement_changed(review_id: int) -> None:
    from screening.tasks import agreement_refresh_task

    mark_stale(AgreementSummary, review_id, agreement_refresh_task)


def agreement_refresh(*, review_id: int) -> AgreementSummary:
    """Recompute agreement per stage, overall and per reviewer pair (worker). Idempotent."""
    from screening.selectors import agreement_report

    review = Review.objects.get(pk=review_id)
    AgreementSummary.objects.filter(review=review).update(stale=False)  # decisions from now on mark it again
    data = {stage: agreement_report(review=review, stage=stage) for stage in Stage.values}
    summary, _ = AgreementSummary.objects.update_or_create(
        review=review, defaults={"data": data, "computed_at": timezone.now()}
    )
    return summary


def outcomes_sweep(*, review_id: int | None = None) -> int:
    """Evaluate every record that has decisions but no settled outcome (catches a lost task). Returns how many."""
    pending = Decision.objects.exclude(
        record__screening_outcomes__status__in=[Outcome.Status.SETTLED, Outcome.Status.RESOLVED]
    ).values_list("record_id", "stage")
    if review_id is not None:
        pending = pending.filter(review_id=review_id)
    count = 0
    for record_id, stage in set(pending):
        outcome_evaluate(record_id=record_id, stage=stage)
        count += 1
    stale = AgreementSummary.objects.filter(stale=True)
    if review_id is not None:
        stale = stale.filter(review_id=review_id)
    for summary_review_id in list(stale.values_list("review_id", flat=True)):
        agreement_refresh(review_id=summary_review_id)
    priority_service.sweep()
    return count


@transaction.atomic
def conflict_resolve(
    *, user: AnyUser, review_id: int, conflict_id: int | str, decision: str, reason: str = ""
) -> Outcome:
    """The editor settles a conflict; final, recorded with who and when."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    try:
        outcome = Outcome.objects.get(pk=int(conflict_id), review=review)
    except (Outcome.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such conflict in this review.") from exc
    _locked_record(review, outcome.record_id)
    outcome.refresh_from_db()
    if outcome.status != Outcome.Status.CONFLICT:
        raise ServiceConflict(f"This record's outcome is already {outcome.get_status_display().lower()}.")
    if outcome.stage == Stage.FULL_TEXT and decision == Choice.MAYBE:
        raise ValidationError({"decision": "A full text is included or excluded: choose include or exclude."})
    reason = _clean_decision(review, outcome.stage, decision, reason)
    outcome.status, outcome.decision, outcome.reason = Outcome.Status.RESOLVED, decision, reason
    outcome.resolved_by, outcome.resolved_at = user, timezone.now()  # type: ignore[assignment]
    outcome.save()
    if outcome.stage == Stage.TITLE_ABSTRACT:
        priority_service.changed(review.pk)
    return outcome


# --- full texts ----------------------------------------------------------------------------------------------


def _full_text_record(user: AnyUser, review_id: int, record_id: int | str) -> tuple[Review, Record]:
    review = review_get_for_user(user=user, review_id=review_id, role=Role.REVIEWER)
    record = _locked_record(review, record_id)
    _check_eligible(record, Stage.FULL_TEXT)
    return review, record


@transaction.atomic
def fulltext_upload(*, user: AnyUser, review_id: int, record_id: int | str, file: UploadedFile) -> FullText:
    """Attach a record's full-text PDF (any member). Checked for size (SIEVE_MAX_PDF_MB) and for being a PDF by
    its content, not only its name; stored under a name of ours, served only to members."""
    review, record = _full_text_record(user, review_id, record_id)
    name = upload_name(file.name, "full-text.pdf")
    limit = settings.SIEVE_MAX_PDF_MB
    if not file.size:
        raise ValidationError({"file": f"{name} is empty."})
    if file.size > limit * 1024 * 1024:
        raise ValidationError({"file": f"{name} is {file.size / 1024 / 1024:.0f} MB; the limit is {limit} MB."})
    problem = pdf_problem(file, file.size)
    if problem:
        raise ValidationError({"file": f"{name} is not a PDF: {problem}."})
    found = FullText.objects.filter(record=record).first() or FullText(review=review, record=record)
    old = found.file.name if found.file else ""
    found.filename, found.not_retrieved, found.uploaded_by = name, False, cast(User, user)
    found.file.save(name, file, save=False)
    found.save()
    if old:
        transaction.on_commit(lambda: found.file.storage.delete(old))
    return found


@transaction.atomic
def fulltext_not_retrieved(*, user: AnyUser, review_id: int, record_id: int | str, note: str = "") -> FullText:
    """Record that a report could not be obtained (PRISMA's "reports not retrieved"); it leaves the queue."""
    review, record = _full_text_record(user, review_id, record_id)
    if Decision.objects.filter(record=record, stage=Stage.FULL_TEXT).exists():
        raise ServiceConflict("This full text has already been assessed; it cannot be marked as not retrieved.")
    found = FullText.objects.filter(record=record).first() or FullText(review=review, record=record)
    if found.file:
        raise ServiceConflict("This record has a PDF; remove it first if the report was not retrieved.")
    found.not_retrieved, found.note, found.uploaded_by = True, note[:2000], cast(User, user)
    found.save()
    return found


@transaction.atomic
def fulltext_remove(*, user: AnyUser, review_id: int, record_id: int | str) -> None:
    """Remove a record's PDF or its "not retrieved" mark (history keeps who did what)."""
    review, record = _full_text_record(user, review_id, record_id)
    found = FullText.objects.filter(record=record).first()
    if found is None:
        raise Http404("This record has no full text.")
    name = found.file.name if found.file else ""
    storage = found.file.storage
    found.delete()
    if name:
        transaction.on_commit(lambda: storage.delete(name))
