"""Risk-of-bias writes: the review's settings, an assessor's assessment of a study (or outcome) and its domain
judgements, the worker's comparison of the assessors' assessments (discrepancies, and the consensus of what
they agree on), and the editor's resolutions.

Every save names the assessment `version` it read and locks the assessment's row; a stale version is refused
with what changed since. Consensus judgements written by an editor (`updated_by` set) are the editor's word:
the worker writes and updates only the consensus judgements it wrote itself."""

from collections.abc import Mapping
from typing import cast

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from core.exceptions import ServiceConflict
from core.tasks import send_on_commit
from extraction.models import Outcome, Study
from grading import rob
from grading.models import (
    ROB1_DOMAINS,
    ROB1_JUDGEMENTS,
    RobAssessment,
    RobDiscrepancy,
    RobJudgement,
    RobSettings,
    Tool,
)
from reviews.models import Membership, Review, role_at_least
from reviews.selectors import review_get_for_user

AnyUser = User | AnonymousUser
Role = Membership.Role
OVERALL = "overall"


def settings_for(review: Review) -> RobSettings:
    found, _ = RobSettings.objects.get_or_create(review=review)
    return found


def domains_for(tool: str, study: Study) -> tuple[str, ...]:
    """The domains an assessment judges: RoB 2 adds domain S for crossover trials."""
    if tool == Tool.ROB1:
        return ROB1_DOMAINS
    if tool == Tool.ROBINS:
        return rob.ROBINS_DOMAINS
    return rob.ROB2_DOMAINS if study.design == Study.Design.CROSSOVER else rob.ROB2_DOMAINS[:5]


def judgements_for(tool: str) -> tuple[str, ...]:
    if tool == Tool.ROB1:
        return ROB1_JUDGEMENTS
    return rob.ROBINS_JUDGEMENTS if tool == Tool.ROBINS else rob.ROB2_JUDGEMENTS


def at_outcome(outcome_id: int | None) -> Q:
    """The filter for one outcome, or for the whole study (`outcome` empty)."""
    return Q(outcome__isnull=True) if outcome_id is None else Q(outcome_id=outcome_id)


def rob1_overall(judgements: Mapping[str, str]) -> str:
    """RoB 1 has no published overall rule: propose high if any domain is high, low if all are low, else unclear.
    The assessor gives the final overall judgement."""
    values = set(judgements.values())
    if "high" in values:
        return "high"
    return "low" if values == {"low"} else "unclear"


def overall_proposal(tool: str, judgements: Mapping[str, str], domains: tuple[str, ...]) -> str:
    """The proposed overall judgement once every domain is judged; "" before."""
    if any(d not in judgements for d in domains):
        return ""
    if tool == Tool.ROB1:
        return rob1_overall(judgements)
    if tool == Tool.ROBINS:
        return rob.robins_overall(judgements).judgement
    return rob.rob2_overall(judgements).judgement


def compare_later(study_id: int, outcome_id: int | None) -> None:
    from grading.tasks import compare_task

    send_on_commit(compare_task, study_id, outcome_id, fallback="inline")


# --- settings ------------------------------------------------------------------------------------------------


