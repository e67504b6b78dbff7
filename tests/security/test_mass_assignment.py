"""Mass assignment: every write the app serves (API endpoints and page forms), sent by a role allowed to make it,
with extra fields that name someone else's role, user, review, version or id, or staff rights. They must be
ignored or refused: afterwards nothing names dave (the outsider) that did not before, nothing of dave's review
changed or moved, no user became staff, no object took the id or the date sent, and the memberships' roles are
the ones the write itself may set. And optimistic concurrency still refuses a stale version."""

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse

from reviews.models import Membership, Review
from tests.security.requests_ import body, clients, qn, request_rolled_back, send
from tests.security.test_access_matrix import EXPECT, LOGIN, SELF, UPLOADER, E, O, R, matrix_patterns
from tests.security.urls_walk import url_for

pytestmark = pytest.mark.django_db

FORCED_ID = 987654321
FORCED_DATE = "2001-02-03T04:05:06Z"


def extras(world: Any) -> dict[str, Any]:
    dave, other = world.user("dave"), world.other.review
    return {
        "reviewer": dave.pk, "user": dave.pk, "user_id": dave.pk, "created_by": dave.pk, "assessor": dave.pk,
        "resolved_by": dave.pk, "uploaded_by": dave.pk, "owner": dave.pk, "review": other.pk, "review_id": other.pk,
        "id": FORCED_ID, "pk": FORCED_ID, "updated_at": FORCED_DATE, "created_at": FORCED_DATE,
        "is_staff": True, "is_superuser": True, "my_role": "owner",
    }  # fmt: skip


def invariants_sql(world: Any) -> str:
    """One query: per table, the rows that name dave, the rows of dave's review, the rows with the forced id
    and the rows dated with the forced date."""
    from tests.security.requests_ import _models

    user_model = get_user_model()
    dave, other = world.user("dave").pk, world.other.review.pk
    parts = []
    # Table and column names come from the models, quoted by the backend; the numbers from the test.
    count = "SELECT '{}', COUNT(*) FROM {} WHERE {}"
    for model in _models():
        label, table = model._meta.label, qn(model._meta.db_table)
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model is user_model:
                parts.append(count.format(f"{label}.{f.column}", table, f"{qn(f.column)} = {dave}"))
            if f.is_relation and f.related_model is Review:
                parts.append(count.format(f"{label}.{f.column}", table, f"{qn(f.column)} = {other}"))
            if f.name in ("updated_at", "created_at"):
                parts.append(count.format(f"{label}.{f.column}<2002", table, f"{qn(f.column)} < '2002-01-01'"))
        parts.append(count.format(f"{label}.pk", table, f"{qn(model._meta.pk.column)} = {FORCED_ID}"))
    staff = qn(user_model._meta.db_table)
    parts.append(count.format("staff", staff, "is_staff OR is_superuser"))
    return " UNION ALL ".join(parts)


def invariants(sql: str) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(cursor.fetchall())


def roles() -> dict[int, str]:
    return dict(Membership.objects.values_list("pk", "role"))


ROLE_WRITERS = {"reviews:member_role", "api-member-detail", "api-member-list", "reviews:member_add"}


