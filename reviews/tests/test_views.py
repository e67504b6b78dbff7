"""Pages of the reviews app: every page for anonymous, outsider, too small a role and the right role."""

import pytest
from django.urls import reverse

from reviews.models import Membership, Review

pytestmark = pytest.mark.django_db

# (url name, method, smallest role that may use it, POST data builder)
PAGES = [
    ("reviews:detail", "get", "reviewer"),
    ("reviews:members", "get", "reviewer"),
    ("reviews:edit", "get", "owner"),
    ("reviews:delete", "get", "owner"),
]
ROLE_OF = {"alice": "owner", "bob": "editor", "carol": "reviewer"}
RANK = {"reviewer": 1, "editor": 2, "owner": 3}


def _expected(who: str, needed: str) -> int:
    if who == "anonymous":
        return 302
    if who == "dave":
        return 404
    return 200 if RANK[ROLE_OF[who]] >= RANK[needed] else 403


@pytest.mark.parametrize("name,method,needed", PAGES)
@pytest.mark.parametrize("who", ["anonymous", "dave", "carol", "bob", "alice"])
def test_review_pages_role_matrix(cast, web, name, method, needed, who):
    url = reverse(name, args=[cast.review.pk])
    response = getattr(web(who), method)(url)
    assert response.status_code == _expected(who, needed), response.content[:300]
    if who == "anonymous":
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["anonymous", "dave", "carol", "bob", "alice"])
def test_member_write_pages_role_matrix(cast, web, who):
    target = cast.review.memberships.get(user=cast.carol)
    client = web(who)
    responses = [
        client.post(reverse("reviews:member_add", args=[cast.review.pk]), {"identifier": "dave", "role": "reviewer"}),
        client.post(reverse("reviews:member_role", args=[cast.review.pk, target.pk]), {"role": "editor"}),
        client.post(reverse("reviews:member_remove", args=[cast.review.pk, target.pk])),
        client.post(reverse("reviews:edit", args=[cast.review.pk]), {"title": "Hijacked", "version": "1"}),
    ]
    current_title = Review.objects.get(pk=cast.review.pk).title
    responses.append(client.post(reverse("reviews:delete", args=[cast.review.pk]), {"confirm_title": current_title}))
    expected = {"anonymous": 302, "dave": 404, "carol": 403, "bob": 403, "alice": 302}[who]
    assert [r.status_code for r in responses] == [expected] * 5
    if who != "alice":
        cast.review.refresh_from_db()
        assert cast.review.title != "Hijacked"
        assert not cast.review.memberships.filter(user=cast.dave).exists()
        assert cast.review.memberships.get(user=cast.carol).role == "reviewer"
    else:
        assert not Review.objects.filter(pk=cast.review.pk).exists()


def test_review_list_shows_only_my_reviews(cast, web, django_assert_max_num_queries):
    client = web("carol")
    with django_assert_max_num_queries(4):
        response = client.get(reverse("reviews:list"))
    assert response.status_code == 200
    assert cast.review.title in response.content.decode()
    assert cast.other_review.title not in response.content.decode()


def test_review_list_query_count_does_not_grow_with_reviews(cast, web, django_assert_max_num_queries):
    from reviews.tests.factories import MembershipFactory, ReviewFactory

    for _ in range(30):
        MembershipFactory(review=ReviewFactory(created_by=cast.carol), user=cast.carol, role="owner")
    client = web("carol")
    with django_assert_max_num_queries(4):
        response = client.get(reverse("reviews:list"))
    assert response.content.decode().count('class="list-group-item') == 31


def test_create_review_makes_creator_owner(cast, web):
    response = web("dave").post(
        reverse("reviews:create"),
        {"title": "Gabapentin for neuropathic cancer pain", "population": "Adults", "version": ""},
    )
    review = Review.objects.get(title="Gabapentin for neuropathic cancer pain")
    assert response.status_code == 302
    assert response["Location"] == reverse("reviews:detail", args=[review.pk])
    assert review.memberships.get().user == cast.dave
    assert review.memberships.get().role == Membership.Role.OWNER


