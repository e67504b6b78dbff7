"""What waits for the person looking at a review's overview: the next thing to do at each stage, for their role.

A reviewer sees only what is theirs (records left for them to screen, their own extractions and assessments in
progress): nothing here tells a blinded reviewer about anyone else's decisions. Editors and owners also see what
waits for the team (duplicates to check, conflicts, included records without a study, discrepancies, outcomes
without signed-off certainty). Each step is one count query.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.urls import reverse

from reviews.models import Membership, Review, role_at_least

Role = Membership.Role
AnyUser = User | AnonymousUser


@dataclass(frozen=True)
class Step:
    text: str
    url: str
    action: str


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def next_steps(*, review: Review, user: AnyUser) -> list[Step]:
    # Imported here: the other apps import reviews, not the other way round.
    from extraction.models import Discrepancy, Extraction, Study
    from extraction.selectors import included_records_without_study
    from grading.models import CertaintyRating, RobAssessment, RobDiscrepancy
    from screening.models import Outcome, Stage
    from screening.selectors import queue_for
    from synthesis.models import Analysis

    pk = review.pk
    editor = role_at_least(review.my_role, Role.EDITOR)
    steps: list[Step] = []
    if editor and not review.imports.exists():
        steps.append(Step("No searches imported yet.", reverse("reviews:imports", args=[pk]), "Import a search"))
    if editor and (n := review.duplicate_groups.filter(status="pending").count()):
        steps.append(
            Step(f"{_plural(n, 'possible duplicate')} to check.", reverse("reviews:duplicates", args=[pk]), "Check")
        )
    for stage, label in ((Stage.TITLE_ABSTRACT, "on title and abstract"), (Stage.FULL_TEXT, "on full text")):
        if n := queue_for(review=review, user=user, stage=stage).count():
            steps.append(
                Step(
                    f"{_plural(n, 'record')} for you to screen {label}.",
                    reverse("screening:screen", args=[pk, stage]),
                    "Screen",
                )
            )
    if editor and (n := Outcome.objects.filter(review=review, status=Outcome.Status.CONFLICT).count()):
        steps.append(
            Step(
                f"{_plural(n, 'screening conflict')} to resolve.", reverse("screening:conflicts", args=[pk]), "Resolve"
            )
        )
    if editor and (n := included_records_without_study(review=review).count()):
        steps.append(
            Step(
                f"{_plural(n, 'included record')} not yet in a study.",
                reverse("extraction:studies", args=[pk]),
                "Make studies",
            )
        )
    studies = reverse("extraction:studies", args=[pk])
    if n := Extraction.objects.filter(review=review, reviewer_id=user.pk, status=Extraction.Status.IN_PROGRESS).count():
        steps.append(Step(f"{_plural(n, 'extraction')} of yours in progress.", studies, "Go on extracting"))
    if editor and (n := Discrepancy.objects.filter(review=review, status=Discrepancy.Status.OPEN).count()):
        steps.append(
            Step(
                f"{_plural(n, 'extraction discrepancy', 'extraction discrepancies')} to settle.",
                reverse("extraction:consensus", args=[pk]),
                "Settle",
            )
        )
    rob = reverse("rob:overview", args=[pk])
    if n := RobAssessment.objects.filter(
        review=review, assessor_id=user.pk, status=RobAssessment.Status.IN_PROGRESS
    ).count():
        steps.append(Step(f"{_plural(n, 'risk-of-bias assessment')} of yours in progress.", rob, "Go on assessing"))
    if editor and (n := RobDiscrepancy.objects.filter(review=review, status=RobDiscrepancy.Status.OPEN).count()):
        steps.append(
            Step(f"{_plural(n, 'risk-of-bias discrepancy', 'risk-of-bias discrepancies')} to settle.", rob, "Settle")
        )
    if editor and Study.objects.filter(review=review).exists():
        # A signed-off rating is for one comparison and one outcome: compare the pairs, not the columns apart.
        signed = set(
            CertaintyRating.objects.filter(review=review, status=CertaintyRating.Status.SIGNED_OFF).values_list(
                "comparison_id", "outcome_id"
            )
        )
        pairs = Analysis.objects.filter(review=review).values_list("comparison_id", "outcome_id")
        n = sum(1 for pair in pairs if pair not in signed)
        if n:
            steps.append(
                Step(
                    f"{_plural(n, 'outcome')} without signed-off certainty (GRADE).",
                    reverse("certainty:list", args=[pk]),
                    "Rate",
                )
            )
    return steps
