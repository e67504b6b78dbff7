"""How much the API and the pages add over the database for the busiest read so far: a user's review list.

Baseline: the bare ORM query for the same 50 rows (values(), no serialization, no HTTP)."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from reviews.models import Membership, Review
from reviews.tests.factories import MembershipFactory, ReviewFactory, UserFactory
from tests.bench.timing import per_call, report

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_user():
    user = UserFactory(username="busy")
    others = [UserFactory() for _ in range(5)]
    for _ in range(200):
        review = ReviewFactory(created_by=user)
        MembershipFactory(review=review, user=user, role=Membership.Role.OWNER)
        for other in others:
            MembershipFactory(review=review, user=other)
    return user


def _bare_query(user):
    return list(Review.objects.filter(memberships__user=user).order_by("-updated_at").values()[:50])


def test_review_list_api_over_bare_query(busy_user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=busy_user).key}")
    assert client.get("/api/v1/reviews/").json()["count"] == 200
    baseline = per_call(lambda: _bare_query(busy_user))
    measured = per_call(lambda: client.get("/api/v1/reviews/"))
    report("GET /api/v1/reviews/ (50 of 200 reviews, 6 members each)", measured, baseline, "bare ORM query")


def test_review_list_page_over_bare_query(busy_user, client):
    client.force_login(busy_user)
    assert client.get("/reviews/").status_code == 200
    baseline = per_call(lambda: _bare_query(busy_user))
    measured = per_call(lambda: client.get("/reviews/"), number=5)
    report("GET /reviews/ page (200 reviews)", measured, baseline, "bare ORM query for 50")
