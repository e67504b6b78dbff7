"""REST API of reviews and members: role matrix, token isolation, pagination, error shape, conflicts."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from reviews.models import Membership, Review
from reviews.tests.factories import MembershipFactory, ReviewFactory

pytestmark = pytest.mark.django_db

ROLE_OF = {"alice": "owner", "bob": "editor", "carol": "reviewer"}
RANK = {"reviewer": 1, "editor": 2, "owner": 3}


def _expected(who: str, needed: str, success: int) -> int:
    if who == "anonymous":
        return 401
    if who == "dave":
        return 404
    return success if RANK[ROLE_OF[who]] >= RANK[needed] else 403


WHO = ["anonymous", "dave", "carol", "bob", "alice"]


@pytest.mark.parametrize("who", WHO)
def test_review_read_matrix(cast, api, who):
    response = api(who).get(f"/api/v1/reviews/{cast.review.pk}/")
    assert response.status_code == _expected(who, "reviewer", 200)
    if response.status_code == 200:
        assert response.json()["my_role"] == ROLE_OF[who]
    else:
        assert "detail" in response.json()
        assert cast.review.title not in response.content.decode()


@pytest.mark.parametrize("who", WHO)
def test_review_patch_matrix(cast, api, who):
    response = api(who).patch(f"/api/v1/reviews/{cast.review.pk}/", {"title": "Renamed"}, format="json")
    assert response.status_code == _expected(who, "owner", 200)
    cast.review.refresh_from_db()
    assert (cast.review.title == "Renamed") == (who == "alice")


@pytest.mark.parametrize("who", WHO)
def test_review_delete_matrix(cast, api, who):
    response = api(who).delete(f"/api/v1/reviews/{cast.review.pk}/")
    assert response.status_code == _expected(who, "owner", 204)
    assert Review.objects.filter(pk=cast.review.pk).exists() == (who != "alice")


@pytest.mark.parametrize("who", WHO)
def test_members_list_matrix(cast, api, who):
    response = api(who).get(f"/api/v1/reviews/{cast.review.pk}/members/")
    assert response.status_code == _expected(who, "reviewer", 200)
    if response.status_code == 200:
        body = response.json()
        assert body["count"] == 3
        assert {m["username"]: m["role"] for m in body["results"]} == {
            "alice": "owner",
            "bob": "editor",
            "carol": "reviewer",
        }


@pytest.mark.parametrize("who", WHO)
def test_member_add_matrix(cast, api, who):
    get_user_model().objects.create_user("erin", "erin@example.org", "x")
    response = api(who).post(
        f"/api/v1/reviews/{cast.review.pk}/members/", {"username": "erin", "role": "editor"}, format="json"
    )
    assert response.status_code == _expected(who, "owner", 201)
    assert cast.review.memberships.filter(user__username="erin").exists() == (who == "alice")
    if who == "alice":
        assert response.json()["role"] == "editor"


@pytest.mark.parametrize("who", WHO)
def test_member_patch_and_delete_matrix(cast, api, who):
    target = cast.review.memberships.get(user=cast.carol)
    client = api(who)
    patched = client.patch(f"/api/v1/reviews/{cast.review.pk}/members/{target.pk}/", {"role": "editor"})
    assert patched.status_code == _expected(who, "owner", 200)
    deleted = client.delete(f"/api/v1/reviews/{cast.review.pk}/members/{target.pk}/")
    assert deleted.status_code == _expected(who, "owner", 204)
    assert Membership.objects.filter(pk=target.pk).exists() == (who != "alice")


def test_review_list_is_mine_only_and_paginated(cast, api):
    for _ in range(3):
        MembershipFactory(review=ReviewFactory(), user=cast.carol)
    body = api("carol").get("/api/v1/reviews/?page_size=2").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 4
    assert len(body["results"]) == 2
    assert body["next"] is not None and body["previous"] is None
    all_titles = [r["title"] for r in api("carol").get("/api/v1/reviews/?page_size=50").json()["results"]]
    assert cast.other_review.title not in all_titles


def test_create_review_makes_requester_owner(cast, api):
    response = api("dave").post(
        "/api/v1/reviews/",
        {"title": "Methadone for cancer pain", "population": "Adults", "created_by": cast.alice.pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["my_role"] == "owner" and body["created_by"] == "dave" and body["version"] == 1
    review = Review.objects.get(pk=body["id"])
    assert list(review.memberships.values_list("user__username", "role")) == [("dave", "owner")]


def test_create_review_field_errors(cast, api):
    response = api("dave").post("/api/v1/reviews/", {"title": ""}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["errors"]["title"] == ["This field may not be blank."]
    assert body["detail"] == "title: This field may not be blank."


def test_mass_assignment_of_read_only_fields_is_ignored(cast, api):
    response = api("alice").patch(
        f"/api/v1/reviews/{cast.review.pk}/",
        {"my_role": "owner", "created_by": "dave", "id": 999, "created_at": "2000-01-01T00:00:00Z"},
        format="json",
    )
    assert response.status_code == 200
    cast.review.refresh_from_db()
    assert cast.review.pk != 999 and cast.review.created_by == cast.alice


def test_patch_with_stale_version_is_409(cast, api):
    client = api("alice")
    url = f"/api/v1/reviews/{cast.review.pk}/"
    assert client.patch(url, {"title": "One", "version": 1}, format="json").status_code == 200
    stale = client.patch(url, {"title": "Two", "version": 1}, format="json")
    assert stale.status_code == 409
    assert "Someone else saved this review" in stale.json()["detail"]
    cast.review.refresh_from_db()
    assert cast.review.title == "One" and cast.review.version == 2


def test_token_of_one_user_never_reaches_anothers_review(cast, api):
    client = api("dave")
    assert client.get(f"/api/v1/reviews/{cast.review.pk}/").status_code == 404
    assert client.get(f"/api/v1/reviews/{cast.review.pk}/members/").status_code == 404
    assert client.get(f"/api/v1/reviews/{cast.other_review.pk}/").status_code == 200
    titles = [r["title"] for r in client.get("/api/v1/reviews/").json()["results"]]
    assert titles == [cast.other_review.title]


def test_member_of_other_review_is_not_reachable_through_mine(cast, api):
    foreign = cast.other_review.memberships.get(user=cast.dave)
    client = api("alice")
    assert client.get(f"/api/v1/reviews/{cast.review.pk}/members/{foreign.pk}/").status_code == 404
    assert (
        client.patch(f"/api/v1/reviews/{cast.review.pk}/members/{foreign.pk}/", {"role": "reviewer"}).status_code == 404
    )
    assert client.delete(f"/api/v1/reviews/{cast.review.pk}/members/{foreign.pk}/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.role == "owner"


def test_last_owner_is_409(cast, api):
    owner = cast.review.memberships.get(user=cast.alice)
    client = api("alice")
    response = client.delete(f"/api/v1/reviews/{cast.review.pk}/members/{owner.pk}/")
    assert response.status_code == 409
    assert "last owner" in response.json()["detail"]
    response = client.patch(f"/api/v1/reviews/{cast.review.pk}/members/{owner.pk}/", {"role": "editor"})
    assert response.status_code == 409
    owner.refresh_from_db()
    assert owner.role == "owner"


def test_second_owner_allows_first_to_step_down(cast, api):
    client = api("alice")
    bob = cast.review.memberships.get(user=cast.bob)
    assert client.patch(f"/api/v1/reviews/{cast.review.pk}/members/{bob.pk}/", {"role": "owner"}).status_code == 200
    alice = cast.review.memberships.get(user=cast.alice)
    assert (
        client.patch(f"/api/v1/reviews/{cast.review.pk}/members/{alice.pk}/", {"role": "reviewer"}).status_code == 200
    )
    # alice is no longer owner: her next owner action is refused.
    assert client.patch(f"/api/v1/reviews/{cast.review.pk}/", {"title": "x"}, format="json").status_code == 403


def test_member_add_errors(cast, api):
    client = api("alice")
    url = f"/api/v1/reviews/{cast.review.pk}/members/"
    unknown = client.post(url, {"username": "ghost", "role": "reviewer"}, format="json")
    assert unknown.status_code == 400
    assert "ghost" in unknown.json()["errors"]["username"][0]
    bad_role = client.post(url, {"username": "dave", "role": "boss"}, format="json")
    assert bad_role.status_code == 400 and "role" in bad_role.json()["errors"]
    twice = client.post(url, {"username": "carol", "role": "reviewer"}, format="json")
    assert twice.status_code == 409


def test_token_endpoint(cast):
    client = APIClient()
    good = client.post("/api/v1/auth/token/", {"username": "carol", "password": "correct horse battery staple"})
    assert good.status_code == 200
    token = good.json()["token"]
    bad = client.post("/api/v1/auth/token/", {"username": "carol", "password": "wrong"})
    assert bad.status_code == 400 and "token" not in bad.json()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(f"/api/v1/reviews/{cast.review.pk}/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get(f"/api/v1/reviews/{cast.review.pk}/").status_code == 401


def test_session_auth_api_write_needs_csrf(cast):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(cast.alice)
    response = client.patch(f"/api/v1/reviews/{cast.review.pk}/", {"title": "x"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_list_query_count_is_flat(cast, api, django_assert_max_num_queries):
    for _ in range(25):
        MembershipFactory(review=ReviewFactory(), user=cast.carol)
    client = api("carol")
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/reviews/")
    assert response.json()["count"] == 26
