"""Risk-of-bias reads, scoped to the asking member's role. Blinding lives here: while assessment is blinded, a
reviewer reads only their own assessments, never the consensus or the discrepancies (which show others'
judgements). `review` is the one `reviews.selectors.review_get_for_user` returned (it carries `my_role`)."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from extraction.models import Outcome, Study
from grading.models import ROB1_DOMAINS, RobAssessment, RobDiscrepancy, RobJudgement, Tool
from grading.services import OVERALL, settings_for
from reviews.models import Membership, Review, role_at_least

Role = Membership.Role


def sees_all(review: Review) -> bool:
    """Whether the member (review.my_role) may see every assessment, the consensus and the discrepancies."""
    return role_at_least(review.my_role, Role.EDITOR) or not settings_for(review).blinded


def assessment_list(*, review: Review, user_id: int, study_id: int | None = None) -> QuerySet[RobAssessment]:
    found = (
        RobAssessment.objects.filter(review=review)
        .select_related("study", "outcome", "assessor")
        .prefetch_related(Prefetch("judgements", queryset=RobJudgement.objects.select_related("updated_by")))
        .order_by("study__label", "outcome_id", "assessor_id", "id")
    )
    if study_id is not None:
        found = found.filter(study_id=study_id)
    return found if sees_all(review) else found.filter(assessor_id=user_id)


def assessment_get(*, review: Review, user_id: int, assessment_id: int | str) -> RobAssessment:
    try:
        return assessment_list(review=review, user_id=user_id).get(pk=int(assessment_id))
    except (RobAssessment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such assessment in this review.") from exc


def discrepancy_list(*, review: Review, status: str = "") -> QuerySet[RobDiscrepancy]:
    if not sees_all(review):
        return RobDiscrepancy.objects.none()
    found = RobDiscrepancy.objects.filter(review=review).select_related("study", "outcome", "resolved_by")
    return found.filter(status=status) if status else found


def consensus_overall(*, review: Review) -> dict[tuple[int, int | None], str]:
    """{(study id, outcome id or None): overall judgement of the consensus}, in one query; nothing for a member
    who may not read the consensus (blinding)."""
    if not sees_all(review):
        return {}
    rows = RobAssessment.objects.filter(review=review, assessor__isnull=True).exclude(overall="")
    return {
        (study, outcome): overall for study, outcome, overall in rows.values_list("study_id", "outcome_id", "overall")
    }


def overall_at(overall: dict[tuple[int, int | None], str], study_id: int, outcome_id: int | None) -> str:
    """A study's consensus overall judgement for one outcome: the outcome's own assessment where there is one, else
    the study-level one ("" if neither)."""
    found = overall.get((study_id, outcome_id)) if outcome_id is not None else None
    return found or overall.get((study_id, None), "")


def rob_for_analysis(*, review: Review, study_ids: Iterable[int], outcome_id: int | None = None) -> dict[str, str]:
    """{study label: consensus overall judgement} for the studies given (see `overall_at`); studies without one
    are left out, and nothing is returned to a blinded member."""
    overall = consensus_overall(review=review)
    found = {}
    for study in Study.objects.filter(review=review, pk__in=list(study_ids)).order_by("label"):
        if judgement := overall_at(overall, study.pk, outcome_id):
            found[study.label] = judgement
    return found


# --- the risk-of-bias API's reads ------------------------------------------------------------------------------


def assessment_search(
    *,
    review: Review,
    user_id: int,
    study_id: int | None = None,
    outcome_id: int | None = None,
    whole_study: bool = False,
    assessor: str = "",
) -> QuerySet[RobAssessment]:
    """`assessment_list` narrowed (never widened): one study (404 if not of this review), one outcome's
    assessments (404 likewise) or the study-level ones (`whole_study`), and `assessor` "me" or "consensus"."""
    found = assessment_list(review=review, user_id=user_id)
    if study_id is not None:
        if not Study.objects.filter(review=review, pk=study_id).exists():
            raise Http404("No such study in this review.")
        found = found.filter(study_id=study_id)
    if outcome_id is not None:
        if not Outcome.objects.filter(review=review, pk=outcome_id).exists():
            raise Http404("No such outcome in this review.")
        found = found.filter(outcome_id=outcome_id)
    elif whole_study:
        found = found.filter(outcome__isnull=True)
    if assessor == "me":
        found = found.filter(assessor_id=user_id)
    elif assessor == "consensus":
        found = found.filter(assessor__isnull=True)
    return found


def discrepancy_get(*, review: Review, discrepancy_id: int | str) -> RobDiscrepancy:
    try:
        return discrepancy_list(review=review).get(pk=int(discrepancy_id))
    except (RobDiscrepancy.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such discrepancy in this review.") from exc


@dataclass(frozen=True)
class JudgementChange:
    """One change of one domain's judgement (or of the overall judgement, domain "overall") of an assessment.
    `user` None: the worker wrote it (what the assessors agreed on, into the consensus)."""

    domain: str
    when: datetime
    user: str | None
    change: str  # "created", "changed" or "removed"
    old_judgement: str
    new_judgement: str
    old_answers: dict[str, str] | None
    new_answers: dict[str, str] | None
    proposed: str
    override_reason: str
    support: str


_CHANGE = {"+": "created", "~": "changed", "-": "removed"}


def judgement_history(*, assessment: RobAssessment) -> list[JudgementChange]:
    """Every change of the assessment's domain judgements and of its overall judgement, newest first (two
    queries, from the history tables). The caller has read `assessment` through `assessment_get`, so blinding
    holds: the history of an assessment the member may not see is never asked for."""
    changes: list[JudgementChange] = []
    before: dict[str, tuple[str, dict[str, str] | None, str, str]] = {}
    for h in (
        RobJudgement.history.filter(assessment_id=assessment.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    ):
        removed = h.history_type == "-"
        now = ("", None, "", "") if removed else (h.judgement, dict(h.answers or {}), h.override_reason, h.support)
        old = before.get(h.domain, ("", None, "", ""))
        before[h.domain] = now
        if now == old:
            continue  # saved again unchanged (or only the version it changed in moved)
        changes.append(
            JudgementChange(
                domain=h.domain,
                when=h.history_date,
                user=h.history_user.username if h.history_user else None,
                change="removed" if removed else ("changed" if old[1] is not None else "created"),
                old_judgement=old[0],
                new_judgement=now[0],
                old_answers=old[1],
                new_answers=now[1],
                proposed="" if removed else h.proposed,
                override_reason=now[2],
                support=now[3],
            )
        )
    overall: tuple[str, str] = ("", "")
    for h in (
        RobAssessment.history.filter(id=assessment.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    ):
        now_overall = (h.overall, h.overall_override_reason)
        if now_overall == overall:
            continue  # a save of something else (a domain, the status)
        changes.append(
            JudgementChange(
                domain=OVERALL,
                when=h.history_date,
                user=h.history_user.username if h.history_user else None,
                change="created" if not overall[0] else ("changed" if now_overall[0] else "removed"),
                old_judgement=overall[0],
                new_judgement=now_overall[0],
                old_answers=None,
                new_answers=None,
                proposed=h.overall_proposed,
                override_reason=now_overall[1],
                support="",
            )
        )
        overall = now_overall
    changes.sort(key=lambda c: c.when, reverse=True)
    return changes


# pages ----------------------------------------------------------------------------------------------------------
# Reads of the risk-of-bias pages (grading/views_rob*.py); `review` comes from review_get_for_user.


def open_discrepancy_counts(*, review: Review) -> dict[tuple[int, int | None], int]:
    """{(study id, outcome id or None): open discrepancies}; empty for a member who may not see them."""
    counts: dict[tuple[int, int | None], int] = {}
    for row in discrepancy_list(review=review, status=RobDiscrepancy.Status.OPEN).values("study_id", "outcome_id"):
        key = (row["study_id"], row["outcome_id"])
        counts[key] = counts.get(key, 0) + 1
    return counts


def consensus_list(*, review: Review, outcome_id: int | None = None) -> QuerySet[RobAssessment]:
    """The consensus assessments of the review's studies at one outcome (None: the study-level ones), with their
    judgements, for the plots and the consensus page. None for a member who may not see them (blinding)."""
    if not sees_all(review):
        return RobAssessment.objects.none()
    found = RobAssessment.objects.filter(review=review, assessor__isnull=True)
    found = found.filter(outcome__isnull=True) if outcome_id is None else found.filter(outcome_id=outcome_id)
    return (
        found.select_related("study", "outcome", "overall_by")
        .prefetch_related("judgements")
        .order_by("study__label", "study_id")
    )


def discrepancy_search(*, review: Review, status: str = "", study_id: int | None = None) -> QuerySet[RobDiscrepancy]:
    """`discrepancy_list` (nothing while the member is blinded) narrowed to one study (404 if not of this review)."""
    found = discrepancy_list(review=review, status=status)
    if study_id is None:
        return found
    if not Study.objects.filter(review=review, pk=study_id).exists():
        raise Http404("No such study in this review.")
    return found.filter(study_id=study_id)


def assessor_counts(*, review: Review) -> dict[tuple[int, int | None], int]:
    """{(study id, outcome id or None): how many assessors have started}: who needs another assessor, without
    saying who they are or what they judged (so a blinded reviewer may read it)."""
    counts: dict[tuple[int, int | None], int] = {}
    rows = RobAssessment.objects.filter(review=review, assessor__isnull=False).values("study_id", "outcome_id")
    for row in rows:
        key = (row["study_id"], row["outcome_id"])
        counts[key] = counts.get(key, 0) + 1
    return counts


PlotRow = tuple[str, dict[str, str], str]  # (study label, {"D1": judgement, …}, overall), as grading.plots takes


def plot_rows(tool: str, consensus: list[RobAssessment]) -> list[PlotRow]:
    """The plots' rows from the consensus assessments: domains as the plots number them (RoB 1's by position;
    RoB 2's domain S, of crossover trials only, has no column in robvis's layout and is left out)."""
    rows = []
    for a in consensus:
        judged: dict[str, str] = {}
        for j in a.judgements.all():
            if tool == Tool.ROB1 and j.domain in ROB1_DOMAINS:
                judged[f"D{ROB1_DOMAINS.index(j.domain) + 1}"] = j.judgement
            elif tool != Tool.ROB1 and re.fullmatch(r"D\d", j.domain):
                judged[j.domain] = j.judgement
        if judged or a.overall:
            label = a.study.label
            rows.append((label, judged, a.overall))
    return rows