def test_create_review_without_title_says_so(web, cast):
    response = web("dave").post(reverse("reviews:create"), {"title": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


def test_edit_with_stale_version_is_refused_not_overwritten(cast, web):
    client = web("alice")
    url = reverse("reviews:edit", args=[cast.review.pk])
    first = client.post(url, {"title": "First save", "version": "1"})
    assert first.status_code == 302
    second = client.post(url, {"title": "Second save from an old tab", "version": "1"})
    assert second.status_code == 200
    assert "Someone else saved this review" in second.content.decode()
    cast.review.refresh_from_db()
    assert cast.review.title == "First save"
    assert cast.review.version == 2


def test_owner_adds_member_by_email_and_changes_role(cast, web):
    client = web("alice")
    response = client.post(
        reverse("reviews:member_add", args=[cast.review.pk]), {"identifier": "DAVE@example.org", "role": "editor"}
    )
    assert response.status_code == 302
    membership = cast.review.memberships.get(user=cast.dave)
    assert membership.role == "editor"
    client.post(reverse("reviews:member_role", args=[cast.review.pk, membership.pk]), {"role": "reviewer"})
    membership.refresh_from_db()
    assert membership.role == "reviewer"


def test_add_unknown_member_shows_error(cast, web):
    response = web("alice").post(
        reverse("reviews:member_add", args=[cast.review.pk]), {"identifier": "nobody", "role": "reviewer"}
    )
    assert response.status_code == 200
    assert "No single Sieve account has the username or e-mail address “nobody”" in response.content.decode()


def test_add_member_twice_shows_error(cast, web):
    response = web("alice").post(
        reverse("reviews:member_add", args=[cast.review.pk]), {"identifier": "carol", "role": "reviewer"}
    )
    assert "carol is already a member of this review." in response.content.decode()


def test_members_htmx_swap_returns_partial(cast, web):
    response = web("alice").post(
        reverse("reviews:member_add", args=[cast.review.pk]),
        {"identifier": "dave", "role": "reviewer"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert "dave" in body and 'hx-swap-oob="innerHTML:#messages"' in body


def test_last_owner_cannot_be_removed_or_demoted(cast, web):
    client = web("alice")
    owner = cast.review.memberships.get(user=cast.alice)
    response = client.post(reverse("reviews:member_remove", args=[cast.review.pk, owner.pk]), follow=True)
    assert "The last owner cannot be removed" in response.content.decode()
    response = client.post(
        reverse("reviews:member_role", args=[cast.review.pk, owner.pk]), {"role": "reviewer"}, follow=True
    )
    assert "A review needs at least one owner" in response.content.decode()
    owner.refresh_from_db()
    assert owner.role == "owner"


def test_member_of_another_review_cannot_be_targeted(cast, web):
    foreign = cast.other_review.memberships.get(user=cast.dave)
    response = web("alice").post(reverse("reviews:member_remove", args=[cast.review.pk, foreign.pk]))
    assert response.status_code == 404
    assert Membership.objects.filter(pk=foreign.pk).exists()


def test_delete_needs_exact_title(cast, web):
    response = web("alice").post(reverse("reviews:delete", args=[cast.review.pk]), {"confirm_title": "nope"})
    assert response.status_code == 200
    assert Review.objects.filter(pk=cast.review.pk).exists()


def test_friendly_404_for_outsider(cast, web):
    response = web("dave").get(reverse("reviews:detail", args=[cast.review.pk]))
    body = response.content.decode()
    assert response.status_code == 404
    assert "belongs to a review you are not a member of" in body
    assert cast.review.title not in body


def test_review_list_counts_every_member_not_only_me(cast, web, api):
    """The list filtered on the user's own membership once counted that one row: "1 member" for a team of three."""
    page = web("carol").get(reverse("reviews:list")).content.decode()
    assert "3 members" in page
    body = api("carol").get("/api/v1/reviews/").json()
    rows = body["results"] if isinstance(body, dict) else body
    assert [r["member_count"] for r in rows if r["id"] == cast.review.pk] == [3]
