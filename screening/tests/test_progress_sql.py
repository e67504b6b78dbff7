"""The screening progress counts, written out in SQL for the screening step's sake (found by the load test),
against their ORM definitions (`screenable_records`, `queue_for`, the stage's decisions), on a review in every
state: duplicates, decisions by one or two reviewers, settled outcomes and conflicts, records at full text, a
report not retrieved, a decision taken back."""

import random

import pytest

from reviews.models import Membership, Record
from reviews.tests.factories import MembershipFactory, UserFactory
from screening.models import Decision, FullText, Outcome
from screening.selectors import progress, queue_for, screenable_records
from screening.tests.test_screening import decide, make_records

pytestmark = pytest.mark.django_db
TA, FT = "title_abstract", "full_text"


@pytest.fixture
def erin(cast):
    """A second reviewer (as screening/tests/conftest.py's)."""
    user = UserFactory(username="erin")
    MembershipFactory(review=cast.review, user=user, role=Membership.Role.REVIEWER)
    return user


def test_progress_counts_are_the_orm_counts(cast, erin, django_assert_max_num_queries):
    records = make_records(cast.review, 30)
    Record.objects.filter(pk=records[7].pk).update(duplicate_of=records[6].pk)
    rng = random.Random(7)  # noqa: S311 - test data
    for record in records[:24]:
        if record.pk == records[7].pk:
            continue
        for user in rng.sample([cast.carol, erin], rng.choice([1, 2])):
            decide(user, cast.review, record, rng.choice(["include", "exclude", "maybe"]))
    passed = list(
        Outcome.objects.filter(review=cast.review, stage=TA, decision__in=["include", "maybe"]).order_by("record_id")
    )
    assert len(passed) >= 3
    FullText.objects.create(review=cast.review, record=passed[0].record, not_retrieved=True)
    for outcome in passed[1:]:
        if rng.random() < 0.6:
            decide(cast.carol, cast.review, outcome.record, "include", stage=FT)
    Decision.objects.filter(reviewer=cast.carol, stage=TA).order_by("-record_id")[0].delete()  # taken back

    seen = set()
    for user in (cast.carol, erin, cast.bob):
        for stage in (TA, FT):
            review = cast.review
            review.my_role = "editor" if user == cast.bob else "reviewer"
            with django_assert_max_num_queries(2):  # the counts, and the settings
                got = progress(review=review, user=user, stage=stage)
            decisions = Decision.objects.filter(review=review, stage=stage)
            assert got.total == screenable_records(review=review, stage=stage).count()
            assert got.remaining_for_me == queue_for(review=review, user=user, stage=stage).count()
            assert got.mine == decisions.filter(reviewer=user).count()
            # Blinded by default: a reviewer sees only their own; the editor sees the team's.
            assert got.decisions_made == (decisions.count() if user == cast.bob else None)
            seen.add((got.total, got.remaining_for_me, got.mine))
    assert len(seen) >= 4  # the states differ, so the comparison is not of zeros