def test_extra_fields_on_every_write_are_ignored_or_refused(world, monkeypatch):
    made = clients(world)
    sql = invariants_sql(world)
    before, roles_before = invariants(sql), roles()
    assert all(v == 0 for k, v in before.items() if k.endswith(".pk") or "<2002" in k or k == "staff")
    added = extras(world)
    problems, checked, accepted = [], 0, 0

    def with_extras(pattern: Any, seeded: Any) -> dict[str, Any]:
        data = {**added, **body(pattern, seeded)}  # the write's own fields win: version stays the one read
        if pattern.name not in ROLE_WRITERS:
            data["role"] = "owner"
        return data

    monkeypatch.setattr("tests.security.requests_.body", with_extras)
    for pattern in matrix_patterns():
        for method, rule in EXPECT[pattern.name].items():
            if method == "GET" or rule == UPLOADER:
                continue
            role = {SELF: "reviewer", R: "reviewer", E: "editor", O: "owner", LOGIN: "reviewer"}.get(rule, "owner")
            url = url_for(pattern, world.mine)

            def check(response: Any) -> Any:
                return invariants(sql), roles(), response.status_code

            _, (after, roles_after, status) = request_rolled_back(
                made[role][1 if pattern.api else 0], pattern, method, url, world.mine, check
            )
            checked += 1
            accepted += status < 400
            where = f"{role} {method} {url} ({pattern.name})"
            if status >= 500:
                problems.append(f"{where}: {status}")
            changed = {k: (before[k], after[k]) for k in before if after[k] != before[k]}
            if changed:
                problems.append(f"{where}: {changed}")
            if pattern.name not in ROLE_WRITERS:
                moved = {pk: r for pk, r in roles_after.items() if pk in roles_before and roles_before[pk] != r}
                if moved:
                    problems.append(f"{where}: membership roles changed {moved}")
    assert checked > 100 and accepted > 60  # most writes went through, with the extra fields
    assert not problems, "\n".join(problems)


def test_the_api_takes_the_actor_and_review_from_the_request_not_the_body(world, api_as):
    carol, alice, dave = world.user("carol"), world.user("alice"), world.user("dave")
    other = world.other.review
    # A new review: alice's, whatever the body says.
    response = api_as("alice").post(
        "/api/v1/reviews/", {"title": "Mine", "created_by": dave.pk, "version": 41, "id": FORCED_ID}, format="json"
    )
    assert response.status_code == 201, response.content
    review = Review.objects.get(pk=response.json()["id"])
    assert review.pk != FORCED_ID and review.created_by == alice and review.version != 41
    assert list(review.memberships.values_list("user__username", "role")) == [("alice", "owner")]
    # A decision: carol's, in carol's review.
    record = world.mine["record"].__class__.objects.filter(review=world.mine.review).order_by("-pk").first()
    url = reverse("api-decision-list", args=[world.mine.review.pk, "title_abstract"])
    response = api_as("carol").post(
        url, {"record": record.pk, "decision": "exclude", "reason": "", "reviewer": dave.pk, "review": other.pk},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    decision = record.decisions.get()
    assert decision.reviewer == carol and decision.review_id == world.mine.review.pk
    # A member's role: the one named, on the member named, in this review.
    member = world.mine["membership"]
    url = reverse("api-member-detail", args=[world.mine.review.pk, member.pk])
    body = {"role": "editor", "user": dave.pk, "review": other.pk, "username": "dave"}
    assert api_as("alice").patch(url, body, format="json").status_code == 200
    member.refresh_from_db()
    assert (member.user, member.review_id, member.role) == (carol, world.mine.review.pk, "editor")
    assert not Membership.objects.filter(user=dave, review=world.mine.review).exists()


def test_a_stale_version_is_still_refused_with_extra_fields(world, api_as):
    review = world.mine.review
    url = reverse("api-review-detail", args=[review.pk])
    first = api_as("alice").patch(url, {"title": "First", "version": review.version}, format="json")
    assert first.status_code == 200, first.content
    stale = api_as("alice").patch(
        url, {"title": "Second", "version": review.version, "updated_at": FORCED_DATE}, format="json"
    )
    assert stale.status_code == 409, stale.content
    review.refresh_from_db()
    assert review.title == "First" and review.version == json.loads(first.content)["version"]
    study = world.mine["study"]
    url = reverse("api-study-detail", args=[review.pk, study.pk])
    assert api_as("bob").patch(url, {"label": "A", "version": study.version}, format="json").status_code == 200
    refused = api_as("bob").patch(url, {"label": "B", "version": study.version, "id": FORCED_ID}, format="json")
    assert refused.status_code == 409, refused.content
    study.refresh_from_db()
    assert study.label == "A"


@pytest.fixture
def api_as(world):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def make(username: str) -> APIClient:
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=world.user(username))
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


__all__ = ["send"]