@transaction.atomic
def settings_update(
    *,
    user: AnyUser,
    review_id: int,
    version: int | None,
    tool: str | None = None,
    assessors_per_study: int | None = None,
    blinded: bool | None = None,
) -> RobSettings:
    """Change the review's risk-of-bias settings (owner). The tool cannot change once assessments exist."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.OWNER)
    found = RobSettings.objects.select_for_update().get(pk=settings_for(review).pk)
    if version is not None and int(version) != found.version:
        raise ServiceConflict(
            f"Someone else changed these settings since you opened them (your version {version}, now "
            f"{found.version}): tool {found.get_tool_display()}, {found.assessors_per_study} assessor(s), "
            f"{'blinded' if found.blinded else 'not blinded'}. Your change was not saved."
        )
    if tool is not None and tool != found.tool:
        if tool not in Tool.values:
            raise ValidationError({"tool": f"Choose one of {', '.join(Tool.values)}."})
        if RobAssessment.objects.filter(review=review).exists():
            raise ValidationError({"tool": "Assessments exist with the current tool; the tool cannot change now."})
        found.tool = tool
    if assessors_per_study is not None:
        if int(assessors_per_study) not in (1, 2):
            raise ValidationError({"assessors_per_study": "Choose 1 or 2 assessors per study."})
        found.assessors_per_study = int(assessors_per_study)
    if blinded is not None:
        found.blinded = bool(blinded)
    found.version += 1
    found._history_user = user  # type: ignore[attr-defined]
    found.save()
    return found


# --- assessments ---------------------------------------------------------------------------------------------


def _study(review: Review, study_id: int | str) -> Study:
    try:
        return Study.objects.get(review=review, pk=int(study_id))
    except (Study.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such study in this review.") from exc


def _outcome(review: Review, outcome_id: int | str | None) -> Outcome | None:
    if outcome_id in (None, ""):
        return None
    try:
        return Outcome.objects.get(review=review, pk=int(cast(int | str, outcome_id)))
    except (Outcome.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such outcome in this review.") from exc


@transaction.atomic
def assessment_start(
    *,
    user: AnyUser,
    review_id: int,
    study_id: int | str,
    outcome_id: int | str | None = None,
    variant: str = RobAssessment.Variant.ASSIGNMENT,
    assessor_id: int | None = None,
) -> RobAssessment:
    """The user's assessment of a study (or of one outcome's result) with the review's tool, made if needed. An
    editor or owner may assign another member (`assessor_id`). A study takes `assessors_per_study` assessors."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.REVIEWER)
    study = Study.objects.select_for_update().get(pk=_study(review, study_id).pk)
    outcome = _outcome(review, outcome_id)
    assessor = cast(User, user)
    if assessor_id is not None and int(assessor_id) != user.pk:
        if not role_at_least(review.my_role, Role.EDITOR):
            raise ValidationError({"assessor": "Only an editor or owner assigns assessments to other members."})
        try:
            assessor = Membership.objects.select_related("user").get(review=review, user_id=int(assessor_id)).user
        except (Membership.DoesNotExist, ValueError, TypeError) as exc:
            raise ValidationError({"assessor": "Not a member of this review."}) from exc
    if variant not in RobAssessment.Variant.values:
        raise ValidationError({"variant": f"Choose one of {', '.join(RobAssessment.Variant.values)}."})
    setting = settings_for(review)
    spot = RobAssessment.objects.filter(study=study, outcome=outcome, assessor__isnull=False)
    existing = spot.filter(assessor=assessor).first()
    if existing is not None:
        return existing
    if spot.count() >= setting.assessors_per_study:
        needed = setting.assessors_per_study
        raise ServiceConflict(
            f"“{study.label}” already has its {needed} assessor{'s' if needed > 1 else ''}; an editor can settle "
            "its consensus instead."
        )
    return RobAssessment.objects.create(
        review=review, study=study, outcome=outcome, assessor=assessor, tool=setting.tool, variant=variant
    )


