"""Risk-of-bias reads, scoped to the asking member's role. Blinding lives here: while assessment is blinded, a
reviewer reads only their own assessments, never the consensus or the discrepancies (which show others'
judgements). `review` is the one `reviews.selectors.review_get_for_user` returned (it carries `my_role`)."""

from collections.abc import Iterable

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from grading.models import RobAssessment, RobDiscrepancy, RobJudgement
from grading.services import settings_for
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


def rob_for_analysis(*, review: Review, study_ids: Iterable[int], outcome_id: int | None = None) -> dict[str, str]:
    """{study label: overall judgement of its consensus} for the studies given, for GRADE's risk-of-bias proposal.
    With `outcome_id`, that outcome's consensus is preferred over the study-level one. Studies without a
    consensus overall judgement are left out."""
    rows = (
        RobAssessment.objects.filter(review=review, study_id__in=list(study_ids), assessor__isnull=True)
        .exclude(overall="")
        .select_related("study")
    )
    found: dict[str, str] = {}
    for row in rows.order_by("study__label", "outcome_id"):
        if row.outcome_id is None and row.study.label not in found:
            found[row.study.label] = row.overall
        elif outcome_id is not None and row.outcome_id == outcome_id:
            found[row.study.label] = row.overall
    return found