def _assessment_for_write(user: AnyUser, review_id: int, assessment_id: int | str) -> tuple[Review, RobAssessment]:
    """The assessment, locked, if the user may write it: their own, or the consensus for an editor or owner."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.REVIEWER)
    try:
        assessment = (
            RobAssessment.objects.select_for_update().select_related("study").get(review=review, pk=int(assessment_id))
        )
    except (RobAssessment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such assessment in this review.") from exc
    mine = assessment.assessor_id == user.pk
    if not mine and not (assessment.is_consensus and role_at_least(review.my_role, Role.EDITOR)):
        raise Http404("No such assessment in this review.")  # another assessor's: not there under blinding
    return review, assessment


def _check_version(assessment: RobAssessment, version: int | None) -> None:
    if version is None or int(version) == assessment.version:
        return
    changed = [
        f"{j.domain}: {j.judgement}"
        for j in RobJudgement.objects.filter(assessment=assessment, changed_in__gt=int(version)).order_by("domain")
    ]
    raise ServiceConflict(
        f"This assessment was saved elsewhere since you opened it (your version {version}, now "
        f"{assessment.version}). Changed since: {'; '.join(changed) or 'its status or overall judgement'}. "
        "Reload to see the current judgements; your change was not saved."
    )


def _refresh_overall(assessment: RobAssessment) -> None:
    """Recompute the proposed overall judgement. An assessor's final one follows it unless overridden; the
    consensus's final one is the assessors' agreed overall or the editor's (never filled from the proposal while
    the overall judgement may still be in discrepancy)."""
    judged = dict(RobJudgement.objects.filter(assessment=assessment).values_list("domain", "judgement"))
    proposal = overall_proposal(assessment.tool, judged, domains_for(assessment.tool, assessment.study))
    follows = not assessment.overall or assessment.overall == assessment.overall_proposed
    if follows and not assessment.overall_override_reason and not assessment.is_consensus:
        assessment.overall = proposal
    assessment.overall_proposed = proposal


@transaction.atomic
def judgement_save(
    *,
    user: AnyUser,
    review_id: int,
    assessment_id: int | str,
    version: int | None,
    domain: str,
    answers: Mapping[str, str] | None = None,
    judgement: str | None = None,
    override_reason: str = "",
    support: str = "",
) -> RobJudgement:
    """Save one domain. RoB 2: the proposal comes from the answers, the judgement defaults to it, and a judgement
    other than the proposal needs `override_reason`. RoB 1 and ROBINS-I: the judgement is given, with no proposal
    (ROBINS-I keeps the answers as given: the 2016 tool, whose seven domains are assessed here, publishes no
    domain algorithm, and ROBINS-I V2's algorithms belong to its own six domains; see grading.rob)."""
    review, assessment = _assessment_for_write(user, review_id, assessment_id)
    _check_version(assessment, version)
    domains = domains_for(assessment.tool, assessment.study)
    if domain not in domains:
        raise ValidationError({"domain": f"{domain!r} is not a domain here; expected one of {', '.join(domains)}."})
    allowed = judgements_for(assessment.tool)
    proposed = ""
    if assessment.tool == Tool.ROB2:
        if not answers:
            raise ValidationError({"answers": f"Answer the signalling questions of {domain}."})
        try:
            result = rob.rob2_domain(domain, answers, variant=assessment.variant)
        except rob.RobInputError as exc:
            raise ValidationError({"answers": str(exc)}) from exc
        proposed = result.judgement
        judgement = judgement or proposed
    if not judgement or judgement not in allowed:
        raise ValidationError({"judgement": f"Choose one of {', '.join(allowed)}."})
    _check_texts(override_reason=override_reason, support=support)
    if assessment.tool != Tool.ROB2:
        answers = _plain_answers(assessment.tool, answers)
    reason = override_reason.strip()
    if proposed and judgement != proposed and not reason:
        raise ValidationError(
            {"override_reason": f"The answers propose {proposed}; say why the judgement is {judgement}."}
        )
    if judgement == proposed:
        reason = ""
    assessment.version += 1
    row = RobJudgement.objects.filter(assessment=assessment, domain=domain).first() or RobJudgement(
        assessment=assessment, domain=domain
    )
    row.answers, row.proposed, row.judgement = dict(answers or {}), proposed, judgement
    row.override_reason, row.support = reason, support
    row.changed_in, row.updated_by = assessment.version, cast(User, user)
    row._history_user = user  # type: ignore[attr-defined]
    row.save()
    _refresh_overall(assessment)
    assessment._history_user = user  # type: ignore[attr-defined]
    assessment.save()
    return row


MAX_TEXT = 5000
MAX_ANSWERS = 40  # more signalling questions than any domain of the tools has


def _check_texts(**texts: str) -> None:
    long = {name: f"Keep this under {MAX_TEXT:,} characters." for name, text in texts.items() if len(text) > MAX_TEXT}
    if long:
        raise ValidationError(long)


def _plain_answers(tool: str, answers: Mapping[str, str] | None) -> dict[str, str]:
    """RoB 1 has no signalling questions; ROBINS-I's answers are kept as given (no published domain algorithm reads
    them), so they are checked for shape only: short question ids, the tool's answer options, a bounded number."""
    if not answers:
        return {}
    if tool == Tool.ROB1:
        raise ValidationError({"answers": "RoB 1 has no signalling questions: give the judgement and its support."})
    if len(answers) > MAX_ANSWERS:
        raise ValidationError({"answers": f"At most {MAX_ANSWERS} answers per domain."})
    bad = [str(q)[:20] for q, a in answers.items() if len(str(q)) > 10 or a not in rob.ANSWERS]
    if bad:
        options = ", ".join(rob.ANSWERS)
        raise ValidationError({"answers": f"Answer with one of {options} to a question id such as 1.1: {bad[:5]}."})
    return dict(answers)


@transaction.atomic
def overall_save(
    *, user: AnyUser, review_id: int, assessment_id: int | str, version: int | None, overall: str, reason: str = ""
) -> RobAssessment:
    """Give the final overall judgement; one other than the proposal needs a reason (RoB 1 always has one to
    weigh, its proposal being this app's rule of thumb, not a published algorithm)."""
    review, assessment = _assessment_for_write(user, review_id, assessment_id)
    _check_version(assessment, version)
    allowed = judgements_for(assessment.tool)
    if overall not in allowed:
        raise ValidationError({"overall": f"Choose one of {', '.join(allowed)}."})
    _check_texts(overall_override_reason=reason)
    if overall != assessment.overall_proposed and not reason.strip():
        raise ValidationError(
            {"overall_override_reason": f"The domains propose {assessment.overall_proposed or 'nothing yet'}; "
             f"say why the overall judgement is {overall}."}
        )  # fmt: skip
    assessment.overall = overall
    assessment.overall_override_reason = "" if overall == assessment.overall_proposed else reason.strip()
    if assessment.is_consensus:
        assessment.overall_by = cast(User, user)
    assessment.version += 1
    assessment._history_user = user  # type: ignore[attr-defined]
    assessment.save()
    return assessment


def missing_domains(assessment: RobAssessment) -> list[str]:
    judged = set(RobJudgement.objects.filter(assessment=assessment).values_list("domain", flat=True))
    return [d for d in domains_for(assessment.tool, assessment.study) if d not in judged]


@transaction.atomic
def assessment_set_status(
    *, user: AnyUser, review_id: int, assessment_id: int | str, version: int | None, status: str
) -> RobAssessment:
    """Mark an assessment complete (every domain and the overall judged) or reopen it; the worker compares."""
    review, assessment = _assessment_for_write(user, review_id, assessment_id)
    _check_version(assessment, version)
    if status not in RobAssessment.Status.values:
        raise ValidationError({"status": f"Choose one of {', '.join(RobAssessment.Status.values)}."})
    if status == RobAssessment.Status.COMPLETE:
        missing = missing_domains(assessment)
        if missing:
            raise ValidationError({"status": f"Judge every domain first: {', '.join(missing)} not judged."})
        if not assessment.overall:
            raise ValidationError({"status": "Give the overall judgement first."})
    assessment.status = status
    assessment.version += 1
    assessment._history_user = user  # type: ignore[attr-defined]
    assessment.save()
    if not assessment.is_consensus:
        compare_later(assessment.study_id, assessment.outcome_id)
    return assessment


@transaction.atomic
def consensus_start(
    *, user: AnyUser, review_id: int, study_id: int | str, outcome_id: int | str | None = None
) -> RobAssessment:
    """The consensus assessment of a study (or outcome) with the review's tool, made if needed (editor or owner)."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    outcome = _outcome(review, outcome_id)
    return consensus_for(
        _study(review, study_id), outcome.pk if outcome else None, settings_for(review).tool, "assignment"
    )


# --- comparing assessments (the worker) ----------------------------------------------------------------------


def consensus_for(study: Study, outcome_id: int | None, tool: str, variant: str) -> RobAssessment:
    found, _ = RobAssessment.objects.get_or_create(
        study=study,
        outcome_id=outcome_id,  # type: ignore[misc]  # None matches IS NULL (Django turns exact None into isnull)
        assessor=None,
        defaults={"review_id": study.review_id, "tool": tool, "variant": variant},
    )
    return found


def compare(*, study_id: int, outcome_id: int | None) -> dict[str, int]:
    """Compare the complete assessments of a study (and outcome) once it has as many as the review needs: flag
    each domain, and the overall judgement, where the final judgements differ (reopening a resolved one whose
    values changed), drop open ones that now agree, and write every agreed judgement into the consensus (where
    the editor has not written). Idempotent: the worker may run it any number of times."""
    with transaction.atomic():
        try:
            study = Study.objects.select_for_update().select_related("review").get(pk=study_id)
        except Study.DoesNotExist:
            return {"gone": 1}
        setting = settings_for(study.review)
        assessments = list(
            RobAssessment.objects.filter(
                at_outcome(outcome_id),
                study=study,
                assessor__isnull=False,
                tool=setting.tool,
                status=RobAssessment.Status.COMPLETE,
            ).select_related("assessor")
        )
        if len(assessments) < setting.assessors_per_study:
            return {"waiting": setting.assessors_per_study - len(assessments)}
        names = {a.pk: cast(User, a.assessor).username for a in assessments}
        judged: dict[int, dict[str, str]] = {a.pk: {} for a in assessments}
        for assessment_id, domain, value in RobJudgement.objects.filter(assessment__in=assessments).values_list(
            "assessment_id", "domain", "judgement"
        ):
            judged[assessment_id][domain] = value
        for a in assessments:
            judged[a.pk][OVERALL] = a.overall
        spots = [*domains_for(setting.tool, study), OVERALL]
        before = {d.domain: d for d in RobDiscrepancy.objects.filter(at_outcome(outcome_id), study=study)}
        agreed: dict[str, str] = {}
        flagged = 0
        for domain in spots:
            by_name = {names[a.pk]: judged[a.pk].get(domain, "") for a in assessments}
            values = set(by_name.values())
            if len(values) == 1 and "" not in values:
                agreed[domain] = values.pop()
                continue
            flagged += 1
            current = before.get(domain)
            if current is None:
                RobDiscrepancy.objects.create(
                    review=study.review, study=study, outcome_id=outcome_id, domain=domain, values=by_name
                )
            elif current.values != by_name:
                current.values, current.status = by_name, RobDiscrepancy.Status.OPEN
                current.resolution, current.resolved_by, current.resolved_at = "", None, None
                current.note = ""
                current.save()
        RobDiscrepancy.objects.filter(
            pk__in=[d.pk for domain, d in before.items() if domain in agreed], status=RobDiscrepancy.Status.OPEN
        ).delete()
        consensus = consensus_for(study, outcome_id, setting.tool, assessments[0].variant)
        _write_agreed(consensus, agreed, sorted(names.values()))
        return {"flagged": flagged, "agreed": len(agreed)}


def _write_agreed(consensus: RobAssessment, agreed: dict[str, str], names: list[str]) -> None:
    """Agreed judgements into the consensus; worker-written ones no longer agreed upon are removed (an open
    discrepancy has no consensus judgement until the editor gives one)."""
    consensus = RobAssessment.objects.select_for_update().select_related("study").get(pk=consensus.pk)
    was = (consensus.overall, consensus.overall_proposed, consensus.status)
    version = consensus.version + 1
    changed = False
    rows = {j.domain: j for j in RobJudgement.objects.filter(assessment=consensus)}
    for domain, row in rows.items():
        if row.updated_by_id is None and domain not in agreed:
            row.delete()
            changed = True
    for domain, value in agreed.items():
        if domain == OVERALL:
            continue
        existing = rows.get(domain)
        if existing is None:
            RobJudgement.objects.create(
                assessment=consensus, domain=domain, judgement=value, changed_in=version,
                support=f"Agreed by {' and '.join(names)}.",
            )  # fmt: skip
            changed = True
        elif existing.updated_by_id is None and existing.judgement != value:
            existing.judgement, existing.changed_in = value, version
            existing.save()
            changed = True
    _refresh_overall(consensus)
    if consensus.overall_by_id is None:
        consensus.overall = agreed.get(OVERALL, "")
        differs = consensus.overall and consensus.overall != consensus.overall_proposed
        consensus.overall_override_reason = f"Agreed by {' and '.join(names)}." if differs else ""
    done = not missing_domains(consensus) and bool(consensus.overall)
    consensus.status = RobAssessment.Status.COMPLETE if done else RobAssessment.Status.IN_PROGRESS
    if changed or was != (consensus.overall, consensus.overall_proposed, consensus.status):
        consensus.version = version
        consensus.save()


# --- resolving discrepancies (editor) -------------------------------------------------------------------------


@transaction.atomic
def discrepancy_resolve(
    *, user: AnyUser, review_id: int, discrepancy_id: int | str, take: str = "", judgement: str = "", note: str = ""
) -> RobDiscrepancy:
    """Settle a discrepancy with one assessor's judgement (`take`: their username) or a given `judgement`; the
    consensus gets it as the editor's word, with the editor's `note` (kept on the discrepancy, as the support of
    a domain's judgement, and as the reason of an overall judgement other than the proposal). A resolved
    discrepancy may be resolved again (history keeps both)."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    try:
        discrepancy = (
            RobDiscrepancy.objects.select_for_update()
            .select_related("study")
            .get(review=review, pk=int(discrepancy_id))
        )
    except (RobDiscrepancy.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such discrepancy in this review.") from exc
    if take:
        if take not in discrepancy.values:
            raise ValidationError({"take": f"Take the judgement of one of {', '.join(sorted(discrepancy.values))}."})
        judgement = discrepancy.values[take]
    setting = settings_for(review)
    allowed = judgements_for(setting.tool)
    if judgement not in allowed:
        raise ValidationError({"judgement": f"Choose one of {', '.join(allowed)}."})
    variant = (
        RobAssessment.objects.filter(
            at_outcome(discrepancy.outcome_id), study=discrepancy.study, assessor__isnull=False
        )
        .values_list("variant", flat=True)
        .first()
    ) or RobAssessment.Variant.ASSIGNMENT
    base = consensus_for(discrepancy.study, discrepancy.outcome_id, setting.tool, variant)
    consensus = RobAssessment.objects.select_for_update().select_related("study").get(pk=base.pk)
    consensus.version += 1
    editor = cast(User, user)
    note = note.strip()
    if len(note) > 2000:
        raise ValidationError({"note": "Keep the note under 2,000 characters."})
    resolved = f"Discrepancy resolved by {editor.username}" + (f", taking {take}'s judgement." if take else ".")
    if discrepancy.domain == OVERALL:
        consensus.overall, consensus.overall_by = judgement, editor
        consensus.overall_override_reason = "" if judgement == consensus.overall_proposed else (note or resolved)
    else:
        row = RobJudgement.objects.filter(assessment=consensus, domain=discrepancy.domain).first() or RobJudgement(
            assessment=consensus, domain=discrepancy.domain
        )
        row.judgement, row.updated_by, row.changed_in = judgement, editor, consensus.version
        row.support = f"{note}\n({resolved})" if note else resolved
        row._history_user = user  # type: ignore[attr-defined]
        row.save()
        _refresh_overall(consensus)
    if not missing_domains(consensus) and consensus.overall:
        consensus.status = RobAssessment.Status.COMPLETE
    consensus._history_user = user  # type: ignore[attr-defined]
    consensus.save()
    discrepancy.status = RobDiscrepancy.Status.RESOLVED
    discrepancy.resolution = judgement
    discrepancy.note = note
    discrepancy.resolved_by = editor
    discrepancy.resolved_at = timezone.now()
    discrepancy._history_user = user  # type: ignore[attr-defined]
    discrepancy.save()
    return discrepancy
